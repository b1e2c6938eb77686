//! The saved session, worked on while no session runs: what `trove add`, `list`, `pause`,
//! `resume`, `remove`, `tag`, `root`, `export` and `import` use when nothing holds the data
//! dir. The next
//! session picks their changes up from the store.
//!
//! A [`SavedSession`] holds the data-dir lock for as long as it lives, so it never writes
//! under a running session, and it is the only way the command line reaches the store.

mod edit;
mod export;
mod library;
mod organize;
pub(crate) mod queue;

use std::path::Path;
use std::sync::Arc;

use trove_proto::Client;
use trove_proto::command::{AddOptions, EngineError};
use trove_proto::queue::{QueueLimits, SeedingGoals};
use trove_proto::snapshot::{Limits, TorrentState, TorrentSummary};

use crate::data_dir::DataDir;
use crate::lock::DataDirLock;
use crate::logring::LogRing;
use crate::roots::RootManager;
use crate::session::{self, EngineOptions, EngineTask, NetworkOptions};
use crate::source::{self, Loaded};
use crate::store::{SessionStore, SledStore, StoreError, TorrentRecord};
use crate::torrents::{
    Current, delete_torrent_files, ignored_options, prepare_record, resolve_prefix, torrent_root,
};

pub use edit::SavedTorrent;
pub(crate) use export::build as build_export;
pub use export::{ExportOutcome, ImportOutcome, ImportPlan, ImportedTorrent, export, import};
pub use queue::reorder as reorder_queue;

/// A torrent checked and ready to be written by [`SavedSession::add`].
pub struct ReadyTorrent {
    loaded: Loaded,
    record: TorrentRecord,
    opts: AddOptions,
}

impl ReadyTorrent {
    /// Loads and checks `source` for `roots`: everything `add` can refuse is refused here,
    /// before the store is opened (sled rewrites some of its files on every open, and a
    /// refused add must leave the store as it was).
    pub async fn check(
        roots: &RootManager,
        source: &trove_proto::TorrentSource,
        opts: &AddOptions,
    ) -> Result<Self, EngineError> {
        let loaded = source::load(source).await?;
        let record = prepare_record(roots, &loaded, opts)?;
        Ok(ReadyTorrent {
            loaded,
            record,
            opts: opts.clone(),
        })
    }
}

impl ReadyTorrent {
    /// The token of the root it was checked for.
    pub fn root_token(&self) -> &str {
        &self.record.root_token
    }

    /// The torrent as another process can take it: its .torrent bytes, or its magnet link.
    pub fn into_source(self) -> trove_proto::TorrentSource {
        match self.loaded {
            Loaded::Torrent(t) => trove_proto::TorrentSource::Bytes(t.bytes),
            Loaded::Magnet { link, .. } => trove_proto::TorrentSource::Magnet(link),
        }
    }
}

/// What `add` did with one torrent.
pub struct AddOutcome {
    pub info_hash: String,
    pub name: String,
    /// False when the torrent was in the session already (and nothing was written).
    pub new: bool,
    /// For a torrent already there: each option that was not applied, and how to apply it.
    pub ignored: Vec<String>,
}

/// The store of a data dir, locked against any other trove.
pub struct SavedSession {
    dir: DataDir,
    store: SledStore,
    _lock: DataDirLock,
}

fn store_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// What a session starts with from the config file, beside its roots, limits and network.
pub struct StartSettings {
    pub queue: QueueLimits,
    pub goals: Option<SeedingGoals>,
    /// Folders to mount the torrents on.
    pub mounts: Vec<std::path::PathBuf>,
    pub mount_options: trove_mount::MountOptions,
    /// The vault roots' decrypted-chunk cache, in bytes.
    pub vault_cache_bytes: u64,
}

