//! A torrent's files over HTTP from a real `trove daemon` on TCP with its token, read with
//! `curl` and raw sockets against the bytes a local libtorrent seeder serves: ranges, the
//! token, a file read while it downloads, the stream limit, clients that leave, malformed
//! paths, and the playlist.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use trove_testkit::{Daemon, MadeTorrent, Peer, TroveEnv, free_port, run_with_timeout, wait_until};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

const LONG: Duration = Duration::from_secs(90);

/// What `curl` got: the status, the headers (lower-case names) and the body.
struct Got {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `curl -s` of `url` with `extra` arguments, bounded in time.
fn curl(url: &str, extra: &[&str]) -> Got {
    let dir = tempfile::tempdir().unwrap();
    let head = dir.path().join("head");
    let body = dir.path().join("body");
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "--max-time", "60", "-D"])
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .args(extra)
        .arg(url);
    let out = run_with_timeout(&mut cmd, LONG);
    assert!(
        out.status.success(),
        "curl {url} {extra:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = std::fs::read_to_string(&head).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Got {
        status,
        headers,
        body: std::fs::read(&body).unwrap_or_default(),
    }
}

/// A daemon serving TCP on a free port with `extra_api` lines under `[api]`; its URL and
/// token.
fn daemon(env: &TroveEnv, extra_api: &str) -> (Daemon, String, String) {
    let port = free_port();
    std::fs::write(
        &env.config_path,
        env.config_text(&format!(
            "[api]\nlisten = \"127.0.0.1:{port}\"\n{extra_api}"
        )),
    )
    .unwrap();
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("trove's API listens on", LONG);
    let token = env.run_ok(&["token"]).trim().to_string();
    (daemon, format!("http://127.0.0.1:{port}"), token)
}

fn source(t: &MadeTorrent, file: &str) -> Vec<u8> {
    std::fs::read(t.content_path().join(file)).unwrap()
}

fn wait_seeding(env: &TroveEnv, hash: &str) {
    wait_until("the download to finish", LONG, || {
        env.torrent_json(hash).filter(|j| j["state"] == "seeding")
    });
}

/// Sends a GET for `path` and reads the status line and a little of the body, leaving the
/// connection open (the caller drops it to leave mid-body).
fn hold(port_url: &str, path: &str, token: &str) -> (TcpStream, String) {
    let addr = port_url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed before answering {path}");
        got.extend_from_slice(&chunk[..n]);
    }
    let status = String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    (s, status)
}

/// How long the first byte of the body takes to come when reading from `offset` on.
fn first_body_byte(url: &str, path: &str, token: &str, offset: usize) -> Duration {
    let addr = url.trim_start_matches("http://");
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LONG)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Range: bytes={offset}-\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed before sending a byte of {path}");
        got.extend_from_slice(&chunk[..n]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n")
            && got.len() > end + 4
        {
            return started.elapsed();
        }
    }
}

