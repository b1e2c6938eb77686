//! Randomised tests that can be replayed: a small deterministic generator seeded from an
//! environment variable (or the clock), and counts read from the environment.

use std::time::{SystemTime, UNIX_EPOCH};

/// A linear congruential generator: plenty for choosing kill moments, and the same seed
/// always gives the same run.
pub struct Lcg(u64);

impl Lcg {
    /// Seeded from `var` when it holds a number, else from the clock. The seed is returned
    /// too, so a test can print it for a failing run to be replayed with `var=SEED`.
    pub fn from_env(var: &str) -> (Lcg, u64) {
        let seed = env_number(var).unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
        (Lcg(seed), seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// A whole number from the environment variable `var`, if it is set and is one.
pub fn env_number<T: std::str::FromStr>(var: &str) -> Option<T> {
    std::env::var(var).ok().and_then(|v| v.parse().ok())
}
