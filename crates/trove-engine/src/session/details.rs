//! The details of one torrent (files, peers, pieces, trackers, rate history), and the
//! per-peer rates worked out from the byte counters of successive requests.

use std::collections::HashMap;
use std::time::Instant;

use librqbit::api::TorrentIdOrHash;
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::snapshot::{FileEntry, PeerEntry, PieceMap, TorrentDetails};

use super::engine::Engine;
use super::trackers::tracker_entries;
use crate::torrents;

/// A peer's byte counters at a details request, and the rates they gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PeerSample {
    at: Instant,
    downloaded: u64,
    uploaded: u64,
    download_rate: f64,
    upload_rate: f64,
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
        e.peer_counters = sample_peer_rates(&e.peer_counters, &mut peers, Instant::now());
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

/// Sets each peer's rates from its counters at an earlier request, and returns the samples
/// to keep for the next one. The UI may ask several times a second: a sample less than
/// half a second old is kept with its rates rather than divided by a sliver of time; one
/// more than 30 s old is too stale to make a rate from.
fn sample_peer_rates(
    previous: &HashMap<String, PeerSample>,
    peers: &mut [PeerEntry],
    now: Instant,
) -> HashMap<String, PeerSample> {
    let mut current = HashMap::with_capacity(peers.len());
    for p in peers {
        let mut sample = PeerSample {
            at: now,
            downloaded: p.downloaded,
            uploaded: p.uploaded,
            download_rate: 0.0,
            upload_rate: 0.0,
        };
        if let Some(prev) = previous.get(&p.addr) {
            let secs = now.duration_since(prev.at).as_secs_f64();
            if secs < 0.5 {
                sample = *prev;
            } else if secs < 30.0 {
                sample.download_rate = p.downloaded.saturating_sub(prev.downloaded) as f64 / secs;
                sample.upload_rate = p.uploaded.saturating_sub(prev.uploaded) as f64 / secs;
            }
        }
        p.download_rate = sample.download_rate;
        p.upload_rate = sample.upload_rate;
        current.insert(p.addr.clone(), sample);
    }
    current
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
    fn peer_rates_come_from_the_counters_of_an_earlier_request() {
        let t0 = Instant::now();
        let mut peers = vec![peer("a", 1000, 0)];
        let first = sample_peer_rates(&HashMap::new(), &mut peers, t0);
        assert_eq!(peers[0].download_rate, 0.0, "no earlier sample: no rate");

        // Asked again a moment later: the earlier sample and its rates stand.
        let mut peers = vec![peer("a", 1100, 0)];
        let soon = sample_peer_rates(&first, &mut peers, t0 + Duration::from_millis(200));
        assert_eq!(soon["a"], first["a"]);

        let mut peers = vec![peer("a", 3000, 500), peer("b", 10, 10)];
        let later = sample_peer_rates(&soon, &mut peers, t0 + Duration::from_secs(2));
        assert_eq!(peers[0].download_rate, 1000.0);
        assert_eq!(peers[0].upload_rate, 250.0);
        assert_eq!(
            peers[1].download_rate, 0.0,
            "a new peer starts without a rate"
        );
        assert_eq!(later.len(), 2, "peers gone since are forgotten");

        // Too long ago to make a rate from.
        let mut peers = vec![peer("a", 9000, 500)];
        sample_peer_rates(&later, &mut peers, t0 + Duration::from_secs(40));
        assert_eq!(peers[0].download_rate, 0.0);
    }
}
