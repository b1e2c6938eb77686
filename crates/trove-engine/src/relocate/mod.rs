//! Moving a torrent's data between storage roots on disk, off the engine task: a rename
//! when both roots are on one filesystem, else a copy that is synced to disk and verified
//! against the torrent's piece hashes before anything points at it.
//!
//! - `copy`: copying a file or folder tree with progress, cancellation and fsync.
//! - `verify`: checking a copy against the piece hashes.
//! - [`copy_and_verify`]: both at once, the pieces checked as they land in the target.
//! - `convert`: into or out of a vault, where the bytes change form on the way.
//!
//! The engine (its `moves` file) decides when each step runs and keeps the journal.

mod convert;
mod copy;
mod verify;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use convert::{Side, convert_and_verify};
pub use copy::{copy_tree, tree_size};
pub use verify::verify;

use crate::source::CheckedTorrent;

/// Threads hashing pieces while the copy runs. The copy itself is mostly the kernel
/// moving pages and the disk writing them back, so two hashers keep up with it on two
/// cores, and one alone would be the slowest part of a move.
const CHECKERS: usize = 2;

/// How many bytes of a file are written between two syncs that start its write-back.
const FLUSH_STEP: u64 = 64 << 20;

/// Copies the torrent `t`'s top-level `entry` from the root folder `from_root` into
/// `to_root`, synced, and checks the copy's pieces against their hashes as they land,
/// so hashing overlaps the copy and its fsync. On any failure the partial copy is removed.
/// A bad piece stops the copy at once.
pub fn copy_and_verify(
    t: &CheckedTorrent,
    from_root: &Path,
    to_root: &Path,
    entry: &Path,
    haves: Option<&[u8]>,
    done: &AtomicU64,
    cancel: &AtomicBool,
) -> Result<(), CopyFailure> {
    let (from, to) = (from_root.join(entry), to_root.join(entry));
    let plan = verify::Plan::new(t, from_root, to_root, haves)?;
    let landed = verify::Landed::default();
    let bad_piece = AtomicBool::new(false);
    let (copied, checked) = std::thread::scope(|scope| {
        let checkers: Vec<_> = (0..CHECKERS)
            .map(|k| {
                let (plan, landed, bad_piece) = (&plan, &landed, &bad_piece);
                scope.spawn(move || {
                    let r = plan.check(k, CHECKERS, landed, cancel);
                    if matches!(r, Err(CopyFailure::Mismatch(_))) {
                        bad_piece.store(true, Ordering::Relaxed);
                    }
                    r
                })
            })
            .collect();
        // Write-back started as the copy goes, not all at its end: a file's pages are
        // synced every FLUSH_STEP bytes from another thread, so the disk writes while the
        // copy runs and the copy's own final fsync has little left to wait for. Errors
        // are left to that final fsync, which is the one that counts.
        let flusher = {
            let landed = &landed;
            scope.spawn(move || {
                let mut flushed = std::collections::HashMap::new();
                while let Some((path, n)) = landed.next_unflushed(&flushed, FLUSH_STEP) {
                    if let Ok(f) = std::fs::File::open(&path) {
                        let _ = f.sync_data();
                    }
                    flushed.insert(path, n);
                }
            })
        };
        let watch = copy::Watch {
            done,
            stops: [cancel, &bad_piece],
            landed: Some(&landed),
        };
        let copied = copy::copy_watched(&from, &to, &watch);
        landed.end(copied.is_err());
        let _ = flusher.join();
        let checked: Result<(), CopyFailure> = checkers
            .into_iter()
            .map(|c| {
                c.join()
                    .unwrap_or_else(|_| Err(CopyFailure::Io("a checker thread panicked".into())))
            })
            // A bad piece first: the other checkers only stopped because of it.
            .min_by_key(|r| match r {
                Err(CopyFailure::Mismatch(_)) => 0,
                Err(_) => 1,
                Ok(()) => 2,
            })
            .unwrap_or(Ok(()));
        (copied, checked)
    });
    // A copy the user cancelled was cancelled, whatever the checkers made of files it never
    // wrote; a copy stopped by a bad piece tells the bad piece; any other failure of the
    // copy is the one to tell (the checkers then stop without a verdict).
    let result = match (copied, checked) {
        (Err(CopyFailure::Cancelled), _) if cancel.load(Ordering::Relaxed) => {
            Err(CopyFailure::Cancelled)
        }
        (Err(CopyFailure::Cancelled), Err(e @ CopyFailure::Mismatch(_))) => Err(e),
        (Err(e), _) => Err(e),
        (Ok(()), checked) => checked,
    };
    if result.is_err() {
        let _ = remove_entry(&to);
        let _ = sync_dir(to_root);
    }
    result
}

