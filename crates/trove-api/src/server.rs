//! The server: a listener (Unix socket or TCP), the accept loop, the gate every request
//! passes (token, guessing brake, protocol version), and the two native endpoints.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener, UnixSocket, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service;
use trove_proto::{Client, Command, PROTOCOL_VERSION, SessionSnapshot, TorrentSource};

use crate::auth::{Auth, Brake, token_matches};
use crate::diff::diff;
use crate::qbit::{self, QbitState};
use crate::stream;
use crate::wire::{
    COMMAND_PATH, EVENTS_PATH, ErrorBody, Event, KEEPALIVE, MAX_COMMAND_BYTES, PROTOCOL_HEADER,
    mismatch_message, one_line,
};
use crate::{ApiError, Endpoint};

/// A client has this long to send a request's headers; a connection that dawdles is closed
/// so that idle half-requests cannot pile up.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// After shutdown, connections have this long to finish the request they are answering.
const GRACE: Duration = Duration::from_secs(5);

/// Where the server listens, bound and ready. Binding is separate from [`serve`] so that the
/// caller learns at once that the address is taken, and which port it got.
pub struct Listener {
    kind: Kind,
}

enum Kind {
    Unix {
        listener: UnixListener,
        /// Removes the socket file when the listener goes.
        _file: SocketFile,
        path: PathBuf,
    },
    Tcp(TcpListener),
}

struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Listener {
    /// Listens on a Unix socket at `path`, mode 0600 from before it accepts anyone. A
    /// socket file left by a dead process is replaced; a live server on it is an error, and
    /// so is a file there that is not a socket.
    pub async fn unix(path: impl Into<PathBuf>) -> Result<Listener, ApiError> {
        let path = path.into();
        let endpoint = Endpoint::Unix(path.clone());
        let bind_err = |source: io::Error| ApiError::Bind {
            endpoint: endpoint.to_string(),
            source,
        };
        remove_stale_socket(&path, &endpoint).await?;
        let socket = UnixSocket::new_stream().map_err(bind_err)?;
        socket.bind(&path).map_err(bind_err)?;
        let file = SocketFile(path.clone());
        // Nobody can connect before `listen`, so tightening the mode here leaves no window.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(bind_err)?;
        let listener = socket.listen(1024).map_err(bind_err)?;
        Ok(Listener {
            kind: Kind::Unix {
                listener,
                _file: file,
                path,
            },
        })
    }

    /// Listens on TCP at `addr` (port 0 picks a free port; see [`Listener::endpoint`]).
    pub async fn tcp(addr: SocketAddr) -> Result<Listener, ApiError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ApiError::Bind {
                endpoint: format!("http://{addr}"),
                source,
            })?;
        Ok(Listener {
            kind: Kind::Tcp(listener),
        })
    }

    /// What a client passes to [`crate::connect`] to reach this listener.
    pub fn endpoint(&self) -> Endpoint {
        match &self.kind {
            Kind::Unix { path, .. } => Endpoint::Unix(path.clone()),
            Kind::Tcp(l) => match l.local_addr() {
                Ok(addr) => Endpoint::Http(addr.to_string()),
                Err(_) => Endpoint::Http("unknown".into()),
            },
        }
    }
}

async fn remove_stale_socket(path: &Path, endpoint: &Endpoint) -> Result<(), ApiError> {
    let bind_err = |source: io::Error| ApiError::Bind {
        endpoint: endpoint.to_string(),
        source,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(bind_err(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(bind_err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a file that is not a socket is there, and trove will not replace it",
        )));
    }
    match UnixStream::connect(path).await {
        Ok(_) => Err(ApiError::InUse(endpoint.to_string())),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            match std::fs::remove_file(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(bind_err(e)),
            }
        }
        Err(e) => Err(bind_err(e)),
    }
}

/// How a request reached the server; handlers and the gate read it from the request's
/// extensions.
#[derive(Clone, Copy, Debug)]
enum Peer {
    Unix,
    Tcp(SocketAddr),
}

pub(crate) struct Shared {
    pub(crate) session: Client,
    pub(crate) auth: Auth,
    brake: Brake,
    stop: watch::Receiver<bool>,
    /// Sessions and sync history of the qBittorrent-compatible endpoints.
    qbit: QbitState,
}

