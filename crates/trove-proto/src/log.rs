//! Log lines as a client reads them: the session keeps the newest ones in memory and
//! answers [`crate::Command::ReadLog`] with those that pass a [`LogFilter`].

use std::fmt;

use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

/// Severity of a line. Ordered most severe first: `Error < Warn < ... < Trace`, as in
/// `tracing`, so "this level or more severe" is `level <= min_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// Most severe first.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
    ];

    pub fn label(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// Increases by one per line over the ring's life; never reused after eviction.
    pub seq: u64,
    pub time: DateTime<Local>,
    pub level: LogLevel,
    pub target: String,
    /// The event's message followed by its other fields as `key=value`.
    pub message: String,
    /// Lower-case hex info-hash of the torrent the line is about, if known.
    pub info_hash: Option<String>,
}

/// Which lines to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFilter {
    /// Show lines of this level and more severe ones.
    pub min_level: LogLevel,
    /// Show only lines about this torrent.
    pub info_hash: Option<String>,
}

impl Default for LogFilter {
    /// Everything.
    fn default() -> Self {
        LogFilter {
            min_level: LogLevel::Trace,
            info_hash: None,
        }
    }
}

impl LogFilter {
    pub fn matches(&self, line: &LogLine) -> bool {
        if line.level > self.min_level {
            return false;
        }
        match (&self.info_hash, &line.info_hash) {
            (None, _) => true,
            (Some(want), Some(have)) => want.eq_ignore_ascii_case(have),
            (Some(_), None) => false,
        }
    }
}