impl SavedSession {
    /// Takes the data dir's lock and opens its store (refusing a damaged one). While
    /// another trove holds the data dir this is [`StoreError::Locked`].
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let dir = DataDir::new(data_dir);
        let lock = DataDirLock::acquire(dir.path())?;
        let store = SledStore::open(&dir.store())?;
        Ok(SavedSession {
            dir,
            store,
            _lock: lock,
        })
    }

    /// The session limits last set from a dashboard, if any.
    pub fn stored_limits(&self) -> anyhow::Result<Option<Limits>> {
        Ok(self.store.settings().map_err(store_err)?.limits)
    }

    /// Starts the session on this saved state; the data dir stays locked until the
    /// session is shut down.
    pub async fn start(
        self,
        roots: RootManager,
        limits: Limits,
        network: NetworkOptions,
        log: LogRing,
        settings: StartSettings,
    ) -> anyhow::Result<(Client, RunningSession)> {
        let SavedSession { dir, store, _lock } = self;
        let (client, task) = session::start(EngineOptions {
            store: Arc::new(store),
            roots,
            limits,
            network,
            fastresume_dir: Some(dir.fastresume()),
            dht_state_file: Some(dir.dht_state()),
            log,
            queue: settings.queue,
            goals: settings.goals,
            mounts: settings.mounts,
            mount_options: settings.mount_options,
            vault_cache_bytes: settings.vault_cache_bytes,
        })
        .await?;
        Ok((client, RunningSession { task, _lock }))
    }

    /// Every torrent's record, oldest first.
    pub fn records(&self) -> anyhow::Result<Vec<TorrentRecord>> {
        let mut records = self.store.list().map_err(store_err)?;
        records.sort_by_key(|r| r.added_at);
        Ok(records)
    }

    /// Writes each torrent not already in the session, in order, at the end of the queue
    /// as a running session places a new torrent. The batch is synced once, at the end:
    /// nothing is reported added before it is durable, and adding thousands of torrents
    /// costs one sync instead of two per torrent.
    pub fn add(&self, ready: Vec<ReadyTorrent>) -> anyhow::Result<Vec<AddOutcome>> {
        let mut next_place = self
            .store
            .list()
            .map_err(store_err)?
            .iter()
            .map(|r| r.queue_position)
            .max()
            .unwrap_or(0)
            + 1;
        let mut added: Vec<TorrentRecord> = Vec::new();
        // Where each torrent of this batch is in `added`: one named twice is added once.
        let mut in_batch: std::collections::HashMap<String, usize> = Default::default();
        let mut tags: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for ReadyTorrent {
            loaded,
            mut record,
            opts,
        } in ready
        {
            let info_hash = record.info_hash.clone();
            let existing = match in_batch.get(&info_hash) {
                Some(&i) => Some(added[i].clone()),
                None => self.store.get(&info_hash).map_err(store_err)?,
            };
            let new = existing.is_none();
            let ignored = existing
                .map(|e| ignored_options(&Current::of(&e), &record.root_token, &opts))
                .unwrap_or_default();
            if new {
                if let Loaded::Torrent(t) = &loaded {
                    self.store
                        .put_torrent_bytes_unsynced(&info_hash, &t.bytes)
                        .map_err(store_err)?;
                }
                tags.extend(record.tags.iter().cloned());
                record.queue_position = next_place;
                next_place += 1;
                in_batch.insert(info_hash.clone(), added.len());
                added.push(record.clone());
            }
            out.push(AddOutcome {
                info_hash,
                name: record.name,
                new,
                ignored,
            });
        }
        self.learn_tags(&tags)?;
        self.store.put_many_unsynced(&added).map_err(store_err)?;
        self.store.flush().map_err(store_err)?;
        Ok(out)
    }

    /// The records `ids` name (info-hashes or unique prefixes); one unknown id is an error
    /// and nothing is returned.
    fn find_all(&self, ids: &[String]) -> anyhow::Result<Vec<TorrentRecord>> {
        let all = self.store.list().map_err(store_err)?;
        ids.iter()
            .map(|id| {
                let hash = resolve_prefix(all.iter().map(|r| r.info_hash.as_str()), id)?;
                all.iter()
                    .find(|r| r.info_hash == hash)
                    .cloned()
                    .ok_or_else(|| EngineError::UnknownId(id.clone()))
            })
            .collect::<Result<_, EngineError>>()
            .map_err(store_err)
    }

    /// Pauses or resumes the torrents `ids` name, telling `done` of each as it is saved;
    /// an unknown id changes nothing.
    pub fn set_paused(
        &self,
        ids: &[String],
        paused: bool,
        mut done: impl FnMut(&TorrentRecord),
    ) -> anyhow::Result<()> {
        for mut r in self.find_all(ids)? {
            r.paused = paused;
            if paused {
                r.last_state = TorrentState::Paused;
            } else if r.last_state == TorrentState::Paused {
                r.last_state = TorrentState::Queued;
            }
            self.store.put(&r).map_err(store_err)?;
            done(&r);
        }
        Ok(())
    }

    /// Removes the torrents `ids` name, with their data when asked, telling `done` of each
    /// as it goes; an unknown id removes nothing.
    pub fn remove(
        &self,
        roots: &RootManager,
        ids: &[String],
        delete_data: bool,
        mut done: impl FnMut(&TorrentRecord),
    ) -> anyhow::Result<()> {
        for r in &self.find_all(ids)? {
            if delete_data {
                let root = torrent_root(roots, r);
                let bytes = self.store.torrent_bytes(&r.info_hash).map_err(store_err)?;
                match (root, bytes) {
                    (Ok(root), Some(bytes)) => {
                        let t = source::check_torrent(&bytes, &r.name).map_err(store_err)?;
                        delete_torrent_files(&t, root.path(), r.vault_file.as_deref());
                    }
                    (Err(e), _) => anyhow::bail!("cannot delete the data of {}: {e}", r.name),
                    (_, None) => {} // a magnet never resolved has no data
                }
            }
            self.dir.forget_resume_state(&r.info_hash);
            self.store.remove(&r.info_hash).map_err(store_err)?;
            done(r);
        }
        Ok(())
    }
}

