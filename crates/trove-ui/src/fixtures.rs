//! A fixed fake session for tests: torrents in every state, names that try to break the
//! screen (wide characters, emoji, right-to-left text, escape sequences), three roots (one
//! missing), details with a file tree, peers, pieces and trackers, and log lines.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{Local, TimeZone};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use trove_proto::log::{LogLevel, LogLine};
use trove_proto::snapshot::{
    FileEntry, Limits, PeerEntry, PieceMap, RootInfo, SessionSnapshot, TorrentDetails,
    TorrentState, TorrentSummary, TrackerEntry,
};

use super::app::App;
use super::event::Event;
use super::keymap::Keymap;

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;
const KIB: u64 = 1024;

pub const UBUNTU: &str = "aa11b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3";
pub const BUNNY: &str = "bb22c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4";
pub const ANIME: &str = "cc33d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5";
pub const HEBREW: &str = "dd44e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6";
pub const EVIL: &str = "ee55f60718293a4b5c6d7e8f90a1b2c3d4e5f607";
pub const DEBIAN: &str = "ff660718293a4b5c6d7e8f90a1b2c3d4e5f60718";
pub const ARCH: &str = "0077293a4b5c6d7e8f90a1b2c3d4e5f607182930";

/// 2024-11-20 14:00:00 UTC.
const T0: i64 = 1_732_111_200;

#[allow(clippy::too_many_arguments)]
fn torrent(
    hash: &str,
    name: &str,
    state: TorrentState,
    progress: f64,
    size: u64,
    down: f64,
    up: f64,
    peers: u32,
    ratio: f64,
    root: (&str, &str),
    added: i64,
) -> TorrentSummary {
    let have = (size as f64 * progress) as u64;
    TorrentSummary {
        info_hash: hash.to_string(),
        name: name.to_string(),
        state,
        progress,
        size,
        have_bytes: have,
        selected_bytes: size,
        download_rate: down,
        upload_rate: up,
        eta: trove_proto::snapshot::eta(size - have, down),
        peers_connected: peers,
        peer_limit: Some(80),
        ratio,
        root_label: root.0.to_string(),
        root_token: root.1.to_string(),
        added_at: added,
        completed_at: (progress >= 1.0).then_some(added + 3600),
        uploaded_total: (size as f64 * ratio) as u64,
        downloaded_total: have,
        limits: Limits::default(),
        error: None,
    }
}

/// Rates over five minutes: a steady climb with a wobble, so the graph has a shape.
pub fn history(scale: f64, phase: f64) -> Vec<f64> {
    (0..300)
        .map(|i| {
            let x = i as f64;
            scale * (0.55 + 0.35 * (x / 300.0) + 0.1 * ((x / 17.0) + phase).sin())
        })
        .collect()
}

pub fn snapshot() -> SessionSnapshot {
    let main = ("main", "r-main");
    let media = ("media", "r-media");
    let mut torrents = vec![
        torrent(
            UBUNTU,
            "ubuntu-24.04.1-desktop-amd64",
            TorrentState::Downloading,
            0.453,
            5 * GIB + 700 * MIB,
            12.3 * MIB as f64,
            1.2 * MIB as f64,
            42,
            0.12,
            main,
            T0,
        ),
        torrent(
            BUNNY,
            "Big Buck Bunny (2008) [1080p]",
            TorrentState::Seeding,
            1.0,
            885 * MIB,
            0.0,
            350.0 * KIB as f64,
            8,
            2.41,
            media,
            T0 + 60,
        ),
        torrent(
            ANIME,
            "日本語のアニメ 第01話 🎬 [字幕].mkv",
            TorrentState::Downloading,
            0.12,
            1400 * MIB,
            2.1 * MIB as f64,
            0.0,
            17,
            0.0,
            media,
            T0 + 120,
        ),
        torrent(
            HEBREW,
            "שלום עולם - Hebrew RTL album (FLAC)",
            TorrentState::Paused,
            0.67,
            420 * MIB,
            0.0,
            0.0,
            0,
            0.31,
            main,
            T0 + 180,
        ),
        torrent(
            EVIL,
            "evil\x1b[2J\x07name\u{202E}gpj.exe",
            TorrentState::Error,
            0.05,
            20 * MIB,
            0.0,
            0.0,
            0,
            0.0,
            main,
            T0 + 240,
        ),
        torrent(
            DEBIAN,
            "debian-12.7.0-amd64-netinst.iso",
            TorrentState::Queued,
            0.0,
            0,
            0.0,
            0.0,
            0,
            0.0,
            main,
            T0 + 300,
        ),
        torrent(
            ARCH,
            "archlinux-2024.11.01-x86_64.iso",
            TorrentState::Checking,
            0.33,
            1180 * MIB,
            0.0,
            0.0,
            0,
            0.0,
            main,
            T0 + 360,
        ),
    ];
    torrents[4].error = Some("tracker said: torrent not registered\nwith this tracker".to_string());
    torrents[0].limits = Limits {
        download_bps: None,
        upload_bps: Some(500 * KIB),
        peers: None,
    };
    torrents[1].peer_limit = None;
    SessionSnapshot {
        download_rate: 14.4 * MIB as f64,
        upload_rate: 1.55 * MIB as f64,
        downloaded_session: 12 * GIB + 300 * MIB,
        uploaded_session: 2 * GIB + 100 * MIB,
        peers_connected: 67,
        limits: Limits {
            download_bps: None,
            upload_bps: Some(2 * MIB),
            peers: Some(200),
        },
        roots: vec![
            RootInfo {
                token: "r-main".into(),
                label: "main".into(),
                path: PathBuf::from("/srv/torrents"),
                is_default: true,
                free_bytes: Some(1240 * GIB),
                total_bytes: Some(3726 * GIB),
                problem: None,
            },
            RootInfo {
                token: "r-media".into(),
                label: "media".into(),
                path: PathBuf::from("/mnt/media/library/incoming"),
                is_default: false,
                free_bytes: Some(94 * GIB + 200 * MIB),
                total_bytes: Some(1863 * GIB),
                problem: None,
            },
            RootInfo {
                token: "r-usb".into(),
                label: "usb".into(),
                path: PathBuf::from("/media/usb-stick"),
                is_default: false,
                free_bytes: None,
                total_bytes: None,
                problem: Some("not mounted".into()),
            },
        ],
        listen_addr: Some(
            "0.0.0.0:4240"
                .parse::<SocketAddr>()
                .expect("a fixed address"),
        ),
        download_history: history(14.0 * MIB as f64, 0.0),
        upload_history: history(1.5 * MIB as f64, 2.0),
        torrents,
    }
}

