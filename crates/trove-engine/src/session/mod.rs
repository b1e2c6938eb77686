//! The session task: owns the librqbit session and the store, answers commands, and
//! publishes a [`SessionSnapshot`] once a second.
//!
//! sled is the store of record. librqbit's JSON persistence is switched on only for its
//! piece bitfields (fast resume): its `session.json` is deleted before every start, so
//! librqbit never brings torrents back by itself; trove re-adds each one from sled with
//! its recorded root, selection, limits and paused flag, and librqbit finds the bitfield
//! by info-hash and skips the full re-hash.
//!
//! Layout: `setup` turns trove's options into librqbit's; `engine` holds the task's state,
//! its loop and the command dispatch; `poll` reads librqbit into records and snapshots
//! through the pure rules of `status`; one file per group of commands (`add`, `pause`,
//! `remove`, `limits`, `details`, `trackers`, `tags`, `stored_roots`, `set_root`,
//! `export`, `moves`), plus `move_recovery` (settling a move a crash interrupted), `restore` (bringing the store back at start),
//! `roots` (the storage-root watchdog), `persist` (what is written in the background) and
//! `stream` (files opened for reading while they download, outside the loop).

mod add;
mod details;
mod engine;
mod export;
mod goals;
mod library;
mod limits;
mod metadata_first;
mod missing;
mod move_recovery;
mod moves;
mod pause;
mod persist;
mod poll;
mod queue;
mod remove;
mod restore;
mod roots;
mod selection;
mod set_root;
mod setup;
mod status;
mod stored_roots;
mod stream;
mod summary;
mod tags;
mod trackers;
mod vaults;

pub(crate) use status::ratio;
pub(crate) use stored_roots::{move_refused, removable as removable_roots};
pub use stream::{DEFAULT_MAX_STREAMS, Streams};

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use librqbit::Session;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::logring::LogRing;
use crate::roots::RootManager;
use crate::store::SessionStore;
use engine::Engine;
use trove_proto::queue::{QueueLimits, SeedingGoals};
use trove_proto::snapshot::{Limits, SessionSnapshot};
use trove_proto::{Client, Request};

/// How the session meets the network.
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// 0 = any free port.
    pub listen_port: u16,
    /// None = all interfaces.
    pub bind: Option<IpAddr>,
    pub dht: bool,
    pub lsd: bool,
    pub upnp: bool,
    pub trackers: bool,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            listen_port: 4240,
            bind: None,
            dht: true,
            lsd: true,
            upnp: false,
            trackers: true,
        }
    }
}

/// What the engine is started with.
pub struct EngineOptions {
    pub store: Arc<dyn SessionStore>,
    pub roots: RootManager,
    /// Global limits in force at start (command line > set in the UI > config file).
    pub limits: Limits,
    pub network: NetworkOptions,
    /// Folder for librqbit's fast-resume bitfields; None = no fast resume (in-memory runs).
    pub fastresume_dir: Option<PathBuf>,
    /// Where DHT keeps its routing table; None = not kept.
    pub dht_state_file: Option<PathBuf>,
    pub log: LogRing,
    /// The queue's limits from the config file (the ones set at run time, kept in the
    /// store, win).
    pub queue: QueueLimits,
    /// The session's seeding goals from the config file (the ones set at run time win).
    pub goals: Option<SeedingGoals>,
    /// Folders to mount the torrents on at start (`[[mounts]]` in the config).
    pub mounts: Vec<PathBuf>,
    /// How mounts behave.
    pub mount_options: trove_mount::MountOptions,
    /// How many bytes of decrypted vault chunks are kept in memory.
    pub vault_cache_bytes: u64,
}

/// The decrypted-chunk cache's size when the config does not say.
pub const DEFAULT_VAULT_CACHE: u64 = 256 << 20;

/// The running engine task; dropping it does not stop the engine, `shutdown` does.
pub struct EngineTask {
    join: JoinHandle<()>,
    stop: mpsc::Sender<oneshot::Sender<()>>,
    stop_requested: watch::Receiver<bool>,
}

impl EngineTask {
    /// Wakes when a client asked the session to stop (`Command::Shutdown`); the process
    /// holding the session then calls [`EngineTask::shutdown`] and exits.
    pub fn stop_requested(&self) -> watch::Receiver<bool> {
        self.stop_requested.clone()
    }

    /// Writes every counter to the store and stops the session.
    pub async fn shutdown(self) {
        let (tx, rx) = oneshot::channel();
        if self.stop.send(tx).await.is_ok() {
            let _ = rx.await;
        }
        let _ = self.join.await;
    }
}

/// Starts librqbit and brings back every torrent in the store.
pub async fn start(mut opts: EngineOptions) -> anyhow::Result<(Client, EngineTask)> {
    // The roots and tags kept in the store join the config's roots.
    let settings = opts
        .store
        .settings()
        .context("reading the session settings")?;
    let (roots, notes) = opts.roots.with_stored(&settings.roots);
    for note in notes {
        warn!("{note}");
    }
    opts.roots = roots;
    if let Some(queue) = settings.queue {
        opts.queue = queue;
    }
    if settings.goals_set {
        opts.goals = settings.goals;
    }
    let crashed = match &opts.fastresume_dir {
        Some(dir) => setup::prepare_fastresume_dir(dir)?,
        None => false,
    };
    let session_opts = setup::session_options(
        &opts.network,
        &opts.limits,
        opts.fastresume_dir.as_deref(),
        opts.dht_state_file.clone(),
    )?;
    let default_folder = opts.roots.default_root().path.clone();
    let session = Session::new_with_opts(default_folder, session_opts)
        .await
        .map_err(|e| anyhow::anyhow!("{e:#}"))
        .context("starting the torrent session")?;
    info!(addr = ?session.listen_addr(), "session listening");

    let (snapshot_tx, snapshot_rx) = watch::channel(Arc::new(SessionSnapshot::default()));
    let (cmd_tx, cmd_rx) = mpsc::channel::<Request>(64);
    let (internal_tx, internal_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = mpsc::channel(1);
    let (stop_requested_tx, stop_requested) = watch::channel(false);
    let log = opts.log.clone();
    let streams = Arc::new(Streams::new(session.clone(), DEFAULT_MAX_STREAMS));
    let mount_dirs = opts.mounts.clone();
    let mut engine = Engine::new(session, opts, snapshot_tx, internal_tx, stop_requested_tx);
    engine.known_tags = settings.tags.into_iter().collect();
    engine.restore(crashed).await?;
    // Poll first: a snapshot published before it would list no torrents at all, and a
    // watcher (`trove daemon --exit-when-complete`) would take that as "all complete".
    engine.poll();
    engine.publish();

    let client = Client::new(cmd_tx, snapshot_rx, log.watch()).with_files(streams);
    engine.mounts.set_client(client.clone());
    // Mounts a killed trove left behind answer nothing but errors: unmount them first.
    for dir in trove_mount::clean_stale_mounts() {
        info!(dir = %dir.display(), "cleaned a mount left behind by a trove that was killed");
    }
    for dir in &mount_dirs {
        if let Err(e) = engine.mounts.mount(dir) {
            warn!(
                "mounting the torrents on '{}' (from the config): {e:#}",
                dir.display()
            );
        }
    }
    let join = tokio::spawn(engine.run(cmd_rx, internal_rx, stop_rx));
    Ok((
        client,
        EngineTask {
            join,
            stop: stop_tx,
            stop_requested,
        },
    ))
}
