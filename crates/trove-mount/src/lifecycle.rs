//! Mounting and unmounting, the tree kept up to date from the session's snapshots, and
//! the clean-up of mounts a killed trove left behind (the kernel then answers "Transport
//! endpoint is not connected" for the folder until someone unmounts it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};

use crate::SealedData;
use fuser::{BackgroundSession, MountOption};
use librqbit::Api;
use librqbit::ManagedTorrent;
use tokio::task::JoinHandle;
use tracing::{info, warn};
use trove_proto::Client;
use trove_proto::command::MountInfo;
use trove_proto::snapshot::SessionSnapshot;

use crate::MountOptions;
use crate::fs::{Shared, TroveFs};
use crate::tree::{FileNode, TorrentEntry, TorrentInfo};

/// The name mounts are made with, which tells trove's mounts from others in the mount
/// table.
const FS_NAME: &str = "trove";

struct Mounted {
    /// Dropping it unmounts.
    session: Option<BackgroundSession>,
    shared: Arc<Shared>,
    refresh: JoinHandle<()>,
}

/// The mounts of one session.
pub struct Mounts {
    api: Api,
    client: Option<Client>,
    opts: MountOptions,
    sealed: Arc<dyn SealedData>,
    mounted: HashMap<PathBuf, Mounted>,
}

impl Mounts {
    /// `sealed` reads the torrents whose data is not plain files (vault roots).
    pub fn new(api: Api, opts: MountOptions, sealed: Arc<dyn SealedData>) -> Mounts {
        Mounts {
            api,
            client: None,
            opts,
            sealed,
            mounted: HashMap::new(),
        }
    }

    /// The client the mounts use to see snapshots and remove torrents; mounting needs it.
    pub fn set_client(&mut self, client: Client) {
        self.client = Some(client);
    }

    /// Mounts the session's torrents on `dir` (made if missing). Must be called on the
    /// session's tokio runtime.
    pub fn mount(&mut self, dir: &Path) -> anyhow::Result<()> {
        if !dir.is_absolute() {
            bail!(
                "the mount point '{}' is not an absolute path: give the full path",
                dir.display()
            );
        }
        if self.mounted.contains_key(dir) {
            bail!(
                "'{}' is already mounted by this session: `trove mount --status` lists the mounts",
                dir.display()
            );
        }
        let Some(client) = self.client.clone() else {
            bail!("the session is not ready to mount yet: try again");
        };
        clean_if_stale(dir);
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the mount point '{}'", dir.display()))?;
        if !std::path::Path::new("/dev/fuse").exists() {
            bail!(
                "/dev/fuse is missing: this system cannot mount FUSE filesystems (load the fuse module)"
            );
        }
        let shared = Arc::new(Shared::new(
            self.api.clone(),
            client.clone(),
            self.opts.clone(),
            self.sealed.clone(),
        ));
        refresh(&shared, &self.api, &client.snapshot());
        let fs = TroveFs::new(shared.clone(), tokio::runtime::Handle::current());
        let options = [
            MountOption::FSName(FS_NAME.to_string()),
            MountOption::Subtype(FS_NAME.to_string()),
            MountOption::DefaultPermissions,
            MountOption::NoExec,
            MountOption::NoSuid,
            MountOption::NoDev,
        ];
        let session = fuser::spawn_mount2(fs, dir, &options).with_context(|| {
            format!(
                "mounting on '{}' (is fusermount3 installed, from the fuse3 package, and the folder yours?)",
                dir.display()
            )
        })?;
        let refresh = tokio::spawn(refresh_loop(shared.clone(), self.api.clone(), client));
        info!(dir = %dir.display(), "torrents mounted");
        self.mounted.insert(
            dir.to_path_buf(),
            Mounted {
                session: Some(session),
                shared,
                refresh,
            },
        );
        Ok(())
    }

    /// Unmounts `dir`; lazily if files are still open there.
    pub fn unmount(&mut self, dir: &Path) -> anyhow::Result<()> {
        let Some(mut m) = self.mounted.remove(dir) else {
            bail!(
                "'{}' is not mounted by this session: `trove mount --status` lists the mounts",
                dir.display()
            );
        };
        m.refresh.abort();
        drop(m.session.take());
        if is_mounted(dir) {
            lazy_unmount(dir);
        }
        info!(dir = %dir.display(), "torrents unmounted");
        Ok(())
    }

    pub fn unmount_all(&mut self) {
        let dirs: Vec<PathBuf> = self.mounted.keys().cloned().collect();
        for d in dirs {
            if let Err(e) = self.unmount(&d) {
                warn!("{e:#}");
            }
        }
    }

