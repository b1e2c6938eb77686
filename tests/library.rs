//! The library and missing data, against real peers: files deleted or cut short behind a
//! torrent's back are said (not downloaded again until the user asks), `locate` points a
//! torrent at the root its data is in, and `trove library` lists roots, torrents with the
//! state of their data, and orphans, through a running daemon and offline; a release's
//! descriptive files fetched before the rest.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::ffi::OsString;
use std::fs;
use std::time::Duration;

use serde_json::Value;
use trove_proto::command::{AddOptions, Command, EngineError};
use trove_proto::snapshot::TorrentState;
use trove_proto::{DataState, LibraryRoot};
use trove_testkit::engine::{Eng, LONG, MIB, downloaded_to, payload_dir, torrent};
use trove_testkit::{Peer, TroveEnv, trees_identical, wait_until};

const TROVE: &str = env!("CARGO_BIN_EXE_trove");
/// Longer than the engine's look at seeding torrents' files, with room to spare.
const DATA_CHECK_WAIT: Duration = Duration::from_secs(40);

/// What the seeder has sent of `hash` so far (payload bytes, current).
fn sent(seeder: &Peer, hash: &str) -> u64 {
    seeder.status(hash).total_payload_upload
}

/// Waits until the seeder has sent at least `size` bytes of `hash`, and returns the count.
fn sent_at_least(seeder: &Peer, hash: &str, size: u64) -> u64 {
    wait_until("seeder counters", Duration::from_secs(10), || {
        let s = sent(seeder, hash);
        (s >= size).then_some(s)
    })
}

fn root_of<'a>(report: &'a trove_proto::LibraryReport, label: &str) -> &'a LibraryRoot {
    report.roots.iter().find(|r| r.label == label).unwrap()
}

