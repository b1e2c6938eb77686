//! opentracker on 127.0.0.1, started through the shared launcher
//! (`tools/loopback/loopback.py opentracker`, which writes the whitelist and runs it), and
//! a minimal HTTP client for its announce and scrape pages.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tempfile::TempDir;

use crate::ports::{free_port, port_open};
use crate::process::{POLL, process_exists, read_tail, reap, send_signal, wait_until};
use crate::{LOOPBACK_DIR, PYTHON};

pub struct Tracker {
    port: u16,
    dir: TempDir,
    /// `sh` that started opentracker and kills it when its stdin closes (our end of that
    /// pipe closes also if the test binary dies, since opentracker drops the parent-death
    /// signal when it changes user).
    watchdog: Child,
    watchdog_stdin: Option<ChildStdin>,
    pid: u32,
}

/// Runs the launcher in the background (it execs opentracker, so `$!` is opentracker's
/// pid), prints that pid, and kills it once its own stdin closes.
const WATCHDOG: &str = r#"log="$1"; shift
"$@" >"$log" 2>&1 </dev/null &
p=$!
echo "$p"
cat >/dev/null
kill -9 "$p" 2>/dev/null
wait "$p" 2>/dev/null
exit 0"#;

impl Tracker {
    /// Starts opentracker (whitelist mode) allowing `info_hashes` (40 hex chars each).
    pub fn start<S: AsRef<str>>(info_hashes: &[S]) -> Tracker {
        let hashes: Vec<String> = info_hashes
            .iter()
            .map(|h| h.as_ref().to_lowercase())
            .collect();
        for h in &hashes {
            assert_info_hash(h);
        }
        let mut last_err = String::new();
        for _ in 0..3 {
            match Self::try_start(&hashes) {
                Ok(t) => return t,
                Err(e) => last_err = e,
            }
        }
        panic!("opentracker did not start: {last_err}");
    }

    /// A tracker whose whitelist is empty for now: see [`Tracker::allow`].
    pub fn start_empty() -> Tracker {
        Self::start::<&str>(&[])
    }

    fn try_start(hashes: &[String]) -> Result<Tracker, String> {
        let dir = tempfile::Builder::new()
            .prefix("trove-tracker")
            .tempdir()
            .unwrap();
        let log = dir.path().join("opentracker.log");
        let port = free_port();
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(&log)
            .arg(PYTHON)
            .arg(format!("{LOOPBACK_DIR}/loopback.py"))
            .arg("opentracker")
            .arg("--dir")
            .arg(dir.path())
            .arg("--port")
            .arg(port.to_string())
            .args(hashes.iter().flat_map(|h| ["--allow", h.as_str()]))
            // opentracker drops the parent-death signal when it changes user, so the
            // watchdog pipe is what ends it if the test binary dies.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn sh for opentracker: {e}"))?;
        let watchdog_stdin = watchdog.stdin.take();
        let mut pid_line = String::new();
        BufReader::new(watchdog.stdout.take().unwrap())
            .read_line(&mut pid_line)
            .map_err(|e| e.to_string())?;
        let pid: u32 = pid_line
            .trim()
            .parse()
            .map_err(|_| format!("bad pid line {pid_line:?}"))?;
        let mut t = Tracker {
            port,
            dir,
            watchdog,
            watchdog_stdin,
            pid,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if port_open(port) {
                return Ok(t);
            }
            if !process_exists(pid) || Instant::now() >= deadline {
                let log = read_tail(&t.dir.path().join("opentracker.log"));
                t.stop();
                return Err(format!(
                    "opentracker on port {port} not answering; log:\n{log}"
                ));
            }
            thread::sleep(POLL);
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn announce_url(&self) -> String {
        format!("http://127.0.0.1:{}/announce", self.port)
    }

    /// Adds info-hashes to the whitelist and waits until opentracker has reloaded it.
    pub fn allow(&self, info_hashes: &[&str]) {
        let wl = self.dir.path().join("whitelist");
        let mut text = fs::read_to_string(&wl).unwrap();
        let new: Vec<String> = info_hashes.iter().map(|h| h.to_lowercase()).collect();
        for h in &new {
            assert_info_hash(h);
            text.push_str(h);
            text.push('\n');
        }
        fs::write(&wl, text).unwrap();
        // opentracker reloads its access list on SIGHUP.
        assert!(send_signal(self.pid, Signal::SIGHUP), "opentracker is gone");
        for h in &new {
            wait_until(
                &format!("opentracker to accept {h}"),
                Duration::from_secs(10),
                || self.probe_allowed(h).then_some(()),
            );
        }
    }

    /// True if the tracker accepts announces for `info_hash`. Announces a fake peer and
    /// withdraws it at once.
    fn probe_allowed(&self, info_hash: &str) -> bool {
        let q = |event: &str| {
            format!(
                "info_hash={}&peer_id=-TV0000-probeprobe00&port=9&uploaded=0&downloaded=0&left=0&numwant=0&compact=1{event}",
                percent_hash(info_hash)
            )
        };
        let Ok(body) = self.get(&format!("/announce?{}", q(""))) else {
            return false;
        };
        let ok = !body.contains("failure reason");
        let _ = self.get(&format!("/announce?{}", q("&event=stopped")));
        ok
    }

    /// (seeders, leechers) the tracker knows for `info_hash`, from a scrape.
    pub fn scrape(&self, info_hash: &str) -> (u64, u64) {
        let body = self
            .get(&format!("/scrape?info_hash={}", percent_hash(info_hash)))
            .unwrap_or_default();
        let num = |key: &str| -> u64 {
            body.find(key)
                .map(|i| &body[i + key.len()..])
                .and_then(|s| s.split('e').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        (num("8:completei"), num("10:incompletei"))
    }

    /// One HTTP GET to the tracker; returns the body as lossy text.
    pub fn get(&self, path_and_query: &str) -> Result<String, String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        Ok(match text.find("\r\n\r\n") {
            Some(i) => text[i + 4..].to_string(),
            None => text,
        })
    }

    fn stop(&mut self) {
        self.watchdog_stdin.take();
        reap(&mut self.watchdog, Duration::from_secs(5));
        // Belt and braces: the watchdog should have killed it already.
        if process_exists(self.pid) {
            send_signal(self.pid, Signal::SIGKILL);
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn percent_hash(info_hash: &str) -> String {
    assert_eq!(info_hash.len(), 40, "info-hash {info_hash:?}");
    (0..20)
        .map(|i| format!("%{}", &info_hash[2 * i..2 * i + 2]))
        .collect()
}

fn assert_info_hash(h: &str) {
    assert!(
        h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()),
        "bad info-hash {h:?}"
    );
}
