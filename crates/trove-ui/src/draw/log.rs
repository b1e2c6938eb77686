//! The log pane: newest line at the bottom, following unless scrolled. Full screen, each
//! line is wrapped so it can be read whole; in the pane, lines are cut to one row.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{format, message};
use crate::app::App;
use crate::layout::{LogMode, Pane};
use crate::theme::Theme;
use trove_proto::log::LogLine;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Pane::Log;
    let lines = app.shown_log();
    let mut title = vec![
        Span::styled(" Log ", theme.title),
        Span::styled(format!("{}+ ", app.log_level.label()), theme.dim),
    ];
    if app.log_torrent_only {
        let name = app
            .selected_summary()
            .map_or("no torrent".to_string(), |t| {
                format::truncate(&format::sanitize(&t.name), 24)
            });
        title.push(Span::styled(format!("· {name} "), theme.warn));
    }
    let follow = if app.log_anchor.is_none() {
        Span::styled(" following ", theme.dim)
    } else {
        Span::styled(" scrolled: G follows ", theme.warn)
    };
    let block = theme
        .block(focused)
        .title(Line::from(title))
        .title_top(Line::from(follow).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if lines.is_empty() {
        message(frame, inner, "No log lines at this level", theme.dim);
        return;
    }
    let height = inner.height as usize;
    let top = app.log_top(&lines, height);
    let width = inner.width as usize;
    let show_target = width >= 100;
    if app.log_mode == LogMode::Full {
        let rows = wrapped(
            &lines,
            top,
            app.log_anchor.is_none(),
            height,
            width,
            show_target,
            theme,
        );
        frame.render_widget(Paragraph::new(rows), inner);
        return;
    }
    let text: Vec<Line> = lines[top..(top + height).min(lines.len())]
        .iter()
        .map(|l| {
            let mut spans = prefix(l, show_target, theme);
            let used: usize = spans.iter().map(|s| s.width()).sum();
            spans.push(Span::styled(
                format::truncate(&format::sanitize(&l.message), width.saturating_sub(used)),
                theme.text,
            ));
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(text), inner);
}

/// The prefix of a log row: time, level and (when wide) the target.
fn prefix(l: &LogLine, show_target: bool, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = vec![
        Span::styled(l.time.format("%H:%M:%S ").to_string(), theme.dim),
        Span::styled(
            format!("{:<5} ", l.level.label().to_uppercase()),
            theme.level(l.level),
        ),
    ];
    if show_target {
        spans.push(Span::styled(
            format!("{} ", format::truncate(&format::sanitize(&l.target), 28)),
            theme.dim,
        ));
    }
    spans
}

/// Whole lines, wrapped under their prefix, filling `height` rows: the last lines when
/// following, else from line `top` on.
fn wrapped(
    lines: &[&LogLine],
    top: usize,
    follow: bool,
    height: usize,
    width: usize,
    show_target: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let rows_of = |l: &LogLine| -> Vec<Line<'static>> {
        let head = prefix(l, show_target, theme);
        let used: usize = head.iter().map(|s| s.width()).sum();
        let pieces = format::wrap(
            &format::sanitize(&l.message),
            width.saturating_sub(used).max(8),
        );
        let mut out = Vec::with_capacity(pieces.len());
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut spans = if i == 0 {
                head.clone()
            } else {
                vec![Span::raw(" ".repeat(used))]
            };
            spans.push(Span::styled(piece, theme.text));
            out.push(Line::from(spans));
        }
        out
    };
    if follow {
        let mut rows: Vec<Line> = Vec::new();
        for l in lines.iter().rev() {
            let mut r = rows_of(l);
            r.append(&mut rows);
            rows = r;
            if rows.len() >= height {
                break;
            }
        }
        let skip = rows.len().saturating_sub(height);
        rows.into_iter().skip(skip).collect()
    } else {
        lines[top..]
            .iter()
            .flat_map(|l| rows_of(l))
            .take(height)
            .collect()
    }
}
