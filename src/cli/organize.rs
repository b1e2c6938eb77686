//! `trove tag` and `trove root`: a torrent's tags, the storage roots kept in the store, and
//! putting a torrent in another root. Like the other edit commands, each has a form for a
//! running session (`*_running`, through its client) and one for the saved session, with
//! the same output.

use trove_engine::saved::SavedSession;
use trove_engine::source;
use trove_engine::tags::{check_tags, edited, names_to_remove};
use trove_proto::{Client, Command};

use super::AppContext;
use super::args::RootArgs;
use super::commands::{describe_tags, engine_err, outln, resolve};

fn tag_line(hash: &str, tags: &[String], name: &str) -> String {
    format!(
        "{hash}  tags: {}  {}",
        describe_tags(tags),
        source::sanitize_display(name)
    )
}

pub(super) fn tag(
    saved: &SavedSession,
    ids: &[String],
    add: &[String],
    remove: &[String],
) -> anyhow::Result<i32> {
    let mut lines = Vec::new();
    saved.edit_tags(ids, add, remove, |r| {
        lines.push(tag_line(&r.info_hash, &r.tags, &r.name))
    })?;
    for l in lines {
        outln!("{l}")?;
    }
    Ok(0)
}

pub(super) async fn tag_running(
    client: &Client,
    ids: &[String],
    add: &[String],
    remove: &[String],
) -> anyhow::Result<i32> {
    let targets = resolve(client, ids)?;
    // The new lists are worked out here by the engine's own rule, so they can be printed
    // without waiting for the next snapshot.
    let checked = check_tags(add).map_err(engine_err)?;
    let gone = names_to_remove(remove);
    let snapshot = client.snapshot();
    let lines: Vec<String> = targets
        .iter()
        .map(|(hash, name)| {
            let current = snapshot
                .torrents
                .iter()
                .find(|t| &t.info_hash == hash)
                .map(|t| t.tags.clone())
                .unwrap_or_default();
            tag_line(hash, &edited(&current, &checked, &gone), name)
        })
        .collect();
    if !add.is_empty() || !remove.is_empty() {
        client
            .run(Command::EditTags {
                ids: targets.iter().map(|(h, _)| h.clone()).collect(),
                add: checked,
                remove: gone,
            })
            .await
            .map_err(engine_err)?;
    }
    for l in lines {
        outln!("{l}")?;
    }
    Ok(0)
}

fn created_line(label: &str, path: &std::path::Path) -> String {
    format!(
        "storage root '{}' created at {}",
        source::sanitize_display(label.trim()),
        path.display()
    )
}

fn moved_line(label: &str, path: &std::path::Path) -> String {
    format!(
        "storage root '{}' now at {}",
        source::sanitize_display(label.trim()),
        path.display()
    )
}

fn removed_line(label: &str) -> String {
    format!(
        "storage root '{}' removed",
        source::sanitize_display(label.trim())
    )
}

fn set_line(hash: &str, label: &str, name: &str) -> String {
    format!(
        "{hash}  in storage root '{}'  {}",
        source::sanitize_display(label),
        source::sanitize_display(name)
    )
}

pub(super) fn root(ctx: &AppContext, saved: &SavedSession, args: &RootArgs) -> anyhow::Result<i32> {
    match args {
        RootArgs::Add { label, path } => {
            saved.create_root(&ctx.roots, label, path)?;
            outln!("{}", created_line(label, path))?;
        }
        RootArgs::Move { label, path } => {
            saved.move_root(&ctx.roots, label, path)?;
            outln!("{}", moved_line(label, path))?;
        }
        RootArgs::Remove { labels } => {
            saved.remove_roots(&ctx.roots, labels)?;
            for l in labels {
                outln!("{}", removed_line(l))?;
            }
        }
        RootArgs::Set { id, root } => {
            let r = saved.set_root(&ctx.roots, id, root)?;
            let roots = saved.roots(&ctx.roots)?;
            let label = roots
                .by_token(&r.root_token)
                .map_or(r.root_token.clone(), |root| root.label.clone());
            outln!("{}", set_line(&r.info_hash, &label, &r.name))?;
        }
    }
    Ok(0)
}

pub(super) async fn root_running(client: &Client, args: &RootArgs) -> anyhow::Result<i32> {
    match args {
        RootArgs::Add { label, path } => {
            client
                .run(Command::CreateRoot {
                    label: label.clone(),
                    path: path.clone(),
                })
                .await
                .map_err(engine_err)?;
            outln!("{}", created_line(label, path))?;
        }
        RootArgs::Move { label, path } => {
            client
                .run(Command::EditRoot {
                    label: label.clone(),
                    path: path.clone(),
                })
                .await
                .map_err(engine_err)?;
            outln!("{}", moved_line(label, path))?;
        }
        RootArgs::Remove { labels } => {
            client
                .run(Command::RemoveRoots(labels.clone()))
                .await
                .map_err(engine_err)?;
            for l in labels {
                outln!("{}", removed_line(l))?;
            }
        }
        RootArgs::Set { id, root } => {
            let mut found = resolve(client, std::slice::from_ref(id))?;
            let (hash, name) = found.remove(0);
            client
                .run(Command::SetRoot {
                    id: hash.clone(),
                    root: root.clone(),
                })
                .await
                .map_err(engine_err)?;
            let wanted = root.trim();
            let snapshot = client.snapshot();
            let label = snapshot
                .roots
                .iter()
                .find(|r| r.label == wanted)
                .or_else(|| snapshot.roots.iter().find(|r| r.token == wanted))
                .map_or(wanted.to_string(), |r| r.label.clone());
            outln!("{}", set_line(&hash, &label, &name))?;
        }
    }
    Ok(0)
}
