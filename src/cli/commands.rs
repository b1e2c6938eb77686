//! The commands that work on a session: add, list, pause, resume, remove, stop, and export
//! and import (whose files are `transfer`'s). Each finds the session with [`reach`]: a
//! running trove through its API, or the saved state through the engine's store API
//! ([`SavedSession`]), which the next `trove` or `trove daemon` picks up. Output, exit
//! codes and errors are the same either way.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use humansize::{BINARY, format_size};
use serde::Serialize;

use super::AppContext;
use super::args::{AddArgs, Cli, CommandArgs};
use super::reach::{self, Reach, reach};
use trove_engine::saved::{ReadyTorrent, SavedSession};
use trove_engine::source;
use trove_engine::torrents::resolve_prefix;
use trove_proto::{
    AddOptions, Client, Command, EngineError, Limits, TorrentSource, TorrentState, TorrentSummary,
};

/// Reads one SOURCE argument; `-` reads a .torrent from stdin.
pub(super) fn read_source(text: &str) -> anyhow::Result<TorrentSource> {
    if text == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading a .torrent from stdin")?;
        return Ok(TorrentSource::Bytes(buf));
    }
    Ok(TorrentSource::from_user_text(text))
}

pub(crate) async fn run(cli: &Cli, ctx: &AppContext, cmd: &CommandArgs) -> anyhow::Result<i32> {
    match cmd {
        CommandArgs::Export { file } => {
            if reach::running(ctx, cli).await?.is_some() {
                bail!(
                    "trove export reads the saved session, and a trove is running on {}: stop it first (`trove stop`), then export",
                    ctx.data_dir.display()
                );
            }
            // Export reads a scratch copy (so it works on a damaged store); it takes the
            // data-dir lock itself.
            super::transfer::export(ctx, file)
        }
        CommandArgs::Import(args) => {
            if reach::running(ctx, cli).await?.is_some() {
                bail!(
                    "trove import writes the saved session, and a trove is running on {}: stop it first (`trove stop`), then import",
                    ctx.data_dir.display()
                );
            }
            // Checks its file before it opens the store; takes the lock itself.
            super::transfer::import(ctx, args)
        }
        CommandArgs::Add(args) => {
            // Check every source before anything is written (and, offline, before the store
            // is opened: sled rewrites some of its files on every open, and a refused add
            // must leave the store byte-identical). One bad source adds nothing.
            let ready = check_sources(ctx, args).await?;
            match reach(ctx, cli).await? {
                Reach::Running(client) => add_running(&client, ready, args).await,
                Reach::Saved(saved) => add_saved(&saved, ready),
            }
        }
        CommandArgs::List { json } => {
            let torrents = match reach(ctx, cli).await? {
                Reach::Running(client) => {
                    let mut torrents = client.snapshot().torrents.clone();
                    torrents.sort_by_key(|t| t.added_at);
                    torrents
                }
                Reach::Saved(saved) => saved.summaries(&ctx.roots)?,
            };
            list(ctx, &torrents, *json)
        }
        CommandArgs::Pause { ids } => set_paused(cli, ctx, ids, true).await,
        CommandArgs::Resume { ids } => set_paused(cli, ctx, ids, false).await,
        CommandArgs::Remove { ids, delete_data } => {
            let done = |hash: &str, name: &str| {
                println!(
                    "{hash}  removed{}  {name}",
                    if *delete_data { " with data" } else { "" },
                );
            };
            match reach(ctx, cli).await? {
                Reach::Running(client) => {
                    for (hash, name) in resolve(&client, ids)? {
                        client
                            .run(Command::Remove {
                                id: hash.clone(),
                                delete_data: *delete_data,
                            })
                            .await
                            .map_err(engine_err)?;
                        done(&hash, &name);
                    }
                }
                Reach::Saved(saved) => saved.remove(&ctx.roots, ids, *delete_data, |r| {
                    done(&r.info_hash, &r.name)
                })?,
            }
            Ok(0)
        }
        CommandArgs::Stop => {
            let Some(client) = reach::running(ctx, cli).await? else {
                bail!(
                    "no trove is running on {}: nothing to stop",
                    ctx.data_dir.display()
                );
            };
            let which = match &cli.connect {
                Some(url) => format!("the trove at {url}"),
                None => format!("the trove holding {}", ctx.data_dir.display()),
            };
            let mut link = client.link();
            client.run(Command::Shutdown).await.map_err(engine_err)?;
            // It has saved everything once it stops answering.
            let gone = tokio::time::timeout(
                STOP_WAIT,
                link.wait_for(|l| matches!(l, trove_proto::Link::Lost(_))),
            )
            .await;
            if gone.is_err() {
                bail!(
                    "{which} was asked to stop but still answers after {} s",
                    STOP_WAIT.as_secs()
                );
            }
            println!("stopped {which}");
            Ok(0)
        }
        CommandArgs::Daemon { .. } | CommandArgs::Download(_) | CommandArgs::Token => {
            unreachable!("handled by the caller")
        }
    }
}

/// How long `trove stop` waits for the session to save and go.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

