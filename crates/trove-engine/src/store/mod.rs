//! The store of record: which torrents trove has, where, with what options and counters.
//!
//! [`SessionStore`] is the small interface the engine writes through; [`SledStore`] keeps
//! it in an embedded sled database and [`MemoryStore`] keeps it in memory for
//! `trove download` and tests. Records are JSON so a store can be read by `trove export`
//! and by a person; .torrent bytes sit in their own tree, raw.
//!
//! - `record`: what is stored ([`TorrentRecord`], [`SessionSettings`]) and its encoding.
//! - `error`: [`StoreError`].
//! - `journal`: [`MoveJournal`], a move between storage roots under way.
//! - `sled_store`: [`SledStore`], creating, opening and writing the sled store.
//! - `layout`: sled's trees and keys, the manifest file, scratch folder names.
//! - `damage`: checking a store before sled may open it, and salvaging a damaged one.
//! - `quiet`: a panic inside sled becomes an error, without a backtrace.
//! - `memory`: [`MemoryStore`].
//! - `testing` (tests only): writes that skip every check, to make damaged stores.

mod damage;
mod error;
mod journal;
mod layout;
mod memory;
mod quiet;
mod record;
mod sled_store;
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;

#[cfg(test)]
pub(crate) mod fixtures;

pub use damage::Salvaged;
pub use error::{StoreError, StoreResult};
pub use journal::{MoveJournal, MovePhase};
pub use memory::MemoryStore;
pub use record::{STORE_FORMAT, SeenPeer, SessionSettings, StoredRoot, TorrentRecord};
pub use sled_store::SledStore;

/// Where the engine keeps its state. Every write is durable when the call returns unless
/// the method says otherwise.
pub trait SessionStore: Send + Sync {
    fn list(&self) -> StoreResult<Vec<TorrentRecord>>;
    fn get(&self, info_hash: &str) -> StoreResult<Option<TorrentRecord>>;
    /// Writes a record and syncs it to disk (a state change).
    fn put(&self, record: &TorrentRecord) -> StoreResult<()>;
    /// Writes many records without syncing (periodic counters); call `flush` after.
    fn put_many_unsynced(&self, records: &[TorrentRecord]) -> StoreResult<()>;
    fn remove(&self, info_hash: &str) -> StoreResult<()>;
    fn torrent_bytes(&self, info_hash: &str) -> StoreResult<Option<Vec<u8>>>;
    fn put_torrent_bytes(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()>;
    /// Writes a torrent's metainfo without syncing: the next synced write (or `flush`)
    /// makes it durable together with whatever follows, such as its record.
    fn put_torrent_bytes_unsynced(&self, info_hash: &str, bytes: &[u8]) -> StoreResult<()>;
    fn settings(&self) -> StoreResult<SessionSettings>;
    fn put_settings(&self, settings: &SessionSettings) -> StoreResult<()>;
    fn flush(&self) -> StoreResult<()>;
}
