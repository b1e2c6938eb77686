//! The `trove` binary end to end: bad input refused with one clear line and the store left
//! alone, the offline store commands, the data-dir lock, the daemon (complete, restart,
//! seed), restart mid-download, one-shot `trove download`, and lifetime counters. Real
//! libtorrent peers on 127.0.0.1 only; DHT, LSD and UPnP off (see `TroveEnv`).
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use trove_testkit::{
    MadeTorrent, Peer, TroveEnv, fake_torrent, free_port, port_open, run_with_timeout,
    trees_identical, wait_until, write_fake,
};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

const MIB: u64 = 1 << 20;
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The single line a failing command printed on stderr; panics if there is not exactly one
/// or it does not start with `trove: `.
fn one_error_line(out: &Output) -> String {
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one line on stderr, got:\n{err}\n--- stdout ---\n{}",
        text(&out.stdout)
    );
    assert!(lines[0].starts_with("trove: "), "{err}");
    lines[0].to_string()
}

/// `trove list --json` as printed, for before/after comparisons.
fn list_raw(env: &TroveEnv) -> String {
    env.run_ok(&["list", "--json"])
}

fn hashes(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["info_hash"].as_str().unwrap().to_string())
        .collect()
}

/// Runs `trove <args>` expecting a failure with exit code `code` whose one stderr line
/// contains every word of `keywords`; asserts `trove list --json` is unchanged. Returns
/// the line.
fn assert_refused<S: AsRef<std::ffi::OsStr>>(
    env: &TroveEnv,
    args: &[S],
    keywords: &[&str],
) -> String {
    let before = list_raw(env);
    let out = env.run(args);
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        out.status.code(),
        Some(1),
        "trove {shown:?}: expected exit 1, got {}\n{}",
        out.status,
        text(&out.stderr)
    );
    let line = one_error_line(&out);
    for k in keywords {
        assert!(
            line.contains(k),
            "trove {shown:?}: error line does not name {k:?}: {line}"
        );
    }
    assert!(
        out.stdout.is_empty(),
        "trove {shown:?} printed on stdout: {}",
        text(&out.stdout)
    );
    assert_eq!(list_raw(env), before, "trove {shown:?} changed the store");
    line
}

/// An env with a root `main`, holding one fake torrent already, so "untouched" means
/// something. Returns the env, a scratch dir for input files, and the stored hash.
fn env_with_one_torrent() -> (TroveEnv, tempfile::TempDir, String) {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::Builder::new()
        .prefix("trove-cli-in")
        .tempdir()
        .unwrap();
    let existing = write_fake(scratch.path(), "already-here", 100_000);
    let added = env.add(&[&existing]);
    assert_eq!(added.len(), 1, "{added:?}");
    (env, scratch, added[0].clone())
}

fn entry<'a>(list: &'a Value, hash: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["info_hash"].as_str() == Some(hash))
        .unwrap_or_else(|| panic!("{hash} not in list: {list:#}"))
}

/// Runs `trove <args>` in `env` with `stdin_file` as its standard input.
fn run_with_stdin_file(env: &TroveEnv, stdin_file: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"f="$1"; shift; exec "$@" <"$f""#)
        .arg("sh")
        .arg(stdin_file)
        .arg(TROVE)
        .arg("--data-dir")
        .arg(&env.data_dir)
        .arg("--config")
        .arg(&env.config_path)
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .current_dir(env.path());
    run_with_timeout(&mut cmd, Duration::from_secs(60))
}

/// A seeder with `t` made and seeding (a multi-file layout with nesting and a zero-byte
/// file, or one file when `files` has one entry named like the torrent).
fn seeding(seeder: &Peer, dir: &Path, name: &str, files: &[(&str, u64)]) -> MadeTorrent {
    let t = seeder.make_torrent(dir, name, files, 64 * 1024);
    seeder.seed(&t);
    t
}

fn multi_files(main_size: u64) -> Vec<(&'static str, u64)> {
    vec![
        ("disc 1/ünïcode track.bin", main_size),
        ("disc 1/deep/notes.txt", 12_345),
        ("empty.nfo", 0),
        ("cover.jpg", 300_001),
    ]
}

/// Runs the daemon with `--exit-when-complete` until it exits; asserts exit 0.
fn daemon_until_complete(env: &TroveEnv) {
    let mut d = env.spawn_daemon(&["--exit-when-complete"]);
    let st = d.wait_exit(DOWNLOAD_TIMEOUT);
    assert!(
        st.success(),
        "trove daemon --exit-when-complete exited {st}; stderr:\n{}",
        d.stderr()
    );
}

