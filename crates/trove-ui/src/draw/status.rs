//! The bottom line: the filter prompt, the last message, or the key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fit_segments, hint_spans};
use crate::action::{Action, DetailTab};
use crate::app::{App, Pane, StatusKind};
use crate::dialog::Modal;
use crate::keymap::Context;
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
    let width = area.width as usize;
    if let Some(Modal::Filter(input)) = &app.modal {
        let hint = fit_segments(
            hint_spans(
                &[
                    (key(app, Action::Submit), "keep"),
                    (key(app, Action::Cancel), "clear"),
                ],
                theme,
            ),
            Span::raw("  "),
            width,
        );
        let hint_w = hint.width();
        // The hints only when the field keeps 20 columns.
        let show_hint = width >= hint_w + 2 + 20;
        let field_w = width.saturating_sub(1 + if show_hint { hint_w + 2 } else { 0 });
        let (shown, cursor) = input.view(field_w);
        let pad = field_w.saturating_sub(super::format::width(&shown));
        let mut spans = vec![
            Span::styled("/", theme.key),
            Span::styled(shown, theme.input),
            Span::raw(" ".repeat(pad)),
        ];
        if show_hint {
            spans.push(Span::raw("  "));
            spans.extend(hint.spans);
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        frame.set_cursor_position((area.x + 1 + cursor.min(field_w) as u16, area.y));
        return;
    }
    if let Some(status) = &app.status {
        let (mark, style) = match status.kind {
            StatusKind::Error => ("✗ ", theme.error),
            StatusKind::Success => ("✓ ", theme.success),
            StatusKind::Info => ("", theme.info),
        };
        let line = super::truncate_spans(
            vec![Span::styled(format!("{mark}{}", status.text), style)],
            width,
        );
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let line = fit_segments(hint_spans(&hints(app), theme), Span::raw("  "), width);
    frame.render_widget(Paragraph::new(line), area);
}

fn key(app: &App, action: Action) -> String {
    app.keymap
        .key_for(Context::Dialog, action)
        .map_or_else(|| "?".to_string(), |k| k.to_string())
}
