//! Where each part of the screen goes, computed from plain inputs: the terminal size, the
//! view, the log mode and the focused pane. Shared by drawing and by the app (which needs to
//! know whether the detail pane is visible and how tall a page is); it knows nothing of
//! either, so both can depend on it.
//! Every rectangle is inside the area, and zero-sized parts are `None`, so no drawing code
//! ever sees a negative or overflowing size.

use ratatui::layout::Rect;

/// The parts of the dashboard that can have the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Pane {
    #[default]
    Torrents,
    Details,
    Log,
}

/// Whether the log pane shows, and how much of the screen it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum LogMode {
    #[default]
    Hidden,
    Shown,
    Full,
}

/// The dashboard or the roots list, which takes its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum View {
    #[default]
    Dashboard,
    Roots,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Screen {
    pub(crate) header: Option<Rect>,
    pub(crate) status: Option<Rect>,
    /// Everything between the header and the status line (dialogs centre on the whole area).
    pub(crate) main: Rect,
    pub(crate) torrents: Option<Rect>,
    pub(crate) details: Option<Rect>,
    pub(crate) log: Option<Rect>,
    pub(crate) roots: Option<Rect>,
}

/// Below these heights a pane is not worth drawing next to the others; the focused pane
/// then gets the whole main area and Tab switches between them.
const MIN_TORRENTS: u16 = 5;
const MIN_DETAILS: u16 = 7;
const MIN_LOG: u16 = 4;
/// Main-area rows from which the table, the detail pane and the log are all shown.
const STACK_ALL: u16 = 28;

fn some(r: Rect) -> Option<Rect> {
    (r.width > 0 && r.height > 0).then_some(r)
}

pub(crate) fn screen(area: Rect, view: View, log_mode: LogMode, focus: Pane) -> Screen {
    let mut out = Screen::default();
    if area.width == 0 || area.height == 0 {
        return out;
    }
    let mut rest = area;
    if rest.height >= 3 {
        out.status = some(Rect {
            y: rest.bottom() - 1,
            height: 1,
            ..rest
        });
        rest.height -= 1;
    }
    let header_h = match area.height {
        h if h >= 16 => 2,
        h if h >= 6 => 1,
        _ => 0,
    };
    if header_h > 0 {
        out.header = some(Rect {
            height: header_h,
            ..rest
        });
        rest.y += header_h;
        rest.height -= header_h;
    }
    out.main = rest;
    if rest.height == 0 {
        return out;
    }
    match (view, log_mode) {
        (View::Roots, _) => out.roots = some(rest),
        (View::Dashboard, LogMode::Full) => out.log = some(rest),
        (View::Dashboard, mode) => {
            let h = rest.height;
            let with_log = mode == LogMode::Shown;
            // The table or the detail pane, whichever has (or last had) the focus.
            let top_pane = |out: &mut Screen, r: Rect| match focus {
                Pane::Details => out.details = some(r),
                _ => out.torrents = some(r),
            };
            if with_log && h >= STACK_ALL {
                let log_h = (h / 4).max(MIN_LOG);
                let top = h - log_h;
                let torrents_h = (top / 2).max(MIN_TORRENTS);
                out.torrents = some(Rect {
                    height: torrents_h,
                    ..rest
                });
                out.details = some(Rect {
                    y: rest.y + torrents_h,
                    height: top - torrents_h,
                    ..rest
                });
                out.log = some(Rect {
                    y: rest.y + top,
                    height: log_h,
                    ..rest
                });
            } else if with_log && h >= MIN_TORRENTS + MIN_LOG {
                // Not enough rows for three panes: the log and one other, Tab switches.
                let log_h = (h * 2 / 5).max(MIN_LOG);
                top_pane(
                    &mut out,
                    Rect {
                        height: h - log_h,
                        ..rest
                    },
                );
                out.log = some(Rect {
                    y: rest.y + h - log_h,
                    height: log_h,
                    ..rest
                });
            } else if !with_log && h >= MIN_TORRENTS + MIN_DETAILS {
                let torrents_h = h.div_ceil(2).max(MIN_TORRENTS).min(h - MIN_DETAILS);
                out.torrents = some(Rect {
                    height: torrents_h,
                    ..rest
                });
                out.details = some(Rect {
                    y: rest.y + torrents_h,
                    height: h - torrents_h,
                    ..rest
                });
            } else if focus == Pane::Log && with_log {
                out.log = some(rest);
            } else {
                // Too small to stack: show only the focused pane.
                top_pane(&mut out, rest);
            }
        }
    }
    out
}

/// A centred box of at most `w`×`h`, clamped into `area`.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_stays_inside() {
        for w in 0..=120u16 {
            for h in 0..=60u16 {
                let area = Rect::new(0, 0, w, h);
                for view in [View::Dashboard, View::Roots] {
                    for mode in [LogMode::Hidden, LogMode::Shown, LogMode::Full] {
                        for focus in [Pane::Torrents, Pane::Details, Pane::Log] {
                            let s = screen(area, view, mode, focus);
                            for r in [s.header, s.status, s.torrents, s.details, s.log, s.roots]
                                .into_iter()
                                .flatten()
                            {
                                assert!(
                                    area.contains(r.as_position())
                                        && r.right() <= area.right()
                                        && r.bottom() <= area.bottom(),
                                    "{w}x{h} {r:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn classic_terminal_shows_table_and_details() {
        let s = screen(
            Rect::new(0, 0, 80, 24),
            View::Dashboard,
            LogMode::Hidden,
            Pane::Torrents,
        );
        assert_eq!(s.header.map(|r| r.height), Some(2));
        assert_eq!(s.torrents.map(|r| r.height), Some(11));
        assert_eq!(s.details.map(|r| r.height), Some(10));
        let s = screen(
            Rect::new(0, 0, 40, 12),
            View::Dashboard,
            LogMode::Hidden,
            Pane::Details,
        );
        assert!(s.torrents.is_none() && s.details.is_some());
    }
}
