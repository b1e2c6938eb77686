//! The add dialog: a magnet link, URL or `.torrent` path (with Tab completion of paths),
//! the storage root to save to, whether to start paused, and whether to fetch the
//! release's descriptive files first.

use std::path::Path;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use trove_proto::command::{AddOptions, TorrentSource};
use trove_proto::snapshot::RootInfo;

use super::{DialogOutcome, Env, Item, choice, is_editing, is_typing, key, popup};
use crate::action::Action;
use crate::complete;
use crate::format;
use crate::input::TextInput;
use crate::keymap::Context;
use crate::spans::{fit_segments, hint_spans};
use crate::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddField {
    Source,
    Root,
    Paused,
    MetadataFirst,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AddDialog {
    pub(crate) source: TextInput,
    /// Token of the chosen root (stable while the roots list refreshes).
    pub(crate) root: Option<String>,
    pub(crate) paused: bool,
    /// Fetch the descriptive files (cue sheets, logs, covers...) before the rest.
    pub(crate) metadata_first: bool,
    pub(crate) focus: AddField,
    /// Names offered by the last Tab when several matched.
    candidates: Vec<String>,
    pub(crate) error: Option<String>,
}

impl AddDialog {
    /// A fresh dialog with the default root preselected.
    pub(crate) fn new(text: &str, roots: &[RootInfo]) -> Self {
        let root = roots
            .iter()
            .find(|r| r.is_default)
            .or_else(|| roots.first())
            .map(|r| r.token.clone());
        AddDialog {
            source: TextInput::new(text),
            root,
            paused: false,
            metadata_first: false,
            focus: AddField::Source,
            candidates: Vec::new(),
            error: None,
        }
    }

    /// Position of the chosen root in `roots`.
    fn root_index(&self, roots: &[RootInfo]) -> Option<usize> {
        let token = self.root.as_ref()?;
        roots.iter().position(|r| &r.token == token)
    }

    fn move_root(&mut self, roots: &[RootInfo], delta: isize) {
        if roots.is_empty() {
            return;
        }
        let at = self.root_index(roots).unwrap_or(0) as isize;
        let next = (at + delta).clamp(0, roots.len() as isize - 1) as usize;
        self.root = Some(roots[next].token.clone());
    }

    fn next_field(&mut self, forward: bool) {
        use AddField::*;
        self.focus = match (self.focus, forward) {
            (Source, true) => Root,
            (Root, true) => Paused,
            (Paused, true) => MetadataFirst,
            (MetadataFirst, true) => Source,
            (Source, false) => MetadataFirst,
            (Root, false) => Source,
            (Paused, false) => Root,
            (MetadataFirst, false) => Paused,
        };
    }

    /// Typing edits the source; the keymap's dialog keys move between fields, complete a
    /// path, choose the root, flip "start paused", submit or cancel.
    pub(super) fn handle_key(&mut self, key: &KeyEvent, env: &Env) -> DialogOutcome {
        if self.focus == AddField::Source && (is_typing(key) || is_editing(key)) {
            self.source.handle_key(key);
            self.candidates.clear();
            self.error = None;
            return DialogOutcome::Stay;
        }
        let roots = env.roots;
        match env.keymap.lookup(&[Context::Dialog], key) {
            Some(Action::Submit) => {
                let text = self.source.text().trim().to_string();
                if text.is_empty() {
                    self.error = Some(
                        "Paste a magnet link or a URL, or type the path of a .torrent file.".into(),
                    );
                    self.focus = AddField::Source;
                    return DialogOutcome::Stay;
                }
                let source = TorrentSource::from_user_text(&expand_home(&text, env.home));
                let options = AddOptions {
                    root: self.root_index(roots).map(|i| roots[i].token.clone()),
                    paused: self.paused,
                    metadata_first: self
                        .metadata_first
                        .then_some(trove_proto::command::DEFAULT_METADATA_SIZE),
                    ..AddOptions::default()
                };
                return DialogOutcome::Add {
                    source,
                    options,
                    text,
                    paused: self.paused,
                };
            }
            Some(Action::Cancel) => return DialogOutcome::Close,
            Some(Action::NextField) if self.focus == AddField::Source => {
                match complete::complete(self.source.text(), env.home) {
                    Some(c) if c.text != self.source.text() || !c.candidates.is_empty() => {
                        self.source.set(&c.text);
                        self.candidates = c.candidates;
                    }
                    _ => {
                        self.candidates.clear();
                        self.next_field(true);
                    }
                }
            }
            Some(Action::NextField) => self.next_field(true),
            Some(Action::PrevField) => self.next_field(false),
            Some(Action::Up) if self.focus == AddField::Root => self.move_root(roots, -1),
            Some(Action::Down) if self.focus == AddField::Root => self.move_root(roots, 1),
            Some(Action::Up) => self.next_field(false),
            Some(Action::Down) => self.next_field(true),
            Some(Action::Toggle) if self.focus == AddField::Paused => self.paused = !self.paused,
            Some(Action::Toggle) if self.focus == AddField::MetadataFirst => {
                self.metadata_first = !self.metadata_first
            }
            _ => {}
        }
        DialogOutcome::Stay
    }

    /// A paste always goes into the source, whichever field has the focus.
    pub(super) fn paste(&mut self, text: &str) -> DialogOutcome {
        self.focus = AddField::Source;
        self.candidates.clear();
        self.source.insert_str(text.trim());
        DialogOutcome::Stay
    }

    /// Draws the dialog as a popup centred on `area`.
    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, env: &Env, theme: &Theme) {
        let roots = env.roots;
        let w = 78u16.min(area.width);
        // Popup border and margins take 4 columns.
        let width = w.saturating_sub(4) as usize;
        let mut items = vec![
            Item::Note(Line::styled(
                "A magnet link, an http(s) URL or the path of a .torrent file:",
                theme.dim,
            )),
            Item::Field {
                label: "Source",
                input: &self.source,
                focused: self.focus == AddField::Source,
                meaning: None,
            },
        ];
        if !self.candidates.is_empty() {
            let names: Vec<Vec<Span>> = self
                .candidates
                .iter()
                .map(|c| vec![Span::styled(format::sanitize(c), theme.dim)])
                .collect();
            let mut line = vec![Span::raw(" ".repeat(11))];
            line.extend(fit_segments(names, Span::raw("  "), width.saturating_sub(11)).spans);
            items.push(Item::Line(Line::from(line)));
        }
        items.push(Item::Gap);
        let mut save = choice("Save to", self.focus == AddField::Root, theme);
        save.push(Span::styled(
            if self.focus == AddField::Root {
                "  ↑/↓ choose"
            } else {
                ""
            },
            theme.dim,
        ));
        items.push(Item::Line(Line::from(save)));
        if roots.is_empty() {
            items.push(Item::Line(Line::styled(
                "  (•) the default root",
                theme.text,
            )));
        }
        let chosen = self.root_index(roots);
        // A window of at most six roots around the chosen one.
        let first = chosen.unwrap_or(0).saturating_sub(5);
        for (i, root) in roots.iter().enumerate().skip(first).take(6) {
            let on = chosen == Some(i);
            let free = match (&root.problem, root.free_bytes) {
                (Some(p), _) => format!("⚠ {}", format::sanitize(p)),
                (None, Some(f)) => format!("{} free", format::bytes(f)),
                (None, None) => "free space unknown".to_string(),
            };
            let right = if root.is_default {
                format!("{free} · default")
            } else {
                free
            };
            let right = format::truncate(&right, width.saturating_sub(18));
            // "  (•) label        path…  right"
            let fixed = 2 + 4 + 12 + 1 + 2 + format::width(&right);
            let path_w = width.saturating_sub(fixed);
            let path = if path_w >= 6 {
                format::fit(
                    &format::truncate_start(
                        &format::sanitize(&root.path.display().to_string()),
                        path_w,
                    ),
                    path_w,
                )
            } else {
                " ".repeat(path_w)
            };
            let base = if on {
                theme.selection(self.focus == AddField::Root)
            } else {
                Style::new()
            };
            let line = Line::from(vec![
                Span::raw("  "),
                Span::raw(if on { "(•) " } else { "( ) " }),
                Span::raw(format::fit(&format::sanitize(&root.label), 12)),
                Span::raw(" "),
                Span::styled(path, if on { Style::new() } else { theme.dim }),
                Span::raw("  "),
                Span::styled(
                    right,
                    if root.problem.is_some() {
                        theme.warn
                    } else {
                        Style::new()
                    },
                ),
            ])
            .style(base);
            items.push(Item::Line(line));
        }
        items.push(Item::Gap);
        let tick = |label: &'static str, on: bool, field: AddField, hint: &'static str| {
            let mark = if on { 'x' } else { ' ' };
            let mut line = choice(format!("[{mark}] {label}"), self.focus == field, theme);
            line.push(Span::styled(hint, theme.dim));
            Item::Line(Line::from(line))
        };
        items.push(tick(
            "Start paused",
            self.paused,
            AddField::Paused,
            "  then choose files in the Files tab",
        ));
        items.push(tick(
            "Descriptive files first",
            self.metadata_first,
            AddField::MetadataFirst,
            "  .cue .log .nfo covers, then the rest",
        ));
        if let Some(e) = &self.error {
            items.push(Item::Line(Line::styled(e.clone(), theme.error)));
        }
        items.push(Item::Gap);
        let footer = fit_segments(
            hint_spans(
                &[
                    (key(env.keymap, Context::Dialog, Action::Submit), "add"),
                    (key(env.keymap, Context::Dialog, Action::Cancel), "cancel"),
                    (
                        key(env.keymap, Context::Dialog, Action::NextField),
                        "complete/next",
                    ),
                    (key(env.keymap, Context::Dialog, Action::Toggle), "tick"),
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
            "Add a torrent",
            theme.border_focused,
            theme,
            items,
            footer,
        );
    }
}

/// `~/x` → `$HOME/x` for the engine, which takes paths literally.
fn expand_home(text: &str, home: Option<&Path>) -> String {
    match (text.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest).display().to_string(),
        _ => text.to_string(),
    }
}
