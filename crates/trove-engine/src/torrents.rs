//! Rules about torrents that hold with or without a running session: resolving an ID
//! prefix, checking file indices, building the record of a new torrent and deleting a
//! torrent's files. The engine uses them, and so do the offline commands that edit the
//! store while no engine runs.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use librqbit_core::magnet::Magnet;
use tracing::warn;
use trove_proto::command::{AddOptions, EngineError, EngineResult};
use trove_proto::snapshot::{InfoHash, Limits, TorrentState};

use crate::roots::{RootManager, StorageRoot};
use crate::source::{self, CheckedTorrent, Loaded, MAX_FILES};
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

/// What can be said of a file selection before the file list is known (a magnet): no
/// index twice, none past the most files any torrent trove accepts may have.
pub fn check_selection_shape(files: &[usize]) -> EngineResult<()> {
    if let Some(bad) = files.iter().find(|&&i| i >= MAX_FILES) {
        return Err(EngineError::BadSource(format!(
            "file index {bad} cannot exist: trove accepts torrents of at most {MAX_FILES} files"
        )));
    }
    let mut seen = HashSet::new();
    if let Some(dup) = files.iter().find(|&&i| !seen.insert(i)) {
        return Err(EngineError::BadSource(format!(
            "file index {dup} is given twice"
        )));
    }
    Ok(())
}

/// The error of a torrent whose stored selection does not fit the file list its metadata
/// brought, saying how to choose again.
pub fn selection_error(files: &[usize], count: usize, hash: &str) -> Option<EngineError> {
    let e = check_file_indices(files, count).err()?;
    Some(EngineError::BadSource(format!(
        "{e}; choose the files again with `trove select {} FILES` or in the Files tab",
        &hash[..hash.len().min(8)]
    )))
}

/// Where a torrent's root is.
#[derive(Debug, Clone, PartialEq)]
pub enum RootPlace<'a> {
    /// A root of the config file.
    Config(&'a StorageRoot),
    /// A root gone from the config file whose recorded folder still exists.
    Recorded(PathBuf),
}

impl RootPlace<'_> {
    pub fn path(&self) -> &Path {
        match self {
            RootPlace::Config(r) => &r.path,
            RootPlace::Recorded(p) => p,
        }
    }
}

/// How to declare a root again, for messages about a root the config file lost.
pub fn declare_hint(token: &str, path: Option<&Path>) -> String {
    format!(
        "declare it under [[roots]] with label = \"{token}\", path = \"{}\", token = \"{token}\"",
        path.map(|p| p.display().to_string())
            .unwrap_or_else(|| "/its/folder".into())
    )
}

/// The root a torrent's data lives in: its config root, or the folder recorded when it was
/// added if the config file no longer declares the root but the folder is still there.
pub fn torrent_root<'a>(
    roots: &'a RootManager,
    record: &TorrentRecord,
) -> EngineResult<RootPlace<'a>> {
    if let Some(r) = roots.by_token(&record.root_token) {
        return Ok(RootPlace::Config(r));
    }
    let token = &record.root_token;
    match &record.root_path {
        Some(p) if p.is_dir() => Ok(RootPlace::Recorded(p.clone())),
        Some(p) => Err(EngineError::Root(format!(
            "the torrent's storage root '{token}' is no longer in the config file and its folder {} does not exist: {}",
            p.display(),
            declare_hint(token, Some(p))
        ))),
        None => Err(EngineError::Root(format!(
            "the torrent's storage root '{token}' is no longer in the config file: {}",
            declare_hint(token, None)
        ))),
    }
}

/// The folder a torrent's data is in, when it can be told (its root's, or the recorded one).
pub fn save_path(
    roots: &RootManager,
    record: &TorrentRecord,
    torrent: Option<&CheckedTorrent>,
) -> Option<PathBuf> {
    let root = roots
        .by_token(&record.root_token)
        .map(|r| r.path.clone())
        .or_else(|| record.root_path.clone())?;
    Some(match torrent {
        Some(t) => t.output_folder(&root),
        None => root,
    })
}

