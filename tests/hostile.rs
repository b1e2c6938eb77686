//! Hostile and broken inputs: every bad .torrent, magnet and URL is refused
//! by `trove add` with one clean `trove: ...` line on stderr, exit code 1 (never a panic's
//! 101 or a signal), and the sled store byte-for-byte as it was; and nothing is written
//! through a symlink that already sits in the root.
//!
//! The inputs live in `tests/corpus/` (made by `tests/corpus/make.py`, listed with the
//! expected reason in `tests/corpus/MANIFEST.tsv`); the few that cannot sit in a small file
//! (a million files, an oversized file, URLs) are made here. Everything is on 127.0.0.1.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use trove_testkit::{TroveEnv, free_port};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

/// Every file under `dir`, relative path → bytes.
type Snapshot = BTreeMap<PathBuf, Vec<u8>>;

fn snapshot(dir: &Path) -> Snapshot {
    fn walk(base: &Path, dir: &Path, out: &mut Snapshot) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_path_buf();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = Snapshot::new();
    walk(dir, dir, &mut out);
    out
}

fn describe_diff(before: &Snapshot, after: &Snapshot) -> String {
    let mut d = Vec::new();
    for (p, b) in before {
        match after.get(p) {
            None => d.push(format!("removed {}", p.display())),
            Some(a) if a != b => d.push(format!(
                "changed {} ({} -> {} bytes)",
                p.display(),
                b.len(),
                a.len()
            )),
            _ => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        d.push(format!("added {}", p.display()));
    }
    d.join(", ")
}

/// One input that `trove add` must refuse.
struct Case {
    /// What it is, for failure messages.
    label: String,
    arg: OsString,
    /// A case-insensitive substring the refusal must contain.
    expect: String,
}

fn manifest() -> Vec<Case> {
    let text = fs::read_to_string(format!("{CORPUS}/MANIFEST.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split('\t');
            let (file, expect, what) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap_or(""),
            );
            let path = Path::new(CORPUS).join(file);
            let arg = if file.ends_with(".magnet") {
                // The link itself is the argument, exactly as a user would paste it.
                OsString::from(String::from_utf8(fs::read(&path).unwrap()).unwrap())
            } else {
                path.into_os_string()
            };
            Case {
                label: format!("{file} ({what})"),
                arg,
                expect: expect.to_string(),
            }
        })
        .collect()
}

/// Runs `trove add <case>` and checks the refusal: exit 1, one `trove: ` line naming the
/// problem with no control characters, no panic, and the store unchanged.
fn assert_refused(env: &TroveEnv, case: &Case, store_before: &Snapshot) -> Duration {
    let t0 = Instant::now();
    let out = env.run(&[OsString::from("add"), case.arg.clone()]);
    let took = t0.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let ctx = format!(
        "{}: status {}, took {took:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        case.label, out.status
    );
    assert!(!stderr.contains("panicked"), "panic on {ctx}");
    assert_eq!(out.status.code(), Some(1), "exit code on {ctx}");
    assert!(
        stdout.trim().is_empty(),
        "a refused add printed on stdout: {ctx}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not exactly one stderr line on {ctx}");
    assert!(stderr.ends_with('\n'), "{ctx}");
    let line = lines[0];
    assert!(line.starts_with("trove: "), "{ctx}");
    assert!(
        !line.chars().any(|c| c.is_control()),
        "control characters in the refusal on {ctx}"
    );
    assert!(
        line.to_lowercase().contains(&case.expect.to_lowercase()),
        "the refusal does not say '{}' on {ctx}",
        case.expect
    );
    let after = snapshot(&env.data_dir.join("store"));
    assert!(
        &after == store_before,
        "the store changed ({}) on {ctx}",
        describe_diff(store_before, &after)
    );
    took
}

fn good(name: &str) -> PathBuf {
    Path::new(CORPUS).join("good").join(name)
}

/// An env whose store already holds the good controls; returns it with their hashes.
fn env_with_controls() -> (TroveEnv, Vec<String>) {
    let env = TroveEnv::new(TROVE, &["main"]);
    let hashes = env.add(&[good("album.torrent"), good("single.torrent")]);
    assert_eq!(hashes.len(), 2, "{hashes:?}");
    (env, hashes)
}

