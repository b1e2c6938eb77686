//! One session, many clients: a `trove daemon` downloading from a local libtorrent seeder
//! while dashboards attach to it in tmux and the command line drives it through its API
//! socket; the same over TCP with the API token; the daemon killed under attached
//! dashboards and brought back.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use serde_json::Value;
use trove_testkit::{Peer, Tmux, TroveEnv, free_port, trees_identical, wait_until};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

const LONG: Duration = Duration::from_secs(90);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The table row naming `name`.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(name))
}

#[test]
fn dashboards_and_commands_share_one_daemon() {
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "Shared Album",
        &[("a.bin", 6 << 20), ("b.bin", 2 << 20)],
        64 * 1024,
    );
    // Slow enough that the download is still going while the dashboards look at it.
    seeder.seed_with_limit(&t, 1 << 20);
    let env = TroveEnv::new(TROVE, &["main"]);
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("session listening", LONG);

    // The socket is the owner's alone.
    let socket = env.data_dir.join("trove.sock");
    wait_until("the API socket", LONG, || socket.exists().then_some(()));
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket mode {mode:o}");

    // The command line adds through the daemon; the first dashboard attaches and shows it.
    let magnet = format!("{}&x.pe=127.0.0.1:{}", t.magnet, seeder.port());
    assert_eq!(env.add(&[magnet]), std::slice::from_ref(&t.info_hash));
    let first = Tmux::start(TROVE, &env, &[], 120, 30);
    first.wait_screen("the download in the first dashboard", |s| {
        row(s, "Shared Album").is_some_and(|r| r.contains("downloading"))
    });
    let second = Tmux::start(TROVE, &env, &[], 120, 30);
    second.wait_screen("the download in the second dashboard", |s| {
        row(s, "Shared Album").is_some()
    });

    // Paused from the command line: both dashboards show it within a second.
    let prefix = &t.info_hash[..8];
    env.run_ok(&["pause", prefix]);
    let paused_at = Instant::now();
    for (which, tmux) in [("first", &first), ("second", &second)] {
        tmux.wait_screen(&format!("paused in the {which} dashboard"), |s| {
            row(s, "Shared Album").is_some_and(|r| r.contains("paused"))
        });
    }
    let took = paused_at.elapsed();
    eprintln!("both dashboards showed the pause after {took:?}");
    assert!(
        took <= Duration::from_secs(1),
        "the dashboards showed the pause after {took:?}"
    );
    env.run_ok(&["resume", prefix]);

    // The first dashboard leaves; the daemon and the download go on.
    first.keys(&["q"]);
    first.wait_screen("the first dashboard gone", |s| s.contains("TROVE-EXITED 0"));
    assert!(
        daemon.is_running(),
        "q detaches, it does not stop the daemon"
    );
    second.wait_screen("the download complete", |s| {
        row(s, "Shared Album").is_some_and(|r| r.contains("seeding"))
    });
    trees_identical(
        &t.content_path(),
        &env.root_path("main").join("Shared Album"),
    )
    .unwrap();

    // `trove stop` stops it: the attached dashboard says so, and the saved session has
    // the torrent complete.
    env.run_ok(&["stop"]);
    let st = daemon.wait_exit(LONG);
    assert!(st.success(), "daemon exited {st}:\n{}", daemon.stderr());
    second.wait_screen("the lost session on the status line", |s| {
        s.contains("not answering")
    });
    let saved = env.torrent_json(&t.info_hash).unwrap();
    assert_eq!(saved["progress"], 1.0, "{saved}");
}

#[test]
fn a_dashboard_outlives_a_killed_daemon_and_reattaches() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let hash = "89abcdef0123456789abcdef0123456789abcdef";
    env.add(&[format!("magnet:?xt=urn:btih:{hash}&dn=Kept+Across")]);
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("session listening", LONG);
    let socket = env.data_dir.join("trove.sock");
    wait_until("the API socket", LONG, || socket.exists().then_some(()));
    let tmux = Tmux::start(TROVE, &env, &[], 100, 24);
    tmux.wait_screen("the attached dashboard", |s| s.contains("Kept Across"));

    daemon.kill9();
    let lost = tmux.wait_screen("the lost session on the status line", |s| {
        s.contains("not answering")
    });
    // The screen is still the dashboard's, drawn whole: the table and the message.
    assert!(lost.contains("Kept Across"), "{lost}");

    let mut again = env.spawn_daemon::<&str>(&[]);
    again.wait_for_stderr("session listening", LONG);
    tmux.wait_screen("the dashboard attached again", |s| {
        s.contains("Attached to the session again") && s.contains("Kept Across")
    });
    tmux.keys(&["q"]);
    tmux.wait_screen("the dashboard gone", |s| s.contains("TROVE-EXITED 0"));
    assert!(again.is_running());
}

