//! The rules that turn librqbit's view of a torrent into trove's at each poll: its state
//! and error, its have-bytes, the bytes it moved since the last poll, when it completed,
//! and the summary row the dashboard shows. Pure functions over plain inputs, so each rule
//! is tested here without a session.

use librqbit::{TorrentStats, TorrentStatsState};
use trove_proto::snapshot::{self, TorrentState, TorrentSummary};

use crate::source;
use crate::store::TorrentRecord;

/// What the engine knew about a torrent before this poll.
pub(super) struct Known<'a> {
    pub(super) record: &'a TorrentRecord,
    /// The torrent's size from its metadata, when known.
    pub(super) total_len: Option<u64>,
    /// librqbit's per-live-instance counters at the last poll.
    pub(super) live_down: u64,
    pub(super) live_up: u64,
    /// A magnet's metadata is being fetched from peers.
    pub(super) resolving: bool,
}

/// What a poll makes of a torrent.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Polled {
    pub(super) state: TorrentState,
    /// The error to store; the summary shows it in the `Error` state only (a magnet whose
    /// metadata is being fetched again shows as queued while its earlier error stands).
    pub(super) error: Option<String>,
    pub(super) size: u64,
    pub(super) selected_bytes: u64,
    pub(super) have_bytes: u64,
    /// librqbit's per-live-instance counters now, for the next poll.
    pub(super) live_down: u64,
    pub(super) live_up: u64,
    /// Bytes moved since the last poll.
    pub(super) down_delta: u64,
    pub(super) up_delta: u64,
    pub(super) peers: u32,
    pub(super) completed_at: Option<i64>,
}

/// Whether librqbit is checking the torrent's files: its progress then counts the bytes it
/// has checked, not the bytes it has.
pub(super) fn is_checking(stats: &TorrentStats) -> bool {
    matches!(stats.state, TorrentStatsState::Initializing { .. })
}

/// One torrent's new state from its record and, when librqbit holds it, librqbit's stats.
/// `explain` turns librqbit's error text into the one line trove shows.
pub(super) fn poll_torrent(
    known: &Known,
    stats: Option<&TorrentStats>,
    now_unix: i64,
    explain: impl FnOnce(&str) -> String,
) -> Polled {
    let record = known.record;
    let mut state = if record.paused {
        TorrentState::Paused
    } else {
        TorrentState::Queued
    };
    let mut error = record.error.clone();
    if error.is_some() {
        state = TorrentState::Error;
    }
    let mut polled = Polled {
        state,
        error: None,
        size: known.total_len.unwrap_or(record.size),
        selected_bytes: record.selected_bytes,
        have_bytes: record.have_bytes,
        live_down: known.live_down,
        live_up: known.live_up,
        down_delta: 0,
        up_delta: 0,
        peers: 0,
        completed_at: record.completed_at,
    };
    if let Some(stats) = stats {
        // librqbit counts whole pieces, so its totals can pass the torrent's size.
        polled.selected_bytes = stats.total_bytes.min(known.total_len.unwrap_or(u64::MAX));
        // While librqbit checks a torrent's files a new download would show 100% and then
        // drop to 0: until the check is over, what it had before stands.
        let have = if is_checking(stats) {
            record.have_bytes
        } else {
            stats.progress_bytes
        };
        polled.have_bytes = have.min(polled.selected_bytes);
        match stats.state {
            TorrentStatsState::Error => {
                state = TorrentState::Error;
                error = Some(explain(stats.error.as_deref().unwrap_or("unknown error")));
            }
            // Paused by trove because of its root: still an error until resumed.
            TorrentStatsState::Paused if error.is_some() => state = TorrentState::Error,
            other => {
                error = None;
                state = match other {
                    TorrentStatsState::Initializing { .. } => TorrentState::Checking,
                    TorrentStatsState::Live if stats.finished => TorrentState::Seeding,
                    TorrentStatsState::Live => TorrentState::Downloading,
                    _ => TorrentState::Paused,
                };
            }
        }
        match &stats.live {
            Some(live) => {
                let up = live.snapshot.uploaded_bytes;
                let down = live.snapshot.fetched_bytes;
                // A new live instance starts its counters at zero.
                polled.up_delta = up.checked_sub(known.live_up).unwrap_or(up);
                polled.down_delta = down.checked_sub(known.live_down).unwrap_or(down);
                polled.live_up = up;
                polled.live_down = down;
                polled.peers = live.snapshot.peer_stats.live;
            }
            None => {
                polled.live_up = 0;
                polled.live_down = 0;
            }
        }
        if stats.finished && record.completed_at.is_none() && state == TorrentState::Seeding {
            polled.completed_at = Some(now_unix);
        }
    } else if known.resolving && !record.paused {
        state = TorrentState::Queued;
    }
    polled.state = state;
    polled.error = error;
    polled
}

