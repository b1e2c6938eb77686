//! The FUSE callbacks. They run on fuser's one request thread, so each answers at once
//! from the inode table (or, for a read of verified bytes, with a `pread` of the file on
//! disk), or hands its reply to a task on the session's runtime (reads that must wait for
//! pieces, `rmdir`) and returns: a read waiting for pieces never holds up `ls`, `stat` or
//! other readers. A complete file may be opened in passthrough mode, where the kernel
//! reads the file on disk itself and trove sees none of its reads. Every call that would change something answers `EROFS`, except `rmdir` of a
//! torrent's folder, which removes the torrent from the session and keeps its data.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use fuser::{
    FileType, Filesystem, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyWrite, ReplyXattr, Request, TimeOrNow,
};
use librqbit::Api;
use librqbit::ManagedTorrent;
use librqbit::api::TorrentIdOrHash;
use tokio::sync::Semaphore;
use tracing::{info, warn};
use trove_proto::Client;
use trove_proto::command::Command;

use crate::MountOptions;
use crate::attrs::{self, Owner, TTL};
use crate::tree::{Kind, Tree};

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) reads: AtomicU64,
    /// Reads answered without waiting for a piece.
    pub(crate) hits: AtomicU64,
    pub(crate) waiting: AtomicU64,
    /// Waiting reads that found no free priority slot: read-ahead gives its slot up to them.
    pub(crate) starved: AtomicU64,
    /// Files opened in passthrough mode (the kernel reads them from disk itself).
    pub(crate) passthrough_opens: AtomicU64,
}

/// A file opened through the mount.
struct OpenFile {
    hash: String,
    /// The file on disk, opened at the first read (it may not exist before).
    disk: Option<Arc<std::fs::File>>,
    /// Read-ahead for this file is under way.
    prefetching: Arc<AtomicBool>,
    /// Cleared when the file is closed, which ends its read-ahead.
    open: Arc<AtomicBool>,
    /// The kernel's handle on the file on disk while it reads it itself (passthrough);
    /// dropping it tells the kernel it is gone, so it lives as long as the open file.
    _backing: Option<fuser::BackingId>,
}

/// What the callbacks, the reads and the tree refresher share.
pub(crate) struct Shared {
    pub(crate) tree: RwLock<Tree>,
    pub(crate) handles: RwLock<HashMap<String, Arc<ManagedTorrent>>>,
    pub(crate) api: Api,
    pub(crate) client: Client,
    pub(crate) opts: MountOptions,
    pub(crate) stats: Stats,
    /// Priority streams a waiting read may hold (see `read`).
    pub(crate) slots: Arc<Semaphore>,
    open: Mutex<HashMap<u64, OpenFile>>,
    next_fh: AtomicU64,
    /// Complete files may be opened in passthrough mode: the kernel agreed at start-up
    /// and no attempt has been refused since (it needs CAP_SYS_ADMIN).
    passthrough: AtomicBool,
    /// Reads the torrents kept sealed (in a vault).
    pub(crate) sealed: Arc<dyn crate::SealedData>,
}

impl Shared {
    pub(crate) fn new(
        api: Api,
        client: Client,
        opts: MountOptions,
        sealed: Arc<dyn crate::SealedData>,
    ) -> Shared {
        Shared {
            tree: RwLock::new(Tree::new()),
            handles: RwLock::new(HashMap::new()),
            api,
            client,
            slots: Arc::new(Semaphore::new(opts.priority_streams.max(1))),
            opts,
            stats: Stats::default(),
            open: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            passthrough: AtomicBool::new(false),
            sealed,
        }
    }

    pub(crate) fn handle(&self, hash: &str) -> Option<Arc<ManagedTorrent>> {
        self.handles.read().ok()?.get(hash).cloned()
    }

    /// The torrent librqbit holds now under this handle's info-hash, if any: the engine
    /// may replace a torrent's handle (a restart, a re-check), which is no removal.
    pub(crate) fn current(&self, handle: &Arc<ManagedTorrent>) -> Option<Arc<ManagedTorrent>> {
        self.api
            .session()
            .get(TorrentIdOrHash::Hash(handle.info_hash()))
    }

