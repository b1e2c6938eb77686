//! The modal dialogs: add, limits, queue, tags, the remove questions and the filter prompt. Each file holds
//! one dialog's state, what its keys do and how it is drawn. A dialog never touches the rest
//! of the app: a key or a paste gives a [`DialogOutcome`], which the app carries out.
//!
//! This file owns what they share: the [`Modal`] the app keeps open, the text-field key
//! tests, and the popup frame with its rows (dropping spacing first when the terminal is
//! short).

mod add;
mod filter;
mod limits;
mod move_root;
mod queue_limits;
mod remove;
mod stop;
mod tags;

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use trove_proto::command::{AddOptions, Command, TorrentSource};
use trove_proto::snapshot::RootInfo;

use crate::action::Action;
use crate::format;
use crate::input::TextInput;
use crate::keymap::{Context, Keymap};
use crate::layout::centered;
use crate::spans::truncate_spans;
use crate::theme::Theme;

pub(crate) use add::AddDialog;
#[cfg(test)]
pub(crate) use add::AddField;
pub(crate) use filter::FilterPrompt;
pub(crate) use limits::LimitsDialog;
pub(crate) use move_root::MoveDialog;
pub(crate) use queue_limits::QueueDialog;
#[cfg(test)]
pub(crate) use queue_limits::QueueField;
pub(crate) use remove::RemoveDialog;
pub(crate) use stop::StopDialog;
pub(crate) use tags::TagsDialog;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Modal {
    Add(AddDialog),
    Limits(LimitsDialog),
    Confirm(RemoveDialog),
    /// Stop the session for every client.
    Stop(StopDialog),
    Tags(TagsDialog),
    /// The `/` prompt in the status line; the table filters as it is typed.
    Filter(FilterPrompt),
    /// The root picker that moves the selected torrent's data.
    Move(MoveDialog),
    /// The queue's limits and the session's seeding goals.
    Queue(QueueDialog),
}

/// What a key or a paste in a dialog asks of the app, which owns everything else.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DialogOutcome {
    /// The dialog stays open, changed or not.
    Stay,
    /// The dialog closes; nothing else happens.
    Close,
    /// The dialog closes and the session runs `command`; `ok` or `failed: <error>` is shown.
    Run {
        command: Command,
        ok: String,
        failed: String,
    },
    /// The dialog closes and the session runs `commands` one after the other (one action
    /// on several marked torrents, or the several settings of one dialog); `ok` or `failed` with the errors is shown at the end.
    RunAll {
        commands: Vec<Command>,
        ok: String,
        failed: String,
    },
    /// The add dialog closes and the torrent is added; `text` and `paused` are what the
    /// dialog offers again if the add fails.
    Add {
        source: TorrentSource,
        options: AddOptions,
        text: String,
        paused: bool,
    },
    /// The filter prompt's text changed: the table filters by it while the prompt stays.
    Filter(String),
    /// The filter prompt closes and the filter is cleared.
    ClearFilter,
    /// The table's cursor moves one row up, the prompt staying open.
    CursorUp,
    /// The table's cursor moves one row down, the prompt staying open.
    CursorDown,
}

/// What the dialogs read from the app besides their own state.
pub(crate) struct Env<'a> {
    pub(crate) keymap: &'a Keymap,
    /// The session's storage roots, which the add dialog offers.
    pub(crate) roots: &'a [RootInfo],
    /// `$HOME`, for `~/` in the add dialog's source.
    pub(crate) home: Option<&'a Path>,
}

impl Modal {
    /// Handles a key pressed while this dialog is open.
    pub(crate) fn handle_key(&mut self, key: &KeyEvent, env: &Env) -> DialogOutcome {
        match self {
            Modal::Add(d) => d.handle_key(key, env),
            Modal::Limits(d) => d.handle_key(key, env.keymap),
            Modal::Confirm(d) => d.handle_key(key, env.keymap),
            Modal::Stop(d) => d.handle_key(key, env.keymap),
            Modal::Tags(d) => d.handle_key(key, env.keymap),
            Modal::Filter(d) => d.handle_key(key, env.keymap),
            Modal::Move(d) => d.handle_key(key, env),
            Modal::Queue(d) => d.handle_key(key, env.keymap),
        }
    }

    /// Takes pasted text into the focused field.
    pub(crate) fn paste(&mut self, text: &str) -> DialogOutcome {
        match self {
            Modal::Add(d) => d.paste(text),
            Modal::Limits(d) => d.paste(text),
            Modal::Confirm(_) | Modal::Stop(_) | Modal::Move(_) => DialogOutcome::Stay,
            Modal::Filter(d) => d.paste(text),
            Modal::Tags(d) => d.paste(text),
            Modal::Queue(d) => d.paste(text),
        }
    }

    /// Draws the dialog as a popup centred on `area` (the whole screen).
    pub(crate) fn draw(&self, frame: &mut Frame, area: Rect, env: &Env, theme: &Theme) {
        match self {
            Modal::Add(d) => d.draw(frame, area, env, theme),
            Modal::Limits(d) => d.draw(frame, area, env.keymap, theme),
            Modal::Confirm(d) => d.draw(frame, area, env.keymap, theme),
            Modal::Stop(d) => d.draw(frame, area, env.keymap, theme),
            Modal::Tags(d) => d.draw(frame, area, env.keymap, theme),
            // Drawn in the status line, by the status line.
            Modal::Filter(_) => {}
            Modal::Move(d) => d.draw(frame, area, env, theme),
            Modal::Queue(d) => d.draw(frame, area, env.keymap, theme),
        }
    }
}

