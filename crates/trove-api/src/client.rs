//! The client: a [`trove_proto::Client`] whose session is across a socket. One task relays
//! the event stream into the client's watches (and reconnects when it breaks); another
//! forwards each command as a `POST`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::http::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use trove_proto::{
    Client, Command, EngineError, EngineResult, Link, PROTOCOL_VERSION, Reply, Request as Call,
    Server, SessionSnapshot,
};

use crate::diff::apply;
use crate::wire::{COMMAND_PATH, EVENTS_PATH, ErrorBody, Event, KEEPALIVE, PROTOCOL_HEADER};
use crate::{ApiError, Endpoint};

/// Without a line for this long (the server pings after [`KEEPALIVE`] of quiet), the
/// session is taken for gone.
const SILENCE: Duration = Duration::from_secs(KEEPALIVE.as_secs() * 3);

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The longest event line or answer accepted from a session: far above any real snapshot,
/// low enough that a confused server cannot make a client eat all memory.
const MAX_ANSWER_BYTES: usize = 256 * 1024 * 1024;

/// How the link to the session stands: the protocol's [`Link`], also readable from the
/// client itself (`Client::link`), which is what the dashboard watches.
pub type ConnectionState = Link;

/// The holder's view of the link behind a client made by [`connect`].
pub struct Connection {
    endpoint: Endpoint,
    state: watch::Receiver<ConnectionState>,
}

impl Connection {
    /// Wakes on every change of the link's state.
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

/// Connects to the session at `endpoint`: reads its snapshot, then returns a client that
/// works as an in-process one does. The link is kept up in the background for as long as
/// any clone of the client lives. `token` is needed over TCP (see [`crate::read_token`]).
pub async fn connect(
    endpoint: Endpoint,
    token: Option<String>,
) -> Result<(Client, Connection), ApiError> {
    let remote = Remote {
        endpoint: endpoint.clone(),
        token: token.map(Arc::from),
    };
    let (reader, snapshot, seq) = remote.open_events().await?;
    let (client, server) = Client::pair(snapshot);
    let state = client.link();
    let Server {
        requests,
        snapshots,
        log_seq,
        link: state_tx,
    } = server;
    log_seq.send_replace(seq);
    let events = tokio::spawn(follow(remote.clone(), reader, snapshots, log_seq, state_tx));
    tokio::spawn(forward(remote, requests, state.clone(), events));
    Ok((client, Connection { endpoint, state }))
}

#[derive(Clone)]
struct Remote {
    endpoint: Endpoint,
    token: Option<Arc<str>>,
}

impl Remote {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Response<Incoming>, String> {
        let (host, mut sender) = match &self.endpoint {
            Endpoint::Unix(path) => {
                let io = UnixStream::connect(path).await.map_err(|e| e.to_string())?;
                ("localhost".to_string(), handshake(io).await?)
            }
            Endpoint::Http(authority) => {
                let io = TcpStream::connect(authority.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = io.set_nodelay(true);
                (authority.clone(), handshake(io).await?)
            }
        };
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, host)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
        sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())
    }

    /// Turns an answer other than 200 into the error it stands for.
    async fn check(&self, response: Response<Incoming>) -> Result<Response<Incoming>, ApiError> {
        let status = response.status();
        if status == StatusCode::OK {
            return Ok(response);
        }
        let endpoint = self.endpoint.to_string();
        match status {
            StatusCode::UNAUTHORIZED => return Err(ApiError::Unauthorized(endpoint)),
            StatusCode::TOO_MANY_REQUESTS => return Err(ApiError::TooManyFailures(endpoint)),
            _ => {}
        }
        let theirs = response
            .headers()
            .get(PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(theirs) = theirs
            && theirs != PROTOCOL_VERSION.to_string()
        {
            return Err(ApiError::ProtocolMismatch {
                client: PROTOCOL_VERSION,
                session: theirs,
            });
        }
        let body = read_body(response.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let message = serde_json::from_slice::<ErrorBody>(&body)
            .map(|b| b.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).trim().to_string());
        Err(ApiError::Rejected {
            endpoint,
            status: status.as_u16(),
            message,
        })
    }

    /// Opens `GET /events` and reads its first line, the whole snapshot.
    async fn open_events(&self) -> Result<(EventReader, SessionSnapshot, u64), ApiError> {
        let unreachable = |reason: String| ApiError::Unreachable {
            endpoint: self.endpoint.to_string(),
            reason,
        };
        let response = self
            .send(Method::GET, EVENTS_PATH, Bytes::new())
            .await
            .map_err(unreachable)?;
        let response = self.check(response).await?;
        let mut reader = EventReader {
            body: response.into_body(),
            buf: Vec::new(),
            scanned: 0,
        };
        match reader.next().await.map_err(unreachable)? {
            Event::Hello { snapshot, log_seq } => Ok((reader, *snapshot, log_seq)),
            other => Err(ApiError::Garbled {
                endpoint: self.endpoint.to_string(),
                message: format!("the event stream began with {other:?} instead of a snapshot"),
            }),
        }
    }

    async fn command(&self, command: Command) -> EngineResult<Reply> {
        let body = serde_json::to_vec(&command).map_err(|e| {
            EngineError::Engine(format!("the command cannot be written as JSON: {e}"))
        })?;
        let response = self
            .send(Method::POST, COMMAND_PATH, Bytes::from(body))
            .await
            .map_err(|reason| self.not_answering(&reason))?;
        let response = self
            .check(response)
            .await
            .map_err(|e| EngineError::Engine(e.to_string()))?;
        let body = read_body(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|reason| self.not_answering(&reason))?;
        serde_json::from_slice::<EngineResult<Reply>>(&body).map_err(|e| {
            EngineError::Engine(
                ApiError::Garbled {
                    endpoint: self.endpoint.to_string(),
                    message: e.to_string(),
                }
                .to_string(),
            )
        })?
    }

    fn not_answering(&self, reason: &str) -> EngineError {
        EngineError::Engine(format!(
            "the session at {} is not answering: {reason}",
            self.endpoint
        ))
    }
}

async fn handshake<I>(io: I) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, String>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    // Drives the connection until the answer is read; ends on its own after.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, String> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| e.to_string())
}