#[test]
fn a_finished_torrent_streams_with_ranges_a_token_and_a_playlist() {
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "Film Night",
        &[
            ("a film.mkv", 3 << 20),
            ("extras/b song.mp3", (1 << 20) + 7),
        ],
        64 * 1024,
    );
    seeder.seed(&t);
    let env = TroveEnv::new(TROVE, &["main"]);
    let (_daemon, url, token) = daemon(&env, "");
    let magnet = format!("{}&x.pe=127.0.0.1:{}", t.magnet, seeder.port());
    env.add(&[magnet]);
    wait_seeding(&env, &t.info_hash);

    let film = source(&t, "a film.mkv");
    let len = film.len();
    let file0 = format!("{url}/api/trove/v1/torrents/{}/files/0", t.info_hash);
    let bearer = format!("Authorization: Bearer {token}");
    let auth = ["-H", bearer.as_str()];

    // The whole file, with the headers a player looks at.
    let whole = curl(&file0, &auth);
    assert_eq!(whole.status, 200, "{}", whole.text());
    assert!(whole.body == film, "the whole file differs from the source");
    assert_eq!(whole.header("content-type"), Some("video/x-matroska"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        whole.header("content-length"),
        Some(len.to_string().as_str())
    );
    assert_eq!(
        whole.header("content-disposition"),
        Some("inline; filename*=UTF-8''a%20film.mkv")
    );

    // Ranges: the first bytes, the middle, a suffix, open-ended.
    let mid = len / 2;
    for (range, from, to) in [
        ("0-99".to_string(), 0, 99),
        (format!("{mid}-{}", mid + 70_000), mid, mid + 70_000),
        ("-5000".to_string(), len - 5000, len - 1),
        (format!("{}-", len - 123_456), len - 123_456, len - 1),
    ] {
        let got = curl(&file0, &[&auth[..], &["-r", &range]].concat());
        assert_eq!(got.status, 206, "range {range}: {}", got.text());
        assert!(got.body == film[from..=to], "range {range}: wrong bytes");
        let expected = format!("bytes {from}-{to}/{len}");
        assert_eq!(got.header("content-range"), Some(expected.as_str()));
    }

    // Past the end: 416 saying how long the file is.
    let past = curl(&file0, &[&auth[..], &["-r", &format!("{len}-")]].concat());
    assert_eq!(past.status, 416, "{}", past.text());
    let expected = format!("bytes */{len}");
    assert_eq!(past.header("content-range"), Some(expected.as_str()));

    // HEAD: the length and type, no body.
    let head = curl(&file0, &[&auth[..], &["-I"]].concat());
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(len.to_string().as_str())
    );

    // The token: missing or wrong is 401, in the header or the query; right in the query
    // works (players cannot send headers), and a name after the index is fine.
    assert_eq!(curl(&file0, &[]).status, 401);
    assert_eq!(
        curl(&file0, &["-H", "Authorization: Bearer nope"]).status,
        401
    );
    assert_eq!(curl(&format!("{file0}?token=nope"), &[]).status, 401);
    let by_query = curl(
        &format!("{file0}/a%20film.mkv?token={token}"),
        &["-r", "0-9"],
    );
    assert_eq!(by_query.status, 206, "{}", by_query.text());
    assert!(by_query.body == film[..10]);
    // On the Unix socket the file mode is the protection: no token.
    let socket = env.data_dir.join("trove.sock");
    let local = curl(
        &format!(
            "http://localhost/api/trove/v1/torrents/{}/files/0",
            t.info_hash
        ),
        &["--unix-socket", socket.to_str().unwrap(), "-r", "10-19"],
    );
    assert_eq!(local.status, 206, "{}", local.text());
    assert!(local.body == film[10..20]);
    // A token in the query opens nothing but streams.
    let events = curl(&format!("{url}/api/trove/v1/events?token={token}"), &[]);
    assert_eq!(events.status, 401);

    // Malformed paths: a clear 400 or 404 each, and the server goes on serving.
    let base = format!("{url}/api/trove/v1/torrents");
    for (path, status, says) in [
        ("zz-not-hex/files/0".to_string(), 400, "not an info-hash"),
        (format!("{}/files/x", t.info_hash), 400, "not a file number"),
        (
            format!("{}/files/-1", t.info_hash),
            400,
            "not a file number",
        ),
        (format!("{}/files/99", t.info_hash), 404, "no file 99"),
        (format!("{}/files/0", "ab".repeat(20)), 404, "no torrent"),
        (format!("{}/files/%ff", t.info_hash), 400, "path"),
        (format!("{}/nothing", t.info_hash), 404, "there is no"),
    ] {
        let got = curl(&format!("{base}/{path}"), &auth);
        assert_eq!(got.status, status, "{path}: {}", got.text());
        assert!(got.text().contains(says), "{path}: {}", got.text());
    }

    let post = curl(&file0, &[&auth[..], &["-X", "POST"]].concat());
    assert_eq!(post.status, 405, "{}", post.text());
    assert!(
        post.text().contains("files and playlists"),
        "{}",
        post.text()
    );
    let still = curl(&file0, &[&auth[..], &["-r", "0-0"]].concat());
    assert_eq!(
        still.status,
        206,
        "the server stopped serving: {}",
        still.text()
    );

    // The playlist lists every file in torrent order, each URL working as it is.
    let list = curl(
        &format!("{base}/{}/playlist.m3u", &t.info_hash[..10]),
        &auth,
    );
    assert_eq!(list.status, 200, "{}", list.text());
    let text = list.text();
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    assert!(text.contains("#EXTINF:-1,extras/b song.mp3"), "{text}");
    let urls: Vec<&str> = text.lines().filter(|l| l.starts_with("http")).collect();
    assert_eq!(urls.len(), 2, "{text}");
    for (url, file) in urls.iter().zip(["a film.mkv", "extras/b song.mp3"]) {
        let got = curl(url, &[]);
        assert_eq!(got.status, 200, "{url}: {}", got.text());
        assert!(got.body == source(&t, file), "{url}: wrong bytes");
    }
    let song = curl(urls[1], &["-I"]);
    assert_eq!(song.header("content-type"), Some("audio/mpeg"));
}