/// A seeding torrent whose file is deleted while it runs is found by the periodic look,
/// held out of librqbit with the file named, and stays so across a restart with nothing
/// downloaded; a re-check (the user asking) then downloads it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_deleted_while_seeding_are_shown_missing_and_not_downloaded_until_rechecked() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "Gone Album",
        &[("a.bin", 2 * MIB), ("sub/b.bin", MIB)],
        64 * 1024,
    );
    seeder.seed(&t);
    let mut eng = Eng::start(&["main"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let before = sent_at_least(&seeder, &t.info_hash, 3 * MIB);
    let folder = downloaded_to(&t, &eng.root("main"));
    fs::remove_file(folder.join("sub/b.bin")).unwrap();

    let held = eng
        .wait("the deleted file to be noticed", DATA_CHECK_WAIT, |s| {
            torrent(s, &h).filter(|t| t.missing_data.is_some())
        })
        .await;
    assert_eq!(held.state, TorrentState::Error);
    assert_eq!(held.missing_data.as_ref().unwrap().missing, ["sub/b.bin"]);
    let err = held.error.unwrap();
    assert!(
        err.contains("missing data") && err.contains("sub/b.bin"),
        "{err}"
    );
    assert!(
        !eng.librqbit_holds(&h),
        "a torrent with missing data is held out of librqbit"
    );
    let details = eng.h().details(&h).await.unwrap();
    assert_eq!(details.summary.missing_data, held.missing_data);

    // A restart brings it back held, not downloading.
    eng.restart().await;
    let again = eng
        .wait("the restart to hold it again", LONG, |s| {
            torrent(s, &h).filter(|t| t.missing_data.is_some())
        })
        .await;
    assert_eq!(again.state, TorrentState::Error);
    assert!(!eng.librqbit_holds(&h));
    assert!(!folder.join("sub/b.bin").exists(), "nothing was downloaded");
    assert_eq!(
        sent(&seeder, &t.info_hash),
        before,
        "the seeder sent nothing more"
    );

    eng.h().run(Command::Recheck(h.clone())).await.unwrap();
    let done = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert_eq!(done.missing_data, None);
    assert_eq!(done.error, None);
    trees_identical(&t.content_path(), &folder).unwrap();
    let after = sent_at_least(&seeder, &t.info_hash, before + MIB);
    assert!(
        after - before <= MIB + MIB / 4,
        "the re-check downloaded {} bytes for a 1 MiB file",
        after - before
    );
    eng.stop().await;
}

/// Deleted (and cut short) while trove was stopped: the start sees it before librqbit
/// would, and holds the torrent; resume does not download it either; a truncated file is
/// "size changed".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_deleted_or_truncated_while_stopped_hold_the_torrent_at_start() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let gone = seeder.make_torrent(
        payload.path(),
        "gone.bin",
        &[("gone.bin", 2 * MIB)],
        64 * 1024,
    );
    let cut = seeder.make_torrent(
        payload.path(),
        "Cut Album",
        &[("a.bin", MIB), ("b.bin", MIB)],
        64 * 1024,
    );
    seeder.seed(&gone);
    seeder.seed(&cut);
    let mut eng = Eng::start(&["main"]).await;
    let g = eng.add_file(&gone, &[&seeder], AddOptions::default()).await;
    let c = eng.add_file(&cut, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&g, TorrentState::Seeding, LONG).await;
    eng.wait_state(&c, TorrentState::Seeding, LONG).await;
    let sent_gone = sent_at_least(&seeder, &gone.info_hash, 2 * MIB);
    let sent_cut = sent_at_least(&seeder, &cut.info_hash, 2 * MIB);
    eng.stop().await;

    let root = eng.root("main");
    fs::remove_file(downloaded_to(&gone, &root)).unwrap();
    let b = downloaded_to(&cut, &root).join("b.bin");
    fs::OpenOptions::new()
        .write(true)
        .open(&b)
        .unwrap()
        .set_len(1000)
        .unwrap();

    eng.boot().await;
    let held = eng
        .wait("both to be held", LONG, |s| {
            let g = torrent(s, &g)?.missing_data?;
            let c = torrent(s, &c)?.missing_data?;
            Some((g, c))
        })
        .await;
    assert_eq!(held.0.missing, ["gone.bin"]);
    assert!(held.1.missing.is_empty());
    assert_eq!(held.1.size_changed.len(), 1);
    assert_eq!(held.1.size_changed[0].path, "b.bin");
    assert_eq!(held.1.size_changed[0].expected, MIB);
    assert_eq!(held.1.size_changed[0].found, 1000);
    assert!(!eng.librqbit_holds(&g) && !eng.librqbit_holds(&c));

    // The library says the same.
    let report = eng.h().library().await.unwrap();
    let main = root_of(&report, "main");
    let state = |h: &str| {
        &main
            .torrents
            .iter()
            .find(|t| t.info_hash == h)
            .unwrap()
            .data
    };
    assert!(matches!(state(&g), DataState::FilesMissing(m) if m.missing == ["gone.bin"]));
    assert!(matches!(state(&c), DataState::SizeChanged(m) if m.size_changed[0].path == "b.bin"));

    // Resuming is not asking for a download: still held, with the same files.
    let refused = eng.h().run(Command::Resume(g.clone())).await.unwrap_err();
    assert!(refused.to_string().contains("gone.bin"), "{refused}");
    let now = torrent(&eng.h().snapshot(), &g).unwrap();
    assert_eq!(now.state, TorrentState::Error);
    assert!(!eng.librqbit_holds(&g));
    assert_eq!(sent(&seeder, &gone.info_hash), sent_gone);
    assert_eq!(sent(&seeder, &cut.info_hash), sent_cut);

    // Re-checks fetch what is gone.
    eng.h().run(Command::Recheck(g.clone())).await.unwrap();
    eng.h().run(Command::Recheck(c.clone())).await.unwrap();
    eng.wait_state(&g, TorrentState::Seeding, LONG).await;
    eng.wait_state(&c, TorrentState::Seeding, LONG).await;
    trees_identical(&gone.content_path(), &downloaded_to(&gone, &root)).unwrap();
    trees_identical(&cut.content_path(), &downloaded_to(&cut, &root)).unwrap();
    eng.stop().await;
}

