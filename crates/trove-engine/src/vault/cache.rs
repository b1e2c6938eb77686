//! The decrypted-chunk cache every vault torrent shares: least recently used, with a
//! pinned part. A chunk read by a torrent while it uploads to peers is pinned for
//! [`PIN_LEASE`] after its last read, so a burst of other reads (a mount streaming another
//! torrent, a check) cannot evict what peers are being served right now. Pins hold at most
//! half the cache; past that the oldest lease goes back to the ordinary part.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;
use trove_proto::snapshot::CacheStats;

/// How long a served chunk stays pinned after its last read.
pub(super) const PIN_LEASE: Duration = Duration::from_secs(30);
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A chunk's plaintext: part of a shared buffer, so a chunk opened in place in the buffer
/// its slot was read into, or the chunks of a piece just sealed from the buffer it
/// arrived in, are kept without a copy.
pub struct Plain {
    buf: Arc<Vec<u8>>,
    range: std::ops::Range<usize>,
}

impl Plain {
    /// `range` of `buf` (within it).
    pub fn new(buf: Arc<Vec<u8>>, range: std::ops::Range<usize>) -> Self {
        assert!(range.start <= range.end && range.end <= buf.len());
        Plain { buf, range }
    }

    pub fn copy_of(data: &[u8]) -> Self {
        Plain::new(Arc::new(data.to_vec()), 0..data.len())
    }
}

impl std::ops::Deref for Plain {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf[self.range.clone()]
    }
}

/// (torrent, slot): the torrent is named by a number derived from its info hash.
pub(super) type Key = (u64, u64);

pub struct ChunkCache {
    capacity: u64,
    inner: Mutex<Inner>,
}

struct Inner {
    lru: LruCache<Key, Arc<Plain>>,
    lru_bytes: u64,
    pinned: HashMap<Key, (Arc<Plain>, Instant)>,
    pinned_bytes: u64,
    hits: u64,
    misses: u64,
    last_sweep: Instant,
}

impl ChunkCache {
    pub fn new(capacity: u64) -> Self {
        ChunkCache {
            capacity,
            inner: Mutex::new(Inner {
                lru: LruCache::unbounded(),
                lru_bytes: 0,
                pinned: HashMap::new(),
                pinned_bytes: 0,
                hits: 0,
                misses: 0,
                last_sweep: Instant::now(),
            }),
        }
    }

    /// The chunk if cached; `pin` renews (or starts) its lease.
    pub fn get(&self, key: Key, pin: bool) -> Option<Arc<Plain>> {
        let mut g = self.lock();
        let now = Instant::now();
        g.sweep(now);
        let found = if let Some((data, until)) = g.pinned.get_mut(&key) {
            if pin {
                *until = now + PIN_LEASE;
            }
            Some(data.clone())
        } else if let Some(data) = g.lru.get(&key).cloned() {
            if pin {
                g.lru.pop(&key);
                g.lru_bytes -= data.len() as u64;
                g.pin(key, data.clone(), now, self.capacity);
            }
            Some(data)
        } else {
            None
        };
        match found {
            Some(_) => g.hits += 1,
            None => g.misses += 1,
        }
        g.evict(self.capacity);
        found
    }

    pub fn insert(&self, key: Key, data: Arc<Plain>, pin: bool) {
        if data.len() as u64 > self.capacity {
            return;
        }
        let mut g = self.lock();
        let now = Instant::now();
        g.sweep(now);
        g.remove(key);
        if pin {
            g.pin(key, data, now, self.capacity);
        } else {
            g.lru_bytes += data.len() as u64;
            g.lru.put(key, data);
        }
        g.evict(self.capacity);
    }

    /// Drops a chunk: rewritten, or found damaged.
    pub fn forget(&self, key: Key) {
        self.lock().remove(key);
    }

