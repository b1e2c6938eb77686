//! The periodic one-line summary a daemon's log carries (torrents by state, rates, bytes
//! moved), written only when something changed since the last one, so an idle session's
//! log stays quiet.

use std::time::{Duration, Instant};

use humansize::{BINARY, format_size};
use trove_proto::snapshot::{SessionSnapshot, TorrentState};

/// How often the summary may be written.
pub(super) const SUMMARY_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// When the last summary was written and what it counted.
#[derive(Debug, Default)]
pub(super) struct SummaryLog {
    last_at: Option<Instant>,
    last_key: Option<Key>,
}

/// What must change for a new summary to be worth a line: rates alone do not count (they
/// move the byte totals whenever they are not zero).
#[derive(Debug, Clone, PartialEq)]
struct Key {
    counts: Vec<(TorrentState, usize)>,
    downloaded: u64,
    uploaded: u64,
}

impl SummaryLog {
    /// The line to log now, if the interval has passed and something changed since the
    /// last one (the first call only starts the clock).
    pub(super) fn due(&mut self, now: Instant, snap: &SessionSnapshot) -> Option<String> {
        let Some(last) = self.last_at else {
            self.last_at = Some(now);
            self.last_key = Some(key(snap));
            return None;
        };
        if now.duration_since(last) < SUMMARY_INTERVAL {
            return None;
        }
        self.last_at = Some(now);
        let k = key(snap);
        if self.last_key.as_ref() == Some(&k) {
            return None;
        }
        self.last_key = Some(k);
        Some(line(snap))
    }
}

fn key(snap: &SessionSnapshot) -> Key {
    Key {
        counts: TorrentState::ALL
            .iter()
            .map(|s| (*s, snap.torrents.iter().filter(|t| t.state == *s).count()))
            .filter(|(_, n)| *n > 0)
            .collect(),
        downloaded: snap.downloaded_session,
        uploaded: snap.uploaded_session,
    }
}

/// `3 torrents: 1 downloading, 2 seeding; down 1.2 MiB/s, up 300.0 KiB/s; this session
/// 1.5 GiB down, 200.0 MiB up; 12 peers`.
pub(super) fn line(snap: &SessionSnapshot) -> String {
    let k = key(snap);
    let n = snap.torrents.len();
    let counts: Vec<String> = k
        .counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.label()))
        .collect();
    let size = |b: u64| format_size(b, BINARY.decimal_places(1).decimal_zeroes(1));
    format!(
        "{n} torrent{}{}{}; down {}/s, up {}/s; this session {} down, {} up; {} peer{}",
        if n == 1 { "" } else { "s" },
        if counts.is_empty() { "" } else { ": " },
        counts.join(", "),
        size(snap.download_rate as u64),
        size(snap.upload_rate as u64),
        size(snap.downloaded_session),
        size(snap.uploaded_session),
        snap.peers_connected,
        if snap.peers_connected == 1 { "" } else { "s" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use trove_proto::snapshot::TorrentSummary;

    fn t(state: TorrentState) -> TorrentSummary {
        TorrentSummary {
            info_hash: "ab".repeat(20),
            name: "x".into(),
            state,
            progress: 0.0,
            size: 0,
            have_bytes: 0,
            selected_bytes: 0,
            download_rate: 0.0,
            upload_rate: 0.0,
            eta: None,
            peers_connected: 0,
            peer_limit: None,
            ratio: 0.0,
            root_label: "r".into(),
            root_token: "r".into(),
            added_at: 0,
            completed_at: None,
            uploaded_total: 0,
            downloaded_total: 0,
            limits: Default::default(),
            error: None,
            paused: false,
            only_files: None,
            tags: Vec::new(),
            missing_data: None,
        }
    }

    #[test]
    fn the_summary_names_states_rates_and_totals() {
        let snap = SessionSnapshot {
            torrents: vec![
                t(TorrentState::Seeding),
                t(TorrentState::Downloading),
                t(TorrentState::Seeding),
            ],
            download_rate: 1536.0,
            downloaded_session: 3 << 20,
            peers_connected: 1,
            ..Default::default()
        };
        assert_eq!(
            line(&snap),
            "3 torrents: 1 downloading, 2 seeding; down 1.5 KiB/s, up 0.0 B/s; this session 3.0 MiB down, 0.0 B up; 1 peer"
        );
    }

    #[test]
    fn an_idle_session_logs_no_summary_and_a_busy_one_one_per_interval() {
        let mut log = SummaryLog::default();
        let t0 = Instant::now();
        let mut snap = SessionSnapshot {
            torrents: vec![t(TorrentState::Seeding)],
            ..Default::default()
        };
        assert_eq!(log.due(t0, &snap), None, "the first call starts the clock");
        assert_eq!(
            log.due(t0 + SUMMARY_INTERVAL, &snap),
            None,
            "nothing changed"
        );
        snap.uploaded_session = 100;
        assert_eq!(
            log.due(t0 + SUMMARY_INTERVAL + Duration::from_secs(1), &snap),
            None,
            "too soon after the last check"
        );
        assert!(log.due(t0 + SUMMARY_INTERVAL * 2, &snap).is_some());
        assert_eq!(log.due(t0 + SUMMARY_INTERVAL * 3, &snap), None);
    }
}
