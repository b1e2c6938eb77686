//! What a client asks of a session and what the session answers, and the one error type
//! every answer may carry.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::log::{LogFilter, LogLine};
use crate::queue::{QueueLimits, QueueMove, SeedingGoals};
use crate::snapshot::{InfoHash, Limits, TorrentDetails};

/// The largest .torrent any part of trove reads: a larger "torrent" is someone's data given
/// by mistake, or an attack.
pub const MAX_TORRENT_FILE_BYTES: usize = 64 << 20;

/// Where a torrent comes from, as the user gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Files of at most this many bytes count as descriptive when a torrent fetches its
/// descriptive files first and the user gave no size.
pub const DEFAULT_METADATA_SIZE: u64 = 1 << 20;

/// What `add` needs besides the source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddOptions {
    /// Root label (or token); None = the default root.
    pub root: Option<String>,
    pub paused: bool,
    /// Peers to dial first (e.g. a seedbox on the LAN, or a test seeder).
    pub peers: Vec<SocketAddr>,
    /// File indices to download; None = all.
    pub only_files: Option<Vec<usize>>,
    pub limits: Limits,
    /// Free labels put on the torrent (created in the session if new).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Fetch the torrent's descriptive files first (`.cue`, `.log`, `.nfo`, `.txt`,
    /// `.jpg`, `.png`, `.m3u`, and any file of at most this many bytes), then the rest.
    #[serde(default)]
    pub metadata_first: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Added {
    pub info_hash: InfoHash,
    pub name: String,
    /// False when the torrent was already in the session.
    pub new: bool,
}

/// A request to the engine. IDs are info-hashes or unique prefixes of one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Add(TorrentSource, AddOptions),
    /// Mount the session's torrents as a read-only filesystem on this folder (absolute;
    /// made if missing), in the process holding the session.
    Mount {
        dir: PathBuf,
    },
    /// Unmount a folder mounted with `Mount`.
    Umount {
        dir: PathBuf,
    },
    /// The session's mounts (answered with `Reply::Mounts`).
    MountStatus,
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
    /// Verify the torrent's data against its piece hashes (and retry it if it was in error).
    Recheck(String),
    /// Replace the torrent's tracker list (announce URLs, one tier each).
    SetTrackers {
        id: String,
        trackers: Vec<String>,
    },
    /// Put tags on torrents and take others off; tags new to the session are created. A
    /// name is trimmed and must be non-empty, at most 64 characters, without commas or
    /// control characters (else `BadSource`); an unknown id is `UnknownId`, and then
    /// nothing changes. Taking off a tag a torrent does not have does nothing.
    EditTags {
        ids: Vec<String>,
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// Make tags known to the session without putting them on any torrent.
    CreateTags(Vec<String>),
    /// Forget tags: from the session and from every torrent that has them (unknown names
    /// are ignored).
    DeleteTags(Vec<String>),
    /// Declare a storage root kept in the store, beside the config file's roots; its token
    /// is its label. The label (trimmed, non-empty, at most 64 characters) must not be a
    /// root's label or token already; the path must be absolute, and is created if missing
    /// and must be writable. Refusals are `Root` errors.
    CreateRoot {
        label: String,
        path: PathBuf,
    },
    /// Change the folder of a root kept in the store (checked as for `CreateRoot`). Refused
    /// for the config file's roots, and while a torrent in the root has data on disk; its
    /// torrents without data follow it.
    EditRoot {
        label: String,
        path: PathBuf,
    },
    /// Forget roots kept in the store; refused for a root a torrent still uses, and for
    /// the config file's roots. All or nothing.
    RemoveRoots(Vec<String>),
    /// Put a torrent in another root (named by label or token). Refused while the torrent
    /// has data on disk that would have to move (bytes counted, or any of its files present
    /// in its current root); already there is success.
    SetRoot {
        id: String,
        root: String,
    },
    /// The whole session as an export document.
    Export,
    Details(String),
    /// The log lines kept in memory that pass the filter, oldest first.
    ReadLog(LogFilter),
    /// Write counters and state to the store now.
    Flush,
    /// Stop the session: save everything and let the process that holds it exit.
    Shutdown,
    /// Move torrents in the queue (in the order given; an unknown id changes nothing).
    Queue {
        ids: Vec<String>,
        to: QueueMove,
    },
    /// Start torrents regardless of the queue's limits (`on`), or give them back to it.
    Force {
        ids: Vec<String>,
        on: bool,
    },
    /// Change the queue's limits (kept in the store).
    SetQueueLimits(QueueLimits),
    /// Set seeding goals: a torrent's own (`id`), or the session's default (`None`).
    /// `goals: None` clears a torrent's own goals (it then follows the session's), or the
    /// session's (then torrents without their own seed forever).
    SetGoals {
        id: Option<String>,
        goals: Option<SeedingGoals>,
    },
    /// Move torrents' data to another storage root (label or token): a rename on the same
    /// filesystem, else a verified copy while the torrent keeps seeding, then a switch.
    /// Answered once each move has started (or, for a rename, is done).
    Move {
        ids: Vec<String>,
        root: String,
    },
    /// Stop a torrent's move under way: its partial copy is removed, it stays where it was.
    CancelMove(String),
    /// What sits in each storage root: space, each torrent's data state, the orphans
    /// (answered with `Reply::Library`; the roots are looked at off the engine's loop).
    Library,
    /// The torrent's data is in another root: check its files are there, point its record
    /// at that root (label or token) and verify the data against its piece hashes. A root
    /// where its files are missing or of the wrong size is refused and nothing changes.
    Locate {
        id: String,
        root: String,
    },
}

impl Command {
    /// False for commands that only read (details, the log) or only persist (flush): the
    /// engine publishes a new snapshot after every other command.
    pub fn changes_state(&self) -> bool {
        !matches!(
            self,
            Command::Details(_)
                | Command::ReadLog(_)
                | Command::Flush
                | Command::Shutdown
                | Command::Export
                | Command::Library
                | Command::MountStatus
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Done,
    Added(Added),
    Details(Box<TorrentDetails>),
    Log(Vec<LogLine>),
    Exported(Exported),
    Library(crate::library::LibraryReport),
    Mounts(Vec<MountInfo>),
}

/// One folder the session's torrents are mounted on, and how its reads go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountInfo {
    pub dir: PathBuf,
    /// Torrents in the tree.
    pub torrents: usize,
    /// Files open through the mount now.
    pub open_files: usize,
    /// Reads waiting for their pieces now.
    pub reads_waiting: u64,
    /// Reads answered since the mount was made.
    pub reads: u64,
    /// Of those, the reads whose pieces were already there (no wait).
    pub reads_without_wait: u64,
    /// Files opened since the mount was made that the kernel reads from disk itself
    /// (complete files, FUSE passthrough): their reads are not counted above.
    #[serde(default)]
    pub passthrough_opens: u64,
}

/// An export document and what could not be put in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exported {
    /// The document (JSON), as `trove export` writes it.
    pub json: String,
    /// Torrents in the document.
    pub count: usize,
    /// One sentence per record that could not be read and was left out.
    pub problems: Vec<String>,
}

/// Every failure a session reports. A client matches on the variant (its kind); `Display`
/// is one line meant for a person.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Serialize, Deserialize)]
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
