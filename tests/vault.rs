//! Vault roots against real libtorrent peers on 127.0.0.1: a torrent downloaded into a
//! vault is seeded from it byte-identical, nothing of it is on disk in the clear, a
//! restart resumes without reading everything back, a damaged chunk is never served and
//! is fetched again, and key problems hold the vault's torrents without touching their
//! data. The vaults are made with trove's choice of cipher for this CPU, and the first
//! test runs with each cipher.

// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use trove_engine::vault::Suite;
use trove_proto::command::{AddOptions, Command};
use trove_proto::snapshot::TorrentState;
use trove_testkit::engine::{Eng, LONG, MIB, payload_dir, torrent};
use trove_testkit::logs::{log_has, log_lines, ring};
use trove_testkit::{
    Daemon, MadeTorrent, Peer, STAMP_PREFIX, TroveEnv, trees_identical, wait_until,
};

/// A release as a library holds one: two tracks, a cover and a rip log.
const FILES: &[(&str, u64)] = &[
    ("01 - Opening Theme.flac", 9 * MIB + 4321),
    ("02 - Closing Theme.flac", 6 * MIB),
    ("cover.jpg", 300_000),
    ("rip.log", 7_000),
];
const NAME: &str = "Vault Album";
const PIECE: u64 = 64 * 1024;
/// Nonce and tag around each sealed chunk (a chunk is one 64 KiB piece here).
const SLOT: u64 = PIECE + 24 + 16;

async fn wait_log(hash: &str, needle: &str, timeout: Duration) {
    assert!(
        log_has(hash, needle, timeout).await,
        "no log line with {needle:?} within {timeout:?}; the torrent's lines: {:#?}",
        log_lines(hash)
    );
}

/// A fresh libtorrent leecher told only of trove at `port`: it gets the whole torrent,
/// byte-identical, with no byte failing its hash.
fn leech_all_from(t: &MadeTorrent, port: u16) {
    let leecher = Peer::start();
    let dest = payload_dir();
    leecher.leech(&t.torrent_path, dest.path());
    leecher.connect(&t.info_hash, port);
    leecher.wait_complete(&t.info_hash, LONG);
    trees_identical(&t.content_path(), &dest.path().join(NAME)).unwrap();
    assert_eq!(leecher.failed_bytes(&t.info_hash), 0);
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The vault folder's entries besides its marker: the torrents' sealed files.
fn vault_files(vault: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(vault)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != ".trove-vault")
        .collect();
    out.sort();
    out
}

/// A stamped release seeded by a libtorrent peer, downloaded into the vault root.
async fn downloaded_into_vault() -> (Eng, Peer, MadeTorrent, String, tempfile::TempDir) {
    downloaded_into_vault_with(None).await
}

