//! The `Library` command: what sits in each root. The engine gathers what it knows of
//! each torrent (its root, its files, what it has of each) on its own task, and the roots
//! are looked at on a blocking thread, so a large root never holds up the session.

use std::collections::HashMap;

use tokio::sync::oneshot;
use trove_proto::command::{EngineResult, Reply};
use trove_proto::library::DataState;
use trove_proto::snapshot::MoveProgress;

use super::engine::{Engine, engine_err};
use crate::bitfield;
use crate::library::{self, TorrentInput};

impl Engine {
    /// Starts the scan; the answer goes to `reply` when it is done.
    pub(super) fn library(&mut self, reply: oneshot::Sender<EngineResult<Reply>>) {
        let dir = self.fastresume_dir.clone();
        let moving: HashMap<String, MoveProgress> = self
            .torrents
            .keys()
            .filter_map(|h| Some((h.clone(), self.move_progress(h)?)))
            .collect();
        let mut inputs = Vec::with_capacity(self.torrents.len());
        for (hash, e) in self.torrents.iter_mut() {
            if e.handle.is_none()
                && let Some(bf) = dir.as_deref().and_then(|d| bitfield::read(d, hash))
            {
                e.fill_dormant_file_progress(&bf);
            }
            let Some(root) = library::root_path_of(&self.roots, &e.record) else {
                continue;
            };
            let mut input =
                TorrentInput::new(&e.record, e.torrent.as_ref(), &root, &e.file_progress);
            input.moving = moving.get(hash).map(|p| DataState::Moving {
                to_root: p.to.clone(),
                done_bytes: p.done,
                total_bytes: p.total,
            });
            inputs.push((e.record.root_token.clone(), input));
        }
        let roots = library::group_by_root(&self.roots, self.root_info.clone(), inputs);
        tokio::spawn(async move {
            let report = tokio::task::spawn_blocking(move || library::scan(roots))
                .await
                .map(Reply::Library)
                .map_err(engine_err);
            let _ = reply.send(report);
        });
    }
}
