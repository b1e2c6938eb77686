//! The `trove` command: reads arguments and config, sets up logging, and runs the
//! dashboard, the daemon, a one-shot download, or a command on the session.

pub mod args;
mod commands;
mod edit;
mod library;
mod mount;
mod organize;
mod queue;
mod reach;
mod relocate;
mod serve;
mod transfer;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{self, Config};
use crate::paths;
use crate::watch::Watchers;
use args::{Cli, CommandArgs, DownloadArgs, SessionArgs};
use trove_engine::logring::{DEFAULT_LOG_CAPACITY, LogRing, RingFilter};
use trove_engine::roots::{RootManager, RootSpec};
use trove_engine::saved::{RunningSession, SavedSession};
use trove_engine::session::{self, EngineOptions, NetworkOptions};
use trove_engine::store::{MemoryStore, SessionStore};
use trove_engine::vault::{Suite, VaultSpec};
use trove_proto::snapshot::{Limits, TorrentState};
use trove_proto::{AddOptions, Client};

/// Everything resolved from flags, environment and the config file.
pub(crate) struct AppContext {
    pub data_dir: PathBuf,
    /// True when the user chose the data dir (flag or env): logs then stay inside it.
    pub data_dir_explicit: bool,
    pub config: Config,
    pub roots: RootManager,
}

fn load_context(cli: &Cli) -> anyhow::Result<AppContext> {
    let (config_path, must_exist) = match &cli.config {
        Some(p) => (p.clone(), true),
        None => (paths::default_config_file(), false),
    };
    let config = config::load(&config_path, must_exist).map_err(|e| anyhow::anyhow!("{e}"))?;
    let specs: Vec<RootSpec> = config
        .roots
        .iter()
        .map(|r| RootSpec {
            label: r.label.clone(),
            path: r.path.clone(),
            token: r.token.clone(),
            default: r.default,
            complete_to: r.complete_to.clone(),
            vault: r
                .key_file
                .clone()
                .filter(|_| r.kind == config::RootKind::Vault)
                .map(|key_file| VaultSpec {
                    key_file,
                    cipher: r.cipher.map(|c| match c {
                        config::VaultCipher::Aes256Gcm => Suite::Aes256Gcm,
                        config::VaultCipher::XChaCha20Poly1305 => Suite::XChaCha20Poly1305,
                    }),
                }),
        })
        .collect();
    let roots = RootManager::new(&specs, paths::default_download_dir());
    Ok(AppContext {
        data_dir: cli.data_dir.clone().unwrap_or_else(paths::default_data_dir),
        data_dir_explicit: cli.data_dir.is_some(),
        config,
        roots,
    })
}

/// How log lines leave the process besides the in-memory ring.
#[derive(Clone, Copy, PartialEq)]
enum LogTo {
    /// The dashboard owns the terminal: ring and file only.
    FileOnly,
    /// The daemon: also stderr.
    FileAndStderr,
    /// One-shot downloads: stderr, no log file (they are stateless: nothing is written
    /// to the data dir, which may not even exist).
    StderrOnly,
    /// Offline commands: warnings and errors on stderr only.
    Quiet,
}

fn init_logging(
    cli: &Cli,
    ctx: &AppContext,
    to: LogTo,
) -> anyhow::Result<(LogRing, Option<tracing_appender::non_blocking::WorkerGuard>)> {
    let ring = LogRing::new(DEFAULT_LOG_CAPACITY);
    let filter_text = cli
        .log_level
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".to_string());
    let make_filter = || {
        EnvFilter::try_new(&filter_text).map_err(|e| {
            anyhow::anyhow!(
                "'{filter_text}' is not a log level: use error, warn, info, debug or trace ({e})"
            )
        })
    };
    let mut guard = None;
    let file_layer = if matches!(to, LogTo::Quiet | LogTo::StderrOnly) {
        None
    } else {
        let dir = if ctx.data_dir_explicit {
            ctx.data_dir.join("logs")
        } else {
            paths::default_state_dir()
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the log folder {}", dir.display()))?;
        let appender = tracing_appender::rolling::daily(&dir, "trove.log");
        let (writer, g) = tracing_appender::non_blocking(appender);
        guard = Some(g);
        Some(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(make_filter()?),
        )
    };
    let stderr_layer = match to {
        LogTo::FileOnly => None,
        LogTo::FileAndStderr | LogTo::StderrOnly => Some(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
                )
                .with_filter(make_filter()?)
                .boxed(),
        ),
        LogTo::Quiet => Some(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .without_time()
                .with_target(false)
                .with_filter(EnvFilter::new("error"))
                .boxed(),
        ),
    };
    tracing_subscriber::registry()
        // librqbit's `torrent` span is DEBUG: keep spans on for the ring even at `info`,
        // or its lines lose the torrent they belong to.
        .with(
            ring.layer()
                .with_filter(make_filter()?.or(RingFilter::spans_only())),
        )
        .with(file_layer)
        .with(stderr_layer)
        .try_init()
        .context("setting up logging")?;
    Ok((ring, guard))
}

