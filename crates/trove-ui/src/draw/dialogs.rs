//! The modal dialogs: add, limits and the remove questions. Each is a list of rows with a
//! key-hint footer; when the terminal is short, blank and explanatory rows go first.

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{fit_segments, format, hint_spans};
use crate::action::Action;
use crate::app::App;
use crate::dialog::{AddDialog, AddField, Confirm, LimitsDialog, LimitsField, Modal};
use crate::input::TextInput;
use crate::keymap::Context;
use crate::layout::centered;
use crate::theme::Theme;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, modal: &Modal) {
    match modal {
        Modal::Add(d) => add(frame, area, app, theme, d),
        Modal::Limits(d) => limits(frame, area, app, theme, d),
        Modal::Confirm(c) => confirm(frame, area, app, theme, c),
        // Drawn in the status line.
        Modal::Filter(_) => {}
    }
}

fn key(app: &App, ctx: Context, action: Action) -> String {
    app.keymap
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
    frame.render_widget(
        Paragraph::new(super::truncate_spans(footer.spans, width)),
        foot,
    );
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

fn choice<'a>(label: &'a str, focused: bool, theme: &Theme) -> Vec<Span<'a>> {
    vec![
        Span::styled(if focused { "›" } else { " " }, theme.key),
        Span::styled(label, if focused { theme.key } else { theme.text }),
    ]
}

