//! [`MemoryStore`]: a store that lives and dies with the process, for `trove download` and
//! tests.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::{SessionSettings, SessionStore, StoreResult, TorrentRecord};

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

    fn lock(&self) -> MutexGuard<'_, MemoryInner> {
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
    fn put_torrent_bytes_unsynced(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()> {
        self.put_torrent_bytes(info_hash, bytes)
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
    use crate::store::fixtures::exercise;

    #[test]
    fn memory_store_round_trips() {
        exercise(&MemoryStore::new());
    }
}
