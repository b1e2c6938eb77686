//! Torrents whose data is not plain files on disk (kept in a vault root): the session
//! hands the mount a reader that returns their bytes decrypted. Their files are never
//! opened by path, nor in passthrough mode.

/// Reads torrents kept sealed. The session implements it; the mount asks it first.
pub trait SealedData: Send + Sync {
    /// Whether the torrent's data is sealed (read through [`SealedData::read`]).
    fn holds(&self, info_hash: &str) -> bool;

    /// Fills `buf` with bytes of file `file` (the torrent's file index) from `offset`.
    fn read(
        &self,
        info_hash: &str,
        file: usize,
        offset: u64,
        buf: &mut [u8],
    ) -> std::io::Result<()>;
}

/// For sessions without sealed torrents.
pub struct NoSealedData;

impl SealedData for NoSealedData {
    fn holds(&self, _: &str) -> bool {
        false
    }

    fn read(&self, _: &str, _: usize, _: u64, _: &mut [u8]) -> std::io::Result<()> {
        Err(std::io::Error::other("no sealed torrents"))
    }
}
