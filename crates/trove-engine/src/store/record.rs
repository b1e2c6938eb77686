//! What the store keeps: one [`TorrentRecord`] per torrent, the [`SessionSettings`], and
//! how a record is written as JSON (readable by `trove export` and by a person).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{StoreError, StoreResult};
use crate::source;
use trove_proto::queue::{QueueLimits, SeedingGoals};
use trove_proto::snapshot::{InfoHash, Limits, TorrentState};

/// The on-disk format this trove writes. A store from a newer trove is refused, never rewritten.
pub const STORE_FORMAT: u32 = 1;

/// A peer seen recently, dialled first after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenPeer {
    pub addr: SocketAddr,
    /// Unix seconds.
    pub last_seen: i64,
}

/// Everything needed to bring one torrent back exactly as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TorrentRecord {
    pub info_hash: InfoHash,
    pub name: String,
    /// The magnet link the torrent was added from, kept until its metadata is known.
    pub magnet: Option<String>,
    /// True once the .torrent bytes are in the store.
    pub has_metadata: bool,
    pub root_token: String,
    pub only_files: Option<Vec<usize>>,
    pub paused: bool,
    pub limits: Limits,
    /// Unix seconds.
    pub added_at: i64,
    pub completed_at: Option<i64>,
    pub uploaded_total: u64,
    pub downloaded_total: u64,
    /// Peers the user asked for (`--peer`), dialled on every start.
    #[serde(default)]
    pub initial_peers: Vec<SocketAddr>,
    /// Peers seen recently, most recent first.
    #[serde(default)]
    pub seen_peers: Vec<SeenPeer>,
    /// Last state and progress seen, so `trove list` can answer without starting a session.
    pub last_state: TorrentState,
    pub size: u64,
    pub have_bytes: u64,
    pub selected_bytes: u64,
    pub error: Option<String>,
    /// The root's folder when the torrent was added (or first started), so the torrent can
    /// still be found after its root leaves the config file.
    #[serde(default)]
    pub root_path: Option<PathBuf>,
    /// The tracker list chosen by the user; None = the torrent's own (its .torrent's
    /// announce list, or a magnet's `tr=`).
    #[serde(default)]
    pub trackers: Option<Vec<String>>,
    /// Free labels put on the torrent, sorted, each at most once (see `tags`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its place in the queue: lower starts first. Records from before the queue all
    /// read 0 and are then ordered by when they were added (see `queue`).
    #[serde(default)]
    pub queue_position: u64,
    /// Started regardless of the queue's limits.
    #[serde(default)]
    pub forced: bool,
    /// Its own seeding goals; None = the session's.
    #[serde(default)]
    pub goals: Option<SeedingGoals>,
    /// Milliseconds spent seeding, summed over every run (for the seeding-time goal).
    #[serde(default)]
    pub seeding_ms: u64,
    /// A move of its data to another storage root under way (see `journal`).
    #[serde(default)]
    pub moving: Option<super::journal::MoveJournal>,
    /// Files it had data in that were found gone or of another size: the torrent is held
    /// out of librqbit (nothing is downloaded again) until the user re-checks, locates or
    /// removes it. Its error line says the same in words.
    #[serde(default)]
    pub missing_data: Option<trove_proto::library::MissingData>,
    /// While set, only its descriptive files are selected in librqbit (those of at most
    /// this many bytes count too); cleared once they are in, when the rest follows.
    #[serde(default)]
    pub metadata_first: Option<u64>,
    /// Kept in a vault root: the name of the one file there holding its sealed chunks
    /// (random, so the vault's folder does not say what it holds).
    #[serde(default)]
    pub vault_file: Option<String>,
}

impl TorrentRecord {
    /// Keeps the most recent peers, at most `MAX_SEEN_PEERS`.
    pub fn remember_peers(&mut self, peers: impl IntoIterator<Item = SocketAddr>, now: i64) {
        const MAX_SEEN_PEERS: usize = 50;
        for addr in peers {
            self.seen_peers.retain(|p| p.addr != addr);
            self.seen_peers.insert(
                0,
                SeenPeer {
                    addr,
                    last_seen: now,
                },
            );
        }
        self.seen_peers.truncate(MAX_SEEN_PEERS);
    }
}

/// Session-wide settings changed at run time (they outlive a restart).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionSettings {
    /// Global limits set from the UI; None = take the config file's.
    pub limits: Option<Limits>,
    /// Tags created on their own (`CreateTags`, a qBittorrent client's "new tag"), kept
    /// even while no torrent has them; sorted.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Storage roots created at run time (`trove root add`, a qBittorrent category),
    /// beside the config file's `[[roots]]`.
    #[serde(default)]
    pub roots: Vec<StoredRoot>,
    /// The queue's limits set at run time; None = take the config file's.
    #[serde(default)]
    pub queue: Option<QueueLimits>,
    /// The session's seeding goals set at run time; None = take the config file's.
    #[serde(default)]
    pub goals: Option<SeedingGoals>,
    /// True once the session's goals were set at run time, so that "no goals" set then
    /// wins over the config file's.
    #[serde(default)]
    pub goals_set: bool,
}

/// A storage root kept in the store: a label and a folder. Its token is its label, as for
/// a config root declared without a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRoot {
    pub label: String,
    pub path: PathBuf,
}

/// Decodes the record stored under `key`; the error is a sentence naming the torrent.
pub(super) fn decode_record(key: &[u8], value: &[u8]) -> Result<TorrentRecord, String> {
    serde_json::from_slice(value).map_err(|e| {
        format!(
            "the record of torrent {} is not readable ({e})",
            source::sanitize_display(&String::from_utf8_lossy(key))
        )
    })
}

pub(super) fn encode(record: &TorrentRecord) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| StoreError::Io(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::record;

    #[test]
    fn remember_peers_keeps_most_recent_first_and_bounded() {
        let mut r = record("aa");
        let addrs: Vec<SocketAddr> = (0..60)
            .map(|i| format!("127.0.0.1:{}", 1000 + i).parse().unwrap())
            .collect();
        r.remember_peers(addrs.clone(), 5);
        assert_eq!(r.seen_peers.len(), 50);
        assert_eq!(r.seen_peers[0].addr, addrs[59]);
        r.remember_peers([addrs[30]], 6);
        assert_eq!(r.seen_peers[0].addr, addrs[30]);
        assert_eq!(r.seen_peers.len(), 50);
    }
}