/// Splits the event stream's body into lines and decodes them.
struct EventReader {
    body: Incoming,
    buf: Vec<u8>,
    /// Bytes of `buf` known to hold no newline.
    scanned: usize,
}

impl EventReader {
    /// The next event, or why the stream ended (for a person).
    async fn next(&mut self) -> Result<Event, String> {
        loop {
            if let Some(at) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + at;
                let event = serde_json::from_slice(&self.buf[..end])
                    .map_err(|e| format!("the session sent an event trove cannot read: {e}"));
                self.buf.drain(..=end);
                self.scanned = 0;
                return event;
            }
            self.scanned = self.buf.len();
            if self.buf.len() > MAX_ANSWER_BYTES {
                return Err("the session sent an event line too long to be real".into());
            }
            let frame = tokio::time::timeout(SILENCE, self.body.frame())
                .await
                .map_err(|_| format!("no word from the session for {} s", SILENCE.as_secs()))?;
            match frame {
                None => return Err("the session closed the connection".into()),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// Applies the event stream to the client's watches; when it breaks, says so and
/// reconnects with growing pauses, starting again from a full snapshot.
async fn follow(
    remote: Remote,
    mut reader: EventReader,
    snapshots: watch::Sender<Arc<SessionSnapshot>>,
    log_seq: watch::Sender<u64>,
    state: watch::Sender<ConnectionState>,
) {
    let mut current: SessionSnapshot = (**snapshots.borrow()).clone();
    loop {
        let reason = loop {
            match reader.next().await {
                Ok(Event::Delta(delta)) => {
                    apply(&mut current, *delta);
                    snapshots.send_replace(Arc::new(current.clone()));
                }
                Ok(Event::LogSeq(seq)) => {
                    log_seq.send_if_modified(|s| std::mem::replace(s, seq) != seq);
                }
                Ok(Event::Ping) => {}
                Ok(Event::Hello { .. }) => {
                    break "the session started its event stream over".to_string();
                }
                Err(reason) => break reason,
            }
        };
        state.send_replace(ConnectionState::Lost(reason));
        let mut backoff = FIRST_BACKOFF;
        reader = loop {
            tokio::time::sleep(backoff).await;
            match remote.open_events().await {
                Ok((reader, snapshot, seq)) => {
                    current = snapshot.clone();
                    snapshots.send_replace(Arc::new(snapshot));
                    log_seq.send_if_modified(|s| std::mem::replace(s, seq) != seq);
                    state.send_replace(ConnectionState::Reconnected);
                    break reader;
                }
                Err(e) => {
                    let lost = ConnectionState::Lost(e.to_string());
                    state.send_if_modified(|s| {
                        let changed = *s != lost;
                        *s = lost;
                        changed
                    });
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        };
    }
}

/// Forwards each command as its own request, so a slow one (an add that fetches a URL)
/// holds up no other. Ends, with the event task, when every clone of the client is gone.
async fn forward(
    remote: Remote,
    mut requests: mpsc::Receiver<Call>,
    state: watch::Receiver<ConnectionState>,
    events: JoinHandle<()>,
) {
    while let Some((command, reply)) = requests.recv().await {
        let lost = match &*state.borrow() {
            ConnectionState::Lost(reason) => Some(reason.clone()),
            _ => None,
        };
        if let Some(reason) = lost {
            let _ = reply.send(Err(remote.not_answering(&reason)));
            continue;
        }
        let remote = remote.clone();
        let mut state = state.clone();
        tokio::spawn(async move {
            // Asked to stop, the session closes its event stream as it goes, which may be
            // seen before the answer arrives: the stop waits for its own answer instead.
            if command == Command::Shutdown {
                let answer = tokio::time::timeout(SILENCE, remote.command(command))
                    .await
                    .unwrap_or_else(|_| {
                        Err(remote.not_answering(&format!(
                            "no answer to the stop for {} s",
                            SILENCE.as_secs()
                        )))
                    });
                let _ = reply.send(answer);
                return;
            }
            let answer = tokio::select! {
                answer = remote.command(command) => answer,
                lost = state.wait_for(|s| matches!(s, ConnectionState::Lost(_))) => {
                    let reason = match lost.as_deref() {
                        Ok(ConnectionState::Lost(reason)) => reason.clone(),
                        _ => "the link to it was closed".to_string(),
                    };
                    Err(remote.not_answering(&reason))
                }
            };
            let _ = reply.send(answer);
        });
    }
    events.abort();
}
