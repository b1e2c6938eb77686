//! Fake .torrent files for tests that never download: valid bencode with all-zero piece
//! hashes, so trove takes them (metadata, a name, a size) and no peer could ever serve them.

use std::path::{Path, PathBuf};

fn bstr(s: &[u8]) -> Vec<u8> {
    let mut v = format!("{}:", s.len()).into_bytes();
    v.extend_from_slice(s);
    v
}

/// A single-file .torrent named `name` (any bytes, even not UTF-8) of `len` bytes.
pub fn fake_torrent_raw(name: &[u8], len: u64) -> Vec<u8> {
    const PIECE: u64 = 16 * 1024;
    let pieces = len.div_ceil(PIECE).max(1) as usize;
    let mut info = b"d".to_vec();
    info.extend(bstr(b"length"));
    info.extend(format!("i{len}e").as_bytes());
    info.extend(bstr(b"name"));
    info.extend(bstr(name));
    info.extend(bstr(b"piece length"));
    info.extend(format!("i{PIECE}e").as_bytes());
    info.extend(bstr(b"pieces"));
    info.extend(bstr(&vec![0u8; 20 * pieces]));
    info.push(b'e');
    let mut t = b"d".to_vec();
    t.extend(bstr(b"info"));
    t.extend(info);
    t.push(b'e');
    t
}

/// [`fake_torrent_raw`] with a UTF-8 name.
pub fn fake_torrent(name: &str, len: u64) -> Vec<u8> {
    fake_torrent_raw(name.as_bytes(), len)
}

/// Writes [`fake_torrent`] to `dir/name.torrent` and returns its path.
pub fn write_fake(dir: &Path, name: &str, len: u64) -> PathBuf {
    let p = dir.join(format!("{name}.torrent"));
    std::fs::write(&p, fake_torrent(name, len)).unwrap();
    p
}
