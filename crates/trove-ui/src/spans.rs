//! Lines of spans fitted to a width: the hint bars and the truncation shared by the panes
//! and the dialogs.

use ratatui::text::{Line, Span};

use super::format;
use super::theme::Theme;

/// Joins `segments` with `sep` while they fit in `width`; the ones that do not fit are left
/// out (the first always goes in, truncated if needed).
pub(crate) fn fit_segments<'a>(
    segments: Vec<Vec<Span<'a>>>,
    sep: Span<'a>,
    width: usize,
) -> Line<'a> {
    let mut spans: Vec<Span<'a>> = Vec::new();
    let mut used = 0;
    for (i, seg) in segments.into_iter().enumerate() {
        let w: usize = seg.iter().map(|s| s.width()).sum();
        let extra = if i == 0 { 0 } else { sep.width() };
        if used + extra + w > width {
            if i == 0 {
                return truncate_spans(seg, width);
            }
            continue;
        }
        if i > 0 {
            spans.push(sep.clone());
        }
        spans.extend(seg);
        used += extra + w;
    }
    Line::from(spans)
}

/// Cuts a line of spans to `width` columns.
pub(crate) fn truncate_spans(spans: Vec<Span<'_>>, width: usize) -> Line<'_> {
    let mut out = Vec::new();
    let mut left = width;
    for s in spans {
        if left == 0 {
            break;
        }
        let w = s.width();
        if w <= left {
            left -= w;
            out.push(s);
        } else {
            out.push(Span::styled(format::truncate(&s.content, left), s.style));
            left = 0;
        }
    }
    Line::from(out)
}

/// `key label` pairs of the hint bar, as spans.
pub(crate) fn hint_spans(hints: &[(String, &str)], theme: &Theme) -> Vec<Vec<Span<'static>>> {
    hints
        .iter()
        .map(|(k, label)| {
            vec![
                Span::styled(k.clone(), theme.key),
                Span::styled(format!(" {label}"), theme.dim),
            ]
        })
        .collect()
}
