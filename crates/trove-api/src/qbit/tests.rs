//! The endpoints against a session answered by the test itself (`Client::pair`): which
//! commands each request becomes, and what it answers.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use trove_proto::queue::{GoalAction, QueueLimits, QueueMove, SeedingGoals};
use trove_proto::{
    AddOptions, Added, Client, Command, EngineError, Limits, Reply, SessionSnapshot, TorrentSource,
    TorrentState,
};

use super::mapping::tests::{root, summary};
use super::{Ctx, QbitState, answer};
use crate::auth::{Auth, Brake};

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// A session holding A (in root tv, tag a) and B, that records every command and answers
/// `Done` (or `Added` for an add, `UnknownId` for details); `edit` changes its snapshot
/// first.
fn session_with(edit: impl FnOnce(&mut SessionSnapshot)) -> (Client, Arc<Mutex<Vec<Command>>>) {
    let mut a = summary(A, TorrentState::Downloading);
    a.root_token = "tv".into();
    a.limits.download_bps = Some(5);
    let mut b = summary(B, TorrentState::Paused);
    b.paused = true;
    b.root_token = "downloads".into();
    b.tags = Vec::new();
    let mut snapshot = SessionSnapshot {
        torrents: vec![a, b],
        roots: vec![root("downloads", "/d", true), root("tv", "/srv/tv", false)],
        tags: vec!["a".into(), "b".into()],
        ..SessionSnapshot::default()
    };
    edit(&mut snapshot);
    let (client, mut server) = Client::pair(snapshot);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Some((command, reply)) = server.requests.recv().await {
            let answer = match &command {
                Command::Add(..) => Ok(Reply::Added(Added {
                    info_hash: "c".repeat(40),
                    name: "new".into(),
                    new: true,
                })),
                Command::Details(id) => Err(EngineError::UnknownId(id.clone())),
                _ => Ok(Reply::Done),
            };
            record.lock().expect("lock").push(command);
            let _ = reply.send(answer);
        }
    });
    (client, seen)
}

/// Sends one form POST; returns (status, body) and the commands it caused.
async fn post(path: &str, form: &str) -> (u16, String, Vec<Command>) {
    post_with(|_| {}, path, form).await
}

/// [`post`] to a session whose snapshot `edit` changed first.
async fn post_with(
    edit: impl FnOnce(&mut SessionSnapshot),
    path: &str,
    form: &str,
) -> (u16, String, Vec<Command>) {
    let (client, seen) = session_with(edit);
    let auth = Auth::none();
    let brake = Brake::default();
    let state = QbitState::default();
    let ctx = Ctx {
        session: &client,
        auth: &auth,
        brake: &brake,
        state: &state,
        ip: None,
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let response = match answer(
        &ctx,
        &Method::POST,
        path,
        None,
        &headers,
        Bytes::from(form.to_string()),
    )
    .await
    {
        Ok(r) => r,
        Err(refusal) => refusal.into_response(),
    };
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    let commands = seen.lock().expect("lock").clone();
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        commands,
    )
}

#[tokio::test]
async fn actions_become_one_command_per_held_torrent() {
    let (status, _, commands) = post("torrents/pause", "hashes=all").await;
    assert_eq!(status, 200);
    assert_eq!(
        commands,
        vec![Command::Pause(A.into()), Command::Pause(B.into())]
    );
    // An unknown hash is skipped, as qBittorrent skips it.
    let (status, _, commands) =
        post("torrents/start", &format!("hashes={}|{B}", "f".repeat(40))).await;
    assert_eq!(status, 200);
    assert_eq!(commands, vec![Command::Resume(B.into())]);
    let (_, _, commands) = post("torrents/delete", &format!("hashes={A}&deleteFiles=true")).await;
    assert_eq!(
        commands,
        vec![Command::Remove {
            id: A.into(),
            delete_data: true
        }]
    );
    // A limit keeps the torrent's other limits.
    let (_, _, commands) = post("torrents/setUploadLimit", &format!("hashes={A}&limit=1024")).await;
    assert_eq!(
        commands,
        vec![Command::SetTorrentLimits {
            id: A.into(),
            limits: Limits {
                download_bps: Some(5),
                upload_bps: Some(1024),
                peers: None
            },
        }]
    );
    let (status, body, commands) = post("torrents/topPrio", "hashes=all").await;
    assert_eq!((status, commands.len()), (409, 0), "{body}");
}

