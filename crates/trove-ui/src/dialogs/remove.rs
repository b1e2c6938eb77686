//! The remove questions: remove a torrent keeping its data, or remove it and delete the
//! data (naming the torrent, its size and its root, in the error colour). With marked
//! torrents the same questions count them, list their names and give their size together.

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

/// "Remove this torrent?" (or these marked torrents) with or without its data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RemoveDialog {
    /// The torrents removed: one, or every marked one.
    pub(crate) ids: Vec<InfoHash>,
    /// What the question names, sanitised: the torrent's name, or "3 marked torrents".
    pub(crate) name: String,
    /// With several torrents, their names (sanitised), listed under the question.
    pub(crate) names: Vec<String>,
    /// Their size together.
    pub(crate) size: u64,
    pub(crate) delete_data: bool,
    /// The root (or roots, comma-separated) their data is in.
    pub(crate) root_label: String,
}

impl RemoveDialog {
    /// Only the question's keys count: confirm removes, cancel keeps.
    pub(super) fn handle_key(&self, key: &KeyEvent, keymap: &Keymap) -> DialogOutcome {
        match keymap.lookup(&[Context::Confirm], key) {
            Some(Action::Confirm) => {
                let (ok, failed) = match (self.delete_data, self.ids.len() > 1) {
                    (true, false) => (
                        format!("Removed '{}' and deleted its data.", self.name),
                        format!("Removing '{}' with its data failed", self.name),
                    ),
                    (false, false) => (
                        format!("Removed '{}'; its data stays on disk.", self.name),
                        format!("Removing '{}' failed", self.name),
                    ),
                    (true, true) => (
                        format!("Removed {} and deleted their data.", self.name),
                        format!("Removing {} with their data failed", self.name),
                    ),
                    (false, true) => (
                        format!("Removed {}; their data stays on disk.", self.name),
                        format!("Removing {} failed", self.name),
                    ),
                };
                let mut commands: Vec<Command> = self
                    .ids
                    .iter()
                    .map(|id| Command::Remove {
                        id: id.clone(),
                        delete_data: self.delete_data,
                    })
                    .collect();
                if commands.len() == 1 {
                    DialogOutcome::Run {
                        command: commands.remove(0),
                        ok,
                        failed,
                    }
                } else {
                    DialogOutcome::RunAll {
                        commands,
                        ok,
                        failed,
                    }
                }
            }
            Some(Action::Cancel) => DialogOutcome::Close,
            _ => DialogOutcome::Stay,
        }
    }

    /// Draws the dialog as a popup centred on `area`.
    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let many = self.ids.len() > 1;
        // One torrent is named in quotes; several are counted, their names listed below.
        let what = if many {
            Span::styled(self.name.clone(), theme.title)
        } else {
            Span::styled(format!("'{}'", self.name), theme.title)
        };
        let (its, roots) = match (many, self.root_label.contains(", ")) {
            (false, _) => ("its", "root"),
            (true, false) => ("their", "root"),
            (true, true) => ("their", "roots"),
        };
        let (title, border, question, detail) = if self.delete_data {
            (
                if many {
                    " Delete torrents and data "
                } else {
                    " Delete torrent and data "
                },
                theme.error,
                vec![
                    Span::raw("Remove "),
                    what,
                    Span::raw(" and "),
                    Span::styled("DELETE", theme.error),
                    Span::raw(format!(
                        " {its} {} of data from {roots} {}?",
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
                if many {
                    " Remove torrents "
                } else {
                    " Remove torrent "
                },
                theme.border_focused,
                vec![
                    Span::raw("Remove "),
                    what,
                    Span::raw(format!(" ({}) from trove?", format::bytes(self.size))),
                ],
                Span::styled(
                    if many {
                        "Their data stays on disk."
                    } else {
                        "Its data stays on disk."
                    },
                    theme.dim,
                ),
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
        let mut lines = vec![Line::from(question), Line::raw("")];
        if many {
            lines.push(Line::from(Span::styled(
                format::truncate(&self.names.join(" · "), width * 2),
                theme.text,
            )));
            lines.push(Line::raw(""));
        }
        lines.push(Line::from(detail));
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