fn elapsed(what: &str, t0: Instant) {
    eprintln!("{what}: {:.2} s", t0.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------------------
// 1. Bad input: one line naming the problem, non-zero exit, store untouched
// ---------------------------------------------------------------------------------------

#[test]
fn bad_input_malformed_torrent_is_refused() {
    let (env, scratch, _) = env_with_one_torrent();
    let garbage = scratch.path().join("garbage.torrent");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fs::write(&garbage, bytes).unwrap();
    let line = assert_refused(
        &env,
        &[OsString::from("add"), garbage.clone().into()],
        &["not a usable .torrent"],
    );
    assert!(line.contains("garbage.torrent"), "{line}");
    // Empty input is malformed too.
    let empty = scratch.path().join("empty.torrent");
    fs::write(&empty, b"").unwrap();
    assert_refused(
        &env,
        &[OsString::from("add"), empty.into()],
        &["empty.torrent", "empty"],
    );
    assert_eq!(hashes(&env.list_json()).len(), 1);
}

#[test]
fn bad_input_truncated_torrent_is_refused() {
    let (env, scratch, _) = env_with_one_torrent();
    let whole = fake_torrent("cut-short", 3 * MIB);
    let cut = scratch.path().join("cut.torrent");
    fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    assert_refused(
        &env,
        &[OsString::from("add"), cut.into()],
        &["cut.torrent", "not a usable .torrent"],
    );
    // The same bytes on stdin.
    let cut2 = scratch.path().join("cut2.torrent");
    fs::write(&cut2, &whole[..whole.len() - 1]).unwrap();
    let before = list_raw(&env);
    let out = run_with_stdin_file(&env, &cut2, &["add", "-"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let line = one_error_line(&out);
    assert!(line.contains("not a usable .torrent"), "{line}");
    assert_eq!(list_raw(&env), before);
    assert_eq!(hashes(&env.list_json()).len(), 1);
}

#[test]
fn bad_input_invalid_magnet_is_refused() {
    let (env, _scratch, _) = env_with_one_torrent();
    assert_refused(
        &env,
        &["add", "magnet:?xt=urn:btih:zz"],
        &["not a valid magnet", "btih:zz"],
    );
    assert_eq!(hashes(&env.list_json()).len(), 1);
}

#[test]
fn bad_input_missing_file_is_refused() {
    let (env, scratch, _) = env_with_one_torrent();
    let missing = scratch.path().join("no-such-file.torrent");
    assert_refused(
        &env,
        &[OsString::from("add"), missing.into()],
        &["no-such-file.torrent", "does not exist"],
    );
    assert_eq!(hashes(&env.list_json()).len(), 1);
}

#[test]
fn bad_input_unreachable_url_is_refused() {
    let (env, _scratch, _) = env_with_one_torrent();
    let port = free_port();
    assert!(!port_open(port));
    let url = format!("http://127.0.0.1:{port}/x.torrent");
    let t0 = Instant::now();
    assert_refused(&env, &["add", &url], &["could not fetch", &url]);
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "a refused connection took {:?}",
        t0.elapsed()
    );
    assert_eq!(hashes(&env.list_json()).len(), 1);
}

#[test]
fn bad_input_unknown_root_label_is_refused() {
    let (env, scratch, _) = env_with_one_torrent();
    let good = write_fake(scratch.path(), "good", 50_000);
    assert_refused(
        &env,
        &[
            OsString::from("add"),
            good.into(),
            "--root".into(),
            "nope".into(),
        ],
        &["no storage root 'nope'", "main"],
    );
    assert_eq!(hashes(&env.list_json()).len(), 1);
}

#[test]
fn bad_input_unknown_id_is_refused_by_pause_resume_remove() {
    let (env, _scratch, stored) = env_with_one_torrent();
    // A full info-hash and a prefix that match nothing stored.
    let other_digit = if stored.starts_with('0') { "1" } else { "0" };
    let unknown_full = format!("{other_digit}{}", &stored[1..]);
    for cmd in [
        &["pause"][..],
        &["resume"][..],
        &["remove"][..],
        &["remove", "--delete-data"][..],
    ] {
        for id in [unknown_full.as_str(), other_digit, ""] {
            let mut args: Vec<&str> = cmd.to_vec();
            args.push(id);
            assert_refused(&env, &args, &["no torrent matches", &format!("'{id}'")]);
        }
        // One unknown ID among known ones changes nothing either.
        let mut args: Vec<&str> = cmd.to_vec();
        args.extend([stored.as_str(), unknown_full.as_str()]);
        assert_refused(&env, &args, &["no torrent matches", &unknown_full]);
    }
    let list = env.list_json();
    assert_eq!(hashes(&list), vec![stored.clone()]);
    assert_eq!(entry(&list, &stored)["paused"], Value::Bool(false));
}

#[test]
fn bad_input_ambiguous_id_prefix_is_refused() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    // 17 torrents: two of them must share a first hex digit.
    let files: Vec<PathBuf> = (0..17)
        .map(|i| write_fake(scratch.path(), &format!("t{i}"), 1000 + i))
        .collect();
    let added = env.add(&files);
    assert_eq!(added.len(), 17, "{added:?}");
    let (a, b) = added
        .iter()
        .enumerate()
        .find_map(|(i, a)| {
            added[i + 1..]
                .iter()
                .find(|b| b.as_bytes()[0] == a.as_bytes()[0])
                .map(|b| (a.clone(), b.clone()))
        })
        .expect("pigeonhole");
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let prefix = &a[..common];
    let count = added.iter().filter(|h| h.starts_with(prefix)).count();
    for cmd in ["pause", "resume", "remove"] {
        assert_refused(
            &env,
            &[cmd, prefix],
            &[&format!("'{prefix}'"), &format!("matches {count} torrents")],
        );
    }
    // One more character makes it unique and it works.
    let longer = &a[..common + 1];
    let out = env.run_ok(&["pause", longer]);
    assert!(out.contains(&a), "{out}");
    let list = env.list_json();
    assert_eq!(entry(&list, &a)["state"], "paused");
    assert_eq!(entry(&list, &b)["state"], "queued");
}

#[test]
fn bad_input_only_files_out_of_range_is_refused() {
    let (env, _scratch, _) = env_with_one_torrent();
    let payload = tempfile::tempdir().unwrap();
    let peer = Peer::start();
    let t = peer.make_torrent(
        payload.path(),
        "three",
        &[("a", 10), ("b", 20), ("c", 30)],
        16384,
    );
    assert_refused(
        &env,
        &[
            OsString::from("add"),
            t.torrent_path.clone().into(),
            "--only-files".into(),
            "0,3".into(),
        ],
        &["file index 3", "3 files"],
    );
    // In range it is accepted.
    let added = env.add(&[
        OsString::from(&t.torrent_path),
        "--only-files".into(),
        "0,2".into(),
    ]);
    assert_eq!(added, vec![t.info_hash.clone()]);
    let list = env.list_json();
    assert_eq!(
        entry(&list, &t.info_hash)["only_files"],
        serde_json::json!([0, 2])
    );
}

#[test]
fn bad_input_bad_rate_is_a_usage_error() {
    let (env, scratch, _) = env_with_one_torrent();
    let good = write_fake(scratch.path(), "good", 50_000);
    let before = list_raw(&env);
    let out = env.run(&[
        OsString::from("add"),
        good.into(),
        "--download-limit".into(),
        "fast".into(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let first = err.lines().next().unwrap_or("");
    assert!(
        first.contains("'fast'")
            && first.contains("--download-limit")
            && first.contains("not a rate"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(list_raw(&env), before);
    // Session-wide too.
    let out = env.run(&["daemon", "--upload-limit", "fast"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("'fast'"));
    assert_eq!(list_raw(&env), before);
}

#[test]
fn bad_input_config_with_unknown_field_is_refused() {
    let (env, scratch, _) = env_with_one_torrent();
    let good = write_fake(scratch.path(), "good", 50_000);
    let bad_cfg = scratch.path().join("bad config.toml");
    fs::write(
        &bad_cfg,
        format!("colour = \"blue\"\n{}", env.config_text("")),
    )
    .unwrap();
    let before = list_raw(&env);
    for args in [&["list"][..], &["add", good.to_str().unwrap()][..]] {
        // `env.cmd()` already passes --config: build this command line by hand.
        let mut cmd = Command::new(TROVE);
        cmd.arg("--data-dir")
            .arg(&env.data_dir)
            .arg("--config")
            .arg(&bad_cfg)
            .args(args)
            .env("NO_COLOR", "1");
        let out = run_with_timeout(&mut cmd, Duration::from_secs(60));
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let line = one_error_line(&out);
        assert!(
            line.contains(&bad_cfg.display().to_string())
                && line.contains("unknown field `colour`"),
            "{line}"
        );
        assert!(line.contains("line 1"), "{line}");
    }
    assert_eq!(list_raw(&env), before);
    assert_eq!(hashes(&env.list_json()).len(), 1);
}

#[test]
fn bad_input_mix_of_good_and_bad_sources_adds_nothing() {
    let (env, scratch, stored) = env_with_one_torrent();
    let good = write_fake(scratch.path(), "good", 50_000);
    let good2 = write_fake(scratch.path(), "good2", 70_000);
    let bad = scratch.path().join("bad.torrent");
    fs::write(&bad, b"d4:infoi3ee").unwrap();
    let a = |p: &Path| OsString::from(p);
    assert_refused(&env, &["add".into(), a(&good), a(&bad)], &["bad.torrent"]);
    assert_refused(
        &env,
        &[
            "add".into(),
            a(&good),
            a(&good2),
            "magnet:?xt=urn:btih:zz".into(),
        ],
        &["not a valid magnet"],
    );
    assert_refused(
        &env,
        &[
            "add".into(),
            a(&good),
            a(&scratch.path().join("missing.torrent")),
        ],
        &["missing.torrent", "does not exist"],
    );
    assert_eq!(hashes(&env.list_json()), vec![stored]);
    // The good ones alone are accepted: it was the bad one that stopped them.
    let added = env.add(&[a(&good), a(&good2)]);
    assert_eq!(added.len(), 2);
    assert_eq!(hashes(&env.list_json()).len(), 3);
}

// ---------------------------------------------------------------------------------------
// 2. Offline store commands
// ---------------------------------------------------------------------------------------

#[test]
fn add_prints_info_hash_from_file_stdin_and_magnet_and_list_shows_them() {
    let env = TroveEnv::new(TROVE, &["main", "second"]);
    let payload = tempfile::tempdir().unwrap();
    let peer = Peer::start();
    let from_file = peer.make_torrent(payload.path(), "from file", &multi_files(200_000), 32768);
    let from_stdin = peer.make_torrent(
        payload.path(),
        "stdin.bin",
        &[("stdin.bin", 123_456)],
        16384,
    );
    let from_magnet = peer.make_torrent(payload.path(), "by magnet", &[("by magnet", 99)], 16384);

    assert_eq!(
        env.add(&[&from_file.torrent_path]),
        vec![from_file.info_hash.clone()]
    );
    let out = run_with_stdin_file(
        &env,
        &from_stdin.torrent_path,
        &["add", "-", "--root", "second"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), from_stdin.info_hash);
    assert_eq!(
        env.add(&[from_magnet.magnet.as_str(), "--paused"]),
        vec![from_magnet.info_hash.clone()]
    );

    let list = env.list_json();
    assert_eq!(list.as_array().unwrap().len(), 3, "{list:#}");
    let f = entry(&list, &from_file.info_hash);
    assert_eq!(f["name"], "from file");
    assert_eq!(f["root_label"], "main");
    assert_eq!(f["state"], "queued");
    assert_eq!(f["size"], from_file.total_size);
    assert_eq!(f["paused"], false);
    let s = entry(&list, &from_stdin.info_hash);
    assert_eq!(s["root_label"], "second");
    assert_eq!(s["state"], "queued");
    assert_eq!(s["size"], 123_456);
    let m = entry(&list, &from_magnet.info_hash);
    assert_eq!(m["root_label"], "main");
    assert_eq!(m["state"], "paused");
    // Its size is not known before the metadata is.
    assert_eq!(m["size"], 0);

    // Adding again is not an error and prints the same hash.
    assert_eq!(
        env.add(&[&from_file.torrent_path]),
        vec![from_file.info_hash.clone()]
    );
    assert_eq!(env.list_json().as_array().unwrap().len(), 3);
}

#[test]
fn list_table_shows_names() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let out = env.run_ok(&["list"]);
    assert!(out.contains("no torrents"), "{out}");
    let a = env.add(&[write_fake(scratch.path(), "Ωmega ünïcode name", 4096)]);
    let b = env.add(&[write_fake(scratch.path(), "plain-name", 8192)]);
    let out = env.run_ok(&["list"]);
    assert!(out.contains("NAME") && out.contains("STATE"), "{out}");
    for (hash, name) in [(&a[0], "Ωmega ünïcode name"), (&b[0], "plain-name")] {
        let row = out
            .lines()
            .find(|l| l.starts_with(hash.as_str()))
            .unwrap_or_else(|| panic!("no row for {hash}:\n{out}"));
        assert!(row.ends_with(name), "{row}");
        assert!(row.contains("queued") && row.contains("main"), "{row}");
    }
}

#[test]
fn pause_then_list_says_paused_and_resume_undoes_it() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let a = env
        .add(&[write_fake(scratch.path(), "alpha", 4096)])
        .remove(0);
    let b = env
        .add(&[write_fake(scratch.path(), "beta", 4096)])
        .remove(0);

    // By a unique prefix, in upper case.
    let prefix = a[..10].to_uppercase();
    let out = env.run_ok(&["pause", &prefix]);
    assert!(out.contains(&a) && out.contains("paused"), "{out}");
    let list = env.list_json();
    assert_eq!(entry(&list, &a)["state"], "paused");
    assert_eq!(entry(&list, &a)["paused"], true);
    assert_eq!(entry(&list, &b)["state"], "queued");
    let table = env.run_ok(&["list"]);
    let row = table.lines().find(|l| l.starts_with(&a)).unwrap();
    assert!(row.contains("paused"), "{row}");

    let out = env.run_ok(&["resume", &a]);
    assert!(out.contains(&a) && out.contains("resumed"), "{out}");
    let list = env.list_json();
    assert_eq!(entry(&list, &a)["paused"], false);
    assert_ne!(entry(&list, &a)["state"], "paused");
    assert_eq!(entry(&list, &b)["paused"], false);
}

#[test]
fn remove_keeps_data_and_delete_data_removes_only_the_torrents_files() {
    let t0 = Instant::now();
    let env = TroveEnv::new(TROVE, &["main"]);
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let keep = seeding(&seeder, payload.path(), "keep me", &multi_files(MIB));
    let gone = seeding(&seeder, payload.path(), "delete me", &multi_files(MIB + 7));
    let single = seeding(
        &seeder,
        payload.path(),
        "single.bin",
        &[("single.bin", MIB + 3)],
    );
    for t in [&keep, &gone, &single] {
        env.add(&[
            OsString::from(&t.torrent_path),
            "--peer".into(),
            seeder.addr().into(),
        ]);
    }
    daemon_until_complete(&env);
    let root = env.root_path("main");
    for t in [&keep, &gone, &single] {
        trees_identical(&t.content_path(), &root.join(&t.name)).unwrap();
    }
    // Things the user put there that no torrent wrote.
    fs::write(root.join("user file.txt"), b"mine").unwrap();
    fs::write(root.join("delete me/user notes.txt"), b"also mine").unwrap();

    let out = env.run_ok(&["remove", &keep.info_hash]);
    assert!(
        out.contains(&keep.info_hash) && out.contains("removed"),
        "{out}"
    );
    trees_identical(&keep.content_path(), &root.join("keep me")).unwrap();

    let out = env.run_ok(&[
        "remove",
        "--delete-data",
        &gone.info_hash,
        &single.info_hash,
    ]);
    assert!(out.contains("removed with data"), "{out}");
    for (rel, _) in &gone.files {
        let p = root.join("delete me").join(rel);
        assert!(!p.exists(), "{} still exists", p.display());
    }
    assert!(
        !root.join("delete me/disc 1").exists(),
        "emptied folders stay"
    );
    assert_eq!(
        fs::read(root.join("delete me/user notes.txt")).unwrap(),
        b"also mine"
    );
    assert!(!root.join("single.bin").exists());
    assert!(root.is_dir(), "the root folder was deleted");
    assert_eq!(fs::read(root.join("user file.txt")).unwrap(), b"mine");
    trees_identical(&keep.content_path(), &root.join("keep me")).unwrap();
    assert!(env.list_json().as_array().unwrap().is_empty());
    elapsed(
        "remove_keeps_data_and_delete_data_removes_only_the_torrents_files",
        t0,
    );
}

// ---------------------------------------------------------------------------------------
// 3. The data-dir lock
// ---------------------------------------------------------------------------------------

#[test]
fn commands_go_through_a_running_daemon_and_only_a_second_daemon_is_refused() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", Duration::from_secs(30));
    // The data dir is the daemon's: commands reach it through its socket instead of
    // being refused.
    assert_eq!(
        serde_json::from_str::<Value>(&env.run_ok(&["list", "--json"])).unwrap(),
        serde_json::json!([])
    );
    let hash = "0123456789abcdef0123456789abcdef01234567";
    assert_eq!(env.add(&[format!("magnet:?xt=urn:btih:{hash}")]), [hash]);
    assert!(env.torrent_json(hash).is_some(), "the daemon has it");
    // A daemon on the same data dir is refused, without disturbing the first.
    let mut second = env.spawn_daemon::<&str>(&[]);
    let st = second.wait_exit(Duration::from_secs(30));
    assert_eq!(st.code(), Some(1));
    let err = second.stderr();
    assert!(err.contains("in use by another trove"), "{err}");
    assert!(err.contains(&format!("pid {}", d.pid())), "{err}");
    assert!(d.is_running());

    let st = d.terminate_and_wait();
    assert!(
        st.success(),
        "daemon exited {st} on SIGTERM:\n{}",
        d.stderr()
    );
    // What was added through the daemon is in the saved session.
    let saved = env.list_json();
    assert_eq!(saved.as_array().map(Vec::len), Some(1), "{saved}");
    assert_eq!(saved[0]["info_hash"], hash);
}

// ---------------------------------------------------------------------------------------
// 4. Daemon: complete, exit, restart seeding
// ---------------------------------------------------------------------------------------

#[test]
fn daemon_exit_when_complete_then_restart_seeds_to_a_fresh_libtorrent_leecher() {
    let t0 = Instant::now();
    let env = TroveEnv::new(TROVE, &["main"]);
    let payload = tempfile::tempdir().unwrap();
    let t = {
        let seeder = Peer::start();
        let t = seeding(&seeder, payload.path(), "Seed Ålbum", &multi_files(6 * MIB));
        let added = env.add(&[
            OsString::from(&t.torrent_path),
            "--peer".into(),
            seeder.addr().into(),
        ]);
        assert_eq!(added, vec![t.info_hash.clone()]);
        daemon_until_complete(&env);
        t
    };
    // The seeder is gone: from here on trove is the only source.
    let root = env.root_path("main");
    trees_identical(&t.content_path(), &root.join(&t.name)).unwrap();
    let done = env.torrent_json(&t.info_hash).unwrap();
    assert_eq!(done["state"], "seeding", "{done:#}");
    assert_eq!(done["progress"], 1.0);

    // Restart and serve a fresh libtorrent leecher from trove alone.
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", Duration::from_secs(30));
    let leecher = Peer::start();
    let dst = tempfile::tempdir().unwrap();
    leecher.leech(&t.torrent_path, dst.path());
    let mut last_dial: Option<Instant> = None;
    wait_until(
        "the libtorrent leecher to complete from trove",
        DOWNLOAD_TIMEOUT,
        || {
            assert!(d.is_running(), "daemon exited:\n{}", d.stderr());
            let st = leecher.status(&t.info_hash);
            if st.is_seeding {
                return Some(());
            }
            // trove may still be bringing the torrent back: dial again until connected.
            if st.num_peers == 0 && last_dial.is_none_or(|at| at.elapsed() > Duration::from_secs(2))
            {
                leecher.connect(&t.info_hash, env.listen_port);
                last_dial = Some(Instant::now());
            }
            None
        },
    );
    trees_identical(&t.content_path(), &dst.path().join(&t.name)).unwrap();
    let st = d.terminate_and_wait();
    assert!(st.success(), "{st}:\n{}", d.stderr());

    let after = env.torrent_json(&t.info_hash).unwrap();
    assert_eq!(after["state"], "seeding", "{after:#}");
    assert_eq!(after["progress"], 1.0);
    assert!(
        after["uploaded_total"].as_u64().unwrap() >= t.total_size,
        "trove sent the leecher the torrent but counts: {after:#}"
    );
    elapsed(
        "daemon_exit_when_complete_then_restart_seeds_to_a_fresh_libtorrent_leecher",
        t0,
    );
}

// ---------------------------------------------------------------------------------------
// 5. Restart mid-download
// ---------------------------------------------------------------------------------------

#[test]
fn daemon_restart_mid_download_completes_without_downloading_again() {
    let t0 = Instant::now();
    let env = TroveEnv::new(TROVE, &["main"]);
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let size = 24 * MIB;
    let t = seeder.make_torrent(payload.path(), "big.bin", &[("big.bin", size)], 64 * 1024);
    // ~10 s for the whole torrent.
    seeder.seed_with_limit(&t, size / 10);
    env.add(&[
        OsString::from(&t.torrent_path),
        "--peer".into(),
        seeder.addr().into(),
    ]);

    let mut d = env.spawn_daemon::<&str>(&[]);
    let sent_before = wait_until(
        "the seeder to send half the torrent",
        DOWNLOAD_TIMEOUT,
        || {
            assert!(d.is_running(), "daemon exited:\n{}", d.stderr());
            let up = seeder.status(&t.info_hash).total_payload_upload;
            (up >= size / 2).then_some(up)
        },
    );
    let st = d.terminate_and_wait();
    assert!(st.success(), "{st}:\n{}", d.stderr());
    let sent_at_stop = seeder.status(&t.info_hash).total_payload_upload;
    assert!(
        sent_at_stop < size * 9 / 10,
        "stopped too late to test a resume: {sent_at_stop} of {size} sent"
    );
    let mid = env.torrent_json(&t.info_hash).unwrap();
    let have = mid["have_bytes"].as_u64().unwrap();
    assert!(
        have >= size / 3 && have < size,
        "after the stop the store says {have} of {size} bytes: {mid:#}"
    );

    daemon_until_complete(&env);
    trees_identical(&t.content_path(), &env.root_path("main").join("big.bin")).unwrap();
    let sent = seeder.status(&t.info_hash).total_payload_upload;
    eprintln!(
        "seeder sent {sent_before} by the first check, {sent_at_stop} at the stop, {sent} in all ({:.3} x size)",
        sent as f64 / size as f64
    );
    assert!(
        sent as f64 <= 1.15 * size as f64,
        "the seeder sent {sent} bytes for a {size}-byte torrent: data was downloaded again"
    );
    let done = env.torrent_json(&t.info_hash).unwrap();
    assert_eq!(done["state"], "seeding");
    elapsed(
        "daemon_restart_mid_download_completes_without_downloading_again",
        t0,
    );
}

// ---------------------------------------------------------------------------------------
// 6. One-shot download
// ---------------------------------------------------------------------------------------

#[test]
fn download_one_shot_writes_output_and_creates_no_data_dir() {
    let t0 = Instant::now();
    let env = TroveEnv::new(TROVE, &["main"]);
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let multi = seeding(&seeder, payload.path(), "One Shot ü", &multi_files(3 * MIB));
    let single = seeding(
        &seeder,
        payload.path(),
        "one.bin",
        &[("one.bin", 2 * MIB + 1)],
    );

    let no_data_dir = env.path().join("never-created");
    let xdg = env.path().join("xdg");
    let output = env.path().join("out/nested");
    let mut cmd = Command::new(TROVE);
    cmd.arg("--data-dir")
        .arg(&no_data_dir)
        .arg("--config")
        .arg(&env.config_path)
        .arg("download")
        .arg(&multi.torrent_path)
        .arg(&single.magnet)
        .arg("--output")
        .arg(&output)
        .arg("--peer")
        .arg(seeder.addr())
        .env_remove("TROVE_DATA_DIR")
        .env_remove("TROVE_CONFIG")
        .env("HOME", xdg.join("home"))
        .env("XDG_DATA_HOME", xdg.join("data"))
        .env("XDG_STATE_HOME", xdg.join("state"))
        .env("XDG_CONFIG_HOME", xdg.join("config"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .current_dir(env.path());
    let out = run_with_timeout(&mut cmd, DOWNLOAD_TIMEOUT);
    assert!(
        out.status.success(),
        "trove download exited {}\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&multi.info_hash) && stdout.contains(&single.info_hash),
        "{stdout}"
    );
    trees_identical(&multi.content_path(), &output.join(&multi.name)).unwrap();
    trees_identical(&single.content_path(), &output.join("one.bin")).unwrap();

    assert!(
        !no_data_dir.exists(),
        "trove download created the data dir {}: {:?}",
        no_data_dir.display(),
        fs::read_dir(&no_data_dir).map(|r| r.flatten().map(|e| e.path()).collect::<Vec<_>>())
    );
    assert!(
        !xdg.join("data/trove").exists(),
        "the XDG data dir was created"
    );
    // The env's own data dir (created empty by TroveEnv) is untouched as well.
    assert_eq!(fs::read_dir(&env.data_dir).unwrap().count(), 0);
    assert_eq!(fs::read_dir(env.root_path("main")).unwrap().count(), 0);
    elapsed(
        "download_one_shot_writes_output_and_creates_no_data_dir",
        t0,
    );
}

// ---------------------------------------------------------------------------------------
// 7. Lifetime counters
// ---------------------------------------------------------------------------------------

#[test]
fn list_json_lifetime_download_counter_survives_a_restart() {
    let t0 = Instant::now();
    let env = TroveEnv::new(TROVE, &["main"]);
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let t = seeding(&seeder, payload.path(), "counted", &multi_files(4 * MIB));
    env.add(&[
        OsString::from(&t.torrent_path),
        "--peer".into(),
        seeder.addr().into(),
    ]);
    let fresh = env.torrent_json(&t.info_hash).unwrap();
    assert_eq!(fresh["downloaded_total"], 0);

    daemon_until_complete(&env);
    let first = env.torrent_json(&t.info_hash).unwrap();
    let down1 = first["downloaded_total"].as_u64().unwrap();
    assert!(
        down1 >= t.total_size,
        "downloaded_total {down1} < size {}: {first:#}",
        t.total_size
    );
    assert!(first["completed_at"].as_i64().is_some(), "{first:#}");

    // Restart: it is complete, so the daemon comes back seeding and exits at once.
    daemon_until_complete(&env);
    let second = env.torrent_json(&t.info_hash).unwrap();
    let down2 = second["downloaded_total"].as_u64().unwrap();
    assert!(
        down2 >= down1,
        "downloaded_total went from {down1} to {down2} over a restart: {second:#}"
    );
    assert_eq!(second["state"], "seeding");
    assert_eq!(second["completed_at"], first["completed_at"]);
    assert_eq!(second["added_at"], first["added_at"]);
    elapsed("list_json_lifetime_download_counter_survives_a_restart", t0);
}

// ---------------------------------------------------------------------------------------
// Changing a saved torrent, closed pipes, no terminal
// ---------------------------------------------------------------------------------------

/// Runs `trove <args>` with its stdout a pipe whose reading end is already closed.
fn run_into_closed_pipe(env: &TroveEnv, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    // Not `run_with_timeout`: it would give the child a pipe of its own. An offline
    // command that hung here would hang the test; none waits on anything.
    env.cmd()
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_ends_list_quietly() {
    let (env, _scratch, _hash) = env_with_one_torrent();
    for args in [&["list"][..], &["list", "--json"], &["magnet", &_hash]] {
        let out = run_into_closed_pipe(&env, args);
        let err = text(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(
            out.status.code(),
            Some(141),
            "{args:?}: {}\n{err}",
            out.status
        );
    }
}

#[test]
fn the_dashboard_without_a_terminal_says_what_to_run() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let mut cmd = env.cmd();
    cmd.stdin(std::process::Stdio::null());
    let out = run_with_timeout(&mut cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1));
    let line = one_error_line(&out);
    assert!(
        line.contains("needs a terminal") && line.contains("trove daemon"),
        "{line}"
    );
}

#[test]
fn select_limit_trackers_magnet_and_recheck_change_a_saved_torrent() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let h = env
        .add(&[write_fake(scratch.path(), "edit me", 100_000)])
        .remove(0);

    // Limits: each given one is set, the others kept, 0 removes one.
    let out = env.run_ok(&[
        "limit",
        &h[..8],
        "--download-limit",
        "1MiB",
        "--peer-limit",
        "7",
    ]);
    assert!(out.contains(&h) && out.contains("down 1.0 MiB/s"), "{out}");
    env.run_ok(&["limit", &h, "--upload-limit", "2KiB", "--peer-limit", "0"]);
    let l = entry(&env.list_json(), &h)["limits"].clone();
    assert_eq!(l["download_bps"], 1 << 20);
    assert_eq!(l["upload_bps"], 2048);
    assert_eq!(l["peers"], Value::Null);
    let out = env.run_ok(&["limit", "--session", "--upload-limit", "500KiB"]);
    assert!(
        out.contains("session limits: down none, up 500.0 KiB/s"),
        "{out}"
    );

    // Selection: a one-file torrent has file 0 only.
    assert_refused(&env, &["select", &h, "5"], &["file index 5", "0 to 0"]);
    env.run_ok(&["select", &h, "0"]);
    env.run_ok(&["select", &h, "all"]);
    assert_eq!(entry(&env.list_json(), &h)["only_files"], Value::Null);

    // Trackers.
    let out = env.run_ok(&["trackers", &h]);
    assert!(out.contains("no trackers"), "{out}");
    env.run_ok(&[
        "trackers",
        &h,
        "--add",
        "http://127.0.0.1:1/announce",
        "--add",
        "udp://127.0.0.1:2",
    ]);
    let out = env.run_ok(&["trackers", &h, "--remove", "udp://127.0.0.1:2"]);
    assert!(
        out.contains("http://127.0.0.1:1/announce") && !out.contains("udp://"),
        "{out}"
    );
    assert_refused(
        &env,
        &["trackers", &h, "--add", "not a url"],
        &["not a tracker URL"],
    );

    let out = env.run_ok(&["magnet", &h]);
    assert_eq!(
        out.trim(),
        format!("magnet:?xt=urn:btih:{h}&dn=edit%20me&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce")
    );
    let out = env.run_ok(&["recheck", &h]);
    assert!(out.contains(&h) && out.contains("checked"), "{out}");
}

#[test]
fn adding_a_torrent_again_says_which_options_were_ignored() {
    let env = TroveEnv::new(TROVE, &["main", "other"]);
    let scratch = tempfile::tempdir().unwrap();
    let file = write_fake(scratch.path(), "twice", 4096);
    let h = env.add(&[&file]).remove(0);
    let out = env.run(&[
        OsString::from("add"),
        file.clone().into(),
        "--root".into(),
        "other".into(),
        "--paused".into(),
        "--upload-limit".into(),
        "1KiB".into(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("already in the session"), "{err}");
    assert!(
        err.contains("--root ignored") && err.contains("not possible yet"),
        "{err}"
    );
    assert!(err.contains(&format!("trove pause {}", &h[..8])), "{err}");
    assert!(err.contains("trove limit"), "{err}");
    assert_eq!(entry(&env.list_json(), &h)["root_label"], "main");
}

/// After a download: `trove list` (no session running) shows it stopped, sizes in one
/// format, and notices the data deleted behind its back; the daemon said what it did.
#[test]
fn list_after_a_download_shows_stopped_and_notices_deleted_data() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let t = seeding(
        &seeder,
        payload.path(),
        "listed.bin",
        &[("listed.bin", MIB)],
    );
    env.add(&[
        OsString::from(&t.torrent_path),
        "--peer".into(),
        seeder.addr().into(),
    ]);
    let mut d = env.spawn_daemon(&["--exit-when-complete"]);
    assert!(d.wait_exit(DOWNLOAD_TIMEOUT).success(), "{}", d.stderr());
    let log = d.stderr();
    assert!(log.contains("completed listed.bin"), "{log}");

    let table = env.run_ok(&["list"]);
    let row = table.lines().find(|l| l.starts_with(&t.info_hash)).unwrap();
    assert!(row.contains("stopped") && row.contains("100.0%"), "{row}");
    assert!(row.contains("1.0 MiB"), "{row}");
    let e = entry(&env.list_json(), &t.info_hash).clone();
    assert_eq!(e["state"], "seeding", "--json keeps the last state");
    assert_eq!(e["running"], false);
    assert_eq!(e["data_missing"], false);

    fs::remove_file(env.root_path("main").join("listed.bin")).unwrap();
    let table = env.run_ok(&["list"]);
    let row = table.lines().find(|l| l.starts_with(&t.info_hash)).unwrap();
    assert!(!row.contains("100.0%") && row.contains('?'), "{row}");
    assert!(table.contains("missing"), "{table}");
    assert_eq!(entry(&env.list_json(), &t.info_hash)["data_missing"], true);
}
