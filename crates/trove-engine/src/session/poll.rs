//! Reading librqbit: each torrent's stats go through the rules of `status` into its
//! record, rate trackers and summary; state changes are stored at once; the snapshot is
//! published from the summaries.

use std::sync::Arc;
use std::time::Instant;

use tracing::{info, warn};
use trove_proto::snapshot::{SessionSnapshot, TorrentState, TorrentSummary};

use super::engine::{Engine, Internal};
use super::status::{self, Known, Shown};
use super::{goals, queue};
use crate::file_index;
use crate::roots::RootManager;
use crate::torrents::now_unix;
use trove_proto::queue::QueueStatus;

/// Which torrents a poll asks librqbit about.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum PollScope {
    All,
    /// The once-a-second tick: a paused torrent whose summary already says so, at rest,
    /// keeps it (a thousand paused torrents then cost almost nothing).
    SkipSettledPaused,
}

/// How an error message names a torrent's root.
fn root_location(roots: &RootManager, token: &str) -> String {
    roots
        .by_token(token)
        .map(|r| format!("storage root '{}' at {}", r.label, r.path.display()))
        .unwrap_or_else(|| format!("storage root '{token}'"))
}

impl Engine {
    /// Reads librqbit's counters into records, summaries and rate trackers.
    pub(super) fn poll(&mut self) {
        self.poll_with(PollScope::All);
    }

    pub(super) fn poll_with(&mut self, scope: PollScope) {
        let now = Instant::now();
        let unix_now = now_unix();
        let places = queue::queue_places(&self.torrents);
        let roots = &self.roots;
        let mut dirty: Vec<String> = Vec::new();
        let (mut down_delta_total, mut up_delta_total) = (0u64, 0u64);
        for (i, (hash, e)) in self.torrents.iter_mut().enumerate() {
            // Only a command (which polls everything) changes a paused torrent; its rates
            // keep their history so the graph still moves.
            if scope == PollScope::SkipSettledPaused && e.is_settled_paused() {
                e.rates
                    .record(now, e.record.downloaded_total, e.record.uploaded_total);
                continue;
            }
            let stats = e.handle.as_ref().map(|h| h.stats());
            if let (Some(stats), Some(t)) = (&stats, &e.torrent)
                && !status::is_checking(stats)
                && !stats.file_progress.is_empty()
            {
                e.file_progress = file_index::progress_from_librqbit(t, &stats.file_progress);
            }
            let mut polled = status::poll_torrent(
                &Known {
                    record: &e.record,
                    total_len: e.torrent.as_ref().map(|t| t.total_len),
                    live_down: e.live_down,
                    live_up: e.live_up,
                    resolving: e.resolver.is_some(),
                },
                stats.as_ref(),
                unix_now,
                |raw| status::explain_error(raw, &root_location(roots, &e.record.root_token)),
            );
            if e.record.metadata_first.is_some() && polled.state == TorrentState::Seeding {
                // Only its descriptive files were selected, and they are in: still
                // downloading (the rest comes next), not complete.
                polled.state = TorrentState::Downloading;
                polled.completed_at = e.record.completed_at;
                let _ = self
                    .internal_tx
                    .send(Internal::DescriptiveFilesIn(hash.clone()));
            }
            if polled.completes(&e.record) {
                info!(info_hash = %hash, "completed {}", e.record.name);
                // Its root may send finished torrents on to another (`complete_to`).
                let _ = self.internal_tx.send(Internal::Completed(hash.clone()));
            }
            if polled.changes_state(&e.record) {
                if let Some(msg) = polled.new_error(&e.record) {
                    warn!(info_hash = %hash, "{}: {msg}", e.record.name);
                }
                dirty.push(hash.clone());
            }
            e.live_down = polled.live_down;
            e.live_up = polled.live_up;
            down_delta_total += polled.down_delta;
            up_delta_total += polled.up_delta;
            polled.apply(&mut e.record);
            // Idle time counts from the last byte moved, or from the first poll of a torrent
            // that has moved none since it started (one restored at boot, say): without
            // that it would never count as slow and would hold its queue slot for good.
            if polled.down_delta + polled.up_delta > 0 || e.last_moved.is_none() {
                e.last_moved = Some(now);
            }
            goals::account(
                e,
                polled.state == TorrentState::Seeding,
                polled.up_delta,
                now,
            );
            e.rates
                .record(now, e.record.downloaded_total, e.record.uploaded_total);
            let root_label = roots
                .by_token(&e.record.root_token)
                .map(|r| r.label.as_str());
            let mut summary = status::summary(
                &e.record,
                &polled,
                &Shown {
                    download_rate: e.rates.download.rate(),
                    upload_rate: e.rates.upload.rate(),
                    root_label,
                    global_peer_limit: self.global.peers,
                },
            );
            summary.queue = e.torrent.as_ref().map(|_| {
                let goals = goals::goals_for(e, self.goals.as_ref());
                QueueStatus {
                    position: places.get(i).copied().unwrap_or(0),
                    forced: e.record.forced,
                    waiting: self.waiting.contains(hash) && e.handle.is_none(),
                    goals,
                    own_goals: e.record.goals.is_some(),
                    progress: goals
                        .map(|g| goals::progress(&g, &goals::seeded(e, now)))
                        .unwrap_or_default(),
                }
            });
            e.summary = Some(summary);
        }
        self.session_down += down_delta_total;
        self.session_up += up_delta_total;
        self.session_rates
            .record(now, self.session_down, self.session_up);
        // State changes are written and synced at once (counters ride along), all of a
        // poll's in one batch and one sync: a start that sees thousands of torrents change
        // state would otherwise sync the store, and rewrite its manifest of every torrent,
        // once per torrent.
        if !dirty.is_empty() {
            let records: Vec<_> = dirty
                .iter()
                .filter_map(|hash| self.torrents.get(hash).map(|e| e.record.clone()))
                .collect();
            if let Err(err) = self
                .store
                .put_many_unsynced(&records)
                .and_then(|()| self.store.flush())
            {
                warn!("cannot save torrent state: {err}");
            }
        }
    }

