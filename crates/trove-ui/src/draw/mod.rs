//! Drawing: a pure function of the app state and the theme. Nothing here changes what the
//! app shows; the only state touched is scroll memory (`Cell`s) so lists do not jump.
//!
//! Every part gets a rectangle from [`layout::screen`](super::layout::screen) and must draw
//! inside it at any size, zero included.

mod details;
mod header;
mod help;
mod library;
mod log;
mod roots;
mod status;
mod table;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::app::App;
use super::format;
use super::layout;
use super::theme::Theme;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    frame.buffer_mut().set_style(area, theme.screen);
    let screen = layout::screen(area, app.view, app.log_mode, app.focus);
    if let Some(r) = screen.header {
        header::draw(frame, r, app, theme);
    }
    if let Some(r) = screen.torrents {
        table::draw(frame, r, app, theme);
    }
    if let Some(r) = screen.details {
        details::draw(frame, r, app, theme);
    }
    if let Some(r) = screen.log {
        log::draw(frame, r, app, theme);
    }
    if let Some(r) = screen.roots {
        roots::draw(frame, r, app, theme);
    }
    if let Some(r) = screen.status {
        status::draw(frame, r, app, theme);
    }
    if let Some(top) = app.help {
        help::draw(frame, area, app, theme, top);
    }
    if let Some(modal) = &app.modal {
        modal.draw(frame, area, &app.dialog_env(), theme);
    }
}

/// A progress bar `█████░░░ 45%` of exactly `width` columns (just the percent when narrow).
fn progress_bar(progress: f64, width: usize, theme: &Theme) -> Line<'static> {
    let pct = format::percent(progress);
    if width < 8 {
        return Line::from(Span::raw(format!("{pct:>w$}", w = width)));
    }
    let bar = width - 5;
    let p = if progress.is_finite() {
        progress.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // Never a full bar before the end, never an empty one after the first byte.
    let mut filled = (p * bar as f64).floor() as usize;
    if p > 0.0 && filled == 0 {
        filled = 1;
    }
    if p < 1.0 && filled == bar {
        filled = bar - 1;
    }
    Line::from(vec![
        Span::styled("█".repeat(filled), theme.progress_filled),
        Span::styled("░".repeat(bar - filled), theme.progress_empty),
        Span::raw(format!("{pct:>5}")),
    ])
}

/// A dim, centred (when there is room) message in an empty pane.
fn message(frame: &mut Frame, area: Rect, text: &str, style: Style) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let y = area.y + area.height.saturating_sub(1) / 2;
    let para = Paragraph::new(Line::from(Span::styled(text.to_string(), style)).centered())
        .wrap(Wrap { trim: true });
    frame.render_widget(
        para,
        Rect {
            y,
            height: area.bottom() - y,
            ..area
        },
    );
}
