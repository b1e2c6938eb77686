//! The queue's order and the seeding goals kept in the store: how a move reorders the
//! queue (one rule for the running engine and the saved session), and the same edits as
//! the running engine's `Queue`, `Force`, `SetQueueLimits` and `SetGoals` for when no
//! session runs.

use trove_proto::queue::{QueueLimits, QueueMove, SeedingGoals};
use trove_proto::snapshot::InfoHash;

use super::{SavedSession, store_err};
use crate::store::{SessionStore, TorrentRecord};

/// `order` with the torrents `moved` moved: to the top or the bottom together (keeping
/// their order), or one place up or down each (a torrent already first or last stays).
pub fn reorder(order: Vec<InfoHash>, moved: &[InfoHash], to: QueueMove) -> Vec<InfoHash> {
    let is_moved = |h: &InfoHash| moved.contains(h);
    match to {
        QueueMove::Top | QueueMove::Bottom => {
            let (mut picked, rest): (Vec<_>, Vec<_>) = order.into_iter().partition(is_moved);
            if to == QueueMove::Top {
                picked.extend(rest);
                picked
            } else {
                let mut rest = rest;
                rest.extend(picked);
                rest
            }
        }
        QueueMove::Up => {
            let mut order = order;
            for i in 1..order.len() {
                if is_moved(&order[i]) && !is_moved(&order[i - 1]) {
                    order.swap(i, i - 1);
                }
            }
            order
        }
        QueueMove::Down => {
            let mut order = order;
            for i in (0..order.len().saturating_sub(1)).rev() {
                if is_moved(&order[i]) && !is_moved(&order[i + 1]) {
                    order.swap(i, i + 1);
                }
            }
            order
        }
    }
}

/// Records in queue order: by place, then by when they were added.
pub(crate) fn in_queue_order(mut records: Vec<TorrentRecord>) -> Vec<TorrentRecord> {
    records.sort_by(|a, b| {
        (a.queue_position, a.added_at, &a.info_hash).cmp(&(
            b.queue_position,
            b.added_at,
            &b.info_hash,
        ))
    });
    records
}

impl SavedSession {
    /// The record of the torrent `id` names (an info-hash or a unique prefix).
    pub fn record_of(&self, id: &str) -> anyhow::Result<TorrentRecord> {
        self.one(id)
    }

    /// Moves the torrents `ids` name in the queue; every place is written again from 1 up.
    /// Returns the new order. An unknown id changes nothing.
    pub fn move_in_queue(
        &self,
        ids: &[String],
        to: QueueMove,
    ) -> anyhow::Result<Vec<TorrentRecord>> {
        let moved: Vec<InfoHash> = self
            .find_all(ids)?
            .into_iter()
            .map(|r| r.info_hash)
            .collect();
        let records = in_queue_order(self.store.list().map_err(store_err)?);
        let order = reorder(
            records.iter().map(|r| r.info_hash.clone()).collect(),
            &moved,
            to,
        );
        let mut out = Vec::new();
        for (i, hash) in order.iter().enumerate() {
            let Some(mut r) = records.iter().find(|r| &r.info_hash == hash).cloned() else {
                continue;
            };
            if r.queue_position != i as u64 + 1 {
                r.queue_position = i as u64 + 1;
                self.store.put(&r).map_err(store_err)?;
            }
            out.push(r);
        }
        Ok(out)
    }

    /// Forces torrents to start regardless of the queue (`on`), or gives them back to it.
    pub fn set_forced(&self, ids: &[String], on: bool) -> anyhow::Result<Vec<TorrentRecord>> {
        let mut out = Vec::new();
        for mut r in self.find_all(ids)? {
            r.forced = on;
            self.store.put(&r).map_err(store_err)?;
            out.push(r);
        }
        Ok(out)
    }

    /// The queue's limits last set at run time, if any.
    pub fn stored_queue_limits(&self) -> anyhow::Result<Option<QueueLimits>> {
        Ok(self.store.settings().map_err(store_err)?.queue)
    }

    pub fn set_queue_limits(&self, limits: QueueLimits) -> anyhow::Result<()> {
        let mut settings = self.store.settings().map_err(store_err)?;
        settings.queue = Some(limits);
        self.store.put_settings(&settings).map_err(store_err)
    }

    /// The session's goals last set at run time: None when never set there (the config
    /// file's apply), Some(None) when cleared.
    pub fn stored_goals(&self) -> anyhow::Result<Option<Option<SeedingGoals>>> {
        let s = self.store.settings().map_err(store_err)?;
        Ok(s.goals_set.then_some(s.goals))
    }

    /// Sets the session's goals (`id` None) or a torrent's own; returns the torrent.
    pub fn set_goals(
        &self,
        id: Option<&str>,
        goals: Option<SeedingGoals>,
    ) -> anyhow::Result<Option<TorrentRecord>> {
        match id {
            None => {
                let mut settings = self.store.settings().map_err(store_err)?;
                settings.goals = goals;
                settings.goals_set = true;
                self.store.put_settings(&settings).map_err(store_err)?;
                Ok(None)
            }
            Some(id) => {
                let mut r = self.one(id)?;
                r.goals = goals;
                self.store.put(&r).map_err(store_err)?;
                Ok(Some(r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(s: &str) -> Vec<InfoHash> {
        s.chars().map(|c| c.to_string()).collect()
    }

    fn moved(s: &str, m: &str, to: QueueMove) -> String {
        reorder(order(s), &order(m), to).concat()
    }

    #[test]
    fn moves_to_the_top_and_bottom_keep_the_moved_torrents_order() {
        assert_eq!(moved("abcde", "db", QueueMove::Top), "bdace");
        assert_eq!(moved("abcde", "b", QueueMove::Bottom), "acdeb");
    }

    #[test]
    fn moves_up_and_down_go_one_place_and_stop_at_the_ends() {
        assert_eq!(moved("abcde", "c", QueueMove::Up), "acbde");
        assert_eq!(moved("abcde", "a", QueueMove::Up), "abcde");
        assert_eq!(moved("abcde", "c", QueueMove::Down), "abdce");
        assert_eq!(moved("abcde", "e", QueueMove::Down), "abcde");
        assert_eq!(moved("abcde", "bc", QueueMove::Up), "bcade");
    }
}
