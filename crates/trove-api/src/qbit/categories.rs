//! Categories. In trove a category IS a storage root: its name is the root's label and
//! its `savePath` the root's folder. The default root plays qBittorrent's "no category"
//! (its default save path), so it is not listed, and `setCategory` with an empty name
//! moves a torrent back to it.

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value, json};
use trove_proto::{Command, EngineError, SessionSnapshot};

use super::Ctx;
use super::actions::selected;
use super::errors::{Answer, Refusal, done, json, one_line};
use super::forms::Params;

/// The categories as `torrents/categories` lists them.
pub(crate) fn listing(snapshot: &SessionSnapshot) -> Map<String, Value> {
    snapshot
        .roots
        .iter()
        .filter(|r| !r.is_default)
        .map(|r| {
            (
                r.label.clone(),
                json!({ "name": r.label, "savePath": r.path.to_string_lossy() }),
            )
        })
        .collect()
}

pub(crate) fn categories(ctx: &Ctx<'_>) -> Answer {
    json(&listing(&ctx.session.snapshot()))
}

/// A category name trove can make a root label of: not empty, no path separators, no
/// `.`/`..`, no control characters, at most 100 characters.
pub(crate) fn check_name(name: &str) -> Result<(), Refusal> {
    let why = if name.trim().is_empty() {
        Some("is empty")
    } else if name.contains('/') || name.contains('\\') {
        Some("has a path separator (trove has no subcategories)")
    } else if name == "." || name == ".." {
        Some("is a relative folder name")
    } else if name.chars().any(char::is_control) {
        Some("has control characters")
    } else if name.chars().count() > 100 {
        Some("is longer than 100 characters")
    } else {
        None
    };
    match why {
        Some(why) => Err(Refusal::bad(format!(
            "the category name '{}' {why}",
            one_line(name)
        ))),
        None => Ok(()),
    }
}

/// A category's folder: absolute, without `..`, without NUL. An empty one means a folder
/// named after the category inside the default root, as qBittorrent puts it under its
/// default save path.
pub(crate) fn check_path(
    snapshot: &SessionSnapshot,
    name: &str,
    text: &str,
) -> Result<PathBuf, Refusal> {
    if text.trim().is_empty() {
        let base = snapshot
            .roots
            .iter()
            .find(|r| r.is_default)
            .map(|r| r.path.clone())
            .ok_or_else(|| {
                Refusal::conflict(
                    "the session has no default root to put the category under: give a savePath",
                )
            })?;
        return Ok(base.join(name));
    }
    let path = Path::new(text.trim());
    if text.contains('\0') {
        return Err(Refusal::bad("the savePath has a NUL character"));
    }
    if !path.is_absolute() {
        return Err(Refusal::bad(format!(
            "the savePath '{}' must be absolute (like /srv/media/tv)",
            one_line(text)
        )));
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(Refusal::bad(format!(
            "the savePath '{}' has '..' in it: give the folder itself",
            one_line(text)
        )));
    }
    Ok(path.to_path_buf())
}

/// `torrents/createCategory`: `category` and `savePath` make a new root.
pub(crate) async fn create(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let name = params.get("category").unwrap_or("");
    check_name(name)?;
    let snapshot = ctx.session.snapshot();
    if snapshot.roots.iter().any(|r| r.label == name) {
        return Err(Refusal::conflict(format!(
            "the category '{}' exists already",
            one_line(name)
        )));
    }
    let path = check_path(&snapshot, name, params.get("savePath").unwrap_or(""))?;
    run_root(
        ctx,
        Command::CreateRoot {
            label: name.to_string(),
            path,
        },
    )
    .await
}

/// `torrents/editCategory`: a new `savePath` for a category made at run time.
pub(crate) async fn edit(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let name = params.get("category").unwrap_or("");
    check_name(name)?;
    let snapshot = ctx.session.snapshot();
    if !snapshot
        .roots
        .iter()
        .any(|r| r.label == name && !r.is_default)
    {
        return Err(Refusal::conflict(format!(
            "there is no category '{}' to edit",
            one_line(name)
        )));
    }
    let path = check_path(&snapshot, name, params.get("savePath").unwrap_or(""))?;
    run_root(
        ctx,
        Command::EditRoot {
            label: name.to_string(),
            path,
        },
    )
    .await
}

/// `torrents/removeCategories`: names separated by newlines; unknown ones are skipped.
pub(crate) async fn remove(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let snapshot = ctx.session.snapshot();
    let names: Vec<String> = params
        .get("categories")
        .unwrap_or("")
        .split('\n')
        .map(str::trim)
        .filter(|n| {
            snapshot
                .roots
                .iter()
                .any(|r| r.label == *n && !r.is_default)
        })
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        return done();
    }
    run_root(ctx, Command::RemoveRoots(names)).await
}

/// `torrents/setCategory`: puts torrents in the category's root (the default root for an
/// empty name), moving the data of those that have some there. An unknown category is
/// `409`, as in qBittorrent.
pub(crate) async fn set(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let name = params.get("category").unwrap_or("");
    let snapshot = ctx.session.snapshot();
    let root = if name.is_empty() {
        snapshot.roots.iter().find(|r| r.is_default)
    } else {
        snapshot
            .roots
            .iter()
            .find(|r| r.label == name && !r.is_default)
    };
    let Some(root) = root else {
        return Err(Refusal::conflict(format!(
            "there is no category '{}': create it first (torrents/createCategory)",
            one_line(name)
        )));
    };
    move_selected(ctx, params, &root.label).await
}

/// Moves the torrents the request names (`hashes`) to the root `label`, data and all.
pub(crate) async fn move_selected(ctx: &Ctx<'_>, params: &Params, label: &str) -> Answer {
    let ids = selected(ctx, params)?;
    if ids.is_empty() {
        return done();
    }
    run_root(
        ctx,
        Command::Move {
            ids,
            root: label.to_string(),
        },
    )
    .await
}

pub(crate) async fn run_root(ctx: &Ctx<'_>, command: Command) -> Answer {
    ctx.session.run(command).await.map_err(root_refusal)?;
    done()
}

/// The engine refusing a root change is a conflict with what the session holds.
fn root_refusal(error: EngineError) -> Refusal {
    match error {
        EngineError::Root(message) | EngineError::Store(message) | EngineError::Engine(message) => {
            Refusal::conflict(message)
        }
        other => Refusal::engine(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qbit::mapping::tests::root;

    #[test]
    fn names_and_paths_that_could_escape_are_refused() {
        for bad in ["", " ", "../x", "a/b", "..", "a\0b", "a\\b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_name("tv-sonarr"), Ok(()));
        let snapshot = SessionSnapshot {
            roots: vec![root("downloads", "/d", true)],
            ..SessionSnapshot::default()
        };
        assert_eq!(check_path(&snapshot, "tv", ""), Ok(PathBuf::from("/d/tv")));
        assert_eq!(
            check_path(&snapshot, "tv", "/srv/tv"),
            Ok(PathBuf::from("/srv/tv"))
        );
        for bad in ["relative", "/srv/../etc", "/a\0b"] {
            assert!(check_path(&snapshot, "tv", bad).is_err(), "{bad:?}");
        }
    }
}