/// Data moved by hand into another root: `Locate` checks it is there, points the torrent
/// at that root and verifies it; it seeds again and nothing is downloaded. A root where
/// the data is not is refused, and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locate_into_the_root_holding_the_data_seeds_without_downloading() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "Wandering Album",
        &[("a.bin", 2 * MIB), ("deep/er/b.bin", MIB)],
        64 * 1024,
    );
    seeder.seed(&t);
    let mut eng = Eng::start(&["a", "b", "c"]).await;
    let h = eng
        .add_file(
            &t,
            &[&seeder],
            AddOptions {
                root: Some("a".into()),
                ..Default::default()
            },
        )
        .await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let before = sent_at_least(&seeder, &t.info_hash, 3 * MIB);
    eng.stop().await;
    fs::rename(
        downloaded_to(&t, &eng.root("a")),
        downloaded_to(&t, &eng.root("b")),
    )
    .unwrap();
    eng.boot().await;
    eng.wait("the torrent to be held", LONG, |s| {
        torrent(s, &h).filter(|t| t.missing_data.is_some())
    })
    .await;

    let refused = eng
        .h()
        .run(Command::Locate {
            id: h.clone(),
            root: "c".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(refused, EngineError::Root(_)), "{refused:?}");
    let msg = refused.to_string();
    assert!(
        msg.contains("'c'") && msg.contains("a.bin") && msg.contains("nothing was changed"),
        "{msg}"
    );
    assert_eq!(torrent(&eng.h().snapshot(), &h).unwrap().root_label, "a");

    let unknown = eng
        .h()
        .run(Command::Locate {
            id: h.clone(),
            root: "nowhere".into(),
        })
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("no storage root 'nowhere'"),
        "{unknown}"
    );

    eng.h()
        .run(Command::Locate {
            id: h[..8].to_string(),
            root: "b".into(),
        })
        .await
        .unwrap();
    let done = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert_eq!(done.root_label, "b");
    assert_eq!(done.missing_data, None);
    trees_identical(&t.content_path(), &downloaded_to(&t, &eng.root("b"))).unwrap();
    assert_eq!(
        sent(&seeder, &t.info_hash),
        before,
        "nothing was downloaded"
    );
    // And it stays there across a restart.
    eng.restart().await;
    let back = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert_eq!(back.root_label, "b");
    eng.stop().await;
}

fn library_json(env: &TroveEnv) -> Value {
    let out = env.run_ok(&["library", "--json"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{out}"))
}

fn json_root<'a>(v: &'a Value, label: &str) -> &'a Value {
    v["roots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no root {label} in {v:#}"))
}

