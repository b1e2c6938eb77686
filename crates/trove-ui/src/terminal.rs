//! Taking over the terminal and always giving it back: raw mode, alternate screen and
//! bracketed paste on entry; a drop guard and a panic hook that undo them. (Frames are
//! wrapped in synchronized output by the backend, when they are big enough to need it.)

use std::io::{self, Stdout, Write};
use std::mem::ManuallyDrop;
use std::sync::Once;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::{Frame, Terminal};

use super::backend::LeanBackend;

pub(crate) type Term = Terminal<LeanBackend<Stdout>>;

/// Owns the terminal while the dashboard runs; restores it when dropped.
pub(crate) struct TerminalGuard {
    /// Never dropped: ratatui's `Drop` for `Terminal` reports a failure to show the cursor
    /// with `eprintln!`, which panics when stderr is a hung-up terminal (a dropped SSH
    /// connection) and would end the process before the session is saved. `restore` shows
    /// the cursor instead, ignoring errors; the two screen buffers are left to the exit.
    terminal: ManuallyDrop<Term>,
}

static PANIC_HOOK: Once = Once::new();

impl TerminalGuard {
    pub(crate) fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        if let Err(e) = execute!(
            stdout,
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        ) {
            restore();
            return Err(e);
        }
        match Terminal::new(LeanBackend::new(stdout)) {
            Ok(terminal) => Ok(TerminalGuard {
                terminal: ManuallyDrop::new(terminal),
            }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    pub(crate) fn size(&self) -> io::Result<ratatui::layout::Size> {
        self.terminal.size()
    }

    /// Puts `text` on the terminal's clipboard with OSC 52, written on its own between
    /// frames (most terminals honour it, over SSH too).
    pub(crate) fn copy(&mut self, text: &str) -> io::Result<()> {
        self.terminal
            .backend_mut()
            .passthrough(&crate::format::osc52(text))
    }

    /// Draws one frame; only the cells that changed go to the terminal, in one write.
    pub(crate) fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> io::Result<()> {
        self.terminal.draw(render).map(|_| ())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as the shell expects it. Safe to call more than once; errors are
/// ignored because the terminal may already be gone (a dropped SSH connection).
pub(crate) fn restore() {
    let _ = disable_raw_mode();
    let mut stdout = io::stdout();
    let _ = execute!(
        stdout,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = stdout.flush();
}

/// Restores the terminal before the panic message prints, so it is readable.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
