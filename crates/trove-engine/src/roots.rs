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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRoot {
    pub token: String,
    pub label: String,
    pub path: PathBuf,
    pub is_default: bool,
    /// Where it was declared. The implicit root (used when the config declares none) is
    /// created on first use.
    pub origin: RootOrigin,
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
                }],
                aliases: Vec::new(),
                shadowed: Vec::new(),
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
            })
            .collect();
        RootManager {
            roots,
            aliases: Vec::new(),
            shadowed: Vec::new(),
        }
    }

    /// These roots and the ones kept in the store. Returns a sentence for each stored root
    /// left out because the config declares its label or token (the config wins).
    pub fn with_stored(mut self, stored: &[StoredRoot]) -> (Self, Vec<String>) {
        let mut notes = Vec::new();
        for s in stored {
            if let Some(r) = self.roots.iter().find(|r| r.label == s.label) {
                notes.push(format!(
                    "storage root '{}' kept in the store ({}) is also declared in the config file ({}): the config's wins, and its torrents use {}",
                    s.label,
                    s.path.display(),
                    r.path.display(),
                    r.path.display()
                ));
                if r.token != s.label {
                    self.aliases.push((s.label.clone(), r.token.clone()));
                }
                self.shadowed.push(s.clone());
                continue;
            }
            if let Some(r) = self.roots.iter().find(|r| r.token == s.label) {
                notes.push(format!(
                    "storage root '{}' kept in the store is left out: the config file's root '{}' has the token '{}'",
                    s.label, r.label, s.label
                ));
                self.shadowed.push(s.clone());
                continue;
            }
            self.roots.push(StorageRoot {
                token: s.label.clone(),
                label: s.label.clone(),
                path: s.path.clone(),
                is_default: false,
                origin: RootOrigin::Store,
            });
        }
        (self, notes)
    }

    /// The roots kept in the store, as the store keeps them (with those the config's
    /// roots hide).
    pub fn stored(&self) -> Vec<StoredRoot> {
        self.roots
            .iter()
            .filter(|r| r.origin == RootOrigin::Store)
            .map(|r| StoredRoot {
                label: r.label.clone(),
                path: r.path.clone(),
            })
            .chain(self.shadowed.iter().cloned())
            .collect()
    }

    /// Checks a new stored root: a good label no root has (as label or token), an absolute
    /// path, created if missing, that can take data. Returns it as it will be kept.
    pub fn check_new_stored(&self, label: &str, path: &Path) -> Result<StoredRoot, EngineError> {
        let label = check_root_label(label)?;
        if let Some(r) = self
            .roots
            .iter()
            .find(|r| r.label == label || r.token == label)
        {
            let why = match r.origin {
                RootOrigin::Config => "declared in the config file",
                RootOrigin::Implicit => "the root trove uses when the config declares none",
                RootOrigin::Store => "created already",
            };
            return Err(EngineError::Root(format!(
                "there is a storage root '{label}' already ({why}, at {}): choose another label",
                r.path.display()
            )));
        }
        let path = check_root_path(&label, path)?;
        Ok(StoredRoot { label, path })
    }

    /// Adds a checked stored root (see `check_new_stored`).
    pub fn add_stored(&mut self, root: StoredRoot) {
        self.roots.push(StorageRoot {
            token: root.label.clone(),
            label: root.label,
            path: root.path,
            is_default: false,
            origin: RootOrigin::Store,
        });
    }

    /// The stored root labelled `label`, or why it cannot be changed.
    pub fn stored_root(&self, label: &str) -> Result<&StorageRoot, EngineError> {
        let r = self.choose(Some(label.trim()))?;
        match r.origin {
            RootOrigin::Store => Ok(r),
            RootOrigin::Config => Err(EngineError::Root(format!(
                "storage root '{}' is declared in the config file: change or remove it there",
                r.label
            ))),
            RootOrigin::Implicit => Err(EngineError::Root(format!(
                "storage root '{}' is the one trove uses when the config file declares none: declare roots under [[roots]] in the config file instead",
                r.label
            ))),
        }
    }

    /// Moves a stored root to `path` (checked as for a new one). Returns the new path.
    pub fn set_stored_path(&mut self, label: &str, path: &Path) -> Result<PathBuf, EngineError> {
        let token = self.stored_root(label)?.token.clone();
        let path = check_root_path(label, path)?;
        if let Some(r) = self.roots.iter_mut().find(|r| r.token == token) {
            r.path = path.clone();
        }
        Ok(path)
    }

    /// Forgets stored roots by token.
    pub fn remove_stored(&mut self, tokens: &[String]) {
        self.roots
            .retain(|r| r.origin != RootOrigin::Store || !tokens.contains(&r.token));
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
            })
            .collect()
    }
}

/// The longest label a stored root may have.
pub const MAX_ROOT_LABEL_CHARS: usize = 64;

