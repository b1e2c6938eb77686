//! The read-only torrent endpoints: `torrents/info` (filters, sorting, paging),
//! `torrents/properties`, `files`, `trackers` and `pieceStates`. The list comes from the
//! session's snapshot; the rest from `Client::details`.

use serde_json::{Map, Value, json};
use trove_proto::{EngineError, TorrentDetails};

use super::Ctx;
use super::errors::{Answer, Refusal, json, one_line};
use super::forms::{Params, Selection, parse_hash, parse_hashes};
use super::mapping::{self, ETA_UNKNOWN};

/// The `filter` values of `torrents/info` (qBittorrent 4.5's, plus 5.0's `running` and
/// `stopped` for `resumed` and `paused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    All,
    Downloading,
    Seeding,
    Completed,
    Paused,
    Resumed,
    Active,
    Inactive,
    Stalled,
    StalledUploading,
    StalledDownloading,
    Errored,
}

impl Filter {
    pub(crate) fn parse(text: &str) -> Result<Filter, Refusal> {
        Ok(match text {
            "all" | "" => Filter::All,
            "downloading" => Filter::Downloading,
            "seeding" => Filter::Seeding,
            "completed" => Filter::Completed,
            "paused" | "stopped" => Filter::Paused,
            "resumed" | "running" => Filter::Resumed,
            "active" => Filter::Active,
            "inactive" => Filter::Inactive,
            "stalled" => Filter::Stalled,
            "stalled_uploading" => Filter::StalledUploading,
            "stalled_downloading" => Filter::StalledDownloading,
            "errored" => Filter::Errored,
            other => {
                return Err(Refusal::bad(format!(
                    "'{}' is not a torrent filter: use all, downloading, seeding, completed, \
                     paused, resumed, active, inactive, stalled, stalled_uploading, \
                     stalled_downloading or errored",
                    one_line(other)
                )));
            }
        })
    }

    /// Whether a torrent in qBittorrent state `state` moving at the given rates passes.
    pub(crate) fn passes(self, state: &str, moving: bool) -> bool {
        let downloading = state.ends_with("DL") || state == "downloading";
        let uploading = matches!(state, "uploading" | "stalledUP" | "checkingUP" | "queuedUP");
        let paused = state.starts_with("paused");
        let active = moving || matches!(state, "downloading" | "uploading");
        match self {
            Filter::All => true,
            Filter::Downloading => downloading,
            Filter::Seeding => uploading,
            Filter::Completed => uploading || state == "pausedUP",
            Filter::Paused => paused,
            Filter::Resumed => !paused,
            Filter::Active => active,
            Filter::Inactive => !active,
            Filter::Stalled => matches!(state, "stalledUP" | "stalledDL"),
            Filter::StalledUploading => state == "stalledUP",
            Filter::StalledDownloading => state == "stalledDL",
            Filter::Errored => matches!(state, "error" | "missingFiles"),
        }
    }
}

/// The query of `torrents/info`, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InfoQuery {
    pub(crate) filter: Filter,
    pub(crate) category: Option<String>,
    pub(crate) tag: Option<String>,
    pub(crate) hashes: Selection,
    pub(crate) sort: Option<String>,
    pub(crate) reverse: bool,
    pub(crate) limit: Option<usize>,
    pub(crate) offset: i64,
}

impl InfoQuery {
    pub(crate) fn parse(params: &Params) -> Result<InfoQuery, Refusal> {
        let limit = match params.int("limit")? {
            None => None,
            // qBittorrent takes 0 or less as "no limit".
            Some(n) if n <= 0 => None,
            Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        };
        Ok(InfoQuery {
            filter: Filter::parse(params.get("filter").unwrap_or("all"))?,
            category: params.get("category").map(str::to_string),
            tag: params.get("tag").map(str::to_string),
            hashes: match params.get("hashes") {
                Some(text) => parse_hashes(text)?,
                None => Selection::All,
            },
            sort: params
                .get("sort")
                .map(str::to_string)
                .filter(|s| !s.is_empty()),
            reverse: params.flag("reverse")?.unwrap_or(false),
            limit,
            offset: params.int("offset")?.unwrap_or(0),
        })
    }
}

/// `torrents/info`.
pub(crate) fn info(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let query = InfoQuery::parse(params)?;
    json(&list(ctx, &query))
}

