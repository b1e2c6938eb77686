//! What lives where in a data dir: the store, librqbit's fast-resume folder, the DHT
//! routing table, the API socket, the lock. Everything that names a path inside the data dir asks here.

use std::path::{Path, PathBuf};

/// A data dir (`--data-dir`, `TROVE_DATA_DIR`, or the XDG default).
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    pub fn new(path: &Path) -> Self {
        DataDir {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sled store of record.
    pub fn store(&self) -> PathBuf {
        self.path.join("store")
    }

    /// librqbit's fast-resume folder: one piece bitfield per torrent.
    pub fn fastresume(&self) -> PathBuf {
        self.path.join("fastresume")
    }

    /// The Unix socket the process holding the session serves trove's API on.
    pub fn socket(&self) -> PathBuf {
        self.path.join("trove.sock")
    }

    /// Where DHT keeps its routing table between runs.
    pub fn dht_state(&self) -> PathBuf {
        self.path.join("dht.json")
    }

    /// Forgets what librqbit remembers of a torrent (its piece bitfield), so a torrent
    /// added again, or brought back in another root, is checked rather than trusted.
    pub fn forget_resume_state(&self, info_hash: &str) {
        crate::bitfield::forget(&self.fastresume(), info_hash);
    }
}
