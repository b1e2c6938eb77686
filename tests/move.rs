//! Moving a torrent's data between storage roots, against the real engine and real
//! libtorrent peers on 127.0.0.1: across filesystems (a root on tmpfs under /dev/shm, one
//! on /tmp's disk) while a leecher downloads from the moving torrent, a rename on one
//! filesystem, a target too small or filling up during the copy, a cancel, and
//! `trove daemon` killed with SIGKILL at random moments of a move and at each of its
//! stages.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use trove_engine::relocate::{self, CopyFailure};
use trove_proto::command::{AddOptions, Command, EngineError};
use trove_proto::snapshot::{Limits, TorrentState, TorrentSummary};
use trove_testkit::engine::{Eng, LONG, MIB, payload_dir, torrent};
use trove_testkit::logs::{log_has, log_lines, ring};
use trove_testkit::{Daemon, Lcg, Peer, TroveEnv, env_number, trees_identical, wait_until};

const TROVE: &str = env!("CARGO_BIN_EXE_trove");

/// A folder on tmpfs (/dev/shm), removed when dropped.
fn shm_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("trove-move-shm")
        .tempdir_in("/dev/shm")
        .unwrap()
}

/// A folder on /tmp's filesystem, removed when dropped.
fn disk_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("trove-move-disk")
        .tempdir_in("/tmp")
        .unwrap()
}

/// `stat -f`'s filesystem type and id of the filesystem holding `p`.
fn filesystem(p: &Path) -> String {
    let out = Process::new("stat")
        .args(["-f", "-c", "%T %i"])
        .arg(p)
        .output()
        .unwrap();
    assert!(out.status.success(), "stat -f {}", p.display());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The bytes free on the filesystem holding `p`, as `df` says.
fn available(p: &Path) -> u64 {
    let out = Process::new("df")
        .args(["-B1", "--output=avail"])
        .arg(p)
        .output()
        .unwrap();
    assert!(out.status.success(), "df {}", p.display());
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1).unwrap().trim().parse().unwrap()
}

fn summary(eng: &Eng, hash: &str) -> TorrentSummary {
    torrent(&eng.h().snapshot(), hash).unwrap()
}

fn move_cmd(hash: &str, root: &str) -> Command {
    Command::Move {
        ids: vec![hash.to_string()],
        root: root.to_string(),
    }
}

/// Waits until the torrent's move has ended; returns its summary then.
async fn move_ended(eng: &Eng, hash: &str) -> TorrentSummary {
    eng.wait(&format!("{hash}'s move to end"), LONG, |s| {
        torrent(s, hash).filter(|t| t.moving.is_none())
    })
    .await
}

/// How long a test waits for the log line that follows what the snapshot shows.
const LOG_WAIT: Duration = Duration::from_secs(10);