/// Moments of a move where a test can have it stop for good, to kill the process there
/// (see [`stall_if_asked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The journal is written; not a byte is copied yet.
    BeforeCopy,
    /// The first block of the copy is written.
    MidCopy,
    /// The record names the target; the source is not deleted yet.
    AfterSwitch,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::BeforeCopy => "before-copy",
            Stage::MidCopy => "mid-copy",
            Stage::AfterSwitch => "after-switch",
        }
    }
}

/// A fault-injection hook for the crash tests (tests/move.rs), inert unless the
/// environment variable `TROVE_MOVE_STALL` names a stage (`before-copy`, `mid-copy`,
/// `after-switch`): the move then logs that it stops there and blocks its thread for
/// good, so the test can `kill -9` the daemon at that exact moment. Nothing sets it in
/// normal use.
pub fn stall_if_asked(stage: Stage) {
    static ASKED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let asked = ASKED.get_or_init(|| std::env::var("TROVE_MOVE_STALL").ok());
    if asked.as_deref() == Some(stage.name()) {
        tracing::warn!(
            "TROVE_MOVE_STALL: the move stops at {} until the process is killed",
            stage.name()
        );
        loop {
            std::thread::park();
        }
    }
}

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

#[cfg(test)]
mod tests {
    use librqbit_sha1_wrapper::ISha1;

    use super::*;

    /// A folder `t` under `root` with two files, and the .torrent describing it.
    fn made(root: &Path) -> CheckedTorrent {
        let files: [(&[&str], Vec<u8>); 2] = [
            (
                &["a.bin"],
                (0..40_000u32).map(|i| (i % 251) as u8).collect(),
            ),
            (
                &["sub", "b.bin"],
                (0..10_000u32).map(|i| (i % 13) as u8).collect(),
            ),
        ];
        let mut stream = Vec::new();
        let mut list = Vec::new();
        for (path, bytes) in &files {
            let mut p = root.join("t");
            list.extend(format!("d6:lengthi{}e4:pathl", bytes.len()).bytes());
            for c in *path {
                p = p.join(c);
                list.extend(format!("{}:{c}", c.len()).bytes());
            }
            list.extend(b"ee");
            std::fs::create_dir_all(p.parent().unwrap_or(root)).expect("mkdir");
            std::fs::write(&p, bytes).expect("write");
            stream.extend(bytes);
        }
        let piece = 16_384;
        let mut pieces = Vec::new();
        for chunk in stream.chunks(piece) {
            let mut h = librqbit_sha1_wrapper::Sha1::new();
            h.update(chunk);
            pieces.extend(h.finish());
        }
        let mut t = b"d4:infod5:filesl".to_vec();
        t.extend(list);
        t.extend(
            format!(
                "e4:name1:t12:piece lengthi{piece}e6:pieces{}:",
                pieces.len()
            )
            .bytes(),
        );
        t.extend(pieces);
        t.extend(b"ee");
        crate::source::check_torrent(&t, "test").expect("a valid torrent")
    }

    #[test]
    fn a_copy_checked_as_it_lands_matches_its_source() {
        let (from, to) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let t = made(from.path());
        let done = AtomicU64::new(0);
        let r = copy_and_verify(
            &t,
            from.path(),
            to.path(),
            Path::new("t"),
            None,
            &done,
            &AtomicBool::new(false),
        );
        assert_eq!(r, Ok(()));
        assert_eq!(done.load(Ordering::Relaxed), 50_000);
        assert_eq!(
            std::fs::read(to.path().join("t/sub/b.bin")).expect("read"),
            std::fs::read(from.path().join("t/sub/b.bin")).expect("read")
        );
    }

    #[test]
    fn a_bad_byte_fails_the_check_and_leaves_no_copy() {
        let (from, to) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let t = made(from.path());
        let a = from.path().join("t/a.bin");
        let mut bytes = std::fs::read(&a).expect("read");
        bytes[20_000] ^= 1;
        std::fs::write(&a, bytes).expect("write");
        let r = copy_and_verify(
            &t,
            from.path(),
            to.path(),
            Path::new("t"),
            None,
            &AtomicU64::new(0),
            &AtomicBool::new(false),
        );
        assert!(
            matches!(&r, Err(CopyFailure::Mismatch(m)) if m.contains("piece 1")),
            "{r:?}"
        );
        assert!(!to.path().join("t").exists(), "the copy is removed");
    }
}
