//! Comparing downloaded files and folder trees with their source, byte for byte.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Same length and the same bytes.
pub fn files_identical(a: &Path, b: &Path) -> bool {
    compare_files(a, b).is_ok()
}

fn compare_files(a: &Path, b: &Path) -> Result<(), String> {
    let (ma, mb) = match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => (ma, mb),
        (ea, eb) => {
            return Err(format!(
                "{}: {:?} / {}: {:?}",
                a.display(),
                ea.err(),
                b.display(),
                eb.err()
            ));
        }
    };
    if ma.len() != mb.len() {
        return Err(format!(
            "sizes differ: {} is {} bytes, {} is {}",
            a.display(),
            ma.len(),
            b.display(),
            mb.len()
        ));
    }
    let mut fa = BufReader::with_capacity(1 << 20, fs::File::open(a).map_err(|e| e.to_string())?);
    let mut fb = BufReader::with_capacity(1 << 20, fs::File::open(b).map_err(|e| e.to_string())?);
    let mut offset = 0u64;
    loop {
        let ba = fa.fill_buf().map_err(|e| e.to_string())?;
        let bb = fb.fill_buf().map_err(|e| e.to_string())?;
        let n = ba.len().min(bb.len());
        if n == 0 {
            return if ba.len() == bb.len() {
                Ok(())
            } else {
                Err("lengths changed while reading".into())
            };
        }
        if let Some(i) = (0..n).find(|&i| ba[i] != bb[i]) {
            return Err(format!(
                "{} and {} differ at byte {}",
                a.display(),
                b.display(),
                offset + i as u64
            ));
        }
        offset += n as u64;
        fa.consume(n);
        fb.consume(n);
    }
}

/// Relative path -> size of every regular file under `root` (a single file gives one
/// entry with an empty path).
fn file_tree(root: &Path) -> Result<BTreeMap<PathBuf, u64>, String> {
    let mut out = BTreeMap::new();
    let meta = fs::symlink_metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if meta.is_file() {
        out.insert(PathBuf::new(), meta.len());
        return Ok(out);
    }
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            let ft = entry.file_type().map_err(|e| e.to_string())?;
            let r = rel.join(entry.file_name());
            if ft.is_dir() {
                stack.push(r);
            } else if ft.is_file() {
                let len = entry.metadata().map_err(|e| e.to_string())?.len();
                out.insert(r, len);
            } else {
                return Err(format!(
                    "{} is neither a file nor a folder",
                    root.join(&r).display()
                ));
            }
        }
    }
    Ok(out)
}

/// Same set of relative file paths (zero-byte files included) with the same bytes.
/// `a` and `b` may both be single files.
pub fn trees_identical(a: &Path, b: &Path) -> Result<(), String> {
    let ta = file_tree(a)?;
    let tb = file_tree(b)?;
    let only_a: Vec<_> = ta.keys().filter(|k| !tb.contains_key(*k)).collect();
    let only_b: Vec<_> = tb.keys().filter(|k| !ta.contains_key(*k)).collect();
    if !only_a.is_empty() || !only_b.is_empty() {
        return Err(format!(
            "file sets differ: only in {}: {only_a:?}; only in {}: {only_b:?}",
            a.display(),
            b.display()
        ));
    }
    for rel in ta.keys() {
        // `join("")` would add a trailing slash, which a single file does not survive.
        let (fa, fb) = if rel.as_os_str().is_empty() {
            (a.to_path_buf(), b.to_path_buf())
        } else {
            (a.join(rel), b.join(rel))
        };
        compare_files(&fa, &fb)?;
    }
    Ok(())
}
