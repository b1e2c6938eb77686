//! Getting librqbit ready: the fast-resume folder (librqbit's own session list cleared,
//! the unclean-shutdown marker checked and set) and librqbit's `SessionOptions` built
//! from trove's options.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use anyhow::Context;
use librqbit::limits::LimitsConfig;
use librqbit::{ListenerMode, ListenerOptions, SessionOptions, SessionPersistenceConfig};
use tracing::warn;
use trove_proto::snapshot::Limits;

use super::NetworkOptions;

/// Present in the fast-resume folder while a session runs; found at start = a crash.
const UNCLEAN_MARKER: &str = "session-running";

/// Makes the fast-resume folder ready for a session and tells whether the previous one
/// crashed (its marker is still there).
pub(super) fn prepare_fastresume_dir(dir: &Path) -> anyhow::Result<bool> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the fast-resume folder {}", dir.display()))?;
    // librqbit must not restore torrents on its own: sled decides what comes back.
    for stale in ["session.json", "session.json.tmp"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let marker = dir.join(UNCLEAN_MARKER);
    let crashed = marker.exists();
    std::fs::write(&marker, std::process::id().to_string())
        .with_context(|| format!("writing {}", marker.display()))?;
    if crashed {
        warn!(
            "the previous session did not shut down cleanly: unfinished torrents will be re-checked"
        );
    }
    Ok(crashed)
}

/// Marks the session as shut down cleanly.
pub(super) fn clear_unclean_marker(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(UNCLEAN_MARKER));
}

/// librqbit's options for trove's network options and global limits.
pub(super) fn session_options(
    net: &NetworkOptions,
    global: &Limits,
    fastresume_dir: Option<&Path>,
    dht_state_file: Option<PathBuf>,
) -> anyhow::Result<SessionOptions> {
    let bind_ip = net.bind.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    // Pick the port ourselves so the port announced to trackers is the one we listen on.
    let port = if net.listen_port == 0 {
        std::net::TcpListener::bind((bind_ip, 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .context("finding a free port to listen on")?
    } else {
        net.listen_port
    };
    Ok(SessionOptions {
        dht: if net.dht {
            Some(librqbit::DhtSessionConfig {
                bootstrap_addrs: None,
                port: None,
                persistence: dht_state_file.map(|f| librqbit::dht::DhtPersistenceConfig {
                    config_filename: Some(f),
                    ..Default::default()
                }),
            })
        } else {
            None
        },
        disable_trackers: !net.trackers,
        fastresume: fastresume_dir.is_some(),
        persistence: fastresume_dir.map(|folder| SessionPersistenceConfig::Json {
            folder: Some(folder.to_path_buf()),
        }),
        listen: Some(ListenerOptions {
            mode: ListenerMode::TcpOnly,
            listen_addr: SocketAddr::new(bind_ip, port),
            enable_upnp_port_forwarding: net.upnp,
            announce_port: Some(port),
            ipv4_only: bind_ip.is_ipv4(),
            ..Default::default()
        }),
        ratelimits: to_librqbit_limits(global),
        peer_limit: global.peers.map(|p| p as usize),
        disable_local_service_discovery: !net.lsd,
        ipv4_only: bind_ip.is_ipv4(),
        client_name_and_version: Some(format!("trove {}", env!("CARGO_PKG_VERSION"))),
        ..Default::default()
    })
}

/// trove's byte-rate limits as librqbit's (0 or absent = unlimited).
pub(super) fn to_librqbit_limits(l: &Limits) -> LimitsConfig {
    let bps = |v: Option<u64>| v.and_then(|v| NonZeroU32::new(v.min(u64::from(u32::MAX)) as u32));
    LimitsConfig {
        download_bps: bps(l.download_bps),
        upload_bps: bps(l.upload_bps),
    }
}
