//! The session task: owns the librqbit session and the store, answers commands, and
//! publishes a [`SessionSnapshot`] once a second.
//!
//! sled is the store of record. librqbit's JSON persistence is switched on only for its
//! piece bitfields (fast resume): its `session.json` is deleted before every start, so
//! librqbit never brings torrents back by itself; trove re-adds each one from sled with
//! its recorded root, selection, limits and paused flag, and librqbit finds the bitfield
//! by info-hash and skips the full re-hash.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use librqbit::api::TorrentIdOrHash;
use librqbit::limits::LimitsConfig;
use librqbit::{
    AddTorrent, AddTorrentOptions, AddTorrentResponse, Api, ListenerMode, ListenerOptions,
    ManagedTorrent, Session, SessionOptions, SessionPersistenceConfig, TorrentStatsState,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::file_index;
use crate::logring::LogRing;
use crate::rates::DirectionalRates;
use crate::roots::RootManager;
use crate::source::{self, CheckedTorrent, Loaded};
use crate::store::{SessionSettings, SessionStore, TorrentRecord};
use trove_proto::command::{AddOptions, Added, Command, EngineError, EngineResult, Reply};
use trove_proto::snapshot::{
    self, FileEntry, InfoHash, Limits, PeerEntry, PieceMap, RootInfo, SessionSnapshot,
    TorrentDetails, TorrentState, TorrentSummary, TrackerEntry,
};
use trove_proto::{Client, Request};

/// Counters reach the store at least this often (the issue allows losing 30 s of them).
pub const COUNTER_FLUSH_INTERVAL: Duration = Duration::from_secs(10);
const TICK: Duration = Duration::from_secs(1);
/// How often downloading torrents are checked for having just finished.
const FINISH_CHECK: Duration = Duration::from_millis(100);
const SEEN_PEERS_INTERVAL: Duration = Duration::from_secs(30);
/// How often roots are probed (exists, folder, writable; free space for the header).
const ROOT_CHECK_INTERVAL: Duration = Duration::from_secs(5);
/// Present in the fast-resume folder while a session runs; found at start = a crash.
const UNCLEAN_MARKER: &str = "session-running";

type ManagedHandle = Arc<ManagedTorrent>;

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
}

/// The running engine task; dropping it does not stop the engine, `shutdown` does.
pub struct EngineTask {
    join: JoinHandle<()>,
    stop: mpsc::Sender<oneshot::Sender<()>>,
}

impl EngineTask {
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
pub async fn start(opts: EngineOptions) -> anyhow::Result<(Client, EngineTask)> {
    let global = opts.limits;
    if let Some(dir) = &opts.fastresume_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the fast-resume folder {}", dir.display()))?;
        // librqbit must not restore torrents on its own: sled decides what comes back.
        for stale in ["session.json", "session.json.tmp"] {
            let _ = std::fs::remove_file(dir.join(stale));
        }
    }
    let crashed = match &opts.fastresume_dir {
        Some(dir) => {
            let marker = dir.join(UNCLEAN_MARKER);
            let crashed = marker.exists();
            std::fs::write(&marker, std::process::id().to_string())
                .with_context(|| format!("writing {}", marker.display()))?;
            crashed
        }
        None => false,
    };
    if crashed {
        warn!(
            "the previous session did not shut down cleanly: unfinished torrents will be re-checked"
        );
    }

    let net = &opts.network;
    let bind_ip = net.bind.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    // Pick the port ourselves so the port announced to trackers is the one we listen on.
    let port = if net.listen_port == 0 {
        std::net::TcpListener::bind((bind_ip, 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .context("finding a free port to listen on")?
    } else {
        net.listen_port
    };
    let session_opts = SessionOptions {
        dht: if net.dht {
            Some(librqbit::DhtSessionConfig {
                bootstrap_addrs: None,
                port: None,
                persistence: opts.dht_state_file.clone().map(|f| {
                    librqbit::dht::DhtPersistenceConfig {
                        config_filename: Some(f),
                        ..Default::default()
                    }
                }),
            })
        } else {
            None
        },
        disable_trackers: !net.trackers,
        fastresume: opts.fastresume_dir.is_some(),
        persistence: opts
            .fastresume_dir
            .clone()
            .map(|folder| SessionPersistenceConfig::Json {
                folder: Some(folder),
            }),
        listen: Some(ListenerOptions {
            mode: ListenerMode::TcpOnly,
            listen_addr: SocketAddr::new(bind_ip, port),
            enable_upnp_port_forwarding: net.upnp,
            announce_port: Some(port),
            ipv4_only: bind_ip.is_ipv4(),
            ..Default::default()
        }),
        ratelimits: to_librqbit_limits(&global),
        peer_limit: global.peers.map(|p| p as usize),
        disable_local_service_discovery: !net.lsd,
        ipv4_only: bind_ip.is_ipv4(),
        client_name_and_version: Some(format!("trove {}", env!("CARGO_PKG_VERSION"))),
        ..Default::default()
    };
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

    let mut engine = Engine {
        api: Api::new(session.clone(), None),
        may_finish: std::cell::Cell::new(true),
        session,
        store: opts.store,
        roots: opts.roots,
        log: opts.log.clone(),
        torrents: BTreeMap::new(),
        global,
        session_rates: DirectionalRates::default(),
        session_down: 0,
        session_up: 0,
        snapshot_tx,
        internal_tx,
        fastresume_dir: opts.fastresume_dir,
        root_info: Vec::new(),
        to_restore: Default::default(),
    };
    engine.root_info = engine.roots.info();
    engine.restore(crashed).await?;
    // Poll first: a snapshot published before it would list no torrents at all, and a
    // watcher (`trove daemon --exit-when-complete`) would take that as "all complete".
    engine.poll();
    engine.publish();

    let join = tokio::spawn(engine.run(cmd_rx, internal_rx, stop_rx));
    Ok((
        Client::new(cmd_tx, snapshot_rx, opts.log.watch()),
        EngineTask {
            join,
            stop: stop_tx,
        },
    ))
}

fn to_librqbit_limits(l: &Limits) -> LimitsConfig {
    let bps = |v: Option<u64>| v.and_then(|v| NonZeroU32::new(v.min(u64::from(u32::MAX)) as u32));
    LimitsConfig {
        download_bps: bps(l.download_bps),
        upload_bps: bps(l.upload_bps),
    }
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

type Answer = (oneshot::Sender<EngineResult<Reply>>, EngineResult<Reply>);

/// Messages the engine's own background tasks send back to the loop.
enum Internal {
    Loaded(
        Box<EngineResult<Loaded>>,
        AddOptions,
        oneshot::Sender<EngineResult<Reply>>,
    ),
    MetadataResolved(InfoHash, Result<Vec<u8>, String>),
}

#[derive(Clone, Copy)]
struct PeerSample {
    at: Instant,
    downloaded: u64,
    uploaded: u64,
    download_rate: f64,
    upload_rate: f64,
}

struct Entry {
    record: TorrentRecord,
    torrent: Option<CheckedTorrent>,
    handle: Option<ManagedHandle>,
    rates: DirectionalRates,
    /// librqbit's per-live-instance counters at the last poll; they restart from zero
    /// whenever the torrent is paused or re-added.
    live_up: u64,
    live_down: u64,
    resolver: Option<JoinHandle<()>>,
    summary: Option<TorrentSummary>,
    /// Have-bytes per file, in trove's numbering (padding entries left out).
    file_progress: Vec<u64>,
    /// Per-peer byte counters at an earlier details request, to turn them into rates.
    peer_counters: std::collections::HashMap<String, PeerSample>,
    /// The record and bitfield as last written by the periodic flush: only what changed
    /// since is written again (a thousand idle torrents cost no writes, no fsyncs).
    flushed_record: Option<TorrentRecord>,
    flushed_bitfield: Option<Vec<u8>>,
}

/// Which torrents a poll asks librqbit about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PollScope {
    All,
    /// The once-a-second tick: a paused torrent whose summary already says so, at rest,
    /// keeps it (a thousand paused torrents then cost almost nothing).
    SkipSettledPaused,
}

impl Entry {
    /// Paused without an error or a metadata fetch, already shown paused with no transfer.
    fn is_settled_paused(&self) -> bool {
        self.record.paused
            && self.record.error.is_none()
            && self.resolver.is_none()
            && self.summary.as_ref().is_some_and(|s| {
                s.state == TorrentState::Paused && s.download_rate == 0.0 && s.upload_rate == 0.0
            })
    }

    fn new(record: TorrentRecord, torrent: Option<CheckedTorrent>) -> Self {
        Entry {
            record,
            torrent,
            handle: None,
            rates: DirectionalRates::default(),
            live_up: 0,
            live_down: 0,
            resolver: None,
            summary: None,
            file_progress: Vec::new(),
            peer_counters: Default::default(),
            flushed_record: None,
            flushed_bitfield: None,
        }
    }
}

struct Engine {
    session: Arc<Session>,
    api: Api,
    /// Whether the last snapshot had a torrent that could still finish (queued, checking
    /// or downloading): otherwise the frequent finish check has nothing to look at.
    may_finish: std::cell::Cell<bool>,
    store: Arc<dyn SessionStore>,
    roots: RootManager,
    log: LogRing,
    torrents: BTreeMap<InfoHash, Entry>,
    global: Limits,
    session_rates: DirectionalRates,
    session_down: u64,
    session_up: u64,
    snapshot_tx: watch::Sender<Arc<SessionSnapshot>>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    fastresume_dir: Option<PathBuf>,
    /// The last probe of every root (see `check_roots`).
    root_info: Vec<RootInfo>,
    /// Stored torrents not yet handed to librqbit (see `restore_some`).
    to_restore: std::collections::VecDeque<InfoHash>,
}

fn engine_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Engine(e.to_string())
}

fn store_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Store(e.to_string())
}

