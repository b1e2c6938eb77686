//! Store damage and moving a session, with the real `trove` binary:
//! (a) `trove export` of a store the engine wrote, `trove import` into a fresh data dir, and
//!     the session comes back the same (roots, paused, limits, counters, selection);
//! (b) import refuses an unknown root token, a tampered .torrent, a newer export format and
//!     a conflict without --replace, each with one line, writing nothing;
//! (c) a truncated, garbage-filled, future-format store, or one with a record that does not
//!     decode, is refused by every command that opens it with one line saying what is wrong
//!     and how to recover, and its files are byte-for-byte unchanged; export salvages what
//!     is readable.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use trove_testkit::{MadeTorrent, Peer, TroveEnv};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn elapsed(what: &str, t0: Instant) {
    eprintln!("{what}: {:.2} s", t0.elapsed().as_secs_f64());
}

/// Every file under `dir` with its bytes (stores here are well under a megabyte).
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

fn assert_same_files(before: &BTreeMap<PathBuf, Vec<u8>>, dir: &Path, what: &str) {
    let after = files_under(dir);
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(before),
        names(&after),
        "{what}: the store's files changed"
    );
    for (k, v) in before {
        assert!(
            after[k] == *v,
            "{what}: {} changed ({} -> {} bytes)",
            k.display(),
            v.len(),
            after[k].len()
        );
    }
}

/// The one line a failing command printed; asserts a non-zero exit, exactly one line on
/// stderr starting `trove: `, no panic text and nothing on stdout.
fn one_error_line(out: &Output, what: &str) -> String {
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "{what}: expected a failure, got {}\n{err}",
        out.status
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{what}: panic text on stderr:\n{err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one line on stderr, got:\n{err}"
    );
    assert!(lines[0].starts_with("trove: "), "{what}: {err}");
    assert!(
        out.stdout.is_empty(),
        "{what}: printed on stdout: {}",
        text(&out.stdout)
    );
    lines[0].to_string()
}

fn assert_names(line: &str, words: &[&str], what: &str) {
    for w in words {
        assert!(
            line.contains(w),
            "{what}: the error does not say {w:?}: {line}"
        );
    }
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("trove-store-damage")
        .tempdir()
        .unwrap()
}

fn make(peer: &Peer, dir: &Path, name: &str, files: &[(&str, u64)]) -> MadeTorrent {
    peer.make_torrent(dir, name, files, 32 * 1024)
}

fn multi_files() -> Vec<(&'static str, u64)> {
    vec![
        ("disc 1/ünïcode.bin", 150_000),
        ("disc 1/deep/notes.txt", 12_345),
        ("empty.nfo", 0),
        ("cover.jpg", 70_001),
    ]
}

/// The `list --json` entries by info-hash, without `save_path` (where a root lives differs
/// between machines; its token and label are compared).
fn list_by_hash(env: &TroveEnv) -> BTreeMap<String, Value> {
    env.list_json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let mut t = t.clone();
            // Facts of this machine's disk, not of the session.
            t.as_object_mut().unwrap().remove("save_path");
            t.as_object_mut().unwrap().remove("data_missing");
            (t["info_hash"].as_str().unwrap().to_string(), t)
        })
        .collect()
}

