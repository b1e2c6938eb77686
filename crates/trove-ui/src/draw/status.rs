//! The bottom line: the filter prompt (drawn by the prompt), a lost session, the last
//! message, or the key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use crate::action::{Action, DetailTab};
use crate::app::{App, StatusKind};
use crate::dialogs::Modal;
use crate::keymap::Context;
use crate::layout::Pane;
use crate::spans::{fit_segments, hint_spans, truncate_spans};
use crate::theme::Theme;

/// The hints shown for the dashboard, most useful first (the end drops off when narrow).
fn hints(app: &App) -> Vec<(String, &'static str)> {
    let mut wanted: Vec<(Context, Action, &str)> = Vec::new();
    if app.focus == Pane::Details && app.tab == DetailTab::Files {
        wanted.push((Context::Files, Action::ToggleFile, "download/skip"));
    }
    wanted.extend([
        (Context::Manager, Action::Help, "help"),
        (Context::Manager, Action::Quit, "quit"),
        (Context::Manager, Action::Add, "add"),
        (Context::Manager, Action::PauseResume, "pause"),
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
        let line = truncate_spans(
            vec![Span::styled(format!("{mark}{}", status.text), style)],
            width,
        );
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let line = fit_segments(hint_spans(&hints(app), theme), Span::raw("  "), width);
    frame.render_widget(Paragraph::new(line), area);
}
