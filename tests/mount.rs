//! `trove mount` on a real FUSE mount, against real libtorrent seeders on 127.0.0.1: a
//! complete torrent read back byte for byte with the tree, sizes and extended attributes
//! tools see; writes refused; `rmdir` removing a torrent (refused while a file is open);
//! reads of a file still downloading; thirty-two readers at once during a download; a
//! torrent removed under a reader; a mount left by a killed trove cleaned at the next start;
//! complete files in passthrough mode (as root) and read through trove with it off; the
//! dashboard holding the session and its mounts.
//!
//! Needs /dev/fuse and fusermount3 (the fuse3 package) and getfattr (attr): without them
//! every test here fails saying so.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use trove_testkit::engine::{LONG, MIB, payload_dir};
use trove_testkit::{Daemon, MadeTorrent, Peer, Tmux, TroveEnv, wait_until};

const TROVE: &str = env!("CARGO_BIN_EXE_trove");

/// Fails the test, saying what is missing, when this machine cannot mount FUSE.
fn require_fuse() {
    assert!(
        Path::new("/dev/fuse").exists(),
        "/dev/fuse is missing: the mount tests need FUSE (run as root on a machine with the fuse module)"
    );
    for tool in ["fusermount3", "getfattr"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{tool} is missing: install the fuse3 and attr packages"
        );
    }
}

/// Unmounts (lazily) whatever is left on the folder when the test ends, pass or fail.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = Command::new("fusermount3").arg("-uz").arg(&self.0).output();
    }
}

fn mounted(dir: &Path) -> bool {
    let table = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let want = dir.to_string_lossy().replace(' ', "\\040");
    table.lines().any(|l| {
        l.split(' ').nth(4) == Some(want.as_str())
            && (l.contains(" - fuse trove ") || l.contains(" - fuse.trove "))
    })
}

struct Setup {
    env: TroveEnv,
    mnt: PathBuf,
    _guard: MountGuard,
}

/// An env with a mount point, and the guard that unmounts it.
fn setup() -> Setup {
    require_fuse();
    let env = TroveEnv::new(TROVE, &["main"]);
    let mnt = env.path().join("mnt point");
    fs::create_dir_all(&mnt).unwrap();
    Setup {
        _guard: MountGuard(mnt.clone()),
        mnt,
        env,
    }
}

fn add(env: &TroveEnv, t: &MadeTorrent, seeder: &Peer) -> String {
    env.add_from(&t.torrent_path, seeder, None)
}

fn start_daemon(env: &TroveEnv) -> Daemon {
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", LONG);
    d
}

fn state(env: &TroveEnv, hash: &str) -> Option<String> {
    env.torrent_json(hash)
        .and_then(|t| t["state"].as_str().map(str::to_lowercase))
}

fn wait_seeding(env: &TroveEnv, hash: &str) {
    wait_until("the torrent to finish", LONG, || {
        (state(env, hash).as_deref() == Some("seeding")).then_some(())
    });
}

/// Waits until `path` shows in the mount (the tree follows the session about once a
/// second).
fn wait_path(path: &Path) {
    wait_until(&format!("{} in the mount", path.display()), LONG, || {
        path.exists().then_some(())
    });
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The one mount's entry of `trove mount --status --json`.
fn mount_status(env: &TroveEnv) -> serde_json::Value {
    let out = env.run_ok(&["mount", "--status", "--json"]);
    let all: serde_json::Value = serde_json::from_str(&out).unwrap();
    all[0].clone()
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "sha256sum {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn errno_of<T>(r: std::io::Result<T>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

/// Every file and folder under `dir` with its size (folders 0), relative, sorted.
fn walk(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if m.is_dir() {
                stack.push(e.path());
                out.push((rel, 0));
            } else {
                out.push((rel, m.len()));
            }
        }
    }
    out.sort();
    out
}

