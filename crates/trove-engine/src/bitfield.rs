//! librqbit's fast-resume files for one torrent, kept in the fast-resume folder: the
//! have-pieces bitfield `<info-hash>.bitv` (one bit per piece, most significant bit
//! first, exactly as librqbit holds it in memory) and its copy of the metainfo,
//! `<info-hash>.torrent`. Every part of trove that names, reads or writes these files goes
//! through this module, so their layout is spelled out here only.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use librqbit::api::TorrentIdOrHash;
use librqbit::{Api, ManagedTorrent};

/// The torrent's bitfield file in the fast-resume folder `dir`.
pub fn path(dir: &Path, hash: &str) -> PathBuf {
    dir.join(format!("{hash}.bitv"))
}

/// The torrent's bitfield as last written, if there is one.
pub(crate) fn read(dir: &Path, hash: &str) -> Option<Vec<u8>> {
    std::fs::read(path(dir, hash)).ok()
}

/// Writes (creating or replacing) the torrent's bitfield file.
pub(crate) fn write(dir: &Path, hash: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path(dir, hash), bytes)
}

/// Deletes the torrent's bitfield file, if any: its pieces are no longer to be believed.
pub(crate) fn remove(dir: &Path, hash: &str) {
    let _ = std::fs::remove_file(path(dir, hash));
}

/// Deletes every fast-resume file of the torrent (bitfield and metainfo copy), for a
/// torrent removed or replaced while no session runs.
pub fn forget(dir: &Path, hash: &str) {
    remove(dir, hash);
    let _ = std::fs::remove_file(dir.join(format!("{hash}.torrent")));
}

/// Overwrites the torrent's bitfield file in place with `bytes` and syncs it. In place,
/// because librqbit keeps the same file open and may write its own, possibly older,
/// snapshot later, which only ever under-claims pieces. Returns whether the file now
/// holds `bytes`: false (nothing written) when librqbit has not created it yet (it does
/// after the first check) or it has another length.
pub(crate) fn checkpoint(dir: &Path, hash: &str, bytes: &[u8]) -> std::io::Result<bool> {
    let path = path(dir, hash);
    // Already on disk (after a restart, for every torrent): no write, no fsync.
    if std::fs::read(&path).is_ok_and(|on_disk| on_disk == bytes) {
        return Ok(true);
    }
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else {
        return Ok(false);
    };
    if file.metadata().map(|m| m.len()).ok() != Some(bytes.len() as u64) {
        return Ok(false);
    }
    file.write_all_at(bytes, 0)?;
    file.sync_data()?;
    Ok(true)
}

/// The piece bitfield librqbit holds in memory for a running torrent, in the file's
/// layout.
pub(crate) fn current(api: &Api, torrent: &ManagedTorrent) -> Option<Vec<u8>> {
    api.api_dump_haves(TorrentIdOrHash::Id(torrent.id()))
        .ok()
        .map(|(bf, _)| bf.as_raw_slice().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_writes_only_over_a_file_of_the_same_length() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        assert!(
            !checkpoint(d, "ab", &[0xff]).expect("no file"),
            "not created yet"
        );
        assert!(
            read(d, "ab").is_none(),
            "the checkpoint never creates the file"
        );
        write(d, "ab", &[0x00, 0x00]).expect("write");
        assert!(!checkpoint(d, "ab", &[0xff]).expect("other length"));
        assert!(checkpoint(d, "ab", &[0xf0, 0x01]).expect("same length"));
        assert_eq!(read(d, "ab"), Some(vec![0xf0, 0x01]));
        assert!(checkpoint(d, "ab", &[0xf0, 0x01]).expect("already there"));
    }

    #[test]
    fn forget_removes_the_bitfield_and_the_metainfo_copy() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        write(d, "ab", &[1]).expect("write");
        std::fs::write(d.join("ab.torrent"), b"d4:infod").expect("write");
        std::fs::write(d.join("cd.torrent"), b"d4:infod").expect("write");
        forget(d, "ab");
        assert!(!path(d, "ab").exists());
        assert!(!d.join("ab.torrent").exists());
        assert!(
            d.join("cd.torrent").exists(),
            "another torrent's files stay"
        );
    }
}
