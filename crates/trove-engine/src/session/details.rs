//! The details of one torrent (files, peers, pieces, trackers, rate history), and the
//! per-peer rates worked out from the byte counters of successive requests.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use librqbit::api::TorrentIdOrHash;
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::snapshot::{FileEntry, PeerEntry, PieceMap, TorrentDetails};

use super::engine::Engine;
use super::trackers::tracker_entries;
use crate::torrents;

/// How far back a peer's rate looks. Block counters move in steps (a block is counted when
/// it is written, and a capped sender's token bucket lets a little burst through), so a
/// rate over a second or less swings well above and below what really arrives; averaged
/// over a few seconds it holds steady, as in other clients' peer lists.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// A peer needs this much history before it is given a rate at all.
const MIN_SPAN: Duration = Duration::from_secs(2);
/// Requests closer together than this add no sample: the UI may ask several times a second.
const MIN_STEP: Duration = Duration::from_millis(500);
/// With no sample newer than this, the history is too stale to make a rate from.
const STALE: Duration = Duration::from_secs(30);

/// A peer's byte counters at recent details requests (oldest first, covering about
/// [`RATE_WINDOW`]), and the rates they gave at the last one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct PeerSample {
    history: VecDeque<Counters>,
    download_rate: f64,
    upload_rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Counters {
    at: Instant,
    downloaded: u64,
    uploaded: u64,
}

impl Engine {
    pub(super) fn details(&mut self, id: &str) -> EngineResult<TorrentDetails> {
        let hash = self.resolve_id(id)?;
        // A dormant torrent's pieces and file progress come from its bitfield file.
        let dormant_bitfield = match &self.torrents[&hash] {
            e if e.handle.is_none() && e.torrent.is_some() => self.stored_bitfield(&hash),
            _ => None,
        };
        if let Some(bits) = &dormant_bitfield
            && let Some(e) = self.torrents.get_mut(&hash)
        {
            e.fill_dormant_file_progress(bits);
        }
        let e = &self.torrents[&hash];
        let summary = e
            .summary
            .clone()
            .ok_or_else(|| EngineError::Engine("no stats yet".into()))?;
        let save_path =
            torrents::save_path(&self.roots, &e.record, e.torrent.as_ref()).unwrap_or_default();
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
        let e = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        e.peer_counters = sample_peer_rates(
            std::mem::take(&mut e.peer_counters),
            &mut peers,
            Instant::now(),
        );
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
        let urls = torrents::effective_trackers(&e.record, e.torrent.as_ref());
        let magnet = torrents::magnet_for(&hash, &e.record.name, &urls);
        let trackers = tracker_entries(&self.log, &hash, urls, live);
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
            magnet,
            vault_cache: e
                .record
                .vault_file
                .is_some()
                .then(|| self.vaults.cache_stats()),
        })
    }
}

/// Sets each peer's rates from its counters at earlier requests, and returns the samples
/// to keep for the next one. Peers gone since are forgotten.
fn sample_peer_rates(
    mut previous: HashMap<String, PeerSample>,
    peers: &mut [PeerEntry],
    now: Instant,
) -> HashMap<String, PeerSample> {
    let mut current = HashMap::with_capacity(peers.len());
    for p in peers {
        let mut sample = previous.remove(&p.addr).unwrap_or_default();
        sample.observe(Counters {
            at: now,
            downloaded: p.downloaded,
            uploaded: p.uploaded,
        });
        p.download_rate = sample.download_rate;
        p.upload_rate = sample.upload_rate;
        current.insert(p.addr.clone(), sample);
    }
    current
}

impl PeerSample {
    /// Adds the counters read now and works out the rates over the window they close.
    fn observe(&mut self, now: Counters) {
        if let Some(last) = self.history.back() {
            let since = now.at.duration_since(last.at);
            if since < MIN_STEP {
                return;
            }
            if since >= STALE {
                self.history.clear();
            }
        }
        // Keep the newest sample at least RATE_WINDOW old as the window's start.
        while self
            .history
            .get(1)
            .is_some_and(|next| now.at.duration_since(next.at) >= RATE_WINDOW)
        {
            self.history.pop_front();
        }
        self.download_rate = 0.0;
        self.upload_rate = 0.0;
        if let Some(first) = self.history.front() {
            let span = now.at.duration_since(first.at);
            if span >= MIN_SPAN {
                let secs = span.as_secs_f64();
                self.download_rate = now.downloaded.saturating_sub(first.downloaded) as f64 / secs;
                self.upload_rate = now.uploaded.saturating_sub(first.uploaded) as f64 / secs;
            }
        }
        self.history.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn peer(addr: &str, downloaded: u64, uploaded: u64) -> PeerEntry {
        PeerEntry {
            addr: addr.into(),
            client: None,
            download_rate: 0.0,
            upload_rate: 0.0,
            downloaded,
            uploaded,
            state: "live".into(),
        }
    }

    #[test]
    fn peer_rates_come_from_the_counters_of_earlier_requests() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut peers = vec![peer("a", 1000, 0)];
        let first = sample_peer_rates(HashMap::new(), &mut peers, t0);
        assert_eq!(peers[0].download_rate, 0.0, "no earlier sample: no rate");

        // Asked again a moment later: nothing is added.
        let mut peers = vec![peer("a", 1100, 0)];
        let first_a = first["a"].clone();
        let soon = sample_peer_rates(first, &mut peers, at(200));
        assert_eq!(soon["a"], first_a);

        // A second of history is not enough for a rate yet.
        let mut peers = vec![peer("a", 2000, 0)];
        let one = sample_peer_rates(soon, &mut peers, at(1000));
        assert_eq!(peers[0].download_rate, 0.0);

        let mut peers = vec![peer("a", 3000, 500), peer("b", 10, 10)];
        let later = sample_peer_rates(one, &mut peers, at(2000));
        assert_eq!(peers[0].download_rate, 1000.0);
        assert_eq!(peers[0].upload_rate, 250.0);
        assert_eq!(
            peers[1].download_rate, 0.0,
            "a new peer starts without a rate"
        );
        assert_eq!(later.len(), 2, "peers gone since are forgotten");

        // Too long ago to make a rate from.
        let mut peers = vec![peer("a", 9000, 500)];
        sample_peer_rates(later, &mut peers, at(40_000));
        assert_eq!(peers[0].download_rate, 0.0);
    }

    #[test]
    fn a_burst_is_averaged_over_the_window() {
        // 100 bytes a second, with a step of 300 landing in one half-second.
        let t0 = Instant::now();
        let mut counters = 0u64;
        let mut kept = HashMap::new();
        let mut rates = Vec::new();
        for tick in 0..20u64 {
            counters += if tick == 12 { 350 } else { 50 };
            let mut peers = vec![peer("a", counters, 0)];
            kept = sample_peer_rates(kept, &mut peers, t0 + Duration::from_millis(500 * tick));
            rates.push(peers[0].download_rate);
        }
        let max = rates.iter().copied().fold(0.0, f64::max);
        assert!(max <= 100.0 + 300.0 / 5.0 + 1e-9, "{rates:?}");
        assert!((rates[11] - 100.0).abs() < 1e-9, "{rates:?}");
        assert!(
            kept["a"].history.len() <= 11,
            "the history covers the window only"
        );
    }
}