fn getfattr(path: &Path) -> String {
    let out = Command::new("getfattr")
        .arg("-d")
        .arg("--absolute-names")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "getfattr -d {}", path.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A complete multi-file torrent through the mount: every file sha256-identical, the tree
/// and sizes as in the torrent, read-only modes, the `user.trove.*` attributes, writes
/// refused with EROFS, `rmdir` refused while a file is open and then removing the torrent
/// (its data kept), and `umount`.
#[test]
fn a_complete_torrent_reads_back_identical_with_its_attributes_and_refuses_writes() {
    let s = setup();
    let payload = payload_dir();
    let seeder = Peer::start();
    let name = "-Album ünï ✓";
    let t = seeder.make_torrent(
        payload.path(),
        name,
        &[
            ("a b.bin", 3 * MIB + 123),
            ("sub/-dash.bin", MIB),
            ("sub/ünïcødé ✓.txt", 5000),
        ],
        64 * 1024,
    );
    seeder.seed(&t);
    let hash = add(&s.env, &t, &seeder);
    let _daemon = start_daemon(&s.env);
    wait_seeding(&s.env, &hash);
    s.env.run_ok(&["mount".as_ref(), s.mnt.as_os_str()]);
    assert!(
        mounted(&s.mnt),
        "not in the mount table:\n{}",
        fs::read_to_string("/proc/self/mountinfo").unwrap()
    );
    let top = s.mnt.join("main").join(name);
    wait_path(&top.join("sub/ünïcødé ✓.txt"));

    // Every byte, and the tree.
    for (file, _) in &t.files {
        let rel = file.strip_prefix(&format!("{name}/")).unwrap_or(file);
        assert_eq!(
            sha256(&top.join(rel)),
            sha256(&t.content_path().join(rel)),
            "{rel} differs through the mount"
        );
    }
    assert_eq!(
        walk(&top),
        walk(&t.content_path()),
        "the tree through the mount"
    );
    // As root, complete files are opened in passthrough mode: the kernel reads the files
    // on disk itself.
    if nix_is_root() {
        let status = mount_status(&s.env);
        assert!(
            status["passthrough_opens"].as_u64().unwrap() >= t.files.len() as u64,
            "complete files were not opened in passthrough mode: {status}"
        );
    }
    let ls = Command::new("ls").arg("-lR").arg(&s.mnt).output().unwrap();
    assert!(ls.status.success());
    let ls = String::from_utf8_lossy(&ls.stdout);
    assert!(
        ls.contains("-r--r--r--") && ls.contains("dr-xr-xr-x"),
        "{ls}"
    );
    assert!(ls.contains(&format!("{}", 3 * MIB + 123)), "{ls}");

    // Attributes on the torrent's folder and on a file.
    let dir_attrs = getfattr(&top);
    for want in [
        "user.trove.state=\"seeding\"".to_string(),
        "user.trove.progress=\"100.0%\"".to_string(),
        format!("user.trove.infohash=\"{hash}\""),
        "user.trove.root=\"main\"".to_string(),
    ] {
        assert!(dir_attrs.contains(&want), "{want} not in\n{dir_attrs}");
    }
    let file_attrs = getfattr(&top.join("sub/-dash.bin"));
    assert!(
        file_attrs.contains("user.trove.progress=\"100.0%\""),
        "{file_attrs}"
    );
    assert!(file_attrs.contains(&hash), "{file_attrs}");

    // Writes of every kind.
    let a = top.join("a b.bin");
    let rofs = Some(libc::EROFS);
    assert_eq!(errno_of(fs::OpenOptions::new().write(true).open(&a)), rofs);
    assert_eq!(errno_of(fs::File::create(top.join("new.txt"))), rofs);
    assert_eq!(errno_of(fs::remove_file(&a)), rofs);
    assert_eq!(errno_of(fs::create_dir(top.join("d"))), rofs);
    assert_eq!(errno_of(fs::rename(&a, top.join("b.bin"))), rofs);
    assert_eq!(errno_of(fs::remove_dir(s.mnt.join("main"))), rofs);

    // rmdir: busy while a file is open, then the torrent goes and its data stays.
    let open = fs::File::open(&a).unwrap();
    assert_eq!(errno_of(fs::remove_dir(&top)), Some(libc::EBUSY));
    drop(open);
    fs::remove_dir(&top).unwrap();
    assert!(!top.exists(), "the folder is gone at once");
    wait_until("the torrent to leave the session", LONG, || {
        s.env.torrent_json(&hash).is_none().then_some(())
    });
    assert!(
        s.env.root_path("main").join(name).join("a b.bin").exists(),
        "data kept"
    );

    let status = s.env.run_ok(&["mount", "--status"]);
    assert!(status.contains("mnt point"), "{status}");
    s.env.run_ok(&["umount".as_ref(), s.mnt.as_os_str()]);
    assert!(!mounted(&s.mnt), "umount left the mount up");
}

/// Reads of a file still downloading from a rate-limited seeder, at offsets in its middle
/// and end, return the right bytes; `ls` answers while a read waits; the time to the first
/// byte of the middle is printed.
#[test]
fn reads_of_a_downloading_file_return_the_right_bytes() {
    let s = setup();
    let payload = payload_dir();
    let size = 24 * MIB;
    let probe = Peer::start();
    let t = probe.make_torrent(
        payload.path(),
        "movie.mkv",
        &[("movie.mkv", size)],
        256 * 1024,
    );
    let seeder = Peer::seeding_with_limit(&t, 1024 * 1024);
    let hash = add(&s.env, &t, &seeder);
    let _daemon = start_daemon(&s.env);
    s.env.run_ok(&["mount".as_ref(), s.mnt.as_os_str()]);
    let file = s.mnt.join("main/movie.mkv/movie.mkv");
    wait_path(&file);
    assert_ne!(
        state(&s.env, &hash).as_deref(),
        Some("seeding"),
        "still downloading"
    );
    let source = fs::read(t.content_path()).unwrap();

    // The middle, as `dd skip=` reads it, from another thread while this one lists.
    let mid = size / 2 + 777;
    let f2 = file.clone();
    let reader = std::thread::spawn(move || {
        let started = Instant::now();
        let f = fs::File::open(&f2).unwrap();
        let mut buf = vec![0u8; 100_000];
        f.read_exact_at(&mut buf, mid).unwrap();
        (buf, started.elapsed())
    });
    let listed = Instant::now();
    assert!(fs::read_dir(s.mnt.join("main")).unwrap().count() == 1);
    fs::metadata(&file).unwrap();
    assert!(
        listed.elapsed() < Duration::from_secs(2),
        "ls and stat waited {:?} behind a read",
        listed.elapsed()
    );
    let (buf, ttfb) = reader.join().unwrap();
    assert!(
        buf == source[mid as usize..mid as usize + 100_000],
        "middle bytes differ"
    );
    println!(
        "time to first byte of the middle of a downloading file: {ttfb:?} (seeder capped at 1 MiB/s)"
    );

    // The end, as `tail -c` reads it.
    let tail = Command::new("tail")
        .arg("-c")
        .arg("5000")
        .arg(&file)
        .output()
        .unwrap();
    assert!(tail.status.success());
    assert!(
        tail.stdout == source[source.len() - 5000..],
        "tail -c differs"
    );

    // A seek-and-read near the start.
    let mut f = fs::File::open(&file).unwrap();
    f.seek(SeekFrom::Start(300_001)).unwrap();
    let mut buf = vec![0u8; 4096];
    f.read_exact(&mut buf).unwrap();
    assert!(buf == source[300_001..300_001 + 4096]);
}

/// Thirty-two files of one torrent read at once through the mount while it downloads:
/// every byte right, and the download finishes.
#[test]
fn thirty_two_readers_during_a_download_get_the_right_bytes_and_it_finishes() {
    let s = setup();
    let payload = payload_dir();
    let probe = Peer::start();
    let names: Vec<String> = (0..32).map(|i| format!("f{i:02}.bin")).collect();
    let files: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 512 * 1024)).collect();
    let t = probe.make_torrent(payload.path(), "many", &files, 64 * 1024);
    let seeder = Peer::seeding_with_limit(&t, 3 * 1024 * 1024);
    let hash = add(&s.env, &t, &seeder);
    let _daemon = start_daemon(&s.env);
    s.env.run_ok(&["mount".as_ref(), s.mnt.as_os_str()]);
    let top = s.mnt.join("main/many");
    wait_path(&top.join("f31.bin"));
    let readers: Vec<_> = names
        .iter()
        .map(|n| {
            let through = top.join(n);
            let source = t.content_path().join(n);
            std::thread::spawn(move || {
                let got = fs::read(&through).unwrap();
                assert!(
                    got == fs::read(&source).unwrap(),
                    "{} differs",
                    through.display()
                );
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
    wait_seeding(&s.env, &hash);
    let status = s.env.run_ok(&["mount", "--status"]);
    assert!(status.contains("reads waiting 0"), "{status}");
}

/// A torrent removed while a read waits for its pieces: the read fails with EIO at once
/// instead of hanging.
#[test]
fn a_torrent_removed_under_a_waiting_reader_gives_eio() {
    let s = setup();
    let payload = payload_dir();
    let probe = Peer::start();
    let t = probe.make_torrent(
        payload.path(),
        "slow.bin",
        &[("slow.bin", 32 * MIB)],
        256 * 1024,
    );
    let seeder = Peer::seeding_with_limit(&t, 256 * 1024);
    let hash = add(&s.env, &t, &seeder);
    let _daemon = start_daemon(&s.env);
    s.env.run_ok(&["mount".as_ref(), s.mnt.as_os_str()]);
    let file = s.mnt.join("main/slow.bin/slow.bin");
    wait_path(&file);
    let f = fs::File::open(&file).unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        f.read_exact_at(&mut buf, 31 * MIB)
            .map_err(|e| e.raw_os_error())
    });
    wait_until("the read to wait", LONG, || {
        s.env
            .run_ok(&["mount", "--status"])
            .contains("reads waiting 1")
            .then_some(())
    });
    s.env.run_ok(&["remove", &hash]);
    let removed = Instant::now();
    let got = reader.join().unwrap();
    assert_eq!(got, Err(Some(libc::EIO)));
    assert!(
        removed.elapsed() < Duration::from_secs(10),
        "took {:?}",
        removed.elapsed()
    );
}

/// A trove killed with its mount in use leaves "Transport endpoint is not connected"; the
/// next start cleans it and mounts again (the folder is under `[[mounts]]`); SIGTERM
/// unmounts.
#[test]
fn a_mount_left_by_a_killed_trove_is_cleaned_at_the_next_start() {
    let s = setup();
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(payload.path(), "kept.bin", &[("kept.bin", MIB)], 64 * 1024);
    seeder.seed(&t);
    fs::write(
        &s.env.config_path,
        s.env.config_text(&format!(
            "[[mounts]]\npath = {:?}\n",
            s.mnt.to_string_lossy()
        )),
    )
    .unwrap();
    let hash = add(&s.env, &t, &seeder);
    let mut daemon = start_daemon(&s.env);
    wait_seeding(&s.env, &hash);
    let file = s.mnt.join("main/kept.bin/kept.bin");
    wait_path(&file);
    let open = fs::File::open(&file).unwrap();
    daemon.kill9();
    drop(open);
    wait_until("the killed trove's mount to be broken", LONG, || {
        (errno_of(fs::read_dir(&s.mnt)) == Some(libc::ENOTCONN)).then_some(())
    });

    let mut daemon = start_daemon(&s.env);
    wait_path(&file);
    assert!(sha256(&file) == sha256(&t.content_path()));
    assert!(
        daemon.stderr().contains("cleaned a mount left behind"),
        "{}",
        daemon.stderr()
    );
    daemon.terminate_and_wait();
    assert!(!mounted(&s.mnt), "SIGTERM left the mount up");
}

/// A file left out of the torrent's selection can be read through the mount: the read
/// fetches what it covers, and the bytes are right.
#[test]
fn a_file_outside_the_selection_can_be_read() {
    let s = setup();
    let payload = payload_dir();
    let probe = Peer::start();
    let t = probe.make_torrent(
        payload.path(),
        "pair",
        &[("wanted.bin", 2 * MIB), ("skipped.bin", 4 * MIB)],
        64 * 1024,
    );
    let seeder = Peer::seeding_with_limit(&t, 4 * 1024 * 1024);
    let peer = format!("127.0.0.1:{}", seeder.port());
    let hash = s.env.add(&[
        t.torrent_path.to_str().unwrap(),
        "--peer",
        &peer,
        "--only-files",
        "0",
    ])[0]
        .clone();
    let _daemon = start_daemon(&s.env);
    wait_seeding(&s.env, &hash);
    // Once the selection is in, librqbit lets the seeder go (two seeds have nothing to
    // trade). A read asking for more before that connection has closed can lose the peer
    // for good to a race in librqbit ("bug: peer was in a wrong state Queued"), leaving a
    // torrent with no tracker nowhere to fetch from: read once the seeder has let go.
    wait_until("the seeder to drop the finished torrent", LONG, || {
        (seeder.status(&t.info_hash).num_peers == 0).then_some(())
    });
    s.env.run_ok(&["mount".as_ref(), s.mnt.as_os_str()]);
    let file = s.mnt.join("main/pair/skipped.bin");
    wait_path(&file);
    let source = fs::read(t.content_path().join("skipped.bin")).unwrap();
    let f = fs::File::open(&file).unwrap();
    let mut buf = vec![0u8; 200_000];
    f.read_exact_at(&mut buf, 3 * MIB).unwrap();
    assert!(buf == source[3 * MIB as usize..3 * MIB as usize + 200_000]);
    let all = fs::read(&file).unwrap();
    assert!(all == source, "the whole unselected file");
}

/// A read that waits longer than `[mount] read_timeout_secs` fails with the configured
/// error (EAGAIN here), and the mount keeps answering.
#[test]
fn a_read_waiting_too_long_fails_with_the_configured_error() {
    let s = setup();
    fs::write(
        &s.env.config_path,
        s.env
            .config_text("[mount]\nread_timeout_secs = 1\ntimeout_error = \"eagain\"\n"),
    )
    .unwrap();
    let payload = payload_dir();
    let probe = Peer::start();
    let t = probe.make_torrent(
        payload.path(),
        "crawl.bin",
        &[("crawl.bin", 32 * MIB)],
        256 * 1024,
    );
    let seeder = Peer::seeding_with_limit(&t, 64 * 1024);
    add(&s.env, &t, &seeder);
    let _daemon = start_daemon(&s.env);
    s.env.run_ok(&["mount".as_ref(), s.mnt.as_os_str()]);
    let file = s.mnt.join("main/crawl.bin/crawl.bin");
    wait_path(&file);
    let f = fs::File::open(&file).unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 4096];
    let got = f
        .read_exact_at(&mut buf, 31 * MIB)
        .map_err(|e| e.raw_os_error());
    assert_eq!(got, Err(Some(libc::EAGAIN)));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(fs::metadata(&file).is_ok(), "the mount still answers");
}

