//! The API end to end over real sockets (a temp dir's Unix socket, 127.0.0.1), against a
//! fake session made with `Client::pair` that answers commands deterministically.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use trove_api::{ApiError, Auth, ConnectionState, Endpoint, Listener, connect, serve};
use trove_proto::{
    Added, Client, Command, EngineError, Limits, LogFilter, PROTOCOL_VERSION, Reply,
    SessionSnapshot, TorrentSource, TorrentState, TorrentSummary,
};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const A: &str = "aa00000000000000000000000000000000000000";
const B: &str = "bb00000000000000000000000000000000000000";

/// Bounds every wait, so that a broken build fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

fn torrent(hash: &str) -> TorrentSummary {
    TorrentSummary {
        info_hash: hash.into(),
        name: format!("torrent {}", &hash[..2]),
        state: TorrentState::Downloading,
        progress: 0.25,
        size: 1000,
        have_bytes: 250,
        selected_bytes: 1000,
        download_rate: 10.0,
        upload_rate: 0.0,
        eta: None,
        peers_connected: 1,
        peer_limit: None,
        ratio: 0.0,
        root_label: "default".into(),
        root_token: "d".into(),
        added_at: 0,
        completed_at: None,
        uploaded_total: 0,
        downloaded_total: 0,
        limits: Limits::default(),
        error: None,
        paused: false,
        only_files: None,
        tags: Vec::new(),
        missing_data: None,
    }
}

/// A session holding `hashes`: pause and remove change its snapshot (and log a line), add
/// answers with a fixed hash, details knows nothing, everything else is done.
fn fake_session(hashes: &[&str]) -> Client {
    let first = SessionSnapshot {
        torrents: hashes.iter().map(|h| torrent(h)).collect(),
        download_history: vec![0.0; 4],
        ..Default::default()
    };
    let (client, mut server) = Client::pair(first);
    tokio::spawn(async move {
        let mut seq = 0;
        while let Some((command, reply)) = server.requests.recv().await {
            let mut snap = (**server.snapshots.borrow()).clone();
            let find = |snap: &SessionSnapshot, id: &str| {
                snap.torrents
                    .iter()
                    .position(|t| t.info_hash.starts_with(&id.trim().to_ascii_lowercase()))
            };
            let changes = command.changes_state();
            let answer = match command {
                Command::Pause(id) => match find(&snap, &id) {
                    Some(i) => {
                        snap.torrents[i].state = TorrentState::Paused;
                        snap.torrents[i].download_rate = 0.0;
                        Ok(Reply::Done)
                    }
                    None => Err(EngineError::UnknownId(id)),
                },
                Command::Remove { id, .. } => match find(&snap, &id) {
                    Some(i) => {
                        snap.torrents.remove(i);
                        Ok(Reply::Done)
                    }
                    None => Err(EngineError::UnknownId(id)),
                },
                Command::Add(_, _) => Ok(Reply::Added(Added {
                    info_hash: "cc".repeat(20),
                    name: "added".into(),
                    new: true,
                })),
                Command::Details(id) => Err(EngineError::UnknownId(id)),
                Command::ReadLog(_) => Ok(Reply::Log(Vec::new())),
                _ => Ok(Reply::Done),
            };
            if answer.is_ok() && changes {
                snap.download_history.remove(0);
                snap.download_history.push(seq as f64 + 1.0);
                snap.download_rate += 1.0;
                server.snapshots.send_replace(Arc::new(snap));
                seq += 1;
                server.log_seq.send_replace(seq);
            }
            let _ = reply.send(answer);
        }
    });
    client
}

struct Running {
    endpoint: Endpoint,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ApiError>>,
}

impl Running {
    async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the server stops")
            .expect("the server task does not panic")
            .expect("the server ends cleanly");
    }

    fn addr(&self) -> SocketAddr {
        match &self.endpoint {
            Endpoint::Http(a) => a.parse().expect("an address"),
            Endpoint::Unix(_) => panic!("not a TCP server"),
        }
    }
}

fn start(session: Client, listener: Listener, auth: Auth) -> Running {
    let endpoint = listener.endpoint();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(session, listener, auth, async move {
        let _ = stopped.await;
    }));
    Running {
        endpoint,
        stop: Some(stop),
        task,
    }
}

async fn start_unix(path: &Path, session: Client) -> Running {
    let listener = Listener::unix(path).await.expect("listens");
    start(session, listener, Auth::none())
}