/// A printable character without Ctrl/Alt: text for a focused field.
fn is_typing(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_))
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

/// Cursor and deletion keys of a text field (Ctrl-U, Ctrl-W... included).
fn is_editing(key: &KeyEvent) -> bool {
    match key.code {
        KeyCode::Backspace
        | KeyCode::Delete
        | KeyCode::Left
        | KeyCode::Right
        | KeyCode::Home
        | KeyCode::End => true,
        KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => {
            matches!(c, 'u' | 'k' | 'w' | 'a' | 'e')
        }
        _ => false,
    }
}

/// The key bound to `action`, as the hints show it.
fn key(keymap: &Keymap, ctx: Context, action: Action) -> String {
    keymap
        .key_for(ctx, action)
        .map_or_else(|| "?".to_string(), |k| k.to_string())
}

/// One row of a dialog.
enum Item<'a> {
    /// Spacing, dropped first when rows run short.
    Gap,
    /// An explanation, dropped with the gaps.
    Note(Line<'a>),
    Line(Line<'a>),
    /// A text field: label, input, focused, and what the text means (shown when wide).
    Field {
        label: &'a str,
        input: &'a TextInput,
        focused: bool,
        meaning: Option<Span<'a>>,
    },
}

/// Clears and frames a popup of at most `w` columns, as tall as its rows need; draws the
/// rows and the footer (always on the last row).
#[allow(clippy::too_many_arguments)]
fn popup(
    frame: &mut Frame,
    area: Rect,
    w: u16,
    title: &str,
    border: Style,
    theme: &Theme,
    items: Vec<Item>,
    footer: Line,
) {
    let wanted = items.len() as u16 + 1 + 2;
    let r = centered(area, w, wanted);
    if r.width < 12 || r.height < 3 {
        return;
    }
    frame.render_widget(Clear, r);
    let block = theme
        .block(true)
        .border_style(border)
        .style(theme.popup)
        .title(Line::from(Span::styled(format!(" {title} "), theme.title)));
    let inner = block.inner(r).inner(Margin::new(1, 0));
    frame.render_widget(block, r);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let body_h = inner.height.saturating_sub(1) as usize;
    // Short of rows: gaps go first (from the bottom), then notes.
    let mut items = items;
    while items.len() > body_h {
        let Some(pos) = items
            .iter()
            .rposition(|i| matches!(i, Item::Gap))
            .or_else(|| items.iter().rposition(|i| matches!(i, Item::Note(_))))
        else {
            break;
        };
        items.remove(pos);
    }
    for (i, item) in items.into_iter().take(body_h).enumerate() {
        let row = Rect {
            y: inner.y + i as u16,
            height: 1,
            ..inner
        };
        match item {
            Item::Gap => {}
            Item::Note(line) | Item::Line(line) => frame.render_widget(Paragraph::new(line), row),
            Item::Field {
                label,
                input,
                focused,
                meaning,
            } => field(frame, row, label, input, focused, meaning, theme),
        }
    }
    let width = inner.width as usize;
    let foot = Rect {
        y: inner.bottom() - 1,
        height: 1,
        ..inner
    };
    frame.render_widget(Paragraph::new(truncate_spans(footer.spans, width)), foot);
}

/// `›Label   [text      ]  meaning`; sets the terminal cursor when focused.
fn field(
    frame: &mut Frame,
    row: Rect,
    label: &str,
    input: &TextInput,
    focused: bool,
    meaning: Option<Span>,
    theme: &Theme,
) {
    const LABEL_W: u16 = 11;
    if row.width <= LABEL_W + 2 {
        return;
    }
    let label_style = if focused { theme.key } else { theme.text };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(if focused { "›" } else { " " }, theme.key),
            Span::styled(format::fit(label, (LABEL_W - 1) as usize), label_style),
        ])),
        Rect {
            width: LABEL_W,
            ..row
        },
    );
    let rest = row.width - LABEL_W;
    // Wide dialogs keep room after the box for what the text means.
    let box_w = match &meaning {
        Some(_) if rest >= 40 => 22,
        _ => rest,
    };
    let box_area = Rect {
        x: row.x + LABEL_W,
        width: box_w,
        ..row
    };
    let (shown, cursor) = input.view(box_w.saturating_sub(1) as usize);
    let pad = (box_w as usize).saturating_sub(format::width(&shown));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(shown, theme.input),
            Span::styled(" ".repeat(pad), theme.input),
        ])),
        box_area,
    );
    if let Some(m) = meaning
        && box_w < rest
    {
        frame.render_widget(
            Paragraph::new(m),
            Rect {
                x: box_area.right() + 2,
                width: rest - box_w - 2,
                ..row
            },
        );
    }
    if focused {
        frame.set_cursor_position((box_area.x + cursor as u16, box_area.y));
    }
}

/// `›label` for a switch or a choice, highlighted when focused.
fn choice<'a>(
    label: impl Into<std::borrow::Cow<'a, str>>,
    focused: bool,
    theme: &Theme,
) -> Vec<Span<'a>> {
    vec![
        Span::styled(if focused { "›" } else { " " }, theme.key),
        Span::styled(label, if focused { theme.key } else { theme.text }),
    ]
}
