//! Transfer rates derived from cumulative byte counters.
//!
//! librqbit reports how many bytes a torrent (or the session) has moved so far; the UI wants
//! "bytes per second now" and a per-second history for sparklines. [`RateTracker`] turns
//! counter samples taken at arbitrary instants into both, in bounded memory.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Sliding window over which [`RateTracker::rate`] averages.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(5);

/// Seconds of per-second history kept (five minutes).
pub const HISTORY_SECONDS: usize = 300;

/// Samples kept inside one window at most. Samples closer together than `window / this` are
/// merged, so memory does not depend on how often the caller samples.
const MAX_SAMPLES_PER_WINDOW: u32 = 64;

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    /// Our own monotonic total: the sum of forward steps of the caller's counter, so a counter
    /// reset never makes it go backwards.
    total: u64,
}

/// Turns a monotonically increasing byte counter, sampled at arbitrary instants, into a
/// current rate and a per-second history.
#[derive(Debug, Clone)]
pub struct RateTracker {
    window: Duration,
    min_spacing: Duration,
    /// Samples inside the window, plus at most one older "anchor" so that sparse sampling
    /// (intervals longer than the window) still yields a rate.
    samples: VecDeque<Sample>,
    /// The caller's counter as last seen, to compute forward steps.
    last_raw: Option<u64>,
    /// Seconds are counted from the first sample.
    origin: Option<Instant>,
    /// Byte counts of the complete seconds, oldest first. `f32` (a graph needs no more)
    /// halves what every torrent keeps, two trackers of five minutes each.
    history: VecDeque<f32>,
    /// Bytes of the second in progress.
    current: f64,
    /// Index (seconds since `origin`) of the second in progress.
    history_sec: u64,
}

impl Default for RateTracker {
    fn default() -> Self {
        Self::new(DEFAULT_RATE_WINDOW)
    }
}

impl RateTracker {
    pub fn new(window: Duration) -> Self {
        RateTracker {
            window,
            min_spacing: window / MAX_SAMPLES_PER_WINDOW,
            samples: VecDeque::new(),
            last_raw: None,
            origin: None,
            history: VecDeque::with_capacity(HISTORY_SECONDS),
            current: 0.0,
            history_sec: 0,
        }
    }

    /// Feeds the counter's value at `at`. A value lower than the previous one means the
    /// counter was reset (a torrent restarted): it becomes the new baseline and counts as no
    /// transfer. An instant earlier than the previous sample is treated as simultaneous with it.
    pub fn record(&mut self, at: Instant, total_bytes: u64) {
        let delta = match self.last_raw {
            Some(prev) if total_bytes >= prev => total_bytes - prev,
            _ => 0,
        };
        self.last_raw = Some(total_bytes);

        let Some(newest) = self.samples.back().copied() else {
            self.origin = Some(at);
            self.history.clear();
            self.current = 0.0;
            self.history_sec = 0;
            self.samples.push_back(Sample { at, total: 0 });
            return;
        };
        let at = at.max(newest.at);
        let sample = Sample {
            at,
            total: newest.total.saturating_add(delta),
        };
        self.add_to_history(newest.at, at, delta);

        // While the newest sample is still close to the one before it, it is provisional and
        // gets overwritten: every kept gap is then wider than `min_spacing`, which bounds the
        // samples per window however often we are called.
        let len = self.samples.len();
        let merge = len >= 2
            && self.samples.get(len - 2).is_some_and(|prev| {
                newest.at.saturating_duration_since(prev.at) <= self.min_spacing
            });
        if merge {
            if let Some(last) = self.samples.back_mut() {
                *last = sample;
            }
        } else {
            self.samples.push_back(sample);
        }
        self.prune(at);
    }

    /// Drops samples that fell out of the window, keeping one anchor older than it.
    fn prune(&mut self, newest: Instant) {
        let Some(start) = newest.checked_sub(self.window) else {
            return;
        };
        while self.samples.len() > 2 && self.samples.get(1).is_some_and(|s| s.at < start) {
            self.samples.pop_front();
        }
    }

    /// Bytes per second over the window ending at the newest sample: the oldest sample inside
    /// the window against the newest, or the anchor if nothing else is inside. With fewer
    /// than two samples the rate is 0.
    ///
    /// The window is measured from the newest sample, not from the wall clock, so callers
    /// should keep sampling while idle for the rate to decay.
    pub fn rate(&self) -> f64 {
        let Some(newest) = self.samples.back() else {
            return 0.0;
        };
        let start = newest.at.checked_sub(self.window);
        let reference = self
            .samples
            .iter()
            .take(self.samples.len().saturating_sub(1))
            .find(|s| start.is_none_or(|start| s.at >= start))
            .or_else(|| self.samples.front().filter(|s| s.at < newest.at));
        let Some(reference) = reference else {
            return 0.0;
        };
        let secs = newest
            .at
            .saturating_duration_since(reference.at)
            .as_secs_f64();
        if secs <= 0.0 {
            return 0.0;
        }
        newest.total.saturating_sub(reference.total) as f64 / secs
    }

