//! The in-memory log the dashboard shows: a bounded ring of recent lines, fed by a
//! `tracing` layer that also works out which torrent each line is about.
//!
//! librqbit logs a torrent's work inside a span named `torrent` carrying its numeric session
//! id; trove keys torrents by info-hash, so the engine registers id→hash here as torrents are
//! added and the layer attributes lines through that map.

use std::collections::{HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::Local;
use tokio::sync::watch;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;
use trove_proto::log::{LogFilter, LogLevel, LogLine};

/// Lines kept when the caller has no better idea.
pub const DEFAULT_LOG_CAPACITY: usize = 1000;

/// trove's level of a `tracing` event.
fn level_of(level: &tracing::Level) -> LogLevel {
    match *level {
        tracing::Level::ERROR => LogLevel::Error,
        tracing::Level::WARN => LogLevel::Warn,
        tracing::Level::INFO => LogLevel::Info,
        tracing::Level::DEBUG => LogLevel::Debug,
        tracing::Level::TRACE => LogLevel::Trace,
    }
}

fn tracing_level(level: LogLevel) -> tracing::Level {
    match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Trace => tracing::Level::TRACE,
    }
}

struct Inner {
    capacity: usize,
    lines: Mutex<VecDeque<LogLine>>,
    last_seq: AtomicU64,
    /// The newest line's sequence number, for clients waiting for new lines.
    seq: watch::Sender<u64>,
    torrents: RwLock<HashMap<usize, String>>,
}

/// A bounded, shareable log. Cloning shares the same ring.
#[derive(Clone)]
pub struct LogRing {
    inner: Arc<Inner>,
}

impl fmt::Debug for LogRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogRing")
            .field("capacity", &self.inner.capacity)
            .field("last_seq", &self.last_seq())
            .finish_non_exhaustive()
    }
}

impl Default for LogRing {
    fn default() -> Self {
        Self::new(DEFAULT_LOG_CAPACITY)
    }
}

impl LogRing {
    /// A ring keeping the newest `capacity` lines (at least one).
    pub fn new(capacity: usize) -> Self {
        let (seq, _) = watch::channel(0);
        LogRing {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                // Grown on demand so a huge capacity costs nothing until it is used.
                lines: Mutex::new(VecDeque::new()),
                last_seq: AtomicU64::new(0),
                seq,
                torrents: RwLock::new(HashMap::new()),
            }),
        }
    }

    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// Appends a line, evicting the oldest when full, and tells subscribers.
    pub fn push(
        &self,
        level: LogLevel,
        target: impl Into<String>,
        message: impl Into<String>,
        info_hash: Option<String>,
    ) {
        let mut lines = self
            .inner
            .lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Taken under the lock so sequence numbers are in ring order.
        let seq = self.inner.last_seq.load(Ordering::Relaxed) + 1;
        let line = LogLine {
            seq,
            time: Local::now(),
            level,
            target: target.into(),
            message: message.into(),
            info_hash: info_hash.map(|h| h.to_ascii_lowercase()),
        };
        while lines.len() >= self.inner.capacity {
            lines.pop_front();
        }
        lines.push_back(line.clone());
        self.inner.last_seq.store(seq, Ordering::Release);
        // Under the lock too, so watchers never see sequence numbers go back.
        self.inner.seq.send_replace(seq);
    }

    /// Matching lines, oldest first.
    pub fn lines(&self, filter: &LogFilter) -> Vec<LogLine> {
        let lines = self
            .inner
            .lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        lines
            .iter()
            .filter(|l| filter.matches(l))
            .cloned()
            .collect()
    }

    /// Sequence number of the newest line (0 before the first): compare with a remembered
    /// value to know whether to redraw.
    pub fn last_seq(&self) -> u64 {
        self.inner.last_seq.load(Ordering::Acquire)
    }

    /// Wakes when lines are pushed (a burst wakes it once); its value is the newest
    /// line's sequence number.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.inner.seq.subscribe()
    }

    /// Maps librqbit's numeric torrent id to its info-hash, for attributing lines logged
    /// inside that torrent's span.
    pub fn register_torrent(&self, id: usize, info_hash: &str) {
        let mut map = self
            .inner
            .torrents
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.insert(id, info_hash.to_ascii_lowercase());
    }

    /// Forgets an id, since librqbit may hand it out again after the torrent is removed.
    pub fn forget_torrent(&self, id: usize) {
        let mut map = self
            .inner
            .torrents
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.remove(&id);
    }

    fn hash_for_id(&self, id: usize) -> Option<String> {
        let map = self
            .inner
            .torrents
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(&id).cloned()
    }

    /// A `tracing` layer recording events into this ring.
    pub fn layer(&self) -> RingLayer {
        RingLayer { ring: self.clone() }
    }
}

