//! Tags, storage roots kept in the store and moving a torrent's root, against the real
//! engine: a real librqbit session and sled store in this process (127.0.0.1, DHT, LSD and
//! UPnP off), restarted on the same store to prove what was kept.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use trove_engine::logring::LogRing;
use trove_proto::command::{AddOptions, Command, EngineError, TorrentSource};
use trove_proto::log::{LogFilter, LogLevel};
use trove_proto::snapshot::{RootOrigin, SessionSnapshot, TorrentSummary};
use trove_testkit::engine::{Eng, torrent};
use trove_testkit::fake_torrent;

fn magnet(n: u8) -> String {
    format!("magnet:?xt=urn:btih:{}", format!("{n:02x}").repeat(20))
}

async fn add(eng: &Eng, source: TorrentSource, opts: AddOptions) -> String {
    eng.h().add(source, opts).await.unwrap().info_hash
}

fn paused() -> AddOptions {
    AddOptions {
        paused: true,
        ..Default::default()
    }
}

fn summary(eng: &Eng, hash: &str) -> TorrentSummary {
    torrent(&eng.h().snapshot(), hash).unwrap()
}

fn snapshot(eng: &Eng) -> std::sync::Arc<SessionSnapshot> {
    eng.h().snapshot()
}

fn tags(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_put_on_taken_off_deleted_and_survive_a_restart() {
    let mut eng = Eng::start(&["main"]).await;
    let a = add(
        &eng,
        TorrentSource::Magnet(magnet(1)),
        AddOptions {
            tags: tags(&[" linux ", "iso"]),
            ..paused()
        },
    )
    .await;
    let b = add(&eng, TorrentSource::Magnet(magnet(2)), paused()).await;
    assert_eq!(
        summary(&eng, &a).tags,
        ["iso", "linux"],
        "trimmed and sorted"
    );
    assert_eq!(snapshot(&eng).tags, ["iso", "linux"]);

    let edit = |ids: &[&String], add: &[&str], remove: &[&str]| Command::EditTags {
        ids: ids.iter().map(|s| s.to_string()).collect(),
        add: tags(add),
        remove: tags(remove),
    };
    eng.h()
        .run(edit(&[&a, &b], &["iso", "new"], &["linux"]))
        .await
        .unwrap();
    assert_eq!(summary(&eng, &a).tags, ["iso", "new"]);
    assert_eq!(summary(&eng, &b).tags, ["iso", "new"]);
    eng.h()
        .run(Command::CreateTags(tags(&["on its own"])))
        .await
        .unwrap();
    // A tag taken off its last torrent stays known, as in qBittorrent.
    assert_eq!(snapshot(&eng).tags, ["iso", "linux", "new", "on its own"]);

    // Refusals change nothing.
    for bad in ["a,b", "", &"x".repeat(65)] {
        let e = eng.h().run(edit(&[&a], &[bad], &[])).await.unwrap_err();
        assert!(matches!(e, EngineError::BadSource(_)), "{bad:?}: {e:?}");
    }
    let e = eng
        .h()
        .run(edit(&[&a, &"ff".repeat(20)], &["x"], &[]))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::UnknownId(_)), "{e:?}");
    assert_eq!(summary(&eng, &a).tags, ["iso", "new"], "nothing changed");
    assert!(!snapshot(&eng).tags.contains(&"x".to_string()));

    eng.restart().await;
    assert_eq!(summary(&eng, &a).tags, ["iso", "new"]);
    assert_eq!(summary(&eng, &b).tags, ["iso", "new"]);
    assert_eq!(snapshot(&eng).tags, ["iso", "linux", "new", "on its own"]);

    eng.h()
        .run(Command::DeleteTags(tags(&["iso", "on its own"])))
        .await
        .unwrap();
    assert_eq!(summary(&eng, &a).tags, ["new"]);
    assert_eq!(summary(&eng, &b).tags, ["new"]);
    assert_eq!(snapshot(&eng).tags, ["linux", "new"]);
    eng.restart().await;
    assert_eq!(summary(&eng, &a).tags, ["new"]);
    assert_eq!(snapshot(&eng).tags, ["linux", "new"]);
    eng.stop().await;
}

