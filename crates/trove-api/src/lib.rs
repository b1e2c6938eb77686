//! trove's daemon API: one running session, served to every client (a dashboard in another
//! SSH session, the command line while a daemon runs, scripts) over HTTP/1.1.
//!
//! # Design
//!
//! Every trove client already talks to a session through [`trove_proto::Client`] alone, so
//! this crate is two adapters around it. [`serve`] answers HTTP requests from a `Client`
//! (the engine's, or any stand-in made by `Client::pair`); [`connect`] makes a `Client`
//! whose answers come over HTTP. Code that holds a `Client` cannot tell the difference.
//!
//! **Transport.** A Unix socket ([`Listener::unix`]) for clients on the same machine, and
//! TCP ([`Listener::tcp`]) for the rest. The socket file is made with mode 0600 before the
//! socket listens, so no other user can ever connect; a socket file left by a dead process
//! is replaced, a live server on it is reported ([`ApiError::InUse`]). There is no TLS: a
//! remote session is reached through an SSH tunnel or a TLS proxy in front of the TCP port.
//!
//! **Endpoints**, under `/api/trove/v1/`:
//! - `POST command`: the body is a JSON [`trove_proto::Command`]; the answer is `200` with
//!   the JSON `Result<Reply, EngineError>`, errors of the engine included (they are
//!   answers, not HTTP failures). A body that is not a command, or names a torrent by
//!   anything but hex digits (an info-hash or its start), or gives a relative .torrent
//!   path (or any path over TCP: a remote client sends the bytes), is `400` with a one-line
//!   `{"error": "..."}` saying what is wrong. Bodies are limited to 64 MiB (`413` beyond):
//!   a .torrent travels as a JSON array of numbers, so that admits about 16 MiB of .torrent.
//! - `GET events`: newline-delimited JSON, one event a line. The first line is the whole
//!   snapshot and the log sequence; after it only changes: the torrents whose summary
//!   changed (by info-hash), the hashes of those gone, the session fields that changed, rate
//!   histories as samples appended (and how many dropped at the old end), and the newest log
//!   sequence when it moves. A `"ping"` line after 15 s of quiet lets a client tell a quiet
//!   session from a vanished one. JSON has no NaN or infinity, so a snapshot carrying one
//!   cannot cross; the engine produces none. A session that has stopped answers `503`.
//!
//! Under `/api/v2/`, the subset of qBittorrent's Web API v2 that seedbox tools use, with
//! its own login (see `src/qbit/mod.rs`).
//!
//! Under `/api/trove/v1/torrents/`, a torrent's files over HTTP, readable while they
//! download, and a playlist of them (see `src/stream.rs`). These are the only paths that
//! need no `X-Trove-Protocol` header (media players send none) and the only ones that also
//! take the token as `?token=`. They need a `Client` that can open the session's files
//! ([`trove_proto::Client::files`]); a server without one answers `501` there.
//!
//! Anything else is `404` (or `405`) with the same one-line error body.
//!
//! **Versioning.** Every native request carries `X-Trove-Protocol: N`
//! ([`trove_proto::PROTOCOL_VERSION`]) and every answer names the server's. A request
//! without it, or with another version, is `400` with one line saying which versions meet;
//! the client reports that as [`ApiError::ProtocolMismatch`].
//!
//! **Auth.** Over the Unix socket the file mode is the protection ([`Auth::none`]). Over TCP
//! every request needs `Authorization: Bearer <token>` ([`Auth::token`],
//! [`Auth::token_file`] makes a random one in the data directory, mode 0600); [`serve`]
//! refuses a TCP listener without one. A missing or wrong token is `401` with an empty
//! body, before anything else is looked at; tokens are compared in constant time. After 5
//! wrong tokens from one address within a minute, that address gets `429` for the rest of
//! the minute (at most 1024 addresses are remembered). Request headers must arrive within
//! 30 s.
//!
//! **The client** ([`connect`]) reads the whole snapshot, then follows the event stream in
//! a task that applies each change to the client's watches. Each command is its own
//! `POST`, on its own connection (a Unix or loopback connection costs less than keeping a
//! pool right). When the stream breaks, [`Connection::state`] turns
//! [`ConnectionState::Lost`], commands fail at once with an engine error naming the session
//! that is not answering, and the task retries with pauses growing from 50 ms to 5 s; once
//! back it re-reads the whole snapshot and turns [`ConnectionState::Reconnected`].
//!
//! # Dependencies
//!
//! - `axum` (no default features): routing, body limits and middleware for the server,
//!   over our own accept loop, which gives the header timeout, the peer address and a
//!   shutdown that also ends event streams.
//! - `hyper` and `hyper-util`: HTTP/1.1 for both ends. The client uses hyper's
//!   connection-level API over a `tokio::net::UnixStream` or `TcpStream` directly; that is
//!   all a Unix-socket connector crate would add, at the cost of another dependency.
//! - `http-body-util`, `bytes`, `futures-util`, `tower-service`: the body, stream and
//!   service types those two speak.
//! - `serde_json` (with exact float parsing, so a client's copy of a rate is the session's
//!   to the bit) and `serde_path_to_error` (a 400 names the field that is wrong).
//! - `multer` and `form_urlencoded`: the multipart uploads and form bodies of the
//!   qBittorrent-compatible endpoints (`src/qbit/`).
//! - `http-range-header`: parses and checks `Range` headers against a file's length, the
//!   edge cases (suffix longer than the file, reversed bounds, overflow) handled and tested.
//! - `mime_guess`: a stream's `Content-Type` from the file's extension.
//! - `percent-encoding`: file names in playlist URLs and `Content-Disposition`.
//! - `subtle`: constant-time token comparison. `getrandom`: the token's randomness, from
//!   the operating system.

