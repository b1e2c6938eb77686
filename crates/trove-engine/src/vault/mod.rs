//! Vault roots: torrent data kept encrypted at rest. Each torrent in a vault root is one
//! file, with a random name kept in its record, of fixed slots holding sealed chunks
//! ([`layout`]); nothing on disk tells which torrents a vault holds, what their files
//! are called or how they are laid out, beyond their total size. librqbit reads and
//! writes through [`VaultStorageFactory`], so downloading, checking, fast resume, seeding
//! and streaming work as on a plain root; decrypted chunks are shared through one
//! [`ChunkCache`].

mod cache;
mod cipher;
mod key;
pub mod layout;
mod seal_pool;
mod storage;

pub use cache::{ChunkCache, Plain};
pub use cipher::Suite;
pub use key::{KEY_LEN, MARKER_FILE, Sealer, VaultKey, VaultSpec, keygen, new_file_name};
pub use seal_pool::SealPool;
pub use storage::{OpenVaults, SealedFile, VaultEvent, VaultStorageFactory};