pub(crate) fn list(ctx: &Ctx<'_>, query: &InfoQuery) -> Vec<Map<String, Value>> {
    let snapshot = ctx.session.snapshot();
    let now = mapping::now();
    let mut rows: Vec<Map<String, Value>> = snapshot
        .torrents
        .iter()
        .filter(|t| query.hashes.contains(&t.info_hash))
        .filter(|t| {
            query
                .category
                .as_ref()
                .is_none_or(|c| *c == mapping::category(&snapshot, t))
        })
        .filter(|t| match query.tag.as_deref() {
            None => true,
            // An empty tag asks for the torrents without any.
            Some("") => t.tags.is_empty(),
            Some(tag) => t.tags.iter().any(|x| x == tag),
        })
        .filter(|t| {
            query.filter.passes(
                mapping::state(t),
                t.download_rate > 0.0 || t.upload_rate > 0.0,
            )
        })
        .map(|t| mapping::torrent(&snapshot, t, now))
        .collect();
    if let Some(key) = &query.sort {
        rows.sort_by(|a, b| compare(a.get(key), b.get(key)));
    }
    if query.reverse {
        rows.reverse();
    }
    // A negative offset counts from the end, as qBittorrent's does.
    let len = rows.len() as i64;
    let start = if query.offset < 0 {
        (len + query.offset).max(0)
    } else {
        query.offset.min(len)
    } as usize;
    rows.into_iter()
        .skip(start)
        .take(query.limit.unwrap_or(usize::MAX))
        .collect()
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// The details of the torrent `hash` names; 404 as qBittorrent when there is none.
pub(crate) async fn details(ctx: &Ctx<'_>, params: &Params) -> Result<TorrentDetails, Refusal> {
    let hash = parse_hash(params.require("hash")?)?;
    if !ctx
        .session
        .snapshot()
        .torrents
        .iter()
        .any(|t| t.info_hash == hash)
    {
        return Err(Refusal::not_found(format!(
            "no torrent has the info-hash {hash}"
        )));
    }
    ctx.session.details(&hash).await.map_err(|e| match e {
        EngineError::UnknownId(_) => {
            Refusal::not_found(format!("no torrent has the info-hash {hash}"))
        }
        other => Refusal::engine(other),
    })
}

/// `torrents/properties`.
pub(crate) async fn properties(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let d = details(ctx, params).await?;
    let t = &d.summary;
    let now = mapping::now();
    let pieces_have = (0..d.pieces.count).filter(|p| d.pieces.has(*p)).count();
    let elapsed = (now - t.added_at).max(1);
    json(&json!({
        "addition_date": t.added_at,
        "comment": "",
        "completion_date": t.completed_at.unwrap_or(-1),
        "created_by": "",
        "creation_date": -1,
        "dl_limit": t.limits.download_bps.map_or(-1, |v| v as i64),
        "dl_speed": t.download_rate.max(0.0) as u64,
        "dl_speed_avg": t.downloaded_total / elapsed as u64,
        "download_path": "",
        "eta": t.eta.map_or(ETA_UNKNOWN, |d| d.as_secs().min(ETA_UNKNOWN)),
        "hash": t.info_hash,
        "infohash_v1": t.info_hash,
        "infohash_v2": "",
        "is_private": false,
        "last_seen": t.completed_at.unwrap_or(-1),
        "name": t.name,
        "nb_connections": t.peers_connected,
        "nb_connections_limit": t.peer_limit.map_or(-1, i64::from),
        "peers": d.peers.len(),
        "peers_total": d.peers.len(),
        "piece_size": d.piece_length,
        "pieces_have": pieces_have,
        "pieces_num": d.pieces.count,
        "reannounce": 0,
        "save_path": d.save_path.to_string_lossy(),
        "seeding_time": t.completed_at.map_or(0, |c| (now - c).max(0)),
        "seeds": 0,
        "seeds_total": 0,
        "share_ratio": t.ratio,
        "time_elapsed": (now - t.added_at).max(0),
        "total_downloaded": t.downloaded_total,
        "total_downloaded_session": t.downloaded_total,
        "total_size": t.size,
        "total_uploaded": t.uploaded_total,
        "total_uploaded_session": t.uploaded_total,
        "total_wasted": 0,
        "up_limit": t.limits.upload_bps.map_or(-1, |v| v as i64),
        "up_speed": t.upload_rate.max(0.0) as u64,
        "up_speed_avg": t.uploaded_total / elapsed as u64,
    }))
}

/// `torrents/files`: each file with its piece range, progress and whether it is wanted.
pub(crate) async fn files(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let d = details(ctx, params).await?;
    json(&file_rows(&d))
}

pub(crate) fn file_rows(d: &TorrentDetails) -> Vec<Value> {
    let piece = d.piece_length.max(1);
    let multi = d.files.len() > 1;
    let mut offset = 0u64;
    d.files
        .iter()
        .map(|f| {
            let first = offset / piece;
            let last = (offset + f.size.max(1) - 1) / piece;
            offset += f.size;
            let progress = if f.size == 0 {
                1.0
            } else {
                f.have_bytes as f64 / f.size as f64
            };
            let name = if multi {
                format!("{}/{}", d.summary.name, f.path)
            } else {
                f.path.clone()
            };
            json!({
                "availability": if f.have_bytes >= f.size { 1.0 } else { 0.0 },
                "index": f.index,
                "is_seed": f.have_bytes >= f.size,
                "name": name,
                "piece_range": [first, last],
                "priority": u8::from(f.selected),
                "progress": progress,
                "size": f.size,
            })
        })
        .collect()
}

/// `torrents/trackers`. Status as qBittorrent numbers it: 1 not contacted yet, 2 working
/// (it gave peers), 3 updating (an announce under way), 4 not working (it gave an error).
pub(crate) async fn trackers(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let d = details(ctx, params).await?;
    let rows: Vec<Value> = d
        .trackers
        .iter()
        .enumerate()
        .map(|(tier, t)| {
            let status = if t.last_error.is_some() {
                4
            } else if t.peers_received.is_some() {
                2
            } else if t.status == "announcing" {
                3
            } else {
                1
            };
            json!({
                "msg": t.last_error.clone().unwrap_or_default(),
                "num_downloaded": -1,
                "num_leeches": -1,
                "num_peers": t.peers_received.map_or(-1, |n| n as i64),
                "num_seeds": -1,
                "status": status,
                "tier": tier,
                "url": t.url,
            })
        })
        .collect();
    json(&rows)
}

/// `torrents/pieceStates`: 2 for a piece on disk, 0 for one missing (trove does not
/// expose pieces in flight, qBittorrent's 1).
pub(crate) async fn piece_states(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let d = details(ctx, params).await?;
    let states: Vec<u8> = (0..d.pieces.count)
        .map(|p| if d.pieces.has(p) { 2 } else { 0 })
        .collect();
    json(&states)
}
