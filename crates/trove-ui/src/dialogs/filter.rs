//! The filter prompt: a `/` field in the status line. The table filters as the text is
//! typed; the cursor keys still move through the rows.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{DialogOutcome, key};
use crate::action::Action;
use crate::format;
use crate::input::TextInput;
use crate::keymap::{Context, Keymap};
use crate::spans::{fit_segments, hint_spans};
use crate::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FilterPrompt {
    input: TextInput,
}

impl FilterPrompt {
    /// Opens on the filter already in force, to edit it.
    pub(crate) fn new(text: &str) -> Self {
        FilterPrompt {
            input: TextInput::new(text),
        }
    }

    /// Editing keys change the filter; submit keeps it, cancel clears it.
    pub(super) fn handle_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> DialogOutcome {
        if self.input.handle_key(key) {
            return DialogOutcome::Filter(self.input.text().to_string());
        }
        match keymap.lookup(&[Context::Dialog], key) {
            Some(Action::Submit) => DialogOutcome::Close,
            Some(Action::Cancel) => DialogOutcome::ClearFilter,
            Some(Action::Up) => DialogOutcome::CursorUp,
            Some(Action::Down) => DialogOutcome::CursorDown,
            _ => DialogOutcome::Stay,
        }
    }

    pub(super) fn paste(&mut self, text: &str) -> DialogOutcome {
        self.input.insert_str(text);
        DialogOutcome::Filter(self.input.text().to_string())
    }

    /// Draws the prompt over the status line `area`, with its keys when there is room.
    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let width = area.width as usize;
        let hint = fit_segments(
            hint_spans(
                &[
                    (key(keymap, Context::Dialog, Action::Submit), "keep"),
                    (key(keymap, Context::Dialog, Action::Cancel), "clear"),
                ],
                theme,
            ),
            Span::raw("  "),
            width,
        );
        let hint_w = hint.width();
        // The hints only when the field keeps 20 columns.
        let show_hint = width >= hint_w + 2 + 20;
        let field_w = width.saturating_sub(1 + if show_hint { hint_w + 2 } else { 0 });
        let (shown, cursor) = self.input.view(field_w);
        let pad = field_w.saturating_sub(format::width(&shown));
        let mut spans = vec![
            Span::styled("/", theme.key),
            Span::styled(shown, theme.input),
            Span::raw(" ".repeat(pad)),
        ];
        if show_hint {
            spans.push(Span::raw("  "));
            spans.extend(hint.spans);
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        frame.set_cursor_position((area.x + 1 + cursor.min(field_w) as u16, area.y));
    }
}
