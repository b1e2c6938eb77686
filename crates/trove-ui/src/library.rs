//! The library view's state (the Roots view grown into it): the session's last library
//! report, a cursor over its torrents and orphans, and what the view's keys do. Moving the
//! cursor onto a torrent selects it, so the dashboard's own keys (re-check, remove, pause)
//! act on it; on an orphan, the add key adopts it: the add dialog opens with the orphan's
//! root chosen, for the .torrent or magnet of its data, which is then checked and seeded
//! without downloading what is there.

use std::time::{Duration, Instant};

use trove_proto::EngineResult;
use trove_proto::library::LibraryReport;

use crate::action::Action;
use crate::app::{App, StatusKind};
use crate::dialogs::{AddDialog, Modal};
use crate::event::Effect;
use crate::format;
use crate::keymap::Context;
use crate::layout::View;

/// How often the open view asks for a fresh report (it stats every file of every root).
const REFRESH: Duration = Duration::from_secs(5);

/// One row the cursor can rest on: a torrent or an orphan, by root and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    Torrent { root: usize, index: usize },
    Orphan { root: usize, index: usize },
}

#[derive(Debug, Default)]
pub(crate) struct LibraryView {
    pub(crate) report: Option<LibraryReport>,
    /// Why the last report could not be had.
    pub(crate) error: Option<String>,
    /// Position in [`LibraryView::items`].
    pub(crate) cursor: usize,
    asked_at: Option<Instant>,
    in_flight: bool,
}

impl LibraryView {
    /// Every row the cursor can rest on, in screen order.
    pub(crate) fn items(&self) -> Vec<Item> {
        let Some(report) = &self.report else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (r, root) in report.roots.iter().enumerate() {
            out.extend((0..root.torrents.len()).map(|index| Item::Torrent { root: r, index }));
            out.extend((0..root.orphans.len()).map(|index| Item::Orphan { root: r, index }));
        }
        out
    }

    pub(crate) fn current(&self) -> Option<Item> {
        self.items().get(self.cursor).copied()
    }

    /// What the row at `index` shows, in words that survive a new report: a torrent's
    /// info-hash, or an orphan's root token and name.
    fn key_of(&self, index: usize) -> Option<(String, String)> {
        let report = self.report.as_ref()?;
        Some(match *self.items().get(index)? {
            Item::Torrent { root, index } => (
                String::new(),
                report.roots[root].torrents[index].info_hash.clone(),
            ),
            Item::Orphan { root, index } => (
                report.roots[root].token.clone(),
                report.roots[root].orphans[index].name.clone(),
            ),
        })
    }

    fn current_key(&self) -> Option<(String, String)> {
        self.key_of(self.cursor)
    }

    /// Asks for a report unless one is on its way (or, with `only_if_due`, one came
    /// recently).
    fn ask(&mut self, only_if_due: bool) -> Option<Effect> {
        if self.in_flight || (only_if_due && self.asked_at.is_some_and(|t| t.elapsed() < REFRESH)) {
            return None;
        }
        self.in_flight = true;
        self.asked_at = Some(Instant::now());
        Some(Effect::FetchLibrary)
    }
}

impl App {
    /// A fresh report for the library view, when it is open (`only_if_due`: not more
    /// often than every few seconds).
    pub(crate) fn library_refresh(&mut self, only_if_due: bool) -> Option<Effect> {
        if self.view != View::Roots {
            return None;
        }
        self.library.ask(only_if_due)
    }

    /// The session's answer to [`Effect::FetchLibrary`].
    pub(crate) fn library_answered(&mut self, result: EngineResult<LibraryReport>) -> Vec<Effect> {
        self.library.in_flight = false;
        match result {
            Ok(report) => {
                // The cursor stays on the same torrent or orphan when rows come or go above
                // it (a move's target appears, a torrent is removed), else at the same place.
                let before = self.library.current_key();
                self.library.report = Some(report);
                self.library.error = None;
                let len = self.library.items().len();
                let found = before.and_then(|key| {
                    (0..len).find(|&i| self.library.key_of(i).as_ref() == Some(&key))
                });
                self.library.cursor =
                    found.unwrap_or(self.library.cursor.min(len.saturating_sub(1)));
                self.library_follow_cursor()
            }
            Err(e) => {
                self.library.error = Some(e.to_string());
                Vec::new()
            }
        }
    }

    /// Moves the library cursor; `f(len, at, page)` gives the new place.
    pub(crate) fn library_move(
        &mut self,
        page: usize,
        f: impl Fn(usize, usize, usize) -> usize,
    ) -> Vec<Effect> {
        let len = self.library.items().len();
        if len == 0 {
            return Vec::new();
        }
        self.library.cursor = f(len, self.library.cursor, page).min(len - 1);
        self.library_follow_cursor()
    }

    /// A torrent under the cursor is the selected torrent, for the keys that act on one.
    fn library_follow_cursor(&mut self) -> Vec<Effect> {
        let hash = match (self.library.current(), &self.library.report) {
            (Some(Item::Torrent { root, index }), Some(r)) => {
                Some(r.roots[root].torrents[index].info_hash.clone())
            }
            _ => None,
        };
        match hash {
            Some(h) => self.select(Some(h)),
            None => Vec::new(),
        }
    }

    /// What a key does in the library view before the dashboard's meaning applies: `None`
    /// lets the dashboard handle it (a torrent under the cursor is the selected one).
    pub(crate) fn library_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        if self.view != View::Roots || self.library.report.is_none() {
            return None;
        }
        let on_torrent = matches!(self.library.current(), Some(Item::Torrent { .. }));
        match action {
            Action::Add => {
                let Some(Item::Orphan { root, index }) = self.library.current() else {
                    return None;
                };
                let report = self.library.report.as_ref()?;
                let (token, name) = (
                    report.roots[root].token.clone(),
                    format::sanitize(&report.roots[root].orphans[index].name),
                );
                let mut dialog = AddDialog::new("", &self.snapshot.roots);
                dialog.root = Some(token);
                self.modal = Some(Modal::Add(dialog));
                self.set_status(
                    StatusKind::Info,
                    format!(
                        "Adopting '{name}': give its .torrent or magnet; its data is checked and seeded, and what is there is not downloaded."
                    ),
                );
                Some(Vec::new())
            }
            Action::Recheck
            | Action::Remove
            | Action::Purge
            | Action::PauseResume
            | Action::Limits
            | Action::Tags
            | Action::CopyMagnet
            | Action::MoveRoot
                if !on_torrent =>
            {
                let adopt = self
                    .keymap
                    .key_for(Context::Manager, Action::Add)
                    .map_or_else(String::new, |k| format!(" ({k} on an orphan adopts it)"));
                self.set_status(
                    StatusKind::Info,
                    format!("Put the cursor on a torrent first{adopt}."),
                );
                Some(Vec::new())
            }
            _ => None,
        }
    }
}
