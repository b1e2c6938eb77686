//! A real qBittorrent (Debian's `qbittorrent-nox`) as a Web API reference: its own
//! profile dir, a free port on 127.0.0.1, DHT/LSD/PeX/UPnP off, killed when dropped.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::ports::{free_port, port_open};
use crate::process::{die_with_parent, read_tail, reap, wait_until};

/// The login qbittorrent-nox 4.5 starts with.
pub const QBIT_USER: &str = "admin";
pub const QBIT_PASSWORD: &str = "adminadmin";

pub struct QbitNox {
    child: Child,
    pub profile: TempDir,
    pub port: u16,
    log: PathBuf,
}

impl QbitNox {
    /// Starts qbittorrent-nox and waits (30 s at most) until its Web UI answers.
    pub fn start() -> QbitNox {
        let profile = tempfile::Builder::new()
            .prefix("qbit-nox")
            .tempdir()
            .unwrap();
        let config = profile.path().join("qBittorrent/config");
        fs::create_dir_all(&config).unwrap();
        let port = free_port();
        let downloads = profile.path().join("downloads");
        fs::create_dir_all(&downloads).unwrap();
        // Without the legal notice accepted, it waits for a key press.
        fs::write(
            config.join("qBittorrent.conf"),
            format!(
                "[LegalNotice]\nAccepted=true\n\n[Preferences]\nWebUI\\Address=127.0.0.1\n\
                 WebUI\\Port={port}\nWebUI\\HostHeaderValidation=false\n\
                 WebUI\\CSRFProtection=false\nBittorrent\\DHT=false\nBittorrent\\LSD=false\n\
                 Bittorrent\\PeX=false\nConnection\\UPnP=false\nDownloads\\SavePath={}\n\n\
                 [BitTorrent]\nSession\\Port={}\nSession\\Interface=lo\n\
                 Session\\InterfaceName=lo\nSession\\InterfaceAddress=127.0.0.1\n\
                 Session\\DHTEnabled=false\nSession\\LSDEnabled=false\n\
                 Session\\PeXEnabled=false\n",
                downloads.display(),
                free_port()
            ),
        )
        .unwrap();
        let log = profile.path().join("nox.log");
        let mut cmd = Command::new("qbittorrent-nox");
        cmd.arg(format!("--profile={}", profile.path().display()))
            .arg(format!("--webui-port={port}"))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(Stdio::from(
                fs::File::create(profile.path().join("nox.err")).unwrap(),
            ));
        die_with_parent(&mut cmd);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start qbittorrent-nox ({e}): install it (apt-get install qbittorrent-nox)"
            )
        });
        let nox = QbitNox {
            child,
            profile,
            port,
            log,
        };
        wait_until("qbittorrent-nox's Web UI", Duration::from_secs(30), || {
            port_open(port).then_some(())
        });
        nox
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What it printed, for failure messages.
    pub fn log_tail(&self) -> String {
        read_tail(&self.log)
    }
}

impl Drop for QbitNox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        reap(&mut self.child, Duration::from_secs(5));
    }
}
