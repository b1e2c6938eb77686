//! The inode table: one node per directory and file of the mount, rebuilt from the
//! session's torrents whenever they change. An inode number belongs to a path and stays
//! the same across rebuilds, so the kernel's cached lookups stay right.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::{Component, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

pub(crate) const ROOT_INO: u64 = 1;

/// What the mount knows of one torrent whose metadata is known.
#[derive(Debug, Clone)]
pub(crate) struct TorrentInfo {
    pub(crate) hash: String,
    pub(crate) root_label: String,
    /// The session's word for its state ("downloading", "seeding", ...).
    pub(crate) state: String,
    /// Fraction of the selected data verified, 0..=1.
    pub(crate) progress: f64,
    /// Kept in a vault: read through the session's reader, never from disk by path.
    pub(crate) sealed: bool,
    pub(crate) piece_len: u64,
    pub(crate) added: SystemTime,
}

/// One file of a torrent, where it lies in the torrent and on disk.
#[derive(Debug, Clone)]
pub(crate) struct FileNode {
    pub(crate) torrent: Arc<TorrentInfo>,
    /// The file's index in the torrent (librqbit's file id).
    pub(crate) index: usize,
    pub(crate) len: u64,
    pub(crate) offset_in_torrent: u64,
    pub(crate) disk_path: PathBuf,
}

impl FileNode {
    /// The pieces holding bytes `start..end` of the file (`end > start`).
    pub(crate) fn pieces(&self, start: u64, end: u64) -> std::ops::RangeInclusive<u64> {
        let first = (self.offset_in_torrent + start) / self.piece_len();
        let last = (self.offset_in_torrent + end - 1) / self.piece_len();
        first..=last
    }

    fn piece_len(&self) -> u64 {
        self.torrent.piece_len.max(1)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// The mount's top or a root label's folder.
    Dir,
    /// A torrent's top folder.
    TorrentDir(Arc<TorrentInfo>),
    /// A folder inside a torrent.
    InnerDir(Arc<TorrentInfo>),
    File(FileNode),
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) ino: u64,
    pub(crate) parent: u64,
    pub(crate) kind: Kind,
    pub(crate) children: BTreeMap<OsString, u64>,
}

impl Node {
    /// The torrent this node belongs to, if any.
    pub(crate) fn torrent(&self) -> Option<&Arc<TorrentInfo>> {
        match &self.kind {
            Kind::Dir => None,
            Kind::TorrentDir(t) | Kind::InnerDir(t) => Some(t),
            Kind::File(f) => Some(&f.torrent),
        }
    }
}

/// One torrent as the tree is built from it.
pub(crate) struct TorrentEntry {
    pub(crate) info: Arc<TorrentInfo>,
    pub(crate) name: String,
    /// (path inside the torrent, file) for every file that is not padding.
    pub(crate) files: Vec<(PathBuf, FileNode)>,
}

#[derive(Default)]
pub(crate) struct Tree {
    nodes: HashMap<u64, Node>,
    /// Inode numbers by path from the mount's top, kept across rebuilds.
    inos: HashMap<Vec<OsString>, u64>,
    next_ino: u64,
    /// Torrents taken out through `rmdir`, hidden until the session forgets them.
    hidden: Vec<String>,
}

impl Tree {
    pub(crate) fn new() -> Tree {
        let mut t = Tree {
            next_ino: ROOT_INO + 1,
            ..Tree::default()
        };
        t.rebuild(Vec::new());
        t
    }

    pub(crate) fn get(&self, ino: u64) -> Option<&Node> {
        self.nodes.get(&ino)
    }

    pub(crate) fn child(&self, parent: u64, name: &OsStr) -> Option<&Node> {
        let ino = self.nodes.get(&parent)?.children.get(name)?;
        self.nodes.get(ino)
    }

