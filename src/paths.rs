//! Where trove keeps things, by the XDG base-directory rules (via the `directories` crate).

use std::path::PathBuf;

use directories::{ProjectDirs, UserDirs};

fn project() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "trove")
}

fn home_fallback(sub: &str) -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(sub)
}

/// `$XDG_DATA_HOME/trove` (the store and fast-resume bitfields).
pub fn default_data_dir() -> PathBuf {
    project()
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| home_fallback(".local/share/trove"))
}

/// `$XDG_CONFIG_HOME/trove/config.toml`.
pub fn default_config_file() -> PathBuf {
    project()
        .map(|p| p.config_dir().join("config.toml"))
        .unwrap_or_else(|| home_fallback(".config/trove/config.toml"))
}

/// `$XDG_STATE_HOME/trove` (the daily log files).
pub fn default_state_dir() -> PathBuf {
    project()
        .and_then(|p| p.state_dir().map(|d| d.to_path_buf()))
        .unwrap_or_else(|| home_fallback(".local/state/trove"))
}

/// The user's download folder, the implicit storage root when the config declares none.
pub fn default_download_dir() -> PathBuf {
    UserDirs::new()
        .and_then(|u| u.download_dir().map(|d| d.to_path_buf()))
        .unwrap_or_else(|| home_fallback("Downloads"))
}
