//! What `stat` and `getfattr` see: read-only permissions, the file sizes of the torrent,
//! the torrent's add time as every time, and the `user.trove.*` extended attributes.

use std::time::{Duration, SystemTime};

use fuser::{FileAttr, FileType};

use crate::tree::{Kind, Node};

/// How long the kernel may keep an answer: short, since torrents come and go.
pub(crate) const TTL: Duration = Duration::from_secs(1);

/// The extended attributes every torrent folder and file has.
pub(crate) const XATTRS: [&str; 4] = [
    "user.trove.state",
    "user.trove.progress",
    "user.trove.infohash",
    "user.trove.root",
];

/// Who owns everything in the mount: the user running the session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owner {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// When the mount was made: the time of folders that are no torrent's.
    pub(crate) mounted: SystemTime,
}

pub(crate) fn attr(node: &Node, owner: Owner) -> FileAttr {
    let time = node.torrent().map_or(owner.mounted, |t| t.added);
    let (kind, perm, size, nlink) = match &node.kind {
        Kind::File(f) => (FileType::RegularFile, 0o444, f.len, 1),
        _ => (FileType::Directory, 0o555, 0, 2),
    };
    FileAttr {
        ino: node.ino,
        size,
        blocks: size.div_ceil(512),
        atime: time,
        mtime: time,
        ctime: time,
        crtime: time,
        kind,
        perm,
        nlink,
        uid: owner.uid,
        gid: owner.gid,
        rdev: 0,
        blksize: 128 * 1024,
        flags: 0,
    }
}

/// The value of extended attribute `name` of `node`; `file_progress` is the fraction of a
/// file's pieces verified (asked only for files).
pub(crate) fn xattr(
    node: &Node,
    name: &str,
    file_progress: impl FnOnce() -> f64,
) -> Option<String> {
    let t = node.torrent()?;
    Some(match name {
        "user.trove.state" => t.state.clone(),
        "user.trove.progress" => {
            let p = match &node.kind {
                Kind::File(_) => file_progress(),
                _ => t.progress,
            };
            format!("{:.1}%", (p * 100.0).clamp(0.0, 100.0))
        }
        "user.trove.infohash" => t.hash.clone(),
        "user.trove.root" => t.root_label.clone(),
        _ => return None,
    })
}

/// The list `listxattr` answers: the names, each ended by a NUL.
pub(crate) fn xattr_list(node: &Node) -> Vec<u8> {
    if node.torrent().is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for n in XATTRS {
        out.extend_from_slice(n.as_bytes());
        out.push(0);
    }
    out
}