/// `trove library --json` and its human form, offline and through a running daemon: the
/// roots with their space, each torrent with the state of its data (complete, then files
/// missing after a deletion), the orphans with their sizes (a nested folder summed, a
/// symbolic link not followed, trove's own files left out); an unknown root is one
/// sentence.
#[test]
fn library_lists_roots_torrents_with_their_data_state_and_orphans() {
    let env = TroveEnv::new(TROVE, &["main", "other"]);
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "Kept Album",
        &[("a.bin", MIB), ("b.bin", 200_000)],
        64 * 1024,
    );
    seeder.seed(&t);
    env.add(&[
        OsString::from(&t.torrent_path),
        "--peer".into(),
        seeder.addr().into(),
    ]);
    let mut d = env.spawn_daemon(&["--exit-when-complete"]);
    assert!(
        d.wait_exit(Duration::from_secs(120)).success(),
        "{}",
        d.stderr()
    );

    let main = env.root_path("main");
    fs::create_dir_all(main.join("Stray/deep/er")).unwrap();
    fs::write(main.join("Stray/one.bin"), vec![1u8; 1000]).unwrap();
    fs::write(main.join("Stray/deep/er/two.bin"), vec![2u8; 2345]).unwrap();
    fs::write(main.join("loose.txt"), b"hello").unwrap();
    fs::write(main.join(".trove-scratch"), b"ours").unwrap();
    // A link to a big folder elsewhere counts as a link, not as that folder.
    std::os::unix::fs::symlink(payload.path(), main.join("link")).unwrap();

    let check = |v: &Value| {
        let r = json_root(v, "main");
        assert!(r["free_bytes"].as_u64().unwrap() > 0, "{r:#}");
        assert!(r["total_bytes"].as_u64().unwrap() >= r["free_bytes"].as_u64().unwrap());
        let torrents = r["torrents"].as_array().unwrap();
        assert_eq!(torrents.len(), 1, "{r:#}");
        assert_eq!(torrents[0]["info_hash"], t.info_hash.as_str());
        let orphans = r["orphans"].as_array().unwrap();
        let names: Vec<&str> = orphans
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Stray", "link", "loose.txt"], "{r:#}");
        assert_eq!(orphans[0]["bytes"], 3345);
        assert_eq!(orphans[0]["is_dir"], true);
        assert_eq!(orphans[1]["is_dir"], false);
        assert!(
            orphans[1]["bytes"].as_u64().unwrap() < 4096,
            "a link is not followed"
        );
        assert_eq!(orphans[2]["bytes"], 5);
        let other = json_root(v, "other");
        assert_eq!(other["torrents"].as_array().unwrap().len(), 0);
        torrents[0]["data"].clone()
    };
    // Offline.
    let data = check(&library_json(&env));
    assert_eq!(data["state"], "complete", "{data:#}");
    let human = env.run_ok(&["library"]);
    assert!(
        human.contains("main (default)") && human.contains("free of"),
        "{human}"
    );
    assert!(
        human.contains("complete") && human.contains("Kept Album"),
        "{human}"
    );
    assert!(
        human.contains("Stray/") && human.contains("3.3 KiB"),
        "{human}"
    );

    // Through a running daemon, after a file of the torrent is gone.
    fs::remove_file(main.join("Kept Album/b.bin")).unwrap();
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    let data = check(&library_json(&env));
    assert_eq!(data["state"], "files_missing", "{data:#}");
    assert_eq!(data["missing"], serde_json::json!(["b.bin"]));
    let human = env.run_ok(&["library", "--root", "main"]);
    assert!(
        human.contains("files missing") && human.contains("missing: b.bin"),
        "{human}"
    );
    assert!(!human.contains("other"), "{human}");
    let listed = env.list_json();
    let e = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["info_hash"] == t.info_hash.as_str())
        .unwrap();
    assert_eq!(e["state"], "error");
    assert_eq!(e["missing_data"]["missing"], serde_json::json!(["b.bin"]));
    let table = env.run_ok(&["list"]);
    assert!(table.contains("missing: b.bin"), "{table}");

    let out = env.run(&["library", "--root", "nowhere"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("no storage root 'nowhere'") && lines[0].contains("main, other"),
        "{err}"
    );
    daemon.terminate_and_wait();
}

/// Copies a folder tree (files and folders only).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Data that already sits in a root, an orphan folder the library lists and a single
/// file copied there from elsewhere, is adopted by adding its torrent to that root: it is
/// checked against the piece hashes and seeded, and nothing of it is downloaded. The
/// seeder's counters prove it: a third torrent whose data is not there, added with the
/// same seeder, downloads in full from it, while the two adopted ones get no byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_already_in_the_root_is_adopted_and_seeded_without_downloading() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let album = seeder.make_torrent(
        payload.path(),
        "Orphan Album",
        &[("a.bin", 3 * MIB), ("sub/b.bin", MIB + 123)],
        64 * 1024,
    );
    let single = seeder.make_torrent(
        payload.path(),
        "copied.iso",
        &[("copied.iso", 2 * MIB + 7)],
        64 * 1024,
    );
    let control = seeder.make_torrent(
        payload.path(),
        "control.bin",
        &[("control.bin", MIB)],
        64 * 1024,
    );
    for t in [&album, &single, &control] {
        seeder.seed(t);
    }
    let eng = Eng::start(&["main"]).await;
    let root = eng.root("main");
    copy_dir(&album.content_path(), &root.join("Orphan Album"));
    fs::copy(single.content_path(), root.join("copied.iso")).unwrap();

    // Before: the library lists both as orphans, belonging to no torrent.
    let report = eng.h().library().await.unwrap();
    let mut orphans: Vec<&str> = root_of(&report, "main")
        .orphans
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    orphans.sort();
    assert_eq!(orphans, ["Orphan Album", "copied.iso"]);

    let mut adopted = Vec::new();
    for t in [&album, &single] {
        let h = eng.add_file(t, &[&seeder], AddOptions::default()).await;
        let s = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
        assert_eq!(s.have_bytes, t.total_size, "{}: all of it checked", t.name);
        adopted.push(h);
    }
    // The control shows the seeder is reachable and serves trove.
    let c = eng
        .add_file(&control, &[&seeder], AddOptions::default())
        .await;
    eng.wait_state(&c, TorrentState::Seeding, LONG).await;
    sent_at_least(&seeder, &control.info_hash, control.total_size);

    for (t, h) in [&album, &single].iter().zip(&adopted) {
        assert_eq!(
            sent(&seeder, &t.info_hash),
            0,
            "{}: nothing downloaded",
            t.name
        );
        let s = torrent(&eng.h().snapshot(), h).unwrap();
        assert_eq!(
            s.downloaded_total, 0,
            "{}: trove counted no download",
            t.name
        );
    }
    trees_identical(&album.content_path(), &root.join("Orphan Album")).unwrap();
    trees_identical(&single.content_path(), &root.join("copied.iso")).unwrap();

    // After: no orphans left; both complete in the library.
    let report = eng.h().library().await.unwrap();
    let main = root_of(&report, "main");
    assert!(main.orphans.is_empty(), "{:?}", main.orphans);
    for h in &adopted {
        let lt = main.torrents.iter().find(|t| &t.info_hash == h).unwrap();
        assert!(matches!(lt.data, DataState::Complete), "{:?}", lt.data);
    }
}

