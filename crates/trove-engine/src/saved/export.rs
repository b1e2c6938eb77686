//! The export document: the whole session as one JSON document, to rebuild a store or move
//! a session to another machine, and the checks an import passes before anything is written.
//!
//! ```json
//! {
//!   "trove_export": 1,
//!   "exported_at": "2025-01-31T12:00:00Z",
//!   "store_format": 1,
//!   "trove_version": "0.1.0",
//!   "roots": [ { "token": "movies", "label": "movies", "path": "/srv/movies", "default": true,
//!                "origin": "config" } ],
//!   "settings": { "limits": null, "tags": ["linux"], "roots": [ { "label": "isos", "path": "/srv/isos" } ] },
//!   "torrents": [ { "info_hash": "…", "name": "…", "root_token": "movies", "paused": false,
//!                   "uploaded_total": 123, …every field of a store record…,
//!                   "torrent_file": "ZDg6YW5ub3VuY2U…" } ]
//! }
//! ```
//!
//! Each torrent is its store record with every field (root token, selection, limits,
//! paused, times, lifetime counters, peers, last state) plus `torrent_file`: the .torrent
//! bytes in standard base64 (RFC 4648, padded). Base64 rather than hex because .torrent
//! files reach megabytes and hex doubles them where base64 adds a third; the `base64` crate
//! was already in the build through librqbit. A torrent still waiting for its metadata has
//! no `torrent_file`, only its `magnet`. `roots` is information only: torrents name their
//! root by token, and import maps tokens to the roots of the config it runs with. The
//! roots kept in the store (`settings.roots`) are created again by an import, unless the
//! config there declares the same label (its root then takes their torrents); the
//! session's tags (`settings.tags`, and each torrent's `tags`) join the importing session's.
//!
//! A running session answers `Command::Export` with the same document, built by [`build`]
//! from its store after writing its counters.
//!
//! Export never writes to the store: it reads a scratch copy (see `SledStore::salvage`), so
//! it also saves what is readable from a damaged store. Import checks everything before it
//! writes anything, then writes every torrent in one sled transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::bail;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use trove_proto::snapshot::RootOrigin;

use crate::data_dir::DataDir;
use crate::lock::DataDirLock;
use crate::roots::{RootManager, StorageRoot, check_root_label};
use crate::source::{self, Loaded};
use crate::store::{
    STORE_FORMAT, SessionSettings, SessionStore, SledStore, StoreError, StoredRoot, TorrentRecord,
};
use crate::tags::check_tags;
use crate::torrents::{check_file_indices, magnet_for};

