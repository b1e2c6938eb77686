//! Tags: free labels on torrents, the rules their names follow and how a torrent's list
//! is edited. The running engine and the offline commands both go through here, so a tag
//! accepted one way is accepted the other.
//!
//! A name is trimmed, not empty, at most [`MAX_TAG_CHARS`] characters, and has no comma
//! (qBittorrent's Web API sends tag lists comma-separated) and no control character. A
//! torrent's tags, and the session's, are kept sorted and each at most once.

use std::collections::BTreeSet;

use trove_proto::command::{EngineError, EngineResult};

use crate::source::sanitize_display;

/// The longest tag name.
pub const MAX_TAG_CHARS: usize = 64;

/// A tag name as kept (trimmed), or why it cannot be one.
pub fn check_tag(name: &str) -> EngineResult<String> {
    let t = name.trim();
    let shown = sanitize_display(t);
    let bad = |why: &str| EngineError::BadSource(format!("'{shown}' cannot be a tag: {why}"));
    if t.is_empty() {
        return Err(EngineError::BadSource(
            "a tag cannot be empty: give it a name, like linux".into(),
        ));
    }
    if t.contains(',') {
        return Err(bad(
            "tags cannot contain commas (give several tags separately)",
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(bad("tags cannot contain control characters"));
    }
    if t.chars().count() > MAX_TAG_CHARS {
        return Err(bad(&format!(
            "tags are at most {MAX_TAG_CHARS} characters long"
        )));
    }
    Ok(t.to_string())
}

/// Every name checked; the first bad one is the error. Sorted, each once.
pub fn check_tags(names: &[String]) -> EngineResult<Vec<String>> {
    let set = names
        .iter()
        .map(|n| check_tag(n))
        .collect::<EngineResult<BTreeSet<String>>>()?;
    Ok(set.into_iter().collect())
}

/// `current` with `add` put on and `remove` taken off (both already checked, or at least
/// trimmed), sorted. Taking off a tag the torrent does not have does nothing.
pub fn edited(current: &[String], add: &[String], remove: &[String]) -> Vec<String> {
    let mut set: BTreeSet<String> = current.iter().cloned().collect();
    for r in remove {
        set.remove(r.trim());
    }
    set.extend(add.iter().cloned());
    set.into_iter().collect()
}

/// The names to take off: trimmed, empty ones dropped (no check: a name that could not be
/// a tag is on no torrent, so removing it does nothing).
pub fn names_to_remove(names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_trimmed_and_checked() {
        assert_eq!(check_tag("  linux isos ").unwrap(), "linux isos");
        assert_eq!(check_tag(&"é".repeat(64)).unwrap().chars().count(), 64);
        for (bad, why) in [
            ("", "cannot be empty"),
            ("   ", "cannot be empty"),
            ("a,b", "commas"),
            ("a\u{7}b", "control characters"),
            (&"x".repeat(65), "at most 64"),
        ] {
            let Err(EngineError::BadSource(msg)) = check_tag(bad) else {
                panic!("{bad:?} accepted");
            };
            assert!(msg.contains(why), "{bad:?}: {msg}");
        }
    }

    #[test]
    fn a_list_is_sorted_once_each_and_fails_on_its_first_bad_name() {
        let list = check_tags(&["b".into(), " a".into(), "b ".into()]).unwrap();
        assert_eq!(list, ["a", "b"]);
        assert!(check_tags(&["ok".into(), "x,y".into()]).is_err());
    }

    #[test]
    fn editing_adds_removes_and_keeps_order() {
        let current = vec!["a".to_string(), "c".to_string()];
        let out = edited(
            &current,
            &["b".into(), "a".into()],
            &[" c ".into(), "z".into()],
        );
        assert_eq!(out, ["a", "b"]);
        assert_eq!(names_to_remove(&[" x ".into(), " ".into()]), ["x"]);
    }
}
