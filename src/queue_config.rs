//! `[queue]` and `[seeding]` in the config file: how many torrents may be active at once,
//! and the session's seeding goals. Both can be changed at run time (dashboard, CLI, API);
//! what is set there is kept in the store and wins over this file.

use serde::{Deserialize, Deserializer, Serialize};
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_seconds_and_units() {
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
