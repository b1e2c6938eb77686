//! Tab completion of local paths in the add dialog: folders and `.torrent` files.

use std::path::{Path, PathBuf};

/// What one Tab press gives.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Completion {
    /// The field's new text (the longest common extension of every candidate).
    pub(crate) text: String,
    /// The names that matched, folders ending in `/`, when there is more than one.
    pub(crate) candidates: Vec<String>,
}

/// Entries read from one folder at most, so a huge download folder cannot stall a key press.
const MAX_ENTRIES: usize = 20_000;

/// Completes `input` as a path; `None` when it is not a path (a magnet or URL) or nothing
/// matches. `~/` is expanded with `home` but kept in the text.
pub(crate) fn complete(input: &str, home: Option<&Path>) -> Option<Completion> {
    let lower = input.trim_start().to_ascii_lowercase();
    if lower.starts_with("magnet:") || lower.starts_with("http://") || lower.starts_with("https://")
    {
        return None;
    }
    let (dir_text, prefix) = match input.rfind('/') {
        Some(i) => (&input[..=i], &input[i + 1..]),
        None if input == "~" => ("~/", ""),
        None => ("", input),
    };
    let dir: PathBuf = if dir_text.is_empty() {
        PathBuf::from(".")
    } else if let Some(rest) = dir_text.strip_prefix("~/") {
        home?.join(rest)
    } else {
        PathBuf::from(dir_text)
    };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .ok()?
        .take(MAX_ENTRIES)
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            // Follows symlinks, so a linked folder completes like a folder.
            let is_dir = entry.path().is_dir();
            if is_dir {
                Some(format!("{name}/"))
            } else if name.to_ascii_lowercase().ends_with(".torrent") {
                Some(name)
            } else {
                None
            }
        })
        .collect();
    if names.is_empty() {
        return None;
    }
    names.sort();
    let common = common_prefix(&names);
    let text = format!("{dir_text}{common}");
    let candidates = if names.len() > 1 { names } else { Vec::new() };
    Some(Completion { text, candidates })
}

fn common_prefix(names: &[String]) -> String {
    let first = &names[0];
    let mut end = first.len();
    for n in &names[1..] {
        end = first
            .char_indices()
            .zip(n.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    first[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_folders_and_torrents() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir(base.join("movies")).unwrap();
        std::fs::create_dir(base.join("music")).unwrap();
        std::fs::write(base.join("ubuntu.torrent"), b"x").unwrap();
        std::fs::write(base.join("ubuntu.txt"), b"x").unwrap();
        std::fs::write(base.join(".hidden.torrent"), b"x").unwrap();
        let root = format!("{}/", base.display());

        let c = complete(&format!("{root}u"), None).unwrap();
        assert_eq!(c.text, format!("{root}ubuntu.torrent"));
        assert!(c.candidates.is_empty());

        let c = complete(&format!("{root}m"), None).unwrap();
        assert_eq!(c.text, format!("{root}m"));
        assert_eq!(c.candidates, vec!["movies/", "music/"]);

        let c = complete(&format!("{root}mo"), None).unwrap();
        assert_eq!(c.text, format!("{root}movies/"));

        let c = complete(&root, None).unwrap();
        assert_eq!(c.candidates, vec!["movies/", "music/", "ubuntu.torrent"]);

        assert!(complete(&format!("{root}x"), None).is_none());
        assert!(complete("magnet:?xt=urn:btih:abc", None).is_none());
        assert!(complete("https://example.org/a.torrent", None).is_none());

        let c = complete("~/mu", Some(base)).unwrap();
        assert_eq!(c.text, "~/music/");
        assert!(complete("~/mu", None).is_none());
    }

    #[test]
    fn common_prefix_is_char_safe() {
        assert_eq!(common_prefix(&["été/".into(), "étui".into()]), "ét");
        assert_eq!(common_prefix(&["a".into(), "b".into()]), "");
    }
}
