//! The stream endpoints: a torrent's file over HTTP with `Range` support, readable while it
//! downloads, and an `.m3u` playlist of a torrent's files.
//!
//! - `GET`/`HEAD /api/trove/v1/torrents/{hash}/files/{index}`, also with any trailing
//!   `/{name}` (ignored, so that a player shows the file's name).
//! - `GET /api/trove/v1/torrents/{hash}/playlist.m3u`.
//!
//! `{hash}` is the info-hash or a unique start of it; `{index}` is the file's number in the
//! Files tab. They pass the same gate as the rest of the API, and since media players
//! cannot send an `Authorization` header, these paths (and only these) also take the token
//! as `?token=` (see [`query_token`]).
//!
//! Ranges: one range (`bytes=a-b`, `a-`, `-n`) is `206` with `Content-Range`; a range that
//! starts past the end is `416` with `Content-Range: bytes */LEN`; a header that is not a
//! single valid range (garbled, or several ranges) is ignored and the whole file sent, as
//! RFC 9110 allows. The content never changes (an info-hash names it), so the `ETag` is
//! strong and an `If-Range` that does not match it just means "send it all".

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_range_header::RangeUnsatisfiableError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use trove_proto::{FileReader, SessionSnapshot, StreamError};

use crate::server::{Shared, error};
use crate::wire::one_line;

/// Where the stream paths start.
pub(crate) const PREFIX: &str = "/api/trove/v1/torrents/";

/// What is escaped in a file name put in a URL path or a `filename*=`: everything but
/// letters, digits and `-._~` (unreserved in URLs, and allowed by RFC 8187).
const NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How much a body reads from the torrent at a time.
const CHUNK: u64 = 256 * 1024;

/// A body whose next bytes have not arrived for this long ends (the connection closes).
/// A client that left while its stream waited for a piece is only noticed when a write
/// fails, so this bounds how long such a stream keeps its slot.
const STALL: Duration = Duration::from_secs(300);

/// How long a refused client is told to wait before asking again.
const RETRY_SECS: u32 = 5;

/// The `?token=` of a stream or playlist URL, for players that cannot send headers. Any
/// other path ignores it, so a token in a URL is never enough to send commands.
pub(crate) fn query_token(uri: &Uri) -> Option<String> {
    if !uri.path().starts_with(PREFIX) {
        return None;
    }
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
}

/// `GET` or `HEAD` of one file.
pub(crate) async fn file(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    params: Result<Path<Vec<(String, String)>>, PathRejection>,
) -> Response {
    let params = match params {
        Ok(Path(params)) => params,
        Err(e) => return bad_path(&e),
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let hash = match resolve(&shared.session.snapshot(), param("hash")) {
        Ok(hash) => hash,
        Err((status, message)) => return error(status, message),
    };
    let index_text = param("index");
    let digits = !index_text.is_empty() && index_text.bytes().all(|b| b.is_ascii_digit());
    let Some(index) = digits.then(|| index_text.parse::<usize>().ok()).flatten() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "'{}' is not a file number: files are numbered from 0 as in the Files tab",
                one_line(index_text)
            ),
        );
    };
    let Some(files) = shared.session.files() else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "this server does not hold the session, so it cannot stream its files".into(),
        );
    };
    let mut open = match files.open(&hash, index).await {
        Ok(open) => open,
        Err(e) => return refused(&e),
    };
    let len = open.len;
    let etag = format!("\"{hash}-{index}\"");
    let range = wanted_range(&headers, len, &etag);
    let (status, start, end) = match range {
        Wanted::All => (StatusCode::OK, 0, len),
        Wanted::Part(start, last) => (StatusCode::PARTIAL_CONTENT, start, last + 1),
        Wanted::Unsatisfiable => {
            let mut response = error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the range asked for lies past the end of the file ({len} bytes)"),
            );
            set(
                &mut response,
                header::CONTENT_RANGE,
                format!("bytes */{len}"),
            );
            set(&mut response, header::ACCEPT_RANGES, "bytes".into());
            return response;
        }
    };
    let body = if method == Method::HEAD {
        drop(open.reader);
        Body::empty()
    } else {
        if start > 0
            && let Err(e) = open.reader.seek(io::SeekFrom::Start(start)).await
        {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot seek to byte {start}: {e}"),
            );
        }
        body(open.reader, end - start)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let name = open.path.rsplit('/').next().unwrap_or(&open.path);
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    set(&mut response, header::CONTENT_TYPE, mime.to_string());
    set(
        &mut response,
        header::CONTENT_LENGTH,
        (end - start).to_string(),
    );
    set(&mut response, header::ACCEPT_RANGES, "bytes".into());
    set(&mut response, header::ETAG, etag);
    set(
        &mut response,
        header::CONTENT_DISPOSITION,
        format!(
            "inline; filename*=UTF-8''{}",
            utf8_percent_encode(name, NAME)
        ),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            &mut response,
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", end - 1),
        );
    }
    response
}

