//! The store of record: which torrents trove has, where, with what options and counters.
//!
//! [`SessionStore`] is the small interface the engine writes through (the seed's
//! `ISessionStore`); [`SledStore`] keeps it in an embedded sled database and
//! [`MemoryStore`] keeps it in memory for `trove download` and tests. Records are JSON so
//! a store can be read by `trove export` and by a person; .torrent bytes sit in their own
//! tree, raw.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::source;
use trove_proto::snapshot::{InfoHash, Limits, TorrentState};

/// The on-disk format this trove writes. A store from a newer trove is refused, never rewritten.
pub const STORE_FORMAT: u32 = 1;

/// A peer seen recently, dialled first after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenPeer {
    pub addr: SocketAddr,
    /// Unix seconds.
    pub last_seen: i64,
}

/// Everything needed to bring one torrent back exactly as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TorrentRecord {
    pub info_hash: InfoHash,
    pub name: String,
    /// The magnet link the torrent was added from, kept until its metadata is known.
    pub magnet: Option<String>,
    /// True once the .torrent bytes are in the store.
    pub has_metadata: bool,
    pub root_token: String,
    pub only_files: Option<Vec<usize>>,
    pub paused: bool,
    pub limits: Limits,
    /// Unix seconds.
    pub added_at: i64,
    pub completed_at: Option<i64>,
    pub uploaded_total: u64,
    pub downloaded_total: u64,
    /// Peers the user asked for (`--peer`), dialled on every start.
    #[serde(default)]
    pub initial_peers: Vec<SocketAddr>,
    /// Peers seen recently, most recent first.
    #[serde(default)]
    pub seen_peers: Vec<SeenPeer>,
    /// Last state and progress seen, so `trove list` can answer without starting a session.
    pub last_state: TorrentState,
    pub size: u64,
    pub have_bytes: u64,
    pub selected_bytes: u64,
    pub error: Option<String>,
}

impl TorrentRecord {
    /// Keeps the most recent peers, at most `MAX_SEEN_PEERS`.
    pub fn remember_peers(&mut self, peers: impl IntoIterator<Item = SocketAddr>, now: i64) {
        const MAX_SEEN_PEERS: usize = 50;
        for addr in peers {
            self.seen_peers.retain(|p| p.addr != addr);
            self.seen_peers.insert(
                0,
                SeenPeer {
                    addr,
                    last_seen: now,
                },
            );
        }
        self.seen_peers.truncate(MAX_SEEN_PEERS);
    }
}