    pub fn status(&self) -> Vec<MountInfo> {
        let mut out: Vec<MountInfo> = self
            .mounted
            .iter()
            .map(|(dir, m)| {
                let s = &m.shared;
                MountInfo {
                    dir: dir.clone(),
                    torrents: s.tree.read().map(|t| t.torrent_count()).unwrap_or(0),
                    open_files: s.open_files(),
                    reads_waiting: s.stats.waiting.load(Ordering::Relaxed),
                    reads: s.stats.reads.load(Ordering::Relaxed),
                    reads_without_wait: s.stats.hits.load(Ordering::Relaxed),
                    passthrough_opens: s.stats.passthrough_opens.load(Ordering::Relaxed),
                }
            })
            .collect();
        out.sort_by(|a, b| a.dir.cmp(&b.dir));
        out
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        self.unmount_all();
    }
}

async fn refresh_loop(shared: Arc<Shared>, api: Api, client: Client) {
    let mut watch = client.watch();
    while watch.changed().await.is_ok() {
        let snap = watch.borrow_and_update().clone();
        refresh(&shared, &api, &snap);
    }
}

/// Rebuilds the tree from a snapshot and librqbit's metadata.
fn refresh(shared: &Shared, api: &Api, snap: &SessionSnapshot) {
    let handles: HashMap<String, Arc<ManagedTorrent>> = api.session().with_torrents(|it| {
        it.map(|(_, h)| (h.info_hash().as_string(), h.clone()))
            .collect()
    });
    let mut entries = Vec::new();
    for t in &snap.torrents {
        let Some(h) = handles.get(&t.info_hash) else {
            continue;
        };
        let output = h.output_folder().to_path_buf();
        let built = h.with_metadata(|m| {
            let info = Arc::new(TorrentInfo {
                hash: t.info_hash.clone(),
                root_label: t.root_label.clone(),
                state: format!("{:?}", t.state).to_lowercase(),
                progress: t.progress,
                sealed: shared.sealed.holds(&t.info_hash),
                piece_len: u64::from(m.lengths().default_piece_length()),
                added: SystemTime::UNIX_EPOCH
                    + Duration::from_secs(u64::try_from(t.added_at).unwrap_or(0)),
            });
            let files = m
                .file_infos
                .iter()
                .enumerate()
                .filter(|(_, f)| !f.attrs.padding)
                .map(|(index, f)| {
                    (
                        f.relative_filename.clone(),
                        FileNode {
                            torrent: info.clone(),
                            index,
                            len: f.len,
                            offset_in_torrent: f.offset_in_torrent,
                            disk_path: output.join(&f.relative_filename),
                        },
                    )
                })
                .collect();
            TorrentEntry {
                info,
                name: t.name.clone(),
                files,
            }
        });
        if let Ok(e) = built {
            entries.push(e);
        }
    }
    if let Ok(mut tree) = shared.tree.write() {
        tree.rebuild(entries);
    }
    if let Ok(mut h) = shared.handles.write() {
        *h = handles;
    }
}

/// The mount points of trove's FUSE mounts in this system's mount table.
fn trove_mount_points() -> Vec<PathBuf> {
    let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    table
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut r = right.split(' ');
            let fstype = r.next()?;
            let source = r.next()?;
            if fstype != format!("fuse.{FS_NAME}") && !(fstype == "fuse" && source == FS_NAME) {
                return None;
            }
            left.split(' ').nth(4).map(|p| PathBuf::from(unescape(p)))
        })
        .collect()
}

/// The mount table writes space, tab, newline and backslash as octal escapes.
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8)
        {
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_mounted(dir: &Path) -> bool {
    trove_mount_points().iter().any(|p| p == dir)
}

fn lazy_unmount(dir: &Path) {
    match Process::new("fusermount3").arg("-uz").arg(dir).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => warn!(
            dir = %dir.display(),
            "fusermount3 -uz failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => warn!(dir = %dir.display(), "cannot run fusermount3 (install fuse3): {e}"),
    }
}

/// Whether `dir` is a FUSE mount whose process is gone. Listing it, not `stat`: the
/// kernel may still answer a `stat` of the top from its cache.
fn is_stale(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_err_and(|e| e.raw_os_error() == Some(libc::ENOTCONN))
}

/// Unmounts `dir` if it is a mount whose process is gone.
fn clean_if_stale(dir: &Path) {
    if is_stale(dir) {
        info!(dir = %dir.display(), "cleaning a mount left behind by a process that ended");
        lazy_unmount(dir);
    }
}

/// Finds trove mounts whose process is gone (a killed trove) and unmounts them; returns
/// the folders cleaned.
pub fn clean_stale_mounts() -> Vec<PathBuf> {
    let mut cleaned = Vec::new();
    for p in trove_mount_points() {
        if is_stale(&p) {
            lazy_unmount(&p);
            cleaned.push(p);
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_table_escapes_are_undone() {
        assert_eq!(unescape(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape(r"/tmp/x\134y"), r"/tmp/x\y");
        assert_eq!(unescape("/plain"), "/plain");
    }
}
