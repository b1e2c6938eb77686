//! The real `trove` dashboard driven as a person would, through tmux: paste a magnet,
//! pick a root, watch it complete, pause, resume, remove with data, quit. Every step is
//! checked on the captured screen and on disk.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use trove_testkit::{Peer, Tmux, TroveEnv, fake_torrent_raw, trees_identical, wait_until};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

/// The table row of a torrent (the line that names it and has a state).
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| l.contains(name) && (l.contains('%') || l.contains("seeding")))
}

#[test]
fn dashboard_adds_by_paste_picks_a_root_pauses_resumes_removes_and_quits() {
    let payload = tempfile::tempdir().unwrap();
    let seeder = Peer::start();
    let t = seeder.make_torrent(
        payload.path(),
        "E2E Album",
        &[
            ("disc/01 track.flac", 3 << 20),
            ("disc/02 track.flac", 2 << 20),
            ("cover.jpg", 200_000),
        ],
        64 * 1024,
    );
    seeder.seed_with_limit(&t, 2 << 20);
    let env = TroveEnv::new(TROVE, &["main", "isos"]);
    let tmux = Tmux::start(TROVE, &env, &[], 80, 24);
    tmux.wait_screen("the empty dashboard", |s| s.contains("No torrents yet"));

    // Add: paste the magnet (it names the seeder with x.pe), choose the second root.
    tmux.keys(&["a"]);
    tmux.wait_screen("the add dialog", |s| {
        s.contains("Add a torrent") && s.contains("isos")
    });
    tmux.paste(&format!("{}&x.pe=127.0.0.1:{}", t.magnet, seeder.port()));
    tmux.wait_screen("the pasted magnet", |s| {
        s.contains(&format!("x.pe=127.0.0.1:{}", seeder.port()))
    });
    tmux.keys(&["Tab", "Down"]);
    tmux.wait_screen("isos chosen", |s| s.lines().any(|l| l.contains("(•) isos")));
    tmux.keys(&["Enter"]);
    tmux.wait_screen("the torrent in the table", |s| {
        row(s, "E2E Album").is_some()
    });

    // It completes into the chosen root.
    tmux.wait_screen("seeding", |s| {
        row(s, "E2E Album").is_some_and(|r| r.contains("seeding"))
    });
    let isos = env.root_path("isos");
    trees_identical(&t.content_path(), &isos.join("E2E Album")).unwrap();
    assert!(!env.root_path("main").join("E2E Album").exists());

    // Pause and resume from the keyboard.
    tmux.keys(&["p"]);
    tmux.wait_screen("paused", |s| {
        row(s, "E2E Album").is_some_and(|r| r.contains("paused"))
    });
    tmux.keys(&["p"]);
    tmux.wait_screen("seeding again", |s| {
        row(s, "E2E Album").is_some_and(|r| r.contains("seeding"))
    });

    // Remove with its data: the confirmation names the torrent and its size.
    tmux.keys(&["D"]);
    let confirm = tmux.wait_screen("the delete confirmation", |s| {
        s.contains("E2E Album") && s.contains("MiB") && s.to_lowercase().contains("delete")
    });
    assert!(confirm.contains("y"), "{confirm}");
    tmux.keys(&["y"]);
    tmux.wait_screen("the torrent gone", |s| {
        row(s, "E2E Album").is_none() && s.contains("No torrents yet")
    });
    wait_until("data deleted", Duration::from_secs(30), || {
        (!isos.join("E2E Album").exists()).then_some(())
    });
    assert!(isos.is_dir(), "the root survives");

    // Quit: the process ends cleanly and the (now empty) session is saved.
    tmux.keys(&["q"]);
    tmux.wait_screen("trove exited", |s| s.contains("TROVE-EXITED 0"));
    let list = env.list_json();
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
}

