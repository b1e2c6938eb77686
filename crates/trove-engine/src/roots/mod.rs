//! Storage roots: the folders torrents land in (the seed's StorageRootManager).
//!
//! The config declares roots by label, path and a stable token; torrents record the token,
//! so a root can be renamed or moved in the config without losing its torrents. More roots
//! can be created at run time and kept in the store ([`StoredRoot`]: a label and a path,
//! whose token is its label, as for a config root declared without a token); they join
//! the config's here. The config wins a clash: a stored root whose label or token the
//! config also declares is left out, and its torrents go to the config's root.

use std::path::{Path, PathBuf};

use trove_proto::command::EngineError;
use trove_proto::snapshot::{RootInfo, RootOrigin};

use crate::store::StoredRoot;
use crate::vault::VaultSpec;

mod stored;

pub use stored::{MAX_ROOT_LABEL_CHARS, check_root_label};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRoot {
    pub token: String,
    pub label: String,
    pub path: PathBuf,
    pub is_default: bool,
    /// Where it was declared. The implicit root (used when the config declares none) is
    /// created on first use.
    pub origin: RootOrigin,
    /// Set for a vault root: its torrents are kept encrypted (see `vault`).
    pub vault: Option<VaultSpec>,
}

impl StorageRoot {
    fn implicit(&self) -> bool {
        self.origin == RootOrigin::Implicit
    }
}

/// A root as the config declares it (kept free of the config module's serde types).
#[derive(Debug, Clone)]
pub struct RootSpec {
    pub label: String,
    pub path: PathBuf,
    pub token: Option<String>,
    pub default: bool,
    /// The label of the root a torrent finishing in this one is moved to.
    pub complete_to: Option<String>,
    /// Set for a vault root: its key file and cipher.
    pub vault: Option<VaultSpec>,
}

#[derive(Debug, Clone)]
pub struct RootManager {
    roots: Vec<StorageRoot>,
    /// Tokens of stored roots the config declares under the same label: the torrents
    /// recorded with them belong to the config's root of that label (its token).
    aliases: Vec<(String, String)>,
    /// Stored roots left out because the config declares their label or token: kept, so
    /// writing the stored roots back does not lose them, and they return if the config
    /// stops declaring the label.
    shadowed: Vec<StoredRoot>,
    /// (token, label): a torrent finishing in the root of that token moves to the root of
    /// that label (the config's `complete_to`).
    complete_to: Vec<(String, String)>,
}

impl RootManager {
    /// Builds the roots from the config. With none declared, one root labelled
    /// `downloads` at `fallback_dir` is the default. With several and none marked
    /// default, the first one is.
    pub fn new(specs: &[RootSpec], fallback_dir: PathBuf) -> Self {
        if specs.is_empty() {
            return RootManager {
                roots: vec![StorageRoot {
                    token: "downloads".into(),
                    label: "downloads".into(),
                    path: fallback_dir,
                    is_default: true,
                    origin: RootOrigin::Implicit,
                    vault: None,
                }],
                aliases: Vec::new(),
                shadowed: Vec::new(),
                complete_to: Vec::new(),
            };
        }
        let any_default = specs.iter().any(|s| s.default);
        let roots = specs
            .iter()
            .enumerate()
            .map(|(i, s)| StorageRoot {
                token: s.token.clone().unwrap_or_else(|| s.label.clone()),
                label: s.label.clone(),
                path: s.path.clone(),
                is_default: if any_default { s.default } else { i == 0 },
                origin: RootOrigin::Config,
                vault: s.vault.clone(),
            })
            .collect();
        let complete_to = specs
            .iter()
            .filter_map(|s| {
                let token = s.token.clone().unwrap_or_else(|| s.label.clone());
                s.complete_to.clone().map(|to| (token, to))
            })
            .collect();
        RootManager {
            roots,
            aliases: Vec::new(),
            shadowed: Vec::new(),
            complete_to,
        }
    }

    /// The root a torrent finishing in the root `token` moves to, if the config names one.
    pub fn complete_to(&self, token: &str) -> Option<&StorageRoot> {
        let root = self.by_token(token)?;
        let (_, label) = self.complete_to.iter().find(|(t, _)| *t == root.token)?;
        self.roots
            .iter()
            .find(|r| &r.label == label && r.token != root.token)
    }

    pub fn roots(&self) -> &[StorageRoot] {
        &self.roots
    }

    pub fn default_root(&self) -> &StorageRoot {
        self.roots
            .iter()
            .find(|r| r.is_default)
            .unwrap_or(&self.roots[0])
    }

    pub fn by_token(&self, token: &str) -> Option<&StorageRoot> {
        let token = self
            .aliases
            .iter()
            .find(|(from, _)| from == token)
            .map_or(token, |(_, to)| to.as_str());
        self.roots.iter().find(|r| r.token == token)
    }

    /// The root a user named (label or token), or the default.
    pub fn choose(&self, name: Option<&str>) -> Result<&StorageRoot, EngineError> {
        let Some(name) = name else {
            return Ok(self.default_root());
        };
        self.roots
            .iter()
            .find(|r| r.label == name)
            .or_else(|| self.by_token(name))
            .ok_or_else(|| {
                let known: Vec<&str> = self.roots.iter().map(|r| r.label.as_str()).collect();
                EngineError::Root(format!(
                    "there is no storage root '{name}': the roots are {} (declare more in the config file's [[roots]], or create one with `trove root add LABEL PATH`)",
                    known.join(", ")
                ))
            })
    }

