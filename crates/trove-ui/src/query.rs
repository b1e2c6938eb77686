//! The filter's language: words separated by spaces, every one of which a torrent must
//! match. A plain word is looked for in the name (or starts the info-hash); `tag:NAME`,
//! `root:LABEL` and `state:STATE` match those fields, and a `-` in front of any word turns
//! it into "does not match". Case never matters; a state may be shortened (`state:down`).
//!
//! The text is parsed once when it changes, not once per row: a large session filters
//! thousands of rows on every snapshot.

use trove_proto::snapshot::{TorrentState, TorrentSummary};

/// What one word of the filter asks.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    /// Lower-cased text in the name, or the start of the info-hash.
    Text(String),
    Tag(String),
    Root(String),
    /// The states a (possibly shortened) state name stands for; empty when the name is
    /// no state, which then matches nothing.
    State(Vec<TorrentState>),
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    want: Want,
    negated: bool,
}

/// A parsed filter. The empty query matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Query {
    terms: Vec<Term>,
}

impl Query {
    pub(crate) fn parse(text: &str) -> Query {
        let terms = text
            .split_whitespace()
            .filter_map(|word| {
                let (negated, word) = match word.strip_prefix('-') {
                    Some(rest) if !rest.is_empty() => (true, rest),
                    _ => (false, word),
                };
                let lower = word.to_lowercase();
                let want = match lower.split_once(':') {
                    Some(("tag", v)) => Want::Tag(v.to_string()),
                    Some(("root", v)) => Want::Root(v.to_string()),
                    Some(("state", v)) => Want::State(states_named(v)),
                    _ => Want::Text(lower),
                };
                // "tag:" alone, still being typed, asks nothing yet.
                let unfinished = matches!(&want, Want::Tag(v) | Want::Root(v) if v.is_empty())
                    || (word.eq_ignore_ascii_case("state:"));
                (!unfinished).then_some(Term { want, negated })
            })
            .collect();
        Query { terms }
    }

    pub(crate) fn matches(&self, t: &TorrentSummary) -> bool {
        self.terms
            .iter()
            .all(|term| term.negated != term.want.matches(t))
    }
}

impl Want {
    fn matches(&self, t: &TorrentSummary) -> bool {
        match self {
            Want::Text(s) => t.name.to_lowercase().contains(s) || t.info_hash.starts_with(s),
            Want::Tag(s) => t.tags.iter().any(|tag| tag.to_lowercase() == *s),
            Want::Root(s) => t.root_label.to_lowercase() == *s,
            Want::State(states) => states.contains(&t.state),
        }
    }
}

/// The states whose name starts with `prefix`.
fn states_named(prefix: &str) -> Vec<TorrentState> {
    TorrentState::ALL
        .into_iter()
        .filter(|s| s.label().starts_with(prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn names(q: &str) -> Vec<String> {
        let query = Query::parse(q);
        fixtures::snapshot()
            .torrents
            .iter()
            .filter(|t| query.matches(t))
            .map(|t| t.name.clone())
            .collect()
    }

    fn tagged() -> TorrentSummary {
        let mut t = fixtures::snapshot().torrents[0].clone();
        t.tags = vec!["Linux".into(), "iso".into()];
        t
    }

    #[test]
    fn the_empty_query_matches_everything() {
        let all = fixtures::snapshot().torrents.len();
        assert_eq!(names("").len(), all);
        assert_eq!(names("   ").len(), all);
    }

    #[test]
    fn plain_words_must_all_be_in_the_name() {
        let t = tagged();
        let name = t.name.to_lowercase();
        let first = &name[..4];
        assert!(Query::parse(first).matches(&t));
        assert!(Query::parse(&format!("{first} {}", &name[name.len() - 3..])).matches(&t));
        assert!(!Query::parse(&format!("{first} zzzz")).matches(&t));
        assert!(Query::parse(&t.info_hash[..6]).matches(&t));
    }

    #[test]
    fn tags_roots_and_states_match_their_fields() {
        let t = tagged();
        assert!(Query::parse("tag:linux").matches(&t));
        assert!(Query::parse("TAG:ISO").matches(&t));
        assert!(!Query::parse("tag:lin").matches(&t), "a tag matches whole");
        assert!(Query::parse(&format!("root:{}", t.root_label)).matches(&t));
        assert!(!Query::parse("root:nowhere").matches(&t));
        let state = t.state.label();
        assert!(Query::parse(&format!("state:{state}")).matches(&t));
        assert!(Query::parse(&format!("state:{}", &state[..3])).matches(&t));
        assert!(!Query::parse("state:nosuchstate").matches(&t));
    }

    #[test]
    fn a_dash_turns_a_word_around() {
        let t = tagged();
        assert!(!Query::parse("-tag:linux").matches(&t));
        assert!(Query::parse("-tag:windows").matches(&t));
        assert!(
            Query::parse("tag:iso -state:error").matches(&t) == (t.state != TorrentState::Error)
        );
    }

    #[test]
    fn a_qualifier_still_being_typed_asks_nothing_yet() {
        let t = tagged();
        assert!(Query::parse("tag:").matches(&t));
        assert!(Query::parse("state:").matches(&t));
        assert!(Query::parse("root:").matches(&t));
    }

    #[test]
    fn every_state_can_be_picked_out_of_the_fixture() {
        for state in TorrentState::ALL {
            let shown = names(&format!("state:{}", state.label()));
            let expected: Vec<String> = fixtures::snapshot()
                .torrents
                .iter()
                .filter(|t| t.state == state)
                .map(|t| t.name.clone())
                .collect();
            assert_eq!(shown, expected, "state:{state}");
        }
    }
}