#[test]
fn a_downloading_file_streams_from_its_middle_and_extra_streams_wait() {
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let size: usize = 24 << 20;
    let t = seeder.make_torrent(
        payload.path(),
        "slow.bin",
        &[("slow.bin", size as u64)],
        256 * 1024,
    );
    // About 12 s for the whole file: still downloading while the streams read it.
    seeder.seed_with_limit(&t, 2 << 20);
    let env = TroveEnv::new(TROVE, &["main"]);
    let (_daemon, url, token) = daemon(&env, "max_streams = 2");
    let magnet = format!("{}&x.pe=127.0.0.1:{}", t.magnet, seeder.port());
    env.add(&[magnet]);
    let path = format!("/api/trove/v1/torrents/{}/files/0", t.info_hash);
    let file0 = format!("{url}{path}");
    let bearer = format!("Authorization: Bearer {token}");
    let auth = ["-H", bearer.as_str()];
    // The file list comes with the metadata, from the seeder.
    wait_until("the torrent's metadata", LONG, || {
        (curl(&file0, &[&auth[..], &["-I"]].concat()).status == 200).then_some(())
    });

    // The middle of the file, asked for at once: it comes before the rest.
    let source = std::fs::read(t.content_path()).unwrap();
    let mid = size / 2 + 12_345;
    let asked = Instant::now();
    let first_byte = first_body_byte(&url, &path, &token, mid);
    let range = format!("{mid}-{}", mid + 100_000);
    let got = curl(&file0, &[&auth[..], &["-r", &range]].concat());
    let took = asked.elapsed();
    assert_eq!(got.status, 206, "{}", got.text());
    assert!(
        got.body == source[mid..=mid + 100_000],
        "the middle range has wrong bytes"
    );
    let done = env.torrent_json(&t.info_hash).unwrap();
    eprintln!(
        "100 kB from the middle of a downloading 24 MiB file (seeder capped at 2 MiB/s): \
         first byte after {first_byte:?}, 100 kB after {took:?}; the torrent was then {} \
         ({:.0}% done)",
        done["state"],
        done["progress"].as_f64().unwrap_or(0.0) * 100.0
    );
    assert_ne!(
        done["state"], "seeding",
        "the download ended before the test could stream"
    );

    // Two readers hold both slots (they read nothing, so their bodies stay open); a third
    // is refused at once, saying why and when to come back.
    // (The reader above left mid-body too; its slot comes back once a write to it fails.)
    let (first, second) = wait_until("two free stream slots", LONG, || {
        let (a, status) = hold(&url, &path, &token);
        if !status.contains("200") {
            return None;
        }
        let (b, status) = hold(&url, &path, &token);
        status.contains("200").then_some((a, b))
    });
    let third = curl(&file0, &[&auth[..], &["-r", "0-9"]].concat());
    assert_eq!(third.status, 503, "{}", third.text());
    assert!(third.text().contains("stream slots"), "{}", third.text());
    assert_eq!(third.header("retry-after"), Some("5"));

    // Both leave mid-body: their slots come back and a new stream is served.
    drop(first);
    drop(second);
    wait_until("a stream slot freed by clients that left", LONG, || {
        (curl(&file0, &[&auth[..], &["-r", "0-9"]].concat()).status == 206).then_some(())
    });

    // The download was never stalled by the streams.
    wait_seeding(&env, &t.info_hash);
    let whole = curl(&file0, &auth);
    assert!(
        whole.body == source,
        "the finished file differs from the source"
    );
}
