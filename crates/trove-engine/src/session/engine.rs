//! The engine task's state (the librqbit session, the store, one [`Entry`] per torrent)
//! and its loop: commands from clients, messages from its own background tasks, the
//! once-a-second tick and the stop request, each dispatched to the file that handles it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use librqbit::{Api, ManagedTorrent, Session};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};
use trove_proto::Request;
use trove_proto::command::{AddOptions, Command, EngineError, EngineResult, Reply};
use trove_proto::queue::{QueueLimits, SeedingGoals};
use trove_proto::snapshot::{
    InfoHash, Limits, RootInfo, SessionSnapshot, TorrentState, TorrentSummary,
};

use super::details::PeerSample;
use super::poll::PollScope;
use super::{EngineOptions, setup};
use crate::bitfield;
use crate::file_index;
use crate::logring::LogRing;
use crate::rates::DirectionalRates;
use crate::roots::RootManager;
use crate::source::{self, CheckedTorrent, Loaded};
use crate::store::{SessionStore, TorrentRecord};
use crate::torrents::resolve_prefix;

/// Counters reach the store at least this often (losing up to 30 s of them to a crash is
/// accepted).
const COUNTER_FLUSH_INTERVAL: Duration = Duration::from_secs(10);
const TICK: Duration = Duration::from_secs(1);
/// How often a start that restores stored torrents shows its progress.
const RESTORE_PUBLISH_EVERY: Duration = Duration::from_millis(250);
/// How often downloading torrents are checked for having just finished.
const FINISH_CHECK: Duration = Duration::from_millis(100);
const SEEN_PEERS_INTERVAL: Duration = Duration::from_secs(30);
/// How often roots are probed (exists, folder, writable; free space for the header).
const ROOT_CHECK_INTERVAL: Duration = Duration::from_secs(5);

pub(super) type ManagedHandle = Arc<ManagedTorrent>;

/// A reply channel and what to send on it.
type Answer = (oneshot::Sender<EngineResult<Reply>>, EngineResult<Reply>);

/// Messages the engine's own background tasks send back to the loop.
pub(super) enum Internal {
    Loaded(
        Box<EngineResult<Loaded>>,
        AddOptions,
        oneshot::Sender<EngineResult<Reply>>,
    ),
    MetadataResolved(InfoHash, Result<Vec<u8>, String>),
    /// A move's copy finished, failed or was cancelled (see `moves`).
    MoveCopied(InfoHash, Result<(), crate::relocate::CopyFailure>),
    /// A switched move's source is deleted (or could not be).
    MoveSourceGone(InfoHash, Result<(), String>),
    /// A torrent just finished downloading.
    Completed(InfoHash),
    /// A torrent fetching its descriptive files first has them all.
    DescriptiveFilesIn(InfoHash),
    /// A look at seeding torrents' files is done: those with files gone or changed.
    DataChecked(Vec<(InfoHash, trove_proto::library::MissingData)>),
    /// A vault storage found something (see `vaults`).
    Vault(crate::vault::VaultEvent),
}

/// One torrent of the session.
pub(super) struct Entry {
    pub(super) record: TorrentRecord,
    pub(super) torrent: Option<CheckedTorrent>,
    pub(super) handle: Option<ManagedHandle>,
    pub(super) rates: DirectionalRates,
    /// librqbit's per-live-instance counters at the last poll; they restart from zero
    /// whenever the torrent is paused or re-added.
    pub(super) live_up: u64,
    pub(super) live_down: u64,
    pub(super) resolver: Option<JoinHandle<()>>,
    pub(super) summary: Option<TorrentSummary>,
    /// Have-bytes per file, in trove's numbering (padding entries left out).
    pub(super) file_progress: Vec<u64>,
    /// Per-peer byte counters at an earlier details request, to turn them into rates.
    pub(super) peer_counters: HashMap<String, PeerSample>,
    /// The record and bitfield as last written by the periodic flush: only what changed
    /// since is written again (a thousand idle torrents cost no writes, no fsyncs).
    pub(super) flushed_record: Option<TorrentRecord>,
    pub(super) flushed_bitfield: Option<Vec<u8>>,
    /// When it last moved a byte (or was started): a running torrent idle for long
    /// enough does not hold a queue slot.
    pub(super) last_moved: Option<Instant>,
    /// The last poll that saw it seeding, to count its seeding time.
    pub(super) seeding_polled: Option<Instant>,
    /// Since when it has seeded without uploading a byte.
    pub(super) idle_since: Option<Instant>,
}