/// With passthrough off, a complete file is read through trove (a `pread` of the verified
/// bytes per request): every byte right, whole and at odd offsets, every read answered
/// without waiting.
#[test]
fn without_passthrough_a_complete_file_reads_identical_through_trove() {
    let s = setup();
    fs::write(
        &s.env.config_path,
        s.env.config_text("[mount]\npassthrough = false\n"),
    )
    .unwrap();
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "whole.bin",
        &[("whole.bin", 5 * MIB + 4321)],
        256 * 1024,
    );
    seeder.seed(&t);
    let hash = add(&s.env, &t, &seeder);
    let _daemon = start_daemon(&s.env);
    wait_seeding(&s.env, &hash);
    s.env.run_ok(&["mount".as_ref(), s.mnt.as_os_str()]);
    let file = s.mnt.join("main/whole.bin/whole.bin");
    wait_path(&file);
    let source = t.content_path();
    assert_eq!(sha256(&file), sha256(&source), "the file through the mount");
    let (through, direct) = (
        fs::File::open(&file).unwrap(),
        fs::File::open(&source).unwrap(),
    );
    for (offset, len) in [
        (0, 1),
        (MIB - 3, 70_000),
        (3 * MIB + 17, 2 * MIB),
        (5 * MIB + 4000, 321),
    ] {
        let (mut a, mut b) = (vec![0u8; len as usize], vec![0u8; len as usize]);
        through.read_exact_at(&mut a, offset).unwrap();
        direct.read_exact_at(&mut b, offset).unwrap();
        assert!(a == b, "{len} bytes at {offset} differ through the mount");
    }
    let status = mount_status(&s.env);
    assert_eq!(status["passthrough_opens"], 0, "{status}");
    assert!(status["reads"].as_u64().unwrap() > 0, "{status}");
    assert_eq!(status["reads"], status["reads_without_wait"], "{status}");
}

