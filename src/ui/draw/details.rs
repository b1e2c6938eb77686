//! The detail pane of the selected torrent: Overview, Files, Peers, Pieces, Trackers.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Cell, Chart, Dataset, GraphType, Paragraph, Row, Table, TableState};

use super::{format, message, progress_bar};
use crate::engine::snapshot::{Limits, TorrentDetails, TorrentSummary};
use crate::ui::action::DetailTab;
use crate::ui::app::{App, Pane};
use crate::ui::theme::Theme;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Pane::Details;
    let mut tabs = Vec::new();
    let full: usize = DetailTab::ALL.iter().map(|t| t.label().len() + 5).sum();
    if (area.width as usize) >= full + 4 {
        for t in DetailTab::ALL {
            let style = if t == app.tab {
                theme.tab_active
            } else {
                theme.tab
            };
            tabs.push(Span::raw(" "));
            tabs.push(Span::styled(format!("{} {}", t.number(), t.label()), style));
            tabs.push(Span::raw(" "));
        }
    } else {
        tabs.push(Span::styled(
            format!(" {} {} ", app.tab.number(), app.tab.label()),
            theme.tab_active,
        ));
        tabs.push(Span::styled("1-5 ", theme.dim));
    }
    let block = theme.block(focused).title(Line::from(tabs));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let Some(summary) = app.selected_summary() else {
        message(frame, inner, "No torrent selected", theme.dim);
        return;
    };
    let details = app
        .details
        .as_ref()
        .filter(|d| d.summary.info_hash == summary.info_hash);
    if app.tab != DetailTab::Overview && details.is_none() {
        let text = match &app.details_error {
            Some(e) => format!("Cannot read the details: {e}"),
            None => "Loading…".to_string(),
        };
        let style = if app.details_error.is_some() {
            theme.error
        } else {
            theme.dim
        };
        message(frame, inner, &text, style);
        return;
    }
    match (app.tab, details) {
        (DetailTab::Overview, d) => overview(frame, inner, app, summary, d, theme),
        (DetailTab::Files, Some(d)) => files(frame, inner, app, d, focused, theme),
        (DetailTab::Peers, Some(d)) => peers(frame, inner, app, d, theme),
        (DetailTab::Pieces, Some(d)) => pieces(frame, inner, d, theme),
        (DetailTab::Trackers, Some(d)) => trackers(frame, inner, app, d, theme),
        _ => {}
    }
}

fn kv<'a>(key: &'a str, value: Vec<Span<'a>>, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("{key:<10}"), theme.dim)];
    spans.extend(value);
    Line::from(spans)
}

fn limits_text(own: Limits) -> String {
    let rate = |v: Option<u64>| v.map_or("session".to_string(), |b| format::limit(Some(b)));
    let peers = own.peers.map_or("session".to_string(), |p| p.to_string());
    format!(
        "↓ {}  ↑ {}  peers {peers}",
        rate(own.download_bps),
        rate(own.upload_bps)
    )
}

