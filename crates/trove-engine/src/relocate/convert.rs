//! Moving a torrent's data into a vault, out of one, or between two: the bytes change
//! form on the way (sealed, opened, or sealed again under another key), so no file can be
//! copied as it is. It goes piece by piece: each piece read from the source is checked
//! against its hash before it is written, the target is synced, then every piece is read
//! back from the target's disk and checked again before anything points at it. On any
//! failure the partial target is removed.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::CopyFailure;
use super::copy::io_failure;
use super::verify::{has_bit, metainfo, piece_matches};
use crate::source::CheckedTorrent;
use crate::vault::{SealedFile, Sealer};

/// Where a torrent's data is, and in what form.
pub enum Side {
    /// Its files, under this root folder.
    Files(PathBuf),
    /// Sealed in this vault file, opened with this key and cipher.
    Vault { file: PathBuf, sealer: Sealer },
}

/// One side, open.
enum Open {
    /// (start, end) in the torrent's byte stream, and the file.
    Files(Vec<(u64, u64, File)>),
    Vault(SealedFile),
}

impl Open {
    fn new(t: &CheckedTorrent, side: &Side, write: bool) -> Result<Open, CopyFailure> {
        match side {
            Side::Files(root) => {
                let mut files = Vec::new();
                for (f, path) in t.files.iter().zip(t.file_paths(root)) {
                    let file = if write {
                        if let Some(dir) = path.parent() {
                            std::fs::create_dir_all(dir).map_err(io_failure)?;
                        }
                        let file = std::fs::OpenOptions::new()
                            .read(true)
                            .write(true)
                            .create(true)
                            .truncate(false)
                            .open(&path)
                            .map_err(io_failure)?;
                        file.set_len(f.len).map_err(io_failure)?;
                        file
                    } else {
                        File::open(&path).map_err(|e| {
                            CopyFailure::Io(format!("{} cannot be read ({e})", path.display()))
                        })?
                    };
                    files.push((f.offset, f.offset + f.len, file));
                }
                Ok(Open::Files(files))
            }
            Side::Vault { file, sealer } => {
                let hash = hex_hash(&t.info_hash)?;
                SealedFile::open(sealer, file, hash, t.piece_length, t.total_len)
                    .map(Open::Vault)
                    .map_err(|e| CopyFailure::Io(format!("{e:#}")))
            }
        }
    }

    /// Bytes `start..start + buf.len()` of the torrent (padding reads as zeros).
    fn read(&self, start: u64, buf: &mut [u8]) -> Result<(), CopyFailure> {
        let end = start + buf.len() as u64;
        match self {
            Open::Files(files) => {
                buf.fill(0);
                for (s, e, f) in files.iter().filter(|(s, e, _)| *s < end && *e > start) {
                    let (from, to) = (start.max(*s), end.min(*e));
                    f.read_exact_at(
                        &mut buf[(from - start) as usize..(to - start) as usize],
                        from - s,
                    )
                    .map_err(|e| CopyFailure::Io(format!("reading the data ({e})")))?;
                }
                Ok(())
            }
            Open::Vault(v) => v
                .read(start..end, buf)
                .map_err(|e| CopyFailure::Io(format!("{e:#}"))),
        }
    }

    fn write(&self, start: u64, buf: &[u8]) -> Result<(), CopyFailure> {
        let end = start + buf.len() as u64;
        match self {
            Open::Files(files) => {
                for (s, e, f) in files.iter().filter(|(s, e, _)| *s < end && *e > start) {
                    let (from, to) = (start.max(*s), end.min(*e));
                    f.write_all_at(
                        &buf[(from - start) as usize..(to - start) as usize],
                        from - s,
                    )
                    .map_err(io_failure)?;
                }
                Ok(())
            }
            Open::Vault(v) => {
                v.write(start..end, buf)
                    .map_err(|e| match e.downcast_ref::<std::io::Error>() {
                        Some(io) if io.raw_os_error() == Some(28) => CopyFailure::NoSpace,
                        _ => CopyFailure::Io(format!("{e:#}")),
                    })
            }
        }
    }

    fn sync(&self) -> Result<(), CopyFailure> {
        match self {
            Open::Files(files) => files
                .iter()
                .try_for_each(|(_, _, f)| f.sync_all())
                .map_err(io_failure),
            Open::Vault(v) => v.sync().map_err(io_failure),
        }
    }
}

/// Moves `t`'s data from `from` to `to` (whose top-level entry is `target`, removed on
/// failure): the pieces in `haves`, or all of them.
pub fn convert_and_verify(
    t: &CheckedTorrent,
    from: &Side,
    to: &Side,
    target: &Path,
    haves: Option<&[u8]>,
    done: &AtomicU64,
    cancel: &AtomicBool,
) -> Result<(), CopyFailure> {
    let result = convert(t, from, to, haves, done, cancel);
    if result.is_err() {
        let _ = super::remove_entry(target);
    }
    result
}

fn convert(
    t: &CheckedTorrent,
    from: &Side,
    to: &Side,
    haves: Option<&[u8]>,
    done: &AtomicU64,
    cancel: &AtomicBool,
) -> Result<(), CopyFailure> {
    let (lengths, hashes) = metainfo(t)?;
    let pieces: Vec<(u32, u64, usize)> = lengths
        .iter_piece_infos()
        .filter(|p| haves.is_none_or(|bits| has_bit(bits, p.piece_index.get())))
        .map(|p| {
            (
                p.piece_index.get(),
                lengths.piece_offset(p.piece_index),
                p.len as usize,
            )
        })
        .collect();
    let source = Open::new(t, from, false)?;
    let target = Open::new(t, to, true)?;
    // The crash tests stop a move half-way through (see `stall_if_asked`).
    let half = pieces.get(pieces.len() / 2).map(|p| p.1);
    checked_pieces(
        &source,
        &pieces,
        &hashes,
        cancel,
        "source",
        |start, data| {
            target.write(start, data)?;
            done.fetch_add(data.len() as u64, Ordering::Relaxed);
            if Some(start) == half {
                super::stall_if_asked(super::Stage::MidCopy);
            }
            Ok(())
        },
    )?;
    target.sync()?;
    drop(target);
    // Read back from the disk, under the target's own key or names.
    let written = Open::new(t, to, false)?;
    checked_pieces(&written, &pieces, &hashes, cancel, "copy", |_, _| Ok(()))
}

/// Reads each of `pieces` (index, start, length) from `side`, checks it against its hash
/// and hands it to `then`; `whose` names the side in a mismatch.
fn checked_pieces(
    side: &Open,
    pieces: &[(u32, u64, usize)],
    hashes: &[u8],
    cancel: &AtomicBool,
    whose: &str,
    mut then: impl FnMut(u64, &[u8]) -> Result<(), CopyFailure>,
) -> Result<(), CopyFailure> {
    let mut buf = Vec::new();
    for &(index, start, len) in pieces {
        if cancel.load(Ordering::Relaxed) {
            return Err(CopyFailure::Cancelled);
        }
        buf.resize(len, 0);
        side.read(start, &mut buf)?;
        if !piece_matches(hashes, index, &buf) {
            return Err(CopyFailure::Mismatch(format!(
                "piece {index} of the {whose} does not match its hash"
            )));
        }
        then(start, &buf)?;
    }
    Ok(())
}

fn hex_hash(hex: &str) -> Result<[u8; 20], CopyFailure> {
    let bad = || CopyFailure::Io(format!("'{hex}' is not an info-hash"));
    if hex.len() != 40 {
        return Err(bad());
    }
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}
