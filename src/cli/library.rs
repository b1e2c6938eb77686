//! `trove library`: what sits in each storage root (its space, each torrent with the state
//! of its data on disk, the orphans), from a running session or the saved one; and
//! `trove locate`, which points a torrent at the root its data is in.

use std::io::Write as _;

use serde::Serialize;
use trove_engine::saved::SavedSession;
use trove_engine::source;
use trove_proto::{Client, Command, DataState, LibraryReport, LibraryRoot};

use super::AppContext;
use super::commands::{
    buffered_stdout, engine_err, outln, print_json, print_missing, resolve, size,
};

/// The stable JSON form of `trove library --json`: the roots, each with its torrents and
/// orphans. A torrent's `data` is an object whose `state` is one of `complete`, `partial`,
/// `files_missing`, `size_changed`, `moving`, `no_metadata`.
#[derive(Serialize)]
struct LibraryJson<'a> {
    roots: &'a [LibraryRoot],
}

/// Keeps only the root `only` names (label or token), or says which roots there are.
fn filter(mut report: LibraryReport, only: Option<&str>) -> anyhow::Result<LibraryReport> {
    let Some(name) = only else {
        return Ok(report);
    };
    let name = name.trim();
    if !report
        .roots
        .iter()
        .any(|r| r.label == name || r.token == name)
    {
        let known: Vec<&str> = report.roots.iter().map(|r| r.label.as_str()).collect();
        anyhow::bail!(
            "there is no storage root '{}': the roots are {} (see `trove root list`)",
            source::sanitize_display(name),
            known.join(", ")
        );
    }
    report.roots.retain(|r| r.label == name || r.token == name);
    Ok(report)
}

pub(super) async fn library_running(
    client: &Client,
    root: Option<&str>,
    json: bool,
) -> anyhow::Result<i32> {
    let report = client.library().await.map_err(engine_err)?;
    print(&filter(report, root)?, json)
}

pub(super) fn library(
    ctx: &AppContext,
    saved: &SavedSession,
    root: Option<&str>,
    json: bool,
) -> anyhow::Result<i32> {
    let roots = saved.roots(&ctx.roots)?;
    print(&filter(saved.library(&roots)?, root)?, json)
}

fn space(free: Option<u64>, total: Option<u64>) -> String {
    match (free, total) {
        (Some(f), Some(t)) => format!("{} free of {}", size(f), size(t)),
        _ => "space unknown".into(),
    }
}

/// The state column of one torrent.
fn state_text(data: &DataState) -> String {
    match data {
        DataState::Moving {
            to_root,
            done_bytes,
            total_bytes,
        } => format!(
            "moving to {} ({} of {})",
            source::sanitize_display(to_root),
            size(*done_bytes),
            size(*total_bytes)
        ),
        other => other.label().to_string(),
    }
}

fn print(report: &LibraryReport, json: bool) -> anyhow::Result<i32> {
    if json {
        print_json(&LibraryJson {
            roots: &report.roots,
        })?;
        return Ok(0);
    }
    let mut out = buffered_stdout();
    for (i, r) in report.roots.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}{}  {}  {}",
            source::sanitize_display(&r.label),
            if r.is_default { " (default)" } else { "" },
            r.path.display(),
            space(r.free_bytes, r.total_bytes)
        )?;
        if let Some(p) = &r.problem {
            writeln!(out, "  problem: {p}")?;
        }
        if r.torrents.is_empty() {
            writeln!(out, "  no torrents")?;
        }
        for t in &r.torrents {
            writeln!(
                out,
                "  {}  {:<14} {:>10}  {}",
                &t.info_hash[..t.info_hash.len().min(8)],
                state_text(&t.data),
                size(t.size),
                source::sanitize_display(&t.name)
            )?;
            if let Some(m) = t.data.problem() {
                print_missing(&mut out, m, "      ")?;
            }
        }
        if !r.orphans.is_empty() {
            writeln!(out, "  not part of any torrent:")?;
            for o in &r.orphans {
                writeln!(
                    out,
                    "    {:>10}  {}{}",
                    size(o.bytes),
                    source::sanitize_display(&o.name),
                    if o.is_dir { "/" } else { "" }
                )?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}

pub(super) async fn locate_running(client: &Client, id: &str, root: &str) -> anyhow::Result<i32> {
    let [(hash, name)]: [(String, String); 1] = resolve(client, &[id.to_string()])?
        .try_into()
        .map_err(|_| anyhow::anyhow!("one torrent expected"))?;
    client
        .run(Command::Locate {
            id: hash.clone(),
            root: root.to_string(),
        })
        .await
        .map_err(engine_err)?;
    outln!(
        "{hash}  found in '{}', checking  {}",
        source::sanitize_display(root),
        source::sanitize_display(&name)
    )?;
    Ok(0)
}

pub(super) fn locate(
    ctx: &AppContext,
    saved: &SavedSession,
    id: &str,
    root: &str,
) -> anyhow::Result<i32> {
    let roots = saved.roots(&ctx.roots)?;
    let r = saved.locate(&roots, id, root)?;
    outln!(
        "{}  found in '{}', to be checked when the session next starts  {}",
        r.info_hash,
        source::sanitize_display(root),
        source::sanitize_display(&r.name)
    )?;
    Ok(0)
}
