//! What the engine writes in the background: piece-bitfield checkpoints, the counters of
//! every record that changed since the last flush, and the peers worth dialling again
//! after a restart.

use std::net::SocketAddr;

use librqbit::api::TorrentIdOrHash;
use tracing::{debug, warn};

use super::engine::Engine;
use crate::bitfield;
use crate::store::TorrentRecord;
use crate::torrents::now_unix;

impl Engine {
    /// Writes every torrent's current bitfield over its fast-resume file, so a crash loses
    /// at most one checkpoint interval of verified pieces (librqbit alone writes it only
    /// every 16 MiB).
    fn checkpoint_bitfields(&mut self) {
        let Some(dir) = &self.fastresume_dir else {
            return;
        };
        for (hash, e) in self.torrents.iter_mut() {
            let Some(h) = &e.handle else { continue };
            let Some(bytes) = bitfield::current(&self.api, h) else {
                continue;
            };
            if e.flushed_bitfield.as_ref() == Some(&bytes) {
                continue;
            }
            match bitfield::checkpoint(dir, hash, &bytes) {
                Ok(true) => e.flushed_bitfield = Some(bytes),
                Ok(false) => {} // not checked yet: librqbit creates the file after the first check
                Err(err) => warn!(info_hash = %hash, "cannot save the piece bitfield: {err}"),
            }
        }
    }

    /// Writes the bitfields and records that changed since the last flush, then syncs.
    pub(super) fn flush_counters(&mut self) {
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

    pub(super) fn refresh_seen_peers(&mut self) {
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
}
