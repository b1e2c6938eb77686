//! `torrents/add`: magnet links and http(s) URLs (`urls`, one a line) and .torrent files
//! (multipart `torrents`), into the root a `category` or `savepath` names.
//!
//! `savepath` must be the folder of one of the session's roots (trove saves only into
//! roots); another folder is `400` with a message saying to make a category for it. An
//! unknown `category` is made at once, as qBittorrent makes it, as a folder of that name
//! in the default root.

use std::path::Path;

use axum::http::StatusCode;
use trove_proto::{
    AddOptions, Command, EngineError, Limits, MAX_TORRENT_FILE_BYTES, SessionSnapshot,
    TorrentSource,
};

use super::Ctx;
use super::categories::{check_name, check_path};
use super::errors::{Answer, Refusal, one_line, text};
use super::forms::{Params, check_tag, comma_list, rate};

/// One thing to add, and how to name it in a message.
struct Item {
    source: TorrentSource,
    label: String,
    is_file: bool,
}

/// The sources a request gives, checked.
fn sources(params: &Params) -> Result<Vec<Item>, Refusal> {
    let mut items = Vec::new();
    for line in params.get("urls").unwrap_or("").split('\n') {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        let source = if lower.starts_with("magnet:") {
            TorrentSource::Magnet(line.to_string())
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            TorrentSource::Url(line.to_string())
        } else if line.len() == 40 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
            // qBittorrent takes a bare info-hash as a magnet link.
            TorrentSource::Magnet(format!("magnet:?xt=urn:btih:{}", line.to_ascii_lowercase()))
        } else {
            return Err(Refusal::bad(format!(
                "'{}' is neither a magnet link, an http(s) URL nor an info-hash",
                one_line(line)
            )));
        };
        items.push(Item {
            source,
            label: one_line(line),
            is_file: false,
        });
    }
    for file in &params.files {
        if file.bytes.len() > MAX_TORRENT_FILE_BYTES {
            return Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "'{}' is larger than a .torrent may be",
                    one_line(&file.name)
                ),
            ));
        }
        if !looks_like_torrent(&file.bytes) {
            return Err(not_a_torrent(&file.name));
        }
        items.push(Item {
            source: TorrentSource::Bytes(file.bytes.to_vec()),
            label: one_line(&file.name),
            is_file: true,
        });
    }
    if items.is_empty() {
        return Err(Refusal::bad(
            "nothing to add: give 'urls' (magnet links or http(s) URLs, one a line) or \
             .torrent files as multipart 'torrents'",
        ));
    }
    Ok(items)
}

fn not_a_torrent(name: &str) -> Refusal {
    Refusal::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("Error: '{}' is not a valid torrent file.", one_line(name)),
    )
}

/// A .torrent is a bencoded dictionary with an `info` key; anything else is refused
/// before it reaches the engine.
fn looks_like_torrent(bytes: &[u8]) -> bool {
    bytes.first() == Some(&b'd')
        && bytes.last() == Some(&b'e')
        && bytes.windows(6).any(|w| w == b"4:info")
}

/// The root label the request's `category` and `savepath` name (None: the default root),
/// and whether the category must be made first.
fn root(
    snapshot: &SessionSnapshot,
    params: &Params,
) -> Result<(Option<String>, Option<Command>), Refusal> {
    let category = params.get("category").unwrap_or("").trim();
    let savepath = params.get("savepath").unwrap_or("").trim();
    let by_path =
        if savepath.is_empty() {
            None
        } else {
            let wanted = Path::new(savepath.trim_end_matches('/'));
            let found = snapshot.roots.iter().find(|r| r.path == wanted).ok_or_else(|| {
            Refusal::bad(format!(
                "trove saves only into its roots, and no root is at '{}': create a category \
                 with that savePath (torrents/createCategory) and add with that category",
                one_line(savepath)
            ))
        })?;
            Some(found)
        };
    if category.is_empty() {
        return Ok((by_path.map(|r| r.label.clone()), None));
    }
    check_name(category)?;
    match snapshot
        .roots
        .iter()
        .find(|r| r.label == category && !r.is_default)
    {
        Some(root) => {
            if let Some(p) = by_path
                && p.label != root.label
            {
                return Err(Refusal::conflict(format!(
                    "the savepath is the folder of '{}', not of the category '{}'",
                    one_line(&p.label),
                    one_line(category)
                )));
            }
            Ok((Some(root.label.clone()), None))
        }
        None => {
            let path = match by_path {
                Some(p) => p.path.clone(),
                None => check_path(snapshot, category, "")?,
            };
            let create = Command::CreateRoot {
                label: category.to_string(),
                path,
            };
            Ok((Some(category.to_string()), Some(create)))
        }
    }
}

