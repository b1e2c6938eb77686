//! Pausing and resuming, and taking a torrent out of librqbit and back without losing
//! its pieces (a paused torrent leaves librqbit; a limit change re-adds it).

use librqbit::TorrentStatsState;
use librqbit::api::TorrentIdOrHash;
use tracing::info;
use trove_proto::command::{EngineError, EngineResult};

use super::engine::{Engine, engine_err, store_err};
use crate::bitfield;

impl Engine {
    pub(super) async fn pause(&mut self, id: &str, pause: bool) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        if !pause {
            // Resuming onto a root that is still missing, full or read-only would only
            // fail again: say so now.
            if let Some(root) = self.roots.by_token(&entry.record.root_token) {
                self.roots.check_usable(root)?;
            }
            entry.record.error = None;
        }
        entry.record.paused = pause;
        self.store.put(&entry.record).map_err(store_err)?;
        match entry.handle.clone() {
            Some(_) if pause && self.fastresume_dir.is_some() => self.retire(&hash).await?,
            Some(h) => {
                let is_paused = h.is_paused();
                let errored = matches!(h.stats().state, TorrentStatsState::Error);
                if pause && !is_paused && !errored {
                    self.session.pause(&h).await.map_err(engine_err)?;
                } else if !pause && (is_paused || errored) {
                    self.session.unpause(&h).await.map_err(engine_err)?;
                }
            }
            None if !pause && entry.torrent.is_some() => self.start_torrent(&hash).await?,
            None => {}
        }
        info!(info_hash = %hash, "{}", if pause { "paused" } else { "resumed" });
        Ok(())
    }

    /// librqbit fixes a torrent's limits when it is added; to change them the torrent is
    /// removed from the session (data and fast-resume bitfield kept) and added again.
    pub(super) async fn readd(&mut self, hash: &str) -> EngineResult<()> {
        if self.torrents.get(hash).is_none_or(|e| e.handle.is_none()) {
            return Ok(()); // dormant or waiting for metadata: the next start applies them
        }
        self.retire(hash).await?;
        self.start_torrent(hash).await
    }

    /// Takes a torrent out of librqbit, keeping its data, its counters and its fast-resume
    /// bitfield, so that `start_torrent` brings it back without a re-check.
    async fn retire(&mut self, hash: &str) -> EngineResult<()> {
        let Some(h) = self.torrents.get(hash).and_then(|e| e.handle.clone()) else {
            return Ok(());
        };
        if !h.is_paused() {
            let _ = self.session.pause(&h).await;
        }
        // Fold in what it transferred since the last poll before its counters go.
        self.poll();
        // librqbit deletes its bitfield file with the torrent, and the file may lag behind
        // (it is flushed every 16 MiB): take the current one from memory and put it back.
        let haves = bitfield::current(&self.api, &h);
        self.session
            .delete(TorrentIdOrHash::Id(h.id()), false)
            .await
            .map_err(engine_err)?;
        self.log.forget_torrent(h.id());
        if let Some(e) = self.torrents.get_mut(hash) {
            e.handle = None;
            e.live_up = 0;
            e.live_down = 0;
            e.flushed_bitfield = None;
        }
        if let (Some(dir), Some(bytes)) = (&self.fastresume_dir, haves) {
            bitfield::write(dir, hash, &bytes).map_err(engine_err)?;
        }
        Ok(())
    }
}
