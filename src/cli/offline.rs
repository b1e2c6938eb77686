//! Commands that work on the saved session without starting one: add, list, pause,
//! resume, remove (export and import are in `transfer`; recheck, select, limit, trackers
//! and magnet in `edit`). They go through the engine's
//! store API ([`SavedSession`]); the next `trove` or `trove daemon` picks their changes up.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use humansize::{BINARY, format_size};
use serde::Serialize;

use super::AppContext;
use super::args::{AddArgs, CommandArgs};
use super::edit;
use trove_engine::saved::{ReadyTorrent, SavedSession};
use trove_engine::source;
use trove_proto::{AddOptions, Limits, TorrentSource, TorrentState};

/// `println!` that returns the write's error instead of panicking: a reader that closed
/// the pipe (`trove list | head -1`) ends the command quietly (see [`run`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(super) use outln;

/// The exit status of a command whose output's reader went away: what a Unix tool killed
/// by SIGPIPE reports (128 + 13), so `set -o pipefail` scripts see what they see of `cat`.
const CLOSED_PIPE_EXIT: i32 = 141;

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

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
    // Rust ignores SIGPIPE, so a closed stdout is a write error: not worth a word. (Putting
    // SIGPIPE back to its default would end the process silently too, but also kill a
    // session whenever a peer's socket closes under a write.)
    match run_command(ctx, cmd).await {
        Err(e) if is_broken_pipe(&e) => Ok(CLOSED_PIPE_EXIT),
        other => other,
    }
}

async fn run_command(ctx: &AppContext, cmd: &CommandArgs) -> anyhow::Result<i32> {
    // Export reads a scratch copy (so it works on a damaged store); import checks its file
    // before it opens the store. Both take the data-dir lock themselves.
    match cmd {
        CommandArgs::Export { file } => return super::transfer::export(ctx, file),
        CommandArgs::Import(args) => return super::transfer::import(ctx, args),
        CommandArgs::Add(args) => {
            // Check every source before the store is opened: sled rewrites some of its
            // files on every open, and a refused add must leave the store byte-identical.
            let ready = check_sources(ctx, args).await?;
            let saved = SavedSession::open(&ctx.data_dir)?;
            return add(&saved, ready);
        }
        _ => {}
    }
    let saved = SavedSession::open(&ctx.data_dir)?;
    match cmd {
        CommandArgs::List { json } => list(ctx, &saved, *json),
        CommandArgs::Pause { ids } => set_paused(&saved, ids, true),
        CommandArgs::Resume { ids } => set_paused(&saved, ids, false),
        CommandArgs::Remove { ids, delete_data } => {
            let mut lines = Vec::new();
            saved.remove(&ctx.roots, ids, *delete_data, |r| {
                lines.push(format!(
                    "{}  removed{}  {}",
                    r.info_hash,
                    if *delete_data { " with data" } else { "" },
                    r.name
                ));
            })?;
            for l in lines {
                outln!("{l}")?;
            }
            Ok(0)
        }
        CommandArgs::Recheck { ids } => edit::recheck(&saved, ids),
        CommandArgs::Select { id, files } => edit::select(ctx, &saved, id, files),
        CommandArgs::Limit(args) => edit::limit(ctx, &saved, args),
        CommandArgs::Trackers { id, add, remove } => edit::trackers(ctx, &saved, id, add, remove),
        CommandArgs::Magnet { id } => edit::magnet(ctx, &saved, id),
        CommandArgs::Add(_)
        | CommandArgs::Daemon { .. }
        | CommandArgs::Download(_)
        | CommandArgs::Export { .. }
        | CommandArgs::Import(_) => {
            unreachable!("handled by the caller")
        }
    }
}