/// Why the torrent cannot start now (its root, its selection), if anything; None for a
/// torrent whose metadata is not known (nothing can be checked).
pub fn start_problem(
    roots: &RootManager,
    record: &TorrentRecord,
    torrent: Option<&CheckedTorrent>,
) -> Option<EngineError> {
    let t = torrent?;
    let root = match torrent_root(roots, record) {
        Ok(r) => r,
        Err(e) => return Some(e),
    };
    if let RootPlace::Config(r) = &root
        && let Err(e) = roots.check_usable(r)
    {
        return Some(e);
    }
    if let Err(e) = source::check_no_symlinks(t, root.path()) {
        return Some(e);
    }
    record
        .only_files
        .as_deref()
        .and_then(|o| selection_error(o, t.files.len(), &record.info_hash))
}

/// Whether a selected file is missing or shorter than the torrent says, under the
/// torrent's root folder, or for a torrent kept in a vault, whether its vault file is
/// gone: pieces a bitfield claims are then no longer on disk.
pub fn data_missing(
    t: &CheckedTorrent,
    root: &Path,
    vault_file: Option<&str>,
    only_files: Option<&[usize]>,
) -> bool {
    if let Some(file) = vault_file {
        return !root.join(file).is_file();
    }
    t.file_paths(root)
        .iter()
        .zip(&t.files)
        .enumerate()
        .filter(|(i, _)| only_files.is_none_or(|o| o.contains(i)))
        .any(|(_, (p, f))| f.len > 0 && std::fs::metadata(p).map_or(true, |m| m.len() < f.len))
}

/// The trackers a torrent announces to: the user's list if one was set, else the
/// .torrent's, else the magnet link's `tr=`.
pub fn effective_trackers(record: &TorrentRecord, torrent: Option<&CheckedTorrent>) -> Vec<String> {
    if let Some(list) = &record.trackers {
        return list.clone();
    }
    if let Some(t) = torrent {
        return t.trackers.clone();
    }
    record
        .magnet
        .as_deref()
        .and_then(|m| Magnet::parse(m).ok())
        .map(|m| m.trackers)
        .unwrap_or_default()
}

/// Checks a tracker URL a user typed: http, https or udp, with a host.
pub fn check_tracker_url(url: &str) -> EngineResult<String> {
    let u = url.trim();
    let host = ["http://", "https://", "udp://"]
        .iter()
        .find_map(|scheme| u.strip_prefix(scheme))
        .and_then(|rest| rest.split(['/', '?']).next());
    let ok = host.is_some_and(|h| !h.is_empty() && !h.starts_with(':'))
        && !u.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(EngineError::BadSource(format!(
            "'{}' is not a tracker URL: it needs http://, https:// or udp://, a host and usually a port (udp://tracker.example:6969/announce)",
            source::sanitize_display(u)
        )));
    }
    Ok(u.to_string())
}

/// Each URL checked, duplicates dropped, in the order given.
pub fn checked_tracker_list(trackers: &[String]) -> EngineResult<Vec<String>> {
    let mut list: Vec<String> = Vec::new();
    for t in trackers {
        let url = check_tracker_url(t)?;
        if !list.contains(&url) {
            list.push(url);
        }
    }
    Ok(list)
}

/// A torrent's magnet link: its info-hash, its name as `dn` and each tracker as `tr`,
/// percent-encoded.
pub fn magnet_for(info_hash: &str, name: &str, trackers: &[String]) -> String {
    let mut link = format!(
        "magnet:?xt=urn:btih:{info_hash}&dn={}",
        percent_encode(name)
    );
    for t in trackers {
        link.push_str("&tr=");
        link.push_str(&percent_encode(t));
    }
    link
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A torrent's settings an add of it again may ask to change (from its record, or from a
/// running session's snapshot).
pub struct Current<'a> {
    pub info_hash: &'a str,
    pub root_token: &'a str,
    pub paused: bool,
    pub limits: Limits,
    pub only_files: Option<&'a [usize]>,
    pub tags: &'a [String],
}

