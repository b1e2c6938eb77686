//! What one dashboard frame costs: the whole screen drawn into ratatui's `TestBackend` at
//! 160x48 with 10,000 torrents in the table.
//!
//! Built only from public UI items (`App`, `Event`, `Theme`, `draw`) and the synthetic
//! sessions of `trove_ui::fixtures` (deterministic; realistic names, sizes, states and rates).
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
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use trove_proto::snapshot::SessionSnapshot;
use trove_ui::fixtures::{big_app, big_session, ch, many_log_lines};
use trove_ui::{App, Event, Theme, draw};

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
    let big = [
        Arc::new(big_session(10_000, 0)),
        Arc::new(big_session(10_000, 1)),
    ];
    let small = [
        Arc::new(big_session(1_000, 0)),
        Arc::new(big_session(1_000, 1)),
    ];

    // Sanity: the frame really shows a full table (so a UI change that empties it fails here
    // rather than making the measurement meaningless).
    {
        let a = big_app(big[0].clone(), 160, 48);
        let mut t = terminal(160, 48);
        t.draw(|f| draw(f, &a, &Theme::default())).unwrap();
        let text = t.backend().to_string();
        assert!(
            text.contains("10000 torrents") && text.contains(&a.visible_hashes().len().to_string()),
            "the 160x48 frame does not show the 10,000-torrent table:\n{text}"
        );
    }

    let apps = |s: &[Arc<SessionSnapshot>], w, h| -> Vec<App> {
        s.iter().map(|s| big_app(s.clone(), w, h)).collect()
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
            a.handle(ch('L'));
            a.handle(Event::LogLines(many_log_lines(1000)));
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
            a.handle(ch('4'));
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
            a.handle(ch('z'));
            a.handle(Event::LogLines(many_log_lines(1000)));
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
    let snaps = [
        Arc::new(big_session(10_000, 0)),
        Arc::new(big_session(10_000, 1)),
    ];
    let mut g = c.benchmark_group("ingest");
    for (label, sort_keys) in [("added", 0usize), ("name", 1)] {
        let mut a = big_app(snaps[0].clone(), 160, 48);
        // `s` steps the sort key: added -> name.
        for _ in 0..sort_keys {
            a.handle(ch('s'));
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
    let mut a = big_app(snaps[0].clone(), 160, 48);
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
