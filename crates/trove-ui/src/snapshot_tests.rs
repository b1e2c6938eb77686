//! Every screen and dialog drawn on a `TestBackend` from the fixture session, at 80x24 and
//! 160x48 (and 40x12 where the layout degrades), plus style checks for the colours that
//! carry meaning and no-panic sweeps over sizes.

use std::sync::Arc;

use crossterm::event::{Event as TermEvent, KeyCode};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use super::app::App;
use super::draw::draw;
use super::event::Event;
use super::fixtures::{self, ch, key};
use super::keymap::Keymap;
use super::theme::Theme;
use trove_proto::command::{Command, EngineError};
use trove_proto::snapshot::SessionSnapshot;

/// The backend's text with local wall-clock times (which depend on the machine's time
/// zone) masked.
fn masked(terminal: &Terminal<TestBackend>) -> String {
    let mut text = terminal.backend().to_string();
    for t in fixtures::snapshot().torrents {
        for unix in std::iter::once(t.added_at).chain(t.completed_at) {
            text = text.replace(&super::format::timestamp(unix), "[datetime]      ");
        }
    }
    text
}

fn render(app: &App, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, app, theme)).unwrap();
    terminal
}

/// A screen set up by `events`, snapshotted at each size.
fn snap(name: &str, sizes: &[(u16, u16)], events: &[Event]) {
    let theme = Theme::default();
    for &(w, h) in sizes {
        let mut app = fixtures::app(w, h);
        for e in events {
            app.handle(e.clone());
        }
        let terminal = render(&app, &theme, w, h);
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), masked(&terminal));
        });
    }
}

const BOTH: &[(u16, u16)] = &[(80, 24), (160, 48)];
const ALL: &[(u16, u16)] = &[(80, 24), (160, 48), (40, 12)];

#[test]
fn dashboard() {
    snap("dashboard", ALL, &[]);
}

#[test]
fn tab_files() {
    snap("files", ALL, &[key(KeyCode::Tab), ch('2'), ch('j')]);
}

#[test]
fn tab_peers() {
    snap("peers", BOTH, &[ch('3')]);
}

#[test]
fn tab_pieces() {
    snap("pieces", BOTH, &[ch('4')]);
}

#[test]
fn tab_trackers() {
    snap("trackers", BOTH, &[ch('5')]);
}

#[test]
fn log_shown() {
    snap("log", ALL, &[ch('L')]);
}

#[test]
fn log_full_screen() {
    snap("log_full", BOTH, &[ch('z'), ch('v')]);
}

#[test]
fn roots_view() {
    snap("roots", BOTH, &[ch('R')]);
}

/// A torrent held for missing data: its Overview names every file concerned.
#[test]
fn details_missing_data() {
    snap(
        "details_missing_data",
        BOTH,
        &[Event::Snapshot(Arc::new(fixtures::missing_data_snapshot()))],
    );
}

/// The library view once the session's report is in: space, each torrent's data state
/// (files missing and size changed with the files named), orphans with their sizes.
#[test]
fn library_view() {
    snap(
        "library",
        BOTH,
        &[ch('R'), Event::Library(Ok(fixtures::library()))],
    );
}

/// The cursor on the last orphan (scrolled into sight), then adopting it: the add dialog
/// opens with the orphan's root chosen.
#[test]
fn library_view_adopting_an_orphan() {
    snap(
        "library_orphan",
        BOTH,
        &[ch('R'), Event::Library(Ok(fixtures::library())), ch('G')],
    );
    snap(
        "library_adopt",
        BOTH,
        &[
            ch('R'),
            Event::Library(Ok(fixtures::library())),
            ch('G'),
            ch('a'),
        ],
    );
}

/// A move under way in the library view, the cursor on the moving torrent: the state says
/// how far, the line under it where to and how much of how much, with a bar; the hint line
/// names the move key.
#[test]
fn library_view_with_a_move_under_way() {
    snap(
        "library_moving",
        BOTH,
        &[
            ch('R'),
            Event::Library(Ok(fixtures::library_moving())),
            // Down past main's five torrents and three orphans to the media root's first.
            ch('j'),
            ch('j'),
            ch('j'),
            ch('j'),
            ch('j'),
            ch('j'),
            ch('j'),
            ch('j'),
        ],
    );
}

