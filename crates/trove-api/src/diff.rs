//! What changed between two session snapshots, and how to replay it.
//!
//! The event stream sends a full snapshot once and then only [`SnapshotDelta`]s: a session
//! with thousands of torrents publishes a snapshot every second, but only the few torrents
//! that move change. [`diff`] and [`apply`] are exact inverses: `apply(a, diff(a, b)) == b`
//! field for field (floats bit for bit), so a client's copy never drifts from the session's.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use trove_proto::{InfoHash, Limits, RootInfo, SessionSnapshot, TorrentSummary};

/// The difference from one snapshot to the next. Empty fields are left out of the JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SnapshotDelta {
    /// Torrents that are new or whose summary changed, in the new snapshot's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) changed: Vec<TorrentSummary>,
    /// Info-hashes of torrents that are gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) removed: Vec<InfoHash>,
    /// The new order of all torrents, sent only when replaying `removed` and `changed`
    /// (changed ones in place, new ones at the end) would not give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) order: Option<Vec<InfoHash>>,
    /// The whole torrent list, sent instead of the three fields above when a snapshot holds
    /// the same info-hash twice and "by info-hash" cannot say which one changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) torrents: Option<Vec<TorrentSummary>>,
    /// Session-level fields that changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) session: Vec<SessionChange>,
}

impl SnapshotDelta {
    pub(crate) fn is_empty(&self) -> bool {
        self == &SnapshotDelta::default()
    }
}

/// One session-level field's new value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SessionChange {
    DownloadRate(f64),
    UploadRate(f64),
    DownloadedSession(u64),
    UploadedSession(u64),
    PeersConnected(u32),
    Limits(Limits),
    Roots(Vec<RootInfo>),
    ListenAddr(Option<SocketAddr>),
    DownloadHistory(HistoryChange),
    UploadHistory(HistoryChange),
    /// Every tag the session knows (sent whole: a short list that rarely changes).
    Tags(Vec<String>),
}

/// A rate history slides: each second one sample joins at the newest end and the oldest
/// leaves. So the change is "drop this many from the front, append these".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct HistoryChange {
    pub(crate) drop: usize,
    pub(crate) append: Vec<f64>,
}

/// What turns `old` into `new`.
pub(crate) fn diff(old: &SessionSnapshot, new: &SessionSnapshot) -> SnapshotDelta {
    let mut delta = SnapshotDelta::default();
    diff_torrents(&old.torrents, &new.torrents, &mut delta);
    let s = &mut delta.session;
    if !same_f64(old.download_rate, new.download_rate) {
        s.push(SessionChange::DownloadRate(new.download_rate));
    }
    if !same_f64(old.upload_rate, new.upload_rate) {
        s.push(SessionChange::UploadRate(new.upload_rate));
    }
    if old.downloaded_session != new.downloaded_session {
        s.push(SessionChange::DownloadedSession(new.downloaded_session));
    }
    if old.uploaded_session != new.uploaded_session {
        s.push(SessionChange::UploadedSession(new.uploaded_session));
    }
    if old.peers_connected != new.peers_connected {
        s.push(SessionChange::PeersConnected(new.peers_connected));
    }
    if old.limits != new.limits {
        s.push(SessionChange::Limits(new.limits));
    }
    if old.roots != new.roots {
        s.push(SessionChange::Roots(new.roots.clone()));
    }
    if old.listen_addr != new.listen_addr {
        s.push(SessionChange::ListenAddr(new.listen_addr));
    }
    if let Some(h) = diff_history(&old.download_history, &new.download_history) {
        s.push(SessionChange::DownloadHistory(h));
    }
    if let Some(h) = diff_history(&old.upload_history, &new.upload_history) {
        s.push(SessionChange::UploadHistory(h));
    }
    if old.tags != new.tags {
        s.push(SessionChange::Tags(new.tags.clone()));
    }
    delta
}

