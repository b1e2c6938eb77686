//! The commands that work on a session: add, list, pause, resume, remove, stop, and export
//! and import (whose files are `transfer`'s). Each finds the session with [`reach`]: a
//! running trove through its API, or the saved state through the engine's store API
//! ([`SavedSession`]), which the next `trove` or `trove daemon` picks up. Output, exit
//! codes and errors are the same either way.

use std::io::{Read, Write as _};
use std::path::PathBuf;

use anyhow::{Context, bail};
use humansize::{BINARY, format_size};
use serde::Serialize;

use super::AppContext;
use super::args::{AddArgs, Cli, CommandArgs, VaultArgs};
use super::edit;
use super::organize;
use super::reach::{self, Reach, reach};
use trove_engine::roots::RootManager;
use trove_engine::saved::{ReadyTorrent, SavedSession};
use trove_engine::source;
use trove_engine::store::StoredRoot;
use trove_engine::torrents::{Current, ignored_options, resolve_prefix};
use trove_proto::{
    AddOptions, Client, Command, EngineError, Limits, MissingData, QueueStatus, RootOrigin,
    TorrentSource, TorrentState, TorrentSummary,
};

/// `println!` that returns the write's error instead of panicking: a reader that closed
/// the pipe (`trove list | head -1`) ends the command quietly (see [`run`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(super) use outln;

/// Standard output for commands that print a line per torrent or per file. Rust's stdout
/// writes at every newline, a system call per line; this gathers them into large writes.
/// Call `flush` at the end so a failed write is reported, not lost in the drop.
pub(super) fn buffered_stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}

/// `value` as indented JSON on standard output, then a newline.
pub(super) fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = buffered_stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// One line per file of a torrent whose data changed behind trove's back, each after
/// `indent`: "missing: PATH" or "size changed: PATH (EXPECTED expected, FOUND found)".
pub(super) fn print_missing(
    out: &mut impl std::io::Write,
    m: &MissingData,
    indent: &str,
) -> std::io::Result<()> {
    for f in &m.missing {
        writeln!(out, "{indent}missing: {}", source::sanitize_display(f))?;
    }
    for c in &m.size_changed {
        writeln!(
            out,
            "{indent}size changed: {} ({} expected, {} found)",
            source::sanitize_display(&c.path),
            size(c.expected),
            size(c.found)
        )?;
    }
    Ok(())
}

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

pub(crate) async fn run(cli: &Cli, ctx: &AppContext, cmd: &CommandArgs) -> anyhow::Result<i32> {
    // Rust ignores SIGPIPE, so a closed stdout is a write error: not worth a word. (Putting
    // SIGPIPE back to its default would end the process silently too, but also kill a
    // session whenever a peer's socket closes under a write.)
    match run_command(cli, ctx, cmd).await {
        Err(e) if is_broken_pipe(&e) => Ok(CLOSED_PIPE_EXIT),
        other => other,
    }
}

