//! Seeding goals: when a complete torrent has seeded enough (a ratio, a time spent
//! seeding, a time seeding without uploading) it is paused or removed (its data kept).
//! [`progress`] and [`reached`] are the pure rules; the engine checks them on every poll
//! tick and carries out the goal's action.

use std::time::Instant;

use tracing::{info, warn};
use trove_proto::command::{EngineError, EngineResult};
use trove_proto::queue::{GoalAction, GoalKind, GoalProgress, SeedingGoals};

use super::engine::{Engine, Entry, store_err};
use super::queue::is_complete;
use super::status::ratio;

/// What a torrent has done towards its goals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Seeded {
    pub(crate) ratio: f64,
    pub(crate) seeding_secs: u64,
    pub(crate) idle_secs: u64,
}

/// How far each set goal is, in the order ratio, seeding time, idle time.
pub(crate) fn progress(goals: &SeedingGoals, seeded: &Seeded) -> Vec<GoalProgress> {
    let mut out = Vec::new();
    if let Some(target) = goals.ratio {
        out.push(GoalProgress {
            kind: GoalKind::Ratio,
            current: seeded.ratio,
            target,
        });
    }
    if let Some(target) = goals.seeding_secs {
        out.push(GoalProgress {
            kind: GoalKind::SeedingTime,
            current: seeded.seeding_secs as f64,
            target: target as f64,
        });
    }
    if let Some(target) = goals.idle_secs {
        out.push(GoalProgress {
            kind: GoalKind::IdleTime,
            current: seeded.idle_secs as f64,
            target: target as f64,
        });
    }
    out
}

/// The first goal reached, if any.
pub(crate) fn reached(progress: &[GoalProgress]) -> Option<GoalProgress> {
    progress.iter().find(|p| p.current >= p.target).copied()
}

/// The goals in force for a torrent: its own, else the session's; None when no goal is set.
pub(super) fn goals_for(e: &Entry, session: Option<&SeedingGoals>) -> Option<SeedingGoals> {
    e.record
        .goals
        .or(session.copied())
        .filter(|g| !g.is_empty())
}

/// What the torrent has done so far.
pub(super) fn seeded(e: &Entry, now: Instant) -> Seeded {
    Seeded {
        ratio: ratio(&e.record),
        seeding_secs: e.record.seeding_ms / 1000,
        idle_secs: e.idle_since.map_or(0, |t| now.duration_since(t).as_secs()),
    }
}

/// A goal's figure as a person reads it.
fn describe(p: &GoalProgress) -> String {
    match p.kind {
        GoalKind::Ratio => format!("ratio {:.2} of {:.2}", p.current, p.target),
        _ => format!("{} {} s of {} s", p.kind.label(), p.current, p.target),
    }
}

impl Engine {
    /// Pauses or removes every complete torrent that reached a goal.
    pub(super) async fn check_goals(&mut self) {
        let now = Instant::now();
        let due: Vec<(String, GoalProgress, GoalAction)> = self
            .torrents
            .iter()
            .filter(|(_, e)| is_complete(e) && !e.record.paused && e.record.error.is_none())
            .filter_map(|(h, e)| {
                let goals = goals_for(e, self.goals.as_ref())?;
                let hit = reached(&progress(&goals, &seeded(e, now)))?;
                Some((h.clone(), hit, goals.action))
            })
            .collect();
        for (hash, hit, action) in due {
            let name = self.torrents[&hash].record.name.clone();
            let result = match action {
                GoalAction::Pause => self.pause(&hash, true).await,
                GoalAction::Remove => self.remove(&hash, false).await,
            };
            match result {
                Ok(()) => {
                    info!(info_hash = %hash, "{name} reached its seeding goal ({}): {}", describe(&hit), match action {
                        GoalAction::Pause => "paused",
                        GoalAction::Remove => "removed, its data kept",
                    })
                }
                Err(e) => {
                    warn!(info_hash = %hash, "{name} reached its seeding goal but could not be stopped: {e}")
                }
            }
        }
    }

    /// Sets the session's goals (`id` None) or a torrent's own, and keeps them in the store.
    pub(super) fn set_goals(
        &mut self,
        id: Option<&str>,
        goals: Option<SeedingGoals>,
    ) -> EngineResult<()> {
        if let Some(g) = &goals {
            check_goals(g)?;
        }
        match id {
            None => {
                self.edit_settings(|s| {
                    s.goals = goals;
                    s.goals_set = true;
                })?;
                self.goals = goals;
                info!(?goals, "session seeding goals set");
            }
            Some(id) => {
                let hash = self.resolve_id(id)?;
                let e = self.torrents.get_mut(&hash).ok_or(EngineError::Stopped)?;
                e.record.goals = goals;
                self.store.put(&e.record).map_err(store_err)?;
                info!(info_hash = %hash, ?goals, "seeding goals set for {}", e.record.name);
            }
        }
        Ok(())
    }
}

/// Refuses a goal that makes no sense, with one sentence saying what to give instead.
pub(crate) fn check_goals(g: &SeedingGoals) -> EngineResult<()> {
    if let Some(r) = g.ratio
        && !(r.is_finite() && r > 0.0)
    {
        return Err(EngineError::BadSource(format!(
            "a ratio goal must be a number above 0, like 1.5 (got {r})"
        )));
    }
    Ok(())
}

/// Counts seeding time and idle time at a poll: `seeding` is the poll's verdict,
/// `uploaded` the bytes sent since the last poll.
pub(super) fn account(e: &mut Entry, seeding: bool, uploaded: u64, now: Instant) {
    if seeding {
        if let Some(last) = e.seeding_polled {
            e.record.seeding_ms += now.duration_since(last).as_millis() as u64;
        }
        e.seeding_polled = Some(now);
        if uploaded > 0 || e.idle_since.is_none() {
            e.idle_since = Some(now);
        }
    } else {
        e.seeding_polled = None;
        e.idle_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goals(ratio: Option<f64>, seeding: Option<u64>, idle: Option<u64>) -> SeedingGoals {
        SeedingGoals {
            ratio,
            seeding_secs: seeding,
            idle_secs: idle,
            action: GoalAction::Pause,
        }
    }

    const SEEDED: Seeded = Seeded {
        ratio: 0.5,
        seeding_secs: 100,
        idle_secs: 10,
    };

    #[test]
    fn progress_lists_only_the_goals_set() {
        let p = progress(&goals(Some(1.0), None, Some(60)), &SEEDED);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].kind, GoalKind::Ratio);
        assert_eq!(p[0].fraction(), 0.5);
        assert_eq!(p[1].kind, GoalKind::IdleTime);
        assert!(progress(&goals(None, None, None), &SEEDED).is_empty());
    }

    #[test]
    fn the_first_goal_reached_triggers() {
        assert_eq!(
            reached(&progress(&goals(Some(1.0), Some(200), Some(60)), &SEEDED)),
            None
        );
        let hit = reached(&progress(&goals(Some(1.0), Some(100), None), &SEEDED)).unwrap();
        assert_eq!(hit.kind, GoalKind::SeedingTime);
        let hit = reached(&progress(&goals(Some(0.5), None, None), &SEEDED)).unwrap();
        assert_eq!(hit.kind, GoalKind::Ratio);
    }

    #[test]
    fn bad_ratios_are_refused_with_a_sentence() {
        for r in [0.0, -1.0, f64::NAN] {
            let e = check_goals(&goals(Some(r), None, None)).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("a ratio goal must be a number above 0")
            );
        }
        check_goals(&goals(Some(0.1), None, None)).unwrap();
    }
}
