//! Tags: trove's free labels are qBittorrent's tags, one for one.

use trove_proto::Command;

use super::Ctx;
use super::actions::selected;
use super::errors::{Answer, Refusal, done, json};
use super::forms::{Params, check_tag, comma_list};

/// The tags of a request's `tags` parameter (comma-separated), checked.
fn tags(params: &Params) -> Result<Vec<String>, Refusal> {
    let tags = comma_list(params.get("tags").unwrap_or(""));
    for tag in &tags {
        check_tag(tag)?;
    }
    Ok(tags)
}

pub(crate) fn list(ctx: &Ctx<'_>) -> Answer {
    json(&ctx.session.snapshot().tags)
}

/// `torrents/addTags`.
pub(crate) async fn add(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let add = tags(params)?;
    let ids = selected(ctx, params)?;
    if ids.is_empty() || add.is_empty() {
        return done();
    }
    edit(ctx, ids, add, Vec::new()).await
}

/// `torrents/removeTags`: without `tags`, every tag of the torrents goes (as qBittorrent).
pub(crate) async fn remove(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let mut remove = tags(params)?;
    let ids = selected(ctx, params)?;
    if remove.is_empty() {
        let snapshot = ctx.session.snapshot();
        remove = snapshot
            .torrents
            .iter()
            .filter(|t| ids.contains(&t.info_hash))
            .flat_map(|t| t.tags.iter().cloned())
            .collect();
        remove.sort();
        remove.dedup();
    }
    if ids.is_empty() || remove.is_empty() {
        return done();
    }
    edit(ctx, ids, Vec::new(), remove).await
}

async fn edit(ctx: &Ctx<'_>, ids: Vec<String>, add: Vec<String>, remove: Vec<String>) -> Answer {
    ctx.session
        .run(Command::EditTags { ids, add, remove })
        .await
        .map_err(Refusal::engine)?;
    done()
}

/// `torrents/createTags`.
pub(crate) async fn create(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let tags = tags(params)?;
    if tags.is_empty() {
        return done();
    }
    ctx.session
        .run(Command::CreateTags(tags))
        .await
        .map_err(Refusal::engine)?;
    done()
}

/// `torrents/deleteTags`.
pub(crate) async fn delete(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let tags = tags(params)?;
    if tags.is_empty() {
        return done();
    }
    ctx.session
        .run(Command::DeleteTags(tags))
        .await
        .map_err(Refusal::engine)?;
    done()
}
