//! The torrent engine: an embedded librqbit session, the sled store of record, storage
//! roots, rate trackers and the in-memory log. It answers trove's protocol
//! ([`trove_proto`]) and never imports a terminal crate.

pub mod bitfield;
pub mod data_dir;
pub mod file_index;
pub mod library;
pub mod lock;
pub mod logring;
pub mod rates;
pub mod relocate;
pub mod roots;
pub mod saved;
pub mod session;
pub mod source;
pub mod store;
pub mod tags;
pub mod torrents;
pub mod vault;
pub use trove_mount::MountOptions;
