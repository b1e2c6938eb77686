//! The queue dialog: how many torrents may download, seed and be active at once, after how
//! long a torrent that moves nothing stops holding a slot, and the session's seeding goals
//! (those of every torrent without goals of its own). It opens on the session's current
//! values and sends only what was changed, so a value the config file sets stays the
//! file's until the user changes it here.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use trove_proto::command::Command;
use trove_proto::queue::{GoalAction, QueueLimits, SeedingGoals, duration_input, parse_duration};

use super::{DialogOutcome, Item, choice, is_editing, is_typing, key, popup};
use crate::action::Action;
use crate::format;
use crate::input::TextInput;
use crate::keymap::{Context, Keymap};
use crate::queue::span;
use crate::spans::{fit_segments, hint_spans};
use crate::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueField {
    Downloads,
    Seeds,
    Torrents,
    SlowAfter,
    Ratio,
    SeedingTime,
    IdleTime,
    Action,
}

impl QueueField {
    const ORDER: [QueueField; 8] = [
        QueueField::Downloads,
        QueueField::Seeds,
        QueueField::Torrents,
        QueueField::SlowAfter,
        QueueField::Ratio,
        QueueField::SeedingTime,
        QueueField::IdleTime,
        QueueField::Action,
    ];

    /// The label the dialog shows, which its error messages name too.
    fn label(self) -> &'static str {
        match self {
            QueueField::Downloads => "Downloads",
            QueueField::Seeds => "Seeds",
            QueueField::Torrents => "Torrents",
            QueueField::SlowAfter => "Slow for",
            QueueField::Ratio => "Ratio",
            QueueField::SeedingTime => "Seed time",
            QueueField::IdleTime => "Idle time",
            QueueField::Action => "Then",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueDialog {
    /// The session's values when the dialog opened: what "changed" is measured against.
    limits: QueueLimits,
    goals: Option<SeedingGoals>,
    pub(crate) downloads: TextInput,
    seeds: TextInput,
    torrents: TextInput,
    slow_after: TextInput,
    ratio: TextInput,
    seeding_time: TextInput,
    idle_time: TextInput,
    pub(crate) action: GoalAction,
    pub(crate) focus: QueueField,
    pub(crate) error: Option<String>,
}

/// Empty, `0`, `none`, `off`, `-` or `∞`: no limit, no goal.
fn is_blank(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || t == "∞"
        || t == "-"
        || matches!(
            t.to_ascii_lowercase().as_str(),
            "0" | "none" | "off" | "unlimited"
        )
}

/// The typed text as an error message quotes it: printable, and short enough that the
/// message fits the dialog.
fn shown(text: &str) -> String {
    format::truncate(&format::sanitize(text.trim()), 24)
}

/// A goal set to nothing is the same as no goals.
fn normalized(goals: Option<SeedingGoals>) -> Option<SeedingGoals> {
    goals.filter(|g| !g.is_empty())
}

/// `2`: at most two at once; empty or 0: no limit.
fn parse_count(field: QueueField, text: &str) -> Result<u32, String> {
    if is_blank(text) {
        return Ok(0);
    }
    text.trim().parse::<u32>().map_err(|_| {
        format!(
            "{}: '{}' is not a number of torrents: type a whole number, or 0 for no limit.",
            field.label(),
            shown(text)
        )
    })
}

/// A duration (`90`, `45s`, `30m`, `2h`, `7d`); empty or 0: none.
fn parse_secs(field: QueueField, text: &str) -> Result<Option<u64>, String> {
    if is_blank(text) {
        return Ok(None);
    }
    parse_duration(text)
        .map(|s| (s > 0).then_some(s))
        .map_err(|_| {
            format!(
                "{}: '{}' is not a duration: type seconds or a number with s, m, h or d \
                 (90, 30m, 2h), or leave it empty for none.",
                field.label(),
                shown(text)
            )
        })
}

/// A ratio above 0; empty: none.
fn parse_ratio(text: &str) -> Result<Option<f64>, String> {
    if is_blank(text) {
        return Ok(None);
    }
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(Some(r)),
        _ => Err(format!(
            "{}: '{}' is not a ratio: type a number above 0 like 1.5, or leave it empty for none.",
            QueueField::Ratio.label(),
            shown(text)
        )),
    }
}

/// A count as the field shows it: empty when there is no limit.
fn count_input(n: u32) -> String {
    if n == 0 { String::new() } else { n.to_string() }
}

fn secs_input(s: Option<u64>) -> String {
    s.map(duration_input).unwrap_or_default()
}

impl QueueDialog {
    /// Opens on the session's queue limits and seeding goals.
    pub(crate) fn new(limits: QueueLimits, goals: Option<SeedingGoals>) -> Self {
        let g = goals.unwrap_or_default();
        let input = |text: String| {
            let mut i = TextInput::default();
            i.set(&text);
            i
        };
        QueueDialog {
            limits,
            goals,
            downloads: input(count_input(limits.max_active_downloads)),
            seeds: input(count_input(limits.max_active_seeds)),
            torrents: input(count_input(limits.max_active_torrents)),
            slow_after: input(secs_input(limits.slow_after_secs)),
            // `to_string` writes the shortest text that reads back as the same number.
            ratio: input(g.ratio.map(|r| r.to_string()).unwrap_or_default()),
            seeding_time: input(secs_input(g.seeding_secs)),
            idle_time: input(secs_input(g.idle_secs)),
            action: g.action,
            focus: QueueField::Downloads,
            error: None,
        }
    }

