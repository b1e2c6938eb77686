//! Checking a copied torrent against its piece hashes (SHA-1, from the info dict), before
//! the torrent is pointed at the copy. The pieces checked are the ones the torrent has
//! (its bitfield); without a bitfield, every piece whose bytes all lie in source files
//! present at their full length. Padding entries (BEP 47) are never written: their bytes
//! are zeros in the piece stream.
//!
//! The check always reads the *target's* files, through the kernel as any reader would:
//! it proves that the copy under its final names holds the right bytes at the right
//! places (a wrong offset, a short file or a file left out all fail it). It does not ask
//! the disk itself: those reads are served from the page cache the copy just filled, and
//! that the cache reached the disk is what the copy's fsync answers for.
//!
//! A piece is checked as soon as all its bytes have landed in the target ([`Landed`]),
//! on threads of its own, so hashing runs alongside the copy and its fsync instead of
//! after them.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use librqbit_core::lengths::Lengths;
use librqbit_core::torrent_metainfo::torrent_from_bytes;
use librqbit_sha1_wrapper::ISha1;

use super::CopyFailure;
use crate::source::CheckedTorrent;

/// How far the copy has written each target file, for checkers waiting on a piece.
#[derive(Default)]
pub(super) struct Landed {
    state: Mutex<LandedState>,
    grew: Condvar,
}

#[derive(Default)]
struct LandedState {
    written: HashMap<PathBuf, u64>,
    /// The copy stopped (done or failed): nothing more will land.
    ended: bool,
    /// The copy failed: there is nothing worth checking.
    failed: bool,
}

impl Landed {
    /// `path` now holds its first `len` bytes.
    pub(super) fn wrote(&self, path: &Path, len: u64) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.written.insert(path.to_path_buf(), len);
        drop(s);
        self.grew.notify_all();
    }

    /// The copy stopped: complete, or `failed`.
    pub(super) fn end(&self, failed: bool) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.ended = true;
        s.failed = failed;
        drop(s);
        self.grew.notify_all();
    }

    /// Waits until a file has `step` bytes more written than `flushed` says; None once
    /// the copy stopped.
    pub(super) fn next_unflushed(
        &self,
        flushed: &HashMap<PathBuf, u64>,
        step: u64,
    ) -> Option<(PathBuf, u64)> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if s.ended {
                return None;
            }
            let ready = s
                .written
                .iter()
                .find(|(p, n)| **n >= flushed.get(*p).copied().unwrap_or(0) + step);
            if let Some((p, n)) = ready {
                return Some((p.clone(), *n));
            }
            s = self.grew.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Waits until `path` holds at least `len` bytes or the copy stopped; false when
    /// the copy failed, so the checker can stop too.
    fn wait(&self, path: &Path, len: u64) -> bool {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !s.ended && s.written.get(path).is_none_or(|&n| n < len) {
            s = self.grew.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        !s.failed
    }
}

/// The pieces to check and where their bytes lie in the target.
pub(super) struct Plan {
    lengths: Lengths,
    /// The info dict's SHA-1 of every piece, 20 bytes each.
    hashes: Vec<u8>,
    /// Each file's byte range in the piece stream and its path in the target.
    files: Vec<(u64, u64, PathBuf)>,
    /// The pieces to check, in order.
    pieces: Vec<u32>,
    target: PathBuf,
}

impl Plan {
    /// The check of `t` copied from the root folder `source` into the root folder
    /// `target`. Without a bitfield (`haves`), the pieces are chosen by what the source has.
    pub(super) fn new(
        t: &CheckedTorrent,
        source: &Path,
        target: &Path,
        haves: Option<&[u8]>,
    ) -> Result<Plan, CopyFailure> {
        let (lengths, hashes) = metainfo(t)?;
        let whole: Vec<bool> = t
            .files
            .iter()
            .zip(t.file_paths(source))
            .map(|(f, p)| std::fs::metadata(p).is_ok_and(|m| m.len() == f.len))
            .collect();
        let files: Vec<(u64, u64, PathBuf)> = t
            .files
            .iter()
            .zip(t.file_paths(target))
            .map(|(f, p)| (f.offset, f.offset + f.len, p))
            .collect();
        let pieces = lengths
            .iter_piece_infos()
            .filter(|piece| {
                let start = lengths.piece_offset(piece.piece_index);
                let end = start + u64::from(piece.len);
                match haves {
                    Some(bits) => has_bit(bits, piece.piece_index.get()),
                    None => files
                        .iter()
                        .zip(&whole)
                        .filter(|((s, e, _), _)| *s < end && *e > start)
                        .all(|(_, w)| *w),
                }
            })
            .map(|piece| piece.piece_index.get())
            .collect();
        Ok(Plan {
            lengths,
            hashes,
            files,
            pieces,
            target: target.to_path_buf(),
        })
    }

