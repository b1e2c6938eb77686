//! Reliability: crashes, full and vanishing roots. Real peers on 127.0.0.1 only; tmpfs
//! mounts (the suite runs as root) are unmounted in every exit path.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use trove_proto::command::{AddOptions, Command as EngineCommand};
use trove_proto::snapshot::TorrentState;
use trove_testkit::engine::{Eng, LONG, MIB, downloaded_to, payload_dir, torrent};
use trove_testkit::{Lcg, Peer, TroveEnv, env_number, trees_identical, wait_until};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

/// A small tmpfs mounted over a folder; unmounted on drop, even when the test fails.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mounting a tmpfs needs root");
        Tmpfs(dir.to_path_buf())
    }

    fn remount(&self, opts: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {opts}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn error_of(eng: &Eng, hash: &str) -> Option<String> {
    torrent(&eng.h().snapshot(), hash).and_then(|t| t.error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_root_errors_by_name_others_continue_and_it_resumes_after_space_is_made() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let big = seeder.make_torrent(
        payload.path(),
        "too-big.bin",
        &[("too-big.bin", 16 * MIB)],
        64 * 1024,
    );
    let ok = seeder.make_torrent(
        payload.path(),
        "fits",
        &[("a.bin", 3 * MIB), ("b/c.bin", 1000)],
        32 * 1024,
    );
    seeder.seed(&big);
    seeder.seed(&ok);
    let mut eng = Eng::start(&["roomy", "small"]).await;
    let small = Tmpfs::mount(&eng.root("small"), "6m");
    let hb = eng
        .add_file(
            &big,
            &[&seeder],
            AddOptions {
                root: Some("small".into()),
                ..Default::default()
            },
        )
        .await;
    let ho = eng.add_file(&ok, &[&seeder], AddOptions::default()).await;

    let failed = eng.wait_state(&hb, TorrentState::Error, LONG).await;
    let msg = failed.error.unwrap();
    assert!(msg.contains("'small'") && msg.contains("full"), "{msg}");
    eng.wait_state(&ho, TorrentState::Seeding, LONG).await;
    trees_identical(&ok.content_path(), &downloaded_to(&ok, &eng.root("roomy"))).unwrap();

    // The store stays readable: a restart brings both back, the full one still in error.
    eng.restart().await;
    eng.wait_state(&ho, TorrentState::Seeding, LONG).await;
    let again = eng
        .wait("the full root's torrent to be back", LONG, |s| {
            torrent(s, &hb).filter(|t| t.state == TorrentState::Error)
        })
        .await;
    assert!(again.error.unwrap().contains("'small'"));

    small.remount("size=64m");
    eng.h()
        .run(EngineCommand::Resume(hb.clone()))
        .await
        .unwrap();
    eng.wait_state(&hb, TorrentState::Seeding, LONG).await;
    trees_identical(
        &big.content_path(),
        &downloaded_to(&big, &eng.root("small")),
    )
    .unwrap();
    eng.stop().await;
    drop(small);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_that_vanishes_while_running_is_reported_by_name_and_resumes() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let gone = seeder.make_torrent(
        payload.path(),
        "gone.bin",
        &[("gone.bin", 12 * MIB)],
        64 * 1024,
    );
    seeder.seed_with_limit(&gone, MIB);
    let eng = Eng::start(&["main", "nfs"]).await;
    let hg = eng
        .add_file(
            &gone,
            &[&seeder],
            AddOptions {
                root: Some("nfs".into()),
                ..Default::default()
            },
        )
        .await;
    eng.wait("downloading", LONG, |s| {
        torrent(s, &hg).filter(|t| t.have_bytes > MIB)
    })
    .await;

    let nfs = eng.root("nfs");
    let moved = nfs.with_extension("moved-away");
    std::fs::rename(&nfs, &moved).unwrap();
    let g = eng
        .wait_state(&hg, TorrentState::Error, LONG)
        .await
        .error
        .unwrap();
    assert!(
        g.contains("'nfs'") && g.contains(&nfs.display().to_string()),
        "{g}"
    );
    assert!(g.contains("does not exist"), "{g}");

    // Resuming onto a root that is still missing says why and changes nothing.
    let e = eng
        .h()
        .run(EngineCommand::Resume(hg.clone()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("'nfs'") && e.contains("does not exist"), "{e}");
    assert!(error_of(&eng, &hg).is_some());

    std::fs::rename(&moved, &nfs).unwrap();
    eng.h()
        .run(EngineCommand::Resume(hg.clone()))
        .await
        .unwrap();
    eng.wait_state(&hg, TorrentState::Seeding, LONG).await;
    trees_identical(&gone.content_path(), &downloaded_to(&gone, &nfs)).unwrap();
    let mut eng = eng;
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_that_turned_read_only_is_reported_by_name_and_resumes() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let ro = seeder.make_torrent(payload.path(), "ro.bin", &[("ro.bin", 12 * MIB)], 64 * 1024);
    seeder.seed_with_limit(&ro, MIB);
    let mut eng = Eng::start(&["main", "usb"]).await;
    let usb = Tmpfs::mount(&eng.root("usb"), "64m");
    let hr = eng
        .add_file(
            &ro,
            &[&seeder],
            AddOptions {
                root: Some("usb".into()),
                ..Default::default()
            },
        )
        .await;
    eng.wait("downloading", LONG, |s| {
        torrent(s, &hr).filter(|t| t.have_bytes > MIB)
    })
    .await;
    // A tmpfs with files open for writing cannot be remounted read-only, so the root
    // turns read-only while trove is stopped (a USB disk remounted ro after an error).
    eng.stop().await;
    usb.remount("ro");
    eng.boot().await;
    let r = eng
        .wait_state(&hr, TorrentState::Error, LONG)
        .await
        .error
        .unwrap();
    assert!(r.contains("'usb'") && r.contains("read-only"), "{r}");
    let e = eng
        .h()
        .run(EngineCommand::Resume(hr.clone()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("'usb'") && e.contains("read-only"), "{e}");

    usb.remount("rw");
    eng.h()
        .run(EngineCommand::Resume(hr.clone()))
        .await
        .unwrap();
    eng.wait_state(&hr, TorrentState::Seeding, LONG).await;
    trees_identical(&ro.content_path(), &downloaded_to(&ro, &eng.root("usb"))).unwrap();
    eng.stop().await;
    drop(usb);
}

fn list(env: &TroveEnv) -> Vec<Value> {
    env.list_json().as_array().unwrap().clone()
}

fn by_hash<'a>(all: &'a [Value], hash: &str) -> &'a Value {
    all.iter()
        .find(|t| t["info_hash"] == hash)
        .unwrap_or_else(|| panic!("{hash} lost: {all:#?}"))
}

/// `kill -9` of the daemon at random moments while several torrents download: nothing is
/// lost, counters never go backwards, and nothing is downloaded twice. `TROVE_CRASH_ROUNDS`
/// (default 5; `scripts/crash-soak.sh` runs 50) sets the number of kills.
#[test]
fn crash_anywhere_loses_nothing() {
    let rounds: usize = env_number("TROVE_CRASH_ROUNDS").unwrap_or(5);
    let (mut rng, seed) = Lcg::from_env("TROVE_CRASH_SEED");
    println!("crash test: {rounds} rounds, seed {seed} (TROVE_CRASH_SEED to replay)");

    let payload = payload_dir();
    let seeder = Peer::start();
    let a = seeder.make_torrent(
        payload.path(),
        "crash-a.bin",
        &[("crash-a.bin", 10 * MIB)],
        64 * 1024,
    );
    let b = seeder.make_torrent(
        payload.path(),
        "crash-b",
        &[
            ("one.bin", 3 * MIB),
            ("skip/two.bin", 2 * MIB),
            ("three.bin", 3 * MIB),
        ],
        32 * 1024,
    );
    let c = seeder.make_torrent(
        payload.path(),
        "crash-c.bin",
        &[("crash-c.bin", 2 * MIB)],
        32 * 1024,
    );
    // Slow enough that every round lands mid-download.
    let rate = 1200 * 1024;
    for t in [&a, &b, &c] {
        seeder.seed_with_limit(t, rate);
    }
    let env = TroveEnv::new(TROVE, &["main", "second"]);
    let peer = format!("127.0.0.1:{}", seeder.port());
    let ha = env.add(&[
        a.torrent_path.to_str().unwrap(),
        "--peer",
        &peer,
        "--download-limit",
        "4MiB",
    ])[0]
        .clone();
    let hb = env.add(&[
        b.torrent_path.to_str().unwrap(),
        "--peer",
        &peer,
        "--root",
        "second",
        "--only-files",
        "0,2",
        "--peer-limit",
        "7",
    ])[0]
        .clone();
    let hc = env.add(&[
        c.torrent_path.to_str().unwrap(),
        "--peer",
        &peer,
        "--paused",
    ])[0]
        .clone();
    let expected = list(&env);

    let mut last_down: std::collections::HashMap<String, u64> = Default::default();
    for round in 0..rounds {
        let mut daemon = env.spawn_daemon::<&str>(&[]);
        daemon.wait_for_stderr("session listening", LONG);
        // The kill moment is the test's random input, not a stand-in for synchronisation.
        let delay = Duration::from_millis(100 + rng.next_u64() % 2500);
        std::thread::sleep(delay);
        daemon.kill9();
        let now = list(&env);
        assert_eq!(now.len(), 3, "round {round}: torrents lost");
        for (h, e) in [
            (&ha, by_hash(&expected, &ha)),
            (&hb, by_hash(&expected, &hb)),
            (&hc, by_hash(&expected, &hc)),
        ] {
            let t = by_hash(&now, h);
            for key in [
                "root_label",
                "only_files",
                "limits",
                "paused",
                "added_at",
                "name",
            ] {
                assert_eq!(t[key], e[key], "round {round}: {key} of {h} changed");
            }
            let down = t["downloaded_total"].as_u64().unwrap();
            let prev = last_down.insert(h.clone(), down).unwrap_or(0);
            assert!(
                down >= prev,
                "round {round}: downloaded_total went back from {prev} to {down}"
            );
        }
        println!("round {round}: killed after {delay:?}");
    }
    env.run_ok(&["resume", &hc]);
    let mut daemon = env.spawn_daemon(&["--exit-when-complete"]);
    let status = daemon.wait_exit(Duration::from_secs(180));
    assert!(status.success(), "daemon failed: {}", daemon.stderr());

    let main = env.root_path("main");
    let second = env.root_path("second");
    trees_identical(&a.content_path(), &main.join(&a.name)).unwrap();
    trees_identical(&c.content_path(), &main.join(&c.name)).unwrap();
    for f in ["one.bin", "three.bin"] {
        assert!(
            trove_testkit::files_identical(
                &b.content_path().join(f),
                &second.join(&b.name).join(f)
            ),
            "{f}"
        );
    }
    let payload_total = a.total_size + c.total_size + 6 * MIB;
    let sent: u64 = wait_until("seeder counters", Duration::from_secs(10), || {
        let s: u64 = [&a, &b, &c]
            .iter()
            .map(|t| seeder.status(&t.info_hash).total_payload_upload)
            .sum();
        (s >= payload_total).then_some(s)
    });
    println!(
        "payload {payload_total} bytes, seeders sent {sent} ({:.1}%)",
        sent as f64 * 100.0 / payload_total as f64
    );
    assert!(
        sent as f64 <= payload_total as f64 * 1.15,
        "seeders sent {sent} bytes for {payload_total} bytes of payload"
    );
}
