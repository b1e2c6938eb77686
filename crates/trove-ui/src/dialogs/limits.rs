//! The limits dialog: download and upload rates and a peer limit, for the selected torrent
//! or for the whole session.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use trove_proto::command::Command;
use trove_proto::snapshot::{InfoHash, Limits, TorrentSummary};

use super::{DialogOutcome, Item, choice, is_editing, is_typing, key, popup};
use crate::action::Action;
use crate::format;
use crate::input::TextInput;
use crate::keymap::{Context, Keymap};
use crate::spans::{fit_segments, hint_spans};
use crate::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LimitsField {
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
pub(crate) struct LimitsDialog {
    /// The torrent selected when the dialog opened, if any: (info-hash, name, its limits).
    torrent: Option<(InfoHash, String, Limits)>,
    global: Limits,
    /// True when the limits apply to the whole session.
    pub(crate) is_global: bool,
    down: TextInput,
    pub(crate) up: TextInput,
    peers: TextInput,
    focus: LimitsField,
    pub(crate) error: Option<String>,
}

impl LimitsDialog {
    /// Opens on the selected torrent's limits when there is one, else the session's.
    pub(crate) fn new(selected: Option<&TorrentSummary>, global: Limits) -> Self {
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
    fn toggle_scope(&mut self) {
        if self.torrent.is_some() {
            self.is_global = !self.is_global;
            self.load_fields();
        }
    }

    fn next_field(&mut self, forward: bool) {
        let order = LimitsField::ORDER;
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    fn field_mut(&mut self) -> Option<&mut TextInput> {
        match self.focus {
            LimitsField::Scope => None,
            LimitsField::Down => Some(&mut self.down),
            LimitsField::Up => Some(&mut self.up),
            LimitsField::Peers => Some(&mut self.peers),
        }
    }

    /// The limits typed, or the first field's error.
    fn parse(&self) -> Result<Limits, String> {
        Ok(Limits {
            download_bps: format::parse_rate(self.down.text())
                .map_err(|e| format!("Download: {e}"))?,
            upload_bps: format::parse_rate(self.up.text()).map_err(|e| format!("Upload: {e}"))?,
            peers: format::parse_peers(self.peers.text()).map_err(|e| format!("Peers: {e}"))?,
        })
    }

    /// Typing edits the focused field; the keymap's dialog keys move between fields, switch
    /// between the torrent and the session (from any row: no field needs a space; Left and
    /// Right too on the "For" row), apply or cancel.
    pub(super) fn handle_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> DialogOutcome {
        let field_char =
            matches!(key.code, KeyCode::Char(c) if c.is_alphanumeric() || c == '.' || c == '/');
        if !field_char && keymap.lookup(&[Context::Dialog], key) == Some(Action::Toggle) {
            self.toggle_scope();
            return DialogOutcome::Stay;
        }
        if let Some(field) = self.field_mut()
            && (is_typing(key) || is_editing(key))
        {
            field.handle_key(key);
            self.error = None;
            return DialogOutcome::Stay;
        }
        match keymap.lookup(&[Context::Dialog], key) {
            Some(Action::Submit) => match self.parse() {
                Err(e) => self.error = Some(e),
                Ok(limits) => {
                    return match (&self.torrent, self.is_global) {
                        (Some((id, name, _)), false) => DialogOutcome::Run {
                            command: Command::SetTorrentLimits {
                                id: id.clone(),
                                limits,
                            },
                            ok: format!("Limits of '{name}' set."),
                            failed: format!("Setting the limits of '{name}' failed"),
                        },
                        _ => DialogOutcome::Run {
                            command: Command::SetGlobalLimits(limits),
                            ok: "Session limits set.".to_string(),
                            failed: "Setting the session limits failed".to_string(),
                        },
                    };
                }
            },
            Some(Action::Cancel) => return DialogOutcome::Close,
            Some(Action::NextField) | Some(Action::Down) => self.next_field(true),
            Some(Action::PrevField) | Some(Action::Up) => self.next_field(false),
            _ if self.focus == LimitsField::Scope
                && matches!(key.code, KeyCode::Left | KeyCode::Right) =>
            {
                self.toggle_scope()
            }
            _ => {}
        }
        DialogOutcome::Stay
    }

    /// A paste goes into the focused field, if it is one.
    pub(super) fn paste(&mut self, text: &str) -> DialogOutcome {
        if let Some(f) = self.field_mut() {
            f.insert_str(text.trim());
        }
        DialogOutcome::Stay
    }

    /// Draws the dialog as a popup centred on `area`.
    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let w = 68u16.min(area.width);
        let width = w.saturating_sub(4) as usize;
        let scope_focused = self.focus == LimitsField::Scope;
        let mut scope = choice("For", scope_focused, theme);
        scope.push(Span::raw(" ".repeat(7)));
        match &self.torrent {
            Some((_, name, _)) => {
                let on = |b: bool| if b { "(•) " } else { "( ) " };
                let name_w = width.saturating_sub(11 + 4 + 2 + 2 + 4 + 12);
                scope.push(Span::raw(on(!self.is_global)));
                scope.push(Span::raw(if name_w >= 8 {
                    format!("'{}'", format::truncate(name, name_w))
                } else {
                    "this torrent".to_string()
                }));
                scope.push(Span::raw("  "));
                scope.push(Span::raw(on(self.is_global)));
                scope.push(Span::raw("all torrents"));
            }
            None => scope.push(Span::raw("all torrents (no torrent selected)")),
        }
        let for_torrent = !self.is_global && self.torrent.is_some();
        let unlimited = if for_torrent {
            "the session's"
        } else {
            "no limit"
        };
        let rate_meaning = |input: &TextInput| match format::parse_rate(input.text()) {
            Ok(None) => Span::styled(unlimited, theme.dim),
            Ok(Some(b)) => Span::styled(format!("= {}", format::rate_both(b)), theme.dim),
            Err(_) => Span::styled("not a rate", theme.error),
        };
        let peers_meaning = match format::parse_peers(self.peers.text()) {
            Ok(None) => Span::styled(unlimited, theme.dim),
            Ok(Some(p)) => Span::styled(format!("= {p} peers"), theme.dim),
            Err(_) => Span::styled("not a number", theme.error),
        };
        let mut items = vec![
            Item::Line(Line::from(scope)),
            Item::Gap,
            Item::Field {
                label: "Download",
                input: &self.down,
                focused: self.focus == LimitsField::Down,
                meaning: Some(rate_meaning(&self.down)),
            },
            Item::Field {
                label: "Upload",
                input: &self.up,
                focused: self.focus == LimitsField::Up,
                meaning: Some(rate_meaning(&self.up)),
            },
            Item::Field {
                label: "Peers",
                input: &self.peers,
                focused: self.focus == LimitsField::Peers,
                meaning: Some(peers_meaning),
            },
            Item::Gap,
            Item::Note(Line::styled(
                "k or KB = 1000 bytes, KiB = 1024 (M/MB and MiB alike).",
                theme.dim,
            )),
            Item::Note(Line::styled(
                if for_torrent {
                    "Empty or 0: no limit of its own; the session's limits apply."
                } else {
                    "Empty or 0: no limit."
                },
                theme.dim,
            )),
        ];
        if let Some(e) = &self.error {
            items.push(Item::Line(Line::styled(
                format::truncate(e, width),
                theme.error,
            )));
        }
        items.push(Item::Gap);
        let footer = fit_segments(
            hint_spans(
                &[
                    (key(keymap, Context::Dialog, Action::Submit), "apply"),
                    (key(keymap, Context::Dialog, Action::Cancel), "cancel"),
                    (key(keymap, Context::Dialog, Action::NextField), "next"),
                    (key(keymap, Context::Dialog, Action::Toggle), "torrent/all"),
                ],
                theme,
            ),
            Span::raw("  "),
            width,
        );
        popup(
            frame,
            area,
            w,
            "Limits",
            theme.border_focused,
            theme,
            items,
            footer,
        );
    }
}