    /// Checks every `step`-th piece of the plan starting at the `first`, each once its
    /// bytes have landed. Stops early, as cancelled, when `stop` is set.
    pub(super) fn check(
        &self,
        first: usize,
        step: usize,
        landed: &Landed,
        stop: &AtomicBool,
    ) -> Result<(), CopyFailure> {
        let bad = |what: String| CopyFailure::Mismatch(what);
        let lengths = self.lengths;
        let mut open: Option<(usize, File)> = None;
        let mut buf = Vec::new();
        for &index in self.pieces.iter().skip(first).step_by(step.max(1)) {
            if stop.load(Ordering::Relaxed) {
                return Err(CopyFailure::Cancelled);
            }
            let Some(piece) = lengths.validate_piece_index(index) else {
                return Err(bad(format!("piece {index} is not in its metainfo")));
            };
            let start = lengths.piece_offset(piece);
            let end = start + u64::from(lengths.piece_length(piece));
            buf.clear();
            buf.resize((end - start) as usize, 0);
            let overlapping = self
                .files
                .iter()
                .enumerate()
                .filter(|(_, (s, e, _))| *s < end && *e > start);
            for (i, (s, e, path)) in overlapping {
                let from = start.max(*s);
                let to = end.min(*e);
                if !landed.wait(path, to - s) {
                    return Err(CopyFailure::Cancelled);
                }
                if open.as_ref().is_none_or(|(j, _)| *j != i) {
                    let f = File::open(path)
                        .map_err(|e| bad(format!("{} cannot be read ({e})", path.display())))?;
                    open = Some((i, f));
                }
                if let Some((_, f)) = &open {
                    let slot = &mut buf[(from - start) as usize..(to - start) as usize];
                    f.read_exact_at(slot, from - s)
                        .map_err(|e| bad(format!("{} cannot be read ({e})", path.display())))?;
                }
            }
            if !piece_matches(&self.hashes, index, &buf) {
                return Err(bad(format!(
                    "piece {index} of the copy under {} does not match its hash",
                    self.target.display()
                )));
            }
        }
        Ok(())
    }
}

/// Verifies, after the fact, a copy of `t` already complete under the root folder `root`
/// (its pieces chosen by the same files).
pub fn verify(
    t: &CheckedTorrent,
    root: &Path,
    haves: Option<&[u8]>,
    cancel: &AtomicBool,
) -> Result<(), CopyFailure> {
    let landed = Landed::default();
    landed.end(false);
    Plan::new(t, root, root, haves)?.check(0, 1, &landed, cancel)
}

/// The torrent's piece lengths and the SHA-1 of every piece (20 bytes each).
pub(super) fn metainfo(t: &CheckedTorrent) -> Result<(Lengths, Vec<u8>), CopyFailure> {
    let bad = |what: String| CopyFailure::Mismatch(what);
    let meta = torrent_from_bytes(&t.bytes).map_err(|e| bad(format!("its metainfo: {e}")))?;
    let info = meta
        .info
        .data
        .clone()
        .validate()
        .map_err(|e| bad(format!("its metainfo: {e}")))?;
    Ok((*info.lengths(), info.info().pieces.as_ref().to_vec()))
}

/// Whether `data` is piece `index` by its hash in `hashes`.
pub(super) fn piece_matches(hashes: &[u8], index: u32, data: &[u8]) -> bool {
    let mut h = librqbit_sha1_wrapper::Sha1::new();
    h.update(data);
    let i = index as usize * 20;
    hashes.get(i..i + 20) == Some(&h.finish()[..])
}

/// Bit `index` of a bitfield kept most significant bit first.
pub(super) fn has_bit(bits: &[u8], index: u32) -> bool {
    let i = index as usize;
    bits.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}