/// A torrent listing `n` one-byte files (bencode written directly: ~30 bytes a file).
fn many_files_torrent(n: usize) -> Vec<u8> {
    let mut t = Vec::with_capacity(n * 32 + 200);
    t.extend_from_slice(b"d4:infod5:filesl");
    for i in 0..n {
        let name = format!("f{i:07}");
        t.extend_from_slice(format!("d6:lengthi1e4:pathl{}:{name}ee", name.len()).as_bytes());
    }
    t.extend_from_slice(b"e4:name4:many12:piece lengthi16777216e6:pieces20:");
    t.extend_from_slice(&[7u8; 20]);
    t.extend_from_slice(b"ee");
    t
}

#[test]
fn corpus_inputs_are_refused_with_one_line_and_the_store_untouched() {
    let (env, control_hashes) = env_with_controls();
    let store = env.data_dir.join("store");
    let before = snapshot(&store);
    assert!(
        !before.is_empty(),
        "the store should exist before the corpus runs"
    );

    let mut cases = manifest();
    assert!(cases.len() >= 40, "only {} corpus entries", cases.len());

    // Inputs made here rather than committed.
    let scratch = tempfile::tempdir().unwrap();
    let million = scratch.path().join("million-files.torrent");
    fs::write(&million, many_files_torrent(1_000_000)).unwrap();
    let sparse = scratch.path().join("huge.torrent");
    fs::File::create(&sparse)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let folder = scratch.path().join("a-folder.torrent");
    fs::create_dir(&folder).unwrap();
    for (label, path, expect) in [
        (
            "a million files (~30 MB of bencode)",
            &million,
            "at most 100000",
        ),
        ("a 65 MiB file (sparse)", &sparse, "too large"),
        ("a folder", &folder, "is a folder"),
        (
            "a missing path",
            &scratch.path().join("missing.torrent"),
            "does not exist",
        ),
    ] {
        cases.push(Case {
            label: label.into(),
            arg: path.clone().into_os_string(),
            expect: expect.into(),
        });
    }

    let t0 = Instant::now();
    let mut slowest = (Duration::ZERO, String::new());
    for case in &cases {
        let took = assert_refused(&env, case, &before);
        if took > slowest.0 {
            slowest = (took, case.label.clone());
        }
    }
    eprintln!(
        "{} inputs refused in {:?}; slowest {:?} ({})",
        cases.len(),
        t0.elapsed(),
        slowest.0,
        slowest.1
    );

    // Several bad sources in one command add nothing, not even the good one beside them.
    let out = env.run(&[
        OsString::from("add"),
        good("padded.torrent").into_os_string(),
        Path::new(CORPUS)
            .join("bad/dotdot-component.torrent")
            .into_os_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(snapshot(&store), before, "a mixed add changed the store");

    // The controls are still there, and a good torrent is still accepted afterwards
    // (BEP 47 padding included).
    let list = env.list_json();
    let listed: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["info_hash"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{list}");
    for h in &control_hashes {
        assert!(listed.contains(&h.as_str()), "{h} missing from {list}");
    }
    let added = env.add(&[good("padded.torrent")]);
    assert_eq!(added.len(), 1);
    assert_eq!(env.list_json().as_array().unwrap().len(), 3);
}

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers by path; it lives until the test ends.
fn serve() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            thread::spawn(move || answer(conn, port));
        }
    });
    port
}

fn answer(mut conn: TcpStream, port: u16) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let reply = |status: &str, ctype: &str, body: &[u8]| {
        let mut r = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let bytes = match path {
        "/missing.torrent" => reply(
            "404 Not Found",
            "text/html",
            b"<html><body>no such torrent</body></html>",
        ),
        "/page.torrent" => reply(
            "200 OK",
            "text/html",
            b"<!doctype html><html><body>Download our app to get this torrent!</body></html>",
        ),
        "/empty.torrent" => reply("200 OK", "application/x-bittorrent", b""),
        "/evil.torrent" => reply(
            "200 OK",
            "application/x-bittorrent",
            &fs::read(format!("{CORPUS}/bad/bom-dotdot-component.torrent")).unwrap(),
        ),
        "/loop.torrent" => format!(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/loop.torrent\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
        "/hangup.torrent" => return, // close without answering
        "/endless.torrent" => {
            // Claims nothing about its length and never stops: trove must stop reading.
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-bittorrent\r\nConnection: close\r\n\r\n",
            );
            let chunk = vec![b'x'; 1 << 16];
            while conn.write_all(&chunk).is_ok() {}
            return;
        }
        _ => reply("500 Internal Server Error", "text/plain", b"unexpected path"),
    };
    let _ = conn.write_all(&bytes);
}