fn root_error(e: EngineError) -> String {
    match e {
        EngineError::Root(m) => m,
        other => panic!("not a root error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_roots_are_created_moved_and_removed_by_the_rules() {
    let mut eng = Eng::start(&["main"]).await;
    let scratch = tempfile::tempdir().unwrap();
    let create = |label: &str, path: &Path| Command::CreateRoot {
        label: label.into(),
        path: path.into(),
    };

    // A config root's label is refused, and so is a relative path.
    let m = root_error(
        eng.h()
            .run(create("main", &scratch.path().join("x")))
            .await
            .unwrap_err(),
    );
    assert!(
        m.contains("'main'") && m.contains("config file") && m.contains("another label"),
        "{m}"
    );
    let m = root_error(
        eng.h()
            .run(create("rel", Path::new("some/where")))
            .await
            .unwrap_err(),
    );
    assert!(m.contains("absolute"), "{m}");

    // Created with its folders; shown with origin Store.
    let extra = scratch.path().join("deep/extra");
    eng.h().run(create(" extra ", &extra)).await.unwrap();
    assert!(extra.is_dir(), "the folder was created");
    let info = snapshot(&eng)
        .roots
        .iter()
        .find(|r| r.label == "extra")
        .cloned()
        .unwrap();
    assert_eq!(info.origin, RootOrigin::Store);
    assert_eq!(info.path, extra);
    assert_eq!(info.token, "extra");
    assert!(info.problem.is_none(), "{info:?}");
    let main = snapshot(&eng).roots[0].clone();
    assert_eq!(main.origin, RootOrigin::Config);

    // A torrent without data in it: the root can move, and the torrent follows.
    let m1 = add(
        &eng,
        TorrentSource::Magnet(magnet(1)),
        AddOptions {
            root: Some("extra".into()),
            ..paused()
        },
    )
    .await;
    let moved = scratch.path().join("moved");
    eng.h()
        .run(Command::EditRoot {
            label: "extra".into(),
            path: moved.clone(),
        })
        .await
        .unwrap();
    assert!(moved.is_dir());
    let roots = snapshot(&eng).roots.clone();
    assert_eq!(
        roots.iter().find(|r| r.label == "extra").unwrap().path,
        moved
    );

    // Used by a torrent: not removable; config roots never are. All or nothing.
    eng.h()
        .run(create("spare", &scratch.path().join("spare")))
        .await
        .unwrap();
    let m = root_error(
        eng.h()
            .run(Command::RemoveRoots(tags(&["spare", "extra"])))
            .await
            .unwrap_err(),
    );
    assert!(
        m.contains("'extra'") && m.contains("1 torrent") && m.contains("trove root set"),
        "{m}"
    );
    let m = root_error(
        eng.h()
            .run(Command::RemoveRoots(tags(&["main"])))
            .await
            .unwrap_err(),
    );
    assert!(m.contains("config file"), "{m}");
    let labels = |eng: &Eng| -> Vec<String> {
        snapshot(eng)
            .roots
            .iter()
            .map(|r| r.label.clone())
            .collect()
    };
    assert_eq!(labels(&eng), ["main", "extra", "spare"], "nothing removed");

    // A torrent with data in the root: the root cannot move; nothing changes.
    let bytes = fake_torrent("has-data.bin", 40_000);
    let t = add(
        &eng,
        TorrentSource::Bytes(bytes),
        AddOptions {
            root: Some("extra".into()),
            ..paused()
        },
    )
    .await;
    std::fs::write(moved.join("has-data.bin"), b"partial").unwrap();
    let m = root_error(
        eng.h()
            .run(Command::EditRoot {
                label: "extra".into(),
                path: scratch.path().join("elsewhere"),
            })
            .await
            .unwrap_err(),
    );
    assert!(
        m.contains("1 torrent") && m.contains("data") && m.contains("trove root add"),
        "{m}"
    );
    assert!(!scratch.path().join("elsewhere").exists());
    assert_eq!(
        snapshot(&eng)
            .roots
            .iter()
            .find(|r| r.label == "extra")
            .unwrap()
            .path,
        moved
    );

    // Kept across a restart.
    eng.restart().await;
    assert_eq!(labels(&eng), ["main", "extra", "spare"]);
    assert_eq!(summary(&eng, &m1).root_label, "extra");

    // Free once its torrents are gone.
    for id in [&m1, &t] {
        eng.h()
            .run(Command::Remove {
                id: id.clone(),
                delete_data: false,
            })
            .await
            .unwrap();
    }
    eng.h()
        .run(Command::RemoveRoots(tags(&["extra", "spare"])))
        .await
        .unwrap();
    assert_eq!(labels(&eng), ["main"]);
    assert!(
        moved.join("has-data.bin").is_file(),
        "data is never touched"
    );
    eng.restart().await;
    assert_eq!(labels(&eng), ["main"]);
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_root_moves_a_torrent_without_data_and_refuses_one_with_data() {
    let mut eng = Eng::start(&["main", "other"]).await;
    let m = add(&eng, TorrentSource::Magnet(magnet(7)), paused()).await;
    assert_eq!(summary(&eng, &m).root_token, "main");
    let set = |id: &str, root: &str| Command::SetRoot {
        id: id.into(),
        root: root.into(),
    };
    eng.h().run(set(&m[..8], "other")).await.unwrap();
    assert_eq!(summary(&eng, &m).root_label, "other");
    // Already there: done, nothing to do.
    eng.h().run(set(&m, "other")).await.unwrap();
    let e = eng.h().run(set(&m, "nowhere")).await.unwrap_err();
    assert!(root_error(e).contains("'nowhere'"));

    // A torrent with a file on disk stays where it is.
    let t = add(
        &eng,
        TorrentSource::Bytes(fake_torrent("kept.bin", 50_000)),
        paused(),
    )
    .await;
    let file = eng.root("main").join("kept.bin");
    std::fs::write(&file, b"some bytes").unwrap();
    let msg = root_error(eng.h().run(set(&t, "other")).await.unwrap_err());
    assert!(
        msg.contains("trove move") && msg.contains("stays in storage root 'main'"),
        "{msg}"
    );
    assert_eq!(summary(&eng, &t).root_token, "main");
    assert_eq!(std::fs::read(&file).unwrap(), b"some bytes");
    assert!(!eng.root("other").join("kept.bin").exists());

    // Without its file it can move.
    std::fs::remove_file(&file).unwrap();
    eng.h().run(set(&t, "other")).await.unwrap();
    assert_eq!(summary(&eng, &t).root_token, "other");

    eng.restart().await;
    assert_eq!(summary(&eng, &m).root_token, "other");
    assert_eq!(summary(&eng, &t).root_token, "other");
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_root_declared_later_wins_over_the_stored_one_and_the_log_says_so() {
    let mut eng = Eng::start(&["main"]).await;
    let scratch = tempfile::tempdir().unwrap();
    eng.h()
        .run(Command::CreateRoot {
            label: "later".into(),
            path: scratch.path().join("stored"),
        })
        .await
        .unwrap();
    let m = add(
        &eng,
        TorrentSource::Magnet(magnet(9)),
        AddOptions {
            root: Some("later".into()),
            ..paused()
        },
    )
    .await;
    eng.stop().await;
    eng.declare_root("later");
    // The engine logs through `tracing`; collect this thread's lines (the test's body, and
    // so the engine's start, runs on it).
    let ring = LogRing::new(100);
    let collect =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(ring.layer()));
    eng.boot().await;
    drop(collect);
    let later = snapshot(&eng)
        .roots
        .iter()
        .find(|r| r.label == "later")
        .cloned()
        .unwrap();
    assert_eq!(later.origin, RootOrigin::Config);
    assert_eq!(later.path, eng.root("later"));
    assert_eq!(snapshot(&eng).roots.len(), 2, "one 'later', the config's");
    assert_eq!(summary(&eng, &m).root_label, "later");
    let log = ring.lines(&LogFilter {
        min_level: LogLevel::Warn,
        info_hash: None,
    });
    assert!(
        log.iter()
            .any(|l| l.message.contains("'later'") && l.message.contains("config's wins")),
        "{log:#?}"
    );
    // The stored one is not forgotten: it is back once the config drops the label.
    eng.stop().await;
    eng.forget_root("later");
    eng.boot().await;
    let later = snapshot(&eng)
        .roots
        .iter()
        .find(|r| r.label == "later")
        .cloned()
        .unwrap();
    assert_eq!(later.origin, RootOrigin::Store);
    assert_eq!(later.path, scratch.path().join("stored"));
    eng.stop().await;
}