    /// Bytes that arrived in each whole second since the first sample, oldest first, at most
    /// [`HISTORY_SECONDS`] values. The second in progress is not included.
    pub fn history(&self) -> Vec<f64> {
        self.history.iter().map(|&v| f64::from(v)).collect()
    }

    /// Where [`history`](Self::history) ends, in whole seconds since this tracker's first
    /// sample: lets a graph group samples by absolute time, so it moves in whole steps
    /// instead of redrawing every column each second.
    pub fn history_clock(&self) -> u64 {
        self.history_sec
    }

    /// Spreads `bytes` that arrived between `from` and `to` over the seconds they span, in
    /// proportion to the time spent in each.
    fn add_to_history(&mut self, from: Instant, to: Instant, bytes: u64) {
        let Some(origin) = self.origin else {
            return;
        };
        let t0 = from.saturating_duration_since(origin).as_secs_f64();
        let t1 = to.saturating_duration_since(origin).as_secs_f64();
        let last_sec = t1.floor() as u64;
        let span = t1 - t0;
        if span <= 0.0 {
            self.advance_history(last_sec);
            self.current += bytes as f64;
            return;
        }
        // Seconds older than the history can hold would be dropped anyway; skipping them keeps
        // a long gap (a suspended laptop) from costing a loop per second.
        let first_sec = (t0.floor() as u64).max(last_sec.saturating_sub(HISTORY_SECONDS as u64));
        for sec in first_sec..=last_sec {
            let lo = t0.max(sec as f64);
            let hi = t1.min(sec as f64 + 1.0);
            self.advance_history(sec);
            if hi > lo {
                self.current += bytes as f64 * (hi - lo) / span;
            }
        }
    }

    /// Makes `sec` the second in progress, closing the ones before it (those that saw no
    /// sample moved nothing).
    fn advance_history(&mut self, sec: u64) {
        if sec <= self.history_sec {
            return;
        }
        self.history.push_back(self.current as f32);
        self.current = 0.0;
        let empty = (sec - self.history_sec - 1).min(HISTORY_SECONDS as u64);
        self.history.extend((0..empty).map(|_| 0.0));
        self.history_sec = sec;
        while self.history.len() > HISTORY_SECONDS {
            self.history.pop_front();
        }
    }

    /// Samples currently held, for tests of the memory bound.
    #[cfg(test)]
    fn sample_count(&self) -> usize {
        self.samples.len()
    }
}

/// Download and upload trackers fed together from one stats snapshot.
#[derive(Debug, Clone, Default)]
pub struct DirectionalRates {
    pub download: RateTracker,
    pub upload: RateTracker,
}

impl DirectionalRates {
    pub fn new(window: Duration) -> Self {
        DirectionalRates {
            download: RateTracker::new(window),
            upload: RateTracker::new(window),
        }
    }

    pub fn record(&mut self, at: Instant, downloaded_total: u64, uploaded_total: u64) {
        self.download.record(at, downloaded_total);
        self.upload.record(at, uploaded_total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        let diff = (actual - expected).abs();
        let allowed = expected.abs() * tolerance;
        assert!(
            diff <= allowed.max(1e-9),
            "{actual} not within {tolerance} of {expected}"
        );
    }

    #[test]
    fn fewer_than_two_samples_is_zero() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        assert_eq!(t.rate(), 0.0);
        t.record(base, 12345);
        assert_eq!(t.rate(), 0.0);
        assert!(t.history().is_empty());
    }

