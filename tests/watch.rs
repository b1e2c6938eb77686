//! Watch folders against a real `trove daemon`: files dropped before it starts and while it
//! runs, a magnet file, a file that is no torrent, a file still being written, and a
//! restart that adds nothing twice.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use trove_testkit::{Peer, TroveEnv, wait_until};

/// The binary under test (only the root package's tests know its path).
const TROVE: &str = env!("CARGO_BIN_EXE_trove");

const LONG: Duration = Duration::from_secs(60);

/// Writes the env's config with `watch` set on the root `label`.
fn watch_root(env: &TroveEnv, label: &str, watch: &Path) {
    let root = env.root_path(label);
    let line = format!("path = \"{}\"\n", root.display());
    let text = env.config_text("");
    assert!(text.contains(&line), "{text}");
    let with_watch = text.replacen(
        &line,
        &format!("{line}watch = \"{}\"\n", watch.display()),
        1,
    );
    std::fs::write(&env.config_path, with_watch).unwrap();
}

/// Drops a file the way careful tools do: written aside, then moved in.
fn drop_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let aside = dir.join(format!(".{name}.part"));
    std::fs::write(&aside, bytes).unwrap();
    let path = dir.join(name);
    std::fs::rename(&aside, &path).unwrap();
    path
}

fn marked(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn wait_marked(path: &Path, suffix: &str) {
    let target = marked(path, suffix);
    wait_until(&format!("{}", target.display()), LONG, || {
        (target.exists() && !path.exists()).then_some(())
    });
}

/// The root each torrent of the saved session is in, by info-hash.
fn roots_by_hash(env: &TroveEnv) -> Vec<(String, String)> {
    let list = env.list_json();
    let mut v: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["info_hash"].as_str().unwrap().to_string(),
                t["root_label"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_watch_folder_adds_what_is_dropped_there_once() {
    let payload = tempfile::tempdir().unwrap();
    let maker = Peer::start();
    let made: Vec<_> = ["pre", "good", "magnet", "sync", "half", "late"]
        .iter()
        .map(|n| {
            maker.make_torrent(
                payload.path(),
                n,
                &[(&format!("{n}.bin"), 64 * 1024)],
                16 * 1024,
            )
        })
        .collect();
    let bytes = |i: usize| std::fs::read(&made[i].torrent_path).unwrap();
    let env = TroveEnv::new(TROVE, &["main", "isos"]);
    let watch = env.path().join("watch");
    std::fs::create_dir_all(&watch).unwrap();
    watch_root(&env, "isos", &watch);

    // Dropped while nothing ran: taken at start.
    let pre = drop_file(&watch, "pre.torrent", &bytes(0));
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("session listening", LONG);
    wait_marked(&pre, ".added");

    // Dropped while it runs, a magnet file among them.
    let good = drop_file(&watch, "good.torrent", &bytes(1));
    let magnet = drop_file(
        &watch,
        "x.magnet",
        format!("{}\n", made[2].magnet).as_bytes(),
    );
    wait_marked(&good, ".added");
    wait_marked(&magnet, ".added");

    // Not a torrent: set aside with the reason in the log.
    let bad = drop_file(&watch, "bad.torrent", b"this is not bencode");
    wait_marked(&bad, ".invalid");
    daemon.wait_for_stderr("bad.torrent is not a torrent", LONG);

    // Half-written: left alone while its writer still has it open. Another file dropped
    // after it is taken first, which shows the half file's events were seen and passed over.
    let half_path = watch.join("half.torrent");
    let half_bytes = bytes(4);
    let mut half = std::fs::File::create(&half_path).unwrap();
    half.write_all(&half_bytes[..half_bytes.len() / 2]).unwrap();
    half.flush().unwrap();
    let sync = drop_file(&watch, "sync.torrent", &bytes(3));
    wait_marked(&sync, ".added");
    assert!(half_path.exists(), "the half-written file was taken");
    assert!(!marked(&half_path, ".invalid").exists());
    half.write_all(&half_bytes[half_bytes.len() / 2..]).unwrap();
    drop(half);
    wait_marked(&half_path, ".added");

    let st = daemon.terminate_and_wait();
    assert!(st.success(), "daemon exited {st}:\n{}", daemon.stderr());
    let before = roots_by_hash(&env);
    let mut expected: Vec<(String, String)> = [0, 1, 2, 3, 4]
        .iter()
        .map(|&i| (made[i].info_hash.clone(), "isos".to_string()))
        .collect();
    expected.sort();
    assert_eq!(
        before, expected,
        "every good file became a torrent of the isos root"
    );

    // A restart takes only what is new.
    let late = drop_file(&watch, "late.torrent", &bytes(5));
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("session listening", LONG);
    wait_marked(&late, ".added");
    let st = daemon.terminate_and_wait();
    assert!(st.success(), "daemon exited {st}:\n{}", daemon.stderr());
    let after = roots_by_hash(&env);
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    let stderr = daemon.stderr();
    let taken: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("watch folder"))
        .collect();
    assert!(
        !taken.is_empty() && taken.iter().all(|l| l.contains("late.torrent")),
        "after the restart only the new file was taken:\n{stderr}"
    );

    // A crash between adding a file's torrent and renaming the file leaves the file as it
    // was dropped, its torrent already stored: the next start renames it, adds nothing.
    std::fs::rename(marked(&late, ".added"), &late).unwrap();
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("session listening", LONG);
    wait_marked(&late, ".added");
    daemon.wait_for_stderr("late.torrent is already in the session", LONG);
    let st = daemon.terminate_and_wait();
    assert!(st.success(), "daemon exited {st}:\n{}", daemon.stderr());
    assert_eq!(roots_by_hash(&env), after, "nothing was added twice");
}