impl<'a> Current<'a> {
    pub fn of(r: &'a TorrentRecord) -> Self {
        Current {
            info_hash: &r.info_hash,
            root_token: &r.root_token,
            paused: r.paused,
            limits: r.limits,
            only_files: r.only_files.as_deref(),
            tags: &r.tags,
        }
    }

    /// The same, from a running session's snapshot.
    pub fn of_summary(t: &'a trove_proto::TorrentSummary) -> Self {
        Current {
            info_hash: &t.info_hash,
            root_token: &t.root_token,
            paused: t.paused,
            limits: t.limits,
            only_files: t.only_files.as_deref(),
            tags: &t.tags,
        }
    }
}

/// What an add of a torrent already in the session asked for and did not get, each as a
/// sentence saying how to get it. `wanted_root` is the token of the root the add chose.
pub fn ignored_options(existing: &Current, wanted_root: &str, opts: &AddOptions) -> Vec<String> {
    let id = &existing.info_hash[..existing.info_hash.len().min(8)];
    let mut notes = Vec::new();
    if opts.root.is_some() && wanted_root != existing.root_token {
        notes.push(format!(
            "--root ignored: it stays in storage root '{}' (moving a torrent between roots is not possible yet)",
            existing.root_token
        ));
    }
    if opts.paused && !existing.paused {
        notes.push(format!(
            "--paused ignored: pause it with `trove pause {id}`"
        ));
    }
    if opts.limits != Limits::default() && opts.limits != existing.limits {
        notes.push(format!(
            "limits ignored: change them with `trove limit {id} --download-limit R --upload-limit R --peer-limit N`"
        ));
    }
    if opts.only_files.is_some() && opts.only_files.as_deref() != existing.only_files {
        notes.push(format!(
            "--only-files ignored: choose files with `trove select {id} FILES`"
        ));
    }
    let tags = crate::tags::names_to_remove(&opts.tags);
    if tags.iter().any(|t| !existing.tags.contains(t)) {
        notes.push(format!(
            "--tag ignored: put tags on it with `trove tag {id} --add TAG`"
        ));
    }
    notes
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
    crate::tags::check_tags(&opts.tags)?;
    let (hash, name, magnet, size) = match loaded {
        Loaded::Torrent(t) => {
            if let Some(files) = &opts.only_files {
                check_selection_shape(files)?;
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
        } => {
            if let Some(files) = &opts.only_files {
                check_selection_shape(files)?;
            }
            (
                info_hash.clone(),
                name.clone().unwrap_or_else(|| info_hash.clone()),
                Some(link.clone()),
                0,
            )
        }
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
        root_path: Some(root.path.clone()),
        trackers: None,
        tags: crate::tags::check_tags(&opts.tags)?,
        // Placed at the end of the queue by the session that takes it in.
        queue_position: 0,
        forced: false,
        goals: None,
        seeding_ms: 0,
        moving: None,
        missing_data: None,
        metadata_first: opts.metadata_first,
        vault_file: root
            .vault
            .is_some()
            .then(crate::vault::new_file_name)
            .transpose()
            .map_err(EngineError::Root)?,
    })
}

/// Where a torrent's data is under `root`: its files, or the one file of a torrent kept in
/// a vault.
pub fn data_paths(t: &CheckedTorrent, root: &Path, vault_file: Option<&str>) -> Vec<PathBuf> {
    match vault_file {
        Some(f) => vec![root.join(f)],
        None => t.file_paths(root),
    }
}

/// Deletes a torrent's files (and the folders it made, when empty) without librqbit; for a
/// torrent kept in a vault, its one vault file.
pub fn delete_torrent_files(t: &CheckedTorrent, root: &Path, vault_file: Option<&str>) {
    for p in data_paths(t, root, vault_file) {
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
