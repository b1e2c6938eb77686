//! The help screen, generated from the live keymap so it always tells the truth.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::format;
use crate::action::Action;
use crate::app::App;
use crate::keymap::Context;
use crate::layout::centered;
use crate::theme::Theme;

/// The lines of the help screen for some contexts of the current keymap.
fn lines(app: &App, theme: &Theme, width: usize, contexts: &[Context]) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for ctx in contexts {
        let rows = app.keymap.help_rows(*ctx);
        if rows.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::from(Span::styled(
            ctx.title().to_string(),
            theme.title,
        )));
        let key_w = rows
            .iter()
            .map(|(k, _)| format::width(k))
            .max()
            .unwrap_or(0)
            .min(16);
        for (keys, desc) in rows {
            let keys = format::fit(&keys, key_w);
            let desc_w = width.saturating_sub(key_w + 4);
            out.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(keys, theme.key),
                Span::raw("  "),
                Span::styled(format::truncate(&desc, desc_w), theme.text),
            ]));
        }
        if *ctx == Context::Manager {
            out.push(Line::raw(""));
            out.push(Line::from(Span::styled("Reading the table", theme.title)));
            for (what, means) in LEGEND {
                out.push(Line::from(vec![
                    Span::raw("  "),
                    Span::styled(format::fit(what, 8), theme.key),
                    Span::raw("  "),
                    Span::styled(
                        format::truncate(means, width.saturating_sub(12)),
                        theme.text,
                    ),
                ]));
            }
            out.extend(library_lines(app, theme, width));
        }
    }
    out
}

/// What the library view's keys do, as the keymap binds them.
fn library_lines(app: &App, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let key = |a| {
        app.keymap
            .key_for(Context::Manager, a)
            .map_or_else(|| "?".to_string(), |k| k.to_string())
    };
    let rows = [
        (
            key(Action::Roots),
            "opens it: space, each torrent's data on disk, orphans".to_string(),
        ),
        (
            key(Action::Recheck),
            "on a torrent: re-check it (missing data is then fetched)".into(),
        ),
        (
            key(Action::MoveRoot),
            "on a torrent: move its data to another root".into(),
        ),
        (key(Action::Remove), "on a torrent: remove it".into()),
        (
            key(Action::Add),
            "on an orphan: adopt it (give its .torrent or magnet)".into(),
        ),
    ];
    let mut out = vec![
        Line::raw(""),
        Line::from(Span::styled("The library view", theme.title)),
    ];
    for (k, what) in rows {
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(format::fit(&k, 8), theme.key),
            Span::raw("  "),
            Span::styled(
                format::truncate(&what, width.saturating_sub(12)),
                theme.text,
            ),
        ]));
    }
    out
}

/// What the terse marks of the table and the header mean.
const LEGEND: [(&str, &str); 3] = [
    ("Peers", "connected/limit, as 12/80; ∞: no limit"),
    ("main*", "in the header: * marks the default root"),
    ("-", "idle: no rate, or no time left to tell"),
];

/// Column width of one help column.
const COLUMN: u16 = 60;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, top: usize) {
    // Side by side on wide screens: the dashboard keys left, the rest right.
    let two = area.width >= 2 * COLUMN + 5;
    let width = if two { 2 * COLUMN + 3 } else { COLUMN + 18 };
    let popup = centered(area, width, area.height.saturating_sub(2).max(3));
    if popup.width < 3 || popup.height < 3 {
        return;
    }
    frame.render_widget(Clear, popup);
    let close = app
        .keymap
        .key_for(Context::Help, Action::Close)
        .map_or_else(String::new, |k| format!(" {k}: close "));
    let block = theme
        .block(true)
        .style(theme.popup)
        .title(Line::from(Span::styled(" Keys ", theme.title)))
        .title_top(Line::from(Span::styled(close, theme.dim)).right_aligned());
    let inner = block.inner(popup);
    let columns: Vec<(Rect, Vec<Line>)> = if two {
        let left = Rect {
            width: COLUMN,
            ..inner
        };
        let right = Rect {
            x: inner.x + COLUMN + 1,
            width: inner.width.saturating_sub(COLUMN + 1),
            ..inner
        };
        vec![
            (left, lines(app, theme, COLUMN as usize, &Context::ALL[..1])),
            (
                right,
                lines(app, theme, right.width as usize, &Context::ALL[1..]),
            ),
        ]
    } else {
        vec![(
            inner,
            lines(app, theme, inner.width as usize, &Context::ALL),
        )]
    };
    let longest = columns.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    let max = longest.saturating_sub(inner.height as usize);
    let scroll = top.min(max);
    let block = if max > 0 {
        let keys: Vec<String> = [Action::Down, Action::Up]
            .into_iter()
            .filter_map(|a| app.keymap.key_for(Context::Help, a))
            .map(|k| k.to_string())
            .collect();
        let end = (scroll + inner.height as usize).min(longest);
        block.title_bottom(
            Line::from(Span::styled(
                format!(
                    " {}-{end} of {longest} · {} scroll ",
                    scroll + 1,
                    keys.join("/")
                ),
                theme.dim,
            ))
            .right_aligned(),
        )
    } else {
        block
    };
    frame.render_widget(block, popup);
    let scroll = scroll.min(u16::MAX as usize) as u16;
    for (r, lines) in columns {
        frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), r);
    }
}