/// Session-wide settings changed at run time (they outlive a restart).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionSettings {
    /// Global limits set from the UI; None = take the config file's.
    pub limits: Option<Limits>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data dir {path} is in use by another trove (pid {pid}, `{command}`): stop it, or point this one at another --data-dir"
    )]
    Locked {
        path: PathBuf,
        pid: String,
        command: String,
    },
    #[error(
        "the store at {path} was written by a newer trove (format {found}; this trove reads up to {STORE_FORMAT}); nothing in it was changed. Upgrade trove, or run `trove export FILE` with the newer trove, move this folder aside and `trove import FILE` here"
    )]
    FutureFormat { path: PathBuf, found: u32 },
    #[error(
        "the store at {path} is damaged: {reason}. Nothing in it was changed or deleted. To recover: `trove export FILE` saves whatever is still readable, then move the folder aside (`mv {path} {path}.damaged`) and `trove import FILE` (or an export made earlier)"
    )]
    Damaged { path: PathBuf, reason: String },
    #[error("store error: {0}")]
    Io(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where the engine keeps its state. Every write is durable when the call returns unless
/// the method says otherwise.
pub trait SessionStore: Send + Sync {
    fn list(&self) -> StoreResult<Vec<TorrentRecord>>;
    fn get(&self, info_hash: &str) -> StoreResult<Option<TorrentRecord>>;
    /// Writes a record and syncs it to disk (a state change).
    fn put(&self, record: &TorrentRecord) -> StoreResult<()>;
    /// Writes many records without syncing (periodic counters); call `flush` after.
    fn put_many_unsynced(&self, records: &[TorrentRecord]) -> StoreResult<()>;
    fn remove(&self, info_hash: &str) -> StoreResult<()>;
    fn torrent_bytes(&self, info_hash: &str) -> StoreResult<Option<Vec<u8>>>;
    fn put_torrent_bytes(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()>;
    fn settings(&self) -> StoreResult<SessionSettings>;
    fn put_settings(&self, settings: &SessionSettings) -> StoreResult<()>;
    fn flush(&self) -> StoreResult<()>;
}

// ---------------------------------------------------------------------------------------
// SledStore
//
// What sled 0.34.7 does with damaged files (measured on this version, see
// tests/store_damage.rs and the README's "Recovering a damaged store"):
// - It writes to its files on *every* open, healthy or not: recovery zero-fills the tail of
//   the last log segment, writes a new `snap.*` file and removes the old one, and deletes
//   `blobs/*` newer than what it recovered.
// - A truncated log, or garbage in the part of the log after the last snapshot, is not an
//   error: sled recovers up to the damage and silently drops everything after it (older
//   versions of records come back, newer torrents vanish). A `db` file that is garbage from
//   the start opens as an empty database. An empty or short `conf` file is silently
//   rewritten.
// - Damage that the last snapshot points into is an error (`Corruption`), as is a garbled
//   `conf` file (`Unsupported`) or a damaged blob (an error when that value is read).
// - No panic was seen in a few hundred random truncations, bit flips and garbage fills of
//   every file, but nothing in sled promises that, so opening is wrapped in catch_unwind.
//
// So trove never lets sled open a store it has not checked: it copies the store folder to a
// scratch folder, lets sled open and recover the *copy*, and reads everything from it. Only
// when that copy is whole does it open the real folder (whose recovery is then the same,
// deterministic, one). A damaged store is therefore reported with its files byte-for-byte
// as they were. Silent loss is caught with a manifest file kept next to sled's files
// (`trove-manifest.json`): the set of torrents and a change counter ("generation") that is
// also stored inside sled and written to the manifest only after sled has flushed. After a
// crash sled can only be ahead of the manifest; if it is behind, or misses a torrent the
// manifest lists, sled dropped data that had been saved, and the store is refused.
// ---------------------------------------------------------------------------------------

/// The file next to sled's own files that lets trove notice when sled lost saved data.
pub const MANIFEST_FILE: &str = "trove-manifest.json";

const FORMAT_KEY: &[u8] = b"format";
const SETTINGS_KEY: &[u8] = b"settings";
const GENERATION_KEY: &[u8] = b"generation";

/// What the store must contain at least: written after every durable change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Manifest {
    store_format: u32,
    /// The change counter sled held when this was written; sled's may only be higher.
    generation: u64,
    /// Every torrent the store held then, except ones being removed.
    torrents: BTreeSet<String>,
}

/// The manifest as last written, kept in memory.
#[derive(Debug, Default)]
struct Seal {
    generation: u64,
    torrents: BTreeSet<String>,
    /// Torrents written with `put_many_unsynced`, added to the manifest at the next flush.
    pending: BTreeSet<String>,
}

/// The persistent store: an embedded sled database in the data dir.
pub struct SledStore {
    path: PathBuf,
    db: sled::Db,
    records: sled::Tree,
    torrents: sled::Tree,
    meta: sled::Tree,
    seal: Mutex<Seal>,
}

/// Everything readable from a store that sled could open: what export salvages and what
/// `open` checks.
#[derive(Debug, Default)]
pub struct Salvaged {
    /// The format marker (None: there is none).
    pub store_format: Option<u32>,
    pub settings: SessionSettings,
    /// Every record that decodes, with its .torrent bytes when they could be read.
    pub torrents: Vec<(TorrentRecord, Option<Vec<u8>>)>,
    /// What could not be read, one sentence each (empty for a whole store).
    pub problems: Vec<String>,
    generation: u64,
    keys: BTreeSet<String>,
    marker_problem: Option<String>,
}

impl Salvaged {
    /// The info-hash of every record found, including those that did not decode.
    pub fn keys(&self) -> &BTreeSet<String> {
        &self.keys
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. The caller holds the data-dir lock.
    ///
    /// A store that is damaged, lost saved changes, or comes from a newer trove is refused
    /// with its files unchanged (see the comment above for how).
    pub fn open(dir: &Path) -> StoreResult<Self> {
        let path = dir.to_path_buf();
        if folder_is_missing_or_empty(dir)? {
            create_fresh(dir)?;
        }
        remove_stale_scratch(dir);
        let manifest = read_manifest(dir)?;
        // A newer trove may keep its store in a way this sled cannot even open.
        refuse_future_manifest(&path, manifest.as_ref())?;
        // Check a copy first: sled rewrites files while it recovers.
        {
            let copy = ScratchCopy::make(dir)?;
            let found = read_everything(copy.path(), dir, false)?;
            check(&path, &found, manifest.as_ref())?;
        }
        // The copy opened, so a failure now is about the folder (permissions, a full
        // disk), not its contents.
        let (db, meta, records, torrents) = open_sled(dir).map_err(|reason| {
            StoreError::Io(format!(
                "cannot open the store at {}: {reason}",
                path.display()
            ))
        })?;
        let found = read_trees(&meta, &records, &torrents, false);
        check(&path, &found, manifest.as_ref())?;
        let store = SledStore {
            path,
            db,
            records,
            torrents,
            meta,
            seal: Mutex::new(Seal {
                generation: found.generation,
                torrents: found.keys.clone(),
                pending: BTreeSet::new(),
            }),
        };
        let current = Manifest {
            store_format: STORE_FORMAT,
            generation: found.generation,
            torrents: found.keys,
        };
        if manifest.as_ref() != Some(&current) {
            // A store from before manifests, or sled ahead of it after a crash.
            write_manifest(&store.path, &current)?;
        }
        Ok(store)
    }

    /// Reads whatever can be read from the store in `dir` without changing a byte of it
    /// (sled opens a scratch copy), for `trove export`. Records that do not decode and
    /// .torrent bytes that cannot be read are left out and described in `problems`. Fails
    /// only when sled cannot open the store at all or it is from a newer trove.
    pub fn salvage(dir: &Path) -> StoreResult<Salvaged> {
        let path = dir.to_path_buf();
        if folder_is_missing_or_empty(dir)? {
            return Err(StoreError::Io(format!(
                "there is no store at {}: nothing to export",
                dir.display()
            )));
        }
        // A manifest that cannot be read only costs the cross-check.
        let manifest = read_manifest(dir).unwrap_or(None);
        refuse_future_manifest(&path, manifest.as_ref())?;
        let copy = ScratchCopy::make(dir)?;
        let mut found = read_everything(copy.path(), dir, true)?;
        if let Some(reason) = found.marker_problem.clone() {
            found.problems.insert(0, reason);
        }
        if let Some(f) = found.store_format
            && f > STORE_FORMAT
        {
            return Err(StoreError::FutureFormat { path, found: f });
        }
        if let Some(m) = &manifest
            && let Some(loss) = lost_changes(&found, m)
        {
            found.problems.push(loss);
        }
        Ok(found)
    }

    /// Writes imported torrents (and, when given, the session settings) in one sled
    /// transaction: either all of them are stored or none. A torrent already in the store
    /// is replaced, its old .torrent bytes dropped when the new one has none.
    pub fn import(
        &self,
        torrents: &[(TorrentRecord, Option<Vec<u8>>)],
        settings: Option<&SessionSettings>,
    ) -> StoreResult<()> {
        use sled::Transactional;
        use sled::transaction::ConflictableTransactionError;
        let encoded: Vec<(Vec<u8>, Option<&Vec<u8>>)> = torrents
            .iter()
            .map(|(r, b)| encode(r).map(|e| (e, b.as_ref())))
            .collect::<StoreResult<_>>()?;
        let settings = settings
            .map(|s| serde_json::to_vec(s).map_err(|e| StoreError::Io(e.to_string())))
            .transpose()?;
        (&self.records, &self.torrents, &self.meta)
            .transaction(|(records, files, meta)| {
                for ((r, _), (rec, bytes)) in torrents.iter().zip(&encoded) {
                    let key = r.info_hash.as_bytes();
                    records.insert(key, rec.as_slice())?;
                    match bytes {
                        Some(b) => files.insert(key, b.as_slice())?,
                        None => files.remove(key)?,
                    };
                }
                if let Some(s) = &settings {
                    meta.insert(SETTINGS_KEY, s.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e| StoreError::Io(format!("writing the imported torrents: {e:?}")))?;
        self.sync(torrents.iter().map(|(r, _)| r.info_hash.clone()))
    }

    /// Makes every write so far durable, then records it in the manifest.
    fn sync(&self, added: impl IntoIterator<Item = String>) -> StoreResult<()> {
        let mut seal = lock_seal(&self.seal);
        let generation = seal.generation + 1;
        self.meta
            .insert(GENERATION_KEY, &generation.to_be_bytes())?;
        self.db.flush()?;
        seal.generation = generation;
        let pending = std::mem::take(&mut seal.pending);
        seal.torrents.extend(pending);
        seal.torrents.extend(added);
        let written = write_manifest(
            &self.path,
            &Manifest {
                store_format: STORE_FORMAT,
                generation,
                torrents: seal.torrents.clone(),
            },
        );
        release_garbage();
        written
    }

    fn decode(&self, key: &[u8], value: &[u8]) -> StoreResult<TorrentRecord> {
        decode_record(key, value).map_err(|reason| damaged(&self.path, reason))
    }
}

/// Hands the old tree nodes this thread's sled writes replaced over to be freed.
///
/// sled frees a replaced node (and the old value) only after an epoch (crossbeam-epoch),
/// queued in a bag that belongs to the writing thread; the bag reaches the shared queue only
/// when it is full (64 entries) or the thread exits. The engine writes from whichever tokio
/// thread it is on, and librqbit's `block_in_place` disk reads keep handing the worker role
/// to other threads of the blocking pool, which live on and seldom write again: each kept a
/// part-full bag. In the seeding soak (50-70 threads before the pool was capped at 8) this
/// was the largest growing allocation site under heaptrack, about 4.5 KiB of heap per leech
/// session. Flushing the bag after every write keeps what waits to be freed to about one
/// write's worth, whatever the number of threads (tests/store_memory.rs).
fn release_garbage() {
    sled::pin().flush();
}

fn lock_seal(m: &Mutex<Seal>) -> std::sync::MutexGuard<'_, Seal> {
    // The seal is only ever replaced whole-field by field after a flush; a panic between
    // two fields leaves a manifest that claims less than sled has, which is allowed.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn damaged(path: &Path, reason: String) -> StoreError {
    StoreError::Damaged {
        path: path.to_path_buf(),
        reason,
    }
}

fn decode_record(key: &[u8], value: &[u8]) -> Result<TorrentRecord, String> {
    serde_json::from_slice(value).map_err(|e| {
        format!(
            "the record of torrent {} is not readable ({e})",
            source::sanitize_display(&String::from_utf8_lossy(key))
        )
    })
}

fn encode(record: &TorrentRecord) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| StoreError::Io(e.to_string()))
}

/// sled's error in words; its own Display of corruption ends in "backtrace ()".
fn sled_reason(e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { at, .. } => match at {
            Some(at) => format!("sled found corrupted data in its files (at {at:?})"),
            None => "sled found corrupted data in its files".to_string(),
        },
        // sled says this of a `conf` file whose lines are not text.
        sled::Error::Unsupported(why) if why.contains("earlier than 0.29") => {
            "sled's settings file `conf` is garbled".to_string()
        }
        sled::Error::Unsupported(why) => format!("sled cannot read it: {why}"),
        sled::Error::Io(e) => format!("sled could not read its files: {e}"),
        other => format!("sled: {other}"),
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Io(sled_reason(&e))
    }
}

/// True when `dir` does not exist or holds nothing: a store to create.
fn folder_is_missing_or_empty(dir: &Path) -> StoreResult<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(StoreError::Io(format!(
            "cannot read {}: {e}",
            dir.display()
        ))),
    }
}

