//! `trove mount DIR`, `trove mount --status` and `trove umount DIR`: asks the running
//! session (daemon or dashboard) to mount or unmount its torrents, or says how its mounts
//! are doing. A mount lives in the process that holds the session.

use std::path::{Path, PathBuf};

use trove_proto::{Client, Command};

use super::commands::{engine_err, outln};

/// The folder as the session must see it: absolute, from this shell's directory.
fn absolute(dir: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(dir)
        .map_err(|e| anyhow::anyhow!("cannot make '{}' an absolute path: {e}", dir.display()))
}

pub(super) async fn mount(client: &Client, dir: &Path) -> anyhow::Result<i32> {
    let dir = absolute(dir)?;
    client
        .run(Command::Mount { dir: dir.clone() })
        .await
        .map_err(engine_err)?;
    outln!("mounted on {}", dir.display())?;
    Ok(0)
}

pub(super) async fn umount(client: &Client, dir: &Path) -> anyhow::Result<i32> {
    let dir = absolute(dir)?;
    client
        .run(Command::Umount { dir: dir.clone() })
        .await
        .map_err(engine_err)?;
    outln!("unmounted {}", dir.display())?;
    Ok(0)
}

pub(super) async fn status(client: &Client, json: bool) -> anyhow::Result<i32> {
    let mounts = client.mounts().await.map_err(engine_err)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&mounts)?)?;
        return Ok(0);
    }
    if mounts.is_empty() {
        outln!("nothing mounted")?;
    }
    for m in mounts {
        let rate = if m.reads == 0 {
            "-".to_string()
        } else {
            format!(
                "{:.0}%",
                100.0 * m.reads_without_wait as f64 / m.reads as f64
            )
        };
        outln!(
            "{}  torrents {}  open files {}  reads waiting {}  reads {}  without wait {rate}  passthrough opens {}",
            m.dir.display(),
            m.torrents,
            m.open_files,
            m.reads_waiting,
            m.reads,
            m.passthrough_opens
        )?;
    }
    Ok(0)
}

/// What to say when no session runs.
pub(super) fn no_session() -> anyhow::Error {
    anyhow::anyhow!(
        "no trove session is running: a mount lives in the process holding the session, so \
         start `trove daemon` (or the dashboard) first, or list the folder under [[mounts]] \
         in the config"
    )
}
