//! The queue and seeding goals as clients see them: how many torrents may be active at
//! once, where a torrent stands in the queue, and when a finished torrent stops seeding.

use serde::{Deserialize, Serialize};

/// Reads a duration: whole seconds, or a number with a unit (`s`, `m`, `h`, `d`), like
/// `90`, `45s`, `30m`, `2h` or `7d`.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if scale > 0 => Ok(n.saturating_mul(scale)),
        _ => Err(format!(
            "'{t}' is not a duration: give seconds or a number with s, m, h or d, like 90, 30m or 2h"
        )),
    }
}

/// A duration as `parse_duration` reads it back, in the largest whole unit: `90`, `30m`,
/// `2h`, `7d`.
pub fn duration_input(secs: u64) -> String {
    match secs {
        0 => "0".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => s.to_string(),
    }
}

/// Where to move torrents in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueMove {
    Top,
    Up,
    Down,
    Bottom,
}

impl QueueMove {
    /// Reads `top`, `up`, `down` or `bottom`.
    pub fn parse(text: &str) -> Option<QueueMove> {
        match text.trim().to_ascii_lowercase().as_str() {
            "top" => Some(QueueMove::Top),
            "up" => Some(QueueMove::Up),
            "down" => Some(QueueMove::Down),
            "bottom" => Some(QueueMove::Bottom),
            _ => None,
        }
    }
}

/// How many torrents may be active at once; 0 = no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueLimits {
    /// Torrents downloading (or checking) at once.
    #[serde(default)]
    pub max_active_downloads: u32,
    /// Complete torrents seeding at once.
    #[serde(default)]
    pub max_active_seeds: u32,
    /// Active torrents of either kind at once.
    #[serde(default)]
    pub max_active_torrents: u32,
    /// A running torrent that moved no byte for this many seconds does not hold a slot
    /// (it keeps running, and the next in the queue starts); None = every running torrent
    /// holds its slot.
    #[serde(default)]
    pub slow_after_secs: Option<u64>,
}

impl QueueLimits {
    /// True when no limit is set: every torrent runs.
    pub fn unlimited(&self) -> bool {
        self.max_active_downloads == 0
            && self.max_active_seeds == 0
            && self.max_active_torrents == 0
    }
}

/// What happens to a torrent once it reaches a seeding goal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoalAction {
    #[default]
    Pause,
    /// Taken out of the session; its data stays on disk.
    Remove,
}

impl GoalAction {
    pub fn label(self) -> &'static str {
        match self {
            GoalAction::Pause => "pause",
            GoalAction::Remove => "remove",
        }
    }
}

/// When a complete torrent has seeded enough. Each goal is optional; the first one reached
/// triggers the action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SeedingGoals {
    /// Uploaded over downloaded (as the torrent's ratio counts it).
    #[serde(default)]
    pub ratio: Option<f64>,
    /// Seconds spent seeding, summed over every run.
    #[serde(default)]
    pub seeding_secs: Option<u64>,
    /// Seconds seeding without uploading a byte.
    #[serde(default)]
    pub idle_secs: Option<u64>,
    #[serde(default)]
    pub action: GoalAction,
}

impl SeedingGoals {
    /// True when no goal is set.
    pub fn is_empty(&self) -> bool {
        self.ratio.is_none() && self.seeding_secs.is_none() && self.idle_secs.is_none()
    }
}

/// Which seeding goal a [`GoalProgress`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalKind {
    Ratio,
    SeedingTime,
    IdleTime,
}

impl GoalKind {
    pub fn label(self) -> &'static str {
        match self {
            GoalKind::Ratio => "ratio",
            GoalKind::SeedingTime => "seeding time",
            GoalKind::IdleTime => "idle time",
        }
    }
}

/// How far a torrent is towards one of its seeding goals (seconds for the times).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GoalProgress {
    pub kind: GoalKind,
    pub current: f64,
    pub target: f64,
}

impl GoalProgress {
    /// 0.0 ..= 1.0.
    pub fn fraction(&self) -> f64 {
        if self.target <= 0.0 {
            1.0
        } else {
            (self.current / self.target).clamp(0.0, 1.0)
        }
    }
}

/// A torrent's place in the queue and its seeding goals, as a summary carries them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStatus {
    /// 1 = the first to start when a slot frees.
    pub position: u32,
    /// Started regardless of the queue's limits.
    #[serde(default)]
    pub forced: bool,
    /// Held back by the queue's limits (shown in the queued state).
    #[serde(default)]
    pub waiting: bool,
    /// The goals in force (its own, else the session's); None = seeds forever.
    #[serde(default)]
    pub goals: Option<SeedingGoals>,
    /// True when the goals are the torrent's own rather than the session's.
    #[serde(default)]
    pub own_goals: bool,
    /// How far each set goal is.
    #[serde(default)]
    pub progress: Vec<GoalProgress>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_seconds_and_units() {
        for s in [0, 59, 90, 1800, 7200, 604_800] {
            assert_eq!(parse_duration(&duration_input(s)), Ok(s));
        }
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("45s"), Ok(45));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        let e = parse_duration("soon").unwrap_err();
        assert_eq!(
            e,
            "'soon' is not a duration: give seconds or a number with s, m, h or d, like 90, 30m or 2h"
        );
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("").is_err());
    }
}
