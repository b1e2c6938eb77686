//! The library view: per storage root its space, its torrents with the state of their data
//! on disk (and the files concerned when some are missing or changed size), and the
//! orphans, what sits in the root that belongs to no torrent, with their sizes. A cursor
//! runs over torrents and orphans (see `crate::library`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use trove_proto::library::{DataState, LibraryReport};
use trove_proto::snapshot::{RootInfo, TorrentState};

use super::{format, progress_bar};
use crate::action::Action;
use crate::app::App;
use crate::keymap::Context;
use crate::library::Item;
use crate::theme::Theme;

/// Files named under a torrent whose data is missing, at most.
const FILES_SHOWN: usize = 3;

/// A root's first two lines: its label and folder, then its space (or why it is unusable).
pub(super) fn root_head(r: &RootInfo, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut head = vec![Span::styled(format::sanitize(&r.label), theme.title)];
    if r.is_default {
        head.push(Span::styled(" (default)", theme.dim));
    }
    if r.vault {
        head.push(Span::styled(" (vault: encrypted)", theme.dim));
    }
    head.push(Span::raw("  "));
    head.push(Span::raw(format::truncate_start(
        &format::sanitize(&r.path.display().to_string()),
        width.saturating_sub(head.iter().map(|s| s.width()).sum()),
    )));

    let mut space = vec![Span::raw("  ")];
    match (&r.problem, r.free_bytes, r.total_bytes) {
        (Some(p), _, _) => space.push(Span::styled(
            format!("⚠ {}", format::sanitize(p)),
            theme.warn,
        )),
        (None, Some(free), Some(total)) if total > 0 => {
            let used = 1.0 - free as f64 / total as f64;
            space.push(Span::raw(format!(
                "{} free of {}  ",
                format::bytes(free),
                format::bytes(total)
            )));
            let bar_w = width
                .saturating_sub(space.iter().map(|s| s.width()).sum::<usize>() + 6)
                .min(24);
            if bar_w >= 8 {
                space.extend(progress_bar(used, bar_w, theme).spans);
                space.push(Span::styled(" used", theme.dim));
            }
        }
        (None, Some(free), _) => space.push(Span::raw(format!("{} free", format::bytes(free)))),
        (None, None, _) => space.push(Span::styled("free space unknown", theme.dim)),
    }
    vec![Line::from(head), Line::from(space)]
}

fn state_style(data: &DataState, theme: &Theme) -> Style {
    match data {
        DataState::Complete => theme.state(TorrentState::Seeding),
        DataState::Partial => theme.state(TorrentState::Downloading),
        DataState::FilesMissing(_) | DataState::SizeChanged(_) => theme.state(TorrentState::Error),
        DataState::Moving { .. } => theme.state(TorrentState::Checking),
        DataState::NoMetadata => theme.state(TorrentState::Queued),
    }
}

/// The view's key hint: move to a root, re-check, remove, adopt (each as the keymap binds
/// it); the cursor keys go last, as every view has them.
fn hint(app: &App) -> String {
    let key = |a| {
        app.keymap
            .key_for(Context::Manager, a)
            .map(|k| k.to_string())
    };
    let mut parts = Vec::new();
    if let Some(k) = key(Action::MoveRoot) {
        parts.push(format!("{k} move to a root"));
    }
    if let Some(k) = key(Action::Recheck) {
        parts.push(format!("{k} re-check"));
    }
    if let Some(k) = key(Action::Remove) {
        parts.push(format!("{k} remove"));
    }
    if let Some(k) = key(Action::Add) {
        parts.push(format!("{k} adopts an orphan"));
    }
    if let (Some(down), Some(up)) = (key(Action::Down), key(Action::Up)) {
        parts.push(format!("{down}/{up} choose"));
    }
    parts.join(" · ")
}

/// A move under way: the root it goes to, bytes copied and in all. The session's snapshot
/// (a second old at most) wins over the report (read when the view last asked).
fn move_progress(app: &App, hash: &str, data: &DataState) -> Option<(String, u64, u64)> {
    let live = app
        .snapshot
        .torrents
        .iter()
        .find(|t| t.info_hash == hash)
        .and_then(|t| t.moving.as_ref());
    match (live, data) {
        (Some(m), _) => Some((m.to.clone(), m.done, m.total)),
        (
            None,
            DataState::Moving {
                to_root,
                done_bytes,
                total_bytes,
            },
        ) => Some((to_root.clone(), *done_bytes, *total_bytes)),
        _ => None,
    }
}

/// Whole percent of `done` in `total` (a move with nothing to copy is done).
fn percent(done: u64, total: u64) -> u64 {
    (done.saturating_mul(100))
        .checked_div(total)
        .unwrap_or(100)
        .min(100)
}

