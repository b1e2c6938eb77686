//! Moving a torrent's data to another storage root while the session runs.
//!
//! On one filesystem the torrent's top-level file or folder is renamed and the record
//! switched in one store write. Across filesystems it is copied off the engine task (the
//! torrent keeps seeding from the source meanwhile; one still downloading is taken out of
//! librqbit for the move, so its files stop changing, and comes back after), synced,
//! verified against the piece hashes, and only then is the record switched to the target
//! root, librqbit pointed at it (retired and re-added with its fast-resume bitfield) and
//! the source deleted. A journal in the record ([`MoveJournal`]) is written before any byte
//! moves, so a start after a crash can finish or undo the move (see `move_recovery`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use humansize::{BINARY, format_size};
use tracing::{info, warn};
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::snapshot::{InfoHash, MoveProgress, TorrentSummary};

use super::engine::{Engine, Internal, store_err};
use crate::relocate::{self, CopyFailure};
use crate::roots::StorageRoot;
use crate::source::CheckedTorrent;
use crate::store::{MoveJournal, MovePhase};
use crate::torrents::torrent_root;

/// A copy under way, off the engine task.
pub(super) struct ActiveMove {
    done: Arc<AtomicU64>,
    total: u64,
    cancel: Arc<AtomicBool>,
    /// Taken out of librqbit for the copy (it was still downloading): started again after.
    restart_after: bool,
    /// Where the copy goes, to remove it should the torrent leave the session meanwhile.
    target: PathBuf,
}

/// The moves under way, by info-hash.
pub(super) type ActiveMoves = HashMap<InfoHash, ActiveMove>;

/// The top-level entry of a torrent inside its root: its one file, or its folder.
pub(crate) fn top_entry(t: &CheckedTorrent) -> PathBuf {
    match (t.single_file, t.files.first()) {
        (true, Some(f)) => f.components.iter().collect(),
        _ => PathBuf::from(&t.name),
    }
}

impl Engine {
    /// Starts moving each torrent named to the root `root`; every id is resolved first.
    /// Moves that cannot start are reported together, the others go ahead.
    pub(super) async fn move_torrents(&mut self, ids: &[String], root: &str) -> EngineResult<()> {
        let hashes = ids
            .iter()
            .map(|id| self.resolve_id(id))
            .collect::<EngineResult<Vec<_>>>()?;
        let target = self.roots.choose(Some(root.trim()))?.clone();
        let mut problems = Vec::new();
        for hash in hashes {
            if let Err(e) = self.start_move(&hash, &target).await {
                problems.push(e.to_string());
            }
        }
        match problems.len() {
            0 => Ok(()),
            1 => Err(EngineError::Root(problems.remove(0))),
            _ => Err(EngineError::Root(problems.join("; "))),
        }
    }

