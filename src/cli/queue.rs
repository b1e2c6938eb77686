//! `trove queue`, `force`, `queue-limits` and `goals`: the queue's order and limits and the
//! seeding goals. Like the other edit commands, each works on a running session through
//! its client or on the saved session, with the same output.

use trove_engine::saved::SavedSession;
use trove_engine::source;
use trove_proto::queue::{GoalAction, QueueLimits, QueueMove, SeedingGoals};
use trove_proto::{Client, Command};

use super::AppContext;
use super::args::{GoalArgs, QueueLimitArgs};
use super::commands::{engine_err, outln, resolve};
use super::reach::Reach;
use crate::queue_config::parse_duration;

/// `top`, `up`, `down` or `bottom`, or a sentence saying what to give.
fn parse_move(text: &str) -> anyhow::Result<QueueMove> {
    QueueMove::parse(text).ok_or_else(|| {
        anyhow::anyhow!(
            "'{}' is not a place in the queue: give top, up, down or bottom",
            source::sanitize_display(text)
        )
    })
}

pub(super) async fn queue(reach: Reach, id: &str, to: &str) -> anyhow::Result<i32> {
    let to = parse_move(to)?;
    match reach {
        Reach::Running(client) => {
            let (hash, name) = resolve(&client, &[id.to_string()])?.remove(0);
            let expected = expected_place(&client.snapshot(), &hash, to);
            let mut snapshots = client.watch();
            client
                .run(Command::Queue {
                    ids: vec![hash.clone()],
                    to,
                })
                .await
                .map_err(engine_err)?;
            // A session reached over its API may answer before its next snapshot arrives:
            // wait (briefly) for the place the move gives.
            let place_of = |s: &trove_proto::SessionSnapshot| {
                s.torrents
                    .iter()
                    .find(|t| t.info_hash == hash)
                    .and_then(|t| t.queue.as_ref().map(|q| q.position))
                    .unwrap_or(0)
            };
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                snapshots.wait_for(|s| Some(place_of(s)) == expected),
            )
            .await;
            let place = place_of(&client.snapshot());
            outln!(
                "{hash}  queue position {place}  {}",
                source::sanitize_display(&name)
            )?;
        }
        Reach::Saved(saved) => {
            let hash = saved_hash(&saved, id)?;
            let order = saved.move_in_queue(std::slice::from_ref(&hash), to)?;
            if let Some((i, r)) = order.iter().enumerate().find(|(_, r)| r.info_hash == hash) {
                outln!(
                    "{hash}  queue position {}  {}",
                    i + 1,
                    source::sanitize_display(&r.name)
                )?;
            }
        }
    }
    Ok(0)
}

/// The place `hash` will have after the move, worked out by the engine's own rule from
/// the places the snapshot shows (None when the snapshot does not place it).
fn expected_place(s: &trove_proto::SessionSnapshot, hash: &str, to: QueueMove) -> Option<u32> {
    let mut placed: Vec<(u32, &str)> = s
        .torrents
        .iter()
        .filter_map(|t| t.queue.as_ref().map(|q| (q.position, t.info_hash.as_str())))
        .collect();
    placed.sort();
    let order = placed.iter().map(|(_, h)| h.to_string()).collect();
    let moved = trove_engine::saved::reorder_queue(order, &[hash.to_string()], to);
    let i = moved.iter().position(|h| h == hash)?;
    // Places count every torrent; the ones the snapshot does not place (magnets waiting
    // for metadata) keep theirs, so the place is off by those before it: then no wait.
    let before = placed.iter().take_while(|(_, h)| *h != hash).count();
    let offset = placed
        .iter()
        .find(|(_, h)| *h == hash)
        .map(|(p, _)| *p as usize - 1 - before)?;
    Some((i + 1 + offset) as u32)
}

fn saved_hash(saved: &SavedSession, id: &str) -> anyhow::Result<String> {
    Ok(saved.record_of(id)?.info_hash)
}

fn force_line(hash: &str, on: bool, name: &str) -> String {
    let what = if on {
        "forced to start"
    } else {
        "back in the queue"
    };
    format!("{hash}  {what}  {}", source::sanitize_display(name))
}

pub(super) async fn force(reach: Reach, ids: &[String], on: bool) -> anyhow::Result<i32> {
    match reach {
        Reach::Running(client) => {
            let targets = resolve(&client, ids)?;
            let hashes = targets.iter().map(|(h, _)| h.clone()).collect();
            client
                .run(Command::Force { ids: hashes, on })
                .await
                .map_err(engine_err)?;
            for (hash, name) in targets {
                outln!("{}", force_line(&hash, on, &name))?;
            }
        }
        Reach::Saved(saved) => {
            for r in saved.set_forced(ids, on)? {
                outln!("{}", force_line(&r.info_hash, on, &r.name))?;
            }
        }
    }
    Ok(0)
}

