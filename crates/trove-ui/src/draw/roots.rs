//! The roots view: each storage root, its space, and the torrents stored in it; once the
//! session's library report is in, the library view (see `library`) takes its place.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{format, message};
use crate::action::Action;
use crate::app::App;
use crate::keymap::Context;
use crate::theme::Theme;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let back: Vec<String> = [Action::Roots, Action::Close]
        .into_iter()
        .filter_map(|a| app.keymap.key_for(Context::Manager, a))
        .map(|k| k.to_string())
        .collect();
    let block = theme
        .block(true)
        .title(Line::from(Span::styled(
            if app.library.report.is_some() {
                " Library "
            } else {
                " Storage roots "
            },
            theme.title,
        )))
        .title_top(
            Line::from(Span::styled(
                format!(" {}: back ", back.join("/")),
                theme.dim,
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if let Some(report) = &app.library.report {
        super::library::draw(frame, inner, app, report, theme);
        return;
    }
    let s = &app.snapshot;
    if s.roots.is_empty() {
        message(frame, inner, "No storage roots configured", theme.dim);
        return;
    }
    let width = inner.width as usize;
    // The header's free-space line is terse ("main* 1.2 TiB", "usb ⚠", "usb ?"): its marks
    // are explained here, where the roots are.
    let mut lines: Vec<Line> = vec![
        Line::from(Span::styled(
            "* default root (new torrents go there) · ⚠ not usable · ? free space unknown",
            theme.dim,
        )),
        Line::raw(""),
    ];
    for r in &s.roots {
        lines.extend(super::library::root_head(r, width, theme));

        let torrents: Vec<_> = s
            .torrents
            .iter()
            .filter(|t| t.root_token == r.token)
            .collect();
        if torrents.is_empty() {
            lines.push(Line::from(Span::styled("  no torrents", theme.dim)));
        } else {
            let total: u64 = torrents.iter().map(|t| t.size).sum();
            lines.push(Line::from(Span::styled(
                format!(
                    "  {}, {}",
                    format::count(torrents.len(), "torrent"),
                    format::bytes(total)
                ),
                theme.dim,
            )));
            for t in torrents {
                // "    name…  size state": the state column is 11 wide, the size 8.
                let name_w = width.saturating_sub(4 + 1 + 8 + 1 + 11);
                let size = if t.size == 0 {
                    "?".to_string()
                } else {
                    format::bytes(t.size)
                };
                lines.push(Line::from(vec![
                    Span::raw("    "),
                    Span::raw(format::fit(&format::sanitize(&t.name), name_w)),
                    Span::raw(format!(" {size:>8} ")),
                    Span::styled(t.state.label(), theme.state(t.state)),
                ]));
            }
        }
        lines.push(Line::raw(""));
    }
    let max = lines.len().saturating_sub(inner.height as usize);
    let scroll = app.roots_scroll.min(max) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}