/// Two torrents marked (Space twice): a dot before their names, the count in the table's
/// title, and the status line leads with the keys that act on them.
#[test]
fn marks() {
    snap("marks", BOTH, &[ch(' '), ch(' ')]);
}

/// The questions for the marked torrents: the root picker and "delete their data?".
#[test]
fn marks_move_and_purge() {
    snap("marks_move", BOTH, &[ch(' '), ch(' '), ch('m')]);
    snap("marks_purge", BOTH, &[ch(' '), ch(' '), ch('D')]);
}

/// A marked row's dot and name are in the warning colour, which snapshots cannot see.
#[test]
fn marked_rows_are_coloured() {
    let theme = Theme::builtin("default").unwrap();
    let mut app = fixtures::app(80, 24);
    app.handle(ch(' '));
    let terminal = render(&app, &theme, 80, 24);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "● ubuntu").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.warn.fg.unwrap());
    assert_eq!(buf[(x + 2, y)].fg, theme.warn.fg.unwrap());
    let (x, y) = find(buf, "2 marked")
        .or_else(|| find(buf, "1 marked"))
        .unwrap();
    assert_eq!(buf[(x, y)].fg, theme.warn.fg.unwrap());
}

#[test]
fn help_screen() {
    snap("help", BOTH, &[ch('?')]);
}

#[test]
fn add_dialog() {
    snap(
        "add",
        ALL,
        &[
            ch('a'),
            Event::Input(TermEvent::Paste(
                "magnet:?xt=urn:btih:aa11b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3&dn=ubuntu\n".into(),
            )),
        ],
    );
}

#[test]
fn add_dialog_root_picker() {
    snap(
        "add_root",
        BOTH,
        &[
            ch('a'),
            ch('x'),
            key(KeyCode::Tab),
            key(KeyCode::Down),
            key(KeyCode::Tab),
            ch(' '),
        ],
    );
}

#[test]
fn add_dialog_error() {
    snap("add_error", BOTH, &[ch('a'), key(KeyCode::Enter)]);
}

#[test]
fn limits_dialog() {
    snap("limits", ALL, &[ch('l'), ch('2'), ch('M')]);
}

#[test]
fn limits_dialog_global_with_error() {
    snap(
        "limits_global",
        BOTH,
        &[
            ch('l'),
            key(KeyCode::BackTab),
            ch(' '),
            key(KeyCode::Tab),
            ch('f'),
            ch('a'),
            ch('s'),
            ch('t'),
            key(KeyCode::Enter),
        ],
    );
}

#[test]
fn confirm_remove() {
    snap("remove", BOTH, &[ch('d')]);
}

#[test]
fn confirm_delete_data() {
    snap("purge", ALL, &[ch('D')]);
}

#[test]
fn filter_prompt() {
    snap("filter", BOTH, &[ch('/'), ch('i'), ch('s'), ch('o')]);
}

#[test]
fn filter_by_tag_and_state() {
    let keys: Vec<Event> = std::iter::once(ch('/'))
        .chain("tag:movies -state:down".chars().map(ch))
        .collect();
    snap("filter_tag", BOTH, &keys);
}

#[test]
fn tags_dialog() {
    snap(
        "tags",
        ALL,
        &[ch('T'), ch(','), ch(' '), ch('k'), key(KeyCode::Tab)],
    );
}

#[test]
fn sorted_and_state_filtered() {
    snap(
        "sorted",
        BOTH,
        &[ch('s'), ch('s'), ch('s'), ch('s'), ch('s'), ch('f')],
    );
}

#[test]
fn error_in_status_line() {
    snap(
        "status_error",
        BOTH,
        &[Event::CommandDone {
            command: Command::Pause(fixtures::UBUNTU.into()),
            ok: "Paused.".into(),
            failed: "Pause 'ubuntu-24.04.1-desktop-amd64' failed".into(),
            result: Err(EngineError::Engine("the session is shutting down".into())),
        }],
    );
}

/// Like [`snap`], over the torrent in error (see [`fixtures::errored_app`]).
fn snap_errored(name: &str, sizes: &[(u16, u16)], events: &[Event]) {
    let theme = Theme::default();
    for &(w, h) in sizes {
        let mut app = fixtures::errored_app(w, h);
        for e in events {
            app.handle(e.clone());
        }
        let terminal = render(&app, &theme, w, h);
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), masked(&terminal));
        });
    }
}

