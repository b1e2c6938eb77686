//! Keys → actions → app state and effects, without a terminal or an engine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::DetailTab;
use super::app::{App, StatusKind};
use super::dialogs::{AddField, Modal, QueueField};
use super::event::{Effect, Event, Redraw};
use super::fixtures::{self, ARCH, BUNNY, DEBIAN, EVIL, HEBREW, UBUNTU, ch, key};
use super::keymap::Keymap;
use super::layout::{LogMode, Pane, View};
use super::torrents::SortKey;
use trove_proto::command::{Added, Command, EngineError, TorrentSource};
use trove_proto::log::LogLevel;
use trove_proto::snapshot::{Limits, TorrentState};

fn press(app: &mut App, events: &[Event]) -> Vec<Effect> {
    events
        .iter()
        .flat_map(|e| app.handle(e.clone()).effects)
        .collect()
}

fn commands(effects: &[Effect]) -> Vec<Command> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Run { command, .. } => Some(command.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn starts_on_the_first_torrent_and_asks_for_its_details() {
    let mut app = App::new(Keymap::default(), Arc::new(fixtures::snapshot()));
    app.handle(Event::Input(TermEvent::Resize(80, 24)));
    assert_eq!(app.selected.as_deref(), Some(UBUNTU));
    let effects = app.start();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::FetchDetails { id } if id == UBUNTU))
    );
    assert!(effects.iter().any(|e| matches!(e, Effect::ReadLog(_))));
}

#[test]
fn moving_selects_and_fetches_details() {
    let mut app = fixtures::app(80, 24);
    let effects = press(&mut app, &[ch('j')]);
    assert_eq!(app.selected.as_deref(), Some(BUNNY));
    assert!(matches!(&effects[..], [Effect::FetchDetails { id }] if id == BUNNY));
    // The old torrent's details are gone until the new ones arrive.
    assert!(app.details.as_ref().is_none());
    press(&mut app, &[ch('G')]);
    assert_eq!(app.selected.as_deref(), Some(ARCH));
    press(&mut app, &[key(KeyCode::Down)]);
    assert_eq!(app.selected.as_deref(), Some(ARCH), "stops at the end");
    press(&mut app, &[ch('g')]);
    assert_eq!(app.selected.as_deref(), Some(UBUNTU));
    press(&mut app, &[key(KeyCode::PageDown)]);
    assert_ne!(app.selected.as_deref(), Some(UBUNTU));
    press(&mut app, &[key(KeyCode::PageUp)]);
    assert_eq!(app.selected.as_deref(), Some(UBUNTU));
}

#[test]
fn only_key_presses_count() {
    let mut app = fixtures::app(80, 24);
    let mut release = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    let out = app.handle(Event::Input(TermEvent::Key(release)));
    assert_eq!(out.redraw, Redraw::No);
    let mut repeat = release;
    repeat.kind = KeyEventKind::Repeat;
    app.handle(Event::Input(TermEvent::Key(repeat)));
    assert_eq!(app.selected.as_deref(), Some(UBUNTU));
}

#[test]
fn selection_sticks_while_the_sort_changes() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('j'), ch('j')]);
    assert_eq!(app.selected.as_deref(), Some(fixtures::ANIME));
    let mut orders = Vec::new();
    for _ in 0..SortKey::ALL.len() {
        let effects = press(&mut app, &[ch('s')]);
        assert_eq!(
            app.selected.as_deref(),
            Some(fixtures::ANIME),
            "sort {:?}",
            app.sort()
        );
        // Only the new order to remember: no refetch when the selection stays.
        assert!(
            matches!(&effects[..], [Effect::SavePrefs(p)] if p.sort == app.sort().0.label()),
            "{effects:?}"
        );
        orders.push(app.visible_hashes().join(","));
    }
    assert_eq!(
        app.sort(),
        (SortKey::Added, false),
        "s cycles back to the start"
    );
    orders.sort();
    orders.dedup();
    assert!(orders.len() >= 5, "sorting changes the order: {orders:?}");

    press(&mut app, &[ch('s'), ch('s'), ch('s'), ch('s'), ch('s')]);
    assert_eq!(app.sort(), (SortKey::Down, true));
    assert_eq!(app.visible_hashes()[..2], [UBUNTU, fixtures::ANIME]);
    press(&mut app, &[ch('S')]);
    assert_eq!(app.sort(), (SortKey::Down, false));
    assert_eq!(app.selected.as_deref(), Some(fixtures::ANIME));
}

#[test]
fn selection_sticks_while_rows_move_between_snapshots() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('s'), ch('s'), ch('s'), ch('s'), ch('s')]);
    assert_eq!(app.sort(), (SortKey::Down, true));
    press(&mut app, &[ch('j')]);
    assert_eq!(app.selected.as_deref(), Some(fixtures::ANIME));
    // Ubuntu stalls, the anime torrent speeds up: rows swap, the selection follows.
    let mut snap = fixtures::snapshot();
    snap.torrents[0].download_rate = 0.0;
    snap.torrents[2].download_rate = 50.0 * 1024.0 * 1024.0;
    let out = app.handle(Event::Snapshot(Arc::new(snap)));
    assert_eq!(app.visible_hashes()[0], fixtures::ANIME);
    assert_eq!(app.selected.as_deref(), Some(fixtures::ANIME));
    assert_eq!(out.redraw, Redraw::Soon);
    // Still the same torrent: the snapshot refreshes its details.
    assert!(matches!(&out.effects[..], [Effect::FetchDetails { id }] if id == fixtures::ANIME));
}

#[test]
fn removed_torrent_moves_the_selection_to_its_neighbour() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('j'), ch('j'), ch('j')]);
    assert_eq!(app.selected.as_deref(), Some(HEBREW));
    let mut snap = fixtures::snapshot();
    snap.torrents.retain(|t| t.info_hash != HEBREW);
    let out = app.handle(Event::Snapshot(Arc::new(snap)));
    assert_eq!(app.selected.as_deref(), Some(EVIL));
    assert!(matches!(&out.effects[..], [Effect::FetchDetails { id }] if id == EVIL));
    app.handle(Event::Snapshot(Arc::new(Default::default())));
    assert_eq!(app.selected.as_deref(), None);
}