/// A torrent kept in a vault reads back through the mount decrypted, identical to its
/// source, never through passthrough (its data is no file the kernel could read).
#[test]
fn a_torrent_in_a_vault_reads_back_decrypted_through_the_mount() {
    let s = setup();
    let (vault, key) = (s.env.path().join("vault"), s.env.path().join("vault.key"));
    s.env
        .run_ok(&["vault".as_ref(), "keygen".as_ref(), key.as_os_str()]);
    s.env.declare_vault(&vault, &key);
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "Sealed Set",
        &[("a.bin", 3 * MIB + 999), ("sub/b.bin", MIB / 2)],
        256 * 1024,
    );
    seeder.seed(&t);
    let hash = s.env.add_from(&t.torrent_path, &seeder, Some("vault"));
    let _daemon = start_daemon(&s.env);
    wait_seeding(&s.env, &hash);
    s.env.run_ok(&["mount".as_ref(), s.mnt.as_os_str()]);
    for rel in ["a.bin", "sub/b.bin"] {
        let file = s.mnt.join("vault/Sealed Set").join(rel);
        wait_path(&file);
        assert_eq!(
            sha256(&file),
            sha256(&t.content_path().join(rel)),
            "{rel} through the mount"
        );
    }
    let status = mount_status(&s.env);
    assert_eq!(status["passthrough_opens"], 0, "{status}");
    assert!(status["reads"].as_u64().unwrap() > 0, "{status}");
}

