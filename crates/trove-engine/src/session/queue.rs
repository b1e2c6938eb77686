//! The queue: which torrents may run at once. [`admit`] is the rule, a pure function of
//! the torrents' places, kinds and activity and of the limits; the engine applies it after
//! every command and on every tick, taking held torrents out of librqbit exactly as a
//! paused one is (they cost nothing while they wait) and starting the ones given a slot.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use tracing::info;
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::queue::{QueueLimits, QueueMove};
use trove_proto::snapshot::InfoHash;

use super::engine::{Engine, Entry, store_err};
use crate::saved::queue::reorder;

/// One torrent as the admission rule sees it.
#[derive(Debug, Clone)]
pub(crate) struct Candidate<'a> {
    pub(crate) hash: &'a str,
    /// Its place in the queue (see [`queue_order`]): lower is served first.
    pub(crate) rank: usize,
    /// Has every selected byte: it needs a seeding slot, not a download slot.
    pub(crate) complete: bool,
    /// Runs regardless of the limits, and takes no slot.
    pub(crate) forced: bool,
    /// librqbit holds it now.
    pub(crate) running: bool,
    /// Seconds since it last moved a byte (or was started), when running.
    pub(crate) idle_secs: Option<u64>,
}

/// What the rule decides.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Admission {
    /// Not running and given a slot: to start.
    pub(crate) start: Vec<InfoHash>,
    /// Running without a slot: to take out of librqbit.
    pub(crate) hold: Vec<InfoHash>,
    /// Every torrent without a slot (held now or already waiting).
    pub(crate) waiting: HashSet<InfoHash>,
}

/// Gives slots in queue order: a forced torrent runs and takes none; a running torrent
/// idle for at least `slow_after_secs` keeps running and takes none; every other one
/// takes a download or a seeding slot while both its kind's limit and the total limit
/// have room (0 = no limit), and waits otherwise.
pub(crate) fn admit(candidates: &[Candidate], limits: &QueueLimits) -> Admission {
    let mut order: Vec<&Candidate> = candidates.iter().collect();
    order.sort_by_key(|c| c.rank);
    let room = |max: u32, used: u32| max == 0 || used < max;
    let (mut downloads, mut seeds) = (0u32, 0u32);
    let mut out = Admission::default();
    for c in order {
        let slow = c.running
            && limits
                .slow_after_secs
                .is_some_and(|after| c.idle_secs.is_some_and(|idle| idle >= after));
        let active = if c.forced || slow {
            true
        } else {
            let total = downloads + seeds;
            let (kind_max, kind_used) = if c.complete {
                (limits.max_active_seeds, &mut seeds)
            } else {
                (limits.max_active_downloads, &mut downloads)
            };
            if room(kind_max, *kind_used) && room(limits.max_active_torrents, total) {
                *kind_used += 1;
                true
            } else {
                false
            }
        };
        match (active, c.running) {
            (true, false) => out.start.push(c.hash.to_string()),
            (false, true) => out.hold.push(c.hash.to_string()),
            _ => {}
        }
        if !active {
            out.waiting.insert(c.hash.to_string());
        }
    }
    out
}

/// Every torrent in queue order: by place, then by when it was added (records from
/// before the queue all have place 0), then by info-hash. Sorted on borrowed keys: the
/// engine orders every torrent on each tick, and a clone per comparison would dominate.
pub(super) fn queue_order<'a>(
    entries: impl Iterator<Item = (&'a InfoHash, &'a Entry)>,
) -> Vec<(&'a InfoHash, &'a Entry)> {
    let mut all: Vec<(&InfoHash, &Entry)> = entries.collect();
    all.sort_unstable_by(|(ha, a), (hb, b)| queue_key(ha, a).cmp(&queue_key(hb, b)));
    all
}

fn queue_key<'a>(hash: &'a InfoHash, e: &Entry) -> (u64, i64, &'a str) {
    (e.record.queue_position, e.record.added_at, hash)
}

/// Each torrent's place in the queue, from 1, listed in the map's own order (the order
/// `torrents.iter()` visits them), so a pass over the map reads its place by index.
pub(super) fn queue_places(torrents: &BTreeMap<InfoHash, Entry>) -> Vec<u32> {
    let mut order: Vec<(usize, &InfoHash, &Entry)> = torrents
        .iter()
        .enumerate()
        .map(|(i, (h, e))| (i, h, e))
        .collect();
    order.sort_unstable_by(|(_, ha, a), (_, hb, b)| queue_key(ha, a).cmp(&queue_key(hb, b)));
    let mut places = vec![0; order.len()];
    for (place, (i, _, _)) in order.into_iter().enumerate() {
        places[i] = u32::try_from(place + 1).unwrap_or(u32::MAX);
    }
    places
}