#[test]
fn filter_by_text_and_by_state() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('/'), ch('I'), ch('S'), ch('o')]);
    assert!(matches!(app.modal.as_ref(), Some(Modal::Filter(_))));
    assert_eq!(app.visible_hashes(), vec![DEBIAN, ARCH]);
    assert_eq!(app.selected.as_deref(), Some(DEBIAN));
    press(
        &mut app,
        &[
            key(KeyCode::Backspace),
            key(KeyCode::Backspace),
            key(KeyCode::Backspace),
        ],
    );
    assert_eq!(app.visible_hashes().len(), 7);
    press(
        &mut app,
        &[
            ch('b'),
            ch('u'),
            ch('n'),
            ch('n'),
            ch('y'),
            key(KeyCode::Enter),
        ],
    );
    assert!(app.modal.as_ref().is_none());
    assert_eq!(app.visible_hashes(), vec![BUNNY]);
    // Keys are actions again once the prompt is closed.
    press(&mut app, &[ch('j')]);
    assert_eq!(app.selected.as_deref(), Some(BUNNY));
    // Esc on the dashboard clears the filter.
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.visible_hashes().len(), 7);
    assert_eq!(
        app.selected.as_deref(),
        Some(BUNNY),
        "the selection survives the filter"
    );
    // An info-hash prefix filters too; Esc in the prompt clears it.
    press(&mut app, &[ch('/'), ch('f'), ch('f'), ch('6')]);
    assert_eq!(app.visible_hashes(), vec![DEBIAN]);
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.visible_hashes().len(), 7);

    press(&mut app, &[ch('f')]);
    assert_eq!(app.visible_hashes(), vec![UBUNTU, fixtures::ANIME]);
    press(&mut app, &[ch('f')]);
    assert_eq!(app.visible_hashes(), vec![BUNNY]);
    for _ in 0..5 {
        press(&mut app, &[ch('f')]);
    }
    assert_eq!(
        app.visible_hashes().len(),
        7,
        "the cycle ends with all states"
    );
}

#[test]
fn pause_and_resume_follow_the_state() {
    let mut app = fixtures::app(80, 24);
    let effects = press(&mut app, &[ch('p')]);
    assert!(matches!(&commands(&effects)[..], [Command::Pause(id)] if id == UBUNTU));
    press(&mut app, &[ch('j'), ch('j'), ch('j')]);
    assert_eq!(app.selected.as_deref(), Some(HEBREW));
    let effects = press(&mut app, &[ch('p')]);
    assert!(matches!(&commands(&effects)[..], [Command::Resume(id)] if id == HEBREW));
}

#[test]
fn engine_answers_go_to_the_status_line() {
    let mut app = fixtures::app(80, 24);
    app.handle(Event::CommandDone {
        command: Command::Pause(UBUNTU.into()),
        ok: "Paused 'x'.".into(),
        failed: "Pause 'x' failed".into(),
        result: Err(EngineError::UnknownId(UBUNTU.into())),
    });
    let status = app.status.as_ref().unwrap();
    assert_eq!(status.kind, StatusKind::Error);
    assert!(
        status
            .text
            .starts_with("Pause 'x' failed: no torrent matches"),
        "{}",
        status.text
    );
    // Errors stay a while, then go.
    let out = app.handle(Event::Tick(Instant::now()));
    assert_eq!(out.redraw, Redraw::No);
    assert!(app.status.as_ref().is_some());
    let out = app.handle(Event::Tick(Instant::now() + Duration::from_secs(31)));
    assert_eq!(out.redraw, Redraw::Now);
    assert!(app.status.as_ref().is_none());

    app.handle(Event::CommandDone {
        command: Command::Pause(UBUNTU.into()),
        ok: "Paused 'x'.".into(),
        failed: String::new(),
        result: Ok(()),
    });
    assert_eq!(app.status.as_ref().unwrap().kind, StatusKind::Success);
}

#[test]
fn remove_asks_first_and_names_the_torrent() {
    let mut app = fixtures::app(80, 24);
    let effects = press(&mut app, &[ch('d')]);
    assert!(effects.is_empty());
    let Some(Modal::Confirm(c)) = app.modal.as_ref() else {
        panic!("no confirm");
    };
    assert!(!c.delete_data);
    assert_eq!(c.name, "ubuntu-24.04.1-desktop-amd64");
    // Any other key leaves the question open; n closes it without a command.
    assert!(press(&mut app, &[ch('j'), ch('p')]).is_empty());
    assert!(app.modal.as_ref().is_some());
    assert!(press(&mut app, &[ch('n')]).is_empty());
    assert!(app.modal.as_ref().is_none());
    assert_eq!(app.selected.as_deref(), Some(UBUNTU));

    let effects = press(&mut app, &[ch('d'), ch('y')]);
    assert!(matches!(
        &commands(&effects)[..],
        [Command::Remove { id, delete_data: false }] if id == UBUNTU
    ));

    press(&mut app, &[ch('D')]);
    let Some(Modal::Confirm(c)) = app.modal.as_ref() else {
        panic!("no confirm");
    };
    assert!(c.delete_data);
    assert_eq!(c.size, fixtures::snapshot().torrents[0].size);
    let effects = press(&mut app, &[key(KeyCode::Enter), ch('y')]);
    assert!(matches!(
        &commands(&effects)[..],
        [Command::Remove { id, delete_data: true }] if id == UBUNTU
    ));
}

#[test]
fn add_dialog_takes_a_paste_and_a_root() {
    let mut app = fixtures::app(80, 24);
    // Pasting a magnet on the dashboard opens the dialog with it.
    let magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x";
    press(
        &mut app,
        &[Event::Input(TermEvent::Paste(format!("  {magnet}\r\n")))],
    );
    let Some(Modal::Add(d)) = app.modal.as_ref() else {
        panic!("no add dialog");
    };
    assert_eq!(d.source.text(), magnet);
    assert_eq!(
        d.root.as_deref(),
        Some("r-main"),
        "the default root is preselected"
    );
    // Typing j/k/q goes into the field, not to the actions.
    press(&mut app, &[ch('q')]);
    assert!(!app.should_quit());
    press(&mut app, &[key(KeyCode::Backspace)]);
    // Tab on a magnet moves on: root, then down to media, then paused.
    press(
        &mut app,
        &[
            key(KeyCode::Tab),
            key(KeyCode::Down),
            key(KeyCode::Tab),
            ch(' '),
        ],
    );
    let Some(Modal::Add(d)) = app.modal.as_ref() else {
        panic!("no add dialog");
    };
    assert_eq!(
        (d.focus, d.paused, d.root.as_deref()),
        (AddField::Paused, true, Some("r-media"))
    );
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert!(app.modal.as_ref().is_none());
    let [Effect::Add { source, options }] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(source, &TorrentSource::Magnet(magnet.into()));
    assert_eq!(options.root.as_deref(), Some("r-media"));
    assert!(options.paused);

    // The engine answers: the new torrent gets selected when it shows up, on its files.
    app.handle(Event::Added(Ok(Added {
        info_hash: "0123456789abcdef0123456789abcdef01234567".into(),
        name: "x".into(),
        new: true,
    })));
    assert_eq!(app.tab, DetailTab::Files);
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("paused: tab to its files, space skips one, p starts"),
        "{}",
        app.status.as_ref().unwrap().text
    );
    let mut snap = fixtures::snapshot();
    let mut t = snap.torrents[0].clone();
    t.info_hash = "0123456789abcdef0123456789abcdef01234567".into();
    t.state = TorrentState::Paused;
    snap.torrents.push(t);
    app.handle(Event::Snapshot(Arc::new(snap)));
    assert_eq!(
        app.selected.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
}

