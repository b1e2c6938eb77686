//! Reading a torrent's file as it downloads: the door the HTTP stream endpoints open.
//!
//! Only the process that holds the session can open one (it needs the torrent engine's
//! storage), so a [`Client`](crate::Client) made by that process carries a [`FileStreams`]
//! and one made over a socket does not.

use std::future::Future;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncSeek};

/// A readable, seekable file of a torrent. Reads wait for the pieces they cover, and the
/// pieces just ahead of the reader are fetched first.
pub trait FileReader: AsyncRead + AsyncSeek + Send + Unpin {}

impl<T: AsyncRead + AsyncSeek + Send + Unpin> FileReader for T {}

/// An open file: its path inside the torrent, its length, and the reader. Dropping it
/// closes the stream and frees its slot.
pub struct OpenFile {
    /// Path inside the torrent, components joined with '/'.
    pub path: String,
    pub len: u64,
    pub reader: Box<dyn FileReader>,
}

/// Why a file cannot be opened. `Display` is one line meant for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("'{0}' is not a torrent's info-hash: give its 40 hex digits")]
    BadHash(String),
    #[error(
        "torrent {0} is not running (paused, queued, or its data missing): resume it to \
         stream its files"
    )]
    NotRunning(String),
    #[error("torrent {0} has no metadata yet: its file list is still being fetched from peers")]
    NoMetadata(String),
    #[error("torrent {hash} has no file {index}: its files are numbered 0 to {}", .count.saturating_sub(1))]
    NoSuchFile {
        hash: String,
        index: usize,
        count: usize,
    },
    #[error(
        "all {0} stream slots are in use: close a stream or try again shortly (the limit is \
         [api] max_streams in the config)"
    )]
    Busy(usize),
    #[error("torrent {0} is still checking its data: try again in a moment")]
    Checking(String),
    #[error("cannot open the stream: {0}")]
    Failed(String),
}

/// The future [`FileStreams::open`] returns.
pub type Opening<'a> = Pin<Box<dyn Future<Output = Result<OpenFile, StreamError>> + Send + 'a>>;

/// Opens torrents' files for reading, at most [`FileStreams::limit`] at once.
pub trait FileStreams: Send + Sync {
    /// Opens file `index` (in trove's numbering: the Files tab's) of the torrent with this
    /// full info-hash.
    fn open(&self, info_hash: &str, index: usize) -> Opening<'_>;

    /// How many streams may be open at once.
    fn limit(&self) -> usize;

    /// Changes the limit; streams open beyond a lowered limit stay open.
    fn set_limit(&self, limit: usize);

    /// How many streams are open now.
    fn open_count(&self) -> usize;
}
