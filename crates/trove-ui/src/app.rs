//! The dashboard's state and what each event does to it. Nothing here draws or calls the
//! engine: keys become [`Action`]s through the keymap, actions change the state and may
//! return [`Effect`]s for the loop to carry out; the engine's answers come back as events.
//! While a dialog is open, keys go to it and the app carries out its [`DialogOutcome`].

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};
use ratatui::layout::Rect;

use trove_proto::Link;
use trove_proto::command::Command;
use trove_proto::log::{LogFilter, LogLevel, LogLine};
use trove_proto::queue::QueueMove;
use trove_proto::snapshot::{
    InfoHash, SessionSnapshot, TorrentDetails, TorrentState, TorrentSummary,
};

use super::action::{Action, DetailTab};
use super::dialogs::MoveDialog;
use super::dialogs::{
    AddDialog, DialogOutcome, Env, FilterPrompt, LimitsDialog, Modal, QueueDialog, RemoveDialog,
    StopDialog, TagsDialog,
};
use super::event::{Effect, Event, Outcome, Redraw};
use super::files;
use super::format;
use super::keymap::{Context, Keymap};
use super::layout::{self, LogMode, Pane, Screen, View};
use super::prefs::Prefs;
use super::scroll::VerticalScroll;
use super::steady::{SteadyPeers, SteadyRates};
use super::torrents::{SortKey, TableView, next_state_filter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusKind {
    Info,
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Status {
    pub(crate) kind: StatusKind,
    pub(crate) text: String,
    pub(crate) at: Instant,
}

/// How long a status message stays (errors longer: they may need reading twice).
const STATUS_TTL: Duration = Duration::from_secs(8);
const ERROR_TTL: Duration = Duration::from_secs(30);

/// The levels `v` steps through, from the default.
const LEVEL_CYCLE: [LogLevel; 5] = [
    LogLevel::Info,
    LogLevel::Debug,
    LogLevel::Trace,
    LogLevel::Error,
    LogLevel::Warn,
];

pub struct App {
    pub(crate) keymap: Keymap,
    /// The engine's last snapshot, with rates as shown (see [`SteadyRates`]).
    pub(crate) snapshot: Arc<SessionSnapshot>,
    steady_rates: SteadyRates,
    pub(crate) table: TableView,
    /// Indices into `snapshot.torrents` of the visible rows, in order.
    pub(crate) rows: Vec<usize>,
    /// The selected torrent; the selection follows it while rows move.
    pub(crate) selected: Option<InfoHash>,
    /// Its row, kept to land near the same place when it disappears.
    pub(crate) cursor: usize,
    /// A torrent just added: selected as soon as a snapshot shows it.
    pending_select: Option<InfoHash>,
    pub(crate) focus: Pane,
    pub(crate) tab: DetailTab,
    pub(crate) view: View,
    pub(crate) log_mode: LogMode,
    pub(crate) log_level: LogLevel,
    pub(crate) log_torrent_only: bool,
    pub(crate) log_lines: Vec<LogLine>,
    /// Sequence number of the top line while the log is scrolled; `None` follows the end.
    pub(crate) log_anchor: Option<u64>,
    pub(crate) details: Option<TorrentDetails>,
    pub(crate) details_error: Option<String>,
    /// File selections sent to the engine and not confirmed yet, laid over fetched details
    /// so a checkbox does not flicker back.
    files_pending: Option<(InfoHash, Vec<usize>)>,
    pub(crate) file_cursor: usize,
    /// Paths of the folders folded in the Files tab (of the selected torrent).
    pub(crate) folded: HashSet<String>,
    /// Peer rates as the Peers tab shows them (see [`SteadyPeers`]).
    steady_peers: SteadyPeers,
    /// First line of the Overview, Peers and Trackers tabs.
    pub(crate) detail_scroll: usize,
    pub(crate) roots_scroll: usize,
    /// `Some(first line)` while the help screen is open.
    pub(crate) help: Option<usize>,
    pub(crate) modal: Option<Modal>,
    pub(crate) status: Option<Status>,
    /// Why the session is not answering, while it is not.
    pub(crate) link_lost: Option<String>,
    /// The terminal's size, as last reported.
    pub(crate) size: Rect,
    pub(crate) torrents_scroll: VerticalScroll,
    pub(crate) files_scroll: VerticalScroll,
    /// Text and "start paused" of the last add, offered again if it failed.
    last_add: Option<(String, bool)>,
    home: Option<PathBuf>,
    quit: bool,
    /// The library view: the last report and its cursor (see `library`).
    pub(crate) library: super::library::LibraryView,
    /// The marked torrents, which move, pause/resume and remove act on (see `marks`).
    pub(crate) marks: HashSet<InfoHash>,
    /// Where files can be streamed from, when the session's API listens on TCP.
    pub(crate) stream_base: Option<crate::StreamBase>,
}

impl App {
    pub(crate) fn new(keymap: Keymap, mut snapshot: Arc<SessionSnapshot>) -> App {
        let mut steady_rates = SteadyRates::default();
        steady_rates.apply(Arc::make_mut(&mut snapshot));
        let mut app = App {
            keymap,
            snapshot,
            steady_rates,
            table: TableView::default(),
            rows: Vec::new(),
            selected: None,
            cursor: 0,
            pending_select: None,
            focus: Pane::Torrents,
            tab: DetailTab::Overview,
            view: View::Dashboard,
            log_mode: LogMode::Hidden,
            log_level: LogLevel::Info,
            log_torrent_only: false,
            log_lines: Vec::new(),
            log_anchor: None,
            details: None,
            details_error: None,
            files_pending: None,
            file_cursor: 0,
            folded: HashSet::new(),
            steady_peers: SteadyPeers::default(),
            detail_scroll: 0,
            roots_scroll: 0,
            help: None,
            modal: None,
            status: None,
            link_lost: None,
            size: Rect::new(0, 0, 80, 24),
            torrents_scroll: VerticalScroll::default(),
            files_scroll: VerticalScroll::default(),
            last_add: None,
            home: std::env::var_os("HOME").map(PathBuf::from),
            quit: false,
            library: Default::default(),
            marks: HashSet::new(),
            stream_base: None,
        };
        app.refresh_rows();
        app
    }

    /// Effects the app wants right after start (details of the first torrent, the log).
    pub(crate) fn start(&mut self) -> Vec<Effect> {
        let mut effects = self.request_details().into_iter().collect::<Vec<_>>();
        effects.push(Effect::ReadLog(self.log_filter()));
        effects
    }

    /// Takes the sort order and log level remembered from an earlier run.
    pub(crate) fn use_prefs(&mut self, prefs: &Prefs) {
        self.table.sort = prefs.sort_key();
        self.table.descending = prefs.descending;
        self.log_level = prefs.log_level;
        self.refresh_rows();
    }

    /// What is worth remembering for the next run.
    pub(crate) fn prefs(&self) -> Prefs {
        Prefs {
            sort: self.table.sort.label().to_string(),
            descending: self.table.descending,
            log_level: self.log_level,
        }
    }

    pub(crate) fn should_quit(&self) -> bool {
        self.quit
    }

    /// Info-hashes of the rows, in table order.
    pub fn visible_hashes(&self) -> Vec<&str> {
        self.rows
            .iter()
            .map(|&i| self.snapshot.torrents[i].info_hash.as_str())
            .collect()
    }

    /// The table's sort key, and whether it sorts descending.
    pub fn sort(&self) -> (SortKey, bool) {
        (self.table.sort, self.table.descending)
    }

    /// What the log pane shows: the level, and the selected torrent when asked.
    pub(crate) fn log_filter(&self) -> LogFilter {
        LogFilter {
            min_level: self.log_level,
            info_hash: if self.log_torrent_only {
                self.selected.clone()
            } else {
                None
            },
        }
    }

    pub(crate) fn log_visible(&self) -> bool {
        self.layout().log.is_some()
    }

    pub(crate) fn layout(&self) -> Screen {
        layout::screen(self.size, self.view, self.log_mode, self.focus)
    }

    fn details_visible(&self) -> bool {
        self.layout().details.is_some()
    }

    pub(crate) fn selected_summary(&self) -> Option<&TorrentSummary> {
        let id = self.selected.as_ref()?;
        self.snapshot.torrents.iter().find(|t| &t.info_hash == id)
    }

    /// The log lines the pane shows (the ring already filters; this keeps the pane right
    /// between a filter change and the lines read with it).
    pub(crate) fn shown_log(&self) -> Vec<&LogLine> {
        let filter = self.log_filter();
        self.log_lines
            .iter()
            .filter(|l| filter.matches(l))
            .collect()
    }

    /// The index in `lines` (the shown log) of the top line of a pane `height` lines tall:
    /// the anchored line while scrolled, else the last full page.
    pub(crate) fn log_top(&self, lines: &[&LogLine], height: usize) -> usize {
        let max_top = lines.len().saturating_sub(height);
        match self.log_anchor {
            None => max_top,
            Some(seq) => lines
                .iter()
                .position(|l| l.seq >= seq)
                .unwrap_or(max_top)
                .min(max_top),
        }
    }

    pub(crate) fn file_rows(&self) -> Vec<files::TreeRow> {
        self.details
            .as_ref()
            .map(|d| files::fold(files::tree(&d.files), &self.folded))
            .unwrap_or_default()
    }

    pub(crate) fn set_status(&mut self, kind: StatusKind, text: impl Into<String>) {
        self.status = Some(Status {
            kind,
            text: format::sanitize(&text.into()),
            at: Instant::now(),
        });
    }

    /// Handles one event; see [`Outcome`].
    pub fn handle(&mut self, event: Event) -> Outcome {
        match event {
            Event::Input(TermEvent::Key(key)) => {
                // Repeats and releases (kitty protocol, Windows) would double every action.
                if key.kind != KeyEventKind::Press {
                    return Outcome::default();
                }
                let effects = self.on_key(key);
                Outcome {
                    effects,
                    redraw: Redraw::Now,
                }
            }
            Event::Input(TermEvent::Paste(text)) => Outcome {
                effects: self.on_paste(&text),
                redraw: Redraw::Now,
            },
            Event::Input(TermEvent::Resize(w, h)) => {
                let was_visible = self.details_visible();
                let log_was_visible = self.log_visible();
                self.size = Rect::new(0, 0, w, h);
                let mut effects = Vec::new();
                if !was_visible {
                    effects.extend(self.request_details());
                }
                if !log_was_visible && self.log_visible() {
                    effects.push(Effect::ReadLog(self.log_filter()));
                }
                Outcome {
                    effects,
                    redraw: Redraw::Now,
                }
            }
            Event::Input(_) => Outcome::default(),
            Event::Snapshot(mut snapshot) => {
                if !self.steady_rates.would_keep(&snapshot) {
                    self.steady_rates.apply(Arc::make_mut(&mut snapshot));
                }
                // An idle session publishes the same numbers every second: nothing to draw
                // (and nothing to send down a slow link), but the details may still move.
                let changed = *snapshot != *self.snapshot;
                self.snapshot = snapshot;
                // Same torrents, same numbers: the rows (filtered and sorted) stand.
                let mut effects = if changed {
                    self.refresh_rows()
                } else {
                    Vec::new()
                };
                if effects.is_empty() {
                    effects.extend(self.request_details());
                }
                effects.extend(self.library_refresh(true));
                Outcome {
                    effects,
                    redraw: if changed { Redraw::Soon } else { Redraw::No },
                }
            }
            Event::LogChanged => {
                let mut out = Outcome::default();
                if self.log_visible() {
                    out.effects.push(Effect::ReadLog(self.log_filter()));
                }
                out
            }
            Event::LogLines(lines) => {
                if lines == self.log_lines {
                    return Outcome::default();
                }
                self.log_lines = lines;
                Outcome::new(Redraw::Soon)
            }
            Event::LogUnavailable => Outcome::default(),
            Event::Link(link) => {
                match link {
                    Link::Lost(reason) => self.link_lost = Some(reason),
                    Link::Connected | Link::Reconnected => {
                        if self.link_lost.take().is_some() {
                            self.set_status(StatusKind::Success, "Attached to the session again.");
                        }
                    }
                }
                Outcome::new(Redraw::Now)
            }
            Event::Details { id, result } => self.on_details(id, result),
            Event::CommandDone {
                command,
                ok,
                failed,
                result,
            } => {
                if let Command::SelectFiles { id, .. } = &command
                    && self.files_pending.as_ref().is_some_and(|(p, _)| p == id)
                {
                    self.files_pending = None;
                }
                // A stopped session has nothing left to show: leave with it.
                if command == Command::Shutdown && result.is_ok() {
                    self.quit = true;
                }
                match result {
                    Ok(()) => self.set_status(StatusKind::Success, ok),
                    Err(e) => self.set_status(StatusKind::Error, format!("{failed}: {e}")),
                }
                let mut effects: Vec<Effect> = self.request_details().into_iter().collect();
                effects.extend(self.library_refresh(false));
                Outcome {
                    effects,
                    redraw: Redraw::Now,
                }
            }
            Event::Added(result) => {
                let mut effects = Vec::new();
                match result {
                    Ok(added) => {
                        let paused = self.last_add.take().is_some_and(|(_, p)| p);
                        let name = format::sanitize(&added.name);
                        let key = |ctx, action| {
                            self.keymap
                                .key_for(ctx, action)
                                .map_or_else(|| "?".to_string(), |k| k.to_string())
                        };
                        let text = match (added.new, paused) {
                            (false, _) => format!("'{name}' is already in trove."),
                            (true, true) => format!(
                                "Added '{name}', paused: {} to its files, {} skips one, {} starts.",
                                key(Context::Manager, Action::NextPane),
                                key(Context::Files, Action::ToggleFile),
                                key(Context::Manager, Action::PauseResume),
                            ),
                            (true, false) => format!(
                                "Added '{name}'. Press {} to choose its files.",
                                key(Context::Manager, Action::Tab(DetailTab::Files)),
                            ),
                        };
                        let kind = if added.new {
                            StatusKind::Success
                        } else {
                            StatusKind::Info
                        };
                        self.set_status(kind, text);
                        if paused {
                            // Added paused: the user most likely wants to pick files next.
                            self.tab = DetailTab::Files;
                        }
                        self.pending_select = Some(added.info_hash);
                        self.table.clear_filter();
                        self.table.state = None;
                        effects = self.refresh_rows();
                    }
                    Err(e) => {
                        let key = self
                            .keymap
                            .key_for(Context::Manager, Action::Add)
                            .map_or_else(String::new, |k| {
                                format!(" (press {k} to edit and retry)")
                            });
                        self.set_status(StatusKind::Error, format!("Add failed: {e}{key}"));
                    }
                }
                Outcome {
                    effects,
                    redraw: Redraw::Now,
                }
            }
            Event::Tick(now) => {
                let expired = self.status.as_ref().is_some_and(|s| {
                    let ttl = if s.kind == StatusKind::Error {
                        ERROR_TTL
                    } else {
                        STATUS_TTL
                    };
                    now.saturating_duration_since(s.at) >= ttl
                });
                if expired {
                    self.status = None;
                    Outcome::new(Redraw::Now)
                } else {
                    Outcome::default()
                }
            }
            Event::Signal(_) => {
                self.quit = true;
                Outcome::default()
            }
            Event::Library(result) => Outcome {
                effects: self.library_answered(result),
                redraw: Redraw::Now,
            },
            Event::AllDone {
                ok,
                failed,
                total,
                errors,
            } => {
                if errors.is_empty() {
                    self.set_status(StatusKind::Success, ok);
                } else {
                    let n = errors.len();
                    self.set_status(
                        StatusKind::Error,
                        format!("{failed} for {n} of {total}: {}", errors.join("; ")),
                    );
                }
                let mut effects: Vec<Effect> = self.request_details().into_iter().collect();
                effects.extend(self.library_refresh(false));
                Outcome {
                    effects,
                    redraw: Redraw::Now,
                }
            }
        }
    }

    fn on_details(
        &mut self,
        id: InfoHash,
        result: trove_proto::EngineResult<Box<TorrentDetails>>,
    ) -> Outcome {
        // Only the selected torrent's answer matters; a late answer for another is dropped.
        if self.selected.as_ref() != Some(&id) {
            return Outcome::default();
        }
        let first = self
            .details
            .as_ref()
            .is_none_or(|d| d.summary.info_hash != id);
        let changed = match result {
            Ok(mut d) => {
                self.steady_peers.apply(&mut d.peers);
                if let Some((pid, wanted)) = &self.files_pending
                    && *pid == id
                {
                    for f in &mut d.files {
                        f.selected = wanted.contains(&f.index);
                    }
                }
                let changed = self.details.as_ref() != Some(&*d) || self.details_error.is_some();
                self.details = Some(*d);
                self.details_error = None;
                changed
            }
            Err(e) => {
                let e = Some(e.to_string());
                let changed = self.details_error != e;
                self.details_error = e;
                changed
            }
        };
        if !changed {
            return Outcome::default();
        }
        Outcome::new(if first { Redraw::Now } else { Redraw::Soon })
    }

    /// Recomputes the visible rows and keeps the selection on the same torrent. Returns the
    /// effects of a selection change, if any.
    fn refresh_rows(&mut self) -> Vec<Effect> {
        self.rows = self.table.rows(&self.snapshot.torrents);
        self.drop_gone_marks();
        let hash = |app: &App, row: usize| app.snapshot.torrents[app.rows[row]].info_hash.clone();
        if let Some(p) = &self.pending_select
            && let Some(pos) = self
                .rows
                .iter()
                .position(|&i| &self.snapshot.torrents[i].info_hash == p)
        {
            self.pending_select = None;
            self.cursor = pos;
            let new = hash(self, pos);
            return self.select(Some(new));
        }
        let found = self.selected.as_ref().and_then(|s| {
            self.rows
                .iter()
                .position(|&i| &self.snapshot.torrents[i].info_hash == s)
        });
        match found {
            Some(pos) => {
                self.cursor = pos;
                Vec::new()
            }
            None if self.rows.is_empty() => {
                self.cursor = 0;
                self.select(None)
            }
            None => {
                // The torrent left (removed, or filtered out): land on its neighbour.
                self.cursor = self.cursor.min(self.rows.len() - 1);
                let new = hash(self, self.cursor);
                self.select(Some(new))
            }
        }
    }

    /// Sets the selection; when it changes, resets the detail pane and asks for details.
    pub(crate) fn select(&mut self, id: Option<InfoHash>) -> Vec<Effect> {
        if self.selected == id {
            return Vec::new();
        }
        self.selected = id;
        self.details = None;
        self.details_error = None;
        self.file_cursor = 0;
        self.folded.clear();
        self.steady_peers = SteadyPeers::default();
        self.detail_scroll = 0;
        self.files_scroll.reset();
        let mut effects: Vec<Effect> = self.request_details().into_iter().collect();
        if self.log_torrent_only {
            self.log_anchor = None;
            effects.push(Effect::ReadLog(self.log_filter()));
        }
        effects
    }

    fn request_details(&self) -> Option<Effect> {
        if !self.details_visible() || self.view != View::Dashboard {
            return None;
        }
        self.selected.clone().map(|id| Effect::FetchDetails { id })
    }

    pub(crate) fn move_cursor(&mut self, to: usize) -> Vec<Effect> {
        if self.rows.is_empty() {
            return Vec::new();
        }
        self.cursor = to.min(self.rows.len() - 1);
        let id = self.snapshot.torrents[self.rows[self.cursor]]
            .info_hash
            .clone();
        self.select(Some(id))
    }

    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        if let Some(modal) = &mut self.modal {
            let outcome = modal.paste(text);
            return self.apply_dialog(outcome);
        }
        if self.help.is_none() {
            // A magnet pasted on the dashboard means "add this".
            self.modal = Some(Modal::Add(AddDialog::new(
                text.trim(),
                &self.snapshot.roots,
            )));
        }
        Vec::new()
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(modal) = &mut self.modal {
            let env = Env {
                keymap: &self.keymap,
                roots: &self.snapshot.roots,
                home: self.home.as_deref(),
            };
            let outcome = modal.handle_key(&key, &env);
            return self.apply_dialog(outcome);
        }
        if let Some(top) = self.help {
            let page = self.size.height.saturating_sub(6).max(1) as usize;
            self.help = match self.keymap.lookup(&[Context::Help], &key) {
                Some(Action::Close) => None,
                Some(Action::Up) => Some(top.saturating_sub(1)),
                Some(Action::Down) => Some(top + 1),
                Some(Action::PageUp) => Some(top.saturating_sub(page)),
                Some(Action::PageDown) => Some(top + page),
                Some(Action::Top) => Some(0),
                Some(Action::Bottom) => Some(usize::MAX / 2),
                _ => Some(top),
            };
            return Vec::new();
        }
        let files_tab =
            self.focus == Pane::Details && self.tab == DetailTab::Files && self.details_visible();
        let contexts: &[Context] = if files_tab {
            &[Context::Files, Context::Manager]
        } else {
            &[Context::Manager]
        };
        match self.keymap.lookup(contexts, &key) {
            Some(action) => self.apply(action),
            None => Vec::new(),
        }
    }

    /// Carries out what a key or a paste in the open dialog asked for.
    fn apply_dialog(&mut self, outcome: DialogOutcome) -> Vec<Effect> {
        match outcome {
            DialogOutcome::Stay => Vec::new(),
            DialogOutcome::Close => {
                self.modal = None;
                Vec::new()
            }
            DialogOutcome::Run {
                command,
                ok,
                failed,
            } => {
                self.modal = None;
                self.unmark_commanded(std::slice::from_ref(&command));
                vec![Effect::Run {
                    command,
                    ok,
                    failed,
                }]
            }
            DialogOutcome::RunAll {
                commands,
                ok,
                failed,
            } => {
                self.modal = None;
                self.unmark_commanded(&commands);
                vec![Effect::RunAll {
                    commands,
                    ok,
                    failed,
                }]
            }
            DialogOutcome::Add {
                source,
                options,
                text,
                paused,
            } => {
                self.modal = None;
                self.last_add = Some((text, paused));
                self.set_status(
                    StatusKind::Info,
                    "Adding… (a magnet link may take a while to fetch its metadata)",
                );
                vec![Effect::Add { source, options }]
            }
            DialogOutcome::Filter(text) => {
                self.table.set_filter(text);
                self.refresh_rows()
            }
            DialogOutcome::ClearFilter => {
                self.modal = None;
                self.table.clear_filter();
                self.refresh_rows()
            }
            DialogOutcome::CursorUp => self.move_cursor(self.cursor.saturating_sub(1)),
            DialogOutcome::CursorDown => self.move_cursor(self.cursor + 1),
        }
    }

    /// What the open dialog reads from the app to draw itself.
    pub(crate) fn dialog_env(&self) -> Env<'_> {
        Env {
            keymap: &self.keymap,
            roots: &self.snapshot.roots,
            home: self.home.as_deref(),
        }
    }

    /// Runs a dashboard action.
    pub(crate) fn apply(&mut self, action: Action) -> Vec<Effect> {
        if let Some(effects) = self.library_action(action) {
            return effects;
        }
        if let Some(effects) = self.marks_action(action) {
            return effects;
        }
        match action {
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Help => {
                self.help = Some(0);
                Vec::new()
            }
            Action::Add => {
                let (text, paused) = self.last_add.clone().unwrap_or_default();
                let mut dialog = AddDialog::new(&text, &self.snapshot.roots);
                dialog.paused = paused;
                self.modal = Some(Modal::Add(dialog));
                Vec::new()
            }
            Action::PauseResume => self.pause_resume(),
            Action::Recheck => self.recheck(),
            Action::CopyMagnet => self.copy_magnet(),
            Action::StopSession => {
                self.modal = Some(Modal::Stop(StopDialog));
                Vec::new()
            }
            Action::Remove | Action::Purge => {
                match self.selected_summary() {
                    Some(t) => {
                        self.modal = Some(Modal::Confirm(RemoveDialog {
                            ids: vec![t.info_hash.clone()],
                            name: format::sanitize(&t.name),
                            names: Vec::new(),
                            size: t.size,
                            delete_data: action == Action::Purge,
                            root_label: format::sanitize(&t.root_label),
                        }));
                    }
                    None => self.set_status(StatusKind::Info, "No torrent selected."),
                }
                Vec::new()
            }
            Action::Limits => {
                let dialog = LimitsDialog::new(self.selected_summary(), self.snapshot.limits);
                self.modal = Some(Modal::Limits(dialog));
                Vec::new()
            }
            Action::QueueLimits => {
                let dialog = QueueDialog::new(self.snapshot.queue_limits, self.snapshot.goals);
                self.modal = Some(Modal::Queue(dialog));
                Vec::new()
            }
            Action::Tags => {
                match self.selected_summary() {
                    Some(t) => {
                        let dialog = TagsDialog::new(t, &self.snapshot.tags);
                        self.modal = Some(Modal::Tags(dialog));
                    }
                    None => self.set_status(StatusKind::Info, "No torrent selected."),
                }
                Vec::new()
            }
            Action::MoveRoot => {
                match self.selected_summary() {
                    Some(t) => {
                        let dialog = MoveDialog::new(t, &self.snapshot.roots);
                        self.modal = Some(Modal::Move(dialog));
                    }
                    None => self.set_status(StatusKind::Info, "No torrent selected."),
                }
                Vec::new()
            }
            Action::Filter => {
                self.modal = Some(Modal::Filter(FilterPrompt::new(self.table.filter())));
                Vec::new()
            }
            Action::StateFilter => {
                self.table.state = next_state_filter(self.table.state);
                self.refresh_rows()
            }
            Action::Sort => {
                self.table.sort = self.table.sort.next();
                self.table.descending = self.table.sort.descending_by_default();
                let mut effects = self.refresh_rows();
                effects.push(Effect::SavePrefs(self.prefs()));
                effects
            }
            Action::SortReverse => {
                self.table.descending = !self.table.descending;
                let mut effects = self.refresh_rows();
                effects.push(Effect::SavePrefs(self.prefs()));
                effects
            }
            Action::NextPane | Action::PrevPane => {
                let panes = self.panes();
                let i = panes.iter().position(|p| *p == self.focus).unwrap_or(0);
                let n = panes.len();
                self.focus = panes[if action == Action::NextPane {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                }];
                self.after_layout_change()
            }
            Action::Tab(tab) => {
                self.tab = tab;
                self.detail_scroll = 0;
                if self.view == View::Roots {
                    self.view = View::Dashboard;
                }
                if self.log_mode == LogMode::Full {
                    self.log_mode = LogMode::Shown;
                }
                if !self.details_visible() {
                    // On a small screen the detail pane shows only when it has the focus.
                    self.focus = Pane::Details;
                }
                self.after_layout_change()
            }
            Action::LogPane => {
                self.log_mode = match self.log_mode {
                    LogMode::Hidden => LogMode::Shown,
                    LogMode::Shown | LogMode::Full => {
                        if self.focus == Pane::Log {
                            self.focus = Pane::Torrents;
                        }
                        LogMode::Hidden
                    }
                };
                self.after_layout_change()
            }
            Action::LogFull => {
                self.log_mode = match self.log_mode {
                    LogMode::Hidden | LogMode::Shown => {
                        self.focus = Pane::Log;
                        LogMode::Full
                    }
                    LogMode::Full => LogMode::Shown,
                };
                self.after_layout_change()
            }
            Action::LogLevel => {
                let i = LEVEL_CYCLE
                    .iter()
                    .position(|l| *l == self.log_level)
                    .unwrap_or(0);
                self.log_level = LEVEL_CYCLE[(i + 1) % LEVEL_CYCLE.len()];
                self.log_anchor = None;
                vec![
                    Effect::ReadLog(self.log_filter()),
                    Effect::SavePrefs(self.prefs()),
                ]
            }
            Action::LogTorrent => {
                self.log_torrent_only = !self.log_torrent_only;
                self.log_anchor = None;
                vec![Effect::ReadLog(self.log_filter())]
            }
            Action::Roots => {
                self.view = match self.view {
                    View::Dashboard => View::Roots,
                    View::Roots => View::Dashboard,
                };
                self.roots_scroll = 0;
                let mut effects = self.after_layout_change();
                effects.extend(self.library_refresh(false));
                effects
            }
            Action::Up => self.movement(|_, at, _| at.saturating_sub(1)),
            Action::Down => self.movement(|_, at, _| at.saturating_add(1)),
            Action::Top => self.movement(|_, _, _| 0),
            Action::Bottom => self.movement(|len, _, _| len.saturating_sub(1)),
            Action::PageUp => self.movement(|_, at, page| at.saturating_sub(page)),
            Action::PageDown => self.movement(|_, at, page| at.saturating_add(page)),
            Action::ToggleFile => self.toggle_file(),
            Action::Fold => self.fold(),
            Action::CopyStreamUrl => self.copy_stream_url(),
            Action::Close => {
                if self.view == View::Roots {
                    self.view = View::Dashboard;
                    self.after_layout_change()
                } else if self.log_mode == LogMode::Full {
                    self.log_mode = LogMode::Shown;
                    self.after_layout_change()
                } else if !self.table.filter().is_empty() || self.table.state.is_some() {
                    self.table.clear_filter();
                    self.table.state = None;
                    self.refresh_rows()
                } else if !self.marks.is_empty() {
                    self.marks.clear();
                    Vec::new()
                } else {
                    Vec::new()
                }
            }
            Action::Confirm
            | Action::Cancel
            | Action::Submit
            | Action::NextField
            | Action::PrevField
            | Action::Toggle
            | Action::Noop => Vec::new(),
            // Handled by `marks_action`, which always answers them.
            Action::Mark | Action::ClearMarks => Vec::new(),
            Action::QueueUp => self.queue_move(QueueMove::Up),
            Action::QueueDown => self.queue_move(QueueMove::Down),
            Action::QueueTop => self.queue_move(QueueMove::Top),
            Action::QueueBottom => self.queue_move(QueueMove::Bottom),
            Action::Force => self.toggle_force(),
        }
    }

    /// The panes Tab cycles through, in screen order.
    fn panes(&self) -> Vec<Pane> {
        match (self.view, self.log_mode) {
            (View::Roots, _) => vec![self.focus],
            (_, LogMode::Full) => vec![Pane::Log],
            (_, LogMode::Shown) => vec![Pane::Torrents, Pane::Details, Pane::Log],
            (_, LogMode::Hidden) => vec![Pane::Torrents, Pane::Details],
        }
    }

    /// Panes may have appeared: fetch what they show.
    fn after_layout_change(&mut self) -> Vec<Effect> {
        if !self.panes().contains(&self.focus) {
            self.focus = Pane::Torrents;
        }
        let mut effects: Vec<Effect> = self.request_details().into_iter().collect();
        if self.log_visible() {
            effects.push(Effect::ReadLog(self.log_filter()));
        }
        effects
    }

    /// Moves the cursor of whatever has the focus; `f(len, at, page)` gives the new place.
    fn movement(&mut self, f: impl Fn(usize, usize, usize) -> usize) -> Vec<Effect> {
        let screen = self.layout();
        let inner = |r: Option<Rect>| r.map_or(1, |r| r.height.saturating_sub(2).max(1) as usize);
        if self.view == View::Roots {
            let page = inner(screen.roots);
            if self.library.report.is_some() {
                return self.library_move(page, f);
            }
            self.roots_scroll = f(usize::MAX / 2, self.roots_scroll, page);
            return Vec::new();
        }
        match self.focus {
            Pane::Torrents => {
                let page = inner(screen.torrents).saturating_sub(1).max(1);
                let to = f(self.rows.len(), self.cursor, page);
                self.move_cursor(to)
            }
            Pane::Details => {
                let page = inner(screen.details).saturating_sub(1).max(1);
                if self.tab == DetailTab::Files {
                    let len = self.file_rows().len();
                    self.file_cursor = f(len, self.file_cursor, page).min(len.saturating_sub(1));
                } else {
                    // Clamped when drawn, where the number of lines is known.
                    self.detail_scroll = f(usize::MAX / 2, self.detail_scroll, page);
                }
                Vec::new()
            }
            Pane::Log => {
                let height = inner(screen.log);
                let lines = self.shown_log();
                let len = lines.len();
                let max_top = len.saturating_sub(height);
                let top = self.log_top(&lines, height);
                let to = f(len, top, height);
                // "Bottom" lands past the last full page: that is following again.
                self.log_anchor = if to >= max_top {
                    None
                } else {
                    lines.get(to).map(|l| l.seq)
                };
                Vec::new()
            }
        }
    }

    fn pause_resume(&mut self) -> Vec<Effect> {
        let Some(t) = self.selected_summary() else {
            self.set_status(StatusKind::Info, "No torrent selected.");
            return Vec::new();
        };
        let name = format::sanitize(&t.name);
        let id = t.info_hash.clone();
        if t.state == TorrentState::Error {
            // Resuming a torrent in error retries it: say so, not "paused".
            self.set_status(StatusKind::Info, format!("Retrying '{name}'…"));
            return vec![Effect::Run {
                command: Command::Resume(id),
                ok: format!("Retrying '{name}': it starts again once its problem is gone."),
                failed: format!("Retrying '{name}' failed"),
            }];
        }
        let effect = if t.state == TorrentState::Paused {
            Effect::Run {
                command: Command::Resume(id),
                ok: format!("Resumed '{name}'."),
                failed: format!("Resume '{name}' failed"),
            }
        } else {
            Effect::Run {
                command: Command::Pause(id),
                ok: format!("Paused '{name}'."),
                failed: format!("Pause '{name}' failed"),
            }
        };
        vec![effect]
    }

    fn toggle_file(&mut self) -> Vec<Effect> {
        let rows = self.file_rows();
        let Some(row) = rows.get(self.file_cursor) else {
            return Vec::new();
        };
        let Some(d) = self.details.as_mut() else {
            return Vec::new();
        };
        let wanted = files::toggle(&mut d.files, row);
        let id = d.summary.info_hash.clone();
        let name = format::sanitize(&d.summary.name);
        self.files_pending = Some((id.clone(), wanted.clone()));
        let count = format::count(wanted.len(), "file");
        vec![Effect::Run {
            command: Command::SelectFiles { id, files: wanted },
            ok: format!("'{name}': {count} selected."),
            failed: format!("Selecting files of '{name}' failed"),
        }]
    }

    fn recheck(&mut self) -> Vec<Effect> {
        let Some(t) = self.selected_summary() else {
            self.set_status(StatusKind::Info, "No torrent selected.");
            return Vec::new();
        };
        let name = format::sanitize(&t.name);
        let id = t.info_hash.clone();
        self.set_status(StatusKind::Info, format!("Re-checking '{name}'…"));
        vec![Effect::Run {
            command: Command::Recheck(id),
            ok: format!("Re-checking the data of '{name}' against its hashes."),
            failed: format!("Re-checking '{name}' failed"),
        }]
    }

    /// The URL a player opens to stream the file under the cursor; on a folder, the
    /// torrent's playlist.
    fn copy_stream_url(&mut self) -> Vec<Effect> {
        let rows = self.file_rows();
        let Some(row) = rows.get(self.file_cursor) else {
            return Vec::new();
        };
        let Some(d) = self.details.as_ref() else {
            return Vec::new();
        };
        let Some(base) = self.stream_base.as_ref() else {
            self.set_status(
                StatusKind::Info,
                "Streaming needs the session's API on TCP: set listen under [api] in the config.",
            );
            return Vec::new();
        };
        let hash = &d.summary.info_hash;
        let url = match (row.is_dir, row.files.as_slice()) {
            (false, [one]) => match d.files.get(*one) {
                Some(file) => base.file(hash, file.index),
                None => return Vec::new(),
            },
            _ => base.playlist(hash),
        };
        self.set_status(StatusKind::Success, format!("Copied: {url}"));
        vec![Effect::Clipboard(url)]
    }

    /// The magnet link comes with the details; without them there is nothing to copy yet.
    fn copy_magnet(&mut self) -> Vec<Effect> {
        let Some(t) = self.selected_summary() else {
            self.set_status(StatusKind::Info, "No torrent selected.");
            return Vec::new();
        };
        let magnet = self
            .details
            .as_ref()
            .filter(|d| d.summary.info_hash == t.info_hash && !d.magnet.is_empty())
            .map(|d| d.magnet.clone());
        match magnet {
            Some(link) => {
                self.set_status(StatusKind::Success, format!("Copied: {link}"));
                vec![Effect::Clipboard(link)]
            }
            None => {
                self.set_status(
                    StatusKind::Info,
                    "The magnet link is not known yet: open the detail pane and try again.",
                );
                Vec::new()
            }
        }
    }

    /// Folds the folder under the cursor, or unfolds it; on a file, folds its folder.
    fn fold(&mut self) -> Vec<Effect> {
        let rows = self.file_rows();
        let Some(row) = rows.get(self.file_cursor) else {
            return Vec::new();
        };
        if row.is_dir {
            if !self.folded.remove(&row.path) {
                self.folded.insert(row.path.clone());
            }
        } else if let Some(parent) = rows[..self.file_cursor]
            .iter()
            .rposition(|r| r.is_dir && r.depth < row.depth)
        {
            self.folded.insert(rows[parent].path.clone());
            self.file_cursor = parent;
        }
        let len = self.file_rows().len();
        self.file_cursor = self.file_cursor.min(len.saturating_sub(1));
        Vec::new()
    }
}
