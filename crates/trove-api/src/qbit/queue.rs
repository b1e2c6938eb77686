//! qBittorrent's queue and share limits over trove's queue and seeding goals:
//! `torrents/topPrio`, `bottomPrio`, `increasePrio`, `decreasePrio` (the queue order),
//! `torrents/setForceStart`, `torrents/setShareLimits`, the queue and share-limit
//! preferences, and the queue fields of `torrents/info`.

use serde_json::{Map, Value, json};
use trove_proto::queue::{GoalAction, QueueLimits, QueueMove, SeedingGoals};
use trove_proto::{Command, SessionSnapshot, TorrentState, TorrentSummary};

use super::Ctx;
use super::actions::selected;
use super::errors::{Answer, Refusal, done};
use super::forms::Params;

/// The queue move a priority endpoint asks for.
fn queue_move(path: &str) -> QueueMove {
    match path {
        "torrents/topPrio" => QueueMove::Top,
        "torrents/bottomPrio" => QueueMove::Bottom,
        "torrents/increasePrio" => QueueMove::Up,
        _ => QueueMove::Down,
    }
}

/// The priority endpoints: a move in trove's queue. qBittorrent answers `409` while its
/// queueing is off; trove's queue is "off" while no limit is set.
pub(crate) async fn priority(ctx: &Ctx<'_>, params: &Params, path: &str) -> Answer {
    let ids = selected(ctx, params)?;
    if ctx.session.snapshot().queue_limits.unlimited() {
        return Err(Refusal::conflict(
            "Torrent queueing must be enabled (set a [queue] limit in trove)",
        ));
    }
    if !ids.is_empty() {
        ctx.session
            .run(Command::Queue {
                ids,
                to: queue_move(path),
            })
            .await
            .map_err(Refusal::engine)?;
    }
    done()
}

/// `torrents/setForceStart`: `value=true` forces the torrents to run regardless of the
/// queue; `false` gives them back to it. A paused torrent stays paused (qBittorrent 4.5
/// answers `force_start: true` and `pausedDL` for it) and runs forced once resumed.
pub(crate) async fn force_start(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let on = params.flag("value")?.unwrap_or(false);
    let ids = selected(ctx, params)?;
    if ids.is_empty() {
        return done();
    }
    ctx.session
        .run(Command::Force { ids, on })
        .await
        .map_err(Refusal::engine)?;
    done()
}

/// A share-limit value: -2 = the session's, -1 = none, otherwise the value.
enum Share {
    Global,
    None,
    Value(f64),
}

fn share(params: &Params, name: &str) -> Result<Share, Refusal> {
    let Some(text) = params.get(name).map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Share::Global);
    };
    let v: f64 = text
        .parse()
        .map_err(|_| Refusal::bad(format!("the parameter '{name}' must be a number")))?;
    Ok(if v <= -2.0 {
        Share::Global
    } else if v < 0.0 {
        Share::None
    } else {
        Share::Value(v)
    })
}

/// `torrents/setShareLimits`: `ratioLimit` and `seedingTimeLimit` (minutes), each -2 for
/// the session's and -1 for none. Both -2: the torrents follow the session's goals.
pub(crate) async fn set_share_limits(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let ratio = share(params, "ratioLimit")?;
    let minutes = share(params, "seedingTimeLimit")?;
    let ids = selected(ctx, params)?;
    let session = ctx.session.snapshot().goals.unwrap_or_default();
    let goals = match (&ratio, &minutes) {
        (Share::Global, Share::Global) => None,
        _ => Some(SeedingGoals {
            ratio: match ratio {
                Share::Global => session.ratio,
                Share::None => None,
                // A ratio of 0 stops at once, as in qBittorrent; trove's goals start above 0.
                Share::Value(v) => Some(v.max(f64::MIN_POSITIVE)),
            },
            seeding_secs: match minutes {
                Share::Global => session.seeding_secs,
                Share::None => None,
                Share::Value(m) => Some((m * 60.0) as u64),
            },
            idle_secs: session.idle_secs,
            action: session.action,
        }),
    };
    for id in ids {
        ctx.session
            .run(Command::SetGoals {
                id: Some(id),
                goals,
            })
            .await
            .map_err(Refusal::engine)?;
    }
    done()
}