/// Creates a new store in a scratch folder and renames it into place, so a folder at
/// `dir` is always a whole store (marker and manifest included), never half of one.
fn create_fresh(dir: &Path) -> StoreResult<()> {
    let io = |what: &str, e: std::io::Error| {
        StoreError::Io(format!(
            "cannot create the store at {}: {what}: {e}",
            dir.display()
        ))
    };
    let tmp = sibling(dir, "new");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io("creating a scratch folder", e))?;
    {
        let (db, meta, _, _) = open_sled(&tmp).map_err(StoreError::Io)?;
        meta.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes())?;
        meta.insert(GENERATION_KEY, &1u64.to_be_bytes())?;
        db.flush()?;
    }
    write_manifest(
        &tmp,
        &Manifest {
            store_format: STORE_FORMAT,
            generation: 1,
            torrents: BTreeSet::new(),
        },
    )?;
    if dir.exists() {
        // Only ever an empty folder here (see folder_is_missing_or_empty).
        std::fs::remove_dir(dir).map_err(|e| io("replacing the empty folder", e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| io("moving it into place", e))
}

fn refuse_future_manifest(path: &Path, manifest: Option<&Manifest>) -> StoreResult<()> {
    match manifest {
        Some(m) if m.store_format > STORE_FORMAT => Err(StoreError::FutureFormat {
            path: path.to_path_buf(),
            found: m.store_format,
        }),
        _ => Ok(()),
    }
}

/// Removes scratch folders (`.store.check-PID`, `.store.new-PID`) that a trove killed while
/// opening left behind. The caller holds the data-dir lock, so none is in use.
fn remove_stale_scratch(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let stale = ["check", "new"].iter().any(|what| {
            file.strip_prefix(&format!(".{name}.{what}-"))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        });
        if stale && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// `DATA_DIR/.store.WHAT-PID` for `DATA_DIR/store`.
fn sibling(dir: &Path, what: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    dir.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

fn read_manifest(dir: &Path) -> StoreResult<Option<Manifest>> {
    let file = dir.join(MANIFEST_FILE);
    match std::fs::read(&file) {
        Ok(bytes) => match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) => Ok(Some(m)),
            Err(e) => {
                // Only the cross-check is lost; sled's own checks still run. It is
                // rewritten from sled's contents once the store opens.
                tracing::warn!(
                    "{} is unreadable ({e}); trove will rebuild it from the store",
                    file.display()
                );
                Ok(None)
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Io(format!(
            "cannot read {}: {e}",
            file.display()
        ))),
    }
}

fn write_manifest(dir: &Path, m: &Manifest) -> StoreResult<()> {
    use std::io::Write;
    let file = dir.join(MANIFEST_FILE);
    let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
    let io = |e: std::io::Error| StoreError::Io(format!("cannot write {}: {e}", file.display()));
    let bytes = serde_json::to_vec(m).map_err(|e| StoreError::Io(e.to_string()))?;
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&bytes).map_err(io)?;
    f.sync_data().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, &file).map_err(io)
}

