//! trove's own view of the session: plain data the UI and the CLI draw from.
//!
//! Nothing here names a librqbit type, so a screen (or a remote backend) can be
//! built and tested against these structs alone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Lower-case hex SHA-1 info-hash, the key of every torrent in trove.
pub type InfoHash = String;

/// What a torrent is doing, as a user would name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum TorrentState {
    /// Waiting for metadata (a magnet whose .torrent is not known yet) or for a slot.
    Queued,
    /// Verifying data already on disk.
    Checking,
    Downloading,
    Seeding,
    Paused,
    Error,
}

impl TorrentState {
    pub const ALL: [TorrentState; 6] = [
        TorrentState::Queued,
        TorrentState::Checking,
        TorrentState::Downloading,
        TorrentState::Seeding,
        TorrentState::Paused,
        TorrentState::Error,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TorrentState::Queued => "queued",
            TorrentState::Checking => "checking",
            TorrentState::Downloading => "downloading",
            TorrentState::Seeding => "seeding",
            TorrentState::Paused => "paused",
            TorrentState::Error => "error",
        }
    }
}

impl std::fmt::Display for TorrentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Rate and peer limits. `None` means unlimited (or "inherit the session's" for a torrent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Bytes per second.
    pub download_bps: Option<u64>,
    /// Bytes per second.
    pub upload_bps: Option<u64>,
    /// Connected peers at most.
    pub peers: Option<u32>,
}

/// Time left to fetch `remaining` bytes at `rate` bytes per second; `None` when (almost)
/// nothing moves.
pub fn eta(remaining: u64, rate: f64) -> Option<Duration> {
    (rate > 1.0).then(|| Duration::from_secs_f64(remaining as f64 / rate))
}

/// One row of the torrent table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TorrentSummary {
    pub info_hash: InfoHash,
    pub name: String,
    pub state: TorrentState,
    /// 0.0 ..= 1.0 of the selected bytes.
    pub progress: f64,
    /// Total size of the torrent in bytes (0 while metadata is unknown).
    pub size: u64,
    /// Bytes of the selected files that are verified on disk.
    pub have_bytes: u64,
    /// Bytes selected for download.
    pub selected_bytes: u64,
    /// Bytes per second over the rate window.
    pub download_rate: f64,
    pub upload_rate: f64,
    pub eta: Option<Duration>,
    pub peers_connected: u32,
    /// The peer limit in force for this torrent (its own, or the session's).
    pub peer_limit: Option<u32>,
    /// Lifetime uploaded / max(lifetime downloaded, size).
    pub ratio: f64,
    pub root_label: String,
    pub root_token: String,
    /// Unix seconds.
    pub added_at: i64,
    pub completed_at: Option<i64>,
    /// Lifetime counters, carried across restarts.
    pub uploaded_total: u64,
    pub downloaded_total: u64,
    /// This torrent's own limits (None = inherit).
    pub limits: Limits,
    pub error: Option<String>,
    /// Paused by the user (an errored torrent can be paused too).
    #[serde(default)]
    pub paused: bool,
    /// The files chosen for download (indices as trove shows them); `None` = all.
    #[serde(default)]
    pub only_files: Option<Vec<usize>>,
    /// Free labels, sorted.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its place in the queue and its seeding goals; None for a torrent the queue does
    /// not order (a magnet waiting for metadata).
    #[serde(default)]
    pub queue: Option<crate::queue::QueueStatus>,
    /// A move of its data to another storage root under way.
    #[serde(default)]
    pub moving: Option<MoveProgress>,
    /// Files it had data in that are gone or of another size (it is then in the `Error`
    /// state, held until re-checked, located or removed).
    #[serde(default)]
    pub missing_data: Option<crate::library::MissingData>,
}

impl TorrentSummary {
    /// The state as a word for a person: `metadata` for a magnet waiting for its metadata,
    /// so it is not mistaken for a torrent waiting for a queue slot.
    pub fn state_label(&self) -> &'static str {
        if self.state == TorrentState::Queued && self.size == 0 && self.queue.is_none() {
            "metadata"
        } else {
            self.state.label()
        }
    }
}

/// How far a torrent's move to another storage root has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveProgress {
    /// The label of the root it moves to.
    pub to: String,
    /// Bytes copied so far, of `total`.
    pub done: u64,
    pub total: u64,
}

