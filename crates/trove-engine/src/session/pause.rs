//! Pausing and resuming, and taking a torrent out of librqbit and back without losing
//! its pieces (a paused torrent leaves librqbit; a limit change re-adds it).

use librqbit::TorrentStatsState;
use librqbit::api::TorrentIdOrHash;
use tracing::info;
use trove_proto::command::{EngineError, EngineResult};

use super::engine::{Engine, engine_err, store_err};
use crate::bitfield;
use crate::torrents::start_problem;

impl Engine {
    pub(super) async fn pause(&mut self, id: &str, pause: bool) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        if !pause {
            // Its files must not change under a move's copy; it resumes when the move ends.
            self.check_not_held_by_move(&hash)?;
            return self.resume(&hash).await;
        }
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        entry.record.paused = true;
        self.store.put(&entry.record).map_err(store_err)?;
        match entry.handle.clone() {
            Some(_) if self.fastresume_dir.is_some() => self.retire(&hash).await?,
            Some(h) => {
                let errored = matches!(h.stats().state, TorrentStatsState::Error);
                if !h.is_paused() && !errored {
                    self.session.pause(&h).await.map_err(engine_err)?;
                }
            }
            None => {}
        }
        info!(info_hash = %hash, "paused {}", self.torrents[&hash].record.name);
        Ok(())
    }

    /// Starts a paused or failed torrent again. Its error is cleared first; if the cause is
    /// still there the start fails and the error comes back, with its message.
    async fn resume(&mut self, hash: &str) -> EngineResult<()> {
        let result = self.try_resume(hash).await;
        if let Err(e) = &result {
            self.set_error(hash, e.to_string());
        }
        result
    }

    async fn try_resume(&mut self, hash: &str) -> EngineResult<()> {
        let entry = self.torrents.get_mut(hash).ok_or(EngineError::Stopped)?;
        let was_failed = entry.record.error.take().is_some();
        entry.record.paused = false;
        self.store.put(&entry.record).map_err(store_err)?;
        let entry = &self.torrents[hash];
        // Resuming onto a root that is still missing, full or read-only, or with a
        // selection that does not fit, would only fail again: say so now.
        if let Some(e) = start_problem(&self.roots, &entry.record, entry.torrent.as_ref()) {
            return Err(e);
        }
        match entry.handle.clone() {
            Some(h) => {
                let errored = matches!(h.stats().state, TorrentStatsState::Error);
                if h.is_paused() || errored {
                    self.session.unpause(&h).await.map_err(engine_err)?;
                }
            }
            None if entry.torrent.is_some() => self.start_torrent(hash).await?,
            // A magnet whose metadata fetch failed: fetch it again.
            None if entry.resolver.is_none() => self.resolve_metadata(hash),
            None => {}
        }
        let name = &self.torrents[hash].record.name;
        if was_failed {
            info!(info_hash = %hash, "retrying {name} after its error");
        } else {
            info!(info_hash = %hash, "resumed {name}");
        }
        Ok(())
    }

    /// Verifies the torrent's data against its piece hashes: its bitfield is forgotten and
    /// librqbit given the torrent again, which then hashes every file. A paused torrent is
    /// checked now too (librqbit checks a torrent added paused, then leaves it paused); a
    /// failed one is retried. A magnet without metadata has nothing to check: its metadata
    /// is fetched again if that had failed.
    pub(super) async fn recheck(&mut self, id: &str) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let result = self.try_recheck(&hash).await;
        if let Err(e) = &result {
            self.set_error(&hash, e.to_string());
        }
        result
    }

    async fn try_recheck(&mut self, hash: &str) -> EngineResult<()> {
        let entry = self.torrents.get_mut(hash).ok_or(EngineError::Stopped)?;
        entry.record.error = None;
        // Missing files are the user's to re-check: the check finds what is gone, and
        // librqbit then downloads it.
        entry.record.missing_data = None;
        self.store.put(&entry.record).map_err(store_err)?;
        if entry.torrent.is_none() {
            if entry.resolver.is_none() && !entry.record.paused {
                self.resolve_metadata(hash);
            }
            return Ok(());
        }
        if let Some(e) = start_problem(&self.roots, &entry.record, entry.torrent.as_ref()) {
            return Err(e);
        }
        self.retire(hash).await?;
        if let Some(dir) = &self.fastresume_dir {
            bitfield::remove(dir, hash);
        }
        if let Some(e) = self.torrents.get_mut(hash) {
            e.file_progress.clear();
        }
        self.start_torrent(hash).await?;
        info!(info_hash = %hash, "checking {}'s data against its piece hashes", self.torrents[hash].record.name);
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
    pub(super) async fn retire(&mut self, hash: &str) -> EngineResult<()> {
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