    pub fn stats(&self) -> CacheStats {
        let g = self.lock();
        CacheStats {
            capacity_bytes: self.capacity,
            bytes: g.lru_bytes + g.pinned_bytes,
            pinned_bytes: g.pinned_bytes,
            hits: g.hits,
            misses: g.misses,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves counts that are at worst stale.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn remove(&mut self, key: Key) {
        if let Some((d, _)) = self.pinned.remove(&key) {
            self.pinned_bytes -= d.len() as u64;
        }
        if let Some(d) = self.lru.pop(&key) {
            self.lru_bytes -= d.len() as u64;
        }
    }

    fn pin(&mut self, key: Key, data: Arc<Plain>, now: Instant, capacity: u64) {
        let len = data.len() as u64;
        while self.pinned_bytes + len > capacity / 2 {
            let Some(oldest) = self
                .pinned
                .iter()
                .min_by_key(|(_, (_, until))| *until)
                .map(|(k, _)| *k)
            else {
                break;
            };
            self.unpin(oldest);
        }
        if self.pinned_bytes + len > capacity / 2 {
            self.lru_bytes += len;
            self.lru.put(key, data);
            return;
        }
        self.pinned_bytes += len;
        self.pinned.insert(key, (data, now + PIN_LEASE));
    }

    /// Moves a pinned chunk back to the ordinary part, as the most recently used.
    fn unpin(&mut self, key: Key) {
        if let Some((d, _)) = self.pinned.remove(&key) {
            self.pinned_bytes -= d.len() as u64;
            self.lru_bytes += d.len() as u64;
            self.lru.put(key, d);
        }
    }

    fn sweep(&mut self, now: Instant) {
        if now.duration_since(self.last_sweep) < SWEEP_EVERY {
            return;
        }
        self.last_sweep = now;
        let expired: Vec<Key> = self
            .pinned
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            self.unpin(k);
        }
    }

    fn evict(&mut self, capacity: u64) {
        while self.lru_bytes + self.pinned_bytes > capacity {
            match self.lru.pop_lru() {
                Some((_, d)) => self.lru_bytes -= d.len() as u64,
                None => break,
            }
        }
    }
}

/// A chunk of `len` bytes, each `n`.
#[cfg(test)]
fn chunk(n: u8, len: usize) -> Arc<Plain> {
    Arc::new(Plain::copy_of(&vec![n; len]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_chunks_go_first_and_the_size_holds() {
        let c = ChunkCache::new(300);
        for i in 0..3 {
            c.insert((1, i), chunk(i as u8, 100), false);
        }
        assert!(c.get((1, 0), false).is_some()); // 0 is now the most recent
        c.insert((1, 3), chunk(3, 100), false);
        assert!(
            c.get((1, 1), false).is_none(),
            "the least recent was evicted"
        );
        assert!(c.get((1, 0), false).is_some());
        let s = c.stats();
        assert_eq!(s.bytes, 300);
        assert_eq!((s.hits, s.misses), (2, 1));
    }

    #[test]
    fn a_burst_of_other_reads_does_not_evict_pinned_chunks() {
        let c = ChunkCache::new(1000);
        c.insert((1, 0), chunk(0, 100), true);
        c.insert((1, 1), chunk(1, 100), false);
        assert!(
            c.get((1, 1), true).is_some(),
            "read while serving: now pinned"
        );
        for i in 0..50 {
            c.insert((2, i), chunk(9, 100), false);
        }
        assert!(c.get((1, 0), false).is_some());
        assert!(c.get((1, 1), false).is_some());
        let s = c.stats();
        assert_eq!(s.pinned_bytes, 200);
        assert!(s.bytes <= 1000);
    }

    #[test]
    fn pins_hold_at_most_half_the_cache() {
        let c = ChunkCache::new(1000);
        for i in 0..10 {
            c.insert((1, i), chunk(i as u8, 100), true);
        }
        let s = c.stats();
        assert!(s.pinned_bytes <= 500, "{s:?}");
        assert!(s.bytes <= 1000);
        assert!(c.get((1, 9), false).is_some(), "the newest pin stays");
    }
}
