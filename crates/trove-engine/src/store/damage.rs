//! Damage detection: a store is read whole from a scratch copy before sled may open it, and
//! compared with the manifest; `trove export` salvages what is readable the same way.
//!
//! What sled 0.34.7 does with damaged files (measured on this version, see
//! tests/store_damage.rs and the README's "Recovering a damaged store"):
//! - It writes to its files on *every* open, healthy or not: recovery zero-fills the tail of
//!   the last log segment, writes a new `snap.*` file and removes the old one, and deletes
//!   `blobs/*` newer than what it recovered.
//! - A truncated log, or garbage in the part of the log after the last snapshot, is not an
//!   error: sled recovers up to the damage and silently drops everything after it (older
//!   versions of records come back, newer torrents vanish). A `db` file that is garbage from
//!   the start opens as an empty database. An empty or short `conf` file is silently
//!   rewritten.
//! - Damage that the last snapshot points into is an error (`Corruption`), as is a garbled
//!   `conf` file (`Unsupported`) or a damaged blob (an error when that value is read).
//! - No panic was seen in a few hundred random truncations, bit flips and garbage fills of
//!   every file, but nothing in sled promises that, so opening is wrapped in catch_unwind
//!   (see the `quiet` module).
//!
//! So trove never lets sled open a store it has not checked: it copies the store folder to a
//! scratch folder, lets sled open and recover the *copy*, and reads everything from it. Only
//! when that copy is whole does it open the real folder (whose recovery is then the same,
//! deterministic, one). A damaged store is therefore reported with its files byte-for-byte
//! as they were. Silent loss is caught with a manifest file kept next to sled's files
//! (`trove-manifest.json`): the set of torrents and a change counter ("generation") that is
//! also stored inside sled and written to the manifest only after sled has flushed. After a
//! crash sled can only be ahead of the manifest; if it is behind, or misses a torrent the
//! manifest lists, sled dropped data that had been saved, and the store is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::error::{damaged, sled_reason};
use super::layout::{
    FORMAT_KEY, GENERATION_KEY, MANIFEST_FILE, Manifest, SETTINGS_KEY, open_sled, read_manifest,
    sibling,
};
use super::quiet::quietly;
use super::record::decode_record;
use super::{STORE_FORMAT, SessionSettings, StoreError, StoreResult, TorrentRecord};

/// Everything readable from a store that sled could open: what export salvages and what
/// `open` checks.
#[derive(Debug, Default)]
pub struct Salvaged {
    /// The format marker (None: there is none).
    pub store_format: Option<u32>,
    pub settings: SessionSettings,
    /// Every record that decodes, with its .torrent bytes when they could be read.
    pub torrents: Vec<(TorrentRecord, Option<Vec<u8>>)>,
    /// What could not be read, one sentence each (empty for a whole store).
    pub problems: Vec<String>,
    /// The change counter found in sled (0: there is none).
    pub(super) generation: u64,
    pub(super) keys: BTreeSet<String>,
    marker_problem: Option<String>,
}

impl Salvaged {
    /// The info-hash of every record found, including those that did not decode.
    pub fn keys(&self) -> &BTreeSet<String> {
        &self.keys
    }
}

/// Reads whatever can be read from the store in `dir` without changing a byte of it; see
/// `SledStore::salvage`.
pub(super) fn salvage(dir: &Path) -> StoreResult<Salvaged> {
    let path = dir.to_path_buf();
    if folder_is_missing_or_empty(dir)? {
        return Err(StoreError::Io(format!(
            "there is no store at {}: nothing to export",
            dir.display()
        )));
    }
    // A manifest that cannot be read only costs the cross-check.
    let manifest = read_manifest(dir).unwrap_or(None);
    refuse_future_manifest(&path, manifest.as_ref())?;
    let copy = ScratchCopy::make(dir)?;
    let mut found = read_everything(copy.path(), dir, true)?;
    if let Some(reason) = found.marker_problem.clone() {
        found.problems.insert(0, reason);
    }
    if let Some(f) = found.store_format
        && f > STORE_FORMAT
    {
        return Err(StoreError::FutureFormat { path, found: f });
    }
    if let Some(m) = &manifest
        && let Some(loss) = lost_changes(&found, m)
    {
        found.problems.push(loss);
    }
    Ok(found)
}