/// Command line > limits set in the dashboard (kept in the store) > config file.
fn session_limits(cfg: &Config, stored: Option<Limits>, args: &SessionArgs) -> Limits {
    let mut l = stored.unwrap_or_else(|| cfg.limits.to_limits());
    if let Some(d) = args.download_limit {
        l.download_bps = d.0;
    }
    if let Some(u) = args.upload_limit {
        l.upload_bps = u.0;
    }
    if let Some(p) = args.peer_limit {
        l.peers = (p > 0).then_some(p);
    }
    l
}

fn network(cfg: &Config) -> NetworkOptions {
    let n = &cfg.network;
    NetworkOptions {
        listen_port: n.listen_port.unwrap_or(4240),
        bind: n.bind,
        dht: n.dht,
        lsd: n.lsd,
        upnp: n.upnp,
        trackers: n.trackers,
    }
}

async fn start_persistent(
    ctx: &AppContext,
    ring: &LogRing,
    args: &SessionArgs,
) -> anyhow::Result<(Client, RunningSession)> {
    let saved = SavedSession::open(&ctx.data_dir)?;
    let limits = session_limits(&ctx.config, saved.stored_limits()?, args);
    saved
        .start(
            ctx.roots.clone(),
            limits,
            network(&ctx.config),
            ring.clone(),
            trove_engine::saved::StartSettings {
                queue: ctx.config.queue.to_limits(),
                goals: ctx.config.seeding.to_goals(),
                mounts: ctx.config.mounts.iter().map(|m| m.path.clone()).collect(),
                mount_options: ctx.config.mount.to_options()?,
                vault_cache_bytes: ctx.config.cache.size,
            },
        )
        .await
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let ctx = load_context(&cli)?;
    match &cli.command {
        None => run_dashboard(&cli, &ctx).await,
        Some(CommandArgs::Daemon {
            exit_when_complete,
            session,
        }) => {
            let (ring, _guard) = init_logging(&cli, &ctx, LogTo::FileAndStderr)?;
            run_daemon(&ctx, &ring, session, *exit_when_complete).await
        }
        Some(CommandArgs::Download(args)) => {
            let (ring, _guard) = init_logging(&cli, &ctx, LogTo::StderrOnly)?;
            run_download(&ctx, &ring, args).await
        }
        Some(CommandArgs::Token) => {
            let token = trove_api::load_or_create_token(&ctx.data_dir).with_context(|| {
                format!(
                    "reading or creating the API token in {}",
                    ctx.data_dir.display()
                )
            })?;
            println!("{token}");
            Ok(0)
        }
        Some(other) => {
            let _ = init_logging(&cli, &ctx, LogTo::Quiet)?;
            commands::run(&cli, &ctx, other).await
        }
    }
}