/// The version of the export document this trove writes and reads.
pub(super) const EXPORT_FORMAT: u64 = 1;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The document; `T` is [`ExportedTorrent`] when writing and a JSON value when reading, so
/// one bad torrent can be named instead of failing the whole parse.
#[derive(Debug, Serialize, Deserialize)]
struct ExportDoc<T> {
    trove_export: u64,
    exported_at: String,
    store_format: u32,
    #[serde(default)]
    trove_version: Option<String>,
    #[serde(default)]
    roots: Vec<ExportedRoot>,
    #[serde(default)]
    settings: SessionSettings,
    torrents: Vec<T>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExportedRoot {
    token: String,
    label: String,
    path: PathBuf,
    #[serde(default)]
    default: bool,
    /// Where the root was declared; a root kept in the store is also in `settings.roots`,
    /// which is what import re-creates.
    #[serde(default)]
    origin: RootOrigin,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExportedTorrent {
    #[serde(flatten)]
    record: TorrentRecord,
    /// The .torrent bytes, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    torrent_file: Option<String>,
}

/// An export, ready to be written somewhere.
pub struct ExportOutcome {
    /// The document, pretty-printed, ending in a newline.
    pub json: String,
    /// Torrents in it.
    pub count: usize,
    /// Records that could not be read (or were exported as magnets instead), one line each.
    pub problems: Vec<String>,
}

/// A checked export, ready to write.
pub struct ImportPlan {
    torrents: Vec<(TorrentRecord, Option<Vec<u8>>)>,
    settings: SessionSettings,
    /// The export's stored roots the config here does not declare: created by the import.
    roots: Vec<StoredRoot>,
}

/// What an import did.
pub struct ImportOutcome {
    pub torrents: Vec<ImportedTorrent>,
    /// The export's session limits replaced this session's.
    pub settings_imported: bool,
    /// The export had other session limits, and this session's own were kept.
    pub kept_own_limits: bool,
    /// Storage roots of the export now kept in this session's store, by label.
    pub roots_created: Vec<String>,
}

pub struct ImportedTorrent {
    pub info_hash: String,
    pub name: String,
    /// It was in the session already and was overwritten.
    pub replaced: bool,
}

/// Exports the session in `data_dir` (which must not be running). Reads a scratch copy
/// of the store, so what is readable of a damaged store is still exported; the records
/// that are not are named in [`ExportOutcome::problems`].
pub fn export(data_dir: &Path, roots: &RootManager) -> anyhow::Result<ExportOutcome> {
    let dir = DataDir::new(data_dir);
    let _lock = DataDirLock::acquire(dir.path()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let salvaged = SledStore::salvage(&dir.store()).map_err(|e| match e {
        StoreError::Damaged { path, reason } => anyhow::anyhow!(
            "cannot export the store at {}: {reason}. Nothing in it was changed; if you have an earlier export, move the folder aside and `trove import` it",
            path.display()
        ),
        other => anyhow::anyhow!("{other}"),
    })?;
    // The roots kept in the store are exported with the config's, as a session has them.
    let (roots, _) = roots.clone().with_stored(&salvaged.settings.roots);
    build(
        salvaged.torrents,
        salvaged.settings,
        salvaged.store_format.unwrap_or(STORE_FORMAT),
        salvaged.problems,
        &roots,
    )
}

/// The document for these records (each with its .torrent bytes, if stored) and settings:
/// what `export` writes from a stopped session's store and a running session answers to
/// `Command::Export`. A record whose .torrent is missing or wrong is exported as a magnet
/// link, and said so in `problems`.
pub(crate) fn build(
    mut records: Vec<(TorrentRecord, Option<Vec<u8>>)>,
    settings: SessionSettings,
    store_format: u32,
    mut problems: Vec<String>,
    roots: &RootManager,
) -> anyhow::Result<ExportOutcome> {
    let mut torrents = Vec::new();
    records.sort_by(|a, b| (a.0.added_at, &a.0.info_hash).cmp(&(b.0.added_at, &b.0.info_hash)));
    for (mut record, bytes) in records {
        let label = format!(
            "{} ({})",
            record.info_hash,
            source::sanitize_display(&record.name)
        );
        let bytes = match bytes {
            Some(b) => match source::check_torrent(&b, "its stored .torrent") {
                Ok(t) if t.info_hash == record.info_hash => Some(b),
                Ok(t) => {
                    problems.push(format!(
                        "{label}: its stored .torrent belongs to another torrent ({})",
                        t.info_hash
                    ));
                    None
                }
                Err(e) => {
                    problems.push(format!("{label}: {e}"));
                    None
                }
            },
            None if record.has_metadata => {
                problems.push(format!("{label}: its stored .torrent is missing"));
                None
            }
            None => None,
        };
        if bytes.is_none() {
            record.has_metadata = false;
            if record.magnet.is_none() {
                // Its metadata can still come from peers.
                record.magnet = Some(magnet_for(&record.info_hash, &record.name, &[]));
                problems.push(format!(
                    "{label}: exported as a magnet link instead, so its metadata will be fetched from peers"
                ));
            }
        }
        torrents.push(ExportedTorrent {
            record,
            torrent_file: bytes.map(|b| B64.encode(b)),
        });
    }
    let doc = ExportDoc {
        trove_export: EXPORT_FORMAT,
        exported_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        store_format,
        trove_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        roots: roots
            .roots()
            .iter()
            .map(|r| ExportedRoot {
                token: r.token.clone(),
                label: r.label.clone(),
                path: r.path.clone(),
                default: r.is_default,
                origin: r.origin,
            })
            .collect(),
        settings,
        torrents,
    };
    let mut json = serde_json::to_string_pretty(&doc)?;
    json.push('\n');
    Ok(ExportOutcome {
        json,
        count: doc.torrents.len(),
        problems,
    })
}

/// Writes a checked export into the session in `data_dir` (which must not be running),
/// all or nothing. Torrents already in the session are refused unless `replace`; `what`
/// names the export in messages.
pub fn import(
    data_dir: &Path,
    plan: &ImportPlan,
    what: &str,
    replace: bool,
) -> anyhow::Result<ImportOutcome> {
    let dir = DataDir::new(data_dir);
    let _lock = DataDirLock::acquire(dir.path()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store_dir = dir.store();
    // Look for conflicts in a scratch copy first: sled writes to its files whenever it
    // opens them, and a refused import leaves the store exactly as it was. A damaged store
    // is left to `open` below to report.
    let present: BTreeSet<String> = match SledStore::salvage(&store_dir) {
        Ok(found) => plan
            .torrents
            .iter()
            .map(|(r, _)| r.info_hash.clone())
            .filter(|h| found.keys().contains(h))
            .collect(),
        Err(_) => BTreeSet::new(),
    };
    if !present.is_empty() && !replace {
        let names: Vec<String> = plan
            .torrents
            .iter()
            .filter(|(r, _)| present.contains(&r.info_hash))
            .map(|(r, _)| format!("{} ({})", r.info_hash, source::sanitize_display(&r.name)))
            .collect();
        bail!(
            "{} of the torrents in {} {} already in this session: {}. Nothing was imported; pass --replace to overwrite them with the exported ones",
            names.len(),
            what,
            if names.len() == 1 { "is" } else { "are" },
            names.join(", ")
        );
    }
    let store = SledStore::open(&store_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = &store;
    // The copy was read under the same lock, so it still tells the truth; check anyway.
    let present: BTreeSet<String> = plan
        .torrents
        .iter()
        .map(|(r, _)| r.info_hash.clone())
        .filter(|h| present.contains(h) || matches!(store.get(h), Ok(Some(_))))
        .collect();
    if !present.is_empty() && !replace {
        bail!(
            "torrents of {} appeared in this session while importing; nothing was imported",
            what
        );
    }
    let current = store.settings().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut settings = current.clone();
    // Session limits: the export's replace none set here, or any with --replace.
    let mut kept_own_limits = false;
    let mut settings_imported = false;
    if plan.settings.limits.is_some() && plan.settings.limits != current.limits {
        if current.limits.is_none() || replace {
            settings.limits = plan.settings.limits;
            settings_imported = true;
        } else {
            kept_own_limits = true;
        }
    }
    // The queue's limits and the session's seeding goals: as for the limits.
    if plan.settings.queue.is_some() && (current.queue.is_none() || replace) {
        settings.queue = plan.settings.queue;
    }
    if plan.settings.goals_set && (!current.goals_set || replace) {
        settings.goals = plan.settings.goals;
        settings.goals_set = true;
    }
    // Tags join this session's; the export's stored roots are created unless one with
    // the same label is kept here already (that one is used).
    let mut tags: BTreeSet<String> = current.tags.iter().cloned().collect();
    tags.extend(plan.settings.tags.iter().cloned());
    settings.tags = tags.into_iter().collect();
    let mut roots_created = Vec::new();
    for r in &plan.roots {
        if settings.roots.iter().any(|have| have.label == r.label) {
            continue;
        }
        std::fs::create_dir_all(&r.path).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the folder {} of storage root '{}' from {what} ({e}); nothing was imported",
                r.path.display(),
                r.label
            )
        })?;
        settings.roots.push(r.clone());
        roots_created.push(r.label.clone());
    }
    let new_settings = (settings != current).then_some(&settings);
    store
        .import(&plan.torrents, new_settings)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // A replaced torrent may now live in another root: its old piece bitfield must not be
    // trusted there.
    for hash in &present {
        dir.forget_resume_state(hash);
    }
    Ok(ImportOutcome {
        torrents: plan
            .torrents
            .iter()
            .map(|(r, _)| ImportedTorrent {
                info_hash: r.info_hash.clone(),
                name: r.name.clone(),
                replaced: present.contains(&r.info_hash),
            })
            .collect(),
        settings_imported,
        kept_own_limits,
        roots_created,
    })
}

/// Checks a whole export against the config this trove runs with; the first problem found
/// is the error (with how many more there are).
impl ImportPlan {
    /// Checks the export `text` (read from what `what` names) against `roots`; with
    /// `root`, every torrent goes to that root.
    pub fn check(
        roots: &RootManager,
        what: &str,
        text: &str,
        root: Option<&str>,
    ) -> anyhow::Result<Self> {
        check_export(roots, what, text, root)
    }
}

fn check_export(
    roots: &RootManager,
    what: &str,
    text: &str,
    root: Option<&str>,
) -> anyhow::Result<ImportPlan> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("{what} is not a trove export: it is not valid JSON ({e})"))?;
    let version = value.get("trove_export").and_then(Value::as_u64);
    match version {
        None | Some(0) => {
            bail!("{what} is not a trove export: it has no \"trove_export\" version number")
        }
        Some(v) if v > EXPORT_FORMAT => bail!(
            "{what} was written by a newer trove (export format {v}; this trove reads up to {EXPORT_FORMAT}): import it with a trove at least as new, or upgrade this one"
        ),
        Some(_) => {}
    }
    let doc: ExportDoc<Value> = serde_json::from_value(value)
        .map_err(|e| anyhow::anyhow!("{what} is not a valid trove export: {e}"))?;
    // The export's stored roots join the config's (the config wins a label both have, and
    // its root then takes their torrents); the ones it does not declare are created.
    let mut new_roots = Vec::new();
    for r in &doc.settings.roots {
        let label = check_root_label(&r.label).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        if !r.path.is_absolute() {
            bail!(
                "{what}: the folder of storage root '{label}' is not an absolute path ({}); nothing was imported",
                r.path.display()
            );
        }
        if roots
            .roots()
            .iter()
            .all(|have| have.label != label && have.token != label)
        {
            new_roots.push(StoredRoot {
                label,
                path: r.path.clone(),
            });
        }
    }
    let (merged, _) = roots.clone().with_stored(&doc.settings.roots);
    let roots = &merged;
    let mut settings = doc.settings.clone();
    settings.tags = check_tags(&settings.tags).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    let forced: Option<&StorageRoot> = match root {
        Some(label) => Some(
            roots
                .choose(Some(label))
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    let exported_roots: BTreeMap<&str, &ExportedRoot> =
        doc.roots.iter().map(|r| (r.token.as_str(), r)).collect();

    let mut problems: Vec<String> = Vec::new();
    let mut unknown_tokens: BTreeSet<String> = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut used_roots: BTreeMap<String, &StorageRoot> = BTreeMap::new();
    let mut torrents = Vec::new();
    for (i, raw) in doc.torrents.iter().enumerate() {
        let hint = raw
            .get("info_hash")
            .and_then(Value::as_str)
            .map(|h| format!("torrent {h}"))
            .unwrap_or_else(|| format!("torrent #{}", i + 1));
        let entry: ExportedTorrent = match serde_json::from_value(raw.clone()) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("{hint} in {what} is not valid: {e}"));
                continue;
            }
        };
        let mut record = entry.record;
        record.info_hash = record.info_hash.trim().to_ascii_lowercase();
        record.tags = match check_tags(&record.tags) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{hint} in {what}: {e}"));
                continue;
            }
        };
        let hash = record.info_hash.clone();
        let label = format!(
            "torrent {hash} ({})",
            source::sanitize_display(&record.name)
        );
        if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.push(format!(
                "{label} in {what}: its info-hash is not 40 hexadecimal characters"
            ));
            continue;
        }
        if !seen.insert(hash.clone()) {
            problems.push(format!("{label} appears twice in {what}"));
            continue;
        }
        let root = match forced {
            Some(r) => Some(r),
            None => {
                let r = roots.by_token(&record.root_token);
                if r.is_none() {
                    unknown_tokens.insert(record.root_token.clone());
                }
                r
            }
        };
        if let Some(r) = root {
            record.root_token = r.token.clone();
            used_roots.insert(r.token.clone(), r);
        }
        let bytes = match &entry.torrent_file {
            Some(b64) => match B64.decode(b64.trim()) {
                Ok(b) => Some(b),
                Err(e) => {
                    problems.push(format!(
                        "{label} in {what}: its torrent_file is not valid base64 ({e})"
                    ));
                    continue;
                }
            },
            None => None,
        };
        match &bytes {
            Some(b) => {
                let t =
                    match source::check_torrent(b, &format!("the .torrent of {label} in {what}")) {
                        Ok(t) => t,
                        Err(e) => {
                            problems.push(e.to_string());
                            continue;
                        }
                    };
                if t.info_hash != hash {
                    problems.push(format!(
                        "the .torrent of {label} in {what} does not match its info-hash (the bytes are those of {}): the export was edited or damaged",
                        t.info_hash
                    ));
                    continue;
                }
                if let Some(files) = &record.only_files
                    && let Err(e) = check_file_indices(files, t.files.len())
                {
                    problems.push(format!("{label} in {what}: {e}"));
                    continue;
                }
                if let Some(r) = root
                    && let Err(e) = source::check_no_symlinks(&t, &r.path)
                {
                    problems.push(format!("{label}: {e}"));
                    continue;
                }
                record.has_metadata = true;
            }
            None => {
                let Some(link) = record.magnet.clone() else {
                    problems.push(format!(
                        "{label} in {what} has neither its .torrent (torrent_file) nor a magnet link"
                    ));
                    continue;
                };
                match source::parse_magnet(&link) {
                    Ok(Loaded::Magnet { info_hash, .. }) if info_hash == hash => {}
                    Ok(other) => {
                        problems.push(format!(
                            "the magnet link of {label} in {what} is for another torrent ({})",
                            other.info_hash()
                        ));
                        continue;
                    }
                    Err(e) => {
                        problems.push(format!("{label} in {what}: {e}"));
                        continue;
                    }
                }
                record.has_metadata = false;
            }
        }
        torrents.push((record, bytes));
    }
    if !unknown_tokens.is_empty() {
        let described: Vec<String> = unknown_tokens
            .iter()
            .map(|t| match exported_roots.get(t.as_str()) {
                Some(r) => format!(
                    "'{t}' (label '{}', {} on the machine it came from)",
                    r.label,
                    r.path.display()
                ),
                None => format!("'{t}'"),
            })
            .collect();
        let first = unknown_tokens.iter().next().cloned().unwrap_or_default();
        problems.insert(
            0,
            format!(
                "{what} puts torrents in storage root token{} {} that the config file here does not declare: add a [[roots]] entry with token = \"{first}\" (any label, the folder it should use here){}, or pass --root LABEL to import every torrent into one root",
                if unknown_tokens.len() == 1 { "" } else { "s" },
                described.join(", "),
                if unknown_tokens.len() > 1 { " for each" } else { "" }
            ),
        );
    }
    for r in used_roots.values() {
        // A stored root of the export is created when the import writes.
        if r.origin == RootOrigin::Store && !r.path.exists() {
            continue;
        }
        if let Err(e) = roots.check_usable(r) {
            problems.push(e.to_string());
        }
    }
    if let Some(first) = problems.first() {
        let more = problems.len() - 1;
        if more == 0 {
            bail!("{first}; nothing was imported");
        }
        bail!(
            "{first}; nothing was imported ({more} more problem{} in {what})",
            if more == 1 { "" } else { "s" }
        );
    }
    Ok(ImportPlan {
        torrents,
        settings,
        roots: new_roots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnet_for_escapes_the_name() {
        let m = magnet_for("ab", "a b/ü", &[]);
        assert_eq!(m, "magnet:?xt=urn:btih:ab&dn=a%20b%2F%C3%BC");
        assert!(source::parse_magnet(&magnet_for(&"0".repeat(40), "x y", &[])).is_ok());
    }
}
