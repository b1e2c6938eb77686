//! trove: a terminal torrent client and library manager.
//!
//! `engine` owns everything torrent (librqbit, the store, roots, rates, logs) and never
//! imports a UI crate; `ui` draws the dashboard from the engine's snapshot types; `cli`
//! holds the command line.

pub mod cli;
pub mod config;
pub mod engine;
pub mod paths;
pub mod ui;