/// Serves `session` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish (for a few seconds at most), ends every event stream, and removes the
/// socket file. A TCP listener needs a token (`Auth::token`); a Unix socket does not.
pub async fn serve(
    session: Client,
    listener: Listener,
    auth: Auth,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ApiError> {
    if matches!(listener.kind, Kind::Tcp(_)) && auth.expected().is_none() {
        return Err(ApiError::TcpNeedsToken);
    }
    let (stop_tx, stop) = watch::channel(false);
    let shared = Arc::new(Shared {
        session,
        auth,
        brake: Brake::default(),
        stop: stop.clone(),
        qbit: QbitState::default(),
    });
    let router = router(shared);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = accept(&listener) => match accepted {
                Ok(Accepted::Unix(io)) => {
                    connections.spawn(connection(io, Peer::Unix, router.clone(), stop.clone()));
                }
                Ok(Accepted::Tcp(io, addr)) => {
                    let _ = io.set_nodelay(true);
                    connections.spawn(connection(io, Peer::Tcp(addr), router.clone(), stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors, usually: wait instead of spinning.
                    tracing::warn!("the API cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
    drop(listener);
    Ok(())
}

enum Accepted {
    Unix(UnixStream),
    Tcp(tokio::net::TcpStream, SocketAddr),
}

async fn accept(listener: &Listener) -> io::Result<Accepted> {
    match &listener.kind {
        Kind::Unix { listener, .. } => listener.accept().await.map(|(s, _)| Accepted::Unix(s)),
        Kind::Tcp(listener) => listener.accept().await.map(|(s, a)| Accepted::Tcp(s, a)),
    }
}

async fn connection<I>(io: I, peer: Peer, router: Router, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(peer);
        let mut router = router.clone();
        async move { router.call(request.map(Body::new)).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        // A client may close its sending side once its request is out and still read the
        // answer.
        .half_close(true)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        // Errors here are the client's doing (it left, or spoke garbage): nothing to report.
        _ = conn.as_mut() => {}
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.as_mut().await;
        }
    }
}

/// Completes when the server stops (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(COMMAND_PATH, post(command))
        .route(EVENTS_PATH, get(events))
        .route_layer(middleware::from_fn(check_protocol))
        // Players send no X-Trove-Protocol header: the stream paths do without it.
        .route(
            "/api/trove/v1/torrents/{hash}/files/{index}",
            get(stream::file),
        )
        .route(
            "/api/trove/v1/torrents/{hash}/files/{index}/{*name}",
            get(stream::file),
        )
        .route(
            "/api/trove/v1/torrents/{hash}/playlist.m3u",
            get(stream::playlist),
        )
        .route("/api/v2/", any(qbit_endpoint))
        .route("/api/v2/{*rest}", any(qbit_endpoint))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .layer(DefaultBodyLimit::max(MAX_COMMAND_BYTES))
        .with_state(shared)
}

/// Token and brake, before anything else: a client without the token learns nothing, not
/// even which paths exist.
async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    // The qBittorrent endpoints check the token or their login cookie themselves, and
    // answer as qBittorrent does (403) to a client that has neither.
    if request.uri().path().starts_with(qbit::PREFIX) {
        return next.run(request).await;
    }
    if let Some(expected) = shared.auth.expected() {
        let ip = match request.extensions().get::<Peer>() {
            Some(Peer::Tcp(addr)) => Some(addr.ip()),
            _ => None,
        };
        if let Some(wait) = ip.and_then(|ip| shared.brake.refused(ip)) {
            let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            return response;
        }
        // Media players cannot send headers: stream paths also take `?token=`.
        let in_query = stream::query_token(request.uri());
        let given = bearer(request.headers()).or(in_query.as_deref());
        match given {
            Some(given) if token_matches(expected, given) => {
                if let Some(ip) = ip {
                    shared.brake.succeeded(ip);
                }
            }
            given => {
                if let (Some(_), Some(ip)) = (given, ip) {
                    shared.brake.failed(ip);
                }
                let mut response = StatusCode::UNAUTHORIZED.into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return response;
            }
        }
    }
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL_VERSION));
    response
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Everything under `/api/v2/`: qBittorrent's Web API (see [`crate::qbit`]).
async fn qbit_endpoint(
    State(shared): State<Arc<Shared>>,
    Extension(peer): Extension<Peer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request is larger than the {} MiB trove reads",
                    MAX_COMMAND_BYTES / (1024 * 1024)
                ),
            );
        }
        Err(rejection) => {
            return plain(
                rejection.status(),
                format!(
                    "cannot read the request body: {}",
                    one_line(&rejection.body_text())
                ),
            );
        }
    };
    let ip = match peer {
        Peer::Tcp(addr) => Some(addr.ip()),
        Peer::Unix => None,
    };
    let ctx = qbit::Ctx {
        session: &shared.session,
        auth: &shared.auth,
        brake: &shared.brake,
        state: &shared.qbit,
        ip,
    };
    let path = uri.path().strip_prefix(qbit::PREFIX).unwrap_or("");
    qbit::handle(ctx, &method, path, uri.query(), &headers, body).await
}

/// A one-line plain-text answer, as the qBittorrent endpoints give them.
fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        message,
    )
        .into_response()
}

