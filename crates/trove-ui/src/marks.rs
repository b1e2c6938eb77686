//! Marks: torrents picked in the table so that one action reaches them all, as in file
//! managers (yazi, lf, mc). The mark key marks or unmarks the torrent under the cursor and
//! goes down a row, so holding it marks a run of rows; another key unmarks every torrent.
//!
//! While some torrents are marked, move (the root picker), pause/resume and remove (the
//! confirm question, which counts them and lists their names) act on every marked torrent
//! instead of the one under the cursor. The other keys (re-check, limits, tags, queue) still
//! act on the torrent under the cursor. Marks stay on a torrent the filter hides (so the
//! filter can be used to find more to mark: the table's title says how many are hidden) and
//! are dropped when the torrent leaves the session. They belong to the table: the library
//! view acts on the row under its own cursor.

use trove_proto::command::Command;
use trove_proto::snapshot::{TorrentState, TorrentSummary};

use crate::action::Action;
use crate::app::{App, StatusKind};
use crate::dialogs::{Modal, MoveDialog, RemoveDialog};
use crate::event::Effect;
use crate::format;
use crate::layout::View;

impl App {
    /// The marked torrents: those the table shows, in its order, then those the filter
    /// hides.
    pub(crate) fn marked(&self) -> Vec<&TorrentSummary> {
        let torrents = &self.snapshot.torrents;
        let shown = self.rows.iter().map(|&i| &torrents[i]);
        let hidden = torrents
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.rows.contains(i))
            .map(|(_, t)| t);
        shown
            .chain(hidden)
            .filter(|t| self.marks.contains(&t.info_hash))
            .collect()
    }

    /// How many marked torrents the filter hides.
    pub(crate) fn marks_hidden(&self) -> usize {
        self.marks.len()
            - self
                .rows
                .iter()
                .filter(|&&i| self.marks.contains(&self.snapshot.torrents[i].info_hash))
                .count()
    }

    /// Forgets the marks of torrents no longer in the session.
    pub(crate) fn drop_gone_marks(&mut self) {
        if self.marks.is_empty() {
            return;
        }
        let torrents = &self.snapshot.torrents;
        self.marks
            .retain(|m| torrents.iter().any(|t| &t.info_hash == m));
    }

    /// What a key does to or with the marks; `None` leaves it to the dashboard (no marks,
    /// another view, or a key that acts on the torrent under the cursor only).
    pub(crate) fn marks_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        match action {
            Action::Mark => return Some(self.toggle_mark()),
            Action::ClearMarks => {
                if self.marks.is_empty() {
                    self.set_status(StatusKind::Info, "No torrent is marked.");
                } else {
                    self.marks.clear();
                }
                return Some(Vec::new());
            }
            _ => {}
        }
        if self.view != View::Dashboard || self.marks.is_empty() {
            return None;
        }
        match action {
            Action::PauseResume => Some(self.pause_resume_marked()),
            Action::Remove | Action::Purge => {
                self.modal = Some(Modal::Confirm(self.remove_marked(action == Action::Purge)));
                Some(Vec::new())
            }
            Action::MoveRoot => {
                let dialog = MoveDialog::for_torrents(&self.marked(), &self.snapshot.roots);
                self.modal = Some(Modal::Move(dialog));
                Some(Vec::new())
            }
            _ => None,
        }
    }

    /// After a move or remove question was answered with commands for some torrents, their
    /// marks have done their job.
    pub(crate) fn unmark_commanded(&mut self, commands: &[Command]) {
        for c in commands {
            match c {
                Command::Move { ids, .. } => self.marks.retain(|m| !ids.contains(m)),
                Command::Remove { id, .. } => self.marks.retain(|m| m != id),
                _ => {}
            }
        }
    }

    fn toggle_mark(&mut self) -> Vec<Effect> {
        if self.view != View::Dashboard {
            self.set_status(
                StatusKind::Info,
                "Marks are made in the torrent table; here keys act on the row under the cursor.",
            );
            return Vec::new();
        }
        let Some(&i) = self.rows.get(self.cursor) else {
            self.set_status(StatusKind::Info, "No torrent to mark.");
            return Vec::new();
        };
        let id = self.snapshot.torrents[i].info_hash.clone();
        if !self.marks.remove(&id) {
            self.marks.insert(id);
        }
        let next = self.cursor + 1;
        self.move_cursor(next)
    }

    /// Pauses every marked torrent that runs, or, when none does, resumes them all (a
    /// torrent in error is retried).
    fn pause_resume_marked(&mut self) -> Vec<Effect> {
        let marked = self.marked();
        let stopped =
            |t: &&TorrentSummary| matches!(t.state, TorrentState::Paused | TorrentState::Error);
        let pause = marked.iter().any(|t| !stopped(t));
        let commands: Vec<Command> = marked
            .iter()
            .filter(|t| stopped(t) != pause)
            .map(|t| {
                let id = t.info_hash.clone();
                if pause {
                    Command::Pause(id)
                } else {
                    Command::Resume(id)
                }
            })
            .collect();
        if commands.is_empty() {
            return Vec::new();
        }
        let count = format::count(commands.len(), "marked torrent");
        let (ok, failed) = if pause {
            (
                format!("Paused {count}."),
                format!("Pausing {count} failed"),
            )
        } else {
            (
                format!("Resumed {count}."),
                format!("Resuming {count} failed"),
            )
        };
        vec![Effect::RunAll {
            commands,
            ok,
            failed,
        }]
    }

    /// The remove question for every marked torrent.
    fn remove_marked(&self, delete_data: bool) -> RemoveDialog {
        let marked = self.marked();
        let mut roots: Vec<String> = Vec::new();
        for t in &marked {
            let label = format::sanitize(&t.root_label);
            if !roots.contains(&label) {
                roots.push(label);
            }
        }
        let (name, names) = match &marked[..] {
            [t] => (format::sanitize(&t.name), Vec::new()),
            _ => (
                format::count(marked.len(), "marked torrent"),
                marked.iter().map(|t| format::sanitize(&t.name)).collect(),
            ),
        };
        RemoveDialog {
            ids: marked.iter().map(|t| t.info_hash.clone()).collect(),
            name,
            names,
            size: marked.iter().map(|t| t.size).sum(),
            delete_data,
            root_label: roots.join(", "),
        }
    }
}