#[test]
fn urls_that_do_not_give_a_torrent_are_refused() {
    let (env, _) = env_with_controls();
    let before = snapshot(&env.data_dir.join("store"));
    let port = serve();
    let closed = free_port(); // nothing listens there
    let url = |p: &str| format!("http://127.0.0.1:{port}/{p}");
    let cases = [
        (
            "an unreachable port".to_string(),
            format!("http://127.0.0.1:{closed}/x.torrent"),
            "could not fetch",
        ),
        ("a 404".into(), url("missing.torrent"), "404"),
        (
            "an HTML page with 200 OK".into(),
            url("page.torrent"),
            "not valid bencode",
        ),
        ("an empty 200 OK".into(), url("empty.torrent"), "empty"),
        (
            "a hostile torrent over HTTP".into(),
            url("evil.torrent"),
            "unsafe path component",
        ),
        (
            "a redirect loop".into(),
            url("loop.torrent"),
            "could not fetch",
        ),
        (
            "a server that hangs up".into(),
            url("hangup.torrent"),
            "could not fetch",
        ),
        (
            "an endless body".into(),
            url("endless.torrent"),
            "too large",
        ),
        (
            "a URL with no host".into(),
            "http://".into(),
            "could not fetch",
        ),
    ];
    for (label, u, expect) in cases {
        let took = assert_refused(
            &env,
            &Case {
                label: format!("{label}: {u}"),
                arg: u.into(),
                expect: expect.into(),
            },
            &before,
        );
        assert!(
            took < Duration::from_secs(20),
            "{label} took {took:?}: URL fetches must stay bounded"
        );
    }
}

#[test]
fn a_symlink_in_the_root_is_never_written_through() {
    let (env, _) = env_with_controls();
    let store = env.data_dir.join("store");
    let before = snapshot(&store);
    let root = env.root_path("main");
    let outside = tempfile::tempdir().unwrap();

    // root/album -> outside: the multi-file torrent "album" would write into it.
    std::os::unix::fs::symlink(outside.path(), root.join("album")).unwrap();
    let case = Case {
        label: "album.torrent with root/album a symlink to a folder outside".into(),
        arg: good("album.torrent").into_os_string(),
        expect: "is a symlink".into(),
    };
    assert_refused(&env, &case, &before);

    // Deeper: root/album is a real folder, but album/cd1 points outside.
    fs::remove_file(root.join("album")).unwrap();
    fs::create_dir(root.join("album")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("album/cd1")).unwrap();
    assert_refused(&env, &case, &before);

    let outside_files = |d: &Path| -> Vec<OsString> {
        fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect()
    };
    assert!(
        outside_files(outside.path()).is_empty(),
        "something was written outside the root"
    );
    assert_eq!(snapshot(&store), before);

    // A single file whose own name is a symlink to a file outside.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("target.iso");
    fs::write(&target, b"precious").unwrap();
    let single = Path::new(CORPUS).join("good/single.torrent");
    // single.torrent is already in the session; a fresh env shows the file case alone.
    let env2 = TroveEnv::new(TROVE, &["main"]);
    env2.add(&[good("padded.torrent")]);
    let before2 = snapshot(&env2.data_dir.join("store"));
    std::os::unix::fs::symlink(&target, env2.root_path("main").join("single.iso")).unwrap();
    assert_refused(
        &env2,
        &Case {
            label: "single.torrent with root/single.iso a symlink to a file outside".into(),
            arg: single.into_os_string(),
            expect: "is a symlink".into(),
        },
        &before2,
    );

    // Nothing was written outside: only the file this test put there, unchanged.
    assert_eq!(
        outside_files(outside.path()),
        vec![OsString::from("target.iso")]
    );
    assert_eq!(fs::read(&target).unwrap(), b"precious");
}

// ------------------------------------------------------------ qBittorrent's Web API

