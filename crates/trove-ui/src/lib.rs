//! The dashboard: a ratatui screen over a session [`Client`], made for 80x24 over SSH.
//!
//! The loop (this file) owns the terminal and the client. Everything that happens becomes
//! an [`Event`] on one channel; [`App`] turns events into state and [`Effect`]s, which the
//! loop carries out (session calls are spawned and answer with events). The screen is drawn
//! by [`draw()`], a pure function of the app and the [`Theme`], only when something
//! changed: at once after input, at most once per refresh interval for stats.
//!
//! This crate speaks only trove's protocol: it cannot reach the torrent library or the
//! store, so the same screen works whether the session runs in this process or elsewhere.

mod action;
mod app;
mod backend;
mod complete;
mod dialogs;
mod draw;
mod event;
mod files;
mod format;
mod input;
mod keymap;
mod layout;
mod library;
mod marks;
mod prefs;
mod query;
mod queue;
mod scroll;
mod spans;
mod steady;
mod stream_url;
mod terminal;
pub mod theme;
mod torrents;

#[cfg(test)]
mod app_tests;
#[cfg(any(test, feature = "testing"))]
pub mod fixtures;
#[cfg(test)]
mod snapshot_tests;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use trove_proto::{Client, EngineError, LogFilter, MAX_TORRENT_FILE_BYTES, TorrentSource};

pub use app::App;
pub use draw::draw;
pub use event::{Effect, Event, Outcome, Redraw};
pub use keymap::Keymap;
pub use prefs::Prefs;
pub use stream_url::StreamBase;
pub use theme::{Theme, load_theme};
pub use torrents::SortKey;

/// What `main` decides for the dashboard.
pub struct UiOptions {
    /// Stats redraw at most this often (input is answered at once).
    pub refresh: Duration,
    /// A built-in theme name or the path of a theme `.toml`.
    pub theme: String,
    /// A user keymap laid over the defaults.
    pub keymap: Option<PathBuf>,
    /// `NO_COLOR`: use the mono theme whatever `theme` says.
    pub no_color: bool,
    /// Where the dashboard keeps its preferences (sort order, log level) between runs;
    /// `None` keeps them for this run only.
    pub state_file: Option<PathBuf>,
    /// Where the session's files can be streamed over HTTP, when its API listens on TCP;
    /// the Files tab then copies a file's URL.
    pub stream_base: Option<StreamBase>,
}

/// Runs the dashboard until `q` or a signal (SIGHUP, SIGTERM, SIGINT), then gives the
/// terminal back. Returns Ok in both cases so the caller saves the session.
pub async fn run(session: Client, opts: UiOptions) -> anyhow::Result<()> {
    let theme = load_theme(&opts.theme, opts.no_color)?;
    let keymap = Keymap::load(opts.keymap.as_deref())?;
    let refresh = opts.refresh.max(Duration::from_millis(10));
    let mut hup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;

    let mut terminal = terminal::TerminalGuard::enter().context("cannot set up the terminal")?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let tasks = spawn_sources(&session, &tx, refresh);
    let prefs = opts.state_file.as_deref().map(Prefs::load);
    let mut runner = Runner {
        session,
        tx,
        details: Latest::default(),
        log: Latest::default(),
        state_file: opts.state_file,
        to_copy: None,
    };

    let mut app = App::new(keymap, runner.session.snapshot());
    app.stream_base = opts.stream_base;
    if let Some(prefs) = prefs {
        app.use_prefs(&prefs);
    }
    let size = terminal.size()?;
    let mut queue: VecDeque<Event> = VecDeque::new();
    queue.push_back(Event::Input(crossterm::event::Event::Resize(
        size.width,
        size.height,
    )));
    let mut pending = Redraw::Now;
    for effect in app.start() {
        runner.carry_out(effect);
    }
    let mut last_draw = Instant::now() - refresh;

    let result = loop {
        // Drain everything already queued before drawing once.
        while let Some(event) = queue.pop_front().or_else(|| rx.try_recv().ok()) {
            match &event {
                Event::Details { .. } => runner.details_done(),
                Event::LogLines(_) | Event::LogUnavailable => runner.log_done(),
                _ => {}
            }
            let out = app.handle(event);
            pending = pending.max(out.redraw);
            for effect in out.effects {
                runner.carry_out(effect);
            }
        }
        if app.should_quit() {
            break Ok(());
        }
        if let Some(text) = runner.to_copy.take() {
            // Between two frames, so the escape sequence never lands inside one. A terminal
            // that does not know OSC 52 ignores it; the status line shows the text anyway.
            if let Err(e) = terminal.copy(&text) {
                break Err(anyhow::Error::new(e).context("cannot write to the terminal"));
            }
        }
        let now = Instant::now();
        if pending == Redraw::Now || (pending == Redraw::Soon && now >= last_draw + refresh) {
            if let Err(e) = terminal.draw(|f| draw::draw(f, &app, &theme)) {
                break Err(anyhow::Error::new(e).context("cannot draw on the terminal"));
            }
            last_draw = now;
            pending = Redraw::No;
        }
        let deadline = (pending == Redraw::Soon).then_some(last_draw + refresh);
        tokio::select! {
            event = rx.recv() => match event {
                Some(event) => queue.push_back(event),
                None => break Ok(()),
            },
            _ = hup.recv() => queue.push_back(Event::Signal("SIGHUP")),
            _ = term.recv() => queue.push_back(Event::Signal("SIGTERM")),
            _ = int.recv() => queue.push_back(Event::Signal("SIGINT")),
            _ = tokio::time::sleep_until(deadline.unwrap_or(now)), if deadline.is_some() => {}
        }
    };
    for task in tasks {
        task.abort();
    }
    drop(terminal);
    result
}