#![recursion_limit = "256"]

mod auth;
mod client;
mod diff;
mod qbit;
mod server;
mod stream;
mod wire;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

pub use auth::{Auth, load_or_create_token, read_token, token_path};
pub use client::{Connection, ConnectionState, connect};
pub use server::{Listener, serve};

/// Where a session listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A Unix socket's path.
    Unix(PathBuf),
    /// A TCP `host:port` spoken to in plain HTTP.
    Http(String),
}

impl Endpoint {
    /// Reads `http://host[:port][/]` (port 80 when left out) or a Unix socket's path.
    pub fn parse(text: &str) -> Result<Endpoint, ApiError> {
        let bad = |why: &str| ApiError::BadEndpoint(format!("'{text}' {why}"));
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Err(bad(
                "uses https, which trove's API does not speak: reach a remote session through \
                 an SSH tunnel (ssh -L) or a TLS proxy in front of its http port",
            ));
        }
        let Some(rest) = lower
            .starts_with("http://")
            .then(|| &text["http://".len()..])
        else {
            if text.is_empty() {
                return Err(bad("is empty: give a socket path or an http:// address"));
            }
            return Ok(Endpoint::Unix(PathBuf::from(text)));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let authority: hyper::http::uri::Authority = rest
            .parse()
            .map_err(|_| bad("is not an http://host:port address"))?;
        if authority.as_str().contains('@') || authority.host().is_empty() {
            return Err(bad("is not an http://host:port address"));
        }
        Ok(Endpoint::Http(match authority.port_u16() {
            Some(_) => authority.as_str().to_string(),
            None => format!("{}:80", authority.as_str()),
        }))
    }
}

impl FromStr for Endpoint {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Endpoint, ApiError> {
        Endpoint::parse(text)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "{}", path.display()),
            Endpoint::Http(authority) => write!(f, "http://{authority}"),
        }
    }
}

/// Why serving or connecting failed. `Display` is one line meant for a person.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot listen at {endpoint}: {source}")]
    Bind {
        endpoint: String,
        #[source]
        source: io::Error,
    },
    #[error("another trove session is already serving at {0}")]
    InUse(String),
    #[error(
        "serving over TCP needs a token: unlike a Unix socket's file mode, nothing else keeps \
         other people out"
    )]
    TcpNeedsToken,
    #[error("{0}")]
    BadEndpoint(String),
    #[error("no trove session is answering at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error(
        "the session at {0} refused the token: give the one in the api-token file of the \
         session's data directory"
    )]
    Unauthorized(String),
    #[error("the session at {0} refuses this address for a minute after too many wrong tokens")]
    TooManyFailures(String),
    #[error("{}", wire::mismatch_message(&.client.to_string(), .session))]
    ProtocolMismatch { client: u32, session: String },
    #[error("the session at {endpoint} refused the request ({status}): {message}")]
    Rejected {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("the session at {endpoint} answered something trove cannot read: {message}")]
    Garbled { endpoint: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:7777/").expect("parses"),
            Endpoint::Http("127.0.0.1:7777".into())
        );
        assert_eq!(
            Endpoint::parse("HTTP://seedbox").expect("parses"),
            Endpoint::Http("seedbox:80".into())
        );
        assert_eq!(
            Endpoint::parse("/run/trove.sock").expect("parses"),
            Endpoint::Unix("/run/trove.sock".into())
        );
        assert!(Endpoint::parse("https://x:1").is_err());
        assert!(Endpoint::parse("http://x:1/path").is_err());
        assert!(Endpoint::parse("http://u@x:1").is_err());
        assert!(Endpoint::parse("").is_err());
        assert_eq!(
            Endpoint::Http("127.0.0.1:1".into()).to_string(),
            "http://127.0.0.1:1"
        );
    }
}
