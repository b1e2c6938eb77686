//! The queue and seeding goals against real peers: a real librqbit session and sled store
//! in this process, Debian's libtorrent as seeders and leechers, all on 127.0.0.1 with
//! DHT, LSD and UPnP off.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trove_proto::command::{AddOptions, Command, TorrentSource};
use trove_proto::queue::{GoalAction, GoalKind, QueueLimits, QueueMove, SeedingGoals};
use trove_proto::snapshot::{SessionSnapshot, TorrentState};
use trove_testkit::engine::{Eng, LONG, MIB, payload_dir, torrent};
use trove_testkit::{MadeTorrent, Peer, trees_identical, write_fake};

fn downloads(n: u32) -> QueueLimits {
    QueueLimits {
        max_active_downloads: n,
        ..Default::default()
    }
}

fn downloading(s: &SessionSnapshot) -> usize {
    s.torrents
        .iter()
        .filter(|t| t.state == TorrentState::Downloading)
        .count()
}

/// Adds a fake torrent (no peer can serve it: it downloads forever) and returns its hash.
async fn add_fake(eng: &Eng, dir: &std::path::Path, name: &str) -> String {
    eng.h()
        .add(
            TorrentSource::File(write_fake(dir, name, MIB)),
            AddOptions::default(),
        )
        .await
        .unwrap()
        .info_hash
}

/// Puts the payload of `t` in the root, so trove adds it complete and seeds it having
/// downloaded nothing (its ratio is then uploaded over its size).
fn preload(eng: &Eng, t: &MadeTorrent) {
    std::fs::copy(t.content_path(), eng.root("main").join(&t.name)).unwrap();
}