    /// Moves one torrent to `target`: at once when it has no data or the roots share a
    /// filesystem, else by starting a background copy.
    pub(super) async fn start_move(
        &mut self,
        hash: &str,
        target: &StorageRoot,
    ) -> EngineResult<()> {
        let entry = self.torrents.get(hash).ok_or(EngineError::Stopped)?;
        let name = entry.record.name.clone();
        if let Some(j) = &entry.record.moving {
            return Err(EngineError::Root(format!(
                "{name} is already moving to storage root '{}': wait for it, or cancel it with `trove move --cancel {hash}`",
                j.to_label
            )));
        }
        let current = self
            .roots
            .by_token(&entry.record.root_token)
            .map(|r| r.token.clone())
            .unwrap_or_else(|| entry.record.root_token.clone());
        if current == target.token {
            return Ok(());
        }
        if !self.has_data(hash) {
            return self.set_root(hash, &target.token).await;
        }
        let Some(t) = entry.torrent.clone() else {
            return Err(EngineError::Root(format!(
                "{name}'s metadata is not known yet, so its files cannot be moved: try again once it is"
            )));
        };
        self.roots.check_usable(target)?;
        crate::source::check_no_symlinks(&t, &target.path)?;
        let from_path = torrent_root(&self.roots, &entry.record)?
            .path()
            .to_path_buf();
        let from_label = self
            .roots
            .by_token(&entry.record.root_token)
            .map_or_else(|| entry.record.root_token.clone(), |r| r.label.clone());
        let journal = MoveJournal {
            from_token: entry.record.root_token.clone(),
            from_label,
            from_path,
            to_token: target.token.clone(),
            to_label: target.label.clone(),
            to_path: target.path.clone(),
            entry: top_entry(&t),
            phase: MovePhase::Copying,
            from_vault_file: entry.record.vault_file.clone(),
            to_vault_file: target
                .vault
                .is_some()
                .then(crate::vault::new_file_name)
                .transpose()
                .map_err(EngineError::Root)?,
        };
        let (src, dst) = (journal.source(), journal.target());
        if std::fs::symlink_metadata(&src).is_err() {
            return Err(EngineError::Root(format!(
                "{name}'s data is not at {}: recheck it, or add its files back first",
                src.display()
            )));
        }
        if std::fs::symlink_metadata(&dst).is_ok() {
            return Err(EngineError::Root(format!(
                "storage root '{}' already has {}: move or remove that first, then move {name} again",
                target.label,
                dst.display()
            )));
        }
        let same_fs = relocate::same_filesystem(&journal.from_path, &journal.to_path)
            .map_err(|e| EngineError::Root(format!("cannot look at the storage roots ({e})")))?;
        if same_fs && !journal.converts() {
            self.move_by_rename(hash, journal).await
        } else {
            self.start_copy(hash, t, journal).await
        }
    }

    /// Same filesystem: out of librqbit, journal, rename, switch, back in.
    async fn move_by_rename(&mut self, hash: &str, mut journal: MoveJournal) -> EngineResult<()> {
        let live = self.torrents.get(hash).is_some_and(|e| e.handle.is_some());
        if live {
            self.retire(hash).await?;
        }
        journal.phase = MovePhase::Renaming;
        self.write_journal(hash, Some(journal.clone()))?;
        let renamed = std::fs::rename(journal.source(), journal.target())
            .and_then(|()| relocate::sync_dir(&journal.to_path))
            .and_then(|()| relocate::sync_dir(&journal.from_path));
        let result = match renamed {
            Ok(()) => self.switch_record(hash, &journal, None),
            Err(e) => {
                self.write_journal(hash, None)?;
                Err(EngineError::Root(format!(
                    "{} could not be renamed into storage root '{}' ({e}); it stays in '{}'",
                    journal.source().display(),
                    journal.to_label,
                    journal.from_label
                )))
            }
        };
        if result.is_ok() {
            let name = &self.torrents[hash].record.name;
            info!(info_hash = %hash, "moved {name} to storage root '{}' (renamed on the same filesystem)", journal.to_label);
        }
        if live {
            self.start_torrent(hash).await?;
        }
        result
    }

