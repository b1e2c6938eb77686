//! "Move to another storage root": a root picker for the selected torrent, or for every
//! marked one. Choosing a root asks the session to move their data there (a rename on the
//! same filesystem, else a verified copy while the torrent keeps seeding); the table's state
//! column and the library view then show the copy's progress.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use trove_proto::command::Command;
use trove_proto::snapshot::{RootInfo, TorrentSummary};

use super::{DialogOutcome, Env, Item, key, popup};
use crate::action::Action;
use crate::format;
use crate::keymap::Context;
use crate::spans::{fit_segments, hint_spans};
use crate::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MoveDialog {
    /// The torrents moved: the selected one, or every marked one.
    ids: Vec<String>,
    /// What the dialog names: the torrent's name, or "3 marked torrents".
    name: String,
    /// Token of the root each of them is in now.
    from: Vec<String>,
    /// Token of the chosen root (stable while the roots list refreshes).
    root: Option<String>,
}

impl MoveDialog {
    /// The picker for `t`, with the first root other than its own preselected.
    pub(crate) fn new(t: &TorrentSummary, roots: &[RootInfo]) -> Self {
        Self::for_torrents(&[t], roots)
    }

    /// The picker for several torrents (the marked ones): they all go to the chosen root,
    /// those already there stay. The first root not holding all of them is preselected.
    pub(crate) fn for_torrents(ts: &[&TorrentSummary], roots: &[RootInfo]) -> Self {
        let name = match ts {
            [t] => format::sanitize(&t.name),
            _ => format!("{} marked torrents", ts.len()),
        };
        let mut dialog = MoveDialog {
            ids: ts.iter().map(|t| t.info_hash.clone()).collect(),
            name,
            from: ts.iter().map(|t| t.root_token.clone()).collect(),
            root: None,
        };
        dialog.root = roots
            .iter()
            .find(|r| !dialog.all_in(&r.token))
            .map(|r| r.token.clone());
        dialog
    }

    /// How many of the torrents are in root `token` now.
    fn count_in(&self, token: &str) -> usize {
        self.from.iter().filter(|f| *f == token).count()
    }

    fn all_in(&self, token: &str) -> bool {
        self.count_in(token) == self.from.len()
    }

    fn index(&self, roots: &[RootInfo]) -> Option<usize> {
        let token = self.root.as_ref()?;
        roots.iter().position(|r| &r.token == token)
    }

    fn step(&mut self, roots: &[RootInfo], delta: isize) {
        if roots.is_empty() {
            return;
        }
        let at = self.index(roots).unwrap_or(0) as isize;
        let next = (at + delta).clamp(0, roots.len() as isize - 1) as usize;
        self.root = Some(roots[next].token.clone());
    }

    pub(super) fn handle_key(&mut self, key: &KeyEvent, env: &Env) -> DialogOutcome {
        let roots = env.roots;
        match env.keymap.lookup(&[Context::Dialog], key) {
            Some(Action::Submit) => match self.index(roots).map(|i| &roots[i]) {
                Some(r) if !self.all_in(&r.token) => DialogOutcome::Run {
                    command: Command::Move {
                        ids: self.ids.clone(),
                        root: r.label.clone(),
                    },
                    ok: format!("Moving {} to '{}'.", self.name, format::sanitize(&r.label)),
                    failed: "The move failed".into(),
                },
                _ => DialogOutcome::Close,
            },
            Some(Action::Cancel) => DialogOutcome::Close,
            Some(Action::Up | Action::PrevField) => {
                self.step(roots, -1);
                DialogOutcome::Stay
            }
            Some(Action::Down | Action::NextField) => {
                self.step(roots, 1);
                DialogOutcome::Stay
            }
            _ => DialogOutcome::Stay,
        }
    }

    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, env: &Env, theme: &Theme) {
        let roots = env.roots;
        let w = 72u16.min(area.width);
        let width = w.saturating_sub(4) as usize;
        let mut items = vec![
            Item::Line(Line::from(format::truncate(
                &format!("Move {} to:", self.name),
                width,
            ))),
            Item::Gap,
        ];
        let chosen = self.index(roots);
        let first = chosen.unwrap_or(0).saturating_sub(7);
        for (i, root) in roots.iter().enumerate().skip(first).take(8) {
            let on = chosen == Some(i);
            let here = self.count_in(&root.token);
            let note = if here > 0 && self.from.len() == 1 {
                "its root now".to_string()
            } else if here == self.from.len() {
                "their root now".to_string()
            } else if here > 0 {
                format!("{here} of {} here already", self.from.len())
            } else {
                match (&root.problem, root.free_bytes) {
                    (Some(p), _) => format!("⚠ {}", format::sanitize(p)),
                    (None, Some(f)) => format!("{} free", format::bytes(f)),
                    (None, None) => "free space unknown".to_string(),
                }
            };
            let text = format!(
                "{}{} {}  {}",
                if on { "(•) " } else { "( ) " },
                format::fit(&format::sanitize(&root.label), 12),
                format::sanitize(&root.path.display().to_string()),
                note
            );
            let style = if on {
                theme.selection(true)
            } else {
                Style::new()
            };
            items.push(Item::Line(
                Line::from(Span::raw(format::truncate(&text, width))).style(style),
            ));
        }
        items.push(Item::Gap);
        items.push(Item::Note(Line::styled(
            "Across filesystems the data is copied and checked first; it keeps seeding.",
            theme.dim,
        )));
        let footer = fit_segments(
            hint_spans(
                &[
                    (key(env.keymap, Context::Dialog, Action::Submit), "move"),
                    (key(env.keymap, Context::Dialog, Action::Cancel), "cancel"),
                    (key(env.keymap, Context::Dialog, Action::Down), "choose"),
                ],
                theme,
            ),
            Span::raw("  "),
            width,
        );
        popup(
            frame,
            area,
            w,
            "Move to another root",
            theme.border_focused,
            theme,
            items,
            footer,
        );
    }
}
