//! [`SledStore`]: the persistent store, an embedded sled database in the data dir. It is
//! created whole or not at all, opened only after the `damage` module has checked a copy
//! of it, and keeps the manifest in step with every durable write.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::damage::{
    self, Salvaged, check, check_a_copy, folder_is_missing_or_empty, read_trees,
    refuse_future_manifest,
};
use super::error::damaged;
use super::layout::{
    FORMAT_KEY, GENERATION_KEY, Manifest, SETTINGS_KEY, open_sled, read_manifest,
    remove_stale_scratch, sibling, write_manifest,
};
use super::record::{decode_record, encode};
use super::{STORE_FORMAT, SessionSettings, SessionStore, StoreError, StoreResult, TorrentRecord};

/// The manifest as last written, kept in memory.
#[derive(Debug, Default)]
struct Seal {
    generation: u64,
    torrents: BTreeSet<String>,
    /// Torrents written with `put_many_unsynced`, added to the manifest at the next flush.
    pending: BTreeSet<String>,
}

/// The persistent store: an embedded sled database in the data dir.
pub struct SledStore {
    path: PathBuf,
    db: sled::Db,
    records: sled::Tree,
    torrents: sled::Tree,
    meta: sled::Tree,
    seal: Mutex<Seal>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. The caller holds the data-dir lock.
    ///
    /// A store that is damaged, lost saved changes, or comes from a newer trove is refused
    /// with its files unchanged (the `damage` module says how).
    pub fn open(dir: &Path) -> StoreResult<Self> {
        let path = dir.to_path_buf();
        if folder_is_missing_or_empty(dir)? {
            create_fresh(dir)?;
        }
        remove_stale_scratch(dir);
        let manifest = read_manifest(dir)?;
        // A newer trove may keep its store in a way this sled cannot even open.
        refuse_future_manifest(&path, manifest.as_ref())?;
        // Check a copy first: sled rewrites files while it recovers.
        check_a_copy(dir, manifest.as_ref())?;
        // The copy opened, so a failure now is about the folder (permissions, a full
        // disk), not its contents.
        let (db, meta, records, torrents) = open_sled(dir).map_err(|reason| {
            StoreError::Io(format!(
                "cannot open the store at {}: {reason}",
                path.display()
            ))
        })?;
        let found = read_trees(&meta, &records, &torrents, false);
        check(&path, &found, manifest.as_ref())?;
        let store = SledStore {
            path,
            db,
            records,
            torrents,
            meta,
            seal: Mutex::new(Seal {
                generation: found.generation,
                torrents: found.keys.clone(),
                pending: BTreeSet::new(),
            }),
        };
        let current = Manifest {
            store_format: STORE_FORMAT,
            generation: found.generation,
            torrents: found.keys,
        };
        if manifest.as_ref() != Some(&current) {
            // A store from before manifests, or sled ahead of it after a crash.
            write_manifest(&store.path, &current)?;
        }
        Ok(store)
    }

    /// Reads whatever can be read from the store in `dir` without changing a byte of it
    /// (sled opens a scratch copy), for `trove export`. Records that do not decode and
    /// .torrent bytes that cannot be read are left out and described in `problems`. Fails
    /// only when sled cannot open the store at all or it is from a newer trove.
    pub fn salvage(dir: &Path) -> StoreResult<Salvaged> {
        damage::salvage(dir)
    }