fn file(index: usize, path: &str, size: u64, have: u64, selected: bool) -> FileEntry {
    FileEntry {
        index,
        path: path.into(),
        size,
        have_bytes: have,
        selected,
    }
}

/// Details of the first torrent (ubuntu).
pub fn details() -> TorrentDetails {
    let summary = snapshot().torrents[0].clone();
    let count = 2000u32;
    let mut bits = vec![0u8; count.div_ceil(8) as usize];
    for i in 0..count {
        // Done at the start, patchy in the middle, nothing at the end.
        let have = i < 700 || (i < 1400 && i % 3 != 0) || (1400..1500).contains(&i) && i % 7 == 0;
        if have {
            bits[(i / 8) as usize] |= 1 << (7 - i % 8);
        }
    }
    TorrentDetails {
        save_path: PathBuf::from("/srv/torrents/ubuntu-24.04.1-desktop-amd64"),
        files: vec![
            file(
                0,
                "casper/filesystem.squashfs",
                5 * GIB + 400 * MIB,
                2 * GIB + 300 * MIB,
                true,
            ),
            file(1, "casper/vmlinuz", 14 * MIB, 14 * MIB, true),
            file(2, "casper/initrd", 70 * MIB, 0, false),
            file(3, "boot/grub/grub.cfg", 2 * KIB, 2 * KIB, true),
            file(4, "boot/grub/fonts/unicode.pf2", 2 * MIB, MIB, true),
            file(
                5,
                "pool/main/l/linux/linux-image-6.8.0-41-generic_amd64.deb",
                60 * MIB,
                0,
                false,
            ),
            file(6, "README.diskdefines", 231, 231, true),
            file(7, "md5sum.txt", 40 * KIB, 0, true),
        ],
        peers: vec![
            PeerEntry {
                addr: "203.0.113.7:51413".into(),
                client: Some("Transmission 4.0.5".into()),
                download_rate: 4.2 * MIB as f64,
                upload_rate: 120.0 * KIB as f64,
                downloaded: 310 * MIB,
                uploaded: 12 * MIB,
                state: "live".into(),
            },
            PeerEntry {
                addr: "[2001:db8::42]:6881".into(),
                client: Some("qBittorrent 4.6.2".into()),
                download_rate: 6.1 * MIB as f64,
                upload_rate: 0.0,
                downloaded: 1100 * MIB,
                uploaded: 0,
                state: "live".into(),
            },
            PeerEntry {
                addr: "198.51.100.23:40000".into(),
                client: None,
                download_rate: 0.0,
                upload_rate: 0.0,
                downloaded: 0,
                uploaded: 0,
                state: "connecting".into(),
            },
            PeerEntry {
                addr: "192.0.2.200:55555".into(),
                client: Some("libtorrent (Rasterbar) 2.0.9".into()),
                download_rate: 2.0 * MIB as f64,
                upload_rate: 1.1 * MIB as f64,
                downloaded: 220 * MIB,
                uploaded: 90 * MIB,
                state: "live".into(),
            },
            PeerEntry {
                addr: "198.51.100.99:1024".into(),
                client: Some("µTorrent 3.6\x1b[31m".into()),
                download_rate: 10.0 * KIB as f64,
                upload_rate: 0.0,
                downloaded: 3 * MIB,
                uploaded: 0,
                state: "live".into(),
            },
        ],
        pieces: PieceMap {
            count,
            bitfield: bits,
        },
        piece_length: 2 * MIB + 870 * KIB,
        trackers: vec![
            TrackerEntry {
                url: "https://torrent.ubuntu.com/announce".into(),
                status: "working (seen 1520 peers)".into(),
            },
            TrackerEntry {
                url: "https://ipv6.torrent.ubuntu.com/announce".into(),
                status: "working".into(),
            },
            TrackerEntry {
                url: "udp://tracker.example.invalid:6969/announce".into(),
                status: "error: connection refused".into(),
            },
        ],
        download_history: history(12.0 * MIB as f64, 1.0),
        upload_history: history(1.2 * MIB as f64, 3.0),
        history_clock: 1_000,
        summary,
    }
}