fn overview(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    t: &TorrentSummary,
    d: Option<&TorrentDetails>,
    theme: &Theme,
) {
    let mut lines = vec![kv(
        "Name",
        vec![Span::styled(format::sanitize(&t.name), theme.text)],
        theme,
    )];
    let mut state = vec![
        Span::styled(t.state.label(), theme.state(t.state)),
        Span::raw(format!(
            " · {:.1}%",
            (t.progress.clamp(0.0, 1.0) * 100.0 * 10.0).floor() / 10.0
        )),
    ];
    if t.eta.is_some() && t.state == crate::engine::snapshot::TorrentState::Downloading {
        state.push(Span::raw(format!(" · ETA {}", format::eta(t.eta))));
    }
    lines.push(kv("State", state, theme));
    if let Some(e) = &t.error {
        lines.push(kv(
            "Error",
            vec![Span::styled(format::sanitize(e), theme.error)],
            theme,
        ));
    }
    lines.push(kv(
        "Rates",
        vec![
            Span::styled(
                format!("↓ {}", format::rate(t.download_rate)),
                theme.download,
            ),
            Span::raw("  "),
            Span::styled(format!("↑ {}", format::rate(t.upload_rate)), theme.upload),
            Span::raw(format!(
                "  · peers {}/{}",
                t.peers_connected,
                t.peer_limit.map_or("∞".to_string(), |l| l.to_string())
            )),
        ],
        theme,
    ));
    let size = if t.size == 0 {
        "unknown until the metadata arrives".to_string()
    } else {
        format!(
            "{} · {} selected · {} done",
            format::bytes(t.size),
            format::bytes(t.selected_bytes),
            format::bytes(t.have_bytes)
        )
    };
    lines.push(kv("Size", vec![Span::raw(size)], theme));
    lines.push(kv("Hash", vec![Span::raw(t.info_hash.clone())], theme));
    let path = d.map_or_else(
        || "…".to_string(),
        |d| format::sanitize(&d.save_path.display().to_string()),
    );
    lines.push(kv(
        "Saved in",
        vec![
            Span::raw(path),
            Span::styled(
                format!(" (root {})", format::sanitize(&t.root_label)),
                theme.dim,
            ),
        ],
        theme,
    ));
    if let Some(d) = d
        && d.pieces.count > 0
    {
        lines.push(kv(
            "Pieces",
            vec![Span::raw(format!(
                "{} × {}",
                d.pieces.count,
                format::bytes(d.piece_length)
            ))],
            theme,
        ));
    }
    lines.push(kv(
        "Added",
        vec![Span::raw(format::timestamp(t.added_at))],
        theme,
    ));
    lines.push(kv(
        "Completed",
        vec![Span::raw(
            t.completed_at.map_or("-".to_string(), format::timestamp),
        )],
        theme,
    ));
    lines.push(kv(
        "Lifetime",
        vec![
            Span::styled(
                format!("↓ {}", format::bytes(t.downloaded_total)),
                theme.download,
            ),
            Span::raw("  "),
            Span::styled(
                format!("↑ {}", format::bytes(t.uploaded_total)),
                theme.upload,
            ),
            Span::raw(format!("  · ratio {}", format::ratio(t.ratio))),
        ],
        theme,
    ));
    lines.push(kv("Limits", vec![Span::raw(limits_text(t.limits))], theme));

    // The graph goes beside the text when wide, below it when tall, nowhere when small.
    let (text_area, graph_area) = if area.width >= 100 && area.height >= 5 {
        let text_w = (area.width / 2).max(50);
        (
            Rect {
                width: text_w,
                ..area
            },
            Some(Rect {
                x: area.x + text_w + 1,
                width: area.width - text_w - 1,
                ..area
            }),
        )
    } else if area.height as usize >= lines.len() + 6 {
        let text_h = lines.len() as u16;
        (
            Rect {
                height: text_h,
                ..area
            },
            Some(Rect {
                y: area.y + text_h,
                height: area.height - text_h,
                ..area
            }),
        )
    } else {
        (area, None)
    };
    let max_scroll = lines.len().saturating_sub(text_area.height as usize);
    let scroll = app.detail_scroll.min(max_scroll) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), text_area);
    if let (Some(g), Some(d)) = (graph_area, d) {
        rate_graph(frame, g, &d.download_history, &d.upload_history, theme);
    }
}

/// Download and upload rates over the last five minutes.
fn rate_graph(frame: &mut Frame, area: Rect, down: &[f64], up: &[f64], theme: &Theme) {
    if area.width < 20 || area.height < 4 {
        return;
    }
    let n = down.len().max(up.len());
    if n < 2 {
        message(frame, area, "No rate history yet", theme.dim);
        return;
    }
    let clean = |v: f64| if v.is_finite() && v > 0.0 { v } else { 0.0 };
    // Right-aligned: the newest sample is "now" whichever history is shorter.
    let points = |h: &[f64]| -> Vec<(f64, f64)> {
        let offset = n - h.len();
        h.iter()
            .enumerate()
            .map(|(i, v)| ((offset + i) as f64, clean(*v)))
            .collect()
    };
    let down_pts = points(down);
    let up_pts = points(up);
    // Headroom above the peak, and the axis says what the top line is worth.
    let top = down_pts
        .iter()
        .chain(&up_pts)
        .map(|p| p.1)
        .fold(0.0_f64, f64::max)
        .max(1024.0)
        * 1.1;
    let span_label = if n >= 120 {
        format!("-{}m", n / 60)
    } else {
        format!("-{n}s")
    };
    let chart = Chart::new(vec![
        Dataset::default()
            .name("↓ down")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.download)
            .data(&down_pts),
        Dataset::default()
            .name("↑ up")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.upload)
            .data(&up_pts),
    ])
    .x_axis(
        Axis::default()
            .bounds([0.0, (n - 1) as f64])
            .labels([
                Span::styled(span_label, theme.dim),
                Span::styled("now", theme.dim),
            ])
            .style(theme.border),
    )
    .y_axis(
        Axis::default()
            .bounds([0.0, top])
            .labels([
                Span::styled("0", theme.dim),
                Span::styled(format!("{}/s", format::bytes(top as u64)), theme.dim),
            ])
            .style(theme.border),
    )
    .legend_position(Some(ratatui::widgets::LegendPosition::TopLeft))
    .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(60)));
    frame.render_widget(chart, area);
}

