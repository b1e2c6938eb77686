//! Checking a copied torrent against its piece hashes (SHA-1, from the info dict), before
//! the torrent is pointed at the copy. The pieces checked are the ones the torrent has
//! (its bitfield); without a bitfield, every piece whose bytes all lie in files present
//! at their full length. Padding entries (BEP 47) are never written: their bytes are
//! zeros in the piece stream.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use librqbit_core::torrent_metainfo::torrent_from_bytes;
use librqbit_sha1_wrapper::ISha1;

use super::CopyFailure;
use crate::source::CheckedTorrent;

/// Verifies the copy of `t` under the root folder `root`.
pub fn verify(
    t: &CheckedTorrent,
    root: &Path,
    haves: Option<&[u8]>,
    cancel: &AtomicBool,
) -> Result<(), CopyFailure> {
    let bad = |what: String| CopyFailure::Mismatch(what);
    let meta = torrent_from_bytes(&t.bytes).map_err(|e| bad(format!("its metainfo: {e}")))?;
    let info = meta
        .info
        .data
        .clone()
        .validate()
        .map_err(|e| bad(format!("its metainfo: {e}")))?;
    let lengths = *info.lengths();
    let paths = t.file_paths(root);
    // Each file's byte range in the piece stream, and whether it is there whole.
    let files: Vec<(u64, u64, PathBuf, bool)> = t
        .files
        .iter()
        .zip(paths)
        .map(|(f, p)| {
            let whole = std::fs::metadata(&p).is_ok_and(|m| m.len() == f.len);
            (f.offset, f.offset + f.len, p, whole)
        })
        .collect();
    let mut open: Option<(usize, File)> = None;
    let mut buf = Vec::new();
    for piece in lengths.iter_piece_infos() {
        if cancel.load(Ordering::Relaxed) {
            return Err(CopyFailure::Cancelled);
        }
        let index = piece.piece_index.get();
        let start = lengths.piece_offset(piece.piece_index);
        let end = start + u64::from(piece.len);
        let overlapping = files
            .iter()
            .enumerate()
            .filter(|(_, (s, e, _, _))| *s < end && *e > start);
        let wanted = match haves {
            Some(bits) => has_bit(bits, index),
            None => overlapping.clone().all(|(_, f)| f.3),
        };
        if !wanted {
            continue;
        }
        buf.clear();
        buf.resize(piece.len as usize, 0);
        for (i, (s, e, path, _)) in overlapping {
            let from = start.max(*s);
            let to = end.min(*e);
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
        let mut h = librqbit_sha1_wrapper::Sha1::new();
        h.update(&buf);
        if info.info().compare_hash(index, h.finish()) != Some(true) {
            return Err(bad(format!(
                "piece {index} of the copy under {} does not match its hash",
                root.display()
            )));
        }
    }
    Ok(())
}

/// Bit `index` of a bitfield kept most significant bit first.
fn has_bit(bits: &[u8], index: u32) -> bool {
    let i = index as usize;
    bits.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}