impl Entry {
    pub(super) fn new(record: TorrentRecord, torrent: Option<CheckedTorrent>) -> Self {
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
            last_moved: None,
            seeding_polled: None,
            idle_since: None,
        }
    }

    /// Paused without an error or a metadata fetch, already shown paused with no transfer.
    pub(super) fn is_settled_paused(&self) -> bool {
        self.record.paused
            && self.record.error.is_none()
            && self.resolver.is_none()
            && self.summary.as_ref().is_some_and(|s| {
                s.state == TorrentState::Paused && s.download_rate == 0.0 && s.upload_rate == 0.0
            })
    }

    /// A dormant torrent's per-file progress, worked out from its bitfield unless its last
    /// live poll left one.
    pub(super) fn fill_dormant_file_progress(&mut self, bitfield: &[u8]) {
        if self.file_progress.is_empty()
            && let Some(t) = &self.torrent
        {
            self.file_progress = file_index::progress_from_bitfield(t, bitfield);
        }
    }
}

pub(super) struct Engine {
    pub(super) session: Arc<Session>,
    pub(super) api: Api,
    /// Whether the last snapshot had a torrent that could still finish (queued, checking
    /// or downloading): otherwise the frequent finish check has nothing to look at.
    pub(super) may_finish: std::cell::Cell<bool>,
    pub(super) store: Arc<dyn SessionStore>,
    pub(super) roots: RootManager,
    pub(super) log: LogRing,
    pub(super) torrents: BTreeMap<InfoHash, Entry>,
    pub(super) global: Limits,
    pub(super) session_rates: DirectionalRates,
    pub(super) session_down: u64,
    pub(super) session_up: u64,
    pub(super) snapshot_tx: watch::Sender<Arc<SessionSnapshot>>,
    pub(super) internal_tx: mpsc::UnboundedSender<Internal>,
    pub(super) fastresume_dir: Option<PathBuf>,
    /// The last probe of every root (see `check_roots`).
    pub(super) root_info: Vec<RootInfo>,
    /// Stored torrents not yet handed to librqbit (see `restore_some`).
    pub(super) to_restore: VecDeque<InfoHash>,
    /// Set when a client asks the session to stop; the process holding it watches this.
    pub(super) stop_requested: watch::Sender<bool>,
    /// Root tokens gone from the config file already warned about (once per run each).
    pub(super) warned_roots: HashSet<String>,
    /// The periodic one-line summary in the log (see `summary`).
    pub(super) summary_log: super::summary::SummaryLog,
    /// The session's own tags, as kept in the store (see `tags`).
    pub(super) known_tags: BTreeSet<String>,
    /// How many torrents may run at once (see `queue`).
    pub(super) queue_limits: QueueLimits,
    /// The session's seeding goals; a torrent's own override them (see `goals`).
    pub(super) goals: Option<SeedingGoals>,
    /// Torrents the queue holds back, as its last application left them.
    pub(super) waiting: HashSet<InfoHash>,
    /// Moves between storage roots whose copy is under way (see `moves`).
    pub(super) moves: super::moves::ActiveMoves,
    /// A look at seeding torrents' files is under way (see `missing`).
    pub(super) data_check_running: bool,
    /// The folders the torrents are mounted on (see `trove_mount`).
    pub(super) mounts: trove_mount::Mounts,
    /// Vault roots' storage, cache and damage (see `vaults`).
    pub(super) vaults: super::vaults::Vaults,
}

pub(super) fn engine_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Engine(e.to_string())
}

pub(super) fn store_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::Store(e.to_string())
}

