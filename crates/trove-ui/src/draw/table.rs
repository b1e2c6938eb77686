//! The torrent table. Columns drop out as the terminal narrows, least useful first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::{format, message, progress_bar};
use crate::app::App;
use crate::layout::Pane;
use crate::theme::Theme;
use crate::torrents::SortKey;
use trove_proto::snapshot::{TorrentState, TorrentSummary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Size,
    Progress,
    State,
    Down,
    Up,
    Eta,
    Peers,
    Ratio,
    Root,
}

/// The columns and widths for `width` columns of room.
#[derive(Debug, Clone, PartialEq)]
struct Columns {
    cols: Vec<(Col, u16)>,
    short_state: bool,
}

/// What goes first when room runs out: root, ratio, ETA, peers, up rate; then the progress
/// bar shrinks to a percent, the state to a short word, and size, down rate and state go.
#[derive(Clone, Copy)]
enum Step {
    Drop(Col),
    CompactProgress,
    CompactState,
}

const STEPS: [Step; 10] = [
    Step::Drop(Col::Root),
    Step::Drop(Col::Ratio),
    Step::Drop(Col::Eta),
    Step::Drop(Col::Peers),
    Step::Drop(Col::Up),
    Step::CompactProgress,
    Step::CompactState,
    Step::Drop(Col::Size),
    Step::Drop(Col::Down),
    Step::Drop(Col::State),
];

fn columns(width: u16) -> Columns {
    let mut cols = vec![
        (Col::Size, 8),
        (Col::Progress, 12),
        (Col::State, 11),
        (Col::Down, 8),
        (Col::Up, 8),
        (Col::Eta, 6),
        (Col::Peers, 7),
        (Col::Ratio, 5),
        (Col::Root, 10),
    ];
    let mut short_state = false;
    let fixed = |cols: &[(Col, u16)]| -> u16 { cols.iter().map(|(_, w)| w + 1).sum() };
    for (i, step) in std::iter::once(None)
        .chain(STEPS.iter().map(Some))
        .enumerate()
    {
        if let Some(step) = step {
            match *step {
                Step::Drop(c) => cols.retain(|(x, _)| *x != c),
                Step::CompactProgress => {
                    for (c, w) in &mut cols {
                        if *c == Col::Progress {
                            *w = 4;
                        }
                    }
                }
                Step::CompactState => {
                    short_state = true;
                    for (c, w) in &mut cols {
                        if *c == Col::State {
                            *w = 5;
                        }
                    }
                }
            }
        }
        // A name needs room to be recognisable; later steps settle for less.
        let min_name = if i <= 5 { 18 } else { 10 };
        if width.saturating_sub(fixed(&cols)) >= min_name {
            break;
        }
    }
    if fixed(&cols) > width {
        cols.clear();
    }
    let name = width.saturating_sub(fixed(&cols));
    cols.insert(0, (Col::Name, name));
    Columns { cols, short_state }
}

fn header(col: Col) -> (&'static str, Option<SortKey>, bool) {
    // (title, the sort key it shows, right-aligned)
    match col {
        Col::Name => ("Name", Some(SortKey::Name), false),
        Col::Size => ("Size", Some(SortKey::Size), true),
        Col::Progress => ("Progress", Some(SortKey::Progress), false),
        Col::State => ("State", Some(SortKey::State), false),
        Col::Down => ("Down", Some(SortKey::Down), true),
        Col::Up => ("Up", Some(SortKey::Up), true),
        Col::Eta => ("ETA", Some(SortKey::Eta), true),
        Col::Peers => ("Peers", Some(SortKey::Peers), true),
        Col::Ratio => ("Ratio", Some(SortKey::Ratio), true),
        Col::Root => ("Root", Some(SortKey::Root), false),
    }
}

fn short_state(state: TorrentState) -> &'static str {
    match state {
        TorrentState::Downloading => "down",
        TorrentState::Seeding => "seed",
        TorrentState::Paused => "pause",
        TorrentState::Checking => "check",
        TorrentState::Queued => "queue",
        TorrentState::Error => "error",
    }
}

fn right(text: String, width: u16, style: Style) -> Line<'static> {
    Line::from(Span::styled(
        format!(
            "{:>w$}",
            format::truncate(&text, width as usize),
            w = width as usize
        ),
        style,
    ))
}

/// How a row's name shows its mark: only while some torrent is marked, every name gets a
/// two-column gutter, "● " on the marked ones.
#[derive(Clone, Copy, PartialEq)]
enum Mark {
    NoneMarked,
    Marked,
    Unmarked,
}

