//! The one door into the engine: commands in, trove snapshots out.
//!
//! The UI and the CLI hold an [`EngineHandle`]; the session task on the other side owns
//! librqbit and the store. Keeping this a message channel means a remote backend could
//! answer the same commands later without the UI noticing.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use super::logring::LogRing;
use super::snapshot::{InfoHash, Limits, SessionSnapshot, TorrentDetails};

/// Where a torrent comes from, as the user gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum TorrentSource {
    Magnet(String),
    /// A .torrent file on disk.
    File(PathBuf),
    /// An http(s) URL of a .torrent.
    Url(String),
    /// .torrent bytes already read (stdin, a paste, a test).
    Bytes(Vec<u8>),
}

impl TorrentSource {
    /// Reads what a user typed: a magnet link, an http(s) URL, `-` (stdin is read by the
    /// caller) or a path.
    pub fn from_user_text(text: &str) -> Self {
        let t = text.trim();
        if t.len() >= 7 && t[..7].eq_ignore_ascii_case("magnet:") {
            TorrentSource::Magnet(t.to_string())
        } else if t.starts_with("http://") || t.starts_with("https://") {
            TorrentSource::Url(t.to_string())
        } else {
            TorrentSource::File(PathBuf::from(t))
        }
    }
}

/// What `add` needs besides the source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddOptions {
    /// Root label (or token); None = the default root.
    pub root: Option<String>,
    pub paused: bool,
    /// Peers to dial first (e.g. a seedbox on the LAN, or a test seeder).
    pub peers: Vec<SocketAddr>,
    /// File indices to download; None = all.
    pub only_files: Option<Vec<usize>>,
    pub limits: Limits,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    pub info_hash: InfoHash,
    pub name: String,
    /// False when the torrent was already in the session.
    pub new: bool,
}

/// A request to the engine. IDs are info-hashes or unique prefixes of one.
#[derive(Debug, Clone)]
pub enum Command {
    Add(TorrentSource, AddOptions),
    Pause(String),
    Resume(String),
    Remove {
        id: String,
        delete_data: bool,
    },
    SetTorrentLimits {
        id: String,
        limits: Limits,
    },
    SetGlobalLimits(Limits),
    SelectFiles {
        id: String,
        files: Vec<usize>,
    },
    Details(String),
    /// Write counters and state to the store now.
    Flush,
}

impl Command {
    /// False for commands that only read (details) or only persist (flush): the engine
    /// publishes a new snapshot after every other command.
    pub fn changes_state(&self) -> bool {
        !matches!(self, Command::Details(_) | Command::Flush)
    }
}

#[derive(Debug)]
pub enum Reply {
    Done,
    Added(Added),
    Details(Box<TorrentDetails>),
}

/// Every failure the engine reports. `Display` is one line meant for a person.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum EngineError {
    #[error("no torrent matches '{0}': run `trove list` to see the info-hashes")]
    UnknownId(String),
    #[error("'{prefix}' matches {count} torrents: type more characters of the info-hash")]
    AmbiguousId { prefix: String, count: usize },
    #[error("{0}")]
    BadSource(String),
    #[error("{0}")]
    Root(String),
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Engine(String),
    #[error("the engine has stopped")]
    Stopped,
}

pub type EngineResult<T> = Result<T, EngineError>;

pub(crate) type Request = (Command, oneshot::Sender<EngineResult<Reply>>);

/// A cheap, cloneable handle to a running engine.
#[derive(Clone)]
pub struct EngineHandle {
    pub(crate) commands: mpsc::Sender<Request>,
    pub(crate) snapshots: watch::Receiver<Arc<SessionSnapshot>>,
    pub(crate) log: LogRing,
}

impl EngineHandle {
    pub async fn call(&self, command: Command) -> EngineResult<Reply> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send((command, tx))
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    pub async fn add(&self, source: TorrentSource, options: AddOptions) -> EngineResult<Added> {
        match self.call(Command::Add(source, options)).await? {
            Reply::Added(a) => Ok(a),
            other => Err(EngineError::Engine(format!("unexpected reply {other:?}"))),
        }
    }

    pub async fn details(&self, id: &str) -> EngineResult<TorrentDetails> {
        match self.call(Command::Details(id.to_string())).await? {
            Reply::Details(d) => Ok(*d),
            other => Err(EngineError::Engine(format!("unexpected reply {other:?}"))),
        }
    }

    /// Runs a command whose only answer is success or an error.
    pub async fn run(&self, command: Command) -> EngineResult<()> {
        self.call(command).await.map(|_| ())
    }

    /// The latest snapshot (refreshed about once a second, and after every command).
    pub fn snapshot(&self) -> Arc<SessionSnapshot> {
        self.snapshots.borrow().clone()
    }

    /// A receiver that wakes whenever a new snapshot is published.
    pub fn watch(&self) -> watch::Receiver<Arc<SessionSnapshot>> {
        self.snapshots.clone()
    }

    pub fn log(&self) -> &LogRing {
        &self.log
    }
}