impl Engine {
    /// An engine over a started librqbit session, with no torrent yet (see `restore`).
    pub(super) fn new(
        session: Arc<Session>,
        opts: EngineOptions,
        snapshot_tx: watch::Sender<Arc<SessionSnapshot>>,
        internal_tx: mpsc::UnboundedSender<Internal>,
        stop_requested: watch::Sender<bool>,
    ) -> Self {
        let root_info = opts.roots.info();
        let api = Api::new(session.clone(), None);
        let vaults = super::vaults::Vaults::new(opts.vault_cache_bytes, internal_tx.clone());
        Engine {
            mounts: trove_mount::Mounts::new(
                api.clone(),
                opts.mount_options.clone(),
                vaults.open.clone(),
            ),
            api,
            may_finish: std::cell::Cell::new(true),
            session,
            store: opts.store,
            roots: opts.roots,
            log: opts.log,
            torrents: BTreeMap::new(),
            global: opts.limits,
            session_rates: DirectionalRates::default(),
            session_down: 0,
            session_up: 0,
            snapshot_tx,
            internal_tx: internal_tx.clone(),
            fastresume_dir: opts.fastresume_dir,
            root_info,
            to_restore: Default::default(),
            stop_requested,
            warned_roots: Default::default(),
            summary_log: Default::default(),
            known_tags: Default::default(),
            queue_limits: opts.queue,
            goals: opts.goals,
            waiting: Default::default(),
            moves: Default::default(),
            data_check_running: false,
            vaults,
        }
    }