impl Engine {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Request>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
        mut stop: mpsc::Receiver<oneshot::Sender<()>>,
    ) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_counter_flush = Instant::now();
        let mut last_peer_refresh = Instant::now();
        let mut last_root_check = Instant::now();
        let mut finish_check = tokio::time::interval(FINISH_CHECK);
        finish_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = std::future::ready(()), if !self.to_restore.is_empty() => {
                    self.restore_some().await;
                    self.poll();
                    self.publish();
                }
                Some((cmd, reply)) = commands.recv() => {
                    // A query must not publish: the dashboard asks for details on every
                    // snapshot, so a snapshot per answer would make the two spin.
                    let changes_state = cmd.changes_state();
                    let answer = self.handle_command(cmd, reply).await;
                    if changes_state {
                        self.poll();
                        self.publish();
                    }
                    // Answer after publishing, so the caller's next snapshot shows the change.
                    if let Some((reply, result)) = answer { let _ = reply.send(result); }
                }
                Some(msg) = internal.recv() => {
                    let answer = self.handle_internal(msg).await;
                    self.poll();
                    self.publish();
                    if let Some((reply, result)) = answer { let _ = reply.send(result); }
                }
                _ = finish_check.tick(), if self.may_finish.get() => {
                    // A finished download shows (and `trove download` exits) at once, not
                    // at the next once-a-second tick.
                    if self.finished_since_poll() {
                        self.poll();
                        self.publish();
                    }
                }
                _ = tick.tick() => {
                    self.poll_with(PollScope::SkipSettledPaused);
                    self.publish();
                    if last_root_check.elapsed() >= ROOT_CHECK_INTERVAL {
                        self.check_roots().await;
                        last_root_check = Instant::now();
                    }
                    if last_peer_refresh.elapsed() >= SEEN_PEERS_INTERVAL {
                        self.refresh_seen_peers();
                        last_peer_refresh = Instant::now();
                    }
                    if last_counter_flush.elapsed() >= COUNTER_FLUSH_INTERVAL {
                        self.flush_counters();
                        last_counter_flush = Instant::now();
                    }
                }
                done = stop.recv() => {
                    self.poll();
                    self.refresh_seen_peers();
                    self.flush_counters();
                    for e in self.torrents.values_mut() {
                        if let Some(r) = e.resolver.take() { r.abort(); }
                    }
                    // Not `Session::stop`: it pauses every torrent and then sleeps a full
                    // second "hopefully" for its tasks to wind down, which a daemon pays on
                    // every exit. Nothing needs that: each finished piece is already on disk
                    // and in the bitfield written just above, and the store is flushed, so
                    // cancelling the session's tasks leaves exactly what a kill -9 at this
                    // point would, which the crash tests prove loses nothing.
                    self.session.cancellation_token().cancel();
                    if let Some(dir) = &self.fastresume_dir {
                        let _ = std::fs::remove_file(dir.join(UNCLEAN_MARKER));
                    }
                    info!("session stopped, store flushed");
                    if let Some(done) = done { let _ = done.send(()); }
                    return;
                }
            }
        }
    }

    /// Brings back every torrent in the store. After a crash, an unfinished torrent's
    /// bitfield may be older than its data (it is written every 10 s): drop it so librqbit
    /// hashes what is on disk instead of downloading it again. Finished torrents keep theirs
    /// (librqbit writes it the moment they finish), so they still skip the re-hash.
    async fn restore(&mut self, crashed: bool) -> anyhow::Result<()> {
        let records = self.store.list().context("reading the store")?;
        info!(count = records.len(), "restoring torrents from the store");
        for record in records {
            let hash = record.info_hash.clone();
            let torrent = match self.store.torrent_bytes(&hash) {
                Ok(Some(bytes)) => match source::check_torrent(&bytes, &record.name) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        warn!(info_hash = %hash, "stored torrent no longer passes checks: {e}");
                        None
                    }
                },
                Ok(None) => None,
                Err(e) => {
                    warn!(info_hash = %hash, "cannot read stored torrent: {e}");
                    None
                }
            };
            if crashed
                && record.completed_at.is_none()
                && let Some(dir) = &self.fastresume_dir
            {
                let _ = std::fs::remove_file(dir.join(format!("{hash}.bitv")));
            }
            let has_torrent = torrent.is_some();
            let dormant = record.paused && self.fastresume_dir.is_some();
            self.torrents
                .insert(hash.clone(), Entry::new(record, torrent));
            if dormant {
                // A paused torrent stays out of librqbit until it is resumed: there it
                // would cost a flusher task that wakes every 5 s (a thousand paused
                // torrents: 200 wake-ups a second) and memory, for nothing. Its record and
                // `.bitv` file are all it needs to be shown and resumed.
                continue;
            }
            if has_torrent {
                self.to_restore.push_back(hash);
            } else {
                self.resolve_metadata(&hash);
            }
        }
        Ok(())
    }

    /// Hands a few stored torrents to librqbit. The loop calls it while any are left, in
    /// between commands, so the first snapshot (every stored torrent, queued) is out at
    /// once and the dashboard answers keys while a large session comes back.
    async fn restore_some(&mut self) {
        const BATCH: usize = 8;
        for _ in 0..BATCH {
            let Some(hash) = self.to_restore.pop_front() else {
                break;
            };
            // Removed meanwhile, or already started by a resume: nothing to do.
            if self.torrents.get(&hash).is_none_or(|e| e.handle.is_some()) {
                continue;
            }
            if let Err(e) = self.start_torrent(&hash).await {
                self.set_error(&hash, e.to_string());
            }
        }
        if self.to_restore.is_empty() {
            info!(count = self.torrents.len(), "every stored torrent is back");
        }
    }

    fn set_error(&mut self, hash: &str, msg: String) {
        warn!(info_hash = %hash, "{msg}");
        if let Some(e) = self.torrents.get_mut(hash) {
            e.record.error = Some(msg);
            e.record.last_state = TorrentState::Error;
            if let Err(err) = self.store.put(&e.record) {
                warn!("cannot save torrent state: {err}");
            }
        }
    }

    /// Runs a command; returns the answer to send once the new snapshot is out (None when
    /// the command finishes later, in the background).
    async fn handle_command(
        &mut self,
        cmd: Command,
        reply: oneshot::Sender<EngineResult<Reply>>,
    ) -> Option<Answer> {
        debug!(?cmd, "command");
        let changes_state = cmd.changes_state();
        let result = match cmd {
            Command::Add(src, opts) => {
                // Loading may fetch a URL: do it off the loop and finish in `handle_internal`.
                let tx = self.internal_tx.clone();
                tokio::spawn(async move {
                    let loaded = source::load(&src).await;
                    let _ = tx.send(Internal::Loaded(Box::new(loaded), opts, reply));
                });
                return None;
            }
            Command::Pause(id) => self.pause(&id, true).await.map(|_| Reply::Done),
            Command::Resume(id) => self.pause(&id, false).await.map(|_| Reply::Done),
            Command::Remove { id, delete_data } => {
                self.remove(&id, delete_data).await.map(|_| Reply::Done)
            }
            Command::SetTorrentLimits { id, limits } => self
                .set_torrent_limits(&id, limits)
                .await
                .map(|_| Reply::Done),
            Command::SetGlobalLimits(limits) => {
                self.set_global_limits(limits).await.map(|_| Reply::Done)
            }
            Command::SelectFiles { id, files } => {
                self.select_files(&id, files).await.map(|_| Reply::Done)
            }
            Command::Details(id) => self.details(&id).map(|d| Reply::Details(Box::new(d))),
            Command::ReadLog(filter) => Ok(Reply::Log(self.log.lines(&filter))),
            Command::Flush => {
                self.flush_counters();
                Ok(Reply::Done)
            }
        };
        // A failed query is the asker's to show; logging it would fill the log once a second.
        if let Err(e) = &result
            && changes_state
        {
            warn!("{e}");
        }
        Some((reply, result))
    }

    async fn handle_internal(&mut self, msg: Internal) -> Option<Answer> {
        match msg {
            Internal::Loaded(loaded, opts, reply) => {
                let result = match *loaded {
                    Ok(l) => self.finish_add(l, opts).await.map(Reply::Added),
                    Err(e) => Err(e),
                };
                if let Err(e) = &result {
                    warn!("{e}");
                }
                Some((reply, result))
            }
            Internal::MetadataResolved(hash, result) => {
                if let Err(e) = self.metadata_resolved(&hash, result).await {
                    self.set_error(&hash, e.to_string());
                }
                None
            }
        }
    }

    /// True when a torrent the last poll did not see seeding now has every selected piece
    /// (a small one may go from checking to finished between two polls). Cheap: a read
    /// lock per live torrent, and paused ones have no live state.
    fn finished_since_poll(&self) -> bool {
        self.torrents.values().any(|e| {
            e.summary.as_ref().is_none_or(|s| {
                matches!(
                    s.state,
                    TorrentState::Queued | TorrentState::Checking | TorrentState::Downloading
                )
            }) && e
                .handle
                .as_ref()
                .and_then(|h| h.live())
                .and_then(|live| live.get_hns())
                .is_some_and(|hns| hns.finished())
        })
    }

    /// Resolves an ID (full info-hash or unique prefix).
    fn resolve_id(&self, id: &str) -> EngineResult<InfoHash> {
        resolve_prefix(self.torrents.keys().map(String::as_str), id)
    }

    async fn finish_add(&mut self, loaded: Loaded, opts: AddOptions) -> EngineResult<Added> {
        let hash = loaded.info_hash().to_string();
        // Bad options are reported even for a torrent already in the session.
        let record = prepare_record(&self.roots, &loaded, &opts)?;
        if let Some(e) = self.torrents.get(&hash) {
            return Ok(Added {
                info_hash: hash,
                name: e.record.name.clone(),
                new: false,
            });
        }
        let torrent = match loaded {
            Loaded::Torrent(t) => Some(t),
            Loaded::Magnet { .. } => None,
        };
        if let Some(t) = &torrent {
            self.store
                .put_torrent_bytes(&hash, &t.bytes)
                .map_err(store_err)?;
        }
        self.store.put(&record).map_err(store_err)?;
        let name = record.name.clone();
        info!(info_hash = %hash, root = %record.root_token, "added {name}");
        self.torrents
            .insert(hash.clone(), Entry::new(record, torrent));
        if self.torrents[&hash].torrent.is_some() {
            if let Err(e) = self.start_torrent(&hash).await {
                // Nothing half-added stays behind.
                self.torrents.remove(&hash);
                let _ = self.store.remove(&hash);
                return Err(e);
            }
        } else {
            self.resolve_metadata(&hash);
        }
        Ok(Added {
            info_hash: hash,
            name,
            new: true,
        })
    }

    /// Fetches a magnet's metadata from peers in the background.
    fn resolve_metadata(&mut self, hash: &str) {
        let Some(entry) = self.torrents.get_mut(hash) else {
            return;
        };
        let Some(link) = entry.record.magnet.clone() else {
            entry.record.error = Some("the torrent's metadata is missing from the store".into());
            return;
        };
        let peers: Vec<SocketAddr> = entry
            .record
            .initial_peers
            .iter()
            .copied()
            .chain(entry.record.seen_peers.iter().map(|p| p.addr))
            .collect();
        let session = self.session.clone();
        let tx = self.internal_tx.clone();
        let hash = hash.to_string();
        info!(info_hash = %hash, "fetching metadata from peers");
        entry.resolver = Some(tokio::spawn(async move {
            let opts = AddTorrentOptions {
                list_only: true,
                initial_peers: (!peers.is_empty()).then_some(peers),
                ..Default::default()
            };
            let result = match session
                .add_torrent(AddTorrent::from_url(&link), Some(opts))
                .await
            {
                Ok(AddTorrentResponse::ListOnly(r)) => Ok(r.torrent_bytes.to_vec()),
                Ok(_) => Err("unexpected answer while fetching metadata".to_string()),
                Err(e) => Err(format!("could not fetch the metadata: {e:#}")),
            };
            let _ = tx.send(Internal::MetadataResolved(hash, result));
        }));
    }

    async fn metadata_resolved(
        &mut self,
        hash: &str,
        result: Result<Vec<u8>, String>,
    ) -> EngineResult<()> {
        let Some(entry) = self.torrents.get_mut(hash) else {
            return Ok(());
        };
        entry.resolver = None;
        let bytes = result.map_err(EngineError::Engine)?;
        let t = source::check_torrent(&bytes, &entry.record.name)?;
        if t.info_hash != hash {
            return Err(EngineError::BadSource(
                "a peer sent metadata for another torrent".into(),
            ));
        }
        if let Some(files) = &entry.record.only_files {
            check_file_indices(files, t.files.len())?;
        }
        entry.record.name = t.name.clone();
        entry.record.has_metadata = true;
        entry.record.size = t.total_len;
        self.store
            .put_torrent_bytes(hash, &t.bytes)
            .map_err(store_err)?;
        self.store.put(&entry.record).map_err(store_err)?;
        info!(info_hash = %hash, "metadata received: {}", t.name);
        entry.torrent = Some(t);
        self.start_torrent(hash).await
    }

    /// Hands a torrent with known metadata to librqbit, as its record says.
    async fn start_torrent(&mut self, hash: &str) -> EngineResult<()> {
        let entry = self
            .torrents
            .get_mut(hash)
            .ok_or_else(|| EngineError::UnknownId(hash.into()))?;
        let t = entry
            .torrent
            .as_ref()
            .ok_or_else(|| EngineError::Engine("metadata not known yet".into()))?;
        let root = self
            .roots
            .by_token(&entry.record.root_token)
            .ok_or_else(|| {
                EngineError::Root(format!(
                    "the torrent's storage root '{}' is no longer in the config file: add it back under [[roots]]",
                    entry.record.root_token
                ))
            })?
            .clone();
        self.roots.check_usable(&root)?;
        source::check_no_symlinks(t, &root.path)?;
        let output = t.output_folder(&root.path);
        let peers: Vec<SocketAddr> = entry
            .record
            .initial_peers
            .iter()
            .copied()
            .chain(entry.record.seen_peers.iter().map(|p| p.addr))
            .collect();
        let opts = AddTorrentOptions {
            paused: entry.record.paused,
            only_files: entry
                .record
                .only_files
                .as_deref()
                .map(|o| file_index::to_librqbit(t, o)),
            // Resuming over our own partial files is the point of a restart.
            overwrite: true,
            output_folder: Some(output.to_string_lossy().into_owned()),
            ratelimits: to_librqbit_limits(&entry.record.limits),
            peer_limit: entry
                .record
                .limits
                .peers
                .or(self.global.peers)
                .map(|p| p as usize),
            initial_peers: (!peers.is_empty()).then_some(peers),
            ..Default::default()
        };
        let resp = self
            .session
            .add_torrent(AddTorrent::from_bytes(t.bytes.clone()), Some(opts))
            .await
            .map_err(|e| EngineError::Engine(format!("librqbit refused the torrent: {e:#}")))?;
        let (id, handle) = match resp {
            AddTorrentResponse::Added(id, h) | AddTorrentResponse::AlreadyManaged(id, h) => (id, h),
            AddTorrentResponse::ListOnly(_) => {
                return Err(EngineError::Engine("unexpected list-only answer".into()));
            }
        };
        self.log.register_torrent(id, hash);
        entry.handle = Some(handle);
        entry.live_up = 0;
        entry.live_down = 0;
        if entry.record.error.take().is_some() {
            let _ = self.store.put(&entry.record);
        }
        Ok(())
    }

    async fn pause(&mut self, id: &str, pause: bool) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        if !pause {
            // Resuming onto a root that is still missing, full or read-only would only
            // fail again: say so now.
            if let Some(root) = self.roots.by_token(&entry.record.root_token) {
                self.roots.check_usable(root)?;
            }
            entry.record.error = None;
        }
        entry.record.paused = pause;
        self.store.put(&entry.record).map_err(store_err)?;
        match entry.handle.clone() {
            Some(_) if pause && self.fastresume_dir.is_some() => self.retire(&hash).await?,
            Some(h) => {
                let is_paused = h.is_paused();
                let errored = matches!(h.stats().state, TorrentStatsState::Error);
                if pause && !is_paused && !errored {
                    self.session.pause(&h).await.map_err(engine_err)?;
                } else if !pause && (is_paused || errored) {
                    self.session.unpause(&h).await.map_err(engine_err)?;
                }
            }
            None if !pause && entry.torrent.is_some() => self.start_torrent(&hash).await?,
            None => {}
        }
        info!(info_hash = %hash, "{}", if pause { "paused" } else { "resumed" });
        Ok(())
    }

    async fn remove(&mut self, id: &str, delete_data: bool) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let Some(mut entry) = self.torrents.remove(&hash) else {
            return Err(EngineError::UnknownId(id.into()));
        };
        if let Some(r) = entry.resolver.take() {
            r.abort();
        }
        let root = self.roots.by_token(&entry.record.root_token).cloned();
        if let Some(h) = entry.handle.take() {
            let result = self
                .session
                .delete(TorrentIdOrHash::Id(h.id()), delete_data)
                .await;
            self.log.forget_torrent(h.id());
            if let Err(e) = result {
                warn!(info_hash = %hash, "librqbit could not remove everything: {e:#}");
            }
        } else {
            // Dormant (paused, not in librqbit): its bitfield file is ours to delete, or a
            // later add of the same torrent would believe pieces it no longer has.
            if let Some(dir) = &self.fastresume_dir {
                let _ = std::fs::remove_file(dir.join(format!("{hash}.bitv")));
            }
            if delete_data && let (Some(t), Some(root)) = (&entry.torrent, &root) {
                delete_torrent_files(t, &root.path);
            }
        }
        // librqbit removes a torrent's folder when it is empty; a root must survive that.
        if let Some(root) = root
            && !root.path.exists()
        {
            let _ = std::fs::create_dir_all(&root.path);
        }
        self.store.remove(&hash).map_err(store_err)?;
        info!(info_hash = %hash, delete_data, "removed {}", entry.record.name);
        Ok(())
    }

    /// librqbit fixes a torrent's limits when it is added; to change them the torrent is
    /// removed from the session (data and fast-resume bitfield kept) and added again.
    async fn readd(&mut self, hash: &str) -> EngineResult<()> {
        if self.torrents.get(hash).is_none_or(|e| e.handle.is_none()) {
            return Ok(()); // dormant or waiting for metadata: the next start applies them
        }
        self.retire(hash).await?;
        self.start_torrent(hash).await
    }

    /// Takes a torrent out of librqbit, keeping its data, its counters and its fast-resume
    /// bitfield, so that `start_torrent` brings it back without a re-check.
    async fn retire(&mut self, hash: &str) -> EngineResult<()> {
        let Some(h) = self.torrents.get(hash).and_then(|e| e.handle.clone()) else {
            return Ok(());
        };
        if !h.is_paused() {
            let _ = self.session.pause(&h).await;
        }
        // Fold in what it transferred since the last poll before its counters go.
        self.poll();
        // librqbit deletes its bitfield file with the torrent, and the file may lag behind
        // (it is flushed every 16 MiB): take the current one from memory and put it back.
        let haves = current_bitfield(&self.api, &h);
        self.session
            .delete(TorrentIdOrHash::Id(h.id()), false)
            .await
            .map_err(engine_err)?;
        self.log.forget_torrent(h.id());
        if let Some(e) = self.torrents.get_mut(hash) {
            e.handle = None;
            e.live_up = 0;
            e.live_down = 0;
            e.flushed_bitfield = None;
        }
        if let (Some(dir), Some(bytes)) = (&self.fastresume_dir, haves) {
            std::fs::write(dir.join(format!("{hash}.bitv")), bytes).map_err(engine_err)?;
        }
        Ok(())
    }

    /// A dormant torrent's per-file progress, worked out from its bitfield unless its last
    /// live poll left one.
    fn fill_dormant_file_progress(&mut self, hash: &str, bitfield: &[u8]) {
        if let Some(e) = self.torrents.get_mut(hash)
            && e.file_progress.is_empty()
            && let Some(t) = &e.torrent
        {
            e.file_progress = file_index::progress_from_bitfield(t, bitfield);
        }
    }

    /// A dormant torrent's have-pieces bitfield, from its fast-resume file.
    fn stored_bitfield(&self, hash: &str) -> Option<Vec<u8>> {
        let dir = self.fastresume_dir.as_ref()?;
        std::fs::read(dir.join(format!("{hash}.bitv"))).ok()
    }

    async fn set_torrent_limits(&mut self, id: &str, limits: Limits) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        if entry.record.limits == limits {
            return Ok(());
        }
        entry.record.limits = limits;
        self.store.put(&entry.record).map_err(store_err)?;
        info!(info_hash = %hash, ?limits, "torrent limits set");
        self.readd(&hash).await
    }

    async fn set_global_limits(&mut self, limits: Limits) -> EngineResult<()> {
        let old = self.global;
        self.global = limits;
        let l = to_librqbit_limits(&limits);
        self.session.ratelimits.set_download_bps(l.download_bps);
        self.session.ratelimits.set_upload_bps(l.upload_bps);
        self.store
            .put_settings(&SessionSettings {
                limits: Some(limits),
            })
            .map_err(store_err)?;
        info!(?limits, "session limits set");
        if old.peers != limits.peers {
            let inheriting: Vec<String> = self
                .torrents
                .iter()
                .filter(|(_, e)| e.record.limits.peers.is_none() && e.handle.is_some())
                .map(|(h, _)| h.clone())
                .collect();
            for h in inheriting {
                self.readd(&h).await?;
            }
        }
        Ok(())
    }

    async fn select_files(&mut self, id: &str, files: Vec<usize>) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        let t = entry.torrent.as_ref().ok_or_else(|| {
            EngineError::Engine("the file list is not known yet: wait for the metadata".into())
        })?;
        check_file_indices(&files, t.files.len())?;
        if files.is_empty() {
            return Err(EngineError::BadSource(
                "select at least one file (or pause the torrent)".into(),
            ));
        }
        let chosen: HashSet<usize> = files.iter().copied().collect();
        let all = chosen.len() == t.files.len();
        let set: HashSet<usize> = file_index::to_librqbit(t, &files).into_iter().collect();
        entry.record.only_files = (!all).then(|| files.clone());
        self.store.put(&entry.record).map_err(store_err)?;
        if let Some(h) = &entry.handle {
            self.session
                .update_only_files(h, &set)
                .await
                .map_err(engine_err)?;
        } else if entry.torrent.is_some() {
            // Nothing in librqbit to count the selection: count it here, so a dormant
            // torrent shows the right size and progress until it is resumed.
            let bitfield = self.stored_bitfield(&hash).unwrap_or_default();
            self.fill_dormant_file_progress(&hash, &bitfield);
            let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
            let t = entry.torrent.as_ref().ok_or(EngineError::Stopped)?;
            let is_chosen = |i: &usize| all || chosen.contains(i);
            entry.record.selected_bytes = (0..t.files.len())
                .filter(is_chosen)
                .map(|i| t.files[i].len)
                .sum();
            entry.record.have_bytes = (0..t.files.len())
                .filter(is_chosen)
                .map(|i| entry.file_progress.get(i).copied().unwrap_or(0))
                .sum();
            self.store.put(&entry.record).map_err(store_err)?;
        }
        info!(info_hash = %hash, "file selection changed");
        Ok(())
    }

    /// Reads librqbit's counters into records, summaries and rate trackers.
    fn poll(&mut self) {
        self.poll_with(PollScope::All);
    }

    fn poll_with(&mut self, scope: PollScope) {
        let now = Instant::now();
        let unix_now = now_unix();
        let mut dirty: Vec<String> = Vec::new();
        let (mut down_delta_total, mut up_delta_total) = (0u64, 0u64);
        for (hash, e) in self.torrents.iter_mut() {
            // Only a command (which polls everything) changes a paused torrent; its rates
            // keep their history so the graph still moves.
            if scope == PollScope::SkipSettledPaused && e.is_settled_paused() {
                e.rates
                    .record(now, e.record.downloaded_total, e.record.uploaded_total);
                continue;
            }
            let mut state = if e.record.paused {
                TorrentState::Paused
            } else {
                TorrentState::Queued
            };
            let mut peers = 0u32;
            let mut error = e.record.error.clone();
            if error.is_some() {
                state = TorrentState::Error;
            }
            if let Some(h) = &e.handle {
                let stats = h.stats();
                // librqbit counts whole pieces, so its totals can pass the torrent's size.
                let size = e.torrent.as_ref().map_or(u64::MAX, |t| t.total_len);
                e.record.selected_bytes = stats.total_bytes.min(size);
                // While librqbit checks a torrent's files, its progress counts the bytes it
                // has *checked*, not the bytes it has: a new download would show 100% and
                // then drop to 0. Until the check is over, what it had before stands.
                let checking = matches!(stats.state, TorrentStatsState::Initializing { .. });
                let have = if checking {
                    e.record.have_bytes
                } else {
                    stats.progress_bytes
                };
                e.record.have_bytes = have.min(e.record.selected_bytes);
                if let Some(t) = &e.torrent
                    && !checking
                    && !stats.file_progress.is_empty()
                {
                    e.file_progress = file_index::progress_from_librqbit(t, &stats.file_progress);
                }
                match stats.state {
                    TorrentStatsState::Error => {
                        state = TorrentState::Error;
                        error = Some(explain_error(
                            stats.error.as_deref().unwrap_or("unknown error"),
                            &e.record,
                            &self.roots,
                        ));
                    }
                    // Paused by trove because of its root: still an error until resumed.
                    TorrentStatsState::Paused if error.is_some() => state = TorrentState::Error,
                    other => {
                        error = None;
                        state = match other {
                            TorrentStatsState::Initializing { .. } => TorrentState::Checking,
                            TorrentStatsState::Live if stats.finished => TorrentState::Seeding,
                            TorrentStatsState::Live => TorrentState::Downloading,
                            _ => TorrentState::Paused,
                        };
                    }
                }
                if let Some(live) = &stats.live {
                    let up = live.snapshot.uploaded_bytes;
                    let down = live.snapshot.fetched_bytes;
                    // A new live instance starts its counters at zero.
                    let du = up.checked_sub(e.live_up).unwrap_or(up);
                    let dd = down.checked_sub(e.live_down).unwrap_or(down);
                    e.live_up = up;
                    e.live_down = down;
                    e.record.uploaded_total += du;
                    e.record.downloaded_total += dd;
                    up_delta_total += du;
                    down_delta_total += dd;
                    peers = live.snapshot.peer_stats.live;
                } else {
                    e.live_up = 0;
                    e.live_down = 0;
                }
                if stats.finished
                    && e.record.completed_at.is_none()
                    && state == TorrentState::Seeding
                {
                    e.record.completed_at = Some(unix_now);
                    info!(info_hash = %hash, "completed {}", e.record.name);
                }
            } else if e.resolver.is_some() && !e.record.paused {
                state = TorrentState::Queued;
            }
            e.rates
                .record(now, e.record.downloaded_total, e.record.uploaded_total);
            if state != e.record.last_state || error != e.record.error {
                if let Some(msg) = &error
                    && error != e.record.error
                {
                    warn!(info_hash = %hash, "{}: {msg}", e.record.name);
                }
                e.record.last_state = state;
                e.record.error = error.clone();
                dirty.push(hash.clone());
            }
            let size = e
                .torrent
                .as_ref()
                .map(|t| t.total_len)
                .unwrap_or(e.record.size);
            e.record.size = size;
            let selected = e.record.selected_bytes.max(1);
            let progress = if e.record.selected_bytes == 0 {
                0.0
            } else {
                (e.record.have_bytes as f64 / selected as f64).min(1.0)
            };
            let down_rate = e.rates.download.rate();
            let remaining = e.record.selected_bytes.saturating_sub(e.record.have_bytes);
            let eta = if state == TorrentState::Downloading {
                snapshot::eta(remaining, down_rate)
            } else {
                None
            };
            let root = self.roots.by_token(&e.record.root_token);
            e.summary = Some(TorrentSummary {
                info_hash: hash.clone(),
                name: e.record.name.clone(),
                state,
                progress,
                size,
                have_bytes: e.record.have_bytes,
                selected_bytes: e.record.selected_bytes,
                download_rate: down_rate,
                upload_rate: e.rates.upload.rate(),
                eta,
                peers_connected: peers,
                peer_limit: e.record.limits.peers.or(self.global.peers),
                ratio: ratio(&e.record),
                root_label: root
                    .map(|r| r.label.clone())
                    .unwrap_or_else(|| e.record.root_token.clone()),
                root_token: e.record.root_token.clone(),
                added_at: e.record.added_at,
                completed_at: e.record.completed_at,
                uploaded_total: e.record.uploaded_total,
                downloaded_total: e.record.downloaded_total,
                limits: e.record.limits,
                error: if state == TorrentState::Error {
                    error
                } else {
                    None
                },
            });
        }
        self.session_down += down_delta_total;
        self.session_up += up_delta_total;
        self.session_rates
            .record(now, self.session_down, self.session_up);
        // State changes are written (and synced) at once; counters ride along.
        for hash in dirty {
            if let Some(e) = self.torrents.get(&hash)
                && let Err(err) = self.store.put(&e.record)
            {
                warn!("cannot save torrent state: {err}");
            }
        }
    }

    fn publish(&self) {
        let torrents: Vec<TorrentSummary> = self
            .torrents
            .values()
            .filter_map(|e| e.summary.clone())
            .collect();
        self.may_finish.set(torrents.iter().any(|t| {
            matches!(
                t.state,
                TorrentState::Queued | TorrentState::Checking | TorrentState::Downloading
            )
        }));
        let snap = SessionSnapshot {
            peers_connected: torrents.iter().map(|t| t.peers_connected).sum(),
            torrents,
            download_rate: self.session_rates.download.rate(),
            upload_rate: self.session_rates.upload.rate(),
            downloaded_session: self.session_down,
            uploaded_session: self.session_up,
            limits: self.global,
            roots: self.root_info.clone(),
            listen_addr: self.session.listen_addr(),
            download_history: self.session_rates.download.history(),
            upload_history: self.session_rates.upload.history(),
        };
        self.snapshot_tx.send_replace(Arc::new(snap));
    }

    /// Probes every root. librqbit keeps its files open, so a root that vanishes or turns
    /// read-only may not fail a write at once: a torrent still running on such a root is
    /// paused here with an error naming the root, and resuming it re-checks the root.
    async fn check_roots(&mut self) {
        self.root_info = self.roots.info();
        let broken: Vec<(String, String)> = self
            .root_info
            .iter()
            .filter_map(|r| {
                r.problem.as_ref().map(|p| {
                    (
                        r.token.clone(),
                        format!("storage root '{}' at {} {p}", r.label, r.path.display()),
                    )
                })
            })
            .collect();
        for (token, msg) in broken {
            let affected: Vec<(String, ManagedHandle)> = self
                .torrents
                .iter()
                .filter(|(_, e)| e.record.root_token == token && e.record.error.is_none())
                .filter_map(|(h, e)| e.handle.clone().map(|m| (h.clone(), m)))
                .filter(|(_, m)| !m.is_paused())
                .collect();
            for (hash, handle) in affected {
                let _ = self.session.pause(&handle).await;
                if let Some(e) = self.torrents.get_mut(&hash) {
                    e.record.error = Some(msg.clone());
                }
            }
        }
    }

    /// The have-pieces bitfield as librqbit keeps it in memory, in its `.bitv` file format.
    /// Writes every torrent's current bitfield over its fast-resume file, so a crash loses
    /// at most one checkpoint interval of verified pieces (librqbit alone writes it only
    /// every 16 MiB). Written in place: librqbit keeps the same file open and its own,
    /// possibly older, snapshot may land later, which only ever under-claims pieces.
    fn checkpoint_bitfields(&mut self) {
        use std::os::unix::fs::FileExt;
        let Some(dir) = &self.fastresume_dir else {
            return;
        };
        for (hash, e) in self.torrents.iter_mut() {
            let Some(h) = &e.handle else { continue };
            let Some(bytes) = current_bitfield(&self.api, h) else {
                continue;
            };
            if e.flushed_bitfield.as_ref() == Some(&bytes) {
                continue;
            }
            let path = dir.join(format!("{hash}.bitv"));
            // Already on disk (after a restart, for every torrent): no write, no fsync.
            if std::fs::read(&path).is_ok_and(|on_disk| on_disk == bytes) {
                e.flushed_bitfield = Some(bytes);
                continue;
            }
            let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else {
                continue; // not checked yet: librqbit creates it after the first check
            };
            if file.metadata().map(|m| m.len()).ok() != Some(bytes.len() as u64) {
                continue;
            }
            match file.write_all_at(&bytes, 0).and_then(|_| file.sync_data()) {
                Ok(()) => e.flushed_bitfield = Some(bytes),
                Err(err) => warn!(info_hash = %hash, "cannot save the piece bitfield: {err}"),
            }
        }
    }

    /// Writes the bitfields and records that changed since the last flush, then syncs.
    fn flush_counters(&mut self) {
        self.checkpoint_bitfields();
        let changed: Vec<TorrentRecord> = self
            .torrents
            .values()
            .filter(|e| e.flushed_record.as_ref() != Some(&e.record))
            .map(|e| e.record.clone())
            .collect();
        if changed.is_empty() {
            return;
        }
        match self
            .store
            .put_many_unsynced(&changed)
            .and_then(|_| self.store.flush())
        {
            Ok(()) => {
                for record in changed {
                    if let Some(e) = self.torrents.get_mut(&record.info_hash) {
                        e.flushed_record = Some(record);
                    }
                }
            }
            Err(e) => warn!("cannot save counters: {e}"),
        }
    }

    fn refresh_seen_peers(&mut self) {
        let now = now_unix();
        for (hash, e) in self.torrents.iter_mut() {
            let Some(h) = &e.handle else { continue };
            let Ok(stats) = self
                .api
                .api_peer_stats(TorrentIdOrHash::Id(h.id()), Default::default())
            else {
                continue;
            };
            let addrs: Vec<SocketAddr> =
                stats.peers.keys().filter_map(|a| a.parse().ok()).collect();
            if !addrs.is_empty() {
                debug!(info_hash = %hash, count = addrs.len(), "remembering peers");
                e.record.remember_peers(addrs, now);
            }
        }
    }

    fn details(&mut self, id: &str) -> EngineResult<TorrentDetails> {
        let hash = self.resolve_id(id)?;
        // A dormant torrent's pieces and file progress come from its bitfield file.
        let dormant_bitfield = match &self.torrents[&hash] {
            e if e.handle.is_none() && e.torrent.is_some() => self.stored_bitfield(&hash),
            _ => None,
        };
        if let Some(bits) = &dormant_bitfield {
            self.fill_dormant_file_progress(&hash, bits);
        }
        let e = &self.torrents[&hash];
        let summary = e
            .summary
            .clone()
            .ok_or_else(|| EngineError::Engine("no stats yet".into()))?;
        let root = self.roots.by_token(&e.record.root_token);
        let save_path = match (&e.torrent, root) {
            (Some(t), Some(r)) => t.output_folder(&r.path),
            (None, Some(r)) => r.path.clone(),
            _ => PathBuf::new(),
        };
        let files = e
            .torrent
            .as_ref()
            .map(|t| {
                t.files
                    .iter()
                    .enumerate()
                    .map(|(i, f)| FileEntry {
                        index: i,
                        path: f.display_path(),
                        size: f.len,
                        have_bytes: e.file_progress.get(i).copied().unwrap_or(0),
                        selected: e.record.only_files.as_ref().is_none_or(|o| o.contains(&i)),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut peers = Vec::new();
        let mut pieces = PieceMap::default();
        if let Some(h) = &e.handle {
            let idx = TorrentIdOrHash::Id(h.id());
            if let Ok(stats) = self.api.api_peer_stats(idx, Default::default()) {
                for (addr, p) in stats.peers {
                    peers.push(PeerEntry {
                        addr,
                        client: p.client_name.clone(),
                        download_rate: 0.0,
                        upload_rate: 0.0,
                        downloaded: p.counters.fetched_bytes,
                        uploaded: p.counters.uploaded_bytes,
                        state: p.state.to_string(),
                    });
                }
                peers.sort_by_key(|p| std::cmp::Reverse(p.downloaded));
            }
        }
        // Rates from the counters seen at an earlier request at least half a second old
        // (the UI may ask several times a second); in between, the last rates stand.
        let now = Instant::now();
        let e = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        let mut current = std::collections::HashMap::with_capacity(peers.len());
        for p in &mut peers {
            let mut sample = PeerSample {
                at: now,
                downloaded: p.downloaded,
                uploaded: p.uploaded,
                download_rate: 0.0,
                upload_rate: 0.0,
            };
            if let Some(prev) = e.peer_counters.get(&p.addr) {
                let secs = now.duration_since(prev.at).as_secs_f64();
                if secs < 0.5 {
                    sample = *prev;
                } else if secs < 30.0 {
                    sample.download_rate =
                        p.downloaded.saturating_sub(prev.downloaded) as f64 / secs;
                    sample.upload_rate = p.uploaded.saturating_sub(prev.uploaded) as f64 / secs;
                }
            }
            p.download_rate = sample.download_rate;
            p.upload_rate = sample.upload_rate;
            current.insert(p.addr.clone(), sample);
        }
        e.peer_counters = current;
        let e = &self.torrents[&hash];
        if let Some(h) = &e.handle {
            let idx = TorrentIdOrHash::Id(h.id());
            if let Ok((bf, count)) = self.api.api_dump_haves(idx) {
                pieces = PieceMap {
                    count,
                    bitfield: bf.as_raw_slice().to_vec(),
                };
            }
        }
        if let (Some(bits), Some(t)) = (dormant_bitfield, &e.torrent) {
            pieces = PieceMap {
                count: u32::try_from(t.piece_count).unwrap_or(u32::MAX),
                bitfield: bits,
            };
        }
        let live = e.handle.as_ref().is_some_and(|h| h.live().is_some());
        let trackers = e
            .torrent
            .as_ref()
            .map(|t| t.trackers.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|url| TrackerEntry {
                url,
                status: if live { "announcing" } else { "idle" }.to_string(),
            })
            .collect();
        Ok(TorrentDetails {
            summary,
            save_path,
            files,
            peers,
            pieces,
            piece_length: e.torrent.as_ref().map(|t| t.piece_length).unwrap_or(0),
            trackers,
            download_history: e.rates.download.history(),
            upload_history: e.rates.upload.history(),
            history_clock: e.rates.download.history_clock(),
        })
    }
}

fn ratio(r: &TorrentRecord) -> f64 {
    let base = r.downloaded_total.max(r.size);
    if base == 0 {
        0.0
    } else {
        r.uploaded_total as f64 / base as f64
    }
}

/// Turns librqbit's error text into one line that names the root when the disk is the
/// problem.
fn explain_error(raw: &str, record: &TorrentRecord, roots: &RootManager) -> String {
    let root = roots.by_token(&record.root_token);
    let lower = raw.to_lowercase();
    let where_ = root
        .map(|r| format!("storage root '{}' at {}", r.label, r.path.display()))
        .unwrap_or_else(|| format!("storage root '{}'", record.root_token));
    if lower.contains("no space left") || lower.contains("os error 28") {
        format!("{where_} is full: make space on it, then resume the torrent")
    } else if lower.contains("read-only") || lower.contains("os error 30") {
        format!("{where_} is read-only: make it writable, then resume the torrent")
    } else if lower.contains("no such file") || lower.contains("os error 2)") {
        format!("{where_} or a file in it has disappeared: restore it, then resume the torrent")
    } else if lower.contains("permission denied") || lower.contains("os error 13") {
        format!("{where_} is not writable (permission denied): fix it, then resume the torrent")
    } else {
        let first = raw.lines().next().unwrap_or(raw);
        source::sanitize_display(first)
    }
}

/// Finds the one torrent whose info-hash starts with `id`.
pub fn resolve_prefix<'a>(
    hashes: impl Iterator<Item = &'a str>,
    id: &str,
) -> EngineResult<InfoHash> {
    let needle = id.trim().to_ascii_lowercase();
    if needle.is_empty() {
        return Err(EngineError::UnknownId(id.into()));
    }
    let matches: Vec<&str> = hashes.filter(|h| h.starts_with(&needle)).collect();
    match matches.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(EngineError::UnknownId(id.into())),
        many => Err(EngineError::AmbiguousId {
            prefix: id.into(),
            count: many.len(),
        }),
    }
}

pub fn check_file_indices(files: &[usize], count: usize) -> EngineResult<()> {
    if let Some(bad) = files.iter().find(|&&i| i >= count) {
        return Err(EngineError::BadSource(format!(
            "file index {bad} does not exist: the torrent has {count} files, numbered 0 to {}",
            count.saturating_sub(1)
        )));
    }
    Ok(())
}

/// Validates an add request and builds the record to store (shared by the engine and the
/// offline `trove add`).
pub fn prepare_record(
    roots: &RootManager,
    loaded: &Loaded,
    opts: &AddOptions,
) -> EngineResult<TorrentRecord> {
    let root = roots.choose(opts.root.as_deref())?;
    roots.check_usable(root)?;
    let (hash, name, magnet, size) = match loaded {
        Loaded::Torrent(t) => {
            if let Some(files) = &opts.only_files {
                check_file_indices(files, t.files.len())?;
            }
            source::check_no_symlinks(t, &root.path)?;
            (t.info_hash.clone(), t.name.clone(), None, t.total_len)
        }
        Loaded::Magnet {
            info_hash,
            name,
            link,
            ..
        } => (
            info_hash.clone(),
            name.clone().unwrap_or_else(|| info_hash.clone()),
            Some(link.clone()),
            0,
        ),
    };
    Ok(TorrentRecord {
        info_hash: hash,
        name,
        has_metadata: magnet.is_none(),
        magnet,
        root_token: root.token.clone(),
        only_files: opts.only_files.clone(),
        paused: opts.paused,
        limits: opts.limits,
        added_at: now_unix(),
        completed_at: None,
        uploaded_total: 0,
        downloaded_total: 0,
        initial_peers: {
            let mut peers = opts.peers.clone();
            if let Loaded::Magnet { peers: named, .. } = loaded {
                peers.extend(named.iter().filter(|p| !opts.peers.contains(p)));
            }
            peers
        },
        seen_peers: Vec::new(),
        last_state: if opts.paused {
            TorrentState::Paused
        } else {
            TorrentState::Queued
        },
        size,
        have_bytes: 0,
        selected_bytes: 0,
        error: None,
    })
}

/// Deletes a torrent's files (and the folders it made, when empty) without librqbit.
pub fn delete_torrent_files(t: &CheckedTorrent, root: &Path) {
    for p in t.file_paths(root) {
        if let Err(e) = std::fs::remove_file(&p)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            warn!("cannot delete {}: {e}", p.display());
        }
        // Remove now-empty parents up to (not including) the root.
        let mut dir = p.parent();
        while let Some(d) = dir {
            if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

/// The piece bitfield librqbit holds in memory for a torrent, as its .bitv file stores it.
fn current_bitfield(api: &Api, h: &ManagedHandle) -> Option<Vec<u8>> {
    api.api_dump_haves(TorrentIdOrHash::Id(h.id()))
        .ok()
        .map(|(bf, _)| bf.as_raw_slice().to_vec())
}