#[test]
fn add_dialog_asks_for_descriptive_files_first() {
    let mut app = fixtures::app(80, 24);
    let magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x";
    press(
        &mut app,
        &[Event::Input(TermEvent::Paste(magnet.to_string()))],
    );
    // Shift-Tab from the source goes round to the last field.
    press(&mut app, &[key(KeyCode::BackTab), ch(' ')]);
    let Some(Modal::Add(d)) = app.modal.as_ref() else {
        panic!("no add dialog");
    };
    assert_eq!((d.focus, d.metadata_first), (AddField::MetadataFirst, true));
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    let [Effect::Add { options, .. }] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(
        options.metadata_first,
        Some(trove_proto::command::DEFAULT_METADATA_SIZE)
    );
    assert!(!options.paused);
}

#[test]
fn add_dialog_validates_and_remembers_a_failed_add() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('a'), key(KeyCode::Enter)]);
    let Some(Modal::Add(d)) = app.modal.as_ref() else {
        panic!("no add dialog");
    };
    assert!(d.error.is_some(), "empty source is refused in the dialog");
    for c in "/tmp/x.torrent".chars() {
        press(&mut app, &[ch(c)]);
    }
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert!(
        matches!(&effects[..], [Effect::Add { source: TorrentSource::File(p), .. }] if p.to_str() == Some("/tmp/x.torrent"))
    );
    app.handle(Event::Added(Err(EngineError::BadSource(
        "cannot read /tmp/x.torrent".into(),
    ))));
    let status = app.status.as_ref().unwrap();
    assert_eq!(status.kind, StatusKind::Error);
    assert!(status.text.contains("cannot read /tmp/x.torrent") && status.text.contains("press a"));
    // `a` again offers the same text to fix.
    press(&mut app, &[ch('a')]);
    let Some(Modal::Add(d)) = app.modal.as_ref() else {
        panic!("no add dialog");
    };
    assert_eq!(d.source.text(), "/tmp/x.torrent");
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(app.modal.as_ref().is_none());
}

#[test]
fn add_dialog_completes_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("linux.torrent"), b"x").unwrap();
    let mut app = fixtures::app(80, 24);
    let typed = format!("{}/li", dir.path().display());
    press(&mut app, &[ch('a'), Event::Input(TermEvent::Paste(typed))]);
    press(&mut app, &[key(KeyCode::Tab)]);
    let Some(Modal::Add(d)) = app.modal.as_ref() else {
        panic!("no add dialog");
    };
    assert_eq!(
        d.source.text(),
        format!("{}/linux.torrent", dir.path().display())
    );
    assert_eq!(d.focus, AddField::Source);
    // Complete already: Tab moves on.
    press(&mut app, &[key(KeyCode::Tab)]);
    let Some(Modal::Add(d)) = app.modal.as_ref() else {
        panic!("no add dialog");
    };
    assert_eq!(d.focus, AddField::Root);
}

#[test]
fn limits_dialog_for_the_torrent_or_the_session() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('l')]);
    let Some(Modal::Limits(d)) = app.modal.as_ref() else {
        panic!("no limits dialog");
    };
    assert!(!d.is_global);
    assert_eq!(d.up.text(), "500KiB", "shows the torrent's current limits");
    for c in "2MiB".chars() {
        press(&mut app, &[ch(c)]);
    }
    press(&mut app, &[key(KeyCode::Tab), key(KeyCode::Tab)]);
    for c in "30".chars() {
        press(&mut app, &[ch(c)]);
    }
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    let [Command::SetTorrentLimits { id, limits }] = &commands(&effects)[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(id, UBUNTU);
    assert_eq!(
        *limits,
        Limits {
            download_bps: Some(2 * 1024 * 1024),
            upload_bps: Some(500 * 1024),
            peers: Some(30)
        }
    );

    // Switch to the whole session; a bad rate keeps the dialog open with the reason.
    press(&mut app, &[ch('l'), key(KeyCode::BackTab), ch(' ')]);
    let Some(Modal::Limits(d)) = app.modal.as_ref() else {
        panic!("no limits dialog");
    };
    assert!(d.is_global);
    assert_eq!(d.up.text(), "2MiB", "shows the session's limits");
    press(&mut app, &[key(KeyCode::Tab)]);
    for c in "lots".chars() {
        press(&mut app, &[ch(c)]);
    }
    assert!(press(&mut app, &[key(KeyCode::Enter)]).is_empty());
    let Some(Modal::Limits(d)) = app.modal.as_ref() else {
        panic!("dialog closed on a bad value");
    };
    assert!(d.error.as_deref().unwrap().contains("'lots'"));
    press(&mut app, &vec![key(KeyCode::Backspace); 4]);
    press(&mut app, &[ch('0'), key(KeyCode::Tab), key(KeyCode::End)]);
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert!(matches!(
        &commands(&effects)[..],
        [Command::SetGlobalLimits(Limits { download_bps: None, upload_bps: Some(u), peers: Some(200) })] if *u == 2 * 1024 * 1024
    ));
}

#[test]
fn files_tab_toggles_selection() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('2')]);
    assert_eq!(app.tab, DetailTab::Files);
    // Space marks the torrent while the table has the focus (see the marks tests)...
    // ...and toggles files once the detail pane has it.
    press(&mut app, &[key(KeyCode::Tab)]);
    assert_eq!(app.focus, Pane::Details);
    // Rows: boot/, grub/, fonts/, unicode.pf2, grub.cfg, casper/, filesystem.squashfs,
    // initrd, vmlinuz, pool/... ; "casper" has initrd skipped.
    press(&mut app, &[ch('j'), ch('j'), ch('j'), ch('j'), ch('j')]);
    let effects = press(&mut app, &[ch(' ')]);
    let [Command::SelectFiles { id, files }] = &commands(&effects)[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(id, UBUNTU);
    assert_eq!(
        files,
        &vec![0, 1, 2, 3, 4, 6, 7],
        "casper/initrd selected with its folder"
    );
    // A late details answer does not undo the toggle while the command runs.
    app.handle(Event::Details {
        id: UBUNTU.into(),
        result: Ok(Box::new(fixtures::details())),
    });
    assert!(app.details.as_ref().unwrap().files[2].selected);
    // Toggling the whole folder off again.
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    let [Command::SelectFiles { files, .. }] = &commands(&effects)[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(files, &vec![3, 4, 6, 7]);
}

#[test]
fn details_for_another_torrent_are_dropped() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('j')]);
    let mut other = fixtures::details();
    other.summary.info_hash = UBUNTU.into();
    app.handle(Event::Details {
        id: UBUNTU.into(),
        result: Ok(Box::new(other)),
    });
    assert!(
        app.details.as_ref().is_none(),
        "a late answer for the old selection"
    );
}

