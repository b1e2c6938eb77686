//! The torrent engine: an embedded librqbit session, the sled store of record, storage
//! roots, rate trackers and the in-memory log. Nothing under this module imports a UI crate;
//! the UI talks to it through [`api::EngineHandle`] and reads [`snapshot`] types.

pub mod api;
pub mod file_index;
pub mod lock;
pub mod logring;
pub mod rates;
pub mod roots;
pub mod session;
pub mod snapshot;
pub mod source;
pub mod store;
