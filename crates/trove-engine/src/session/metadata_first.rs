//! Descriptive files first: a torrent added with this option has only its small files that
//! describe a release (cue sheets, rip logs, notes, cover art, playlists, and any file up
//! to a size the user gives) selected in librqbit at first, so a library can tell what
//! the release is before the rest arrives; once they are all in, its whole selection
//! follows. The record keeps the option until then, so a restart carries on where it was.

use std::collections::HashSet;

use tracing::{info, warn};

use super::engine::{Engine, store_err};
use crate::file_index;
use crate::source::CheckedTorrent;
use crate::store::TorrentRecord;

/// Extensions of the files that describe a release, lower case.
const DESCRIPTIVE: [&str; 9] = [
    "cue", "log", "nfo", "txt", "jpg", "jpeg", "png", "m3u", "m3u8",
];

/// Whether a file of this name and size describes its release.
pub(crate) fn is_descriptive(name: &str, len: u64, max_len: u64) -> bool {
    len <= max_len
        || name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| DESCRIPTIVE.contains(&ext.to_ascii_lowercase().as_str()))
}

/// The files (trove's numbering) to select first while the record asks for descriptive
/// files first: the descriptive ones of its selection, when there are some and some
/// others to follow. `None` when the record does not ask, or there is nothing to split.
pub(super) fn first_phase(record: &TorrentRecord, t: &CheckedTorrent) -> Option<Vec<usize>> {
    let max_len = record.metadata_first?;
    let selected = selection(record, t);
    let first: Vec<usize> = selected
        .iter()
        .copied()
        .filter(|&i| {
            t.files.get(i).is_some_and(|f| {
                let name = f.components.last().map(String::as_str).unwrap_or_default();
                is_descriptive(name, f.len, max_len)
            })
        })
        .collect();
    (!first.is_empty() && first.len() < selected.len()).then_some(first)
}

/// The files (trove's numbering) the record selects: all of them when it names none.
fn selection(record: &TorrentRecord, t: &CheckedTorrent) -> Vec<usize> {
    match &record.only_files {
        Some(o) => o.clone(),
        None => (0..t.files.len()).collect(),
    }
}

impl Engine {
    /// The descriptive files of a torrent are in: its whole selection follows.
    pub(super) async fn descriptive_files_in(&mut self, hash: &str) {
        let Some(entry) = self.torrents.get_mut(hash) else {
            return;
        };
        if entry.record.metadata_first.take().is_none() {
            return;
        }
        if let Err(e) = self.store.put(&entry.record).map_err(store_err) {
            warn!(info_hash = %hash, "cannot save the torrent's selection: {e}");
        }
        let (Some(t), Some(handle)) = (&entry.torrent, &entry.handle) else {
            return;
        };
        let set: HashSet<usize> = file_index::to_librqbit(t, &selection(&entry.record, t))
            .into_iter()
            .collect();
        let name = entry.record.name.clone();
        match super::selection::apply(&self.session, handle, &set).await {
            Ok(()) => info!(
                info_hash = %hash,
                "descriptive files of {name} are in: fetching the rest"
            ),
            Err(e) => warn!(
                info_hash = %hash,
                "descriptive files of {name} are in, but the rest could not be selected: {e:#}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptive_files_are_known_by_extension_or_size() {
        assert!(is_descriptive("CD1.cue", 10 << 20, 0));
        assert!(is_descriptive("Cover.JPG", 10 << 20, 0));
        assert!(is_descriptive("rip.log", 10 << 20, 0));
        assert!(is_descriptive("tiny.bin", 1000, 1000));
        assert!(!is_descriptive("tiny.bin", 1001, 1000));
        assert!(!is_descriptive("01 Track.flac", 30 << 20, 1 << 20));
        assert!(!is_descriptive("no_extension", 30 << 20, 1 << 20));
        assert!(!is_descriptive("archive.txt.flac", 30 << 20, 0));
    }
}
