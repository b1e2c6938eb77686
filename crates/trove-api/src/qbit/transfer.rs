//! `transfer/*`: the session's rates, totals and global limits, and the `server_state`
//! that `sync/maindata` carries.

use serde_json::{Map, Value, json};
use trove_proto::{Command, SessionSnapshot};

use super::Ctx;
use super::errors::{Answer, Refusal, done, json, text};
use super::forms::{Params, rate};

fn connection_status(s: &SessionSnapshot) -> &'static str {
    if s.listen_addr.is_some() {
        "connected"
    } else {
        "disconnected"
    }
}

/// `transfer/info`.
pub(crate) fn info(ctx: &Ctx<'_>) -> Answer {
    let s = ctx.session.snapshot();
    json(&json!({
        "connection_status": connection_status(&s),
        "dht_nodes": 0,
        "dl_info_data": s.downloaded_session,
        "dl_info_speed": s.download_rate.max(0.0) as u64,
        "dl_rate_limit": s.limits.download_bps.unwrap_or(0),
        "up_info_data": s.uploaded_session,
        "up_info_speed": s.upload_rate.max(0.0) as u64,
        "up_rate_limit": s.limits.upload_bps.unwrap_or(0),
    }))
}

/// The `server_state` object of `sync/maindata`. Cache and queue figures trove has no
/// counterpart for are 0 (strings where qBittorrent gives strings).
pub(crate) fn server_state(s: &SessionSnapshot) -> Map<String, Value> {
    let alltime_dl: u64 = s.torrents.iter().map(|t| t.downloaded_total).sum();
    let alltime_ul: u64 = s.torrents.iter().map(|t| t.uploaded_total).sum();
    let global_ratio = if alltime_dl == 0 {
        "-".to_string()
    } else {
        format!("{:.2}", alltime_ul as f64 / alltime_dl as f64)
    };
    let free = s
        .roots
        .iter()
        .find(|r| r.is_default)
        .and_then(|r| r.free_bytes)
        .unwrap_or(0);
    let value = json!({
        "alltime_dl": alltime_dl,
        "alltime_ul": alltime_ul,
        "average_time_queue": 0,
        "connection_status": connection_status(s),
        "dht_nodes": 0,
        "dl_info_data": s.downloaded_session,
        "dl_info_speed": s.download_rate.max(0.0) as u64,
        "dl_rate_limit": s.limits.download_bps.unwrap_or(0),
        "free_space_on_disk": free,
        "global_ratio": global_ratio,
        "queued_io_jobs": 0,
        "queueing": false,
        "read_cache_hits": "0",
        "read_cache_overload": "0",
        "refresh_interval": 1500,
        "total_buffers_size": 0,
        "total_peer_connections": s.peers_connected,
        "total_queued_size": 0,
        "total_wasted_session": 0,
        "up_info_data": s.uploaded_session,
        "up_info_speed": s.upload_rate.max(0.0) as u64,
        "up_rate_limit": s.limits.upload_bps.unwrap_or(0),
        "use_alt_speed_limits": false,
        "write_cache_overload": "0",
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `transfer/downloadLimit` and `uploadLimit`: the global limit, 0 for none.
pub(crate) fn limit(ctx: &Ctx<'_>, upload: bool) -> Answer {
    let limits = ctx.session.snapshot().limits;
    let value = if upload {
        limits.upload_bps
    } else {
        limits.download_bps
    };
    Ok(text(value.unwrap_or(0).to_string()))
}

/// `transfer/setDownloadLimit` and `setUploadLimit`: `limit` in bytes per second.
pub(crate) async fn set_limit(ctx: &Ctx<'_>, params: &Params, upload: bool) -> Answer {
    let limit = params
        .int("limit")?
        .ok_or_else(|| Refusal::bad("the parameter 'limit' is missing"))?;
    let mut limits = ctx.session.snapshot().limits;
    if upload {
        limits.upload_bps = rate(limit);
    } else {
        limits.download_bps = rate(limit);
    }
    ctx.session
        .run(Command::SetGlobalLimits(limits))
        .await
        .map_err(Refusal::engine)?;
    done()
}