    /// Across filesystems: checks the room, writes the journal, starts the copy.
    async fn start_copy(
        &mut self,
        hash: &str,
        t: CheckedTorrent,
        journal: MoveJournal,
    ) -> EngineResult<()> {
        let name = self.torrents[hash].record.name.clone();
        let total = relocate::tree_size(&journal.source()).map_err(|e| {
            EngineError::Root(format!(
                "{name}'s data at {} cannot be read ({e})",
                journal.source().display()
            ))
        })?;
        let free = fs4::available_space(&journal.to_path).unwrap_or(u64::MAX);
        if total > free {
            return Err(EngineError::Root(format!(
                "storage root '{}' at {} has {} free, and moving {name} there needs {}: make space on it or choose another root",
                journal.to_label,
                journal.to_path.display(),
                format_size(free, BINARY),
                format_size(total, BINARY)
            )));
        }
        let entry = &self.torrents[hash];
        let complete = entry.record.selected_bytes > 0
            && entry.record.have_bytes >= entry.record.selected_bytes;
        let live = entry.handle.clone();
        let restart_after = live.is_some() && !complete;
        if restart_after {
            self.retire(hash).await?;
        }
        let haves = match &live {
            Some(h) if !restart_after => crate::bitfield::current(&self.api, h),
            _ => self.stored_bitfield(hash),
        };
        if let Err(e) = self.write_journal(hash, Some(journal.clone())) {
            if restart_after {
                let _ = self.start_torrent(hash).await;
            }
            return Err(e);
        }
        let done = Arc::new(AtomicU64::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let tx = self.internal_tx.clone();
        let (job_done, job_cancel, key) = (done.clone(), cancel.clone(), hash.to_string());
        let target = journal.target();
        let sides = if journal.converts() {
            match self.conversion_sides(&journal) {
                Ok(s) => Some(s),
                Err(e) => {
                    let _ = self.write_journal(hash, None);
                    if restart_after {
                        let _ = self.start_torrent(hash).await;
                    }
                    return Err(e);
                }
            }
        } else {
            None
        };
        tokio::task::spawn_blocking(move || {
            relocate::stall_if_asked(relocate::Stage::BeforeCopy);
            let result = match sides {
                Some((from, to)) => relocate::convert_and_verify(
                    &t,
                    &from,
                    &to,
                    &journal.target(),
                    haves.as_deref(),
                    &job_done,
                    &job_cancel,
                ),
                None => relocate::copy_and_verify(
                    &t,
                    &journal.from_path,
                    &journal.to_path,
                    &journal.entry,
                    haves.as_deref(),
                    &job_done,
                    &job_cancel,
                ),
            };
            let _ = tx.send(Internal::MoveCopied(key, result));
        });
        self.moves.insert(
            hash.to_string(),
            ActiveMove {
                done,
                total,
                cancel,
                restart_after,
                target,
            },
        );
        info!(info_hash = %hash, "moving {name} to storage root '{}': copying {}{}", self.torrents[hash].record.moving.as_ref().map_or("", |j| j.to_label.as_str()), format_size(total, BINARY), if restart_after { " (paused until the move is done, as it is still downloading)" } else { "" });
        Ok(())
    }

    /// A torrent that finished in a root with `complete_to` moves to that root.
    pub(super) async fn move_on_completion(&mut self, hash: &str) {
        let Some(e) = self.torrents.get(hash) else {
            return;
        };
        let Some(target) = self.roots.complete_to(&e.record.root_token).cloned() else {
            return;
        };
        let name = e.record.name.clone();
        info!(info_hash = %hash, "{name} finished: moving it to storage root '{}' (complete_to)", target.label);
        if let Err(err) = self.start_move(hash, &target).await {
            warn!(info_hash = %hash, "{name} finished but could not be moved to storage root '{}': {err}", target.label);
        }
    }

    /// Refuses to start a torrent taken out of librqbit for its move's copy.
    pub(super) fn check_not_held_by_move(&self, hash: &str) -> EngineResult<()> {
        match (self.moves.get(hash), self.torrents.get(hash)) {
            (Some(m), Some(e)) if m.restart_after => Err(EngineError::Root(format!(
                "{} is paused while its data moves to storage root '{}': it resumes when the move is done (or cancel the move with `trove move --cancel {hash}`)",
                e.record.name,
                e.record.moving.as_ref().map_or("", |j| j.to_label.as_str())
            ))),
            _ => Ok(()),
        }
    }

    /// Asks a copy under way to stop; its partial copy is removed before the torrent's
    /// move ends (see `move_copied`).
    pub(super) fn cancel_move(&mut self, id: &str) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        match self.moves.get(&hash) {
            Some(m) => {
                m.cancel.store(true, Ordering::Relaxed);
                Ok(())
            }
            None => Err(EngineError::Root(format!(
                "{} is not moving: there is nothing to cancel",
                self.torrents[&hash].record.name
            ))),
        }
    }