async fn check_protocol(request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get(PROTOCOL_HEADER) else {
        return bad_request(format!(
            "the request has no X-Trove-Protocol header: every request to trove's API names \
             the protocol it speaks (this session speaks {PROTOCOL_VERSION})"
        ));
    };
    let Ok(text) = value.to_str().map(str::trim) else {
        return bad_request("the X-Trove-Protocol header is not plain text".into());
    };
    match text.parse::<u32>() {
        Ok(PROTOCOL_VERSION) => next.run(request).await,
        Ok(other) => bad_request(mismatch_message(
            &other.to_string(),
            &PROTOCOL_VERSION.to_string(),
        )),
        Err(_) => bad_request(format!(
            "the X-Trove-Protocol header must be a number, not '{}'",
            one_line(text)
        )),
    }
}

async fn command(
    State(shared): State<Arc<Shared>>,
    Extension(peer): Extension<Peer>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the command is larger than the {} MiB a command may be",
                    MAX_COMMAND_BYTES / (1024 * 1024)
                ),
            );
        }
        Err(rejection) => {
            return error(
                rejection.status(),
                format!("cannot read the request body: {}", rejection.body_text()),
            );
        }
    };
    let command = match decode_command(&body) {
        Ok(command) => command,
        Err(message) => return bad_request(message),
    };
    if let Err(message) = validate(&command, peer) {
        return bad_request(message);
    }
    let answer = shared.session.call(command).await;
    match serde_json::to_vec(&answer) {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the session's answer cannot be written as JSON: {e}"),
        ),
    }
}

/// Decodes a command body, naming where it went wrong (`Remove.delete_data: invalid type`).
fn decode_command(body: &[u8]) -> Result<Command, String> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let command: Command = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        format!(
            "the body is not a trove command: {}",
            one_line(&e.to_string())
        )
    })?;
    json.end()
        .map_err(|e| format!("the body has more after the command: {e}"))?;
    Ok(command)
}

/// Ids reach the session only as hex: nothing path-like, nothing to escape. A file source
/// is read on the session's machine, so it must be absolute (the session does not share
/// the client's working directory) and come over the Unix socket (a TCP client is on
/// another machine, or might as well be).
fn validate_command(command: &Command, over_tcp: bool) -> Result<(), String> {
    match command {
        Command::Pause(id)
        | Command::Resume(id)
        | Command::Details(id)
        | Command::Remove { id, .. }
        | Command::SetTorrentLimits { id, .. }
        | Command::SelectFiles { id, .. } => check_id(id),
        Command::ReadLog(filter) => filter.info_hash.as_deref().map_or(Ok(()), check_id),
        Command::Locate { id, .. } => check_id(id),
        Command::Add(TorrentSource::File(_), _) if over_tcp => Err(
            "a session reached over TCP does not read .torrent files from its own disk for a \
             client: send the file's bytes instead (TorrentSource::Bytes)"
                .into(),
        ),
        Command::Mount { .. } | Command::Umount { .. } if over_tcp => Err(
            "a session reached over TCP does not mount folders for a client: run `trove mount` \
             on the session's machine"
                .into(),
        ),
        Command::Mount { dir } | Command::Umount { dir } if !dir.is_absolute() => Err(format!(
            "the mount point '{}' must be absolute: the session does not share the client's \
             working directory",
            one_line(&dir.to_string_lossy())
        )),
        Command::Add(TorrentSource::File(path), _) if !path.is_absolute() => Err(format!(
            "the .torrent path '{}' must be absolute: the session does not share the client's \
             working directory",
            one_line(&path.to_string_lossy())
        )),
        _ => Ok(()),
    }
}

fn validate(command: &Command, peer: Peer) -> Result<(), String> {
    validate_command(command, matches!(peer, Peer::Tcp(_)))
}

/// An info-hash or a prefix of one, as the command line takes them (surrounding blanks are
/// trimmed by the session).
fn check_id(id: &str) -> Result<(), String> {
    let hex = id.trim();
    if !hex.is_empty() && hex.len() <= 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not an info-hash or the start of one (1 to 40 hex digits)",
            one_line(id)
        ))
    }
}

