//! One torrent as qBittorrent describes it in `torrents/info` and `sync/maindata`, made
//! from trove's [`TorrentSummary`] and the session's roots.
//!
//! Fields trove has no counterpart for get the value qBittorrent itself gives when the
//! feature is off or unknown (`-1` for "no limit set", `8640000` for an unknown ETA, `""`
//! for no download path, `false` for flags trove does not have).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use trove_proto::{RootInfo, SessionSnapshot, TorrentState, TorrentSummary};

/// What qBittorrent gives as the ETA of a torrent that is not moving.
pub(crate) const ETA_UNKNOWN: u64 = 8_640_000;

/// qBittorrent's name for what a torrent is doing.
pub(crate) fn state(t: &TorrentSummary) -> &'static str {
    let complete = t.size > 0 && t.have_bytes >= t.selected_bytes;
    // Paused by the user wins over an error: that is what a client asked for and checks.
    if t.paused && complete {
        return "pausedUP";
    }
    if t.paused {
        return "pausedDL";
    }
    match t.state {
        TorrentState::Error => "error",
        TorrentState::Paused if complete => "pausedUP",
        TorrentState::Paused => "pausedDL",
        TorrentState::Checking if complete => "checkingUP",
        TorrentState::Checking => "checkingDL",
        // Without metadata a torrent's size is not known yet.
        TorrentState::Queued if t.size == 0 => "metaDL",
        TorrentState::Queued if complete => "queuedUP",
        TorrentState::Queued => "queuedDL",
        TorrentState::Downloading if t.download_rate > 0.0 => "downloading",
        TorrentState::Downloading => "stalledDL",
        TorrentState::Seeding if t.upload_rate > 0.0 => "uploading",
        TorrentState::Seeding => "stalledUP",
    }
}

/// The root a torrent is in, from the snapshot's list.
pub(crate) fn root_of<'a>(
    snapshot: &'a SessionSnapshot,
    t: &TorrentSummary,
) -> Option<&'a RootInfo> {
    snapshot.roots.iter().find(|r| r.token == t.root_token)
}

/// The category qBittorrent would show: the root's label, except for the default root,
/// which is qBittorrent's "no category" (its default save path).
pub(crate) fn category(snapshot: &SessionSnapshot, t: &TorrentSummary) -> String {
    match root_of(snapshot, t) {
        Some(root) if root.is_default => String::new(),
        Some(root) => root.label.clone(),
        None => t.root_label.clone(),
    }
}