/// Everything `torrents/add` asks besides the sources.
fn options(
    snapshot: &SessionSnapshot,
    params: &Params,
) -> Result<(AddOptions, Option<Command>), Refusal> {
    let (root, create) = root(snapshot, params)?;
    let paused = params
        .flag("paused")?
        .or(params.flag("stopped")?)
        .unwrap_or(false);
    let tags = comma_list(params.get("tags").unwrap_or(""));
    for tag in &tags {
        check_tag(tag)?;
    }
    let limits = Limits {
        download_bps: params.int("dlLimit")?.and_then(rate),
        upload_bps: params.int("upLimit")?.and_then(rate),
        peers: None,
    };
    Ok((
        AddOptions {
            root,
            paused,
            limits,
            tags,
            ..AddOptions::default()
        },
        create,
    ))
}

pub(crate) async fn add(ctx: &Ctx<'_>, params: &Params) -> Answer {
    let items = sources(params)?;
    let snapshot = ctx.session.snapshot();
    let (options, create) = options(&snapshot, params)?;
    if let Some(create) = create {
        ctx.session
            .run(create)
            .await
            .map_err(|e| Refusal::conflict(e.to_string()))?;
    }
    for item in items {
        match ctx.session.add(item.source, options.clone()).await {
            Ok(_) => {}
            Err(EngineError::BadSource(why)) if item.is_file => {
                return Err(Refusal::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "Error: '{}' is not a valid torrent file: {}",
                        item.label,
                        one_line(&why)
                    ),
                ));
            }
            Err(e) => {
                return Err(Refusal::new(
                    Refusal::engine(e.clone()).status,
                    format!("cannot add '{}': {e}", item.label),
                ));
            }
        }
    }
    Ok(text("Ok."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qbit::mapping::tests::root as root_info;

    fn params(query: &str) -> Params {
        Params::from_query_and_form(Some(query), b"")
    }

    #[test]
    fn sources_are_magnets_urls_hashes_or_torrent_files() {
        let items = sources(&params(&format!(
            "urls=magnet:?xt%3Durn:btih:{h}%0Ahttp://x/t.torrent%0A%0A{h}",
            h = "a".repeat(40)
        )))
        .expect("three sources");
        assert_eq!(items.len(), 3);
        assert!(matches!(items[1].source, TorrentSource::Url(_)));
        assert!(sources(&params("urls=notaurl")).is_err());
        assert!(sources(&params("")).is_err());
        assert!(looks_like_torrent(b"d4:infod4:name1:xee"));
        assert!(!looks_like_torrent(b"hello"));
    }

    #[test]
    fn savepath_must_be_a_roots_folder_and_a_new_category_is_made() {
        let snapshot = SessionSnapshot {
            roots: vec![
                root_info("downloads", "/d", true),
                root_info("tv", "/srv/tv", false),
            ],
            ..SessionSnapshot::default()
        };
        let (o, c) = options(
            &snapshot,
            &params("savepath=/srv/tv/&tags=a,b&paused=true&upLimit=100"),
        )
        .expect("ok");
        assert_eq!(o.root.as_deref(), Some("tv"));
        assert!(c.is_none());
        assert!(o.paused);
        assert_eq!(o.tags, vec!["a", "b"]);
        assert_eq!(o.limits.upload_bps, Some(100));
        let err = options(&snapshot, &params("savepath=/elsewhere")).expect_err("not a root");
        assert!(err.message.contains("createCategory"), "{}", err.message);
        let (o, c) = options(&snapshot, &params("category=movies")).expect("ok");
        assert_eq!(o.root.as_deref(), Some("movies"));
        assert_eq!(
            c,
            Some(Command::CreateRoot {
                label: "movies".into(),
                path: "/d/movies".into()
            })
        );
        assert!(options(&snapshot, &params("category=../x")).is_err());
        assert!(options(&snapshot, &params("category=tv&savepath=/d")).is_err());
    }
}
