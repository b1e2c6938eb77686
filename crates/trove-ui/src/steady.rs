//! Rates as the dashboard shows them: steady while the measured rate stays near them.
//!
//! A measured rate jitters from one second to the next even on a steady transfer (peers send
//! in bursts: a torrent capped at 128 KiB/s measures anywhere from 104 to 134 KiB/s over
//! five seconds). Shown as is, every rate in the table changes every second: the figures are
//! hard to read, rows sorted by rate swap places, and each change is bytes a slow SSH link
//! has to carry. So a shown rate stays until the measured one moves more than
//! [`STEADY_BAND`] away from it, or stops, or starts; the time left shown is worked out from
//! the rate shown.
//!
//! The header's session rate is the sum of the rates the rows show, so the two always agree
//! (the engine's own session total is measured over another window and lags the rows while
//! a transfer starts). A peer's rate in the Peers tab is steadied the same way, and a peer
//! that sends in bursts keeps its last rate for a few idle readings instead of flipping
//! between a rate and `-` every second.

use std::collections::HashMap;
use std::time::Duration;

use trove_proto::snapshot::{self, InfoHash, PeerEntry, SessionSnapshot, TorrentSummary};

/// How far, relative to the shown rate, the measured rate may move before the shown one
/// follows it.
pub(crate) const STEADY_BAND: f64 = 0.10;

/// Below this a rate is shown as idle (`-`).
const IDLE: f64 = 0.5;

/// The rate to show next, given the one shown and the one just measured.
pub(crate) fn steady(shown: f64, measured: f64) -> f64 {
    if measured.is_nan() || measured < IDLE {
        // Stopped (or not a number): say so at once.
        return 0.0;
    }
    if shown < IDLE || (measured - shown).abs() > STEADY_BAND * shown {
        return measured;
    }
    shown
}

/// The time left at the rate shown, so it does not flip between 2m and 3m with the measured
/// rate's jitter either.
fn shown_eta(t: &TorrentSummary) -> Option<Duration> {
    snapshot::eta(
        t.selected_bytes.saturating_sub(t.have_bytes),
        t.download_rate,
    )
}

/// The rates last shown, per torrent and for the session.
#[derive(Debug, Default)]
pub(crate) struct SteadyRates {
    torrents: HashMap<InfoHash, (f64, f64)>,
    session: (f64, f64),
}

impl SteadyRates {
    /// Replaces the measured rates in `snapshot` with the rates to show, and remembers them.
    /// Torrents no longer in the snapshot are forgotten.
    pub(crate) fn apply(&mut self, snapshot: &mut SessionSnapshot) {
        let mut shown = HashMap::with_capacity(snapshot.torrents.len());
        for t in &mut snapshot.torrents {
            let (down, up) = self.torrents.get(&t.info_hash).copied().unwrap_or_default();
            t.download_rate = steady(down, t.download_rate);
            t.upload_rate = steady(up, t.upload_rate);
            if t.eta.is_some() {
                t.eta = shown_eta(t);
            }
            shown.insert(t.info_hash.clone(), (t.download_rate, t.upload_rate));
        }
        self.torrents = shown;
        snapshot.download_rate = snapshot.torrents.iter().map(|t| t.download_rate).sum();
        snapshot.upload_rate = snapshot.torrents.iter().map(|t| t.upload_rate).sum();
        self.session = (snapshot.download_rate, snapshot.upload_rate);
    }

    /// Whether every rate in `snapshot` is the one shown already, so that
    /// [`apply`](Self::apply) would change nothing, here or there (the caller need not copy a
    /// shared snapshot). An idle session's snapshots are like that.
    pub(crate) fn would_keep(&self, snapshot: &SessionSnapshot) -> bool {
        self.session == (snapshot.download_rate, snapshot.upload_rate)
            && self.torrents.len() == snapshot.torrents.len()
            && snapshot.torrents.iter().all(|t| {
                self.torrents.get(&t.info_hash) == Some(&(t.download_rate, t.upload_rate))
                    && (t.eta.is_none() || t.eta == shown_eta(t))
            })
    }
}

