//! Fake sessions for tests and the render benchmark, built behind the `testing` feature.
//!
//! A small fixed one for tests: torrents in every state, names that try to break the screen
//! (wide characters, emoji, right-to-left text, escape sequences), three roots (one missing),
//! details with a file tree, peers, pieces and trackers, and log lines. And big synthetic
//! ones for measuring: [`big_session`] of any size, deterministic, with realistic names,
//! sizes, states and rates, its [`big_details`], and [`many_log_lines`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, TimeZone};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use trove_proto::log::{LogLevel, LogLine};
use trove_proto::snapshot::{
    FileEntry, Limits, PeerEntry, PieceMap, RootInfo, RootOrigin, SessionSnapshot, TorrentDetails,
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
        paused: state == TorrentState::Paused,
        only_files: None,
        tags: Vec::new(),
        queue: None,
        moving: None,
        missing_data: None,
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
            360.0 * KIB as f64,
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
    torrents[0].tags = vec!["iso".into(), "linux".into()];
    torrents[1].tags = vec!["movies".into()];
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
                origin: RootOrigin::Config,
                vault: false,
            },
            RootInfo {
                token: "r-media".into(),
                label: "media".into(),
                path: PathBuf::from("/mnt/media/library/incoming"),
                is_default: false,
                free_bytes: Some(94 * GIB + 200 * MIB),
                total_bytes: Some(1863 * GIB),
                problem: None,
                origin: RootOrigin::Config,
                vault: false,
            },
            RootInfo {
                token: "r-usb".into(),
                label: "usb".into(),
                path: PathBuf::from("/media/usb-stick"),
                is_default: false,
                free_bytes: None,
                total_bytes: None,
                problem: Some("not mounted".into()),
                origin: RootOrigin::Config,
                vault: false,
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
        tags: vec!["iso".into(), "linux".into(), "movies".into(), "keep".into()],
        queue_limits: Default::default(),
        goals: None,
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
                last_error: None,
                peers_received: None,
            },
            TrackerEntry {
                url: "https://ipv6.torrent.ubuntu.com/announce".into(),
                status: "working".into(),
                last_error: None,
                peers_received: None,
            },
            TrackerEntry {
                url: "udp://tracker.example.invalid:6969/announce".into(),
                status: "error: connection refused".into(),
                last_error: None,
                peers_received: None,
            },
        ],
        download_history: history(12.0 * MIB as f64, 1.0),
        upload_history: history(1.2 * MIB as f64, 3.0),
        history_clock: 1_000,
        magnet: format!("magnet:?xt=urn:btih:{UBUNTU}&dn=ubuntu-24.04.1-desktop-amd64"),
        summary,
        vault_cache: None,
    }
}

/// The fixture session with a long error on the torrent in error (evil), as a magnet added
/// with a file index its torrent does not have gets.
pub fn errored_snapshot() -> SessionSnapshot {
    let mut s = snapshot();
    s.torrents[4].error = Some(
        "file index 5 does not exist: the torrent has 1 file (indices start at 0); choose \
         the files again once the metadata is known"
            .into(),
    );
    s
}

/// An app over [`errored_snapshot`] with the torrent in error selected and its details.
pub fn errored_app(w: u16, h: u16) -> App {
    let mut app = App::new(Keymap::default(), Arc::new(errored_snapshot()));
    app.handle(Event::Input(TermEvent::Resize(w, h)));
    for _ in 0..4 {
        app.handle(ch('j'));
    }
    app.handle(Event::Details {
        id: EVIL.into(),
        result: Ok(Box::new(errored_details())),
    });
    app.handle(Event::LogLines(log_lines()));
    app
}

