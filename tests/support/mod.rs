//! Real-peer harness for trove's integration tests: libtorrent peers (`tests/peers/peer.py`),
//! an opentracker, the trove binary in a throw-away environment, and polling helpers.
//!
//! Use as `mod support;` from a `tests/*.rs` file. Everything listens on 127.0.0.1 only.
//! Every helper is bounded in time and ends the processes it started when dropped, also
//! when the test panics; children also get a parent-death signal (or, for opentracker,
//! a watchdog pipe), so even a killed test binary leaves nothing running.
//!
//! Pitfalls worth knowing (see also /work/shared/TESTING-NOTES.md):
//! - libtorrent's `all_time_upload` is updated once a second; poll it with [`wait_until`]
//!   (or read `total_payload_upload`, which is current).
//! - opentracker asks for re-announces only every ~28 minutes, so peers meet once: the
//!   later announcer gets the earlier one and must dial it. A client that ignores loopback
//!   peers from a tracker (transmission-cli) must announce first, or be dialled. Its answer
//!   can include the announcing peer itself. `Tracker::scrape` tells who has announced.
//! - An empty opentracker whitelist file counts as missing and lets every hash in;
//!   [`Tracker`] always writes a dummy line so unlisted hashes are really refused.
//! - The parent-death signal fires when the *thread* that spawned the child exits: create
//!   `Peer`s and `Daemon`s on the test's own thread, not in a short-lived helper thread.
#![allow(dead_code)]

pub(crate) mod engine;
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

/// Debian's python3-libtorrent imports only under this interpreter.
pub(crate) const PYTHON: &str = "/usr/bin/python3";
pub(crate) const PEER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/peer.py");
pub(crate) const TROVE_BIN: &str = env!("CARGO_BIN_EXE_trove");

const POLL: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------
// Small process plumbing
// ---------------------------------------------------------------------------------------

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
}

const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;
const SIGHUP: i32 = 1;
const PR_SET_PDEATHSIG: i32 = 1;

/// Sends `sig` to `pid`; false if there is no such process.
pub(crate) fn send_signal(pid: u32, sig: i32) -> bool {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { kill(pid as i32, sig) == 0 }
}

/// Makes the child get SIGKILL when the spawning thread dies, so a test binary that is
/// killed outright leaves no children behind.
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            prctl(PR_SET_PDEATHSIG, SIGKILL as u64, 0, 0, 0);
            Ok(())
        });
    }
}

