//! Adding torrents: a new one from a loaded source, a magnet's metadata fetched from
//! peers, and handing a torrent with known metadata to librqbit as its record says.

use std::net::SocketAddr;

use librqbit::{AddTorrent, AddTorrentOptions, AddTorrentResponse};
use tracing::{info, warn};
use trove_proto::command::{AddOptions, Added, EngineError, EngineResult};

use super::engine::{Engine, Entry, Internal, store_err};
use super::setup;
use crate::file_index;
use crate::source::{self, Loaded};
use crate::store::TorrentRecord;
use crate::torrents::{
    Current, RootPlace, declare_hint, ignored_options, prepare_record, selection_error,
    torrent_root,
};

impl Engine {
    pub(super) async fn finish_add(
        &mut self,
        loaded: Loaded,
        opts: AddOptions,
    ) -> EngineResult<Added> {
        let hash = loaded.info_hash().to_string();
        // Bad options are reported even for a torrent already in the session.
        let record = prepare_record(&self.roots, &loaded, &opts)?;
        if let Some(e) = self.torrents.get(&hash) {
            for note in ignored_options(&Current::of(&e.record), &record.root_token, &opts) {
                info!(info_hash = %hash, "already in the session: {note}");
            }
            return Ok(Added {
                info_hash: hash,
                name: e.record.name.clone(),
                new: false,
            });
        }
        let torrent = match loaded {
            Loaded::Torrent(t) => Some(t),
            Loaded::Magnet { .. } => None,
        };
        // The record's synced write below makes the metainfo durable with it: one sync
        // per torrent added, which counts when thousands are added in a row.
        if let Some(t) = &torrent {
            self.store
                .put_torrent_bytes_unsynced(&hash, &t.bytes)
                .map_err(store_err)?;
        }
        self.learn_tags(&record.tags)?;
        let mut record = record;
        record.queue_position = self.next_queue_position();
        self.store.put(&record).map_err(store_err)?;
        let name = record.name.clone();
        info!(
            info_hash = %hash,
            root = %record.root_token,
            path = %record.root_path.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
            "added {name}"
        );
        self.torrents
            .insert(hash.clone(), Entry::new(record, torrent));
        if self.torrents[&hash].torrent.is_some() {
            if let Err(e) = self.start_torrent(&hash).await {
                // Nothing half-added stays behind.
                self.torrents.remove(&hash);
                let _ = self.store.remove(&hash);
                return Err(e);
            }
        } else {
            self.resolve_metadata(&hash);
        }
        Ok(Added {
            info_hash: hash,
            name,
            new: true,
        })
    }

    /// Fetches a magnet's metadata from peers in the background.
    pub(super) fn resolve_metadata(&mut self, hash: &str) {
        let Some(entry) = self.torrents.get_mut(hash) else {
            return;
        };
        let Some(link) = entry.record.magnet.clone() else {
            entry.record.error = Some("the torrent's metadata is missing from the store".into());
            return;
        };
        let peers = peers_to_dial(&entry.record);
        let session = self.session.clone();
        let tx = self.internal_tx.clone();
        let hash = hash.to_string();
        info!(info_hash = %hash, "fetching metadata from peers");
        entry.resolver = Some(tokio::spawn(async move {
            let opts = AddTorrentOptions {
                list_only: true,
                initial_peers: (!peers.is_empty()).then_some(peers),
                ..Default::default()
            };
            let result = match session
                .add_torrent(AddTorrent::from_url(&link), Some(opts))
                .await
            {
                Ok(AddTorrentResponse::ListOnly(r)) => Ok(r.torrent_bytes.to_vec()),
                Ok(_) => Err("unexpected answer while fetching metadata".to_string()),
                Err(e) => Err(format!("could not fetch the metadata: {e:#}")),
            };
            let _ = tx.send(Internal::MetadataResolved(hash, result));
        }));
    }

    pub(super) async fn metadata_resolved(
        &mut self,
        hash: &str,
        result: Result<Vec<u8>, String>,
    ) -> EngineResult<()> {
        let Some(entry) = self.torrents.get_mut(hash) else {
            return Ok(());
        };
        entry.resolver = None;
        let bytes = result.map_err(EngineError::Engine)?;
        let t = source::check_torrent(&bytes, &entry.record.name)?;
        if t.info_hash != hash {
            return Err(EngineError::BadSource(
                "a peer sent metadata for another torrent".into(),
            ));
        }
        entry.record.name = t.name.clone();
        entry.record.has_metadata = true;
        entry.record.size = t.total_len;
        self.store
            .put_torrent_bytes(hash, &t.bytes)
            .map_err(store_err)?;
        self.store.put(&entry.record).map_err(store_err)?;
        info!(info_hash = %hash, "metadata received: {}", t.name);
        entry.torrent = Some(t);
        // A selection that does not fit the file list fails this start with an error that
        // says how to choose again; the metadata stays, so `SelectFiles` can fix it.
        self.start_torrent(hash).await
    }