#[tokio::test]
async fn categories_are_roots_and_tags_are_tags() {
    let (status, _, commands) = post(
        "torrents/createCategory",
        "category=movies&savePath=/srv/movies",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        commands,
        vec![Command::CreateRoot {
            label: "movies".into(),
            path: "/srv/movies".into()
        }]
    );
    let (status, _, _) = post("torrents/createCategory", "category=tv&savePath=/x").await;
    assert_eq!(status, 409, "tv exists");
    let (_, _, commands) = post("torrents/setCategory", &format!("hashes={B}&category=tv")).await;
    assert_eq!(
        commands,
        vec![Command::Move {
            ids: vec![B.into()],
            root: "tv".into()
        }]
    );
    let (_, _, commands) = post("torrents/setCategory", &format!("hashes={A}&category=")).await;
    assert_eq!(
        commands,
        vec![Command::Move {
            ids: vec![A.into()],
            root: "downloads".into()
        }]
    );
    let (status, _, commands) = post("torrents/removeCategories", "categories=tv%0Anope").await;
    assert_eq!(
        (status, commands),
        (200, vec![Command::RemoveRoots(vec!["tv".into()])])
    );
    let (_, _, commands) = post("torrents/addTags", &format!("hashes={A}|{B}&tags=x, y")).await;
    assert_eq!(
        commands,
        vec![Command::EditTags {
            ids: vec![A.into(), B.into()],
            add: vec!["x".into(), "y".into()],
            remove: vec![]
        }]
    );
    // Without tags, removeTags takes every tag off.
    let (_, _, commands) = post("torrents/removeTags", &format!("hashes={A}")).await;
    assert_eq!(
        commands,
        vec![Command::EditTags {
            ids: vec![A.into()],
            add: vec![],
            remove: vec!["a".into(), "b".into()]
        }]
    );
    let (_, _, commands) = post("torrents/deleteTags", "tags=a,b").await;
    assert_eq!(
        commands,
        vec![Command::DeleteTags(vec!["a".into(), "b".into()])]
    );
}

#[tokio::test]
async fn an_add_goes_to_the_category_made_for_it() {
    let magnet = format!("magnet:?xt=urn:btih:{}", "c".repeat(40));
    let form = format!(
        "urls={}&category=films&tags=new&paused=true&dlLimit=2048",
        form_urlencoded::byte_serialize(magnet.as_bytes()).collect::<String>()
    );
    let (status, body, commands) = post("torrents/add", &form).await;
    assert_eq!((status, body.as_str()), (200, "Ok."));
    assert_eq!(
        commands,
        vec![
            Command::CreateRoot {
                label: "films".into(),
                path: "/d/films".into()
            },
            Command::Add(
                TorrentSource::Magnet(magnet),
                AddOptions {
                    root: Some("films".into()),
                    paused: true,
                    limits: Limits {
                        download_bps: Some(2048),
                        upload_bps: None,
                        peers: None
                    },
                    tags: vec!["new".into()],
                    ..AddOptions::default()
                }
            ),
        ]
    );
}

#[tokio::test]
async fn global_limits_come_from_preferences_and_transfer() {
    let (_, _, commands) = post(
        "app/setPreferences",
        "json={\"dl_limit\":4096,\"up_limit\":-1,\"locale\":\"fr\"}",
    )
    .await;
    assert_eq!(
        commands,
        vec![Command::SetGlobalLimits(Limits {
            download_bps: Some(4096),
            upload_bps: None,
            peers: None
        })]
    );
    let (_, _, commands) = post("transfer/setUploadLimit", "limit=100").await;
    assert_eq!(
        commands,
        vec![Command::SetGlobalLimits(Limits {
            download_bps: None,
            upload_bps: Some(100),
            peers: None
        })]
    );
    let (status, body, _) = post("torrents/info", "category=tv").await;
    assert_eq!(status, 200);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).expect("JSON");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["hash"], A);
    let (status, _, _) = post("torrents/properties", &format!("hash={}", "f".repeat(40))).await;
    assert_eq!(status, 404);
}

