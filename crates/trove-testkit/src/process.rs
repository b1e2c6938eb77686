//! Process plumbing: spawning children that die with the test, waiting for them with a
//! deadline, signals, collecting their output, and bounded polling.

use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use wait_timeout::ChildExt;

/// How often the polling helpers look again.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// Sends `sig` to `pid`; false if there is no such process.
pub fn send_signal(pid: u32, sig: Signal) -> bool {
    signal::kill(Pid::from_raw(pid as i32), sig).is_ok()
}

/// True while `pid` exists (a zombie counts until it is reaped).
pub(crate) fn process_exists(pid: u32) -> bool {
    signal::kill(Pid::from_raw(pid as i32), None).is_ok()
}

/// Makes the child get SIGKILL when the spawning thread dies, so a test binary that is
/// killed outright leaves no children behind.
pub(crate) fn die_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe calls are allowed: it makes a single prctl(2) call, which
    // allocates nothing and touches no memory of the parent's.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            Ok(())
        });
    }
}

/// Waits for `child` to exit, at most `timeout`.
pub(crate) fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    child.wait_timeout(timeout).ok().flatten()
}

/// Ends `child`: waits `grace` for it to exit on its own, then SIGKILLs and reaps it.
pub(crate) fn reap(child: &mut Child, grace: Duration) {
    if wait_timeout(child, grace).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Copies everything `r` yields into `buf`, on its own thread.
pub(crate) fn pump_into(
    mut r: impl Read + Send + 'static,
    buf: Arc<Mutex<Vec<u8>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => lock(&buf).extend_from_slice(&chunk[..n]),
            }
        }
    })
}

/// Locks `m`, also after a panic on another thread poisoned it (the data is only bytes).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The last `max` bytes of `s` (on a character boundary), for failure messages.
pub(crate) fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut i = s.len() - max;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// The last 4000 bytes of a log file, or "" if it cannot be read.
pub(crate) fn read_tail(path: &Path) -> String {
    let s = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    tail(&s, 4000).to_string()
}

/// Runs `cmd` to completion with piped stdout/stderr, killing it after `timeout`.
/// Panics on timeout (with what it printed so far).
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    die_with_parent(cmd);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let t1 = pump_into(child.stdout.take().unwrap(), out.clone());
    let t2 = pump_into(child.stderr.take().unwrap(), err.clone());
    let status = match wait_timeout(&mut child, timeout) {
        Some(st) => st,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let _ = (t1.join(), t2.join());
            panic!(
                "{cmd:?} did not finish within {timeout:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                tail(&String::from_utf8_lossy(&lock(&out)), 4000),
                tail(&String::from_utf8_lossy(&lock(&err)), 8000)
            );
        }
    };
    // The pipes close when the child exits, unless it left a grandchild holding them.
    let _ = (t1.join(), t2.join());
    let stdout = std::mem::take(&mut *lock(&out));
    let stderr = std::mem::take(&mut *lock(&err));
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Polls `f` every 50 ms until it returns `Some`; panics naming `what` after `timeout`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        thread::sleep(POLL);
    }
}