async fn start_tcp(session: Client) -> Running {
    let listener = Listener::tcp(([127, 0, 0, 1], 0).into())
        .await
        .expect("listens");
    start(session, listener, Auth::token(TOKEN))
}

async fn until<T: Clone>(rx: &mut watch::Receiver<T>, what: &str, ok: impl FnMut(&T) -> bool) -> T {
    tokio::time::timeout(PATIENCE, rx.wait_for(ok))
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .expect("the watch stays open")
        .clone()
}

/// Sends `request` as is, closes the sending side, and reads the answer: (status, body).
async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(request).await.expect("sends");
    stream.shutdown().await.expect("half-closes");
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers")
        .expect("reads");
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn post(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn authed() -> String {
    format!("Authorization: Bearer {TOKEN}\r\nX-Trove-Protocol: {PROTOCOL_VERSION}\r\n")
}

fn command_request(body: &[u8]) -> Vec<u8> {
    post("/api/trove/v1/command", &authed(), body)
}

/// The one-line message of an error body.
fn message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
    }
    let parsed: ErrorBody = serde_json::from_str(body.trim())
        .unwrap_or_else(|e| panic!("{body:?} is no error body: {e}"));
    assert!(!parsed.error.is_empty());
    assert!(!body.trim().contains('\n'), "one line: {body:?}");
    parsed.error
}

#[tokio::test]
async fn a_unix_client_runs_commands_and_follows_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trove.sock");
    let server = start_unix(&path, fake_session(&[A, B])).await;
    let mode = std::fs::metadata(&path)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let (client, connection) = connect(Endpoint::Unix(path.clone()), None)
        .await
        .expect("connects");
    assert_eq!(*connection.state().borrow(), ConnectionState::Connected);
    assert_eq!(client.snapshot().torrents.len(), 2);
    let mut snapshots = client.watch();
    let mut log = client.log_changes();

    client
        .run(Command::Pause("aa".into()))
        .await
        .expect("paused");
    let snap = until(&mut snapshots, "the pause", |s| {
        s.torrents
            .first()
            .is_some_and(|t| t.state == TorrentState::Paused)
    })
    .await;
    assert_eq!(snap.torrents[1].state, TorrentState::Downloading);
    assert_eq!(snap.download_history, vec![0.0, 0.0, 0.0, 1.0]);
    until(&mut log, "a log line", |&seq| seq == 1).await;

    client
        .run(Command::Remove {
            id: B.into(),
            delete_data: false,
        })
        .await
        .expect("removed");
    let snap = until(&mut snapshots, "the removal", |s| s.torrents.len() == 1).await;
    assert_eq!(snap.torrents[0].info_hash, A);
    assert_eq!(snap.download_history, vec![0.0, 0.0, 1.0, 2.0]);
    assert_eq!(snap.download_rate, 2.0);
    until(&mut log, "a second log line", |&seq| seq == 2).await;

    assert_eq!(client.log(LogFilter::default()).await, Ok(Vec::new()));
    assert_eq!(
        client.details("ab").await,
        Err(EngineError::UnknownId("ab".into()))
    );
    let added = client
        .add(TorrentSource::Bytes(vec![1, 2, 3]), Default::default())
        .await
        .expect("added");
    assert_eq!(added.name, "added");
    match client.run(Command::Pause("../../etc/passwd".into())).await {
        Err(EngineError::Engine(m)) => assert!(m.contains("not an info-hash"), "{m}"),
        other => panic!("a path is not an id: {other:?}"),
    }
    match client
        .add(
            TorrentSource::File("relative.torrent".into()),
            Default::default(),
        )
        .await
    {
        Err(EngineError::Engine(m)) => assert!(m.contains("must be absolute"), "{m}"),
        other => panic!("a relative path is refused: {other:?}"),
    }
    server.shut_down().await;
    assert!(!path.exists(), "the socket file goes with the server");
}

#[tokio::test]
async fn a_stale_socket_is_replaced_and_a_live_one_is_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trove.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).expect("binds"));
    assert!(path.exists(), "a dead process leaves its socket file");
    let server = start_unix(&path, fake_session(&[])).await;
    match Listener::unix(&path).await {
        Err(ApiError::InUse(at)) => assert!(at.contains("trove.sock")),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a live server's socket was taken over"),
    }
    server.shut_down().await;

    let file = dir.path().join("plain");
    std::fs::write(&file, "keep me").expect("writes");
    assert!(Listener::unix(&file).await.is_err());
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), "keep me");
}

