//! trove's qBittorrent Web API against the real thing: `tools/qbit/conformance.py` drives
//! Debian's qbittorrent-nox and a `trove daemon` with the same qbittorrent-api calls and
//! fails on any difference in the answers' shapes (outside its short allow-list) or in
//! trove's values.
//!
//! Needs qbittorrent-nox and a venv with qbittorrent-api: `scripts/test.sh` makes both and
//! exports TROVE_QBIT_PYTHON. Without them this test fails saying so; it never passes
//! without running.
// Test code: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use trove_testkit::{QBIT_PASSWORD, QBIT_USER, QbitNox, TroveEnv, free_port, run_with_timeout};

const TROVE: &str = env!("CARGO_BIN_EXE_trove");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/qbit/conformance.py");
/// The venv scripts/test.sh makes.
const VENV_PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/qbit-venv/bin/python");

/// The whole sequence runs in well under a minute; this bounds a hang.
const DEADLINE: Duration = Duration::from_secs(240);

fn python() -> PathBuf {
    let path = std::env::var_os("TROVE_QBIT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(VENV_PYTHON));
    let usable = Command::new(&path)
        .args(["-c", "import qbittorrentapi"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        usable,
        "no python with qbittorrent-api at {}: run scripts/test.sh (it makes the venv \
         target/qbit-venv and exports TROVE_QBIT_PYTHON), or point TROVE_QBIT_PYTHON at one",
        path.display()
    );
    path
}

#[test]
fn trove_answers_the_qbittorrent_web_api_as_qbittorrent_does() {
    let python = python();
    let nox = QbitNox::start();
    let env = TroveEnv::new(TROVE, &["downloads"]);
    let port = free_port();
    std::fs::write(
        &env.config_path,
        env.config_text(&format!(
            "[api]\nlisten = \"127.0.0.1:{port}\"\nusername = \"sonarr\"\npassword = \"s3cret pass\""
        )),
    )
    .unwrap();
    let mut daemon = env.spawn_daemon::<&str>(&[]);
    daemon.wait_for_stderr("trove's API listens on", Duration::from_secs(60));

    let qbit_base = tempfile::tempdir().unwrap();
    let trove_base = env.path().join("categories");
    std::fs::create_dir_all(&trove_base).unwrap();
    let out = run_with_timeout(
        Command::new(&python)
            .arg(SCRIPT)
            .arg("--qbit")
            .args([nox.url().as_str(), QBIT_USER, QBIT_PASSWORD])
            .arg(qbit_base.path())
            .arg("--trove")
            .args([
                format!("http://127.0.0.1:{port}").as_str(),
                "sonarr",
                "s3cret pass",
            ])
            .arg(&trove_base),
        DEADLINE,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "conformance.py failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n\
         --- qbittorrent-nox ---\n{}",
        out.status,
        nox.log_tail()
    );
    assert!(
        stdout.contains("trove answers as qBittorrent does"),
        "{stdout}"
    );
}
