//! Tags and storage roots while no session runs: what `trove tag` and `trove root` do to
//! the store, by the same rules as the running engine's commands (see `session::tags`,
//! `session::stored_roots` and `session::set_root`).

use std::collections::BTreeSet;
use std::path::Path;

use trove_proto::command::EngineError;

use super::{SavedSession, store_err};
use crate::roots::RootManager;
use crate::session::{move_refused, removable_roots};
use crate::store::{SessionSettings, SessionStore, TorrentRecord};
use crate::tags::{check_tags, edited, names_to_remove};
use crate::torrents::torrent_root;

impl SavedSession {
    /// The config's roots and the ones kept in this store, as the next session has them.
    pub fn roots(&self, config: &RootManager) -> anyhow::Result<RootManager> {
        let stored = self.store.settings().map_err(store_err)?.roots;
        Ok(config.clone().with_stored(&stored).0)
    }

    fn edit_settings(&self, edit: impl FnOnce(&mut SessionSettings)) -> anyhow::Result<()> {
        let mut settings = self.store.settings().map_err(store_err)?;
        edit(&mut settings);
        self.store.put_settings(&settings).map_err(store_err)
    }

    /// Adds tags to the session's own list (as a running session does with every tag put
    /// on a torrent).
    pub(super) fn learn_tags(&self, tags: &[String]) -> anyhow::Result<()> {
        if tags.is_empty() {
            return Ok(());
        }
        self.edit_settings(|s| {
            let mut known: BTreeSet<String> = s.tags.drain(..).collect();
            known.extend(tags.iter().cloned());
            s.tags = known.into_iter().collect();
        })
    }

    /// Puts `add` on and takes `remove` off the torrents `ids` name, telling `done` of
    /// each; a bad name or an unknown id changes nothing.
    pub fn edit_tags(
        &self,
        ids: &[String],
        add: &[String],
        remove: &[String],
        mut done: impl FnMut(&TorrentRecord),
    ) -> anyhow::Result<()> {
        let add = check_tags(add).map_err(store_err)?;
        let remove = names_to_remove(remove);
        let records = self.find_all(ids)?;
        self.learn_tags(&add)?;
        for mut r in records {
            let tags = edited(&r.tags, &add, &remove);
            if tags != r.tags {
                r.tags = tags;
                self.store.put(&r).map_err(store_err)?;
            }
            done(&r);
        }
        Ok(())
    }

    /// Creates a storage root kept in the store; refused for a label the config (or the
    /// store) has already.
    pub fn create_root(
        &self,
        config: &RootManager,
        label: &str,
        path: &Path,
    ) -> anyhow::Result<()> {
        let roots = self.roots(config)?;
        let root = roots.check_new_stored(label, path).map_err(store_err)?;
        self.edit_settings(|s| s.roots.push(root))
    }

    /// Points a stored root at another folder, as the running engine does: refused while a
    /// torrent has data in it; the torrents without data follow it. Returns the new path.
    pub fn move_root(
        &self,
        config: &RootManager,
        label: &str,
        path: &Path,
    ) -> anyhow::Result<std::path::PathBuf> {
        let mut roots = self.roots(config)?;
        let root = roots.stored_root(label).map_err(store_err)?.clone();
        let users: Vec<TorrentRecord> = self
            .store
            .list()
            .map_err(store_err)?
            .into_iter()
            .filter(|r| r.root_token == root.token)
            .collect();
        let with_data = users.iter().filter(|r| self.has_data(&roots, r)).count();
        if with_data > 0 {
            return Err(store_err(move_refused(&root, path, with_data)));
        }
        let new_path = roots
            .set_stored_path(&root.label, path)
            .map_err(store_err)?;
        let stored = roots.stored();
        self.edit_settings(|s| s.roots = stored)?;
        for mut r in users {
            r.root_path = Some(new_path.clone());
            self.store.put(&r).map_err(store_err)?;
        }
        Ok(new_path)
    }

    /// Whether a torrent has data on disk: bytes counted, or one of its files present
    /// under its root (the running engine's rule).
    fn has_data(&self, roots: &RootManager, r: &TorrentRecord) -> bool {
        if r.have_bytes > 0 {
            return true;
        }
        match (self.torrent_of(r), torrent_root(roots, r)) {
            (Some(t), Ok(place)) => t.file_paths(place.path()).iter().any(|p| p.exists()),
            _ => false,
        }
    }

    /// Forgets stored roots, all or none, as the running engine does.
    pub fn remove_roots(&self, config: &RootManager, labels: &[String]) -> anyhow::Result<()> {
        let roots = self.roots(config)?;
        let records = self.store.list().map_err(store_err)?;
        let tokens = removable_roots(&roots, labels, |token| {
            records.iter().filter(|r| r.root_token == token).count()
        })
        .map_err(store_err)?;
        self.edit_settings(|s| s.roots.retain(|r| !tokens.contains(&r.label)))
    }

    /// Puts a torrent with no data on disk in another root; one with data is refused and
    /// stays where it is.
    pub fn set_root(
        &self,
        config: &RootManager,
        id: &str,
        root: &str,
    ) -> anyhow::Result<TorrentRecord> {
        let roots = self.roots(config)?;
        let mut r = self.one(id)?;
        let target = roots.choose(Some(root.trim())).map_err(store_err)?;
        let current = roots
            .by_token(&r.root_token)
            .map_or(r.root_token.as_str(), |c| c.token.as_str());
        if current == target.token {
            return Ok(r);
        }
        if self.has_data(&roots, &r) {
            return Err(store_err(EngineError::Root(format!(
                "{} has data on disk, so it stays in storage root '{}': move it with its data with `trove move {} --root {}` while trove runs",
                r.name, r.root_token, r.info_hash, target.label
            ))));
        }
        let t = self.torrent_of(&r);
        roots.check_usable(target).map_err(store_err)?;
        if let Some(t) = &t {
            crate::source::check_no_symlinks(t, &target.path).map_err(store_err)?;
        }
        r.root_token = target.token.clone();
        r.root_path = Some(target.path.clone());
        self.store.put(&r).map_err(store_err)?;
        Ok(r)
    }
}