async fn run_command(cli: &Cli, ctx: &AppContext, cmd: &CommandArgs) -> anyhow::Result<i32> {
    match cmd {
        CommandArgs::Export { file } => {
            // A running session writes its counters and answers with the same document.
            if let Some(client) = reach::running(ctx, cli).await? {
                return super::transfer::export_running(&client, file).await;
            }
            // Offline, export reads a scratch copy (so it works on a damaged store); it takes the
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
            let ready = check_sources(ctx, cli, args).await?;
            match reach(ctx, cli).await? {
                Reach::Running(client) => add_running(&client, ready, args).await,
                Reach::Saved(saved) => add_saved(&saved, ready),
            }
        }
        CommandArgs::List { json, tag } => {
            let mut listed: Vec<Listed> = match reach(ctx, cli).await? {
                Reach::Running(client) => {
                    let snapshot = client.snapshot();
                    let mut torrents = snapshot.torrents.clone();
                    torrents.sort_by_key(|t| t.added_at);
                    torrents
                        .into_iter()
                        .map(|summary| {
                            let root = snapshot
                                .roots
                                .iter()
                                .find(|r| r.token == summary.root_token);
                            Listed {
                                running: !summary.paused && summary.state != TorrentState::Error,
                                // The session says so only once it found files gone.
                                data_missing: summary.missing_data.as_ref().map(|_| true),
                                save_path: root.map(|r| r.path.clone()),
                                root_declared: root.is_some(),
                                summary,
                            }
                        })
                        .collect()
                }
                Reach::Saved(saved) => {
                    let roots = saved.roots(&ctx.roots)?;
                    saved
                        .saved_torrents(&roots)?
                        .into_iter()
                        .map(|t| Listed {
                            summary: t.summary(&roots),
                            running: false,
                            data_missing: t.data_missing,
                            root_declared: roots.by_token(&t.record.root_token).is_some(),
                            save_path: t.save_path,
                        })
                        .collect()
                }
            };
            if let Some(tag) = tag {
                let tag = tag.trim();
                listed.retain(|l| l.summary.tags.iter().any(|t| t == tag));
            }
            list(&listed, *json)
        }
        CommandArgs::Pause { ids } => set_paused(cli, ctx, ids, true).await,
        CommandArgs::Resume { ids } => set_paused(cli, ctx, ids, false).await,
        CommandArgs::Remove { ids, delete_data } => {
            let line = |hash: &str, name: &str| {
                format!(
                    "{hash}  removed{}  {name}",
                    if *delete_data { " with data" } else { "" },
                )
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
                        outln!("{}", line(&hash, &name))?;
                    }
                }
                Reach::Saved(saved) => {
                    // Printed after: a closed stdout must not stop a removal half-way.
                    let mut lines = Vec::new();
                    let roots = saved.roots(&ctx.roots)?;
                    saved.remove(&roots, ids, *delete_data, |r| {
                        lines.push(line(&r.info_hash, &r.name))
                    })?;
                    for l in lines {
                        outln!("{l}")?;
                    }
                }
            }
            Ok(0)
        }
        CommandArgs::Mount { dir, status, json } => match reach(ctx, cli).await? {
            Reach::Running(client) => match dir {
                Some(dir) if !*status => super::mount::mount(&client, dir).await,
                _ => super::mount::status(&client, *json).await,
            },
            Reach::Saved(_) => Err(super::mount::no_session()),
        },
        CommandArgs::Umount { dir } => match reach(ctx, cli).await? {
            Reach::Running(client) => super::mount::umount(&client, dir).await,
            Reach::Saved(_) => Err(super::mount::no_session()),
        },
        CommandArgs::Recheck { ids } => match reach(ctx, cli).await? {
            Reach::Running(client) => edit::recheck_running(&client, ids).await,
            Reach::Saved(saved) => edit::recheck(&saved, ids),
        },
        CommandArgs::Select { id, files } => match reach(ctx, cli).await? {
            Reach::Running(client) => edit::select_running(&client, id, files).await,
            Reach::Saved(saved) => edit::select(ctx, &saved, id, files),
        },
        CommandArgs::Limit(args) => match reach(ctx, cli).await? {
            Reach::Running(client) => edit::limit_running(&client, args).await,
            Reach::Saved(saved) => edit::limit(ctx, &saved, args),
        },
        CommandArgs::Trackers { id, add, remove } => match reach(ctx, cli).await? {
            Reach::Running(client) => edit::trackers_running(&client, id, add, remove).await,
            Reach::Saved(saved) => edit::trackers(ctx, &saved, id, add, remove),
        },
        CommandArgs::Tag { ids, add, remove } => match reach(ctx, cli).await? {
            Reach::Running(client) => organize::tag_running(&client, ids, add, remove).await,
            Reach::Saved(saved) => organize::tag(&saved, ids, add, remove),
        },
        CommandArgs::Root(args) => match reach(ctx, cli).await? {
            Reach::Running(client) => organize::root_running(&client, args).await,
            Reach::Saved(saved) => organize::root(ctx, &saved, args),
        },
        CommandArgs::Vault(VaultArgs::Keygen { path }) => {
            trove_engine::vault::keygen(path).map_err(anyhow::Error::msg)?;
            println!(
                "wrote a new vault key to {}: keep a copy somewhere safe, since without it the vault's data cannot be read",
                path.display()
            );
            Ok(0)
        }
        CommandArgs::Magnet { id } => match reach(ctx, cli).await? {
            Reach::Running(client) => edit::magnet_running(&client, id).await,
            Reach::Saved(saved) => edit::magnet(ctx, &saved, id),
        },
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
            outln!("stopped {which}")?;
            Ok(0)
        }
        CommandArgs::Queue { id, to } => super::queue::queue(reach(ctx, cli).await?, id, to).await,
        CommandArgs::Force { ids, off } => {
            super::queue::force(reach(ctx, cli).await?, ids, !*off).await
        }
        CommandArgs::QueueLimits(args) => {
            super::queue::queue_limits(ctx, reach(ctx, cli).await?, args).await
        }
        CommandArgs::Goals(args) => super::queue::goals(ctx, reach(ctx, cli).await?, args).await,
        CommandArgs::Move { ids, root, cancel } => match reach(ctx, cli).await? {
            Reach::Running(client) => {
                super::relocate::move_running(&client, ids, root.as_deref(), *cancel).await
            }
            Reach::Saved(_) => Err(super::relocate::needs_session(&ctx.data_dir)),
        },
        CommandArgs::Daemon { .. } | CommandArgs::Download(_) | CommandArgs::Token => {
            unreachable!("handled by the caller")
        }
        CommandArgs::Library { json, root } => match reach(ctx, cli).await? {
            Reach::Running(client) => {
                super::library::library_running(&client, root.as_deref(), *json).await
            }
            Reach::Saved(saved) => super::library::library(ctx, &saved, root.as_deref(), *json),
        },
        CommandArgs::Locate { id, root } => match reach(ctx, cli).await? {
            Reach::Running(client) => super::library::locate_running(&client, id, root).await,
            Reach::Saved(saved) => super::library::locate(ctx, &saved, id, root),
        },
    }
}

