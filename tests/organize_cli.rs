//! `trove tag`, `trove root` and `trove export` end to end: the same commands give the
//! same output on the saved session and through a running daemon; an export taken through
//! the daemon is the one taken offline after it stops; an import brings back tags and the
//! storage roots kept in the store. The real binary, sled store and librqbit session;
//! nothing beyond 127.0.0.1 (see `TroveEnv`).
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use trove_testkit::{Daemon, TroveEnv, write_fake};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

const START: Duration = Duration::from_secs(60);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn daemon(env: &TroveEnv) -> Daemon {
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", START);
    d
}

/// Stops the daemon as a service manager would (SIGTERM); it saves everything first.
fn stop(mut d: Daemon) {
    let st = d.terminate_and_wait();
    assert!(st.success(), "daemon exited {st}:\n{}", d.stderr());
}

/// Runs a command expected to fail with exit 1; returns its stderr.
fn refused<S: AsRef<OsStr>>(env: &TroveEnv, args: &[S]) -> String {
    let out: Output = env.run(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a refusal, got {}:\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    text(&out.stderr)
}

fn entry(env: &TroveEnv, hash: &str) -> Value {
    env.torrent_json(hash)
        .unwrap_or_else(|| panic!("{hash} not listed"))
}

/// Runs `f` while the torrent 'alpha' has a file in `root`.
fn with_data<T>(root: &Path, f: impl FnOnce() -> T) -> T {
    let file = root.join("alpha");
    std::fs::write(&file, b"partial").unwrap();
    let out = f();
    std::fs::remove_file(&file).unwrap();
    out
}

/// Every command of `trove tag` and `trove root`, run once on the saved session and once
/// through a daemon from the same starting point: the outputs are identical.
#[test]
fn tag_and_root_commands_print_the_same_offline_and_through_a_daemon() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let a = env.add(&[
        write_fake(scratch.path(), "alpha", 40_000).as_os_str(),
        OsStr::new("--paused"),
        OsStr::new("--tag"),
        OsStr::new("first"),
    ])[0]
        .clone();
    let extra = scratch.path().join("extra root");
    let extra_s = extra.to_string_lossy().into_owned();
    let moved = scratch.path().join("moved");
    let moved_s = moved.to_string_lossy().into_owned();
    let elsewhere = scratch.path().join("elsewhere");
    let elsewhere_s = elsewhere.to_string_lossy().into_owned();
    let script: Vec<Vec<&str>> = vec![
        vec![
            "tag",
            &a[..10],
            "--add",
            "linux",
            "--add",
            " big iso ",
            "--remove",
            "first",
        ],
        vec!["tag", &a],
        vec!["root", "add", "extra", &extra_s],
        vec!["root", "set", &a[..10], "extra"],
        vec!["root", "move", "extra", &moved_s],
    ];
    // Back to the start, offline, before the daemon runs the script again.
    let undo: Vec<Vec<&str>> = vec![
        vec!["root", "set", &a, "main"],
        vec!["root", "remove", "extra"],
        vec![
            "tag", &a, "--remove", "linux", "--remove", "big iso", "--add", "first",
        ],
    ];

    let offline: Vec<String> = script.iter().map(|c| env.run_ok(c)).collect();
    assert_eq!(
        offline[0],
        format!("{a}  tags: big iso, linux  alpha\n"),
        "{offline:?}"
    );
    assert_eq!(offline[1], offline[0]);
    assert_eq!(
        offline[2],
        format!("storage root 'extra' created at {extra_s}\n")
    );
    assert_eq!(offline[3], format!("{a}  in storage root 'extra'  alpha\n"));
    assert_eq!(
        offline[4],
        format!("storage root 'extra' now at {moved_s}\n")
    );
    assert!(moved.is_dir());
    let listed = entry(&env, &a);
    assert_eq!(listed["tags"], serde_json::json!(["big iso", "linux"]));
    assert_eq!(listed["root_label"], "extra");
    let only: Value =
        serde_json::from_str(&env.run_ok(&["list", "--json", "--tag", "linux"])).unwrap();
    assert_eq!(only.as_array().unwrap().len(), 1);
    let none: Value =
        serde_json::from_str(&env.run_ok(&["list", "--json", "--tag", "other"])).unwrap();
    assert_eq!(none, serde_json::json!([]));
    assert!(env.run_ok(&["list"]).contains("    tags: big iso, linux"));
    // Refusals offline: a used root, a config root, a bad tag.
    let e = refused(&env, &["root", "remove", "extra"]);
    assert!(e.contains("used by 1 torrent"), "{e}");
    let e = refused(&env, &["root", "add", "main", &extra_s]);
    assert!(e.contains("config file"), "{e}");
    let e = refused(&env, &["tag", &a, "--add", "a,b"]);
    assert!(e.contains("commas"), "{e}");
    let e = with_data(&moved, || {
        refused(&env, &["root", "move", "extra", &elsewhere_s])
    });
    assert!(e.contains("1 torrent in it has data"), "{e}");
    let e = with_data(&moved, || refused(&env, &["root", "set", &a, "main"]));
    assert!(e.contains("stays in storage root 'extra'"), "{e}");
    assert!(!elsewhere.exists());

    for c in &undo {
        env.run_ok(c);
    }
    let listed = entry(&env, &a);
    assert_eq!(listed["tags"], serde_json::json!(["first"]));
    assert_eq!(listed["root_label"], "main");

    let d = daemon(&env);
    let running: Vec<String> = script.iter().map(|c| env.run_ok(c)).collect();
    assert_eq!(running, offline, "the same output through the daemon");
    let listed = entry(&env, &a);
    assert_eq!(listed["tags"], serde_json::json!(["big iso", "linux"]));
    assert_eq!(listed["root_label"], "extra");
    let e = refused(&env, &["root", "remove", "extra"]);
    assert!(e.contains("used by 1 torrent"), "{e}");
    let e = refused(&env, &["root", "add", "main", &extra_s]);
    assert!(e.contains("config file"), "{e}");
    let e = refused(&env, &["tag", &a, "--add", "a,b"]);
    assert!(e.contains("commas"), "{e}");
    let e = with_data(&moved, || {
        refused(&env, &["root", "move", "extra", &elsewhere_s])
    });
    assert!(e.contains("1 torrent in it has data"), "{e}");
    let e = with_data(&moved, || refused(&env, &["root", "set", &a, "main"]));
    assert!(e.contains("stays in storage root 'extra'"), "{e}");
    assert!(!elsewhere.exists());
    stop(d);

    // What the daemon did is in the saved session.
    let listed = entry(&env, &a);
    assert_eq!(listed["tags"], serde_json::json!(["big iso", "linux"]));
    assert_eq!(listed["root_label"], "extra");
}

