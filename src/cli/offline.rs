//! Commands that work on the store without starting a session: add, list, pause,
//! resume, remove. The next `trove` or `trove daemon` picks their changes up.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use humansize::{BINARY, format_size};
use serde::Serialize;

use super::AppContext;
use super::args::{AddArgs, CommandArgs};
use trove_engine::bitfield;
use trove_engine::source::{self, Loaded};
use trove_engine::store::{SessionStore, SledStore, TorrentRecord};
use trove_engine::torrents::{delete_torrent_files, prepare_record, resolve_prefix};
use trove_proto::command::{AddOptions, EngineError, TorrentSource};
use trove_proto::snapshot::{Limits, TorrentState};

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

pub(crate) async fn run(ctx: &AppContext, cmd: &CommandArgs) -> anyhow::Result<i32> {
    // Export reads a scratch copy (so it works on a damaged store); import checks its file
    // before it opens the store. Both take the data-dir lock themselves.
    match cmd {
        CommandArgs::Export { file } => return super::transfer::export(ctx, file),
        CommandArgs::Import(args) => return super::transfer::import(ctx, args),
        CommandArgs::Add(args) => {
            // Check every source before the store is opened: sled rewrites some of its
            // files on every open, and a refused add must leave the store byte-identical.
            let ready = check_sources(ctx, args).await?;
            let (_lock, store) = super::open_store(&ctx.data_dir)?;
            return add(&store, ready);
        }
        _ => {}
    }
    let (_lock, store) = super::open_store(&ctx.data_dir)?;
    let store: &SledStore = &store;
    match cmd {
        CommandArgs::List { json } => list(ctx, store, *json),
        CommandArgs::Pause { ids } => set_paused(store, ids, true),
        CommandArgs::Resume { ids } => set_paused(store, ids, false),
        CommandArgs::Remove { ids, delete_data } => remove(ctx, store, ids, *delete_data),
        CommandArgs::Add(_)
        | CommandArgs::Daemon { .. }
        | CommandArgs::Download(_)
        | CommandArgs::Export { .. }
        | CommandArgs::Import(_) => {
            unreachable!("handled by the caller")
        }
    }
}

fn engine_err(e: EngineError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn store_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Loads and checks every source of `trove add`; one bad argument fails them all.
async fn check_sources(
    ctx: &AppContext,
    args: &AddArgs,
) -> anyhow::Result<Vec<(Loaded, TorrentRecord)>> {
    let opts = AddOptions {
        root: args.root.clone(),
        paused: args.paused,
        peers: args.peers.clone(),
        only_files: args.only_files.clone(),
        limits: Limits {
            download_bps: args.limits.download_limit.and_then(|r| r.0),
            upload_bps: args.limits.upload_limit.and_then(|r| r.0),
            peers: args.limits.peer_limit,
        },
    };
    let mut ready = Vec::new();
    for text in &args.sources {
        let loaded = source::load(&read_source(text)?)
            .await
            .map_err(engine_err)?;
        let record = prepare_record(&ctx.roots, &loaded, &opts).map_err(engine_err)?;
        ready.push((loaded, record));
    }
    Ok(ready)
}

fn add(store: &SledStore, ready: Vec<(Loaded, TorrentRecord)>) -> anyhow::Result<i32> {
    for (loaded, record) in ready {
        let hash = record.info_hash.clone();
        if store.get(&hash).map_err(store_err)?.is_some() {
            eprintln!("{hash} is already in the session ({})", record.name);
            println!("{hash}");
            continue;
        }
        if let Loaded::Torrent(t) = &loaded {
            store
                .put_torrent_bytes(&hash, &t.bytes)
                .map_err(store_err)?;
        }
        store.put(&record).map_err(store_err)?;
        println!("{hash}");
    }
    Ok(0)
}

fn find(store: &SledStore, id: &str) -> anyhow::Result<TorrentRecord> {
    let all = store.list().map_err(store_err)?;
    let hash = resolve_prefix(all.iter().map(|r| r.info_hash.as_str()), id).map_err(engine_err)?;
    all.into_iter()
        .find(|r| r.info_hash == hash)
        .ok_or_else(|| engine_err(EngineError::UnknownId(id.into())))
}

fn set_paused(store: &SledStore, ids: &[String], paused: bool) -> anyhow::Result<i32> {
    // Resolve all IDs first: an unknown one changes nothing.
    let records = ids
        .iter()
        .map(|id| find(store, id))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for mut r in records {
        r.paused = paused;
        if paused {
            r.last_state = TorrentState::Paused;
        } else if r.last_state == TorrentState::Paused {
            r.last_state = TorrentState::Queued;
        }
        store.put(&r).map_err(store_err)?;
        println!(
            "{}  {}  {}",
            r.info_hash,
            if paused { "paused" } else { "resumed" },
            r.name
        );
    }
    Ok(0)
}

fn remove(
    ctx: &AppContext,
    store: &SledStore,
    ids: &[String],
    delete_data: bool,
) -> anyhow::Result<i32> {
    let records = ids
        .iter()
        .map(|id| find(store, id))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for r in records {
        if delete_data {
            let root = ctx.roots.by_token(&r.root_token);
            let bytes = store.torrent_bytes(&r.info_hash).map_err(store_err)?;
            match (root, bytes) {
                (Some(root), Some(bytes)) => {
                    let t = source::check_torrent(&bytes, &r.name).map_err(engine_err)?;
                    delete_torrent_files(&t, &root.path);
                }
                (None, _) => bail!(
                    "cannot delete the data of {}: its storage root '{}' is not in the config file any more",
                    r.name,
                    r.root_token
                ),
                (_, None) => {} // a magnet never resolved has no data
            }
        }
        bitfield::forget(&ctx.data_dir.join("fastresume"), &r.info_hash);
        store.remove(&r.info_hash).map_err(store_err)?;
        println!(
            "{}  removed{}  {}",
            r.info_hash,
            if delete_data { " with data" } else { "" },
            r.name
        );
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

fn list(ctx: &AppContext, store: &SledStore, json: bool) -> anyhow::Result<i32> {
    let mut records = store.list().map_err(store_err)?;
    records.sort_by_key(|r| r.added_at);
    let entries: Vec<ListEntry> = records
        .iter()
        .map(|r| {
            let root = ctx.roots.by_token(&r.root_token);
            let progress = if r.selected_bytes == 0 {
                0.0
            } else {
                r.have_bytes as f64 / r.selected_bytes as f64
            };
            let base = r.downloaded_total.max(r.size);
            ListEntry {
                info_hash: &r.info_hash,
                name: &r.name,
                state: if r.paused {
                    TorrentState::Paused
                } else {
                    r.last_state
                },
                progress,
                size: r.size,
                have_bytes: r.have_bytes,
                root_label: root
                    .map(|x| x.label.clone())
                    .unwrap_or_else(|| r.root_token.clone()),
                root_token: &r.root_token,
                save_path: root.map(|x| x.path.clone()),
                added_at: r.added_at,
                completed_at: r.completed_at,
                uploaded_total: r.uploaded_total,
                downloaded_total: r.downloaded_total,
                ratio: if base == 0 {
                    0.0
                } else {
                    r.uploaded_total as f64 / base as f64
                },
                paused: r.paused,
                limits: r.limits,
                only_files: &r.only_files,
                error: &r.error,
            }
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
