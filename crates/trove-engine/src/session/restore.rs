//! Bringing the store back at start: every stored torrent gets its entry at once, and
//! librqbit gets them a few at a time in between commands.

use anyhow::Context;
use tracing::{info, warn};

use super::engine::{Engine, Entry};
use crate::bitfield;
use crate::source;
use crate::torrents::start_problem;
use trove_proto::snapshot::TorrentState;

impl Engine {
    /// Brings back every torrent in the store. After a crash, an unfinished torrent's
    /// bitfield may be older than its data (it is written every 10 s): drop it so librqbit
    /// hashes what is on disk instead of downloading it again. Finished torrents keep theirs
    /// (librqbit writes it the moment they finish), so they still skip the re-hash.
    pub(super) async fn restore(&mut self, crashed: bool) -> anyhow::Result<()> {
        let records = self.store.list().context("reading the store")?;
        info!(count = records.len(), "restoring torrents from the store");
        for record in records {
            let hash = record.info_hash.clone();
            let torrent = match self.store.torrent_bytes(&hash) {
                Ok(Some(bytes)) => match source::check_torrent(&bytes, &record.name) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        warn!(info_hash = %hash, "stored torrent no longer passes checks: {e}");
                        None
                    }
                },
                Ok(None) => None,
                Err(e) => {
                    warn!(info_hash = %hash, "cannot read stored torrent: {e}");
                    None
                }
            };
            if crashed
                && record.completed_at.is_none()
                && let Some(dir) = &self.fastresume_dir
            {
                bitfield::remove(dir, &hash);
            }
            let mut record = record;
            super::move_recovery::recover_move(self.store.as_ref(), &mut record);
            if record.root_path.is_none()
                && let Some(root) = self.roots.by_token(&record.root_token)
            {
                // Recorded by troves from before root paths were kept: taken from the
                // config while it still declares the root.
                record.root_path = Some(root.path.clone());
                let _ = self.store.put(&record);
            }
            // A paused torrent's error stands only while its cause does (a root declared
            // again, a folder back): nothing else would clear it before it is resumed.
            if record.paused
                && record.error.is_some()
                && torrent.is_some()
                && start_problem(&self.roots, &record, torrent.as_ref()).is_none()
            {
                info!(info_hash = %hash, "{}: the cause of its error is gone", record.name);
                record.error = None;
                record.last_state = TorrentState::Paused;
                let _ = self.store.put(&record);
            }
            let has_torrent = torrent.is_some();
            let dormant = record.paused && self.fastresume_dir.is_some();
            self.torrents
                .insert(hash.clone(), Entry::new(record, torrent));
            if dormant {
                // A paused torrent stays out of librqbit until it is resumed: there it
                // would cost a flusher task that wakes every 5 s (a thousand paused
                // torrents: 200 wake-ups a second) and memory, for nothing. Its record and
                // bitfield file are all it needs to be shown and resumed.
                continue;
            }
            if has_torrent {
                self.to_restore.push_back(hash);
            } else {
                self.resolve_metadata(&hash);
            }
        }
        Ok(())
    }

    /// Hands a few stored torrents to librqbit. The loop calls it while any are left, in
    /// between commands, so the first snapshot (every stored torrent, queued) is out at
    /// once and the dashboard answers keys while a large session comes back.
    pub(super) async fn restore_some(&mut self) {
        const BATCH: usize = 8;
        for _ in 0..BATCH {
            let Some(hash) = self.to_restore.pop_front() else {
                break;
            };
            // Removed meanwhile, or already started by a resume: nothing to do.
            if self.torrents.get(&hash).is_none_or(|e| e.handle.is_some()) {
                continue;
            }
            if let Err(e) = self.start_torrent(&hash).await {
                self.set_error(&hash, e.to_string());
            }
        }
        if self.to_restore.is_empty() {
            info!(count = self.torrents.len(), "every stored torrent is back");
        }
    }
}
