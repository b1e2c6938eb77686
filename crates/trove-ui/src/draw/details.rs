//! The detail pane of the selected torrent: Overview, Files, Peers, Pieces, Trackers.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Cell, Chart, Dataset, GraphType, Paragraph, Row, Table, TableState};

use super::{format, message, progress_bar};
use crate::action::{Action, DetailTab};
use crate::app::App;
use crate::keymap::Context;
use crate::layout::Pane;
use crate::theme::Theme;
use trove_proto::snapshot::{Limits, TorrentDetails, TorrentSummary};

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

/// `key` and `text` wrapped to `width` columns, the lines after the first indented under
/// the value, so a long error or path can be read whole.
fn kv_wrapped(
    key: &str,
    text: &str,
    style: Style,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let value_w = width.saturating_sub(KEY_W).max(8);
    format::wrap(text, value_w)
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let head = if i == 0 {
                format!("{key:<KEY_W$}")
            } else {
                " ".repeat(KEY_W)
            };
            Line::from(vec![
                Span::styled(head, theme.dim),
                Span::styled(piece, style),
            ])
        })
        .collect()
}

/// Width of the key column of the Overview.
const KEY_W: usize = 10;

/// A key of the dashboard as the help shows it, or `?` when the user unbound it.
fn manager_key(app: &App, action: Action) -> String {
    app.keymap
        .key_for(Context::Manager, action)
        .map_or_else(|| "?".to_string(), |k| k.to_string())
}

/// What a user can do about a torrent in error, with the keys that do it.
fn error_remedies(app: &App) -> String {
    format!(
        "{} retry · {} re-check the data · {} remove · {} Files: change the selection",
        manager_key(app, Action::PauseResume),
        manager_key(app, Action::Recheck),
        manager_key(app, Action::Remove),
        manager_key(app, Action::Tab(DetailTab::Files)),
    )
}