    pub(crate) fn open_files(&self) -> usize {
        self.open.lock().map(|o| o.len()).unwrap_or(0)
    }

    pub(crate) fn disk_file(
        &self,
        fh: u64,
        file: &crate::tree::FileNode,
    ) -> std::io::Result<Arc<std::fs::File>> {
        let mut open = self
            .open
            .lock()
            .map_err(|_| std::io::Error::other("open-file table poisoned"))?;
        if let Some(d) = open.get(&fh).and_then(|o| o.disk.clone()) {
            return Ok(d);
        }
        let d = Arc::new(std::fs::File::open(&file.disk_path)?);
        if let Some(o) = open.get_mut(&fh) {
            o.disk = Some(d.clone());
        }
        Ok(d)
    }

    /// The read-ahead flags of an open file: (under way, still open).
    pub(crate) fn prefetch_flags(&self, fh: u64) -> Option<(Arc<AtomicBool>, Arc<AtomicBool>)> {
        let open = self.open.lock().ok()?;
        let f = open.get(&fh)?;
        Some((f.prefetching.clone(), f.open.clone()))
    }

    fn busy(&self, hash: &str) -> bool {
        self.open
            .lock()
            .map(|o| o.values().any(|f| f.hash == hash))
            .unwrap_or(true)
    }
}

/// The kernel's read-ahead on the mount (the kernel may hold it lower).
const READ_AHEAD_BYTES: u32 = 1 << 20;

pub(crate) struct TroveFs {
    pub(crate) shared: Arc<Shared>,
    pub(crate) rt: tokio::runtime::Handle,
    pub(crate) owner: Owner,
}

impl TroveFs {
    pub(crate) fn new(shared: Arc<Shared>, rt: tokio::runtime::Handle) -> TroveFs {
        let (uid, gid) = nix_ids();
        let owner = Owner {
            uid,
            gid,
            mounted: SystemTime::now(),
        };
        TroveFs { shared, rt, owner }
    }

    /// For a complete file, when passthrough is on: the kernel's handle on the file on
    /// disk, so that it reads it itself. A refusal turns passthrough off for this mount
    /// (said once in the log); the file is then read through trove.
    fn backing(&self, file: &crate::tree::FileNode, reply: &ReplyOpen) -> Option<fuser::BackingId> {
        if !self.shared.passthrough.load(Ordering::Relaxed) || file.len == 0 || file.torrent.sealed
        {
            return None;
        }
        let complete = {
            let _rt = self.rt.enter();
            crate::read::complete(&self.shared, file)
        };
        if !complete {
            return None;
        }
        let disk = std::fs::File::open(&file.disk_path).ok()?;
        match reply.open_backing(&disk) {
            Ok(id) => Some(id),
            Err(e) => {
                self.shared.passthrough.store(false, Ordering::Relaxed);
                info!(
                    "mount: the kernel refused passthrough ({e}); complete files are read through trove"
                );
                None
            }
        }
    }

    fn tree(&self) -> std::sync::RwLockReadGuard<'_, Tree> {
        match self.shared.tree.read() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

fn nix_ids() -> (u32, u32) {
    // SAFETY: getuid and getgid have no preconditions and cannot fail.
    unsafe { (libc::getuid(), libc::getgid()) }
}

impl Filesystem for TroveFs {
    fn init(
        &mut self,
        _req: &Request<'_>,
        config: &mut fuser::KernelConfig,
    ) -> Result<(), libc::c_int> {
        // Large read requests: a sequential reader then costs far fewer round trips. A
        // kernel that allows less keeps its own limit.
        let _ = config.set_max_readahead(READ_AHEAD_BYTES);
        if self.shared.opts.passthrough
            && config
                .add_capabilities(fuser::consts::FUSE_PASSTHROUGH)
                .is_ok()
            && config.set_max_stack_depth(1).is_ok()
        {
            self.shared.passthrough.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        match self.tree().child(parent, name) {
            Some(n) => reply.entry(&TTL, &attrs::attr(n, self.owner), 0),
            None => reply.error(libc::ENOENT),
        }
    }

    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        match self.tree().get(ino) {
            Some(n) => reply.attr(&TTL, &attrs::attr(n, self.owner)),
            None => reply.error(libc::ENOENT),
        }
    }

