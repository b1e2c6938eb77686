//! trove's torrents as a read-only filesystem (FUSE): `DIR/<root label>/<torrent
//! name>/<the torrent's files>`, readable while the torrents download.
//!
//! It runs inside the process that holds the librqbit session. The tree is rebuilt from the
//! session's snapshots as torrents come and go (`tree`); a complete file is handed to the
//! kernel to read from disk itself where it allows (FUSE passthrough), a read of pieces
//! already verified is a plain `pread` of the file on disk, and a read of missing pieces
//! waits for them
//! while a few short-lived librqbit streams put the readers' positions first (`read`); the
//! attributes and extended attributes tools see are in `attrs`; the FUSE callbacks, each
//! answered without blocking the filesystem's one request thread, in `fs`; mounting,
//! unmounting and cleaning a mount a killed process left behind in `lifecycle`.

mod attrs;
mod fs;
mod lifecycle;
mod read;
mod sealed;
mod tree;

pub use lifecycle::{Mounts, clean_stale_mounts};
pub use sealed::{NoSealedData, SealedData};

use std::time::Duration;

/// How a mount behaves.
#[derive(Debug, Clone)]
pub struct MountOptions {
    /// A read waiting longer than this for its pieces fails.
    pub read_timeout: Duration,
    /// Fail a read that timed out with `EAGAIN` instead of `EIO`.
    pub eagain_on_timeout: bool,
    /// How many reads at most have a librqbit stream pointing at their position (each such
    /// stream holds one of the permits librqbit's disk writes also need, so this stays
    /// well under `runtime_worker_threads`).
    pub priority_streams: usize,
    /// Bytes past each read that librqbit is asked to fetch first, while a priority slot
    /// is free and no read waits for one (0 = none).
    pub readahead: u64,
    /// Open files whose every piece is verified in FUSE passthrough mode: the kernel then
    /// reads the file on disk itself, as fast as reading it directly. It needs a kernel
    /// with FUSE passthrough and CAP_SYS_ADMIN; without them such files are read through
    /// trove like any other.
    pub passthrough: bool,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            read_timeout: Duration::from_secs(60),
            eagain_on_timeout: false,
            priority_streams: 2,
            readahead: 32 << 20,
            passthrough: true,
        }
    }
}
