//! `app/*`: versions, build information, preferences and the default save path.
//!
//! trove answers `app/version` with `v4.5.2` and `app/webapiVersion` with `2.8.19`: the
//! qBittorrent release whose Web API this module follows answer for answer. Sonarr,
//! Radarr and qbittorrent-api choose endpoints and parameters by these numbers, so they
//! must name a release whose API trove really answers. `app/buildInfo` says what trove
//! is built on instead of Qt and libtorrent.

use serde_json::{Map, Value, json};
use trove_proto::Command;

use super::Ctx;
use super::errors::{Answer, Refusal, done, json, one_line, text};
use super::forms::Params;

pub(crate) const APP_VERSION: &str = "v4.5.2";
pub(crate) const WEBAPI_VERSION: &str = "2.8.19";

/// qBittorrent 4.5.2's preferences with their default values: the fields trove has no
/// setting for keep these.
const DEFAULTS: &str = include_str!("preferences.json");

pub(crate) fn version() -> Answer {
    Ok(text(APP_VERSION))
}

pub(crate) fn webapi_version() -> Answer {
    Ok(text(WEBAPI_VERSION))
}

pub(crate) fn build_info() -> Answer {
    json(&json!({
        "bitness": usize::BITS,
        "boost": "none",
        "libtorrent": concat!("trove ", env!("CARGO_PKG_VERSION"), " (librqbit)"),
        "openssl": "none",
        "qt": "none",
        "zlib": "none",
    }))
}

fn default_root_path(ctx: &Ctx<'_>) -> String {
    ctx.session
        .snapshot()
        .roots
        .iter()
        .find(|r| r.is_default)
        .map(|r| r.path.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) fn default_save_path(ctx: &Ctx<'_>) -> Answer {
    Ok(text(default_root_path(ctx)))
}

/// `app/preferences`: qBittorrent's defaults, with what trove does have filled in.
pub(crate) fn preferences(ctx: &Ctx<'_>) -> Answer {
    let mut prefs: Map<String, Value> = serde_json::from_str(DEFAULTS).unwrap_or_default();
    let s = ctx.session.snapshot();
    let put = |prefs: &mut Map<String, Value>, k: &str, v: Value| {
        prefs.insert(k.to_string(), v);
    };
    put(&mut prefs, "save_path", json!(default_root_path(ctx)));
    put(
        &mut prefs,
        "dl_limit",
        json!(s.limits.download_bps.unwrap_or(0)),
    );
    put(
        &mut prefs,
        "up_limit",
        json!(s.limits.upload_bps.unwrap_or(0)),
    );
    put(
        &mut prefs,
        "max_connec_per_torrent",
        json!(s.limits.peers.map_or(-1, i64::from)),
    );
    put(
        &mut prefs,
        "listen_port",
        json!(s.listen_addr.map_or(0, |a| a.port())),
    );
    put(
        &mut prefs,
        "web_ui_username",
        json!(
            ctx.auth
                .login()
                .map(|l| l.username.clone())
                .unwrap_or_default()
        ),
    );
    for off in ["dht", "pex", "lsd", "upnp"] {
        put(&mut prefs, off, json!(false));
    }
    super::queue::put_preferences(&mut prefs, &s);
    json(&prefs)
}

/// `app/setPreferences`: `json` is an object; the global rate limits (`dl_limit`,
/// `up_limit`, bytes per second, 0 or -1 for none) and the per-torrent peer limit
/// (`max_connec_per_torrent`) are applied, other keys are ignored.
pub(crate) async fn set_preferences(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let body = params.require("json")?;
    let prefs: Map<String, Value> = serde_json::from_str(body).map_err(|e| {
        Refusal::bad(format!(
            "'json' is not a JSON object of preferences: {}",
            one_line(&e.to_string())
        ))
    })?;
    let mut limits = ctx.session.snapshot().limits;
    let mut changed = false;
    let number = |key: &str| -> Result<Option<i64>, Refusal> {
        match prefs.get(key) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                Refusal::bad(format!("the preference '{key}' must be a whole number"))
            }),
        }
    };
    if let Some(v) = number("dl_limit")? {
        limits.download_bps = super::forms::rate(v);
        changed = true;
    }
    if let Some(v) = number("up_limit")? {
        limits.upload_bps = super::forms::rate(v);
        changed = true;
    }
    if let Some(v) = number("max_connec_per_torrent")? {
        limits.peers = u32::try_from(v).ok().filter(|n| *n > 0);
        changed = true;
    }
    let queue = super::queue::from_preferences(&prefs, &ctx.session.snapshot())?;
    if changed {
        ctx.session
            .run(Command::SetGlobalLimits(limits))
            .await
            .map_err(Refusal::engine)?;
    }
    for command in queue {
        ctx.session.run(command).await.map_err(Refusal::engine)?;
    }
    done()
}