    /// Hands a torrent with known metadata to librqbit, as its record says.
    pub(super) async fn start_torrent(&mut self, hash: &str) -> EngineResult<()> {
        // Beyond the queue's limits it waits out of librqbit, as a paused torrent does.
        if self.held_by_queue(hash) {
            self.waiting.insert(hash.to_string());
            return Ok(());
        }
        let entry = self
            .torrents
            .get_mut(hash)
            .ok_or_else(|| EngineError::UnknownId(hash.into()))?;
        let t = entry
            .torrent
            .as_ref()
            .ok_or_else(|| EngineError::Engine("metadata not known yet".into()))?;
        let root = torrent_root(&self.roots, &entry.record)?;
        match &root {
            RootPlace::Config(r) => {
                self.roots.check_usable(r)?;
                if entry.record.root_path.is_none() {
                    entry.record.root_path = Some(r.path.clone());
                }
            }
            RootPlace::Recorded(p) => {
                if self.warned_roots.insert(entry.record.root_token.clone()) {
                    warn!(
                        "storage root '{token}' is no longer in the config file; its torrents keep using its folder {}: {}",
                        p.display(),
                        declare_hint(&entry.record.root_token, Some(p)),
                        token = entry.record.root_token,
                    );
                }
            }
        }
        if let Some(e) = entry
            .record
            .only_files
            .as_deref()
            .and_then(|o| selection_error(o, t.files.len(), hash))
        {
            return Err(e);
        }
        source::check_no_symlinks(t, root.path())?;
        // A vault torrent's data is one sealed file in its root, through its own storage.
        let (output, storage_factory) = match entry.record.vault_file.as_deref() {
            None => {
                self.vaults.forget(hash);
                (t.output_folder(root.path()), None)
            }
            Some(file) => {
                let vault = match &root {
                    RootPlace::Config(r) => r.vault.as_ref(),
                    RootPlace::Recorded(_) => None,
                }
                .ok_or_else(|| {
                    EngineError::Root(format!(
                        "{} is kept in a vault, but its storage root '{}' is not declared as a vault: declare it under [[roots]] with kind = \"vault\" and its key_file",
                        entry.record.name, entry.record.root_token
                    ))
                })?;
                let factory = self.vaults.factory(hash, root.path(), vault, file)?;
                (root.path().to_path_buf(), Some(factory))
            }
        };
        // Files deleted or cut short behind trove's back: librqbit would download them
        // again without a word. Hold the torrent until the user says what to do.
        if let Some(problem) = super::missing::recorded_data_gone(
            self.fastresume_dir.as_deref(),
            hash,
            t,
            root.path(),
            entry.record.vault_file.as_deref(),
            entry.record.only_files.as_deref(),
        ) {
            return Err(self.hold_missing(hash, problem).await);
        }
        entry.record.missing_data = None;
        let bytes = match &entry.record.trackers {
            Some(_) => source::info_only(t)?,
            None => t.bytes.clone(),
        };
        let peers = peers_to_dial(&entry.record);
        let selection = match super::metadata_first::first_phase(&entry.record, t) {
            Some(first) => Some(first),
            None => {
                // Nothing to fetch first (or nothing else to fetch after): an ordinary
                // torrent from now on.
                entry.record.metadata_first = None;
                entry.record.only_files.clone()
            }
        };
        let opts = AddTorrentOptions {
            paused: entry.record.paused,
            only_files: selection.as_deref().map(|o| file_index::to_librqbit(t, o)),
            // Resuming over our own partial files is the point of a restart.
            overwrite: true,
            output_folder: Some(output.to_string_lossy().into_owned()),
            ratelimits: setup::to_librqbit_limits(&entry.record.limits),
            peer_limit: entry
                .record
                .limits
                .peers
                .or(self.global.peers)
                .map(|p| p as usize),
            initial_peers: (!peers.is_empty()).then_some(peers),
            trackers: entry.record.trackers.clone(),
            storage_factory,
            ..Default::default()
        };
        let resp = self
            .session
            .add_torrent(AddTorrent::from_bytes(bytes), Some(opts))
            .await
            .map_err(|e| EngineError::Engine(format!("librqbit refused the torrent: {e:#}")))?;
        let (id, handle) = match resp {
            AddTorrentResponse::Added(id, h) | AddTorrentResponse::AlreadyManaged(id, h) => (id, h),
            AddTorrentResponse::ListOnly(_) => {
                return Err(EngineError::Engine("unexpected list-only answer".into()));
            }
        };
        self.log.register_torrent(id, hash);
        entry.handle = Some(handle);
        entry.live_up = 0;
        entry.live_down = 0;
        // Written when it changed: a cleared error, a root path recorded for the first time.
        let _ = self.store.put(&entry.record);
        Ok(())
    }
}

/// The peers a torrent dials first: the ones it was given, then the ones it last saw.
fn peers_to_dial(record: &TorrentRecord) -> Vec<SocketAddr> {
    record
        .initial_peers
        .iter()
        .copied()
        .chain(record.seen_peers.iter().map(|p| p.addr))
        .collect()
}