async fn run_dashboard(cli: &Cli, ctx: &AppContext) -> anyhow::Result<i32> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = cli
        .theme
        .clone()
        .or_else(|| ctx.config.ui.theme.clone())
        .unwrap_or_else(|| "default".to_string());
    // Fail on a bad theme before the terminal is taken over.
    trove_ui::load_theme(&theme, no_color)?;
    let refresh_ms = cli
        .refresh_ms
        .or(ctx.config.ui.refresh_ms)
        .unwrap_or(1000)
        .max(50);
    let mut options = trove_ui::UiOptions {
        refresh: Duration::from_millis(refresh_ms),
        theme,
        keymap: ctx.config.ui.keymap.clone(),
        no_color,
        // The dashboard's own preferences (sort order, log level), kept between runs.
        state_file: Some(ui_state_file(ctx)),
        stream_base: None,
    };
    // A trove already runs (a daemon, or another dashboard holding the session): attach
    // to it. Quitting then leaves it running.
    if let Some(client) = reach::running(ctx, cli).await? {
        need_terminal()?;
        options.stream_base = stream_base(ctx, cli);
        trove_ui::run(client, options).await?;
        return Ok(0);
    }
    // Otherwise this dashboard holds the session itself, and serves it to other clients
    // while it runs. Quitting stops the session, as it always has: a session that outlives
    // its dashboard is what `trove daemon` is for.
    let (ring, _guard) = init_logging(cli, ctx, LogTo::FileOnly)?;
    let (client, session) = start_persistent(ctx, &ring, &cli.session).await?;
    // Checked once the store is open, so a damaged store is still reported as such.
    if let Err(e) = need_terminal() {
        session.shutdown().await;
        return Err(e);
    }
    let api = serve::ApiServer::start(ctx, &client).await?;
    // After the API is up: its start writes the token the URLs carry.
    options.stream_base = stream_base(ctx, cli);
    let watchers = Watchers::start(&ctx.config, &client);
    let mut stop = session.stop_requested();
    let result = tokio::select! {
        result = trove_ui::run(client, options) => result,
        // `trove stop` from elsewhere: leave as on `q` (the terminal is given back when the
        // dashboard is dropped).
        _ = stop.wait_for(|s| *s) => Ok(()),
    };
    watchers.stop().await;
    // The API goes last: its clients see the session go once everything is saved.
    session.shutdown().await;
    api.stop().await;
    result.map(|_| 0)
}

/// Where the Files tab's stream URLs point: the session `--connect` names when it is
/// reached over TCP (with the token given for it), else this data dir's session when the
/// config has its API listen on TCP (with the data dir's token). `None`: no TCP, no URLs.
fn stream_base(ctx: &AppContext, cli: &Cli) -> Option<trove_ui::StreamBase> {
    if let Some(url) = &cli.connect {
        let trove_api::Endpoint::Http(authority) = trove_api::Endpoint::parse(url).ok()? else {
            return None;
        };
        return Some(trove_ui::StreamBase {
            url: format!("http://{authority}"),
            token: reach::given_token(cli),
        });
    }
    let addr = ctx.config.api.listen?;
    // A wildcard address is reached on this machine through loopback.
    let host = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Some(trove_ui::StreamBase {
        url: format!("http://{host}:{}", addr.port()),
        token: trove_api::read_token(&ctx.data_dir).ok(),
    })
}

fn need_terminal() -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!(
            "the dashboard needs a terminal: run `trove` in one, or `trove daemon` to run the session without it"
        );
    }
    Ok(())
}

/// Where the dashboard keeps its preferences: in the data dir the user chose, else in the
/// XDG state folder with the logs.
fn ui_state_file(ctx: &AppContext) -> PathBuf {
    if ctx.data_dir_explicit {
        ctx.data_dir.join("ui.toml")
    } else {
        paths::default_state_dir().join("ui.toml")
    }
}

async fn run_daemon(
    ctx: &AppContext,
    ring: &LogRing,
    args: &SessionArgs,
    exit_when_complete: bool,
) -> anyhow::Result<i32> {
    use tokio::signal::unix::{SignalKind, signal};
    // Catch signals before the session starts: one that arrives while the store is being
    // read and the session built must still end in a clean, saved shutdown.
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let (handle, session) = start_persistent(ctx, ring, args).await?;
    let api = serve::ApiServer::start(ctx, &handle).await?;
    let watchers = Watchers::start(&ctx.config, &handle);
    let mut stop = session.stop_requested();
    let mut snapshots = handle.watch();
    let code = loop {
        tokio::select! {
            _ = term.recv() => break 0,
            _ = int.recv() => break 0,
            _ = hup.recv() => break 0,
            _ = stop.wait_for(|s| *s) => break 0,
            changed = snapshots.changed(), if exit_when_complete => {
                if changed.is_err() { break 1; }
                let snap = snapshots.borrow_and_update().clone();
                if let Some(t) = snap.torrents.iter().find(|t| t.state == TorrentState::Error) {
                    eprintln!("trove: {} ({}) failed: {}", t.name, t.info_hash, t.error.as_deref().unwrap_or("unknown error"));
                    break 1;
                }
                // Paused torrents are not waited for.
                let done = snap
                    .torrents
                    .iter()
                    .all(|t| matches!(t.state, TorrentState::Seeding | TorrentState::Paused));
                if done {
                    tracing::info!("every torrent is complete; exiting");
                    break 0;
                }
            }
        }
    };
    watchers.stop().await;
    session.shutdown().await;
    api.stop().await;
    Ok(code)
}

