//! `sync/maindata`: the whole state on the first call (`rid=0`), then only what changed
//! since the state the caller's `rid` names.
//!
//! Each answer gets a new `rid`, and the state it described is kept under it. The last
//! [`HISTORY`] states are kept for the whole server (every client's rids count from the
//! same clock); a `rid` older than those, or never given out, gets a full update, as
//! qBittorrent gives one for a rid it does not know. Unchanged parts share memory between
//! kept states.
//!
//! The `trackers` part (each tracker URL and the torrents that use it) needs each
//! torrent's details; a torrent's trackers are asked for once, when it first appears, and
//! remembered while it stays in the session.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use trove_proto::SessionSnapshot;

use super::Ctx;
use super::errors::{Answer, Refusal, json};
use super::forms::Params;
use super::{categories, mapping, transfer};

/// States kept to answer deltas from.
const HISTORY: usize = 16;

/// What one answer described.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct State {
    torrents: BTreeMap<String, Arc<Map<String, Value>>>,
    categories: Map<String, Value>,
    tags: Vec<String>,
    server_state: Map<String, Value>,
    /// Tracker URL → the hashes of the torrents announcing to it.
    trackers: Map<String, Value>,
}

impl State {
    pub(crate) fn of(snapshot: &SessionSnapshot, now: i64) -> State {
        State {
            torrents: snapshot
                .torrents
                .iter()
                .map(|t| {
                    let mut row = mapping::torrent(snapshot, t, now);
                    row.remove("hash");
                    (t.info_hash.clone(), Arc::new(row))
                })
                .collect(),
            categories: categories::listing(snapshot),
            tags: snapshot.tags.clone(),
            server_state: transfer::server_state(snapshot),
            trackers: Map::new(),
        }
    }

    fn with_trackers(mut self, by_torrent: &HashMap<String, Vec<String>>) -> State {
        let mut by_url: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (hash, urls) in by_torrent {
            for url in urls {
                by_url.entry(url).or_default().push(hash);
            }
        }
        self.trackers = by_url
            .into_iter()
            .map(|(url, mut hashes)| {
                hashes.sort_unstable();
                (url.to_string(), Value::from_iter(hashes))
            })
            .collect();
        self
    }
}

/// Each torrent's tracker URLs, asked for once per torrent.
#[derive(Default)]
pub(crate) struct TrackerCache {
    known: Mutex<HashMap<String, Vec<String>>>,
}

impl TrackerCache {
    /// The tracker URLs of every torrent in `snapshot` (those whose details cannot be read
    /// now are left out, and asked for again next time).
    async fn refresh(
        &self,
        ctx: &Ctx<'_>,
        snapshot: &SessionSnapshot,
    ) -> HashMap<String, Vec<String>> {
        let missing: Vec<String> = {
            let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            known.retain(|h, _| snapshot.torrents.iter().any(|t| &t.info_hash == h));
            snapshot
                .torrents
                .iter()
                .filter(|t| !known.contains_key(&t.info_hash))
                .map(|t| t.info_hash.clone())
                .collect()
        };
        let mut found = Vec::new();
        for hash in missing {
            if let Ok(details) = ctx.session.details(&hash).await {
                found.push((hash, details.trackers.into_iter().map(|t| t.url).collect()));
            }
        }
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.extend(found);
        known.clone()
    }
}

#[derive(Default)]
pub(crate) struct History {
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    last_rid: u64,
    states: VecDeque<(u64, Arc<State>)>,
}

impl History {
    /// The answer to a caller at `rid` now that the state is `now`.
    pub(crate) fn answer(&self, rid: i64, now: State) -> Map<String, Value> {
        let mut kept = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        kept.last_rid += 1;
        let new_rid = kept.last_rid;
        let old = kept
            .states
            .iter()
            .find(|(r, _)| i64::try_from(*r).is_ok_and(|r| r == rid))
            .map(|(_, s)| s.clone());
        let now = Arc::new(now);
        let mut out = match old {
            Some(old) => delta(&old, &now),
            None => full(&now),
        };
        out.insert("rid".into(), Value::from(new_rid));
        kept.states.push_back((new_rid, now));
        while kept.states.len() > HISTORY {
            kept.states.pop_front();
        }
        out
    }
}

fn full(state: &State) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("full_update".into(), Value::Bool(true));
    let torrents: Map<String, Value> = state
        .torrents
        .iter()
        .map(|(h, row)| (h.clone(), Value::Object((**row).clone())))
        .collect();
    out.insert("torrents".into(), Value::Object(torrents));
    out.insert("categories".into(), Value::Object(state.categories.clone()));
    out.insert("tags".into(), Value::from(state.tags.clone()));
    out.insert(
        "server_state".into(),
        Value::Object(state.server_state.clone()),
    );
    out.insert("trackers".into(), Value::Object(state.trackers.clone()));
    out
}