#[test]
fn panes_tabs_and_log_modes() {
    let mut app = fixtures::app(160, 48);
    assert_eq!(app.focus, Pane::Torrents);
    press(&mut app, &[key(KeyCode::Tab)]);
    assert_eq!(app.focus, Pane::Details);
    press(&mut app, &[key(KeyCode::Tab)]);
    assert_eq!(app.focus, Pane::Torrents, "no log pane yet");
    let effects = press(&mut app, &[ch('L')]);
    assert_eq!(app.log_mode, LogMode::Shown);
    assert!(effects.iter().any(|e| matches!(e, Effect::ReadLog(_))));
    press(&mut app, &[key(KeyCode::BackTab)]);
    assert_eq!(app.focus, Pane::Log);
    // L shows and hides the pane; z takes the log full screen and back.
    press(&mut app, &[ch('z')]);
    assert_eq!(app.log_mode, LogMode::Full);
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.log_mode, LogMode::Shown);
    press(&mut app, &[ch('z'), ch('z')]);
    assert_eq!(app.log_mode, LogMode::Shown);
    press(&mut app, &[ch('z'), ch('L')]);
    assert_eq!(app.log_mode, LogMode::Hidden);
    assert_eq!(app.focus, Pane::Torrents);
    press(&mut app, &[ch('L'), ch('L')]);
    assert_eq!(app.log_mode, LogMode::Hidden, "L never goes full screen");

    for (c, tab) in [
        ('3', DetailTab::Peers),
        ('4', DetailTab::Pieces),
        ('5', DetailTab::Trackers),
        ('1', DetailTab::Overview),
    ] {
        press(&mut app, &[ch(c)]);
        assert_eq!(app.tab, tab);
    }
    press(&mut app, &[ch('R')]);
    assert_eq!(app.view, View::Roots);
    press(&mut app, &[ch('R')]);
    assert_eq!(app.view, View::Dashboard);
    press(&mut app, &[ch('?')]);
    assert!(app.help.is_some());
    press(&mut app, &[ch('q')]);
    assert!(
        app.help.is_none() && !app.should_quit(),
        "q closes help first"
    );
    press(&mut app, &[ch('q')]);
    assert!(app.should_quit());
}

#[test]
fn small_screen_shows_the_focused_pane() {
    let mut app = fixtures::app(40, 12);
    // Details are not visible, so a snapshot does not fetch them...
    let out = app.handle(Event::Snapshot(Arc::new(fixtures::snapshot())));
    assert!(out.effects.is_empty());
    // ...until a tab key brings the detail pane up.
    let effects = press(&mut app, &[ch('3')]);
    assert_eq!(app.focus, Pane::Details);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::FetchDetails { .. }))
    );
}

#[test]
fn log_level_torrent_filter_and_scrolling() {
    let mut app = fixtures::app(160, 48);
    press(&mut app, &[ch('L')]);
    assert_eq!(app.log_filter().min_level, LogLevel::Info);
    let shown = app.shown_log().len();
    let effects = press(&mut app, &[ch('v')]);
    assert_eq!(app.log_filter().min_level, LogLevel::Debug);
    assert!(
        matches!(&effects[..], [Effect::ReadLog(f), Effect::SavePrefs(p)]
        if f.min_level == LogLevel::Debug && p.log_level == LogLevel::Debug)
    );
    assert!(app.shown_log().len() > shown);
    press(&mut app, &[ch('t')]);
    assert_eq!(app.log_filter().info_hash.as_deref(), Some(UBUNTU));
    assert!(
        app.shown_log()
            .iter()
            .all(|l| l.info_hash.as_deref() == Some(UBUNTU))
    );
    // Moving the selection re-reads the log of the new torrent.
    let effects = press(&mut app, &[ch('j')]);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::ReadLog(f) if f.info_hash.as_deref() == Some(BUNNY)))
    );

    // Scrolling up stops following; G follows again.
    let mut app = fixtures::app(80, 10);
    press(&mut app, &[ch('z'), ch('v'), ch('v')]);
    assert_eq!(app.focus, Pane::Log);
    assert!(app.log_anchor.is_none());
    press(&mut app, &[ch('k')]);
    assert!(app.log_anchor.is_some());
    // New lines do not move a scrolled view.
    let anchor = app.log_anchor;
    let mut more = fixtures::log_lines();
    let mut extra = more[0].clone();
    extra.seq = 99;
    more.push(extra);
    app.handle(Event::LogLines(more));
    assert_eq!(app.log_anchor, anchor);
    press(&mut app, &[ch('G')]);
    assert!(app.log_anchor.is_none());
    press(&mut app, &[ch('g')]);
    assert_eq!(app.log_anchor, Some(1));
}

#[test]
fn signals_quit() {
    let mut app = fixtures::app(80, 24);
    app.handle(Event::Signal("SIGHUP"));
    assert!(app.should_quit());
}

#[test]
fn user_keymap_changes_keys_and_help() {
    let km = Keymap::with_overrides(
        "[manager]\nkeymap = [{ on = \"x\", run = \"quit\" }, { on = \"q\", run = \"noop\" }]\n",
        "test",
    )
    .unwrap();
    let mut app = App::new(km, Arc::new(fixtures::snapshot()));
    press(&mut app, &[ch('q')]);
    assert!(!app.should_quit());
    press(&mut app, &[ch('x')]);
    assert!(app.should_quit());
}

#[test]
fn an_idle_session_draws_nothing() {
    let mut app = fixtures::app(80, 24);
    let out = app.handle(Event::Snapshot(Arc::new(fixtures::snapshot())));
    assert_eq!(out.redraw, Redraw::No, "same numbers, nothing to send");
    let out = app.handle(Event::Details {
        id: UBUNTU.into(),
        result: Ok(Box::new(fixtures::details())),
    });
    assert_eq!(out.redraw, Redraw::No);
    let out = app.handle(Event::LogLines(fixtures::log_lines()));
    assert_eq!(out.redraw, Redraw::No);
    let mut snap = fixtures::snapshot();
    snap.download_rate *= 1.05;
    snap.torrents[0].upload_rate *= 0.95;
    let out = app.handle(Event::Snapshot(Arc::new(snap.clone())));
    assert_eq!(out.redraw, Redraw::No, "rates that jitter are shown steady");
    snap.torrents[0].download_rate *= 2.0;
    let out = app.handle(Event::Snapshot(Arc::new(snap)));
    assert_eq!(
        out.redraw,
        Redraw::Soon,
        "stats wait for the refresh interval"
    );
    let out = app.handle(ch('j'));
    assert_eq!(out.redraw, Redraw::Now, "input is answered at once");
}