/// Records every event it sees into a [`LogRing`].
///
/// Attribution needs librqbit's `torrent` span (a DEBUG span) to be enabled for this layer
/// even when events are only wanted at INFO; [`RingFilter`] does that. An `EnvFilter` of
/// `info` alone disables DEBUG spans, and lines logged inside them lose their torrent.
#[derive(Debug, Clone)]
pub struct RingLayer {
    ring: LogRing,
}

/// What a span says about the torrent it covers, kept in the span's extensions.
#[derive(Debug, Default, Clone)]
struct TorrentSpan {
    /// librqbit's session id, from a span named `torrent`.
    id: Option<usize>,
    info_hash: Option<String>,
}

/// Whether a span can name a torrent; checked on metadata alone so other spans cost nothing.
fn is_torrent_span(meta: &Metadata<'_>) -> bool {
    meta.name() == "torrent" || meta.fields().field("info_hash").is_some()
}

struct SpanVisitor<'a> {
    is_torrent: bool,
    out: &'a mut TorrentSpan,
}

impl Visit for SpanVisitor<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.is_torrent && field.name() == "id" {
            self.out.id = usize::try_from(value).ok();
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.is_torrent && field.name() == "id" {
            self.out.id = usize::try_from(value).ok();
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "info_hash" => self.out.info_hash = Some(clean_hash(value)),
            "id" if self.is_torrent => self.out.id = value.parse().ok(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "info_hash" => self.out.info_hash = Some(clean_hash(&format!("{value:?}"))),
            "id" if self.is_torrent => self.out.id = format!("{value:?}").parse().ok(),
            _ => {}
        }
    }
}

/// Hashes arrive as `&str`, as `?Id20` (bare hex) or as `?String` (quoted).
fn clean_hash(raw: &str) -> String {
    raw.trim().trim_matches('"').to_ascii_lowercase()
}

#[derive(Default)]
struct EventVisitor {
    message: String,
    fields: String,
    info_hash: Option<String>,
    /// Set for events bridged from the `log` crate, whose metadata target is just "log".
    log_target: Option<String>,
}

impl EventVisitor {
    fn field(&mut self, name: &str, value: fmt::Arguments<'_>) {
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
        let _ = write!(self.fields, "{name}={value}");
    }

    fn into_message(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for EventVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "info_hash" => self.info_hash = Some(clean_hash(value)),
            "log.target" => self.log_target = Some(value.to_owned()),
            name if name.starts_with("log.") => {}
            // Quote only when needed, so `key=value` pairs stay unambiguous but readable.
            name if value.is_empty() || value.contains(char::is_whitespace) => {
                self.field(name, format_args!("{value:?}"))
            }
            name => self.field(name, format_args!("{value}")),
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The causes are usually the useful part (an I/O error under a tracker error).
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            let _ = write!(text, ": {cause}");
            source = cause.source();
        }
        self.record_str(field, &text);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "info_hash" => self.info_hash = Some(clean_hash(&format!("{value:?}"))),
            name if name.starts_with("log.") => {}
            name => self.field(name, format_args!("{value:?}")),
        }
    }
}

