//! `[queue]` and `[seeding]` in the config file: how many torrents may be active at once,
//! and the session's seeding goals. Both can be changed at run time (dashboard, CLI, API);
//! what is set there is kept in the store and wins over this file.

use serde::{Deserialize, Deserializer, Serialize};
pub use trove_proto::queue::parse_duration;
use trove_proto::queue::{GoalAction, QueueLimits, SeedingGoals};

/// `[queue]`: 0 (or absent) = no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    pub max_active_downloads: u32,
    pub max_active_seeds: u32,
    pub max_active_torrents: u32,
    /// A torrent that moved nothing for this long does not hold a slot: seconds, or a
    /// duration like "5m".
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_duration"
    )]
    pub slow_after: Option<u64>,
}

impl QueueConfig {
    pub fn to_limits(&self) -> QueueLimits {
        QueueLimits {
            max_active_downloads: self.max_active_downloads,
            max_active_seeds: self.max_active_seeds,
            max_active_torrents: self.max_active_torrents,
            slow_after_secs: self.slow_after,
        }
    }
}

/// `[seeding]`: when a complete torrent stops seeding. Each goal is optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeedingConfig {
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "ratio")]
    pub ratio: Option<f64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_duration"
    )]
    pub seeding_time: Option<u64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "some_duration"
    )]
    pub idle_time: Option<u64>,
    /// "pause" (the default) or "remove" (the data is kept).
    pub action: GoalAction,
}

impl SeedingConfig {
    /// The session's goals; None when the file sets none.
    pub fn to_goals(&self) -> Option<SeedingGoals> {
        let g = SeedingGoals {
            ratio: self.ratio,
            seeding_secs: self.seeding_time,
            idle_secs: self.idle_time,
            action: self.action,
        };
        (!g.is_empty()).then_some(g)
    }
}

/// A duration as seconds or as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Secs(u64),
    Text(String),
}

fn some_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match DurationValue::deserialize(d)? {
        DurationValue::Secs(s) => Ok(Some(s)),
        DurationValue::Text(t) => parse_duration(&t)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

fn ratio<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let r = f64::deserialize(d)?;
    if r.is_finite() && r > 0.0 {
        Ok(Some(r))
    } else {
        Err(serde::de::Error::custom(format!(
            "a ratio goal must be a number above 0, like 1.5 (got {r})"
        )))
    }
}