#[test]
fn a_torrent_in_error_is_retried_not_paused() {
    let mut app = fixtures::errored_app(80, 24);
    assert_eq!(app.selected.as_deref(), Some(EVIL));
    for k in [ch('p'), ch('p')] {
        let effects = press(&mut app, &[k]);
        assert!(matches!(&commands(&effects)[..], [Command::Resume(id)] if id == EVIL));
        let status = app.status.as_ref().unwrap();
        assert!(status.text.starts_with("Retrying"), "{}", status.text);
        assert!(!status.text.contains("Paused"));
    }
    let effects = press(&mut app, &[ch('c')]);
    assert!(matches!(&commands(&effects)[..], [Command::Recheck(id)] if id == EVIL));
    assert!(app.status.as_ref().unwrap().text.starts_with("Re-checking"));
    // Re-check works on any torrent, not only one in error.
    let mut app = fixtures::app(80, 24);
    let effects = press(&mut app, &[ch('c')]);
    assert!(matches!(&commands(&effects)[..], [Command::Recheck(id)] if id == UBUNTU));
}

#[test]
fn y_copies_the_magnet_link_and_shows_it_whole() {
    let mut app = fixtures::app(80, 24);
    let magnet = fixtures::details().magnet;
    let effects = press(&mut app, &[ch('y')]);
    assert!(matches!(&effects[..], [Effect::Clipboard(text)] if *text == magnet));
    let status = app.status.as_ref().unwrap();
    assert_eq!(status.kind, StatusKind::Success);
    assert!(status.text.ends_with(&magnet), "{}", status.text);
    // Without details yet there is nothing to copy, and the status line says why.
    let mut app = App::new(Keymap::default(), Arc::new(fixtures::snapshot()));
    let effects = press(&mut app, &[ch('y')]);
    assert!(effects.is_empty());
    assert!(app.status.as_ref().unwrap().text.contains("not known yet"));
}

#[test]
fn files_tab_folds_folders_and_toggles_a_folded_one_whole() {
    let mut app = fixtures::app(160, 48);
    press(&mut app, &[key(KeyCode::Tab), ch('2')]);
    let rows = app.file_rows();
    assert_eq!((rows[0].name.as_str(), rows[0].is_dir), ("boot", true));
    let all = rows.len();
    press(&mut app, &[ch('o')]);
    let rows = app.file_rows();
    assert!(rows[0].folded);
    assert_eq!(
        rows.len(),
        all - 4,
        "grub/, grub/fonts/, unicode.pf2, grub.cfg hidden"
    );
    let text = {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
        t.draw(|f| crate::draw::draw(f, &app, &crate::theme::Theme::default()))
            .unwrap();
        t.backend().to_string()
    };
    assert!(text.contains("▸ boot"), "{text}");
    // Toggling the folded folder reaches every file under it.
    let effects = press(&mut app, &[ch(' ')]);
    let selected = match &commands(&effects)[..] {
        [Command::SelectFiles { files, .. }] => files.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        !selected.contains(&3) && !selected.contains(&4),
        "{selected:?}"
    );
    // Unfold; on a file, o folds its folder and lands on it.
    press(&mut app, &[ch('o')]);
    assert_eq!(app.file_rows().len(), all);
    press(&mut app, &[ch('j'), ch('j'), ch('j'), ch('o')]);
    assert_eq!(app.file_cursor, 2);
    assert!(app.file_rows()[2].folded, "boot/grub/fonts folded");
}

#[test]
fn sort_order_and_log_level_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trove").join("ui.toml");
    let mut app = fixtures::app(80, 24);
    let mut saved = None;
    for e in press(&mut app, &[ch('s'), ch('S'), ch('v')]) {
        if let Effect::SavePrefs(p) = e {
            p.save(&path).unwrap();
            saved = Some(p);
        }
    }
    assert_eq!(saved.unwrap(), app.prefs());
    let mut again = fixtures::app(80, 24);
    again.use_prefs(&super::prefs::Prefs::load(&path));
    assert_eq!(again.sort(), (SortKey::Name, true));
    assert_eq!(again.log_level, LogLevel::Debug);
    assert_eq!(again.visible_hashes(), app.visible_hashes());
}

#[test]
fn name_sort_is_natural() {
    let mut snap = fixtures::snapshot();
    snap.torrents.truncate(3);
    snap.torrents[0].name = "payload-128M".into();
    snap.torrents[1].name = "payload-32M".into();
    snap.torrents[2].name = "payload-1G".into();
    let mut app = App::new(Keymap::default(), Arc::new(snap));
    press(&mut app, &[ch('s')]);
    assert_eq!(app.sort(), (SortKey::Name, false));
    assert_eq!(app.visible_hashes(), vec![fixtures::ANIME, BUNNY, UBUNTU]);
}

#[test]
fn space_switches_the_limits_scope_from_any_row() {
    let mut app = fixtures::app(80, 24);
    press(&mut app, &[ch('l')]);
    let is_global = |app: &App| match app.modal.as_ref() {
        Some(Modal::Limits(d)) => d.is_global,
        _ => panic!("no limits dialog"),
    };
    assert!(!is_global(&app));
    press(&mut app, &[ch(' ')]);
    assert!(is_global(&app), "space on the Download row");
    press(&mut app, &[key(KeyCode::Tab), ch(' ')]);
    assert!(!is_global(&app), "and on the Upload row");
    // Units: k and KB are thousands, KiB is 1024; both are accepted.
    press(&mut app, &[key(KeyCode::End)]);
    for _ in 0.."500KiB".len() {
        press(&mut app, &[key(KeyCode::Backspace)]);
    }
    for c in "50KB".chars() {
        press(&mut app, &[ch(c)]);
    }
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert!(matches!(&commands(&effects)[..],
        [Command::SetTorrentLimits { limits, .. }] if limits.upload_bps == Some(50_000)));
}

