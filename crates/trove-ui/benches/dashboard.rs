//! What one dashboard frame costs (issue 5, item 3): the whole screen drawn into ratatui's
//! `TestBackend` at 160x48 with 10,000 torrents in the table. Target: under 1 ms a frame.
//!
//! Built only from public UI items (`App`, `Event`, `Keymap`, `Theme`, `draw::draw`) and a
//! synthetic `SessionSnapshot` (deterministic; realistic names, sizes, states and rates).
//!
//! Benchmarks (`cargo bench --bench dashboard`; `bench/dashboard.sh` runs them and reads the
//! medians from `target/criterion/*/new/estimates.json`):
//!
//! - `frame/160x48/10000`: the headline. One `Terminal::draw` (render every pane into the
//!   buffer, diff against the previous frame, hand the changed cells to the backend),
//!   alternating between two apps whose snapshots differ in every rate, so each frame has
//!   real changes to diff and flush, as a stats refresh does.
//! - `frame_same/160x48/10000`: the same frame drawn again (nothing changed: no cells flushed).
//! - `frame/160x48/1000`, `frame/80x24/10000`: context.
//! - `frame_log/160x48/10000`: with the log pane shown (`L`), 1,000 log lines in the app.
//! - `ingest/{added,name}/10000`: `App::handle(Event::Snapshot)`, the work done on each new
//!   snapshot before the next draw (filter + sort 10,000 rows, follow the selection), with the
//!   default sort (added) and the costliest one (name).
//! - `tick/160x48/10000`: ingest + draw, what one stats refresh costs the UI thread in all.
//! - `part/*`: the frame cut down to one pane (table only = focus on the table with the
//!   log full-screen off and no details, etc.) so the costly part shows; see the group doc.

// A benchmark: a failure is a broken bench, and unwrap says where.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use trove_proto::log::{LogLevel, LogLine};
use trove_proto::snapshot::{
    FileEntry, Limits, PeerEntry, PieceMap, RootInfo, SessionSnapshot, TorrentDetails,
    TorrentState, TorrentSummary, TrackerEntry,
};
use trove_ui::draw::draw;
use trove_ui::{App, Event, Keymap, Theme};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;
/// 2024-11-20 14:00:00 UTC.
const T0: i64 = 1_732_111_200;

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

fn name(rng: &mut Rng, i: usize) -> String {
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

fn summary(rng: &mut Rng, i: usize) -> TorrentSummary {
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
        name: name(rng, i),
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
    }
}

fn history(scale: f64, phase: f64) -> Vec<f64> {
    (0..300)
        .map(|i| {
            let x = i as f64;
            scale * (0.55 + 0.35 * (x / 300.0) + 0.1 * ((x / 17.0) + phase).sin())
        })
        .collect()
}

/// `n` torrents; `variant` changes every rate (and the histories), as the next tick would.
fn snapshot(n: usize, variant: u64) -> SessionSnapshot {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut torrents: Vec<TorrentSummary> = (0..n).map(|i| summary(&mut rng, i)).collect();
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
        listen_addr: Some("0.0.0.0:4240".parse::<SocketAddr>().unwrap()),
        download_history: history(down.max(1.0), variant as f64),
        upload_history: history(up.max(1.0), 2.0 + variant as f64),
        torrents,
    }
}

/// Details of `t` as the engine would give them: a season pack's files, peers, pieces.
fn details(t: &TorrentSummary) -> TorrentDetails {
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
        }],
        download_history: history(3.0 * MIB as f64, 1.0),
        upload_history: history(0.2 * MIB as f64, 3.0),
        history_clock: 1_000,
    }
}

fn log_lines(n: u64) -> Vec<LogLine> {
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

fn key(c: char) -> Event {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Event::Input(TermEvent::Key(KeyEvent::new(KeyCode::Char(c), mods)))
}

/// An app over `snap` sized `w`x`h`, with the selected torrent's details loaded.
fn app(snap: Arc<SessionSnapshot>, w: u16, h: u16) -> App {
    let mut app = App::new(Keymap::default(), snap.clone());
    app.handle(Event::Input(TermEvent::Resize(w, h)));
    if let Some(id) = app.selected().map(str::to_string) {
        let t = snap.torrents.iter().find(|t| t.info_hash == id).unwrap();
        app.handle(Event::Details {
            id,
            result: Ok(Box::new(details(t))),
        });
    }
    app
}

fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).unwrap()
}

/// Draws `apps` in turn into one terminal, one frame per iteration.
fn bench_frames(c: &mut Criterion, group: &str, id: BenchmarkId, apps: &[App], w: u16, h: u16) {
    let theme = Theme::default();
    let mut term = terminal(w, h);
    for a in apps {
        term.draw(|f| draw(f, a, &theme)).unwrap();
    }
    let mut g = c.benchmark_group(group);
    let mut i = 0usize;
    g.bench_function(id, |b| {
        b.iter(|| {
            let a = &apps[i % apps.len()];
            i += 1;
            term.draw(|f| draw(f, black_box(a), &theme)).unwrap();
        })
    });
    g.finish();
}

