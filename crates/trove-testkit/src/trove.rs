//! The trove binary in a throw-away data dir and config ([`TroveEnv`]), and a running trove
//! process whose output is collected for assertions ([`Daemon`]).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;
use tempfile::TempDir;

use crate::ports::free_port;
use crate::process::{
    POLL, die_with_parent, lock, pump_into, reap, run_with_timeout, send_signal, tail, wait_timeout,
};

pub struct TroveEnv {
    /// The trove binary this env runs.
    bin: PathBuf,
    pub dir: TempDir,
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    pub listen_port: u16,
    pub roots: Vec<(String, PathBuf)>,
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const RUN_TIMEOUT: Duration = Duration::from_secs(60);

impl TroveEnv {
    /// A temp dir with `data/`, a root folder per label under `roots/` (the first is the
    /// default) and `config.toml` listening on a free 127.0.0.1 port without DHT, LSD, UPnP;
    /// its commands run `trove_bin` (`env!("CARGO_BIN_EXE_trove")` in the caller).
    pub fn new(trove_bin: impl AsRef<Path>, roots: &[&str]) -> TroveEnv {
        let dir = tempfile::Builder::new()
            .prefix("trove-env")
            .tempdir()
            .unwrap();
        let data_dir = dir.path().join("data");
        fs::create_dir_all(&data_dir).unwrap();
        let roots: Vec<(String, PathBuf)> = roots
            .iter()
            .map(|l| {
                let p = dir.path().join("roots").join(l);
                fs::create_dir_all(&p).unwrap();
                (l.to_string(), p)
            })
            .collect();
        let env = TroveEnv {
            bin: trove_bin.as_ref().to_path_buf(),
            config_path: dir.path().join("config.toml"),
            data_dir,
            listen_port: free_port(),
            roots,
            dir,
        };
        fs::write(&env.config_path, env.config_text("")).unwrap();
        env
    }

    /// The config text this env writes, with `extra` (more TOML tables) appended.
    pub fn config_text(&self, extra: &str) -> String {
        let mut s = String::new();
        for (label, path) in &self.roots {
            s.push_str(&format!(
                "[[roots]]\nlabel = {}\npath = {}\n\n",
                toml_str(label),
                toml_str(&path.to_string_lossy())
            ));
        }
        s.push_str(&format!(
            "[network]\nlisten_port = {}\nbind = \"127.0.0.1\"\ndht = false\nlsd = false\nupnp = false\ntrackers = true\n",
            self.listen_port
        ));
        if !extra.is_empty() {
            s.push('\n');
            s.push_str(extra);
            s.push('\n');
        }
        s
    }

    /// Rewrites the config with a vault root labelled `vault` at `path` (made if missing),
    /// opened with the key in `key_file`.
    pub fn declare_vault(&self, path: &Path, key_file: &Path) {
        fs::create_dir_all(path).unwrap();
        let extra = format!(
            "[[roots]]\nlabel = \"vault\"\npath = {}\nkind = \"vault\"\nkey_file = {}\n",
            toml_str(&path.to_string_lossy()),
            toml_str(&key_file.to_string_lossy())
        );
        fs::write(&self.config_path, self.config_text(&extra)).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn root_path(&self, label: &str) -> PathBuf {
        self.roots
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("no root {label:?} in this env"))
    }

    /// `trove --data-dir D --config F` with RUST_LOG=info and NO_COLOR=1.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--config")
            .arg(&self.config_path)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        c
    }

