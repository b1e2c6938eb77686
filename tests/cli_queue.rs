//! `trove queue`, `force`, `queue-limits` and `goals` end to end: on the saved session and
//! through a running daemon, what they print, what `trove list` shows after, that it all
//! outlives the daemon, and one clear sentence for each kind of bad input. The real
//! binary, sled store and librqbit session; nothing beyond 127.0.0.1 (see `TroveEnv`).
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::ffi::OsStr;
use std::time::Duration;

use trove_testkit::{TroveEnv, write_fake};

const TROVE: &str = env!("CARGO_BIN_EXE_trove");
const START: Duration = Duration::from_secs(60);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs a command expected to fail with exit 1 and nothing on stdout; returns stderr.
fn refused(env: &TroveEnv, args: &[&str]) -> String {
    let out = env.run(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a refusal of {args:?}, got {}:\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    text(&out.stderr)
}

fn add(env: &TroveEnv, dir: &std::path::Path, name: &str) -> String {
    env.add(&[
        write_fake(dir, name, 40_000).as_os_str(),
        OsStr::new("--paused"),
    ])[0]
        .clone()
}

fn position(env: &TroveEnv, hash: &str) -> u64 {
    env.torrent_json(hash).unwrap()["queue"]["position"]
        .as_u64()
        .unwrap_or(0)
}

/// Many torrents in one offline `trove add` (written to the store in one batch): each
/// takes the next place in the order given, one named twice is added once, and every one
/// is in the store when the command returns.
#[test]
fn one_add_of_many_places_them_in_order_and_adds_a_repeat_once() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let first = add(&env, scratch.path(), "first");
    let files: Vec<_> = ["one", "two", "three"]
        .iter()
        .map(|n| write_fake(scratch.path(), n, 40_000))
        .collect();
    let out = env.run(&[
        OsStr::new("add"),
        files[0].as_os_str(),
        files[1].as_os_str(),
        files[0].as_os_str(),
        files[2].as_os_str(),
        OsStr::new("--paused"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("already in the session"),
        "{}",
        text(&out.stderr)
    );
    let hashes: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(hashes.len(), 4, "{hashes:?}");
    assert_eq!(hashes[0], hashes[2], "the repeat names the same torrent");
    let listed = env.list_json();
    assert_eq!(listed.as_array().map(Vec::len), Some(4), "{listed}");

    // Places are shown by a running session.
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", START);
    assert_eq!(position(&env, &first), 1);
    assert_eq!(position(&env, &hashes[0]), 2);
    assert_eq!(position(&env, &hashes[1]), 3);
    assert_eq!(position(&env, &hashes[3]), 4);
    let st = d.terminate_and_wait();
    assert!(st.success(), "daemon exited {st}:\n{}", d.stderr());
}

#[test]
fn queue_commands_work_offline_and_through_a_daemon_and_persist() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let a = add(&env, scratch.path(), "alpha");
    let b = add(&env, scratch.path(), "beta");
    let c = add(&env, scratch.path(), "gamma");

    // Offline: the saved session.
    assert_eq!(
        env.run_ok(&["queue-limits"]),
        "queue limits: downloads no limit, seeds no limit, torrents no limit, slow after off\n"
    );
    assert_eq!(
        env.run_ok(&["queue-limits", "--downloads", "2", "--slow-after", "5m"]),
        "queue limits: downloads 2, seeds no limit, torrents no limit, slow after 5 min\n"
    );
    assert_eq!(
        env.run_ok(&["queue", &c[..8], "top"]),
        format!("{c}  queue position 1  gamma\n")
    );
    assert_eq!(
        env.run_ok(&["force", &b]),
        format!("{b}  forced to start  beta\n")
    );
    assert_eq!(
        env.run_ok(&["goals", "--ratio", "1.5", "--seeding-time", "2h"]),
        "session goals: ratio 1.50, seeding time 2 h, idle time none; then pause\n"
    );
    assert_eq!(
        env.run_ok(&["goals", &a, "--idle-time", "30m", "--action", "remove"]),
        format!(
            "{a}  own goals: ratio 1.50, seeding time 2 h, idle time 30 min; then remove  alpha\n"
        )
    );

    // Through a daemon: what was saved is in force, and the commands act on it.
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", START);
    assert_eq!(
        env.run_ok(&["queue-limits"]),
        "queue limits: downloads 2, seeds no limit, torrents no limit, slow after 5 min\n"
    );
    assert_eq!(position(&env, &c), 1);
    assert_eq!(position(&env, &a), 2);
    let listed = env.torrent_json(&b).unwrap();
    assert_eq!(listed["queue"]["forced"], true);
    let listed = env.torrent_json(&a).unwrap();
    assert_eq!(listed["queue"]["own_goals"], true);
    assert_eq!(listed["queue"]["goals"]["idle_secs"], 1800);
    assert_eq!(listed["queue"]["goals"]["action"], "remove");
    assert_eq!(
        env.run_ok(&["queue", &a, "up"]),
        format!("{a}  queue position 1  alpha\n")
    );
    assert_eq!(
        env.run_ok(&["force", &b, "--off"]),
        format!("{b}  back in the queue  beta\n")
    );
    assert_eq!(
        env.run_ok(&["queue-limits", "--seeds", "3"]),
        "queue limits: downloads 2, seeds 3, torrents no limit, slow after 5 min\n"
    );
    assert_eq!(
        env.run_ok(&["goals", &a, "--clear"]),
        format!(
            "{a}  session's goals: ratio 1.50, seeding time 2 h, idle time none; then pause  alpha\n"
        )
    );
    assert_eq!(
        env.run_ok(&["goals", &c, "--ratio", "3"]),
        format!(
            "{c}  own goals: ratio 3.00, seeding time 2 h, idle time none; then pause  gamma\n"
        )
    );
    let e = refused(&env, &["queue", &a, "sideways"]);
    assert!(
        e.contains("'sideways' is not a place in the queue: give top, up, down or bottom"),
        "{e}"
    );
    let st = d.terminate_and_wait();
    assert!(st.success(), "daemon exited {st}:\n{}", d.stderr());

    // Offline again: everything the daemon changed was kept.
    assert_eq!(
        env.run_ok(&["queue-limits"]),
        "queue limits: downloads 2, seeds 3, torrents no limit, slow after 5 min\n"
    );
    assert_eq!(
        env.run_ok(&["goals", &c]),
        format!(
            "{c}  own goals: ratio 3.00, seeding time 2 h, idle time none; then pause  gamma\n"
        )
    );
    assert_eq!(
        env.run_ok(&["goals", &a]),
        format!(
            "{a}  session's goals: ratio 1.50, seeding time 2 h, idle time none; then pause  alpha\n"
        )
    );
    assert_eq!(
        env.run_ok(&["queue", &b, "bottom"]),
        format!("{b}  queue position 3  beta\n")
    );
}

#[test]
fn bad_queue_and_goal_input_is_one_clear_sentence_and_changes_nothing() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let a = add(&env, scratch.path(), "alpha");
    let cases: &[(&[&str], &str)] = &[
        (
            &["queue", &a, "sideways"],
            "'sideways' is not a place in the queue: give top, up, down or bottom",
        ),
        (
            &["queue", "ffff", "top"],
            "no torrent matches 'ffff': run `trove list` to see the info-hashes",
        ),
        (
            &["force", "ffff"],
            "no torrent matches 'ffff': run `trove list` to see the info-hashes",
        ),
        (
            &["queue-limits", "--slow-after", "soon"],
            "--slow-after: 'soon' is not a duration: give seconds or a number with s, m, h or d, like 90, 30m or 2h",
        ),
        (
            &["goals", "--ratio=-1"],
            "--ratio: '-1' is not a ratio: give a number above 0 like 1.5, or none",
        ),
        (
            &["goals", &a, "--seeding-time", "forever"],
            "--seeding-time: 'forever' is not a duration: give seconds or a number with s, m, h or d, like 90, 30m or 2h, or none",
        ),
        (
            &["goals", "--action", "delete"],
            "--action: 'delete' is not an action: give pause or remove",
        ),
    ];
    for (args, sentence) in cases {
        let e = refused(&env, args);
        assert_eq!(e.trim_end(), format!("trove: {sentence}"), "{args:?}");
    }
    assert_eq!(
        env.run_ok(&["goals"]),
        "session goals: none (seeds until stopped)\n"
    );
    assert_eq!(
        env.run_ok(&["goals", &a]),
        format!("{a}  session's goals: none (seeds until stopped)  alpha\n")
    );
    assert_eq!(
        env.run_ok(&["queue-limits"]),
        "queue limits: downloads no limit, seeds no limit, torrents no limit, slow after off\n"
    );
    // A config file's bad [seeding] is named with its line.
    std::fs::write(
        env.path().join("config.toml"),
        env.config_text("[seeding]\nratio = 0\n"),
    )
    .unwrap();
    let e = refused(&env, &["goals"]);
    assert!(
        e.contains("a ratio goal must be a number above 0, like 1.5 (got 0)"),
        "{e}"
    );
}

