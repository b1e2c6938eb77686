//! Turning what a user gave (magnet, .torrent path, URL, bytes) into a checked torrent.
//!
//! Everything that comes from outside is checked here before it reaches librqbit or the
//! store: malformed bencode, impossible lengths, and file paths that could leave their
//! root (`..`, absolute paths, NUL bytes, dot-only names, symlink entries).

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use librqbit_core::magnet::Magnet;
use librqbit_core::torrent_metainfo::torrent_from_bytes;

use trove_proto::command::{EngineError, TorrentSource};

pub use trove_proto::MAX_TORRENT_FILE_BYTES;
/// More files than this in one torrent is refused (a million-file torrent would exhaust
/// memory and inodes long before it is useful).
pub const MAX_FILES: usize = 100_000;
/// 1 PiB: nothing real is larger; a larger claim is a broken or hostile torrent.
pub const MAX_TOTAL_BYTES: u64 = 1 << 50;

#[derive(Debug, Clone, PartialEq)]
pub struct FileMeta {
    /// Path components inside the torrent's folder (for a single-file torrent: its name).
    pub components: Vec<String>,
    pub len: u64,
    /// This file's index in librqbit's numbering, which counts every entry of the info
    /// dict's `files` list, BEP 47 padding entries included (trove's own index is the
    /// position in [`CheckedTorrent::files`]). See [`crate::file_index`].
    pub librqbit_index: usize,
    /// Where the file starts in the torrent's byte stream (padding entries included), which
    /// is what maps it onto pieces.
    pub offset: u64,
}

impl FileMeta {
    pub fn display_path(&self) -> String {
        self.components.join("/")
    }
}

/// A .torrent that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedTorrent {
    pub info_hash: String,
    pub name: String,
    pub bytes: Vec<u8>,
    pub files: Vec<FileMeta>,
    pub total_len: u64,
    pub piece_length: u64,
    pub piece_count: u64,
    /// True when the torrent is one file placed directly in its root.
    pub single_file: bool,
    pub trackers: Vec<String>,
}

impl CheckedTorrent {
    /// Where its files go inside `root`: the root itself for a single file, else a folder
    /// named after the torrent (what every mainstream client does).
    pub fn output_folder(&self, root: &Path) -> PathBuf {
        if self.single_file {
            root.to_path_buf()
        } else {
            root.join(&self.name)
        }
    }

    /// Every path the torrent writes, absolute, under `root`.
    pub fn file_paths(&self, root: &Path) -> Vec<PathBuf> {
        let base = self.output_folder(root);
        self.files
            .iter()
            .map(|f| {
                if self.single_file {
                    base.join(&f.components[0])
                } else {
                    f.components.iter().fold(base.clone(), |p, c| p.join(c))
                }
            })
            .collect()
    }
}

/// A source after loading: either a full torrent or a magnet waiting for metadata.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    Torrent(CheckedTorrent),
    Magnet {
        info_hash: String,
        name: Option<String>,
        link: String,
        /// Peers named in the link (`x.pe`, BEP 9), dialled first.
        peers: Vec<std::net::SocketAddr>,
    },
}

impl Loaded {
    pub fn info_hash(&self) -> &str {
        match self {
            Loaded::Torrent(t) => &t.info_hash,
            Loaded::Magnet { info_hash, .. } => info_hash,
        }
    }
}

/// Reads a source; URLs are fetched with a bounded timeout.
pub async fn load(source: &TorrentSource) -> Result<Loaded, EngineError> {
    match source {
        TorrentSource::Magnet(link) => parse_magnet(link),
        TorrentSource::File(path) => {
            let what = sanitize_display(&path.display().to_string());
            let bytes = read_torrent_file(path)?;
            check_torrent(&bytes, &what).map(Loaded::Torrent)
        }
        TorrentSource::Bytes(bytes) => {
            check_torrent(bytes, "the .torrent data").map(Loaded::Torrent)
        }
        TorrentSource::Url(url) => {
            let bytes = fetch_url(url).await?;
            check_torrent(&bytes, url).map(Loaded::Torrent)
        }
    }
}