    /// Checks a root can take data now: it exists, is a folder and is writable.
    /// The implicit default root is created when missing.
    pub fn check_usable(&self, root: &StorageRoot) -> Result<(), EngineError> {
        if root.implicit() && !root.path.exists() {
            std::fs::create_dir_all(&root.path)
                .map_err(|e| root_error(root, &format!("could not be created ({e})")))?;
        }
        root_problem(root).map_or(Ok(()), |p| Err(root_error(root, &p)))
    }

    pub fn info(&self) -> Vec<RootInfo> {
        self.roots
            .iter()
            .map(|r| RootInfo {
                token: r.token.clone(),
                label: r.label.clone(),
                path: r.path.clone(),
                is_default: r.is_default,
                free_bytes: fs4::available_space(&r.path).ok(),
                total_bytes: fs4::total_space(&r.path).ok(),
                problem: if r.implicit() && !r.path.exists() {
                    None
                } else {
                    root_problem(r)
                },
                origin: r.origin,
                vault: r.vault.is_some(),
            })
            .collect()
    }
}

fn root_error(root: &StorageRoot, problem: &str) -> EngineError {
    EngineError::Root(format!(
        "storage root '{}' at {} {problem}",
        root.label,
        root.path.display()
    ))
}

/// How to point a root at another folder, by where it was declared.
fn fix_path(root: &StorageRoot) -> &'static str {
    match root.origin {
        RootOrigin::Store => "point the root at another folder with `trove root move LABEL PATH`",
        RootOrigin::Config | RootOrigin::Implicit => "fix the path in the config file",
    }
}

/// Why a root cannot take data, in words that finish "storage root 'x' at /p ...".
fn root_problem(root: &StorageRoot) -> Option<String> {
    let path: &Path = &root.path;
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(format!("does not exist: create it or {}", fix_path(root)))
        }
        Err(e) => Some(format!("cannot be read ({e})")),
        Ok(m) if !m.is_dir() => Some(format!("is not a directory: {}", fix_path(root))),
        Ok(_) => {
            let probe = path.join(format!(".trove-write-test-{}", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
            {
                Ok(_) => {
                    let _ = std::fs::remove_file(&probe);
                    vault_problem(root)
                }
                Err(e) if e.raw_os_error() == Some(28) => {
                    Some("is full: make space on it, then resume the torrent".into())
                }
                Err(e) if e.raw_os_error() == Some(30) => Some(
                    "is read-only: make it writable (remount it read-write), then resume the torrent"
                        .into(),
                ),
                Err(e) => Some(format!(
                    "is not writable ({e}): fix its permissions or choose another root"
                )),
            }
        }
    }
}

/// Why a vault root cannot be opened (None for a plain root).
fn vault_problem(root: &StorageRoot) -> Option<String> {
    root.vault
        .as_ref()?
        .open(&root.path)
        .err()
        .map(|e| format!("is a vault that cannot be opened: {e}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A root declared with `label` at `path`, without a token.
    pub(crate) fn spec(label: &str, path: &Path, default: bool) -> RootSpec {
        RootSpec {
            label: label.into(),
            path: path.into(),
            token: None,
            default,
            complete_to: None,
            vault: None,
        }
    }

    #[test]
    fn implicit_default_root_when_none_declared() {
        let dir = tempfile::tempdir().unwrap();
        let m = RootManager::new(&[], dir.path().join("dl"));
        let r = m.choose(None).unwrap();
        assert_eq!(r.label, "downloads");
        m.check_usable(r).unwrap();
        assert!(dir.path().join("dl").is_dir());
    }

    #[test]
    fn choose_by_label_or_token_and_default_flag() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = spec("b", dir.path(), true);
        b.token = Some("tok-b".into());
        let m = RootManager::new(&[spec("a", dir.path(), false), b], dir.path().into());
        assert_eq!(m.choose(None).unwrap().label, "b");
        assert_eq!(m.choose(Some("tok-b")).unwrap().label, "b");
        assert_eq!(m.choose(Some("a")).unwrap().token, "a");
        let err = m.choose(Some("zzz")).unwrap_err().to_string();
        assert!(err.contains("'zzz'") && err.contains("a, b"), "{err}");
    }

    #[test]
    fn unusable_roots_are_named_with_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let m = RootManager::new(
            &[
                spec("missing", &dir.path().join("nope"), true),
                spec("file", &file, false),
            ],
            dir.path().into(),
        );
        let e = m.check_usable(&m.roots()[0]).unwrap_err().to_string();
        assert!(
            e.contains("'missing'") && e.contains("does not exist"),
            "{e}"
        );
        assert!(
            !dir.path().join("nope").exists(),
            "a declared root is never created"
        );
        let e = m.check_usable(&m.roots()[1]).unwrap_err().to_string();
        assert!(e.contains("not a directory"), "{e}");
        let info = m.info();
        assert!(info[0].problem.is_some());
    }
}