/// Replays `delta` on `snapshot`, which must be the snapshot the delta was computed from.
pub(crate) fn apply(snapshot: &mut SessionSnapshot, delta: SnapshotDelta) {
    if let Some(all) = delta.torrents {
        snapshot.torrents = all;
    } else if !delta.changed.is_empty() || !delta.removed.is_empty() || delta.order.is_some() {
        apply_torrents(
            &mut snapshot.torrents,
            delta.changed,
            delta.removed,
            delta.order,
        );
    }
    for change in delta.session {
        match change {
            SessionChange::DownloadRate(v) => snapshot.download_rate = v,
            SessionChange::UploadRate(v) => snapshot.upload_rate = v,
            SessionChange::DownloadedSession(v) => snapshot.downloaded_session = v,
            SessionChange::UploadedSession(v) => snapshot.uploaded_session = v,
            SessionChange::PeersConnected(v) => snapshot.peers_connected = v,
            SessionChange::Limits(v) => snapshot.limits = v,
            SessionChange::Roots(v) => snapshot.roots = v,
            SessionChange::ListenAddr(v) => snapshot.listen_addr = v,
            SessionChange::DownloadHistory(h) => apply_history(&mut snapshot.download_history, h),
            SessionChange::UploadHistory(h) => apply_history(&mut snapshot.upload_history, h),
            SessionChange::Tags(v) => snapshot.tags = v,
        }
    }
}

/// Bit equality: a NaN equals itself, and 0.0 differs from -0.0, so "unchanged" means
/// "replaying gives the same bits".
fn same_f64(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

fn same_samples(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_f64(*x, *y))
}

/// Summaries compared the same way: `PartialEq` would call a summary with a NaN rate
/// changed forever, and one whose rate went from 0.0 to -0.0 unchanged.
fn same_summary(a: &TorrentSummary, b: &TorrentSummary) -> bool {
    same_f64(a.progress, b.progress)
        && same_f64(a.download_rate, b.download_rate)
        && same_f64(a.upload_rate, b.upload_rate)
        && same_f64(a.ratio, b.ratio)
        && TorrentSummary {
            progress: 0.0,
            download_rate: 0.0,
            upload_rate: 0.0,
            ratio: 0.0,
            ..a.clone()
        } == TorrentSummary {
            progress: 0.0,
            download_rate: 0.0,
            upload_rate: 0.0,
            ratio: 0.0,
            ..b.clone()
        }
}

fn unique_hashes(torrents: &[TorrentSummary]) -> bool {
    let mut seen = HashSet::with_capacity(torrents.len());
    torrents.iter().all(|t| seen.insert(t.info_hash.as_str()))
}

fn diff_torrents(old: &[TorrentSummary], new: &[TorrentSummary], delta: &mut SnapshotDelta) {
    if !unique_hashes(old) || !unique_hashes(new) {
        let unchanged =
            old.len() == new.len() && old.iter().zip(new).all(|(a, b)| same_summary(a, b));
        if !unchanged {
            delta.torrents = Some(new.to_vec());
        }
        return;
    }
    let before: HashMap<&str, &TorrentSummary> =
        old.iter().map(|t| (t.info_hash.as_str(), t)).collect();
    let after: HashSet<&str> = new.iter().map(|t| t.info_hash.as_str()).collect();
    delta.removed = old
        .iter()
        .filter(|t| !after.contains(t.info_hash.as_str()))
        .map(|t| t.info_hash.clone())
        .collect();
    delta.changed = new
        .iter()
        .filter(|t| {
            before
                .get(t.info_hash.as_str())
                .is_none_or(|was| !same_summary(was, t))
        })
        .cloned()
        .collect();
    // The order `apply` gives without help: survivors where they were, new ones after.
    let replayed = old
        .iter()
        .filter(|t| after.contains(t.info_hash.as_str()))
        .chain(
            new.iter()
                .filter(|t| !before.contains_key(t.info_hash.as_str())),
        )
        .map(|t| t.info_hash.as_str());
    if !replayed.eq(new.iter().map(|t| t.info_hash.as_str())) {
        delta.order = Some(new.iter().map(|t| t.info_hash.clone()).collect());
    }
}

