//! The engine against real peers: a real librqbit session and sled store in this process,
//! Debian's libtorrent as seeders and leechers, everything on 127.0.0.1 with DHT, LSD and
//! UPnP off.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use trove_proto::command::{AddOptions, Command, TorrentSource};
use trove_proto::snapshot::{Limits, TorrentState};
use trove_testkit::engine::{Eng, LONG, MIB, addr, downloaded_to, payload_dir, torrent};
use trove_testkit::{Peer, trees_identical};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_single_and_multi_file_torrents_byte_identical() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let single = seeder.make_torrent(
        payload.path(),
        "single.bin",
        &[("single.bin", 3 * MIB + 123)],
        64 * 1024,
    );
    let multi = seeder.make_torrent(
        payload.path(),
        "Album ünïcode",
        &[
            ("cd1/01 Ωmega ü.flac", 2 * MIB + 7),
            ("cd1/deep/er/notes.txt", 1000),
            ("empty.nfo", 0),
            ("cover.jpg", 300_000),
        ],
        32 * 1024,
    );
    seeder.seed(&single);
    seeder.seed(&multi);

    let eng = Eng::start(&["main"]).await;
    let a = eng
        .add_file(&single, &[&seeder], AddOptions::default())
        .await;
    let b = eng
        .add_file(&multi, &[&seeder], AddOptions::default())
        .await;
    eng.wait_state(&a, TorrentState::Seeding, LONG).await;
    let done = eng.wait_state(&b, TorrentState::Seeding, LONG).await;
    assert_eq!(done.progress, 1.0);
    assert!(done.completed_at.is_some());
    let root = eng.root("main");
    trees_identical(&single.content_path(), &downloaded_to(&single, &root)).unwrap();
    trees_identical(&multi.content_path(), &downloaded_to(&multi, &root)).unwrap();
    assert!(
        downloaded_to(&multi, &root).join("empty.nfo").is_file(),
        "zero-byte file created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magnet_metadata_is_fetched_from_the_peer() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "from-magnet",
        &[("a/x.bin", MIB), ("b.bin", 70_000)],
        16 * 1024,
    );
    seeder.seed(&t);
    let eng = Eng::start(&["main"]).await;
    let added = eng
        .h()
        .add(
            TorrentSource::Magnet(t.magnet.clone()),
            AddOptions {
                peers: vec![addr(&seeder)],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(added.info_hash, t.info_hash);
    let done = eng
        .wait_state(&t.info_hash, TorrentState::Seeding, LONG)
        .await;
    assert_eq!(
        done.name, "from-magnet",
        "name comes from the fetched metadata"
    );
    assert_eq!(done.size, t.total_size);
    trees_identical(&t.content_path(), &downloaded_to(&t, &eng.root("main"))).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_transfer_and_resume_completes() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "pausable.bin",
        &[("pausable.bin", 8 * MIB)],
        64 * 1024,
    );
    seeder.seed_with_limit(&t, MIB);
    let eng = Eng::start(&["main"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait("some progress", LONG, |s| {
        torrent(s, &h).filter(|t| t.have_bytes >= MIB)
    })
    .await;
    // The detail pane's per-peer rates come from successive requests, a few seconds' worth:
    // ask on every snapshot until the seeder's row shows one.
    let mut rx = eng.h().watch();
    let deadline = tokio::time::Instant::now() + LONG;
    let d = loop {
        let d = eng.h().details(&h).await.unwrap();
        if d.peers
            .iter()
            .any(|p| p.download_rate > 0.0 && p.client.is_some())
        {
            break d;
        }
        assert!(
            d.summary.state == TorrentState::Downloading,
            "the download ended before the Peers tab showed a rate: {:?}",
            d.peers
        );
        tokio::time::timeout_at(deadline, rx.changed())
            .await
            .unwrap_or_else(|_| panic!("no peer rate shown in time: {:?}", d.peers))
            .expect("the engine kept running");
    };
    assert!(d.pieces.count > 0 && d.files.len() == 1);
    eng.h()
        .run(Command::Pause(h[..8].to_string()))
        .await
        .unwrap();
    let paused = eng.wait_state(&h, TorrentState::Paused, LONG).await;
    assert!(paused.progress < 1.0);
    // While paused, the seeder sees no connection from us.
    trove_testkit::wait_until("seeder to lose its peer", Duration::from_secs(30), || {
        (seeder.status(&t.info_hash).num_peers == 0).then_some(())
    });
    let before = seeder.status(&t.info_hash).total_payload_upload;
    // Observe three more published snapshots: progress must not move while paused.
    let mut seen = 0;
    let have = paused.have_bytes;
    eng.wait("three snapshots while paused", LONG, |s| {
        let t = torrent(s, &h).unwrap();
        assert_eq!(t.have_bytes, have, "progress moved while paused");
        assert_eq!(t.state, TorrentState::Paused);
        seen += 1;
        (seen > 3).then_some(())
    })
    .await;
    assert_eq!(seeder.status(&t.info_hash).total_payload_upload, before);
    eng.h().run(Command::Resume(h.clone())).await.unwrap();
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    trees_identical(&t.content_path(), &downloaded_to(&t, &eng.root("main"))).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_keeps_or_deletes_data_and_never_the_root() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let keep = seeder.make_torrent(
        payload.path(),
        "keep-me",
        &[("k/1.bin", 300_000), ("k2.bin", 1000)],
        16 * 1024,
    );
    let del = seeder.make_torrent(
        payload.path(),
        "delete-me.bin",
        &[("delete-me.bin", 500_000)],
        16 * 1024,
    );
    seeder.seed(&keep);
    seeder.seed(&del);
    let eng = Eng::start(&["main", "other"]).await;
    let k = eng.add_file(&keep, &[&seeder], AddOptions::default()).await;
    let d = eng
        .add_file(
            &del,
            &[&seeder],
            AddOptions {
                root: Some("other".into()),
                ..Default::default()
            },
        )
        .await;
    eng.wait_state(&k, TorrentState::Seeding, LONG).await;
    eng.wait_state(&d, TorrentState::Seeding, LONG).await;

    eng.h()
        .run(Command::Remove {
            id: k.clone(),
            delete_data: false,
        })
        .await
        .unwrap();
    eng.h()
        .run(Command::Remove {
            id: d.clone(),
            delete_data: true,
        })
        .await
        .unwrap();
    let s = eng.h().snapshot();
    assert!(torrent(&s, &k).is_none() && torrent(&s, &d).is_none());
    trees_identical(
        &keep.content_path(),
        &downloaded_to(&keep, &eng.root("main")),
    )
    .unwrap();
    assert!(
        !eng.root("other").join("delete-me.bin").exists(),
        "data deleted"
    );
    assert!(eng.root("other").is_dir(), "the root itself survives");
    // And they stay gone after a restart.
    let mut eng = eng;
    eng.restart().await;
    assert!(eng.h().snapshot().torrents.is_empty());
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_download_resumes_without_downloading_again() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let size = 16 * MIB;
    let t = seeder.make_torrent(
        payload.path(),
        "resume.bin",
        &[("resume.bin", size)],
        64 * 1024,
    );
    seeder.seed_with_limit(&t, 3 * MIB);
    let mut eng = Eng::start(&["main"]).await;
    let h = eng
        .add_file(
            &t,
            &[&seeder],
            AddOptions {
                only_files: None,
                ..Default::default()
            },
        )
        .await;
    let half = eng
        .wait("40% downloaded", LONG, |s| {
            torrent(s, &h).filter(|t| t.progress >= 0.4)
        })
        .await;
    eng.restart().await;
    let back = eng.wait("torrent restored", LONG, |s| torrent(s, &h)).await;
    assert!(
        back.downloaded_total >= half.downloaded_total,
        "lifetime counter kept"
    );
    let done = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert!(done.downloaded_total >= size);
    trees_identical(&t.content_path(), &downloaded_to(&t, &eng.root("main"))).unwrap();
    assert_sent_once(&seeder, &t, size);
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_paused_torrent_keeps_or_deletes_its_data_and_drops_its_bitfield() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let keep = seeder.make_torrent(
        payload.path(),
        "paused-keep",
        &[("a/1.bin", 200_000), ("2.bin", 1000)],
        16 * 1024,
    );
    let del = seeder.make_torrent(
        payload.path(),
        "paused-delete",
        &[("a/1.bin", 300_000), ("2.bin", 5000)],
        16 * 1024,
    );
    seeder.seed(&keep);
    seeder.seed(&del);
    let eng = Eng::start(&["main"]).await;
    let k = eng.add_file(&keep, &[&seeder], AddOptions::default()).await;
    let d = eng.add_file(&del, &[&seeder], AddOptions::default()).await;
    for h in [&k, &d] {
        eng.wait_state(h, TorrentState::Seeding, LONG).await;
        eng.h().run(Command::Pause(h.to_string())).await.unwrap();
        eng.wait_state(h, TorrentState::Paused, LONG).await;
        assert!(!eng.librqbit_holds(h));
        assert!(eng.bitfield_file(h).is_file(), "pausing wrote the bitfield");
    }
    // Choosing files while paused counts them without librqbit.
    eng.h()
        .run(Command::SelectFiles {
            id: k.clone(),
            files: vec![0],
        })
        .await
        .unwrap();
    let chosen = eng
        .wait("the selection counted", LONG, |s| {
            torrent(s, &k).filter(|x| x.selected_bytes == 200_000)
        })
        .await;
    assert_eq!(chosen.have_bytes, 200_000);
    assert_eq!(chosen.state, TorrentState::Paused);
    for (h, delete_data) in [(&k, false), (&d, true)] {
        eng.h()
            .run(Command::Remove {
                id: h.to_string(),
                delete_data,
            })
            .await
            .unwrap();
        assert!(!eng.bitfield_file(h).exists(), "the bitfield goes with it");
    }
    trees_identical(
        &keep.content_path(),
        &downloaded_to(&keep, &eng.root("main")),
    )
    .unwrap();
    assert!(
        !downloaded_to(&del, &eng.root("main")).exists(),
        "data deleted"
    );
    assert!(eng.root("main").is_dir(), "the root itself survives");
    let mut eng = eng;
    eng.restart().await;
    assert!(eng.h().snapshot().torrents.is_empty());
    eng.stop().await;
}

/// The seeder sent the payload about once (at most 15% more): nothing was downloaded twice.
fn assert_sent_once(seeder: &Peer, t: &trove_testkit::MadeTorrent, size: u64) {
    let sent = trove_testkit::wait_until("seeder counters", Duration::from_secs(10), || {
        let s = seeder.status(&t.info_hash).total_payload_upload;
        (s >= size).then_some(s)
    });
    assert!(
        sent as f64 <= size as f64 * 1.15,
        "seeder sent {sent} bytes for a {size}-byte torrent: data was downloaded twice"
    );
}

fn pieces_had(p: &trove_proto::snapshot::PieceMap) -> u32 {
    p.bitfield.iter().map(|b| b.count_ones()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_torrents_stay_out_of_librqbit_and_resume_where_they_stopped() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let size = 16 * MIB;
    let t = seeder.make_torrent(
        payload.path(),
        "dormant.bin",
        &[("dormant.bin", size)],
        64 * 1024,
    );
    seeder.seed_with_limit(&t, 3 * MIB);
    let mut eng = Eng::start(&["main"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait("30% downloaded", LONG, |s| {
        torrent(s, &h).filter(|t| t.progress >= 0.3)
    })
    .await;
    assert!(eng.librqbit_holds(&h), "a running torrent is in librqbit");
    eng.h().run(Command::Pause(h.clone())).await.unwrap();
    let paused = eng.wait_state(&h, TorrentState::Paused, LONG).await;
    assert!(!eng.librqbit_holds(&h), "pausing takes it out of librqbit");
    let before = eng.h().details(&h).await.unwrap();
    assert!(pieces_had(&before.pieces) > 0);
    assert!(before.files[0].have_bytes > 0);

    eng.restart().await;
    let back = eng.wait("torrent restored", LONG, |s| torrent(s, &h)).await;
    assert_eq!(back.state, TorrentState::Paused);
    assert_eq!(back.have_bytes, paused.have_bytes, "progress kept");
    assert!(
        back.downloaded_total >= paused.downloaded_total,
        "counter kept"
    );
    assert!(
        !eng.librqbit_holds(&h),
        "a paused torrent is not restored into librqbit"
    );
    // Pieces and per-file progress still show, from the bitfield file.
    let after = eng.h().details(&h).await.unwrap();
    assert_eq!(after.pieces.count, before.pieces.count);
    assert_eq!(pieces_had(&after.pieces), pieces_had(&before.pieces));
    assert_eq!(after.files[0].have_bytes, before.files[0].have_bytes);

    eng.h().run(Command::Resume(h.clone())).await.unwrap();
    assert!(eng.librqbit_holds(&h), "resuming hands it back to librqbit");
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    trees_identical(&t.content_path(), &downloaded_to(&t, &eng.root("main"))).unwrap();
    assert_sent_once(&seeder, &t, size);
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_completion_seeds_to_a_fresh_leecher() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "seedback",
        &[("x/1.bin", 2 * MIB), ("2.bin", 12345)],
        32 * 1024,
    );
    seeder.seed(&t);
    let mut eng = Eng::start(&["main"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    drop(seeder); // trove is now the only source
    eng.restart().await;
    let back = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert_eq!(back.progress, 1.0);
    let leech_dir = payload_dir();
    let leecher = Peer::start();
    leecher.leech(&t.torrent_path, leech_dir.path());
    leecher.connect(&t.info_hash, eng.port());
    leecher.wait_complete(&t.info_hash, LONG);
    trees_identical(&t.content_path(), &leech_dir.path().join(&t.name)).unwrap();
    let up = eng
        .wait("upload counted", LONG, |s| {
            torrent(s, &h).filter(|x| x.uploaded_total >= t.total_size)
        })
        .await;
    assert!(up.ratio > 0.9, "ratio {}", up.ratio);
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_roots_each_torrent_lands_in_its_own() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let a = seeder.make_torrent(
        payload.path(),
        "to-default.bin",
        &[("to-default.bin", 200_000)],
        16 * 1024,
    );
    let b = seeder.make_torrent(
        payload.path(),
        "to-isos",
        &[("disc/1.iso", 300_000)],
        16 * 1024,
    );
    seeder.seed(&a);
    seeder.seed(&b);
    let mut eng = Eng::start(&["movies", "linux-isos"]).await;
    let ha = eng.add_file(&a, &[&seeder], AddOptions::default()).await;
    let hb = eng
        .add_file(
            &b,
            &[&seeder],
            AddOptions {
                root: Some("linux-isos".into()),
                ..Default::default()
            },
        )
        .await;
    let ta = eng.wait_state(&ha, TorrentState::Seeding, LONG).await;
    let tb = eng.wait_state(&hb, TorrentState::Seeding, LONG).await;
    assert_eq!(ta.root_label, "movies");
    assert_eq!(tb.root_label, "linux-isos");
    trees_identical(&a.content_path(), &eng.root("movies").join(&a.name)).unwrap();
    trees_identical(&b.content_path(), &eng.root("linux-isos").join(&b.name)).unwrap();
    assert!(!eng.root("movies").join(&b.name).exists());
    let roots = eng.h().snapshot().roots.clone();
    assert_eq!(roots.len(), 2);
    assert!(
        roots
            .iter()
            .all(|r| r.free_bytes.is_some() && r.total_bytes.is_some())
    );
    let err = eng
        .h()
        .add(
            TorrentSource::File(a.torrent_path.clone()),
            AddOptions {
                root: Some("nope".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("'nope'") && err.contains("movies"), "{err}");
    // The choice survives a restart.
    eng.restart().await;
    let tb = eng.wait_state(&hb, TorrentState::Seeding, LONG).await;
    assert_eq!(tb.root_label, "linux-isos");
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_limit_holds_against_six_seeders() {
    let payload = payload_dir();
    let maker = Peer::start();
    let t = maker.make_torrent(
        payload.path(),
        "swarm.bin",
        &[("swarm.bin", 12 * MIB)],
        64 * 1024,
    );
    drop(maker);
    let seeders: Vec<Peer> = (0..6).map(|_| Peer::seeding_with_limit(&t, MIB)).collect();
    let eng = Eng::start(&["main"]).await;
    let limit = 2u32;
    let refs: Vec<&Peer> = seeders.iter().collect();
    let h = eng
        .add_file(
            &t,
            &refs,
            AddOptions {
                limits: Limits {
                    peers: Some(limit),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await;
    // Every seeder also dials us: the limit must hold for incoming peers too.
    for s in &seeders {
        s.connect(&t.info_hash, eng.port());
    }
    let mut max_seen = 0;
    let mut samples = 0;
    eng.wait("download under the peer limit", LONG, |s| {
        let x = torrent(s, &h).unwrap();
        max_seen = max_seen.max(x.peers_connected);
        samples += 1;
        assert_eq!(x.peer_limit, Some(limit));
        (x.state == TorrentState::Seeding).then_some(())
    })
    .await;
    let on_seeders: u64 = seeders
        .iter()
        .map(|s| s.status(&t.info_hash).num_peers)
        .sum();
    assert!(max_seen <= limit, "saw {max_seen} peers with limit {limit}");
    assert!(
        max_seen >= 1 && samples > 2,
        "the download really used peers"
    );
    assert!(
        on_seeders <= u64::from(limit),
        "seeders see {on_seeders} connections"
    );
    trees_identical(&t.content_path(), &downloaded_to(&t, &eng.root("main"))).unwrap();
}

/// Average download rate (from verified bytes) between the first moment `have` passes
/// `from` and the first moment it passes `to`.
async fn measure_rate(eng: &Eng, h: &str, from: u64, to: u64) -> f64 {
    let (t0, b0) = eng
        .wait("start of the measuring window", LONG, |s| {
            torrent(s, h)
                .filter(|t| t.have_bytes >= from)
                .map(|t| (Instant::now(), t.have_bytes))
        })
        .await;
    let (t1, b1) = eng
        .wait("end of the measuring window", LONG, |s| {
            torrent(s, h)
                .filter(|t| t.have_bytes >= to)
                .map(|t| (Instant::now(), t.have_bytes))
        })
        .await;
    b1.saturating_sub(b0) as f64 / (t1 - t0).as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_rate_limit_caps_download_and_changes_at_run_time() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "limited.bin",
        &[("limited.bin", 10 * MIB)],
        64 * 1024,
    );
    seeder.seed(&t);
    let cap = MIB;
    let eng = Eng::start_with(
        &["main"],
        Limits {
            download_bps: Some(cap),
            ..Default::default()
        },
    )
    .await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    let rate = measure_rate(&eng, &h, MIB, 4 * MIB).await;
    println!("session cap {cap} B/s: measured {rate:.0} B/s");
    assert!(
        rate <= cap as f64 * 1.15,
        "{rate:.0} B/s under a {cap} B/s cap"
    );
    assert!(
        rate >= cap as f64 * 0.5,
        "{rate:.0} B/s: the cap, not something else, limits it"
    );
    // Lift the cap while running: the rest arrives much faster.
    let before = eng
        .wait("some progress", LONG, |s| torrent(s, &h))
        .await
        .have_bytes;
    let lifted = Instant::now();
    eng.h()
        .run(Command::SetGlobalLimits(Limits::default()))
        .await
        .unwrap();
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let fast = (10 * MIB - before) as f64 / lifted.elapsed().as_secs_f64();
    assert!(
        fast > cap as f64 * 2.0,
        "{fast:.0} B/s after lifting the cap"
    );
    trees_identical(&t.content_path(), &downloaded_to(&t, &eng.root("main"))).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torrent_rate_limit_set_while_running_is_applied_without_downloading_again() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let size = 10 * MIB;
    let t = seeder.make_torrent(
        payload.path(),
        "tlimit.bin",
        &[("tlimit.bin", size)],
        64 * 1024,
    );
    seeder.seed(&t);
    let cap = MIB;
    let eng = Eng::start(&["main"]).await;
    let h = eng
        .add_file(
            &t,
            &[&seeder],
            AddOptions {
                limits: Limits {
                    download_bps: Some(cap),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await;
    let rate = measure_rate(&eng, &h, MIB / 2, 3 * MIB).await;
    println!("torrent cap {cap} B/s: measured {rate:.0} B/s");
    assert!(
        rate <= cap as f64 * 1.15,
        "{rate:.0} B/s under a {cap} B/s torrent cap"
    );
    // Tighten it while running.
    let tight = MIB / 2;
    eng.h()
        .run(Command::SetTorrentLimits {
            id: h.clone(),
            limits: Limits {
                download_bps: Some(tight),
                ..Default::default()
            },
        })
        .await
        .unwrap();
    let s = eng
        .wait("limit shown", LONG, |s| {
            torrent(s, &h).filter(|t| t.limits.download_bps == Some(tight))
        })
        .await;
    let from = s.have_bytes + MIB / 4;
    let slow = measure_rate(&eng, &h, from, from + 2 * MIB).await;
    println!("torrent cap tightened to {tight} B/s: measured {slow:.0} B/s");
    assert!(
        slow <= tight as f64 * 1.2,
        "{slow:.0} B/s under a {tight} B/s cap"
    );
    eng.h()
        .run(Command::SetTorrentLimits {
            id: h.clone(),
            limits: Limits::default(),
        })
        .await
        .unwrap();
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    trees_identical(&t.content_path(), &downloaded_to(&t, &eng.root("main"))).unwrap();
    assert_sent_once(&seeder, &t, size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_rate_matches_the_rate_measured_on_disk() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let cap: u64 = 2_000_000;
    let t = seeder.make_torrent(
        payload.path(),
        "rate.bin",
        &[("rate.bin", 24 * MIB)],
        64 * 1024,
    );
    seeder.seed_with_limit(&t, cap);
    let eng = Eng::start(&["main"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    let file = eng.root("main").join("rate.bin");
    // Skip the first seconds (slow start), then compare over a 6 s window: the engine's
    // reported rate against bytes verified on disk.
    let on_disk = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let _ = on_disk();
    // Progress never goes back, not even while librqbit checks the new files (its own
    // progress then counts checked bytes).
    let mut last_have = 0;
    let (t0, b0) = eng
        .wait("warm-up", LONG, |s| {
            let x = torrent(s, &h)?;
            assert!(
                x.have_bytes >= last_have,
                "have went back from {last_have} to {} ({:?})",
                x.have_bytes,
                x.state
            );
            last_have = x.have_bytes;
            (x.have_bytes >= 4 * MIB).then(|| (Instant::now(), x.have_bytes))
        })
        .await;
    let mut reported = Vec::new();
    // Every snapshot of the window, for the failure message.
    let mut seen = Vec::new();
    let (t1, b1) = eng
        .wait("measuring window", LONG, |s| {
            let x = torrent(s, &h)?;
            seen.push(format!(
                "{:.2}s {} {:?} {:.0}",
                t0.elapsed().as_secs_f64(),
                x.have_bytes,
                x.state,
                x.download_rate
            ));
            if t0.elapsed() >= Duration::from_secs(1) {
                reported.push(x.download_rate);
            }
            (t0.elapsed() >= Duration::from_secs(6)).then(|| (Instant::now(), x.have_bytes))
        })
        .await;
    // Saturating: a stall (or a piece dropped after a failed check) reads as 0 B/s.
    let measured = b1.saturating_sub(b0) as f64 / (t1 - t0).as_secs_f64();
    reported.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = reported[reported.len() / 2];
    let err = (median - measured).abs() / measured;
    println!(
        "reported median {median:.0} B/s, measured {measured:.0} B/s, error {:.1}%",
        err * 100.0
    );
    assert!(
        err <= 0.15,
        "reported {median:.0} B/s vs measured {measured:.0} B/s (from {b0} bytes); snapshots: {seen:#?}"
    );
    assert!(
        (measured - cap as f64).abs() / (cap as f64) < 0.3,
        "seeder cap not in force: {measured:.0}"
    );
    // The session-wide rate and its history follow the same bytes.
    let snap = eng.h().snapshot();
    assert!(snap.download_rate > 0.0 && !snap.download_history.is_empty());
}

/// Data already in the root (copied there, or adopted) is checked and seeded, and only
/// what is missing is downloaded: the seeder sends the missing file and nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_already_in_the_root_is_checked_and_only_the_rest_downloaded() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let (have, missing) = (6 * MIB, 2 * MIB);
    let t = seeder.make_torrent(
        payload.path(),
        "Adopted Album",
        &[("a.bin", have), ("b.bin", missing)],
        64 * 1024,
    );
    seeder.seed(&t);
    let eng = Eng::start(&["main"]).await;
    let into = eng.root("main").join("Adopted Album");
    std::fs::create_dir_all(&into).unwrap();
    std::fs::copy(t.content_path().join("a.bin"), into.join("a.bin")).unwrap();
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    trees_identical(&t.content_path(), &into).unwrap();
    let sent = trove_testkit::wait_until("seeder counters", Duration::from_secs(10), || {
        let s = seeder.status(&t.info_hash).total_payload_upload;
        (s >= missing).then_some(s)
    });
    println!("the seeder sent {sent} bytes for the {missing}-byte missing file");
    assert!(
        sent as f64 <= missing as f64 * 1.15,
        "the seeder sent {sent} bytes: data already in the root was downloaded again"
    );
}

/// A row's rate is what arrives: with one seeder capped, no snapshot (including the first
/// seconds, when the rate window is still short) and no peer row in the details shows more
/// than the cap, beyond the slack of the seeder's own token bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_shown_never_exceed_what_a_capped_seeder_sends() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let cap: u64 = 512 * 1024;
    let size = 5 * MIB;
    let t = seeder.make_torrent(
        payload.path(),
        "capped.bin",
        &[("capped.bin", size)],
        64 * 1024,
    );
    seeder.seed_with_limit(&t, cap);
    let eng = Eng::start(&["main"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    let mut rows = Vec::new();
    let mut peer_rows = Vec::new();
    let mut details_asked = 0;
    let mut rx = eng.h().watch();
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let snap = rx.borrow_and_update().clone();
        let Some(s) = torrent(&snap, &h) else {
            panic!("the torrent left the session")
        };
        rows.push((s.have_bytes, s.download_rate));
        // The Peers tab's figures, sampled on every other snapshot (details cost a call).
        if details_asked % 2 == 0 {
            let d = eng.h().details(&h).await.unwrap();
            peer_rows.extend(d.peers.iter().map(|p| p.download_rate));
        }
        details_asked += 1;
        if s.state == TorrentState::Seeding {
            break;
        }
        tokio::time::timeout_at(deadline, rx.changed())
            .await
            .expect("the download finished in time")
            .expect("the engine kept running");
    }
    let shown_max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let peer_max = peer_rows.iter().copied().fold(0.0, f64::max);
    println!(
        "cap {cap} B/s: highest row rate {shown_max:.0} B/s, highest peer rate {peer_max:.0} B/s over {} snapshots",
        rows.len()
    );
    let slack = cap as f64 * 1.2;
    assert!(
        shown_max <= slack,
        "a row showed {shown_max:.0} B/s from a seeder capped at {cap} B/s: {rows:?}"
    );
    assert!(
        peer_max <= slack,
        "the Peers tab showed {peer_max:.0} B/s from a seeder capped at {cap} B/s: {peer_rows:?}"
    );
    assert!(
        shown_max >= cap as f64 * 0.5 && rows.len() >= 5,
        "the download was watched while it ran: {rows:?}"
    );
}

/// The dashboard asks for details on every snapshot; if answering published a snapshot,
/// the two would spin at full CPU (as a benchmark once found). Queries must not publish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_queries_do_not_publish_snapshots() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(payload.path(), "q.bin", &[("q.bin", MIB)], 32 * 1024);
    let eng = Eng::start(&["main"]).await;
    let opts = AddOptions {
        paused: true,
        ..AddOptions::default()
    };
    let h = eng.add_file(&t, &[], opts).await;
    eng.wait_state(&h, TorrentState::Paused, LONG).await;

    let mut rx = eng.h().watch();
    rx.borrow_and_update();
    let started = Instant::now();
    let mut published = 0u64;
    for _ in 0..300 {
        eng.h().details(&h).await.unwrap();
        if rx.has_changed().unwrap() {
            published += 1;
            rx.borrow_and_update();
        }
    }
    // Only the engine's own once-a-second tick may publish meanwhile.
    let allowed = started.elapsed().as_secs() + 2;
    assert!(
        published <= allowed,
        "300 details queries saw {published} snapshots in {:?} (ticks allow {allowed})",
        started.elapsed()
    );
}

/// BEP 47: librqbit numbers padding entries as files, trove does not. `only_files` and
/// the Files tab's selection (trove's numbering) must reach the file trove showed, and
/// per-file progress must come back to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_files_on_a_padded_torrent_picks_the_file_trove_shows() {
    let payload = payload_dir();
    let seeder = Peer::start();
    // librqbit's list: 0 a.bin, 1 .pad, 2 b.bin, 3 .pad, 4 c.bin (5 .pad); trove's: a, b, c.
    let files = [("a.bin", 20_000), ("b.bin", 50_000), ("c.bin", 7_000)];
    let t = seeder.make_padded_torrent(payload.path(), "padded", &files, 16 * 1024);
    assert!(
        t.pad_files >= 2,
        "libtorrent made {} pad files",
        t.pad_files
    );
    seeder.seed(&t);
    let eng = Eng::start(&["main"]).await;
    let h = eng
        .add_file(
            &t,
            &[&seeder],
            AddOptions {
                only_files: Some(vec![2]),
                ..Default::default()
            },
        )
        .await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let src = t.content_path();
    let dst = downloaded_to(&t, &eng.root("main"));
    let same = |f: &str| trove_testkit::files_identical(&src.join(f), &dst.join(f));
    assert!(same("c.bin"), "the selected file landed byte-identical");
    assert!(
        !same("a.bin") && !same("b.bin"),
        "unselected files stayed out"
    );

    let d = eng.h().details(&h).await.unwrap();
    let shown: Vec<(&str, u64, bool, u64)> = d
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.size, f.selected, f.have_bytes))
        .collect();
    assert_eq!(
        shown,
        [
            ("a.bin", 20_000, false, 0),
            ("b.bin", 50_000, false, 0),
            ("c.bin", 7_000, true, 7_000),
        ]
    );

    // The Files tab's selection: add b.bin (trove index 1).
    eng.h()
        .run(Command::SelectFiles {
            id: h.clone(),
            files: vec![1, 2],
        })
        .await
        .unwrap();
    let deadline = Instant::now() + LONG;
    loop {
        let d = eng.h().details(&h).await.unwrap();
        if d.files[1].have_bytes == 50_000 {
            assert!(d.files[1].selected && d.files[2].selected && !d.files[0].selected);
            assert_eq!((d.files[0].have_bytes, d.files[2].have_bytes), (0, 7_000));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "b.bin never completed: {:?}",
            d.files
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert!(same("b.bin") && same("c.bin"), "both selected files landed");
    assert!(!same("a.bin"), "a.bin stayed out");
}

// ---------------------------------------------------------------------------------------
// Retrying, re-checking, choosing files again, trackers, roots the config lost
// ---------------------------------------------------------------------------------------

/// A torrent in error is retried by Resume: while the cause remains the error comes back
/// with its message, once it is gone the torrent completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_errored_torrent_is_retried_by_resume() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "retry.bin",
        &[("retry.bin", 4 * MIB)],
        64 * 1024,
    );
    seeder.seed_with_limit(&t, 512 * 1024);
    let eng = Eng::start(&["main"]).await;
    let root = eng.root("main");
    let away = root.with_extension("away");
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait("some progress", LONG, |s| {
        torrent(s, &h).filter(|t| t.have_bytes > 0)
    })
    .await;
    std::fs::rename(&root, &away).unwrap();
    let failed = eng.wait_state(&h, TorrentState::Error, LONG).await;
    assert!(failed.error.unwrap().contains("main"));

    let e = eng.h().run(Command::Resume(h.clone())).await.unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let still = torrent(&eng.h().snapshot(), &h).unwrap();
    assert_eq!(still.state, TorrentState::Error);
    assert!(still.error.unwrap().contains("does not exist"));

    std::fs::rename(&away, &root).unwrap();
    eng.h().run(Command::Resume(h.clone())).await.unwrap();
    let now = torrent(&eng.h().snapshot(), &h).unwrap();
    assert_ne!(now.state, TorrentState::Error, "{now:?}");
    assert_eq!(now.error, None);
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    trees_identical(&t.content_path(), &downloaded_to(&t, &root)).unwrap();
}

/// Recheck hashes the data again: a completed torrent whose file was overwritten behind
/// trove's back stops claiming it and fetches the bad pieces again; a paused one whose file
/// was deleted is held as missing data when resumed, and fetched again once re-checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recheck_and_resume_notice_data_changed_behind_troves_back() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "verify.bin",
        &[("verify.bin", 4 * MIB)],
        64 * 1024,
    );
    seeder.seed_with_limit(&t, MIB);
    let eng = Eng::start(&["main"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let file = downloaded_to(&t, &eng.root("main"));
    std::fs::write(&file, vec![0u8; 4 * MIB as usize]).unwrap();

    eng.h()
        .run(Command::Recheck(h[..8].to_string()))
        .await
        .unwrap();
    eng.wait("the check to find the zeroed pieces", LONG, |s| {
        torrent(s, &h).filter(|t| t.state == TorrentState::Downloading && t.progress < 0.5)
    })
    .await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    trees_identical(&t.content_path(), &file).unwrap();

    eng.h().run(Command::Pause(h.clone())).await.unwrap();
    std::fs::remove_file(&file).unwrap();
    // Resuming is not asking for a download: the torrent is held, naming the file...
    let held = eng.h().run(Command::Resume(h.clone())).await.unwrap_err();
    assert!(held.to_string().contains("verify.bin"), "{held}");
    let now = torrent(&eng.h().snapshot(), &h).unwrap();
    assert_eq!(now.state, TorrentState::Error);
    assert_eq!(now.missing_data.unwrap().missing, ["verify.bin"]);
    // ...until a re-check, which finds the pieces gone and fetches them.
    eng.h().run(Command::Recheck(h.clone())).await.unwrap();
    eng.wait("the re-check to see the file is gone", LONG, |s| {
        torrent(s, &h).filter(|t| t.state == TorrentState::Downloading && t.progress < 0.5)
    })
    .await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    trees_identical(&t.content_path(), &file).unwrap();
}

/// A magnet's `--only-files` naming a file its metadata lacks fails with an error that says
/// how to choose again, keeps the metadata, and a new selection clears it and downloads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magnet_selection_past_its_files_can_be_chosen_again() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "one-file",
        &[("a.bin", MIB), ("b.bin", 70_000)],
        16 * 1024,
    );
    seeder.seed(&t);
    let eng = Eng::start(&["main"]).await;
    let refused = eng
        .h()
        .add(
            TorrentSource::Magnet(t.magnet.clone()),
            AddOptions {
                only_files: Some(vec![0, 0]),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("twice"), "{refused}");
    let refused = eng
        .h()
        .add(
            TorrentSource::Magnet(t.magnet.clone()),
            AddOptions {
                only_files: Some(vec![200_000]),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("200000"), "{refused}");

    eng.h()
        .add(
            TorrentSource::Magnet(t.magnet.clone()),
            AddOptions {
                peers: vec![addr(&seeder)],
                only_files: Some(vec![5]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let h = t.info_hash.clone();
    let failed = eng.wait_state(&h, TorrentState::Error, LONG).await;
    let msg = failed.error.unwrap();
    assert!(
        msg.contains("file index 5") && msg.contains("trove select"),
        "{msg}"
    );
    let d = eng.h().details(&h).await.unwrap();
    assert_eq!(d.files.len(), 2, "the metadata is kept");

    eng.h()
        .run(Command::SelectFiles {
            id: h.clone(),
            files: vec![1],
        })
        .await
        .unwrap();
    let done = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert_eq!(done.error, None);
    assert_eq!(done.selected_bytes, 70_000);
}

/// SetTrackers replaces the list (kept across a restart); details show it and the magnet
/// link names each tracker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trackers_are_set_kept_and_named_in_the_magnet_link() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(payload.path(), "tr.bin", &[("tr.bin", MIB)], 64 * 1024);
    seeder.seed(&t);
    let mut eng = Eng::start(&["main"]).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let d = eng.h().details(&h).await.unwrap();
    assert!(
        d.magnet
            .starts_with(&format!("magnet:?xt=urn:btih:{h}&dn=tr.bin")),
        "{}",
        d.magnet
    );

    let list = vec![
        "http://127.0.0.1:1/announce".to_string(),
        "udp://127.0.0.1:2".to_string(),
    ];
    let bad = eng
        .h()
        .run(Command::SetTrackers {
            id: h.clone(),
            trackers: vec!["nonsense".into()],
        })
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("not a tracker URL"), "{bad}");
    eng.h()
        .run(Command::SetTrackers {
            id: h.clone(),
            trackers: list.clone(),
        })
        .await
        .unwrap();
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    for _ in 0..2 {
        let d = eng.h().details(&h).await.unwrap();
        let urls: Vec<&str> = d.trackers.iter().map(|t| t.url.as_str()).collect();
        assert_eq!(urls, list);
        assert!(
            d.magnet.ends_with(
                "&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=udp%3A%2F%2F127.0.0.1%3A2"
            ),
            "{}",
            d.magnet
        );
        eng.restart().await;
        eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    }
}

/// A root the config file no longer declares: its torrents go on from the folder recorded
/// when they were added; once that folder is gone the error names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_keeps_its_root_folder_when_the_config_loses_the_root() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_torrent(payload.path(), "kept.bin", &[("kept.bin", MIB)], 64 * 1024);
    seeder.seed(&t);
    let mut eng = Eng::start(&["main", "other"]).await;
    let main = eng.root("main");
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;

    eng.forget_root("main");
    eng.restart().await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let d = eng.h().details(&h).await.unwrap();
    assert_eq!(d.save_path, main);

    eng.h().run(Command::Pause(h.clone())).await.unwrap();
    let away = main.with_extension("away");
    std::fs::rename(&main, &away).unwrap();
    let e = eng.h().run(Command::Resume(h.clone())).await.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&main.display().to_string()) && msg.contains("[[roots]]"),
        "{msg}"
    );
    // The folder back: a paused torrent's stale error is gone at the next start.
    eng.h().run(Command::Pause(h.clone())).await.unwrap();
    std::fs::rename(&away, &main).unwrap();
    eng.restart().await;
    let paused = eng.wait_state(&h, TorrentState::Paused, LONG).await;
    assert_eq!(paused.error, None);
}