/// Queue order, limits, goals and forced starts as `trove list --json` and the commands
/// show them through a running daemon: (positions of a, b, c; b forced; a's own goals;
/// the queue limits; the session's goals).
fn queue_state(
    env: &TroveEnv,
    a: &str,
    b: &str,
    c: &str,
) -> (Vec<u64>, bool, String, String, String) {
    let positions = [a, b, c].iter().map(|h| position(env, h)).collect();
    let forced = env.torrent_json(b).unwrap()["queue"]["forced"] == true;
    (
        positions,
        forced,
        env.run_ok(&["goals", a]),
        env.run_ok(&["queue-limits"]),
        env.run_ok(&["goals"]),
    )
}

#[test]
fn the_queue_outlives_a_killed_daemon_and_travels_in_an_export() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let scratch = tempfile::tempdir().unwrap();
    let a = add(&env, scratch.path(), "alpha");
    let b = add(&env, scratch.path(), "beta");
    let c = add(&env, scratch.path(), "gamma");

    // Everything set through a running daemon, which is then killed without a chance to
    // save anything more: each change was already in the store.
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", START);
    env.run_ok(&["queue-limits", "--downloads", "1", "--slow-after", "10m"]);
    env.run_ok(&["queue", &c, "top"]);
    env.run_ok(&["force", &b]);
    env.run_ok(&["goals", "--ratio", "2", "--action", "remove"]);
    env.run_ok(&["goals", &a, "--seeding-time", "3h"]);
    let before = queue_state(&env, &a, &b, &c);
    assert_eq!(before.0, [2, 3, 1], "c on top, then a and b");
    assert!(before.1, "b forced");
    d.kill9();

    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", START);
    assert_eq!(queue_state(&env, &a, &b, &c), before, "after a kill -9");
    let st = d.terminate_and_wait();
    assert!(st.success(), "daemon exited {st}:\n{}", d.stderr());

    // Exported, then imported into an empty data dir: the same queue.
    let file = scratch.path().join("session.json");
    let out = env.run_ok(&[OsStr::new("export"), file.as_os_str()]);
    assert!(out.contains("exported"), "{out}");
    let fresh = TroveEnv::new(TROVE, &["main"]);
    fresh.run_ok(&[OsStr::new("import"), file.as_os_str()]);
    let mut d = fresh.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", START);
    assert_eq!(queue_state(&fresh, &a, &b, &c), before, "after an import");
    let st = d.terminate_and_wait();
    assert!(st.success(), "daemon exited {st}:\n{}", d.stderr());
}