/// One HTTP/1.1 request to 127.0.0.1:`port`: (status, headers, body).
fn http(port: u16, request: &[u8]) -> (u16, String, String) {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.write_all(request).unwrap();
    let _ = conn.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    std::io::Read::read_to_end(&mut conn, &mut answer).unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn v2_request(path: &str, headers: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /api/v2/{path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn multipart_torrent(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"torrents\"; filename=\"{name}\"\r\nContent-Type: application/x-bittorrent\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--BOUNDARY--\r\n");
    body
}

#[test]
fn the_qbittorrent_api_refuses_hostile_requests_and_loses_nothing() {
    let (env, hashes) = env_with_controls();
    let port = free_port();
    fs::write(
        &env.config_path,
        env.config_text(&format!(
            "[api]\nlisten = \"127.0.0.1:{port}\"\nusername = \"radarr\"\npassword = \"hunter2\""
        )),
    )
    .unwrap();
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("trove's API listens on", Duration::from_secs(60));
    let form = "application/x-www-form-urlencoded";

    // Without a login: 403 whatever the cookie says.
    for cookie in [
        "",
        "Cookie: SID=x\r\n",
        "Cookie: SID=../../etc\r\n",
        "Cookie: SID\r\n",
    ] {
        let (status, _, body) = http(port, &v2_request("torrents/info", cookie, form, b""));
        assert_eq!((status, body.as_str()), (403, "Forbidden"), "{cookie:?}");
    }
    let (status, head, body) = http(
        port,
        &v2_request("auth/login", "", form, b"username=radarr&password=hunter2"),
    );
    assert_eq!((status, body.as_str()), (200, "Ok."), "{head}");
    let sid = head
        .split("SID=")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap()
        .to_string();
    let cookie = format!("Cookie: SID={sid}\r\n");
    let multipart = "multipart/form-data; boundary=BOUNDARY";

    // Every bad .torrent of the corpus, uploaded as qBittorrent clients upload them.
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for case in manifest() {
        let path = PathBuf::from(&case.arg);
        if case.label.contains(".torrent") && path.is_file() {
            let bytes = fs::read(&path).unwrap();
            cases.push((
                case.label.clone(),
                v2_request(
                    "torrents/add",
                    &cookie,
                    multipart,
                    &multipart_torrent("bad.torrent", &bytes),
                ),
            ));
        }
    }
    assert!(
        cases.len() >= 10,
        "the corpus has bad .torrent files: {}",
        cases.len()
    );
    let unknown = "ee".repeat(20);
    let more: Vec<(&str, Vec<u8>)> = vec![
        ("a non-torrent file", v2_request("torrents/add", &cookie, multipart, &multipart_torrent("notes.txt", b"just some text"))),
        ("a truncated multipart body", v2_request("torrents/add", &cookie, multipart, &multipart_torrent("x.torrent", b"d4:info")[..30])),
        ("a category that climbs out", v2_request("torrents/createCategory", &cookie, form, b"category=..%2F..%2Fetc&savePath=%2Ftmp")),
        ("a NUL in a category", v2_request("torrents/createCategory", &cookie, form, b"category=a%00b&savePath=%2Ftmp")),
        ("a savePath with ..", v2_request("torrents/createCategory", &cookie, form, b"category=x&savePath=%2Ftmp%2F..%2Fetc")),
        ("a savepath that is no root", v2_request("torrents/add", &cookie, form, b"urls=magnet%3A%3Fxt%3Durn%3Abtih%3Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&savepath=%2Fetc")),
        ("an unknown hash", v2_request(&format!("torrents/properties?hash={unknown}"), &cookie, form, b"")),
        ("a bad rid", v2_request("sync/maindata?rid=-x", &cookie, form, b"")),
        ("a bad filter", v2_request("torrents/info?filter=%00", &cookie, form, b"")),
        ("a bad offset", v2_request("torrents/info?offset=1.5", &cookie, form, b"")),
        ("a huge body", format!("POST /api/v2/torrents/add HTTP/1.1\r\nHost: t\r\n{cookie}Content-Length: 999999999\r\n\r\n").into_bytes()),
    ];
    cases.extend(more.into_iter().map(|(l, r)| (l.to_string(), r)));
    for (label, request) in &cases {
        let (status, _, body) = http(port, request);
        assert!(
            (400..500).contains(&status),
            "{status} for {label}: {body:?}"
        );
        let line = body.trim();
        assert!(
            !line.is_empty() && !line.contains('\n') && !line.chars().any(char::is_control),
            "one clean line for {label}: {body:?}"
        );
        assert!(daemon.is_running(), "the daemon died on {label}");
    }

    // Still serving, and nothing lost.
    let (status, _, body) = http(port, &v2_request("torrents/info", &cookie, form, b""));
    assert_eq!(status, 200, "{body}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let mut listed: Vec<&str> = rows.iter().map(|r| r["hash"].as_str().unwrap()).collect();
    listed.sort_unstable();
    let mut expected: Vec<&str> = hashes.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    let (status, _, body) = http(port, &v2_request("torrents/categories", &cookie, form, b""));
    assert_eq!((status, body.as_str()), (200, "{}"), "no category was made");
}