/// Opens sled in `dir` and its three trees; a panic inside sled becomes an error.
fn open_sled(dir: &Path) -> Result<(sled::Db, sled::Tree, sled::Tree, sled::Tree), String> {
    quietly(|| {
        let db = sled::Config::new()
            .path(dir)
            // No background flusher: every write path ends in `sync`, which flushes
            // explicitly, so sled's own 500 ms flush only woke an idle seedbox (and
            // fsynced) twice a second.
            .flush_every_ms(None)
            .open()
            .map_err(|e| sled_reason(&e))?;
        let meta = db.open_tree("meta").map_err(|e| sled_reason(&e))?;
        let records = db.open_tree("torrents").map_err(|e| sled_reason(&e))?;
        let torrents = db.open_tree("torrent_files").map_err(|e| sled_reason(&e))?;
        Ok((db, meta, records, torrents))
    })
    .and_then(|r| r)
}

thread_local! {
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}
static QUIET_SLED_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `f`, turning a panic into an error without printing a backtrace: a panic inside
/// sled on a damaged store is a damaged store, not a trove bug to report.
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    use std::sync::atomic::Ordering;
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let sled_thread = QUIET_SLED_THREADS.load(Ordering::SeqCst) > 0
                && std::thread::current()
                    .name()
                    .is_some_and(|n| n.starts_with("sled") || n == "log flusher");
            if QUIET_PANICS.with(|q| q.get()) || sled_thread {
                return;
            }
            previous(info)
        }));
    });
    QUIET_SLED_THREADS.fetch_add(1, Ordering::SeqCst);
    QUIET_PANICS.with(|q| q.set(true));
    // sled logs what it finds wrong through the `log` crate (e.g. "failed to parse persisted
    // config as UTF-8"), which would print a second, confusing line beside trove's own
    // message; the error it returns says the same and is reported instead.
    let result =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        });
    QUIET_PANICS.with(|q| q.set(false));
    QUIET_SLED_THREADS.fetch_sub(1, Ordering::SeqCst);
    result.map_err(|payload| {
        let what = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "no message".into());
        format!(
            "sled failed while reading it ({})",
            what.lines().next().unwrap_or("")
        )
    })
}

/// A scratch copy of a store folder, deleted when dropped.
struct ScratchCopy {
    path: PathBuf,
}

