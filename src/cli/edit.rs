//! Commands that change or show one torrent: `recheck`, `select`, `limit`, `trackers` and
//! `magnet`. Each has two forms: through a running session's client (`*_running`), and on
//! the saved session through the engine's store API ([`SavedSession`]), which does what the
//! running engine's command of the same name does.

use humansize::{BINARY, format_size};
use trove_engine::saved::SavedSession;
use trove_engine::source;
use trove_engine::store::TorrentRecord;
use trove_proto::Limits;

use super::AppContext;
use super::args::{LimitArgs, RateArg};
use super::commands::{engine_err, outln, resolve};
use trove_proto::{Client, Command};

pub(super) fn recheck(saved: &SavedSession, ids: &[String]) -> anyhow::Result<i32> {
    let mut lines = Vec::new();
    saved.recheck(ids, |r| {
        lines.push(format!(
            "{}  to be checked when the session next starts  {}",
            r.info_hash,
            source::sanitize_display(&r.name)
        ))
    })?;
    for l in lines {
        outln!("{l}")?;
    }
    Ok(0)
}

/// `all` or comma-separated indices.
pub(super) fn parse_selection(text: &str) -> anyhow::Result<Option<Vec<usize>>> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    text.split(',')
        .map(|p| {
            p.trim().parse::<usize>().map_err(|_| {
                anyhow::anyhow!(
                    "'{p}' is not a file index: give indices as the Files tab shows them, like 0,2,5, or `all`"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map(Some)
}

pub(super) fn select(
    ctx: &AppContext,
    saved: &SavedSession,
    id: &str,
    files: &str,
) -> anyhow::Result<i32> {
    let r = saved.select_files(&ctx.roots, id, parse_selection(files)?)?;
    let what = describe_selection(r.only_files.as_deref());
    outln!(
        "{}  selected {what}  {}",
        r.info_hash,
        source::sanitize_display(&r.name)
    )?;
    Ok(0)
}

/// `all files` or `files 0,2,5`.
fn describe_selection(files: Option<&[usize]>) -> String {
    match files {
        None => "all files".to_string(),
        Some(f) => format!(
            "files {}",
            f.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// `args`' limits applied over `current`; a limit not given is kept, 0 removes it.
pub(super) fn apply_limits(current: Limits, args: &LimitArgs) -> Limits {
    let rate = |given: Option<RateArg>, old: Option<u64>| given.map_or(old, |r| r.0);
    Limits {
        download_bps: rate(args.download_limit, current.download_bps),
        upload_bps: rate(args.upload_limit, current.upload_bps),
        peers: args
            .peer_limit
            .map_or(current.peers, |p| (p > 0).then_some(p)),
    }
}

/// `down 1.0 MiB/s, up none, peers 40`.
pub(super) fn describe_limits(l: &Limits, none: &str) -> String {
    let rate = |r: Option<u64>| {
        r.map(|b| {
            format!(
                "{}/s",
                format_size(b, BINARY.decimal_places(1).decimal_zeroes(1))
            )
        })
        .unwrap_or_else(|| none.to_string())
    };
    format!(
        "down {}, up {}, peers {}",
        rate(l.download_bps),
        rate(l.upload_bps),
        l.peers
            .map(|p| p.to_string())
            .unwrap_or_else(|| none.to_string())
    )
}

pub(super) fn limit(
    ctx: &AppContext,
    saved: &SavedSession,
    args: &LimitArgs,
) -> anyhow::Result<i32> {
    if args.session {
        let current = saved
            .stored_limits()?
            .unwrap_or_else(|| ctx.config.limits.to_limits());
        let new = apply_limits(current, args);
        if new != current {
            saved.set_session_limits(new)?;
        }
        outln!("session limits: {}", describe_limits(&new, "none"))?;
        return Ok(0);
    }
    let mut lines = Vec::new();
    saved.edit_limits(
        &args.ids,
        |l| apply_limits(l, args),
        |r: &TorrentRecord| {
            lines.push(format!(
                "{}  limits: {}  {}",
                r.info_hash,
                describe_limits(&r.limits, "session's"),
                source::sanitize_display(&r.name)
            ))
        },
    )?;
    for l in lines {
        outln!("{l}")?;
    }
    Ok(0)
}

/// The list `--add` and `--remove` make of `current`.
pub(super) fn edit_tracker_list(
    current: &[String],
    add: &[String],
    remove: &[String],
) -> anyhow::Result<Vec<String>> {
    for r in remove {
        if !current.iter().any(|c| c == r.trim()) {
            anyhow::bail!(
                "the torrent has no tracker '{}': `trove trackers ID` lists them",
                source::sanitize_display(r)
            );
        }
    }
    Ok(current
        .iter()
        .filter(|c| !remove.iter().any(|r| r.trim() == c.as_str()))
        .cloned()
        .chain(add.iter().map(|a| a.trim().to_string()))
        .collect())
}

pub(super) fn trackers(
    ctx: &AppContext,
    saved: &SavedSession,
    id: &str,
    add: &[String],
    remove: &[String],
) -> anyhow::Result<i32> {
    let mut t = saved.saved_torrent(&ctx.roots, id)?;
    if !add.is_empty() || !remove.is_empty() {
        let list = edit_tracker_list(&t.trackers, add, remove)?;
        saved.set_trackers(&t.record.info_hash, &list)?;
        t = saved.saved_torrent(&ctx.roots, id)?;
    }
    if t.trackers.is_empty() {
        outln!("no trackers: peers come from DHT, peer exchange and the peers given with --peer")?;
    }
    for url in &t.trackers {
        outln!("{url}  not running (no session)")?;
    }
    Ok(0)
}

pub(super) fn magnet(ctx: &AppContext, saved: &SavedSession, id: &str) -> anyhow::Result<i32> {
    outln!("{}", saved.saved_torrent(&ctx.roots, id)?.magnet)?;
    Ok(0)
}

pub(super) async fn recheck_running(client: &Client, ids: &[String]) -> anyhow::Result<i32> {
    for (hash, name) in resolve(client, ids)? {
        client
            .run(Command::Recheck(hash.clone()))
            .await
            .map_err(engine_err)?;
        outln!("{hash}  checking  {}", source::sanitize_display(&name))?;
    }
    Ok(0)
}

pub(super) async fn select_running(client: &Client, id: &str, files: &str) -> anyhow::Result<i32> {
    let selection = parse_selection(files)?;
    let (hash, name) = one(client, id)?;
    let details = client.details(&hash).await.map_err(engine_err)?;
    let all: Vec<usize> = details.files.iter().map(|f| f.index).collect();
    let chosen = selection.clone().unwrap_or(all);
    client
        .run(Command::SelectFiles {
            id: hash.clone(),
            files: chosen,
        })
        .await
        .map_err(engine_err)?;
    let what = describe_selection(selection.as_deref());
    outln!(
        "{hash}  selected {what}  {}",
        source::sanitize_display(&name)
    )?;
    Ok(0)
}

pub(super) async fn limit_running(client: &Client, args: &LimitArgs) -> anyhow::Result<i32> {
    if args.session {
        let current = client.snapshot().limits;
        let new = apply_limits(current, args);
        if new != current {
            client
                .run(Command::SetGlobalLimits(new))
                .await
                .map_err(engine_err)?;
        }
        outln!("session limits: {}", describe_limits(&new, "none"))?;
        return Ok(0);
    }
    let targets = resolve(client, &args.ids)?;
    for (hash, name) in targets {
        let current = client
            .snapshot()
            .torrents
            .iter()
            .find(|t| t.info_hash == hash)
            .map(|t| t.limits)
            .unwrap_or_default();
        let new = apply_limits(current, args);
        client
            .run(Command::SetTorrentLimits {
                id: hash.clone(),
                limits: new,
            })
            .await
            .map_err(engine_err)?;
        outln!(
            "{hash}  limits: {}  {}",
            describe_limits(&new, "session's"),
            source::sanitize_display(&name)
        )?;
    }
    Ok(0)
}

pub(super) async fn trackers_running(
    client: &Client,
    id: &str,
    add: &[String],
    remove: &[String],
) -> anyhow::Result<i32> {
    let (hash, _) = one(client, id)?;
    let mut details = client.details(&hash).await.map_err(engine_err)?;
    if !add.is_empty() || !remove.is_empty() {
        let current: Vec<String> = details.trackers.iter().map(|t| t.url.clone()).collect();
        let list = edit_tracker_list(&current, add, remove)?;
        client
            .run(Command::SetTrackers {
                id: hash.clone(),
                trackers: list,
            })
            .await
            .map_err(engine_err)?;
        details = client.details(&hash).await.map_err(engine_err)?;
    }
    if details.trackers.is_empty() {
        outln!("no trackers: peers come from DHT, peer exchange and the peers given with --peer")?;
    }
    for t in &details.trackers {
        match &t.last_error {
            Some(e) => outln!("{}  {}  last error: {e}", t.url, t.status)?,
            None => outln!("{}  {}", t.url, t.status)?,
        }
    }
    Ok(0)
}

pub(super) async fn magnet_running(client: &Client, id: &str) -> anyhow::Result<i32> {
    let (hash, _) = one(client, id)?;
    let details = client.details(&hash).await.map_err(engine_err)?;
    outln!("{}", details.magnet)?;
    Ok(0)
}

/// The one torrent `id` names in a running session, with its name.
fn one(client: &Client, id: &str) -> anyhow::Result<(String, String)> {
    let mut found = resolve(client, &[id.to_string()])?;
    Ok(found.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_is_indices_or_all() {
        assert_eq!(parse_selection("0, 2,5").unwrap(), Some(vec![0, 2, 5]));
        assert_eq!(parse_selection("ALL").unwrap(), None);
        assert!(
            parse_selection("1,x")
                .unwrap_err()
                .to_string()
                .contains("'x'")
        );
    }

    #[test]
    fn limits_not_given_are_kept_and_zero_removes_one() {
        let current = Limits {
            download_bps: Some(1000),
            upload_bps: Some(2000),
            peers: Some(5),
        };
        let args = LimitArgs {
            ids: vec![],
            session: true,
            download_limit: Some(RateArg(None)),
            upload_limit: None,
            peer_limit: Some(0),
        };
        assert_eq!(
            apply_limits(current, &args),
            Limits {
                download_bps: None,
                upload_bps: Some(2000),
                peers: None
            }
        );
    }

    #[test]
    fn trackers_are_added_and_removed_and_an_unknown_one_is_refused() {
        let cur = vec!["http://a/x".to_string(), "udp://b:1".to_string()];
        assert_eq!(
            edit_tracker_list(&cur, &["http://c/y".into()], &["http://a/x".into()]).unwrap(),
            ["udp://b:1", "http://c/y"]
        );
        assert!(edit_tracker_list(&cur, &[], &["http://z/".into()]).is_err());
    }
}
