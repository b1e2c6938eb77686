//! Moving a torrent's data between storage roots on disk, off the engine task: a rename
//! when both roots are on one filesystem, else a copy that is synced to disk and verified
//! against the torrent's piece hashes before anything points at it.
//!
//! - `copy`: copying a file or folder tree with progress, cancellation and fsync.
//! - `verify`: checking a copy against the piece hashes.
//!
//! The engine (its `moves` file) decides when each step runs and keeps the journal.

mod copy;
mod verify;

use std::path::Path;

pub use copy::{copy_tree, tree_size};
pub use verify::verify;

/// Why a copy did not finish. The partial copy is already removed when this is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyFailure {
    Cancelled,
    /// The target filesystem filled up.
    NoSpace,
    Io(String),
    /// The copy does not match the piece hashes.
    Mismatch(String),
}

/// Whether two folders are on the same filesystem (a rename can move between them).
pub fn same_filesystem(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata(a)?.dev() == std::fs::metadata(b)?.dev())
}

/// Removes a file or a folder tree, if there.
pub fn remove_entry(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Syncs a folder itself, so the names created or removed in it are on disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