/// How long `trove stop` waits for the session to save and go.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub(super) fn engine_err(e: EngineError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The torrents `ids` name in a running session, with their names; one unknown or
/// ambiguous id is an error before anything is done.
pub(super) fn resolve(client: &Client, ids: &[String]) -> anyhow::Result<Vec<(String, String)>> {
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
        tags: args.tags.clone(),
        metadata_first: args.metadata_first.then(|| {
            args.metadata_size
                .unwrap_or(trove_proto::command::DEFAULT_METADATA_SIZE)
        }),
    }
}

async fn check_sources(
    ctx: &AppContext,
    cli: &Cli,
    args: &AddArgs,
) -> anyhow::Result<Vec<ReadyTorrent>> {
    let opts = add_options(args);
    // A root the config does not declare may be one kept in the store: only then is the
    // session asked for its roots.
    let roots = match ctx.roots.choose(args.root.as_deref()) {
        Ok(_) => ctx.roots.clone(),
        Err(_) => session_roots(ctx, cli).await?,
    };
    let mut ready = Vec::new();
    for text in &args.sources {
        let source = read_source(text)?;
        ready.push(
            ReadyTorrent::check(&roots, &source, &opts)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    Ok(ready)
}

/// The config's roots and the ones the session keeps in its store.
async fn session_roots(ctx: &AppContext, cli: &Cli) -> anyhow::Result<RootManager> {
    match reach(ctx, cli).await? {
        Reach::Running(client) => {
            let stored: Vec<StoredRoot> = client
                .snapshot()
                .roots
                .iter()
                .filter(|r| r.origin == RootOrigin::Store)
                .map(|r| StoredRoot {
                    label: r.label.clone(),
                    path: r.path.clone(),
                })
                .collect();
            Ok(ctx.roots.clone().with_stored(&stored).0)
        }
        Reach::Saved(saved) => saved.roots(&ctx.roots),
    }
}

fn add_saved(saved: &SavedSession, ready: Vec<ReadyTorrent>) -> anyhow::Result<i32> {
    for added in saved.add(ready)? {
        added_line(&added.info_hash, &added.name, added.new, &added.ignored)?;
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
        let wanted_root = torrent.root_token().to_string();
        let added = client
            .add(torrent.into_source(), opts.clone())
            .await
            .map_err(engine_err)?;
        let ignored = if added.new {
            Vec::new()
        } else {
            let snapshot = client.snapshot();
            snapshot
                .torrents
                .iter()
                .find(|t| t.info_hash == added.info_hash)
                .map(|t| ignored_options(&Current::of_summary(t), &wanted_root, &opts))
                .unwrap_or_default()
        };
        added_line(&added.info_hash, &added.name, added.new, &ignored)?;
    }
    Ok(0)
}

/// What `add` prints of one torrent: its info-hash, and on stderr what was not done when
/// it was in the session already.
fn added_line(hash: &str, name: &str, new: bool, ignored: &[String]) -> std::io::Result<()> {
    if !new {
        eprintln!("{hash} is already in the session ({name})");
        for note in ignored {
            eprintln!("  {note}");
        }
    }
    outln!("{hash}")
}

async fn set_paused(
    cli: &Cli,
    ctx: &AppContext,
    ids: &[String],
    paused: bool,
) -> anyhow::Result<i32> {
    let line = |hash: &str, name: &str| {
        format!(
            "{hash}  {}  {name}",
            if paused { "paused" } else { "resumed" }
        )
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
                outln!("{}", line(&hash, &name))?;
            }
        }
        Reach::Saved(saved) => {
            let mut lines = Vec::new();
            saved.set_paused(ids, paused, |r| lines.push(line(&r.info_hash, &r.name)))?;
            for l in lines {
                outln!("{l}")?;
            }
        }
    }
    Ok(0)
}

/// One torrent to list, from a running session or the saved one.
struct Listed {
    summary: TorrentSummary,
    /// A session is running it now.
    running: bool,
    /// Files it had data in are gone or cut short (looked at only with no session running).
    data_missing: Option<bool>,
    /// The folder its data is in: its root's, from the config or as recorded.
    save_path: Option<PathBuf>,
    /// The config file still declares its root.
    root_declared: bool,
}