/// The dashboard holds the session as the daemon does: it mounts the folders under
/// `[[mounts]]` at start, `trove mount --status` reaches it, and quitting unmounts.
#[test]
fn the_dashboard_mounts_from_the_config_and_unmounts_when_it_quits() {
    let s = setup();
    fs::write(
        &s.env.config_path,
        s.env
            .config_text(&format!("[[mounts]]\npath = \"{}\"\n", s.mnt.display())),
    )
    .unwrap();
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "shown.bin",
        &[("shown.bin", 2 * MIB + 99)],
        64 * 1024,
    );
    seeder.seed(&t);
    let hash = add(&s.env, &t, &seeder);
    let tmux = Tmux::start(TROVE, &s.env, &[], 100, 30);
    tmux.wait_screen("the dashboard", |sc| sc.contains("shown.bin"));
    wait_seeding(&s.env, &hash);
    let file = s.mnt.join("main/shown.bin/shown.bin");
    wait_path(&file);
    assert!(mounted(&s.mnt), "the dashboard did not mount [[mounts]]");
    assert_eq!(sha256(&file), sha256(&t.content_path()));
    let status = s.env.run_ok(&["mount", "--status"]);
    assert!(status.contains("mnt point"), "{status}");
    tmux.keys(&["q"]);
    tmux.wait_screen("the dashboard gone", |sc| sc.contains("TROVE-EXITED 0"));
    wait_until("the mount to go with the dashboard", LONG, || {
        (!mounted(&s.mnt)).then_some(())
    });
}