/// Names in a folder.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_across_filesystems_keeps_serving_a_leecher_and_ends_in_the_target() {
    let fast = shm_dir();
    let disk = disk_dir();
    assert_ne!(
        filesystem(fast.path()),
        filesystem(disk.path()),
        "the two roots must be on different filesystems"
    );
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "album",
        &[("a.bin", 40 * MIB + 5), ("sub/b.bin", 8 * MIB)],
        256 * 1024,
    );
    seeder.seed(&t);
    ring();
    let eng = Eng::start_at(&[("fast", fast.path()), ("disk", disk.path())]).await;
    // Capped upload, so the leecher is still downloading when the move happens.
    let opts = AddOptions {
        limits: Limits {
            upload_bps: Some(6 * MIB),
            ..Default::default()
        },
        ..Default::default()
    };
    let h = eng.add_file(&t, &[&seeder], opts).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    drop(seeder); // from now on trove is the only source

    let leecher = Peer::start();
    let leech_dir = payload_dir();
    let lh = leecher.leech(&t.torrent_path, leech_dir.path());
    leecher.connect(&lh, eng.port());
    tokio::task::block_in_place(|| {
        wait_until("the leecher to get some data", LONG, || {
            (leecher.status(&lh).progress > 0.05).then_some(())
        })
    });

    eng.h().run(move_cmd(&h, "disk")).await.unwrap();
    let m = summary(&eng, &h).moving.expect("a copy under way shows");
    assert_eq!((m.to.as_str(), m.total), ("disk", t.total_size));
    let done = move_ended(&eng, &h).await;
    let leecher_then = tokio::task::block_in_place(|| leecher.status(&lh).progress);
    assert!(
        leecher_then < 1.0,
        "the leecher was still downloading when the move ended ({leecher_then})"
    );
    assert_eq!(done.root_label, "disk");
    eng.wait(&format!("{h}'s source to be deleted"), LONG, |_| {
        (!fast.path().join("album").exists()).then_some(())
    })
    .await;
    trees_identical(&t.content_path(), &disk.path().join("album")).unwrap();
    assert!(log_has(&h, "moved album to storage root 'disk'", LOG_WAIT).await);

    // The rest of the leecher's download can only come from the target now.
    leecher.connect(&lh, eng.port());
    tokio::task::block_in_place(|| leecher.wait_complete(&lh, LONG));
    trees_identical(&t.content_path(), &leech_dir.path().join("album")).unwrap();
    let s = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert_eq!(s.root_label, "disk");
    assert!(!fast.path().join("album").exists(), "the source is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_on_one_filesystem_is_a_rename() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "same-fs",
        &[("one.bin", 3 * MIB), ("two.bin", MIB)],
        64 * 1024,
    );
    seeder.seed(&t);
    let eng = Eng::start(&["a", "b"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let before = std::fs::metadata(eng.root("a").join("same-fs/one.bin"))
        .unwrap()
        .ino();

    eng.h().run(move_cmd(&h, "b")).await.unwrap();
    // A rename is done when the command answers.
    let s = summary(&eng, &h);
    assert_eq!(s.root_label, "b");
    assert!(s.moving.is_none());
    let after = std::fs::metadata(eng.root("b").join("same-fs/one.bin"))
        .unwrap()
        .ino();
    assert_eq!(before, after, "the same inode: renamed, not copied");
    assert!(!eng.root("a").join("same-fs").exists());
    trees_identical(&t.content_path(), &eng.root("b").join("same-fs")).unwrap();
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
}

/// A small tmpfs mounted for the test, unmounted when dropped (pass or fail).
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    /// None (after saying why) when this machine does not let the test mount.
    fn mount(size: &str) -> Option<SmallFs> {
        let dir = disk_dir();
        let out = Process::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        if !out.status.success() {
            println!(
                "SKIPPED: cannot mount a tmpfs here ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(SmallFs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg(self.dir.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_into_a_root_too_small_is_refused_and_leaves_nothing_behind() {
    let Some(small) = SmallFs::mount("2m") else {
        return;
    };
    let disk = disk_dir();
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "big",
        &[("big.bin", 4 * MIB), ("small.bin", 1000)],
        64 * 1024,
    );
    seeder.seed(&t);
    let eng = Eng::start_at(&[("main", disk.path()), ("small", small.path())]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;

    let err = eng.h().run(move_cmd(&h, "small")).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, EngineError::Root(_)), "{err:?}");
    for part in ["storage root 'small'", "free", "needs 4", "big"] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
    assert!(names(small.path()).is_empty(), "no partial copy");
    trees_identical(&t.content_path(), &disk.path().join("big")).unwrap();
    let s = summary(&eng, &h);
    assert_eq!((s.root_label.as_str(), s.moving.is_none()), ("main", true));

    // The filesystem filling up during a copy (the check above passed, then something
    // else took the room): the copy stops with NoSpace and removes what it wrote.
    let target = small.path().join("big");
    let r = relocate::copy_tree(
        &disk.path().join("big"),
        &target,
        &AtomicU64::new(0),
        &AtomicBool::new(false),
    );
    assert_eq!(r, Err(CopyFailure::NoSpace));
    assert!(names(small.path()).is_empty(), "no partial copy");
    trees_identical(&t.content_path(), &disk.path().join("big")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_move_removes_its_partial_copy_and_keeps_seeding_from_the_source() {
    let fast = shm_dir();
    let disk = disk_dir();
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "cancel-me.bin",
        &[("cancel-me.bin", 300 * MIB)],
        1024 * 1024,
    );
    seeder.seed(&t);
    ring();
    let eng = Eng::start_at(&[("fast", fast.path()), ("disk", disk.path())]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;

    eng.h().run(move_cmd(&h, "disk")).await.unwrap();
    eng.h().run(Command::CancelMove(h.clone())).await.unwrap();
    let s = move_ended(&eng, &h).await;
    assert_eq!(s.root_label, "fast");
    assert!(
        log_has(&h, "was cancelled", LOG_WAIT).await,
        "no line says the move was cancelled: {:?}",
        log_lines(&h)
    );
    assert!(names(disk.path()).is_empty(), "the partial copy is gone");
    trees_identical(&t.content_path(), &fast.path().join("cancel-me.bin")).unwrap();
    let s = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert_eq!(s.root_label, "fast");
    // Still served: a fresh leecher gets all of it from trove alone.
    drop(seeder);
    let leecher = Peer::start();
    let dir = payload_dir();
    let lh = leecher.leech(&t.torrent_path, dir.path());
    leecher.connect(&lh, eng.port());
    tokio::task::block_in_place(|| leecher.wait_complete(&lh, LONG));
    trees_identical(&t.content_path(), &dir.path().join("cancel-me.bin")).unwrap();
}

fn sha256(p: &Path) -> String {
    let out = Process::new("sha256sum").arg(p).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// `trove daemon`, up with every stored torrent handed back to librqbit.
fn daemon(env: &TroveEnv) -> Daemon {
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("every stored torrent is back", LONG);
    d
}

/// SIGKILL of `trove daemon` at random moments of moves (between the move's start and its
/// end, from the seed printed), each followed by a restart that must find exactly one
/// complete copy, the one the record names, with the data unchanged, nothing downloaded
/// again, and the log line saying what was done. `TROVE_MOVE_KILLS` (default 5;
/// `bench/move-kill.sh` runs 50) sets how many kills must land inside a move.
#[test]
fn kill_9_during_a_move_leaves_exactly_one_complete_copy() {
    let kills: usize = env_number("TROVE_MOVE_KILLS").unwrap_or(5);
    let (mut rng, seed) = Lcg::from_env("TROVE_MOVE_SEED");
    println!("move kill test: {kills} kills inside moves, seed {seed} (TROVE_MOVE_SEED to replay)");

    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "kill.bin",
        &[("kill.bin", 256 * MIB)],
        1024 * 1024,
    );
    seeder.seed(&t);
    let original = sha256(&t.content_path());
    let fast = shm_dir();
    let mut env = TroveEnv::new(TROVE, &["disk"]);
    env.roots.push(("fast".into(), fast.path().to_path_buf()));
    std::fs::write(&env.config_path, env.config_text("")).unwrap();
    let h = env.add_from(&t.torrent_path, &seeder, Some("fast"));
    let mut d = daemon(&env);
    let seeding = |env: &TroveEnv| {
        wait_until("the torrent to seed", LONG, || {
            env.torrent_json(&h)
                .filter(|j| j["state"] == "seeding" && j["moving"].is_null())
        })
    };
    seeding(&env);
    let sent = wait_until("the seeder's counter", LONG, || {
        let s = seeder.status(&t.info_hash).total_payload_upload;
        (s >= t.total_size).then_some(s)
    });
    let root_of = |label: &str| -> PathBuf {
        if label == "fast" {
            fast.path().to_path_buf()
        } else {
            env.root_path("disk")
        }
    };
    let other = |label: &str| if label == "fast" { "disk" } else { "fast" };

    // One whole move, timed, to know when a move runs.
    let start = Instant::now();
    env.run_ok(&["move", &h, "--root", "disk"]);
    let full = start.elapsed();
    println!("a whole move took {full:?}");
    let mut at = "disk".to_string();

    let (mut landed, mut before_switch, mut after_switch, mut missed) = (0, 0, 0, 0);
    while landed < kills {
        assert!(
            missed <= kills * 2 + 5,
            "too many kills landed outside a move"
        );
        let to = other(&at).to_string();
        let delay = full.mul_f64(0.05 + (rng.next_u64() % 1000) as f64 / 1000.0 * 0.95);
        let mut mover = Daemon::spawn({
            let mut c = env.cmd();
            c.args(["move", &h, "--root", &to]);
            c
        });
        // The kill moment is the test's random input, not a stand-in for synchronisation.
        std::thread::sleep(delay);
        d.kill9();
        mover.kill9();
        drop(d);
        d = daemon(&env);
        let log = d.stderr();
        let j = seeding(&env);
        let label = j["root_label"].as_str().unwrap().to_string();
        // Exactly one copy, the one the record names, whole.
        let here = root_of(&label).join("kill.bin");
        let there = root_of(other(&label)).join("kill.bin");
        assert!(
            here.exists(),
            "the referenced copy {} is there",
            here.display()
        );
        assert!(!there.exists(), "no second copy at {}", there.display());
        assert_eq!(sha256(&here), original, "the data is unchanged");
        let now = seeder.status(&t.info_hash).total_payload_upload;
        assert_eq!(now, sent, "nothing was downloaded again");
        let interrupted = log.contains("move of kill.bin to '") && log.contains("was interrupted");
        if interrupted {
            landed += 1;
            if log.contains("the partial copy was removed") {
                before_switch += 1;
                assert_eq!(label, at, "undone: it stays in the source");
                assert!(log.contains(&format!(
                    "move of kill.bin to '{to}' was interrupted: the partial copy was removed; kill.bin stays in '{at}'"
                )));
            } else {
                after_switch += 1;
                assert_eq!(label, to, "finished: it lives in the target");
                assert!(log.contains("it was finished"), "{log}");
            }
        } else {
            missed += 1;
        }
        println!(
            "kill after {delay:?}: {} -> {label}",
            if interrupted {
                "inside the move"
            } else {
                "outside a move"
            }
        );
        at = label;
    }
    println!(
        "tally: {landed} kills inside a move ({before_switch} before the switch, {after_switch} after it), {missed} outside; seed {seed}"
    );
    d.terminate_and_wait();
}

/// One `kill -9` at each stage of a move, made exact by the engine's test hook
/// (`TROVE_MOVE_STALL`, which stops the move for good at the named stage, where the
/// daemon is killed): before the copy (journal written, no byte copied), in the middle of
/// the copy (a partial copy on the target), and after the switch (the record names the
/// verified copy, the source is not deleted yet). Each restart must find exactly one
/// complete copy, the one the record names, nothing downloaded again (the seeder's
/// counter), and the log line saying whether the partial copy was removed or the move
/// finished.
#[test]
fn kill_9_before_the_copy_mid_copy_and_after_the_switch_leaves_exactly_one_complete_copy() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "stages",
        &[("a.bin", 24 * MIB), ("b.bin", 8 * MIB + 4321)],
        256 * 1024,
    );
    seeder.seed(&t);
    let fast = shm_dir();
    let mut env = TroveEnv::new(TROVE, &["disk"]);
    env.roots.push(("fast".into(), fast.path().to_path_buf()));
    std::fs::write(&env.config_path, env.config_text("")).unwrap();
    let disk = env.root_path("disk");
    assert_ne!(
        filesystem(fast.path()),
        filesystem(&disk),
        "two filesystems"
    );
    let peer = format!("127.0.0.1:{}", seeder.port());
    let h = env.add(&[
        t.torrent_path.to_str().unwrap(),
        "--peer",
        &peer,
        "--root",
        "fast",
    ])[0]
        .clone();
    let seeding = |env: &TroveEnv| {
        wait_until("the torrent to seed", LONG, || {
            env.torrent_json(&h)
                .filter(|j| j["state"] == "seeding" && j["moving"].is_null())
        })
    };
    let mut d = daemon(&env);
    seeding(&env);
    let sent = wait_until("the seeder's counter", LONG, || {
        let s = seeder.status(&t.info_hash).total_payload_upload;
        (s >= t.total_size).then_some(s)
    });
    d.terminate_and_wait();

    let (in_fast, in_disk) = (fast.path().join("stages"), disk.join("stages"));
    for (stage, ends_in) in [
        ("before-copy", "fast"),
        ("mid-copy", "fast"),
        ("after-switch", "disk"),
    ] {
        let mut d = Daemon::spawn({
            let mut c = env.cmd();
            c.env("TROVE_MOVE_STALL", stage).arg("daemon");
            c
        });
        d.wait_for_stderr("every stored torrent is back", LONG);
        seeding(&env);
        let mut mover = Daemon::spawn({
            let mut c = env.cmd();
            c.args(["move", &h, "--root", "disk"]);
            c
        });
        d.wait_for_stderr(
            &format!("TROVE_MOVE_STALL: the move stops at {stage}"),
            LONG,
        );
        // What the disk holds at the moment of the kill.
        match stage {
            "before-copy" => assert!(!in_disk.exists(), "nothing copied yet"),
            "mid-copy" => {
                let copied = relocate::tree_size(&in_disk).unwrap();
                assert!(
                    copied > 0 && copied < t.total_size,
                    "a partial copy: {copied} of {} bytes",
                    t.total_size
                );
            }
            _ => {
                trees_identical(&t.content_path(), &in_disk).unwrap();
                assert!(in_fast.exists(), "the source is still there");
                let j = env.torrent_json(&h).unwrap();
                assert_eq!(j["root_label"], "disk", "the record names the target");
            }
        }
        d.kill9();
        mover.kill9();
        drop((d, mover));

        let mut d = daemon(&env);
        let j = seeding(&env);
        let log = d.stderr();
        assert_eq!(j["root_label"], ends_in, "{stage}: {log}");
        let (here, there) = if ends_in == "fast" {
            (&in_fast, &in_disk)
        } else {
            (&in_disk, &in_fast)
        };
        trees_identical(&t.content_path(), here).unwrap();
        assert!(
            !there.exists(),
            "{stage}: no second copy at {}",
            there.display()
        );
        let now = seeder.status(&t.info_hash).total_payload_upload;
        assert_eq!(now, sent, "{stage}: nothing was downloaded again");
        let said = if ends_in == "fast" {
            "move of stages to 'disk' was interrupted: the partial copy was removed; stages stays in 'fast'"
        } else {
            "move of stages to 'disk' was interrupted after its copy was verified: it was finished, the old copy in 'fast' was deleted"
        };
        assert!(log.contains(said), "{stage}: the log says {said:?}:\n{log}");
        println!("kill -9 at {stage}: {said}");
        d.terminate_and_wait();
    }
}

/// A target root that fills up during the copy (the space check before it passed): a
/// tmpfs of 2 MiB and a torrent of 600 files of 1 KiB. The torrent's 600 KiB fit the
/// free space the check looks at, but tmpfs gives every file a whole 4 KiB page, so the
/// copy runs out of room part way. The move ends with a log line naming the root and the
/// cause, the partial copy is removed, and the torrent stays, whole, in its source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_filling_up_during_the_copy_leaves_the_source_and_no_partial_copy() {
    let Some(small) = SmallFs::mount("2m") else {
        return;
    };
    let disk = disk_dir();
    let payload = payload_dir();
    let seeder = Peer::start();
    let file_names: Vec<String> = (0..600).map(|i| format!("f{i:03}.bin")).collect();
    let files: Vec<(&str, u64)> = file_names.iter().map(|n| (n.as_str(), 1024)).collect();
    let t = seeder.make_torrent(payload.path(), "many", &files, 16 * 1024);
    seeder.seed(&t);
    ring();
    let eng = Eng::start_at(&[("main", disk.path()), ("small", small.path())]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let free = available(small.path());
    assert!(
        t.total_size < free,
        "the space check passes: {} < {free}",
        t.total_size
    );

    eng.h().run(move_cmd(&h, "small")).await.unwrap();
    let s = move_ended(&eng, &h).await;
    assert_eq!(s.root_label, "main", "it stays in its source");
    let said = "ran out of space while many was copied to it: the partial copy was removed; many stays in storage root 'main'";
    assert!(
        log_has(&h, said, LOG_WAIT).await
            && log_has(&h, "storage root 'small' at ", LOG_WAIT).await,
        "the log says {said:?}: {:?}",
        log_lines(&h)
    );
    assert!(names(small.path()).is_empty(), "no partial copy");
    trees_identical(&t.content_path(), &disk.path().join("many")).unwrap();
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
}

/// A python with qbittorrent-api (the venv `scripts/test.sh` makes, or TROVE_QBIT_PYTHON).
fn qbit_python() -> PathBuf {
    let path = std::env::var_os("TROVE_QBIT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/qbit-venv/bin/python"
            ))
        });
    let usable = Process::new(&path)
        .args(["-c", "import qbittorrentapi"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        usable,
        "no python with qbittorrent-api at {}: run scripts/test.sh, or point TROVE_QBIT_PYTHON at one",
        path.display()
    );
    path
}

