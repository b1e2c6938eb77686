//! Watch folders: `[[roots]] watch = "DIR"` makes every `.torrent` or `.magnet` file put in
//! DIR a torrent of that root. The process that holds the session runs them, as a client of
//! the session like any other.
//!
//! A file is read when its writer is done with it: when the kernel says a file opened for
//! writing was closed, or a file was moved in (how careful tools drop files, atomically).
//! A file that was merely created may still be half-written, so it waits. At start, and
//! every [`RESCAN`] after, the folder is read again for what notifications could not say
//! (files dropped while nothing ran, file systems without notifications), taking only
//! files nobody has changed for [`SETTLED`] (at start, all of them: they were dropped while
//! nothing ran). A taken file is renamed `.added` (or
//! `.invalid`, with the reason in the log), so nothing is added twice across restarts.

mod file;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use trove_proto::Client;

use crate::config::Config;
use file::Outcome;

/// How often a folder is read again, besides its notifications.
const RESCAN: Duration = Duration::from_secs(30);

/// A file unchanged for this long is complete as far as a scan can tell.
const SETTLED: Duration = Duration::from_secs(5);

/// The watch folders of one session, each in its own task, until [`Watchers::stop`].
pub(crate) struct Watchers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Watchers {
    /// Starts one task per root with a `watch` folder.
    pub(crate) fn start(config: &Config, client: &Client) -> Watchers {
        let (stop, stopped) = watch::channel(false);
        let tasks = config
            .roots
            .iter()
            .filter_map(|r| {
                let dir = r.watch.clone()?;
                let folder = Folder {
                    dir,
                    root: r.label.clone(),
                    later: HashMap::new(),
                };
                Some(tokio::spawn(folder.run(client.clone(), stopped.clone())))
            })
            .collect();
        Watchers { stop, tasks }
    }

    pub(crate) async fn stop(self) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

struct Folder {
    dir: PathBuf,
    root: String,
    /// Files left for a later try, with the reason last logged (each reason is logged once).
    later: HashMap<PathBuf, String>,
}

impl Folder {
    async fn run(mut self, client: Client, mut stopped: watch::Receiver<bool>) {
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            tracing::error!(
                "watch folder {} of root {} cannot be created: {e}; nothing is watched there",
                self.dir.display(),
                self.root
            );
            return;
        }
        // Watch first, then scan: a file dropped between the two is seen either way.
        let (tx, mut ready) = mpsc::unbounded_channel::<PathBuf>();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && writer_is_done(&event.kind)
            {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        })
        .and_then(|mut w| w.watch(&self.dir, RecursiveMode::NonRecursive).map(|_| w));
        let _watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "watch folder {}: no notifications ({e}); it is read every {} s instead",
                    self.dir.display(),
                    RESCAN.as_secs()
                );
                None
            }
        };
        tracing::info!(
            "watching {} for .torrent and .magnet files (root {})",
            self.dir.display(),
            self.root
        );
        // What was dropped while nothing ran is complete: take all of it now.
        if !self.scan(&client, false).await {
            return;
        }
        let mut rescan = tokio::time::interval_at(tokio::time::Instant::now() + RESCAN, RESCAN);
        loop {
            // The guard `wait_for` returns is not `Send`: drop it inside its own future.
            let stop = async {
                let _ = stopped.wait_for(|s| *s).await;
            };
            let keep_going = tokio::select! {
                _ = stop => false,
                _ = rescan.tick() => self.scan(&client, true).await,
                Some(path) = ready.recv() => self.take(&client, &path).await,
            };
            if !keep_going {
                break;
            }
        }
    }

    /// Takes every candidate in the folder (only settled ones when `settled_only`). False
    /// once the session has stopped.
    async fn scan(&mut self, client: &Client, settled_only: bool) -> bool {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("watch folder {} cannot be read: {e}", self.dir.display());
                return true;
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| file::is_candidate(p) && (!settled_only || settled(p)))
            .collect();
        paths.sort();
        for path in paths {
            if !self.take(client, &path).await {
                return false;
            }
        }
        true
    }

    /// Takes one file if it is still there. False once the session has stopped.
    async fn take(&mut self, client: &Client, path: &Path) -> bool {
        if path.parent() != Some(self.dir.as_path()) || !file::is_candidate(path) || !path.is_file()
        {
            return true;
        }
        let shown = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match file::take(client, path, &self.root).await {
            Outcome::Added { name, new } => {
                self.later.remove(path);
                if new {
                    tracing::info!(
                        "watch folder {}: added '{name}' from {shown} to root {}",
                        self.dir.display(),
                        self.root
                    );
                } else {
                    tracing::info!(
                        "watch folder {}: '{name}' from {shown} is already in the session",
                        self.dir.display()
                    );
                }
            }
            Outcome::Invalid { reason } => {
                self.later.remove(path);
                tracing::warn!(
                    "watch folder {}: {shown} is not a torrent ({reason}); renamed to {shown}.invalid",
                    self.dir.display()
                );
            }
            Outcome::Later { reason } => {
                if self.later.get(path) != Some(&reason) {
                    tracing::warn!(
                        "watch folder {}: {shown} not added yet ({reason}); it is tried again every {} s",
                        self.dir.display(),
                        RESCAN.as_secs()
                    );
                    self.later.insert(path.to_path_buf(), reason);
                }
            }
            Outcome::Stopped => return false,
        }
        true
    }
}

/// The events after which a file is complete: its writer closed it, or it was moved in.
fn writer_is_done(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
    )
}

/// Unchanged for [`SETTLED`] (a clock that went back counts as settled).
fn settled(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|modified| {
            SystemTime::now()
                .duration_since(modified)
                .map_or(true, |age| age >= SETTLED)
        })
        .unwrap_or(false)
}