/// Details of the torrent in error (evil): a magnet whose metadata never came, so no files
/// and no pieces, with one tracker that answered and one that failed.
pub fn errored_details() -> TorrentDetails {
    let mut d = details();
    d.summary = errored_snapshot().torrents[4].clone();
    d.save_path = PathBuf::from("/srv/torrents/a/rather/deep/folder/for/payload-128M-s11");
    d.files.clear();
    d.pieces = PieceMap::default();
    d.peers.clear();
    d.trackers = vec![
        TrackerEntry {
            url: "http://127.0.0.1:6969/announce".into(),
            status: "working".into(),
            last_error: None,
            peers_received: Some(3),
        },
        TrackerEntry {
            url: "udp://tracker.example.invalid:6969/announce".into(),
            status: "error".into(),
            last_error: Some("connection refused".into()),
            peers_received: None,
        },
    ];
    d.magnet = format!("magnet:?xt=urn:btih:{EVIL}&dn=evil");
    d
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

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const SHOWS: &[&str] = &[
    "The.Expanse",
    "Severance",
    "Slow.Horses",
    "Andor",
    "Shogun",
    "The.Bear",
    "Fargo",
    "Dark",
    "Babylon.Berlin",
    "Detectorists",
    "Only.Murders.in.the.Building",
];
const GROUPS: &[&str] = &[
    "NTb",
    "FLUX",
    "EDITH",
    "SuccessfulCrab",
    "GalaxyTV",
    "playWEB",
];
const DISTROS: &[&str] = &[
    "ubuntu-24.04.1-desktop-amd64.iso",
    "debian-12.7.0-amd64-netinst.iso",
    "archlinux-2024.11.01-x86_64.iso",
    "Fedora-Workstation-Live-x86_64-41-1.4.iso",
    "linuxmint-22-cinnamon-64bit.iso",
    "openSUSE-Tumbleweed-DVD-x86_64-Snapshot20241118-Media.iso",
];
const FILMS: &[&str] = &[
    "Big Buck Bunny",
    "Sintel",
    "Tears of Steel",
    "Elephants Dream",
    "Cosmos Laundromat",
    "Spring",
    "Agent 327 Operation Barbershop",
];
const MUSIC: &[&str] = &[
    "Nine Inch Nails - The Slip",
    "Jonathan Coulton - Thing a Week",
    "Kevin MacLeod - Complete Collection",
    "坂本龍一 - Async",
    "Sigur Rós - Ágætis byrjun",
];

fn big_name(rng: &mut Rng, i: usize) -> String {
    match rng.below(10) {
        0..=3 => format!(
            "{}.S{:02}E{:02}.{}.WEB-DL.DDP5.1.H.264-{}",
            rng.pick(SHOWS),
            1 + rng.below(6),
            1 + rng.below(12),
            rng.pick(&["720p", "1080p", "2160p"]),
            rng.pick(GROUPS)
        ),
        4 | 5 => {
            let d = rng.pick(DISTROS);
            format!("{d} (mirror {i})")
        }
        6 | 7 => format!(
            "{} ({}) [{}] [{}]",
            rng.pick(FILMS),
            2006 + rng.below(18),
            rng.pick(&["1080p", "2160p", "720p"]),
            rng.pick(&["YTS", "BluRay x265 10bit", "WEBRip"])
        ),
        _ => format!(
            "{} ({}) [FLAC 24-96] vol.{}",
            rng.pick(MUSIC),
            1990 + rng.below(34),
            i % 97
        ),
    }
}

fn big_summary(rng: &mut Rng, i: usize) -> TorrentSummary {
    // Sizes spread log-uniformly from 4 MiB to 64 GiB.
    let size = (4.0 * MIB as f64 * 2f64.powf(rng.unit() * 14.0)) as u64;
    let state = match rng.below(100) {
        0..=54 => TorrentState::Seeding,
        55..=79 => TorrentState::Paused,
        80..=91 => TorrentState::Downloading,
        92..=95 => TorrentState::Queued,
        96..=98 => TorrentState::Checking,
        _ => TorrentState::Error,
    };
    let progress = match state {
        TorrentState::Seeding => 1.0,
        TorrentState::Queued => 0.0,
        _ => rng.unit(),
    };
    let have = (size as f64 * progress) as u64;
    let (down, up, peers) = match state {
        TorrentState::Downloading => (
            rng.unit() * 8.0 * MIB as f64,
            rng.unit() * 300.0 * KIB as f64,
            1 + rng.below(60) as u32,
        ),
        // Most seeds are idle; a few upload.
        TorrentState::Seeding if rng.below(5) == 0 => {
            (0.0, rng.unit() * 2.0 * MIB as f64, 1 + rng.below(12) as u32)
        }
        _ => (0.0, 0.0, 0),
    };
    let ratio = rng.unit() * 3.0;
    let root = *rng.pick(&[("main", "r-main"), ("media", "r-media"), ("isos", "r-isos")]);
    let added = T0 + i as i64 * 37;
    TorrentSummary {
        info_hash: format!("{:016x}{:016x}{:08x}", rng.next(), rng.next(), i as u32),
        name: big_name(rng, i),
        state,
        progress,
        size,
        have_bytes: have,
        selected_bytes: size,
        download_rate: down,
        upload_rate: up,
        eta: (down > 0.0).then(|| Duration::from_secs(((size - have) as f64 / down) as u64)),
        peers_connected: peers,
        peer_limit: Some(80),
        ratio,
        root_label: root.0.into(),
        root_token: root.1.into(),
        added_at: added,
        completed_at: (progress >= 1.0).then_some(added + 3600),
        uploaded_total: (size as f64 * ratio) as u64,
        downloaded_total: have,
        limits: Limits::default(),
        error: (state == TorrentState::Error)
            .then(|| "tracker said: torrent not registered with this tracker".into()),
        paused: state == TorrentState::Paused,
        only_files: None,
        tags: Vec::new(),
        queue: None,
        moving: None,
        missing_data: None,
    }
}

/// A big session of `n` torrents with realistic names, sizes, states and rates, the same
/// for the same `n`; `variant` changes every rate (and the histories), as the next tick would.
pub fn big_session(n: usize, variant: u64) -> SessionSnapshot {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut torrents: Vec<TorrentSummary> = (0..n).map(|i| big_summary(&mut rng, i)).collect();
    let mut wobble = Rng(0xD1B5_4A32_D192_ED03 ^ (variant + 1));
    for t in &mut torrents {
        if t.download_rate > 0.0 {
            t.download_rate *= 0.8 + 0.4 * wobble.unit();
        }
        if t.upload_rate > 0.0 {
            t.upload_rate *= 0.8 + 0.4 * wobble.unit();
        }
    }
    let down: f64 = torrents.iter().map(|t| t.download_rate).sum();
    let up: f64 = torrents.iter().map(|t| t.upload_rate).sum();
    let root = |token: &str, label: &str, path: &str, default: bool, free: u64| RootInfo {
        token: token.into(),
        label: label.into(),
        path: PathBuf::from(path),
        is_default: default,
        free_bytes: Some(free),
        total_bytes: Some(3726 * GIB),
        problem: None,
        origin: RootOrigin::Config,
        vault: false,
    };
    SessionSnapshot {
        download_rate: down,
        upload_rate: up,
        downloaded_session: 412 * GIB + 300 * MIB,
        uploaded_session: 1290 * GIB + 100 * MIB,
        peers_connected: torrents.iter().map(|t| t.peers_connected).sum(),
        limits: Limits {
            download_bps: None,
            upload_bps: Some(20 * MIB),
            peers: Some(200),
        },
        roots: vec![
            root("r-main", "main", "/srv/torrents", true, 1240 * GIB),
            root("r-media", "media", "/mnt/media/incoming", false, 94 * GIB),
            root("r-isos", "isos", "/srv/isos", false, 310 * GIB),
        ],
        listen_addr: Some(
            "0.0.0.0:4240"
                .parse::<SocketAddr>()
                .expect("a fixed address"),
        ),
        download_history: history(down.max(1.0), variant as f64),
        upload_history: history(up.max(1.0), 2.0 + variant as f64),
        torrents,
        tags: Vec::new(),
        queue_limits: Default::default(),
        goals: None,
    }
}

/// Details of any torrent of [`big_session`] as the engine would give them: a season
/// pack's files, peers, pieces.
pub fn big_details(t: &TorrentSummary) -> TorrentDetails {
    let files: Vec<FileEntry> = (0..24)
        .map(|i| FileEntry {
            index: i,
            path: format!("Season 01/Episode.{:02}.1080p.mkv", i + 1),
            size: t.size / 24,
            have_bytes: (t.have_bytes / 24).min(t.size / 24),
            selected: i % 7 != 6,
        })
        .collect();
    let peers: Vec<PeerEntry> = (0..30)
        .map(|i| PeerEntry {
            addr: format!("198.51.100.{}:{}", 10 + i, 51413 + i),
            client: Some(
                [
                    "Transmission 4.0.5",
                    "qBittorrent 4.6.2",
                    "libtorrent 2.0.9",
                ][i % 3]
                    .into(),
            ),
            download_rate: (i as f64) * 30.0 * KIB as f64,
            upload_rate: (i % 4) as f64 * 10.0 * KIB as f64,
            downloaded: i as u64 * 12 * MIB,
            uploaded: i as u64 * MIB,
            state: "live".into(),
        })
        .collect();
    let count = 4000u32;
    let mut bitfield = vec![0u8; count.div_ceil(8) as usize];
    for i in 0..count {
        if (i as f64) < t.progress * count as f64 {
            bitfield[(i / 8) as usize] |= 1 << (7 - i % 8);
        }
    }
    TorrentDetails {
        summary: t.clone(),
        save_path: PathBuf::from("/srv/torrents").join(&t.name),
        files,
        peers,
        pieces: PieceMap { count, bitfield },
        piece_length: 4 * MIB,
        trackers: vec![TrackerEntry {
            url: "https://tracker.example.org/announce".into(),
            status: "working (seen 212 peers)".into(),
            last_error: None,
            peers_received: None,
        }],
        download_history: history(3.0 * MIB as f64, 1.0),
        upload_history: history(0.2 * MIB as f64, 3.0),
        history_clock: 1_000,
        magnet: format!("magnet:?xt=urn:btih:{}", t.info_hash),
        vault_cache: None,
    }
}

/// `n` log lines of mixed levels, timed now.
pub fn many_log_lines(n: u64) -> Vec<LogLine> {
    let t0 = chrono::Local::now();
    (0..n)
        .map(|i| LogLine {
            seq: i + 1,
            time: t0,
            level: [LogLevel::Info, LogLevel::Warn, LogLevel::Debug][(i % 3) as usize],
            target: "librqbit::torrent_state".into(),
            message: format!(
                "piece {i} verified (The.Expanse.S02E05.1080p.WEB-DL.DDP5.1.H.264-NTb)"
            ),
            info_hash: None,
        })
        .collect()
}

/// An app over `snapshot` sized `w`×`h`, with the selected torrent's [`big_details`] loaded.
pub fn big_app(snapshot: Arc<SessionSnapshot>, w: u16, h: u16) -> App {
    let mut app = App::new(Keymap::default(), snapshot.clone());
    app.handle(Event::Input(TermEvent::Resize(w, h)));
    if let Some(id) = app.selected.clone() {
        let t = snapshot
            .torrents
            .iter()
            .find(|t| t.info_hash == id)
            .expect("the selected torrent is in the snapshot");
        app.handle(Event::Details {
            id,
            result: Ok(Box::new(big_details(t))),
        });
    }
    app
}

/// The fixture session under a queue: one download slot, so the anime episode waits in
/// the queue (third), the first download holds the slot, the Debian one (whose metadata
/// is known here) is forced, and the seeding film has its own ratio and seeding-time goals.
pub fn queue_snapshot() -> SessionSnapshot {
    use trove_proto::queue::{
        GoalAction, GoalKind, GoalProgress, QueueLimits, QueueStatus, SeedingGoals,
    };
    let mut s = snapshot();
    s.queue_limits = QueueLimits {
        max_active_downloads: 1,
        ..Default::default()
    };
    let session_goals = SeedingGoals {
        ratio: Some(2.0),
        ..Default::default()
    };
    s.goals = Some(session_goals);
    let own = SeedingGoals {
        ratio: Some(3.0),
        seeding_secs: Some(7 * 86_400),
        idle_secs: None,
        action: GoalAction::Remove,
    };
    for (i, t) in s.torrents.iter_mut().enumerate() {
        t.queue = Some(QueueStatus {
            position: i as u32 + 1,
            goals: Some(session_goals),
            progress: vec![GoalProgress {
                kind: GoalKind::Ratio,
                current: t.ratio,
                target: 2.0,
            }],
            ..Default::default()
        });
    }
    s.torrents[1].queue = Some(QueueStatus {
        position: 2,
        goals: Some(own),
        own_goals: true,
        progress: vec![
            GoalProgress {
                kind: GoalKind::Ratio,
                current: 2.41,
                target: 3.0,
            },
            GoalProgress {
                kind: GoalKind::SeedingTime,
                current: 2.0 * 86_400.0 + 5.0 * 3600.0,
                target: 7.0 * 86_400.0,
            },
        ],
        ..Default::default()
    });
    let anime = &mut s.torrents[2];
    anime.state = TorrentState::Queued;
    anime.download_rate = 0.0;
    anime.peers_connected = 0;
    anime.eta = None;
    if let Some(q) = anime.queue.as_mut() {
        q.waiting = true;
    }
    let debian = &mut s.torrents[5];
    debian.state = TorrentState::Downloading;
    debian.size = 630 * MIB;
    debian.selected_bytes = debian.size;
    if let Some(q) = debian.queue.as_mut() {
        q.forced = true;
    }
    s
}

/// An app over [`queue_snapshot`] with the seeding film selected and its details.
pub fn queue_app(w: u16, h: u16) -> App {
    let snapshot = queue_snapshot();
    let mut d = details();
    d.summary = snapshot.torrents[1].clone();
    let mut app = App::new(Keymap::default(), Arc::new(snapshot));
    app.handle(Event::Input(TermEvent::Resize(w, h)));
    app.handle(ch('j'));
    app.handle(Event::Details {
        id: BUNNY.into(),
        result: Ok(Box::new(d)),
    });
    app.handle(Event::LogLines(log_lines()));
    app
}
/// The library report of the fixture session: every torrent's data in a state (one with
/// files missing, one whose file changed size), and orphans in two roots, one with a
/// hostile name.
pub fn library() -> trove_proto::library::LibraryReport {
    use trove_proto::library::{
        DataState, LibraryReport, LibraryRoot, LibraryTorrent, MissingData, Orphan, SizeChange,
    };
    let snap = snapshot();
    let roots = snap
        .roots
        .iter()
        .map(|r| {
            let torrents = snap
                .torrents
                .iter()
                .filter(|t| t.root_token == r.token)
                .map(|t| LibraryTorrent {
                    info_hash: t.info_hash.clone(),
                    name: t.name.clone(),
                    size: t.size,
                    have_bytes: t.have_bytes,
                    selected_bytes: t.selected_bytes,
                    data: match t.info_hash.as_str() {
                        HEBREW => DataState::FilesMissing(MissingData {
                            missing: vec![
                                "CD1/01 - Shalom.flac".into(),
                                "CD1/02 - Olam.flac".into(),
                                "CD2/01 - Od.flac".into(),
                                "cover.jpg".into(),
                            ],
                            size_changed: Vec::new(),
                        }),
                        ARCH => DataState::SizeChanged(MissingData {
                            missing: Vec::new(),
                            size_changed: vec![SizeChange {
                                path: "archlinux-2024.11.01-x86_64.iso".into(),
                                expected: t.size,
                                found: t.size / 3,
                            }],
                        }),
                        _ if t.size == 0 => DataState::NoMetadata,
                        _ if t.progress >= 1.0 => DataState::Complete,
                        _ => DataState::Partial,
                    },
                })
                .collect();
            let orphans = match r.label.as_str() {
                "main" => vec![
                    Orphan {
                        name: "Old Downloads".into(),
                        is_dir: true,
                        bytes: 12 * GIB + 300 * MIB,
                    },
                    Orphan {
                        name: "evil\x1b[2Jorphan\u{202E}txt.exe".into(),
                        is_dir: false,
                        bytes: 666,
                    },
                    Orphan {
                        name: "notes.txt".into(),
                        is_dir: false,
                        bytes: 2048,
                    },
                ],
                "media" => vec![Orphan {
                    name: "Adopt Me (2001) [720p]".into(),
                    is_dir: true,
                    bytes: 4 * GIB + 200 * MIB,
                }],
                _ => Vec::new(),
            };
            LibraryRoot {
                label: r.label.clone(),
                token: r.token.clone(),
                path: r.path.clone(),
                is_default: r.is_default,
                free_bytes: r.free_bytes,
                total_bytes: r.total_bytes,
                problem: r.problem.clone(),
                torrents,
                orphans,
                vault: r.vault,
            }
        })
        .collect();
    LibraryReport { roots }
}

/// The library report with the media root's seeding torrent (Big Buck Bunny) being moved
/// to main, 42% copied.
pub fn library_moving() -> trove_proto::library::LibraryReport {
    use trove_proto::library::DataState;
    let mut report = library();
    for root in &mut report.roots {
        for t in &mut root.torrents {
            if t.info_hash == BUNNY {
                t.data = DataState::Moving {
                    to_root: "main".into(),
                    done_bytes: t.size * 425 / 1000,
                    total_bytes: t.size,
                };
            }
        }
    }
    report
}

/// The fixture session with its first torrent held for missing data: two files gone, one
/// cut short.
pub fn missing_data_snapshot() -> SessionSnapshot {
    use trove_proto::library::{MissingData, SizeChange};
    let mut s = snapshot();
    let m = MissingData {
        missing: vec!["casper/vmlinuz".into(), "casper/initrd".into()],
        size_changed: vec![SizeChange {
            path: "casper/filesystem.squashfs".into(),
            expected: 5 * GIB,
            found: GIB,
        }],
    };
    let t = &mut s.torrents[0];
    t.state = TorrentState::Error;
    t.download_rate = 0.0;
    t.upload_rate = 0.0;
    t.error = Some(m.sentence());
    t.missing_data = Some(m);
    s
}
