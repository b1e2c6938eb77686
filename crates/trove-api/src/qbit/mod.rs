//! qBittorrent's Web API v2, the subset the seedbox tools use (Sonarr, Radarr, Prowlarr,
//! autobrr, cross-seed, qbit_manage), at `/api/v2/` beside trove's own API, on the same
//! listeners and behind the same protection.
//!
//! Everything here goes through [`trove_proto::Client`] alone: reads come from the
//! session's snapshot and `Client::details`, changes are commands. Answers follow
//! qBittorrent 4.5.2 (Web API 2.8.19): the same field names and JSON types, plain-text
//! `Ok.`/`Fails.` where it gives them, and its status codes (400 bad parameters, 403
//! not logged in, 404 unknown torrent, 409 conflict, 415 not a .torrent), each refusal
//! with one line saying what was wrong.
//!
//! What maps to what:
//! - a category is a storage root (name = label, savePath = folder); the default root is
//!   "no category" (qBittorrent's default save path);
//! - tags are trove's tags;
//! - states come from trove's six (see [`mapping::state`]);
//! - `sync/maindata` deltas are worked out here from successive snapshots ([`sync`]).
//!
//! Nothing here serves a byte of a torrent's files.

mod actions;
mod add;
mod app;
mod categories;
mod errors;
mod forms;
mod info;
mod location;
mod mapping;
mod queue;
mod sessions;
mod sync;
mod tags;
#[cfg(test)]
mod tests;
mod transfer;

use std::net::IpAddr;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use trove_proto::Client;

use crate::auth::{Auth, Brake};
use errors::{Answer, Refusal, one_line};
use forms::Params;

/// Where the qBittorrent endpoints live.
pub(crate) const PREFIX: &str = "/api/v2/";

/// What the qBittorrent endpoints keep between requests.
#[derive(Default)]
pub(crate) struct QbitState {
    sessions: sessions::Sessions,
    history: sync::History,
    trackers: sync::TrackerCache,
}

/// What one request is answered with.
pub(crate) struct Ctx<'a> {
    pub(crate) session: &'a Client,
    pub(crate) auth: &'a Auth,
    pub(crate) brake: &'a Brake,
    pub(crate) state: &'a QbitState,
    /// The caller's address over TCP; None over the Unix socket.
    pub(crate) ip: Option<IpAddr>,
}

/// Answers one request under [`PREFIX`]; `path` is what follows it.
pub(crate) async fn handle(
    ctx: Ctx<'_>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&ctx, method, path, query, headers, body).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    }
}

/// Endpoints that only read answer GET and POST; the rest POST only (as qBittorrent 4.5).
enum Verb {
    Read,
    Change,
}