/// `downloads 2, seeds none, torrents none, slow after none`.
pub(super) fn describe_queue_limits(l: &QueueLimits) -> String {
    let n = |v: u32| {
        if v == 0 {
            "no limit".to_string()
        } else {
            v.to_string()
        }
    };
    format!(
        "downloads {}, seeds {}, torrents {}, slow after {}",
        n(l.max_active_downloads),
        n(l.max_active_seeds),
        n(l.max_active_torrents),
        l.slow_after_secs
            .map(describe_secs)
            .unwrap_or_else(|| "off".into())
    )
}

/// `90 s`, `30 min`, `2 h`, `7 d` (the largest whole unit).
fn describe_secs(s: u64) -> String {
    match s {
        0 => "0 s".into(),
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// `args` over `current`: an option not given is kept; a slow-after of 0 turns it off.
fn apply_queue_limits(current: QueueLimits, args: &QueueLimitArgs) -> anyhow::Result<QueueLimits> {
    let slow_after_secs = match &args.slow_after {
        None => current.slow_after_secs,
        Some(text) => {
            let secs = parse_duration(text).map_err(|e| anyhow::anyhow!("--slow-after: {e}"))?;
            (secs > 0).then_some(secs)
        }
    };
    Ok(QueueLimits {
        max_active_downloads: args.downloads.unwrap_or(current.max_active_downloads),
        max_active_seeds: args.seeds.unwrap_or(current.max_active_seeds),
        max_active_torrents: args.torrents.unwrap_or(current.max_active_torrents),
        slow_after_secs,
    })
}

pub(super) async fn queue_limits(
    ctx: &AppContext,
    reach: Reach,
    args: &QueueLimitArgs,
) -> anyhow::Result<i32> {
    let current = match &reach {
        Reach::Running(client) => client.snapshot().queue_limits,
        Reach::Saved(saved) => saved
            .stored_queue_limits()?
            .unwrap_or_else(|| ctx.config.queue.to_limits()),
    };
    let new = apply_queue_limits(current, args)?;
    if new != current {
        match &reach {
            Reach::Running(client) => client
                .run(Command::SetQueueLimits(new))
                .await
                .map_err(engine_err)?,
            Reach::Saved(saved) => saved.set_queue_limits(new)?,
        }
    }
    outln!("queue limits: {}", describe_queue_limits(&new))?;
    Ok(0)
}

/// `ratio 1.50, seeding time 2 h, idle time none; then pause`, or `none`.
pub(super) fn describe_goals(g: Option<&SeedingGoals>) -> String {
    let Some(g) = g.filter(|g| !g.is_empty()) else {
        return "none (seeds until stopped)".into();
    };
    let secs = |s: Option<u64>| s.map(describe_secs).unwrap_or_else(|| "none".into());
    format!(
        "ratio {}, seeding time {}, idle time {}; then {}",
        g.ratio
            .map(|r| format!("{r:.2}"))
            .unwrap_or_else(|| "none".into()),
        secs(g.seeding_secs),
        secs(g.idle_secs),
        g.action.label()
    )
}

/// `none` (or `0`) clears a goal.
fn is_none_word(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "none" | "0" | "off"
    )
}

/// The goals `args` make of `current` (None when every goal ends up unset).
fn apply_goals(current: SeedingGoals, args: &GoalArgs) -> anyhow::Result<SeedingGoals> {
    let mut g = current;
    if let Some(text) = &args.ratio {
        g.ratio = if is_none_word(text) {
            None
        } else {
            match text.trim().parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 => Some(r),
                _ => anyhow::bail!(
                    "--ratio: '{}' is not a ratio: give a number above 0 like 1.5, or none",
                    source::sanitize_display(text)
                ),
            }
        };
    }
    let duration = |flag: &str, text: &str| -> anyhow::Result<Option<u64>> {
        if is_none_word(text) {
            return Ok(None);
        }
        parse_duration(text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("--{flag}: {e}, or none"))
    };
    if let Some(text) = &args.seeding_time {
        g.seeding_secs = duration("seeding-time", text)?;
    }
    if let Some(text) = &args.idle_time {
        g.idle_secs = duration("idle-time", text)?;
    }
    if let Some(text) = &args.action {
        g.action = match text.trim().to_ascii_lowercase().as_str() {
            "pause" => GoalAction::Pause,
            "remove" => GoalAction::Remove,
            _ => anyhow::bail!(
                "--action: '{}' is not an action: give pause or remove",
                source::sanitize_display(text)
            ),
        };
    }
    Ok(g)
}

fn changes(args: &GoalArgs) -> bool {
    args.clear
        || args.ratio.is_some()
        || args.seeding_time.is_some()
        || args.idle_time.is_some()
        || args.action.is_some()
}