/// The fields of `new` that differ from `old` (all of them for a key `old` lacks).
fn changed(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn delta(old: &State, new: &State) -> Map<String, Value> {
    let mut out = Map::new();
    let mut torrents = Map::new();
    for (hash, row) in &new.torrents {
        match old.torrents.get(hash) {
            Some(before) if Arc::ptr_eq(before, row) || before == row => {}
            Some(before) => {
                torrents.insert(hash.clone(), Value::Object(changed(before, row)));
            }
            None => {
                torrents.insert(hash.clone(), Value::Object((**row).clone()));
            }
        }
    }
    if !torrents.is_empty() {
        out.insert("torrents".into(), Value::Object(torrents));
    }
    let removed: Vec<&String> = old
        .torrents
        .keys()
        .filter(|h| !new.torrents.contains_key(*h))
        .collect();
    if !removed.is_empty() {
        out.insert(
            "torrents_removed".into(),
            Value::from_iter(removed.into_iter().cloned()),
        );
    }
    let categories = changed(&old.categories, &new.categories);
    if !categories.is_empty() {
        out.insert("categories".into(), Value::Object(categories));
    }
    let gone: Vec<String> = old
        .categories
        .keys()
        .filter(|c| !new.categories.contains_key(*c))
        .cloned()
        .collect();
    if !gone.is_empty() {
        out.insert("categories_removed".into(), Value::from(gone));
    }
    let added: Vec<String> = new
        .tags
        .iter()
        .filter(|t| !old.tags.contains(t))
        .cloned()
        .collect();
    if !added.is_empty() {
        out.insert("tags".into(), Value::from(added));
    }
    let dropped: Vec<String> = old
        .tags
        .iter()
        .filter(|t| !new.tags.contains(t))
        .cloned()
        .collect();
    if !dropped.is_empty() {
        out.insert("tags_removed".into(), Value::from(dropped));
    }
    let trackers = changed(&old.trackers, &new.trackers);
    if !trackers.is_empty() {
        out.insert("trackers".into(), Value::Object(trackers));
    }
    let unused: Vec<String> = old
        .trackers
        .keys()
        .filter(|u| !new.trackers.contains_key(*u))
        .cloned()
        .collect();
    if !unused.is_empty() {
        out.insert("trackers_removed".into(), Value::from(unused));
    }
    let server = changed(&old.server_state, &new.server_state);
    if !server.is_empty() {
        out.insert("server_state".into(), Value::Object(server));
    }
    out
}

/// Reads `rid`: a whole number (absent or negative: 0, a full update).
pub(crate) fn parse_rid(params: &Params) -> Result<i64, Refusal> {
    Ok(params.int("rid")?.unwrap_or(0).max(0))
}

pub(crate) async fn maindata(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let rid = parse_rid(params)?;
    let snapshot = ctx.session.snapshot();
    let trackers = ctx.state.trackers.refresh(ctx, &snapshot).await;
    let now = State::of(&snapshot, mapping::now()).with_trackers(&trackers);
    json(&ctx.state.history.answer(rid, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qbit::mapping::tests::{root, summary};
    use trove_proto::TorrentState;

    #[test]
    fn deltas_carry_only_what_changed_and_unknown_rids_get_everything() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let mut snapshot = SessionSnapshot {
            torrents: vec![
                summary(&a, TorrentState::Paused),
                summary(&b, TorrentState::Paused),
            ],
            roots: vec![root("downloads", "/d", true), root("tv", "/tv", false)],
            tags: vec!["x".into()],
            ..SessionSnapshot::default()
        };
        let history = History::default();
        let first = history.answer(
            0,
            State::of(&snapshot, 10).with_trackers(&HashMap::from([(
                a.clone(),
                vec!["http://t/a".to_string()],
            )])),
        );
        assert_eq!(first["trackers"]["http://t/a"], serde_json::json!([a]));
        assert_eq!(first["full_update"], true);
        assert_eq!(first["rid"], 1);
        assert!(
            first["torrents"][&a].get("hash").is_none(),
            "the hash is the key"
        );
        assert_eq!(first["categories"]["tv"]["savePath"], "/tv");

        snapshot.torrents[0].tags = vec!["x".into(), "y".into()];
        snapshot.torrents.remove(1);
        snapshot.tags.push("y".into());
        snapshot.roots.pop();
        let second = history.answer(1, State::of(&snapshot, 10));
        assert!(second.get("full_update").is_none());
        assert_eq!(second["rid"], 2);
        let row = second["torrents"][&a].as_object().expect("object");
        assert_eq!(row.len(), 1, "only the tags changed: {row:?}");
        assert_eq!(row["tags"], "x, y");
        assert_eq!(second["torrents_removed"], serde_json::json!([b]));
        assert_eq!(second["tags"], serde_json::json!(["y"]));
        assert_eq!(second["categories_removed"], serde_json::json!(["tv"]));
        assert_eq!(
            second["trackers_removed"],
            serde_json::json!(["http://t/a"])
        );

        let same = history.answer(2, State::of(&snapshot, 10));
        assert_eq!(same.len(), 1, "nothing changed but the rid: {same:?}");
        let unknown = history.answer(999, State::of(&snapshot, 10));
        assert_eq!(unknown["full_update"], true);
        for _ in 0..HISTORY + 1 {
            history.answer(0, State::of(&snapshot, 10));
        }
        assert_eq!(
            history.answer(2, State::of(&snapshot, 10))["full_update"],
            true,
            "forgotten"
        );
        assert!(history.inner.lock().expect("lock").states.len() <= HISTORY);
    }
}
