//! What the store's unit tests share: sample records, a closed store holding two of them,
//! a byte-for-byte picture of a store folder, and the round trip every store must pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{SessionSettings, SessionStore, SledStore, TorrentRecord};
use trove_proto::snapshot::{Limits, TorrentState};

/// A record with every field set to something other than its default.
pub(crate) fn record(hash: &str) -> TorrentRecord {
    TorrentRecord {
        info_hash: hash.to_string(),
        name: format!("t-{hash}"),
        magnet: None,
        has_metadata: true,
        root_token: "downloads".into(),
        only_files: Some(vec![0, 2]),
        paused: true,
        limits: Limits {
            download_bps: Some(1000),
            upload_bps: None,
            peers: Some(4),
        },
        added_at: 1,
        completed_at: None,
        uploaded_total: 10,
        downloaded_total: 20,
        initial_peers: vec![],
        seen_peers: vec![],
        last_state: TorrentState::Paused,
        size: 100,
        have_bytes: 50,
        selected_bytes: 100,
        error: None,
        root_path: None,
        trackers: None,
        tags: Vec::new(),
        queue_position: 3,
        forced: true,
        goals: Some(trove_proto::queue::SeedingGoals {
            ratio: Some(1.5),
            seeding_secs: Some(60),
            idle_secs: None,
            action: trove_proto::queue::GoalAction::Remove,
        }),
        seeding_ms: 5,
        moving: None,
        missing_data: None,
        metadata_first: None,
        vault_file: None,
    }
}

/// A 40-character info-hash made of byte `i`.
pub(super) fn hash(i: u8) -> String {
    format!("{i:02x}").repeat(20)
}

/// What every store must do: put, get, batch, remove, .torrent bytes and settings.
pub(super) fn exercise(store: &dyn SessionStore) {
    assert!(store.list().unwrap().is_empty());
    let r = record("aa");
    store.put(&r).unwrap();
    store.put_torrent_bytes("aa", b"d4:infoe").unwrap();
    assert_eq!(store.get("aa").unwrap(), Some(r.clone()));
    assert_eq!(store.torrent_bytes("aa").unwrap().unwrap(), b"d4:infoe");
    let mut r2 = record("bb");
    r2.uploaded_total = 99;
    store.put_many_unsynced(&[r2.clone()]).unwrap();
    store.flush().unwrap();
    assert_eq!(store.list().unwrap().len(), 2);
    store.remove("aa").unwrap();
    assert_eq!(store.get("aa").unwrap(), None);
    assert_eq!(store.torrent_bytes("aa").unwrap(), None);
    let s = SessionSettings {
        limits: Some(Limits::default()),
        tags: vec!["t".into()],
        roots: vec![crate::store::StoredRoot {
            label: "r".into(),
            path: "/r".into(),
        }],
        queue: Some(trove_proto::queue::QueueLimits {
            max_active_downloads: 2,
            max_active_seeds: 3,
            max_active_torrents: 4,
            slow_after_secs: Some(60),
        }),
        goals: Some(trove_proto::queue::SeedingGoals {
            ratio: Some(2.0),
            ..Default::default()
        }),
        goals_set: true,
    };
    store.put_settings(&s).unwrap();
    assert_eq!(store.settings().unwrap(), s);
}

/// Every file under `dir` with its bytes.
pub(super) fn snapshot_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A closed store holding records 1 and 2 (with .torrent bytes for 1).
pub(super) fn store_with_two(dir: &Path) {
    let s = SledStore::open(dir).unwrap();
    s.put(&record(&hash(1))).unwrap();
    s.put_torrent_bytes(&hash(1), &[7u8; 3000]).unwrap();
    s.put(&record(&hash(2))).unwrap();
}