pub fn log_lines() -> Vec<LogLine> {
    let at = |s: u32| {
        Local
            .with_ymd_and_hms(2024, 11, 20, 14, 3, s)
            .single()
            .expect("a fixed local time")
    };
    let line =
        |seq: u64, s: u32, level: LogLevel, target: &str, message: &str, hash: Option<&str>| {
            LogLine {
                seq,
                time: at(s),
                level,
                target: target.into(),
                message: message.into(),
                info_hash: hash.map(str::to_string),
            }
        };
    vec![
        line(
            1,
            1,
            LogLevel::Info,
            "trove::engine::session",
            "session started, listening on 0.0.0.0:4240",
            None,
        ),
        line(
            2,
            2,
            LogLevel::Info,
            "trove::engine::roots",
            "root 'usb' unavailable: /media/usb-stick is not mounted",
            None,
        ),
        line(
            3,
            3,
            LogLevel::Debug,
            "librqbit::dht",
            "DHT bootstrap finished, 212 nodes",
            None,
        ),
        line(
            4,
            5,
            LogLevel::Info,
            "librqbit::torrent_state",
            "added torrent ubuntu-24.04.1-desktop-amd64",
            Some(UBUNTU),
        ),
        line(
            5,
            7,
            LogLevel::Warn,
            "librqbit::tracker_comms",
            "tracker udp://tracker.example.invalid:6969 failed: connection refused",
            Some(UBUNTU),
        ),
        line(
            6,
            9,
            LogLevel::Error,
            "librqbit::tracker_comms",
            "torrent not registered with this tracker",
            Some(EVIL),
        ),
        line(
            7,
            11,
            LogLevel::Trace,
            "librqbit::peer_connection",
            "sent keepalive to 203.0.113.7:51413",
            Some(UBUNTU),
        ),
        line(
            8,
            12,
            LogLevel::Info,
            "trove::engine::session",
            "paused שלום עולם - Hebrew RTL album (FLAC)",
            Some(HEBREW),
        ),
        line(
            9,
            14,
            LogLevel::Info,
            "librqbit::torrent_state",
            "checking archlinux-2024.11.01-x86_64.iso: 33% verified",
            Some(ARCH),
        ),
        line(
            10,
            15,
            LogLevel::Debug,
            "librqbit::peer_connection",
            "peer [2001:db8::42]:6881 unchoked us",
            Some(UBUNTU),
        ),
        line(
            11,
            17,
            LogLevel::Info,
            "librqbit::torrent_state",
            "piece 699 verified (ubuntu-24.04.1-desktop-amd64)",
            Some(UBUNTU),
        ),
        line(
            12,
            20,
            LogLevel::Warn,
            "trove::engine::session",
            "name with escape \x1b[2J sequence sanitised",
            None,
        ),
    ]
}

pub fn key(code: KeyCode) -> Event {
    let mut k = KeyEvent::new(code, KeyModifiers::NONE);
    k.kind = KeyEventKind::Press;
    Event::Input(TermEvent::Key(k))
}

pub fn ch(c: char) -> Event {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Event::Input(TermEvent::Key(KeyEvent::new(KeyCode::Char(c), mods)))
}

/// An app over the fixture, sized `w`×`h`, with the first torrent's details and the log.
pub fn app(w: u16, h: u16) -> App {
    let mut app = App::new(Keymap::default(), Arc::new(snapshot()));
    app.handle(Event::Input(TermEvent::Resize(w, h)));
    app.handle(Event::Details {
        id: UBUNTU.into(),
        result: Ok(Box::new(details())),
    });
    app.handle(Event::LogLines(log_lines()));
    app
}