    /// Hides a torrent the user removed through the mount, until the session drops it.
    pub(crate) fn hide(&mut self, hash: &str) {
        self.hidden.push(hash.to_string());
        let torrents: Vec<u64> = self
            .nodes
            .values()
            .filter(|n| matches!(&n.kind, Kind::TorrentDir(t) if t.hash == hash))
            .map(|n| n.ino)
            .collect();
        for ino in torrents {
            if let Some(parent) = self.nodes.get(&ino).map(|n| n.parent)
                && let Some(p) = self.nodes.get_mut(&parent)
            {
                p.children.retain(|_, c| *c != ino);
            }
        }
    }

    pub(crate) fn torrent_count(&self) -> usize {
        self.nodes
            .values()
            .filter(|n| matches!(n.kind, Kind::TorrentDir(_)))
            .count()
    }

    /// Replaces the tree with one made of `torrents`.
    pub(crate) fn rebuild(&mut self, mut torrents: Vec<TorrentEntry>) {
        let present: Vec<&str> = torrents.iter().map(|t| t.info.hash.as_str()).collect();
        self.hidden.retain(|h| present.contains(&h.as_str()));
        torrents.retain(|t| !self.hidden.contains(&t.info.hash));
        // Stable order, so that which of two same-named torrents gets the plain name does
        // not change from one rebuild to the next.
        torrents.sort_by(|a, b| (&a.name, &a.info.hash).cmp(&(&b.name, &b.info.hash)));
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT_INO,
            Node {
                ino: ROOT_INO,
                parent: ROOT_INO,
                kind: Kind::Dir,
                children: BTreeMap::new(),
            },
        );
        let mut b = Builder {
            nodes,
            inos: &mut self.inos,
            next_ino: &mut self.next_ino,
        };
        for t in torrents {
            let label = OsString::from(safe_name(&t.info.root_label, "root"));
            let root_dir = b.dir(ROOT_INO, vec![label.clone()], Kind::Dir);
            let mut name = OsString::from(safe_name(&t.name, &t.info.hash));
            if b.has_child(root_dir, &name) {
                let short = t.info.hash.get(..8).unwrap_or(&t.info.hash);
                name = OsString::from(format!("{} [{short}]", safe_name(&t.name, "")));
            }
            let top_path = vec![label, name];
            let top = b.dir(root_dir, top_path.clone(), Kind::TorrentDir(t.info.clone()));
            for (rel, file) in t.files {
                let parts: Vec<OsString> = rel
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(s) => Some(s.to_os_string()),
                        _ => None,
                    })
                    .collect();
                let Some((file_name, dirs)) = parts.split_last() else {
                    continue;
                };
                let mut parent = top;
                let mut path = top_path.clone();
                for d in dirs {
                    path.push(d.clone());
                    parent = b.dir(parent, path.clone(), Kind::InnerDir(t.info.clone()));
                }
                path.push(file_name.clone());
                b.leaf(parent, path, Kind::File(file));
            }
        }
        self.nodes = b.nodes;
    }
}

struct Builder<'a> {
    nodes: HashMap<u64, Node>,
    inos: &'a mut HashMap<Vec<OsString>, u64>,
    next_ino: &'a mut u64,
}

impl Builder<'_> {
    fn has_child(&self, parent: u64, name: &OsStr) -> bool {
        self.nodes
            .get(&parent)
            .is_some_and(|p| p.children.contains_key(name))
    }

    fn ino_for(&mut self, path: &[OsString]) -> u64 {
        if let Some(i) = self.inos.get(path) {
            return *i;
        }
        let i = *self.next_ino;
        *self.next_ino += 1;
        self.inos.insert(path.to_vec(), i);
        i
    }

    /// The directory at `path` under `parent`, made if missing.
    fn dir(&mut self, parent: u64, path: Vec<OsString>, kind: Kind) -> u64 {
        let Some(name) = path.last().cloned() else {
            return ROOT_INO;
        };
        if let Some(existing) = self.nodes.get(&parent).and_then(|p| p.children.get(&name)) {
            return *existing;
        }
        self.leaf(parent, path, kind)
    }

    fn leaf(&mut self, parent: u64, path: Vec<OsString>, kind: Kind) -> u64 {
        let Some(name) = path.last().cloned() else {
            return ROOT_INO;
        };
        if let Some(existing) = self.nodes.get(&parent).and_then(|p| p.children.get(&name)) {
            // Two files of one torrent cannot share a path; keep the first.
            return *existing;
        }
        let ino = self.ino_for(&path);
        self.nodes.insert(
            ino,
            Node {
                ino,
                parent,
                kind,
                children: BTreeMap::new(),
            },
        );
        if let Some(p) = self.nodes.get_mut(&parent) {
            p.children.insert(name, ino);
        }
        ino
    }
}