fn export_to(env: &TroveEnv, file: &Path) -> Value {
    let out = env.run_ok(&[std::ffi::OsStr::new("export"), file.as_os_str()]);
    assert!(out.contains("exported"), "{out}");
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

/// Runs `trove <args>` with `input` on stdin.
fn run_with_stdin(env: &TroveEnv, args: &[&str], input: &[u8]) -> Output {
    let mut child = env
        .cmd()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("trove {args:?} did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------
// (a) export, import into a fresh data dir
// ---------------------------------------------------------------------------------------

#[test]
fn export_then_import_into_a_fresh_data_dir_brings_the_session_back() {
    let t0 = Instant::now();
    let peer = Peer::start();
    let payload = scratch();
    let t1 = make(
        &peer,
        payload.path(),
        "single.bin",
        &[("single.bin", 300_000)],
    );
    let t2 = make(&peer, payload.path(), "multi", &multi_files());
    peer.seed(&t1);

    let env = TroveEnv::new(TROVE, &["movies", "isos"]);
    let peer_addr = peer.addr();
    let t1_path = t1.torrent_path.to_string_lossy().into_owned();
    let t2_path = t2.torrent_path.to_string_lossy().into_owned();
    env.add(&[
        t1_path.as_str(),
        "--root",
        "movies",
        "--peer",
        peer_addr.as_str(),
        "--upload-limit",
        "1MiB",
        "--peer-limit",
        "7",
    ]);
    env.add(&[
        t2_path.as_str(),
        "--root",
        "isos",
        "--paused",
        "--only-files",
        "0,3",
        "--download-limit",
        "2MiB",
    ]);
    // The engine downloads t1 and writes its counters, completion time and peers.
    let mut d = env.spawn_daemon(&["--exit-when-complete"]);
    let st = d.wait_exit(Duration::from_secs(120));
    assert!(st.success(), "daemon exited {st}:\n{}", d.stderr());
    drop(d);
    let before = list_by_hash(&env);
    let t1_entry = &before[&t1.info_hash];
    assert!(
        t1_entry["downloaded_total"].as_u64().unwrap() >= t1.total_size,
        "{t1_entry}"
    );
    assert!(t1_entry["completed_at"].is_i64(), "{t1_entry}");
    elapsed("session with a completed torrent", t0);

    let exports = scratch();
    let file = exports.path().join("session.json");
    let exported = export_to(&env, &file);
    assert_eq!(exported["trove_export"], 1);
    assert_eq!(exported["store_format"], 1);
    assert!(exported["exported_at"].is_string());
    assert_eq!(exported["roots"].as_array().unwrap().len(), 2);
    let torrents = exported["torrents"].as_array().unwrap();
    assert_eq!(torrents.len(), 2);
    for t in torrents {
        let bytes = B64.decode(t["torrent_file"].as_str().unwrap()).unwrap();
        let made = if t["info_hash"] == t1.info_hash.as_str() {
            &t1
        } else {
            &t2
        };
        assert_eq!(bytes, std::fs::read(&made.torrent_path).unwrap());
    }
    let t1_record = torrents
        .iter()
        .find(|t| t["info_hash"] == t1.info_hash.as_str())
        .unwrap();
    assert!(
        !t1_record["initial_peers"].as_array().unwrap().is_empty(),
        "{t1_record}"
    );
    // Export through stdout gives the same document.
    let out = env.run(&["export", "-"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut via_stdout: Value = serde_json::from_slice(&out.stdout).unwrap();
    via_stdout["exported_at"] = exported["exported_at"].clone();
    assert_eq!(via_stdout, exported);

    // Another machine: the same root labels, other folders, an empty data dir.
    let fresh = TroveEnv::new(TROVE, &["movies", "isos"]);
    assert!(!fresh.data_dir.join("store").exists());
    let out = fresh.run_ok(&[std::ffi::OsStr::new("import"), file.as_os_str()]);
    assert_eq!(
        out.lines().filter(|l| l.contains("imported")).count(),
        2,
        "{out}"
    );
    let after = list_by_hash(&fresh);
    assert_eq!(after, before, "the imported session differs");
    // Everything the store keeps, .torrent bytes and peers included, survives the trip.
    let again = export_to(&fresh, &exports.path().join("again.json"));
    assert_eq!(again["torrents"], exported["torrents"]);
    assert_eq!(again["settings"], exported["settings"]);

    // And through stdin, into a third data dir.
    let third = TroveEnv::new(TROVE, &["movies", "isos"]);
    let out = run_with_stdin(&third, &["import", "-"], &std::fs::read(&file).unwrap());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(list_by_hash(&third), before);
    elapsed("export, import, compare", t0);
}

// ---------------------------------------------------------------------------------------
// (b) bad exports are refused whole
// ---------------------------------------------------------------------------------------

/// Changes one byte of the torrent's name inside its info dictionary: still a valid
/// .torrent, but of another info-hash.
fn tamper(torrent: &[u8]) -> Vec<u8> {
    let mut b = torrent.to_vec();
    let at = b
        .windows(6)
        .position(|w| w == b"4:name")
        .expect("a name key");
    let colon = at + 6 + b[at + 6..].iter().position(|&c| c == b':').unwrap();
    b[colon + 1] ^= 0x01;
    b
}

#[test]
fn import_refuses_bad_exports_with_one_line_and_writes_nothing() {
    let t0 = Instant::now();
    let peer = Peer::start();
    let payload = scratch();
    let t1 = make(&peer, payload.path(), "one.bin", &[("one.bin", 100_000)]);
    let t2 = make(&peer, payload.path(), "two", &multi_files());
    let t3 = make(&peer, payload.path(), "three.bin", &[("three.bin", 5_000)]);

    let source = TroveEnv::new(TROVE, &["a", "b"]);
    let p = |t: &MadeTorrent| t.torrent_path.to_string_lossy().into_owned();
    source.add(&[p(&t1).as_str(), "--root", "a", "--paused"]);
    source.add(&[p(&t2).as_str(), "--root", "b", "--paused"]);
    let files = scratch();
    let good = files.path().join("good.json");
    let doc = export_to(&source, &good);

    // The target machine has roots `a` and `c` (no `b`), and already holds t1 and t3.
    let target = TroveEnv::new(TROVE, &["a", "c"]);
    target.add(&[p(&t1).as_str(), "--paused"]);
    target.add(&[p(&t3).as_str(), "--paused"]);
    let list_before = target.list_json();
    let store = target.data_dir.join("store");
    let write = |name: &str, v: &Value| {
        let f = files.path().join(name);
        std::fs::write(&f, serde_json::to_vec_pretty(v).unwrap()).unwrap();
        f
    };
    let refused = |file: &Path, extra: &[&str], words: &[&str], what: &str| {
        let before = files_under(&store);
        let mut args = vec![
            std::ffi::OsString::from("import"),
            file.as_os_str().to_owned(),
        ];
        args.extend(extra.iter().map(std::ffi::OsString::from));
        let out = target.run(&args);
        let line = one_error_line(&out, what);
        assert_eq!(out.status.code(), Some(1), "{what}");
        assert_names(&line, words, what);
        assert_same_files(&before, &store, what);
        eprintln!("{what}: {line}");
    };

    // 1. A root token the config here does not declare.
    refused(
        &good,
        &[],
        &[
            "'b'",
            "token",
            "[[roots]]",
            "--root",
            "nothing was imported",
        ],
        "unknown root",
    );
    // 2. A .torrent whose bytes no longer match its info-hash (t2 is fine: all or nothing).
    let mut tampered = doc.clone();
    for t in tampered["torrents"].as_array_mut().unwrap() {
        if t["info_hash"] == t1.info_hash.as_str() {
            let bytes = B64.decode(t["torrent_file"].as_str().unwrap()).unwrap();
            t["torrent_file"] = Value::from(B64.encode(tamper(&bytes)));
        }
    }
    let tampered = write("tampered.json", &tampered);
    refused(
        &tampered,
        &["--root", "a"],
        &[
            t1.info_hash.as_str(),
            "does not match",
            "nothing was imported",
        ],
        "tampered torrent",
    );
    // 3. An export from a newer trove.
    let mut future = doc.clone();
    future["trove_export"] = Value::from(2);
    let future = write("future.json", &future);
    refused(
        &future,
        &["--root", "a"],
        &["newer trove", "export format 2"],
        "future export",
    );
    // Not an export at all.
    let junk = write("junk.json", &Value::from("hello"));
    refused(&junk, &[], &["not a trove export"], "not an export");
    std::fs::write(files.path().join("broken.json"), b"{\"trove_export\": 1, ").unwrap();
    refused(
        &files.path().join("broken.json"),
        &[],
        &["not valid JSON"],
        "broken JSON",
    );
    // 4. A torrent already in the session, without --replace.
    refused(
        &good,
        &["--root", "a"],
        &[
            t1.info_hash.as_str(),
            "already in this session",
            "--replace",
        ],
        "conflict",
    );
    assert_eq!(
        target.list_json(),
        list_before,
        "a refused import changed the session"
    );

    // With --replace (and every torrent into root `c`) it goes through.
    let out = target.run_ok(&["import", good.to_str().unwrap(), "--replace", "--root", "c"]);
    assert!(
        out.contains(&format!("{}  replaced", t1.info_hash)),
        "{out}"
    );
    assert!(
        out.contains(&format!("{}  imported", t2.info_hash)),
        "{out}"
    );
    let after = list_by_hash(&target);
    assert_eq!(after.len(), 3);
    assert_eq!(after[&t1.info_hash]["root_token"], "c");
    assert_eq!(after[&t2.info_hash]["root_token"], "c");
    assert_eq!(after[&t3.info_hash]["root_token"], "a");
    elapsed("import refusals", t0);
}

// ---------------------------------------------------------------------------------------
// (c) damaged stores
// ---------------------------------------------------------------------------------------

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn junk(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect()
}

fn regular_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir).keys().map(|k| dir.join(k)).collect()
}

/// Truncates `db` to half of what it holds (sled pads its log with zeros; cutting only
/// padding is no damage).
fn truncate_log(store: &Path) {
    let db = store.join("db");
    let bytes = std::fs::read(&db).unwrap();
    let used = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
    std::fs::write(&db, &bytes[..used / 2]).unwrap();
}

fn truncate_every_file(store: &Path) {
    for f in regular_files(store) {
        let len = std::fs::metadata(&f).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&f)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
    }
}

fn garbage_log(store: &Path) {
    let db = store.join("db");
    let len = std::fs::metadata(&db).unwrap().len() as usize;
    std::fs::write(&db, junk(len, 7)).unwrap();
}

fn garbage_everywhere(store: &Path) {
    for (i, f) in regular_files(store).into_iter().enumerate() {
        let len = std::fs::metadata(&f).unwrap().len() as usize;
        std::fs::write(&f, junk(len, 100 + i as u32)).unwrap();
    }
}

#[test]
fn damaged_stores_are_refused_with_guidance_and_left_byte_for_byte() {
    let t0 = Instant::now();
    let peer = Peer::start();
    let payload = scratch();
    let t1 = make(
        &peer,
        payload.path(),
        "first.bin",
        &[("first.bin", 200_000)],
    );
    let t2 = make(&peer, payload.path(), "second", &multi_files());
    let t3 = make(&peer, payload.path(), "third.bin", &[("third.bin", 1000)]);
    drop(peer);
    let pristine = TroveEnv::new(TROVE, &["main"]);
    let p = |t: &MadeTorrent| t.torrent_path.to_string_lossy().into_owned();
    pristine.add(&[p(&t1).as_str(), "--paused"]);
    pristine.add(&[p(&t2).as_str(), "--paused", "--only-files", "1"]);
    pristine.run_ok(&["list"]);
    let pristine_store = pristine.data_dir.join("store");

    type Damage = fn(&Path);
    let set_future: Damage = |s| {
        trove_engine::store::testing::set_format_marker(s, trove_engine::store::STORE_FORMAT + 1)
            .unwrap()
    };
    let cases: Vec<(&str, Damage, Vec<&str>)> = vec![
        ("truncated log", truncate_log, vec!["is damaged"]),
        (
            "every file truncated",
            truncate_every_file,
            vec!["is damaged"],
        ),
        ("garbage log", garbage_log, vec!["is damaged"]),
        (
            "garbage in every file",
            garbage_everywhere,
            vec!["is damaged"],
        ),
        ("future format", set_future, vec!["newer trove", "format 2"]),
    ];
    let bad_record_hash = t1.info_hash.clone();
    for (what, damage, words) in cases {
        let env = TroveEnv::new(TROVE, &["main"]);
        let store = env.data_dir.join("store");
        copy_dir(&pristine_store, &store);
        damage(&store);
        let before = files_under(&store);
        let out = env.run(&["list"]);
        let line = one_error_line(&out, what);
        assert_names(&line, &words, what);
        assert_names(&line, &["trove export", "trove import", "move"], what);
        assert_names(&line.to_lowercase(), &["nothing in it was changed"], what);
        assert_same_files(&before, &store, what);
        eprintln!("{what}: {line}");
    }

    // A record that does not decode, checked through every command that opens the store.
    let env = TroveEnv::new(TROVE, &["main"]);
    let store = env.data_dir.join("store");
    copy_dir(&pristine_store, &store);
    trove_engine::store::testing::put_raw_record(&store, &bad_record_hash, b"{\"info_hash\": 12")
        .unwrap();
    let before = files_under(&store);
    let t3_path = p(&t3);
    let commands: Vec<Vec<&str>> = vec![
        vec!["list"],
        vec!["list", "--json"],
        vec!["add", t3_path.as_str()],
        vec!["pause", &bad_record_hash[..8]],
        vec!["daemon"],
        vec![], // the dashboard
    ];
    for args in &commands {
        let what = format!("bad record, trove {args:?}");
        let out = env.run(args);
        let line = one_error_line(&out, &what);
        assert_names(
            &line,
            &[
                &bad_record_hash,
                "not readable",
                "trove export",
                "trove import",
                "move",
            ],
            &what,
        );
        assert_same_files(&before, &store, &what);
    }
    // Export salvages the readable record, names the bad one, exits 2, changes nothing.
    let files = scratch();
    let salvaged = files.path().join("salvaged.json");
    let out = env.run(&[std::ffi::OsStr::new("export"), salvaged.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&bad_record_hash),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("panicked"));
    assert_same_files(&before, &store, "salvaging export");
    let doc: Value = serde_json::from_slice(&std::fs::read(&salvaged).unwrap()).unwrap();
    let kept: Vec<&str> = doc["torrents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["info_hash"].as_str().unwrap())
        .collect();
    assert_eq!(kept, vec![t2.info_hash.as_str()]);
    // The recovery the message describes: move the folder aside, import the export.
    std::fs::rename(&store, env.data_dir.join("store.damaged")).unwrap();
    let out = env.run_ok(&[std::ffi::OsStr::new("import"), salvaged.as_os_str()]);
    assert!(out.contains(&t2.info_hash), "{out}");
    let list = list_by_hash(&env);
    assert_eq!(list.len(), 1);
    assert_eq!(list[&t2.info_hash]["only_files"], serde_json::json!([1]));
    assert_eq!(list[&t2.info_hash]["paused"], true);
    elapsed("damaged stores", t0);
}

/// A damaged store stays refused on every try (a refusal must not "repair" it into
/// something that opens with data missing).
#[test]
fn a_damaged_store_is_refused_again_and_again() {
    let peer = Peer::start();
    let payload = scratch();
    let t1 = make(&peer, payload.path(), "a.bin", &[("a.bin", 50_000)]);
    let t2 = make(&peer, payload.path(), "b.bin", &[("b.bin", 60_000)]);
    drop(peer);
    let env = TroveEnv::new(TROVE, &["main"]);
    env.add(&[t1.torrent_path.to_str().unwrap(), "--paused"]);
    env.add(&[t2.torrent_path.to_str().unwrap(), "--paused"]);
    let store = env.data_dir.join("store");
    truncate_log(&store);
    let before = files_under(&store);
    for i in 0..3 {
        let out = env.run(&["list", "--json"]);
        one_error_line(&out, &format!("try {i}"));
        assert_same_files(&before, &store, &format!("try {i}"));
    }
}
