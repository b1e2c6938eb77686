//! How the store fails: [`StoreError`], and sled's errors put into words a user can act on.

use std::path::{Path, PathBuf};

use super::STORE_FORMAT;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data dir {path} is in use by another trove (pid {pid}, `{command}`): stop it, or point this one at another --data-dir"
    )]
    Locked {
        path: PathBuf,
        pid: String,
        command: String,
    },
    #[error(
        "the store at {path} was written by a newer trove (format {found}; this trove reads up to {STORE_FORMAT}); nothing in it was changed. Upgrade trove, or run `trove export FILE` with the newer trove, move this folder aside and `trove import FILE` here"
    )]
    FutureFormat { path: PathBuf, found: u32 },
    #[error(
        "the store at {path} is damaged: {reason}. Nothing in it was changed or deleted. To recover: `trove export FILE` saves whatever is still readable, then move the folder aside (`mv {path} {path}.damaged`) and `trove import FILE` (or an export made earlier)"
    )]
    Damaged { path: PathBuf, reason: String },
    #[error("store error: {0}")]
    Io(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

pub(super) fn damaged(path: &Path, reason: String) -> StoreError {
    StoreError::Damaged {
        path: path.to_path_buf(),
        reason,
    }
}

/// sled's error in words; its own Display of corruption ends in "backtrace ()".
pub(super) fn sled_reason(e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { at, .. } => match at {
            Some(at) => format!("sled found corrupted data in its files (at {at:?})"),
            None => "sled found corrupted data in its files".to_string(),
        },
        // sled says this of a `conf` file whose lines are not text.
        sled::Error::Unsupported(why) if why.contains("earlier than 0.29") => {
            "sled's settings file `conf` is garbled".to_string()
        }
        sled::Error::Unsupported(why) => format!("sled cannot read it: {why}"),
        sled::Error::Io(e) => format!("sled could not read its files: {e}"),
        other => format!("sled: {other}"),
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Io(sled_reason(&e))
    }
}
