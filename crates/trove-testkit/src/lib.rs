//! Test support for trove's integration tests (`tests/*.rs` of the root package): real
//! libtorrent peers driven over JSON lines (`tools/loopback/peer.py`), an opentracker, the
//! trove binary in a throw-away environment, an in-process engine, and bounded polling.
//!
//! Everything listens on 127.0.0.1 only. Every helper is bounded in time and ends the
//! processes it started when dropped, also when the test panics; children also get a
//! parent-death signal (or, for opentracker, a watchdog pipe), so even a killed test binary
//! leaves nothing running.
//!
//! Pitfalls worth knowing:
//! - libtorrent's `all_time_upload` is updated once a second; poll it with [`wait_until`]
//!   (or read `total_payload_upload`, which is current).
//! - opentracker asks for re-announces only every ~28 minutes, so peers meet once: the
//!   later announcer gets the earlier one and must dial it. A client that ignores loopback
//!   peers from a tracker (transmission-cli) must announce first, or be dialled. Its answer
//!   can include the announcing peer itself. [`Tracker::scrape`] tells who has announced.
//! - An empty opentracker whitelist file counts as missing and lets every hash in; the
//!   tracker launcher always writes a dummy line so unlisted hashes are really refused.
//! - The parent-death signal fires when the *thread* that spawned the child exits: create
//!   [`Peer`]s and [`Daemon`]s on the test's own thread, not in a short-lived helper thread.
//! - The trove binary is only known to the root package's integration tests
//!   (`env!("CARGO_BIN_EXE_trove")`), so they hand its path to [`TroveEnv::new`].

// Test support: a failed unwrap is a failed test that says where.
#![allow(clippy::unwrap_used)]

pub mod engine;
mod fake;
mod files;
pub mod logs;
mod peer;
mod ports;
mod process;
mod qbit;
mod random;
mod tmux;
mod tracker;
mod trove;

pub use fake::{fake_torrent, fake_torrent_raw, write_fake};
pub use files::{files_identical, trees_identical};
pub use nix::sys::signal::Signal;
pub use peer::{MadeTorrent, Peer, PeerStatus, STAMP_PREFIX};
pub use ports::{free_port, port_open};
pub use process::{run_with_timeout, send_signal, wait_until};
pub use qbit::{QBIT_PASSWORD, QBIT_USER, QbitNox};
pub use random::{Lcg, env_number};
pub use tmux::Tmux;
pub use tracker::Tracker;
pub use trove::{Daemon, TroveEnv};

/// Debian's python3-libtorrent imports only under this interpreter.
const PYTHON: &str = "/usr/bin/python3";

/// The shared loopback helpers (libtorrent settings, peers, opentracker launch) that the
/// tests, the benches and the scripts all use.
const LOOPBACK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/loopback");
