//! The store of record: which torrents trove has, where, with what options and counters.
//!
//! [`SessionStore`] is the small interface the engine writes through (the seed's
//! `ISessionStore`); [`SledStore`] keeps it in an embedded sled database and
//! [`MemoryStore`] keeps it in memory for `trove download` and tests. Records are JSON so
//! a store can be read by `trove export` and by a person; .torrent bytes sit in their own
//! tree, raw.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::snapshot::{InfoHash, Limits, TorrentState};

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
        "the store at {path} was written by a newer trove (format {found}; this trove reads up to {STORE_FORMAT}): upgrade trove, or run `trove export` with the newer one and `trove import` here"
    )]
    FutureFormat { path: PathBuf, found: u32 },
    #[error(
        "the store at {path} cannot be read ({reason}); nothing was changed or deleted. Move the folder aside and start again, then `trove import` a JSON export if you have one"
    )]
    Damaged { path: PathBuf, reason: String },
    #[error("store error: {0}")]
    Io(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Io(e.to_string())
    }
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

/// The persistent store: an embedded sled database in the data dir.
pub struct SledStore {
    path: PathBuf,
    db: sled::Db,
    records: sled::Tree,
    torrents: sled::Tree,
    meta: sled::Tree,
}

const FORMAT_KEY: &[u8] = b"format";
const SETTINGS_KEY: &[u8] = b"settings";

impl SledStore {
    /// Opens (or creates) the store in `dir`. The caller holds the data-dir lock.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        let path = dir.to_path_buf();
        let damaged = |reason: String| StoreError::Damaged {
            path: path.clone(),
            reason,
        };
        let db = sled::Config::new()
            .path(dir)
            // sled flushes on its own every 500 ms; state changes also flush explicitly.
            .flush_every_ms(Some(500))
            .open()
            .map_err(|e| damaged(e.to_string()))?;
        let meta = db.open_tree("meta").map_err(|e| damaged(e.to_string()))?;
        let records = db
            .open_tree("torrents")
            .map_err(|e| damaged(e.to_string()))?;
        let torrents = db
            .open_tree("torrent_files")
            .map_err(|e| damaged(e.to_string()))?;
        match meta.get(FORMAT_KEY).map_err(|e| damaged(e.to_string()))? {
            None => {
                if !records.is_empty() {
                    return Err(damaged("it has torrents but no format marker".into()));
                }
                meta.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes())?;
                db.flush()?;
            }
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| damaged("its format marker is unreadable".into()))?;
                if found > STORE_FORMAT {
                    return Err(StoreError::FutureFormat { path, found });
                }
            }
        }
        let store = SledStore {
            path,
            db,
            records,
            torrents,
            meta,
        };
        // Read every record once so damage is reported now, not halfway through a session.
        store.list()?;
        Ok(store)
    }

    fn decode(&self, key: &[u8], value: &[u8]) -> StoreResult<TorrentRecord> {
        serde_json::from_slice(value).map_err(|e| StoreError::Damaged {
            path: self.path.clone(),
            reason: format!(
                "the record for {} is unreadable: {e}",
                String::from_utf8_lossy(key)
            ),
        })
    }
}

fn encode(record: &TorrentRecord) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| StoreError::Io(e.to_string()))
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
        self.db.flush()?;
        Ok(())
    }

    fn put_many_unsynced(&self, records: &[TorrentRecord]) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        for r in records {
            batch.insert(r.info_hash.as_bytes(), encode(r)?);
        }
        self.records.apply_batch(batch)?;
        Ok(())
    }

    fn remove(&self, info_hash: &str) -> StoreResult<()> {
        self.records.remove(info_hash.as_bytes())?;
        self.torrents.remove(info_hash.as_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    fn torrent_bytes(&self, info_hash: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.torrents.get(info_hash.as_bytes())?.map(|v| v.to_vec()))
    }

    fn put_torrent_bytes(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()> {
        self.torrents.insert(info_hash.as_bytes(), bytes)?;
        self.db.flush()?;
        Ok(())
    }

    fn settings(&self) -> StoreResult<SessionSettings> {
        match self.meta.get(SETTINGS_KEY)? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| StoreError::Damaged {
                path: self.path.clone(),
                reason: format!("the session settings are unreadable: {e}"),
            }),
            None => Ok(SessionSettings::default()),
        }
    }

    fn put_settings(&self, settings: &SessionSettings) -> StoreResult<()> {
        let bytes = serde_json::to_vec(settings).map_err(|e| StoreError::Io(e.to_string()))?;
        self.meta.insert(SETTINGS_KEY, bytes)?;
        self.db.flush()?;
        Ok(())
    }

    fn flush(&self) -> StoreResult<()> {
        self.db.flush()?;
        Ok(())
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
