//! `[[mounts]]` (folders the torrents are mounted on at start) and `[mount]` (how every
//! mount behaves) in the config file.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[[mounts]]`: one folder to mount the torrents on when the session starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountEntry {
    /// An absolute path; made if missing.
    pub path: PathBuf,
}

/// What a read that waited too long gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeoutError {
    #[default]
    Eio,
    Eagain,
}

/// `[mount]`: how the mounts behave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MountConfig {
    /// Seconds a read may wait for its pieces before it fails.
    pub read_timeout_secs: u64,
    /// The error such a read gets: "eio" or "eagain".
    pub timeout_error: TimeoutError,
    /// How many waiting reads at once have librqbit fetch from their position first.
    pub priority_streams: usize,
    /// MiB past each read fetched first (0 = no read-ahead).
    pub readahead_mib: u64,
    /// Let the kernel read complete files straight from disk (when trove may: it needs
    /// CAP_SYS_ADMIN).
    pub passthrough: bool,
}

impl Default for MountConfig {
    fn default() -> Self {
        let d = trove_engine::MountOptions::default();
        MountConfig {
            read_timeout_secs: d.read_timeout.as_secs(),
            timeout_error: TimeoutError::Eio,
            priority_streams: d.priority_streams,
            readahead_mib: d.readahead >> 20,
            passthrough: d.passthrough,
        }
    }
}

impl MountConfig {
    /// The engine's options, or a sentence saying which value is wrong.
    pub fn to_options(self) -> anyhow::Result<trove_engine::MountOptions> {
        if self.read_timeout_secs == 0 {
            anyhow::bail!("[mount] read_timeout_secs must be at least 1");
        }
        if !(1..=4).contains(&self.priority_streams) {
            anyhow::bail!(
                "[mount] priority_streams must be 1 to 4 (each holds one of librqbit's disk permits)"
            );
        }
        Ok(trove_engine::MountOptions {
            read_timeout: Duration::from_secs(self.read_timeout_secs),
            eagain_on_timeout: self.timeout_error == TimeoutError::Eagain,
            priority_streams: self.priority_streams,
            readahead: self.readahead_mib.saturating_mul(1 << 20),
            passthrough: self.passthrough,
        })
    }
}
