//! Direct writes into a store's sled files that skip every check: for tests that need a
//! store from a newer trove or with a record that does not decode. Not for anything else,
//! so it is compiled only for the crate's own tests and with the `testing` feature (which
//! the root package's tests turn on), never into the product.

use std::path::Path;

use super::error::sled_reason;
use super::layout::{FORMAT_KEY, open_sled};

/// Sets the format marker of the (closed) store in `dir`, as a newer trove would.
pub fn set_format_marker(dir: &Path, format: u32) -> Result<(), String> {
    let (db, meta, _, _) = open_sled(dir)?;
    meta.insert(FORMAT_KEY, &format.to_be_bytes())
        .map_err(|e| sled_reason(&e))?;
    db.flush().map_err(|e| sled_reason(&e)).map(|_| ())
}

/// Stores `value` as the raw record of `info_hash` in the (closed) store in `dir`.
pub fn put_raw_record(dir: &Path, info_hash: &str, value: &[u8]) -> Result<(), String> {
    let (db, _, records, _) = open_sled(dir)?;
    records
        .insert(info_hash.as_bytes(), value)
        .map_err(|e| sled_reason(&e))?;
    db.flush().map_err(|e| sled_reason(&e)).map(|_| ())
}