#[tokio::test]
async fn tcp_needs_the_right_token() {
    let session = fake_session(&[A]);
    let no_token = Listener::tcp(([127, 0, 0, 1], 0).into())
        .await
        .expect("listens");
    assert!(matches!(
        serve(
            session.clone(),
            no_token,
            Auth::none(),
            std::future::pending()
        )
        .await,
        Err(ApiError::TcpNeedsToken)
    ));

    let server = start_tcp(session).await;
    let (client, _connection) = connect(server.endpoint.clone(), Some(TOKEN.into()))
        .await
        .expect("the right token connects");
    client.run(Command::Flush).await.expect("answered");
    assert_eq!(client.snapshot().torrents.len(), 1);

    for token in [Some("wrong".to_string()), None] {
        match connect(server.endpoint.clone(), token).await {
            Err(e @ ApiError::Unauthorized(_)) => assert!(e.to_string().contains("token")),
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("connected without the token"),
        }
    }
    let addr = server.addr();
    let bare = format!("X-Trove-Protocol: {PROTOCOL_VERSION}\r\n");
    let cases = [
        bare.clone(),
        format!("{bare}Authorization: Bearer wrong\r\n"),
        format!("{bare}Authorization: Basic {TOKEN}\r\n"),
        format!("{bare}Authorization: Bearer {TOKEN}x\r\n"),
    ];
    for headers in cases {
        let (status, body) =
            raw(addr, &post("/api/trove/v1/command", &headers, b"\"Flush\"")).await;
        assert_eq!(status, 401, "{headers}");
        assert!(body.is_empty(), "{body:?}");
    }
    // Unknown paths too: nothing is said to a client without the token.
    let (status, _) = raw(addr, &post("/etc/passwd", "", b"")).await;
    assert_eq!(status, 401);
    server.shut_down().await;
}

#[tokio::test]
async fn repeated_wrong_tokens_are_refused_for_a_while() {
    let server = start_tcp(fake_session(&[])).await;
    let addr = server.addr();
    let wrong = format!("X-Trove-Protocol: {PROTOCOL_VERSION}\r\nAuthorization: Bearer nope\r\n");
    for _ in 0..5 {
        let (status, _) = raw(addr, &post("/api/trove/v1/command", &wrong, b"\"Flush\"")).await;
        assert_eq!(status, 401);
    }
    let (status, _) = raw(addr, &command_request(b"\"Flush\"")).await;
    assert_eq!(
        status, 429,
        "even the right token waits once an address guessed"
    );
    server.shut_down().await;
}

