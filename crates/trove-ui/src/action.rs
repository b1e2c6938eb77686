//! What a user can ask for, independent of which key asked. The keymap turns keys into these;
//! `App` turns these into state changes and engine commands.

use std::fmt;
use std::str::FromStr;

/// The tabs of the detail pane, in key order 1-5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DetailTab {
    #[default]
    Overview,
    Files,
    Peers,
    Pieces,
    Trackers,
}

impl DetailTab {
    pub(crate) const ALL: [DetailTab; 5] = [
        DetailTab::Overview,
        DetailTab::Files,
        DetailTab::Peers,
        DetailTab::Pieces,
        DetailTab::Trackers,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            DetailTab::Overview => "Overview",
            DetailTab::Files => "Files",
            DetailTab::Peers => "Peers",
            DetailTab::Pieces => "Pieces",
            DetailTab::Trackers => "Trackers",
        }
    }

    pub(crate) fn number(self) -> usize {
        DetailTab::ALL.iter().position(|t| *t == self).unwrap_or(0) + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Quit,
    /// Stop the session itself, for every client (asks first).
    StopSession,
    Help,
    Add,
    /// Pause or resume; on a torrent in error, retry it.
    PauseResume,
    /// Verify the torrent's data against its piece hashes (also retries one in error).
    Recheck,
    /// Copy the selected torrent's magnet link (OSC 52) and show it on the status line.
    CopyMagnet,
    /// Remove, keeping the data (asks first).
    Remove,
    /// Remove and delete the data (asks first, naming the torrent and its size).
    Purge,
    Limits,
    /// Edit the selected torrent's tags.
    Tags,
    Filter,
    StateFilter,
    Sort,
    SortReverse,
    NextPane,
    PrevPane,
    Tab(DetailTab),
    /// Show or hide the log pane.
    LogPane,
    /// The log full screen, or back.
    LogFull,
    LogLevel,
    LogTorrent,
    Roots,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    /// Select or skip the file or folder under the cursor in the Files tab.
    ToggleFile,
    /// Fold or unfold the folder under the cursor in the Files tab.
    Fold,
    /// Copy the stream URL of the file under the cursor in the Files tab (a folder: the
    /// torrent's playlist).
    CopyStreamUrl,
    /// Leave the current view or overlay, or clear the filter.
    Close,
    Confirm,
    Cancel,
    Submit,
    NextField,
    PrevField,
    /// Flip the focused switch of a dialog.
    Toggle,
    /// Does nothing: binds a key to nothing in a user keymap, hiding a default.
    Noop,
    QueueUp,
    QueueDown,
    QueueTop,
    QueueBottom,
    /// Start the selected torrent regardless of the queue, or give it back to it.
    Force,
    /// Move the selected torrent's data to another storage root (opens a root picker).
    MoveRoot,
    /// Edit the queue's limits and the session's seeding goals (opens a dialog).
    QueueLimits,
    /// Mark or unmark the torrent under the table's cursor, then go down a row. Move,
    /// pause/resume and remove act on every marked torrent while there are marks.
    Mark,
    /// Unmark every torrent.
    ClearMarks,
}

/// `run` names in keymap files, one per action (tabs are `tab 1` .. `tab 5`).
const NAMES: &[(&str, Action)] = &[
    ("quit", Action::Quit),
    ("stop_session", Action::StopSession),
    ("help", Action::Help),
    ("add", Action::Add),
    ("pause_resume", Action::PauseResume),
    ("recheck", Action::Recheck),
    ("copy_magnet", Action::CopyMagnet),
    ("remove", Action::Remove),
    ("purge", Action::Purge),
    ("limits", Action::Limits),
    ("tags", Action::Tags),
    ("filter", Action::Filter),
    ("state_filter", Action::StateFilter),
    ("sort", Action::Sort),
    ("sort_reverse", Action::SortReverse),
    ("next_pane", Action::NextPane),
    ("prev_pane", Action::PrevPane),
    ("tab 1", Action::Tab(DetailTab::Overview)),
    ("tab 2", Action::Tab(DetailTab::Files)),
    ("tab 3", Action::Tab(DetailTab::Peers)),
    ("tab 4", Action::Tab(DetailTab::Pieces)),
    ("tab 5", Action::Tab(DetailTab::Trackers)),
    ("log_pane", Action::LogPane),
    ("log_full", Action::LogFull),
    ("log_level", Action::LogLevel),
    ("log_torrent", Action::LogTorrent),
    ("roots", Action::Roots),
    ("up", Action::Up),
    ("down", Action::Down),
    ("top", Action::Top),
    ("bottom", Action::Bottom),
    ("page_up", Action::PageUp),
    ("page_down", Action::PageDown),
    ("toggle_file", Action::ToggleFile),
    ("fold", Action::Fold),
    ("copy_stream_url", Action::CopyStreamUrl),
    ("close", Action::Close),
    ("confirm", Action::Confirm),
    ("cancel", Action::Cancel),
    ("submit", Action::Submit),
    ("next_field", Action::NextField),
    ("prev_field", Action::PrevField),
    ("toggle", Action::Toggle),
    ("noop", Action::Noop),
    ("queue_up", Action::QueueUp),
    ("queue_down", Action::QueueDown),
    ("queue_top", Action::QueueTop),
    ("queue_bottom", Action::QueueBottom),
    ("force", Action::Force),
    ("move_root", Action::MoveRoot),
    ("queue_limits", Action::QueueLimits),
    ("mark", Action::Mark),
    ("clear_marks", Action::ClearMarks),
];

impl Action {
    pub(crate) fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("noop", |(n, _)| n)
    }

    /// Every `run` name, for error messages.
    pub(crate) fn all_names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(n, _)| *n)
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normal = s.split_whitespace().collect::<Vec<_>>().join(" ");
        NAMES
            .iter()
            .find(|(n, _)| *n == normal)
            .map(|(_, a)| *a)
            .ok_or_else(|| format!("unknown action '{s}'"))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (name, action) in NAMES {
            assert_eq!(name.parse::<Action>().unwrap(), *action);
            assert_eq!(action.name(), *name);
        }
        assert_eq!(
            "tab   3".parse::<Action>(),
            Ok(Action::Tab(DetailTab::Peers))
        );
        assert!("fly".parse::<Action>().is_err());
        assert_eq!(DetailTab::Trackers.number(), 5);
    }
}