    pub(super) fn publish(&self) {
        let torrents: Vec<TorrentSummary> = self
            .torrents
            .iter()
            .filter_map(|(h, e)| e.summary.clone().map(|s| self.with_move(h, s)))
            .collect();
        self.may_finish.set(torrents.iter().any(|t| {
            matches!(
                t.state,
                TorrentState::Queued | TorrentState::Checking | TorrentState::Downloading
            )
        }));
        let snap = SessionSnapshot {
            peers_connected: torrents.iter().map(|t| t.peers_connected).sum(),
            torrents,
            download_rate: self.session_rates.download.rate(),
            upload_rate: self.session_rates.upload.rate(),
            downloaded_session: self.session_down,
            uploaded_session: self.session_up,
            limits: self.global,
            roots: self.root_info.clone(),
            listen_addr: self.session.listen_addr(),
            download_history: self.session_rates.download.history(),
            upload_history: self.session_rates.upload.history(),
            tags: self.all_tags(),
            queue_limits: self.queue_limits,
            goals: self.goals,
        };
        self.snapshot_tx.send_replace(Arc::new(snap));
    }

    /// True when a torrent the last poll did not see seeding now has every selected piece
    /// (a small one may go from checking to finished between two polls). Cheap: a read
    /// lock per live torrent, and paused ones have no live state.
    pub(super) fn finished_since_poll(&self) -> bool {
        self.torrents.values().any(|e| {
            e.summary.as_ref().is_none_or(|s| {
                matches!(
                    s.state,
                    TorrentState::Queued | TorrentState::Checking | TorrentState::Downloading
                )
            }) && e
                .handle
                .as_ref()
                .and_then(|h| h.live())
                .and_then(|live| live.get_hns())
                .is_some_and(|hns| hns.finished())
        })
    }
}