#[test]
fn dashboard_survives_tiny_sizes_and_a_resize_storm() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let tmux = Tmux::start(TROVE, &env, &[], 80, 24);
    tmux.wait_screen("the dashboard", |s| s.contains("Torrents"));
    // 200 resizes between 1x1 and 300x100, as fast as tmux sends them.
    let mut x: u32 = 7;
    for i in 0..200 {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        let (w, h) = if i % 10 == 0 {
            (1, 1)
        } else {
            (1 + (x >> 8) % 300, 1 + (x >> 20) % 100)
        };
        tmux.tmux(&[
            "resize-window",
            "-t",
            "main",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
    }
    tmux.tmux(&["resize-window", "-t", "main", "-x", "80", "-y", "24"]);
    tmux.wait_screen("the dashboard back at 80x24", |s| {
        s.contains("Torrents") && s.contains("help")
    });
    tmux.keys(&["q"]);
    tmux.wait_screen("a clean exit", |s| s.contains("TROVE-EXITED 0"));
}

#[test]
fn hostile_names_keep_the_layout_and_sighup_saves_the_session() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let names: [&[u8]; 6] = [
        "宽字符 テスト 全角".as_bytes(),
        "emoji 🎉🚀👩‍👩‍👧".as_bytes(),
        "עברית RTL العربية".as_bytes(),
        b"ctrl \x1b[31mred\x07 bell",
        b"bad \xff\xfe utf8",
        "combining e\u{301}\u{301}\u{301} zalgo".as_bytes(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut hashes = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let p = dir.path().join(format!("{i}.torrent"));
        std::fs::write(&p, fake_torrent_raw(n, 100_000 + i as u64)).unwrap();
        hashes.push(env.add(&[p.to_str().unwrap(), "--paused"])[0].clone());
    }
    let tmux = Tmux::start(TROVE, &env, &[], 80, 24);
    let screen = tmux.wait_screen("all rows", |s| {
        s.contains("Torrents 6/6") && s.contains("zalgo")
    });
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
        "control characters reached the terminal"
    );
    // Every table row keeps its right border in the last column: nothing overflowed.
    for line in screen.lines().filter(|l| l.contains("paused")) {
        assert!(
            line.trim_end().ends_with('┃') || line.trim_end().ends_with('│'),
            "row broke the layout: {line:?}"
        );
    }

    // Resume the selected torrent, then the terminal disappears (tmux kills the pane: SIGHUP).
    tmux.keys(&["g", "p"]);
    tmux.wait_screen("one torrent resumed", |s| {
        s.lines().filter(|l| l.contains("paused")).count() == 5
    });
    let _ = tmux.tmux(&["kill-server"]);
    // The process saves and exits on SIGHUP; the data-dir lock is free again afterwards.
    let list = wait_until(
        "the session saved and the lock released",
        Duration::from_secs(30),
        || {
            let out = env.run(&["list", "--json"]);
            out.status
                .success()
                .then(|| serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap())
        },
    );
    let all = list.as_array().unwrap();
    assert_eq!(all.len(), 6, "{list}");
    let resumed = all.iter().filter(|t| t["paused"] == false).count();
    assert_eq!(resumed, 1, "the resume before SIGHUP was saved: {list}");
    assert!(
        hashes
            .iter()
            .all(|h| all.iter().any(|t| t["info_hash"] == h.as_str()))
    );
}

/// Marks in the real dashboard: Space marks the first two of three torrents, then one key
/// resumes both, `m` moves both to another root with one root picker, and `d` removes both
/// after one question that counts them.
#[test]
fn marked_torrents_are_resumed_moved_and_removed_together() {
    let env = TroveEnv::new(TROVE, &["main", "isos"]);
    let dir = tempfile::tempdir().unwrap();
    let names = ["mark-one", "mark-two", "mark-three"];
    for (i, name) in names.iter().enumerate() {
        let p = dir.path().join(format!("{i}.torrent"));
        std::fs::write(&p, fake_torrent_raw(name.as_bytes(), 100_000 + i as u64)).unwrap();
        env.add(&[p.to_str().unwrap(), "--paused", "--root", "main"]);
    }
    let tmux = Tmux::start(TROVE, &env, &[], 160, 40);
    tmux.wait_screen("three rows", |s| s.contains("Torrents 3/3"));
    let rows_with = |s: &str, word: &str| {
        s.lines()
            .filter(|l| l.contains("mark-") && l.contains(word))
            .count()
    };

    tmux.keys(&["g", "Space", "Space"]);
    let screen = tmux.wait_screen("two marked", |s| s.contains("2 marked"));
    // The one left unmarked (the table's order is the session's, not the names').
    let unmarked = *names
        .iter()
        .find(|n| row(&screen, n).is_some_and(|r| !r.contains('●')))
        .unwrap();
    tmux.keys(&["p"]);
    tmux.wait_screen("both resumed, the third still paused", |s| {
        rows_with(s, "paused") == 1 && row(s, unmarked).is_some_and(|r| r.contains("paused"))
    });

    // One picker for both: main holds them, so isos is offered first.
    tmux.keys(&["m"]);
    tmux.wait_screen("the picker for both", |s| {
        s.contains("Move 2 marked torrents") && s.contains("(•) isos")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_screen("both in isos, unmarked", |s| {
        rows_with(s, " isos") == 2
            && row(s, unmarked).is_some_and(|r| r.contains(" main"))
            && rows_with(s, "●") == 0
    });

    // Remove both: one question that counts them.
    tmux.keys(&["g", "Space", "Space", "d"]);
    tmux.wait_screen("the question for both", |s| {
        s.contains("Remove 2 marked torrents")
    });
    tmux.keys(&["y"]);
    tmux.wait_screen("one left", |s| s.contains("Torrents 1/1"));
    tmux.keys(&["q"]);
    tmux.wait_screen("trove exited", |s| s.contains("TROVE-EXITED 0"));
    let list = env.list_json();
    let all = list.as_array().unwrap();
    assert_eq!(all.len(), 1, "{list}");
    assert_eq!(all[0]["name"], unmarked, "{list}");
}