#[tokio::test]
async fn a_protocol_mismatch_is_one_clear_line() {
    let server = start_tcp(fake_session(&[])).await;
    let headers = format!("Authorization: Bearer {TOKEN}\r\nX-Trove-Protocol: 999\r\n");
    let (status, body) = raw(
        server.addr(),
        &post("/api/trove/v1/command", &headers, b"\"Flush\""),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        message(&body),
        format!(
            "this trove speaks protocol 999 and the session speaks {PROTOCOL_VERSION}: use the \
             same version of trove on both ends"
        )
    );
    server.shut_down().await;

    // A session of another version, as the client sees it.
    let other = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = other.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut stream, _) = other.accept().await.expect("accepts");
        let mut buf = vec![0u8; 4096];
        let _ = stream.read(&mut buf).await;
        let body = r#"{"error":"versions differ"}"#;
        let answer = format!(
            "HTTP/1.1 400 Bad Request\r\nX-Trove-Protocol: {}\r\nContent-Length: {}\r\n\r\n{body}",
            PROTOCOL_VERSION + 1,
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
    });
    match connect(Endpoint::Http(addr.to_string()), Some(TOKEN.into())).await {
        Err(e @ ApiError::ProtocolMismatch { .. }) => assert_eq!(
            e.to_string(),
            format!(
                "this trove speaks protocol {PROTOCOL_VERSION} and the session speaks {}: use \
                 the same version of trove on both ends",
                PROTOCOL_VERSION + 1
            )
        ),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("connected across versions"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_commands_are_all_answered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trove.sock");
    let server = start_unix(&path, fake_session(&[A])).await;
    let (client, _connection) = connect(Endpoint::Unix(path), None).await.expect("connects");
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..200 {
        let client = client.clone();
        calls.spawn(async move {
            if i % 2 == 0 {
                client.run(Command::Flush).await
            } else {
                client.details("ff").await.map(|_| ())
            }
            .map_err(|e| (i, e))
        });
    }
    let mut answered = 0;
    while let Some(result) = calls.join_next().await {
        match result.expect("no panic") {
            Ok(()) => answered += 1,
            Err((i, EngineError::UnknownId(_))) if i % 2 == 1 => answered += 1,
            Err((i, e)) => panic!("command {i}: {e}"),
        }
    }
    assert_eq!(answered, 200);
    server.shut_down().await;
}

#[tokio::test]
async fn clients_that_leave_mid_request_do_not_hurt_the_server() {
    let server = start_tcp(fake_session(&[A])).await;
    let addr = server.addr();
    let whole = command_request(br#"{"Pause":"aa"}"#);
    for cut in [10, 40, whole.len() - 5] {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(&whole[..cut]).await.expect("sends half");
        drop(stream);
    }
    let (client, _connection) = connect(server.endpoint.clone(), Some(TOKEN.into()))
        .await
        .expect("still serving");
    client.run(Command::Flush).await.expect("still answering");
    server.shut_down().await;
}

#[tokio::test]
async fn malformed_requests_get_a_4xx_with_a_message() {
    let server = start_tcp(fake_session(&[A])).await;
    let addr = server.addr();
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");
    let huge_header = format!("{}Content-Length: 100000000\r\n", authed());
    // (request, a one-line JSON message is expected)
    let mut corpus: Vec<(Vec<u8>, bool)> = vec![
        (command_request(b""), true),
        (command_request(b"{"), true),
        (command_request(b"not json"), true),
        (command_request(b"null"), true),
        (command_request(b"42"), true),
        (command_request(b"[]"), true),
        (command_request(b"{}"), true),
        (command_request(b"\"Explode\""), true),
        (command_request(b"\"Flush\" \"Flush\""), true),
        (command_request(br#"{"Pause":5}"#), true),
        (command_request(br#"{"Pause":null}"#), true),
        (command_request(br#"{"Remove":{"id":"aa"}}"#), true),
        (command_request(br#"{"Remove":{"id":"aa","delete_data":"yes"}}"#), true),
        (command_request(br#"{"SelectFiles":{"id":"aa","files":[-1]}}"#), true),
        (command_request(br#"{"SetGlobalLimits":{"download_bps":"fast"}}"#), true),
        (command_request(br#"{"Add":[{"Bytes":[256]},{}]}"#), true),
        (command_request(br#"{"Add":[{"Bytes":"abc"},{"paused":false}]}"#), true),
        (command_request(br#"{"ReadLog":{"min_level":"loud","info_hash":null}}"#), true),
        (command_request(b"\xff\xfe\x00garbage"), true),
        (command_request(br#"{"Pause":"../../etc/passwd"}"#), true),
        (command_request(br#"{"Details":"aa/../../x"}"#), true),
        (command_request(br#"{"Resume":"%2e%2e%2f"}"#), true),
        (command_request(br#"{"Remove":{"id":"","delete_data":true}}"#), true),
        (command_request(br#"{"ReadLog":{"min_level":"info","info_hash":"/etc"}}"#), true),
        (command_request(br#"{"Add":[{"File":"/etc/passwd"},{"root":null,"paused":false,"peers":[],"only_files":null,"limits":{"download_bps":null,"upload_bps":null,"peers":null}}]}"#), true),
        (command_request(&[b'['; 10_000]), true),
        (post("/api/trove/v1/nothing", &authed(), b"{}"), true),
        (post("/api/trove/v1/../../etc/passwd", &authed(), b""), true),
        (post("/api/trove/v1/command/..%2f..%2fetc%2fpasswd", &authed(), b""), true),
        (post("/", &authed(), b""), true),
        (post("/api/trove/v1/events", &authed(), b""), true),
        (post("/api/trove/v1/command", &auth, b"\"Flush\""), true),
        (post("/api/trove/v1/command", &format!("{auth}X-Trove-Protocol: one\r\n"), b"\"Flush\""), true),
        (
            [
                format!("POST /api/trove/v1/command HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 7\r\n{auth}").as_bytes(),
                b"X-Trove-Protocol: \xff\r\n\r\n\"Flush\"",
            ]
            .concat(),
            true,
        ),
        (
            format!("GET /api/trove/v1/command HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{}\r\n", authed())
                .into_bytes(),
            true,
        ),
        // Longer than the limit, by its header alone.
        (
            format!("POST /api/trove/v1/command HTTP/1.1\r\nHost: t\r\n{huge_header}\r\n\"Flush\"")
                .into_bytes(),
            true,
        ),
        // A body cut short: the client stops sending before the length it announced.
        (
            format!(
                "POST /api/trove/v1/command HTTP/1.1\r\nHost: t\r\n{}Content-Length: 50\r\n\r\n{{\"Pause\"",
                authed()
            )
            .into_bytes(),
            false,
        ),
        // Not HTTP at all, or broken HTTP: hyper answers these itself, without a message.
        (b"HELLO\r\n\r\n".to_vec(), false),
        (b"POST /api/trove/v1/command HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n".to_vec(), false),
        (
            format!("POST /api/trove/v1/command HTTP/1.1\r\nHost: t\r\n{}Content-Length: nope\r\n\r\n", authed())
                .into_bytes(),
            false,
        ),
    ];
    // Repeated as whole requests, to show the server still answers after all of the above.
    corpus.push((command_request(br#"{"Pause":"zz"}"#), true));
    assert!(corpus.len() >= 30);
    for (request, with_message) in &corpus {
        let (status, body) = raw(addr, request).await;
        let shown = String::from_utf8_lossy(request);
        assert!((400..500).contains(&status), "{status} for {shown}");
        if *with_message {
            let m = message(&body);
            assert!(m.len() > 10, "{m:?} for {shown}");
        }
    }
    let (status, body) = raw(addr, &command_request(b"\"Flush\"")).await;
    assert_eq!((status, body.trim()), (200, r#"{"Ok":"Done"}"#));
    server.shut_down().await;
}

#[test]
fn random_command_bodies_never_break_the_server() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let _in_runtime = runtime.enter();
    let server = runtime.block_on(start_tcp(fake_session(&[A, B])));
    let addr = server.addr();
    let near_commands = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        (
            prop::sample::select(vec![
                r#"{"Pause":"#,
                r#"{"Remove":{"id":"#,
                r#"{"Add":[{"Bytes":["#,
                r#"{"SetGlobalLimits":{"#,
                r#"{"ReadLog":{"min_level":"#,
                "\"",
            ]),
            "[ -~]{0,40}"
        )
            .prop_map(|(head, tail)| format!("{head}{tail}").into_bytes()),
    ];
    proptest!(ProptestConfig::with_cases(200), |(body in near_commands)| {
        let (status, answer) = runtime.block_on(raw(addr, &command_request(&body)));
        match status {
            200 => {
                let decoded: Result<Result<Reply, EngineError>, _> = serde_json::from_str(answer.trim());
                prop_assert!(decoded.is_ok(), "{answer:?}");
            }
            400 => { message(&answer); }
            other => prop_assert!(false, "status {other} for {body:?}"),
        }
    });
    runtime.block_on(server.shut_down());
}

#[tokio::test]
async fn a_client_sees_the_session_go_and_come_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trove.sock");
    let server = start_unix(&path, fake_session(&[A, B])).await;
    let (client, connection) = connect(Endpoint::Unix(path.clone()), None)
        .await
        .expect("connects");
    let mut state = connection.state();
    client
        .run(Command::Pause("aa".into()))
        .await
        .expect("paused");
    until(&mut client.log_changes(), "the pause's log line", |&s| {
        s == 1
    })
    .await;

    server.shut_down().await;
    until(&mut state, "the loss", |s| {
        matches!(s, ConnectionState::Lost(_))
    })
    .await;
    match client.run(Command::Flush).await {
        Err(EngineError::Engine(m)) => assert!(m.contains("is not answering"), "{m}"),
        other => panic!("a lost session answered: {other:?}"),
    }
    assert_eq!(
        client.snapshot().torrents.len(),
        2,
        "the last snapshot stays"
    );

    // Another session on the same socket: the client reads its whole snapshot.
    let server = start_unix(&path, fake_session(&[B])).await;
    until(&mut state, "the return", |s| {
        *s == ConnectionState::Reconnected
    })
    .await;
    let snap = client.snapshot();
    assert_eq!(snap.torrents.len(), 1);
    assert_eq!(snap.torrents[0].info_hash, B);
    assert_eq!(*client.log_changes().borrow(), 0);
    client.run(Command::Flush).await.expect("answered again");
    server.shut_down().await;
}

#[tokio::test]
async fn a_stopped_session_is_no_stream_to_follow() {
    let (session, engine) = Client::pair(SessionSnapshot::default());
    drop(engine);
    let server = start_tcp(session).await;
    let request = format!(
        "GET /api/trove/v1/events HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{}\r\n",
        authed()
    );
    let (status, body) = raw(server.addr(), request.as_bytes()).await;
    assert_eq!(status, 503);
    assert_eq!(message(&body), "the session has stopped");
    let (status, body) = raw(server.addr(), &command_request(b"\"Flush\"")).await;
    assert_eq!((status, body.trim()), (200, r#"{"Err":"Stopped"}"#));
    server.shut_down().await;
}

/// A session asked to stop closes its event stream as it goes; the stop must still get its
/// answer, even when the client sees the stream end first.
#[tokio::test]
async fn a_stop_is_answered_though_the_event_stream_ends_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trove.sock");
    let (session, engine) = Client::pair(SessionSnapshot::default());
    let server = start_unix(&path, session).await;
    let (client, connection) = connect(Endpoint::Unix(path.clone()), None)
        .await
        .expect("connects");
    let mut state = connection.state();
    let trove_proto::Server {
        mut requests,
        snapshots,
        log_seq,
        ..
    } = engine;
    let stopping = tokio::spawn(async move {
        let (command, reply) = requests.recv().await.expect("a command");
        assert_eq!(command, Command::Shutdown);
        // The session goes: its event stream ends before the answer leaves.
        drop((snapshots, log_seq));
        until(&mut state, "the end of the event stream", |s| {
            matches!(s, ConnectionState::Lost(_))
        })
        .await;
        let _ = reply.send(Ok(Reply::Done));
    });
    client
        .run(Command::Shutdown)
        .await
        .expect("the stop is answered");
    stopping.await.expect("the session side ran");
    server.shut_down().await;
}

// ------------------------------------------------------------ qBittorrent's Web API (/api/v2)

async fn start_tcp_with_login(session: Client) -> Running {
    let listener = Listener::tcp(([127, 0, 0, 1], 0).into())
        .await
        .expect("listens");
    start(
        session,
        listener,
        Auth::token(TOKEN).with_login("sonarr", "pa55"),
    )
}

fn v2(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} /api/v2/{path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn form(path: &str, headers: &str, body: &str) -> Vec<u8> {
    v2(
        "POST",
        path,
        &format!("{headers}Content-Type: application/x-www-form-urlencoded\r\n"),
        body.as_bytes(),
    )
}

/// Sends `request` and returns (status, headers, body).
async fn raw_full(addr: SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(request).await.expect("sends");
    stream.shutdown().await.expect("half-closes");
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers")
        .expect("reads");
    let text = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    (status, head.to_string(), body.to_string())
}

fn bearer() -> String {
    format!("Authorization: Bearer {TOKEN}\r\n")
}

#[tokio::test]
async fn qbit_clients_log_in_with_a_sid_cookie_and_wrong_passwords_are_braked() {
    let server = start_tcp_with_login(fake_session(&[A])).await;
    let addr = server.addr();
    // Nothing without a login: qBittorrent's 403 "Forbidden".
    for cookie in [
        "",
        "Cookie: SID=\r\n",
        "Cookie: SID=deadbeef\r\n",
        "Cookie: ;;==;SID\r\n",
        "Cookie: SID=%00\r\n",
    ] {
        let (status, _, body) = raw_full(addr, &v2("GET", "app/version", cookie, b"")).await;
        assert_eq!((status, body.as_str()), (403, "Forbidden"), "{cookie:?}");
    }
    let (status, _, body) = raw_full(addr, &v2("GET", "torrents/nothing", "", b"")).await;
    assert_eq!(
        (status, body.as_str()),
        (403, "Forbidden"),
        "no path is told before a login"
    );
    // The right login gives Ok. and a cookie that works.
    let (status, head, body) = raw_full(
        addr,
        &form("auth/login", "", "username=sonarr&password=pa55"),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "Ok."));
    let cookie_line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a cookie");
    assert!(
        cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Strict"),
        "{cookie_line}"
    );
    let sid = cookie_line
        .split_once("SID=")
        .and_then(|(_, rest)| rest.split(';').next())
        .expect("a SID")
        .to_string();
    let with_sid = format!("Cookie: SID={sid}\r\n");
    let (status, _, body) = raw_full(addr, &v2("GET", "app/version", &with_sid, b"")).await;
    assert_eq!((status, body.as_str()), (200, "v4.5.2"));
    // trove's token works too.
    let (status, _, body) = raw_full(addr, &v2("GET", "app/webapiVersion", &bearer(), b"")).await;
    assert_eq!((status, body.as_str()), (200, "2.8.19"));
    // Logging out ends the SID.
    let (status, _, _) = raw_full(addr, &form("auth/logout", &with_sid, "")).await;
    assert_eq!(status, 200);
    let (status, _, _) = raw_full(addr, &v2("GET", "app/version", &with_sid, b"")).await;
    assert_eq!(status, 403);
    // Wrong passwords: Fails. (200, as qBittorrent), then the address is banned as by
    // qBittorrent (403 and its message), even with the right password.
    for _ in 0..5 {
        let (status, _, body) = raw_full(
            addr,
            &form("auth/login", "", "username=sonarr&password=guess"),
        )
        .await;
        assert_eq!((status, body.as_str()), (200, "Fails."));
    }
    let (status, _, body) = raw_full(
        addr,
        &form("auth/login", "", "username=sonarr&password=pa55"),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("banned"), "{body}");
    server.shut_down().await;
}

#[tokio::test]
async fn without_a_configured_login_qbit_logins_fail_and_the_token_still_works() {
    let server = start_tcp(fake_session(&[A])).await;
    let addr = server.addr();
    let (status, head, body) = raw_full(
        addr,
        &form("auth/login", "", "username=admin&password=adminadmin"),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "Fails."));
    assert!(!head.to_ascii_lowercase().contains("set-cookie"), "{head}");
    let (status, _, body) = raw_full(addr, &v2("GET", "torrents/info", &bearer(), b"")).await;
    assert_eq!(status, 200, "{body}");
    server.shut_down().await;
}

#[tokio::test]
async fn over_the_unix_socket_qbit_calls_need_no_login() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("api.sock");
    let server = start_unix(&path, fake_session(&[A])).await;
    let mut stream = tokio::net::UnixStream::connect(&path)
        .await
        .expect("connects");
    stream
        .write_all(&v2("GET", "torrents/info?filter=downloading", "", b""))
        .await
        .expect("sends");
    stream.shutdown().await.expect("half-closes");
    let mut answer = String::new();
    tokio::time::timeout(PATIENCE, stream.read_to_string(&mut answer))
        .await
        .expect("answers")
        .expect("reads");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(A), "{answer}");
    server.shut_down().await;
}

#[tokio::test]
async fn malformed_qbit_requests_get_a_4xx_with_a_one_line_message() {
    let server = start_tcp(fake_session(&[A])).await;
    let addr = server.addr();
    let auth = bearer();
    let multipart = |parts: &str| {
        v2(
            "POST",
            "torrents/add",
            &format!("{auth}Content-Type: multipart/form-data; boundary=XX\r\n"),
            parts.as_bytes(),
        )
    };
    let unknown = "ff".repeat(20);
    let corpus: Vec<Vec<u8>> = vec![
        v2("GET", &format!("torrents/properties?hash={unknown}"), &auth, b""),
        v2("GET", &format!("torrents/files?hash={A}"), &auth, b""),
        v2("GET", "torrents/properties?hash=../../etc/passwd", &auth, b""),
        v2("GET", "torrents/properties", &auth, b""),
        v2("GET", "torrents/trackers?hash=%00", &auth, b""),
        v2("GET", "torrents/info?filter=everything", &auth, b""),
        v2("GET", "torrents/info?limit=ten", &auth, b""),
        v2("GET", "torrents/info?offset=1e9", &auth, b""),
        v2("GET", "torrents/info?reverse=maybe", &auth, b""),
        v2("GET", "torrents/info?hashes=zz|yy", &auth, b""),
        v2("GET", "sync/maindata?rid=abc", &auth, b""),
        v2("GET", "sync/maindata?rid=99999999999999999999999", &auth, b""),
        v2("GET", "torrents/pause", &auth, b""),
        v2("GET", "torrents/nothing", &auth, b""),
        v2("GET", "../../etc/passwd", &auth, b""),
        form("torrents/pause", &auth, "hashes=../etc"),
        form("torrents/pause", &auth, ""),
        form("torrents/delete", &auth, &format!("hashes={A}&deleteFiles=perhaps")),
        form("torrents/setUploadLimit", &auth, &format!("hashes={A}&limit=fast")),
        form("torrents/createCategory", &auth, "category=../evil&savePath=/tmp/x"),
        form("torrents/createCategory", &auth, "category=a%00b&savePath=/tmp/x"),
        form("torrents/createCategory", &auth, "category=&savePath=/tmp/x"),
        form("torrents/createCategory", &auth, "category=tv&savePath=relative/dir"),
        form("torrents/createCategory", &auth, "category=tv&savePath=/srv/../etc"),
        form("torrents/createCategory", &auth, "category=tv&savePath=/srv/a%00b"),
        form("torrents/editCategory", &auth, "category=nope&savePath=/tmp/x"),
        form("torrents/setCategory", &auth, &format!("hashes={A}&category=nope")),
        form("torrents/addTags", &auth, &format!("hashes={A}&tags=a%01b")),
        form("torrents/add", &auth, "urls=notaurl"),
        form("torrents/add", &auth, ""),
        form("torrents/add", &auth, "urls=magnet:?xt=urn:btih:aa&savepath=/not/a/root"),
        form("torrents/add", &auth, "urls=magnet:?xt=urn:btih:aa&category=../x"),
        form("torrents/add", &auth, "urls=magnet:?xt=urn:btih:aa&paused=sometimes"),
        form("app/setPreferences", &auth, "json={not json"),
        form("app/setPreferences", &auth, "json={\"dl_limit\":\"fast\"}"),
        form("transfer/setDownloadLimit", &auth, "limit="),
        // A .torrent that is not one.
        multipart("--XX\r\nContent-Disposition: form-data; name=\"torrents\"; filename=\"x.torrent\"\r\n\r\nhello\r\n--XX--\r\n"),
        // A multipart body cut short.
        multipart("--XX\r\nContent-Disposition: form-data; name=\"torrents\"; filename=\"x.torrent\"\r\n\r\nd4:info"),
        // A multipart type without a boundary.
        v2("POST", "torrents/add", &format!("{auth}Content-Type: multipart/form-data\r\n"), b"--XX--"),
        // Larger than any request may be, by its header alone.
        format!("POST /api/v2/torrents/add HTTP/1.1\r\nHost: t\r\n{auth}Content-Length: 100000000\r\n\r\nurls=").into_bytes(),
    ];
    for request in &corpus {
        let (status, _, body) = raw_full(addr, request).await;
        let shown = String::from_utf8_lossy(request);
        assert!((400..500).contains(&status), "{status} for {shown}");
        assert!(
            !body.trim().is_empty() && !body.trim().contains('\n'),
            "one line: {body:?} for {shown}"
        );
        assert!(body.len() > 8, "{body:?} for {shown}");
    }
    // Still serving.
    let (status, _, body) = raw_full(addr, &v2("GET", "torrents/info", &auth, b"")).await;
    assert_eq!(status, 200);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).expect("JSON");
    assert_eq!(rows[0]["hash"], A);
    server.shut_down().await;
}

#[test]
fn random_qbit_queries_never_break_the_server() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let _in_runtime = runtime.enter();
    let server = runtime.block_on(start_tcp(fake_session(&[A, B])));
    let addr = server.addr();
    let paths = prop::sample::select(vec![
        "torrents/info",
        "torrents/properties",
        "torrents/pause",
        "torrents/setCategory",
        "torrents/createCategory",
        "torrents/addTags",
        "torrents/add",
        "sync/maindata",
        "app/setPreferences",
    ]);
    proptest!(ProptestConfig::with_cases(150), |(path in paths, body in "[ -~]{0,80}")| {
        let (status, _, answer) = runtime.block_on(raw_full(addr, &form(path, &bearer(), &body)));
        prop_assert!(status == 200 || (400..500).contains(&status), "status {status} for {path} {body:?}");
        if status != 200 {
            prop_assert!(!answer.trim().is_empty() && !answer.contains('\n'), "{answer:?}");
        }
    });
    runtime.block_on(server.shut_down());
}