async fn answer(
    ctx: &Ctx<'_>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Answer {
    let verb = match path {
        "auth/login" | "auth/logout" => Verb::Change,
        "app/version"
        | "app/webapiVersion"
        | "app/buildInfo"
        | "app/preferences"
        | "app/defaultSavePath"
        | "torrents/info"
        | "torrents/properties"
        | "torrents/files"
        | "torrents/trackers"
        | "torrents/pieceStates"
        | "torrents/categories"
        | "torrents/tags"
        | "transfer/info"
        | "transfer/downloadLimit"
        | "transfer/uploadLimit"
        | "sync/maindata" => Verb::Read,
        "app/setPreferences"
        | "torrents/add"
        | "torrents/pause"
        | "torrents/resume"
        | "torrents/stop"
        | "torrents/start"
        | "torrents/delete"
        | "torrents/recheck"
        | "torrents/setForceStart"
        | "torrents/topPrio"
        | "torrents/bottomPrio"
        | "torrents/increasePrio"
        | "torrents/decreasePrio"
        | "torrents/setShareLimits"
        | "torrents/setUploadLimit"
        | "torrents/setDownloadLimit"
        | "torrents/createCategory"
        | "torrents/editCategory"
        | "torrents/removeCategories"
        | "torrents/setCategory"
        | "torrents/setLocation"
        | "torrents/addTags"
        | "torrents/removeTags"
        | "torrents/createTags"
        | "torrents/deleteTags"
        | "transfer/setDownloadLimit"
        | "transfer/setUploadLimit" => Verb::Change,
        _ => {
            // Before logging in, a client learns nothing, not even which paths exist.
            sessions::admit(ctx, headers)?;
            return Err(Refusal::not_found(format!(
                "trove does not answer /api/v2/{} (see the README for the qBittorrent \
                 endpoints it does)",
                one_line(path)
            )));
        }
    };
    let allowed = match verb {
        Verb::Read => *method == Method::GET || *method == Method::POST,
        Verb::Change => *method == Method::POST,
    };
    if path != "auth/login" && path != "auth/logout" {
        sessions::admit(ctx, headers)?;
    }
    if !allowed {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("/api/v2/{path} does not answer {method}"),
        ));
    }
    let params = Params::read(query, headers, body).await?;
    match path {
        "auth/login" => sessions::login(ctx, &params),
        "auth/logout" => sessions::logout(ctx, headers),
        "app/version" => app::version(),
        "app/webapiVersion" => app::webapi_version(),
        "app/buildInfo" => app::build_info(),
        "app/preferences" => app::preferences(ctx),
        "app/setPreferences" => app::set_preferences(ctx, &params).await,
        "app/defaultSavePath" => app::default_save_path(ctx),
        "torrents/info" => info::info(ctx, &params),
        "torrents/properties" => info::properties(ctx, &params).await,
        "torrents/files" => info::files(ctx, &params).await,
        "torrents/trackers" => info::trackers(ctx, &params).await,
        "torrents/pieceStates" => info::piece_states(ctx, &params).await,
        "torrents/add" => add::add(ctx, &params).await,
        "torrents/pause" | "torrents/stop" => actions::pause(ctx, &params).await,
        "torrents/resume" | "torrents/start" => actions::resume(ctx, &params).await,
        "torrents/delete" => actions::delete(ctx, &params).await,
        "torrents/recheck" => actions::recheck(ctx, &params).await,
        "torrents/setForceStart" => queue::force_start(ctx, &params).await,
        "torrents/topPrio"
        | "torrents/bottomPrio"
        | "torrents/increasePrio"
        | "torrents/decreasePrio" => queue::priority(ctx, &params, path).await,
        "torrents/setShareLimits" => queue::set_share_limits(ctx, &params).await,
        "torrents/setUploadLimit" => actions::set_limit(ctx, &params, actions::Direction::Up).await,
        "torrents/setDownloadLimit" => {
            actions::set_limit(ctx, &params, actions::Direction::Down).await
        }
        "torrents/categories" => categories::categories(ctx),
        "torrents/createCategory" => categories::create(ctx, &params).await,
        "torrents/editCategory" => categories::edit(ctx, &params).await,
        "torrents/removeCategories" => categories::remove(ctx, &params).await,
        "torrents/setCategory" => categories::set(ctx, &params).await,
        "torrents/setLocation" => location::set(ctx, &params).await,
        "torrents/tags" => tags::list(ctx),
        "torrents/addTags" => tags::add(ctx, &params).await,
        "torrents/removeTags" => tags::remove(ctx, &params).await,
        "torrents/createTags" => tags::create(ctx, &params).await,
        "torrents/deleteTags" => tags::delete(ctx, &params).await,
        "transfer/info" => transfer::info(ctx),
        "transfer/downloadLimit" => transfer::limit(ctx, false),
        "transfer/uploadLimit" => transfer::limit(ctx, true),
        "transfer/setDownloadLimit" => transfer::set_limit(ctx, &params, false).await,
        "transfer/setUploadLimit" => transfer::set_limit(ctx, &params, true).await,
        "sync/maindata" => sync::maindata(ctx, &params).await,
        _ => Err(Refusal::not_found(format!(
            "trove does not answer /api/v2/{}",
            one_line(path)
        ))),
    }
}