pub(super) fn draw(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    report: &LibraryReport,
    theme: &Theme,
) {
    let width = area.width as usize;
    let selected = app.library.current();
    let mut lines: Vec<Line> = vec![
        Line::from(Span::styled(format::truncate(&hint(app), width), theme.dim)),
        Line::raw(""),
    ];
    let mut cursor_line = 0;
    for (ri, r) in report.roots.iter().enumerate() {
        let info = RootInfo {
            token: r.token.clone(),
            label: r.label.clone(),
            path: r.path.clone(),
            is_default: r.is_default,
            free_bytes: r.free_bytes,
            total_bytes: r.total_bytes,
            problem: r.problem.clone(),
            origin: Default::default(),
            vault: r.vault,
        };
        lines.extend(root_head(&info, width, theme));
        if r.torrents.is_empty() {
            lines.push(Line::from(Span::styled("  no torrents", theme.dim)));
        } else {
            let total: u64 = r.torrents.iter().map(|t| t.size).sum();
            lines.push(Line::from(Span::styled(
                format!(
                    "  {}, {}",
                    format::count(r.torrents.len(), "torrent"),
                    format::bytes(total)
                ),
                theme.dim,
            )));
        }
        // "  ▸ name…  size state": the state column is 13 wide, the size 8.
        let name_w = width.saturating_sub(4 + 1 + 8 + 1 + 13);
        for (ti, t) in r.torrents.iter().enumerate() {
            let here = selected
                == Some(Item::Torrent {
                    root: ri,
                    index: ti,
                });
            if here {
                cursor_line = lines.len();
            }
            let size = if t.size == 0 {
                "?".to_string()
            } else {
                format::bytes(t.size)
            };
            let moving = move_progress(app, &t.info_hash, &t.data);
            let state = match &moving {
                Some((_, done, total)) => format!("moving {}%", percent(*done, *total)),
                None => t.data.label().to_string(),
            };
            let state_style = if moving.is_some() {
                theme.state(TorrentState::Checking)
            } else {
                state_style(&t.data, theme)
            };
            let line = Line::from(vec![
                Span::raw(if here { "  ▸ " } else { "    " }),
                Span::raw(format::fit(&format::sanitize(&t.name), name_w)),
                Span::raw(format!(" {size:>8} ")),
                Span::styled(state, state_style),
            ]);
            lines.push(if here {
                line.style(theme.selection(true))
            } else {
                line
            });
            if let Some((to, done, total)) = &moving {
                // "moving to media: 2.40 GiB of 5.68 GiB  ████████░░░░░░░  42%"
                let text = format!(
                    "      moving to {}: {} of {}  ",
                    format::sanitize(to),
                    format::bytes(*done),
                    format::bytes(*total)
                );
                let style = theme.state(TorrentState::Checking);
                let bar_w = width.saturating_sub(format::width(&text) + 1).min(24);
                let spans = if bar_w >= 12 {
                    let ratio = if *total == 0 {
                        1.0
                    } else {
                        *done as f64 / *total as f64
                    };
                    let mut spans = vec![Span::styled(text, style)];
                    spans.extend(progress_bar(ratio, bar_w, theme).spans);
                    spans
                } else {
                    let text = format!("{text}{}%", percent(*done, *total));
                    vec![Span::styled(format::truncate(&text, width), style)]
                };
                lines.push(Line::from(spans));
            }
            if let Some(m) = t.data.problem() {
                let files = format::missing_files(m).collect::<Vec<_>>();
                for f in files.iter().take(FILES_SHOWN) {
                    lines.push(Line::from(Span::styled(
                        format::truncate(&format!("      {f}"), width),
                        theme.warn,
                    )));
                }
                if files.len() > FILES_SHOWN {
                    lines.push(Line::from(Span::styled(
                        format!("      … and {} more", files.len() - FILES_SHOWN),
                        theme.warn,
                    )));
                }
            }
        }
        if !r.orphans.is_empty() {
            let total: u64 = r.orphans.iter().map(|o| o.bytes).sum();
            lines.push(Line::from(Span::styled(
                format!(
                    "  not part of any torrent: {}, {}",
                    format::count(r.orphans.len(), "item"),
                    format::bytes(total)
                ),
                theme.dim,
            )));
            for (oi, o) in r.orphans.iter().enumerate() {
                let here = selected
                    == Some(Item::Orphan {
                        root: ri,
                        index: oi,
                    });
                if here {
                    cursor_line = lines.len();
                }
                let name = format!(
                    "{}{}",
                    format::sanitize(&o.name),
                    if o.is_dir { "/" } else { "" }
                );
                let line = Line::from(vec![
                    Span::raw(if here { "  ▸ " } else { "    " }),
                    Span::raw(format::fit(&name, name_w)),
                    Span::raw(format!(" {:>8} ", format::bytes(o.bytes))),
                    Span::styled("orphan", theme.dim),
                ]);
                lines.push(if here {
                    line.style(theme.selection(true))
                } else {
                    line
                });
            }
        }
        lines.push(Line::raw(""));
    }
    if let Some(e) = &app.library.error {
        lines.push(Line::from(Span::styled(
            format!(
                "⚠ the library could not be read again: {}",
                format::sanitize(e)
            ),
            theme.warn,
        )));
    }
    // Keep the cursor's row in sight, with a line of what follows it when there is one.
    let height = area.height as usize;
    let max = lines.len().saturating_sub(height);
    let scroll = (cursor_line + 2).saturating_sub(height).min(max) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), area);
}