/// Idle readings a connected peer's last rate survives: peers send in bursts, and a
/// one-second window often catches none.
const PEER_HOLD: u8 = 3;

/// A peer's rate as shown, and how many idle readings in a row it has outlived.
#[derive(Debug, Default, Clone, Copy)]
struct PeerShown {
    rate: f64,
    idle: u8,
}

impl PeerShown {
    fn next(self, measured: f64) -> PeerShown {
        let idle = measured.is_nan() || measured < IDLE;
        if idle && self.rate >= IDLE && self.idle < PEER_HOLD {
            return PeerShown {
                rate: self.rate,
                idle: self.idle + 1,
            };
        }
        PeerShown {
            rate: steady(self.rate, measured),
            idle: 0,
        }
    }
}

/// The peer rates last shown for the selected torrent, by address.
#[derive(Debug, Default)]
pub(crate) struct SteadyPeers {
    peers: HashMap<String, (PeerShown, PeerShown)>,
}

impl SteadyPeers {
    /// Replaces the measured rates with the rates to show; peers gone are forgotten.
    pub(crate) fn apply(&mut self, peers: &mut [PeerEntry]) {
        let mut shown = HashMap::with_capacity(peers.len());
        for p in peers {
            let (down, up) = self.peers.get(&p.addr).copied().unwrap_or_default();
            let (down, up) = (down.next(p.download_rate), up.next(p.upload_rate));
            p.download_rate = down.rate;
            p.upload_rate = up.rate;
            shown.insert(p.addr.clone(), (down, up));
        }
        self.peers = shown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    const KIB: f64 = 1024.0;

    #[test]
    fn jitter_inside_the_band_keeps_the_shown_rate() {
        let mut shown = steady(0.0, 128.0 * KIB);
        assert_eq!(shown, 128.0 * KIB, "a rate that starts shows at once");
        for measured in [120.0, 134.0, 116.0, 140.0, 128.0] {
            shown = steady(shown, measured * KIB);
            assert_eq!(shown, 128.0 * KIB, "{measured} KiB/s is within 10% of 128");
        }
    }

    #[test]
    fn a_real_change_stops_and_starts_show_at_once() {
        assert_eq!(steady(128.0 * KIB, 104.0 * KIB), 104.0 * KIB);
        assert_eq!(steady(128.0 * KIB, 1.0 * KIB * KIB), 1.0 * KIB * KIB);
        assert_eq!(steady(128.0 * KIB, 0.0), 0.0, "stopped");
        assert_eq!(
            steady(128.0 * KIB, 0.2),
            0.0,
            "below a byte a second is idle"
        );
        assert_eq!(steady(128.0 * KIB, f64::NAN), 0.0);
        assert_eq!(steady(0.0, 3.0), 3.0, "started");
    }

    #[test]
    fn snapshots_keep_each_torrents_and_the_sessions_rate_and_forget_removed_torrents() {
        let mut rates = SteadyRates::default();
        let mut first = fixtures::snapshot();
        first.torrents.truncate(2);
        first.torrents[0].download_rate = 100.0 * KIB;
        first.torrents[1].download_rate = 50.0 * KIB;
        first.download_rate = 150.0 * KIB;
        rates.apply(&mut first);

        let mut second = first.clone();
        second.torrents[0].download_rate = 105.0 * KIB;
        second.torrents[1].download_rate = 60.0 * KIB;
        second.download_rate = 165.0 * KIB;
        assert!(!rates.would_keep(&second));
        rates.apply(&mut second);
        assert_eq!(
            second.torrents[0].download_rate,
            100.0 * KIB,
            "inside the band"
        );
        assert_eq!(second.torrents[1].download_rate, 60.0 * KIB, "20% away");
        // The header shows the sum of the rows shown, whatever the engine's total says.
        assert_eq!(second.download_rate, 160.0 * KIB);
        assert!(rates.would_keep(&second), "what was just shown is kept");

        // Removed and added back: it starts from its measured rate, not the old shown one.
        let mut gone = second.clone();
        let removed = gone.torrents.remove(0);
        rates.apply(&mut gone);
        let mut back = gone.clone();
        let mut again = removed;
        again.download_rate = 95.0 * KIB;
        back.torrents.push(again);
        rates.apply(&mut back);
        assert_eq!(back.torrents[1].download_rate, 95.0 * KIB);
    }

    #[test]
    fn the_time_left_follows_the_rate_shown() {
        let mut rates = SteadyRates::default();
        let mut snap = fixtures::snapshot();
        snap.torrents.truncate(1);
        let t = &mut snap.torrents[0];
        t.selected_bytes = 20 * 1024 * 1024;
        t.have_bytes = 5 * 1024 * 1024;
        t.download_rate = 128.0 * KIB;
        t.eta = snapshot::eta(15 * 1024 * 1024, 128.0 * KIB);
        rates.apply(&mut snap);
        assert_eq!(
            snap.torrents[0].eta,
            Some(std::time::Duration::from_secs(120))
        );

        // Measured 118 KiB/s: the engine says 130 s, the dashboard keeps 128 KiB/s and 120 s.
        let t = &mut snap.torrents[0];
        t.download_rate = 118.0 * KIB;
        t.eta = snapshot::eta(15 * 1024 * 1024, 118.0 * KIB);
        rates.apply(&mut snap);
        assert_eq!(snap.torrents[0].download_rate, 128.0 * KIB);
        assert_eq!(
            snap.torrents[0].eta,
            Some(std::time::Duration::from_secs(120))
        );

        // No time left without a download in progress (the engine's call), whatever the rate.
        let t = &mut snap.torrents[0];
        t.download_rate = 120.0 * KIB;
        t.eta = None;
        rates.apply(&mut snap);
        assert_eq!(snap.torrents[0].eta, None);
    }

    #[test]
    fn the_header_is_the_sum_of_the_rows_even_while_the_engine_total_lags() {
        let mut rates = SteadyRates::default();
        let mut snap = fixtures::snapshot();
        snap.torrents.truncate(2);
        snap.torrents[0].download_rate = 1.5 * KIB * KIB;
        snap.torrents[1].download_rate = 512.0 * KIB;
        snap.torrents[0].upload_rate = 0.0;
        snap.torrents[1].upload_rate = 100.0 * KIB;
        // At start the engine's session window still averages in the idle seconds.
        snap.download_rate = 506.0 * KIB;
        snap.upload_rate = 30.0 * KIB;
        rates.apply(&mut snap);
        assert_eq!(snap.download_rate, 2.0 * KIB * KIB);
        assert_eq!(snap.upload_rate, 100.0 * KIB);
        assert!(rates.would_keep(&snap));
    }

    #[test]
    fn a_bursty_peer_keeps_its_rate_for_a_few_idle_readings() {
        let peer = |rate: f64| PeerEntry {
            addr: "192.0.2.1:6881".into(),
            client: None,
            download_rate: rate,
            upload_rate: 0.0,
            downloaded: 0,
            uploaded: 0,
            state: "live".into(),
        };
        let mut steady = SteadyPeers::default();
        let mut shown = Vec::new();
        for measured in [816.0, 0.0, 830.0, 0.0, 0.0, 0.0, 0.0] {
            let mut peers = vec![peer(measured * KIB)];
            steady.apply(&mut peers);
            shown.push(peers[0].download_rate / KIB);
        }
        assert_eq!(shown, vec![816.0, 816.0, 816.0, 816.0, 816.0, 816.0, 0.0]);
        // A peer that left and came back starts from its measured rate.
        let mut gone: Vec<PeerEntry> = Vec::new();
        steady.apply(&mut gone);
        let mut back = vec![peer(0.0)];
        steady.apply(&mut back);
        assert_eq!(back[0].download_rate, 0.0);
    }
}
