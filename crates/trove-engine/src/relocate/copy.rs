//! Copying a torrent's top-level entry (a file or a folder tree) into another root: bytes
//! counted as they go, a cancel flag looked at between blocks, every file and folder
//! synced before the copy counts as done. A full target filesystem is told apart from
//! other errors. Whatever fails, the partial copy is removed before returning.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::verify::Landed;
use super::{CopyFailure, remove_entry, sync_dir};

/// The copy goes this many bytes at a time between looks at the cancel flag, progress
/// reports and the checkers' wake-ups.
const BLOCK: u64 = 4 << 20;

/// The bytes of every regular file under `path` (or of `path` itself).
pub fn tree_size(path: &Path) -> std::io::Result<u64> {
    let m = std::fs::symlink_metadata(path)?;
    if !m.is_dir() {
        return Ok(if m.is_file() { m.len() } else { 0 });
    }
    let mut total = 0;
    for e in std::fs::read_dir(path)? {
        total += tree_size(&e?.path())?;
    }
    Ok(total)
}

/// What a copy reports to, and looks at, as it goes.
pub(super) struct Watch<'a> {
    /// Bytes copied so far, for the progress shown.
    pub done: &'a AtomicU64,
    /// Set by the user (cancel) or by a checker that found a bad piece: stop.
    pub stops: [&'a AtomicBool; 2],
    /// How far each target file is written, for checkers running alongside.
    pub landed: Option<&'a Landed>,
}

impl Watch<'_> {
    fn stopped(&self) -> bool {
        self.stops.iter().any(|s| s.load(Ordering::Relaxed))
    }
}

/// Copies `from` to `to` (which must not exist), adding each block's length to `done`.
/// On any failure, the cancel flag included, `to` is removed again.
pub fn copy_tree(
    from: &Path,
    to: &Path,
    done: &AtomicU64,
    cancel: &AtomicBool,
) -> Result<(), CopyFailure> {
    let watch = Watch {
        done,
        stops: [cancel, cancel],
        landed: None,
    };
    copy_watched(from, to, &watch)
}

/// [`copy_tree`], reporting to `watch`.
pub(super) fn copy_watched(from: &Path, to: &Path, watch: &Watch<'_>) -> Result<(), CopyFailure> {
    let result = copy_entry(from, to, watch).and_then(|()| match to.parent() {
        Some(parent) => sync_dir(parent).map_err(io_failure),
        None => Ok(()),
    });
    if result.is_err() {
        let _ = remove_entry(to);
        if let Some(parent) = to.parent() {
            let _ = sync_dir(parent);
        }
    }
    result
}

fn copy_entry(from: &Path, to: &Path, watch: &Watch<'_>) -> Result<(), CopyFailure> {
    let m = std::fs::symlink_metadata(from).map_err(io_failure)?;
    if m.is_dir() {
        std::fs::create_dir(to).map_err(io_failure)?;
        let mut names: Vec<_> = std::fs::read_dir(from)
            .map_err(io_failure)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(io_failure)?;
        names.sort();
        for name in names {
            copy_entry(&from.join(&name), &to.join(&name), watch)?;
        }
        sync_dir(to).map_err(io_failure)
    } else if m.is_file() {
        copy_file(from, to, watch)
    } else {
        // Torrents only ever hold regular files and folders (symlinks are refused).
        Ok(())
    }
}

fn copy_file(from: &Path, to: &Path, watch: &Watch<'_>) -> Result<(), CopyFailure> {
    let src = File::open(from).map_err(io_failure)?;
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(io_failure)?;
    let mut written = 0u64;
    loop {
        if watch.stopped() {
            return Err(CopyFailure::Cancelled);
        }
        // Between two files std copies in the kernel (copy_file_range, or sendfile across
        // filesystems): one copy of each page instead of two through a buffer here, which
        // leaves the CPU to the hashing running alongside.
        let n = match std::io::copy(&mut (&src).take(BLOCK), &mut dst) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failure(e)),
        };
        written += n;
        watch.done.fetch_add(n, Ordering::Relaxed);
        if let Some(landed) = watch.landed {
            landed.wrote(to, written);
        }
        super::stall_if_asked(super::Stage::MidCopy);
    }
    // A full disk may only show here, when delayed allocation meets the disk.
    dst.sync_all().map_err(io_failure)
}

pub(super) fn io_failure(e: std::io::Error) -> CopyFailure {
    if e.kind() == ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
        CopyFailure::NoSpace
    } else {
        CopyFailure::Io(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_a_tree_byte_for_byte_and_counts_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        std::fs::create_dir_all(from.join("sub")).unwrap();
        std::fs::write(from.join("one"), vec![7u8; 5000]).unwrap();
        std::fs::write(from.join("sub/two"), b"hello").unwrap();
        let to = dir.path().join("b");
        let done = AtomicU64::new(0);
        copy_tree(&from, &to, &done, &AtomicBool::new(false)).unwrap();
        assert_eq!(done.load(Ordering::Relaxed), 5005);
        assert_eq!(tree_size(&to).unwrap(), 5005);
        assert_eq!(std::fs::read(to.join("sub/two")).unwrap(), b"hello");
    }

    #[test]
    fn a_cancelled_copy_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        std::fs::create_dir(&from).unwrap();
        std::fs::write(from.join("one"), b"x").unwrap();
        let to = dir.path().join("b");
        let r = copy_tree(&from, &to, &AtomicU64::new(0), &AtomicBool::new(true));
        assert_eq!(r, Err(CopyFailure::Cancelled));
        assert!(!to.exists());
        assert!(from.join("one").exists(), "the source stays");
    }
}
