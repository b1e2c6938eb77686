//! The session lines at the top: rates, session totals, peers, limits; then the roots.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::{fit_segments, format};
use crate::ui::app::App;
use crate::ui::theme::Theme;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.snapshot;
    let width = area.width as usize;
    let sep = Span::styled(" │ ", theme.dim);
    let mut first = vec![
        vec![
            Span::styled(format!("↓ {}", format::rate(s.download_rate)), theme.download),
            Span::raw("  "),
            Span::styled(format!("↑ {}", format::rate(s.upload_rate)), theme.upload),
        ],
        vec![
            Span::styled("session ", theme.dim),
            Span::styled(format!("↓ {}", format::bytes(s.downloaded_session)), theme.header),
            Span::styled(format!(" ↑ {}", format::bytes(s.uploaded_session)), theme.header),
        ],
        vec![Span::styled(format!("{} peers", s.peers_connected), theme.header)],
        vec![
            Span::styled("limits ", theme.dim),
            Span::styled(
                format!(
                    "↓ {} ↑ {}",
                    format::limit(s.limits.download_bps),
                    format::limit(s.limits.upload_bps)
                ),
                theme.header,
            ),
        ],
    ];
    if let Some(p) = s.limits.peers {
        first[3].push(Span::styled(format!(" · {p} peers"), theme.header));
    }
    first.push(vec![Span::styled(
        format!("{} torrents", s.torrents.len()),
        theme.header,
    )]);
    let mut lines = vec![fit_segments(first, sep, width)];

    if area.height >= 2 {
        let mut roots = vec![vec![Span::styled("roots", theme.dim)]];
        for r in &s.roots {
            let label = format::truncate(&format::sanitize(&r.label), 16);
            let mut seg = vec![Span::styled(label, theme.title)];
            if r.is_default {
                seg.push(Span::styled("*", theme.dim));
            }
            seg.push(Span::raw(" "));
            match (&r.problem, r.free_bytes) {
                (Some(p), _) => seg.push(Span::styled(
                    format!("⚠ {}", format::truncate(&format::sanitize(p), 24)),
                    theme.warn,
                )),
                (None, Some(free)) => {
                    seg.push(Span::styled(format!("{} free", format::bytes(free)), theme.header))
                }
                (None, None) => seg.push(Span::styled("free ?", theme.dim)),
            }
            roots.push(seg);
        }
        lines.push(fit_segments(roots, Span::styled("  ", theme.dim), width));
    }
    frame.render_widget(Paragraph::new(lines).style(theme.header), area);
}