/// A torrent's tags as the commands print them: `a, b`, or `none`.
pub(super) fn describe_tags(tags: &[String]) -> String {
    if tags.is_empty() {
        return "none".into();
    }
    tags.iter()
        .map(|t| source::sanitize_display(t))
        .collect::<Vec<_>>()
        .join(", ")
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
    /// The state it is in (with no session running: the last state it was seen in).
    state: TorrentState,
    progress: f64,
    size: u64,
    have_bytes: u64,
    root_label: &'a str,
    root_token: &'a str,
    save_path: &'a Option<PathBuf>,
    added_at: i64,
    completed_at: Option<i64>,
    uploaded_total: u64,
    downloaded_total: u64,
    ratio: f64,
    paused: bool,
    limits: Limits,
    only_files: &'a Option<Vec<usize>>,
    /// Its tags, sorted.
    tags: &'a [String],
    error: &'a Option<String>,
    /// Whether a session is running the torrent now.
    running: bool,
    /// True when files the torrent had data in are gone or cut short on disk; null when
    /// not looked at (a session is running, no data yet, no metadata, root unknown).
    data_missing: Option<bool>,
    /// Whether the config file still declares the torrent's root.
    root_declared: bool,
    /// Its place in the queue, whether it waits for a slot or is forced, and its seeding
    /// goals with how far each is (null for a magnet waiting for metadata, and with no
    /// session running).
    queue: &'a Option<QueueStatus>,
    /// The state as a word: `metadata` for a magnet waiting for its metadata.
    #[serde(skip)]
    label: &'static str,
    /// A move of its data to another storage root under way: the root's label and the
    /// bytes copied so far, of the total.
    moving: &'a Option<trove_proto::snapshot::MoveProgress>,
    /// The files concerned when its data is missing: `missing` (paths inside the torrent)
    /// and `size_changed` (path, expected and found sizes); null otherwise.
    missing_data: &'a Option<MissingData>,
}

fn list(listed: &[Listed], json: bool) -> anyhow::Result<i32> {
    let entries: Vec<ListEntry> = listed
        .iter()
        .map(|l| {
            let t = &l.summary;
            ListEntry {
                info_hash: &t.info_hash,
                name: &t.name,
                state: t.state,
                progress: t.progress,
                size: t.size,
                have_bytes: t.have_bytes,
                root_label: &t.root_label,
                root_token: &t.root_token,
                save_path: &l.save_path,
                added_at: t.added_at,
                completed_at: t.completed_at,
                uploaded_total: t.uploaded_total,
                downloaded_total: t.downloaded_total,
                ratio: t.ratio,
                paused: t.paused,
                limits: t.limits,
                only_files: &t.only_files,
                tags: &t.tags,
                error: &t.error,
                running: l.running,
                data_missing: l.data_missing,
                root_declared: l.root_declared,
                queue: &t.queue,
                label: t.state_label(),
                moving: &l.summary.moving,
                missing_data: &t.missing_data,
            }
        })
        .collect();
    if json {
        print_json(&entries)?;
        return Ok(0);
    }
    if entries.is_empty() {
        outln!("no torrents yet: add one with `trove add MAGNET|FILE|URL`")?;
        return Ok(0);
    }
    let mut out = buffered_stdout();
    writeln!(
        out,
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
            _ if e.moving.is_some() => {
                format!("moving {}%", e.moving.as_ref().map_or(0, |m| m.percent()))
            }
            TorrentState::Downloading | TorrentState::Seeding | TorrentState::Checking
                if !e.running =>
            {
                "stopped".to_string()
            }
            TorrentState::Queued => match e.queue {
                Some(q) if q.waiting => format!("queued #{}", q.position),
                _ => e.label.to_string(),
            },
            _ => e.label.to_string(),
        };

        let done = if e.data_missing == Some(true) {
            "     ?".to_string()
        } else {
            format!("{:>5.1}%", e.progress * 100.0)
        };
        writeln!(
            out,
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
            writeln!(
                out,
                "    root '{}' is not in the config file; its data is in {}",
                e.root_token,
                e.save_path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "an unknown folder".into())
            )?;
        }
        if !e.tags.is_empty() {
            writeln!(out, "    tags: {}", describe_tags(e.tags))?;
        }
        if e.queue.as_ref().is_some_and(|q| q.forced) {
            writeln!(out, "    forced: runs regardless of the queue's limits")?;
        }
        if let Some(m) = &e.missing_data {
            print_missing(&mut out, m, "    ")?;
        }
        if let Some(err) = e.error {
            writeln!(out, "    error: {err}")?;
        }
    }
    out.flush()?;
    Ok(0)
}
