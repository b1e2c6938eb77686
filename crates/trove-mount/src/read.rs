//! The read path. A read whose pieces are verified is a `pread` of the file librqbit
//! writes, answered on the filesystem's request thread without a task hand-off, with no
//! librqbit stream and so none of the permits its disk writes need: any
//! number of files can be open and read at once. A read whose pieces are missing waits for
//! them (checking librqbit's have-bitfield), and while it waits, if one of a few priority
//! slots is free, it holds a librqbit stream placed at its offset, which makes librqbit
//! fetch the pieces from there on first, whether or not the file is selected.

use std::io::SeekFrom;
use std::ops::RangeInclusive;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use librqbit::ManagedTorrent;
use librqbit::api::TorrentIdOrHash;
use tokio::io::AsyncSeekExt;
use tracing::warn;

use crate::fs::Shared;
use crate::tree::FileNode;

/// How often a waiting read looks at the have-bitfield again.
const POLL: Duration = Duration::from_millis(20);

/// Bytes `offset..offset+size` of `file` (fewer at its end) when every piece they cover is
/// verified already: read from disk at once, on the caller's thread. `None` when a piece
/// is missing (or the torrent is not in the session), for `read` to wait or fail.
pub(crate) fn read_verified(
    shared: &Arc<Shared>,
    fh: u64,
    file: &FileNode,
    offset: u64,
    size: u32,
) -> Option<Result<Vec<u8>, i32>> {
    let end = offset.saturating_add(u64::from(size)).min(file.len);
    if offset >= end {
        return Some(Ok(Vec::new()));
    }
    let handle = shared.handle(&file.torrent.hash)?;
    if !has_all(shared, &handle, &file.pieces(offset, end)) {
        return None;
    }
    shared.stats.reads.fetch_add(1, Ordering::Relaxed);
    shared.stats.hits.fetch_add(1, Ordering::Relaxed);
    read_ahead(shared, &handle, fh, file, end);
    Some(read_disk(shared, fh, file, offset, end - offset))
}

/// Bytes `offset..offset+size` of `file` (fewer at its end), once they are verified; an
/// errno otherwise.
pub(crate) async fn read(
    shared: Arc<Shared>,
    fh: u64,
    file: FileNode,
    offset: u64,
    size: u32,
) -> Result<Vec<u8>, i32> {
    let end = offset.saturating_add(u64::from(size)).min(file.len);
    if offset >= end {
        return Ok(Vec::new());
    }
    shared.stats.reads.fetch_add(1, Ordering::Relaxed);
    let handle = shared.handle(&file.torrent.hash).ok_or(libc::EIO)?;
    let pieces = file.pieces(offset, end);
    if has_all(&shared, &handle, &pieces) {
        shared.stats.hits.fetch_add(1, Ordering::Relaxed);
    } else {
        wait(&shared, &handle, &file, offset, &pieces).await?;
    }
    read_ahead(&shared, &handle, fh, &file, end);
    tokio::task::spawn_blocking(move || read_disk(&shared, fh, &file, offset, end - offset))
        .await
        .map_err(|_| libc::EIO)?
}

/// Whether every piece of `file` is verified (an empty file is complete).
pub(crate) fn complete(shared: &Shared, file: &FileNode) -> bool {
    file.len == 0
        || shared
            .handle(&file.torrent.hash)
            .is_some_and(|h| has_all(shared, &h, &file.pieces(0, file.len)))
}

fn read_disk(
    shared: &Shared,
    fh: u64,
    file: &FileNode,
    offset: u64,
    len: u64,
) -> Result<Vec<u8>, i32> {
    if file.torrent.sealed {
        let mut buf = vec![0u8; len as usize];
        return match shared
            .sealed
            .read(&file.torrent.hash, file.index, offset, &mut buf)
        {
            Ok(()) => Ok(buf),
            Err(e) => {
                warn!(torrent = %file.torrent.hash, offset, "mount: reading from the vault failed: {e}");
                Err(libc::EIO)
            }
        };
    }
    let disk = shared.disk_file(fh, file).map_err(|e| {
        warn!(path = %file.disk_path.display(), "mount: cannot open the file on disk: {e}");
        libc::EIO
    })?;
    pread_full(&disk, offset, len).map_err(|e| {
        warn!(path = %file.disk_path.display(), "mount: reading the file on disk failed: {e}");
        libc::EIO
    })
}

fn pread_full(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; usize::try_from(len).map_err(std::io::Error::other)?];
    let mut done = 0;
    while done < buf.len() {
        let n = file.read_at(&mut buf[done..], offset + done as u64)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file on disk is shorter than the torrent says",
            ));
        }
        done += n;
    }
    Ok(buf)
}

/// The share of `file`'s pieces verified, 0..=1.
pub(crate) fn file_progress(shared: &Shared, file: &FileNode) -> f64 {
    if file.len == 0 {
        return 1.0;
    }
    let Some(handle) = shared.handle(&file.torrent.hash) else {
        return 0.0;
    };
    let pieces = file.pieces(0, file.len);
    let total = pieces.clone().count();
    let Some(bits) = haves(shared, &handle) else {
        return 0.0;
    };
    let have = pieces.filter(|p| bit(&bits, *p)).count();
    have as f64 / total.max(1) as f64
}

fn haves(shared: &Shared, handle: &Arc<ManagedTorrent>) -> Option<Vec<u8>> {
    shared
        .api
        .api_dump_haves(TorrentIdOrHash::Id(handle.id()))
        .ok()
        .map(|(bf, _)| bf.as_raw_slice().to_vec())
}

