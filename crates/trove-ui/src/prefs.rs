//! The dashboard's own preferences that outlive a run: the table's sort order and the log
//! level shown. They live in a small TOML file (the binary passes its path, in the user's
//! state directory), read at start and written whenever one changes.
//!
//! The file is the dashboard's, not the user's configuration: a file that cannot be read or
//! parsed is ignored and the defaults are used (the dashboard has no logger to complain to,
//! and the next change writes a good file over it).

use std::path::Path;

use serde::{Deserialize, Serialize};
use trove_proto::log::LogLevel;

use crate::torrents::SortKey;

/// What the dashboard remembers between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// A [`SortKey`] label: `added`, `name`, `size`...
    pub sort: String,
    pub descending: bool,
    pub log_level: LogLevel,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            sort: SortKey::default().label().to_string(),
            descending: false,
            log_level: LogLevel::Info,
        }
    }
}

impl Prefs {
    /// The preferences in `path`, or the defaults when there is no file or it is broken.
    pub(crate) fn load(path: &Path) -> Prefs {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| toml::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Writes the file (and its directory) through a temporary file, so a crash mid-write
    /// leaves the old file rather than half of a new one.
    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }

    /// The sort key named in the file; an unknown name falls back to the default.
    pub(crate) fn sort_key(&self) -> SortKey {
        SortKey::ALL
            .into_iter()
            .find(|k| k.label() == self.sort)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_preferences_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trove").join("ui.toml");
        assert_eq!(Prefs::load(&path), Prefs::default(), "no file yet");
        let prefs = Prefs {
            sort: "name".into(),
            descending: true,
            log_level: LogLevel::Debug,
        };
        prefs.save(&path).unwrap();
        assert_eq!(Prefs::load(&path), prefs);
        assert_eq!(Prefs::load(&path).sort_key(), SortKey::Name);
    }

    #[test]
    fn a_broken_file_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ui.toml");
        for text in ["sort = [", "log_level = \"loud\"", "\u{0}\u{1}"] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(Prefs::load(&path), Prefs::default(), "{text:?}");
        }
        // Missing or unknown fields: what is known is kept, the rest is the default.
        std::fs::write(&path, "descending = true\nsort = \"sideways\"\nextra = 1\n").unwrap();
        let prefs = Prefs::load(&path);
        assert!(prefs.descending);
        assert_eq!(prefs.sort_key(), SortKey::Added);
    }
}
