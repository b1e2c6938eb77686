//! What crosses the socket besides `trove_proto`'s own types: the endpoints' paths, the
//! protocol header, the lines of the event stream, and the body of an HTTP error.

use serde::{Deserialize, Serialize};
use trove_proto::SessionSnapshot;

use crate::diff::SnapshotDelta;

pub(crate) const COMMAND_PATH: &str = "/api/trove/v1/command";
pub(crate) const EVENTS_PATH: &str = "/api/trove/v1/events";

/// Every native request and answer names the protocol version it speaks.
pub(crate) const PROTOCOL_HEADER: &str = "x-trove-protocol";

/// The largest command body accepted. `TorrentSource::Bytes` carries a whole .torrent as a
/// JSON array of numbers (up to four characters a byte), so this admits .torrent files of
/// about 16 MiB, beyond any real one.
pub(crate) const MAX_COMMAND_BYTES: usize = 64 * 1024 * 1024;

/// The server sends a [`Event::Ping`] after this long without another line, so that a client
/// can tell a quiet session from a vanished one.
pub(crate) const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// One line of `GET /events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Event {
    /// Always the first line: the whole snapshot and the newest log line's sequence.
    Hello {
        snapshot: Box<SessionSnapshot>,
        log_seq: u64,
    },
    /// What changed since the previous snapshot sent on this stream.
    Delta(Box<SnapshotDelta>),
    /// The newest log line's sequence number moved.
    LogSeq(u64),
    /// Nothing changed for a while.
    Ping,
}

/// The body of every 4xx answer (except 401 and 429, which say nothing).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) error: String,
}

/// The one line both ends use when their versions differ, worded for the person at the
/// client: "this trove" is the one they ran.
pub(crate) fn mismatch_message(client: &str, session: &str) -> String {
    format!(
        "this trove speaks protocol {client} and the session speaks {session}: use the same \
         version of trove on both ends"
    )
}

/// What a client sent, made safe to quote in a one-line message: no control characters,
/// and not too long.
pub(crate) fn one_line(text: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = text
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}