impl<S> Layer<S> for RingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        if !is_torrent_span(meta) {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut found = TorrentSpan::default();
        attrs.record(&mut SpanVisitor {
            is_torrent: meta.name() == "torrent",
            out: &mut found,
        });
        span.extensions_mut().insert(found);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let meta = span.metadata();
        if !is_torrent_span(meta) {
            return;
        }
        let is_torrent = meta.name() == "torrent";
        let mut extensions = span.extensions_mut();
        if let Some(existing) = extensions.get_mut::<TorrentSpan>() {
            values.record(&mut SpanVisitor {
                is_torrent,
                out: existing,
            });
        } else {
            let mut found = TorrentSpan::default();
            values.record(&mut SpanVisitor {
                is_torrent,
                out: &mut found,
            });
            extensions.replace(found);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut visitor = EventVisitor::default();
        event.record(&mut visitor);

        let info_hash = visitor.info_hash.take().or_else(|| {
            ctx.event_scope(event)?.find_map(|span| {
                let extensions = span.extensions();
                let torrent = extensions.get::<TorrentSpan>()?;
                torrent
                    .info_hash
                    .clone()
                    .or_else(|| torrent.id.and_then(|id| self.ring.hash_for_id(id)))
            })
        });
        let target = visitor
            .log_target
            .take()
            .unwrap_or_else(|| meta.target().to_owned());
        self.ring.push(
            level_of(meta.level()),
            target,
            visitor.into_message(),
            info_hash,
        );
    }
}

/// librqbit spans around tasks that wake many times a second for every live torrent and
/// log nothing a user reads: the speed estimators. An enabled span costs a registry lookup
/// each time its task wakes, which with thousands of torrents is a sizeable share of an
/// idle session's CPU; left disabled, it costs nothing. The one line such a task can log,
/// an error as its torrent is torn down, names the torrent's id in its text.
const BUSY_QUIET_SPANS: &[&str] = &["speed_estimator_updater", "speed_estimator"];

fn is_busy_quiet_span(meta: &Metadata<'_>) -> bool {
    meta.target().starts_with("librqbit") && BUSY_QUIET_SPANS.contains(&meta.name())
}

/// Per-layer filter for [`RingLayer`] that keeps every span up to DEBUG enabled, so torrent
/// attribution still works when DEBUG events are off.
///
/// Either on its own, `ring.layer().with_filter(RingFilter::new(LogLevel::Info))`, or next to
/// a user's `EnvFilter`: `ring.layer().with_filter(env_filter.or(RingFilter::spans_only()))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingFilter {
    /// Events at this level or more severe pass; `None` lets no event through.
    events: Option<LogLevel>,
}

impl RingFilter {
    /// Events at `min_level` or more severe, and the spans attribution needs.
    pub fn new(min_level: LogLevel) -> Self {
        RingFilter {
            events: Some(min_level),
        }
    }

    /// Only the spans attribution needs, for OR-ing with a filter that picks the events.
    pub fn spans_only() -> Self {
        RingFilter { events: None }
    }

    fn span_level(&self) -> LogLevel {
        self.events.unwrap_or(LogLevel::Error).max(LogLevel::Debug)
    }

    fn wants(&self, meta: &Metadata<'_>) -> bool {
        let level = level_of(meta.level());
        if meta.is_span() {
            level <= self.span_level() && !is_busy_quiet_span(meta)
        } else {
            self.events.is_some_and(|min| level <= min)
        }
    }
}

