//! `trove move`: moving torrents' data to another storage root in the running session,
//! waiting for each move to end, and `trove move --cancel`. Moving needs a running session
//! (the copy runs in it, while the torrent keeps seeding).

use std::collections::BTreeSet;

use anyhow::bail;
use trove_engine::source;
use trove_proto::log::{LogFilter, LogLevel};
use trove_proto::{Client, Command, Link};

use super::commands::{engine_err, outln, resolve};

/// What `trove move` says when no session runs.
pub(super) fn needs_session(data_dir: &std::path::Path) -> anyhow::Error {
    anyhow::anyhow!(
        "no trove is running on {}: moving data happens in a running session; start `trove daemon` (or the dashboard) first",
        data_dir.display()
    )
}

pub(super) async fn move_running(
    client: &Client,
    ids: &[String],
    root: Option<&str>,
    cancel: bool,
) -> anyhow::Result<i32> {
    let found = resolve(client, ids)?;
    if cancel {
        for (hash, name) in &found {
            client
                .run(Command::CancelMove(hash.clone()))
                .await
                .map_err(engine_err)?;
            outln!("{hash}  move cancelled  {}", source::sanitize_display(name))?;
        }
        return Ok(0);
    }
    let Some(root) = root else {
        bail!("say where to move to with --root LABEL, or stop a move with --cancel");
    };
    client
        .run(Command::Move {
            ids: found.iter().map(|(h, _)| h.clone()).collect(),
            root: root.to_string(),
        })
        .await
        .map_err(engine_err)?;
    // A move has ended once its torrent shows no move under way and is in the target, or
    // showed one and no longer does. An attached client's snapshots may trail the answer,
    // so a torrent seen in neither state is given a few seconds before counting as ended
    // (a copy that failed at once is never seen moving).
    let wanted = root.trim();
    let mut seen_moving: BTreeSet<&str> = BTreeSet::new();
    let grace = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut snapshots = client.watch();
    let mut link = client.link();
    loop {
        let pending = {
            let snapshot = snapshots.borrow_and_update();
            let mut pending = false;
            for (hash, _) in &found {
                let Some(t) = snapshot.torrents.iter().find(|t| &t.info_hash == hash) else {
                    continue;
                };
                if t.moving.is_some() {
                    seen_moving.insert(hash.as_str());
                    pending = true;
                } else if !seen_moving.contains(hash.as_str())
                    && t.root_label != wanted
                    && t.root_token != wanted
                    && tokio::time::Instant::now() < grace
                {
                    pending = true;
                }
            }
            pending
        };
        if !pending {
            break;
        }
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() { bail!("the session went away during the move") },
            _ = link.wait_for(|l| matches!(l, Link::Lost(_))) => bail!("the session went away during the move"),
            () = tokio::time::sleep_until(grace), if tokio::time::Instant::now() < grace => {}
        }
    }
    let snapshot = client.snapshot();
    let mut failed = 0;
    for (hash, name) in &found {
        let name = source::sanitize_display(name);
        let t = snapshot.torrents.iter().find(|t| &t.info_hash == hash);
        match t {
            Some(t) if t.root_label == wanted || t.root_token == wanted => {
                outln!("{hash}  moved to '{}'  {name}", t.root_label)?;
            }
            _ => {
                failed += 1;
                let why = last_warning(client, hash)
                    .await
                    .unwrap_or_else(|| format!("{name} stays where it was"));
                eprintln!("trove: {why}");
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// The newest warning the session logged about the torrent.
async fn last_warning(client: &Client, hash: &str) -> Option<String> {
    let lines = client
        .log(LogFilter {
            min_level: LogLevel::Warn,
            info_hash: Some(hash.to_string()),
        })
        .await
        .ok()?;
    lines.last().map(|l| l.message.clone())
}
