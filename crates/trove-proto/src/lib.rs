//! The plain types every trove client and the engine share: commands and replies, the
//! session snapshot, torrent details, log lines, limits, and the error a client can match
//! on. Everything here is serde, so the same types cross a socket unchanged.
//!
//! This crate names no torrent library, database or terminal crate: a client built on it
//! alone cannot reach past the protocol.

pub mod client;
pub mod command;
pub mod library;
pub mod log;
pub mod queue;
pub mod snapshot;
pub mod stream;

/// The version of the wire protocol a client and a session speak to each other over a
/// socket (the shapes of these types as JSON, and the API's endpoints). Raise it whenever a
/// change here would make an older trove misread a newer one; both ends refuse to talk
/// across versions rather than guess.
pub const PROTOCOL_VERSION: u32 = 4;

pub use client::{Client, Link, Request, Server};
pub use command::{
    AddOptions, Added, Command, EngineError, EngineResult, Exported, MAX_TORRENT_FILE_BYTES,
    MountInfo, Reply, TorrentSource,
};
pub use library::{
    DataState, LibraryReport, LibraryRoot, LibraryTorrent, MissingData, Orphan, SizeChange,
};
pub use log::{LogFilter, LogLevel, LogLine};
pub use queue::{
    GoalAction, GoalKind, GoalProgress, QueueLimits, QueueMove, QueueStatus, SeedingGoals,
};
pub use snapshot::{
    FileEntry, InfoHash, Limits, PeerEntry, PieceMap, RootInfo, RootOrigin, SessionSnapshot,
    TorrentDetails, TorrentState, TorrentSummary, TrackerEntry,
};
pub use stream::{FileReader, FileStreams, OpenFile, StreamError};