#[test]
fn errored_torrent_overview_wraps_the_error_and_says_what_to_do() {
    snap_errored("errored_overview", BOTH, &[]);
    // Whole: every word of the error and the path is on screen, next to the graph.
    let app = fixtures::errored_app(160, 48);
    let text = render(&app, &Theme::default(), 160, 48)
        .backend()
        .to_string();
    for word in [
        "indices",
        "known",
        "payload-128M-s11",
        "(root main)",
        "retry",
        "re-check",
    ] {
        assert!(text.contains(word), "{word} missing in\n{text}");
    }
}

#[test]
fn errored_torrent_files_and_pieces_say_why_they_are_empty() {
    snap_errored("errored_files", BOTH, &[ch('2')]);
    snap_errored("errored_pieces", BOTH, &[ch('4')]);
    for tab in ['2', '4'] {
        let mut app = fixtures::errored_app(80, 24);
        app.handle(ch(tab));
        let text = render(&app, &Theme::default(), 80, 24)
            .backend()
            .to_string();
        assert!(!text.contains("waiting for the metadata"), "{text}");
        assert!(text.contains("torrent is in error"), "{text}");
    }
}

#[test]
fn trackers_show_status_peers_and_last_error() {
    snap_errored("errored_trackers", BOTH, &[ch('5')]);
    let mut app = fixtures::errored_app(160, 48);
    app.handle(ch('5'));
    let text = render(&app, &Theme::default(), 160, 48)
        .backend()
        .to_string();
    assert!(text.contains("connection refused"), "{text}");
    assert!(text.contains("Last error"), "{text}");
    assert!(!text.contains("No trackers"), "{text}");
    // With none, and only then, the tab says so, without claiming DHT is on.
    let mut details = fixtures::errored_details();
    details.trackers.clear();
    app.handle(Event::Details {
        id: fixtures::EVIL.into(),
        result: Ok(Box::new(details)),
    });
    let text = render(&app, &Theme::default(), 160, 48)
        .backend()
        .to_string();
    assert!(text.contains("No trackers for this torrent"), "{text}");
}

#[test]
fn a_long_status_message_is_shown_whole() {
    let long = format!(
        "Copied: magnet:?xt=urn:btih:{}&dn=ubuntu-24.04.1-desktop-amd64&tr=https%3A%2F%2Ftorrent.ubuntu.com%2Fannounce&tr=https%3A%2F%2Fipv6.torrent.ubuntu.com%2Fannounce",
        fixtures::UBUNTU
    );
    let mut d = fixtures::details();
    d.magnet = long.trim_start_matches("Copied: ").to_string();
    snap(
        "status_long",
        BOTH,
        &[
            Event::Details {
                id: fixtures::UBUNTU.into(),
                result: Ok(Box::new(d)),
            },
            ch('y'),
        ],
    );
    let mut app = fixtures::app(80, 24);
    app.handle(Event::Details {
        id: fixtures::UBUNTU.into(),
        result: Ok(Box::new({
            let mut d = fixtures::details();
            d.magnet = long.trim_start_matches("Copied: ").to_string();
            d
        })),
    });
    app.handle(ch('y'));
    let text = render(&app, &Theme::default(), 80, 24)
        .backend()
        .to_string();
    let rows: Vec<&str> = text.lines().collect();
    let tail: String = rows[rows.len() - 4..]
        .iter()
        .map(|r| r.trim_matches('"').trim_end())
        .collect();
    assert!(
        tail.contains("ipv6.torrent.ubuntu.com%2Fannounce"),
        "{text}"
    );
}

#[test]
fn full_screen_log_wraps_long_lines() {
    let mut app = fixtures::app(80, 24);
    let mut lines = fixtures::log_lines();
    let mut long = lines[lines.len() - 1].clone();
    long.seq += 1;
    long.message = "a long message that goes on and on past the right edge of an 80 column terminal and ends with THE-END".into();
    lines.push(long);
    app.handle(ch('z'));
    app.handle(Event::LogLines(lines));
    let text = render(&app, &Theme::default(), 80, 24)
        .backend()
        .to_string();
    assert!(text.contains("THE-END"), "{text}");
}