/// Loads and checks every source of `trove add`; one bad argument fails them all.
async fn check_sources(ctx: &AppContext, args: &AddArgs) -> anyhow::Result<Vec<ReadyTorrent>> {
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
        let source = read_source(text)?;
        ready.push(
            ReadyTorrent::check(&ctx.roots, &source, &opts)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    Ok(ready)
}

fn add(saved: &SavedSession, ready: Vec<ReadyTorrent>) -> anyhow::Result<i32> {
    for added in saved.add(ready)? {
        if !added.new {
            eprintln!(
                "{} is already in the session ({})",
                added.info_hash, added.name
            );
            for note in &added.ignored {
                eprintln!("  {note}");
            }
        }
        outln!("{}", added.info_hash)?;
    }
    Ok(0)
}

fn set_paused(saved: &SavedSession, ids: &[String], paused: bool) -> anyhow::Result<i32> {
    let mut lines = Vec::new();
    saved.set_paused(ids, paused, |r| {
        lines.push(format!(
            "{}  {}  {}",
            r.info_hash,
            if paused { "paused" } else { "resumed" },
            r.name
        ));
    })?;
    for l in lines {
        outln!("{l}")?;
    }
    Ok(0)
}

/// One size format everywhere `trove list` prints one: binary units, one decimal.
pub(super) fn size(bytes: u64) -> String {
    format_size(bytes, BINARY.decimal_places(1).decimal_zeroes(1))
}

/// One torrent as `trove list --json` prints it.
#[derive(Serialize)]
struct ListEntry<'a> {
    info_hash: &'a str,
    name: &'a str,
    /// The last state the torrent was seen in (by a session, or set offline).
    state: TorrentState,
    progress: f64,
    size: u64,
    have_bytes: u64,
    root_label: String,
    root_token: &'a str,
    /// The root's folder: from the config file, or as recorded when the torrent was added.
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
    /// Whether a session is running the torrent now (never, for this offline listing).
    running: bool,
    /// True when files the torrent had data in are gone or cut short on disk; null when
    /// not looked at (no data yet, no metadata, root unknown).
    data_missing: Option<bool>,
    /// Whether the config file still declares the torrent's root.
    root_declared: bool,
}

fn list(ctx: &AppContext, saved: &SavedSession, json: bool) -> anyhow::Result<i32> {
    let torrents = saved.saved_torrents(&ctx.roots)?;
    let entries: Vec<ListEntry> = torrents
        .iter()
        .map(|t| {
            let r = &t.record;
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
                } else if t.error.is_none() && r.last_state == TorrentState::Error {
                    TorrentState::Queued
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
                save_path: root.map(|x| x.path.clone()).or_else(|| r.root_path.clone()),
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
                error: &t.error,
                running: false,
                data_missing: t.data_missing,
                root_declared: root.is_some(),
            }
        })
        .collect();
    if json {
        serde_json::to_writer_pretty(std::io::stdout().lock(), &entries)?;
        outln!()?;
        return Ok(0);
    }
    if entries.is_empty() {
        outln!("no torrents yet: add one with `trove add MAGNET|FILE|URL`")?;
        return Ok(0);
    }
    outln!(
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
    )?;
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
        // Nothing transfers or checks while no session runs: a torrent last seen doing so
        // is shown stopped (`--json` keeps the last state, with `running: false`).
        let state = match e.state {
            TorrentState::Downloading | TorrentState::Seeding | TorrentState::Checking => "stopped",
            other => other.label(),
        };
        let done = if e.data_missing == Some(true) {
            "     ?".to_string()
        } else {
            format!("{:>5.1}%", e.progress * 100.0)
        };
        outln!(
            "{:<40}  {:<11} {done} {:>10}  {:<10} {:>10} {:>10} {:>6.2}  {:<16} {:<16}  {}",
            e.info_hash,
            state,
            size(e.size),
            e.root_label,
            size(e.uploaded_total),
            size(e.downloaded_total),
            e.ratio,
            time(e.added_at),
            e.completed_at.map(time).unwrap_or_else(|| "-".into()),
            source::sanitize_display(e.name),
        )?;
        if !e.root_declared {
            outln!(
                "    root '{}' is not in the config file; its data is in {}",
                e.root_token,
                e.save_path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "an unknown folder".into())
            )?;
        }
        if e.data_missing == Some(true) {
            outln!(
                "    files are missing or cut short on disk: its data is checked again when it starts"
            )?;
        }
        if let Some(err) = e.error {
            outln!("    error: {err}")?;
        }
    }
    Ok(0)
}
