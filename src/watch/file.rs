//! One file in a watch folder: whether it is a torrent to add, what it holds, and what is
//! left of it afterwards (renamed `.added` or `.invalid`, or left for a later try).

use std::io::Read;
use std::path::{Path, PathBuf};

use trove_proto::{AddOptions, Client, EngineError, MAX_TORRENT_FILE_BYTES, TorrentSource};

/// What a watch folder did with one file, for the log.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// Added (or already in the session); the file is now `<name>.added`.
    Added { name: String, new: bool },
    /// Not a torrent: the file is now `<name>.invalid`, and `reason` says why.
    Invalid { reason: String },
    /// Not taken this time (the root cannot be used, the store failed): the file stays and
    /// is tried again by the next scan.
    Later { reason: String },
    /// The session has stopped.
    Stopped,
}

/// True for the files a watch folder takes: `*.torrent` and `*.magnet`, any case.
pub(crate) fn is_candidate(path: &Path) -> bool {
    kind(path).is_some()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Torrent,
    Magnet,
}

fn kind(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "torrent" => Some(Kind::Torrent),
        "magnet" => Some(Kind::Magnet),
        _ => None,
    }
}

/// Reads what the file asks for, or says why it cannot be a torrent.
fn read_source(path: &Path, kind: Kind) -> Result<TorrentSource, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_TORRENT_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() > MAX_TORRENT_FILE_BYTES {
        return Err(format!(
            "it is larger than {} MiB, which no .torrent is",
            MAX_TORRENT_FILE_BYTES >> 20
        ));
    }
    match kind {
        Kind::Torrent => Ok(TorrentSource::Bytes(bytes)),
        Kind::Magnet => {
            let text = String::from_utf8(bytes)
                .map_err(|_| "a .magnet file must hold a magnet link as text".to_string())?;
            let link = text.lines().map(str::trim).find(|l| !l.is_empty());
            match link {
                Some(l) if l.len() >= 7 && l[..7].eq_ignore_ascii_case("magnet:") => {
                    Ok(TorrentSource::Magnet(l.to_string()))
                }
                Some(_) => {
                    Err("its first line is not a magnet link (magnet:?xt=urn:btih:…)".into())
                }
                None => Err("it is empty: a .magnet file holds one magnet link".into()),
            }
        }
    }
}

/// `x.torrent` → `x.torrent.added`.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Adds the torrent `path` holds to `root`, then renames the file after what happened.
pub(crate) async fn take(client: &Client, path: &Path, root: &str) -> Outcome {
    let Some(kind) = kind(path) else {
        return Outcome::Invalid {
            reason: "not a .torrent or .magnet file".into(),
        };
    };
    let outcome = match read_source(path, kind) {
        Err(reason) => Outcome::Invalid { reason },
        Ok(source) => {
            let options = AddOptions {
                root: Some(root.to_string()),
                ..AddOptions::default()
            };
            match client.add(source, options).await {
                Ok(added) => Outcome::Added {
                    name: added.name,
                    new: added.new,
                },
                Err(EngineError::BadSource(reason)) => Outcome::Invalid { reason },
                Err(EngineError::Stopped) => return Outcome::Stopped,
                Err(e) => Outcome::Later {
                    reason: e.to_string(),
                },
            }
        }
    };
    let suffix = match &outcome {
        Outcome::Added { .. } => ".added",
        Outcome::Invalid { .. } => ".invalid",
        Outcome::Later { .. } | Outcome::Stopped => return outcome,
    };
    if let Err(e) = std::fs::rename(path, with_suffix(path, suffix)) {
        // The torrent is in the session; only the marker failed. Say so: the next start
        // would find the file again (and find the torrent already there).
        tracing::warn!(
            "watch folder: cannot rename {} to {suffix}: {e}",
            path.display()
        );
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_torrent_and_magnet_files_are_taken() {
        assert!(is_candidate(Path::new("/w/a.torrent")));
        assert!(is_candidate(Path::new("/w/A.TORRENT")));
        assert!(is_candidate(Path::new("/w/a.magnet")));
        assert!(!is_candidate(Path::new("/w/a.torrent.added")));
        assert!(!is_candidate(Path::new("/w/a.torrent.invalid")));
        assert!(!is_candidate(Path::new("/w/a.torrent.part")));
        assert!(!is_candidate(Path::new("/w/torrent")));
    }

    #[test]
    fn a_magnet_file_holds_one_link() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.magnet");
        std::fs::write(&p, "\n  magnet:?xt=urn:btih:abc  \nignored\n").unwrap();
        assert_eq!(
            read_source(&p, Kind::Magnet),
            Ok(TorrentSource::Magnet("magnet:?xt=urn:btih:abc".into()))
        );
        std::fs::write(&p, "http://example.org/x.torrent").unwrap();
        assert!(
            read_source(&p, Kind::Magnet)
                .unwrap_err()
                .contains("not a magnet")
        );
        std::fs::write(&p, "  \n").unwrap();
        assert!(read_source(&p, Kind::Magnet).unwrap_err().contains("empty"));
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert!(
            read_source(&p, Kind::Magnet)
                .unwrap_err()
                .contains("as text")
        );
    }

    #[test]
    fn markers_keep_the_whole_name() {
        assert_eq!(
            with_suffix(Path::new("/w/a.b.torrent"), ".added"),
            PathBuf::from("/w/a.b.torrent.added")
        );
    }
}
