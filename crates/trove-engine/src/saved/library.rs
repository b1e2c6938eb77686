//! The library of the saved session (`trove library` while no session runs), and what the
//! saved state says of a torrent's files.

use std::path::Path;

use trove_proto::library::{LibraryReport, MissingData};

use super::SavedSession;
use crate::bitfield;
use crate::file_index;
use crate::library::{self, TorrentInput};
use crate::roots::RootManager;
use crate::source::CheckedTorrent;
use crate::store::{SessionStore, TorrentRecord};

impl SavedSession {
    /// A torrent's have-bytes per file, from its bitfield; empty when it has none.
    fn have_per_file(&self, hash: &str, t: &CheckedTorrent) -> Vec<u64> {
        bitfield::read(&self.dir.fastresume(), hash)
            .map(|bf| file_index::progress_from_bitfield(t, &bf))
            .unwrap_or_default()
    }

    /// The files a torrent's bitfield says hold data that are gone or of another size
    /// under `root`: what the next session's start finds and holds the torrent for. None
    /// without a bitfield (nothing recorded to lose: that start lets librqbit check it).
    pub(super) fn data_problem(
        &self,
        record: &TorrentRecord,
        t: &CheckedTorrent,
        root: &Path,
    ) -> Option<MissingData> {
        let bf = bitfield::read(&self.dir.fastresume(), &record.info_hash)?;
        let have = file_index::progress_from_bitfield(t, &bf);
        Some(library::missing_data(
            t,
            root,
            record.vault_file.as_deref(),
            Some(&have),
            record.only_files.as_deref(),
        ))
        .filter(|m| !m.is_empty())
    }

    /// What sits in each root, as a running session's `Library` command answers.
    pub fn library(&self, roots: &RootManager) -> anyhow::Result<LibraryReport> {
        let mut inputs = Vec::new();
        for record in self.records()? {
            let Some(root) = library::root_path_of(roots, &record) else {
                continue;
            };
            let t = self.torrent_of(&record);
            let have = t
                .as_ref()
                .map(|t| self.have_per_file(&record.info_hash, t))
                .unwrap_or_default();
            let input = TorrentInput::new(&record, t.as_ref(), &root, &have);
            inputs.push((record.root_token.clone(), input));
        }
        let roots = library::group_by_root(roots, roots.info(), inputs);
        Ok(library::scan(roots))
    }

    /// Points a torrent at the root its data is in (label or token) once its files are
    /// found there; the next session verifies them against the piece hashes before it
    /// trusts a piece, as after `recheck`.
    pub fn locate(
        &self,
        roots: &RootManager,
        id: &str,
        root: &str,
    ) -> anyhow::Result<TorrentRecord> {
        let mut r = self.one(id)?;
        let root = roots
            .choose(Some(root))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        roots
            .check_usable(root)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let t = self.torrent_of(&r);
        let have = t
            .as_ref()
            .map(|t| self.have_per_file(&r.info_hash, t))
            .unwrap_or_default();
        library::check_located(&r, t.as_ref(), root, &have).map_err(|e| anyhow::anyhow!("{e}"))?;
        bitfield::remove(&self.dir.fastresume(), &r.info_hash);
        r.root_token = root.token.clone();
        r.root_path = Some(root.path.clone());
        r.missing_data = None;
        r.error = None;
        r.last_state = if r.paused {
            trove_proto::snapshot::TorrentState::Paused
        } else {
            trove_proto::snapshot::TorrentState::Queued
        };
        self.store.put(&r).map_err(super::store_err)?;
        Ok(r)
    }
}