/// One request in flight at a time; a newer one waits and replaces any older waiting one.
struct Latest<T> {
    busy: bool,
    next: Option<T>,
}

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Latest {
            busy: false,
            next: None,
        }
    }
}

impl<T> Latest<T> {
    /// The request to send now, if nothing is in flight; otherwise it waits.
    fn ask(&mut self, request: T) -> Option<T> {
        if self.busy {
            self.next = Some(request);
            None
        } else {
            self.busy = true;
            Some(request)
        }
    }

    /// The answer came: the waiting request, if any, goes next.
    fn answered(&mut self) -> Option<T> {
        self.busy = false;
        let next = self.next.take()?;
        self.ask(next)
    }
}

/// Carries out effects with the session client; keeps one details request and one log
/// read in flight, so answers arrive in the order they were asked for.
struct Runner {
    session: Client,
    tx: mpsc::UnboundedSender<Event>,
    details: Latest<String>,
    log: Latest<LogFilter>,
    state_file: Option<PathBuf>,
    /// Text for the terminal's clipboard, written by the loop before the next frame.
    to_copy: Option<String>,
}

impl Runner {
    fn carry_out(&mut self, effect: Effect) {
        match effect {
            Effect::Run {
                command,
                ok,
                failed,
            } => {
                let (session, tx) = (self.session.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let result = session.run(command.clone()).await;
                    let _ = tx.send(Event::CommandDone {
                        command,
                        ok,
                        failed,
                        result,
                    });
                });
            }
            Effect::Add { source, options } => {
                let (session, tx) = (self.session.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let added = match local_file_as_bytes(source).await {
                        Ok(source) => session.add(source, options).await,
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(Event::Added(added));
                });
            }
            Effect::FetchDetails { id } => {
                if let Some(id) = self.details.ask(id) {
                    self.fetch_details(id);
                }
            }
            Effect::ReadLog(filter) => {
                if let Some(filter) = self.log.ask(filter) {
                    self.read_log(filter);
                }
            }
            Effect::Clipboard(text) => self.to_copy = Some(text),
            Effect::FetchLibrary => {
                let (session, tx) = (self.session.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let _ = tx.send(Event::Library(session.library().await));
                });
            }
            Effect::RunAll {
                commands,
                ok,
                failed,
            } => {
                let (session, tx) = (self.session.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let total = commands.len();
                    let mut errors = Vec::new();
                    for command in commands {
                        if let Err(e) = session.run(command).await {
                            errors.push(e.to_string());
                        }
                    }
                    let _ = tx.send(Event::AllDone {
                        ok,
                        failed,
                        total,
                        errors,
                    });
                });
            }
            Effect::SavePrefs(prefs) => {
                // A preference that cannot be saved is only lost at the next start: the
                // screen has nowhere better to say so than its status line, and the sort
                // order is not worth interrupting anyone for.
                if let Some(path) = &self.state_file {
                    let _ = prefs.save(path);
                }
            }
        }
    }

    fn fetch_details(&self, id: String) {
        let (session, tx) = (self.session.clone(), self.tx.clone());
        tokio::spawn(async move {
            let result = session.details(&id).await.map(Box::new);
            let _ = tx.send(Event::Details { id, result });
        });
    }

    fn details_done(&mut self) {
        if let Some(id) = self.details.answered() {
            self.fetch_details(id);
        }
    }

    fn read_log(&self, filter: LogFilter) {
        let (session, tx) = (self.session.clone(), self.tx.clone());
        tokio::spawn(async move {
            // A session that cannot answer leaves the pane as it was; the status line and
            // the snapshots already say when the session is gone.
            if let Ok(lines) = session.log(filter).await {
                let _ = tx.send(Event::LogLines(lines));
            } else {
                let _ = tx.send(Event::LogUnavailable);
            }
        });
    }

    fn log_done(&mut self) {
        if let Some(filter) = self.log.answered() {
            self.read_log(filter);
        }
    }
}