#[test]
fn empty_session() {
    let theme = Theme::default();
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = App::new(Keymap::default(), Arc::new(SessionSnapshot::default()));
        app.handle(Event::Input(TermEvent::Resize(w, h)));
        let terminal = render(&app, &theme, w, h);
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("empty_{w}x{h}"), terminal.backend());
        });
    }
}

// ---- Styles: snapshots do not see colour ----

fn find(buf: &Buffer, text: &str) -> Option<(u16, u16)> {
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(byte) = line.find(text) {
            // Column of the match: count the cells before it.
            let col = line[..byte].chars().count() as u16;
            return Some((col, y));
        }
    }
    None
}

#[test]
fn key_colours_are_applied() {
    let theme = Theme::builtin("default").unwrap();
    let app = fixtures::app(80, 24);
    let terminal = render(&app, &theme, 80, 24);
    let buf = terminal.backend().buffer();

    // The selected row (first torrent) carries the selection background across the row.
    let (_, y) = find(buf, "ubuntu-24.04.1").unwrap();
    assert_eq!(buf[(2, y)].bg, theme.selected.bg.unwrap());
    assert_eq!(buf[(60, y)].bg, theme.selected.bg.unwrap());

    // Session rates in the header.
    let (x, y) = find(buf, "↓ 14.4 MiB/s").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.download.fg.unwrap());
    let (x, y) = find(buf, "↑ 1.55 MiB/s").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.upload.fg.unwrap());

    // A row's rate cells: the anime torrent downloads, bunny uploads.
    let (_, y) = find(buf, "2.10 MiB").unwrap();
    let (x, _) = find(buf, "2.10 MiB").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.download.fg.unwrap());
    let (x, y) = find(buf, "360 KiB").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.upload.fg.unwrap());

    // The torrent in error: its name and state in the error colours.
    let (x, y) = find(buf, "evil").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.error.fg.unwrap());
    let (x, y) = find(buf, "error").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.state_error.fg.unwrap());

    // The focused pane's border.
    assert_eq!(buf[(0, 2)].fg, theme.border_focused.fg.unwrap());
}

#[test]
fn status_error_is_red_and_log_levels_coloured() {
    let theme = Theme::builtin("default").unwrap();
    let mut app = fixtures::app(80, 24);
    app.handle(Event::CommandDone {
        command: Command::Pause("x".into()),
        ok: String::new(),
        failed: "Pause failed".into(),
        result: Err(EngineError::Stopped),
    });
    app.handle(ch('L'));
    app.handle(ch('v'));
    let terminal = render(&app, &theme, 80, 24);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "✗ Pause failed: the engine has stopped").unwrap();
    assert_eq!((x, y), (0, 23));
    assert_eq!(buf[(x, y)].fg, theme.error.fg.unwrap());
    let (x, y) = find(buf, "WARN").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.warn.fg.unwrap());
    let (x, y) = find(buf, "ERROR").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.error.fg.unwrap());
}

#[test]
fn mono_draws_without_colour_and_still_marks_the_selection() {
    let theme = Theme::builtin("mono").unwrap();
    let app = fixtures::app(80, 24);
    let terminal = render(&app, &theme, 80, 24);
    let buf = terminal.backend().buffer();
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset);
        assert_eq!(cell.bg, Color::Reset);
    }
    let (x, y) = find(buf, "ubuntu-24.04.1").unwrap();
    assert!(
        buf[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
}

#[test]
fn control_characters_never_reach_the_screen() {
    let theme = Theme::default();
    for screen in screens() {
        let mut app = fixtures::app(160, 48);
        for e in screen {
            app.handle(e);
        }
        let terminal = render(&app, &theme, 160, 48);
        for cell in terminal.backend().buffer().content() {
            assert!(
                !cell
                    .symbol()
                    .chars()
                    .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)),
                "{:?}",
                cell.symbol()
            );
        }
    }
}

// ---- No panics, any size ----

/// Every screen and dialog, as the keys that open it.
fn screens() -> Vec<Vec<Event>> {
    vec![
        vec![],
        vec![ch('2'), key(KeyCode::Tab)],
        vec![ch('3')],
        vec![ch('4')],
        vec![ch('5')],
        vec![ch('L')],
        vec![ch('z')],
        vec![ch('R')],
        vec![ch('?')],
        vec![
            ch('a'),
            Event::Input(TermEvent::Paste("magnet:?xt=urn:btih:aa".into())),
        ],
        vec![ch('a'), key(KeyCode::Enter)],
        vec![ch('l')],
        vec![ch('W')],
        vec![ch('W'), ch('x'), key(KeyCode::Enter)],
        vec![ch('d')],
        vec![ch('D')],
        vec![ch('/'), ch('u')],
    ]
}

