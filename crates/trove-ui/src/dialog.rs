//! The state of the modal dialogs: add, limits, confirm-remove, and the filter prompt.

use trove_proto::snapshot::{InfoHash, Limits, RootInfo, TorrentSummary};

use super::format;
use super::input::TextInput;

#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Add(AddDialog),
    Limits(LimitsDialog),
    Confirm(Confirm),
    /// The `/` prompt in the status line; the table filters as it is typed.
    Filter(TextInput),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddField {
    Source,
    Root,
    Paused,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AddDialog {
    pub source: TextInput,
    /// Token of the chosen root (stable while the roots list refreshes).
    pub root: Option<String>,
    pub paused: bool,
    pub focus: AddField,
    /// Names offered by the last Tab when several matched.
    pub candidates: Vec<String>,
    pub error: Option<String>,
}

impl AddDialog {
    /// A fresh dialog with the default root preselected.
    pub fn new(text: &str, roots: &[RootInfo]) -> Self {
        let root = roots
            .iter()
            .find(|r| r.is_default)
            .or_else(|| roots.first())
            .map(|r| r.token.clone());
        AddDialog {
            source: TextInput::new(text),
            root,
            paused: false,
            focus: AddField::Source,
            candidates: Vec::new(),
            error: None,
        }
    }

    /// Position of the chosen root in `roots`.
    pub fn root_index(&self, roots: &[RootInfo]) -> Option<usize> {
        let token = self.root.as_ref()?;
        roots.iter().position(|r| &r.token == token)
    }

    pub fn move_root(&mut self, roots: &[RootInfo], delta: isize) {
        if roots.is_empty() {
            return;
        }
        let at = self.root_index(roots).unwrap_or(0) as isize;
        let next = (at + delta).clamp(0, roots.len() as isize - 1) as usize;
        self.root = Some(roots[next].token.clone());
    }

    pub fn next_field(&mut self, forward: bool) {
        use AddField::*;
        self.focus = match (self.focus, forward) {
            (Source, true) => Root,
            (Root, true) => Paused,
            (Paused, true) => Source,
            (Source, false) => Paused,
            (Root, false) => Source,
            (Paused, false) => Root,
        };
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitsField {
    Scope,
    Down,
    Up,
    Peers,
}

impl LimitsField {
    const ORDER: [LimitsField; 4] = [
        LimitsField::Scope,
        LimitsField::Down,
        LimitsField::Up,
        LimitsField::Peers,
    ];
}

#[derive(Debug, Clone, PartialEq)]
pub struct LimitsDialog {
    /// The torrent selected when the dialog opened, if any: (info-hash, name, its limits).
    pub torrent: Option<(InfoHash, String, Limits)>,
    pub global: Limits,
    /// True when the limits apply to the whole session.
    pub is_global: bool,
    pub down: TextInput,
    pub up: TextInput,
    pub peers: TextInput,
    pub focus: LimitsField,
    pub error: Option<String>,
}

impl LimitsDialog {
    /// Opens on the selected torrent's limits when there is one, else the session's.
    pub fn new(selected: Option<&TorrentSummary>, global: Limits) -> Self {
        let torrent = selected.map(|t| (t.info_hash.clone(), format::sanitize(&t.name), t.limits));
        let mut d = LimitsDialog {
            is_global: torrent.is_none(),
            torrent,
            global,
            down: TextInput::default(),
            up: TextInput::default(),
            peers: TextInput::default(),
            focus: LimitsField::Down,
            error: None,
        };
        d.load_fields();
        d
    }

    fn current(&self) -> Limits {
        match (&self.torrent, self.is_global) {
            (Some((_, _, l)), false) => *l,
            _ => self.global,
        }
    }

    fn load_fields(&mut self) {
        let l = self.current();
        self.down.set(&format::rate_input(l.download_bps));
        self.up.set(&format::rate_input(l.upload_bps));
        self.peers
            .set(&l.peers.map(|p| p.to_string()).unwrap_or_default());
        self.error = None;
    }

    /// Switches between the torrent and the whole session (only when a torrent was selected).
    pub fn toggle_scope(&mut self) {
        if self.torrent.is_some() {
            self.is_global = !self.is_global;
            self.load_fields();
        }
    }

    pub fn next_field(&mut self, forward: bool) {
        let order = LimitsField::ORDER;
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    pub fn field_mut(&mut self) -> Option<&mut TextInput> {
        match self.focus {
            LimitsField::Scope => None,
            LimitsField::Down => Some(&mut self.down),
            LimitsField::Up => Some(&mut self.up),
            LimitsField::Peers => Some(&mut self.peers),
        }
    }

    /// The limits typed, or the first field's error.
    pub fn parse(&self) -> Result<Limits, String> {
        Ok(Limits {
            download_bps: format::parse_rate(self.down.text())
                .map_err(|e| format!("Download: {e}"))?,
            upload_bps: format::parse_rate(self.up.text()).map_err(|e| format!("Upload: {e}"))?,
            peers: format::parse_peers(self.peers.text()).map_err(|e| format!("Peers: {e}"))?,
        })
    }
}

/// "Remove this torrent?" with or without its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub id: InfoHash,
    /// Sanitised for drawing.
    pub name: String,
    pub size: u64,
    pub delete_data: bool,
    pub root_label: String,
}