pub(crate) fn save_path(snapshot: &SessionSnapshot, t: &TorrentSummary) -> String {
    root_of(snapshot, t)
        .map(|r| r.path.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A magnet link from the hash and the name (the trackers are in `torrents/trackers`).
pub(crate) fn magnet(t: &TorrentSummary) -> String {
    let name: String = form_urlencoded::byte_serialize(t.name.as_bytes()).collect();
    format!("magnet:?xt=urn:btih:{}&dn={name}", t.info_hash)
}

fn limit(bps: Option<u64>) -> u64 {
    bps.unwrap_or(0)
}

/// The `torrents/info` object of one torrent, keyed as qBittorrent 4.5 keys it (the
/// `hash` field included; `sync/maindata` drops it, the hash being the key there).
pub(crate) fn torrent(
    snapshot: &SessionSnapshot,
    t: &TorrentSummary,
    now: i64,
) -> Map<String, Value> {
    let save_path = save_path(snapshot, t);
    let content_path = if save_path.is_empty() {
        String::new()
    } else {
        format!("{}/{}", save_path.trim_end_matches('/'), t.name)
    };
    let st = state(t);
    let moving = t.download_rate > 0.0 || t.upload_rate > 0.0;
    let seeding = matches!(t.state, TorrentState::Seeding);
    let eta = t.eta.map_or(ETA_UNKNOWN, |d| d.as_secs().min(ETA_UNKNOWN));
    let value = json!({
        "added_on": t.added_at,
        "amount_left": t.selected_bytes.saturating_sub(t.have_bytes),
        "auto_tmm": false,
        "availability": if t.size == 0 { -1.0 } else { t.progress },
        "category": category(snapshot, t),
        "completed": t.have_bytes,
        "completion_on": t.completed_at.unwrap_or(0),
        "content_path": content_path,
        "dl_limit": limit(t.limits.download_bps),
        "dlspeed": t.download_rate.max(0.0) as u64,
        "download_path": "",
        "downloaded": t.downloaded_total,
        "downloaded_session": t.downloaded_total,
        "eta": eta,
        "f_l_piece_prio": false,
        "force_start": false,
        "hash": t.info_hash,
        "infohash_v1": t.info_hash,
        "infohash_v2": "",
        "last_activity": if moving { now } else { t.completed_at.unwrap_or(t.added_at) },
        "magnet_uri": magnet(t),
        "max_ratio": -1,
        "max_seeding_time": -1,
        "name": t.name,
        "num_complete": 0,
        "num_incomplete": 0,
        "num_leechs": if seeding { t.peers_connected } else { 0 },
        "num_seeds": if seeding { 0 } else { t.peers_connected },
        "priority": 0,
        "progress": t.progress,
        "ratio": t.ratio,
        "ratio_limit": -2,
        "save_path": save_path,
        "seeding_time": t.completed_at.map_or(0, |c| (now - c).max(0)),
        "seeding_time_limit": -2,
        "seen_complete": t.completed_at.unwrap_or(0),
        "seq_dl": false,
        "size": t.selected_bytes,
        "state": st,
        "super_seeding": false,
        "tags": t.tags.join(", "),
        "time_active": (now - t.added_at).max(0),
        "total_size": if t.size == 0 { -1 } else { t.size as i64 },
        "tracker": "",
        "trackers_count": 0,
        "up_limit": limit(t.limits.upload_bps),
        "uploaded": t.uploaded_total,
        "uploaded_session": t.uploaded_total,
        "upspeed": t.upload_rate.max(0.0) as u64,
    });
    match value {
        Value::Object(mut map) => {
            super::queue::put_info(&mut map, snapshot, t);
            map
        }
        _ => Map::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;
    use trove_proto::{Limits, RootOrigin};

    pub(crate) fn summary(hash: &str, state: TorrentState) -> TorrentSummary {
        TorrentSummary {
            info_hash: hash.into(),
            name: "file.bin".into(),
            state,
            progress: 0.5,
            size: 100,
            have_bytes: 50,
            selected_bytes: 100,
            download_rate: 0.0,
            upload_rate: 0.0,
            eta: None,
            peers_connected: 0,
            peer_limit: None,
            ratio: 0.0,
            root_label: "movies".into(),
            root_token: "movies".into(),
            added_at: 1_000,
            completed_at: None,
            uploaded_total: 0,
            downloaded_total: 0,
            limits: Limits::default(),
            error: None,
            paused: false,
            only_files: None,
            tags: vec!["a".into(), "b".into()],
            queue: None,
            moving: None,
            missing_data: None,
        }
    }

    pub(crate) fn root(label: &str, path: &str, default: bool) -> RootInfo {
        RootInfo {
            token: label.into(),
            label: label.into(),
            path: path.into(),
            is_default: default,
            free_bytes: Some(1 << 30),
            total_bytes: Some(1 << 31),
            problem: None,
            origin: RootOrigin::Config,
            vault: false,
        }
    }

    #[test]
    fn states_map_to_qbittorrents() {
        let mut t = summary("ab", TorrentState::Downloading);
        assert_eq!(state(&t), "stalledDL");
        t.download_rate = 10.0;
        assert_eq!(state(&t), "downloading");
        t.state = TorrentState::Paused;
        assert_eq!(state(&t), "pausedDL");
        t.have_bytes = 100;
        assert_eq!(state(&t), "pausedUP");
        t.state = TorrentState::Seeding;
        assert_eq!(state(&t), "stalledUP");
        t.upload_rate = 5.0;
        assert_eq!(state(&t), "uploading");
        t.state = TorrentState::Error;
        assert_eq!(state(&t), "error");
        t.paused = true;
        assert_eq!(
            state(&t),
            "pausedUP",
            "paused by the user wins over an error"
        );
        t.paused = false;
        t.state = TorrentState::Queued;
        t.size = 0;
        assert_eq!(state(&t), "metaDL");
    }

    #[test]
    fn a_torrent_maps_its_root_tags_limits_and_eta() {
        let snapshot = SessionSnapshot {
            roots: vec![root("downloads", "/d", true), root("movies", "/m", false)],
            ..SessionSnapshot::default()
        };
        let mut t = summary(&"a".repeat(40), TorrentState::Paused);
        t.limits.upload_bps = Some(2048);
        let m = torrent(&snapshot, &t, 2_000);
        assert_eq!(m["category"], "movies");
        assert_eq!(m["save_path"], "/m");
        assert_eq!(m["content_path"], "/m/file.bin");
        assert_eq!(m["tags"], "a, b");
        assert_eq!(m["up_limit"], 2048);
        assert_eq!(m["dl_limit"], 0);
        assert_eq!(m["eta"], ETA_UNKNOWN);
        assert_eq!(m["state"], "pausedDL");
        assert_eq!(m["time_active"], 1_000);
        t.eta = Some(Duration::from_secs(42));
        t.root_token = "downloads".into();
        let m = torrent(&snapshot, &t, 2_000);
        assert_eq!(m["eta"], 42);
        assert_eq!(
            m["category"], "",
            "the default root is qBittorrent's no-category"
        );
    }
}
