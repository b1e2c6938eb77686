//! Tags: putting them on torrents and taking them off, creating and deleting them for the
//! whole session. The session's own list (tags created on their own, and every tag ever
//! put on a torrent until it is deleted) is kept in the store's session settings, as
//! qBittorrent keeps a tag after the last torrent with it is gone.

use std::collections::BTreeSet;

use tracing::info;
use trove_proto::command::{EngineError, EngineResult};

use super::engine::{Engine, store_err};
use crate::store::SessionSettings;
use crate::tags::{check_tags, edited, names_to_remove};

impl Engine {
    /// Every tag the session knows: its own list and every torrent's, sorted.
    pub(super) fn all_tags(&self) -> Vec<String> {
        let mut all: BTreeSet<&String> = self.known_tags.iter().collect();
        for e in self.torrents.values() {
            all.extend(e.record.tags.iter());
        }
        all.into_iter().cloned().collect()
    }

    /// Changes the session settings kept in the store with `edit` (read, changed, written).
    pub(super) fn edit_settings(
        &self,
        edit: impl FnOnce(&mut SessionSettings),
    ) -> EngineResult<()> {
        let mut settings = self.store.settings().map_err(store_err)?;
        edit(&mut settings);
        self.store.put_settings(&settings).map_err(store_err)
    }

    /// Adds tags to the session's own list, in memory and in the store.
    pub(super) fn learn_tags(&mut self, tags: &[String]) -> EngineResult<()> {
        if tags.iter().all(|t| self.known_tags.contains(t)) {
            return Ok(());
        }
        self.known_tags.extend(tags.iter().cloned());
        let known: Vec<String> = self.known_tags.iter().cloned().collect();
        self.edit_settings(|s| s.tags = known)
    }

    /// Puts `add` on and takes `remove` off every torrent `ids` names. Every ID and name is
    /// checked before anything changes.
    pub(super) fn edit_tags(
        &mut self,
        ids: &[String],
        add: &[String],
        remove: &[String],
    ) -> EngineResult<()> {
        let add = check_tags(add)?;
        let remove = names_to_remove(remove);
        let hashes = ids
            .iter()
            .map(|id| self.resolve_id(id))
            .collect::<EngineResult<Vec<_>>>()?;
        self.learn_tags(&add)?;
        for hash in hashes {
            let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
            let tags = edited(&entry.record.tags, &add, &remove);
            if tags == entry.record.tags {
                continue;
            }
            info!(info_hash = %hash, ?tags, "tags of {} set", entry.record.name);
            entry.record.tags = tags;
            self.store.put(&entry.record).map_err(store_err)?;
        }
        Ok(())
    }

    pub(super) fn create_tags(&mut self, names: &[String]) -> EngineResult<()> {
        let tags = check_tags(names)?;
        self.learn_tags(&tags)?;
        info!(?tags, "tags created");
        Ok(())
    }

    /// Forgets tags: from the session's list and from every torrent that has them.
    pub(super) fn delete_tags(&mut self, names: &[String]) -> EngineResult<()> {
        let gone = names_to_remove(names);
        if gone.iter().any(|t| self.known_tags.contains(t)) {
            self.known_tags.retain(|t| !gone.contains(t));
            let known: Vec<String> = self.known_tags.iter().cloned().collect();
            self.edit_settings(|s| s.tags = known)?;
        }
        for (hash, e) in self.torrents.iter_mut() {
            if !e.record.tags.iter().any(|t| gone.contains(t)) {
                continue;
            }
            e.record.tags = edited(&e.record.tags, &[], &gone);
            self.store.put(&e.record).map_err(store_err)?;
            info!(info_hash = %hash, "tags {gone:?} taken off {}", e.record.name);
        }
        info!(tags = ?gone, "tags deleted");
        Ok(())
    }
}
