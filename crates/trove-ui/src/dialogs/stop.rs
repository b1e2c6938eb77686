//! "Stop the session?": the session stops for every client, not just this dashboard, so
//! the question says so before anything happens.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use trove_proto::command::Command;

use super::{DialogOutcome, key};
use crate::action::Action;
use crate::keymap::{Context, Keymap};
use crate::layout::centered;
use crate::spans::{fit_segments, hint_spans};
use crate::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StopDialog;

impl StopDialog {
    pub(super) fn handle_key(&self, key: &KeyEvent, keymap: &Keymap) -> DialogOutcome {
        match keymap.lookup(&[Context::Confirm], key) {
            Some(Action::Confirm) => DialogOutcome::Run {
                command: Command::Shutdown,
                ok: "The session is saving everything and stopping.".into(),
                failed: "Stopping the session failed".into(),
            },
            Some(Action::Cancel) => DialogOutcome::Close,
            _ => DialogOutcome::Stay,
        }
    }

    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let r = centered(area, 62, 9);
        if r.width < 12 || r.height < 3 {
            return;
        }
        frame.render_widget(Clear, r);
        let block = theme
            .block(true)
            .border_style(theme.warn)
            .style(theme.popup)
            .title(Line::from(Span::styled(" Stop the session ", theme.title)));
        let inner = block.inner(r).inner(Margin::new(1, 0));
        frame.render_widget(block, r);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        let lines = vec![
            Line::raw("Stop the session? Every download and upload stops, for every"),
            Line::raw("dashboard and command attached to it, until trove runs again."),
            Line::raw(""),
            Line::from(Span::styled(
                "To leave it running and close only this dashboard, quit instead.",
                theme.dim,
            )),
        ];
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }),
            Rect {
                height: inner.height.saturating_sub(1),
                ..inner
            },
        );
        let yes = key(keymap, Context::Confirm, Action::Confirm);
        let no = key(keymap, Context::Confirm, Action::Cancel);
        let hints = hint_spans(&[(yes, "stop it"), (no, "cancel")], theme);
        frame.render_widget(
            Paragraph::new(fit_segments(hints, Span::raw("   "), inner.width as usize).centered()),
            Rect {
                y: inner.bottom() - 1,
                height: 1,
                ..inner
            },
        );
    }
}