#[test]
fn stopping_the_session_asks_first_and_leaves_once_it_stops() {
    let mut app = fixtures::app(80, 24);
    // No is no: the dialog closes and nothing is sent.
    let effects = press(&mut app, &[ch('Q'), ch('n')]);
    assert!(commands(&effects).is_empty());
    assert!(app.modal.is_none());
    assert!(!app.should_quit());

    let effects = press(&mut app, &[ch('Q')]);
    assert!(matches!(app.modal, Some(Modal::Stop(_))));
    assert!(effects.is_empty());
    let effects = press(&mut app, &[ch('y')]);
    assert_eq!(commands(&effects), [Command::Shutdown]);
    assert!(!app.should_quit(), "not before the session said yes");
    app.handle(Event::CommandDone {
        command: Command::Shutdown,
        ok: "stopping".into(),
        failed: "failed".into(),
        result: Ok(()),
    });
    assert!(app.should_quit());
}

#[test]
fn m_opens_a_root_picker_that_moves_the_selected_torrent() {
    let mut app = fixtures::app(100, 30);
    let own = app.snapshot.torrents[0].root_label.clone();
    press(&mut app, &[ch('m')]);
    assert!(matches!(app.modal, Some(Modal::Move(_))));
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    match &commands(&effects)[..] {
        [Command::Move { ids, root }] => {
            assert_eq!(ids, &[UBUNTU.to_string()]);
            assert_ne!(root, &own, "preselects another root");
        }
        other => panic!("expected one Move, got {other:?}"),
    }
    assert!(app.modal.is_none());
    // Esc closes it without moving anything.
    press(&mut app, &[ch('m')]);
    let effects = press(&mut app, &[key(KeyCode::Esc)]);
    assert!(commands(&effects).is_empty());
    assert!(app.modal.is_none());
}

/// The library view: opening it asks for a report; the cursor runs over torrents and
/// orphans; on a torrent, re-check acts on it; on an orphan, re-check says what to do and
/// the add key opens the add dialog with the orphan's root chosen.
#[test]
fn library_view_acts_on_the_row_under_its_cursor() {
    let mut app = fixtures::app(160, 48);
    let effects = press(&mut app, &[ch('R')]);
    assert_eq!(app.view, View::Roots);
    assert!(effects.iter().any(|e| matches!(e, Effect::FetchLibrary)));
    // One request at a time.
    let again = press(&mut app, &[Event::Snapshot(Arc::new(fixtures::snapshot()))]);
    assert!(!again.iter().any(|e| matches!(e, Effect::FetchLibrary)));
    press(&mut app, &[Event::Library(Ok(fixtures::library()))]);
    let report = fixtures::library();
    let first = &report.roots[0].torrents[0].info_hash;
    assert_eq!(app.selected.as_ref(), Some(first));
    press(&mut app, &[ch('j')]);
    let second = &report.roots[0].torrents[1].info_hash;
    assert_eq!(app.selected.as_ref(), Some(second));
    let effects = press(&mut app, &[ch('c')]);
    assert_eq!(commands(&effects), [Command::Recheck(second.clone())]);

    // The last item is the media root's orphan.
    press(&mut app, &[ch('G')]);
    let effects = press(&mut app, &[ch('c')]);
    assert!(commands(&effects).is_empty());
    let status = app.status.as_ref().unwrap();
    assert!(
        status.text.contains("cursor on a torrent"),
        "{}",
        status.text
    );
    press(&mut app, &[ch('a')]);
    let Some(Modal::Add(dialog)) = &app.modal else {
        panic!("the add dialog is not open");
    };
    assert_eq!(dialog.root.as_deref(), Some("r-media"));
    assert!(app.status.as_ref().unwrap().text.contains("Adopt Me"));
}

/// Types `text` into the focused field of the open dialog, replacing what it held.
fn retype(app: &mut App, text: &str) {
    let clear = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
    press(
        app,
        &[key(KeyCode::End), Event::Input(TermEvent::Key(clear))],
    );
    for c in text.chars() {
        press(app, &[ch(c)]);
    }
}

fn queue_dialog(app: &App) -> &super::dialogs::QueueDialog {
    match app.modal.as_ref() {
        Some(Modal::Queue(d)) => d,
        other => panic!("no queue dialog: {other:?}"),
    }
}

#[test]
fn w_edits_the_queue_limits_and_the_session_goals() {
    use trove_proto::queue::{GoalAction, QueueLimits, SeedingGoals};
    let mut app = fixtures::queue_app(80, 24);
    press(&mut app, &[ch('W')]);
    let d = queue_dialog(&app);
    assert_eq!(d.downloads.text(), "1", "opens on the session's limits");
    assert_eq!(d.focus, QueueField::Downloads);

    // Unchanged: closes and sends nothing, so the config file's values stay in force.
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert!(all_commands(&effects).is_empty(), "{effects:?}");
    assert!(app.modal.is_none());

    // Only the limits change: only the limits are sent.
    press(&mut app, &[ch('W')]);
    retype(&mut app, "3");
    press(&mut app, &[key(KeyCode::Tab), key(KeyCode::Tab)]);
    retype(&mut app, "10");
    press(&mut app, &[key(KeyCode::Tab)]);
    retype(&mut app, "5m");
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert_eq!(
        all_commands(&effects),
        [Command::SetQueueLimits(QueueLimits {
            max_active_downloads: 3,
            max_active_seeds: 0,
            max_active_torrents: 10,
            slow_after_secs: Some(300),
        })]
    );

    // Goals and limits together; the action switches with Space on its row.
    press(&mut app, &[ch('W')]);
    retype(&mut app, "0");
    for _ in 0..4 {
        press(&mut app, &[key(KeyCode::Tab)]);
    }
    assert_eq!(queue_dialog(&app).focus, QueueField::Ratio);
    retype(&mut app, "1.5");
    press(&mut app, &[key(KeyCode::Tab)]);
    retype(&mut app, "2h");
    press(&mut app, &[key(KeyCode::Tab)]);
    retype(&mut app, "30m");
    press(&mut app, &[key(KeyCode::Tab), ch(' ')]);
    assert_eq!(queue_dialog(&app).action, GoalAction::Remove);
    press(&mut app, &[key(KeyCode::Left), key(KeyCode::Right)]);
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert_eq!(
        all_commands(&effects),
        [
            Command::SetQueueLimits(QueueLimits {
                max_active_downloads: 0,
                ..Default::default()
            }),
            Command::SetGoals {
                id: None,
                goals: Some(SeedingGoals {
                    ratio: Some(1.5),
                    seeding_secs: Some(7200),
                    idle_secs: Some(1800),
                    action: GoalAction::Remove,
                }),
            },
        ]
    );
    assert!(effects.iter().all(|e| matches!(e,
        Effect::RunAll { ok, .. } if ok == "Queue limits and seeding goals set.")));

    // Emptying every goal clears the session's goals.
    press(&mut app, &[ch('W')]);
    for _ in 0..4 {
        press(&mut app, &[key(KeyCode::Tab)]);
    }
    retype(&mut app, "");
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    assert_eq!(
        all_commands(&effects),
        [Command::SetGoals {
            id: None,
            goals: None
        }]
    );
}