/// A .torrent named by its path is read here and sent as bytes: the session may run in
/// another process, as another user or on another machine, where the path means nothing.
async fn local_file_as_bytes(source: TorrentSource) -> Result<TorrentSource, EngineError> {
    let TorrentSource::File(path) = source else {
        return Ok(source);
    };
    let unreadable = |e: std::io::Error| {
        EngineError::BadSource(format!(
            "cannot read {}: {e}; give the path of a .torrent file, a magnet link or a URL",
            path.display()
        ))
    };
    let meta = tokio::fs::metadata(&path).await.map_err(unreadable)?;
    if meta.len() > MAX_TORRENT_FILE_BYTES as u64 {
        return Err(EngineError::BadSource(format!(
            "{} is {} bytes, too large for a .torrent file: give the .torrent, not the data",
            path.display(),
            meta.len()
        )));
    }
    tokio::fs::read(&path)
        .await
        .map(TorrentSource::Bytes)
        .map_err(unreadable)
}

/// The tasks feeding the channel: terminal input, snapshots, log lines, the tick.
fn spawn_sources(
    session: &Client,
    tx: &mpsc::UnboundedSender<Event>,
    refresh: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    let input = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut stream = crossterm::event::EventStream::new();
            while let Some(event) = stream.next().await {
                match event {
                    Ok(event) => {
                        if tx.send(Event::Input(event)).is_err() {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            }
            // The terminal is gone (or unreadable): leave as on a hang-up.
            let _ = tx.send(Event::Signal("input closed"));
        })
    };
    let snapshots = {
        let tx = tx.clone();
        let mut watch = session.watch();
        tokio::spawn(async move {
            while watch.changed().await.is_ok() {
                let snapshot = watch.borrow_and_update().clone();
                if tx.send(Event::Snapshot(snapshot)).is_err() {
                    return;
                }
            }
        })
    };
    let log = {
        let tx = tx.clone();
        let mut changes = session.log_changes();
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                changes.mark_unchanged();
                if tx.send(Event::LogChanged).is_err() {
                    return;
                }
                // At most one wake-up per refresh, however chatty the log is.
                tokio::time::sleep(refresh).await;
            }
        })
    };
    let link = {
        let tx = tx.clone();
        let mut link = session.link();
        tokio::spawn(async move {
            // A session in this process never changes its link: the watch ends at once.
            while link.changed().await.is_ok() {
                let now = link.borrow_and_update().clone();
                if tx.send(Event::Link(now)).is_err() {
                    return;
                }
            }
        })
    };
    let tick = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(refresh.max(Duration::from_secs(1)));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                interval.tick().await;
                if tx.send(Event::Tick(std::time::Instant::now())).is_err() {
                    return;
                }
            }
        })
    };
    vec![input, snapshots, log, link, tick]
}