/// Lets sled open and recover a scratch copy of the store in `dir`, reads all of it and
/// checks it against `manifest`: the store itself is not touched.
pub(super) fn check_a_copy(dir: &Path, manifest: Option<&Manifest>) -> StoreResult<()> {
    let copy = ScratchCopy::make(dir)?;
    let found = read_everything(copy.path(), dir, false)?;
    check(dir, &found, manifest)
}

/// True when `dir` does not exist or holds nothing: a store to create.
pub(super) fn folder_is_missing_or_empty(dir: &Path) -> StoreResult<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(StoreError::Io(format!(
            "cannot read {}: {e}",
            dir.display()
        ))),
    }
}

/// Refuses a store whose manifest says a newer trove wrote it, before sled (which may not
/// even read that store's files) is let near it.
pub(super) fn refuse_future_manifest(path: &Path, manifest: Option<&Manifest>) -> StoreResult<()> {
    match manifest {
        Some(m) if m.store_format > STORE_FORMAT => Err(StoreError::FutureFormat {
            path: path.to_path_buf(),
            found: m.store_format,
        }),
        _ => Ok(()),
    }
}

/// A scratch copy of a store folder, deleted when dropped.
struct ScratchCopy {
    path: PathBuf,
}

impl ScratchCopy {
    /// Copies sled's files next to the store (same disk: cheap), or failing that into the
    /// system temp dir.
    fn make(dir: &Path) -> StoreResult<ScratchCopy> {
        let candidates = [
            sibling(dir, "check"),
            std::env::temp_dir().join(format!("trove-store-check-{}", std::process::id())),
        ];
        let mut errors = Vec::new();
        for target in candidates {
            let _ = std::fs::remove_dir_all(&target);
            let copy = ScratchCopy { path: target };
            match copy_tree(dir, &copy.path) {
                Ok(()) => return Ok(copy),
                Err(e) => errors.push(format!("{}: {e}", copy.path.display())),
            }
        }
        Err(StoreError::Io(format!(
            "cannot check the store at {} before opening it: a scratch copy could not be made ({}); make space on the disk (or fix the permissions) and try again",
            dir.display(),
            errors.join("; ")
        )))
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Copies sled's files (not the manifest) from `from` to `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(MANIFEST_FILE) {
            continue;
        }
        let ty = entry.file_type()?;
        if ty.is_dir() {
            copy_tree(&entry.path(), &to.join(&name))?;
        } else if ty.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Opens the sled store at `copy` (a scratch copy of `original`) and reads all of it.
fn read_everything(copy: &Path, original: &Path, keep_bytes: bool) -> StoreResult<Salvaged> {
    for name in ["conf", "db"] {
        if !original.join(name).is_file() {
            return Err(damaged(
                original,
                format!("sled's file {name} is missing from it"),
            ));
        }
    }
    let (_db, meta, records, torrents) =
        open_sled(copy).map_err(|reason| damaged(original, reason))?;
    let found = quietly(|| read_trees(&meta, &records, &torrents, keep_bytes))
        .map_err(|reason| damaged(original, reason))?;
    Ok(found)
}

/// Reads every key of an open store, noting what cannot be read instead of stopping at it.
pub(super) fn read_trees(
    meta: &sled::Tree,
    records: &sled::Tree,
    torrents: &sled::Tree,
    keep_bytes: bool,
) -> Salvaged {
    let mut s = Salvaged::default();
    match meta.get(FORMAT_KEY) {
        Ok(None) => {
            s.marker_problem = Some(
                "it has no format marker (sled found no trove data in it: it was wiped, or is not a trove store)"
                    .into(),
            );
        }
        Ok(Some(v)) => match <[u8; 4]>::try_from(v.as_ref()) {
            Ok(b) => s.store_format = Some(u32::from_be_bytes(b)),
            Err(_) => s.marker_problem = Some("its format marker is unreadable".into()),
        },
        Err(e) => {
            s.marker_problem = Some(format!(
                "its format marker is unreadable: {}",
                sled_reason(&e)
            ))
        }
    }
    match meta.get(GENERATION_KEY) {
        Ok(Some(v)) => match <[u8; 8]>::try_from(v.as_ref()) {
            Ok(b) => s.generation = u64::from_be_bytes(b),
            Err(_) => s.problems.push("its change counter is unreadable".into()),
        },
        Ok(None) => {}
        Err(e) => s.problems.push(format!(
            "its change counter is unreadable: {}",
            sled_reason(&e)
        )),
    }
    match meta.get(SETTINGS_KEY) {
        Ok(Some(v)) => match serde_json::from_slice(&v) {
            Ok(settings) => s.settings = settings,
            Err(e) => s
                .problems
                .push(format!("the session settings are not readable ({e})")),
        },
        Ok(None) => {}
        Err(e) => s.problems.push(format!(
            "the session settings are not readable: {}",
            sled_reason(&e)
        )),
    }
    let mut good = Vec::new();
    for item in records.iter() {
        match item {
            Ok((k, v)) => {
                s.keys.insert(String::from_utf8_lossy(&k).into_owned());
                match decode_record(&k, &v) {
                    Ok(r) => good.push(r),
                    Err(reason) => s.problems.push(reason),
                }
            }
            Err(e) => {
                s.problems.push(format!(
                    "the torrent list stops after {} records: {}",
                    s.keys.len(),
                    sled_reason(&e)
                ));
                break;
            }
        }
    }
    // Read every .torrent, also those of records that did not decode, so damage anywhere
    // is found now rather than halfway through a session.
    let mut bytes = BTreeMap::new();
    for item in torrents.iter() {
        match item {
            Ok((k, v)) => {
                if keep_bytes {
                    bytes.insert(String::from_utf8_lossy(&k).into_owned(), v.to_vec());
                }
            }
            Err(e) => {
                s.problems.push(format!(
                    "the stored .torrent files cannot all be read: {}",
                    sled_reason(&e)
                ));
                break;
            }
        }
    }
    s.torrents = good
        .into_iter()
        .map(|r| {
            let b = bytes.remove(&r.info_hash);
            (r, b)
        })
        .collect();
    s
}

/// What saved data sled lost, compared with the manifest written after the last flush.
fn lost_changes(found: &Salvaged, m: &Manifest) -> Option<String> {
    let missing: Vec<&str> = m
        .torrents
        .iter()
        .filter(|h| !found.keys.contains(*h))
        .map(|h| h.as_str())
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(3).copied().collect();
        return Some(format!(
            "{} saved torrent{} missing from it ({}{})",
            missing.len(),
            if missing.len() == 1 { " is" } else { "s are" },
            shown.join(", "),
            if missing.len() > 3 { ", …" } else { "" }
        ));
    }
    if found.generation < m.generation {
        return Some(format!(
            "it lost saved changes: sled recovered it only up to change {} of {}",
            found.generation, m.generation
        ));
    }
    None
}

