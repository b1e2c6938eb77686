//! Proves the real-peer harness in `crates/trove-testkit` works, without trove: libtorrent peers
//! swap a torrent directly and through opentracker, and aria2 downloads from a libtorrent
//! seeder. If these fail, trove's integration tests cannot be trusted either.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use trove_testkit::{Peer, Tracker, free_port, run_with_timeout, trees_identical, wait_until};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

/// Nested folders, zero-byte files (one alone in its folder), a non-ASCII name, a file
/// that ends mid-piece and one larger than many pieces.
const FILES: &[(&str, u64)] = &[
    ("docs/readme.txt", 1_000),
    ("media/deep/nested/video.bin", 3 * 1024 * 1024 + 123),
    ("empty.dat", 0),
    ("Ωmega ü.bin", 200_001),
    ("media/empty/zero", 0),
];

const PIECE: u64 = 32 * 1024;

fn elapsed(what: &str, t0: Instant) {
    eprintln!("{what}: {:.2} s", t0.elapsed().as_secs_f64());
}

#[test]
fn libtorrent_peers_swap_a_multi_file_torrent() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let leecher = Peer::start();
    assert_ne!(seeder.port(), leecher.port());

    let t = seeder.make_torrent(tmp.path().join("src"), "harness multi", FILES, PIECE);
    assert_eq!(t.total_size, FILES.iter().map(|f| f.1).sum::<u64>());
    assert_eq!(t.info_hash.len(), 40);
    assert!(
        t.magnet
            .starts_with(&format!("magnet:?xt=urn:btih:{}", t.info_hash))
    );
    assert!(Path::new(&t.torrent_path).is_file());
    seeder.seed(&t);
    assert!(seeder.status(&t.info_hash).is_seeding);

    let dst = tmp.path().join("dst");
    let ih = leecher.leech(&t.torrent_path, &dst);
    assert_eq!(ih, t.info_hash);
    leecher.connect(&ih, seeder.port());
    leecher.wait_complete(&ih, Duration::from_secs(60));

    trees_identical(&t.content_path(), &dst.join(&t.name)).unwrap();
    assert!(dst.join("harness multi/media/empty/zero").is_file());

    // all_time_upload is refreshed once a second: poll it.
    let st = wait_until(
        "seeder to count its upload",
        Duration::from_secs(10),
        || {
            let st = seeder.status(&ih);
            (st.all_time_upload >= t.total_size).then_some(st)
        },
    );
    assert!(st.total_payload_upload >= t.total_size);
    let down = leecher.status(&ih);
    assert!(down.progress >= 1.0);
    elapsed("libtorrent_peers_swap_a_multi_file_torrent", t0);
}

#[test]
fn single_file_torrent_and_upload_limit() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let leecher = Peer::start();
    let t = seeder.make_torrent(
        tmp.path().join("src"),
        "one.bin",
        &[("one.bin", 1024 * 1024)],
        16 * 1024,
    );
    assert!(t.content_path().is_file());
    // 512 KiB/s for 1 MiB: at least ~1.5 s even counting the initial burst.
    seeder.seed_with_limit(&t, 512 * 1024);
    let dst = tmp.path().join("dst");
    leecher.leech(&t.torrent_path, &dst);
    leecher.connect(&t.info_hash, seeder.port());
    let start = Instant::now();
    leecher.wait_complete(&t.info_hash, Duration::from_secs(30));
    let took = start.elapsed();
    trees_identical(&t.content_path(), &dst.join("one.bin")).unwrap();
    assert!(
        took >= Duration::from_millis(1200),
        "upload limit not applied: 1 MiB took {took:?}"
    );
    elapsed("single_file_torrent_and_upload_limit", t0);
}

#[test]
fn peers_find_each_other_through_opentracker() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let tracker = Tracker::start_empty();
    let seeder = Peer::start();
    let leecher = Peer::start();
    let t = seeder.make_torrent_with(
        tmp.path().join("src"),
        "tracked",
        FILES,
        PIECE,
        Some(&tracker.announce_url()),
        7,
    );
    assert!(t.magnet.contains("&tr=http%3A%2F%2F127.0.0.1"));
    tracker.allow(&[&t.info_hash]);

    seeder.seed(&t);
    wait_until("the seeder's announce", Duration::from_secs(20), || {
        let (seeds, leechers) = tracker.scrape(&t.info_hash);
        (seeds + leechers >= 1).then_some(())
    });

    let dst = tmp.path().join("dst");
    leecher.leech(&t.torrent_path, &dst);
    // No connect(): the leecher learns the seeder from the tracker.
    leecher.wait_complete(&t.info_hash, Duration::from_secs(60));
    trees_identical(&t.content_path(), &dst.join("tracked")).unwrap();
    wait_until(
        "seeder to count its upload",
        Duration::from_secs(10),
        || (seeder.status(&t.info_hash).all_time_upload >= t.total_size).then_some(()),
    );
    elapsed("peers_find_each_other_through_opentracker", t0);
}

#[test]
fn tracker_refuses_hashes_not_whitelisted() {
    let tracker = Tracker::start(&["0123456789abcdef0123456789abcdef01234567"]);
    let body = tracker
        .get(&format!(
            "/announce?info_hash={}&peer_id=-TV0000-000000000000&port=9&uploaded=0&downloaded=0&left=0&compact=1",
            "%ff".repeat(20)
        ))
        .unwrap();
    assert!(body.contains("not authorized"), "{body}");
}

