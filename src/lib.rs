//! trove: a terminal torrent client and library manager.
//!
//! This crate is the `trove` binary's wiring: the command line, the config file and the
//! default paths. The engine ([`trove_engine`]), the dashboard ([`trove_ui`]) and the
//! protocol between them ([`trove_proto`]) are crates of their own.

pub mod cli;
pub mod config;
pub mod mount_config;
pub mod paths;
pub mod queue_config;
mod watch;