    pub(super) async fn run(
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
        let mut last_data_check = Instant::now();
        let mut last_restore_publish = Instant::now();
        let mut finish_check = tokio::time::interval(FINISH_CHECK);
        finish_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = std::future::ready(()), if !self.to_restore.is_empty() => {
                    self.restore_some().await;
                    // Polling and publishing every torrent after each small batch would
                    // make a start quadratic in the number of torrents: show the progress
                    // a few times a second, and once more when the last one is back.
                    if self.to_restore.is_empty()
                        || last_restore_publish.elapsed() >= RESTORE_PUBLISH_EVERY
                    {
                        self.poll();
                        self.publish();
                        last_restore_publish = Instant::now();
                    }
                }
                Some((cmd, reply)) = commands.recv() => {
                    // A query must not publish: the dashboard asks for details on every
                    // snapshot, so a snapshot per answer would make the two spin.
                    let changes_state = cmd.changes_state();
                    let answer = self.handle_command(cmd, reply).await;
                    if changes_state {
                        self.apply_queue().await;
                        self.poll();
                        self.publish();
                    }
                    // Answer after publishing, so the caller's next snapshot shows the change.
                    if let Some((reply, result)) = answer { let _ = reply.send(result); }
                }
                Some(msg) = internal.recv() => {
                    let answer = self.handle_internal(msg).await;
                    self.apply_queue().await;
                    self.poll();
                    self.publish();
                    if let Some((reply, result)) = answer { let _ = reply.send(result); }
                }
                _ = finish_check.tick(), if self.may_finish.get() => {
                    // A finished download shows (and `trove download` exits) at once, not
                    // at the next once-a-second tick.
                    if self.finished_since_poll() {
                        self.poll();
                        // A finished download frees its slot for the next in the queue.
                        self.apply_queue().await;
                        self.publish();
                    }
                }
                _ = tick.tick() => {
                    self.poll_with(PollScope::SkipSettledPaused);
                    self.mark_vaults_serving();
                    self.check_goals().await;
                    self.apply_queue().await;
                    self.publish();
                    let line = self.summary_log.due(Instant::now(), &self.snapshot_tx.borrow());
                    if let Some(line) = line {
                        info!("{line}");
                    }
                    if last_root_check.elapsed() >= ROOT_CHECK_INTERVAL {
                        self.check_roots().await;
                        last_root_check = Instant::now();
                    }
                    if last_data_check.elapsed() >= super::missing::DATA_CHECK_INTERVAL {
                        self.check_seeding_data();
                        last_data_check = Instant::now();
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
                    // First, so nothing reads through a mount while the session winds down.
                    self.mounts.unmount_all();
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
                        setup::clear_unclean_marker(dir);
                    }
                    info!("session stopped, store flushed");
                    if let Some(done) = done { let _ = done.send(()); }
                    return;
                }
            }
        }
    }

    pub(super) fn set_error(&mut self, hash: &str, msg: String) {
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
            Command::Recheck(id) => self.recheck(&id).await.map(|_| Reply::Done),
            Command::SetTrackers { id, trackers } => {
                self.set_trackers(&id, trackers).await.map(|_| Reply::Done)
            }
            Command::EditTags { ids, add, remove } => {
                self.edit_tags(&ids, &add, &remove).map(|_| Reply::Done)
            }
            Command::CreateTags(tags) => self.create_tags(&tags).map(|_| Reply::Done),
            Command::DeleteTags(tags) => self.delete_tags(&tags).map(|_| Reply::Done),
            Command::CreateRoot { label, path } => {
                self.create_root(&label, &path).map(|_| Reply::Done)
            }
            Command::EditRoot { label, path } => {
                self.edit_root(&label, &path).await.map(|_| Reply::Done)
            }
            Command::RemoveRoots(labels) => self.remove_roots(&labels).map(|_| Reply::Done),
            Command::SetRoot { id, root } => self.set_root(&id, &root).await.map(|_| Reply::Done),
            Command::Export => self.export().map(Reply::Exported),
            Command::Details(id) => self.details(&id).map(|d| Reply::Details(Box::new(d))),
            Command::ReadLog(filter) => Ok(Reply::Log(self.log.lines(&filter))),
            Command::Shutdown => {
                info!("a client asked the session to stop");
                self.stop_requested.send_replace(true);
                Ok(Reply::Done)
            }
            Command::Flush => {
                self.flush_counters();
                Ok(Reply::Done)
            }
            Command::Queue { ids, to } => self.move_in_queue(&ids, to).map(|_| Reply::Done),
            Command::Force { ids, on } => self.force(&ids, on).map(|_| Reply::Done),
            Command::SetQueueLimits(limits) => self.set_queue_limits(limits).map(|_| Reply::Done),
            Command::SetGoals { id, goals } => {
                self.set_goals(id.as_deref(), goals).map(|_| Reply::Done)
            }
            Command::Move { ids, root } => {
                self.move_torrents(&ids, &root).await.map(|_| Reply::Done)
            }
            Command::CancelMove(id) => self.cancel_move(&id).map(|_| Reply::Done),
            Command::Library => {
                self.library(reply);
                return None;
            }
            Command::Locate { id, root } => self.locate(&id, &root).await.map(|_| Reply::Done),
            Command::Mount { dir } => self
                .mounts
                .mount(&dir)
                .map(|_| Reply::Done)
                .map_err(|e| engine_err(format!("{e:#}"))),
            Command::Umount { dir } => self
                .mounts
                .unmount(&dir)
                .map(|_| Reply::Done)
                .map_err(|e| engine_err(format!("{e:#}"))),
            Command::MountStatus => Ok(Reply::Mounts(self.mounts.status())),
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
            Internal::MoveCopied(hash, result) => {
                self.move_copied(&hash, result).await;
                None
            }
            Internal::MoveSourceGone(hash, result) => {
                self.move_source_gone(&hash, result);
                None
            }
            Internal::Completed(hash) => {
                self.move_on_completion(&hash).await;
                None
            }
            Internal::DescriptiveFilesIn(hash) => {
                self.descriptive_files_in(&hash).await;
                None
            }
            Internal::DataChecked(found) => {
                self.data_checked(found).await;
                None
            }
            Internal::Vault(ev) => {
                self.on_vault_event(ev).await;
                None
            }
        }
    }

    /// Resolves an ID (full info-hash or unique prefix).
    pub(super) fn resolve_id(&self, id: &str) -> EngineResult<InfoHash> {
        resolve_prefix(self.torrents.keys().map(String::as_str), id)
    }

    /// A dormant torrent's have-pieces bitfield, from its fast-resume file.
    pub(super) fn stored_bitfield(&self, hash: &str) -> Option<Vec<u8>> {
        bitfield::read(self.fastresume_dir.as_deref()?, hash)
    }
}