fn read_torrent_file(path: &Path) -> Result<Vec<u8>, EngineError> {
    let bad = |msg: String| EngineError::BadSource(msg);
    // The path is the user's, but a file name may hold control characters: keep the
    // message one clean line.
    let shown = sanitize_display(&path.display().to_string());
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad(format!(
            "{} does not exist: give a magnet link, an http(s) URL or the path of a .torrent file",
            shown
        )),
        _ => bad(format!("cannot read {shown}: {e}")),
    })?;
    if meta.is_dir() {
        return Err(bad(format!("{} is a folder, not a .torrent file", shown)));
    }
    if meta.len() > MAX_TORRENT_FILE_BYTES as u64 {
        return Err(bad(format!(
            "{} is {} bytes, too large to be a .torrent file",
            shown,
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| bad(format!("cannot read {shown}: {e}")))
}

async fn fetch_url(url: &str) -> Result<Vec<u8>, EngineError> {
    let bad = |msg: String| EngineError::BadSource(msg);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| bad(format!("cannot make an HTTP client: {e}")))?;
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| bad(format!("could not fetch {url}: {}", error_chain(&e))))?;
    if !resp.status().is_success() {
        return Err(bad(format!(
            "could not fetch {url}: the server answered {}",
            resp.status()
        )));
    }
    // Read in chunks and stop past the limit: an endless answer must not fill memory.
    let mut resp = resp;
    let mut bytes = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| bad(format!("could not fetch {url}: {}", error_chain(&e))))?
    {
        if bytes.len() + chunk.len() > MAX_TORRENT_FILE_BYTES {
            return Err(bad(format!("{url} is too large to be a .torrent file")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

pub fn parse_magnet(link: &str) -> Result<Loaded, EngineError> {
    let bad = || {
        EngineError::BadSource(format!(
            "'{}' is not a valid magnet link: it needs xt=urn:btih: followed by a 40-character hex or 32-character base32 info-hash",
            shorten(link, 80)
        ))
    };
    check_magnet_params(link).map_err(|why| match why {
        Some(why) => EngineError::BadSource(format!(
            "'{}' is not a valid magnet link: {why}",
            shorten(link, 80)
        )),
        None => bad(),
    })?;
    let magnet = Magnet::parse(link).map_err(|_| bad())?;
    let id = magnet.as_id20().ok_or_else(|| {
        if magnet.as_id32().is_some() {
            EngineError::BadSource(format!(
                "'{}' has only a v2 (urn:btmh) info-hash; trove needs a v1 one (xt=urn:btih:)",
                shorten(link, 80)
            ))
        } else {
            bad()
        }
    })?;
    let name = magnet.name.clone().map(|n| sanitize_display(&n));
    Ok(Loaded::Magnet {
        info_hash: id.as_string(),
        name,
        link: link.to_string(),
        peers: magnet_peers(link),
    })
}

/// The `x.pe` parameters of a magnet link (BEP 9 peer addresses); ones that are not an
/// `ip:port` are skipped (a host name would need a DNS lookup at add time).
fn magnet_peers(link: &str) -> Vec<std::net::SocketAddr> {
    let query = link.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "x.pe")
        .filter_map(|(_, v)| {
            let v = v.replace("%3A", ":").replace("%3a", ":");
            v.parse().ok()
        })
        .collect()
}

/// Checks the parts of a magnet link that make librqbit's `Magnet::parse` panic or
/// exhaust memory: a base32 info-hash with `=` padding (or a 56-character btmh one)
/// decodes to the wrong length and panics; `so=0-99999999999` makes it allocate one entry
/// per index. `Err(None)` means "not a valid magnet" with the generic reason.
fn check_magnet_params(link: &str) -> Result<(), Option<String>> {
    let Ok(url) = reqwest::Url::parse(link) else {
        // Magnet::parse also takes a bare 40-character hex info-hash.
        return Ok(());
    };
    let mut selected: u64 = 0;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "xt" => {
                if let Some(ih) = value.strip_prefix("urn:btih:") {
                    let hex = ih.len() == 40 && ih.bytes().all(|b| b.is_ascii_hexdigit());
                    let b32 = ih.len() == 32
                        && ih.bytes().all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'7'));
                    if !hex && !b32 {
                        return Err(None);
                    }
                } else if let Some(ih) = value.strip_prefix("urn:btmh:1220")
                    && !(ih.len() == 64 && ih.bytes().all(|b| b.is_ascii_hexdigit()))
                {
                    return Err(Some(
                        "its v2 info-hash (urn:btmh:1220...) is not 64 hex characters".into(),
                    ));
                }
            }
            "so" => {
                for part in value.split(',') {
                    let n = match part.split_once('-') {
                        Some((a, b)) => match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(a), Ok(b)) => b.saturating_sub(a).saturating_add(1),
                            _ => 0,
                        },
                        None => 1,
                    };
                    selected = selected.saturating_add(n);
                }
                if selected > MAX_FILES as u64 {
                    return Err(Some(format!(
                        "its so= file selection names more than {MAX_FILES} files"
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn shorten(s: &str, max: usize) -> String {
    let clean = sanitize_display(s);
    if clean.chars().count() <= max {
        clean
    } else {
        let mut t: String = clean.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Replaces control characters so a hostile name cannot drive the terminal.
pub fn sanitize_display(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Checks one path component of a torrent file name. `decode` turns the raw bytes into the
/// name librqbit will really use on disk (the torrent's detected encoding, with BOM
/// sniffing: a UTF-8 BOM followed by ".." decodes to ".."), and that name is checked too.
fn check_component(raw: &[u8], decode: &dyn Fn(&[u8]) -> String) -> Result<String, String> {
    if raw.is_empty() {
        return Err("an empty path component".into());
    }
    if raw.contains(&0) {
        return Err("a NUL byte in a file name".into());
    }
    if raw.iter().all(|&b| b == b'.') {
        return Err(format!(
            "a path component made only of dots ('{}')",
            String::from_utf8_lossy(raw)
        ));
    }
    if raw.contains(&b'/') || raw.contains(&b'\\') {
        return Err(format!(
            "a path separator inside the name '{}'",
            sanitize_display(&String::from_utf8_lossy(raw))
        ));
    }
    let s = decode(raw);
    if s.is_empty() || s.contains(['\0', '/', '\\']) || s.chars().all(|c| c == '.') {
        return Err(format!(
            "an unsafe path component '{}' (read as '{}')",
            sanitize_display(&String::from_utf8_lossy(raw)),
            sanitize_display(&s)
        ));
    }
    let mut comps = Path::new(&s).components();
    match (comps.next(), comps.next()) {
        (Some(Component::Normal(_)), None) => Ok(s),
        _ => Err(format!(
            "an unsafe path component '{}'",
            sanitize_display(&s)
        )),
    }
}

/// librqbit's bencode parser reads integers and string lengths without overflow checks: in
/// a release build `i18446744073709551716e` silently becomes 100 (a debug build panics).
/// This walks the tokens first and refuses numbers that do not fit, including a
/// `piece length` over u32 and a `private` flag over u8. Anything else malformed is left to the parser to describe.
fn check_bencode_numbers(b: &[u8]) -> Result<(), String> {
    let digits_until = |from: usize, end: u8| -> Option<(&[u8], usize)> {
        let n = b.get(from..)?.iter().position(|&c| c == end)?;
        Some((&b[from..from + n], from + n))
    };
    let mut i = 0;
    let mut last_string: &[u8] = b"";
    while i < b.len() {
        match b[i] {
            b'd' | b'l' | b'e' => {
                last_string = b"";
                i += 1;
            }
            b'i' => {
                // Without an 'e' the parser still reads the digits before it fails.
                let (digits, end) = digits_until(i + 1, b'e').unwrap_or((&b[i + 1..], b.len()));
                // The parser reads the leading run of digits before it looks further, so
                // that run must fit even when garbage follows it.
                let neg = digits.first() == Some(&b'-');
                let run = leading_digits(&digits[usize::from(neg)..]);
                let fits = if run.is_empty() {
                    true // not a number: the parser says so
                } else if last_string == b"piece length" {
                    neg || run.parse::<u32>().is_ok()
                } else if last_string == b"private" {
                    // read as a u8: i256e would wrap to 0, "not private"
                    neg || run.parse::<u8>().is_ok()
                } else {
                    // Values of unknown keys are read as i64; nothing real needs more.
                    format!("{}{run}", if neg { "-" } else { "" })
                        .parse::<i64>()
                        .is_ok()
                };
                if !fits {
                    return Err(format!(
                        "an integer too large to be read ({}{})",
                        if neg { "-" } else { "" },
                        shorten(run, 30)
                    ));
                }
                if usize::from(neg) + run.len() != digits.len() {
                    return Ok(()); // garbage in the integer: the parser says so
                }
                last_string = b"";
                i = end + 1;
            }
            b'0'..=b'9' => {
                let run = leading_digits(&b[i..]);
                let Ok(len) = run.parse::<usize>() else {
                    return Err("a string length too large to be read".into());
                };
                let colon = i + run.len();
                if b.get(colon) != Some(&b':') {
                    return Ok(()); // not a string: the parser says so
                }
                let Some(end) = (colon + 1).checked_add(len).filter(|e| *e <= b.len()) else {
                    return Ok(()); // truncated: the parser says so
                };
                last_string = &b[colon + 1..end];
                i = end;
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// The ASCII digits at the start of `b`, as text.
fn leading_digits(b: &[u8]) -> &str {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    std::str::from_utf8(&b[..n]).unwrap_or_default()
}

/// Parses and checks .torrent bytes. `what` names the source in messages.
pub fn check_torrent(bytes: &[u8], what: &str) -> Result<CheckedTorrent, EngineError> {
    let refuse =
        |why: String| EngineError::BadSource(format!("{what} is not a usable .torrent: {why}"));
    if bytes.is_empty() {
        return Err(refuse("it is empty".into()));
    }
    if bytes.len() > MAX_TORRENT_FILE_BYTES {
        return Err(refuse("it is too large".into()));
    }
    check_bencode_numbers(bytes).map_err(|w| refuse(format!("it has {w}")))?;
    let meta = torrent_from_bytes(bytes).map_err(|e| {
        refuse(format!(
            "it is not valid bencode of a torrent ({})",
            sanitize_display(&e.to_string())
        ))
    })?;
    let info = &meta.info.data;
    if info.piece_length == 0 {
        return Err(refuse("its piece length is zero".into()));
    }
    if info.pieces.as_ref().len() % 20 != 0 {
        return Err(refuse(
            "its piece hashes are not a whole number of 20-byte SHA-1 hashes".into(),
        ));
    }
    if info.symlink_path.is_some()
        || info
            .attr
            .as_ref()
            .is_some_and(|a| a.as_ref().contains(&b'l'))
    {
        return Err(refuse(
            "it contains a symlink entry, which trove never creates".into(),
        ));
    }

    let encoding = info.detect_encoding();
    let decode = |raw: &[u8]| encoding.decode(raw).0.into_owned();
    let raw_name = info.name.as_ref().map(|n| n.as_ref().to_vec());
    let mut files = Vec::new();
    let single_file;
    // Padding files are not written, but their bytes are part of the piece stream.
    let mut padding: Vec<u64> = Vec::new();
    match (&info.length, &info.files) {
        (Some(len), None) => {
            single_file = true;
            let name = raw_name
                .as_deref()
                .ok_or_else(|| refuse("it has no name".into()))?;
            let name = check_component(name, &decode).map_err(|w| refuse(format!("it has {w}")))?;
            files.push(FileMeta {
                components: vec![name],
                len: *len,
                librqbit_index: 0,
                offset: 0,
            });
        }
        (None, Some(list)) => {
            single_file = false;
            if list.is_empty() {
                return Err(refuse("it lists no files".into()));
            }
            if list.len() > MAX_FILES {
                return Err(refuse(format!(
                    "it lists {} files; trove accepts at most {MAX_FILES}",
                    list.len()
                )));
            }
            // Saturating: lengths that overflow are refused below.
            let mut offset = 0u64;
            for (librqbit_index, f) in list.iter().enumerate() {
                let start = offset;
                offset = offset.saturating_add(f.length);
                if f.symlink_path.is_some()
                    || f.attr.as_ref().is_some_and(|a| a.as_ref().contains(&b'l'))
                {
                    return Err(refuse(
                        "it contains a symlink entry, which trove never creates".into(),
                    ));
                }
                // Padding files (BEP 47) are never written to disk.
                if f.attr.as_ref().is_some_and(|a| a.as_ref().contains(&b'p')) {
                    padding.push(f.length);
                    continue;
                }
                if f.path.is_empty() {
                    return Err(refuse("a file has an empty path".into()));
                }
                let mut comps = Vec::with_capacity(f.path.len());
                for c in &f.path {
                    comps.push(
                        check_component(c.as_ref(), &decode)
                            .map_err(|w| refuse(format!("a file path has {w}")))?,
                    );
                }
                files.push(FileMeta {
                    components: comps,
                    len: f.length,
                    librqbit_index,
                    offset: start,
                });
            }
            if files.is_empty() {
                return Err(refuse("it lists no files, only padding".into()));
            }
        }
        (Some(_), Some(_)) => {
            return Err(refuse(
                "it is both a single-file and a multi-file torrent".into(),
            ));
        }
        (None, None) => return Err(refuse("it has neither a length nor a file list".into())),
    }

    let name = match raw_name.as_deref() {
        Some(n) => check_component(n, &decode).map_err(|w| refuse(format!("its name has {w}")))?,
        None if !single_file => info_hash_name(&meta.info_hash.as_string()),
        None => unreachable!("single-file without a name was refused above"),
    };

    let mut total: u64 = 0;
    for f in &files {
        total = total
            .checked_add(f.len)
            .filter(|t| *t <= MAX_TOTAL_BYTES)
            .ok_or_else(|| refuse("its file lengths add up to more than 1 PiB".into()))?;
    }
    // With padding: librqbit sums every entry (wrapping on overflow in a release build).
    let mut stream_len = total;
    for len in &padding {
        stream_len = stream_len
            .checked_add(*len)
            .filter(|t| *t <= MAX_TOTAL_BYTES)
            .ok_or_else(|| refuse("its file lengths add up to more than 1 PiB".into()))?;
    }
    let piece_len = u64::from(info.piece_length);
    let pieces_needed = stream_len.div_ceil(piece_len).max(1);
    let pieces_given = (info.pieces.as_ref().len() / 20) as u64;
    if stream_len > 0 && pieces_needed != pieces_given {
        return Err(refuse(format!(
            "it has {pieces_given} piece hashes but its {stream_len} bytes need {pieces_needed}"
        )));
    }
    // Duplicate paths would make two files share one file on disk.
    let mut seen = std::collections::HashSet::new();
    for f in &files {
        if !seen.insert(f.components.join("/")) {
            return Err(refuse(format!(
                "two files have the same path '{}'",
                sanitize_display(&f.display_path())
            )));
        }
    }
    // librqbit's own checks (encodings, path traversal) must agree.
    let validated = meta
        .info
        .data
        .clone()
        .validate()
        .map_err(|e| refuse(sanitize_display(&e.to_string())))?;
    // The paths librqbit will join onto the output folder must be plain names only.
    for fd in validated.iter_file_details() {
        let p = fd.filename.to_pathbuf();
        if p.as_os_str().is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(refuse(format!(
                "a file path '{}' would leave the torrent's folder",
                sanitize_display(&p.to_string_lossy())
            )));
        }
    }

    let trackers = meta
        .iter_announce()
        .filter_map(|t| std::str::from_utf8(t.as_ref()).ok().map(str::to_string))
        .collect();
    Ok(CheckedTorrent {
        info_hash: meta.info_hash.as_string(),
        name,
        bytes: bytes.to_vec(),
        files,
        total_len: total,
        piece_length: piece_len,
        piece_count: pieces_given,
        single_file,
        trackers,
    })
}

/// The .torrent reduced to its info dict (same info-hash, no announce list), for a torrent
/// whose trackers the user chose: librqbit adds its own list to the one it is given.
pub fn info_only(t: &CheckedTorrent) -> Result<Vec<u8>, EngineError> {
    let meta = torrent_from_bytes(&t.bytes)
        .map_err(|e| EngineError::BadSource(format!("the stored .torrent cannot be read: {e}")))?;
    let info: &[u8] = meta.info.raw_bytes.as_ref();
    let mut out = b"d4:info".to_vec();
    out.extend_from_slice(info);
    out.push(b'e');
    Ok(out)
}

fn info_hash_name(hash: &str) -> String {
    format!("torrent-{}", &hash[..hash.len().min(12)])
}

/// Refuses a torrent whose files would be written through a symlink or onto something
/// that is not a regular file, anywhere between `root` and each file.
pub fn check_no_symlinks(torrent: &CheckedTorrent, root: &Path) -> Result<(), EngineError> {
    for path in torrent.file_paths(root) {
        let rel = match path.strip_prefix(root) {
            Ok(r) => r.to_path_buf(),
            Err(_) => {
                return Err(EngineError::BadSource(format!(
                    "{} would be written outside its root {}",
                    path.display(),
                    root.display()
                )));
            }
        };
        let mut cur = root.to_path_buf();
        for c in rel.components() {
            cur.push(c);
            match std::fs::symlink_metadata(&cur) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(EngineError::BadSource(format!(
                        "{} is a symlink where the torrent '{}' would write: trove never writes through a symlink; remove it or choose another root",
                        cur.display(),
                        torrent.name
                    )));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny bencoder for test torrents.
    fn bstr(s: &[u8]) -> Vec<u8> {
        let mut v = format!("{}:", s.len()).into_bytes();
        v.extend_from_slice(s);
        v
    }

    fn multi(name: &[u8], files: &[(&[&[u8]], u64)], piece_len: u64) -> Vec<u8> {
        let total: u64 = files.iter().map(|f| f.1).sum();
        let pieces = total.div_ceil(piece_len.max(1)).max(1);
        let mut info = b"d".to_vec();
        info.extend(bstr(b"files"));
        info.push(b'l');
        for (path, len) in files {
            info.extend(b"d");
            info.extend(bstr(b"length"));
            info.extend(format!("i{len}e").as_bytes());
            info.extend(bstr(b"path"));
            info.push(b'l');
            for c in *path {
                info.extend(bstr(c));
            }
            info.extend(b"ee");
        }
        info.push(b'e');
        info.extend(bstr(b"name"));
        info.extend(bstr(name));
        info.extend(bstr(b"piece length"));
        info.extend(format!("i{piece_len}e").as_bytes());
        info.extend(bstr(b"pieces"));
        info.extend(bstr(&vec![0u8; 20 * pieces as usize]));
        info.push(b'e');
        let mut t = b"d".to_vec();
        t.extend(bstr(b"info"));
        t.extend(info);
        t.push(b'e');
        t
    }

    #[test]
    fn accepts_a_normal_multi_file_torrent() {
        let b = multi(
            b"album",
            &[(&[b"cd1", b"01.flac"], 100), (&[b"empty"], 0)],
            16384,
        );
        let t = check_torrent(&b, "x").unwrap();
        assert_eq!(t.files.len(), 2);
        assert_eq!(t.name, "album");
        let root = Path::new("/srv/r");
        assert_eq!(t.file_paths(root)[0], Path::new("/srv/r/album/cd1/01.flac"));
    }

    #[test]
    fn refuses_paths_that_escape() {
        for (path, why) in [
            (&[b"..".as_slice(), b"x"][..], "dots"),
            (&[b"a/b".as_slice()][..], "separator"),
            (&[b"...".as_slice()][..], "dots"),
            (&[b"a\0b".as_slice()][..], "NUL"),
            (&[b"".as_slice()][..], "empty"),
            (&[b"/etc".as_slice()][..], "separator"),
        ] {
            let b = multi(b"ok", &[(path, 10)], 16384);
            let e = check_torrent(&b, "evil.torrent").unwrap_err().to_string();
            assert!(e.contains(why) && e.starts_with("evil.torrent"), "{e}");
        }
        let b = multi(b"..", &[(&[b"a"], 10)], 16384);
        assert!(check_torrent(&b, "x").is_err());
    }

    #[test]
    fn refuses_broken_lengths_and_garbage() {
        assert!(
            check_torrent(b"", "x")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(check_torrent(b"not bencode", "x").is_err());
        let b = multi(b"n", &[(&[b"a"], 10)], 0);
        assert!(check_torrent(&b, "x").is_err());
        let b = multi(b"n", &[(&[b"a"], 10), (&[b"a"], 10)], 16384);
        assert!(
            check_torrent(&b, "x")
                .unwrap_err()
                .to_string()
                .contains("same path")
        );
        // 3 pieces' worth of bytes but one hash.
        let mut b = multi(b"n", &[(&[b"a"], 10)], 16384);
        let s = String::from_utf8_lossy(&b).replace("i10e", "i40000e");
        b = s.into_bytes();
        assert!(
            check_torrent(&b, "x")
                .unwrap_err()
                .to_string()
                .contains("piece hashes")
        );
    }

    #[test]
    fn magnet_peer_addresses_are_read() {
        let l = parse_magnet(
            "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&x.pe=127.0.0.1:6881&x.pe=host:1&x.pe=127.0.0.1%3A7000",
        )
        .unwrap();
        let Loaded::Magnet { peers, .. } = l else {
            panic!()
        };
        assert_eq!(
            peers,
            vec![
                "127.0.0.1:6881".parse().unwrap(),
                "127.0.0.1:7000".parse().unwrap()
            ]
        );
    }

    #[test]
    fn magnets_parse_or_say_why() {
        let ok = parse_magnet("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x")
            .unwrap();
        assert_eq!(ok.info_hash(), "0123456789abcdef0123456789abcdef01234567");
        let e = parse_magnet("magnet:?dn=nothing").unwrap_err().to_string();
        assert!(e.contains("not a valid magnet"), "{e}");
        assert!(parse_magnet("magnet:?xt=urn:btih:zz").is_err());
    }

    #[test]
    fn symlink_inside_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("album")).unwrap();
        let b = multi(b"album", &[(&[b"a.bin"], 10)], 16384);
        let t = check_torrent(&b, "x").unwrap();
        let e = check_no_symlinks(&t, dir.path()).unwrap_err().to_string();
        assert!(e.contains("symlink"), "{e}");
    }

    // -----------------------------------------------------------------------------------
    // Property tests: the path from raw bytes to a checked torrent never
    // panics, and whatever it accepts stays inside its root as librqbit will really write
    // it. Case counts are modest; PROPTEST_CASES raises them (scripts/fuzz.sh does).
    // -----------------------------------------------------------------------------------

    use proptest::prelude::*;

    fn cases(default: u32) -> ProptestConfig {
        let n = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default);
        ProptestConfig {
            cases: n,
            max_shrink_iters: 2000,
            ..ProptestConfig::default()
        }
    }

    /// Fragments that path components are glued from: everything that has ever been a
    /// traversal trick, plus ordinary and unicode text.
    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"..".to_vec()),
            Just(b".".to_vec()),
            Just(b"".to_vec()),
            Just(b"/".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"\0".to_vec()),
            Just(b"\xef\xbb\xbf".to_vec()), // UTF-8 BOM
            Just(b"\xff\xfe".to_vec()),     // UTF-16LE BOM
            Just(b"\xfe\xff".to_vec()),     // UTF-16BE BOM
            Just(b".\x00".to_vec()),        // '.' in UTF-16LE
            Just(b"\x81\x5c".to_vec()),     // Shift_JIS with a 0x5C trail byte
            Just("é".as_bytes().to_vec()),
            Just(b"\xe9".to_vec()), // Latin-1 é
            Just("日本語".as_bytes().to_vec()),
            Just("\u{202e}".as_bytes().to_vec()),
            Just("\u{2215}".as_bytes().to_vec()), // division slash
            Just(b"C:".to_vec()),
            Just(b"~".to_vec()),
            "[a-z0-9]{1,6}".prop_map(|s| s.into_bytes()),
            prop::collection::vec(any::<u8>(), 1..4),
        ]
    }

    fn component() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(fragment(), 1..4).prop_map(|v| v.concat())
    }

    #[derive(Debug, Clone)]
    struct GenFile {
        path: Vec<Vec<u8>>,
        len: u64,
        attr: Option<&'static [u8]>,
    }

    fn gen_file() -> impl Strategy<Value = GenFile> {
        (
            prop::collection::vec(component(), 0..4),
            prop_oneof![Just(0u64), 1u64..70_000, Just(1 << 40)],
            prop_oneof![
                6 => Just(None),
                1 => Just(Some(b"p".as_slice())),
                1 => Just(Some(b"x".as_slice())),
                1 => Just(Some(b"l".as_slice())),
            ],
        )
            .prop_map(|(path, len, attr)| GenFile { path, len, attr })
    }

    /// A bencoded torrent with correct piece counts, so that bad paths are the only reason
    /// for most refusals. `single` makes a single-file torrent from the first file.
    fn encode(name: Option<&[u8]>, files: &[GenFile], single: bool, piece: u64) -> Vec<u8> {
        let total: u64 = if single {
            files[0].len
        } else {
            files.iter().map(|f| f.len).sum()
        };
        let pieces = total.div_ceil(piece).clamp(1, 5000);
        let mut info = b"d".to_vec();
        if single {
            info.extend(bstr(b"length"));
            info.extend(format!("i{}e", files[0].len).as_bytes());
        } else {
            info.extend(bstr(b"files"));
            info.push(b'l');
            for f in files {
                info.push(b'd');
                if let Some(a) = f.attr {
                    info.extend(bstr(b"attr"));
                    info.extend(bstr(a));
                }
                info.extend(bstr(b"length"));
                info.extend(format!("i{}e", f.len).as_bytes());
                info.extend(bstr(b"path"));
                info.push(b'l');
                for c in &f.path {
                    info.extend(bstr(c));
                }
                info.extend(b"ee");
            }
            info.push(b'e');
        }
        if let Some(n) = name {
            info.extend(bstr(b"name"));
            info.extend(bstr(n));
        }
        info.extend(bstr(b"piece length"));
        info.extend(format!("i{piece}e").as_bytes());
        info.extend(bstr(b"pieces"));
        info.extend(bstr(&vec![7u8; 20 * pieces as usize]));
        info.push(b'e');
        let mut t = b"d".to_vec();
        t.extend(bstr(b"info"));
        t.extend(info);
        t.push(b'e');
        t
    }

    fn gen_torrent() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::option::weighted(0.9, component()),
            prop::collection::vec(gen_file(), 1..5),
            prop::bool::weighted(0.25),
            prop_oneof![Just(16384u64), Just(1u64), Just(1 << 20)],
        )
            .prop_map(|(name, files, single, piece)| encode(name.as_deref(), &files, single, piece))
    }

    /// Everything an accepted torrent must satisfy.
    fn assert_contained(bytes: &[u8], t: &CheckedTorrent) {
        let root = Path::new("/srv/trove-root");
        for p in t.file_paths(root) {
            let rel = p
                .strip_prefix(root)
                .unwrap_or_else(|_| panic!("{p:?} is not under {root:?}"));
            assert!(
                rel.components().count() >= 1
                    && rel.components().all(|c| matches!(c, Component::Normal(_))),
                "{p:?} has a non-normal component"
            );
        }
        let folder = t.output_folder(root);
        assert!(folder.starts_with(root));
        // librqbit writes output_folder + its own decoding of each path: it must be the
        // very path trove checked (else the symlink check looks at the wrong place).
        let meta = torrent_from_bytes(bytes).unwrap();
        let v = meta.info.data.clone().validate().unwrap();
        let theirs: Vec<Vec<String>> = v
            .iter_file_details()
            .filter(|fd| !fd.attrs().padding)
            .map(|fd| {
                fd.filename
                    .iter_components()
                    .map(|c| c.into_owned())
                    .collect()
            })
            .collect();
        let ours: Vec<Vec<String>> = t.files.iter().map(|f| f.components.clone()).collect();
        assert_eq!(
            ours, theirs,
            "trove and librqbit disagree on the file names"
        );
        // And on which of librqbit's entries (padding counted) each of trove's files is.
        let their_index: Vec<usize> = v
            .iter_file_details()
            .enumerate()
            .filter(|(_, fd)| !fd.attrs().padding)
            .map(|(i, _)| i)
            .collect();
        let our_index: Vec<usize> = t.files.iter().map(|f| f.librqbit_index).collect();
        assert_eq!(our_index, their_index, "file index mapping disagrees");
        for comps in &theirs {
            let p = comps.iter().fold(folder.clone(), |p, c| p.join(c));
            let rel = p.strip_prefix(root).expect("librqbit path under root");
            assert!(
                rel.components().all(|c| matches!(c, Component::Normal(_))),
                "librqbit would write {p:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(cases(4000))]

        #[test]
        fn prop_arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = check_torrent(&bytes, "fuzz");
        }

        #[test]
        fn prop_bencode_shaped_bytes_never_panic(
            parts in prop::collection::vec(prop_oneof![
                Just(b"d".to_vec()), Just(b"l".to_vec()), Just(b"e".to_vec()),
                Just(b"4:info".to_vec()), Just(b"5:files".to_vec()), Just(b"4:path".to_vec()),
                Just(b"6:length".to_vec()), Just(b"4:name".to_vec()), Just(b"6:pieces".to_vec()),
                Just(b"12:piece length".to_vec()), Just(b"4:attr".to_vec()),
                Just(b"12:symlink path".to_vec()),
                (any::<i64>()).prop_map(|i| format!("i{i}e").into_bytes()),
                Just(b"i18446744073709551716e".to_vec()),
                Just(b"18446744073709551617:".to_vec()),
                component().prop_map(|c| bstr(&c)),
                Just(bstr(&[7u8; 20])),
            ], 0..40)
        ) {
            let bytes = parts.concat();
            let _ = check_torrent(&bytes, "fuzz");
        }

        #[test]
        fn prop_mutated_good_torrent_never_panics_and_stays_contained(
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            truncate in any::<bool>(),
        ) {
            let mut b = multi(
                b"album",
                &[(&[b"cd1", b"01.flac"], 40000), (&[b"cover.jpg"], 1234)],
                16384,
            );
            for (at, byte) in flips {
                let i = at.index(b.len());
                b[i] = byte;
            }
            if truncate {
                b.truncate(cut.index(b.len() + 1));
            }
            if let Ok(t) = check_torrent(&b, "fuzz") {
                assert_contained(&b, &t);
            }
        }
    }

    proptest! {
        #![proptest_config(cases(3000))]

        #[test]
        fn prop_generated_torrents_stay_under_their_root(bytes in gen_torrent()) {
            if let Ok(t) = check_torrent(&bytes, "fuzz") {
                assert_contained(&bytes, &t);
            }
        }

        #[test]
        fn prop_arbitrary_strings_never_panic_parse_magnet(s in any::<String>()) {
            let _ = parse_magnet(&s);
        }

        #[test]
        fn prop_magnet_shaped_strings_never_panic(
            hash in prop_oneof![
                "[A-Za-z2-7=0-9]{0,70}",
                // base32 of the two lengths librqbit decodes, with and without padding
                (prop_oneof![Just(0usize), Just(1), Just(3), Just(4), Just(6)], "[A-Z2-7]{32}")
                    .prop_map(|(pad, h)| format!("{}{}", &h[..32 - pad], "=".repeat(pad))),
                (prop_oneof![Just(0usize), Just(1), Just(3), Just(4), Just(6)], "[A-Z2-7]{56}")
                    .prop_map(|(pad, h)| format!("{}{}", &h[..56 - pad], "=".repeat(pad))),
                "[0-9a-fA-F]{40}",
                "[0-9a-f]{64}",
            ],
            kind in prop_oneof![Just("urn:btih:"), Just("urn:btmh:1220"), Just("urn:btmh:"), Just("")],
            extra in prop_oneof![
                Just(String::new()),
                (any::<u64>(), any::<u64>()).prop_map(|(a, b)| format!("&so={a}-{b}")),
                (0u64..100, 0u64..200_000).prop_map(|(a, b)| format!("&so={a}-{b},{b}")),
                "&dn=[^&]{0,20}",
                "&tr=[ -~]{0,20}",
            ],
        ) {
            let link = format!("magnet:?xt={kind}{hash}{extra}");
            if let Ok(Loaded::Magnet { info_hash, .. }) = parse_magnet(&link) {
                prop_assert_eq!(info_hash.len(), 40);
            }
        }
    }
}