/// Added with "descriptive files first" (and paused, then restarted: the choice is kept),
/// a release's cue sheet, log and cover arrive while its tracks have barely started, and
/// the tracks follow without another word; the torrent is never shown complete before the
/// tracks are in, and ends byte-identical to the seeder's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn descriptive_files_come_first_then_the_rest() {
    let payload = payload_dir();
    let probe = Peer::start();
    let album = probe.make_torrent(
        payload.path(),
        "Some Album",
        &[
            ("01 Intro.flac", 4 * MIB),
            ("CD.cue", 2000),
            ("02 Song.flac", 4 * MIB + 321),
            ("rip.log", 5000),
            ("Scans/cover.jpg", 300 * 1024),
        ],
        64 * 1024,
    );
    let seeder = Peer::seeding_with_limit(&album, MIB);
    let mut eng = Eng::start(&["main"]).await;
    let opts = AddOptions {
        paused: true,
        metadata_first: Some(trove_proto::command::DEFAULT_METADATA_SIZE),
        ..AddOptions::default()
    };
    let h = eng.add_file(&album, &[&seeder], opts).await;
    eng.restart().await;
    eng.h().run(Command::Resume(h.clone())).await.unwrap();

    let is_track = |path: &str| path.ends_with(".flac");
    let deadline = std::time::Instant::now() + LONG;
    let mut tracks_when_described = None;
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the album did not finish in time"
        );
        let d = eng.h().details(&h).await.unwrap();
        let summary = torrent(&eng.h().snapshot(), &h).unwrap();
        let tracks: u64 = d
            .files
            .iter()
            .filter(|f| is_track(&f.path))
            .map(|f| f.have_bytes)
            .sum();
        if summary.state == TorrentState::Seeding {
            assert_eq!(summary.have_bytes, album.total_size, "shown complete early");
            break;
        }
        let described = d
            .files
            .iter()
            .filter(|f| !is_track(&f.path))
            .all(|f| f.have_bytes == f.size);
        if described && tracks_when_described.is_none() {
            tracks_when_described = Some(tracks);
        }
        if tracks_when_described.is_none() {
            let done_tracks = d
                .files
                .iter()
                .filter(|f| is_track(&f.path) && f.have_bytes == f.size)
                .count();
            assert_eq!(
                done_tracks, 0,
                "a track finished before the descriptive files"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tracks_size = 8 * MIB + 321;
    let early = tracks_when_described.expect("the descriptive files were seen complete");
    println!("tracks had {early} of {tracks_size} bytes when the descriptive files were in");
    assert!(
        early < tracks_size / 4,
        "the tracks had {early} of {tracks_size} bytes when the descriptive files were in"
    );
    trees_identical(&album.content_path(), &eng.root("main").join("Some Album")).unwrap();
}