/// The export document with its one moving part (when it was taken) blanked.
fn export_doc(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(v["exported_at"].is_string());
    v["exported_at"] = Value::Null;
    v
}

#[test]
fn export_through_a_daemon_equals_the_offline_one_and_import_restores_tags_and_roots() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let extra = scratch.path().join("isos");
    let extra_s = extra.to_string_lossy().into_owned();
    env.run_ok(&["root", "add", "isos", &extra_s]);
    let a = env.add(&[
        write_fake(scratch.path(), "one", 30_000).as_os_str(),
        OsStr::new("--paused"),
        OsStr::new("--root"),
        OsStr::new("isos"),
        OsStr::new("--tag"),
        OsStr::new("linux"),
    ])[0]
        .clone();
    let b = env.add(&[
        write_fake(scratch.path(), "two", 20_000).as_os_str(),
        OsStr::new("--paused"),
    ])[0]
        .clone();

    let d = daemon(&env);
    env.run_ok(&["tag", &b, "--add", "keep"]);
    let running = scratch.path().join("running.json");
    let out = env.run(&[OsStr::new("export"), running.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("exported 2 torrents to {}\n", running.display())
    );
    stop(d);
    let offline = scratch.path().join("offline.json");
    let out = env.run(&[OsStr::new("export"), offline.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("exported 2 torrents to {}\n", offline.display())
    );
    let doc = export_doc(&running);
    assert_eq!(doc, export_doc(&offline), "the same document both ways");
    assert_eq!(
        doc["settings"]["roots"],
        serde_json::json!([{ "label": "isos", "path": extra_s }])
    );
    assert_eq!(
        doc["settings"]["tags"],
        serde_json::json!(["keep", "linux"])
    );

    // Imported where the config does not know 'isos': the root is created again.
    let fresh = TroveEnv::new(TROVE, &["main"]);
    std::fs::remove_dir_all(&extra).unwrap();
    let out = fresh.run_ok(&[OsStr::new("import"), running.as_os_str()]);
    assert!(out.contains("storage root 'isos' created"), "{out}");
    assert!(extra.is_dir(), "its folder was made");
    let t = fresh.torrent_json(&a).unwrap();
    assert_eq!(t["tags"], serde_json::json!(["linux"]));
    assert_eq!(t["root_label"], "isos");
    assert_eq!(
        fresh.torrent_json(&b).unwrap()["tags"],
        serde_json::json!(["keep"])
    );
    let e = refused(&fresh, &["root", "remove", "isos"]);
    assert!(e.contains("used by 1 torrent"), "{e}");
    // And a session started on it has them.
    let d = daemon(&fresh);
    let t = fresh.torrent_json(&a).unwrap();
    assert_eq!(t["root_label"], "isos");
    assert_eq!(t["save_path"], Value::String(extra_s.clone()));
    stop(d);

    // Imported where the config declares 'isos' itself: its root takes the torrent.
    let mapped = TroveEnv::new(TROVE, &["main", "isos"]);
    let out = mapped.run_ok(&[OsStr::new("import"), running.as_os_str()]);
    assert!(!out.contains("created"), "{out}");
    let t = mapped.torrent_json(&a).unwrap();
    assert_eq!(t["root_label"], "isos");
    assert_eq!(
        t["save_path"],
        Value::String(mapped.root_path("isos").to_string_lossy().into_owned())
    );
}

/// A record whose .torrent is missing from the store: an export (offline, or through a
/// running daemon) exports it as a magnet link, names it, and exits 2, with the same
/// output both ways.
#[test]
fn an_export_with_problems_exits_2_through_a_daemon_as_offline() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let hash = "5a".repeat(20);
    env.add(&[
        format!("magnet:?xt=urn:btih:{hash}&dn=lost"),
        "--paused".into(),
    ]);
    // Its record, as the store keeps it, claiming metadata whose bytes are not there.
    let doc: Value = serde_json::from_str(&env.run_ok(&["export", "-"])).unwrap();
    let mut record = doc["torrents"][0].clone();
    record["has_metadata"] = Value::Bool(true);
    record["magnet"] = Value::Null;
    trove_engine::store::testing::put_raw_record(
        &env.data_dir.join("store"),
        &hash,
        &serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();

    let scratch = tempfile::tempdir().unwrap();
    let export = |name: &str| {
        let file = scratch.path().join(name);
        let out = env.run(&[OsStr::new("export"), file.as_os_str()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let magnet = doc["torrents"][0]["magnet"].as_str().unwrap().to_string();
        (
            text(&out.stdout).replace(&file.display().to_string(), "FILE"),
            text(&out.stderr),
            magnet,
        )
    };
    let offline = export("offline.json");
    assert!(offline.1.contains(&hash), "{}", offline.1);
    assert!(
        offline.1.contains("exported as a magnet link"),
        "{}",
        offline.1
    );
    assert!(offline.2.contains(&hash), "{}", offline.2);
    let d = daemon(&env);
    let running = export("running.json");
    stop(d);
    assert_eq!(running, offline, "the same output and exit code both ways");
}