async fn events(State(shared): State<Arc<Shared>>) -> Response {
    let mut snapshots = shared.session.watch();
    let mut log_seq = shared.session.log_changes();
    // A stream that would end right after its first line would only make clients reconnect
    // in a loop.
    if snapshots.has_changed().is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the session has stopped".into(),
        );
    }
    let first = snapshots.borrow_and_update().clone();
    let seq = *log_seq.borrow_and_update();
    let stream = EventStream {
        hello: Some(Event::Hello {
            snapshot: Box::new((*first).clone()),
            log_seq: seq,
        }),
        snapshots,
        log_seq,
        last: first,
        last_seq: seq,
        stop: shared.stop.clone(),
        quiet_since: tokio::time::Instant::now(),
    };
    let body = Body::from_stream(futures_util::stream::unfold(stream, |mut s| async move {
        let event = s.next().await?;
        s.quiet_since = tokio::time::Instant::now();
        Some((Ok::<_, Infallible>(line(&event)), s))
    }));
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// One client's event stream: what it was sent last, so each line is the change since.
struct EventStream {
    hello: Option<Event>,
    snapshots: watch::Receiver<Arc<SessionSnapshot>>,
    log_seq: watch::Receiver<u64>,
    last: Arc<SessionSnapshot>,
    last_seq: u64,
    stop: watch::Receiver<bool>,
    quiet_since: tokio::time::Instant,
}

impl EventStream {
    /// The next line, or None when the session or the server stops.
    async fn next(&mut self) -> Option<Event> {
        if let Some(hello) = self.hello.take() {
            return Some(hello);
        }
        loop {
            tokio::select! {
                changed = self.snapshots.changed() => {
                    changed.ok()?;
                    let new = self.snapshots.borrow_and_update().clone();
                    if Arc::ptr_eq(&new, &self.last) {
                        continue;
                    }
                    let delta = diff(&self.last, &new);
                    self.last = new;
                    if !delta.is_empty() {
                        return Some(Event::Delta(Box::new(delta)));
                    }
                }
                changed = self.log_seq.changed() => {
                    changed.ok()?;
                    let seq = *self.log_seq.borrow_and_update();
                    if seq != self.last_seq {
                        self.last_seq = seq;
                        return Some(Event::LogSeq(seq));
                    }
                }
                () = stopped(&mut self.stop) => return None,
                () = tokio::time::sleep_until(self.quiet_since + KEEPALIVE) => {
                    return Some(Event::Ping);
                }
            }
        }
    }
}

fn line(event: &Event) -> Bytes {
    let mut json = serde_json::to_vec(event).unwrap_or_else(|e| {
        // Only a type that cannot be JSON fails here, and none of the protocol's can.
        tracing::error!("an API event cannot be written as JSON: {e}");
        b"\"ping\"".to_vec()
    });
    json.push(b'\n');
    Bytes::from(json)
}

async fn not_found(method: Method, uri: Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "there is no {method} {}: trove's API answers POST {COMMAND_PATH}, GET \
             {EVENTS_PATH}, and GET {}{{hash}}/files/{{index}} or {{hash}}/playlist.m3u",
            one_line(uri.path()),
            stream::PREFIX
        ),
    )
}

async fn wrong_method(method: Method, uri: Uri) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not answer {method}: use POST for {COMMAND_PATH}, and GET for {EVENTS_PATH} \
             and for files and playlists",
            one_line(uri.path())
        ),
    )
}

fn bad_request(message: String) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

pub(crate) fn error(status: StatusCode, message: String) -> Response {
    let mut body = serde_json::to_vec(&ErrorBody { error: message })
        .unwrap_or_else(|_| b"{\"error\":\"bad request\"}".to_vec());
    body.push(b'\n');
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use trove_proto::{AddOptions, LogFilter};

    #[test]
    fn ids_must_be_hex_prefixes() {
        for good in ["a", "ABCDEF0123", " ab ", &"f".repeat(40)] {
            assert_eq!(check_id(good), Ok(()), "{good}");
        }
        for bad in ["", " ", "../etc", "ab/cd", "zz", &"f".repeat(41), "ab\0"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_sources_are_absolute_and_local() {
        let add = |p: &str| Command::Add(TorrentSource::File(p.into()), AddOptions::default());
        assert_eq!(validate_command(&add("/tmp/x.torrent"), false), Ok(()));
        assert!(validate_command(&add("x.torrent"), false).is_err());
        assert!(validate_command(&add("/tmp/x.torrent"), true).is_err());
        let log = Command::ReadLog(LogFilter {
            info_hash: Some("../../x".into()),
            ..LogFilter::default()
        });
        assert!(validate_command(&log, false).is_err());
    }

    #[test]
    fn decoding_names_the_field_that_is_wrong() {
        let err = decode_command(br#"{"Remove":{"id":"ab","delete_data":"yes"}}"#)
            .expect_err("a string is not a bool");
        assert!(err.contains("Remove.delete_data"), "{err}");
        assert!(decode_command(br#""Flush" x"#).is_err());
        assert_eq!(decode_command(br#""Flush""#), Ok(Command::Flush));
    }

    #[test]
    fn quoted_text_stays_on_one_line() {
        assert_eq!(one_line("a\nb"), "a b");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), 201);
    }
}
