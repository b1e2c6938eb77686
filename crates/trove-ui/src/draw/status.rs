//! The bottom line: the filter prompt (drawn by the prompt), a lost session, the last
//! message, or the key hints.
//!
//! A message too long for the line (a path, an engine error, a magnet link) is wrapped and
//! grows upwards over the bottom of the panes, up to a third of the screen, so it can be
//! read (and copied by hand) whole; it goes when the message expires.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Clear, Paragraph};

use crate::action::{Action, DetailTab};
use crate::app::{App, StatusKind};
use crate::dialogs::Modal;
use crate::format;
use crate::keymap::Context;
use crate::layout::{Pane, View};
use crate::spans::{fit_segments, hint_spans, truncate_spans};
use crate::theme::Theme;

/// Draws `text` on the status line, wrapped onto the rows above when it is longer.
fn draw_message(frame: &mut Frame, area: Rect, text: &str, style: Style, theme: &Theme) {
    let width = area.width as usize;
    let mut lines = format::wrap(text, width);
    let room = (frame.area().height / 3).max(1).min(area.y + 1) as usize;
    if lines.len() > room {
        let rest = lines.split_off(room - 1).join(" ");
        lines.push(format::truncate(&rest, width));
    }
    let n = lines.len() as u16;
    let r = Rect {
        y: area.y + 1 - n,
        height: n,
        ..area
    };
    frame.render_widget(Clear, r);
    let text: Vec<ratatui::text::Line> = lines
        .into_iter()
        .map(|l| ratatui::text::Line::styled(l, style))
        .collect();
    frame.render_widget(Paragraph::new(text).style(theme.screen), r);
}

/// The hints shown for the dashboard, most useful first (the end drops off when narrow).
fn hints(app: &App) -> Vec<(String, &'static str)> {
    let mut wanted: Vec<(Context, Action, &str)> = Vec::new();
    if app.focus == Pane::Details && app.tab == DetailTab::Files {
        wanted.push((Context::Files, Action::ToggleFile, "download/skip"));
    }
    // On a torrent in error the same key retries it.
    let in_error = app
        .selected_summary()
        .is_some_and(|t| t.state == trove_proto::snapshot::TorrentState::Error);
    let pause = if in_error { "retry" } else { "pause" };
    if !app.marks.is_empty() && app.view == View::Dashboard {
        // The keys that act on every marked torrent come first, then how to undo the marks.
        wanted.extend([
            (Context::Manager, Action::MoveRoot, "move"),
            (Context::Manager, Action::PauseResume, "pause/resume"),
            (Context::Manager, Action::Remove, "remove"),
            (Context::Manager, Action::Mark, "mark"),
            (Context::Manager, Action::ClearMarks, "unmark all"),
            (Context::Manager, Action::Help, "help"),
            (Context::Manager, Action::Quit, "quit"),
        ]);
    }
    wanted.extend([
        (Context::Manager, Action::Help, "help"),
        (Context::Manager, Action::Quit, "quit"),
        (Context::Manager, Action::Add, "add"),
        (Context::Manager, Action::PauseResume, pause),
        (Context::Manager, Action::Remove, "remove"),
        (Context::Manager, Action::Limits, "limits"),
        (Context::Manager, Action::Filter, "filter"),
        (Context::Manager, Action::Sort, "sort"),
        (Context::Manager, Action::NextPane, "pane"),
        (Context::Manager, Action::LogPane, "log"),
        (Context::Manager, Action::Roots, "roots"),
    ]);
    wanted
        .into_iter()
        .filter_map(|(ctx, action, label)| {
            app.keymap
                .key_for(ctx, action)
                .map(|k| (k.to_string(), label))
        })
        .collect()
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if let Some(Modal::Filter(prompt)) = &app.modal {
        prompt.draw(frame, area, &app.keymap, theme);
        return;
    }
    let width = area.width as usize;
    if let Some(reason) = &app.link_lost {
        // Nothing the keys do can reach the session now: say so until it is back.
        let line = truncate_spans(
            vec![Span::styled(
                format!(
                    "✗ The session is not answering ({reason}); waiting for it to come back. q leaves."
                ),
                theme.error,
            )],
            width,
        );
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    if let Some(status) = &app.status {
        let (mark, style) = match status.kind {
            StatusKind::Error => ("✗ ", theme.error),
            StatusKind::Success => ("✓ ", theme.success),
            StatusKind::Info => ("", theme.info),
        };
        draw_message(frame, area, &format!("{mark}{}", status.text), style, theme);
        return;
    }
    let mut segments = Vec::new();
    if !app.marks.is_empty() && app.view == View::Dashboard {
        segments.push(vec![Span::styled(
            format!("● {} marked:", app.marks.len()),
            theme.warn,
        )]);
    }
    let mut seen = Vec::new();
    let hints: Vec<_> = hints(app)
        .into_iter()
        .filter(|(k, _)| {
            // A key listed for the marks is not listed again with its everyday meaning.
            let new = !seen.contains(k);
            seen.push(k.clone());
            new
        })
        .collect();
    segments.extend(hint_spans(&hints, theme));
    let line = fit_segments(segments, Span::raw("  "), width);
    frame.render_widget(Paragraph::new(line), area);
}