    /// Runs `trove <args>` to completion (60 s at most).
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        run_with_timeout(self.cmd().args(args), RUN_TIMEOUT)
    }

    /// Runs `trove <args>`, asserts it succeeded, returns its stdout.
    pub fn run_ok<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let out = self.run(args);
        let shown: Vec<_> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        assert!(
            out.status.success(),
            "trove {shown:?} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            tail(&String::from_utf8_lossy(&out.stderr), 8000)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `trove add <args>`: the info-hashes it printed.
    pub fn add<S: AsRef<OsStr>>(&self, args: &[S]) -> Vec<String> {
        let mut all: Vec<OsString> = vec!["add".into()];
        all.extend(args.iter().map(|a| a.as_ref().to_os_string()));
        self.run_ok(&all)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// `trove add TORRENT --peer SEEDER` (and `--root ROOT` if given): its info-hash.
    pub fn add_from(
        &self,
        torrent: &Path,
        seeder: &crate::peer::Peer,
        root: Option<&str>,
    ) -> String {
        let peer = seeder.addr();
        let mut args: Vec<&OsStr> =
            vec![torrent.as_os_str(), OsStr::new("--peer"), OsStr::new(&peer)];
        if let Some(root) = root {
            args.extend([OsStr::new("--root"), OsStr::new(root)]);
        }
        self.add(&args)[0].clone()
    }

    /// `trove list --json`, parsed.
    pub fn list_json(&self) -> Value {
        let out = self.run_ok(&["list", "--json"]);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("trove list --json gave bad JSON ({e}):\n{out}"))
    }

    /// The `list --json` entry for `info_hash`, if any.
    pub fn torrent_json(&self, info_hash: &str) -> Option<Value> {
        self.list_json()
            .as_array()?
            .iter()
            .find(|t| {
                t["info_hash"]
                    .as_str()
                    .is_some_and(|h| h.eq_ignore_ascii_case(info_hash))
            })
            .cloned()
    }

    /// Starts `trove daemon <extra_args>`; it is SIGTERMed, then killed, when dropped.
    pub fn spawn_daemon<S: AsRef<OsStr>>(&self, extra_args: &[S]) -> Daemon {
        let mut cmd = self.cmd();
        cmd.arg("daemon").args(extra_args);
        Daemon::spawn(cmd)
    }
}

/// A running trove process whose stdout and stderr are collected for assertions.
pub struct Daemon {
    child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Copies stderr into `stderr` until the pipe closes (when trove has exited).
    stderr_pump: Option<thread::JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Daemon {
    /// Spawns any prepared command the same way (e.g. `env.cmd().args(["download", ..])`).
    pub fn spawn(mut cmd: Command) -> Daemon {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        // Nothing asserts on stdout, but it must be drained so trove never blocks on it.
        let mut stdout = child.stdout.take().unwrap();
        thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_pump = Some(pump_into(child.stderr.take().unwrap(), stderr.clone()));
        Daemon {
            child,
            stderr,
            stderr_pump,
            status: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&lock(&self.stderr)).into_owned()
    }

    /// Waits until stderr contains `needle`; panics with the stderr tail after `timeout`.
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stderr().contains(needle) {
                return;
            }
            if self.try_status().is_some() {
                // Exited: let the pump drain what is left in the pipe.
                if let Some(pump) = self.stderr_pump.take() {
                    let _ = pump.join();
                }
                if self.stderr().contains(needle) {
                    return;
                }
                panic!(
                    "trove exited ({:?}) before printing {needle:?}; stderr:\n{}",
                    self.status,
                    tail(&self.stderr(), 8000)
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "trove did not print {needle:?} within {timeout:?}; stderr:\n{}",
                    tail(&self.stderr(), 8000)
                );
            }
            thread::sleep(POLL);
        }
    }

    /// The exit status if it has exited.
    fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    pub fn is_running(&mut self) -> bool {
        self.try_status().is_none()
    }

    /// Waits for it to exit on its own (e.g. `--exit-when-complete`); panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(st) = self.status {
            return st;
        }
        match wait_timeout(&mut self.child, timeout) {
            Some(st) => {
                self.status = Some(st);
                st
            }
            None => panic!(
                "trove did not exit within {timeout:?}; stderr:\n{}",
                tail(&self.stderr(), 8000)
            ),
        }
    }

    /// SIGKILL, as a crash or power cut would; returns once it is gone.
    pub fn kill9(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// SIGTERM and wait (up to 30 s, then panics after a SIGKILL): the graceful path.
    pub fn terminate_and_wait(&mut self) -> ExitStatus {
        if let Some(st) = self.status {
            return st;
        }
        send_signal(self.child.id(), Signal::SIGTERM);
        match wait_timeout(&mut self.child, Duration::from_secs(30)) {
            Some(st) => {
                self.status = Some(st);
                st
            }
            None => {
                self.kill9();
                panic!(
                    "trove did not exit within 30 s of SIGTERM; stderr:\n{}",
                    tail(&self.stderr(), 8000)
                );
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.try_status().is_some() {
            return;
        }
        send_signal(self.child.id(), Signal::SIGTERM);
        reap(&mut self.child, Duration::from_secs(10));
    }
}
