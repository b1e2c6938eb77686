//! Actions on torrents named by `hashes` (`h1|h2` or `all`): pause/resume (and their 5.0
//! names stop/start), delete, recheck, and per-torrent rate limits. As qBittorrent does,
//! hashes the session does not hold are skipped, not refused; a value that is not a hash
//! at all is `400`.

use trove_proto::{Command, Limits};

use super::Ctx;
use super::errors::{Answer, Refusal, done};
use super::forms::{Params, parse_hashes, rate};

/// The held torrents a request's `hashes` names.
pub(crate) fn selected(ctx: &Ctx<'_>, params: &Params) -> Result<Vec<String>, Refusal> {
    let selection = parse_hashes(params.require("hashes")?)?;
    Ok(ctx
        .session
        .snapshot()
        .torrents
        .iter()
        .filter(|t| selection.contains(&t.info_hash))
        .map(|t| t.info_hash.clone())
        .collect())
}

/// Runs one command per selected torrent; the first engine error is the answer.
async fn each(ctx: &Ctx<'_>, params: &Params, make: impl Fn(String) -> Command) -> Answer {
    for hash in selected(ctx, params)? {
        ctx.session.run(make(hash)).await.map_err(Refusal::engine)?;
    }
    done()
}

pub(crate) async fn pause(ctx: &Ctx<'_>, params: &Params) -> Answer {
    each(ctx, params, Command::Pause).await
}

pub(crate) async fn resume(ctx: &Ctx<'_>, params: &Params) -> Answer {
    each(ctx, params, Command::Resume).await
}

pub(crate) async fn recheck(ctx: &Ctx<'_>, params: &Params) -> Answer {
    each(ctx, params, Command::Recheck).await
}

/// `torrents/delete`: `deleteFiles=true` removes the data as well.
pub(crate) async fn delete(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let delete_data = params.flag("deleteFiles")?.unwrap_or(false);
    each(ctx, params, |id| Command::Remove { id, delete_data }).await
}

/// Which of a torrent's rates a limit endpoint sets.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Up,
    Down,
}

/// `torrents/setUploadLimit` and `setDownloadLimit`: `limit` in bytes per second, 0 or
/// less for none. The torrent's other limits stay as they are.
pub(crate) async fn set_limit(ctx: &Ctx<'_>, params: &Params, direction: Direction) -> Answer {
    let limit = params
        .int("limit")?
        .ok_or_else(|| Refusal::bad("the parameter 'limit' is missing"))?;
    let hashes = selected(ctx, params)?;
    let snapshot = ctx.session.snapshot();
    for hash in hashes {
        let Some(t) = snapshot.torrents.iter().find(|t| t.info_hash == hash) else {
            continue;
        };
        let mut limits: Limits = t.limits;
        match direction {
            Direction::Up => limits.upload_bps = rate(limit),
            Direction::Down => limits.download_bps = rate(limit),
        }
        ctx.session
            .run(Command::SetTorrentLimits { id: hash, limits })
            .await
            .map_err(Refusal::engine)?;
    }
    done()
}