/// Waits for `child` to exit, at most `timeout`.
pub(crate) fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) => {}
            Err(_) => return None,
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Ends `child`: waits `grace` for it to exit on its own, then SIGKILLs and reaps it.
fn reap(child: &mut Child, grace: Duration) {
    if wait_timeout(child, grace).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Copies everything `r` yields into `buf`, on its own thread.
fn pump_into(
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut i = s.len() - max;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

fn read_tail(path: &Path) -> String {
    let s = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    tail(&s, 4000).to_string()
}

/// Runs `cmd` to completion with piped stdout/stderr, killing it after `timeout`.
/// Panics on timeout (with what it printed so far).
pub(crate) fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
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

// ---------------------------------------------------------------------------------------
// Polling, ports, file comparison
// ---------------------------------------------------------------------------------------

/// Polls `f` every 50 ms until it returns `Some`; panics naming `what` after `timeout`.
pub(crate) fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
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

static NEXT_PORT: AtomicU32 = AtomicU32::new(0);

/// A port free for both TCP and UDP on 127.0.0.1. Picked below the kernel's ephemeral
/// range (32768+), so an outgoing connection cannot grab it before the server binds, and
/// never the same twice in one test binary.
pub(crate) fn free_port() -> u16 {
    const LO: u32 = 20000;
    const SPAN: u32 = 12000;
    let _ = NEXT_PORT.compare_exchange(
        0,
        (std::process::id().wrapping_mul(7919)) % SPAN + 1,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let port = (LO + NEXT_PORT.fetch_add(1, Ordering::SeqCst) % SPAN) as u16;
        let tcp = TcpListener::bind(("127.0.0.1", port));
        let udp = UdpSocket::bind(("127.0.0.1", port));
        if tcp.is_ok() && udp.is_ok() {
            return port;
        }
    }
    panic!("no free port in {LO}..{}", LO + SPAN);
}

/// True if something accepts TCP connections on 127.0.0.1:`port`.
pub(crate) fn port_open(port: u16) -> bool {
    let addr = ("127.0.0.1", port)
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

pub(crate) fn files_identical(a: &Path, b: &Path) -> bool {
    compare_files(a, b).is_ok()
}

fn compare_files(a: &Path, b: &Path) -> Result<(), String> {
    let (ma, mb) = match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => (ma, mb),
        (ea, eb) => {
            return Err(format!(
                "{}: {:?} / {}: {:?}",
                a.display(),
                ea.err(),
                b.display(),
                eb.err()
            ));
        }
    };
    if ma.len() != mb.len() {
        return Err(format!(
            "sizes differ: {} is {} bytes, {} is {}",
            a.display(),
            ma.len(),
            b.display(),
            mb.len()
        ));
    }
    let mut fa = BufReader::with_capacity(1 << 20, fs::File::open(a).map_err(|e| e.to_string())?);
    let mut fb = BufReader::with_capacity(1 << 20, fs::File::open(b).map_err(|e| e.to_string())?);
    let mut offset = 0u64;
    loop {
        let ba = fa.fill_buf().map_err(|e| e.to_string())?;
        let bb = fb.fill_buf().map_err(|e| e.to_string())?;
        let n = ba.len().min(bb.len());
        if n == 0 {
            return if ba.len() == bb.len() {
                Ok(())
            } else {
                Err("lengths changed while reading".into())
            };
        }
        if let Some(i) = (0..n).find(|&i| ba[i] != bb[i]) {
            return Err(format!(
                "{} and {} differ at byte {}",
                a.display(),
                b.display(),
                offset + i as u64
            ));
        }
        offset += n as u64;
        fa.consume(n);
        fb.consume(n);
    }
}

/// Relative path -> size of every regular file under `root` (a single file gives one
/// entry with an empty path).
fn file_tree(root: &Path) -> Result<BTreeMap<PathBuf, u64>, String> {
    let mut out = BTreeMap::new();
    let meta = fs::symlink_metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if meta.is_file() {
        out.insert(PathBuf::new(), meta.len());
        return Ok(out);
    }
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            let ft = entry.file_type().map_err(|e| e.to_string())?;
            let r = rel.join(entry.file_name());
            if ft.is_dir() {
                stack.push(r);
            } else if ft.is_file() {
                let len = entry.metadata().map_err(|e| e.to_string())?.len();
                out.insert(r, len);
            } else {
                return Err(format!(
                    "{} is neither a file nor a folder",
                    root.join(&r).display()
                ));
            }
        }
    }
    Ok(out)
}

