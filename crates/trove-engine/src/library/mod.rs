//! The library scan: for each storage root its space, the state of each torrent's data on
//! disk and the orphans (what sits in the root that belongs to no torrent).
//!
//! The scan only `stat`s: it never reads data, so a root of many thousand files is done in
//! a blink. The engine (and the offline `trove library`) gathers what it knows of each
//! torrent into [`TorrentInput`]s on its own thread and runs [`scan`] on a blocking one.

mod check;
mod orphans;

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use trove_proto::library::{DataState, LibraryReport, LibraryRoot, LibraryTorrent, MissingData};
use trove_proto::snapshot::RootInfo;

use crate::roots::RootManager;
use crate::source::CheckedTorrent;
use crate::store::TorrentRecord;

pub use check::{FileCheck, check_files, files_to_check};
pub use orphans::{is_trove_file, orphans};

/// One torrent of a root, as the scan needs it.
#[derive(Debug, Clone)]
pub struct TorrentInput {
    pub info_hash: String,
    pub name: String,
    pub size: u64,
    pub have_bytes: u64,
    pub selected_bytes: u64,
    /// Its name at the top of the root (its folder, or a single file's name): that entry
    /// of the root is the torrent's, not an orphan.
    pub top: Option<OsString>,
    /// The files to look at (None: metadata not known).
    pub files: Option<Vec<FileCheck>>,
    /// Set by whoever moves the torrent's data (see [`DataState::Moving`]); wins over what
    /// the files say.
    pub moving: Option<DataState>,
}

impl TorrentInput {
    /// A torrent as its record and metadata describe it; `have` is its have-bytes per file
    /// (trove's numbering), empty when not known (then a complete torrent's files are all
    /// looked at, and an incomplete one's none).
    pub fn new(
        record: &TorrentRecord,
        torrent: Option<&CheckedTorrent>,
        root: &Path,
        have: &[u64],
    ) -> Self {
        let complete = record.selected_bytes > 0 && record.have_bytes >= record.selected_bytes;
        let have = match (have.is_empty(), complete) {
            (false, _) => Some(have),
            (true, true) => None,
            (true, false) => Some(have),
        };
        let top = match torrent {
            Some(t) if t.single_file => t
                .files
                .first()
                .and_then(|f| f.components.first())
                .map(OsString::from),
            Some(t) => Some(OsString::from(&t.name)),
            // A magnet's data will land under its name, when it has one.
            None => Some(OsString::from(&record.name)),
        };
        TorrentInput {
            info_hash: record.info_hash.clone(),
            name: record.name.clone(),
            size: torrent.map_or(record.size, |t| t.total_len),
            have_bytes: record.have_bytes,
            selected_bytes: record.selected_bytes,
            top,
            files: torrent.map(|t| files_to_check(t, root, have, record.only_files.as_deref())),
            moving: None,
        }
    }
}

/// One root to scan: how the session sees it, and its torrents.
#[derive(Debug, Clone)]
pub struct RootInput {
    pub info: RootInfo,
    pub torrents: Vec<TorrentInput>,
}

/// Every root of `info` (as `roots` last probed them), each with its torrents (given with
/// their root token).
pub fn group_by_root(
    roots: &RootManager,
    info: Vec<RootInfo>,
    torrents: impl IntoIterator<Item = (String, TorrentInput)>,
) -> Vec<RootInput> {
    let mut out: Vec<RootInput> = info
        .into_iter()
        .map(|info| RootInput {
            info,
            torrents: Vec::new(),
        })
        .collect();
    for (token, t) in torrents {
        let token = roots.by_token(&token).map_or(token, |r| r.token.clone());
        if let Some(r) = out.iter_mut().find(|r| r.info.token == token) {
            r.torrents.push(t);
        }
    }
    out
}

/// Looks at every root: free space, each torrent's files, the orphans. Blocking (it
/// `stat`s the disks): run it off an async task's thread.
pub fn scan(roots: Vec<RootInput>) -> LibraryReport {
    LibraryReport {
        roots: roots.into_iter().map(scan_root).collect(),
    }
}

