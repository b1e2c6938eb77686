//! The dashboard: a ratatui screen over the engine's handle, made for 80x24 over SSH.
//!
//! The loop (this file) owns the terminal and the engine handle. Everything that happens
//! becomes an [`Event`] on one channel; [`App`] turns events into state and [`Effect`]s,
//! which the loop carries out (engine calls are spawned and answer with events). The screen
//! is drawn by [`draw::draw`], a pure function of the app and the [`Theme`], only when
//! something changed: at once after input, at most once per refresh interval for stats.

pub mod action;
pub mod app;
pub mod backend;
mod complete;
pub mod dialog;
pub mod draw;
pub mod event;
mod files;
pub mod format;
mod input;
pub mod keymap;
pub mod layout;
mod scroll;
mod steady;
mod terminal;
pub mod theme;
pub mod torrents;

#[cfg(test)]
mod app_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod snapshot_tests;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use crate::engine::api::EngineHandle;

pub use app::App;
pub use event::{Effect, Event, Outcome, Redraw};
pub use keymap::Keymap;
pub use theme::{Theme, load_theme};

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
}

/// Runs the dashboard until `q` or a signal (SIGHUP, SIGTERM, SIGINT), then gives the
/// terminal back. Returns Ok in both cases so the caller saves the session.
pub async fn run(engine: EngineHandle, opts: UiOptions) -> anyhow::Result<()> {
    let theme = load_theme(&opts.theme, opts.no_color)?;
    let keymap = Keymap::load(opts.keymap.as_deref())?;
    let refresh = opts.refresh.max(Duration::from_millis(10));
    let mut hup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;

    let mut terminal = terminal::TerminalGuard::enter().context("cannot set up the terminal")?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let tasks = spawn_sources(&engine, &tx, refresh);
    let mut runner = Runner {
        engine,
        tx,
        details_busy: false,
        details_next: None,
    };

    let mut app = App::new(keymap, runner.engine.snapshot());
    let size = terminal.size()?;
    let mut queue: VecDeque<Event> = VecDeque::new();
    queue.push_back(Event::Input(crossterm::event::Event::Resize(
        size.width,
        size.height,
    )));
    let mut pending = Redraw::Now;
    for effect in app.start() {
        runner.carry_out(effect, &mut queue);
    }
    let mut last_draw = Instant::now() - refresh;

    let result = loop {
        // Drain everything already queued before drawing once.
        while let Some(event) = queue.pop_front().or_else(|| rx.try_recv().ok()) {
            if let Event::Details { .. } = &event {
                runner.details_done();
            }
            let out = app.handle(event);
            pending = pending.max(out.redraw);
            for effect in out.effects {
                runner.carry_out(effect, &mut queue);
            }
        }
        if app.should_quit() {
            break Ok(());
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

/// Carries out effects with the engine handle; keeps one details request in flight.
struct Runner {
    engine: EngineHandle,
    tx: mpsc::UnboundedSender<Event>,
    details_busy: bool,
    /// The newest details request that arrived while one was running.
    details_next: Option<String>,
}

impl Runner {
    fn carry_out(&mut self, effect: Effect, queue: &mut VecDeque<Event>) {
        match effect {
            Effect::Run {
                command,
                ok,
                failed,
            } => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let result = engine.run(command.clone()).await;
                    let _ = tx.send(Event::CommandDone {
                        command,
                        ok,
                        failed,
                        result,
                    });
                });
            }
            Effect::Add { source, options } => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let _ = tx.send(Event::Added(engine.add(source, options).await));
                });
            }
            Effect::FetchDetails { id } => {
                if self.details_busy {
                    // Latest request wins: it runs when the current one answers.
                    self.details_next = Some(id);
                } else {
                    self.fetch_details(id);
                }
            }
            Effect::ReadLog(filter) => {
                // An in-memory copy: cheap enough to do here, and it keeps the order.
                queue.push_back(Event::LogLines(self.engine.log().lines(&filter)));
            }
        }
    }

    fn fetch_details(&mut self, id: String) {
        self.details_busy = true;
        let (engine, tx) = (self.engine.clone(), self.tx.clone());
        tokio::spawn(async move {
            let result = engine.details(&id).await.map(Box::new);
            let _ = tx.send(Event::Details { id, result });
        });
    }

    fn details_done(&mut self) {
        self.details_busy = false;
        if let Some(id) = self.details_next.take() {
            self.fetch_details(id);
        }
    }
}

/// The tasks feeding the channel: terminal input, snapshots, log lines, the tick.
fn spawn_sources(
    engine: &EngineHandle,
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
        let mut watch = engine.watch();
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
        let mut lines = engine.log().subscribe();
        tokio::spawn(async move {
            loop {
                match lines.recv().await {
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
                if tx.send(Event::LogChanged).is_err() {
                    return;
                }
                // At most one wake-up per refresh, however chatty the log is.
                tokio::time::sleep(refresh).await;
                let mut more = false;
                loop {
                    match lines.try_recv() {
                        Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => more = true,
                        Err(broadcast::error::TryRecvError::Empty) => break,
                        Err(broadcast::error::TryRecvError::Closed) => return,
                    }
                }
                if more && tx.send(Event::LogChanged).is_err() {
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
    vec![input, snapshots, log, tick]
}