/// qBittorrent writes "no limit" as -1.
fn count(n: u32) -> i64 {
    if n == 0 { -1 } else { i64::from(n) }
}

/// The queue and share-limit preferences.
pub(crate) fn put_preferences(prefs: &mut Map<String, Value>, s: &SessionSnapshot) {
    let q = s.queue_limits;
    let mut put = |k: &str, v: Value| {
        prefs.insert(k.to_string(), v);
    };
    put("queueing_enabled", json!(!q.unlimited()));
    if !q.unlimited() {
        put("max_active_downloads", json!(count(q.max_active_downloads)));
        put("max_active_uploads", json!(count(q.max_active_seeds)));
        put("max_active_torrents", json!(count(q.max_active_torrents)));
        put(
            "dont_count_slow_torrents",
            json!(q.slow_after_secs.is_some()),
        );
        // trove's rule is "moved no byte for this long": qBittorrent's with rate
        // thresholds of 0.
        if let Some(secs) = q.slow_after_secs {
            put("slow_torrent_inactive_timer", json!(secs));
            put("slow_torrent_dl_rate_threshold", json!(0));
            put("slow_torrent_ul_rate_threshold", json!(0));
        }
    }
    let g = s.goals.unwrap_or_default();
    put("max_ratio_enabled", json!(g.ratio.is_some()));
    put("max_ratio", json!(g.ratio.unwrap_or(-1.0)));
    put("max_seeding_time_enabled", json!(g.seeding_secs.is_some()));
    put(
        "max_seeding_time",
        json!(g.seeding_secs.map_or(-1, |s| (s / 60) as i64)),
    );
    put(
        "max_ratio_act",
        json!(match g.action {
            GoalAction::Pause => 0,
            GoalAction::Remove => 1,
        }),
    );
}

/// Applies the queue and share-limit keys of `app/setPreferences`; returns the commands
/// to run (none when no such key is given).
pub(crate) fn from_preferences(
    prefs: &Map<String, Value>,
    s: &SessionSnapshot,
) -> Result<Vec<Command>, Refusal> {
    let int = |key: &str| -> Result<Option<i64>, Refusal> {
        match prefs.get(key) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                Refusal::bad(format!("the preference '{key}' must be a whole number"))
            }),
        }
    };
    let flag = |key: &str| -> Result<Option<bool>, Refusal> {
        match prefs.get(key) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| {
                Refusal::bad(format!("the preference '{key}' must be true or false"))
            }),
        }
    };
    let slots = |v: i64| u32::try_from(v).unwrap_or(0);
    let mut out = Vec::new();
    let mut q = s.queue_limits;
    let mut queue_changed = false;
    for (key, field) in [
        ("max_active_downloads", &mut q.max_active_downloads),
        ("max_active_uploads", &mut q.max_active_seeds),
        ("max_active_torrents", &mut q.max_active_torrents),
    ] {
        if let Some(v) = int(key)? {
            *field = slots(v);
            queue_changed = true;
        }
    }
    // Slow torrents: on takes the timer given, else the one in force, else qBittorrent's
    // default of 60 s; a timer alone changes the one in force (nothing while it is off).
    let timer = int("slow_torrent_inactive_timer")?.map(|t| t.max(1) as u64);
    match flag("dont_count_slow_torrents")? {
        Some(false) => {
            q.slow_after_secs = None;
            queue_changed = true;
        }
        Some(true) => {
            q.slow_after_secs = timer.or(q.slow_after_secs).or(Some(60));
            queue_changed = true;
        }
        None if timer.is_some() && q.slow_after_secs.is_some() => {
            q.slow_after_secs = timer;
            queue_changed = true;
        }
        None => {}
    }
    if flag("queueing_enabled")? == Some(false) {
        q = QueueLimits::default();
        queue_changed = true;
    }
    if queue_changed && q != s.queue_limits {
        out.push(Command::SetQueueLimits(q));
    }
    let mut g = s.goals.unwrap_or_default();
    let mut goals_changed = false;
    if let Some(v) = prefs.get("max_ratio") {
        let r = v
            .as_f64()
            .ok_or_else(|| Refusal::bad("the preference 'max_ratio' must be a number"))?;
        g.ratio = (r > 0.0).then_some(r);
        goals_changed = true;
    }
    if flag("max_ratio_enabled")? == Some(false) {
        g.ratio = None;
        goals_changed = true;
    }
    if let Some(m) = int("max_seeding_time")? {
        g.seeding_secs = (m >= 0).then(|| m as u64 * 60);
        goals_changed = true;
    }
    if flag("max_seeding_time_enabled")? == Some(false) {
        g.seeding_secs = None;
        goals_changed = true;
    }
    if let Some(a) = int("max_ratio_act")? {
        g.action = if a == 1 {
            GoalAction::Remove
        } else {
            GoalAction::Pause
        };
        goals_changed = true;
    }
    if goals_changed {
        let goals = (!g.is_empty()).then_some(g);
        if goals != s.goals {
            out.push(Command::SetGoals { id: None, goals });
        }
    }
    Ok(out)
}