    fn readdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        let tree = self.tree();
        let Some(dir) = tree.get(ino) else {
            reply.error(libc::ENOENT);
            return;
        };
        let mut entries = vec![
            (dir.ino, FileType::Directory, OsStr::new(".")),
            (dir.parent, FileType::Directory, OsStr::new("..")),
        ];
        for (name, child) in &dir.children {
            let kind = match tree.get(*child).map(|c| &c.kind) {
                Some(Kind::File(_)) => FileType::RegularFile,
                _ => FileType::Directory,
            };
            entries.push((*child, kind, name.as_os_str()));
        }
        let skip = usize::try_from(offset).unwrap_or(0);
        for (i, (ino, kind, name)) in entries.into_iter().enumerate().skip(skip) {
            if reply.add(ino, (i + 1) as i64, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn open(&mut self, _req: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        if flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0 {
            reply.error(libc::EROFS);
            return;
        }
        let file = match self.tree().get(ino).map(|n| &n.kind) {
            Some(Kind::File(f)) => f.clone(),
            Some(_) => {
                reply.error(libc::EISDIR);
                return;
            }
            None => {
                reply.error(libc::ENOENT);
                return;
            }
        };
        let fh = self.shared.next_fh.fetch_add(1, Ordering::Relaxed);
        let backing = self.backing(&file, &reply);
        if let Ok(mut open) = self.shared.open.lock() {
            open.insert(
                fh,
                OpenFile {
                    hash: file.torrent.hash.clone(),
                    disk: None,
                    prefetching: Arc::new(AtomicBool::new(false)),
                    open: Arc::new(AtomicBool::new(true)),
                    _backing: None,
                },
            );
            if let (Some(id), Some(f)) = (backing, open.get_mut(&fh)) {
                self.shared
                    .stats
                    .passthrough_opens
                    .fetch_add(1, Ordering::Relaxed);
                reply.opened_passthrough(fh, 0, &id);
                f._backing = Some(id);
                return;
            }
        }
        // Verified data never changes, so the kernel may keep what it read.
        reply.opened(fh, fuser::consts::FOPEN_KEEP_CACHE);
    }

    fn read(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        let file = match self.tree().get(ino).map(|n| &n.kind) {
            Some(Kind::File(f)) => f.clone(),
            _ => {
                reply.error(libc::EIO);
                return;
            }
        };
        let Ok(offset) = u64::try_from(offset) else {
            reply.error(libc::EINVAL);
            return;
        };
        // Verified bytes are a `pread` away: answered here, which costs less than a task
        // hand-off; only a read that must wait for pieces goes to a task.
        let verified = {
            let _rt = self.rt.enter();
            crate::read::read_verified(&self.shared, fh, &file, offset, size)
        };
        match verified {
            Some(Ok(data)) => return reply.data(&data),
            Some(Err(errno)) => return reply.error(errno),
            None => {}
        }
        let shared = self.shared.clone();
        self.rt.spawn(async move {
            match crate::read::read(shared, fh, file, offset, size).await {
                Ok(data) => reply.data(&data),
                Err(errno) => reply.error(errno),
            }
        });
    }

    fn release(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        _flags: i32,
        _lock_owner: Option<u64>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        if let Ok(mut open) = self.shared.open.lock()
            && let Some(f) = open.remove(&fh)
        {
            f.open.store(false, Ordering::Relaxed);
        }
        reply.ok();
    }

    fn opendir(&mut self, _req: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        if flags & libc::O_ACCMODE != libc::O_RDONLY {
            reply.error(libc::EROFS);
        } else if self.tree().get(ino).is_some() {
            reply.opened(0, 0);
        } else {
            reply.error(libc::ENOENT);
        }
    }

    fn getxattr(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        name: &OsStr,
        size: u32,
        reply: ReplyXattr,
    ) {
        let value = {
            let tree = self.tree();
            let Some(node) = tree.get(ino) else {
                reply.error(libc::ENOENT);
                return;
            };
            let progress = || match &node.kind {
                Kind::File(f) => crate::read::file_progress(&self.shared, f),
                _ => 0.0,
            };
            name.to_str().and_then(|n| attrs::xattr(node, n, progress))
        };
        match value {
            Some(v) => answer_xattr(v.as_bytes(), size, reply),
            None => reply.error(libc::ENODATA),
        }
    }

    fn listxattr(&mut self, _req: &Request<'_>, ino: u64, size: u32, reply: ReplyXattr) {
        let list = match self.tree().get(ino) {
            Some(n) => attrs::xattr_list(n),
            None => {
                reply.error(libc::ENOENT);
                return;
            }
        };
        answer_xattr(&list, size, reply);
    }

    fn rmdir(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let hash = match self.tree().child(parent, name).map(|n| &n.kind) {
            Some(Kind::TorrentDir(t)) => t.hash.clone(),
            Some(Kind::File(_)) => {
                reply.error(libc::ENOTDIR);
                return;
            }
            Some(_) => {
                reply.error(libc::EROFS);
                return;
            }
            None => {
                reply.error(libc::ENOENT);
                return;
            }
        };
        if self.shared.busy(&hash) {
            reply.error(libc::EBUSY);
            return;
        }
        let shared = self.shared.clone();
        self.rt.spawn(async move {
            let removed = shared
                .client
                .run(Command::Remove {
                    id: hash.clone(),
                    delete_data: false,
                })
                .await;
            match removed {
                Ok(()) => {
                    info!(torrent = %hash, "mount: torrent removed through rmdir, its data kept");
                    if let Ok(mut t) = shared.tree.write() {
                        t.hide(&hash);
                    }
                    reply.ok();
                }
                Err(e) => {
                    warn!(torrent = %hash, "mount: rmdir could not remove the torrent: {e}");
                    reply.error(libc::EIO);
                }
            }
        });
    }

    fn statfs(&mut self, _req: &Request<'_>, _ino: u64, reply: fuser::ReplyStatfs) {
        reply.statfs(0, 0, 0, 0, 0, 128 * 1024, 255, 0);
    }

    // Everything below would change the filesystem: refused.

    fn setattr(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        _size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        reply.error(libc::EROFS);
    }

    fn mknod(
        &mut self,
        _req: &Request<'_>,
        _parent: u64,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        reply.error(libc::EROFS);
    }

    fn mkdir(
        &mut self,
        _req: &Request<'_>,
        _parent: u64,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        reply.error(libc::EROFS);
    }

    fn unlink(&mut self, _req: &Request<'_>, _parent: u64, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(libc::EROFS);
    }

    fn symlink(
        &mut self,
        _req: &Request<'_>,
        _parent: u64,
        _link_name: &OsStr,
        _target: &Path,
        reply: ReplyEntry,
    ) {
        reply.error(libc::EROFS);
    }

    fn rename(
        &mut self,
        _req: &Request<'_>,
        _parent: u64,
        _name: &OsStr,
        _newparent: u64,
        _newname: &OsStr,
        _flags: u32,
        reply: ReplyEmpty,
    ) {
        reply.error(libc::EROFS);
    }

    fn link(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        _newparent: u64,
        _newname: &OsStr,
        reply: ReplyEntry,
    ) {
        reply.error(libc::EROFS);
    }

    fn write(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        _fh: u64,
        _offset: i64,
        _data: &[u8],
        _write_flags: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyWrite,
    ) {
        reply.error(libc::EROFS);
    }

    fn create(
        &mut self,
        _req: &Request<'_>,
        _parent: u64,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        reply.error(libc::EROFS);
    }

    fn setxattr(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        _name: &OsStr,
        _value: &[u8],
        _flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        reply.error(libc::EROFS);
    }

    fn removexattr(&mut self, _req: &Request<'_>, _ino: u64, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(libc::EROFS);
    }

    fn fallocate(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        _fh: u64,
        _offset: i64,
        _length: i64,
        _mode: i32,
        reply: ReplyEmpty,
    ) {
        reply.error(libc::EROFS);
    }
}

/// Answers an xattr call: the size when asked for it (`size` 0), `ERANGE` when the
/// caller's buffer is too small, else the bytes.
fn answer_xattr(value: &[u8], size: u32, reply: ReplyXattr) {
    let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
    if size == 0 {
        reply.size(len);
    } else if size < len {
        reply.error(libc::ERANGE);
    } else {
        reply.data(value);
    }
}