fn frames(c: &mut Criterion) {
    let big = [Arc::new(snapshot(10_000, 0)), Arc::new(snapshot(10_000, 1))];
    let small = [Arc::new(snapshot(1_000, 0)), Arc::new(snapshot(1_000, 1))];

    // Sanity: the frame really shows a full table (so a UI change that empties it fails here
    // rather than making the figure meaningless).
    {
        let a = app(big[0].clone(), 160, 48);
        let mut t = terminal(160, 48);
        t.draw(|f| draw(f, &a, &Theme::default())).unwrap();
        let text = t.backend().to_string();
        assert!(
            text.contains("10000 torrents") && text.contains(&a.visible_hashes().len().to_string()),
            "the 160x48 frame does not show the 10,000-torrent table:\n{text}"
        );
    }

    let apps = |s: &[Arc<SessionSnapshot>], w, h| -> Vec<App> {
        s.iter().map(|s| app(s.clone(), w, h)).collect()
    };
    bench_frames(
        c,
        "frame",
        BenchmarkId::new("160x48", 10_000),
        &apps(&big, 160, 48),
        160,
        48,
    );
    bench_frames(
        c,
        "frame_same",
        BenchmarkId::new("160x48", 10_000),
        &apps(&big[..1], 160, 48),
        160,
        48,
    );
    bench_frames(
        c,
        "frame",
        BenchmarkId::new("160x48", 1_000),
        &apps(&small, 160, 48),
        160,
        48,
    );
    bench_frames(
        c,
        "frame",
        BenchmarkId::new("80x24", 10_000),
        &apps(&big, 80, 24),
        80,
        24,
    );

    // With the log pane shown: table, details and log stacked.
    let with_log: Vec<App> = apps(&big, 160, 48)
        .into_iter()
        .map(|mut a| {
            a.handle(key('L'));
            a.handle(Event::LogLines(log_lines(1000)));
            a
        })
        .collect();
    bench_frames(
        c,
        "frame_log",
        BenchmarkId::new("160x48", 10_000),
        &with_log,
        160,
        48,
    );

    // Parts: the details pane focused fills the main area when the log takes the rest
    // (layouts below STACK_ALL); simplest cut is by view: the table alone with the detail
    // pane's Pieces tab (cheap) versus the Overview tab (chart), and the log full screen.
    let pieces_tab: Vec<App> = apps(&big, 160, 48)
        .into_iter()
        .map(|mut a| {
            a.handle(key('4'));
            a
        })
        .collect();
    bench_frames(
        c,
        "part",
        BenchmarkId::new("table+pieces_tab", 10_000),
        &pieces_tab,
        160,
        48,
    );
    let log_full: Vec<App> = apps(&big, 160, 48)
        .into_iter()
        .map(|mut a| {
            a.handle(key('L'));
            a.handle(key('L'));
            a.handle(Event::LogLines(log_lines(1000)));
            a
        })
        .collect();
    bench_frames(
        c,
        "part",
        BenchmarkId::new("log_full", 10_000),
        &log_full,
        160,
        48,
    );
}

fn ingest(c: &mut Criterion) {
    let snaps = [Arc::new(snapshot(10_000, 0)), Arc::new(snapshot(10_000, 1))];
    let mut g = c.benchmark_group("ingest");
    for (label, sort_keys) in [("added", 0usize), ("name", 1)] {
        let mut a = app(snaps[0].clone(), 160, 48);
        // `s` steps the sort key: added -> name.
        for _ in 0..sort_keys {
            a.handle(key('s'));
        }
        let mut i = 0usize;
        g.bench_function(BenchmarkId::new(label, 10_000), |b| {
            b.iter(|| {
                i += 1;
                black_box(a.handle(Event::Snapshot(snaps[i % 2].clone())));
            })
        });
        eprintln!("ingest/{label}: sort is {:?}", a.sort());
    }
    g.finish();

    let theme = Theme::default();
    let mut a = app(snaps[0].clone(), 160, 48);
    let mut term = terminal(160, 48);
    term.draw(|f| draw(f, &a, &theme)).unwrap();
    let mut g = c.benchmark_group("tick");
    let mut i = 0usize;
    g.bench_function(BenchmarkId::new("160x48", 10_000), |b| {
        b.iter(|| {
            i += 1;
            a.handle(Event::Snapshot(snaps[i % 2].clone()));
            term.draw(|f| draw(f, &a, &theme)).unwrap();
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(100)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = frames, ingest
}
criterion_main!(benches);