#[test]
fn no_panic_at_any_size() {
    let theme = Theme::default();
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    for w in 0..=300 {
        for h in [0, 1, 2, 3, 5, 8, 12, 17, 24, 100] {
            sizes.push((w, h));
        }
    }
    for h in 0..=100 {
        for w in [1, 2, 3, 5, 10, 25, 40, 80, 119, 300] {
            sizes.push((w, h));
        }
    }
    for screen in screens() {
        let mut app = fixtures::app(80, 24);
        for e in screen {
            app.handle(e);
        }
        let mut terminal = Terminal::new(TestBackend::new(1, 1)).unwrap();
        for &(w, h) in &sizes {
            app.handle(Event::Input(TermEvent::Resize(w, h)));
            terminal.backend_mut().resize(w, h);
            terminal.draw(|f| draw(f, &app, &theme)).unwrap();
        }
    }
}

#[test]
fn resize_storm_with_keys() {
    let theme = Theme::default();
    let mut app = fixtures::app(80, 24);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    // A fixed pseudo-random walk (xorshift), so a failure can be replayed.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let keys = [
        'j', 'k', 'G', 'g', '1', '2', '3', '4', '5', 'L', 's', 'S', 'f', '\t', 'R', 'R',
    ];
    for _ in 0..3000 {
        let r = next();
        let (w, h) = ((r % 260) as u16, ((r >> 16) % 90) as u16);
        app.handle(Event::Input(TermEvent::Resize(w, h)));
        terminal.backend_mut().resize(w, h);
        let k = keys[((r >> 32) % keys.len() as u64) as usize];
        app.handle(if k == '\t' { key(KeyCode::Tab) } else { ch(k) });
        terminal.draw(|f| draw(f, &app, &theme)).unwrap();
    }
}

#[test]
fn every_builtin_theme_draws_every_screen() {
    for (name, _) in super::theme::BUILTIN {
        let theme = Theme::builtin(name).unwrap();
        for screen in screens() {
            let mut app = fixtures::app(80, 24);
            for e in screen {
                app.handle(e);
            }
            render(&app, &theme, 80, 24);
        }
    }
}

#[test]
fn help_lists_every_bound_key() {
    let theme = Theme::default();
    let mut app = fixtures::app(200, 120);
    app.handle(ch('?'));
    let terminal = render(&app, &theme, 200, 120);
    let text = terminal.backend().to_string();
    for ctx in super::keymap::Context::ALL {
        for b in app.keymap.bindings(ctx) {
            assert!(text.contains(&b.desc), "{ctx:?}: {}", b.desc);
            assert!(text.contains(&b.key.to_string()), "{ctx:?}: {}", b.key);
        }
    }
}

#[test]
fn a_lost_session_is_said_on_the_status_line_until_it_is_back() {
    let theme = Theme::builtin("default").unwrap();
    let mut app = fixtures::app(120, 24);
    app.handle(Event::Link(trove_proto::Link::Lost(
        "connection refused".into(),
    )));
    let terminal = render(&app, &theme, 120, 24);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "✗ The session is not answering (connection refused)").unwrap();
    assert_eq!(y, 23, "on the status line");
    assert_eq!(buf[(x, y)].fg, theme.error.fg.unwrap());

    // Another failure while it is lost keeps the one message that matters.
    app.handle(Event::CommandDone {
        command: Command::Pause("x".into()),
        ok: String::new(),
        failed: "Pause failed".into(),
        result: Err(EngineError::Stopped),
    });
    let terminal = render(&app, &theme, 120, 24);
    assert!(find(terminal.backend().buffer(), "not answering").is_some());

    app.handle(Event::Link(trove_proto::Link::Reconnected));
    let terminal = render(&app, &theme, 120, 24);
    let buf = terminal.backend().buffer();
    assert!(find(buf, "not answering").is_none());
    let (x, y) = find(buf, "✓ Attached to the session again.").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.success.fg.unwrap());
}

