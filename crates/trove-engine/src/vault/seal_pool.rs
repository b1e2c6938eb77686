//! Threads that seal a vault's chunks off the download path. librqbit hands a peer's
//! blocks to storage one after another and waits for each write, so whatever a write does
//! delays that peer's next block. A chunk is sealed as soon as all of it has arrived, on
//! one of these threads, while the rest of its piece is still downloading; only the write
//! that completes a piece waits, for that piece's chunks to be on disk.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// A few threads running sealing jobs in the order they were given.
pub struct SealPool {
    jobs: Option<Sender<Job>>,
}

impl SealPool {
    /// A pool of `threads` threads. If none can be started, jobs run on the caller's
    /// thread instead.
    pub fn new(threads: usize) -> SealPool {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let started = (0..threads.max(1))
            .filter(|i| {
                let rx = rx.clone();
                std::thread::Builder::new()
                    .name(format!("trove-seal-{i}"))
                    .spawn(move || work(&rx))
                    .is_ok()
            })
            .count();
        SealPool {
            jobs: (started > 0).then_some(tx),
        }
    }

    /// Threads for a session: one per core beyond the first, at least one, at most four.
    pub fn for_this_machine() -> SealPool {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        SealPool::new(cores.saturating_sub(1).clamp(1, 4))
    }

    /// Runs `job` on a pool thread (or here, if the pool has none left).
    pub fn run(&self, job: impl FnOnce() + Send + 'static) {
        let job: Job = Box::new(job);
        match &self.jobs {
            Some(tx) => {
                if let Err(back) = tx.send(job) {
                    (back.0)();
                }
            }
            None => job(),
        }
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            // A job that panics is its own caller's failure (it reports through its
            // `Done`); the thread goes on with the next.
            Ok(job) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

/// The outcome of one job, waited for by whoever needs it done.
#[derive(Default)]
pub(super) struct Done {
    result: Mutex<Option<Result<(), String>>>,
    cv: Condvar,
}

impl Done {
    pub(super) fn finish(&self, result: Result<(), String>) {
        let mut r = self.result.lock().unwrap_or_else(|p| p.into_inner());
        *r = Some(result);
        self.cv.notify_all();
    }

    pub(super) fn is_done(&self) -> bool {
        self.result
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Blocks until the job has finished; its result.
    pub(super) fn wait(&self) -> Result<(), String> {
        let mut r = self.result.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(done) = r.as_ref() {
                return done.clone();
            }
            r = self.cv.wait(r).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_off_the_callers_thread_and_report_their_outcome() {
        let pool = SealPool::new(2);
        let here = std::thread::current().id();
        let dones: Vec<Arc<Done>> = (0..20)
            .map(|i| {
                let d = Arc::new(Done::default());
                let d2 = d.clone();
                pool.run(move || {
                    assert_ne!(std::thread::current().id(), here);
                    d2.finish(if i == 7 { Err("seven".into()) } else { Ok(()) });
                });
                d
            })
            .collect();
        for (i, d) in dones.iter().enumerate() {
            assert_eq!(d.wait().is_err(), i == 7);
            assert!(d.is_done());
        }
    }
}