    /// Writes imported torrents (and, when given, the session settings) in one sled
    /// transaction: either all of them are stored or none. A torrent already in the store
    /// is replaced, its old .torrent bytes dropped when the new one has none.
    pub fn import(
        &self,
        torrents: &[(TorrentRecord, Option<Vec<u8>>)],
        settings: Option<&SessionSettings>,
    ) -> StoreResult<()> {
        use sled::Transactional;
        use sled::transaction::ConflictableTransactionError;
        let encoded: Vec<(Vec<u8>, Option<&Vec<u8>>)> = torrents
            .iter()
            .map(|(r, b)| encode(r).map(|e| (e, b.as_ref())))
            .collect::<StoreResult<_>>()?;
        let settings = settings
            .map(|s| serde_json::to_vec(s).map_err(|e| StoreError::Io(e.to_string())))
            .transpose()?;
        (&self.records, &self.torrents, &self.meta)
            .transaction(|(records, files, meta)| {
                for ((r, _), (rec, bytes)) in torrents.iter().zip(&encoded) {
                    let key = r.info_hash.as_bytes();
                    records.insert(key, rec.as_slice())?;
                    match bytes {
                        Some(b) => files.insert(key, b.as_slice())?,
                        None => files.remove(key)?,
                    };
                }
                if let Some(s) = &settings {
                    meta.insert(SETTINGS_KEY, s.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e| StoreError::Io(format!("writing the imported torrents: {e:?}")))?;
        self.sync(torrents.iter().map(|(r, _)| r.info_hash.clone()))
    }

    /// Makes every write so far durable, then records it in the manifest.
    fn sync(&self, added: impl IntoIterator<Item = String>) -> StoreResult<()> {
        let mut seal = lock_seal(&self.seal);
        let generation = seal.generation + 1;
        self.meta
            .insert(GENERATION_KEY, &generation.to_be_bytes())?;
        self.db.flush()?;
        seal.generation = generation;
        let pending = std::mem::take(&mut seal.pending);
        seal.torrents.extend(pending);
        seal.torrents.extend(added);
        let written = write_manifest(
            &self.path,
            &Manifest {
                store_format: STORE_FORMAT,
                generation,
                torrents: seal.torrents.clone(),
            },
        );
        release_garbage();
        written
    }

    fn decode(&self, key: &[u8], value: &[u8]) -> StoreResult<TorrentRecord> {
        decode_record(key, value).map_err(|reason| damaged(&self.path, reason))
    }
}

/// Hands the old tree nodes this thread's sled writes replaced over to be freed.
///
/// sled frees a replaced node (and the old value) only after an epoch (crossbeam-epoch),
/// queued in a bag that belongs to the writing thread; the bag reaches the shared queue only
/// when it is full (64 entries) or the thread exits. The engine writes from whichever tokio
/// thread it is on, and librqbit's `block_in_place` disk reads keep handing the worker role
/// to other threads of the blocking pool, which live on and seldom write again: each kept a
/// part-full bag. In the seeding soak (50-70 threads before the pool was capped at 8) this
/// was the largest growing allocation site under heaptrack, about 4.5 KiB of heap per leech
/// session. Flushing the bag after every write keeps what waits to be freed to about one
/// write's worth, whatever the number of threads (crates/trove-engine/tests/store_memory.rs).
fn release_garbage() {
    sled::pin().flush();
}

fn lock_seal(m: &Mutex<Seal>) -> MutexGuard<'_, Seal> {
    // The seal is only ever replaced whole-field by field after a flush; a panic between
    // two fields leaves a manifest that claims less than sled has, which is allowed.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Creates a new store in a scratch folder and renames it into place, so a folder at
/// `dir` is always a whole store (marker and manifest included), never half of one.
fn create_fresh(dir: &Path) -> StoreResult<()> {
    let io = |what: &str, e: std::io::Error| {
        StoreError::Io(format!(
            "cannot create the store at {}: {what}: {e}",
            dir.display()
        ))
    };
    let tmp = sibling(dir, "new");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io("creating a scratch folder", e))?;
    {
        let (db, meta, _, _) = open_sled(&tmp).map_err(StoreError::Io)?;
        meta.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes())?;
        meta.insert(GENERATION_KEY, &1u64.to_be_bytes())?;
        db.flush()?;
    }
    write_manifest(
        &tmp,
        &Manifest {
            store_format: STORE_FORMAT,
            generation: 1,
            torrents: BTreeSet::new(),
        },
    )?;
    if dir.exists() {
        // Only ever an empty folder here (see folder_is_missing_or_empty).
        std::fs::remove_dir(dir).map_err(|e| io("replacing the empty folder", e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| io("moving it into place", e))
}

impl SessionStore for SledStore {
    fn list(&self) -> StoreResult<Vec<TorrentRecord>> {
        let mut out = Vec::new();
        for item in self.records.iter() {
            let (k, v) = item?;
            out.push(self.decode(&k, &v)?);
        }
        Ok(out)
    }

    fn get(&self, info_hash: &str) -> StoreResult<Option<TorrentRecord>> {
        match self.records.get(info_hash.as_bytes())? {
            Some(v) => Ok(Some(self.decode(info_hash.as_bytes(), &v)?)),
            None => Ok(None),
        }
    }

    fn put(&self, record: &TorrentRecord) -> StoreResult<()> {
        self.records
            .insert(record.info_hash.as_bytes(), encode(record)?)?;
        self.sync([record.info_hash.clone()])
    }

    fn put_many_unsynced(&self, records: &[TorrentRecord]) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        for r in records {
            batch.insert(r.info_hash.as_bytes(), encode(r)?);
        }
        self.records.apply_batch(batch)?;
        release_garbage();
        lock_seal(&self.seal)
            .pending
            .extend(records.iter().map(|r| r.info_hash.clone()));
        Ok(())
    }

    fn remove(&self, info_hash: &str) -> StoreResult<()> {
        {
            // The manifest forgets the torrent before sled does: after a crash in between,
            // sled holds one torrent more than the manifest, which is allowed.
            let mut seal = lock_seal(&self.seal);
            seal.pending.remove(info_hash);
            if seal.torrents.remove(info_hash) {
                write_manifest(
                    &self.path,
                    &Manifest {
                        store_format: STORE_FORMAT,
                        generation: seal.generation,
                        torrents: seal.torrents.clone(),
                    },
                )?;
            }
        }
        self.records.remove(info_hash.as_bytes())?;
        self.torrents.remove(info_hash.as_bytes())?;
        self.sync([])
    }

    fn torrent_bytes(&self, info_hash: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.torrents.get(info_hash.as_bytes())?.map(|v| v.to_vec()))
    }

    fn put_torrent_bytes(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()> {
        self.put_torrent_bytes_unsynced(info_hash, bytes)?;
        self.sync([])
    }

    fn put_torrent_bytes_unsynced(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()> {
        self.torrents.insert(info_hash.as_bytes(), bytes)?;
        Ok(())
    }

    fn settings(&self) -> StoreResult<SessionSettings> {
        match self.meta.get(SETTINGS_KEY)? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| {
                damaged(
                    &self.path,
                    format!("the session settings are not readable ({e})"),
                )
            }),
            None => Ok(SessionSettings::default()),
        }
    }

    fn put_settings(&self, settings: &SessionSettings) -> StoreResult<()> {
        let bytes = serde_json::to_vec(settings).map_err(|e| StoreError::Io(e.to_string()))?;
        self.meta.insert(SETTINGS_KEY, bytes)?;
        self.sync([])
    }

    fn flush(&self) -> StoreResult<()> {
        self.sync([])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::{exercise, hash, record, store_with_two};
    use crate::store::layout::MANIFEST_FILE;
    use trove_proto::snapshot::Limits;

    #[test]
    fn sled_store_round_trips_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SledStore::open(dir.path()).unwrap();
            exercise(&s);
        }
        let s = SledStore::open(dir.path()).unwrap();
        let all = s.list().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].uploaded_total, 99);
    }

    #[test]
    fn sled_store_refuses_future_format_without_touching_it() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SledStore::open(dir.path()).unwrap();
            s.put(&record("aa")).unwrap();
            s.meta.insert(FORMAT_KEY, &99u32.to_be_bytes()).unwrap();
            s.flush().unwrap();
        }
        let err = SledStore::open(dir.path()).err().unwrap();
        assert!(
            matches!(err, StoreError::FutureFormat { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("newer trove"));
    }

    #[test]
    fn a_new_store_is_created_whole_with_its_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        drop(SledStore::open(&path).unwrap());
        let m = read_manifest(&path).unwrap().unwrap();
        assert_eq!(m.store_format, STORE_FORMAT);
        assert!(m.torrents.is_empty());
        // An empty folder is a store to create, too.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        drop(SledStore::open(&empty).unwrap());
        assert!(empty.join("db").is_file());
        // No scratch folder is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn the_manifest_follows_puts_flushes_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        s.put(&record(&hash(1))).unwrap();
        s.put_many_unsynced(&[record(&hash(2))]).unwrap();
        let m = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!(
            m.torrents.len(),
            1,
            "an unsynced put is not in the manifest yet"
        );
        s.flush().unwrap();
        let m2 = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!(m2.torrents.len(), 2);
        assert!(m2.generation > m.generation);
        s.remove(&hash(1)).unwrap();
        let m3 = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!(m3.torrents, BTreeSet::from([hash(2)]));
        drop(s);
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.list().unwrap().len(), 1);
    }

    #[test]
    fn a_store_without_a_manifest_gets_one() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        std::fs::remove_file(dir.path().join(MANIFEST_FILE)).unwrap();
        drop(SledStore::open(dir.path()).unwrap());
        assert_eq!(
            read_manifest(dir.path()).unwrap().unwrap().torrents.len(),
            2
        );
        // An unreadable one too (it only costs the cross-check).
        std::fs::write(dir.path().join(MANIFEST_FILE), b"\x00garbage").unwrap();
        drop(SledStore::open(dir.path()).unwrap());
        assert_eq!(
            read_manifest(dir.path()).unwrap().unwrap().torrents.len(),
            2
        );
    }

    #[test]
    fn import_writes_everything_in_one_go_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        store_with_two(dir.path());
        let s = SledStore::open(dir.path()).unwrap();
        let mut r1 = record(&hash(1));
        r1.uploaded_total = 12345;
        let settings = SessionSettings {
            limits: Some(Limits {
                download_bps: Some(5),
                upload_bps: None,
                peers: None,
            }),
            ..Default::default()
        };
        s.import(
            &[
                (r1.clone(), None),
                (record(&hash(3)), Some(b"d4:infoe".to_vec())),
            ],
            Some(&settings),
        )
        .unwrap();
        drop(s);
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.list().unwrap().len(), 3);
        assert_eq!(s.get(&hash(1)).unwrap(), Some(r1));
        assert_eq!(
            s.torrent_bytes(&hash(1)).unwrap(),
            None,
            "replaced without bytes"
        );
        assert_eq!(s.torrent_bytes(&hash(3)).unwrap().unwrap(), b"d4:infoe");
        assert_eq!(s.settings().unwrap(), settings);
        assert_eq!(
            read_manifest(dir.path()).unwrap().unwrap().torrents.len(),
            3
        );
    }

    #[test]
    fn stale_scratch_folders_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        drop(SledStore::open(&store).unwrap());
        for name in [".store.check-999999", ".store.new-123"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::create_dir(dir.path().join(".store.check-mine")).unwrap();
        drop(SledStore::open(&store).unwrap());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec![".store.check-mine", "store"]);
    }

    /// The writer half of the kill -9 test: writes like the engine does until killed.
    fn write_until_killed(dir: &Path) -> ! {
        let s = SledStore::open(dir).unwrap();
        let mut i: u64 = 0;
        loop {
            i += 1;
            let h = hash((i % 20) as u8);
            let mut r = record(&h);
            r.uploaded_total = i;
            match i % 7 {
                0 => {
                    s.remove(&h).unwrap();
                    s.put(&r).unwrap();
                }
                1 => s
                    .put_torrent_bytes(&h, &vec![(i % 251) as u8; 5000])
                    .unwrap(),
                2 => {
                    let batch: Vec<TorrentRecord> = (0..20u8)
                        .map(|k| {
                            let mut r = record(&hash(k));
                            r.downloaded_total = i;
                            r
                        })
                        .collect();
                    s.put_many_unsynced(&batch).unwrap();
                    s.flush().unwrap();
                }
                3 => s
                    .put_settings(&SessionSettings {
                        limits: Some(Limits {
                            download_bps: Some(i),
                            upload_bps: None,
                            peers: None,
                        }),
                        ..Default::default()
                    })
                    .unwrap(),
                _ => s.put(&r).unwrap(),
            }
        }
    }

    /// A crash is not damage: after `kill -9` at random moments of heavy writing, the store
    /// always opens (sled is only ever ahead of the manifest).
    #[test]
    fn kill_9_while_writing_never_looks_like_damage() {
        // This test again, as the test binary names it: its path in the crate, without
        // the crate's name.
        let me = concat!(
            module_path!(),
            "::kill_9_while_writing_never_looks_like_damage"
        )
        .split_once("::")
        .map(|(_, path)| path)
        .unwrap();
        if let Some(dir) = std::env::var_os("TROVE_TEST_STORE_WRITER") {
            write_until_killed(Path::new(&dir));
        }
        let dir = tempfile::tempdir().unwrap();
        drop(SledStore::open(dir.path()).unwrap());
        let rounds: u64 = std::env::var("TROVE_KILL_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8);
        for round in 0..rounds {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", me, "--test-threads=1", "--nocapture"])
                .env("TROVE_TEST_STORE_WRITER", dir.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(150 + (round * 97) % 400));
            child.kill().unwrap();
            child.wait().unwrap();
            let s = SledStore::open(dir.path())
                .unwrap_or_else(|e| panic!("round {round}: a crash looked like damage: {e}"));
            assert!(!s.list().unwrap().is_empty() || round == 0);
        }
    }
}
