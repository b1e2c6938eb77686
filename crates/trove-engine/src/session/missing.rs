//! Missing data: a torrent whose files were deleted or cut short behind trove's back is
//! held out of librqbit (as a paused torrent is) with its error naming the files, and
//! nothing is downloaded again until the user acts: a re-check (which then downloads what
//! is gone: the user asked), `Locate` (its data is in another root) or a removal.
//!
//! It is found at start, before a torrent with recorded pieces is handed to librqbit (its
//! bitfield says which files hold data: each is `stat`ed), and while running by a `stat`
//! of every seeding torrent's files every few seconds, on a blocking thread. Files are
//! looked at by path: librqbit keeps them open, and a deleted file still reads through its
//! open descriptor.

use std::path::Path;
use std::time::Duration;

use tracing::{info, warn};
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::library::MissingData;
use trove_proto::snapshot::{InfoHash, TorrentState};

use super::engine::{Engine, Internal, store_err};
use crate::bitfield;
use crate::file_index;
use crate::library::{self, FileCheck};
use crate::source::CheckedTorrent;

/// How often seeding torrents' files are looked at.
pub(super) const DATA_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// The files a torrent's bitfield (in `dir`) says hold data that are gone or of another
/// size under `root`; None when it has no bitfield (nothing recorded to lose) or all is
/// there.
pub(super) fn recorded_data_gone(
    dir: Option<&Path>,
    hash: &str,
    t: &CheckedTorrent,
    root: &Path,
    vault_file: Option<&str>,
    only_files: Option<&[usize]>,
) -> Option<MissingData> {
    let bf = bitfield::read(dir?, hash)?;
    let have = file_index::progress_from_bitfield(t, &bf);
    Some(library::missing_data(
        t,
        root,
        vault_file,
        Some(&have),
        only_files,
    ))
    .filter(|m| !m.is_empty())
}

impl Engine {
    /// Holds a torrent whose data went missing: out of librqbit, its record saying which
    /// files, in the error state. Returns the error its start would report.
    pub(super) async fn hold_missing(&mut self, hash: &str, problem: MissingData) -> EngineError {
        let msg = problem.sentence();
        if let Err(e) = self.retire(hash).await {
            warn!(info_hash = %hash, "cannot take the torrent out of the session: {e}");
        }
        if let Some(e) = self.torrents.get_mut(hash) {
            warn!(info_hash = %hash, "{}: {msg}", e.record.name);
            e.record.missing_data = Some(problem);
            e.record.error = Some(msg.clone());
            e.record.last_state = TorrentState::Error;
            if let Err(err) = self.store.put(&e.record) {
                warn!("cannot save torrent state: {err}");
            }
        }
        EngineError::Engine(msg)
    }

    /// Starts a look at every seeding torrent's files on a blocking thread (unless one is
    /// under way); what it finds comes back as `Internal::DataChecked`.
    pub(super) fn check_seeding_data(&mut self) {
        if self.data_check_running {
            return;
        }
        let mut work: Vec<(InfoHash, Vec<FileCheck>)> = Vec::new();
        for (hash, e) in &self.torrents {
            let seeding = e
                .summary
                .as_ref()
                .is_some_and(|s| s.state == TorrentState::Seeding);
            let (Some(t), true, true) = (&e.torrent, seeding, e.handle.is_some()) else {
                continue;
            };
            let Some(root) = library::root_path_of(&self.roots, &e.record) else {
                continue;
            };
            let files = library::files_to_check(
                t,
                &root,
                e.record.vault_file.as_deref(),
                None,
                e.record.only_files.as_deref(),
            );
            work.push((hash.clone(), files));
        }
        if work.is_empty() {
            return;
        }
        self.data_check_running = true;
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let found = tokio::task::spawn_blocking(move || {
                work.into_iter()
                    .map(|(hash, files)| (hash, library::check_files(&files)))
                    .filter(|(_, m)| !m.is_empty())
                    .collect()
            })
            .await
            .unwrap_or_default();
            let _ = tx.send(Internal::DataChecked(found));
        });
    }

    /// Holds each torrent the look found files missing for (if it is still running).
    pub(super) async fn data_checked(&mut self, found: Vec<(InfoHash, MissingData)>) {
        self.data_check_running = false;
        for (hash, problem) in found {
            if self.torrents.get(&hash).is_some_and(|e| e.handle.is_some()) {
                self.hold_missing(&hash, problem).await;
            }
        }
    }

    /// Points a torrent at the root its data is in (label or token), after checking the
    /// files it has data in are there at their size, then verifies them against the piece
    /// hashes. Refused (nothing changes) when they are not.
    pub(super) async fn locate(&mut self, id: &str, root_name: &str) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let root = self.roots.choose(Some(root_name))?.clone();
        self.roots.check_usable(&root)?;
        let dir = self.fastresume_dir.clone();
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        if entry.handle.is_none()
            && let Some(bf) = dir.as_deref().and_then(|d| bitfield::read(d, &hash))
        {
            entry.fill_dormant_file_progress(&bf);
        }
        library::check_located(
            &entry.record,
            entry.torrent.as_ref(),
            &root,
            &entry.file_progress,
        )?;
        self.retire(&hash).await?;
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        entry.record.root_token = root.token.clone();
        entry.record.root_path = Some(root.path.clone());
        entry.record.missing_data = None;
        entry.record.error = None;
        entry.record.paused = false;
        self.store.put(&entry.record).map_err(store_err)?;
        info!(info_hash = %hash, "{} located in storage root '{}'", entry.record.name, root.label);
        self.recheck(&hash).await
    }
}