    /// The copy thread is done: switch to the target, or stay in the source.
    pub(super) async fn move_copied(&mut self, hash: &str, result: Result<(), CopyFailure>) {
        let Some(m) = self.moves.remove(hash) else {
            return;
        };
        let Some(journal) = self
            .torrents
            .get(hash)
            .and_then(|e| e.record.moving.clone())
        else {
            // Removed from the session meanwhile: the copy is no one's.
            if result.is_ok() {
                let _ = relocate::remove_entry(&m.target);
            }
            return;
        };
        let name = self.torrents[hash].record.name.clone();
        match result {
            Ok(()) => {
                let live = self.torrents[hash].handle.is_some();
                if live && let Err(e) = self.retire(hash).await {
                    warn!(info_hash = %hash, "{e}");
                }
                let mut switched = journal.clone();
                switched.phase = MovePhase::Switched;
                if let Err(e) = self.switch_record(hash, &journal, Some(switched)) {
                    // The record still names the source, which is whole: drop the copy.
                    let _ = relocate::remove_entry(&journal.target());
                    let _ = self.write_journal(hash, None);
                    self.set_error(hash, format!("the move of {name} could not be saved ({e}); it stays in storage root '{}'", journal.from_label));
                } else if let Some(dir) = &self.fastresume_dir
                    && let Some(e) = self.torrents.get_mut(hash)
                {
                    // The bitfield is by info-hash: it holds for the verified copy too.
                    e.flushed_bitfield = crate::bitfield::read(dir, hash);
                }
                if (live || m.restart_after)
                    && let Err(e) = self.start_torrent(hash).await
                {
                    self.set_error(hash, e.to_string());
                }
                let tx = self.internal_tx.clone();
                let key = hash.to_string();
                let source = journal.source();
                tokio::task::spawn_blocking(move || {
                    relocate::stall_if_asked(relocate::Stage::AfterSwitch);
                    let r = relocate::remove_entry(&source)
                        .and_then(|()| source.parent().map_or(Ok(()), relocate::sync_dir));
                    let _ = tx.send(Internal::MoveSourceGone(key, r.map_err(|e| e.to_string())));
                });
            }
            Err(failure) => {
                let _ = self.write_journal(hash, None);
                if m.restart_after
                    && let Err(e) = self.start_torrent(hash).await
                {
                    self.set_error(hash, e.to_string());
                }
                let stays = format!("{name} stays in storage root '{}'", journal.from_label);
                match failure {
                    CopyFailure::Cancelled => {
                        info!(info_hash = %hash, "the move of {name} to storage root '{}' was cancelled: the partial copy was removed; {stays}", journal.to_label)
                    }
                    CopyFailure::NoSpace => {
                        warn!(info_hash = %hash, "storage root '{}' at {} ran out of space while {name} was copied to it: the partial copy was removed; {stays}. Make space there, or choose another root", journal.to_label, journal.to_path.display())
                    }
                    CopyFailure::Io(e) => {
                        warn!(info_hash = %hash, "the move of {name} to storage root '{}' failed ({e}): the partial copy was removed; {stays}", journal.to_label)
                    }
                    CopyFailure::Mismatch(e) => {
                        warn!(info_hash = %hash, "the copy of {name} in storage root '{}' did not verify ({e}): it was removed; {stays}", journal.to_label)
                    }
                }
            }
        }
    }

    /// The source of a switched move is deleted: the move is over.
    pub(super) fn move_source_gone(&mut self, hash: &str, result: Result<(), String>) {
        let Some(journal) = self
            .torrents
            .get(hash)
            .and_then(|e| e.record.moving.clone())
        else {
            return;
        };
        let name = self.torrents[hash].record.name.clone();
        if let Err(e) = result {
            warn!(info_hash = %hash, "{name} now lives in storage root '{}', but its old copy at {} could not be deleted ({e}): delete it by hand", journal.to_label, journal.source().display());
        }
        if let Err(e) = self.write_journal(hash, None) {
            warn!(info_hash = %hash, "{e}");
        }
        info!(info_hash = %hash, "moved {name} to storage root '{}'", journal.to_label);
    }

