//! Storage roots kept in the store, joined to the config's in [`RootManager`]: merging
//! them (the config wins a clash), the rules a new one passes, and changing them.

use std::path::{Path, PathBuf};

use trove_proto::command::EngineError;
use trove_proto::snapshot::RootOrigin;

use super::{RootManager, StorageRoot, root_error, root_problem};
use crate::store::StoredRoot;

impl RootManager {
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
                vault: None,
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
            vault: None,
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
        vault: None,
    };
    match root_problem(&root) {
        Some(p) => Err(root_error(&root, &p)),
        None => Ok(path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roots::tests::spec;

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