/// `GET` of a torrent's playlist: every file in torrent order, each an absolute URL that
/// carries the token when the server has one (a player opens them without headers).
pub(crate) async fn playlist(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    params: Result<Path<String>, PathRejection>,
) -> Response {
    let given = match params {
        Ok(Path(hash)) => hash,
        Err(e) => return bad_path(&e),
    };
    let hash = match resolve(&shared.session.snapshot(), &given) {
        Ok(hash) => hash,
        Err((status, message)) => return error(status, message),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<hyper::http::uri::Authority>().ok());
    let Some(host) = host else {
        return error(
            StatusCode::BAD_REQUEST,
            "the request has no valid Host header, which the playlist's URLs are built from".into(),
        );
    };
    let details = match shared.session.details(&hash).await {
        Ok(details) => details,
        Err(e) => return error(StatusCode::NOT_FOUND, e.to_string()),
    };
    if details.files.is_empty() {
        return refused(&StreamError::NoMetadata(hash));
    }
    let token = shared
        .auth
        .expected()
        .map(|t| format!("?token={}", utf8_percent_encode(t, NON_ALPHANUMERIC)))
        .unwrap_or_default();
    let mut text = String::from("#EXTM3U\n");
    for file in &details.files {
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        text.push_str(&format!(
            "#EXTINF:-1,{}\nhttp://{host}{PREFIX}{hash}/files/{}/{}{token}\n",
            one_line(&file.path),
            file.index,
            utf8_percent_encode(name, NAME),
        ));
    }
    let mut response = text.into_response();
    set(
        &mut response,
        header::CONTENT_TYPE,
        "audio/x-mpegurl; charset=utf-8".into(),
    );
    set(
        &mut response,
        header::CONTENT_DISPOSITION,
        format!("inline; filename=\"{hash}.m3u\""),
    );
    response
}

/// The full info-hash of the one torrent whose hash starts with `given`, or the status and
/// message saying why there is none.
fn resolve(snapshot: &SessionSnapshot, given: &str) -> Result<String, (StatusCode, String)> {
    if given.is_empty() || given.len() > 40 || !given.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err((
            StatusCode::BAD_REQUEST,
            format!(
                "'{}' is not an info-hash: give a torrent's 40 hex digits (or a start of them)",
                one_line(given)
            ),
        ));
    }
    let lower = given.to_ascii_lowercase();
    let mut found = snapshot
        .torrents
        .iter()
        .filter(|t| t.info_hash.starts_with(&lower));
    match (found.next(), found.next()) {
        (Some(t), None) => Ok(t.info_hash.clone()),
        (None, _) => Err((
            StatusCode::NOT_FOUND,
            format!("no torrent of this session has an info-hash starting {lower}"),
        )),
        (Some(_), Some(_)) => Err((
            StatusCode::BAD_REQUEST,
            format!("several torrents have an info-hash starting {lower}: give more digits"),
        )),
    }
}

