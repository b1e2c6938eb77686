//! `torrents/setLocation`: moving torrents' data to another folder. trove keeps data only
//! in its storage roots, so the folder must be one root's path (a category's save path);
//! the torrents then move to that root, as `setCategory` would. Another folder is refused
//! with a sentence saying how to make it a root; an empty one is `400`, as in qBittorrent.

use std::path::{Component, Path, PathBuf};

use super::Ctx;
use super::categories::move_selected;
use super::errors::{Answer, Refusal, one_line};
use super::forms::Params;

pub(crate) async fn set(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let location = params.require("location")?.trim();
    if location.is_empty() {
        return Err(Refusal::bad(
            "the location is empty: give the folder to move to",
        ));
    }
    let wanted = normal(Path::new(location));
    let snapshot = ctx.session.snapshot();
    let Some(root) = snapshot.roots.iter().find(|r| normal(&r.path) == wanted) else {
        return Err(Refusal::conflict(format!(
            "trove keeps data only in its storage roots, and {} is not one: create a category with that save path (torrents/createCategory), then move there",
            one_line(location)
        )));
    };
    move_selected(ctx, params, &root.label).await
}

/// The path without `.` parts or a trailing slash, for comparing folders as written.
fn normal(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}