fn apply_torrents(
    torrents: &mut Vec<TorrentSummary>,
    changed: Vec<TorrentSummary>,
    removed: Vec<InfoHash>,
    order: Option<Vec<InfoHash>>,
) {
    let removed: HashSet<InfoHash> = removed.into_iter().collect();
    torrents.retain(|t| !removed.contains(&t.info_hash));
    let at: HashMap<InfoHash, usize> = torrents
        .iter()
        .enumerate()
        .map(|(i, t)| (t.info_hash.clone(), i))
        .collect();
    for t in changed {
        match at.get(&t.info_hash) {
            Some(&i) => torrents[i] = t,
            None => torrents.push(t),
        }
    }
    if let Some(order) = order {
        let mut by_hash: HashMap<InfoHash, TorrentSummary> = torrents
            .drain(..)
            .map(|t| (t.info_hash.clone(), t))
            .collect();
        torrents.extend(order.iter().filter_map(|h| by_hash.remove(h)));
    }
}

/// The shortest append that slides `old` into `new`: the smallest `drop` such that what is
/// left of `old` starts `new`. Dropping everything always works, so this never fails.
fn diff_history(old: &[f64], new: &[f64]) -> Option<HistoryChange> {
    if same_samples(old, new) {
        return None;
    }
    let drop = (0..=old.len())
        .find(|&k| {
            let kept = &old[k..];
            kept.len() <= new.len() && same_samples(kept, &new[..kept.len()])
        })
        .unwrap_or(old.len());
    let kept = old.len() - drop;
    Some(HistoryChange {
        drop,
        append: new[kept..].to_vec(),
    })
}

