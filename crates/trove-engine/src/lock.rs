//! One trove per data dir: an advisory lock that names its holder.
//!
//! sled takes its own lock too, but its error ("could not acquire lock") says nothing a
//! user can act on. This lock is taken first and records which process holds it, so a
//! second trove can say "in use by pid 1234 (`trove daemon`)".

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

use crate::store::StoreError;

pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the lock in `dir` (created if missing), or says who holds it.
    pub fn acquire(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Io(format!("cannot create the data dir {}: {e}", dir.display()))
        })?;
        let path = dir.join("trove.lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::Io(format!("cannot open {}: {e}", path.display())))?;
        match FileExt::try_lock_exclusive(&file) {
            Ok(true) => {}
            Ok(false) | Err(_) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let mut lines = holder.lines();
                let pid = lines.next().unwrap_or("unknown").to_string();
                let command = lines.next().unwrap_or("trove").to_string();
                return Err(StoreError::Locked {
                    path: dir.to_path_buf(),
                    pid,
                    command,
                });
            }
        }
        let command: Vec<String> = std::env::args()
            .map(|a| {
                // Never copy a whole magnet or URL into the lock file.
                if a.len() > 40 {
                    format!("{}…", &a[..a.floor_char_boundary(40)])
                } else {
                    a
                }
            })
            .collect();
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = writeln!(file, "{}\n{}", std::process::id(), command.join(" "));
        let _ = file.flush();
        Ok(DataDirLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_names_the_first_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _first = DataDirLock::acquire(dir.path()).unwrap();
        // flock locks belong to the open file description, so a second open in the same
        // process conflicts just like another process would.
        let err = DataDirLock::acquire(dir.path()).err().unwrap().to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert!(err.contains("in use by another trove"), "{err}");
    }
}