/// A session started from a data dir; it holds the data dir's lock.
pub struct RunningSession {
    task: EngineTask,
    _lock: DataDirLock,
}

impl RunningSession {
    /// Wakes when a client asked the session to stop.
    pub fn stop_requested(&self) -> tokio::sync::watch::Receiver<bool> {
        self.task.stop_requested()
    }

    /// Writes every counter to the store, stops the session, then frees the data dir.
    pub async fn shutdown(self) {
        self.task.shutdown().await;
    }
}

impl SavedTorrent {
    /// The torrent as a session would show it with nothing moving: its state is the one it
    /// was last seen in (paused when paused; no longer in error once the error's cause is
    /// gone), with the error that still holds.
    pub fn summary(&self, roots: &RootManager) -> TorrentSummary {
        let r = &self.record;
        let state = if r.paused {
            TorrentState::Paused
        } else if self.error.is_none() && r.last_state == TorrentState::Error {
            TorrentState::Queued
        } else {
            r.last_state
        };
        let mut s = summary_at_rest(r, roots, state, self.error.clone());
        // Files found gone now hold it at the next start: show it as that start will.
        if self.data_missing == Some(false) {
            // The files are back: the next start finds nothing missing.
            s.missing_data = None;
        }
        if let Some(m) = &self.missing_data {
            if !r.paused {
                s.state = TorrentState::Error;
            }
            s.error = Some(m.sentence());
            s.missing_data = Some(m.clone());
        }
        s
    }
}

fn summary_at_rest(
    r: &TorrentRecord,
    roots: &RootManager,
    state: TorrentState,
    error: Option<String>,
) -> TorrentSummary {
    TorrentSummary {
        info_hash: r.info_hash.clone(),
        name: r.name.clone(),
        state,
        progress: if r.selected_bytes == 0 {
            0.0
        } else {
            (r.have_bytes as f64 / r.selected_bytes as f64).min(1.0)
        },
        size: r.size,
        have_bytes: r.have_bytes,
        selected_bytes: r.selected_bytes,
        download_rate: 0.0,
        upload_rate: 0.0,
        eta: None,
        peers_connected: 0,
        peer_limit: r.limits.peers,
        ratio: session::ratio(r),
        root_label: roots
            .by_token(&r.root_token)
            .map_or_else(|| r.root_token.clone(), |root| root.label.clone()),
        root_token: r.root_token.clone(),
        added_at: r.added_at,
        completed_at: r.completed_at,
        uploaded_total: r.uploaded_total,
        downloaded_total: r.downloaded_total,
        limits: r.limits,
        tags: r.tags.clone(),
        error,
        paused: r.paused,
        only_files: r.only_files.clone(),
        // No session orders the queue while none runs.
        queue: None,
        moving: None,
        missing_data: r.missing_data.clone(),
    }
}
