//! Which torrents the table shows and in what order: sort key, filter, state filter.

use std::cmp::Ordering;

use trove_proto::snapshot::{TorrentState, TorrentSummary};

use crate::query::Query;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// The order torrents were added in (the table's natural order).
    #[default]
    Added,
    Name,
    Size,
    Progress,
    State,
    Down,
    Up,
    Eta,
    Peers,
    Ratio,
    Root,
}

impl SortKey {
    pub(crate) const ALL: [SortKey; 11] = [
        SortKey::Added,
        SortKey::Name,
        SortKey::Size,
        SortKey::Progress,
        SortKey::State,
        SortKey::Down,
        SortKey::Up,
        SortKey::Eta,
        SortKey::Peers,
        SortKey::Ratio,
        SortKey::Root,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            SortKey::Added => "added",
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Progress => "progress",
            SortKey::State => "state",
            SortKey::Down => "down",
            SortKey::Up => "up",
            SortKey::Eta => "eta",
            SortKey::Peers => "peers",
            SortKey::Ratio => "ratio",
            SortKey::Root => "root",
        }
    }

    pub(crate) fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }

    /// Numbers people want biggest first; names and times in reading order.
    pub(crate) fn descending_by_default(self) -> bool {
        matches!(
            self,
            SortKey::Size
                | SortKey::Progress
                | SortKey::Down
                | SortKey::Up
                | SortKey::Peers
                | SortKey::Ratio
        )
    }
}

/// How the table is cut and ordered.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TableView {
    pub(crate) sort: SortKey,
    pub(crate) descending: bool,
    /// The filter as typed (see [`Query`] for what it means).
    filter: String,
    /// `filter`, parsed.
    query: Query,
    pub(crate) state: Option<TorrentState>,
}

impl TableView {
    pub(crate) fn matches(&self, t: &TorrentSummary) -> bool {
        if self.state.is_some_and(|s| s != t.state) {
            return false;
        }
        self.query.matches(t)
    }

    /// The filter as the user typed it.
    pub(crate) fn filter(&self) -> &str {
        &self.filter
    }

    pub(crate) fn set_filter(&mut self, text: String) {
        self.query = Query::parse(&text);
        self.filter = text;
    }

    pub(crate) fn clear_filter(&mut self) {
        self.set_filter(String::new());
    }

    /// `names` holds the lower-cased names when sorting by name (computed once, not per
    /// comparison: that is 10,000 allocations instead of 300,000 for a large session).
    fn compare(
        &self,
        a: usize,
        b: usize,
        torrents: &[TorrentSummary],
        names: &[String],
    ) -> Ordering {
        let (ia, ib) = (a, b);
        let (a, b) = (&torrents[a], &torrents[b]);
        let primary = match self.sort {
            SortKey::Added => a.added_at.cmp(&b.added_at),
            // Natural order: "part 2" before "part 10", "32M" before "128M".
            SortKey::Name => natord::compare(&names[ia], &names[ib]),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Progress => a.progress.total_cmp(&b.progress),
            SortKey::State => a.state.cmp(&b.state),
            SortKey::Down => a.download_rate.total_cmp(&b.download_rate),
            SortKey::Up => a.upload_rate.total_cmp(&b.upload_rate),
            // Unknown ETAs go last whichever way the sort runs.
            SortKey::Eta => match (a.eta, b.eta) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            SortKey::Peers => a.peers_connected.cmp(&b.peers_connected),
            SortKey::Ratio => a.ratio.total_cmp(&b.ratio),
            SortKey::Root => a.root_label.cmp(&b.root_label),
        };
        let primary = if self.descending {
            primary.reverse()
        } else {
            primary
        };
        // Ties broken the same way every time so rows do not swap between snapshots.
        primary
            .then_with(|| a.added_at.cmp(&b.added_at))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.info_hash.cmp(&b.info_hash))
    }

    /// Indices into `torrents` of the rows to show, in order.
    pub(crate) fn rows(&self, torrents: &[TorrentSummary]) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..torrents.len())
            .filter(|&i| self.matches(&torrents[i]))
            .collect();
        let names: Vec<String> = if self.sort == SortKey::Name {
            torrents.iter().map(|t| t.name.to_lowercase()).collect()
        } else {
            Vec::new()
        };
        rows.sort_by(|&a, &b| self.compare(a, b, torrents, &names));
        rows
    }
}

/// The states `f` steps through, most wanted first.
const STATE_CYCLE: [TorrentState; 6] = [
    TorrentState::Downloading,
    TorrentState::Seeding,
    TorrentState::Paused,
    TorrentState::Checking,
    TorrentState::Queued,
    TorrentState::Error,
];

/// The next state filter: all, then each state, then all again.
pub(crate) fn next_state_filter(current: Option<TorrentState>) -> Option<TorrentState> {
    match current {
        None => Some(STATE_CYCLE[0]),
        Some(s) => {
            let i = STATE_CYCLE.iter().position(|x| *x == s).unwrap_or(0);
            STATE_CYCLE.get(i + 1).copied()
        }
    }
}
