//! Torrents' files as readable streams ([`trove_proto::FileStreams`]), for the API's HTTP
//! stream endpoints.
//!
//! librqbit's `FileStream` does the work: a read waits until the pieces it covers are
//! verified, and the torrent fetches the pieces just ahead of every open stream first. But
//! each open `FileStream` holds one permit of the semaphore librqbit's disk writes also take
//! (one per runtime worker thread), so as many open streams as permits would stall every
//! write of every torrent. Hence the limit here, well below that count: a stream past it is
//! refused at once ([`StreamError::Busy`]) rather than queued.

use std::io::SeekFrom;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use librqbit::Session;
use librqbit::api::TorrentIdOrHash;
use librqbit_core::hash_id::Id20;
use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};
use trove_proto::stream::Opening;
use trove_proto::{FileStreams, OpenFile, StreamError};

/// Streams open at once unless the config says otherwise: half of librqbit's default
/// number of disk permits, so writes always have some.
pub const DEFAULT_MAX_STREAMS: usize = 4;

/// How long opening waits for a torrent's start-up check of its data.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);

/// The session's files, opened with a limit on how many are open at once.
pub struct Streams {
    session: Arc<Session>,
    slots: Slots,
}

impl Streams {
    pub fn new(session: Arc<Session>, limit: usize) -> Self {
        Streams {
            session,
            slots: Slots::new(limit),
        }
    }

    async fn open_file(&self, info_hash: &str, index: usize) -> Result<OpenFile, StreamError> {
        let hash = info_hash.to_ascii_lowercase();
        if hash.len() != 40 {
            return Err(StreamError::BadHash(info_hash.to_string()));
        }
        let id = Id20::from_str(&hash).map_err(|_| StreamError::BadHash(info_hash.to_string()))?;
        let handle = self
            .session
            .get(TorrentIdOrHash::Hash(id))
            .ok_or_else(|| StreamError::NotRunning(hash.clone()))?;
        let metadata = handle
            .metadata
            .load_full()
            .ok_or_else(|| StreamError::NoMetadata(hash.clone()))?;
        // trove numbers real files only; librqbit counts BEP 47 padding entries too.
        let real: Vec<_> = metadata
            .file_infos
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.attrs.padding)
            .collect();
        let Some(&(librqbit_index, info)) = real.get(index) else {
            return Err(StreamError::NoSuchFile {
                hash,
                index,
                count: real.len(),
            });
        };
        let path = info
            .relative_filename
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let len = info.len;
        let slot = self.slots.take()?;
        let stream = tokio::time::timeout(OPEN_TIMEOUT, handle.stream(librqbit_index))
            .await
            .map_err(|_| StreamError::Checking(hash.clone()))?
            .map_err(|e| StreamError::Failed(format!("{e:#}")))?;
        Ok(OpenFile {
            path,
            len,
            reader: Box::new(Held {
                stream,
                _slot: slot,
            }),
        })
    }
}

impl FileStreams for Streams {
    fn open(&self, info_hash: &str, index: usize) -> Opening<'_> {
        let info_hash = info_hash.to_string();
        Box::pin(async move { self.open_file(&info_hash, index).await })
    }

    fn limit(&self) -> usize {
        self.slots.limit.load(Ordering::Relaxed)
    }

    fn set_limit(&self, limit: usize) {
        self.slots.limit.store(limit, Ordering::Relaxed);
    }

    fn open_count(&self) -> usize {
        self.slots.open.load(Ordering::Acquire)
    }
}

/// A counter of open streams with a ceiling that can change at run time.
struct Slots {
    limit: AtomicUsize,
    open: Arc<AtomicUsize>,
}

impl Slots {
    fn new(limit: usize) -> Self {
        Slots {
            limit: AtomicUsize::new(limit),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Takes a slot, or says that all are taken.
    fn take(&self) -> Result<Slot, StreamError> {
        let limit = self.limit.load(Ordering::Relaxed);
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .map_err(|_| StreamError::Busy(limit))?;
        Ok(Slot(self.open.clone()))
    }
}

/// One taken slot, given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// librqbit's stream with the slot it holds: both go together when the reader is dropped.
struct Held<S> {
    stream: S,
    _slot: Slot,
}

impl<S: AsyncRead + Unpin> AsyncRead for Held<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncSeek + Unpin> AsyncSeek for Held<S> {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> std::io::Result<()> {
        Pin::new(&mut self.stream).start_seek(position)
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<u64>> {
        Pin::new(&mut self.stream).poll_complete(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_limited_and_given_back() {
        let slots = Slots::new(2);
        let a = slots.take().expect("first slot");
        let _b = slots.take().expect("second slot");
        assert_eq!(slots.take().err(), Some(StreamError::Busy(2)));
        drop(a);
        let _c = slots.take().expect("a slot given back is free again");
        slots.limit.store(3, Ordering::Relaxed);
        let _d = slots.take().expect("a raised limit admits one more");
    }
}
