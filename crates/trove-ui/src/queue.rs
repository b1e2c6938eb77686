//! The queue and seeding goals on the dashboard: moving the selected torrent in the queue,
//! forcing it to start, how the table names a queued or forced torrent, and the goal lines
//! of the Overview tab.

use std::time::Duration;

use trove_proto::command::Command;
use trove_proto::queue::{GoalKind, GoalProgress, QueueMove, QueueStatus};
use trove_proto::snapshot::{TorrentState, TorrentSummary};

use super::app::{App, StatusKind};
use super::event::Effect;
use super::format;

/// The State column's text: the queue's place for a torrent waiting for a slot, `metadata`
/// for a magnet waiting for its metadata, and "forced" for a forced torrent that runs.
pub(crate) fn state_text(t: &TorrentSummary, short: bool, short_label: &str) -> String {
    let waiting = t.queue.as_ref().filter(|q| q.waiting);
    let forced = t.queue.as_ref().is_some_and(|q| q.forced)
        && matches!(t.state, TorrentState::Downloading | TorrentState::Seeding);
    match (t.state, waiting) {
        (TorrentState::Queued, Some(q)) if short => format!("q{}", q.position),
        (TorrentState::Queued, Some(q)) => format!("queued #{}", q.position),
        _ if t.state_label() == "metadata" => if short { "meta" } else { "metadata" }.to_string(),
        _ if forced && short => format!("F{}", &short_label[..short_label.len().min(4)]),
        _ if forced => format!("forced {short_label}"),
        _ if short => short_label.to_string(),
        _ => t.state.label().to_string(),
    }
}

/// `2 h 5 min`, `45 s`.
pub(crate) fn span(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    let d = Duration::from_secs(s);
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, (d.as_secs() % 3600) / 60)
    } else {
        format!("{} d {} h", s / 86_400, (s % 86_400) / 3600)
    }
}

/// One goal as the Overview shows it: `ratio 0.42 of 1.00 (42%)`.
pub(crate) fn goal_text(p: &GoalProgress) -> String {
    let pct = (p.fraction() * 100.0).floor();
    match p.kind {
        GoalKind::Ratio => format!(
            "ratio {} of {} ({pct}%)",
            format::ratio(p.current),
            format::ratio(p.target)
        ),
        GoalKind::SeedingTime => {
            format!("seeded {} of {} ({pct}%)", span(p.current), span(p.target))
        }
        GoalKind::IdleTime => format!("idle {} of {} ({pct}%)", span(p.current), span(p.target)),
    }
}

/// The Overview's "Queue" line.
pub(crate) fn queue_text(q: &QueueStatus) -> String {
    let mut s = format!("position {}", q.position);
    if q.forced {
        s.push_str(" · forced: runs regardless of the limits");
    } else if q.waiting {
        s.push_str(" · waiting for a free slot");
    }
    s
}

/// The Overview's "Goals" lines: each goal's progress, then what happens at the first.
pub(crate) fn goal_lines(q: &QueueStatus) -> Vec<String> {
    let Some(goals) = q.goals else {
        return vec!["none: seeds until stopped".into()];
    };
    let whose = if q.own_goals {
        "its own"
    } else {
        "the session's"
    };
    let mut lines: Vec<String> = q.progress.iter().map(goal_text).collect();
    lines.push(format!("then {} ({whose})", goals.action.label()));
    lines
}

impl App {
    /// Moves the selected torrent in the queue.
    pub(crate) fn queue_move(&mut self, to: QueueMove) -> Vec<Effect> {
        let Some(t) = self.selected_summary() else {
            self.set_status(StatusKind::Info, "No torrent selected.");
            return Vec::new();
        };
        let name = format::sanitize(&t.name);
        let where_to = match to {
            QueueMove::Top => "to the top of the queue",
            QueueMove::Up => "up the queue",
            QueueMove::Down => "down the queue",
            QueueMove::Bottom => "to the bottom of the queue",
        };
        vec![Effect::Run {
            command: Command::Queue {
                ids: vec![t.info_hash.clone()],
                to,
            },
            ok: format!("Moved '{name}' {where_to}."),
            failed: format!("Moving '{name}' in the queue failed"),
        }]
    }

    /// Forces the selected torrent to start regardless of the queue, or gives it back.
    pub(crate) fn toggle_force(&mut self) -> Vec<Effect> {
        let Some(t) = self.selected_summary() else {
            self.set_status(StatusKind::Info, "No torrent selected.");
            return Vec::new();
        };
        let name = format::sanitize(&t.name);
        let on = !t.queue.as_ref().is_some_and(|q| q.forced);
        vec![Effect::Run {
            command: Command::Force {
                ids: vec![t.info_hash.clone()],
                on,
            },
            ok: if on {
                format!("'{name}' starts regardless of the queue.")
            } else {
                format!("'{name}' is back in the queue.")
            },
            failed: format!("Forcing '{name}' failed"),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trove_proto::queue::{GoalAction, SeedingGoals};

    #[test]
    fn goals_read_as_progress_then_the_action() {
        let q = QueueStatus {
            position: 2,
            goals: Some(SeedingGoals {
                ratio: Some(1.0),
                seeding_secs: Some(7200),
                idle_secs: None,
                action: GoalAction::Remove,
            }),
            own_goals: true,
            progress: vec![
                GoalProgress {
                    kind: GoalKind::Ratio,
                    current: 0.42,
                    target: 1.0,
                },
                GoalProgress {
                    kind: GoalKind::SeedingTime,
                    current: 3900.0,
                    target: 7200.0,
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            goal_lines(&q),
            [
                "ratio 0.42 of 1.00 (42%)",
                "seeded 1 h 5 min of 2 h 0 min (54%)",
                "then remove (its own)"
            ]
        );
    }
}
