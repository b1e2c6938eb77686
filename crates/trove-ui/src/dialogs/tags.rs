//! The tags of one torrent: one field holding them comma-separated, the tags the session
//! already knows below it, and Tab to complete the tag being typed from those.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use trove_proto::command::Command;
use trove_proto::snapshot::{InfoHash, TorrentSummary};

use super::{DialogOutcome, Item, is_editing, is_typing, key, popup};
use crate::action::Action;
use crate::format;
use crate::input::TextInput;
use crate::keymap::{Context, Keymap};
use crate::spans::{fit_segments, hint_spans};
use crate::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TagsDialog {
    id: InfoHash,
    /// Sanitised for drawing.
    name: String,
    /// The torrent's tags when the dialog opened.
    before: Vec<String>,
    input: TextInput,
    /// Every tag the session knows, for the hint and for completion.
    known: Vec<String>,
}

impl TagsDialog {
    pub(crate) fn new(t: &TorrentSummary, known: &[String]) -> Self {
        TagsDialog {
            id: t.info_hash.clone(),
            name: format::sanitize(&t.name),
            before: t.tags.clone(),
            input: TextInput::new(&t.tags.join(", ")),
            known: known.to_vec(),
        }
    }

    pub(super) fn handle_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> DialogOutcome {
        if is_typing(key) || is_editing(key) {
            self.input.handle_key(key);
            return DialogOutcome::Stay;
        }
        match keymap.lookup(&[Context::Dialog], key) {
            Some(Action::Submit) => self.submit(),
            Some(Action::Cancel) => DialogOutcome::Close,
            Some(Action::NextField) => {
                self.complete();
                DialogOutcome::Stay
            }
            _ => DialogOutcome::Stay,
        }
    }

    pub(super) fn paste(&mut self, text: &str) -> DialogOutcome {
        self.input.insert_str(text);
        DialogOutcome::Stay
    }

    /// The tags as typed: split on commas, trimmed, empty ones and repeats dropped.
    fn typed(&self) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        for tag in self.input.text().split(',').map(str::trim) {
            if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_string());
            }
        }
        tags
    }

    fn submit(&self) -> DialogOutcome {
        let after = self.typed();
        let add: Vec<String> = after
            .iter()
            .filter(|t| !self.before.contains(t))
            .cloned()
            .collect();
        let remove: Vec<String> = self
            .before
            .iter()
            .filter(|t| !after.contains(t))
            .cloned()
            .collect();
        if add.is_empty() && remove.is_empty() {
            return DialogOutcome::Close;
        }
        let ok = if after.is_empty() {
            format!("'{}' has no tags now.", self.name)
        } else {
            format!("Tags of '{}': {}.", self.name, after.join(", "))
        };
        DialogOutcome::Run {
            command: Command::EditTags {
                ids: vec![self.id.clone()],
                add,
                remove,
            },
            ok,
            failed: format!("Setting the tags of '{}' failed", self.name),
        }
    }

    /// Completes the tag after the last comma with the first known tag it starts.
    fn complete(&mut self) {
        let text = self.input.text();
        let (head, partial) = match text.rfind(',') {
            Some(i) => (&text[..=i], text[i + 1..].trim_start()),
            None => ("", text.trim_start()),
        };
        if partial.is_empty() {
            return;
        }
        let lower = partial.to_lowercase();
        let typed = self.typed();
        let Some(found) = self
            .known
            .iter()
            .find(|k| k.to_lowercase().starts_with(&lower) && !typed.contains(k))
        else {
            return;
        };
        let sep = if head.is_empty() { "" } else { " " };
        let completed = format!("{head}{sep}{found}, ");
        self.input.set(&completed);
    }

    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let w = 64u16.min(area.width);
        let width = w.saturating_sub(4) as usize;
        let known = if self.known.is_empty() {
            "No tags yet: the first one you type starts the list.".to_string()
        } else {
            format!("Known: {}", format::sanitize(&self.known.join(", ")))
        };
        let items = vec![
            Item::Line(Line::from(vec![
                Span::styled("Torrent    ", theme.text),
                Span::raw(format::truncate(&self.name, width.saturating_sub(11))),
            ])),
            Item::Gap,
            Item::Field {
                label: "Tags",
                input: &self.input,
                focused: true,
                meaning: None,
            },
            Item::Gap,
            Item::Note(Line::styled(
                "Commas separate tags; an empty field takes them all off.",
                theme.dim,
            )),
            Item::Note(Line::styled(format::truncate(&known, width), theme.dim)),
            Item::Gap,
        ];
        let footer = fit_segments(
            hint_spans(
                &[
                    (key(keymap, Context::Dialog, Action::Submit), "apply"),
                    (key(keymap, Context::Dialog, Action::Cancel), "cancel"),
                    (key(keymap, Context::Dialog, Action::NextField), "complete"),
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
            "Tags",
            theme.border_focused,
            theme,
            items,
            footer,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn press(d: &mut TagsDialog, code: KeyCode) -> DialogOutcome {
        d.handle_key(&KeyEvent::new(code, KeyModifiers::NONE), &Keymap::default())
    }

    fn typed(d: &mut TagsDialog, text: &str) {
        for c in text.chars() {
            press(d, KeyCode::Char(c));
        }
    }

    fn torrent(tags: &[&str]) -> TorrentSummary {
        let mut t = fixtures::snapshot().torrents[0].clone();
        t.tags = tags.iter().map(|s| s.to_string()).collect();
        t
    }

    #[test]
    fn only_what_changed_is_sent() {
        let t = torrent(&["linux", "iso"]);
        let mut d = TagsDialog::new(&t, &["linux".into(), "iso".into()]);
        press(&mut d, KeyCode::End);
        // "linux, iso" → drop "iso", add "keep"
        for _ in 0..3 {
            press(&mut d, KeyCode::Backspace);
        }
        typed(&mut d, " keep, linux");
        let DialogOutcome::Run { command, ok, .. } = press(&mut d, KeyCode::Enter) else {
            panic!("the dialog runs a command")
        };
        assert_eq!(
            command,
            Command::EditTags {
                ids: vec![t.info_hash.clone()],
                add: vec!["keep".into()],
                remove: vec!["iso".into()],
            }
        );
        assert!(ok.contains("linux, keep"), "{ok}");
    }

    #[test]
    fn no_change_just_closes() {
        let t = torrent(&["a"]);
        let mut d = TagsDialog::new(&t, &[]);
        typed(&mut d, ",, ");
        assert_eq!(press(&mut d, KeyCode::Enter), DialogOutcome::Close);
    }

    #[test]
    fn tab_completes_from_the_known_tags() {
        let t = torrent(&[]);
        let mut d = TagsDialog::new(&t, &["movies".into(), "music".into()]);
        typed(&mut d, "MU");
        press(&mut d, KeyCode::Tab);
        assert_eq!(d.input.text(), "music, ");
        typed(&mut d, "mo");
        press(&mut d, KeyCode::Tab);
        assert_eq!(d.input.text(), "music, movies, ");
        let DialogOutcome::Run { command, .. } = press(&mut d, KeyCode::Enter) else {
            panic!("the dialog runs a command")
        };
        assert!(matches!(command, Command::EditTags { add, .. } if add == ["music", "movies"]));
    }
}