/// A stored root's label, trimmed: not empty (as the config requires of its labels), at
/// most [`MAX_ROOT_LABEL_CHARS`] characters, no control characters.
pub fn check_root_label(label: &str) -> Result<String, EngineError> {
    let l = label.trim();
    let shown = crate::source::sanitize_display(l);
    if l.is_empty() {
        return Err(EngineError::Root(
            "a storage root needs a label, like movies".into(),
        ));
    }
    if l.chars().any(char::is_control) {
        return Err(EngineError::Root(format!(
            "storage root label '{shown}' has control characters: use letters, digits, spaces and punctuation"
        )));
    }
    if l.chars().count() > MAX_ROOT_LABEL_CHARS {
        return Err(EngineError::Root(format!(
            "storage root label '{shown}' is longer than {MAX_ROOT_LABEL_CHARS} characters: choose a shorter one"
        )));
    }
    Ok(l.to_string())
}

/// A stored root's folder: absolute, created when missing, able to take data.
fn check_root_path(label: &str, path: &Path) -> Result<PathBuf, EngineError> {
    if !path.is_absolute() {
        return Err(EngineError::Root(format!(
            "the folder of storage root '{label}' must be an absolute path, like /srv/media (not {})",
            path.display()
        )));
    }
    std::fs::create_dir_all(path).map_err(|e| {
        EngineError::Root(format!(
            "storage root '{label}' at {} could not be created ({e}): choose a folder you can write to",
            path.display()
        ))
    })?;
    let root = StorageRoot {
        token: label.into(),
        label: label.into(),
        path: path.into(),
        is_default: false,
        origin: RootOrigin::Store,
    };
    match root_problem(&root) {
        Some(p) => Err(root_error(&root, &p)),
        None => Ok(path.to_path_buf()),
    }
}

fn root_error(root: &StorageRoot, problem: &str) -> EngineError {
    EngineError::Root(format!(
        "storage root '{}' at {} {problem}",
        root.label,
        root.path.display()
    ))
}

/// Why a root cannot take data, in words that finish "storage root 'x' at /p ...".
fn root_problem(root: &StorageRoot) -> Option<String> {
    let path: &Path = &root.path;
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some("does not exist: create it or fix the path in the config file".into())
        }
        Err(e) => Some(format!("cannot be read ({e})")),
        Ok(m) if !m.is_dir() => Some("is not a directory: fix the path in the config file".into()),
        Ok(_) => {
            let probe = path.join(format!(".trove-write-test-{}", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
            {
                Ok(_) => {
                    let _ = std::fs::remove_file(&probe);
                    None
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(label: &str, path: &Path, default: bool) -> RootSpec {
        RootSpec {
            label: label.into(),
            path: path.into(),
            token: None,
            default,
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

    fn stored(label: &str, path: &Path) -> StoredRoot {
        StoredRoot {
            label: label.into(),
            path: path.into(),
        }
    }

    #[test]
    fn stored_roots_join_the_configs_and_the_config_wins_a_clash() {
        let dir = tempfile::tempdir().unwrap();
        let mut movies = spec("movies", &dir.path().join("m"), true);
        movies.token = Some("tok-m".into());
        let config = RootManager::new(&[movies, spec("a", dir.path(), false)], dir.path().into());
        let (m, notes) = config.with_stored(&[
            stored("isos", &dir.path().join("i")),
            stored("movies", &dir.path().join("old-m")),
            stored("tok-m", &dir.path().join("t")),
        ]);
        let labels: Vec<&str> = m.roots().iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["movies", "a", "isos"]);
        let isos = m.by_token("isos").unwrap();
        assert_eq!(isos.origin, RootOrigin::Store);
        assert!(!isos.is_default);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("config's wins"), "{}", notes[0]);
        // Torrents recorded in the stored 'movies' go to the config's 'movies'.
        assert_eq!(m.by_token("movies").unwrap().token, "tok-m");
        // The hidden ones are still written back.
        assert_eq!(m.stored().len(), 3);
    }

    #[test]
    fn a_new_stored_root_needs_a_free_label_and_an_absolute_writable_path() {
        let dir = tempfile::tempdir().unwrap();
        let m = RootManager::new(&[spec("main", dir.path(), true)], dir.path().into());
        let e = m
            .check_new_stored("main", &dir.path().join("x"))
            .unwrap_err();
        assert!(e.to_string().contains("config file"), "{e}");
        let e = m.check_new_stored(" ", &dir.path().join("x")).unwrap_err();
        assert!(e.to_string().contains("needs a label"), "{e}");
        let e = m.check_new_stored("x", Path::new("rel/dir")).unwrap_err();
        assert!(e.to_string().contains("absolute"), "{e}");
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = m.check_new_stored("x", &file.join("sub")).unwrap_err();
        assert!(e.to_string().contains("could not be created"), "{e}");
        let r = m
            .check_new_stored(" new ", &dir.path().join("a/b"))
            .unwrap();
        assert_eq!(r.label, "new");
        assert!(dir.path().join("a/b").is_dir());
        let implicit = RootManager::new(&[], dir.path().join("dl"));
        let e = implicit
            .check_new_stored("downloads", &dir.path().join("y"))
            .unwrap_err();
        assert!(e.to_string().contains("declares none"), "{e}");
    }
}
