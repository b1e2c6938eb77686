//! A libtorrent peer: `tools/loopback/peer.py` driven over JSON lines, which also makes the
//! torrents and their deterministic payloads the tests download.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::process::{die_with_parent, lock, read_tail, reap, wait_until};
use crate::{LOOPBACK_DIR, PYTHON};

/// What every stamped payload block starts with (see [`Peer::make_stamped_torrent`]).
pub const STAMP_PREFIX: &[u8] = b"TROVE-BLOCK:";

#[derive(Debug, Clone)]
pub struct MadeTorrent {
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
    pub fn content_path(&self) -> PathBuf {
        self.payload_dir.join(&self.name)
    }
}

#[derive(Debug, Clone)]
pub struct PeerStatus {
    pub num_peers: u64,
    /// Payload bytes sent, updated by libtorrent once a second.
    pub all_time_upload: u64,
    /// Payload bytes sent this session; current.
    pub total_payload_upload: u64,
    pub is_seeding: bool,
    pub progress: f64,
}

struct PeerIo {
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    next_id: u64,
}

pub struct Peer {
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
    pub fn start() -> Peer {
        let tmp = tempfile::Builder::new()
            .prefix("trove-peer")
            .tempdir()
            .unwrap();
        let stderr_path = tmp.path().join("peer.stderr");
        let stderr = fs::File::create(&stderr_path).unwrap();
        let mut cmd = Command::new(PYTHON);
        cmd.arg(format!("{LOOPBACK_DIR}/peer.py"))
            .arg("--port")
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {PYTHON} {LOOPBACK_DIR}/peer.py: {e}"));
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
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The port the peer listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn stderr(&self) -> String {
        read_tail(&self.stderr_path)
    }

    /// Sends one request and returns the reply (`ok` true or false), or Err if the peer
    /// did not answer within `timeout` or is gone.
    pub fn try_request(&self, mut req: Value, timeout: Duration) -> Result<Value, String> {
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
    fn request(&self, req: Value, timeout: Duration) -> Value {
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
    pub fn make_torrent(
        &self,
        dir: impl AsRef<Path>,
        name: &str,
        files: &[(&str, u64)],
        piece_length: u64,
    ) -> MadeTorrent {
        self.make_torrent_with(dir, name, files, piece_length, None, 12)
    }

    /// [`Peer::make_torrent`] with an announce URL and a content seed.
    pub fn make_torrent_with(
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
            false,
        )
    }

    /// [`Peer::make_torrent`] with BEP 47 padding: every file starts on a piece boundary,
    /// after a `.pad/N` entry. libtorrent also sorts the files by path (name them so).
    pub fn make_padded_torrent(
        &self,
        dir: impl AsRef<Path>,
        name: &str,
        files: &[(&str, u64)],
        piece_length: u64,
    ) -> MadeTorrent {
        self.make_torrent_req(
            dir.as_ref(),
            name,
            files,
            piece_length,
            None,
            12,
            true,
            false,
        )
    }

    /// [`Peer::make_torrent`] whose payload's every 16 KiB block starts with its own
    /// header, [`STAMP_PREFIX`] then the file and block: a search of other files for
    /// the prefix finds any block of the payload stored in the clear.
    pub fn make_stamped_torrent(
        &self,
        dir: impl AsRef<Path>,
        name: &str,
        files: &[(&str, u64)],
        piece_length: u64,
    ) -> MadeTorrent {
        self.make_torrent_req(
            dir.as_ref(),
            name,
            files,
            piece_length,
            None,
            12,
            false,
            true,
        )
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
        stamped: bool,
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
            "stamped": stamped,
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
    pub fn seed(&self, t: &MadeTorrent) {
        self.seed_from(&t.torrent_path, &t.payload_dir, 0);
    }

    /// Seeds with a per-torrent upload cap in bytes per second.
    pub fn seed_with_limit(&self, t: &MadeTorrent, bytes_per_sec: u64) {
        self.seed_from(&t.torrent_path, &t.payload_dir, bytes_per_sec);
    }

    /// A new peer seeding `t` with an upload cap. A peer.py that dies while it starts to
    /// seed, before any trove is involved, is replaced once (seen now and then in full
    /// runs, with six seeders starting together and no word on stderr); the second death
    /// fails the test.
    pub fn seeding_with_limit(t: &MadeTorrent, bytes_per_sec: u64) -> Peer {
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
    fn seed_from(&self, torrent: &Path, save_path: &Path, bytes_per_sec: u64) {
        self.request(
            json!({"op": "seed", "torrent": torrent, "save_path": save_path, "upload_limit": bytes_per_sec}),
            Duration::from_secs(90),
        );
    }

    /// Adds `torrent` for download into `save_path`; returns its info-hash.
    pub fn leech(&self, torrent: impl AsRef<Path>, save_path: impl AsRef<Path>) -> String {
        let v = self.request(
            json!({"op": "leech", "torrent": torrent.as_ref(), "save_path": save_path.as_ref()}),
            PEER_TIMEOUT,
        );
        v["info_hash"].as_str().unwrap().to_string()
    }

    /// Makes this peer dial 127.0.0.1:`port` for the torrent.
    pub fn connect(&self, info_hash: &str, port: u16) {
        self.request(
            json!({"op": "connect", "info_hash": info_hash, "port": port}),
            PEER_TIMEOUT,
        );
    }

    pub fn status(&self, info_hash: &str) -> PeerStatus {
        let v = self.request(
            json!({"op": "status", "info_hash": info_hash}),
            PEER_TIMEOUT,
        );
        let u = |k: &str| v[k].as_u64().unwrap_or(0);
        PeerStatus {
            num_peers: u("num_peers"),
            all_time_upload: u("all_time_upload"),
            total_payload_upload: u("total_payload_upload"),
            is_seeding: v["is_seeding"].as_bool().unwrap_or(false),
            progress: v["progress"].as_f64().unwrap_or(0.0),
        }
    }

    /// Bytes this peer received that failed their piece's hash check.
    pub fn failed_bytes(&self, info_hash: &str) -> u64 {
        let v = self.request(
            json!({"op": "status", "info_hash": info_hash}),
            PEER_TIMEOUT,
        );
        v["total_failed_bytes"].as_u64().unwrap()
    }

    /// Waits until this peer has the whole torrent.
    pub fn wait_complete(&self, info_hash: &str, timeout: Duration) {
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
