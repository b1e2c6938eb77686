//! A one-line text field: the add dialog's source, the limits fields, the filter prompt.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_width::UnicodeWidthStr;

use super::format;

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TextInput {
    text: String,
    /// Cursor position in chars (not bytes, not columns).
    cursor: usize,
}

impl TextInput {
    pub(crate) fn new(text: &str) -> Self {
        let mut input = TextInput::default();
        input.set(text);
        input
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn set(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.text.chars().count();
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Inserts typed or pasted text; line breaks and other control characters are dropped,
    /// so a pasted magnet with a trailing newline arrives clean.
    pub(crate) fn insert_str(&mut self, s: &str) {
        let clean: String = s.chars().filter(|c| !c.is_control()).collect();
        let at = self.byte_at(self.cursor);
        self.text.insert_str(at, &clean);
        self.cursor += clean.chars().count();
    }

    /// Handles the editing keys; false when the key is not one (the caller looks it up in
    /// the keymap then).
    pub(crate) fn handle_key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char(c) if !ctrl && !alt => {
                let mut buf = [0u8; 4];
                self.insert_str(c.encode_utf8(&mut buf));
            }
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.truncate(at);
            }
            KeyCode::Char('w') if ctrl => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                while start > 0 && !chars[start - 1].is_whitespace() && chars[start - 1] != '/' {
                    start -= 1;
                }
                if start == self.cursor && start > 0 {
                    start -= 1;
                }
                let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.chars().count(),
            KeyCode::Backspace => {
                if self.cursor > 0 {
                    let (a, b) = (self.byte_at(self.cursor - 1), self.byte_at(self.cursor));
                    self.text.replace_range(a..b, "");
                    self.cursor -= 1;
                }
            }
            KeyCode::Delete => {
                if self.cursor < self.text.chars().count() {
                    let (a, b) = (self.byte_at(self.cursor), self.byte_at(self.cursor + 1));
                    self.text.replace_range(a..b, "");
                }
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.chars().count(),
            _ => return false,
        }
        true
    }

    /// What to draw in `width` columns and where the cursor goes: the text scrolls so the
    /// cursor stays visible, showing the end of a long magnet while typing it.
    pub(crate) fn view(&self, width: usize) -> (String, usize) {
        if width == 0 {
            return (String::new(), 0);
        }
        let shown = format::sanitize(&self.text);
        let chars: Vec<char> = shown.chars().collect();
        let before: String = chars[..self.cursor.min(chars.len())].iter().collect();
        let before_w = before.width();
        if shown.width() < width {
            return (shown, before_w);
        }
        // Keep the cursor in the last column at most; skip chars from the start until it is.
        let mut start = 0;
        let mut skipped_w = 0;
        while before_w - skipped_w > width.saturating_sub(1) && start < chars.len() {
            skipped_w += chars[start].to_string().width();
            start += 1;
        }
        let mut out = String::new();
        let mut used = 0;
        for c in &chars[start..] {
            let w = c.to_string().width();
            if used + w > width {
                break;
            }
            out.push(*c);
            used += w;
        }
        (out, before_w - skipped_w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits() {
        let mut t = TextInput::new("héllo");
        assert!(t.handle_key(&key(KeyCode::Backspace)));
        assert_eq!(t.text(), "héll");
        t.handle_key(&key(KeyCode::Home));
        t.handle_key(&key(KeyCode::Delete));
        assert_eq!(t.text(), "éll");
        t.handle_key(&key(KeyCode::Char('X')));
        assert_eq!(t.text(), "Xéll");
        t.handle_key(&key(KeyCode::End));
        t.insert_str("o world\n");
        assert_eq!(t.text(), "Xéllo world");
        t.handle_key(&KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(t.text(), "Xéllo ");
        t.handle_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(t.text(), "");
        assert!(!t.handle_key(&key(KeyCode::Enter)));
    }

    #[test]
    fn view_scrolls_to_cursor() {
        let t = TextInput::new("magnet:?xt=urn:btih:0123456789abcdef");
        let (shown, cur) = t.view(10);
        assert_eq!(shown, "3456789abcdef".chars().skip(4).collect::<String>());
        assert_eq!(cur, 9);
        let (shown, cur) = TextInput::new("abc").view(10);
        assert_eq!((shown.as_str(), cur), ("abc", 3));
        assert_eq!(TextInput::new("abc").view(0), (String::new(), 0));
    }
}