/// As [`downloaded_into_vault`], the vault made with `cipher` (None: trove's choice).
async fn downloaded_into_vault_with(
    cipher: Option<Suite>,
) -> (Eng, Peer, MadeTorrent, String, tempfile::TempDir) {
    ring();
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_stamped_torrent(payload.path(), NAME, FILES, PIECE);
    seeder.seed(&t);
    let eng = Eng::start_with_vault_cipher(&["vault"], "vault", cipher).await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    (eng, seeder, t, h, payload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_downloaded_into_an_aes_256_gcm_vault_seeds_from_it_and_nothing_is_in_the_clear()
{
    downloaded_seeded_and_nothing_in_the_clear(Suite::Aes256Gcm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_downloaded_into_an_xchacha20_poly1305_vault_seeds_from_it_and_nothing_is_in_the_clear()
 {
    downloaded_seeded_and_nothing_in_the_clear(Suite::XChaCha20Poly1305).await;
}

async fn downloaded_seeded_and_nothing_in_the_clear(cipher: Suite) {
    let (mut eng, seeder, t, h, _payload) = downloaded_into_vault_with(Some(cipher)).await;
    // The leecher below must get every byte from trove, not from the first seeder.
    drop(seeder);

    let vault = eng.root("vault");
    let files = vault_files(&vault);
    assert_eq!(files.len(), 1, "one sealed file per torrent: {files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with(".vault"), "{name}");
    let raw = fs::read(&files[0]).unwrap();
    assert!(raw.len() as u64 >= t.total_size, "every byte is there");
    assert!(
        !find(&raw, STAMP_PREFIX),
        "a payload block is on disk in the clear"
    );
    for needle in FILES.iter().map(|f| f.0).chain([NAME, "Opening", ".flac"]) {
        assert!(!find(&raw, needle.as_bytes()), "{needle:?} is on disk");
        assert!(!name.contains(needle));
    }
    // The sealed file is the owner's only.
    assert_eq!(
        fs::metadata(&files[0]).unwrap().permissions().mode() & 0o077,
        0
    );

    leech_all_from(&t, eng.port());
    let cache = eng.h().details(&h).await.unwrap().vault_cache.unwrap();
    assert!(cache.hits + cache.misses > 0, "{cache:?}");
    assert!(cache.bytes <= cache.capacity_bytes, "{cache:?}");

    // A restart resumes from the fast-resume bitfield: only a sample of the pieces is
    // read back (each read of a chunk not in the new, empty cache is a miss).
    eng.restart().await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let cache = eng.h().details(&h).await.unwrap().vault_cache.unwrap();
    assert!(
        cache.misses < t.num_pieces / 4,
        "{} of {} pieces were read back after a restart: a full re-check",
        cache.misses,
        t.num_pieces
    );
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_chunk_is_never_sent_and_is_fetched_again_from_a_seeder() {
    let (mut eng, seeder, t, h, _payload) = downloaded_into_vault().await;
    eng.stop().await;
    drop(seeder);
    // Flip one byte inside a chunk in the middle of the first track.
    let damaged = t.num_pieces / 3;
    let file = vault_files(&eng.root("vault")).remove(0);
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&file)
        .unwrap();
    let at = damaged * SLOT + 24 + 1000;
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, at).unwrap();
    f.write_all_at(&[b[0] ^ 0x20], at).unwrap();
    drop(f);

    eng.boot().await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    let leecher = Peer::start();
    let dest = payload_dir();
    leecher.leech(&t.torrent_path, dest.path());
    leecher.connect(&t.info_hash, eng.port());
    wait_log(
        &h,
        &format!("chunk {damaged} of its vault file failed its authentication tag"),
        LONG,
    )
    .await;

    // A seeder comes along: trove fetches the piece from it and seeds again.
    let healer = Peer::start();
    healer.seed(&t);
    let sent_before = healer.status(&t.info_hash).total_payload_upload;
    wait_until("trove to take the healer's piece", LONG, || {
        healer.connect(&t.info_hash, eng.port());
        (healer.status(&t.info_hash).total_payload_upload >= sent_before + PIECE).then_some(())
    });
    let s = eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    assert_eq!(s.error, None);
    let failed = leecher.failed_bytes(&t.info_hash);
    assert_eq!(
        failed, 0,
        "the leecher was sent bytes that failed their hash"
    );
    // The first leecher waits a minute before it calls back a peer that dropped it
    // (libtorrent's reconnect time): a new one shows what trove serves now.
    drop(leecher);
    drop(healer);
    leech_all_from(&t, eng.port());
    eng.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_missing_or_exposed_key_holds_the_vaults_torrents_and_touches_nothing() {
    let (mut eng, seeder, _t, h, _payload) = downloaded_into_vault().await;
    drop(seeder);
    eng.stop().await;
    let file = vault_files(&eng.root("vault")).remove(0);
    let sealed = fs::read(&file).unwrap();
    let own = eng.vault_key("vault");
    let keys = own.parent().unwrap().to_path_buf();

    let other = keys.join("other.key");
    trove_engine::vault::keygen(&other).unwrap();
    let exposed = keys.join("exposed.key");
    fs::copy(&own, &exposed).unwrap();
    fs::set_permissions(&exposed, fs::Permissions::from_mode(0o644)).unwrap();
    // The right key, but a `cipher` line naming the cipher the vault was not made with.
    let made = Suite::for_this_cpu();
    let not_made = Suite::ALL.into_iter().find(|s| *s != made).unwrap();
    let mismatch = format!("sealed with {}", made.name());
    let cases: [(&Path, Option<Suite>, &str); 4] = [
        (&other, None, "was sealed with another key"),
        (&keys.join("none.key"), None, "does not exist"),
        (&exposed, None, "chmod 600"),
        (&own, Some(not_made), &mismatch),
    ];
    for (key, cipher, says) in cases {
        eng.set_vault_key("vault", key);
        eng.set_vault_cipher("vault", cipher);
        eng.boot().await;
        let held = eng
            .wait(&format!("the torrent to be held: {says}"), LONG, |s| {
                torrent(s, &h).filter(|t| {
                    t.state == TorrentState::Error
                        && t.error.as_deref().is_some_and(|e| e.contains(says))
                })
            })
            .await;
        let err = held.error.unwrap();
        assert!(err.contains("vault"), "{err}");
        let snap = eng.h().snapshot();
        let root = snap.roots.iter().find(|r| r.label == "vault").unwrap();
        assert!(root.vault);
        assert!(root.problem.as_ref().unwrap().contains(says));
        eng.stop().await;
        assert_eq!(fs::read(&file).unwrap(), sealed, "the data was touched");
    }
    let key_bytes = fs::read(&own).unwrap();
    let hex: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();

    // The right key again: the torrent seeds as before.
    eng.set_vault_key("vault", &own);
    eng.set_vault_cipher("vault", None);
    eng.boot().await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    for line in log_lines(&h) {
        assert!(!line.contains(&hex), "the key is in the log: {line}");
    }
    eng.stop().await;
}

const TROVE: &str = env!("CARGO_BIN_EXE_trove");

fn wait_seeding(env: &TroveEnv, hash: &str) {
    wait_until("the torrent to seed", LONG, || {
        env.torrent_json(hash)
            .filter(|t| t["state"].as_str() == Some("seeding"))
            .map(|_| ())
    });
}

/// Export a stopped session holding a vault torrent, import it into a fresh data dir
/// with the same vault declared: the torrent seeds from the vault there, byte-identical,
/// and neither the export nor anything trove printed holds the key.
#[test]
fn a_session_with_a_vault_torrent_exports_and_imports_without_its_key() {
    let env = TroveEnv::new(TROVE, &["main"]);
    let (vault, key) = (env.path().join("vault"), env.path().join("vault.key"));
    let said = env.run_ok(&[OsStr::new("vault"), OsStr::new("keygen"), key.as_os_str()]);
    assert!(said.contains("wrote a new vault key"), "{said}");
    env.declare_vault(&vault, &key);
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_stamped_torrent(payload.path(), NAME, FILES, PIECE);
    seeder.seed(&t);
    let hash = env.add_from(&t.torrent_path, &seeder, Some("vault"));
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("session listening", LONG);
    wait_seeding(&env, &hash);
    assert!(daemon.terminate_and_wait().success());
    drop(seeder);

    let doc = env.path().join("export.json");
    env.run_ok(&[OsStr::new("export"), doc.as_os_str()]);
    let text = fs::read_to_string(&doc).unwrap();
    let key_bytes = fs::read(&key).unwrap();
    let hex: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&key_bytes);
    assert!(
        !text.contains(&hex) && !text.contains(&b64),
        "the key is in the export"
    );
    assert!(
        text.contains("vault_file"),
        "the export says where the data is"
    );

    let fresh = TroveEnv::new(TROVE, &["main"]);
    fresh.declare_vault(&vault, &key);
    fresh.run_ok(&[OsStr::new("import"), doc.as_os_str()]);
    let mut daemon = fresh.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("session listening", LONG);
    wait_seeding(&fresh, &hash);
    leech_all_from(&t, fresh.listen_port);
    let stderr = daemon.stderr();
    assert!(!stderr.contains(&hex), "the key is in the log");
    assert!(daemon.terminate_and_wait().success());
}

fn move_to(hash: &str, root: &str) -> Command {
    Command::Move {
        ids: vec![hash.to_string()],
        root: root.to_string(),
    }
}

/// Waits until the torrent sits in `root` with no move under way, seeding.
async fn moved(eng: &Eng, hash: &str, root: &str) {
    eng.wait(&format!("{hash} to be seeding in '{root}'"), LONG, |s| {
        torrent(s, hash).filter(|t| {
            t.moving.is_none() && t.root_label == root && t.state == TorrentState::Seeding
        })
    })
    .await;
}

/// A torrent seeding from a plain root moves into a vault (sealed on the way, nothing
/// left in the clear), seeds from there, and moves out again byte-identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_moves_into_a_vault_and_out_again() {
    ring();
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_stamped_torrent(payload.path(), NAME, FILES, PIECE);
    seeder.seed(&t);
    let eng = Eng::start_with_vault(&["plain", "vault"], "vault").await;
    let h = eng.add_file(&t, &[&seeder], AddOptions::default()).await;
    eng.wait_state(&h, TorrentState::Seeding, LONG).await;
    drop(seeder);
    let (plain, vault) = (eng.root("plain"), eng.root("vault"));

    eng.h().run(move_to(&h, "vault")).await.unwrap();
    moved(&eng, &h, "vault").await;
    wait_log(&h, "moved Vault Album to storage root 'vault'", LONG).await;
    assert!(!plain.join(NAME).exists(), "the plain copy is gone");
    let sealed = vault_files(&vault);
    assert_eq!(sealed.len(), 1, "{sealed:?}");
    assert!(!find(&fs::read(&sealed[0]).unwrap(), STAMP_PREFIX));

    // It seeds from the vault: a leecher that knows only trove gets every byte.
    leech_all_from(&t, eng.port());

    eng.h().run(move_to(&h, "plain")).await.unwrap();
    moved(&eng, &h, "plain").await;
    trees_identical(&t.content_path(), &plain.join(NAME)).unwrap();
    wait_until("the vault file to be deleted", LONG, || {
        vault_files(&vault).is_empty().then_some(())
    });
}

/// A trove env with the roots `roots` and a vault root "vault" beside them, its key made
/// with `trove vault keygen`; also returns the vault's folder.
fn env_with_vault(roots: &[&str]) -> (TroveEnv, PathBuf) {
    let env = TroveEnv::new(TROVE, roots);
    let (vault, key) = (env.path().join("vault"), env.path().join("vault.key"));
    env.run_ok(&[OsStr::new("vault"), OsStr::new("keygen"), key.as_os_str()]);
    env.declare_vault(&vault, &key);
    (env, vault)
}

/// `kill -9` of the daemon at three moments of a move into a vault: before the copy,
/// half-way through sealing it, and after the switch (the record names the vault, the
/// plain source is not deleted yet). Each restart finds exactly one complete copy, the one
/// the record names, seeding, with nothing downloaded again.
#[test]
fn kill_9_during_a_move_into_a_vault_leaves_exactly_one_complete_copy() {
    let (env, vault) = env_with_vault(&["disk"]);
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_stamped_torrent(payload.path(), NAME, FILES, PIECE);
    seeder.seed(&t);
    let peer = format!("127.0.0.1:{}", seeder.port());
    let h = env.add(&[t.torrent_path.to_str().unwrap(), "--peer", &peer])[0].clone();
    let seeding = |env: &TroveEnv| {
        wait_until("the torrent to seed", LONG, || {
            env.torrent_json(&h)
                .filter(|j| j["state"] == "seeding" && j["moving"].is_null())
        })
    };
    let daemon = |stall: Option<&str>| {
        let mut d = Daemon::spawn({
            let mut c = env.cmd();
            if let Some(stage) = stall {
                c.env("TROVE_MOVE_STALL", stage);
            }
            c.arg("daemon");
            c
        });
        d.wait_for_stderr("every stored torrent is back", LONG);
        d
    };
    let mut d = daemon(None);
    seeding(&env);
    let sent = wait_until("the seeder's counter", LONG, || {
        let s = seeder.status(&t.info_hash).total_payload_upload;
        (s >= t.total_size).then_some(s)
    });
    d.terminate_and_wait();

    let plain = env.root_path("disk").join(NAME);
    for (stage, ends_in) in [
        ("before-copy", "disk"),
        ("mid-copy", "disk"),
        ("after-switch", "vault"),
    ] {
        let mut d = daemon(Some(stage));
        seeding(&env);
        let mut mover = Daemon::spawn({
            let mut c = env.cmd();
            c.args(["move", &h, "--root", "vault"]);
            c
        });
        d.wait_for_stderr(
            &format!("TROVE_MOVE_STALL: the move stops at {stage}"),
            LONG,
        );
        match stage {
            "before-copy" => assert!(vault_files(&vault).is_empty(), "nothing sealed yet"),
            "mid-copy" => {
                let sealed = vault_files(&vault);
                assert_eq!(sealed.len(), 1, "{sealed:?}");
                let len = fs::metadata(&sealed[0]).unwrap().len();
                assert!(len > 0 && len < t.total_size, "a partial vault file: {len}");
            }
            _ => {
                assert!(plain.exists(), "the source is still there");
                let j = env.torrent_json(&h).unwrap();
                assert_eq!(j["root_label"], "vault", "the record names the vault");
            }
        }
        d.kill9();
        mover.kill9();
        drop((d, mover));

        let mut d = daemon(None);
        let j = seeding(&env);
        let log = d.stderr();
        assert_eq!(j["root_label"], ends_in, "{stage}: {log}");
        if ends_in == "disk" {
            trees_identical(&t.content_path(), &plain).unwrap();
            assert!(
                vault_files(&vault).is_empty(),
                "{stage}: no vault file left"
            );
        } else {
            assert!(!plain.exists(), "{stage}: the plain copy was deleted");
            assert_eq!(vault_files(&vault).len(), 1);
        }
        let now = seeder.status(&t.info_hash).total_payload_upload;
        assert_eq!(now, sent, "{stage}: nothing was downloaded again");
        d.terminate_and_wait();
    }
    // The sealed copy serves the whole torrent.
    drop(seeder);
    let d = daemon(None);
    seeding(&env);
    leech_all_from(&t, env.listen_port);
    drop(d);
}

/// `kill -9` of the daemon three times while a torrent downloads into a vault, each time
/// once more of it has been checked: every piece trove had counted was sealed on disk (no
/// chunk is still waiting for its seal when librqbit counts a piece), so after the last
/// restart the torrent completes and serves a fresh leecher byte-identical.
#[test]
fn kill_9_while_downloading_into_a_vault_loses_no_checked_piece() {
    let (env, vault) = env_with_vault(&["main"]);
    let payload = payload_dir();
    let seeder = Peer::start();
    let t = seeder.make_stamped_torrent(payload.path(), NAME, FILES, PIECE);
    // Slow enough that each kill lands mid-download.
    seeder.seed_with_limit(&t, 1200 * 1024);
    let h = env.add_from(&t.torrent_path, &seeder, Some("vault"));
    let mut last = 0u64;
    for round in 0..3 {
        let mut d = env.spawn_daemon::<&str>(&[]);
        d.wait_for_stderr("session listening", LONG);
        let target = last + 2 * MIB;
        last = wait_until(&format!("round {round}: 2 MiB more checked"), LONG, || {
            let have = env.torrent_json(&h)?["have_bytes"].as_u64()?;
            (have >= target).then_some(have)
        });
        assert!(last < t.total_size, "round {round}: the download ended");
        d.kill9();
    }
    let mut d = env.spawn_daemon(&["--exit-when-complete"]);
    let status = d.wait_exit(LONG);
    assert!(status.success(), "daemon failed: {}", d.stderr());
    drop(seeder);
    // Stopped, the session's listing looks at the vault file, not at plain file paths.
    let stored = env.torrent_json(&h).unwrap();
    assert_eq!(stored["running"], false);
    assert_eq!(stored["data_missing"], false, "{stored}");
    let mut d = env.spawn_daemon::<&str>(&[]);
    d.wait_for_stderr("session listening", LONG);
    wait_seeding(&env, &h);
    leech_all_from(&t, env.listen_port);
    drop(d);
    assert_eq!(vault_files(&vault).len(), 1);
}