/// The answer to a stream that cannot be opened.
fn refused(e: &StreamError) -> Response {
    let status = match e {
        StreamError::BadHash(_) => StatusCode::BAD_REQUEST,
        StreamError::NoSuchFile { .. } => StatusCode::NOT_FOUND,
        StreamError::NotRunning(_) | StreamError::NoMetadata(_) => StatusCode::CONFLICT,
        StreamError::Busy(_) | StreamError::Checking(_) => StatusCode::SERVICE_UNAVAILABLE,
        StreamError::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = error(status, e.to_string());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        set(&mut response, header::RETRY_AFTER, RETRY_SECS.to_string());
    }
    response
}

fn bad_path(e: &PathRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!("the path cannot be read: {}", one_line(&e.body_text())),
    )
}

fn set(response: &mut Response, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, value);
    }
}

/// What part of a file of `len` bytes the request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    All,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

fn wanted_range(headers: &HeaderMap, len: u64, etag: &str) -> Wanted {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Wanted::All;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE)
        && if_range.as_bytes() != etag.as_bytes()
    {
        return Wanted::All;
    }
    parse_range(value, len)
}

/// One range of `value` within `len` bytes. A garbled header or several ranges mean the
/// whole file (RFC 9110 lets a server ignore `Range`); a range wholly past the end cannot
/// be served.
fn parse_range(value: &str, len: u64) -> Wanted {
    let Ok(parsed) = http_range_header::parse_range_header(value) else {
        return Wanted::All;
    };
    if parsed.len() != 1 {
        return Wanted::All;
    }
    match parsed.validate(len) {
        Ok(ranges) => match ranges.as_slice() {
            [one] => Wanted::Part(*one.start(), *one.end()),
            _ => Wanted::All,
        },
        Err(RangeUnsatisfiableError::Unsatisfiable) => Wanted::Unsatisfiable,
        Err(_) => Wanted::All,
    }
}

/// A body of the next `left` bytes of `reader`. Dropping the body (the client left) drops
/// the reader, which closes the stream and frees its slot.
fn body(reader: Box<dyn FileReader>, left: u64) -> Body {
    let chunks = futures_util::stream::unfold((reader, left), |(mut reader, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0; left.min(CHUNK) as usize];
        let read = tokio::time::timeout(STALL, reader.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no data arrived for the stream in time",
                ))
            });
        match read {
            Ok(0) => Some((
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the torrent's file ended early",
                )),
                (reader, 0),
            )),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (reader, left - n as u64)))
            }
            Err(e) => Some((Err(e), (reader, 0))),
        }
    });
    Body::from_stream(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_players_send_them() {
        assert_eq!(parse_range("bytes=0-9", 100), Wanted::Part(0, 9));
        assert_eq!(parse_range("bytes=50-", 100), Wanted::Part(50, 99));
        assert_eq!(parse_range("bytes=-10", 100), Wanted::Part(90, 99));
        assert_eq!(parse_range("bytes=90-1000", 100), Wanted::Part(90, 99));
        assert_eq!(parse_range("bytes=-1000", 100), Wanted::Part(0, 99));
        assert_eq!(parse_range("bytes=100-", 100), Wanted::Unsatisfiable);
        assert_eq!(parse_range("bytes=200-300", 100), Wanted::Unsatisfiable);
        // Garbled or several ranges: the whole file.
        assert_eq!(parse_range("bytes=x-y", 100), Wanted::All);
        assert_eq!(parse_range("items=0-1", 100), Wanted::All);
        assert_eq!(parse_range("bytes=9-0", 100), Wanted::All);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Wanted::All);
    }

    #[test]
    fn if_range_that_does_not_match_sends_everything() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=0-9"));
        assert_eq!(wanted_range(&headers, 100, "\"a-0\""), Wanted::Part(0, 9));
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"b-0\""));
        assert_eq!(wanted_range(&headers, 100, "\"a-0\""), Wanted::All);
    }

    #[test]
    fn only_stream_paths_take_a_token_in_the_query() {
        let uri: Uri = "/api/trove/v1/torrents/ab/files/0?token=s%3Dx"
            .parse()
            .expect("a uri");
        assert_eq!(query_token(&uri).as_deref(), Some("s=x"));
        let uri: Uri = "/api/trove/v1/command?token=x".parse().expect("a uri");
        assert_eq!(query_token(&uri), None);
    }
}