/// A session queueing (one download at a time) with session goals of ratio 2, 1 h.
fn queueing(s: &mut SessionSnapshot) {
    s.queue_limits = QueueLimits {
        max_active_downloads: 1,
        ..Default::default()
    };
    s.goals = Some(SeedingGoals {
        ratio: Some(2.0),
        seeding_secs: Some(3600),
        idle_secs: Some(600),
        action: GoalAction::Remove,
    });
}

#[tokio::test]
async fn priority_calls_move_torrents_in_the_queue_once_queueing_is_on() {
    for (path, to) in [
        ("torrents/topPrio", QueueMove::Top),
        ("torrents/bottomPrio", QueueMove::Bottom),
        ("torrents/increasePrio", QueueMove::Up),
        ("torrents/decreasePrio", QueueMove::Down),
    ] {
        let (status, body, commands) = post_with(queueing, path, &format!("hashes={B}|{A}")).await;
        assert_eq!(status, 200, "{path}: {body}");
        // The torrents go in the session's order, whatever the order of the hashes.
        assert_eq!(
            commands,
            vec![Command::Queue {
                ids: vec![A.into(), B.into()],
                to
            }],
            "{path}"
        );
        // Queueing off: refused as qBittorrent refuses it, and nothing moves.
        let (status, body, commands) = post(path, &format!("hashes={A}")).await;
        assert_eq!((status, commands.len()), (409, 0), "{path}: {body}");
        assert!(body.contains("queueing"), "{body}");
    }
    // An unknown hash alone moves nothing.
    let (status, _, commands) = post_with(
        queueing,
        "torrents/topPrio",
        &format!("hashes={}", "f".repeat(40)),
    )
    .await;
    assert_eq!((status, commands.len()), (200, 0));
}

#[tokio::test]
async fn set_share_limits_sets_each_torrents_own_goals() {
    // A ratio and minutes; the goals qBittorrent has no field for stay the session's.
    let (status, _, commands) = post_with(
        queueing,
        "torrents/setShareLimits",
        &format!("hashes={A}&ratioLimit=1.5&seedingTimeLimit=90"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        commands,
        vec![Command::SetGoals {
            id: Some(A.into()),
            goals: Some(SeedingGoals {
                ratio: Some(1.5),
                seeding_secs: Some(90 * 60),
                idle_secs: Some(600),
                action: GoalAction::Remove,
            }),
        }]
    );
    // -1: no such goal; -2: the session's value.
    let (_, _, commands) = post_with(
        queueing,
        "torrents/setShareLimits",
        &format!("hashes={A}&ratioLimit=-1&seedingTimeLimit=-2"),
    )
    .await;
    assert_eq!(
        commands,
        vec![Command::SetGoals {
            id: Some(A.into()),
            goals: Some(SeedingGoals {
                ratio: None,
                seeding_secs: Some(3600),
                idle_secs: Some(600),
                action: GoalAction::Remove,
            }),
        }]
    );
    // Both -2: the torrents follow the session's goals again.
    let (_, _, commands) = post_with(
        queueing,
        "torrents/setShareLimits",
        "hashes=all&ratioLimit=-2&seedingTimeLimit=-2",
    )
    .await;
    assert_eq!(
        commands,
        vec![
            Command::SetGoals {
                id: Some(A.into()),
                goals: None
            },
            Command::SetGoals {
                id: Some(B.into()),
                goals: None
            },
        ]
    );
    let (status, body, commands) = post(
        "torrents/setShareLimits",
        &format!("hashes={A}&ratioLimit=lots&seedingTimeLimit=-2"),
    )
    .await;
    assert_eq!((status, commands.len()), (400, 0), "{body}");
    assert!(body.contains("ratioLimit"), "{body}");
}

#[tokio::test]
async fn set_force_start_forces_and_leaves_a_paused_torrent_paused() {
    let (status, _, commands) = post_with(
        queueing,
        "torrents/setForceStart",
        &format!("hashes={A}|{B}&value=true"),
    )
    .await;
    assert_eq!(status, 200);
    // B is paused and stays so, as in qBittorrent: it runs forced once resumed.
    assert_eq!(
        commands,
        vec![Command::Force {
            ids: vec![A.into(), B.into()],
            on: true
        }]
    );
    let (_, _, commands) = post_with(
        queueing,
        "torrents/setForceStart",
        &format!("hashes={B}&value=false"),
    )
    .await;
    assert_eq!(
        commands,
        vec![Command::Force {
            ids: vec![B.into()],
            on: false
        }]
    );
}
