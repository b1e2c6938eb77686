//! The move journal: what a move of a torrent's data between storage roots is doing, kept
//! in the torrent's own record so that the switch to the new root and the journal's
//! phase change are one store write. A session starting after a crash reads it to finish
//! or undo the move (see the engine's move recovery).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A move under way, written before any byte is copied or renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveJournal {
    pub from_token: String,
    pub from_label: String,
    /// The source root's folder.
    pub from_path: PathBuf,
    pub to_token: String,
    pub to_label: String,
    /// The target root's folder.
    pub to_path: PathBuf,
    /// The torrent's top-level entry inside either root: its file (a single-file torrent)
    /// or its folder.
    pub entry: PathBuf,
    pub phase: MovePhase,
    /// When the source is a vault root: the torrent's vault file there, its entry instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_vault_file: Option<String>,
    /// When the target is a vault root: the torrent's new vault file there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_vault_file: Option<String>,
}

/// How far a move has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MovePhase {
    /// Same filesystem: the entry is being renamed into the target root; the record still
    /// names the source root.
    Renaming,
    /// The entry is being copied into the target root; the record still names the source.
    Copying,
    /// The record names the target root, whose copy is complete and verified; the source
    /// is being deleted.
    Switched,
}

impl MoveJournal {
    pub fn source(&self) -> PathBuf {
        match &self.from_vault_file {
            Some(f) => self.from_path.join(f),
            None => self.from_path.join(&self.entry),
        }
    }

    pub fn target(&self) -> PathBuf {
        match &self.to_vault_file {
            Some(f) => self.to_path.join(f),
            None => self.to_path.join(&self.entry),
        }
    }

    /// Whether the data changes form on the way (into, out of, or between vaults).
    pub fn converts(&self) -> bool {
        self.from_vault_file.is_some() || self.to_vault_file.is_some()
    }
}
