//! An in-process trove engine for integration tests: a real librqbit session and sled
//! store in a temp dir, on 127.0.0.1 with DHT, LSD and UPnP off, restartable on the same
//! store.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::{MadeTorrent, Peer};
use trove_engine::logring::LogRing;
use trove_engine::roots::{RootManager, RootSpec};
use trove_engine::session::{self, EngineOptions, EngineTask, NetworkOptions};
use trove_engine::store::{SessionStore, SledStore};
use trove_engine::vault::{Suite, VaultSpec};
use trove_proto::snapshot::{Limits, SessionSnapshot, TorrentState, TorrentSummary};
use trove_proto::{AddOptions, Client, TorrentSource};

/// A persistent engine in a temp dir, restartable on the same store.
pub struct Eng {
    dir: tempfile::TempDir,
    roots: Vec<(String, PathBuf)>,
    handle: Option<Client>,
    task: Option<EngineTask>,
    limits: Limits,
    /// (from, to) root labels: a torrent finishing in `from` moves to `to`.
    complete_to: Vec<(String, String)>,
    /// (label, key file and cipher): vault roots.
    vaults: Vec<(String, VaultSpec)>,
    vault_cache_bytes: u64,
}

impl Eng {
    pub async fn start(roots: &[&str]) -> Eng {
        Self::start_with(roots, Limits::default()).await
    }

    /// An engine whose root `vault` (one of `roots`) is a vault, with a new key.
    pub async fn start_with_vault(roots: &[&str], vault: &str) -> Eng {
        Self::start_with_vault_cipher(roots, vault, None).await
    }

    /// As [`Eng::start_with_vault`], the vault made with `cipher` (None: trove's choice
    /// for this CPU).
    pub async fn start_with_vault_cipher(
        roots: &[&str],
        vault: &str,
        cipher: Option<Suite>,
    ) -> Eng {
        let mut e = Self::unbooted(roots, Limits::default());
        e.make_vault(vault);
        e.set_vault_cipher(vault, cipher);
        e.boot().await;
        e
    }

    pub async fn start_with(roots: &[&str], limits: Limits) -> Eng {
        let mut e = Self::unbooted(roots, limits);
        e.boot().await;
        e
    }

    fn unbooted(roots: &[&str], limits: Limits) -> Eng {
        let dir = tempfile::Builder::new()
            .prefix("trove-eng")
            .tempdir()
            .unwrap();
        let roots = roots
            .iter()
            .map(|l| {
                let p = dir.path().join("roots").join(l);
                std::fs::create_dir_all(&p).unwrap();
                (l.to_string(), p)
            })
            .collect();
        Eng {
            dir,
            roots,
            handle: None,
            task: None,
            limits,
            complete_to: Vec::new(),
            vaults: Vec::new(),
            vault_cache_bytes: trove_engine::session::DEFAULT_VAULT_CACHE,
        }
    }

    /// Makes the root `label` a vault with a new key (mode 0600), from the next `boot`;
    /// returns the key file.
    pub fn make_vault(&mut self, label: &str) -> PathBuf {
        let keys = self.dir.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        let key = keys.join(format!("{label}.key"));
        trove_engine::vault::keygen(&key).unwrap();
        self.vaults.retain(|v| v.0 != label);
        let spec = VaultSpec {
            key_file: key.clone(),
            cipher: None,
        };
        self.vaults.push((label.to_string(), spec));
        key
    }

    fn vault_mut(&mut self, label: &str) -> &mut VaultSpec {
        let v = self.vaults.iter_mut().find(|v| v.0 == label);
        &mut v.unwrap_or_else(|| panic!("{label} is not a vault")).1
    }

    /// The key file the vault root `label` is declared with.
    pub fn vault_key(&self, label: &str) -> PathBuf {
        let v = self.vaults.iter().find(|v| v.0 == label);
        v.unwrap_or_else(|| panic!("{label} is not a vault"))
            .1
            .key_file
            .clone()
    }

    /// Points the vault root `label` at another key file, from the next `boot`.
    pub fn set_vault_key(&mut self, label: &str, key: &Path) {
        self.vault_mut(label).key_file = key.to_path_buf();
    }

    /// Declares the vault root `label` with `cipher = ...` (None: no such line), from the
    /// next `boot`.
    pub fn set_vault_cipher(&mut self, label: &str, cipher: Option<Suite>) {
        self.vault_mut(label).cipher = cipher;
    }

    /// The size of the vault's decrypted-chunk cache, from the next `boot`.
    pub fn set_vault_cache(&mut self, bytes: u64) {
        self.vault_cache_bytes = bytes;
    }

    /// An engine whose roots are the folders given (labels with paths anywhere, e.g. on
    /// another filesystem), the first the default; the store stays in its own temp dir.
    pub async fn start_at(roots: &[(&str, &Path)]) -> Eng {
        let dir = tempfile::Builder::new()
            .prefix("trove-eng")
            .tempdir()
            .unwrap();
        let mut e = Eng {
            dir,
            roots: roots
                .iter()
                .map(|(l, p)| (l.to_string(), p.to_path_buf()))
                .collect(),
            handle: None,
            task: None,
            limits: Limits::default(),
            complete_to: Vec::new(),
            vaults: Vec::new(),
            vault_cache_bytes: trove_engine::session::DEFAULT_VAULT_CACHE,
        };
        e.boot().await;
        e
    }