/// Whether the record has every selected byte.
pub(super) fn is_complete(e: &Entry) -> bool {
    e.record.selected_bytes > 0 && e.record.have_bytes >= e.record.selected_bytes
}

impl Engine {
    /// The torrents the queue orders: with metadata, not paused, not failed, and not held
    /// out of librqbit while their data is copied to another root.
    fn candidates(&self, now: Instant) -> Vec<Candidate<'_>> {
        queue_order(self.torrents.iter())
            .into_iter()
            .enumerate()
            .filter_map(|(rank, (hash, e))| {
                let moving_paused = self.paused_for_move(hash);
                let queued = e.torrent.is_some()
                    && !e.record.paused
                    && e.record.error.is_none()
                    && !moving_paused;
                queued.then(|| Candidate {
                    hash,
                    rank,
                    complete: is_complete(e),
                    forced: e.record.forced,
                    running: e.handle.is_some(),
                    idle_secs: e
                        .handle
                        .as_ref()
                        .map(|_| e.last_moved.map_or(0, |t| now.duration_since(t).as_secs())),
                })
            })
            .collect()
    }

    /// Whether the queue keeps this torrent waiting now (`start_torrent` then leaves it out
    /// of librqbit).
    pub(super) fn held_by_queue(&self, hash: &str) -> bool {
        if self.queue_limits.unlimited() {
            return false;
        }
        admit(&self.candidates(Instant::now()), &self.queue_limits)
            .waiting
            .contains(hash)
    }

    /// Applies the rule: held torrents leave librqbit, admitted ones start.
    pub(super) async fn apply_queue(&mut self) {
        let admission = admit(&self.candidates(Instant::now()), &self.queue_limits);
        for hash in &admission.hold {
            match self.retire(hash).await {
                Ok(()) => {
                    info!(info_hash = %hash, "queued {}: no free slot", self.torrents[hash].record.name)
                }
                Err(e) => self.set_error(hash, e.to_string()),
            }
        }
        self.waiting = admission.waiting;
        for hash in &admission.start {
            if let Err(e) = self.start_torrent(hash).await {
                self.set_error(hash, e.to_string());
            } else if let Some(e) = self.torrents.get_mut(hash) {
                e.last_moved = Some(Instant::now());
            }
        }
    }

    /// The place a torrent new to the session takes: after every other.
    pub(super) fn next_queue_position(&self) -> u64 {
        self.torrents
            .values()
            .map(|e| e.record.queue_position)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Moves torrents in the queue; every place is written again from 1 up, so records
    /// from before the queue get one too.
    pub(super) fn move_in_queue(&mut self, ids: &[String], to: QueueMove) -> EngineResult<()> {
        let hashes = ids
            .iter()
            .map(|id| self.resolve_id(id))
            .collect::<EngineResult<Vec<_>>>()?;
        let current = queue_order(self.torrents.iter())
            .into_iter()
            .map(|(h, _)| h.clone())
            .collect();
        let order = reorder(current, &hashes, to);
        for (i, hash) in order.iter().enumerate() {
            let e = self.torrents.get_mut(hash).ok_or(EngineError::Stopped)?;
            let place = i as u64 + 1;
            if e.record.queue_position != place {
                e.record.queue_position = place;
                self.store.put(&e.record).map_err(store_err)?;
            }
        }
        info!("moved {} torrent(s) in the queue ({to:?})", hashes.len());
        Ok(())
    }

    /// Forces torrents to run regardless of the limits, or gives them back to the queue.
    pub(super) fn force(&mut self, ids: &[String], on: bool) -> EngineResult<()> {
        let hashes = ids
            .iter()
            .map(|id| self.resolve_id(id))
            .collect::<EngineResult<Vec<_>>>()?;
        for hash in hashes {
            let e = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
            if e.record.forced != on {
                e.record.forced = on;
                self.store.put(&e.record).map_err(store_err)?;
                let what = if on {
                    "forced to start"
                } else {
                    "back in the queue"
                };
                info!(info_hash = %hash, "{what}: {}", e.record.name);
            }
        }
        Ok(())
    }

    /// Changes the queue's limits and keeps them in the store.
    pub(super) fn set_queue_limits(&mut self, limits: QueueLimits) -> EngineResult<()> {
        self.edit_settings(|s| s.queue = Some(limits))?;
        self.queue_limits = limits;
        info!(?limits, "queue limits set");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_follow_position_then_age_then_hash() {
        let entry = |hash: &str, position: u64, added_at: i64| {
            let mut r = crate::store::fixtures::record(hash);
            r.queue_position = position;
            r.added_at = added_at;
            (hash.to_string(), Entry::new(r, None))
        };
        // Map order is by hash; queue order is by place, then by age (records from before
        // the queue all have place 0), then by hash.
        let torrents: BTreeMap<InfoHash, Entry> = [
            entry("aa", 2, 5),
            entry("bb", 0, 9),
            entry("cc", 1, 1),
            entry("dd", 0, 3),
            entry("ee", 0, 3),
        ]
        .into_iter()
        .collect();
        let order: Vec<&str> = queue_order(torrents.iter())
            .into_iter()
            .map(|(h, _)| h.as_str())
            .collect();
        assert_eq!(order, ["dd", "ee", "bb", "cc", "aa"]);
        // Listed in map order: aa, bb, cc, dd, ee.
        assert_eq!(queue_places(&torrents), [5, 3, 4, 1, 2]);
        assert!(queue_places(&BTreeMap::new()).is_empty());
    }

    fn c(hash: &'static str, rank: usize, complete: bool, running: bool) -> Candidate<'static> {
        Candidate {
            hash,
            rank,
            complete,
            forced: false,
            running,
            idle_secs: running.then_some(0),
        }
    }

    fn limits(downloads: u32, seeds: u32, torrents: u32) -> QueueLimits {
        QueueLimits {
            max_active_downloads: downloads,
            max_active_seeds: seeds,
            max_active_torrents: torrents,
            slow_after_secs: None,
        }
    }

    #[test]
    fn no_limits_start_everything() {
        let a = admit(
            &[c("a", 0, false, false), c("b", 1, true, false)],
            &limits(0, 0, 0),
        );
        assert_eq!(a.start, ["a", "b"]);
        assert!(a.hold.is_empty() && a.waiting.is_empty());
    }

    #[test]
    fn download_limit_serves_the_queue_in_order() {
        let all = [
            c("c", 2, false, false),
            c("a", 0, false, false),
            c("b", 1, false, false),
            c("s", 3, true, false),
        ];
        let a = admit(&all, &limits(2, 0, 0));
        assert_eq!(a.start, ["a", "b", "s"], "seeds do not use download slots");
        assert_eq!(a.waiting, HashSet::from(["c".to_string()]));
    }

    #[test]
    fn a_torrent_higher_in_the_queue_takes_the_slot_of_a_running_one() {
        let a = admit(
            &[c("top", 0, false, false), c("run", 1, false, true)],
            &limits(1, 0, 0),
        );
        assert_eq!(a.start, ["top"]);
        assert_eq!(a.hold, ["run"]);
    }

    #[test]
    fn the_total_limit_counts_both_kinds() {
        let all = [
            c("s1", 0, true, true),
            c("d1", 1, false, false),
            c("d2", 2, false, false),
        ];
        let a = admit(&all, &limits(5, 5, 2));
        assert_eq!(a.start, ["d1"]);
        assert_eq!(a.waiting, HashSet::from(["d2".to_string()]));
    }

    #[test]
    fn seed_limit_holds_extra_seeds() {
        let all = [c("s1", 0, true, true), c("s2", 1, true, true)];
        let a = admit(&all, &limits(0, 1, 0));
        assert_eq!(a.hold, ["s2"]);
    }

    #[test]
    fn forced_torrents_run_beyond_the_limit_and_take_no_slot() {
        let mut f = c("f", 0, false, false);
        f.forced = true;
        let a = admit(
            &[f, c("a", 1, false, false), c("b", 2, false, false)],
            &limits(1, 0, 0),
        );
        assert_eq!(a.start, ["f", "a"]);
        assert_eq!(a.waiting, HashSet::from(["b".to_string()]));
    }

    #[test]
    fn a_slow_torrent_keeps_running_without_a_slot() {
        let mut slow = c("slow", 0, false, true);
        slow.idle_secs = Some(120);
        let mut l = limits(1, 0, 0);
        l.slow_after_secs = Some(60);
        let a = admit(&[slow.clone(), c("next", 1, false, false)], &l);
        assert_eq!(a.start, ["next"]);
        assert!(a.hold.is_empty());
        // Not slow yet: it keeps its slot and the next one waits.
        slow.idle_secs = Some(30);
        let a = admit(&[slow, c("next", 1, false, false)], &l);
        assert!(a.start.is_empty());
        assert_eq!(a.waiting, HashSet::from(["next".to_string()]));
    }
}