/// Records the most torrents seen downloading at once over every snapshot published.
fn watch_downloading(eng: &Eng) -> (Arc<Mutex<usize>>, tokio::task::JoinHandle<()>) {
    let most = Arc::new(Mutex::new(0));
    let seen = most.clone();
    let mut rx = eng.h().watch();
    let task = tokio::spawn(async move {
        loop {
            let n = downloading(&rx.borrow_and_update().clone());
            {
                let mut m = seen.lock().unwrap();
                *m = (*m).max(n);
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
    (most, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_torrents_with_two_download_slots_never_run_more_than_two_and_all_complete() {
    let payload = payload_dir();
    let seeders: Vec<Peer> = (0..5).map(|_| Peer::start()).collect();
    let made: Vec<MadeTorrent> = seeders
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let name = format!("q{i}.bin");
            let t = s.make_torrent(payload.path(), &name, &[(&name, 3 * MIB)], 64 * 1024);
            // Capped, so each download lasts a while and the slots are really contended.
            s.seed_with_limit(&t, 3 * MIB);
            t
        })
        .collect();
    let eng = Eng::start(&["main"]).await;
    eng.h()
        .run(Command::SetQueueLimits(downloads(2)))
        .await
        .unwrap();
    let (most, watcher) = watch_downloading(&eng);
    let mut hashes = Vec::new();
    for (t, s) in made.iter().zip(&seeders) {
        hashes.push(eng.add_file(t, &[s], AddOptions::default()).await);
        assert!(downloading(&eng.h().snapshot()) <= 2);
    }
    let waiting = eng
        .wait("three torrents waiting for a slot", LONG, |s| {
            let w: Vec<_> = s
                .torrents
                .iter()
                .filter(|t| t.queue.as_ref().is_some_and(|q| q.waiting))
                .collect();
            (w.len() == 3).then(|| w.iter().map(|t| t.state).collect::<Vec<_>>())
        })
        .await;
    assert!(waiting.iter().all(|s| *s == TorrentState::Queued));
    for h in &hashes {
        eng.wait_state(h, TorrentState::Seeding, LONG).await;
    }
    watcher.abort();
    let most = *most.lock().unwrap();
    println!("most torrents downloading at once: {most}");
    assert!(most <= 2, "{most} torrents downloaded at once");
    assert_eq!(most, 2, "two slots were used");
    for t in &made {
        trees_identical(&t.content_path(), &eng.root("main").join(&t.name)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_torrent_up_makes_it_the_next_to_start() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let first = seeder.make_torrent(
        payload.path(),
        "first.bin",
        &[("first.bin", 4 * MIB)],
        64 * 1024,
    );
    let b = seeder.make_torrent(payload.path(), "b.bin", &[("b.bin", MIB)], 64 * 1024);
    let c = seeder.make_torrent(payload.path(), "c.bin", &[("c.bin", MIB)], 64 * 1024);
    seeder.seed_with_limit(&first, 2 * MIB);
    seeder.seed(&b);
    seeder.seed(&c);
    let eng = Eng::start(&["main"]).await;
    eng.h()
        .run(Command::SetQueueLimits(downloads(1)))
        .await
        .unwrap();
    let h1 = eng
        .add_file(&first, &[&seeder], AddOptions::default())
        .await;
    let hb = eng.add_file(&b, &[&seeder], AddOptions::default()).await;
    let hc = eng.add_file(&c, &[&seeder], AddOptions::default()).await;
    let s = eng.h().snapshot();
    let place = |h: &str| torrent(&s, h).unwrap().queue.unwrap().position;
    assert_eq!((place(&h1), place(&hb), place(&hc)), (1, 2, 3));
    assert_eq!(torrent(&s, &hb).unwrap().state, TorrentState::Queued);
    eng.h()
        .run(Command::Queue {
            ids: vec![hc.clone()],
            to: QueueMove::Up,
        })
        .await
        .unwrap();
    let s = eng.h().snapshot();
    let place = |h: &str| torrent(&s, h).unwrap().queue.unwrap().position;
    assert_eq!((place(&hb), place(&hc)), (3, 2));
    assert!(
        torrent(&s, &h1).unwrap().progress < 1.0,
        "the first torrent still holds the slot"
    );
    // The first one to leave the queue once the slot frees is c, not b.
    let started = eng
        .wait("b or c to start", LONG, |s| {
            [&hb, &hc]
                .into_iter()
                .find(|h| torrent(s, h).is_some_and(|t| t.state != TorrentState::Queued))
                .cloned()
        })
        .await;
    assert_eq!(started, hc, "the torrent moved up started first");
    eng.wait_state(&hb, TorrentState::Seeding, LONG).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ratio_goal_pauses_the_torrent_once_a_leecher_has_it_all() {
    let payload = payload_dir();
    let maker = Peer::start();
    let size = 8 * MIB;
    let t = maker.make_torrent(
        payload.path(),
        "ratio.bin",
        &[("ratio.bin", size)],
        64 * 1024,
    );
    let eng = Eng::start(&["main"]).await;
    preload(&eng, &t);
    let h = eng.add_file(&t, &[], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    eng.h()
        .run(Command::SetGoals {
            id: Some(h.clone()),
            goals: Some(SeedingGoals {
                ratio: Some(1.0),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let s = eng.h().snapshot();
    let q = torrent(&s, &h).unwrap().queue.unwrap();
    assert!(q.own_goals);
    assert_eq!(q.progress[0].kind, GoalKind::Ratio);
    assert_eq!(q.progress[0].target, 1.0);

    // Record when the torrent is seen paused, while this thread watches the leecher.
    let paused_at = Arc::new(Mutex::new(None));
    let seen = paused_at.clone();
    let mut rx = eng.h().watch();
    let hash = h.clone();
    let watcher = tokio::spawn(async move {
        loop {
            let snap = rx.borrow_and_update().clone();
            if torrent(&snap, &hash).is_some_and(|t| t.state == TorrentState::Paused) {
                *seen.lock().unwrap() = Some(Instant::now());
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
    let leech_dir = payload_dir();
    let leecher = Peer::start();
    leecher.leech(&t.torrent_path, leech_dir.path());
    leecher.connect(&t.info_hash, eng.port());
    let deadline = Instant::now() + LONG;
    let complete_at = loop {
        if leecher.status(&t.info_hash).progress >= 1.0 {
            break Instant::now();
        }
        assert!(Instant::now() < deadline, "the leecher did not complete");
        std::thread::sleep(Duration::from_millis(20));
    };
    let paused = eng.wait_state(&h, TorrentState::Paused, LONG).await;
    watcher.await.unwrap();
    let paused_at = paused_at.lock().unwrap().unwrap();
    let delay = paused_at.saturating_duration_since(complete_at);
    println!("paused {delay:?} after the leecher had the whole torrent");
    assert!(delay <= Duration::from_secs(2), "paused {delay:?} after");
    assert!(paused.uploaded_total >= size);
    assert!(paused.ratio >= 1.0);
    trees_identical(&t.content_path(), &leech_dir.path().join(&t.name)).unwrap();
    assert!(!eng.librqbit_holds(&h), "a paused torrent leaves librqbit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeding_time_goal_removes_the_torrent_and_keeps_its_data() {
    let payload = payload_dir();
    let maker = Peer::start();
    let t = maker.make_torrent(
        payload.path(),
        "timed.bin",
        &[("timed.bin", MIB)],
        64 * 1024,
    );
    let eng = Eng::start(&["main"]).await;
    eng.h()
        .run(Command::SetGoals {
            id: None,
            goals: Some(SeedingGoals {
                seeding_secs: Some(2),
                action: GoalAction::Remove,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    preload(&eng, &t);
    let started = Instant::now();
    let h = eng.add_file(&t, &[], AddOptions::default()).await;
    let seeding = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let q = seeding.queue.unwrap();
    assert!(!q.own_goals, "the session's goals apply");
    assert_eq!(q.progress[0].kind, GoalKind::SeedingTime);
    eng.wait("the torrent to be removed", LONG, |s| {
        torrent(s, &h).is_none().then_some(())
    })
    .await;
    let took = started.elapsed();
    println!("removed {took:?} after it was added");
    assert!(took >= Duration::from_secs(2), "removed before its goal");
    assert!(
        eng.root("main").join(&t.name).is_file(),
        "removing at a goal keeps the data"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_torrent_runs_beyond_the_limit() {
    let fakes = payload_dir();
    let eng = Eng::start(&["main"]).await;
    eng.h()
        .run(Command::SetQueueLimits(downloads(1)))
        .await
        .unwrap();
    let a = add_fake(&eng, fakes.path(), "a").await;
    let b = add_fake(&eng, fakes.path(), "b").await;
    eng.wait_state(&a, TorrentState::Downloading, LONG).await;
    let s = eng.h().snapshot();
    assert_eq!(torrent(&s, &b).unwrap().state, TorrentState::Queued);
    assert!(
        !eng.librqbit_holds(&b),
        "a queued torrent stays out of librqbit"
    );
    eng.h()
        .run(Command::Force {
            ids: vec![b.clone()],
            on: true,
        })
        .await
        .unwrap();
    let forced = eng.wait_state(&b, TorrentState::Downloading, LONG).await;
    assert!(forced.queue.unwrap().forced);
    assert!(eng.librqbit_holds(&b));
    let s = eng.h().snapshot();
    assert_eq!(
        downloading(&s),
        2,
        "the forced one runs beside the one with the slot"
    );
    eng.h()
        .run(Command::Force {
            ids: vec![b.clone()],
            on: false,
        })
        .await
        .unwrap();
    let s = eng.h().snapshot();
    assert_eq!(torrent(&s, &b).unwrap().state, TorrentState::Queued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_queue_order_the_limits_the_goals_and_forced_starts() {
    let fakes = payload_dir();
    let mut eng = Eng::start(&["main"]).await;
    eng.h()
        .run(Command::SetQueueLimits(QueueLimits {
            max_active_downloads: 1,
            max_active_torrents: 5,
            slow_after_secs: Some(600),
            ..Default::default()
        }))
        .await
        .unwrap();
    let a = add_fake(&eng, fakes.path(), "a").await;
    let b = add_fake(&eng, fakes.path(), "b").await;
    let c = add_fake(&eng, fakes.path(), "c").await;
    let d = add_fake(&eng, fakes.path(), "d").await;
    let goals = SeedingGoals {
        ratio: Some(2.5),
        seeding_secs: Some(3600),
        idle_secs: Some(600),
        action: GoalAction::Remove,
    };
    let session_goals = SeedingGoals {
        ratio: Some(1.0),
        ..Default::default()
    };
    for cmd in [
        Command::Queue {
            ids: vec![c.clone()],
            to: QueueMove::Top,
        },
        Command::Force {
            ids: vec![d.clone()],
            on: true,
        },
        Command::SetGoals {
            id: Some(b.clone()),
            goals: Some(goals),
        },
        Command::SetGoals {
            id: None,
            goals: Some(session_goals),
        },
    ] {
        eng.h().run(cmd).await.unwrap();
    }
    eng.wait_state(&c, TorrentState::Downloading, LONG).await;
    eng.wait_state(&d, TorrentState::Downloading, LONG).await;
    let before = eng.h().snapshot();
    let view = |s: &SessionSnapshot, h: &str| {
        let t = torrent(s, h).unwrap();
        let q = t.queue.unwrap();
        (q.position, q.forced, q.waiting, q.goals, t.state)
    };
    assert_eq!(view(&before, &a).4, TorrentState::Queued);
    eng.restart().await;
    let after = eng
        .wait("every torrent back", LONG, |s| {
            (s.torrents.len() == 4
                && s.torrents.iter().all(|t| t.state != TorrentState::Checking)
                && downloading(s) == 2)
                .then(|| s.clone())
        })
        .await;
    for h in [&a, &b, &c, &d] {
        assert_eq!(view(&after, h), view(&before, h), "torrent {h}");
    }
    assert_eq!(view(&after, &c).0, 1);
    assert!(view(&after, &d).1, "still forced");
    assert_eq!(view(&after, &b).3, Some(goals));
    assert_eq!(view(&after, &a).3, Some(session_goals));
    assert_eq!(after.queue_limits, before.queue_limits);
    assert_eq!(after.goals, Some(session_goals));
    assert!(
        !eng.librqbit_holds(&a),
        "waiting torrents are not restored into librqbit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_that_moves_nothing_gives_its_slot_to_the_next_even_after_a_restart() {
    let fakes = payload_dir();
    let mut eng = Eng::start(&["main"]).await;
    eng.h()
        .run(Command::SetQueueLimits(QueueLimits {
            max_active_downloads: 1,
            slow_after_secs: Some(2),
            ..Default::default()
        }))
        .await
        .unwrap();
    // No peer serves these: each moves nothing, for ever.
    let a = add_fake(&eng, fakes.path(), "a").await;
    let b = add_fake(&eng, fakes.path(), "b").await;
    let started = Instant::now();
    eng.wait_state(&b, TorrentState::Queued, LONG).await;
    // Once a has moved nothing for 2 s, its slot goes to b; a keeps running.
    eng.wait("both downloading", LONG, |s| {
        (downloading(s) == 2).then_some(())
    })
    .await;
    let took = started.elapsed();
    println!("the second torrent started {took:?} after the first was added");
    assert!(
        took >= Duration::from_secs(2),
        "b started before a was slow"
    );
    assert!(eng.librqbit_holds(&a) && eng.librqbit_holds(&b));

    // Restored at boot, the torrent with the slot counts as slow the same way.
    eng.restart().await;
    eng.wait("both downloading again", LONG, |s| {
        (s.torrents.len() == 2 && downloading(s) == 2).then_some(())
    })
    .await;
    let s = eng.h().snapshot();
    assert!(
        s.torrents.iter().all(|t| !t.queue.as_ref().unwrap().forced),
        "neither is forced"
    );
}