fn cell(
    t: &TorrentSummary,
    col: Col,
    width: u16,
    short: bool,
    mark: Mark,
    theme: &Theme,
) -> Line<'static> {
    let w = width as usize;
    match col {
        Col::Name => {
            let style = if t.error.is_some() {
                theme.error
            } else {
                theme.text
            };
            let gutter = match mark {
                Mark::NoneMarked => None,
                Mark::Marked => Some(Span::styled("● ", theme.warn)),
                Mark::Unmarked => Some(Span::raw("  ")),
            };
            let name_w = w.saturating_sub(gutter.as_ref().map_or(0, |g| g.width()));
            let name = Span::styled(format::truncate(&format::sanitize(&t.name), name_w), style);
            let name = if mark == Mark::Marked {
                name.patch_style(theme.warn)
            } else {
                name
            };
            Line::from(gutter.into_iter().chain([name]).collect::<Vec<_>>())
        }
        Col::Size => right(
            if t.size == 0 {
                "?".into()
            } else {
                format::bytes(t.size)
            },
            width,
            theme.text,
        ),
        Col::Progress => progress_bar(t.progress, w, theme),
        Col::State => {
            let label = if let Some(m) = &t.moving {
                // A move to another storage root under way.
                if short {
                    format!("mv{}%", m.percent())
                } else {
                    format!("moving {}%", m.percent())
                }
            } else {
                crate::queue::state_text(t, short, short_state(t.state))
            };
            Line::from(Span::styled(label, theme.state(t.state)))
        }
        Col::Down => right(
            format::bytes_rate_short(t.download_rate),
            width,
            if t.download_rate >= 0.5 {
                theme.download
            } else {
                theme.dim
            },
        ),
        Col::Up => right(
            format::bytes_rate_short(t.upload_rate),
            width,
            if t.upload_rate >= 0.5 {
                theme.upload
            } else {
                theme.dim
            },
        ),
        Col::Eta => {
            let text = match t.state {
                TorrentState::Downloading => format::eta(t.eta),
                _ => "-".into(),
            };
            right(text, width, theme.text)
        }
        Col::Peers => {
            let limit = t.peer_limit.map_or("∞".to_string(), |l| l.to_string());
            right(format!("{}/{limit}", t.peers_connected), width, theme.text)
        }
        Col::Ratio => right(format::ratio(t.ratio), width, theme.text),
        Col::Root => Line::from(Span::styled(
            format::truncate(&format::sanitize(&t.root_label), w),
            theme.dim,
        )),
    }
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Pane::Torrents;
    let total = app.snapshot.torrents.len();
    let mut title = vec![Span::styled(
        format!(" Torrents {}/{total} ", app.rows.len()),
        theme.title,
    )];
    let mut right_title = Vec::new();
    if let Some(state) = app.table.state {
        right_title.push(Span::styled(
            format!(" only {} ", state.label()),
            theme.warn,
        ));
    }
    if !app.table.filter().is_empty() {
        right_title.push(Span::styled(
            format!(
                " filter '{}' ",
                format::truncate(&format::sanitize(app.table.filter()), 20)
            ),
            theme.warn,
        ));
    }
    if !app.marks.is_empty() {
        let hidden = app.marks_hidden();
        let text = if hidden > 0 {
            format!(" {} marked, {hidden} hidden ", app.marks.len())
        } else {
            format!(" {} marked ", app.marks.len())
        };
        right_title.push(Span::styled(text, theme.warn));
    }
    let arrow = if app.table.descending { "▼" } else { "▲" };
    right_title.push(Span::styled(
        format!(" sort {} {arrow} ", app.table.sort.label()),
        theme.dim,
    ));
    if area.width < 40 {
        title.truncate(1);
        right_title.clear();
    }
    let block = theme
        .block(focused)
        .title(Line::from(std::mem::take(&mut title)))
        .title_top(Line::from(right_title).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if app.rows.is_empty() {
        let text = if total == 0 {
            let add = app
                .keymap
                .key_for(crate::keymap::Context::Manager, crate::action::Action::Add)
                .map_or_else(String::new, |k| {
                    format!(": press {k} or paste a magnet link")
                });
            format!("No torrents yet{add}")
        } else {
            "Nothing matches the filter (Esc clears it)".to_string()
        };
        message(frame, inner, &text, theme.dim);
        return;
    }
    let layout = columns(inner.width);
    let head = Row::new(layout.cols.iter().map(|(c, w)| {
        let (name, key, align_right) = header(*c);
        let name = if *c == Col::Progress && *w < 8 {
            "Done"
        } else {
            name
        };
        let mut text = name.to_string();
        if key == Some(app.table.sort) {
            text.push_str(arrow);
        }
        let line = if align_right {
            right(text, *w, theme.table_header)
        } else {
            Line::from(Span::styled(
                format::truncate(&text, *w as usize),
                theme.table_header,
            ))
        };
        Cell::from(line)
    }))
    .style(theme.table_header);
    let visible = inner.height.saturating_sub(1) as usize;
    let top = app
        .torrents_scroll
        .update(app.cursor, app.rows.len(), visible);
    let rows = app.rows.iter().skip(top).take(visible).map(|&i| {
        let t = &app.snapshot.torrents[i];
        let mark = if app.marks.is_empty() {
            Mark::NoneMarked
        } else if app.marks.contains(&t.info_hash) {
            Mark::Marked
        } else {
            Mark::Unmarked
        };
        Row::new(
            layout
                .cols
                .iter()
                .map(|(c, w)| Cell::from(cell(t, *c, *w, layout.short_state, mark, theme))),
        )
    });
    let widths: Vec<Constraint> = layout
        .cols
        .iter()
        .map(|(_, w)| Constraint::Length(*w))
        .collect();
    let table = Table::new(rows, widths)
        .header(head)
        .column_spacing(1)
        .row_highlight_style(theme.selection(focused));
    let mut state = TableState::default().with_selected(Some(app.cursor.saturating_sub(top)));
    frame.render_stateful_widget(table, inner, &mut state);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(width: u16) -> Vec<Col> {
        columns(width).cols.iter().map(|(c, _)| *c).collect()
    }

    #[test]
    fn columns_drop_in_order() {
        use Col::*;
        assert_eq!(
            names(158),
            vec![
                Name, Size, Progress, State, Down, Up, Eta, Peers, Ratio, Root
            ]
        );
        assert_eq!(
            names(78),
            vec![Name, Size, Progress, State, Down, Up, Peers]
        );
        assert_eq!(names(38), vec![Name, Progress, State, Down]);
        assert_eq!(names(10), vec![Name, Progress]);
        assert_eq!(names(4), vec![Name]);
        for w in 0..300u16 {
            let c = columns(w);
            let total: u16 = c
                .cols
                .iter()
                .map(|(_, w)| w + 1)
                .sum::<u16>()
                .saturating_sub(1);
            assert!(total <= w || c.cols.len() == 1, "{w}: {c:?}");
        }
    }
}
