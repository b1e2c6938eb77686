//! The session's side of vault roots: the storage each vault torrent is handed to librqbit
//! with, the decrypted-chunk cache they share, which of them are serving peers right now
//! (what they read then is pinned in the cache), and damage: a chunk that failed its tag
//! makes its piece missing again, so it is fetched from peers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use librqbit::storage::{BoxStorageFactory, StorageFactoryExt};
use tokio::sync::mpsc;
use tracing::{info, warn};
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::snapshot::{CacheStats, InfoHash, TorrentState};

use super::engine::{Engine, Internal};
use crate::bitfield;
use crate::vault::{ChunkCache, OpenVaults, SealPool, VaultEvent, VaultSpec, VaultStorageFactory};

pub(super) struct Vaults {
    cache: Arc<ChunkCache>,
    events: mpsc::UnboundedSender<VaultEvent>,
    serving: HashMap<InfoHash, Arc<AtomicBool>>,
    /// Shared with the mounts, which read vault torrents through it.
    pub(super) open: Arc<OpenVaults>,
    /// The threads sealing chunks, started with the first vault torrent.
    pool: Option<Arc<SealPool>>,
}

impl Vaults {
    /// Vault events reach the engine's loop as `Internal::Vault`.
    pub(super) fn new(cache_bytes: u64, internal: mpsc::UnboundedSender<Internal>) -> Self {
        let (events, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                if internal.send(Internal::Vault(ev)).is_err() {
                    break;
                }
            }
        });
        Vaults {
            cache: Arc::new(ChunkCache::new(cache_bytes)),
            events,
            serving: HashMap::new(),
            open: Default::default(),
            pool: None,
        }
    }

    /// The storage a torrent kept in the vault at `root` (opened as `vault` says) is
    /// handed to librqbit with.
    pub(super) fn factory(
        &mut self,
        hash: &str,
        root: &Path,
        vault: &VaultSpec,
        file: &str,
    ) -> EngineResult<BoxStorageFactory> {
        let sealer = vault.open(root).map_err(|e| {
            EngineError::Root(format!(
                "the vault at {} cannot be opened: {e}",
                root.display()
            ))
        })?;
        let serving = self.serving.entry(hash.to_string()).or_default().clone();
        self.open.register(hash);
        let pool = self
            .pool
            .get_or_insert_with(|| Arc::new(SealPool::for_this_machine()))
            .clone();
        Ok(VaultStorageFactory {
            sealer,
            pool: Some(pool),
            file: root.join(file),
            cache: self.cache.clone(),
            events: self.events.clone(),
            serving,
            open: self.open.clone(),
        }
        .boxed())
    }

    pub(super) fn forget(&mut self, hash: &str) {
        self.serving.remove(hash);
        self.open.forget(hash);
    }

    pub(super) fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }
}

impl Engine {
    /// Marks the vault torrents uploading now as serving, so the chunks they read are
    /// pinned in the cache.
    pub(super) fn mark_vaults_serving(&self) {
        for (hash, flag) in &self.vaults.serving {
            let serving = self
                .torrents
                .get(hash)
                .and_then(|e| e.summary.as_ref())
                .is_some_and(|s| s.state == TorrentState::Seeding && s.upload_rate > 0.0);
            flag.store(serving, Ordering::Relaxed);
        }
    }

    pub(super) async fn on_vault_event(&mut self, ev: VaultEvent) {
        let VaultEvent::Damaged {
            info_hash,
            piece,
            chunk,
        } = ev;
        let Some(e) = self.torrents.get(&info_hash) else {
            return;
        };
        warn!(
            info_hash = %info_hash,
            "{}: chunk {chunk} of its vault file failed its authentication tag (damaged on disk); it was not served, and piece {piece} is fetched again",
            e.record.name
        );
        if e.handle.is_none() {
            return;
        }
        let paused = e.record.paused;
        if let Err(err) = self.refetch_piece(&info_hash, piece, paused).await {
            warn!(info_hash = %info_hash, "cannot fetch piece {piece} again: {err}");
        }
    }

    /// Takes the torrent out of librqbit, clears the piece in its fast-resume bitfield and
    /// starts it again: librqbit then sees the piece as missing and downloads it.
    async fn refetch_piece(&mut self, hash: &str, piece: u32, paused: bool) -> EngineResult<()> {
        self.retire(hash).await?;
        if let Some(dir) = &self.fastresume_dir
            && let Some(mut bf) = bitfield::read(dir, hash)
            && let Some(byte) = bf.get_mut(piece as usize / 8)
        {
            *byte &= !(0x80u8 >> (piece % 8));
            bitfield::write(dir, hash, &bf).map_err(|e| EngineError::Engine(e.to_string()))?;
        }
        if !paused {
            self.start_torrent(hash).await?;
        }
        info!(info_hash = %hash, "piece {piece} is missing again and will be downloaded");
        Ok(())
    }
}