#[test]
fn a_bad_queue_value_names_its_field_and_sends_nothing() {
    let mut app = fixtures::queue_app(80, 24);
    let cases = [
        (
            1,
            "two",
            "Seeds: 'two' is not a number of torrents: type a whole number, or 0 for no limit.",
        ),
        (
            2,
            "-3",
            "Torrents: '-3' is not a number of torrents: type a whole number, or 0 for no limit.",
        ),
        (
            3,
            "soon",
            "Slow for: 'soon' is not a duration: type seconds or a number with s, m, h or d (90, 30m, 2h), or leave it empty for none.",
        ),
        (
            4,
            "lots",
            "Ratio: 'lots' is not a ratio: type a number above 0 like 1.5, or leave it empty for none.",
        ),
        (
            5,
            "2w",
            "Seed time: '2w' is not a duration: type seconds or a number with s, m, h or d (90, 30m, 2h), or leave it empty for none.",
        ),
    ];
    for (tabs, text, message) in cases {
        press(&mut app, &[ch('W')]);
        for _ in 0..tabs {
            press(&mut app, &[key(KeyCode::Tab)]);
        }
        retype(&mut app, text);
        let effects = press(&mut app, &[key(KeyCode::Enter)]);
        assert!(effects.is_empty(), "{text}: {effects:?}");
        assert_eq!(queue_dialog(&app).error.as_deref(), Some(message));
        // Typing again clears the message; Esc leaves without sending anything.
        press(&mut app, &[key(KeyCode::Backspace)]);
        assert_eq!(queue_dialog(&app).error, None);
        assert!(press(&mut app, &[key(KeyCode::Esc)]).is_empty());
        assert!(app.modal.is_none());
    }
}

/// The commands of an [`Effect::RunAll`] (one action on every marked torrent).
fn all_commands(effects: &[Effect]) -> Vec<Command> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::RunAll { commands, .. } => commands.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// Space marks the torrent under the cursor and goes down a row; pressed again on a marked
/// one it unmarks it. Esc clears the filter first, then the marks; `u` clears them at once.
/// A torrent that leaves the session loses its mark.
#[test]
fn space_marks_and_goes_down_u_and_esc_unmark() {
    let mut app = fixtures::app(80, 24);
    let rows: Vec<String> = app.visible_hashes().iter().map(|h| h.to_string()).collect();
    press(&mut app, &[ch(' '), ch(' ')]);
    assert_eq!(app.marks.len(), 2);
    assert!(app.marks.contains(&rows[0]) && app.marks.contains(&rows[1]));
    assert_eq!(
        app.selected.as_ref(),
        Some(&rows[2]),
        "the cursor went down"
    );
    // Space on a marked torrent unmarks it.
    press(&mut app, &[ch('k'), ch(' ')]);
    assert_eq!(app.marks.len(), 1);
    assert!(!app.marks.contains(&rows[1]));
    // The last row: marking it leaves the cursor there.
    press(&mut app, &[ch('G'), key(KeyCode::Insert)]);
    assert_eq!(app.marks.len(), 2);
    assert_eq!(app.selected.as_ref(), rows.last());
    // A filter hides a marked torrent: the mark stays. Esc clears the filter, then marks.
    press(
        &mut app,
        &[
            ch('/'),
            ch('b'),
            ch('u'),
            ch('c'),
            ch('k'),
            key(KeyCode::Enter),
        ],
    );
    assert_eq!(app.visible_hashes(), vec![BUNNY]);
    assert_eq!(app.marks_hidden(), 2);
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.visible_hashes().len(), rows.len());
    assert_eq!(app.marks.len(), 2, "the first Esc clears the filter only");
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(app.marks.is_empty());
    // `u` unmarks every torrent; with none marked it says so.
    press(&mut app, &[ch('g'), ch(' '), ch(' '), ch('u')]);
    assert!(app.marks.is_empty());
    press(&mut app, &[ch('u')]);
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("No torrent is marked")
    );
    // A marked torrent that leaves the session is unmarked.
    press(&mut app, &[ch('g'), ch(' '), ch(' ')]);
    let mut snap = fixtures::snapshot();
    snap.torrents.retain(|t| t.info_hash != rows[0]);
    press(&mut app, &[Event::Snapshot(Arc::new(snap))]);
    assert_eq!(app.marks.len(), 1);
    assert!(app.marks.contains(&rows[1]));
}

/// With marks, `m` opens one root picker for all of them and sends one `Move` with every
/// marked id, in table order; their marks go once the move is asked for.
#[test]
fn m_moves_every_marked_torrent_in_one_command() {
    let mut app = fixtures::app(100, 30);
    // UBUNTU is in main, BUNNY in media.
    assert_eq!(&app.visible_hashes()[..2], &[UBUNTU, BUNNY]);
    press(&mut app, &[ch(' '), ch(' ')]);
    press(&mut app, &[ch('m')]);
    assert!(matches!(app.modal, Some(Modal::Move(_))));
    // main holds one of them, so it is offered first: BUNNY goes there, UBUNTU stays.
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    match &commands(&effects)[..] {
        [Command::Move { ids, root }] => {
            assert_eq!(ids, &[UBUNTU.to_string(), BUNNY.to_string()]);
            assert_eq!(root, "main");
        }
        other => panic!("expected one Move, got {other:?}"),
    }
    assert!(app.marks.is_empty(), "the marks did their job");
    assert!(app.status.is_none() || !app.status.as_ref().unwrap().text.contains("failed"));

    // Cancelling the picker keeps the marks.
    press(
        &mut app,
        &[ch('g'), ch(' '), ch(' '), ch('m'), key(KeyCode::Esc)],
    );
    assert_eq!(app.marks.len(), 2);
}

