//! [`quietly`]: runs sled on files that may be damaged, turning a panic inside sled into an
//! error instead of a crash with a backtrace.
//!
//! Why this exists: sled 0.34 does not promise that damaged files only ever produce an
//! `Err`, and a panic inside sled on a damaged store is a damaged store (reported as such,
//! with the way to recover), not a trove bug for the user to report. `catch_unwind` stops the
//! unwinding, but the panic hook has already printed the message and backtrace by then, and
//! the hook is process-wide. So a hook is installed once that stays silent for panics on the
//! thread inside `quietly`, and on sled's own background threads while any `quietly` call is
//! running; every other panic goes to the hook that was there before, unchanged.

use std::cell::Cell;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    /// True on a thread while it runs inside `quietly`.
    static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
}

/// How many `quietly` calls are running, on any thread: while there is one, panics on
/// sled's own threads are silenced too.
static QUIET_SLED_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Runs `f`, turning a panic into an error without printing a backtrace: a panic inside
/// sled on a damaged store is a damaged store, not a trove bug to report.
pub(super) fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let sled_thread = QUIET_SLED_THREADS.load(Ordering::SeqCst) > 0
                && std::thread::current()
                    .name()
                    .is_some_and(|n| n.starts_with("sled") || n == "log flusher");
            if QUIET_PANICS.with(|q| q.get()) || sled_thread {
                return;
            }
            previous(info)
        }));
    });
    QUIET_SLED_THREADS.fetch_add(1, Ordering::SeqCst);
    QUIET_PANICS.with(|q| q.set(true));
    // sled logs what it finds wrong through the `log` crate (e.g. "failed to parse persisted
    // config as UTF-8"), which would print a second, confusing line beside trove's own
    // message; the error it returns says the same and is reported instead.
    let result =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        });
    QUIET_PANICS.with(|q| q.set(false));
    QUIET_SLED_THREADS.fetch_sub(1, Ordering::SeqCst);
    result.map_err(|payload| {
        let what = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "no message".into());
        format!(
            "sled failed while reading it ({})",
            what.lines().next().unwrap_or("")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_sled_becomes_an_error() {
        let r: Result<(), String> = quietly(|| panic!("boom at offset 3"));
        let e = r.unwrap_err();
        assert!(e.contains("boom at offset 3"), "{e}");
        // The hook stays quiet only around sled: other panics still reach the old hook.
        assert!(!QUIET_PANICS.with(|q| q.get()));
    }
}