/// A name usable as one path component: no `/`, not empty, not `.` or `..`.
fn safe_name(name: &str, fallback: &str) -> String {
    let n = name.replace(['/', '\0'], "_");
    if n.is_empty() || n == "." || n == ".." {
        fallback.to_string()
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(hash: &str, root: &str) -> Arc<TorrentInfo> {
        Arc::new(TorrentInfo {
            hash: hash.into(),
            root_label: root.into(),
            state: "seeding".into(),
            progress: 1.0,
            sealed: false,
            piece_len: 16,
            added: SystemTime::UNIX_EPOCH,
        })
    }

    fn entry(hash: &str, name: &str, files: &[&str]) -> TorrentEntry {
        let i = info(hash, "main");
        TorrentEntry {
            info: i.clone(),
            name: name.into(),
            files: files
                .iter()
                .enumerate()
                .map(|(index, f)| {
                    (
                        PathBuf::from(f),
                        FileNode {
                            torrent: i.clone(),
                            index,
                            len: 10,
                            offset_in_torrent: 10 * index as u64,
                            disk_path: PathBuf::from("/x").join(f),
                        },
                    )
                })
                .collect(),
        }
    }

    fn lookup(t: &Tree, path: &[&str]) -> Option<u64> {
        let mut ino = ROOT_INO;
        for p in path {
            ino = t.child(ino, OsStr::new(p))?.ino;
        }
        Some(ino)
    }

    #[test]
    fn torrents_sit_under_their_root_with_their_folders_and_keep_inodes() {
        let mut t = Tree::new();
        t.rebuild(vec![entry("aa", "Album", &["a.bin", "sub/b.bin"])]);
        let b = lookup(&t, &["main", "Album", "sub", "b.bin"]).expect("file");
        t.rebuild(vec![
            entry("bb", "Other", &["c"]),
            entry("aa", "Album", &["a.bin", "sub/b.bin"]),
        ]);
        assert_eq!(lookup(&t, &["main", "Album", "sub", "b.bin"]), Some(b));
        assert!(lookup(&t, &["main", "Other", "c"]).is_some());
        assert_eq!(t.torrent_count(), 2);
    }

    #[test]
    fn same_names_are_told_apart_and_hidden_torrents_stay_out() {
        let mut t = Tree::new();
        t.rebuild(vec![
            entry("bb11111111", "X", &["f"]),
            entry("aa", "X", &["f"]),
        ]);
        assert!(lookup(&t, &["main", "X", "f"]).is_some());
        assert!(lookup(&t, &["main", "X [bb111111]", "f"]).is_some());
        t.hide("aa");
        assert!(lookup(&t, &["main", "X"]).is_none());
        t.rebuild(vec![entry("aa", "X", &["f"])]);
        assert!(lookup(&t, &["main", "X"]).is_none(), "still hidden");
        t.rebuild(vec![]);
        t.rebuild(vec![entry("aa", "X", &["f"])]);
        assert!(lookup(&t, &["main", "X"]).is_some(), "added again");
    }

    #[test]
    fn pieces_cover_the_bytes_asked() {
        let i = info("aa", "main");
        let f = FileNode {
            torrent: i,
            index: 1,
            len: 40,
            offset_in_torrent: 10,
            disk_path: PathBuf::new(),
        };
        assert_eq!(f.pieces(0, 6), 0..=0);
        assert_eq!(f.pieces(0, 7), 0..=1);
        assert_eq!(f.pieces(6, 40), 1..=3);
    }
}