/// A peer limit for people: `∞` is no limit at all.
pub(crate) fn peer_limit(limit: Option<u32>) -> String {
    limit.map_or("∞".to_string(), |l| l.to_string())
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
    // The graph goes beside the text when wide, below it when tall, nowhere when small.
    let wide = area.width >= 100 && area.height >= 5;
    let text_w = if wide {
        (area.width / 2).max(50)
    } else {
        area.width
    };
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
    if t.eta.is_some() && t.state == trove_proto::snapshot::TorrentState::Downloading {
        state.push(Span::raw(format!(" · ETA {}", format::eta(t.eta))));
    }
    lines.push(kv("State", state, theme));
    // Where it stands in the queue and how far its seeding goals are: near the top, so
    // they show on a small terminal too.
    if let Some(q) = &t.queue {
        lines.push(kv(
            "Queue",
            vec![Span::raw(crate::queue::queue_text(q))],
            theme,
        ));
        for (i, g) in crate::queue::goal_lines(q).into_iter().enumerate() {
            let key = if i == 0 { "Goals" } else { "" };
            lines.push(kv(key, vec![Span::raw(g)], theme));
        }
    }
    if let Some(e) = &t.error {
        let w = text_w as usize;
        lines.extend(kv_wrapped(
            "Error",
            &format::sanitize(e),
            theme.error,
            w,
            theme,
        ));
        if t.state == trove_proto::snapshot::TorrentState::Error {
            lines.extend(kv_wrapped(
                "What now",
                &error_remedies(app),
                theme.text,
                w,
                theme,
            ));
        }
    }
    // Data gone behind trove's back: every file concerned, one a line.
    if let Some(m) = &t.missing_data {
        let files = format::missing_files(m);
        for (i, f) in files.enumerate() {
            lines.push(kv(
                if i == 0 { "Data" } else { "" },
                vec![Span::styled(f, theme.warn)],
                theme,
            ));
        }
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
                "  · peers {} of {} allowed",
                t.peers_connected,
                peer_limit(t.peer_limit)
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
    let saved = format!("{path} (root {})", format::sanitize(&t.root_label));
    lines.extend(kv_wrapped(
        "Saved in",
        &saved,
        Style::default(),
        text_w as usize,
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
    // Kept in a vault: the decrypted-chunk cache all vault torrents share.
    if let Some(c) = d.and_then(|d| d.vault_cache) {
        let hit = c.hit_rate().map_or("no reads yet".to_string(), |r| {
            format!("{:.0}% hits", r * 100.0)
        });
        lines.push(kv(
            "Vault",
            vec![Span::raw(format!(
                "encrypted · cache {} of {} ({} pinned) · {hit}",
                format::bytes(c.bytes),
                format::bytes(c.capacity_bytes),
                format::bytes(c.pinned_bytes)
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
    if !t.tags.is_empty() {
        let tags = format::sanitize(&t.tags.join(", "));
        lines.extend(kv_wrapped(
            "Tags",
            &tags,
            Style::default(),
            text_w as usize,
            theme,
        ));
    }

    let (text_area, graph_area) = if wide {
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
        rate_graph(frame, g, d, theme);
    }
}

/// Seconds the rate graph spans, at least.
const GRAPH_SECONDS: u64 = 300;

/// Download and upload rates over the last five minutes. Samples are grouped by absolute
/// time (see [`buckets`]), so the graph moves one whole step every few seconds and in
/// between only its newest point changes: a slow SSH link carries a few cells a second
/// instead of the whole graph.
fn rate_graph(frame: &mut Frame, area: Rect, d: &TorrentDetails, theme: &Theme) {
    if area.width < 20 || area.height < 4 {
        return;
    }
    let (down, up) = (&d.download_history, &d.upload_history);
    if down.len().max(up.len()) < 2 {
        message(frame, area, "No rate history yet", theme.dim);
        return;
    }
    let top = nice_ceiling(
        down.iter()
            .chain(up)
            .copied()
            .map(clean)
            .fold(0.0, f64::max)
            * 1.1,
    );
    let top_label = format!("{}/s", format::bytes(top as u64));
    // The plot is what the y labels and the axis line leave; braille has 2 dots a column.
    let plot_width = area
        .width
        .saturating_sub(format::width(&top_label) as u16 + 1)
        .max(1);
    let dots = u64::from(plot_width) * 2;
    let secs = GRAPH_SECONDS.div_ceil(dots).max(1);
    let columns = GRAPH_SECONDS.div_ceil(secs);
    let down_pts = buckets(down, d.history_clock, secs, columns);
    let up_pts = buckets(up, d.history_clock, secs, columns);
    let window = columns * secs;
    let span_label = if window >= 120 {
        format!("-{}m", window / 60)
    } else {
        format!("-{window}s")
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
            .bounds([0.0, columns.saturating_sub(1) as f64])
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
                Span::styled(top_label, theme.dim),
            ])
            .style(theme.border),
    )
    .legend_position(Some(ratatui::widgets::LegendPosition::TopLeft))
    .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(60)));
    frame.render_widget(chart, area);
}

fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

/// The smallest round rate (1, 1.5, 2, 3, 4, 5, 6, 8 times a power of ten, in KiB/MiB/...
/// per second, at least 1 KiB/s) not below `v`: a top line that stays put while rates
/// wobble, with at most 50% headroom.
pub(crate) fn nice_ceiling(v: f64) -> f64 {
    let mut unit = 1024.0_f64;
    loop {
        for decade in [1.0, 10.0, 100.0] {
            for step in [1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0] {
                if step * decade * unit >= v {
                    return step * decade * unit;
                }
            }
        }
        if unit > 1e18 {
            return v;
        }
        unit *= 1024.0;
    }
}

/// Per-second `history` (oldest first, ending at second `clock` of the engine's history
/// clock) averaged into buckets of `secs` seconds aligned to that clock, as points
/// (column, mean) with the newest bucket in column `columns - 1`. The newest bucket may be
/// partial (its mean is over the seconds it has so far); an older one that the history
/// covers only in part is left out, or it would change every second as samples age out.
pub(crate) fn buckets(history: &[f64], clock: u64, secs: u64, columns: u64) -> Vec<(f64, f64)> {
    let len = history.len() as u64;
    if len == 0 || columns == 0 {
        return Vec::new();
    }
    let secs = secs.max(1);
    let clock = clock.max(len);
    let newest = (clock - 1) / secs;
    let mut sums = vec![(0.0_f64, 0u64); columns as usize];
    for (i, v) in history.iter().enumerate() {
        let age = newest - (clock - len + i as u64) / secs;
        if age < columns {
            let slot = &mut sums[(columns - 1 - age) as usize];
            slot.0 += clean(*v);
            slot.1 += 1;
        }
    }
    sums.iter()
        .enumerate()
        .filter(|(col, (_, n))| *n == secs || (*n > 0 && *col as u64 == columns - 1))
        .map(|(col, (sum, n))| (col as f64, sum / *n as f64))
        .collect()
}

fn files(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    d: &TorrentDetails,
    focused: bool,
    theme: &Theme,
) {
    let rows = app.file_rows();
    if rows.is_empty() {
        no_metadata(frame, area, "files", d, theme);
        return;
    }
    let selected: Vec<_> = d.files.iter().filter(|f| f.selected).collect();
    let sel_bytes: u64 = selected.iter().map(|f| f.size).sum();
    let toggle_key = app
        .keymap
        .key_for(
            crate::keymap::Context::Files,
            crate::action::Action::ToggleFile,
        )
        .map_or_else(String::new, |k| format!(" · {k}: download/skip"));
    let fold_key = app
        .keymap
        .key_for(crate::keymap::Context::Files, Action::Fold)
        .filter(|_| rows.iter().any(|r| r.is_dir))
        .map_or_else(String::new, |k| format!(" · {k}: fold"));
    let toggle_key = format!("{toggle_key}{fold_key}");
    let summary = Line::from(vec![Span::styled(
        format!(
            "{} · {} selected ({}){}",
            format::count(d.files.len(), "file"),
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
            (if r.folded { "▸ " } else { "▾ " }, theme.title)
        } else {
            ("", theme.text)
        };
        let check_style = match r.selection {
            crate::files::Selection::None => theme.dim,
            _ => theme.text,
        };
        let name = format!("{indent}{} {mark}{}", r.selection.checkbox(), r.name);
        let name_line = Line::from(vec![Span::styled(
            format::truncate(&name, name_w as usize),
            if r.selection == crate::files::Selection::None {
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
        no_metadata(frame, area, "pieces", d, theme);
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

/// Files and Pieces before the metadata is known: waiting for it, or, for a torrent in
/// error, nothing waits and the error says why.
fn no_metadata(frame: &mut Frame, area: Rect, what: &str, d: &TorrentDetails, theme: &Theme) {
    let t = &d.summary;
    if t.state == trove_proto::snapshot::TorrentState::Error {
        let why = t
            .error
            .as_deref()
            .map_or_else(|| "no reason given".to_string(), format::sanitize);
        let lines: Vec<Line> = format::wrap(
            &format!("No {what} shown: the torrent is in error ({why})."),
            area.width as usize,
        )
        .into_iter()
        .map(|l| Line::styled(l, theme.error))
        .collect();
        frame.render_widget(Paragraph::new(lines), area);
    } else {
        message(
            frame,
            area,
            &format!("No {what} known yet (waiting for the metadata)"),
            theme.dim,
        );
    }
}

fn trackers(frame: &mut Frame, area: Rect, app: &App, d: &TorrentDetails, theme: &Theme) {
    if d.trackers.is_empty() {
        // The dashboard cannot know whether DHT or peer exchange are on: say only what is.
        message(
            frame,
            area,
            "No trackers for this torrent: peers can only come from DHT, peer exchange or peers given when it was added",
            theme.dim,
        );
        return;
    }
    let visible = area.height.saturating_sub(1) as usize;
    let scroll = app
        .detail_scroll
        .min(d.trackers.len().saturating_sub(visible));
    // The last error gets a column only when a tracker has one, and room to be read.
    let any_error = d.trackers.iter().any(|t| t.last_error.is_some());
    let status_w = (area.width / 3).clamp(6, 40);
    let peers_w = 6u16;
    let error_w = if any_error {
        (area.width / 3).clamp(10, 60)
    } else {
        0
    };
    let rows = d.trackers.iter().skip(scroll).take(visible).map(|t| {
        let lower = t.status.to_lowercase();
        let style = if lower.contains("error") || lower.contains("fail") {
            theme.error
        } else {
            theme.text
        };
        let peers = t.peers_received.map_or("-".to_string(), |n| n.to_string());
        let mut cells = vec![
            Cell::from(format::sanitize(&t.url)),
            Cell::from(Span::styled(format::sanitize(&t.status), style)),
            Cell::from(Line::from(peers).right_aligned()),
        ];
        if any_error {
            cells.push(Cell::from(Span::styled(
                t.last_error
                    .as_deref()
                    .map_or_else(String::new, format::sanitize),
                theme.error,
            )));
        }
        Row::new(cells)
    });
    let mut head = vec![
        Cell::from("URL"),
        Cell::from("Status"),
        Cell::from(Line::from("Peers").right_aligned()),
    ];
    let mut widths = vec![
        Constraint::Min(10),
        Constraint::Length(status_w),
        Constraint::Length(peers_w),
    ];
    if any_error {
        head.push(Cell::from("Last error"));
        widths.push(Constraint::Length(error_w));
    }
    let header = Row::new(head).style(theme.table_header);
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last five minutes of a made-up rate history, as the engine reports it at `clock`.
    fn history_at(clock: u64) -> Vec<f64> {
        (clock.saturating_sub(300)..clock)
            .map(|s| ((s * 7919) % 1000) as f64 * 1024.0)
            .collect()
    }

    #[test]
    fn graph_moves_one_whole_bucket_at_a_time() {
        let (secs, columns) = (4, 75);
        let mut shifts = 0;
        for clock in 1000..1040 {
            let before = buckets(&history_at(clock), clock, secs, columns);
            let after = buckets(&history_at(clock + 1), clock + 1, secs, columns);
            let (old, new) = (
                before.split_last().unwrap().1,
                after.split_last().unwrap().1,
            );
            if clock % secs == 0 {
                // A new bucket began: everything moved one column left, values kept.
                shifts += 1;
                let moved: Vec<_> = old.iter().skip(1).map(|(c, v)| (c - 1.0, *v)).collect();
                assert_eq!(&moved[..], &new[..old.len() - 1], "clock {clock}");
            } else {
                // Within a bucket only the newest point may change.
                assert_eq!(old, new, "clock {clock}");
            }
        }
        assert_eq!(shifts, 10);
    }

    #[test]
    fn buckets_average_and_skip_partial_old_ones() {
        // Seconds 0..10 in buckets of 4: [0,4) [4,8) full, [8,10) newest and partial.
        let h: Vec<f64> = (0..10).map(|s| s as f64).collect();
        assert_eq!(
            buckets(&h, 10, 4, 10),
            vec![(7.0, 1.5), (8.0, 5.5), (9.0, 8.5)]
        );
        // History starting mid-bucket: the first, partial bucket is left out.
        assert_eq!(buckets(&h[2..], 10, 4, 10), vec![(8.0, 5.5), (9.0, 8.5)]);
        assert!(buckets(&[], 5, 4, 10).is_empty());
    }

    #[test]
    fn top_line_is_a_round_rate() {
        assert_eq!(nice_ceiling(0.0), 1024.0);
        assert_eq!(nice_ceiling(1500.0), 1536.0);
        assert_eq!(nice_ceiling(130.0 * 1024.0 * 1.1), 150.0 * 1024.0);
        assert_eq!(nice_ceiling(900.0 * 1024.0), 1024.0 * 1024.0);
        assert_eq!(nice_ceiling(3.1 * 1024.0 * 1024.0), 4.0 * 1024.0 * 1024.0);
    }
}