fn apply_history(history: &mut Vec<f64>, change: HistoryChange) {
    history.drain(..change.drop.min(history.len()));
    history.extend(change.append);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use trove_proto::TorrentState;

    fn torrent(hash: &str, rate: f64) -> TorrentSummary {
        TorrentSummary {
            info_hash: hash.into(),
            name: format!("t-{hash}"),
            state: TorrentState::Downloading,
            progress: 0.5,
            size: 100,
            have_bytes: 50,
            selected_bytes: 100,
            download_rate: rate,
            upload_rate: 0.0,
            eta: None,
            peers_connected: 1,
            peer_limit: None,
            ratio: 0.0,
            root_label: "default".into(),
            root_token: "d".into(),
            added_at: 0,
            completed_at: None,
            uploaded_total: 0,
            downloaded_total: 0,
            limits: Limits::default(),
            error: None,
            paused: false,
            only_files: None,
            tags: Vec::new(),
            missing_data: None,
        }
    }

    #[test]
    fn only_what_changed_is_sent() {
        let a = SessionSnapshot {
            torrents: vec![torrent("aa", 1.0), torrent("bb", 2.0), torrent("cc", 3.0)],
            download_history: vec![0.0, 1.0, 2.0],
            ..Default::default()
        };
        let mut b = a.clone();
        b.torrents.remove(0);
        b.torrents[0].download_rate = 5.0;
        b.torrents.push(torrent("dd", 0.0));
        b.download_rate = 9.0;
        b.download_history = vec![1.0, 2.0, 3.0];
        let d = diff(&a, &b);
        assert_eq!(d.removed, vec!["aa".to_string()]);
        let changed: Vec<&str> = d.changed.iter().map(|t| t.info_hash.as_str()).collect();
        assert_eq!(changed, ["bb", "dd"]);
        assert_eq!(d.order, None);
        assert_eq!(d.torrents, None);
        assert_eq!(
            d.session,
            vec![
                SessionChange::DownloadRate(9.0),
                SessionChange::DownloadHistory(HistoryChange {
                    drop: 1,
                    append: vec![3.0]
                })
            ]
        );
        let mut c = a.clone();
        apply(&mut c, d);
        assert_eq!(c, b);
    }

    #[test]
    fn equal_snapshots_give_an_empty_delta_and_empty_json() {
        let a = SessionSnapshot {
            torrents: vec![torrent("aa", f64::NAN)],
            ..Default::default()
        };
        let d = diff(&a, &a.clone());
        assert!(d.is_empty());
        assert_eq!(serde_json::to_string(&d).expect("encodes"), "{}");
    }

    #[test]
    fn a_reordered_list_carries_its_order() {
        let a = SessionSnapshot {
            torrents: vec![torrent("aa", 1.0), torrent("bb", 2.0)],
            ..Default::default()
        };
        let mut b = a.clone();
        b.torrents.reverse();
        let d = diff(&a, &b);
        assert!(d.changed.is_empty());
        assert_eq!(d.order, Some(vec!["bb".into(), "aa".into()]));
        let mut c = a;
        apply(&mut c, d);
        assert_eq!(c, b);
    }

    #[test]
    fn a_filling_history_only_appends() {
        assert_eq!(
            diff_history(&[1.0, 2.0], &[1.0, 2.0, 3.0]),
            Some(HistoryChange {
                drop: 0,
                append: vec![3.0]
            })
        );
        assert_eq!(
            diff_history(&[1.0, 2.0], &[7.0]),
            Some(HistoryChange {
                drop: 2,
                append: vec![7.0]
            })
        );
    }

    fn arb_f64() -> impl Strategy<Value = f64> {
        // Few distinct values, so histories and rates often repeat and overlap.
        prop_oneof![Just(0.0), Just(1.0), Just(2.5), -10.0..10.0f64]
    }

    fn arb_torrent() -> impl Strategy<Value = TorrentSummary> {
        (
            0u8..12,
            arb_f64(),
            0u32..3,
            prop::option::of("[a-z]{0,3}"),
            arb_tags(),
        )
            .prop_map(|(h, rate, peers, error, tags)| TorrentSummary {
                peers_connected: peers,
                error,
                tags,
                ..torrent(&format!("{h:02x}"), rate)
            })
    }

    /// A few tags from a small set, sorted as the session keeps them.
    fn arb_tags() -> impl Strategy<Value = Vec<String>> {
        prop::collection::btree_set(prop_oneof![Just("a"), Just("b c"), Just("é")], 0..3)
            .prop_map(|set| set.into_iter().map(String::from).collect())
    }

    fn arb_snapshot() -> impl Strategy<Value = SessionSnapshot> {
        (
            prop::collection::vec(arb_torrent(), 0..10),
            any::<bool>(),
            arb_f64(),
            0u64..3,
            prop::option::of(0u64..3),
            prop::collection::vec(arb_f64(), 0..8),
            prop::collection::vec(0u8..3, 0..8),
            prop::option::of(1u16..3),
            arb_tags(),
        )
            .prop_map(
                |(mut torrents, unique, rate, moved, limit, down, up, port, tags)| {
                    if unique {
                        let mut seen = HashSet::new();
                        torrents.retain(|t| seen.insert(t.info_hash.clone()));
                    }
                    SessionSnapshot {
                        torrents,
                        download_rate: rate,
                        upload_rate: rate / 2.0,
                        downloaded_session: moved,
                        uploaded_session: moved * 2,
                        peers_connected: moved as u32,
                        limits: Limits {
                            download_bps: limit,
                            ..Default::default()
                        },
                        roots: Vec::new(),
                        listen_addr: port.map(|p| SocketAddr::from(([127, 0, 0, 1], p))),
                        download_history: down,
                        upload_history: up.into_iter().map(f64::from).collect(),
                        tags,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn applying_the_diff_gives_the_new_snapshot(a in arb_snapshot(), b in arb_snapshot()) {
            let delta = diff(&a, &b);
            // Through JSON too, as the stream carries it.
            let text = serde_json::to_string(&delta).expect("encodes");
            let delta: SnapshotDelta = serde_json::from_str(&text).expect("decodes");
            let mut c = a.clone();
            apply(&mut c, delta);
            prop_assert_eq!(c, b);
        }

        #[test]
        fn a_snapshot_diffed_with_itself_is_empty(a in arb_snapshot()) {
            prop_assert!(diff(&a, &a.clone()).is_empty());
        }
    }
}
