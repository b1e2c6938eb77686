//! A torrent's tracker list: replacing it (librqbit takes trackers only when a torrent is
//! added, so a running torrent is re-added with the new list, keeping its data and
//! bitfield), and what the details show of each tracker.

use tracing::info;
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::log::{LogFilter, LogLevel};
use trove_proto::snapshot::TrackerEntry;

use super::engine::{Engine, store_err};
use crate::logring::LogRing;
use crate::torrents::checked_tracker_list;

impl Engine {
    pub(super) async fn set_trackers(
        &mut self,
        id: &str,
        trackers: Vec<String>,
    ) -> EngineResult<()> {
        let hash = self.resolve_id(id)?;
        let list = checked_tracker_list(&trackers)?;
        let entry = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
        if entry.record.trackers.as_ref() == Some(&list) {
            return Ok(());
        }
        info!(info_hash = %hash, trackers = ?list, "tracker list of {} set", entry.record.name);
        entry.record.trackers = Some(list);
        self.store.put(&entry.record).map_err(store_err)?;
        self.readd(&hash).await
    }
}

/// The tracker rows of a torrent's details: librqbit reports nothing per tracker, so the
/// status says whether the torrent announces at all, and the last error is the newest
/// warning or error in the log about this torrent that names the tracker's URL.
pub(super) fn tracker_entries(
    log: &LogRing,
    hash: &str,
    urls: Vec<String>,
    live: bool,
) -> Vec<TrackerEntry> {
    let lines = if urls.is_empty() {
        Vec::new()
    } else {
        log.lines(&LogFilter {
            min_level: LogLevel::Warn,
            info_hash: Some(hash.to_string()),
        })
    };
    urls.into_iter()
        .map(|url| TrackerEntry {
            last_error: lines
                .iter()
                .rev()
                .find(|l| l.message.contains(&url))
                .map(|l| l.message.clone()),
            status: if live { "announcing" } else { "idle" }.to_string(),
            url,
            peers_received: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracker_list_is_checked_and_deduplicated() {
        let list = checked_tracker_list(&[
            "http://t.example:80/announce".into(),
            " udp://u.example:6969 ".into(),
            "http://t.example:80/announce".into(),
        ])
        .unwrap();
        assert_eq!(
            list,
            ["http://t.example:80/announce", "udp://u.example:6969"]
        );
        for bad in ["t.example/announce", "ftp://x/a", "http://", "http://a b/"] {
            let e = checked_tracker_list(&[bad.into()]).unwrap_err().to_string();
            assert!(e.contains("is not a tracker URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_trackers_last_error_is_the_newest_warning_naming_it_for_this_torrent() {
        let log = LogRing::new(100);
        let (a, b) = ("aa".repeat(20), "bb".repeat(20));
        let url = "http://t.example:80/announce".to_string();
        log.push(
            LogLevel::Warn,
            "x",
            format!("old error calling {url}"),
            Some(a.clone()),
        );
        log.push(
            LogLevel::Error,
            "x",
            format!("error calling {url}: refused"),
            Some(a.clone()),
        );
        log.push(
            LogLevel::Info,
            "x",
            format!("announced to {url}"),
            Some(a.clone()),
        );
        log.push(
            LogLevel::Warn,
            "x",
            format!("other torrent: {url}"),
            Some(b.clone()),
        );
        let rows = tracker_entries(&log, &a, vec![url.clone(), "udp://u:1".into()], true);
        assert_eq!(
            rows[0].last_error.as_deref(),
            Some(format!("error calling {url}: refused").as_str())
        );
        assert_eq!(rows[0].status, "announcing");
        assert_eq!(rows[1].last_error, None);
        assert_eq!(rows[1].peers_received, None);
    }
}
