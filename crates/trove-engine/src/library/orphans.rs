//! What sits at the top of a root that belongs to no torrent, with its size.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::Path;

use trove_proto::library::Orphan;

/// trove's own files in a root (the writability probe, a move's work files): never orphans.
pub fn is_trove_file(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with(".trove")
}

/// The top-level entries of `root` not named in `owned`, sorted by name, each with its size
/// (a folder's: every file in it, all the way down). Symbolic links are reported as links
/// and never followed. An entry that vanishes while it is counted is left out.
pub fn orphans(root: &Path, owned: &HashSet<OsString>) -> std::io::Result<Vec<Orphan>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        if owned.contains(&name) || is_trove_file(&name) {
            continue;
        }
        // `DirEntry::metadata` does not follow a symbolic link.
        let Ok(meta) = entry.metadata() else { continue };
        let is_dir = meta.is_dir();
        let bytes = if is_dir {
            folder_size(&entry.path())
        } else {
            meta.len()
        };
        out.push(Orphan {
            name: name.to_string_lossy().into_owned(),
            is_dir,
            bytes,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The bytes of every file under `dir`, without following links; what cannot be read
/// counts as nothing.
fn folder_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}
