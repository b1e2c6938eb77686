//! The queue and seeding goals as clients see them: how many torrents may be active at
//! once, where a torrent stands in the queue, and when a finished torrent stops seeding.

use serde::{Deserialize, Serialize};

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
