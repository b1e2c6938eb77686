//! The library: what sits in each storage root, as `trove library` and the dashboard's
//! library view show it. For every root its space, each torrent with the state of its data
//! on disk, and the orphans (what is in the root that belongs to no torrent).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::snapshot::InfoHash;

/// Every root of the session, in the order the session lists them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LibraryReport {
    pub roots: Vec<LibraryRoot>,
}

/// One storage root as the library sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryRoot {
    pub label: String,
    pub token: String,
    pub path: PathBuf,
    pub is_default: bool,
    pub free_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    /// Why the root cannot be used or read right now (missing, not a folder...).
    pub problem: Option<String>,
    /// The torrents whose data belongs in this root, oldest first.
    pub torrents: Vec<LibraryTorrent>,
    /// Top-level files and folders of the root that belong to no torrent, by name.
    pub orphans: Vec<Orphan>,
    /// Its torrents are kept encrypted (a vault root).
    #[serde(default)]
    pub vault: bool,
}

/// A torrent of a root and the state of its data on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryTorrent {
    pub info_hash: InfoHash,
    pub name: String,
    /// The torrent's size in bytes (0 while its metadata is unknown).
    pub size: u64,
    /// Verified bytes of the selected files, as the session last counted them.
    pub have_bytes: u64,
    pub selected_bytes: u64,
    pub data: DataState,
}

/// The state of a torrent's data on disk, from a `stat` of each of its files (no data is
/// read: whether the bytes are right is what a re-check finds out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DataState {
    /// Every selected byte verified, and every file there at its size.
    Complete,
    /// Downloading or stopped part-way; the files it has data in are there.
    Partial,
    /// Files it had data in are gone (and maybe others changed size).
    FilesMissing(MissingData),
    /// Every file is there, but some are not the size the torrent says.
    SizeChanged(MissingData),
    /// Its data is being moved to another root. The library scan never sets it: the
    /// engine that moves data between roots fills it in for the torrents it moves.
    Moving {
        /// The label of the root the data goes to.
        to_root: String,
        /// Bytes copied so far, of `total_bytes`.
        done_bytes: u64,
        total_bytes: u64,
    },
    /// A magnet whose metadata is not known yet: there is no file list to look at.
    NoMetadata,
}

impl DataState {
    /// A word or two for the state, as the CLI and the dashboard print it.
    pub fn label(&self) -> &'static str {
        match self {
            DataState::Complete => "complete",
            DataState::Partial => "partial",
            DataState::FilesMissing(_) => "files missing",
            DataState::SizeChanged(_) => "size changed",
            DataState::Moving { .. } => "moving",
            DataState::NoMetadata => "no metadata",
        }
    }

    /// The files concerned, when the data is missing or changed.
    pub fn problem(&self) -> Option<&MissingData> {
        match self {
            DataState::FilesMissing(m) | DataState::SizeChanged(m) => Some(m),
            _ => None,
        }
    }
}

/// Files of a torrent that are no longer on disk as it left them: gone, or of another
/// size than the torrent says. Paths are inside the torrent, components joined with '/'.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingData {
    pub missing: Vec<String>,
    pub size_changed: Vec<SizeChange>,
}

/// A file whose size on disk is not the size the torrent gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeChange {
    pub path: String,
    pub expected: u64,
    pub found: u64,
}

impl MissingData {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.size_changed.is_empty()
    }

    /// The library state these files make.
    pub fn into_state(self) -> Option<DataState> {
        if !self.missing.is_empty() {
            Some(DataState::FilesMissing(self))
        } else if !self.size_changed.is_empty() {
            Some(DataState::SizeChanged(self))
        } else {
            None
        }
    }

    /// One line naming the files (at most a few), as a torrent's error shows it.
    pub fn sentence(&self) -> String {
        const SHOWN: usize = 3;
        let names = |list: Vec<&str>| {
            let mut s = list
                .iter()
                .take(SHOWN)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            if list.len() > SHOWN {
                s.push_str(&format!(" and {} more", list.len() - SHOWN));
            }
            s
        };
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "{} missing ({})",
                count(self.missing.len()),
                names(self.missing.iter().map(String::as_str).collect())
            ));
        }
        if !self.size_changed.is_empty() {
            parts.push(format!(
                "{} changed size ({})",
                count(self.size_changed.len()),
                names(self.size_changed.iter().map(|c| c.path.as_str()).collect())
            ));
        }
        format!(
            "missing data: {}; nothing is downloaded again until you re-check it (`trove recheck`), point it at the root its data is in (`trove locate ID --root LABEL`) or remove it",
            parts.join(", ")
        )
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 file".into()
    } else {
        format!("{n} files")
    }
}

/// Something in a root that belongs to no torrent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    /// Its name in the root (one path component).
    pub name: String,
    pub is_dir: bool,
    /// Its size: a folder's is the sum of the files in it, all the way down (symbolic
    /// links are counted as links, never followed).
    pub bytes: u64,
}