    fn next_field(&mut self, forward: bool) {
        let order = QueueField::ORDER;
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    fn field_mut(&mut self) -> Option<&mut TextInput> {
        match self.focus {
            QueueField::Downloads => Some(&mut self.downloads),
            QueueField::Seeds => Some(&mut self.seeds),
            QueueField::Torrents => Some(&mut self.torrents),
            QueueField::SlowAfter => Some(&mut self.slow_after),
            QueueField::Ratio => Some(&mut self.ratio),
            QueueField::SeedingTime => Some(&mut self.seeding_time),
            QueueField::IdleTime => Some(&mut self.idle_time),
            QueueField::Action => None,
        }
    }

    fn toggle_action(&mut self) {
        self.action = match self.action {
            GoalAction::Pause => GoalAction::Remove,
            GoalAction::Remove => GoalAction::Pause,
        };
    }

    /// The limits and goals typed, or the first bad field's message.
    fn parse(&self) -> Result<(QueueLimits, Option<SeedingGoals>), String> {
        let limits = QueueLimits {
            max_active_downloads: parse_count(QueueField::Downloads, self.downloads.text())?,
            max_active_seeds: parse_count(QueueField::Seeds, self.seeds.text())?,
            max_active_torrents: parse_count(QueueField::Torrents, self.torrents.text())?,
            slow_after_secs: parse_secs(QueueField::SlowAfter, self.slow_after.text())?,
        };
        let goals = SeedingGoals {
            ratio: parse_ratio(self.ratio.text())?,
            seeding_secs: parse_secs(QueueField::SeedingTime, self.seeding_time.text())?,
            idle_secs: parse_secs(QueueField::IdleTime, self.idle_time.text())?,
            action: self.action,
        };
        Ok((limits, normalized(Some(goals))))
    }

    /// The commands for what changed, run one after the other: the queue limits, the
    /// session's goals, both, or none (the dialog just closes).
    fn outcome(&self, limits: QueueLimits, goals: Option<SeedingGoals>) -> DialogOutcome {
        let limits_changed = limits != self.limits;
        let goals_changed = goals != normalized(self.goals);
        let what = match (limits_changed, goals_changed) {
            (true, true) => "queue limits and seeding goals",
            (true, false) => "queue limits",
            (false, true) => "seeding goals",
            (false, false) => return DialogOutcome::Close,
        };
        let mut commands = Vec::new();
        if limits_changed {
            commands.push(Command::SetQueueLimits(limits));
        }
        if goals_changed {
            commands.push(Command::SetGoals { id: None, goals });
        }
        let mut ok = format!("{what} set.");
        ok[..1].make_ascii_uppercase();
        DialogOutcome::RunAll {
            commands,
            ok,
            failed: format!("Setting the {what} failed"),
        }
    }

    /// Typing edits the focused field; on the "Then" row Space, Left and Right switch
    /// between pause and remove; the keymap's dialog keys move between rows, apply or cancel.
    pub(super) fn handle_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> DialogOutcome {
        if let Some(field) = self.field_mut()
            && (is_typing(key) || is_editing(key))
        {
            field.handle_key(key);
            self.error = None;
            return DialogOutcome::Stay;
        }
        match keymap.lookup(&[Context::Dialog], key) {
            Some(Action::Submit) => match self.parse() {
                Err(e) => self.error = Some(e),
                Ok((limits, goals)) => return self.outcome(limits, goals),
            },
            Some(Action::Cancel) => return DialogOutcome::Close,
            Some(Action::NextField) | Some(Action::Down) => self.next_field(true),
            Some(Action::PrevField) | Some(Action::Up) => self.next_field(false),
            Some(Action::Toggle) if self.focus == QueueField::Action => self.toggle_action(),
            _ if self.focus == QueueField::Action
                && matches!(key.code, KeyCode::Left | KeyCode::Right) =>
            {
                self.toggle_action()
            }
            _ => {}
        }
        DialogOutcome::Stay
    }

    /// A paste goes into the focused field, if it is one.
    pub(super) fn paste(&mut self, text: &str) -> DialogOutcome {
        if let Some(f) = self.field_mut() {
            f.insert_str(text.trim());
            self.error = None;
        }
        DialogOutcome::Stay
    }

    /// Draws the dialog as a popup centred on `area`.
    pub(super) fn draw(&self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let w = 72u16.min(area.width);
        let width = w.saturating_sub(4) as usize;
        let bad = |what: &'static str| Span::styled(what, theme.error);
        let dim = |text: String| Span::styled(text, theme.dim);
        let count = |f: QueueField, input: &TextInput| match parse_count(f, input.text()) {
            Ok(0) => dim("no limit".into()),
            Ok(n) => dim(format!("= at most {n} at once")),
            Err(_) => bad("not a whole number"),
        };
        let secs = |f: QueueField, input: &TextInput, none: &str, some: &str| match parse_secs(
            f,
            input.text(),
        ) {
            Ok(None) => dim(none.into()),
            Ok(Some(s)) => dim(format!("= {}{some}", span(s as f64))),
            Err(_) => bad("not a duration"),
        };
        let ratio = match parse_ratio(self.ratio.text()) {
            Ok(None) => dim("none".into()),
            Ok(Some(r)) => dim(format!("= uploaded {}× downloaded", format::ratio(r))),
            Err(_) => bad("not a ratio above 0"),
        };
        let field = |f: QueueField, input, meaning| Item::Field {
            label: f.label(),
            input,
            focused: self.focus == f,
            meaning: Some(meaning),
        };
        let mut then = choice(
            QueueField::Action.label(),
            self.focus == QueueField::Action,
            theme,
        );
        let on = |b: bool| if b { "(•) " } else { "( ) " };
        then.push(Span::raw(" ".repeat(7)));
        then.push(Span::raw(on(self.action == GoalAction::Pause)));
        then.push(Span::raw("pause  "));
        then.push(Span::raw(on(self.action == GoalAction::Remove)));
        then.push(Span::raw("remove (the data stays)"));
        let mut items = vec![
            Item::Line(Line::styled(
                "Active at once (the rest wait, queued)",
                theme.title,
            )),
            field(
                QueueField::Downloads,
                &self.downloads,
                count(QueueField::Downloads, &self.downloads),
            ),
            field(
                QueueField::Seeds,
                &self.seeds,
                count(QueueField::Seeds, &self.seeds),
            ),
            field(
                QueueField::Torrents,
                &self.torrents,
                count(QueueField::Torrents, &self.torrents),
            ),
            field(
                QueueField::SlowAfter,
                &self.slow_after,
                secs(
                    QueueField::SlowAfter,
                    &self.slow_after,
                    "off: every active torrent counts",
                    " idle frees its slot",
                ),
            ),
            Item::Gap,
            Item::Line(Line::styled(
                "Seeding goals (torrents without their own)",
                theme.title,
            )),
            field(QueueField::Ratio, &self.ratio, ratio),
            field(
                QueueField::SeedingTime,
                &self.seeding_time,
                secs(
                    QueueField::SeedingTime,
                    &self.seeding_time,
                    "none",
                    " seeding",
                ),
            ),
            field(
                QueueField::IdleTime,
                &self.idle_time,
                secs(
                    QueueField::IdleTime,
                    &self.idle_time,
                    "none",
                    " without uploading",
                ),
            ),
            Item::Line(Line::from(then)),
            Item::Gap,
            Item::Note(Line::styled(
                "Durations: 90 (seconds), 45s, 30m, 2h, 7d.",
                theme.dim,
            )),
            Item::Note(Line::styled(
                "Empty or 0: no limit, no goal. The first goal reached acts.",
                theme.dim,
            )),
        ];
        // The whole message, over as many rows as it needs.
        if let Some(e) = &self.error {
            for row in format::wrap(e, width) {
                items.push(Item::Line(Line::styled(row, theme.error)));
            }
        }
        items.push(Item::Gap);
        let footer = fit_segments(
            hint_spans(
                &[
                    (key(keymap, Context::Dialog, Action::Submit), "apply"),
                    (key(keymap, Context::Dialog, Action::Cancel), "cancel"),
                    (key(keymap, Context::Dialog, Action::NextField), "next"),
                    (key(keymap, Context::Dialog, Action::Toggle), "pause/remove"),
                ],
                theme,
            ),
            Span::raw("  "),
            width,
        );
        popup(
            frame,
            area,
            w,
            "Queue and seeding goals",
            theme.border_focused,
            theme,
            items,
            footer,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_as_the_values_they_show() {
        let limits = QueueLimits {
            max_active_downloads: 2,
            max_active_seeds: 0,
            max_active_torrents: 5,
            slow_after_secs: Some(300),
        };
        let goals = Some(SeedingGoals {
            ratio: Some(1.2345),
            seeding_secs: Some(7 * 86_400),
            idle_secs: Some(90),
            action: GoalAction::Remove,
        });
        let d = QueueDialog::new(limits, goals);
        assert_eq!(d.slow_after.text(), "5m");
        assert_eq!(d.parse(), Ok((limits, goals)));
        assert_eq!(
            d.outcome(limits, goals),
            DialogOutcome::Close,
            "nothing changed"
        );
    }

    #[test]
    fn bad_input_names_the_field_and_what_it_takes() {
        assert_eq!(
            parse_count(QueueField::Seeds, "two"),
            Err(
                "Seeds: 'two' is not a number of torrents: type a whole number, or 0 for no limit."
                    .into()
            )
        );
        assert_eq!(
            parse_secs(QueueField::IdleTime, "soon"),
            Err(
                "Idle time: 'soon' is not a duration: type seconds or a number with s, m, h or d \
                 (90, 30m, 2h), or leave it empty for none."
                    .into()
            )
        );
        assert!(parse_ratio("0").unwrap().is_none(), "0 is no goal");
        assert!(
            parse_ratio("-1")
                .unwrap_err()
                .starts_with("Ratio: '-1' is not a ratio")
        );
        assert_eq!(parse_count(QueueField::Downloads, " none "), Ok(0));
    }
}