#[test]
fn aria2_downloads_from_a_libtorrent_seeder() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let tracker = Tracker::start_empty();
    let seeder = Peer::start();
    let t = seeder.make_torrent_with(
        tmp.path().join("src"),
        "for aria2",
        FILES,
        PIECE,
        Some(&tracker.announce_url()),
        99,
    );
    tracker.allow(&[&t.info_hash]);
    seeder.seed(&t);
    wait_until("the seeder's announce", Duration::from_secs(20), || {
        let (seeds, leechers) = tracker.scrape(&t.info_hash);
        (seeds + leechers >= 1).then_some(())
    });

    // aria2 has no option to dial a given peer: it finds the seeder through the tracker.
    let dst = tmp.path().join("aria2");
    let mut cmd = Command::new("aria2c");
    cmd.args([
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        "--seed-time=0",
        "--file-allocation=none",
        "--disable-ipv6=true",
        "--summary-interval=0",
        "--console-log-level=warn",
        "--bt-stop-timeout=60",
    ])
    .arg(format!("--listen-port={}", free_port()))
    .arg("--dir")
    .arg(&dst)
    .arg(&t.torrent_path);
    let out = run_with_timeout(&mut cmd, Duration::from_secs(90));
    assert!(
        out.status.success(),
        "aria2c failed: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    trees_identical(&t.content_path(), &dst.join("for aria2")).unwrap();
    wait_until(
        "seeder to count its upload",
        Duration::from_secs(10),
        || (seeder.status(&t.info_hash).all_time_upload >= t.total_size).then_some(()),
    );
    elapsed("aria2_downloads_from_a_libtorrent_seeder", t0);
}

#[test]
fn helpers_fail_loudly_and_clean_up() {
    // A peer that is dropped mid-test (as on a panic) is gone afterwards.
    let peer = Peer::start();
    let port = peer.port();
    let err = peer.try_request(
        serde_json::json!({"op": "status", "info_hash": "00"}),
        Duration::from_secs(5),
    );
    assert_eq!(err.unwrap()["ok"], serde_json::json!(false));
    drop(peer);
    assert!(
        !trove_testkit::port_open(port),
        "peer still listening after drop"
    );

    let tracker = Tracker::start_empty();
    let tport = tracker.port();
    assert!(trove_testkit::port_open(tport));
    drop(tracker);
    wait_until("opentracker to be gone", Duration::from_secs(5), || {
        (!trove_testkit::port_open(tport)).then_some(())
    });

    // A panic inside a test still drops (and ends) the helpers it owned.
    let r = std::panic::catch_unwind(|| {
        let p = Peer::start();
        let t = Tracker::start_empty();
        std::panic::panic_any((p.port(), t.port()));
    });
    let (pport, tport) = *r.unwrap_err().downcast::<(u16, u16)>().unwrap();
    assert!(!trove_testkit::port_open(pport));
    assert!(!trove_testkit::port_open(tport));

    // A hung peer makes requests fail after their timeout instead of hanging the test,
    // and is still killed on drop.
    let peer = Peer::start();
    let pid = peer.pid();
    assert!(trove_testkit::send_signal(
        pid,
        trove_testkit::Signal::SIGSTOP
    ));
    let t = Instant::now();
    let err = peer
        .try_request(serde_json::json!({"op": "ping"}), Duration::from_secs(1))
        .unwrap_err();
    assert!(err.contains("no reply"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(3));
    drop(peer);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "hung peer survived its drop"
    );

    // A daemon-like child: stderr is collected, SIGTERM ends it, drop reaps it.
    let mut d = trove_testkit::Daemon::spawn({
        let mut c = Command::new("sh");
        c.args(["-c", "echo started >&2; exec sleep 100"]);
        c
    });
    d.wait_for_stderr("started", Duration::from_secs(10));
    assert!(d.is_running());
    let st = d.terminate_and_wait();
    assert!(!st.success());
    let mut d = trove_testkit::Daemon::spawn({
        let mut c = Command::new("sleep");
        c.arg("100");
        c
    });
    let dpid = d.pid();
    d.kill9();
    assert!(!d.is_running());
    drop(d);
    assert!(!Path::new(&format!("/proc/{dpid}")).exists());

    // A TroveEnv lays out its folders and a loopback-only config (without running trove).
    let env = trove_testkit::TroveEnv::new(TROVE, &["main", "ärchive"]);
    assert!(env.data_dir.is_dir());
    assert!(env.root_path("ärchive").is_dir());
    let cfg = std::fs::read_to_string(&env.config_path).unwrap();
    assert!(cfg.find("label = \"main\"").unwrap() < cfg.find("label = \"ärchive\"").unwrap());
    assert!(cfg.contains(&format!("listen_port = {}", env.listen_port)));
    assert!(cfg.contains("bind = \"127.0.0.1\"") && cfg.contains("dht = false"));
    let ports: std::collections::HashSet<u16> = (0..50).map(|_| free_port()).collect();
    assert_eq!(ports.len(), 50);

    // wait_until panics with what it waited for.
    let r =
        std::panic::catch_unwind(|| wait_until("never", Duration::from_millis(120), || None::<()>));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("never") && msg.contains("120ms"), "{msg}");

    // trees_identical names what differs.
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(a.join("x")).unwrap();
    std::fs::create_dir_all(b.join("x")).unwrap();
    std::fs::write(a.join("x/f"), b"hello").unwrap();
    std::fs::write(b.join("x/f"), b"hello").unwrap();
    trees_identical(&a, &b).unwrap();
    std::fs::write(a.join("zero"), b"").unwrap();
    assert!(trees_identical(&a, &b).unwrap_err().contains("zero"));
    std::fs::write(b.join("zero"), b"").unwrap();
    std::fs::write(b.join("x/f"), b"hellO").unwrap();
    assert!(trees_identical(&a, &b).unwrap_err().contains("byte 4"));
    assert!(!trove_testkit::files_identical(
        &a.join("x/f"),
        &b.join("x/f")
    ));
}