pub(super) async fn goals(ctx: &AppContext, reach: Reach, args: &GoalArgs) -> anyhow::Result<i32> {
    match reach {
        Reach::Running(client) => goals_running(&client, args).await,
        Reach::Saved(saved) => goals_saved(ctx, &saved, args),
    }
}

async fn goals_running(client: &Client, args: &GoalArgs) -> anyhow::Result<i32> {
    let snapshot = client.snapshot();
    let session = snapshot.goals;
    let Some(id) = &args.id else {
        let mut now = session;
        if changes(args) {
            now = if args.clear {
                None
            } else {
                Some(apply_goals(session.unwrap_or_default(), args)?)
            };
            client
                .run(Command::SetGoals {
                    id: None,
                    goals: now,
                })
                .await
                .map_err(engine_err)?;
        }
        outln!("session goals: {}", describe_goals(now.as_ref()))?;
        return Ok(0);
    };
    let (hash, name) = resolve(client, std::slice::from_ref(id))?.remove(0);
    let status = snapshot
        .torrents
        .iter()
        .find(|t| t.info_hash == hash)
        .and_then(|t| t.queue.clone())
        .unwrap_or_default();
    let own = status.own_goals.then_some(status.goals).flatten();
    let mut shown = if status.own_goals { own } else { session };
    let mut is_own = status.own_goals;
    if changes(args) {
        let goals = if args.clear {
            None
        } else {
            Some(apply_goals(own.or(session).unwrap_or_default(), args)?)
        };
        client
            .run(Command::SetGoals {
                id: Some(hash.clone()),
                goals,
            })
            .await
            .map_err(engine_err)?;
        is_own = goals.is_some();
        shown = goals.or(session);
    }
    goal_line(&hash, is_own, shown.as_ref(), &name)?;
    Ok(0)
}

fn goal_line(
    hash: &str,
    own: bool,
    goals: Option<&SeedingGoals>,
    name: &str,
) -> std::io::Result<()> {
    let whose = if own { "own goals" } else { "session's goals" };
    outln!(
        "{hash}  {whose}: {}  {}",
        describe_goals(goals),
        source::sanitize_display(name)
    )
}

fn goals_saved(ctx: &AppContext, saved: &SavedSession, args: &GoalArgs) -> anyhow::Result<i32> {
    let session = match saved.stored_goals()? {
        Some(g) => g,
        None => ctx.config.seeding.to_goals(),
    };
    let Some(id) = &args.id else {
        let mut now = session;
        if changes(args) {
            now = if args.clear {
                None
            } else {
                Some(apply_goals(session.unwrap_or_default(), args)?)
            };
            saved.set_goals(None, now)?;
        }
        outln!("session goals: {}", describe_goals(now.as_ref()))?;
        return Ok(0);
    };
    let record = saved.record_of(id)?;
    let mut own = record.goals;
    if changes(args) {
        own = if args.clear {
            None
        } else {
            Some(apply_goals(own.or(session).unwrap_or_default(), args)?)
        };
        saved.set_goals(Some(&record.info_hash), own)?;
    }
    goal_line(
        &record.info_hash,
        own.is_some(),
        own.or(session).as_ref(),
        &record.name,
    )?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> GoalArgs {
        GoalArgs {
            id: None,
            ratio: None,
            seeding_time: None,
            idle_time: None,
            action: None,
            clear: false,
        }
    }

    #[test]
    fn goal_options_apply_over_the_current_goals() {
        let mut a = args();
        a.ratio = Some("1.5".into());
        a.seeding_time = Some("2h".into());
        let g = apply_goals(SeedingGoals::default(), &a).unwrap();
        assert_eq!(g.ratio, Some(1.5));
        assert_eq!(g.seeding_secs, Some(7200));
        a.ratio = Some("none".into());
        a.action = Some("remove".into());
        let g = apply_goals(g, &a).unwrap();
        assert_eq!(g.ratio, None);
        assert_eq!(g.action, GoalAction::Remove);
    }

    #[test]
    fn bad_goal_options_are_one_sentence() {
        let mut a = args();
        a.ratio = Some("-1".into());
        assert_eq!(
            apply_goals(SeedingGoals::default(), &a)
                .unwrap_err()
                .to_string(),
            "--ratio: '-1' is not a ratio: give a number above 0 like 1.5, or none"
        );
        let mut a = args();
        a.action = Some("delete".into());
        assert_eq!(
            apply_goals(SeedingGoals::default(), &a)
                .unwrap_err()
                .to_string(),
            "--action: 'delete' is not an action: give pause or remove"
        );
    }

    #[test]
    fn queue_moves_are_read_or_refused_in_one_sentence() {
        assert_eq!(parse_move("Top").unwrap(), QueueMove::Top);
        assert_eq!(
            parse_move("sideways").unwrap_err().to_string(),
            "'sideways' is not a place in the queue: give top, up, down or bottom"
        );
    }
}