fn files(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    d: &TorrentDetails,
    focused: bool,
    theme: &Theme,
) {
    let rows = crate::ui::files::tree(&d.files);
    if rows.is_empty() {
        message(
            frame,
            area,
            "No files known yet (waiting for the metadata)",
            theme.dim,
        );
        return;
    }
    let selected: Vec<_> = d.files.iter().filter(|f| f.selected).collect();
    let sel_bytes: u64 = selected.iter().map(|f| f.size).sum();
    let toggle_key = app
        .keymap
        .key_for(
            crate::ui::keymap::Context::Files,
            crate::ui::action::Action::ToggleFile,
        )
        .map_or_else(String::new, |k| format!(" · {k}: download/skip"));
    let summary = Line::from(vec![Span::styled(
        format!(
            "{} files · {} selected ({}){}",
            d.files.len(),
            selected.len(),
            format::bytes(sel_bytes),
            if focused {
                toggle_key
            } else {
                " · Tab here to pick files".to_string()
            }
        ),
        theme.dim,
    )]);
    frame.render_widget(Paragraph::new(summary), Rect { height: 1, ..area });
    let area = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    if area.height == 0 {
        return;
    }
    let size_w = 8u16;
    let prog_w = if area.width >= 60 { 16 } else { 4 };
    let name_w = area.width.saturating_sub(size_w + prog_w + 2);
    let visible = area.height as usize;
    let cursor = app.file_cursor.min(rows.len() - 1);
    let top = app.files_scroll.update(cursor, rows.len(), visible);
    let table_rows = rows.iter().skip(top).take(visible).map(|r| {
        let indent = "  ".repeat(r.depth.min(8));
        let (mark, style) = if r.is_dir {
            ("▾ ", theme.title)
        } else {
            ("", theme.text)
        };
        let check_style = match r.selection {
            crate::ui::files::Selection::None => theme.dim,
            _ => theme.text,
        };
        let name = format!("{indent}{} {mark}{}", r.selection.checkbox(), r.name);
        let name_line = Line::from(vec![Span::styled(
            format::truncate(&name, name_w as usize),
            if r.selection == crate::ui::files::Selection::None {
                check_style
            } else {
                style
            },
        )]);
        Row::new(vec![
            Cell::from(name_line),
            Cell::from(Line::from(format::bytes(r.size)).right_aligned()),
            Cell::from(progress_bar(r.progress(), prog_w as usize, theme)),
        ])
    });
    let table = Table::new(
        table_rows,
        [
            Constraint::Length(name_w),
            Constraint::Length(size_w),
            Constraint::Length(prog_w),
        ],
    )
    .column_spacing(1)
    .row_highlight_style(theme.selection(focused));
    let mut state = TableState::default().with_selected(Some(cursor - top));
    frame.render_stateful_widget(table, area, &mut state);
}