#[test]
fn commands_reach_a_daemon_over_tcp_only_with_its_token() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let port = free_port();
    std::fs::write(
        &env.config_path,
        env.config_text(&format!("[api]\nlisten = \"127.0.0.1:{port}\"")),
    )
    .unwrap();
    let hash = "0123456789abcdef0123456789abcdef01234567";
    env.add(&[format!("magnet:?xt=urn:btih:{hash}&dn=Over+TCP")]);
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("trove's API listens on", LONG);
    let token = env.run_ok(&["token"]).trim().to_string();
    assert_eq!(token.len(), 64, "{token:?}");
    let token_file = env.data_dir.join("api-token");
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "token file mode {mode:o}");

    // Another data dir, so nothing but the URL can lead to the session.
    let elsewhere = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let remote = |token: Option<&str>| {
        let mut cmd = std::process::Command::new(TROVE);
        cmd.arg("--data-dir")
            .arg(elsewhere.path())
            .arg("--config")
            .arg(&env.config_path)
            .args(["--connect", &url, "list", "--json"])
            .env("NO_COLOR", "1");
        cmd.env_remove("TROVE_TOKEN");
        if let Some(t) = token {
            cmd.env("TROVE_TOKEN", t);
        }
        trove_testkit::run_with_timeout(&mut cmd, LONG)
    };
    let out = remote(Some(&token));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["info_hash"], hash);

    let wrong = remote(Some("0000"));
    assert_eq!(wrong.status.code(), Some(1));
    let err = text(&wrong.stderr);
    assert!(err.contains("401") || err.contains("token"), "{err}");

    let none = remote(None);
    assert_eq!(none.status.code(), Some(1));
    let err = text(&none.stderr);
    assert!(err.contains("TROVE_TOKEN"), "{err}");

    // The token also works over plain HTTP, as a script would send it.
    let answer = raw_http(
        port,
        &format!(
            "GET /api/trove/v1/events HTTP/1.1\r\nHost: x\r\nX-Trove-Protocol: {}\r\n\r\n",
            trove_proto::PROTOCOL_VERSION
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(daemon.is_running());
}

#[test]
fn two_hundred_concurrent_commands_are_all_answered() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let hashes: Vec<String> = (0..10)
        .map(|i| format!("{i:02x}{}", "ab".repeat(19)))
        .collect();
    for h in &hashes {
        env.add(&[format!("magnet:?xt=urn:btih:{h}")]);
    }
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("session listening", LONG);
    let socket = env.data_dir.join("trove.sock");
    wait_until("the API socket", LONG, || socket.exists().then_some(()));

    let children: Vec<_> = (0..200)
        .map(|i| {
            let h = &hashes[i % hashes.len()];
            let args: Vec<&str> = match i % 4 {
                0 => vec!["list", "--json"],
                1 => vec!["pause", h],
                2 => vec!["resume", h],
                _ => vec!["list"],
            };
            let mut cmd = env.cmd();
            cmd.args(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            (args.join(" "), cmd.spawn().unwrap())
        })
        .collect();
    for (what, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "`trove {what}` failed: {}",
            text(&out.stderr)
        );
    }
    // The session is whole afterwards, and so is what it saves.
    let listed = env.list_json();
    assert_eq!(listed.as_array().map(Vec::len), Some(hashes.len()));
    assert!(daemon.is_running());
    env.run_ok(&["stop"]);
    assert!(daemon.wait_exit(LONG).success());
    let saved = env.list_json();
    assert_eq!(
        saved.as_array().map(Vec::len),
        Some(hashes.len()),
        "{saved}"
    );
}

/// Sends `request` to 127.0.0.1:`port` and returns what came back before the server closed
/// the connection or went quiet.
fn raw_http(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = s.read(&mut chunk) {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    text(&buf)
}