/// Whether a store read from sled may be opened.
pub(super) fn check(path: &Path, found: &Salvaged, manifest: Option<&Manifest>) -> StoreResult<()> {
    let newest = found
        .store_format
        .into_iter()
        .chain(manifest.map(|m| m.store_format))
        .max();
    if let Some(f) = newest
        && f > STORE_FORMAT
    {
        return Err(StoreError::FutureFormat {
            path: path.to_path_buf(),
            found: f,
        });
    }
    if let Some(reason) = &found.marker_problem {
        return Err(damaged(path, reason.clone()));
    }
    if let Some(m) = manifest
        && let Some(loss) = lost_changes(found, m)
    {
        return Err(damaged(path, loss));
    }
    if let Some(first) = found.problems.first() {
        let more = found.problems.len() - 1;
        return Err(damaged(
            path,
            if more == 0 {
                first.clone()
            } else {
                format!(
                    "{first}, and {more} more problem{}",
                    if more == 1 { "" } else { "s" }
                )
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::{hash, snapshot_files, store_with_two};
    use crate::store::layout::write_manifest;
    use crate::store::{SessionStore, SledStore, testing};

    fn expect_damaged(dir: &Path, needle: &str) -> String {
        let before = snapshot_files(dir);
        let err = match SledStore::open(dir) {
            Ok(_) => panic!("a damaged store opened"),
            Err(e) => e,
        };
        assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(needle), "{text}");
        assert!(
            text.contains("trove export") && text.contains("trove import"),
            "{text}"
        );
        assert!(
            before == snapshot_files(dir),
            "refusing the store changed its files"
        );
        text
    }

    #[test]
    fn a_torrent_sled_lost_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        // sled drops a saved record behind trove's back (as its recovery does with a
        // truncated log), without the manifest knowing.
        {
            let (db, _, records, _) = open_sled(dir.path()).unwrap();
            records.remove(hash(2).as_bytes()).unwrap();
            db.flush().unwrap();
        }
        expect_damaged(
            dir.path(),
            &format!("1 saved torrent is missing from it ({})", hash(2)),
        );
    }

    #[test]
    fn lost_changes_are_noticed_by_the_change_counter() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        let mut m = read_manifest(dir.path()).unwrap().unwrap();
        m.generation += 5;
        write_manifest(dir.path(), &m).unwrap();
        expect_damaged(dir.path(), "lost saved changes");
    }

    #[test]
    fn sled_ahead_of_the_manifest_is_a_crash_not_damage() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        // As after a kill -9 between sled's flush and the manifest write.
        let mut m = read_manifest(dir.path()).unwrap().unwrap();
        m.generation -= 1;
        m.torrents.remove(&hash(2));
        write_manifest(dir.path(), &m).unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.list().unwrap().len(), 2);
        let fixed = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!(fixed.torrents.len(), 2);
    }

    #[test]
    fn a_truncated_log_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        let db = dir.path().join("db");
        let bytes = std::fs::read(&db).unwrap();
        let used = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
        std::fs::write(&db, &bytes[..used / 2]).unwrap();
        expect_damaged(dir.path(), "");
    }

    #[test]
    fn a_garbage_log_is_refused_not_opened_empty() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        let db = dir.path().join("db");
        let len = std::fs::metadata(&db).unwrap().len() as usize;
        let mut x: u32 = 42;
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        std::fs::write(&db, junk).unwrap();
        expect_damaged(dir.path(), "");
    }

    #[test]
    fn missing_sled_files_are_damage() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        std::fs::remove_file(dir.path().join("db")).unwrap();
        expect_damaged(dir.path(), "sled's file db is missing");
    }

    #[test]
    fn an_unreadable_record_is_refused_but_salvaged() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        testing::put_raw_record(dir.path(), &hash(2), b"{not json").unwrap();
        expect_damaged(
            dir.path(),
            &format!("the record of torrent {} is not readable", hash(2)),
        );
        let before = snapshot_files(dir.path());
        let s = SledStore::salvage(dir.path()).unwrap();
        assert!(
            before == snapshot_files(dir.path()),
            "salvage changed the store"
        );
        assert_eq!(s.torrents.len(), 1);
        assert_eq!(s.torrents[0].0.info_hash, hash(1));
        assert_eq!(s.torrents[0].1.as_deref(), Some(&[7u8; 3000][..]));
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(s.problems[0].contains(&hash(2)));
        assert_eq!(s.keys().len(), 2);
    }

    #[test]
    fn salvage_refuses_a_future_store() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        testing::set_format_marker(dir.path(), STORE_FORMAT + 1).unwrap();
        let before = snapshot_files(dir.path());
        assert!(matches!(
            SledStore::salvage(dir.path()),
            Err(StoreError::FutureFormat { .. })
        ));
        assert!(matches!(
            SledStore::open(dir.path()),
            Err(StoreError::FutureFormat { .. })
        ));
        assert!(before == snapshot_files(dir.path()));
    }

    #[test]
    fn a_future_manifest_is_refused_even_when_sled_cannot_read_the_files() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        std::fs::write(dir.path().join("db"), b"a newer layout").unwrap();
        let mut m = read_manifest(dir.path()).unwrap().unwrap();
        m.store_format = STORE_FORMAT + 1;
        write_manifest(dir.path(), &m).unwrap();
        let before = snapshot_files(dir.path());
        let err = SledStore::open(dir.path()).err().unwrap();
        assert!(matches!(err, StoreError::FutureFormat { .. }), "{err}");
        assert!(before == snapshot_files(dir.path()));
    }
}