/// Bit `piece` of a have-bitfield, most significant bit first.
fn bit(bits: &[u8], piece: u64) -> bool {
    usize::try_from(piece / 8)
        .ok()
        .and_then(|i| bits.get(i))
        .is_some_and(|b| b & (0x80 >> (piece % 8)) != 0)
}

fn has_all(shared: &Shared, handle: &Arc<ManagedTorrent>, pieces: &RangeInclusive<u64>) -> bool {
    haves(shared, handle).is_some_and(|bits| pieces.clone().all(|p| bit(&bits, p)))
}

/// Clears a flag when dropped.
struct Clear(Arc<AtomicBool>);

impl Drop for Clear {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// After a read that ended at `end`, keeps librqbit fetching the next `readahead` bytes
/// of the file first, with one stream per open file moved to the first missing piece, while
/// a priority slot is free, the file open, and no waiting read needs the slot.
fn read_ahead(
    shared: &Arc<Shared>,
    handle: &Arc<ManagedTorrent>,
    fh: u64,
    file: &FileNode,
    end: u64,
) {
    let upto = end.saturating_add(shared.opts.readahead).min(file.len);
    if end >= upto || has_all(shared, handle, &file.pieces(end, upto)) {
        return;
    }
    let Some((prefetching, open)) = shared.prefetch_flags(fh) else {
        return;
    };
    if prefetching
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let claim = Clear(prefetching);
    let Ok(slot) = shared.slots.clone().try_acquire_owned() else {
        return;
    };
    let (shared, handle, file) = (shared.clone(), handle.clone(), file.clone());
    tokio::spawn(async move {
        let _claim = claim;
        let _slot = slot;
        let timeout = shared.opts.read_timeout;
        let Ok(Ok(mut stream)) =
            tokio::time::timeout(timeout, handle.clone().stream(file.index)).await
        else {
            return;
        };
        let deadline = Instant::now() + timeout;
        let piece_len = file.torrent.piece_len.max(1);
        let mut at = None;
        while open.load(Ordering::Relaxed)
            && Instant::now() < deadline
            && shared.stats.starved.load(Ordering::Relaxed) == 0
            && shared
                .current(&handle)
                .is_some_and(|h| Arc::ptr_eq(&h, &handle))
        {
            let Some(bits) = haves(&shared, &handle) else {
                break;
            };
            let Some(missing) = file.pieces(end, upto).find(|p| !bit(&bits, *p)) else {
                break;
            };
            let pos = (missing * piece_len)
                .saturating_sub(file.offset_in_torrent)
                .max(end);
            if at != Some(pos) {
                if stream.seek(SeekFrom::Start(pos)).await.is_err() {
                    break;
                }
                at = Some(pos);
            }
            tokio::time::sleep(POLL * 5).await;
        }
    });
}

/// Counts a read as waiting while it lives.
struct Waiting<'a>(&'a Shared);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.stats.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a waiting read without a priority slot while it lives.
struct Starved<'a>(&'a Shared);

impl Drop for Starved<'_> {
    fn drop(&mut self) {
        self.0.stats.starved.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn wait(
    shared: &Shared,
    handle: &Arc<ManagedTorrent>,
    file: &FileNode,
    offset: u64,
    pieces: &RangeInclusive<u64>,
) -> Result<(), i32> {
    shared.stats.waiting.fetch_add(1, Ordering::Relaxed);
    let _waiting = Waiting(shared);
    let started = Instant::now();
    let deadline = started + shared.opts.read_timeout;
    // Kept while waiting: dropping them ends the priority.
    let mut stream = None;
    let mut _slot = None;
    let mut _starved = None;
    let mut handle = handle.clone();
    loop {
        if has_all(shared, &handle, pieces) {
            return Ok(());
        }
        let Some(current) = shared.current(&handle) else {
            warn!(
                torrent = %file.torrent.hash,
                "mount: a read failed: the torrent was removed from the session"
            );
            return Err(libc::EIO);
        };
        if !Arc::ptr_eq(&current, &handle) {
            // A new handle for the same torrent: streams of the old one prioritise nothing.
            handle = current;
            stream = None;
            _slot = None;
        }
        let now = Instant::now();
        if now >= deadline {
            warn!(
                torrent = %file.torrent.hash,
                path = %file.disk_path.display(),
                offset,
                "mount: a read waited {:?} for its pieces and failed",
                shared.opts.read_timeout
            );
            return Err(if shared.opts.eagain_on_timeout {
                libc::EAGAIN
            } else {
                libc::EIO
            });
        }
        if stream.is_none()
            && let Ok(slot) = shared.slots.clone().try_acquire_owned()
        {
            let opened = tokio::time::timeout(deadline - now, handle.clone().stream(file.index));
            if let Ok(Ok(mut s)) = opened.await
                && s.seek(SeekFrom::Start(offset)).await.is_ok()
            {
                stream = Some(s);
                _slot = Some(slot);
                _starved = None;
            }
        } else if stream.is_none() && _starved.is_none() {
            shared.stats.starved.fetch_add(1, Ordering::Relaxed);
            _starved = Some(Starved(shared));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_read_most_significant_first() {
        let bits = [0b1000_0001, 0b0100_0000];
        assert!(bit(&bits, 0));
        assert!(!bit(&bits, 1));
        assert!(bit(&bits, 7));
        assert!(bit(&bits, 9));
        assert!(!bit(&bits, 100));
    }
}