impl MoveProgress {
    /// Whole percent copied, 0 ..= 100.
    pub fn percent(&self) -> u64 {
        (self.done.saturating_mul(100))
            .checked_div(self.total)
            .unwrap_or(100)
            .min(100)
    }
}

/// A storage root as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootInfo {
    pub token: String,
    pub label: String,
    pub path: PathBuf,
    pub is_default: bool,
    pub free_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    /// Why the root cannot be used right now (missing, not writable...).
    pub problem: Option<String>,
    /// Where the root was declared.
    #[serde(default)]
    pub origin: RootOrigin,
    /// Its torrents are kept encrypted (a vault root).
    #[serde(default)]
    pub vault: bool,
}

/// Where a storage root comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RootOrigin {
    /// A `[[roots]]` table of the config file.
    #[default]
    Config,
    /// Created at run time (a qBittorrent category, `trove root add`) and kept in the store.
    Store,
    /// The `downloads` root trove uses when the config declares none.
    Implicit,
}

/// Everything the header and the torrent table need, refreshed once per tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    pub torrents: Vec<TorrentSummary>,
    pub download_rate: f64,
    pub upload_rate: f64,
    /// Bytes moved since this process started.
    pub downloaded_session: u64,
    pub uploaded_session: u64,
    pub peers_connected: u32,
    pub limits: Limits,
    pub roots: Vec<RootInfo>,
    pub listen_addr: Option<SocketAddr>,
    /// Per-second session rates for the last five minutes, oldest first.
    pub download_history: Vec<f64>,
    pub upload_history: Vec<f64>,
    /// Every tag the session knows (on a torrent or created on its own), sorted.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The queue's limits in force.
    #[serde(default)]
    pub queue_limits: crate::queue::QueueLimits,
    /// The session's default seeding goals; None = torrents without their own seed forever.
    #[serde(default)]
    pub goals: Option<crate::queue::SeedingGoals>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub index: usize,
    /// Path inside the torrent, components joined with '/'.
    pub path: String,
    pub size: u64,
    pub have_bytes: u64,
    pub selected: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerEntry {
    pub addr: String,
    pub client: Option<String>,
    pub download_rate: f64,
    pub upload_rate: f64,
    /// Bytes fetched from / sent to this peer while connected.
    pub downloaded: u64,
    pub uploaded: u64,
    pub state: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PieceMap {
    pub count: u32,
    /// One bit per piece, most significant bit first, as BitTorrent sends it.
    pub bitfield: Vec<u8>,
}

impl PieceMap {
    pub fn has(&self, piece: u32) -> bool {
        let byte = (piece / 8) as usize;
        let bit = 7 - (piece % 8);
        self.bitfield.get(byte).is_some_and(|b| (b >> bit) & 1 == 1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackerEntry {
    pub url: String,
    pub status: String,
    /// The last error this tracker gave, as the log recorded it.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Peers this tracker handed out since the torrent started, when known.
    #[serde(default)]
    pub peers_received: Option<u64>,
}

/// The detail pane of one torrent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TorrentDetails {
    pub summary: TorrentSummary,
    pub save_path: PathBuf,
    pub files: Vec<FileEntry>,
    pub peers: Vec<PeerEntry>,
    pub pieces: PieceMap,
    pub piece_length: u64,
    pub trackers: Vec<TrackerEntry>,
    /// Per-second rates for the last five minutes, oldest first.
    pub download_history: Vec<f64>,
    pub upload_history: Vec<f64>,
    /// Seconds counted since the rate history began, at its newest end.
    #[serde(default)]
    pub history_clock: u64,
    /// A magnet link for this torrent (info-hash, name and trackers).
    #[serde(default)]
    pub magnet: String,
    /// For a torrent kept in a vault: the decrypted-chunk cache all vault torrents share.
    #[serde(default)]
    pub vault_cache: Option<CacheStats>,
}

/// The vault's decrypted-chunk cache, shared by every torrent kept in a vault root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    pub capacity_bytes: u64,
    /// Decrypted chunks held now, pinned ones included.
    pub bytes: u64,
    /// Chunks pinned because peers are being served from them.
    pub pinned_bytes: u64,
    pub hits: u64,
    pub misses: u64,
}

impl CacheStats {
    /// Hits over all lookups, once there has been one.
    pub fn hit_rate(&self) -> Option<f64> {
        let all = self.hits + self.misses;
        (all > 0).then(|| self.hits as f64 / all as f64)
    }
}