    pub async fn boot(&mut self) {
        let specs: Vec<RootSpec> = self
            .roots
            .iter()
            .enumerate()
            .map(|(i, (l, p))| RootSpec {
                label: l.clone(),
                path: p.clone(),
                token: None,
                default: i == 0,
                complete_to: self
                    .complete_to
                    .iter()
                    .find(|(from, _)| from == l)
                    .map(|(_, to)| to.clone()),
                vault: self
                    .vaults
                    .iter()
                    .find(|(label, _)| label == l)
                    .map(|(_, spec)| spec.clone()),
            })
            .collect();
        let store: Arc<dyn SessionStore> =
            Arc::new(SledStore::open(&self.dir.path().join("store")).unwrap());
        let (handle, task) = session::start(EngineOptions {
            store,
            roots: RootManager::new(&specs, self.dir.path().join("unused")),
            limits: self.limits,
            network: loopback(),
            fastresume_dir: Some(
                trove_engine::data_dir::DataDir::new(self.dir.path()).fastresume(),
            ),
            dht_state_file: None,
            log: LogRing::new(1000),
            queue: Default::default(),
            goals: None,
            mounts: Vec::new(),
            mount_options: Default::default(),
            vault_cache_bytes: self.vault_cache_bytes,
        })
        .await
        .unwrap();
        self.handle = Some(handle);
        self.task = Some(task);
    }

    pub async fn restart(&mut self) {
        self.stop().await;
        self.boot().await;
    }

    pub async fn stop(&mut self) {
        self.handle = None;
        if let Some(t) = self.task.take() {
            t.shutdown().await;
        }
    }

    /// Makes a torrent finishing in the root `from` move to the root `to` (the config's
    /// `complete_to`), from the next `boot`.
    pub fn complete_to(&mut self, from: &str, to: &str) {
        self.complete_to.push((from.to_string(), to.to_string()));
    }

    /// Leaves the root `label` out of the roots the next `boot` declares (its folder stays),
    /// as a config file written without it would.
    pub fn forget_root(&mut self, label: &str) {
        self.roots.retain(|r| r.0 != label);
    }

    /// Adds the root `label` (a folder under this engine's temp dir) to the roots the next
    /// `boot` declares, as a config file edited to declare it would.
    pub fn declare_root(&mut self, label: &str) {
        let p = self.dir.path().join("roots").join(label);
        std::fs::create_dir_all(&p).unwrap();
        self.roots.push((label.to_string(), p));
    }

    pub fn h(&self) -> &Client {
        self.handle.as_ref().unwrap()
    }

    pub fn root(&self, label: &str) -> PathBuf {
        self.roots.iter().find(|r| r.0 == label).unwrap().1.clone()
    }

    /// Whether librqbit holds the torrent: its own persistence file lists every torrent it
    /// manages (trove removes that file at every start, so it lists only this run's).
    pub fn librqbit_holds(&self, hash: &str) -> bool {
        std::fs::read_to_string(
            trove_engine::data_dir::DataDir::new(self.dir.path())
                .fastresume()
                .join("session.json"),
        )
        .is_ok_and(|s| s.contains(hash))
    }

    /// The torrent's fast-resume bitfield file.
    pub fn bitfield_file(&self, hash: &str) -> PathBuf {
        trove_engine::bitfield::path(
            &trove_engine::data_dir::DataDir::new(self.dir.path()).fastresume(),
            hash,
        )
    }

    pub fn port(&self) -> u16 {
        self.h().snapshot().listen_addr.unwrap().port()
    }

    pub async fn add_file(&self, t: &MadeTorrent, peers: &[&Peer], opts: AddOptions) -> String {
        let mut opts = opts;
        opts.peers = peers.iter().map(|p| addr(p)).collect();
        self.h()
            .add(TorrentSource::File(t.torrent_path.clone()), opts)
            .await
            .unwrap()
            .info_hash
    }

    /// Waits (bounded) until `f` accepts the latest snapshot.
    pub async fn wait<T>(
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

    pub async fn wait_state(
        &self,
        hash: &str,
        state: TorrentState,
        timeout: Duration,
    ) -> TorrentSummary {
        self.wait(&format!("{hash} to be {state}"), timeout, |s| {
            torrent(s, hash).filter(|t| t.state == state)
        })
        .await
    }
}

pub fn torrent(s: &SessionSnapshot, hash: &str) -> Option<TorrentSummary> {
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

pub fn addr(p: &Peer) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p.port())
}

pub fn payload_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("trove-payload")
        .tempdir()
        .unwrap()
}

pub const MIB: u64 = 1 << 20;
pub const LONG: Duration = Duration::from_secs(90);

/// Where a torrent's content lands in a root.
pub fn downloaded_to(t: &MadeTorrent, root: &Path) -> PathBuf {
    root.join(&t.name)
}