#[test]
fn queued_torrents_forced_ones_and_seeding_goals() {
    let theme = Theme::default();
    for &(w, h) in BOTH {
        let app = fixtures::queue_app(w, h);
        let terminal = render(&app, &theme, w, h);
        let text = terminal.backend().to_string();
        for word in [
            "queued #3",
            "forced",
            "Queue",
            "ratio 2.41 of 3.00",
            "then remove",
        ] {
            assert!(text.contains(word), "{word} missing at {w}x{h} in\n{text}");
        }
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("queue_{w}x{h}"), masked(&terminal));
        });
    }
}

#[test]
fn queue_keys_send_queue_and_force_commands() {
    use trove_proto::queue::QueueMove;
    let mut app = fixtures::queue_app(160, 48);
    for (c, to) in [
        ('K', QueueMove::Up),
        ('J', QueueMove::Down),
        ('U', QueueMove::Top),
        ('B', QueueMove::Bottom),
    ] {
        let effects = app.handle(ch(c)).effects;
        assert!(
            effects.iter().any(|e| matches!(e,
                super::event::Effect::Run { command: Command::Queue { ids, to: t }, .. }
                    if ids == &[fixtures::BUNNY.to_string()] && *t == to)),
            "{c}: {effects:?}"
        );
    }
    let effects = app.handle(ch('F')).effects;
    assert!(
        effects.iter().any(|e| matches!(
            e,
            super::event::Effect::Run {
                command: Command::Force { on: true, .. },
                ..
            }
        )),
        "{effects:?}"
    );
}

#[test]
fn queue_dialog_shows_the_limits_and_goals_in_force() {
    let theme = Theme::default();
    for &(w, h) in BOTH {
        let mut app = fixtures::queue_app(w, h);
        app.handle(ch('W'));
        let terminal = render(&app, &theme, w, h);
        let text = terminal.backend().to_string();
        for word in [
            "Queue and seeding goals",
            "Downloads",
            "= at most 1 at once",
            "Ratio",
        ] {
            assert!(text.contains(word), "{word} missing at {w}x{h} in\n{text}");
        }
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("queue_dialog_{w}x{h}"), masked(&terminal));
        });
        // A bad value: the message names the field, in the error colour.
        for e in [
            key(KeyCode::Tab),
            key(KeyCode::Tab),
            key(KeyCode::Tab),
            ch('s'),
            ch('o'),
            ch('o'),
            ch('n'),
            key(KeyCode::Enter),
        ] {
            app.handle(e);
        }
        let terminal = render(&app, &theme, w, h);
        let (x, y) = find(
            terminal.backend().buffer(),
            "Slow for: 'soon' is not a duration",
        )
        .expect("the message is shown");
        assert_eq!(
            terminal.backend().buffer()[(x, y)].fg,
            theme.error.fg.unwrap()
        );
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("queue_dialog_error_{w}x{h}"), masked(&terminal));
        });
    }
}

/// A torrent kept in a vault says so in its Overview, with the shared cache's size, pins
/// and hit rate.
#[test]
fn a_vault_torrent_shows_the_cache_in_its_overview() {
    let mut d = fixtures::details();
    d.vault_cache = Some(trove_proto::snapshot::CacheStats {
        capacity_bytes: 256 << 20,
        bytes: 96 << 20,
        pinned_bytes: 32 << 20,
        hits: 930,
        misses: 70,
    });
    let details = Event::Details {
        id: fixtures::UBUNTU.into(),
        result: Ok(Box::new(d)),
    };
    snap("details_vault", BOTH, std::slice::from_ref(&details));
    let mut app = fixtures::app(160, 48);
    app.handle(details);
    let text = render(&app, &Theme::default(), 160, 48)
        .backend()
        .to_string();
    assert!(
        text.contains("encrypted · cache 96.0 MiB of 256 MiB (32.0 MiB pinned) · 93% hits"),
        "{text}"
    );
}

/// The library view says which roots are vaults.
#[test]
fn the_library_view_marks_a_vault_root() {
    let mut report = fixtures::library();
    report.roots[0].vault = true;
    let mut app = fixtures::app(160, 48);
    app.handle(ch('R'));
    app.handle(Event::Library(Ok(report)));
    let text = render(&app, &Theme::default(), 160, 48)
        .backend()
        .to_string();
    assert_eq!(text.matches("(vault: encrypted)").count(), 1, "{text}");
}
