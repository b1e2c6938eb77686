//! The dashboard in a private tmux server: keys in, the screen out, as a person at a
//! terminal would see it.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::{TroveEnv, wait_until};

/// A private tmux server (its own socket), killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// The dashboard (`trove_bin` with `env`'s data dir and config, and `args`) in a new
    /// tmux server of `width` x `height`, without colour, refreshing every 250 ms.
    pub fn start(trove_bin: &str, env: &TroveEnv, args: &[&str], width: u16, height: u16) -> Tmux {
        let socket = format!("trove-e2e-{}-{}", std::process::id(), crate::free_port());
        let t = Tmux { socket };
        let mut cmd = format!(
            "{} --data-dir {} --config {} --refresh-ms 250",
            trove_bin,
            shell_quote(&env.data_dir),
            shell_quote(&env.config_path),
        );
        for a in args {
            cmd.push(' ');
            cmd.push_str(&shell_quote(Path::new(a)));
        }
        let out = t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            // NO_COLOR keeps the capture plain; the UI must still be readable without colour.
            &format!("env NO_COLOR=1 TERM=xterm-256color {cmd}; echo TROVE-EXITED $?; sleep 30"),
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Pastes text as a terminal would with bracketed paste, so it arrives as one event.
    pub fn paste(&self, text: &str) {
        assert!(self.tmux(&["set-buffer", "-b", "p", text]).status.success());
        assert!(
            self.tmux(&["paste-buffer", "-p", "-b", "p", "-t", "main"])
                .status
                .success()
        );
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    /// Waits until the screen satisfies `f`; the panic shows the last screen.
    pub fn wait_screen(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(what, Duration::from_secs(60), || {
                last = self.screen();
                f(&last).then(|| last.clone())
            })
        }));
        match found {
            Ok(s) => s,
            Err(_) => panic!("timed out waiting for {what}; screen:\n{last}"),
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}