impl ScratchCopy {
    /// Copies sled's files next to the store (same disk: cheap), or failing that into the
    /// system temp dir.
    fn make(dir: &Path) -> StoreResult<ScratchCopy> {
        let candidates = [
            sibling(dir, "check"),
            std::env::temp_dir().join(format!("trove-store-check-{}", std::process::id())),
        ];
        let mut errors = Vec::new();
        for target in candidates {
            let _ = std::fs::remove_dir_all(&target);
            let copy = ScratchCopy { path: target };
            match copy_tree(dir, &copy.path) {
                Ok(()) => return Ok(copy),
                Err(e) => errors.push(format!("{}: {e}", copy.path.display())),
            }
        }
        Err(StoreError::Io(format!(
            "cannot check the store at {} before opening it: a scratch copy could not be made ({}); make space on the disk (or fix the permissions) and try again",
            dir.display(),
            errors.join("; ")
        )))
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Copies sled's files (not the manifest) from `from` to `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(MANIFEST_FILE) {
            continue;
        }
        let ty = entry.file_type()?;
        if ty.is_dir() {
            copy_tree(&entry.path(), &to.join(&name))?;
        } else if ty.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Opens the sled store at `copy` (a scratch copy of `original`) and reads all of it.
fn read_everything(copy: &Path, original: &Path, keep_bytes: bool) -> StoreResult<Salvaged> {
    for name in ["conf", "db"] {
        if !original.join(name).is_file() {
            return Err(damaged(
                original,
                format!("sled's file {name} is missing from it"),
            ));
        }
    }
    let (_db, meta, records, torrents) =
        open_sled(copy).map_err(|reason| damaged(original, reason))?;
    let found = quietly(|| read_trees(&meta, &records, &torrents, keep_bytes))
        .map_err(|reason| damaged(original, reason))?;
    Ok(found)
}

fn read_trees(
    meta: &sled::Tree,
    records: &sled::Tree,
    torrents: &sled::Tree,
    keep_bytes: bool,
) -> Salvaged {
    let mut s = Salvaged::default();
    match meta.get(FORMAT_KEY) {
        Ok(None) => {
            s.marker_problem = Some(
                "it has no format marker (sled found no trove data in it: it was wiped, or is not a trove store)"
                    .into(),
            );
        }
        Ok(Some(v)) => match <[u8; 4]>::try_from(v.as_ref()) {
            Ok(b) => s.store_format = Some(u32::from_be_bytes(b)),
            Err(_) => s.marker_problem = Some("its format marker is unreadable".into()),
        },
        Err(e) => {
            s.marker_problem = Some(format!(
                "its format marker is unreadable: {}",
                sled_reason(&e)
            ))
        }
    }
    match meta.get(GENERATION_KEY) {
        Ok(Some(v)) => match <[u8; 8]>::try_from(v.as_ref()) {
            Ok(b) => s.generation = u64::from_be_bytes(b),
            Err(_) => s.problems.push("its change counter is unreadable".into()),
        },
        Ok(None) => {}
        Err(e) => s.problems.push(format!(
            "its change counter is unreadable: {}",
            sled_reason(&e)
        )),
    }
    match meta.get(SETTINGS_KEY) {
        Ok(Some(v)) => match serde_json::from_slice(&v) {
            Ok(settings) => s.settings = settings,
            Err(e) => s
                .problems
                .push(format!("the session settings are not readable ({e})")),
        },
        Ok(None) => {}
        Err(e) => s.problems.push(format!(
            "the session settings are not readable: {}",
            sled_reason(&e)
        )),
    }
    let mut good = Vec::new();
    for item in records.iter() {
        match item {
            Ok((k, v)) => {
                s.keys.insert(String::from_utf8_lossy(&k).into_owned());
                match decode_record(&k, &v) {
                    Ok(r) => good.push(r),
                    Err(reason) => s.problems.push(reason),
                }
            }
            Err(e) => {
                s.problems.push(format!(
                    "the torrent list stops after {} records: {}",
                    s.keys.len(),
                    sled_reason(&e)
                ));
                break;
            }
        }
    }
    // Read every .torrent, also those of records that did not decode, so damage anywhere
    // is found now rather than halfway through a session.
    let mut bytes = BTreeMap::new();
    for item in torrents.iter() {
        match item {
            Ok((k, v)) => {
                if keep_bytes {
                    bytes.insert(String::from_utf8_lossy(&k).into_owned(), v.to_vec());
                }
            }
            Err(e) => {
                s.problems.push(format!(
                    "the stored .torrent files cannot all be read: {}",
                    sled_reason(&e)
                ));
                break;
            }
        }
    }
    s.torrents = good
        .into_iter()
        .map(|r| {
            let b = bytes.remove(&r.info_hash);
            (r, b)
        })
        .collect();
    s
}

/// What saved data sled lost, compared with the manifest written after the last flush.
fn lost_changes(found: &Salvaged, m: &Manifest) -> Option<String> {
    let missing: Vec<&str> = m
        .torrents
        .iter()
        .filter(|h| !found.keys.contains(*h))
        .map(|h| h.as_str())
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(3).copied().collect();
        return Some(format!(
            "{} saved torrent{} missing from it ({}{})",
            missing.len(),
            if missing.len() == 1 { " is" } else { "s are" },
            shown.join(", "),
            if missing.len() > 3 { ", …" } else { "" }
        ));
    }
    if found.generation < m.generation {
        return Some(format!(
            "it lost saved changes: sled recovered it only up to change {} of {}",
            found.generation, m.generation
        ));
    }
    None
}

/// Whether a store read from sled may be opened.
fn check(path: &Path, found: &Salvaged, manifest: Option<&Manifest>) -> StoreResult<()> {
    let newest = found
        .store_format
        .into_iter()
        .chain(manifest.map(|m| m.store_format))
        .max();
    if let Some(f) = newest
        && f > STORE_FORMAT
    {
        return Err(StoreError::FutureFormat {
            path: path.to_path_buf(),
            found: f,
        });
    }
    if let Some(reason) = &found.marker_problem {
        return Err(damaged(path, reason.clone()));
    }
    if let Some(m) = manifest
        && let Some(loss) = lost_changes(found, m)
    {
        return Err(damaged(path, loss));
    }
    if let Some(first) = found.problems.first() {
        let more = found.problems.len() - 1;
        return Err(damaged(
            path,
            if more == 0 {
                first.clone()
            } else {
                format!(
                    "{first}, and {more} more problem{}",
                    if more == 1 { "" } else { "s" }
                )
            },
        ));
    }
    Ok(())
}

impl SessionStore for SledStore {
    fn list(&self) -> StoreResult<Vec<TorrentRecord>> {
        let mut out = Vec::new();
        for item in self.records.iter() {
            let (k, v) = item?;
            out.push(self.decode(&k, &v)?);
        }
        Ok(out)
    }

    fn get(&self, info_hash: &str) -> StoreResult<Option<TorrentRecord>> {
        match self.records.get(info_hash.as_bytes())? {
            Some(v) => Ok(Some(self.decode(info_hash.as_bytes(), &v)?)),
            None => Ok(None),
        }
    }

    fn put(&self, record: &TorrentRecord) -> StoreResult<()> {
        self.records
            .insert(record.info_hash.as_bytes(), encode(record)?)?;
        self.sync([record.info_hash.clone()])
    }

