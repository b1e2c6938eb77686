//! Rules about torrents that hold with or without a running session: resolving an ID
//! prefix, checking file indices, building the record of a new torrent and deleting a
//! torrent's files. The engine uses them, and so do the offline commands that edit the
//! store while no engine runs.

use std::path::Path;

use tracing::warn;
use trove_proto::command::{AddOptions, EngineError, EngineResult};
use trove_proto::snapshot::{InfoHash, TorrentState};

use crate::roots::RootManager;
use crate::source::{self, CheckedTorrent, Loaded};
use crate::store::TorrentRecord;

/// The current time in Unix seconds, as records store it.
pub(crate) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Finds the one torrent whose info-hash starts with `id`.
pub fn resolve_prefix<'a>(
    hashes: impl Iterator<Item = &'a str>,
    id: &str,
) -> EngineResult<InfoHash> {
    let needle = id.trim().to_ascii_lowercase();
    if needle.is_empty() {
        return Err(EngineError::UnknownId(id.into()));
    }
    let matches: Vec<&str> = hashes.filter(|h| h.starts_with(&needle)).collect();
    match matches.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(EngineError::UnknownId(id.into())),
        many => Err(EngineError::AmbiguousId {
            prefix: id.into(),
            count: many.len(),
        }),
    }
}

pub fn check_file_indices(files: &[usize], count: usize) -> EngineResult<()> {
    if let Some(bad) = files.iter().find(|&&i| i >= count) {
        return Err(EngineError::BadSource(format!(
            "file index {bad} does not exist: the torrent has {count} files, numbered 0 to {}",
            count.saturating_sub(1)
        )));
    }
    Ok(())
}

/// Validates an add request and builds the record to store (shared by the engine and the
/// offline `trove add`).
pub fn prepare_record(
    roots: &RootManager,
    loaded: &Loaded,
    opts: &AddOptions,
) -> EngineResult<TorrentRecord> {
    let root = roots.choose(opts.root.as_deref())?;
    roots.check_usable(root)?;
    let (hash, name, magnet, size) = match loaded {
        Loaded::Torrent(t) => {
            if let Some(files) = &opts.only_files {
                check_file_indices(files, t.files.len())?;
            }
            source::check_no_symlinks(t, &root.path)?;
            (t.info_hash.clone(), t.name.clone(), None, t.total_len)
        }
        Loaded::Magnet {
            info_hash,
            name,
            link,
            ..
        } => (
            info_hash.clone(),
            name.clone().unwrap_or_else(|| info_hash.clone()),
            Some(link.clone()),
            0,
        ),
    };
    Ok(TorrentRecord {
        info_hash: hash,
        name,
        has_metadata: magnet.is_none(),
        magnet,
        root_token: root.token.clone(),
        only_files: opts.only_files.clone(),
        paused: opts.paused,
        limits: opts.limits,
        added_at: now_unix(),
        completed_at: None,
        uploaded_total: 0,
        downloaded_total: 0,
        initial_peers: {
            let mut peers = opts.peers.clone();
            if let Loaded::Magnet { peers: named, .. } = loaded {
                peers.extend(named.iter().filter(|p| !opts.peers.contains(p)));
            }
            peers
        },
        seen_peers: Vec::new(),
        last_state: if opts.paused {
            TorrentState::Paused
        } else {
            TorrentState::Queued
        },
        size,
        have_bytes: 0,
        selected_bytes: 0,
        error: None,
    })
}

/// Deletes a torrent's files (and the folders it made, when empty) without librqbit.
pub fn delete_torrent_files(t: &CheckedTorrent, root: &Path) {
    for p in t.file_paths(root) {
        if let Err(e) = std::fs::remove_file(&p)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            warn!("cannot delete {}: {e}", p.display());
        }
        // Remove now-empty parents up to (not including) the root.
        let mut dir = p.parent();
        while let Some(d) = dir {
            if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASHES: [&str; 3] = ["abc1", "abc2", "def0"];

    #[test]
    fn a_prefix_names_one_torrent_or_says_why_not() {
        let resolve = |id| resolve_prefix(HASHES.into_iter(), id);
        assert_eq!(resolve(" DEF ").expect("unique"), "def0");
        assert_eq!(resolve("abc1").expect("full"), "abc1");
        assert!(matches!(
            resolve("abc"),
            Err(EngineError::AmbiguousId { count: 2, .. })
        ));
        assert!(matches!(resolve("f"), Err(EngineError::UnknownId(_))));
        assert!(matches!(resolve("  "), Err(EngineError::UnknownId(_))));
    }

    #[test]
    fn file_indices_past_the_end_are_refused() {
        assert!(check_file_indices(&[0, 2], 3).is_ok());
        assert!(check_file_indices(&[], 0).is_ok());
        let Err(EngineError::BadSource(msg)) = check_file_indices(&[1, 3], 3) else {
            panic!("index 3 of 3 files accepted");
        };
        assert!(
            msg.contains("file index 3") && msg.contains("0 to 2"),
            "{msg}"
        );
    }
}
