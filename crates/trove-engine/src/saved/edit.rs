//! Changing a saved torrent while no session runs: its limits, file selection, trackers,
//! a re-check at the next start, and what `trove list`, `magnet` and `trackers` read of
//! it. Each does to the store what the running engine's command of the same name does to
//! its torrents, so the next session starts from the same place.

use std::path::PathBuf;

use trove_proto::snapshot::{Limits, TorrentState};

use super::{SavedSession, store_err};
use crate::bitfield;
use crate::file_index;
use crate::roots::RootManager;
use crate::source::{self, CheckedTorrent};
use crate::store::{SessionStore, TorrentRecord};
use crate::torrents::{
    check_file_indices, check_selection_shape, checked_tracker_list, data_missing,
    effective_trackers, magnet_for, save_path, start_problem, torrent_root,
};

/// A saved torrent as `trove list`, `magnet` and `trackers` show it.
pub struct SavedTorrent {
    pub record: TorrentRecord,
    /// The folder its data is in, when its root is known (declared, or recorded).
    pub save_path: Option<PathBuf>,
    pub trackers: Vec<String>,
    pub magnet: String,
    /// Some(true) when a selected file the torrent has data for is missing or short on
    /// disk; None when that was not looked at (no metadata, no data, no root).
    pub data_missing: Option<bool>,
    /// The files its bitfield says hold data that are gone or changed size: the next
    /// session holds the torrent for them (None without a bitfield, or nothing gone).
    pub missing_data: Option<trove_proto::library::MissingData>,
    /// The error that still holds: a paused torrent's recorded error is dropped once its
    /// cause (its root, its selection) is gone, as the next session would drop it.
    pub error: Option<String>,
}

impl SavedSession {
    pub(super) fn torrent_of(&self, r: &TorrentRecord) -> Option<CheckedTorrent> {
        let bytes = self.store.torrent_bytes(&r.info_hash).ok()??;
        source::check_torrent(&bytes, &r.name).ok()
    }

    pub(super) fn one(&self, id: &str) -> anyhow::Result<TorrentRecord> {
        Ok(self.find_all(&[id.to_string()])?.remove(0))
    }

    /// Every torrent as `trove list` shows it, oldest first. Files are looked at (one
    /// `stat` each) only for torrents whose record says they have data.
    pub fn saved_torrents(&self, roots: &RootManager) -> anyhow::Result<Vec<SavedTorrent>> {
        self.records()?
            .into_iter()
            .map(|r| Ok(self.describe(roots, r)))
            .collect()
    }

    /// One torrent as `trove magnet` and `trove trackers` show it.
    pub fn saved_torrent(&self, roots: &RootManager, id: &str) -> anyhow::Result<SavedTorrent> {
        Ok(self.describe(roots, self.one(id)?))
    }

    fn describe(&self, roots: &RootManager, record: TorrentRecord) -> SavedTorrent {
        let t = (record.have_bytes > 0 || record.error.is_some() || record.trackers.is_none())
            .then(|| self.torrent_of(&record))
            .flatten();
        let (missing, missing_data) = match (&t, torrent_root(roots, &record)) {
            (Some(t), Ok(root)) if record.have_bytes > 0 => (
                Some(data_missing(
                    t,
                    root.path(),
                    record.vault_file.as_deref(),
                    record.only_files.as_deref(),
                )),
                self.data_problem(&record, t, root.path()),
            ),
            _ => (None, None),
        };
        let error = match &record.error {
            Some(_) if record.paused && t.is_some() => {
                start_problem(roots, &record, t.as_ref()).map(|e| e.to_string())
            }
            other => other.clone(),
        };
        let trackers = effective_trackers(&record, t.as_ref());
        SavedTorrent {
            save_path: save_path(roots, &record, t.as_ref()),
            magnet: magnet_for(&record.info_hash, &record.name, &trackers),
            trackers,
            data_missing: missing,
            missing_data,
            error,
            record,
        }
    }

