//! Limits (per torrent and for the session) and the file selection.

use std::collections::HashSet;

use tracing::info;
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::snapshot::Limits;

use super::engine::{Engine, engine_err, store_err};
use super::setup;
use crate::file_index;
use crate::torrents::{check_file_indices, check_selection_shape, start_problem};

impl Engine {
    pub(super) async fn set_torrent_limits(
        &mut self,
        id: &str,
        limits: Limits,
    ) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        if entry.record.limits == limits {
            return Ok(());
        }
        entry.record.limits = limits;
        self.store.put(&entry.record).map_err(store_err)?;
        info!(info_hash = %hash, ?limits, "torrent limits set");
        self.readd(&hash).await
    }

    pub(super) async fn set_global_limits(&mut self, limits: Limits) -> EngineResult<()> {
        let old = self.global;
        self.global = limits;
        let l = setup::to_librqbit_limits(&limits);
        self.session.ratelimits.set_download_bps(l.download_bps);
        self.session.ratelimits.set_upload_bps(l.upload_bps);
        let mut settings = self.store.settings().map_err(store_err)?;
        settings.limits = Some(limits);
        self.store.put_settings(&settings).map_err(store_err)?;
        info!(?limits, "session limits set");
        if old.peers != limits.peers {
            let inheriting: Vec<String> = self
                .torrents
                .iter()
                .filter(|(_, e)| e.record.limits.peers.is_none() && e.handle.is_some())
                .map(|(h, _)| h.clone())
                .collect();
            for h in inheriting {
                self.readd(&h).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn select_files(&mut self, id: &str, files: Vec<usize>) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        let t = entry.torrent.as_ref().ok_or_else(|| {
            EngineError::Engine("the file list is not known yet: wait for the metadata".into())
        })?;
        check_selection_shape(&files)?;
        check_file_indices(&files, t.files.len())?;
        if files.is_empty() {
            return Err(EngineError::BadSource(
                "select at least one file (or pause the torrent)".into(),
            ));
        }
        let chosen: HashSet<usize> = files.iter().copied().collect();
        let all = chosen.len() == t.files.len();
        let set: HashSet<usize> = file_index::to_librqbit(t, &files).into_iter().collect();
        entry.record.only_files = (!all).then(|| files.clone());
        self.store.put(&entry.record).map_err(store_err)?;
        if let Some(h) = &entry.handle {
            super::selection::apply(&self.session, h, &set)
                .await
                .map_err(engine_err)?;
        } else if entry.torrent.is_some() {
            // Nothing in librqbit to count the selection: count it here, so a dormant
            // torrent shows the right size and progress until it is resumed.
            let bitfield = self.stored_bitfield(&hash).unwrap_or_default();
            let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
            entry.fill_dormant_file_progress(&bitfield);
            let t = entry.torrent.as_ref().ok_or(EngineError::Stopped)?;
            let is_chosen = |i: &usize| all || chosen.contains(i);
            entry.record.selected_bytes = (0..t.files.len())
                .filter(is_chosen)
                .map(|i| t.files[i].len)
                .sum();
            entry.record.have_bytes = (0..t.files.len())
                .filter(is_chosen)
                .map(|i| entry.file_progress.get(i).copied().unwrap_or(0))
                .sum();
            self.store.put(&entry.record).map_err(store_err)?;
        }
        info!(info_hash = %hash, "file selection changed");
        // A torrent that failed (a selection that did not fit its files, say) gets another
        // try with the new one; if it still cannot start, its error says why.
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        if entry.handle.is_none() && entry.record.error.take().is_some() {
            let problem = start_problem(&self.roots, &entry.record, entry.torrent.as_ref());
            let result = match problem {
                Some(e) => Err(e),
                None if entry.record.paused => Ok(()),
                None => self.start_torrent(&hash).await,
            };
            if let Err(e) = result {
                self.set_error(&hash, e.to_string());
                return Err(e);
            }
            let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
            self.store.put(&entry.record).map_err(store_err)?;
        }
        Ok(())
    }
}