fn engine_err(e: EngineError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The torrents `ids` name in a running session, with their names; one unknown or
/// ambiguous id is an error before anything is done.
fn resolve(client: &Client, ids: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let snapshot = client.snapshot();
    ids.iter()
        .map(|id| {
            let hash = resolve_prefix(snapshot.torrents.iter().map(|t| t.info_hash.as_str()), id)
                .map_err(engine_err)?;
            let name = snapshot
                .torrents
                .iter()
                .find(|t| t.info_hash == hash)
                .map(|t| t.name.clone())
                .unwrap_or_default();
            Ok((hash, name))
        })
        .collect()
}

/// Loads and checks every source of `trove add`; one bad argument fails them all.
fn add_options(args: &AddArgs) -> AddOptions {
    AddOptions {
        root: args.root.clone(),
        paused: args.paused,
        peers: args.peers.clone(),
        only_files: args.only_files.clone(),
        limits: Limits {
            download_bps: args.limits.download_limit.and_then(|r| r.0),
            upload_bps: args.limits.upload_limit.and_then(|r| r.0),
            peers: args.limits.peer_limit,
        },
    }
}

async fn check_sources(ctx: &AppContext, args: &AddArgs) -> anyhow::Result<Vec<ReadyTorrent>> {
    let opts = add_options(args);
    let mut ready = Vec::new();
    for text in &args.sources {
        let source = read_source(text)?;
        ready.push(
            ReadyTorrent::check(&ctx.roots, &source, &opts)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    Ok(ready)
}

fn add_saved(saved: &SavedSession, ready: Vec<ReadyTorrent>) -> anyhow::Result<i32> {
    for added in saved.add(ready)? {
        added_line(&added.info_hash, &added.name, added.new);
    }
    Ok(0)
}

/// Sends each checked torrent to the running session as bytes (or its magnet link), so the
/// session need not read this machine's files or fetch its URLs.
async fn add_running(
    client: &Client,
    ready: Vec<ReadyTorrent>,
    args: &AddArgs,
) -> anyhow::Result<i32> {
    let opts = add_options(args);
    for torrent in ready {
        let added = client
            .add(torrent.into_source(), opts.clone())
            .await
            .map_err(engine_err)?;
        added_line(&added.info_hash, &added.name, added.new);
    }
    Ok(0)
}

fn added_line(hash: &str, name: &str, new: bool) {
    if !new {
        eprintln!("{hash} is already in the session ({name})");
    }
    println!("{hash}");
}

async fn set_paused(
    cli: &Cli,
    ctx: &AppContext,
    ids: &[String],
    paused: bool,
) -> anyhow::Result<i32> {
    let done = |hash: &str, name: &str| {
        println!(
            "{hash}  {}  {name}",
            if paused { "paused" } else { "resumed" }
        );
    };
    match reach(ctx, cli).await? {
        Reach::Running(client) => {
            for (hash, name) in resolve(&client, ids)? {
                let command = if paused {
                    Command::Pause(hash.clone())
                } else {
                    Command::Resume(hash.clone())
                };
                client.run(command).await.map_err(engine_err)?;
                done(&hash, &name);
            }
        }
        Reach::Saved(saved) => saved.set_paused(ids, paused, |r| done(&r.info_hash, &r.name))?,
    }
    Ok(0)
}

/// One torrent as `trove list --json` prints it.
#[derive(Serialize)]
struct ListEntry<'a> {
    info_hash: &'a str,
    name: &'a str,
    state: TorrentState,
    progress: f64,
    size: u64,
    have_bytes: u64,
    root_label: String,
    root_token: &'a str,
    save_path: Option<PathBuf>,
    added_at: i64,
    completed_at: Option<i64>,
    uploaded_total: u64,
    downloaded_total: u64,
    ratio: f64,
    paused: bool,
    limits: Limits,
    only_files: &'a Option<Vec<usize>>,
    error: &'a Option<String>,
}

fn list(ctx: &AppContext, torrents: &[TorrentSummary], json: bool) -> anyhow::Result<i32> {
    let entries: Vec<ListEntry> = torrents
        .iter()
        .map(|t| ListEntry {
            info_hash: &t.info_hash,
            name: &t.name,
            state: t.state,
            progress: t.progress,
            size: t.size,
            have_bytes: t.have_bytes,
            root_label: t.root_label.clone(),
            root_token: &t.root_token,
            save_path: ctx.roots.by_token(&t.root_token).map(|r| r.path.clone()),
            added_at: t.added_at,
            completed_at: t.completed_at,
            uploaded_total: t.uploaded_total,
            downloaded_total: t.downloaded_total,
            ratio: t.ratio,
            paused: t.paused,
            limits: t.limits,
            only_files: &t.only_files,
            error: &t.error,
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(0);
    }
    if entries.is_empty() {
        println!("no torrents yet: add one with `trove add MAGNET|FILE|URL`");
        return Ok(0);
    }
    println!(
        "{:<40}  {:<11} {:>6} {:>10}  {:<10} {:>10} {:>10} {:>6}  {:<16} {:<16}  NAME",
        "INFO-HASH",
        "STATE",
        "DONE",
        "SIZE",
        "ROOT",
        "UPLOADED",
        "DOWNLOADED",
        "RATIO",
        "ADDED",
        "COMPLETED"
    );
    let time = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| {
                d.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|| "-".into())
    };
    for e in &entries {
        println!(
            "{:<40}  {:<11} {:>5.1}% {:>10}  {:<10} {:>10} {:>10} {:>6.2}  {:<16} {:<16}  {}",
            e.info_hash,
            e.state.label(),
            e.progress * 100.0,
            format_size(e.size, BINARY),
            e.root_label,
            format_size(e.uploaded_total, BINARY),
            format_size(e.downloaded_total, BINARY),
            e.ratio,
            time(e.added_at),
            e.completed_at.map(time).unwrap_or_else(|| "-".into()),
            source::sanitize_display(e.name),
        );
        if let Some(err) = e.error {
            println!("    error: {err}");
        }
    }
    Ok(0)
}
