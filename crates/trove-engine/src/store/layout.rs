//! How a trove store sits on disk: sled's files with its three trees and the keys kept in
//! `meta`, the manifest file beside them, and the names of the scratch folders made next
//! to the store while it is created or checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::sled_reason;
use super::quiet::quietly;
use super::{StoreError, StoreResult};

/// The file next to sled's own files that lets trove notice when sled lost saved data.
pub(super) const MANIFEST_FILE: &str = "trove-manifest.json";

/// In `meta`: the store format (`STORE_FORMAT`, 4 bytes big-endian).
pub(super) const FORMAT_KEY: &[u8] = b"format";
/// In `meta`: the session settings, JSON.
pub(super) const SETTINGS_KEY: &[u8] = b"settings";
/// In `meta`: the change counter the manifest is compared with (8 bytes big-endian).
pub(super) const GENERATION_KEY: &[u8] = b"generation";

/// What the store must contain at least: written after every durable change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Manifest {
    pub(super) store_format: u32,
    /// The change counter sled held when this was written; sled's may only be higher.
    pub(super) generation: u64,
    /// Every torrent the store held then, except ones being removed.
    pub(super) torrents: BTreeSet<String>,
}

/// Opens sled in `dir` and its three trees (`meta`, the records, the .torrent bytes); a
/// panic inside sled becomes an error.
pub(super) fn open_sled(
    dir: &Path,
) -> Result<(sled::Db, sled::Tree, sled::Tree, sled::Tree), String> {
    quietly(|| {
        let db = sled::Config::new()
            .path(dir)
            // No background flusher: every write path ends in `sync`, which flushes
            // explicitly, so sled's own 500 ms flush only woke an idle seedbox (and
            // fsynced) twice a second.
            .flush_every_ms(None)
            .open()
            .map_err(|e| sled_reason(&e))?;
        let meta = db.open_tree("meta").map_err(|e| sled_reason(&e))?;
        let records = db.open_tree("torrents").map_err(|e| sled_reason(&e))?;
        let torrents = db.open_tree("torrent_files").map_err(|e| sled_reason(&e))?;
        Ok((db, meta, records, torrents))
    })
    .and_then(|r| r)
}

pub(super) fn read_manifest(dir: &Path) -> StoreResult<Option<Manifest>> {
    let file = dir.join(MANIFEST_FILE);
    match std::fs::read(&file) {
        Ok(bytes) => match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) => Ok(Some(m)),
            Err(e) => {
                // Only the cross-check is lost; sled's own checks still run. It is
                // rewritten from sled's contents once the store opens.
                tracing::warn!(
                    "{} is unreadable ({e}); trove will rebuild it from the store",
                    file.display()
                );
                Ok(None)
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Io(format!(
            "cannot read {}: {e}",
            file.display()
        ))),
    }
}

/// Replaces the manifest in `dir` whole (written aside, synced, renamed over it).
pub(super) fn write_manifest(dir: &Path, m: &Manifest) -> StoreResult<()> {
    use std::io::Write;
    let file = dir.join(MANIFEST_FILE);
    let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
    let io = |e: std::io::Error| StoreError::Io(format!("cannot write {}: {e}", file.display()));
    let bytes = serde_json::to_vec(m).map_err(|e| StoreError::Io(e.to_string()))?;
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&bytes).map_err(io)?;
    f.sync_data().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, &file).map_err(io)
}

/// `DATA_DIR/.store.WHAT-PID` for `DATA_DIR/store`.
pub(super) fn sibling(dir: &Path, what: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    dir.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// Removes scratch folders (`.store.check-PID`, `.store.new-PID`) that a trove killed while
/// opening left behind. The caller holds the data-dir lock, so none is in use.
pub(super) fn remove_stale_scratch(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let stale = ["check", "new"].iter().any(|what| {
            file.strip_prefix(&format!(".{name}.{what}-"))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        });
        if stale && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
