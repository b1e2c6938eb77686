//! Removing a torrent from the session and the store, with or without its data.

use librqbit::api::TorrentIdOrHash;
use tracing::{info, warn};
use trove_proto::command::{EngineError, EngineResult};

use super::engine::{Engine, store_err};
use crate::bitfield;
use crate::torrents::{delete_torrent_files, torrent_root};

impl Engine {
    pub(super) async fn remove(&mut self, id: &str, delete_data: bool) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        self.forget_move(&hash);
        self.vaults.forget(&hash);
        let Some(mut entry) = self.torrents.remove(&hash) else {
            return Err(EngineError::UnknownId(id.into()));
        };
        if let Some(r) = entry.resolver.take() {
            r.abort();
        }
        let root = self.roots.by_token(&entry.record.root_token).cloned();
        let data_root = torrent_root(&self.roots, &entry.record)
            .ok()
            .map(|r| r.path().to_path_buf());
        if let Some(h) = entry.handle.take() {
            let result = self
                .session
                .delete(TorrentIdOrHash::Id(h.id()), delete_data)
                .await;
            self.log.forget_torrent(h.id());
            if let Err(e) = result {
                warn!(info_hash = %hash, "librqbit could not remove everything: {e:#}");
            }
        } else {
            // Dormant (paused, not in librqbit): its bitfield file is ours to delete, or a
            // later add of the same torrent would believe pieces it no longer has.
            if let Some(dir) = &self.fastresume_dir {
                bitfield::remove(dir, &hash);
            }
            if delete_data && let (Some(t), Some(root)) = (&entry.torrent, &data_root) {
                delete_torrent_files(t, root, entry.record.vault_file.as_deref());
            }
        }
        // librqbit removes a torrent's folder when it is empty; a root must survive that.
        if let Some(root) = root
            && !root.path.exists()
        {
            let _ = std::fs::create_dir_all(&root.path);
        }
        self.store.remove(&hash).map_err(store_err)?;
        info!(info_hash = %hash, delete_data, "removed {}", entry.record.name);
        Ok(())
    }
}
