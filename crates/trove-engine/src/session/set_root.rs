//! Putting a torrent in another storage root. A torrent with no data on disk is taken out of
//! librqbit, its record gets the new root, and it is handed back, as a limit change re-adds
//! a torrent; one with data is refused and pointed at a move (see `moves`).

use tracing::info;
use trove_proto::command::{EngineError, EngineResult};

use super::engine::{Engine, store_err};
use crate::torrents::torrent_root;

impl Engine {
    /// Whether a torrent has data on disk: bytes counted, or any of its files present
    /// under its current root.
    pub(super) fn has_data(&self, hash: &str) -> bool {
        let Some(e) = self.torrents.get(hash) else {
            return false;
        };
        if e.record.have_bytes > 0 {
            return true;
        }
        let (Some(t), Ok(root)) = (&e.torrent, torrent_root(&self.roots, &e.record)) else {
            return false;
        };
        crate::torrents::data_paths(t, root.path(), e.record.vault_file.as_deref())
            .iter()
            .any(|p| p.exists())
    }

    pub(super) async fn set_root(&mut self, id: &str, root: &str) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let target = self.roots.choose(Some(root.trim()))?.clone();
        let entry = self.torrents.get(&hash).ok_or(EngineError::Stopped)?;
        let current = self
            .roots
            .by_token(&entry.record.root_token)
            .map(|r| r.token.clone())
            .unwrap_or_else(|| entry.record.root_token.clone());
        if current == target.token {
            return Ok(());
        }
        let name = entry.record.name.clone();
        if self.has_data(&hash) {
            return Err(EngineError::Root(format!(
                "{name} has data on disk, so it stays in storage root '{}': move it with its data with `trove move {hash} --root {}`",
                entry.record.root_token, target.label
            )));
        }
        self.roots.check_usable(&target)?;
        if let Some(t) = &entry.torrent {
            crate::source::check_no_symlinks(t, &target.path)?;
        }
        let live = entry.handle.is_some();
        if live {
            self.retire(&hash).await?;
        }
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        entry.record.root_token = target.token.clone();
        entry.record.root_path = Some(target.path.clone());
        // Its data (none yet) will be kept as the new root keeps data.
        entry.record.vault_file = match (&target.vault, entry.record.vault_file.take()) {
            (None, _) => None,
            (Some(_), Some(f)) => Some(f),
            (Some(_), None) => Some(crate::vault::new_file_name().map_err(EngineError::Root)?),
        };
        entry.file_progress.clear();
        self.store.put(&entry.record).map_err(store_err)?;
        info!(info_hash = %hash, root = %target.token, path = %target.path.display(), "{name} moved to storage root '{}'", target.label);
        if live {
            self.start_torrent(&hash).await?;
        }
        Ok(())
    }
}
