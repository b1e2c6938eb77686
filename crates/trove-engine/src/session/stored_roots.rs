//! Storage roots kept in the store (`trove root add`, a qBittorrent client's categories):
//! creating one, moving one while no torrent has data in it, and forgetting ones no
//! torrent uses. The config file's roots are never changed here.

use std::path::Path;

use tracing::info;
use trove_proto::command::{EngineError, EngineResult};

use super::engine::{Engine, store_err};
use crate::roots::{RootManager, StorageRoot};

impl Engine {
    /// Writes the stored roots to the store and probes every root again for the snapshot.
    fn save_stored_roots(&mut self) -> EngineResult<()> {
        let stored = self.roots.stored();
        self.edit_settings(|s| s.roots = stored)?;
        self.root_info = self.roots.info();
        Ok(())
    }

    pub(super) fn create_root(&mut self, label: &str, path: &Path) -> EngineResult<()> {
        let root = self.roots.check_new_stored(label, path)?;
        info!(
            "storage root '{}' created at {}",
            root.label,
            root.path.display()
        );
        self.roots.add_stored(root);
        self.save_stored_roots()
    }

    /// Moves a stored root to another folder. Refused while a torrent has data in it (the
    /// data would have to move too); the torrents without data follow it.
    pub(super) async fn edit_root(&mut self, label: &str, path: &Path) -> EngineResult<()> {
        let root = self.roots.stored_root(label)?.clone();
        let users: Vec<String> = self
            .torrents
            .iter()
            .filter(|(_, e)| e.record.root_token == root.token)
            .map(|(h, _)| h.clone())
            .collect();
        let with_data = users.iter().filter(|h| self.has_data(h)).count();
        if with_data > 0 {
            return Err(move_refused(&root, path, with_data));
        }
        let new_path = self.roots.set_stored_path(&root.label, path)?;
        if new_path == root.path {
            return Ok(());
        }
        self.save_stored_roots()?;
        info!(
            "storage root '{}' moved from {} to {}",
            root.label,
            root.path.display(),
            new_path.display()
        );
        for hash in users {
            if let Some(e) = self.torrents.get_mut(&hash) {
                e.record.root_path = Some(new_path.clone());
                self.store.put(&e.record).map_err(store_err)?;
            }
            self.readd(&hash).await?;
        }
        Ok(())
    }

    /// Forgets stored roots, all or none: each must be a stored root no torrent uses.
    pub(super) fn remove_roots(&mut self, labels: &[String]) -> EngineResult<()> {
        let tokens = removable(&self.roots, labels, |token| {
            self.torrents
                .values()
                .filter(|e| e.record.root_token == token)
                .count()
        })?;
        self.roots.remove_stored(&tokens);
        self.save_stored_roots()?;
        info!(roots = ?tokens, "storage roots removed");
        Ok(())
    }
}

/// Why a stored root cannot move to `path`: `with_data` torrents have data in it.
pub(crate) fn move_refused(root: &StorageRoot, path: &Path, with_data: usize) -> EngineError {
    EngineError::Root(format!(
        "storage root '{}' cannot move to {}: {with_data} torrent{} in it {} data in {}; move {} to another root first (`trove move ID --root LABEL`), or create another root with `trove root add LABEL PATH` and use that",
        root.label,
        path.display(),
        plural(with_data),
        if with_data == 1 { "has" } else { "have" },
        root.path.display(),
        if with_data == 1 { "it" } else { "them" },
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The tokens of the stored roots `labels` name, or why one of them cannot go: it is not
/// a stored root, or `users(token)` torrents still use it.
pub(crate) fn removable(
    roots: &RootManager,
    labels: &[String],
    users: impl Fn(&str) -> usize,
) -> EngineResult<Vec<String>> {
    let mut tokens = Vec::new();
    for label in labels {
        let root = roots.stored_root(label)?;
        let n = users(&root.token);
        if n > 0 {
            return Err(EngineError::Root(format!(
                "storage root '{}' is used by {n} torrent{}: put {} in another root (`trove root set ID ROOT`, while {} no data) or remove {} (`trove remove ID`) first; nothing was removed",
                root.label,
                plural(n),
                if n == 1 { "it" } else { "them" },
                if n == 1 { "it has" } else { "they have" },
                if n == 1 { "it" } else { "them" },
            )));
        }
        if !tokens.contains(&root.token) {
            tokens.push(root.token.clone());
        }
    }
    Ok(tokens)
}