    fn put_many_unsynced(&self, records: &[TorrentRecord]) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        for r in records {
            batch.insert(r.info_hash.as_bytes(), encode(r)?);
        }
        self.records.apply_batch(batch)?;
        release_garbage();
        lock_seal(&self.seal)
            .pending
            .extend(records.iter().map(|r| r.info_hash.clone()));
        Ok(())
    }

    fn remove(&self, info_hash: &str) -> StoreResult<()> {
        {
            // The manifest forgets the torrent before sled does: after a crash in between,
            // sled holds one torrent more than the manifest, which is allowed.
            let mut seal = lock_seal(&self.seal);
            seal.pending.remove(info_hash);
            if seal.torrents.remove(info_hash) {
                write_manifest(
                    &self.path,
                    &Manifest {
                        store_format: STORE_FORMAT,
                        generation: seal.generation,
                        torrents: seal.torrents.clone(),
                    },
                )?;
            }
        }
        self.records.remove(info_hash.as_bytes())?;
        self.torrents.remove(info_hash.as_bytes())?;
        self.sync([])
    }

    fn torrent_bytes(&self, info_hash: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.torrents.get(info_hash.as_bytes())?.map(|v| v.to_vec()))
    }

    fn put_torrent_bytes(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()> {
        self.torrents.insert(info_hash.as_bytes(), bytes)?;
        self.sync([])
    }

    fn settings(&self) -> StoreResult<SessionSettings> {
        match self.meta.get(SETTINGS_KEY)? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| {
                damaged(
                    &self.path,
                    format!("the session settings are not readable ({e})"),
                )
            }),
            None => Ok(SessionSettings::default()),
        }
    }

    fn put_settings(&self, settings: &SessionSettings) -> StoreResult<()> {
        let bytes = serde_json::to_vec(settings).map_err(|e| StoreError::Io(e.to_string()))?;
        self.meta.insert(SETTINGS_KEY, bytes)?;
        self.sync([])
    }

    fn flush(&self) -> StoreResult<()> {
        self.sync([])
    }
}

/// Direct writes into a store's sled files that skip every check: for tests that need a
/// store from a newer trove or with a record that does not decode. Not for anything else.
#[doc(hidden)]
pub mod testing {
    use super::*;

    /// Sets the format marker of the (closed) store in `dir`, as a newer trove would.
    pub fn set_format_marker(dir: &Path, format: u32) -> Result<(), String> {
        let (db, meta, _, _) = open_sled(dir)?;
        meta.insert(FORMAT_KEY, &format.to_be_bytes())
            .map_err(|e| sled_reason(&e))?;
        db.flush().map_err(|e| sled_reason(&e)).map(|_| ())
    }

    /// Stores `value` as the raw record of `info_hash` in the (closed) store in `dir`.
    pub fn put_raw_record(dir: &Path, info_hash: &str, value: &[u8]) -> Result<(), String> {
        let (db, _, records, _) = open_sled(dir)?;
        records
            .insert(info_hash.as_bytes(), value)
            .map_err(|e| sled_reason(&e))?;
        db.flush().map_err(|e| sled_reason(&e)).map(|_| ())
    }
}