impl<S> Filter<S> for RingFilter {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        self.wants(meta)
    }

    // Decided once per callsite, so disabled events cost nothing afterwards.
    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if self.wants(meta) {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing_subscriber::filter::LevelFilter> {
        Some(tracing_subscriber::filter::LevelFilter::from_level(
            tracing_level(self.span_level()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    const AB: &str = "abababababababababababababababababababab";
    const CD: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

    fn messages(ring: &LogRing, filter: &LogFilter) -> Vec<String> {
        ring.lines(filter).into_iter().map(|l| l.message).collect()
    }

    #[test]
    fn level_order_puts_error_first() {
        assert!(LogLevel::Error < LogLevel::Warn);
        assert!(LogLevel::Debug < LogLevel::Trace);
        assert_eq!(level_of(&tracing::Level::WARN), LogLevel::Warn);
        for level in LogLevel::ALL {
            assert_eq!(level_of(&tracing_level(level)), level);
        }
        assert_eq!(LogLevel::Info.label(), "info");
    }

    #[test]
    fn eviction_keeps_the_newest_lines() {
        let ring = LogRing::new(3);
        for i in 1..=5 {
            ring.push(LogLevel::Info, "t", format!("line {i}"), None);
        }
        let lines = ring.lines(&LogFilter::default());
        assert_eq!(
            lines.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(),
            ["line 3", "line 4", "line 5"]
        );
        assert_eq!(lines.iter().map(|l| l.seq).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(ring.last_seq(), 5);
    }

    #[test]
    fn zero_capacity_still_keeps_the_latest_line() {
        let ring = LogRing::new(0);
        ring.push(LogLevel::Info, "t", "a", None);
        ring.push(LogLevel::Info, "t", "b", None);
        assert_eq!(messages(&ring, &LogFilter::default()), ["b"]);
    }

    #[test]
    fn last_seq_bumps_on_every_push() {
        let ring = LogRing::default();
        assert_eq!(ring.last_seq(), 0);
        ring.push(LogLevel::Trace, "t", "a", None);
        assert_eq!(ring.last_seq(), 1);
        ring.push(LogLevel::Trace, "t", "a", None);
        assert_eq!(ring.last_seq(), 2);
    }

    #[test]
    fn filter_by_level_shows_that_level_and_more_severe() {
        let ring = LogRing::default();
        for level in LogLevel::ALL {
            ring.push(level, "t", level.label(), None);
        }
        let warn = LogFilter {
            min_level: LogLevel::Warn,
            info_hash: None,
        };
        assert_eq!(messages(&ring, &warn), ["error", "warn"]);
        assert_eq!(messages(&ring, &LogFilter::default()).len(), 5);
    }

    #[test]
    fn filter_by_torrent() {
        let ring = LogRing::default();
        ring.push(LogLevel::Info, "t", "about ab", Some(AB.to_owned()));
        ring.push(LogLevel::Info, "t", "about nothing", None);
        ring.push(LogLevel::Info, "t", "about cd", Some(CD.to_uppercase()));
        let only_cd = LogFilter {
            min_level: LogLevel::Trace,
            info_hash: Some(CD.to_owned()),
        };
        assert_eq!(messages(&ring, &only_cd), ["about cd"]);
        assert_eq!(
            ring.lines(&only_cd)[0].info_hash.as_deref(),
            Some(CD),
            "hashes are stored lower-case"
        );
    }

    #[tokio::test]
    async fn watchers_learn_of_new_lines() {
        let ring = LogRing::default();
        ring.push(LogLevel::Info, "t", "before", None);
        let mut rx = ring.watch();
        assert_eq!(*rx.borrow_and_update(), 1);
        ring.push(LogLevel::Warn, "t", "after", Some(AB.to_owned()));
        rx.changed().await.expect("a new line wakes the watcher");
        assert_eq!(*rx.borrow_and_update(), 2);
        let only_ab = LogFilter {
            min_level: LogLevel::Trace,
            info_hash: Some(AB.to_owned()),
        };
        let lines = ring.lines(&only_ab);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].message, "after");
        assert_eq!(lines[0].level, LogLevel::Warn);
        assert!(!rx.has_changed().expect("open"), "nothing else was pushed");
    }

    #[test]
    fn layer_attributes_events_to_torrents() {
        let ring = LogRing::default();
        ring.register_torrent(3, AB);
        let subscriber = tracing_subscriber::registry().with(ring.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "trove::test", "outside any torrent");
            let span = tracing::info_span!("torrent", id = 3usize);
            let _entered = span.enter();
            tracing::warn!(peer = "1.2.3.4:6881", pieces = 7u32, "peer misbehaved");
            let inner = tracing::debug_span!("manage_peer");
            let _inner = inner.enter();
            tracing::info!("nested deeper");
            tracing::info!(info_hash = CD, "explicit field wins");
        });

        let lines = ring.lines(&LogFilter::default());
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].info_hash, None);
        assert_eq!(lines[0].target, "trove::test");
        assert_eq!(lines[0].message, "outside any torrent");

        assert_eq!(lines[1].info_hash.as_deref(), Some(AB));
        assert_eq!(lines[1].level, LogLevel::Warn);
        assert_eq!(
            lines[1].message,
            "peer misbehaved peer=1.2.3.4:6881 pieces=7"
        );

        assert_eq!(lines[2].info_hash.as_deref(), Some(AB));
        assert_eq!(lines[2].level, LogLevel::Info);

        assert_eq!(lines[3].info_hash.as_deref(), Some(CD));
        assert_eq!(lines[3].message, "explicit field wins");
    }

    #[test]
    fn layer_uses_span_info_hash_and_forgets_ids() {
        let ring = LogRing::default();
        ring.register_torrent(5, AB);
        ring.forget_torrent(5);
        let subscriber = tracing_subscriber::registry().with(ring.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("torrent", id = 5usize).in_scope(|| {
                tracing::info!("forgotten id");
            });
            let span = tracing::info_span!("add", info_hash = tracing::field::Empty);
            span.record("info_hash", CD);
            span.in_scope(|| tracing::error!(error = "disk full", "write failed"));
        });
        let lines = ring.lines(&LogFilter::default());
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].info_hash, None);
        assert_eq!(lines[1].info_hash.as_deref(), Some(CD));
        assert_eq!(lines[1].message, "write failed error=\"disk full\"");
    }

    #[test]
    fn message_formats_fields_readably() {
        let ring = LogRing::default();
        let subscriber = tracing_subscriber::registry().with(ring.layer());
        let err = std::io::Error::other("boom");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(count = 2, ok = true, name = "x", "done");
            tracing::info!(addr = ?("h", 1));
            tracing::warn!(error = &err as &(dyn std::error::Error + 'static), "failed");
        });
        assert_eq!(
            messages(&ring, &LogFilter::default()),
            [
                "done count=2 ok=true name=x",
                "addr=(\"h\", 1)",
                "failed error=boom"
            ]
        );
    }

    #[test]
    fn ring_filter_keeps_attribution_with_debug_events_off() {
        let ring = LogRing::default();
        ring.register_torrent(9, AB);
        let subscriber = tracing_subscriber::registry()
            .with(ring.layer().with_filter(RingFilter::new(LogLevel::Info)));
        tracing::subscriber::with_default(subscriber, || {
            // librqbit's own span is DEBUG.
            tracing::debug_span!("torrent", id = 9usize).in_scope(|| {
                tracing::debug!("hidden");
                tracing::info!("shown");
                tracing::trace_span!("msg").in_scope(|| tracing::warn!("under a trace span"));
            });
        });
        let lines = ring.lines(&LogFilter::default());
        assert_eq!(
            lines.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(),
            ["shown", "under a trace span"]
        );
        assert!(lines.iter().all(|l| l.info_hash.as_deref() == Some(AB)));
    }

    #[test]
    fn spans_only_filter_complements_an_env_filter() {
        use tracing_subscriber::EnvFilter;
        use tracing_subscriber::filter::FilterExt;

        let ring = LogRing::default();
        ring.register_torrent(4, CD);
        let filter = EnvFilter::new("info").or(RingFilter::spans_only());
        let subscriber = tracing_subscriber::registry().with(ring.layer().with_filter(filter));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug_span!("torrent", id = 4usize).in_scope(|| {
                tracing::debug!("hidden");
                tracing::info!("shown");
            });
        });
        let lines = ring.lines(&LogFilter::default());
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].message, "shown");
        assert_eq!(lines[0].info_hash.as_deref(), Some(CD));
    }

    #[test]
    fn a_plain_env_filter_loses_attribution() {
        // Documents why RingFilter exists: the DEBUG span is off, so the id is never seen.
        let ring = LogRing::default();
        ring.register_torrent(4, CD);
        let filter = tracing_subscriber::EnvFilter::new("info");
        let subscriber = tracing_subscriber::registry().with(ring.layer().with_filter(filter));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug_span!("torrent", id = 4usize).in_scope(|| tracing::info!("shown"));
        });
        assert_eq!(ring.lines(&LogFilter::default())[0].info_hash, None);
    }
}