    #[test]
    fn steady_one_megabyte_per_second() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        for i in 0..=20u64 {
            t.record(base + Duration::from_secs(i), i * MB);
        }
        assert_close(t.rate(), 1e6, 0.01);
    }

    #[test]
    fn first_sample_is_a_baseline_not_a_burst() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        // A torrent resumed with 10 GB already downloaded: that is not transfer.
        t.record(base, 10_000 * MB);
        t.record(base + secs(1.0), 10_000 * MB + MB);
        assert_close(t.rate(), 1e6, 0.01);
        assert_eq!(t.history(), vec![1e6]);
    }

    #[test]
    fn burst_then_silence_decays_to_zero_after_the_window() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        t.record(base, 0);
        t.record(base + secs(1.0), 50 * MB);
        assert!(t.rate() > 0.0);
        for i in 2..=5 {
            t.record(base + Duration::from_secs(i), 50 * MB);
            assert!(t.rate() > 0.0, "still inside the window at {i}s");
        }
        t.record(base + secs(6.0), 50 * MB);
        t.record(base + secs(7.0), 50 * MB);
        assert_eq!(t.rate(), 0.0);
    }

    #[test]
    fn counter_reset_becomes_a_new_baseline() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        for i in 0..=5u64 {
            t.record(base + Duration::from_secs(i), 1_000 * MB + i * MB);
        }
        // The torrent restarted: its counter starts from zero again.
        t.record(base + secs(6.0), 0);
        let rate = t.rate();
        assert!(rate.is_finite() && rate >= 0.0, "rate {rate}");
        assert!(rate <= 1.01e6, "reset must not look like a burst: {rate}");
        for i in 7..=20u64 {
            t.record(base + Duration::from_secs(i), (i - 6) * 2 * MB);
        }
        assert_close(t.rate(), 2e6, 0.01);
        assert!(t.history().iter().all(|v| v.is_finite() && *v >= 0.0));
        assert_eq!(t.history()[5], 0.0, "the second of the reset moved nothing");
    }

    #[test]
    fn history_has_one_value_per_whole_second() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        t.record(base, 0);
        t.record(base + secs(1.0), 100);
        t.record(base + secs(2.0), 300);
        t.record(base + secs(2.5), 350);
        assert_eq!(t.history(), vec![100.0, 200.0]);
        t.record(base + secs(3.0), 400);
        assert_eq!(t.history(), vec![100.0, 200.0, 100.0]);
    }

    #[test]
    fn history_spreads_a_gap_evenly() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        t.record(base, 0);
        t.record(base + secs(4.0), 400);
        assert_eq!(t.history(), vec![100.0; 4]);
        // A gap that does not start on a second boundary splits by time spent in each second.
        t.record(base + secs(4.5), 400);
        t.record(base + secs(6.5), 600);
        let h = t.history();
        assert_eq!(h.len(), 6);
        assert_close(h[4], 50.0, 1e-9);
        assert_close(h[5], 100.0, 1e-9);
    }

    #[test]
    fn history_is_capped_at_five_minutes() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        for i in 0..=400u64 {
            t.record(base + Duration::from_secs(i), i * 10);
        }
        let h = t.history();
        assert_eq!(h.len(), HISTORY_SECONDS);
        assert!(h.iter().all(|v| (*v - 10.0).abs() < 1e-9));
    }

    #[test]
    fn a_long_gap_keeps_only_the_last_five_minutes() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        t.record(base, 0);
        t.record(base + Duration::from_secs(10), 1000);
        t.record(base + Duration::from_secs(100_000), 1000 + 99_990 * 7);
        let h = t.history();
        assert_eq!(h.len(), HISTORY_SECONDS);
        assert!(h.iter().all(|v| (*v - 7.0).abs() < 1e-6), "{h:?}");
    }

    #[test]
    fn irregular_sampling_intervals() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        let steps = [0.3, 1.7, 0.05, 0.9, 2.2, 0.45, 1.1, 0.6, 3.0, 0.2, 1.3];
        let mut at = 0.0;
        t.record(base, 0);
        for step in steps.iter().cycle().take(60) {
            at += step;
            t.record(base + secs(at), (at * 2e6) as u64);
        }
        assert_close(t.rate(), 2e6, 0.01);
        let h = t.history();
        assert_eq!(h.len(), at.floor() as usize);
        for v in &h {
            assert_close(*v, 2e6, 0.01);
        }
    }

    #[test]
    fn sparse_sampling_still_has_a_rate() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        t.record(base, 0);
        t.record(base + secs(10.0), 10 * MB);
        t.record(base + secs(20.0), 20 * MB);
        assert_close(t.rate(), 1e6, 0.01);
    }

    #[test]
    fn frequent_sampling_keeps_memory_bounded() {
        let base = Instant::now();
        let mut t = RateTracker::default();
        let bound = MAX_SAMPLES_PER_WINDOW as usize + 3;
        for i in 0..100 * 120u64 {
            // 100 samples per second at 1 MB/s for two minutes.
            t.record(base + Duration::from_millis(i * 10), i * 10_000);
            assert!(t.sample_count() <= bound, "{} samples", t.sample_count());
        }
        assert_close(t.rate(), 1e6, 0.01);
        assert!(t.history.len() <= HISTORY_SECONDS);
        assert_eq!(t.history().len(), 119);
    }

    #[test]
    fn instants_going_backwards_do_not_panic() {
        let base = Instant::now() + Duration::from_secs(60);
        let mut t = RateTracker::default();
        t.record(base, 0);
        t.record(base - secs(1.0), 100);
        t.record(base + secs(1.0), 200);
        assert!(t.rate().is_finite());
    }

    #[test]
    fn zero_window_does_not_panic() {
        let base = Instant::now();
        let mut t = RateTracker::new(Duration::ZERO);
        for i in 0..100u64 {
            t.record(base + Duration::from_millis(i * 100), i * 100);
        }
        assert_close(t.rate(), 1000.0, 0.01);
        assert!(t.sample_count() <= 3);
    }

    #[test]
    fn directional_rates_track_both_counters() {
        let base = Instant::now();
        let mut r = DirectionalRates::default();
        for i in 0..=10u64 {
            r.record(base + Duration::from_secs(i), i * 3 * MB, i * MB);
        }
        assert_close(r.download.rate(), 3e6, 0.01);
        assert_close(r.upload.rate(), 1e6, 0.01);
    }
}