/// A store that lives and dies with the process: `trove download` and tests.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    records: BTreeMap<String, TorrentRecord>,
    torrents: BTreeMap<String, Vec<u8>>,
    settings: SessionSettings,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        // A panic while holding this lock cannot leave a half-written record (every
        // method is a single map operation), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SessionStore for MemoryStore {
    fn list(&self) -> StoreResult<Vec<TorrentRecord>> {
        Ok(self.lock().records.values().cloned().collect())
    }
    fn get(&self, info_hash: &str) -> StoreResult<Option<TorrentRecord>> {
        Ok(self.lock().records.get(info_hash).cloned())
    }
    fn put(&self, record: &TorrentRecord) -> StoreResult<()> {
        self.lock()
            .records
            .insert(record.info_hash.clone(), record.clone());
        Ok(())
    }
    fn put_many_unsynced(&self, records: &[TorrentRecord]) -> StoreResult<()> {
        let mut g = self.lock();
        for r in records {
            g.records.insert(r.info_hash.clone(), r.clone());
        }
        Ok(())
    }
    fn remove(&self, info_hash: &str) -> StoreResult<()> {
        let mut g = self.lock();
        g.records.remove(info_hash);
        g.torrents.remove(info_hash);
        Ok(())
    }
    fn torrent_bytes(&self, info_hash: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.lock().torrents.get(info_hash).cloned())
    }
    fn put_torrent_bytes(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()> {
        self.lock()
            .torrents
            .insert(info_hash.to_string(), bytes.to_vec());
        Ok(())
    }
    fn settings(&self) -> StoreResult<SessionSettings> {
        Ok(self.lock().settings.clone())
    }
    fn put_settings(&self, settings: &SessionSettings) -> StoreResult<()> {
        self.lock().settings = settings.clone();
        Ok(())
    }
    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(hash: &str) -> TorrentRecord {
        TorrentRecord {
            info_hash: hash.to_string(),
            name: format!("t-{hash}"),
            magnet: None,
            has_metadata: true,
            root_token: "downloads".into(),
            only_files: Some(vec![0, 2]),
            paused: true,
            limits: Limits {
                download_bps: Some(1000),
                upload_bps: None,
                peers: Some(4),
            },
            added_at: 1,
            completed_at: None,
            uploaded_total: 10,
            downloaded_total: 20,
            initial_peers: vec![],
            seen_peers: vec![],
            last_state: TorrentState::Paused,
            size: 100,
            have_bytes: 50,
            selected_bytes: 100,
            error: None,
        }
    }

    fn exercise(store: &dyn SessionStore) {
        assert!(store.list().unwrap().is_empty());
        let r = record("aa");
        store.put(&r).unwrap();
        store.put_torrent_bytes("aa", b"d4:infoe").unwrap();
        assert_eq!(store.get("aa").unwrap(), Some(r.clone()));
        assert_eq!(store.torrent_bytes("aa").unwrap().unwrap(), b"d4:infoe");
        let mut r2 = record("bb");
        r2.uploaded_total = 99;
        store.put_many_unsynced(&[r2.clone()]).unwrap();
        store.flush().unwrap();
        assert_eq!(store.list().unwrap().len(), 2);
        store.remove("aa").unwrap();
        assert_eq!(store.get("aa").unwrap(), None);
        assert_eq!(store.torrent_bytes("aa").unwrap(), None);
        let s = SessionSettings {
            limits: Some(Limits::default()),
        };
        store.put_settings(&s).unwrap();
        assert_eq!(store.settings().unwrap(), s);
    }

    #[test]
    fn memory_store_round_trips() {
        exercise(&MemoryStore::new());
    }

    #[test]
    fn sled_store_round_trips_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SledStore::open(dir.path()).unwrap();
            exercise(&s);
        }
        let s = SledStore::open(dir.path()).unwrap();
        let all = s.list().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].uploaded_total, 99);
    }

    #[test]
    fn sled_store_refuses_future_format_without_touching_it() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SledStore::open(dir.path()).unwrap();
            s.put(&record("aa")).unwrap();
            s.meta.insert(FORMAT_KEY, &99u32.to_be_bytes()).unwrap();
            s.flush().unwrap();
        }
        let err = SledStore::open(dir.path()).err().unwrap();
        assert!(
            matches!(err, StoreError::FutureFormat { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("newer trove"));
    }

    /// Every file under `dir` with its bytes.
    fn snapshot_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    fn hash(i: u8) -> String {
        format!("{i:02x}").repeat(20)
    }

    /// A closed store holding records 1 and 2 (with .torrent bytes for 1).
    fn store_with_two(dir: &Path) {
        let s = SledStore::open(dir).unwrap();
        s.put(&record(&hash(1))).unwrap();
        s.put_torrent_bytes(&hash(1), &[7u8; 3000]).unwrap();
        s.put(&record(&hash(2))).unwrap();
    }

    fn expect_damaged(dir: &Path, needle: &str) -> String {
        let before = snapshot_files(dir);
        let err = match SledStore::open(dir) {
            Ok(_) => panic!("a damaged store opened"),
            Err(e) => e,
        };
        assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(needle), "{text}");
        assert!(
            text.contains("trove export") && text.contains("trove import"),
            "{text}"
        );
        assert!(
            before == snapshot_files(dir),
            "refusing the store changed its files"
        );
        text
    }

    #[test]
    fn a_new_store_is_created_whole_with_its_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        drop(SledStore::open(&path).unwrap());
        let m = read_manifest(&path).unwrap().unwrap();
        assert_eq!(m.store_format, STORE_FORMAT);
        assert!(m.torrents.is_empty());
        // An empty folder is a store to create, too.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        drop(SledStore::open(&empty).unwrap());
        assert!(empty.join("db").is_file());
        // No scratch folder is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn the_manifest_follows_puts_flushes_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        s.put(&record(&hash(1))).unwrap();
        s.put_many_unsynced(&[record(&hash(2))]).unwrap();
        let m = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!(
            m.torrents.len(),
            1,
            "an unsynced put is not in the manifest yet"
        );
        s.flush().unwrap();
        let m2 = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!(m2.torrents.len(), 2);
        assert!(m2.generation > m.generation);
        s.remove(&hash(1)).unwrap();
        let m3 = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!(m3.torrents, BTreeSet::from([hash(2)]));
        drop(s);
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.list().unwrap().len(), 1);
    }

    #[test]
    fn a_torrent_sled_lost_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        // sled drops a saved record behind trove's back (as its recovery does with a
        // truncated log), without the manifest knowing.
        {
            let (db, _, records, _) = open_sled(dir.path()).unwrap();
            records.remove(hash(2).as_bytes()).unwrap();
            db.flush().unwrap();
        }
        expect_damaged(
            dir.path(),
            &format!("1 saved torrent is missing from it ({})", hash(2)),
        );
    }

    #[test]
    fn lost_changes_are_noticed_by_the_change_counter() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        let mut m = read_manifest(dir.path()).unwrap().unwrap();
        m.generation += 5;
        write_manifest(dir.path(), &m).unwrap();
        expect_damaged(dir.path(), "lost saved changes");
    }

    #[test]
    fn sled_ahead_of_the_manifest_is_a_crash_not_damage() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        // As after a kill -9 between sled's flush and the manifest write.
        let mut m = read_manifest(dir.path()).unwrap().unwrap();
        m.generation -= 1;
        m.torrents.remove(&hash(2));
        write_manifest(dir.path(), &m).unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.list().unwrap().len(), 2);
        let fixed = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!(fixed.torrents.len(), 2);
    }

    #[test]
    fn a_store_without_a_manifest_gets_one() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        std::fs::remove_file(dir.path().join(MANIFEST_FILE)).unwrap();
        drop(SledStore::open(dir.path()).unwrap());
        assert_eq!(
            read_manifest(dir.path()).unwrap().unwrap().torrents.len(),
            2
        );
        // An unreadable one too (it only costs the cross-check).
        std::fs::write(dir.path().join(MANIFEST_FILE), b"\x00garbage").unwrap();
        drop(SledStore::open(dir.path()).unwrap());
        assert_eq!(
            read_manifest(dir.path()).unwrap().unwrap().torrents.len(),
            2
        );
    }

    #[test]
    fn a_truncated_log_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        let db = dir.path().join("db");
        let bytes = std::fs::read(&db).unwrap();
        let used = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
        std::fs::write(&db, &bytes[..used / 2]).unwrap();
        expect_damaged(dir.path(), "");
    }

    #[test]
    fn a_garbage_log_is_refused_not_opened_empty() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        let db = dir.path().join("db");
        let len = std::fs::metadata(&db).unwrap().len() as usize;
        let mut x: u32 = 42;
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        std::fs::write(&db, junk).unwrap();
        expect_damaged(dir.path(), "");
    }

    #[test]
    fn missing_sled_files_are_damage() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        std::fs::remove_file(dir.path().join("db")).unwrap();
        expect_damaged(dir.path(), "sled's file db is missing");
    }

    #[test]
    fn an_unreadable_record_is_refused_but_salvaged() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        testing::put_raw_record(dir.path(), &hash(2), b"{not json").unwrap();
        expect_damaged(
            dir.path(),
            &format!("the record of torrent {} is not readable", hash(2)),
        );
        let before = snapshot_files(dir.path());
        let s = SledStore::salvage(dir.path()).unwrap();
        assert!(
            before == snapshot_files(dir.path()),
            "salvage changed the store"
        );
        assert_eq!(s.torrents.len(), 1);
        assert_eq!(s.torrents[0].0.info_hash, hash(1));
        assert_eq!(s.torrents[0].1.as_deref(), Some(&[7u8; 3000][..]));
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(s.problems[0].contains(&hash(2)));
        assert_eq!(s.keys().len(), 2);
    }

    #[test]
    fn salvage_refuses_a_future_store() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        testing::set_format_marker(dir.path(), STORE_FORMAT + 1).unwrap();
        let before = snapshot_files(dir.path());
        assert!(matches!(
            SledStore::salvage(dir.path()),
            Err(StoreError::FutureFormat { .. })
        ));
        assert!(matches!(
            SledStore::open(dir.path()),
            Err(StoreError::FutureFormat { .. })
        ));
        assert!(before == snapshot_files(dir.path()));
    }

    #[test]
    fn import_writes_everything_in_one_go_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        let s = SledStore::open(dir.path()).unwrap();
        let mut r1 = record(&hash(1));
        r1.uploaded_total = 12345;
        let settings = SessionSettings {
            limits: Some(Limits {
                download_bps: Some(5),
                upload_bps: None,
                peers: None,
            }),
        };
        s.import(
            &[
                (r1.clone(), None),
                (record(&hash(3)), Some(b"d4:infoe".to_vec())),
            ],
            Some(&settings),
        )
        .unwrap();
        drop(s);
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.list().unwrap().len(), 3);
        assert_eq!(s.get(&hash(1)).unwrap(), Some(r1));
        assert_eq!(
            s.torrent_bytes(&hash(1)).unwrap(),
            None,
            "replaced without bytes"
        );
        assert_eq!(s.torrent_bytes(&hash(3)).unwrap().unwrap(), b"d4:infoe");
        assert_eq!(s.settings().unwrap(), settings);
        assert_eq!(
            read_manifest(dir.path()).unwrap().unwrap().torrents.len(),
            3
        );
    }

    #[test]
    fn a_panic_inside_sled_becomes_an_error() {
        let r: Result<(), String> = quietly(|| panic!("boom at offset 3"));
        let e = r.unwrap_err();
        assert!(e.contains("boom at offset 3"), "{e}");
        // The hook stays quiet only around sled: other panics still reach the old hook.
        assert!(!QUIET_PANICS.with(|q| q.get()));
    }

    /// The writer half of the kill -9 test: writes like the engine does until killed.
    fn write_until_killed(dir: &Path) -> ! {
        let s = SledStore::open(dir).unwrap();
        let mut i: u64 = 0;
        loop {
            i += 1;
            let h = hash((i % 20) as u8);
            let mut r = record(&h);
            r.uploaded_total = i;
            match i % 7 {
                0 => {
                    s.remove(&h).unwrap();
                    s.put(&r).unwrap();
                }
                1 => s
                    .put_torrent_bytes(&h, &vec![(i % 251) as u8; 5000])
                    .unwrap(),
                2 => {
                    let batch: Vec<TorrentRecord> = (0..20u8)
                        .map(|k| {
                            let mut r = record(&hash(k));
                            r.downloaded_total = i;
                            r
                        })
                        .collect();
                    s.put_many_unsynced(&batch).unwrap();
                    s.flush().unwrap();
                }
                3 => s
                    .put_settings(&SessionSettings {
                        limits: Some(Limits {
                            download_bps: Some(i),
                            upload_bps: None,
                            peers: None,
                        }),
                    })
                    .unwrap(),
                _ => s.put(&r).unwrap(),
            }
        }
    }

    /// A crash is not damage: after `kill -9` at random moments of heavy writing, the store
    /// always opens (sled is only ever ahead of the manifest).
    #[test]
    fn kill_9_while_writing_never_looks_like_damage() {
        const ME: &str = "engine::store::tests::kill_9_while_writing_never_looks_like_damage";
        if let Some(dir) = std::env::var_os("TROVE_TEST_STORE_WRITER") {
            write_until_killed(Path::new(&dir));
        }
        let dir = tempfile::tempdir().unwrap();
        drop(SledStore::open(dir.path()).unwrap());
        let rounds: u64 = std::env::var("TROVE_KILL_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8);
        for round in 0..rounds {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", ME, "--test-threads=1", "--nocapture"])
                .env("TROVE_TEST_STORE_WRITER", dir.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(150 + (round * 97) % 400));
            child.kill().unwrap();
            child.wait().unwrap();
            let s = SledStore::open(dir.path())
                .unwrap_or_else(|e| panic!("round {round}: a crash looked like damage: {e}"));
            assert!(!s.list().unwrap().is_empty() || round == 0);
        }
    }

    #[test]
    fn a_future_manifest_is_refused_even_when_sled_cannot_read_the_files() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        std::fs::write(dir.path().join("db"), b"a newer layout").unwrap();
        let mut m = read_manifest(dir.path()).unwrap().unwrap();
        m.store_format = STORE_FORMAT + 1;
        write_manifest(dir.path(), &m).unwrap();
        let before = snapshot_files(dir.path());
        let err = SledStore::open(dir.path()).err().unwrap();
        assert!(matches!(err, StoreError::FutureFormat { .. }), "{err}");
        assert!(before == snapshot_files(dir.path()));
    }

    #[test]
    fn stale_scratch_folders_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        drop(SledStore::open(&store).unwrap());
        for name in [".store.check-999999", ".store.new-123"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::create_dir(dir.path().join(".store.check-mine")).unwrap();
        drop(SledStore::open(&store).unwrap());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec![".store.check-mine", "store"]);
    }

    #[test]
    fn remember_peers_keeps_most_recent_first_and_bounded() {
        let mut r = record("aa");
        let addrs: Vec<SocketAddr> = (0..60)
            .map(|i| format!("127.0.0.1:{}", 1000 + i).parse().unwrap())
            .collect();
        r.remember_peers(addrs.clone(), 5);
        assert_eq!(r.seen_peers.len(), 50);
        assert_eq!(r.seen_peers[0].addr, addrs[59]);
        r.remember_peers([addrs[30]], 6);
        assert_eq!(r.seen_peers[0].addr, addrs[30]);
        assert_eq!(r.seen_peers.len(), 50);
    }
}