    /// Changes the limits of the torrents `ids` name with `edit`, telling `done` of each.
    pub fn edit_limits(
        &self,
        ids: &[String],
        edit: impl Fn(Limits) -> Limits,
        mut done: impl FnMut(&TorrentRecord),
    ) -> anyhow::Result<()> {
        for mut r in self.find_all(ids)? {
            r.limits = edit(r.limits);
            self.store.put(&r).map_err(store_err)?;
            done(&r);
        }
        Ok(())
    }

    /// Stores session limits, as the dashboard does (they then win over the config file's).
    pub fn set_session_limits(&self, limits: Limits) -> anyhow::Result<()> {
        let mut settings = self.store.settings().map_err(store_err)?;
        settings.limits = Some(limits);
        self.store.put_settings(&settings).map_err(store_err)
    }

    /// Chooses the files to download (None = all). A torrent whose metadata is not known
    /// yet keeps the selection for when it is; a failed one loses its error if the new
    /// selection removes its cause.
    pub fn select_files(
        &self,
        roots: &RootManager,
        id: &str,
        files: Option<Vec<usize>>,
    ) -> anyhow::Result<TorrentRecord> {
        let mut r = self.one(id)?;
        let t = self.torrent_of(&r);
        if let Some(f) = &files {
            check_selection_shape(f).map_err(store_err)?;
            if f.is_empty() {
                anyhow::bail!("select at least one file (or pause the torrent)");
            }
            if let Some(t) = &t {
                check_file_indices(f, t.files.len()).map_err(store_err)?;
            }
        }
        r.only_files = match (&t, files) {
            (Some(t), Some(f)) if f.len() == t.files.len() => None,
            (_, f) => f,
        };
        if let Some(t) = &t {
            let progress = self
                .bitfield(&r.info_hash)
                .map(|b| file_index::progress_from_bitfield(t, &b))
                .unwrap_or_default();
            let chosen = |i: &usize| r.only_files.as_ref().is_none_or(|o| o.contains(i));
            r.selected_bytes = (0..t.files.len())
                .filter(chosen)
                .map(|i| t.files[i].len)
                .sum();
            r.have_bytes = (0..t.files.len())
                .filter(chosen)
                .map(|i| progress.get(i).copied().unwrap_or(0))
                .sum();
            if r.error.is_some() && start_problem(roots, &r, Some(t)).is_none() {
                r.error = None;
                r.last_state = if r.paused {
                    TorrentState::Paused
                } else {
                    TorrentState::Queued
                };
            }
        }
        self.store.put(&r).map_err(store_err)?;
        Ok(r)
    }

    /// Replaces a torrent's tracker list.
    pub fn set_trackers(&self, id: &str, trackers: &[String]) -> anyhow::Result<TorrentRecord> {
        let mut r = self.one(id)?;
        r.trackers = Some(checked_tracker_list(trackers).map_err(store_err)?);
        self.store.put(&r).map_err(store_err)?;
        Ok(r)
    }

    /// Forgets the bitfields of the torrents `ids` name, so the next session hashes their
    /// data before it trusts a piece; a failed torrent is retried then.
    pub fn recheck(
        &self,
        ids: &[String],
        mut done: impl FnMut(&TorrentRecord),
    ) -> anyhow::Result<()> {
        for mut r in self.find_all(ids)? {
            bitfield::remove(&self.dir.fastresume(), &r.info_hash);
            r.missing_data = None;
            if r.error.take().is_some() {
                r.last_state = if r.paused {
                    TorrentState::Paused
                } else {
                    TorrentState::Queued
                };
            }
            self.store.put(&r).map_err(store_err)?;
            done(&r);
        }
        Ok(())
    }

    fn bitfield(&self, hash: &str) -> Option<Vec<u8>> {
        bitfield::read(&self.dir.fastresume(), hash)
    }
}
