//! The one event type of the UI loop, and the effects the app asks the loop to carry out.
//!
//! Everything that can change the screen arrives as an [`Event`] over one channel: input,
//! a new engine snapshot, new log lines, answers to engine calls, the tick and signals.
//! `App::handle` answers with [`Effect`]s (engine calls to spawn, the log to read) and says
//! whether to redraw; it never calls the engine itself, so it can be driven by tests.

use std::sync::Arc;
use std::time::Instant;

use trove_proto::command::{AddOptions, Added, Command, EngineResult, TorrentSource};
use trove_proto::log::{LogFilter, LogLine};
use trove_proto::snapshot::{InfoHash, SessionSnapshot, TorrentDetails};

use crate::prefs::Prefs;

#[derive(Debug, Clone)]
pub enum Event {
    /// A key, a paste or a resize from the terminal.
    Input(crossterm::event::Event),
    /// The engine published new stats.
    Snapshot(Arc<SessionSnapshot>),
    /// The log ring has new lines (throttled to the refresh rate by its task).
    LogChanged,
    /// Lines read from the session's log with the app's filter, oldest first.
    LogLines(Vec<LogLine>),
    /// The session could not answer a log read; the pane keeps what it shows.
    LogUnavailable,
    /// The answer to a [`Effect::FetchDetails`].
    Details {
        id: InfoHash,
        /// Boxed: the details are big and every other event is small.
        result: EngineResult<Box<TorrentDetails>>,
    },
    /// The answer to an [`Effect::Run`], with the command that was run.
    CommandDone {
        command: Command,
        ok: String,
        failed: String,
        result: EngineResult<()>,
    },
    /// The answer to an [`Effect::Add`].
    Added(EngineResult<Added>),
    /// Once per refresh interval; only expires old status messages.
    Tick(Instant),
    /// The link to the session broke or came back (only a session reached over a socket).
    Link(trove_proto::Link),
    /// SIGHUP, SIGTERM or SIGINT: leave so the session is saved.
    Signal(&'static str),
    /// The answer to an [`Effect::FetchLibrary`].
    Library(EngineResult<trove_proto::library::LibraryReport>),
    /// The answer to an [`Effect::RunAll`]: how many commands ran, and the errors of those
    /// that failed.
    AllDone {
        ok: String,
        failed: String,
        total: usize,
        errors: Vec<String>,
    },
}

/// Work for the loop, which owns the engine handle.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Run a command; report `ok` on success, `failed: <engine error>` otherwise.
    Run {
        command: Command,
        ok: String,
        failed: String,
    },
    Add {
        source: TorrentSource,
        options: AddOptions,
    },
    /// Fetch the detail pane's data. Only the latest request matters.
    FetchDetails { id: InfoHash },
    /// Read the session's log with this filter and send back [`Event::LogLines`].
    ReadLog(LogFilter),
    /// Put this text on the terminal's clipboard (OSC 52), between two frames.
    Clipboard(String),
    /// The preferences changed: write them to the state file, if there is one.
    SavePrefs(Prefs),
    /// Ask the session what sits in each root, and send back [`Event::Library`].
    FetchLibrary,
    /// Run commands one after the other (the same action on several marked torrents);
    /// report `ok` when all succeed, else `failed` with the errors, once, at the end.
    RunAll {
        commands: Vec<Command>,
        ok: String,
        failed: String,
    },
}

/// How soon an event wants the screen redrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Redraw {
    #[default]
    No,
    /// Stats changed: redraw, but not more often than the refresh rate.
    Soon,
    /// The user did something: redraw at once.
    Now,
}

/// What handling one event gave.
#[derive(Debug, Default)]
pub struct Outcome {
    pub effects: Vec<Effect>,
    pub redraw: Redraw,
}

impl Outcome {
    pub(crate) fn new(redraw: Redraw) -> Self {
        Outcome {
            effects: Vec::new(),
            redraw,
        }
    }
}