/// Runs qbittorrent-api calls (`c` is a logged-in client) against trove's API on `port`;
/// returns what the script printed.
fn qbit(python: &Path, port: u16, body: &str) -> String {
    let script = format!(
        "import qbittorrentapi, sys\nc = qbittorrentapi.Client(host='127.0.0.1', port={port}, username='sonarr', password='pw', REQUESTS_ARGS={{'timeout': 30}})\nc.auth_log_in()\n{body}\n"
    );
    let out = trove_testkit::run_with_timeout(
        Process::new(python).args(["-c", &script]),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "qbittorrent-api script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_category_change_through_the_qbittorrent_api_moves_the_data() {
    let python = qbit_python();
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "show",
        &[("e01.mkv", 6 * MIB), ("e02.mkv", 5 * MIB + 3)],
        64 * 1024,
    );
    seeder.seed(&t);
    let env = TroveEnv::new(TROVE, &["main"]);
    let port = trove_testkit::free_port();
    std::fs::write(
        &env.config_path,
        env.config_text(&format!(
            "[api]\nlisten = \"127.0.0.1:{port}\"\nusername = \"sonarr\"\npassword = \"pw\""
        )),
    )
    .unwrap();
    let peer = format!("127.0.0.1:{}", seeder.port());
    let h = env.add(&[t.torrent_path.to_str().unwrap(), "--peer", &peer])[0].clone();
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("trove's API listens on", LONG);
    let settled = |label: &str| {
        wait_until(&format!("{h} to seed in '{label}'"), LONG, || {
            env.torrent_json(&h).filter(|j| {
                j["state"] == "seeding" && j["moving"].is_null() && j["root_label"] == label
            })
        })
    };
    settled("main");

    // A category on another filesystem: the data is copied there, then the source goes.
    let shows = shm_dir();
    let shows_path = shows.path().to_str().unwrap();
    qbit(
        &python,
        port,
        &format!(
            "c.torrents_create_category(name='shows', save_path='{shows_path}')\nc.torrents_set_category(category='shows', torrent_hashes='{h}')"
        ),
    );
    settled("shows");
    trees_identical(&t.content_path(), &shows.path().join("show")).unwrap();
    assert!(!env.root_path("main").join("show").exists(), "source gone");
    let info = qbit(
        &python,
        port,
        &format!("t = c.torrents_info(torrent_hashes='{h}')[0]\nprint(t.category, t.save_path)"),
    );
    assert!(info.starts_with("shows "), "{info}");

    // setLocation to a root's folder moves it there; any other folder is refused.
    let main = env.root_path("main");
    qbit(
        &python,
        port,
        &format!(
            "c.torrents_set_location(location='{}', torrent_hashes='{h}')",
            main.display()
        ),
    );
    settled("main");
    trees_identical(&t.content_path(), &main.join("show")).unwrap();
    assert!(!shows.path().join("show").exists(), "source gone");
    let refused = qbit(
        &python,
        port,
        &format!(
            "try:\n    c.torrents_set_location(location='/srv/elsewhere', torrent_hashes='{h}')\n    print('accepted')\nexcept qbittorrentapi.Conflict409Error as e:\n    print('409', e)"
        ),
    );
    assert!(
        refused.starts_with("409") && refused.contains("storage roots"),
        "{refused}"
    );
    d.terminate_and_wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_finishing_in_a_root_with_complete_to_moves_there() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "finished",
        &[("x.bin", 2 * MIB), ("y.bin", 300_000)],
        64 * 1024,
    );
    seeder.seed(&t);
    let mut eng = Eng::start(&["incoming", "done"]).await;
    eng.complete_to("incoming", "done");
    eng.restart().await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    let s = eng
        .wait(&format!("{h} to land in 'done'"), LONG, |s| {
            torrent(s, &h).filter(|t| t.root_label == "done" && t.moving.is_none())
        })
        .await;
    assert!(s.completed_at.is_some());
    trees_identical(&t.content_path(), &eng.root("done").join("finished")).unwrap();
    assert!(!eng.root("incoming").join("finished").exists());
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
}