fn peers(frame: &mut Frame, area: Rect, app: &App, d: &TorrentDetails, theme: &Theme) {
    if d.peers.is_empty() {
        message(frame, area, "No peers connected", theme.dim);
        return;
    }
    let mut peers: Vec<_> = d.peers.iter().collect();
    // Busiest first, so the peers that matter are on the first page.
    peers.sort_by(|a, b| {
        (b.download_rate + b.upload_rate)
            .total_cmp(&(a.download_rate + a.upload_rate))
            .then_with(|| a.addr.cmp(&b.addr))
    });
    let wide = area.width >= 90;
    let mut widths = vec![
        Constraint::Length(21),
        Constraint::Min(8),
        Constraint::Length(8),
        Constraint::Length(8),
    ];
    let mut head = vec!["Address", "Client", "Down", "Up"];
    if wide {
        widths.extend([
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(12),
        ]);
        head.extend(["Fetched", "Sent", "State"]);
    }
    let visible = area.height.saturating_sub(1) as usize;
    let scroll = app.detail_scroll.min(peers.len().saturating_sub(visible));
    let rows = peers.iter().skip(scroll).take(visible).map(|p| {
        let mut cells = vec![
            Cell::from(format::sanitize(&p.addr)),
            Cell::from(format::sanitize(p.client.as_deref().unwrap_or("?"))),
            Cell::from(
                Line::styled(format::bytes_rate_short(p.download_rate), theme.download)
                    .right_aligned(),
            ),
            Cell::from(
                Line::styled(format::bytes_rate_short(p.upload_rate), theme.upload).right_aligned(),
            ),
        ];
        if wide {
            cells.push(Cell::from(
                Line::from(format::bytes(p.downloaded)).right_aligned(),
            ));
            cells.push(Cell::from(
                Line::from(format::bytes(p.uploaded)).right_aligned(),
            ));
            cells.push(Cell::from(Span::styled(
                format::sanitize(&p.state),
                theme.dim,
            )));
        }
        Row::new(cells)
    });
    let header = Row::new(head.into_iter().enumerate().map(|(i, h)| {
        let line = Line::from(h);
        Cell::from(if (2..=5).contains(&i) {
            line.right_aligned()
        } else {
            line
        })
    }))
    .style(theme.table_header);
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

fn pieces(frame: &mut Frame, area: Rect, d: &TorrentDetails, theme: &Theme) {
    let count = d.pieces.count as usize;
    if count == 0 {
        message(
            frame,
            area,
            "No pieces known yet (waiting for the metadata)",
            theme.dim,
        );
        return;
    }
    let have = (0..d.pieces.count).filter(|&i| d.pieces.has(i)).count();
    let head = Line::from(vec![
        Span::styled(format!("{have}/{count} pieces"), theme.text),
        Span::styled(
            format!(
                " ({}) · {} each · █ have ▒ part ░ some · missing",
                format::percent(have as f64 / count as f64),
                format::bytes(d.piece_length)
            ),
            theme.dim,
        ),
    ]);
    frame.render_widget(Paragraph::new(head), Rect { height: 1, ..area });
    let map = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    let cells = map.width as usize * map.height as usize;
    if cells == 0 {
        return;
    }
    // One cell per piece when they fit, else each cell sums an even share of pieces.
    let used = cells.min(count);
    let buf = frame.buffer_mut();
    for c in 0..used {
        let start = c * count / used;
        let end = ((c + 1) * count / used).max(start + 1);
        let got = (start..end).filter(|&i| d.pieces.has(i as u32)).count();
        let frac = got as f64 / (end - start) as f64;
        let (sym, style): (&str, Style) = if got == end - start {
            ("█", theme.piece_have)
        } else if got == 0 {
            ("·", theme.piece_missing)
        } else if frac >= 2.0 / 3.0 {
            ("▓", theme.piece_have)
        } else if frac >= 1.0 / 3.0 {
            ("▒", theme.piece_have)
        } else {
            ("░", theme.piece_have)
        };
        let x = map.x + (c % map.width as usize) as u16;
        let y = map.y + (c / map.width as usize) as u16;
        if let Some(cell) = buf.cell_mut((x, y)) {
            cell.set_symbol(sym).set_style(style);
        }
    }
}

fn trackers(frame: &mut Frame, area: Rect, app: &App, d: &TorrentDetails, theme: &Theme) {
    if d.trackers.is_empty() {
        message(
            frame,
            area,
            "No trackers: peers come from DHT and peer exchange",
            theme.dim,
        );
        return;
    }
    let visible = area.height.saturating_sub(1) as usize;
    let scroll = app
        .detail_scroll
        .min(d.trackers.len().saturating_sub(visible));
    let status_w = (area.width / 3).clamp(6, 40);
    let rows = d.trackers.iter().skip(scroll).take(visible).map(|t| {
        let lower = t.status.to_lowercase();
        let style = if lower.contains("error") || lower.contains("fail") {
            theme.error
        } else {
            theme.text
        };
        Row::new(vec![
            Cell::from(format::sanitize(&t.url)),
            Cell::from(Span::styled(format::sanitize(&t.status), style)),
        ])
    });
    let header = Row::new(vec!["URL", "Status"]).style(theme.table_header);
    frame.render_widget(
        Table::new(rows, [Constraint::Min(10), Constraint::Length(status_w)])
            .header(header)
            .column_spacing(1),
        area,
    );
}