/// With marks, pause/resume and remove act on every marked torrent: pause pauses those that
/// run (resume when none does, retrying one in error), remove asks once naming the count,
/// and the status line says how many failed.
#[test]
fn pause_resume_and_remove_act_on_the_marks() {
    let mut app = fixtures::app(80, 24);
    // Mark UBUNTU (downloading) and HEBREW (paused).
    press(&mut app, &[ch(' ')]);
    while app.selected.as_deref() != Some(HEBREW) {
        press(&mut app, &[ch('j')]);
    }
    press(&mut app, &[ch(' ')]);
    assert_eq!(app.marks.len(), 2);
    let effects = press(&mut app, &[ch('p')]);
    assert_eq!(all_commands(&effects), [Command::Pause(UBUNTU.into())]);
    assert!(commands(&effects).is_empty(), "not one command per key");
    // Once both are paused, the same key resumes both.
    let mut snap = fixtures::snapshot();
    for t in &mut snap.torrents {
        if t.info_hash == UBUNTU {
            t.state = TorrentState::Paused;
        }
    }
    press(&mut app, &[Event::Snapshot(Arc::new(snap))]);
    let effects = press(&mut app, &[ch('p')]);
    assert_eq!(
        all_commands(&effects),
        [
            Command::Resume(UBUNTU.into()),
            Command::Resume(HEBREW.into())
        ]
    );
    app.handle(Event::AllDone {
        ok: "Resumed 2 marked torrents.".into(),
        failed: "Resuming 2 marked torrents failed".into(),
        total: 2,
        errors: vec!["no such torrent".into()],
    });
    let status = app.status.as_ref().unwrap();
    assert_eq!(status.kind, StatusKind::Error);
    assert!(
        status.text.contains("for 1 of 2: no such torrent"),
        "{}",
        status.text
    );

    // Remove asks once, for both, with their size together.
    press(&mut app, &[ch('D')]);
    let Some(Modal::Confirm(c)) = app.modal.as_ref() else {
        panic!("no confirm");
    };
    assert_eq!(c.name, "2 marked torrents");
    assert_eq!(c.names.len(), 2);
    assert!(c.delete_data);
    let snap = fixtures::snapshot();
    let size: u64 = snap
        .torrents
        .iter()
        .filter(|t| t.info_hash == UBUNTU || t.info_hash == HEBREW)
        .map(|t| t.size)
        .sum();
    assert_eq!(c.size, size);
    assert!(press(&mut app, &[ch('n')]).is_empty());
    assert_eq!(app.marks.len(), 2, "no: nothing changes");
    let effects = press(&mut app, &[ch('d'), ch('y')]);
    assert_eq!(
        all_commands(&effects),
        [
            Command::Remove {
                id: UBUNTU.into(),
                delete_data: false
            },
            Command::Remove {
                id: HEBREW.into(),
                delete_data: false
            }
        ]
    );
    assert!(app.marks.is_empty());
    // Keys that act on one torrent still do, marks or not.
    press(&mut app, &[ch('g'), ch(' ')]);
    let effects = press(&mut app, &[ch('c')]);
    assert_eq!(commands(&effects).len(), 1);
}

/// In the library view `m` moves the torrent under the library's cursor (marks belong to the
/// table and are left alone); on an orphan it says to choose a torrent; Space says where
/// marks are made.
#[test]
fn library_m_moves_the_torrent_under_its_cursor() {
    let mut app = fixtures::app(160, 48);
    press(&mut app, &[ch(' ')]);
    assert_eq!(app.marks.len(), 1);
    press(
        &mut app,
        &[ch('R'), Event::Library(Ok(fixtures::library())), ch('j')],
    );
    let report = fixtures::library();
    let second = &report.roots[0].torrents[1];
    assert_eq!(app.selected.as_ref(), Some(&second.info_hash));
    press(&mut app, &[ch('m')]);
    assert!(matches!(app.modal, Some(Modal::Move(_))));
    let effects = press(&mut app, &[key(KeyCode::Enter)]);
    match &commands(&effects)[..] {
        [Command::Move { ids, root }] => {
            assert_eq!(ids, std::slice::from_ref(&second.info_hash));
            assert_eq!(root, "media", "the first root other than its own");
        }
        other => panic!("expected one Move, got {other:?}"),
    }
    assert_eq!(app.marks.len(), 1, "the table's marks are left alone");
    // Space in the library says where marks are made.
    press(&mut app, &[ch(' ')]);
    assert!(app.status.as_ref().unwrap().text.contains("torrent table"));
    assert_eq!(app.marks.len(), 1);
    // On an orphan (the last row) `m` asks for a torrent.
    let effects = press(&mut app, &[ch('G'), ch('m')]);
    assert!(commands(&effects).is_empty());
    assert!(app.modal.is_none());
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("cursor on a torrent")
    );
}

/// A fresh library report with a row more above the cursor (a move's copy appearing, say)
/// leaves the cursor on the same torrent.
#[test]
fn library_cursor_stays_on_its_torrent_when_rows_come_above_it() {
    let mut app = fixtures::app(160, 48);
    press(
        &mut app,
        &[
            ch('R'),
            Event::Library(Ok(fixtures::library())),
            ch('j'),
            ch('j'),
        ],
    );
    let report = fixtures::library();
    let third = report.roots[0].torrents[2].info_hash.clone();
    assert_eq!(app.selected.as_ref(), Some(&third));
    let mut more = fixtures::library();
    let first = more.roots[0].torrents[0].clone();
    more.roots[0].torrents.insert(
        0,
        trove_proto::library::LibraryTorrent {
            info_hash: "ab".repeat(20),
            ..first
        },
    );
    press(&mut app, &[Event::Library(Ok(more))]);
    assert_eq!(app.selected.as_ref(), Some(&third));
    assert_eq!(app.library.cursor, 3);
}

#[test]
fn w_in_the_files_tab_copies_a_stream_url_or_the_playlist() {
    let mut app = fixtures::app(160, 48);
    press(&mut app, &[key(KeyCode::Tab), ch('2')]);
    // Without the API on TCP there is no URL, and the status line says what to set.
    let effects = press(&mut app, &[ch('w')]);
    assert!(effects.is_empty());
    let status = app.status.as_ref().unwrap();
    assert!(status.text.contains("[api]"), "{}", status.text);

    app.stream_base = Some(crate::StreamBase {
        url: "http://127.0.0.1:8765".into(),
        token: Some("c0ffee".into()),
    });
    // On a folder: the torrent's playlist.
    let effects = press(&mut app, &[ch('w')]);
    let playlist =
        format!("http://127.0.0.1:8765/api/trove/v1/torrents/{UBUNTU}/playlist.m3u?token=c0ffee");
    assert!(
        matches!(&effects[..], [Effect::Clipboard(url)] if *url == playlist),
        "{effects:?}"
    );
    // On a file: that file, by its number in the torrent.
    let rows = app.file_rows();
    let at = rows.iter().position(|r| !r.is_dir).unwrap();
    let details = fixtures::details();
    let index = details.files[rows[at].files[0]].index;
    press(&mut app, &vec![ch('j'); at]);
    let effects = press(&mut app, &[ch('w')]);
    let file =
        format!("http://127.0.0.1:8765/api/trove/v1/torrents/{UBUNTU}/files/{index}?token=c0ffee");
    assert!(
        matches!(&effects[..], [Effect::Clipboard(url)] if *url == file),
        "{effects:?}"
    );
    let status = app.status.as_ref().unwrap();
    assert_eq!(status.kind, StatusKind::Success);
    assert!(status.text.ends_with(&file), "{}", status.text);
}