impl Polled {
    /// Whether this poll saw the torrent complete for the first time.
    pub(super) fn completes(&self, record: &TorrentRecord) -> bool {
        record.completed_at.is_none() && self.completed_at.is_some()
    }

    /// Whether the record's state or error changes: written (and synced) at once.
    pub(super) fn changes_state(&self, record: &TorrentRecord) -> bool {
        self.state != record.last_state || self.error != record.error
    }

    /// The error this poll brings that the record did not have, to be logged once.
    pub(super) fn new_error(&self, record: &TorrentRecord) -> Option<&str> {
        self.error.as_deref().filter(|_| self.error != record.error)
    }

    /// Puts the poll into the record.
    pub(super) fn apply(&self, record: &mut TorrentRecord) {
        record.selected_bytes = self.selected_bytes;
        record.have_bytes = self.have_bytes;
        record.size = self.size;
        record.uploaded_total += self.up_delta;
        record.downloaded_total += self.down_delta;
        record.completed_at = self.completed_at;
        record.last_state = self.state;
        record.error = self.error.clone();
    }
}

/// The rates and settings a summary shows besides the record.
pub(super) struct Shown<'a> {
    pub(super) download_rate: f64,
    pub(super) upload_rate: f64,
    /// The label of the torrent's root, when the root is still configured.
    pub(super) root_label: Option<&'a str>,
    /// The session's peer limit, which a torrent without its own inherits.
    pub(super) global_peer_limit: Option<u32>,
}

/// The summary row of a torrent, from its record after the poll.
pub(super) fn summary(record: &TorrentRecord, polled: &Polled, shown: &Shown) -> TorrentSummary {
    let progress = if record.selected_bytes == 0 {
        0.0
    } else {
        (record.have_bytes as f64 / record.selected_bytes as f64).min(1.0)
    };
    let remaining = record.selected_bytes.saturating_sub(record.have_bytes);
    let eta = if polled.state == TorrentState::Downloading {
        snapshot::eta(remaining, shown.download_rate)
    } else {
        None
    };
    TorrentSummary {
        info_hash: record.info_hash.clone(),
        name: record.name.clone(),
        state: polled.state,
        progress,
        size: record.size,
        have_bytes: record.have_bytes,
        selected_bytes: record.selected_bytes,
        download_rate: shown.download_rate,
        upload_rate: shown.upload_rate,
        eta,
        peers_connected: polled.peers,
        peer_limit: record.limits.peers.or(shown.global_peer_limit),
        ratio: ratio(record),
        root_label: shown
            .root_label
            .map_or_else(|| record.root_token.clone(), str::to_string),
        root_token: record.root_token.clone(),
        added_at: record.added_at,
        completed_at: record.completed_at,
        uploaded_total: record.uploaded_total,
        downloaded_total: record.downloaded_total,
        limits: record.limits,
        tags: record.tags.clone(),
        error: if polled.state == TorrentState::Error {
            polled.error.clone()
        } else {
            None
        },
        paused: record.paused,
        only_files: record.only_files.clone(),
        queue: None,
        moving: None,
        missing_data: record.missing_data.clone(),
    }
}

/// Uploaded over downloaded, counting at least the torrent's size as downloaded (a torrent
/// added complete has downloaded nothing).
pub(crate) fn ratio(r: &TorrentRecord) -> f64 {
    let base = r.downloaded_total.max(r.size);
    if base == 0 {
        0.0
    } else {
        r.uploaded_total as f64 / base as f64
    }
}

