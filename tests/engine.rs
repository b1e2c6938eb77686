//! The engine against real peers: a real librqbit session and sled store in this process,
//! Debian's libtorrent as seeders and leechers, everything on 127.0.0.1 with DHT, LSD and
//! UPnP off.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{MadeTorrent, Peer, trees_identical};
use trove::engine::api::{AddOptions, Command, EngineHandle, TorrentSource};
use trove::engine::logring::LogRing;
use trove::engine::roots::{RootManager, RootSpec};
use trove::engine::session::{self, EngineOptions, EngineTask, NetworkOptions};
use trove::engine::snapshot::{Limits, SessionSnapshot, TorrentState, TorrentSummary};
use trove::engine::store::{SessionStore, SledStore};

/// A persistent engine in a temp dir, restartable on the same store.
struct Eng {
    dir: tempfile::TempDir,
    roots: Vec<(String, PathBuf)>,
    handle: Option<EngineHandle>,
    task: Option<EngineTask>,
    limits: Limits,
}

impl Eng {
    async fn start(roots: &[&str]) -> Eng {
        Self::start_with(roots, Limits::default()).await
    }

    async fn start_with(roots: &[&str], limits: Limits) -> Eng {
        let dir = tempfile::Builder::new().prefix("trove-eng").tempdir().unwrap();
        let roots = roots
            .iter()
            .map(|l| {
                let p = dir.path().join("roots").join(l);
                std::fs::create_dir_all(&p).unwrap();
                (l.to_string(), p)
            })
            .collect();
        let mut e = Eng {
            dir,
            roots,
            handle: None,
            task: None,
            limits,
        };
        e.boot().await;
        e
    }

    async fn boot(&mut self) {
        let specs: Vec<RootSpec> = self
            .roots
            .iter()
            .enumerate()
            .map(|(i, (l, p))| RootSpec {
                label: l.clone(),
                path: p.clone(),
                token: None,
                default: i == 0,
            })
            .collect();
        let store: Arc<dyn SessionStore> =
            Arc::new(SledStore::open(&self.dir.path().join("store")).unwrap());
        let (handle, task) = session::start(EngineOptions {
            store,
            roots: RootManager::new(&specs, self.dir.path().join("unused")),
            limits: self.limits,
            network: loopback(),
            fastresume_dir: Some(self.dir.path().join("fastresume")),
            dht_state_file: None,
            log: LogRing::new(1000),
        })
        .await
        .unwrap();
        self.handle = Some(handle);
        self.task = Some(task);
    }

    async fn restart(&mut self) {
        self.stop().await;
        self.boot().await;
    }

    async fn stop(&mut self) {
        self.handle = None;
        if let Some(t) = self.task.take() {
            t.shutdown().await;
        }
    }

    fn h(&self) -> &EngineHandle {
        self.handle.as_ref().unwrap()
    }

    fn root(&self, label: &str) -> PathBuf {
        self.roots.iter().find(|r| r.0 == label).unwrap().1.clone()
    }

    fn port(&self) -> u16 {
        self.h().snapshot().listen_addr.unwrap().port()
    }

    async fn add_file(&self, t: &MadeTorrent, peers: &[&Peer], opts: AddOptions) -> String {
        let mut opts = opts;
        opts.peers = peers.iter().map(|p| addr(p)).collect();
        self.h()
            .add(TorrentSource::File(t.torrent_path.clone()), opts)
            .await
            .unwrap()
            .info_hash
    }

    /// Waits (bounded) until `f` accepts the latest snapshot.
    async fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut(&SessionSnapshot) -> Option<T>,
    ) -> T {
        let mut rx = self.h().watch();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let snap = rx.borrow_and_update().clone();
            if let Some(v) = f(&snap) {
                return v;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => panic!("engine stopped while waiting for {what}"),
                Err(_) => panic!(
                    "timed out after {timeout:?} waiting for {what}; last snapshot: {:#?}",
                    snap.torrents
                ),
            }
        }
    }

    async fn wait_state(&self, hash: &str, state: TorrentState, timeout: Duration) -> TorrentSummary {
        self.wait(&format!("{hash} to be {state}"), timeout, |s| {
            torrent(s, hash).filter(|t| t.state == state)
        })
        .await
    }
}

fn torrent(s: &SessionSnapshot, hash: &str) -> Option<TorrentSummary> {
    s.torrents.iter().find(|t| t.info_hash == hash).cloned()
}

fn loopback() -> NetworkOptions {
    NetworkOptions {
        listen_port: 0,
        bind: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        dht: false,
        lsd: false,
        upnp: false,
        trackers: true,
    }
}

fn addr(p: &Peer) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p.port())
}

fn payload_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("trove-payload").tempdir().unwrap()
}

const MIB: u64 = 1 << 20;
const LONG: Duration = Duration::from_secs(90);

fn downloaded_to(t: &MadeTorrent, root: &Path) -> PathBuf {
    root.join(&t.name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_single_and_multi_file_torrents_byte_identical() {
    let payload = payload_dir();
    let seeder = Peer::start();
    let single = seeder.make_torrent(payload.path(), "single.bin", &[("single.bin", 3 * MIB + 123)], 64 * 1024);
    let multi = seeder.make_torrent(
        payload.path(),
        "Album ünïcode",
        &[
            ("cd1/01 Ωmega ü.flac", 2 * MIB + 7),
            ("cd1/deep/er/notes.txt", 1000),
            ("empty.nfo", 0),
            ("cover.jpg", 300_000),
        ],
        32 * 1024,
    );
    seeder.seed(&single);
    seeder.seed(&multi);

    let eng = Eng::start(&["main"]).await;
    let a = eng.add_file(&single, &[&seeder], AddOptions::default()).await;
    let b = eng.add_file(&multi, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&a, TorrentState::Seeding, LONG).await;
    let done = eng.wait_state(&b, TorrentState::Seeding, LONG).await;
    assert_eq!(done.progress, 1.0);
    assert!(done.completed_at.is_some());
    let root = eng.root("main");
    trees_identical(&single.content_path(), &downloaded_to(&single, &root)).unwrap();
    trees_identical(&multi.content_path(), &downloaded_to(&multi, &root)).unwrap();
    assert!(downloaded_to(&multi, &root).join("empty.nfo").is_file(), "zero-byte file created");
}
