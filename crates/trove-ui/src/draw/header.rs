//! The session lines at the top: rates with the limits that cap them and peers; then the
//! totals of this session and the free space of each root.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::format;
use crate::app::App;
use crate::spans::{fit_segments, truncate_spans};
use crate::theme::Theme;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.snapshot;
    let width = area.width as usize;
    let sep = || Span::styled(" │ ", theme.dim);

    let peers = match s.limits.peers {
        Some(max) => format!("{}/{max} peers", s.peers_connected),
        None => format::count(s.peers_connected as usize, "peer"),
    };
    let first = vec![
        vec![
            Span::styled(
                format!("↓ {}", format::rate(s.download_rate)),
                theme.download,
            ),
            Span::raw("  "),
            Span::styled(format!("↑ {}", format::rate(s.upload_rate)), theme.upload),
        ],
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
        vec![Span::styled(peers, theme.header)],
        vec![Span::styled(
            format::count(s.torrents.len(), "torrent"),
            theme.header,
        )],
    ];
    let mut lines = vec![fit_segments(first, sep(), width)];

    if area.height >= 2 {
        let session = vec![
            Span::styled("session ", theme.dim),
            // In the colours of the rates above, as the Lifetime line of the details.
            Span::styled(
                format!("↓ {}", format::bytes(s.downloaded_session)),
                theme.download,
            ),
            Span::raw(" "),
            Span::styled(
                format!("↑ {}", format::bytes(s.uploaded_session)),
                theme.upload,
            ),
        ];
        let session_w: usize = session.iter().map(|s| s.width()).sum();
        // Roots with their problem spelled out when that fits, else just flagged: the roots
        // view (R) and the log have the full story.
        let roots = |long: bool| -> Vec<Vec<Span<'static>>> {
            let mut out = vec![vec![Span::styled("free", theme.dim)]];
            for r in &s.roots {
                let mut seg = vec![Span::styled(
                    format::truncate(&format::sanitize(&r.label), 16),
                    theme.title,
                )];
                if r.is_default {
                    seg.push(Span::styled("*", theme.dim));
                }
                match (&r.problem, r.free_bytes) {
                    (Some(p), _) if long => seg.push(Span::styled(
                        format!(" ⚠ {}", format::truncate(&format::sanitize(p), 24)),
                        theme.warn,
                    )),
                    (Some(_), _) => seg.push(Span::styled(" ⚠", theme.warn)),
                    (None, Some(free)) => seg.push(Span::styled(
                        format!(" {}", format::bytes(free)),
                        theme.header,
                    )),
                    (None, None) => seg.push(Span::styled(" ?", theme.dim)),
                }
                out.push(seg);
            }
            out
        };
        let fits = |segs: &Vec<Vec<Span>>| {
            segs.iter().flatten().map(|s| s.width()).sum::<usize>() + 2 * segs.len()
                <= width.saturating_sub(session_w + 3)
        };
        let long = roots(true);
        let segs = if fits(&long) { long } else { roots(false) };
        let mut second = vec![session];
        if !s.roots.is_empty() {
            // "free main* 1.2 TiB  media 94 GiB" as one segment, cut where it must be.
            let mut joined = Vec::new();
            for (i, seg) in segs.into_iter().enumerate() {
                if i > 0 {
                    joined.push(Span::raw(if i == 1 { " " } else { "  " }));
                }
                joined.extend(seg);
            }
            let room = width.saturating_sub(session_w + 3);
            second.push(truncate_spans(joined, room).spans);
        }
        lines.push(fit_segments(second, sep(), width));
    }
    frame.render_widget(Paragraph::new(lines).style(theme.header), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    #[test]
    fn everything_fits_at_80_columns() {
        let app = fixtures::app(80, 24);
        let theme = Theme::default();
        let mut t = Terminal::new(TestBackend::new(80, 2)).unwrap();
        t.draw(|f| draw(f, f.area(), &app, &theme)).unwrap();
        let text = format!("{}", t.backend());
        for want in [
            "↓ 14.4 MiB/s",
            "↑ 1.55 MiB/s",
            "limits ↓ ∞ ↑ 2.00 MiB/s",
            "67/200 peers",
            "session ↓ 12.3 GiB ↑ 2.10 GiB",
            "main* 1.21 TiB",
            "media 94.2 GiB",
            "usb ⚠",
        ] {
            assert!(text.contains(want), "{want} missing in\n{text}");
        }
    }
}