async fn run_download(
    ctx: &AppContext,
    ring: &LogRing,
    args: &DownloadArgs,
) -> anyhow::Result<i32> {
    let roots = match &args.output {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the output folder {}", dir.display()))?;
            let dir = std::fs::canonicalize(dir)?;
            RootManager::new(
                &[RootSpec {
                    label: "output".into(),
                    path: dir,
                    token: None,
                    default: true,
                    complete_to: None,
                    vault: None,
                }],
                PathBuf::new(),
            )
        }
        None => {
            // Check the label now, so a typo fails before anything starts.
            ctx.roots
                .choose(args.root.as_deref())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            ctx.roots.clone()
        }
    };
    let mut net = network(&ctx.config);
    // A one-shot download must not fight a running daemon for its port.
    net.listen_port = 0;
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let limits = session_limits(&ctx.config, None, &args.session);
    let (handle, task) = session::start(EngineOptions {
        store,
        roots,
        limits,
        network: net,
        fastresume_dir: None,
        dht_state_file: None,
        log: ring.clone(),
        // A one-shot download fetches everything at once and seeds no further.
        queue: Default::default(),
        goals: None,
        mounts: Vec::new(),
        mount_options: Default::default(),
        vault_cache_bytes: ctx.config.cache.size,
    })
    .await?;
    let result = download_all(&handle, args).await;
    // Nothing to save: a one-shot download keeps no session, every finished piece is
    // already written and verified, and librqbit's orderly stop always waits a second.
    // Leaving the engine to the runtime's shutdown ends the process at once.
    drop(task);
    result
}

async fn download_all(handle: &Client, args: &DownloadArgs) -> anyhow::Result<i32> {
    let mut hashes = Vec::new();
    for src in &args.sources {
        let source = commands::read_source(src)?;
        let added = handle
            .add(
                source,
                AddOptions {
                    root: if args.output.is_some() {
                        None
                    } else {
                        args.root.clone()
                    },
                    peers: args.peers.clone(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        hashes.push(added.info_hash);
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    });
    let mut snapshots = handle.watch();
    // One listener for the whole download: a Ctrl-C between two snapshots is not lost.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let snap = snapshots.borrow_and_update().clone();
        let ours: Vec<_> = snap
            .torrents
            .iter()
            .filter(|t| hashes.contains(&t.info_hash))
            .collect();
        if let Some(t) = ours.iter().find(|t| t.state == TorrentState::Error) {
            if let Some(b) = &bar {
                b.abandon();
            }
            bail!(
                "{} failed: {}",
                t.name,
                t.error.as_deref().unwrap_or("unknown error")
            );
        }
        if let Some(b) = &bar {
            b.set_length(ours.iter().map(|t| t.selected_bytes).sum());
            b.set_position(ours.iter().map(|t| t.have_bytes).sum());
            let names: Vec<&str> = ours.iter().map(|t| t.name.as_str()).collect();
            b.set_message(names.join(", "));
        }
        if ours.len() == hashes.len() && ours.iter().all(|t| t.state == TorrentState::Seeding) {
            if let Some(b) = &bar {
                b.finish();
            }
            for t in &ours {
                println!("{}  {}  complete", t.info_hash, t.name);
            }
            return Ok(0);
        }
        tokio::select! {
            r = snapshots.changed() => { if r.is_err() { bail!("the engine stopped"); } }
            _ = &mut interrupted => {
                // Cleared, not left: the terminal's `^C` echo has already moved the cursor,
                // and a bar left behind would be drawn a second time above the message.
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                bail!("interrupted");
            }
        }
    }
}