/// Turns librqbit's error text into one line that names the root (`root`, described as
/// "storage root 'x' at /path") when the disk is the problem.
pub(super) fn explain_error(raw: &str, root: &str) -> String {
    let lower = raw.to_lowercase();
    if lower.contains("no space left") || lower.contains("os error 28") {
        format!("{root} is full: make space on it, then resume the torrent")
    } else if lower.contains("read-only") || lower.contains("os error 30") {
        format!("{root} is read-only: make it writable, then resume the torrent")
    } else if lower.contains("no such file") || lower.contains("os error 2)") {
        format!("{root} or a file in it has disappeared: restore it, then resume the torrent")
    } else if lower.contains("permission denied") || lower.contains("os error 13") {
        format!("{root} is not writable (permission denied): fix it, then resume the torrent")
    } else {
        let first = raw.lines().next().unwrap_or(raw);
        source::sanitize_display(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use librqbit::api::LiveStats;
    use std::time::Duration;
    use trove_proto::snapshot::Limits;

    const NOW: i64 = 1_700_000_000;

    fn record() -> TorrentRecord {
        TorrentRecord {
            info_hash: "ab".repeat(20),
            name: "linux.iso".into(),
            magnet: None,
            has_metadata: true,
            root_token: "media".into(),
            only_files: None,
            paused: false,
            limits: Limits::default(),
            added_at: 1_600_000_000,
            completed_at: None,
            uploaded_total: 0,
            downloaded_total: 0,
            initial_peers: Vec::new(),
            seen_peers: Vec::new(),
            last_state: TorrentState::Queued,
            size: 1000,
            have_bytes: 0,
            selected_bytes: 1000,
            error: None,
            root_path: None,
            trackers: None,
            tags: Vec::new(),
            queue_position: 0,
            forced: false,
            goals: None,
            seeding_ms: 0,
            moving: None,
            missing_data: None,
            metadata_first: None,
            vault_file: None,
        }
    }

    fn known(record: &TorrentRecord) -> Known<'_> {
        Known {
            record,
            total_len: Some(record.size),
            live_down: 0,
            live_up: 0,
            resolving: false,
        }
    }

    /// librqbit's stats: `live` is (fetched, uploaded, live peers) of a live instance.
    fn stats(
        state: TorrentStatsState,
        progress_bytes: u64,
        finished: bool,
        live: Option<(u64, u64, u32)>,
    ) -> TorrentStats {
        TorrentStats {
            state,
            file_progress: Vec::new(),
            error: None,
            progress_bytes,
            uploaded_bytes: 0,
            total_bytes: 1000,
            finished,
            live: live.map(|(fetched, uploaded, peers)| {
                let mut l = LiveStats {
                    snapshot: Default::default(),
                    average_piece_download_time: None,
                    download_speed: Default::default(),
                    upload_speed: Default::default(),
                    time_remaining: None,
                };
                l.snapshot.fetched_bytes = fetched;
                l.snapshot.uploaded_bytes = uploaded;
                l.snapshot.peer_stats.live = peers;
                l
            }),
        }
    }

    fn live(progress: u64, finished: bool) -> TorrentStats {
        stats(TorrentStatsState::Live, progress, finished, Some((0, 0, 0)))
    }

    fn no_explanation(raw: &str) -> String {
        panic!("nothing to explain, yet asked about {raw:?}")
    }

    #[test]
    fn a_paused_torrent_outside_librqbit_is_paused_with_what_it_had() {
        let r = TorrentRecord {
            paused: true,
            have_bytes: 400,
            ..record()
        };
        let p = poll_torrent(&known(&r), None, NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Paused);
        assert_eq!((p.have_bytes, p.selected_bytes, p.size), (400, 1000, 1000));
        assert_eq!((p.down_delta, p.up_delta, p.peers), (0, 0, 0));
        assert_eq!(p.error, None);
    }

    #[test]
    fn a_stored_error_shows_until_librqbit_runs_the_torrent_again() {
        let r = TorrentRecord {
            error: Some("storage root 'media' is full".into()),
            ..record()
        };
        let p = poll_torrent(&known(&r), None, NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Error);
        assert_eq!(p.error, r.error);
        let shown = summary(&r, &p, &shown(0.0));
        assert_eq!(shown.error, r.error);

        let p = poll_torrent(&known(&r), Some(&live(0, false)), NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Downloading);
        assert_eq!(p.error, None, "running again clears it");
    }

    #[test]
    fn checking_keeps_the_previous_have_bytes() {
        let r = TorrentRecord {
            have_bytes: 300,
            ..record()
        };
        let checking = stats(
            TorrentStatsState::Initializing { paused: false },
            1000,
            false,
            None,
        );
        assert!(is_checking(&checking));
        let p = poll_torrent(&known(&r), Some(&checking), NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Checking);
        assert_eq!(
            p.have_bytes, 300,
            "librqbit's progress counts checked bytes"
        );
        let p = poll_torrent(&known(&r), Some(&live(700, false)), NOW, no_explanation);
        assert_eq!(
            p.have_bytes, 700,
            "after the check, librqbit's count stands"
        );
    }

    #[test]
    fn librqbit_counts_are_clamped_to_the_torrent_size() {
        let r = record();
        let mut s = live(1100, true);
        s.total_bytes = 1100; // whole pieces past the end
        let p = poll_torrent(&known(&r), Some(&s), NOW, no_explanation);
        assert_eq!((p.selected_bytes, p.have_bytes), (1000, 1000));
        let unknown_size = Known {
            total_len: None,
            ..known(&r)
        };
        let p = poll_torrent(&unknown_size, Some(&s), NOW, no_explanation);
        assert_eq!((p.selected_bytes, p.have_bytes, p.size), (1100, 1100, 1000));
    }

    #[test]
    fn a_live_torrent_seeds_when_finished_and_downloads_otherwise() {
        let r = record();
        let p = poll_torrent(&known(&r), Some(&live(500, false)), NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Downloading);
        assert_eq!(p.completed_at, None);
        let p = poll_torrent(&known(&r), Some(&live(1000, true)), NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Seeding);
        let paused = stats(TorrentStatsState::Paused, 500, false, None);
        let p = poll_torrent(&known(&r), Some(&paused), NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Paused);
    }

    #[test]
    fn completion_is_stamped_once() {
        let r = record();
        let p = poll_torrent(&known(&r), Some(&live(1000, true)), NOW, no_explanation);
        assert_eq!(p.completed_at, Some(NOW));
        assert!(p.completes(&r));
        let done = TorrentRecord {
            completed_at: Some(NOW - 3600),
            ..record()
        };
        let p = poll_torrent(&known(&done), Some(&live(1000, true)), NOW, no_explanation);
        assert_eq!(p.completed_at, Some(NOW - 3600));
        assert!(!p.completes(&done));
        // Finished but not seeding (a finished torrent paused in librqbit): not stamped.
        let paused_done = stats(TorrentStatsState::Paused, 1000, true, None);
        let p = poll_torrent(&known(&r), Some(&paused_done), NOW, no_explanation);
        assert_eq!(p.completed_at, None);
    }

    #[test]
    fn a_librqbit_error_is_explained() {
        let r = record();
        let mut s = stats(TorrentStatsState::Error, 0, false, None);
        s.error = Some("No space left on device (os error 28)".into());
        let p = poll_torrent(&known(&r), Some(&s), NOW, |raw| {
            explain_error(raw, "storage root 'media' at /srv/media")
        });
        assert_eq!(p.state, TorrentState::Error);
        assert_eq!(
            p.error.as_deref(),
            Some(
                "storage root 'media' at /srv/media is full: make space on it, then resume the torrent"
            )
        );
        assert_eq!(p.new_error(&r), p.error.as_deref());
        assert!(p.changes_state(&r));

        s.error = None;
        let p = poll_torrent(&known(&r), Some(&s), NOW, str::to_string);
        assert_eq!(p.error.as_deref(), Some("unknown error"));
    }

    #[test]
    fn paused_because_of_its_root_stays_an_error() {
        let r = TorrentRecord {
            error: Some("storage root 'media' at /srv/media is missing".into()),
            last_state: TorrentState::Error,
            ..record()
        };
        let paused = stats(TorrentStatsState::Paused, 500, false, None);
        let p = poll_torrent(&known(&r), Some(&paused), NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Error);
        assert_eq!(p.error, r.error);
        assert!(!p.changes_state(&r), "nothing new to store");
        assert_eq!(p.new_error(&r), None, "nothing new to log");
    }

    #[test]
    fn counters_add_what_moved_since_the_last_poll() {
        let r = TorrentRecord {
            downloaded_total: 5000,
            uploaded_total: 50,
            ..record()
        };
        let before = Known {
            live_down: 100,
            live_up: 10,
            ..known(&r)
        };
        let s = stats(TorrentStatsState::Live, 0, false, Some((250, 40, 3)));
        let p = poll_torrent(&before, Some(&s), NOW, no_explanation);
        assert_eq!((p.down_delta, p.up_delta), (150, 30));
        assert_eq!((p.live_down, p.live_up, p.peers), (250, 40, 3));
        let mut after = r.clone();
        p.apply(&mut after);
        assert_eq!((after.downloaded_total, after.uploaded_total), (5150, 80));

        // A new live instance (after a pause or a re-add) starts again from zero.
        let restarted = Known {
            live_down: 1000,
            live_up: 400,
            ..known(&r)
        };
        let s = stats(TorrentStatsState::Live, 0, false, Some((300, 20, 1)));
        let p = poll_torrent(&restarted, Some(&s), NOW, no_explanation);
        assert_eq!((p.down_delta, p.up_delta), (300, 20));

        // No live instance: nothing moved, and the next one starts from zero.
        let s = stats(TorrentStatsState::Paused, 0, false, None);
        let p = poll_torrent(&restarted, Some(&s), NOW, no_explanation);
        assert_eq!(
            (p.down_delta, p.up_delta, p.live_down, p.live_up),
            (0, 0, 0, 0)
        );
        // Outside librqbit the last counters are kept.
        let p = poll_torrent(&restarted, None, NOW, no_explanation);
        assert_eq!((p.live_down, p.live_up), (1000, 400));
    }

    #[test]
    fn a_magnet_fetching_its_metadata_is_queued() {
        let r = TorrentRecord {
            has_metadata: false,
            size: 0,
            selected_bytes: 0,
            error: Some("could not fetch the metadata: timed out".into()),
            ..record()
        };
        let resolving = Known {
            total_len: None,
            resolving: true,
            ..known(&r)
        };
        let p = poll_torrent(&resolving, None, NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Queued);
        assert_eq!(p.error, r.error, "the earlier error is kept in the record");
        let s = summary(&r, &p, &shown(0.0));
        assert_eq!(s.error, None, "but not shown while queued");
        assert_eq!(s.progress, 0.0, "nothing selected yet");

        let paused = TorrentRecord {
            paused: true,
            error: None,
            ..r
        };
        let p = poll_torrent(&known(&paused), None, NOW, no_explanation);
        assert_eq!(p.state, TorrentState::Paused);
    }

    fn shown(download_rate: f64) -> Shown<'static> {
        Shown {
            download_rate,
            upload_rate: 0.0,
            root_label: None,
            global_peer_limit: Some(40),
        }
    }

    #[test]
    fn the_summary_shows_progress_eta_and_inherited_settings() {
        let mut r = TorrentRecord {
            uploaded_total: 500,
            ..record()
        };
        let p = poll_torrent(&known(&r), Some(&live(250, false)), NOW, no_explanation);
        p.apply(&mut r);
        let s = summary(&r, &p, &shown(75.0));
        assert_eq!(s.progress, 0.25);
        assert_eq!(s.eta, Some(Duration::from_secs(10)));
        assert_eq!(s.peer_limit, Some(40), "inherited from the session");
        assert_eq!(
            s.root_label, "media",
            "a root gone from the config shows its token"
        );
        assert_eq!(s.ratio, 0.5, "the size counts as downloaded");
        assert_eq!(s.info_hash, r.info_hash);

        let own = Shown {
            root_label: Some("Media"),
            ..shown(75.0)
        };
        r.limits.peers = Some(5);
        let s = summary(&r, &p, &own);
        assert_eq!((s.peer_limit, s.root_label.as_str()), (Some(5), "Media"));

        let p = poll_torrent(&known(&r), Some(&live(1000, true)), NOW, no_explanation);
        p.apply(&mut r);
        let s = summary(&r, &p, &shown(75.0));
        assert_eq!(
            (s.progress, s.eta),
            (1.0, None),
            "no ETA unless downloading"
        );
    }

    #[test]
    fn disk_errors_name_the_root_and_others_keep_their_first_line() {
        let root = "storage root 'media' at /srv/media";
        let cases = [
            ("Read-only file system (os error 30)", "is read-only"),
            ("No such file or directory (os error 2)", "has disappeared"),
            ("Permission denied (os error 13)", "permission denied"),
        ];
        for (raw, says) in cases {
            let msg = explain_error(raw, root);
            assert!(msg.starts_with(root) && msg.contains(says), "{raw}: {msg}");
        }
        assert_eq!(
            explain_error("tracker said no\nbacktrace", root),
            "tracker said no"
        );
    }
}
