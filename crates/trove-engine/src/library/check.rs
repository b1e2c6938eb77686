//! Whether a torrent's files are still on disk as it left them: a `stat` of each file it
//! has data in, by path (a file deleted while librqbit holds it open still reads through
//! librqbit's descriptor, so only its path tells it is gone).

use std::path::{Path, PathBuf};

use trove_proto::library::{MissingData, SizeChange};

use crate::source::CheckedTorrent;

/// One file to look at.
#[derive(Debug, Clone)]
pub struct FileCheck {
    pub path: PathBuf,
    /// Its path inside the torrent, as shown to the user.
    pub shown: String,
    /// Its length; None when any length will do (a vault file, sparse until complete).
    pub expected: Option<u64>,
}

/// The files of `t` under `root` that hold data trove counts on: selected, not empty, and
/// with have-bytes (`have`: per file, trove's numbering; None when every selected file is
/// complete, as for a seeding torrent). A torrent kept in a vault (`vault_file`) has one
/// file there, whatever it holds.
pub fn files_to_check(
    t: &CheckedTorrent,
    root: &Path,
    vault_file: Option<&str>,
    have: Option<&[u64]>,
    only_files: Option<&[usize]>,
) -> Vec<FileCheck> {
    if let Some(name) = vault_file {
        return vec![FileCheck {
            path: root.join(name),
            shown: format!("its vault file {name}"),
            expected: None,
        }];
    }
    t.file_paths(root)
        .into_iter()
        .zip(&t.files)
        .enumerate()
        .filter(|(i, (_, f))| {
            f.len > 0
                && only_files.is_none_or(|o| o.contains(i))
                && have.is_none_or(|h| h.get(*i).is_some_and(|&b| b > 0))
        })
        .map(|(_, (path, f))| FileCheck {
            path,
            shown: f.display_path(),
            expected: Some(f.len),
        })
        .collect()
}

/// `stat`s each file: gone (or not a regular file any more) is missing; a file of another
/// length than the torrent gives it changed size (librqbit sets every file to its full
/// length when it opens it, so a partial download's files have their size too).
pub fn check_files(files: &[FileCheck]) -> MissingData {
    let mut out = MissingData::default();
    for f in files {
        match std::fs::symlink_metadata(&f.path) {
            Ok(m) if m.is_file() && f.expected.is_none_or(|e| m.len() == e) => {}
            Ok(m) if m.is_file() => out.size_changed.push(SizeChange {
                path: f.shown.clone(),
                expected: f.expected.unwrap_or_default(),
                found: m.len(),
            }),
            _ => out.missing.push(f.shown.clone()),
        }
    }
    out
}