    /// Points the record at the move's target root and sets its journal, in one write.
    fn switch_record(
        &mut self,
        hash: &str,
        journal: &MoveJournal,
        moving: Option<MoveJournal>,
    ) -> EngineResult<()> {
        let entry = self.torrents.get_mut(hash).ok_or(EngineError::Stopped)?;
        let mut record = entry.record.clone();
        record.root_token = journal.to_token.clone();
        record.root_path = Some(journal.to_path.clone());
        record.vault_file = journal.to_vault_file.clone();
        record.moving = moving;
        self.store.put(&record).map_err(store_err)?;
        entry.record = record;
        entry.file_progress.clear();
        Ok(())
    }

    /// The two forms of a torrent's data for a move into, out of or between vaults, each
    /// vault opened with its root's key.
    fn conversion_sides(
        &self,
        journal: &MoveJournal,
    ) -> EngineResult<(relocate::Side, relocate::Side)> {
        let side = |token: &str, root: &std::path::Path, vault_file: &Option<String>| {
            let Some(file) = vault_file else {
                return Ok(relocate::Side::Files(root.to_path_buf()));
            };
            let vault = self
                .roots
                .by_token(token)
                .and_then(|r| r.vault.clone())
                .ok_or_else(|| {
                    EngineError::Root(format!(
                        "the vault at {} is not declared as a vault root, so its key is unknown",
                        root.display()
                    ))
                })?;
            let sealer = vault.open(root).map_err(|e| {
                EngineError::Root(format!(
                    "the vault at {} cannot be opened: {e}",
                    root.display()
                ))
            })?;
            Ok(relocate::Side::Vault {
                file: root.join(file),
                sealer,
            })
        };
        Ok((
            side(
                &journal.from_token,
                &journal.from_path,
                &journal.from_vault_file,
            )?,
            side(&journal.to_token, &journal.to_path, &journal.to_vault_file)?,
        ))
    }

    /// Writes (or clears) the torrent's move journal, synced.
    pub(super) fn write_journal(
        &mut self,
        hash: &str,
        moving: Option<MoveJournal>,
    ) -> EngineResult<()> {
        let entry = self.torrents.get_mut(hash).ok_or(EngineError::Stopped)?;
        let mut record = entry.record.clone();
        record.moving = moving;
        self.store.put(&record).map_err(store_err)?;
        entry.record = record;
        Ok(())
    }

    /// A torrent leaving the session: its copy under way stops, and the partial copy goes
    /// (see `move_copied`).
    pub(super) fn forget_move(&self, hash: &str) {
        if let Some(m) = self.moves.get(hash) {
            m.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Whether `hash` is out of librqbit while its data is copied (it was still
    /// downloading): nothing may start it until the move ends.
    pub(super) fn paused_for_move(&self, hash: &str) -> bool {
        self.moves.get(hash).is_some_and(|m| m.restart_after)
    }

    /// How far the move under way of `hash` is, if one is.
    pub(super) fn move_progress(&self, hash: &str) -> Option<MoveProgress> {
        let j = self.torrents.get(hash)?.record.moving.as_ref()?;
        let (done, total) = match self.moves.get(hash) {
            Some(m) => (m.done.load(Ordering::Relaxed).min(m.total), m.total),
            // Renamed or switched: nothing left to copy.
            None => (1, 1),
        };
        Some(MoveProgress {
            to: j.to_label.clone(),
            done,
            total,
        })
    }

    /// The summary as shown: with its move's progress while one is under way.
    pub(super) fn with_move(&self, hash: &str, mut s: TorrentSummary) -> TorrentSummary {
        if let Some(p) = self.move_progress(hash) {
            s.moving = Some(p);
        }
        s
    }
}
