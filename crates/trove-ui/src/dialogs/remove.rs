//! The remove questions: remove a torrent keeping its data, or remove it and delete the
//! data (naming the torrent, its size and its root, in the error colour).

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use trove_proto::command::Command;
use trove_proto::snapshot::InfoHash;

use super::{DialogOutcome, key};
use crate::action::Action;
use crate::format;
use crate::keymap::{Context, Keymap};
use crate::layout::centered;
use crate::spans::{fit_segments, hint_spans};
use crate::theme::Theme;

/// "Remove this torrent?" with or without its data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RemoveDialog {
    pub(crate) id: InfoHash,
    /// Sanitised for drawing.
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) delete_data: bool,
    pub(crate) root_label: String,
}

impl RemoveDialog {
    /// Only the question's keys count: confirm removes, cancel keeps.
    pub(super) fn handle_key(&self, key: &KeyEvent, keymap: &Keymap) -> DialogOutcome {
        match keymap.lookup(&[Context::Confirm], key) {
            Some(Action::Confirm) => {
                let (ok, failed) = if self.delete_data {
                    (
                        format!("Removed '{}' and deleted its data.", self.name),
                        format!("Removing '{}' with its data failed", self.name),
                    )
                } else {
                    (
                        format!("Removed '{}'; its data stays on disk.", self.name),
                        format!("Removing '{}' failed", self.name),
                    )
                };
                DialogOutcome::Run {
                    command: Command::Remove {
                        id: self.id.clone(),
                        delete_data: self.delete_data,
                    },
                    ok,
                    failed,
                }
            }
            Some(Action::Cancel) => DialogOutcome::Close,
            _ => DialogOutcome::Stay,
        }
    }

    /// Draws the dialog as a popup centred on `area`.
    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let (title, border, question, detail) = if self.delete_data {
            (
                " Delete torrent and data ",
                theme.error,
                vec![
                    Span::raw("Remove "),
                    Span::styled(format!("'{}'", self.name), theme.title),
                    Span::raw(" and "),
                    Span::styled("DELETE", theme.error),
                    Span::raw(format!(
                        " its {} of data from root {}?",
                        format::bytes(self.size),
                        self.root_label
                    )),
                ],
                Span::styled(
                    "The files are deleted from disk. This cannot be undone.",
                    theme.warn,
                ),
            )
        } else {
            (
                " Remove torrent ",
                theme.border_focused,
                vec![
                    Span::raw("Remove "),
                    Span::styled(format!("'{}'", self.name), theme.title),
                    Span::raw(format!(" ({}) from trove?", format::bytes(self.size))),
                ],
                Span::styled("Its data stays on disk.", theme.dim),
            )
        };
        let r = centered(area, 62, 10);
        if r.width < 12 || r.height < 3 {
            return;
        }
        frame.render_widget(Clear, r);
        let block = theme
            .block(true)
            .border_style(border)
            .style(theme.popup)
            .title(Line::from(Span::styled(title, theme.title)));
        let inner = block.inner(r).inner(Margin::new(1, 0));
        frame.render_widget(block, r);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        let width = inner.width as usize;
        let yes = key(keymap, Context::Confirm, Action::Confirm);
        let no = key(keymap, Context::Confirm, Action::Cancel);
        let hints = hint_spans(
            &[
                (yes, if self.delete_data { "delete" } else { "remove" }),
                (no, "cancel"),
            ],
            theme,
        );
        let lines = vec![Line::from(question), Line::raw(""), Line::from(detail)];
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }),
            Rect {
                height: inner.height.saturating_sub(1),
                ..inner
            },
        );
        frame.render_widget(
            Paragraph::new(fit_segments(hints, Span::raw("   "), width).centered()),
            Rect {
                y: inner.bottom() - 1,
                height: 1,
                ..inner
            },
        );
    }
}
