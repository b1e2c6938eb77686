//! The log lines of every in-process engine of a test binary: the engine logs through
//! `tracing` from its own threads, so the ring is the process's global subscriber.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use trove_engine::logring::{LogRing, RingFilter};
use trove_proto::log::{LogFilter, LogLevel};

/// The ring, installed as the global subscriber on first use (call it before the first
/// engine starts).
pub fn ring() -> &'static LogRing {
    static RING: OnceLock<LogRing> = OnceLock::new();
    RING.get_or_init(|| {
        let ring = LogRing::new(10_000);
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::registry()
                .with(ring.layer().with_filter(RingFilter::new(LogLevel::Info))),
        );
        ring
    })
}

/// The torrent's log lines, for a failed assertion to show.
pub fn log_lines(hash: &str) -> Vec<String> {
    ring()
        .lines(&LogFilter {
            min_level: LogLevel::Info,
            info_hash: Some(hash.to_string()),
        })
        .iter()
        .map(|l| l.message.clone())
        .collect()
}

/// Whether the log has (or gets within `timeout`) a line about the torrent containing
/// `needle`: the engine may say how something ended just after the snapshot shows it.
pub async fn log_has(hash: &str, needle: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let found = log_lines(hash).iter().any(|l| l.contains(needle));
        if found || Instant::now() >= deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