/// The queue fields of a `torrents/info` object.
pub(crate) fn put_info(info: &mut Map<String, Value>, s: &SessionSnapshot, t: &TorrentSummary) {
    let Some(q) = &t.queue else {
        return;
    };
    let complete = t.progress >= 1.0;
    let queueing = !s.queue_limits.unlimited();
    let mut put = |k: &str, v: Value| {
        info.insert(k.to_string(), v);
    };
    // qBittorrent numbers only unfinished torrents, and only while queueing is on.
    put(
        "priority",
        json!(if queueing && !complete { q.position } else { 0 }),
    );
    put("force_start", json!(q.forced));
    // qBittorrent keeps "the session's" (-2) per field; trove's own goals replace the
    // session's whole, and setShareLimits copies the session's value into a field given
    // -2. So a field of its own goals equal to the session's reads back as -2.
    let own = q.own_goals.then_some(q.goals).flatten();
    let session = s.goals.unwrap_or_default();
    put(
        "ratio_limit",
        json!(match (own, own.and_then(|g| g.ratio)) {
            (None, _) => -2.0,
            (Some(_), r) if r == session.ratio && r.is_some() => -2.0,
            (Some(_), None) => -1.0,
            (Some(_), Some(r)) => r,
        }),
    );
    put(
        "seeding_time_limit",
        json!(match (own, own.and_then(|g| g.seeding_secs)) {
            (None, _) => -2,
            (Some(_), t) if t == session.seeding_secs && t.is_some() => -2,
            (Some(_), None) => -1,
            (Some(_), Some(t)) => (t / 60) as i64,
        }),
    );
    put(
        "max_ratio",
        json!(q.goals.and_then(|g| g.ratio).unwrap_or(-1.0)),
    );
    put(
        "max_seeding_time",
        json!(
            q.goals
                .and_then(|g| g.seeding_secs)
                .map_or(-1, |s| (s / 60) as i64)
        ),
    );
    if q.forced && !t.paused {
        match t.state {
            TorrentState::Downloading => put("state", json!("forcedDL")),
            TorrentState::Seeding => put("state", json!("forcedUP")),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qbit::mapping::tests::summary;
    use trove_proto::queue::QueueStatus;

    fn snapshot(limits: QueueLimits, goals: Option<SeedingGoals>) -> SessionSnapshot {
        SessionSnapshot {
            queue_limits: limits,
            goals,
            ..Default::default()
        }
    }

    #[test]
    fn preferences_show_and_set_the_queue_and_share_limits() {
        let s = snapshot(
            QueueLimits {
                max_active_downloads: 2,
                ..Default::default()
            },
            Some(SeedingGoals {
                ratio: Some(1.5),
                seeding_secs: Some(3600),
                idle_secs: None,
                action: GoalAction::Remove,
            }),
        );
        let mut prefs = Map::new();
        put_preferences(&mut prefs, &s);
        assert_eq!(prefs["queueing_enabled"], json!(true));
        assert_eq!(prefs["max_active_downloads"], json!(2));
        assert_eq!(prefs["max_active_uploads"], json!(-1));
        assert_eq!(prefs["max_ratio"], json!(1.5));
        assert_eq!(prefs["max_seeding_time"], json!(60));
        assert_eq!(prefs["max_ratio_act"], json!(1));

        let set: Map<String, Value> = serde_json::from_value(json!({
            "max_active_downloads": 3,
            "max_active_uploads": 4,
            "max_ratio_enabled": false,
            "max_ratio_act": 0,
        }))
        .unwrap();
        let commands = from_preferences(&set, &s).unwrap();
        assert_eq!(
            commands,
            [
                Command::SetQueueLimits(QueueLimits {
                    max_active_downloads: 3,
                    max_active_seeds: 4,
                    ..Default::default()
                }),
                Command::SetGoals {
                    id: None,
                    goals: Some(SeedingGoals {
                        ratio: None,
                        seeding_secs: Some(3600),
                        idle_secs: None,
                        action: GoalAction::Pause,
                    }),
                },
            ]
        );
        // Slow torrents: on with a timer, then the timer alone, then off.
        let slow = |prefs: Value, s: &SessionSnapshot| {
            let prefs: Map<String, Value> = serde_json::from_value(prefs).unwrap();
            match &from_preferences(&prefs, s).unwrap()[..] {
                [Command::SetQueueLimits(q)] => q.slow_after_secs,
                other => panic!("{other:?}"),
            }
        };
        let on = json!({"dont_count_slow_torrents": true, "slow_torrent_inactive_timer": 120});
        assert_eq!(slow(on, &s), Some(120));
        assert_eq!(
            slow(json!({"dont_count_slow_torrents": true}), &s),
            Some(60)
        );
        let mut slow_on = s.clone();
        slow_on.queue_limits.slow_after_secs = Some(120);
        assert_eq!(
            slow(json!({"slow_torrent_inactive_timer": 30}), &slow_on),
            Some(30)
        );
        assert_eq!(
            slow(json!({"dont_count_slow_torrents": false}), &slow_on),
            None
        );
        let timer_alone: Map<String, Value> =
            serde_json::from_value(json!({"slow_torrent_inactive_timer": 30})).unwrap();
        assert!(
            from_preferences(&timer_alone, &s).unwrap().is_empty(),
            "off stays off"
        );
        let mut prefs = Map::new();
        put_preferences(&mut prefs, &slow_on);
        assert_eq!(prefs["dont_count_slow_torrents"], json!(true));
        assert_eq!(prefs["slow_torrent_inactive_timer"], json!(120));

        let bad: Map<String, Value> =
            serde_json::from_value(json!({"max_active_downloads": "two"})).unwrap();
        assert!(from_preferences(&bad, &s).is_err());
    }

    #[test]
    fn info_carries_priority_forced_state_and_own_limits() {
        let s = snapshot(
            QueueLimits {
                max_active_downloads: 1,
                ..Default::default()
            },
            None,
        );
        let mut t = summary(&"a".repeat(40), TorrentState::Downloading);
        t.queue = Some(QueueStatus {
            position: 3,
            forced: true,
            goals: Some(SeedingGoals {
                ratio: Some(2.0),
                ..Default::default()
            }),
            own_goals: true,
            ..Default::default()
        });
        let mut info = Map::new();
        put_info(&mut info, &s, &t);
        assert_eq!(info["priority"], json!(3));
        assert_eq!(info["force_start"], json!(true));
        assert_eq!(info["state"], json!("forcedDL"));
        assert_eq!(info["ratio_limit"], json!(2.0));
        assert_eq!(info["seeding_time_limit"], json!(-1));
        assert_eq!(info["max_ratio"], json!(2.0));
    }
}