fn add(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, d: &AddDialog) {
    let roots = &app.snapshot.roots;
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
            input: &d.source,
            focused: d.focus == AddField::Source,
            meaning: None,
        },
    ];
    if !d.candidates.is_empty() {
        let names: Vec<Vec<Span>> = d
            .candidates
            .iter()
            .map(|c| vec![Span::styled(format::sanitize(c), theme.dim)])
            .collect();
        let mut line = vec![Span::raw(" ".repeat(11))];
        line.extend(fit_segments(names, Span::raw("  "), width.saturating_sub(11)).spans);
        items.push(Item::Line(Line::from(line)));
    }
    items.push(Item::Gap);
    let mut save = choice("Save to", d.focus == AddField::Root, theme);
    save.push(Span::styled(
        if d.focus == AddField::Root {
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
    let chosen = d.root_index(roots);
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
            theme.selection(d.focus == AddField::Root)
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
    let mut paused = choice(
        if d.paused {
            "[x] Start paused"
        } else {
            "[ ] Start paused"
        },
        d.focus == AddField::Paused,
        theme,
    );
    paused.push(Span::styled(
        "  then choose files in the Files tab",
        theme.dim,
    ));
    items.push(Item::Line(Line::from(paused)));
    if let Some(e) = &d.error {
        items.push(Item::Line(Line::styled(e.clone(), theme.error)));
    }
    items.push(Item::Gap);
    let footer = fit_segments(
        hint_spans(
            &[
                (key(app, Context::Dialog, Action::Submit), "add"),
                (key(app, Context::Dialog, Action::Cancel), "cancel"),
                (
                    key(app, Context::Dialog, Action::NextField),
                    "complete/next",
                ),
                (key(app, Context::Dialog, Action::Toggle), "paused"),
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

fn limits(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, d: &LimitsDialog) {
    let w = 68u16.min(area.width);
    let width = w.saturating_sub(4) as usize;
    let scope_focused = d.focus == LimitsField::Scope;
    let mut scope = choice("For", scope_focused, theme);
    scope.push(Span::raw(" ".repeat(7)));
    match &d.torrent {
        Some((_, name, _)) => {
            let on = |b: bool| if b { "(•) " } else { "( ) " };
            let name_w = width.saturating_sub(11 + 4 + 2 + 2 + 4 + 12);
            scope.push(Span::raw(on(!d.is_global)));
            scope.push(Span::raw(if name_w >= 8 {
                format!("'{}'", format::truncate(name, name_w))
            } else {
                "this torrent".to_string()
            }));
            scope.push(Span::raw("  "));
            scope.push(Span::raw(on(d.is_global)));
            scope.push(Span::raw("all torrents"));
        }
        None => scope.push(Span::raw("all torrents (no torrent selected)")),
    }
    let unlimited = if d.is_global || d.torrent.is_none() {
        "no limit"
    } else {
        "the session's"
    };
    let rate_meaning = |input: &TextInput| match format::parse_rate(input.text()) {
        Ok(None) => Span::styled(unlimited, theme.dim),
        Ok(Some(b)) => Span::styled(format!("= {}/s", format::bytes(b)), theme.dim),
        Err(_) => Span::styled("not a rate", theme.error),
    };
    let peers_meaning = match format::parse_peers(d.peers.text()) {
        Ok(None) => Span::styled(unlimited, theme.dim),
        Ok(Some(p)) => Span::styled(format!("= {p} peers"), theme.dim),
        Err(_) => Span::styled("not a number", theme.error),
    };
    let mut items = vec![
        Item::Line(Line::from(scope)),
        Item::Gap,
        Item::Field {
            label: "Download",
            input: &d.down,
            focused: d.focus == LimitsField::Down,
            meaning: Some(rate_meaning(&d.down)),
        },
        Item::Field {
            label: "Upload",
            input: &d.up,
            focused: d.focus == LimitsField::Up,
            meaning: Some(rate_meaning(&d.up)),
        },
        Item::Field {
            label: "Peers",
            input: &d.peers,
            focused: d.focus == LimitsField::Peers,
            meaning: Some(peers_meaning),
        },
        Item::Gap,
        Item::Note(Line::styled(
            "Rates like 500KiB, 2MiB or 1.5MB; empty or 0: no limit.",
            theme.dim,
        )),
    ];
    if !d.is_global && d.torrent.is_some() {
        items.push(Item::Note(Line::styled(
            "A torrent without its own limit follows the session's.",
            theme.dim,
        )));
    }
    if let Some(e) = &d.error {
        items.push(Item::Line(Line::styled(
            format::truncate(e, width),
            theme.error,
        )));
    }
    items.push(Item::Gap);
    let footer = fit_segments(
        hint_spans(
            &[
                (key(app, Context::Dialog, Action::Submit), "apply"),
                (key(app, Context::Dialog, Action::Cancel), "cancel"),
                (key(app, Context::Dialog, Action::NextField), "next"),
                (key(app, Context::Dialog, Action::Toggle), "torrent/all"),
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

fn confirm(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, c: &Confirm) {
    let (title, border, question, detail) = if c.delete_data {
        (
            " Delete torrent and data ",
            theme.error,
            vec![
                Span::raw("Remove "),
                Span::styled(format!("'{}'", c.name), theme.title),
                Span::raw(" and "),
                Span::styled("DELETE", theme.error),
                Span::raw(format!(
                    " its {} of data from root {}?",
                    format::bytes(c.size),
                    c.root_label
                )),
            ],
            Span::styled(
                "The files are deleted from disk. This cannot be undone.",
                theme.warn,
            ),
        )
    } else {
        (
            " Remove torrent ",
            theme.border_focused,
            vec![
                Span::raw("Remove "),
                Span::styled(format!("'{}'", c.name), theme.title),
                Span::raw(format!(" ({}) from trove?", format::bytes(c.size))),
            ],
            Span::styled("Its data stays on disk.", theme.dim),
        )
    };
    let r = centered(area, 62, 10);
    if r.width < 12 || r.height < 3 {
        return;
    }
    frame.render_widget(Clear, r);
    let block = theme
        .block(true)
        .border_style(border)
        .style(theme.popup)
        .title(Line::from(Span::styled(title, theme.title)));
    let inner = block.inner(r).inner(Margin::new(1, 0));
    frame.render_widget(block, r);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let width = inner.width as usize;
    let yes = key(app, Context::Confirm, Action::Confirm);
    let no = key(app, Context::Confirm, Action::Cancel);
    let hints = hint_spans(
        &[
            (yes, if c.delete_data { "delete" } else { "remove" }),
            (no, "keep"),
        ],
        theme,
    );
    let lines = vec![Line::from(question), Line::raw(""), Line::from(detail)];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }),
        Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        },
    );
    frame.render_widget(
        Paragraph::new(fit_segments(hints, Span::raw("   "), width).centered()),
        Rect {
            y: inner.bottom() - 1,
            height: 1,
            ..inner
        },
    );
}