fn scan_root(input: RootInput) -> LibraryRoot {
    let RootInput { mut info, torrents } = input;
    // The space as it is now, not as the last probe saw it.
    info.free_bytes = fs4::available_space(&info.path).ok().or(info.free_bytes);
    info.total_bytes = fs4::total_space(&info.path).ok().or(info.total_bytes);
    let owned: HashSet<OsString> = torrents.iter().filter_map(|t| t.top.clone()).collect();
    let (orphans, problem) = match orphans(&info.path, &owned) {
        Ok(o) => (o, info.problem.clone()),
        Err(e) => (
            Vec::new(),
            info.problem
                .clone()
                .or_else(|| Some(format!("cannot be read ({e})"))),
        ),
    };
    LibraryRoot {
        torrents: torrents.into_iter().map(torrent_state).collect(),
        orphans,
        label: info.label,
        token: info.token,
        path: info.path,
        is_default: info.is_default,
        free_bytes: info.free_bytes,
        total_bytes: info.total_bytes,
        problem,
    }
}

fn torrent_state(t: TorrentInput) -> LibraryTorrent {
    let data = match (&t.moving, &t.files) {
        (Some(m), _) => m.clone(),
        (None, None) => DataState::NoMetadata,
        (None, Some(files)) => match check_files(files).into_state() {
            Some(problem) => problem,
            None if t.selected_bytes > 0 && t.have_bytes >= t.selected_bytes => DataState::Complete,
            None => DataState::Partial,
        },
    };
    LibraryTorrent {
        info_hash: t.info_hash,
        name: t.name,
        size: t.size,
        have_bytes: t.have_bytes,
        selected_bytes: t.selected_bytes,
        data,
    }
}

/// What a torrent's files say about its data, from a fresh `stat` of each.
pub fn missing_data(
    t: &CheckedTorrent,
    root: &Path,
    have: Option<&[u64]>,
    only_files: Option<&[usize]>,
) -> MissingData {
    check_files(&files_to_check(t, root, have, only_files))
}

/// The folder a torrent's data is in, for a root path.
pub fn root_path_of(roots: &RootManager, record: &TorrentRecord) -> Option<PathBuf> {
    roots
        .by_token(&record.root_token)
        .map(|r| r.path.clone())
        .or_else(|| record.root_path.clone())
}

/// Checks that a torrent's data is in `root` before it is pointed there: each file it has
/// data in (`have`, per file; every selected file when it has none) is there at its size.
/// The refusal names the root and the files.
pub fn check_located(
    record: &TorrentRecord,
    torrent: Option<&CheckedTorrent>,
    root: &crate::roots::StorageRoot,
    have: &[u64],
) -> Result<(), trove_proto::command::EngineError> {
    use trove_proto::command::EngineError;
    let Some(t) = torrent else {
        return Err(EngineError::BadSource(format!(
            "{} has no metadata yet, so there are no files to look for: wait for it, or remove it",
            record.name
        )));
    };
    let mut files = TorrentInput::new(record, Some(t), &root.path, have)
        .files
        .unwrap_or_default();
    if files.is_empty() {
        files = files_to_check(t, &root.path, None, record.only_files.as_deref());
    }
    let problem = check_files(&files);
    if problem.is_empty() {
        return Ok(());
    }
    let mut what = Vec::new();
    if !problem.missing.is_empty() {
        what.push(format!("missing {}", problem.missing.join(", ")));
    }
    if !problem.size_changed.is_empty() {
        let changed: Vec<&str> = problem
            .size_changed
            .iter()
            .map(|c| c.path.as_str())
            .collect();
        what.push(format!("of another size {}", changed.join(", ")));
    }
    Err(EngineError::Root(format!(
        "{}'s data is not in storage root '{}' at {} ({}): nothing was changed",
        record.name,
        root.label,
        root.path.display(),
        what.join("; ")
    )))
}