/// Same set of relative file paths (zero-byte files included) with the same bytes.
/// `a` and `b` may both be single files.
pub(crate) fn trees_identical(a: &Path, b: &Path) -> Result<(), String> {
    let ta = file_tree(a)?;
    let tb = file_tree(b)?;
    let only_a: Vec<_> = ta.keys().filter(|k| !tb.contains_key(*k)).collect();
    let only_b: Vec<_> = tb.keys().filter(|k| !ta.contains_key(*k)).collect();
    if !only_a.is_empty() || !only_b.is_empty() {
        return Err(format!(
            "file sets differ: only in {}: {only_a:?}; only in {}: {only_b:?}",
            a.display(),
            b.display()
        ));
    }
    for rel in ta.keys() {
        // `join("")` would add a trailing slash, which a single file does not survive.
        let (fa, fb) = if rel.as_os_str().is_empty() {
            (a.to_path_buf(), b.to_path_buf())
        } else {
            (a.join(rel), b.join(rel))
        };
        compare_files(&fa, &fb)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Peer: a libtorrent process driven over JSON lines
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(crate) struct MadeTorrent {
    pub torrent_path: PathBuf,
    pub info_hash: String,
    pub magnet: String,
    pub total_size: u64,
    /// The folder holding the payload: the save path to seed from (the payload itself is
    /// `payload_dir/name`, see [`MadeTorrent::content_path`]).
    pub payload_dir: PathBuf,
    pub name: String,
    pub files: Vec<(String, u64)>,
    pub piece_length: u64,
    pub num_pieces: u64,
    /// BEP 47 padding entries in the .torrent's file list (0 unless made padded).
    pub pad_files: u64,
}

impl MadeTorrent {
    /// The payload: the file itself for a single-file torrent, else the top folder.
    pub(crate) fn content_path(&self) -> PathBuf {
        self.payload_dir.join(&self.name)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PeerStatus {
    pub num_peers: u64,
    /// Payload bytes sent, updated by libtorrent once a second.
    pub all_time_upload: u64,
    pub all_time_download: u64,
    /// Bytes sent this session including protocol overhead; current.
    pub total_upload: u64,
    /// Payload bytes sent this session; current.
    pub total_payload_upload: u64,
    pub total_download: u64,
    pub is_seeding: bool,
    pub progress: f64,
    pub state: String,
    pub raw: Value,
}

struct PeerIo {
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    next_id: u64,
}

pub(crate) struct Peer {
    child: Mutex<Child>,
    io: Mutex<PeerIo>,
    port: u16,
    pid: u32,
    stderr_path: PathBuf,
    _tmp: TempDir,
}

const PEER_TIMEOUT: Duration = Duration::from_secs(30);

impl Peer {
    /// Starts a libtorrent peer listening on an ephemeral port of 127.0.0.1.
    pub(crate) fn start() -> Peer {
        Self::start_on(0)
    }

    pub(crate) fn start_on(port: u16) -> Peer {
        let tmp = tempfile::Builder::new()
            .prefix("trove-peer")
            .tempdir()
            .unwrap();
        let stderr_path = tmp.path().join("peer.stderr");
        let stderr = fs::File::create(&stderr_path).unwrap();
        let mut cmd = Command::new(PYTHON);
        cmd.arg(PEER_SCRIPT)
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {PYTHON} {PEER_SCRIPT}: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut peer = Peer {
            child: Mutex::new(child),
            io: Mutex::new(PeerIo {
                stdin,
                lines: rx,
                next_id: 1,
            }),
            port: 0,
            pid: 0,
            stderr_path,
            _tmp: tmp,
        };
        let ready = {
            let io = lock(&peer.io);
            match io.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(l) => l,
                Err(e) => {
                    drop(io);
                    panic!(
                        "peer.py did not start ({e:?}); stderr:\n{}",
                        read_tail(&peer.stderr_path)
                    )
                }
            }
        };
        let v: Value = serde_json::from_str(&ready)
            .unwrap_or_else(|e| panic!("peer.py ready line {ready:?}: {e}"));
        assert_eq!(v["ready"], json!(true), "peer.py ready line: {ready}");
        peer.port = v["port"].as_u64().expect("ready.port") as u16;
        peer.pid = lock(&peer.child).id();
        peer
    }

    /// The python process id (e.g. to SIGSTOP it in a test of a hung peer).
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The port the peer listens on (127.0.0.1).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub(crate) fn stderr(&self) -> String {
        read_tail(&self.stderr_path)
    }

    /// Sends one request and returns the reply (`ok` true or false), or Err if the peer
    /// did not answer within `timeout` or is gone.
    pub(crate) fn try_request(&self, mut req: Value, timeout: Duration) -> Result<Value, String> {
        let mut io = lock(&self.io);
        let id = io.next_id;
        io.next_id += 1;
        req["id"] = json!(id);
        let line = format!("{req}\n");
        let stdin = io.stdin.as_mut().ok_or("peer stdin closed")?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.flush())
            .map_err(|e| format!("write to peer.py: {e}"))?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match io.lines.recv_timeout(left) {
                Ok(l) => {
                    let v: Value =
                        serde_json::from_str(&l).map_err(|e| format!("bad reply {l:?}: {e}"))?;
                    // A late reply to an earlier request that timed out: skip it.
                    if v["id"] == json!(id) {
                        return Ok(v);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no reply within {timeout:?} to {req}"));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // How it ended (a signal points at libtorrent itself, not the script).
                    let status = lock(&self.child).wait().map(|s| s.to_string());
                    return Err(format!("peer.py exited ({status:?}); request {req}"));
                }
            }
        }
    }

    /// Sends one request; panics unless the reply is `ok`.
    pub(crate) fn request(&self, req: Value, timeout: Duration) -> Value {
        match self.try_request(req.clone(), timeout) {
            Ok(v) if v["ok"] == json!(true) => v,
            Ok(v) => panic!(
                "peer.py request {req} failed: {}\nstderr:\n{}",
                v["error"],
                self.stderr()
            ),
            Err(e) => panic!("{e}\npeer.py stderr:\n{}", self.stderr()),
        }
    }

    /// Writes a payload under `dir/name` (a single file when `files` is one entry named
    /// `name`, else a folder) with deterministic content, and `dir/name.torrent` (v1 only).
    pub(crate) fn make_torrent(
        &self,
        dir: impl AsRef<Path>,
        name: &str,
        files: &[(&str, u64)],
        piece_length: u64,
    ) -> MadeTorrent {
        self.make_torrent_with(dir, name, files, piece_length, None, 12)
    }

    /// [`Peer::make_torrent`] with an announce URL and a content seed.
    pub(crate) fn make_torrent_with(
        &self,
        dir: impl AsRef<Path>,
        name: &str,
        files: &[(&str, u64)],
        piece_length: u64,
        tracker: Option<&str>,
        seed: u64,
    ) -> MadeTorrent {
        self.make_torrent_req(
            dir.as_ref(),
            name,
            files,
            piece_length,
            tracker,
            seed,
            false,
        )
    }

    /// [`Peer::make_torrent`] with BEP 47 padding: every file starts on a piece boundary,
    /// after a `.pad/N` entry. libtorrent also sorts the files by path (name them so).
    pub(crate) fn make_padded_torrent(
        &self,
        dir: impl AsRef<Path>,
        name: &str,
        files: &[(&str, u64)],
        piece_length: u64,
    ) -> MadeTorrent {
        self.make_torrent_req(dir.as_ref(), name, files, piece_length, None, 12, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn make_torrent_req(
        &self,
        dir: &Path,
        name: &str,
        files: &[(&str, u64)],
        piece_length: u64,
        tracker: Option<&str>,
        seed: u64,
        pad: bool,
    ) -> MadeTorrent {
        let total: u64 = files.iter().map(|f| f.1).sum();
        let req = json!({
            "op": "make_torrent",
            "dir": dir,
            "name": name,
            "files": files.iter().map(|(p, s)| json!({"path": p, "size": s})).collect::<Vec<_>>(),
            "piece_length": piece_length,
            "tracker": tracker,
            "seed": seed,
            "pad": pad,
        });
        // Python writes pseudo-random bytes at roughly 100+ MB/s and hashes them.
        let timeout = PEER_TIMEOUT + Duration::from_secs(total / (20 << 20));
        let v = self.request(req, timeout);
        MadeTorrent {
            torrent_path: PathBuf::from(v["torrent"].as_str().unwrap()),
            info_hash: v["info_hash"].as_str().unwrap().to_string(),
            magnet: v["magnet"].as_str().unwrap().to_string(),
            total_size: v["total_size"].as_u64().unwrap(),
            payload_dir: dir.to_path_buf(),
            name: name.to_string(),
            files: files.iter().map(|(p, s)| (p.to_string(), *s)).collect(),
            piece_length: v["piece_length"].as_u64().unwrap(),
            num_pieces: v["num_pieces"].as_u64().unwrap(),
            pad_files: v["pad_files"].as_u64().unwrap(),
        }
    }

    /// Seeds `t` from its payload dir; returns once libtorrent has checked it and seeds.
    pub(crate) fn seed(&self, t: &MadeTorrent) {
        self.seed_from(&t.torrent_path, &t.payload_dir, 0);
    }

    /// Seeds with a per-torrent upload cap in bytes per second.
    pub(crate) fn seed_with_limit(&self, t: &MadeTorrent, bytes_per_sec: u64) {
        self.seed_from(&t.torrent_path, &t.payload_dir, bytes_per_sec);
    }

    /// A new peer seeding `t` with an upload cap. A peer.py that dies while it starts to
    /// seed, before any trove is involved, is replaced once (seen now and then in full
    /// runs, with six seeders starting together and no word on stderr); the second death
    /// fails the test.
    pub(crate) fn seeding_with_limit(t: &MadeTorrent, bytes_per_sec: u64) -> Peer {
        let req = json!({"op": "seed", "torrent": t.torrent_path, "save_path": t.payload_dir, "upload_limit": bytes_per_sec});
        let first = Peer::start();
        match first.try_request(req.clone(), Duration::from_secs(90)) {
            Ok(v) if v["ok"] == json!(true) => first,
            Ok(v) => panic!("peer.py request {req} failed: {}", v["error"]),
            Err(e) => {
                eprintln!("a seeder died before the test began ({e}); starting another");
                let second = Peer::start();
                second.request(req, Duration::from_secs(90));
                second
            }
        }
    }

    /// Seeds a torrent file whose payload is under `save_path` (0 = no upload cap).
    pub(crate) fn seed_from(&self, torrent: &Path, save_path: &Path, bytes_per_sec: u64) -> String {
        let v = self.request(
            json!({"op": "seed", "torrent": torrent, "save_path": save_path, "upload_limit": bytes_per_sec}),
            Duration::from_secs(90),
        );
        v["info_hash"].as_str().unwrap().to_string()
    }

    /// Adds `torrent` for download into `save_path`; returns its info-hash.
    pub(crate) fn leech(&self, torrent: impl AsRef<Path>, save_path: impl AsRef<Path>) -> String {
        let v = self.request(
            json!({"op": "leech", "torrent": torrent.as_ref(), "save_path": save_path.as_ref()}),
            PEER_TIMEOUT,
        );
        v["info_hash"].as_str().unwrap().to_string()
    }

    /// Makes this peer dial 127.0.0.1:`port` for the torrent.
    pub(crate) fn connect(&self, info_hash: &str, port: u16) {
        self.request(
            json!({"op": "connect", "info_hash": info_hash, "port": port}),
            PEER_TIMEOUT,
        );
    }

    pub(crate) fn status(&self, info_hash: &str) -> PeerStatus {
        let v = self.request(
            json!({"op": "status", "info_hash": info_hash}),
            PEER_TIMEOUT,
        );
        let u = |k: &str| v[k].as_u64().unwrap_or(0);
        PeerStatus {
            num_peers: u("num_peers"),
            all_time_upload: u("all_time_upload"),
            all_time_download: u("all_time_download"),
            total_upload: u("total_upload"),
            total_payload_upload: u("total_payload_upload"),
            total_download: u("total_download"),
            is_seeding: v["is_seeding"].as_bool().unwrap_or(false),
            progress: v["progress"].as_f64().unwrap_or(0.0),
            state: v["state"].as_str().unwrap_or("").to_string(),
            raw: v,
        }
    }

    /// Connected peers: objects with ip, port, client, total_upload, total_download, seed.
    pub(crate) fn peers(&self, info_hash: &str) -> Vec<Value> {
        let v = self.request(json!({"op": "peers", "info_hash": info_hash}), PEER_TIMEOUT);
        v["peers"].as_array().cloned().unwrap_or_default()
    }

    pub(crate) fn set_upload_limit(&self, info_hash: &str, bytes_per_sec: u64) {
        self.request(
            json!({"op": "set_upload_limit", "info_hash": info_hash, "upload_limit": bytes_per_sec}),
            PEER_TIMEOUT,
        );
    }

    pub(crate) fn pause(&self, info_hash: &str) {
        self.request(json!({"op": "pause", "info_hash": info_hash}), PEER_TIMEOUT);
    }

    pub(crate) fn resume(&self, info_hash: &str) {
        self.request(
            json!({"op": "resume", "info_hash": info_hash}),
            PEER_TIMEOUT,
        );
    }

    pub(crate) fn reannounce(&self, info_hash: &str) {
        self.request(
            json!({"op": "reannounce", "info_hash": info_hash}),
            PEER_TIMEOUT,
        );
    }

    pub(crate) fn remove(&self, info_hash: &str) {
        self.request(
            json!({"op": "remove", "info_hash": info_hash}),
            PEER_TIMEOUT,
        );
    }

    /// Waits until this peer has the whole torrent.
    pub(crate) fn wait_complete(&self, info_hash: &str, timeout: Duration) {
        wait_until(
            &format!("peer {} to complete {info_hash}", self.port),
            timeout,
            || self.status(info_hash).is_seeding.then_some(()),
        );
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let answered = self
            .try_request(json!({"op": "quit"}), Duration::from_secs(2))
            .is_ok();
        lock(&self.io).stdin.take();
        // One that did not answer is hung: do not give it the full grace period.
        let grace = if answered {
            Duration::from_secs(5)
        } else {
            Duration::from_millis(500)
        };
        reap(&mut lock(&self.child), grace);
    }
}

// ---------------------------------------------------------------------------------------
// Tracker: opentracker on 127.0.0.1
// ---------------------------------------------------------------------------------------

pub(crate) struct Tracker {
    port: u16,
    dir: TempDir,
    /// `sh` that started opentracker and kills it when its stdin closes (our end of that
    /// pipe closes also if the test binary dies, since opentracker drops the parent-death
    /// signal when it changes user).
    watchdog: Child,
    watchdog_stdin: Option<ChildStdin>,
    pid: u32,
}

const WATCHDOG: &str = r#"log="$1"; shift
opentracker "$@" >"$log" 2>&1 </dev/null &
p=$!
echo "$p"
cat >/dev/null
kill -9 "$p" 2>/dev/null
wait "$p" 2>/dev/null
exit 0"#;

impl Tracker {
    /// Starts opentracker (whitelist mode) allowing `info_hashes` (40 hex chars each).
    pub(crate) fn start<S: AsRef<str>>(info_hashes: &[S]) -> Tracker {
        let hashes: Vec<String> = info_hashes
            .iter()
            .map(|h| h.as_ref().to_lowercase())
            .collect();
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
    pub(crate) fn start_empty() -> Tracker {
        Self::start::<&str>(&[])
    }

    fn whitelist_text(hashes: &[String]) -> String {
        // An empty whitelist file is "missing" to opentracker, which then allows anything.
        let mut s = String::from("0000000000000000000000000000000000000000\n");
        for h in hashes {
            assert!(
                h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()),
                "bad info-hash {h:?}"
            );
            s.push_str(h);
            s.push('\n');
        }
        s
    }

    fn try_start(hashes: &[String]) -> Result<Tracker, String> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("trove-tracker")
            .tempdir()
            .unwrap();
        // opentracker chroots into the dir and runs as nobody: both must be able to read.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let wl = dir.path().join("whitelist");
        fs::write(&wl, Self::whitelist_text(hashes)).unwrap();
        fs::set_permissions(&wl, fs::Permissions::from_mode(0o644)).unwrap();
        let log = dir.path().join("opentracker.log");
        let port = free_port();
        let p = port.to_string();
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(&log)
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &p,
                "-P",
                &p,
                "-A",
                "127.0.0.1",
                "-d",
            ])
            .arg(dir.path())
            .args(["-w", "whitelist", "-u", "nobody"])
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
            if !Path::new(&format!("/proc/{pid}")).exists() || Instant::now() >= deadline {
                let log = read_tail(&t.dir.path().join("opentracker.log"));
                t.stop();
                return Err(format!(
                    "opentracker on port {port} not answering; log:\n{log}"
                ));
            }
            thread::sleep(POLL);
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn announce_url(&self) -> String {
        format!("http://127.0.0.1:{}/announce", self.port)
    }

    /// Adds info-hashes to the whitelist and waits until opentracker has reloaded it.
    pub(crate) fn allow(&self, info_hashes: &[&str]) {
        let wl = self.dir.path().join("whitelist");
        let mut text = fs::read_to_string(&wl).unwrap();
        let new: Vec<String> = info_hashes.iter().map(|h| h.to_lowercase()).collect();
        text.push_str(&Self::whitelist_text(&new));
        fs::write(&wl, text).unwrap();
        // opentracker reloads its access list on SIGHUP.
        assert!(send_signal(self.pid, SIGHUP), "opentracker is gone");
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
    pub(crate) fn scrape(&self, info_hash: &str) -> (u64, u64) {
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
    pub(crate) fn get(&self, path_and_query: &str) -> Result<String, String> {
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

    pub(crate) fn log(&self) -> String {
        read_tail(&self.dir.path().join("opentracker.log"))
    }

    fn stop(&mut self) {
        self.watchdog_stdin.take();
        reap(&mut self.watchdog, Duration::from_secs(5));
        // Belt and braces: the watchdog should have killed it already.
        if Path::new(&format!("/proc/{}", self.pid)).exists() {
            send_signal(self.pid, SIGKILL);
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

// ---------------------------------------------------------------------------------------
// TroveEnv: the trove binary in a throw-away data dir and config
// ---------------------------------------------------------------------------------------

pub(crate) struct TroveEnv {
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
    /// default) and `config.toml` listening on a free 127.0.0.1 port without DHT, LSD, UPnP.
    pub(crate) fn new(roots: &[&str]) -> TroveEnv {
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
            config_path: dir.path().join("config.toml"),
            data_dir,
            listen_port: free_port(),
            roots,
            dir,
        };
        env.write_config("");
        env
    }

    /// The config text this env writes, with `extra` (more TOML tables) appended.
    pub(crate) fn config_text(&self, extra: &str) -> String {
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

    /// Rewrites config.toml with `extra` TOML appended to the default text.
    pub(crate) fn write_config(&self, extra: &str) {
        fs::write(&self.config_path, self.config_text(extra)).unwrap();
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn root_path(&self, label: &str) -> PathBuf {
        self.roots
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("no root {label:?} in this env"))
    }

    /// `trove --data-dir D --config F` with RUST_LOG=info and NO_COLOR=1.
    pub(crate) fn cmd(&self) -> Command {
        let mut c = Command::new(TROVE_BIN);
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
    pub(crate) fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        run_with_timeout(self.cmd().args(args), RUN_TIMEOUT)
    }

    /// Runs `trove <args>`, asserts it succeeded, returns its stdout.
    pub(crate) fn run_ok<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> String {
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
    pub(crate) fn add<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Vec<String> {
        let mut all: Vec<std::ffi::OsString> = vec!["add".into()];
        all.extend(args.iter().map(|a| a.as_ref().to_os_string()));
        self.run_ok(&all)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// `trove list --json`, parsed.
    pub(crate) fn list_json(&self) -> Value {
        let out = self.run_ok(&["list", "--json"]);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("trove list --json gave bad JSON ({e}):\n{out}"))
    }

    /// The `list --json` entry for `info_hash`, if any.
    pub(crate) fn torrent_json(&self, info_hash: &str) -> Option<Value> {
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
    pub(crate) fn spawn_daemon<S: AsRef<std::ffi::OsStr>>(&self, extra_args: &[S]) -> Daemon {
        let mut cmd = self.cmd();
        cmd.arg("daemon").args(extra_args);
        Daemon::spawn(cmd)
    }
}

/// A running trove process whose stdout and stderr are collected for assertions.
pub(crate) struct Daemon {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    status: Option<ExitStatus>,
}

impl Daemon {
    /// Spawns any prepared command the same way (e.g. `env.cmd().args(["download", ..])`).
    pub(crate) fn spawn(mut cmd: Command) -> Daemon {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        pump_into(child.stdout.take().unwrap(), stdout.clone());
        pump_into(child.stderr.take().unwrap(), stderr.clone());
        Daemon {
            child,
            stdout,
            stderr,
            status: None,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&lock(&self.stdout)).into_owned()
    }

    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&lock(&self.stderr)).into_owned()
    }

    /// Waits until stderr contains `needle`; panics with the stderr tail after `timeout`.
    pub(crate) fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stderr().contains(needle) {
                return;
            }
            if self.try_status().is_some() {
                // Exited: the pumps may still be draining the pipe.
                thread::sleep(Duration::from_millis(100));
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
    pub(crate) fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    pub(crate) fn is_running(&mut self) -> bool {
        self.try_status().is_none()
    }

    /// Waits for it to exit on its own (e.g. `--exit-when-complete`); panics after `timeout`.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
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
    pub(crate) fn kill9(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// SIGTERM and wait (up to 30 s, then panics after a SIGKILL): the graceful path.
    pub(crate) fn terminate_and_wait(&mut self) -> ExitStatus {
        if let Some(st) = self.status {
            return st;
        }
        send_signal(self.child.id(), SIGTERM);
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
        send_signal(self.child.id(), SIGTERM);
        reap(&mut self.child, Duration::from_secs(10));
    }
}
