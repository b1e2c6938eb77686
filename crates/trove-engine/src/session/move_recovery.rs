//! Finishing or undoing, at start, a move between storage roots that a crash (or a kill)
//! interrupted, from the journal in the torrent's record. Before the switch the record
//! still names the source, which is whole: the partial copy is removed (a rename is put
//! back). After the switch the record names the verified copy: the source is deleted.
//! Either way exactly one complete copy is left, and it is the one the record names.

use tracing::{info, warn};

use crate::relocate;
use crate::store::{MovePhase, SessionStore, TorrentRecord};

/// Settles `record`'s interrupted move, if it has one, and stores the record without its
/// journal.
pub(super) fn recover_move(store: &dyn SessionStore, record: &mut TorrentRecord) {
    let Some(j) = record.moving.clone() else {
        return;
    };
    let name = record.name.clone();
    let hash = record.info_hash.clone();
    let (src, dst) = (j.source(), j.target());
    let exists = |p: &std::path::Path| std::fs::symlink_metadata(p).is_ok();
    match j.phase {
        MovePhase::Renaming if !exists(&src) && exists(&dst) => {
            // The rename happened, the switch did not: put it back where the record says.
            match std::fs::rename(&dst, &src) {
                Ok(()) => {
                    let _ = relocate::sync_dir(&j.to_path);
                    let _ = relocate::sync_dir(&j.from_path);
                    info!(info_hash = %hash, "move of {name} to '{}' was interrupted: it was renamed back; {name} stays in '{}'", j.to_label, j.from_label);
                }
                Err(e) => {
                    // Cannot put it back: point the record at where the data is.
                    warn!(info_hash = %hash, "move of {name} to '{}' was interrupted and it cannot be renamed back ({e}): {name} now lives in '{}'", j.to_label, j.to_label);
                    record.root_token = j.to_token.clone();
                    record.root_path = Some(j.to_path.clone());
                }
            }
        }
        MovePhase::Renaming => {
            info!(info_hash = %hash, "move of {name} to '{}' was interrupted before its rename; {name} stays in '{}'", j.to_label, j.from_label);
        }
        MovePhase::Copying => {
            if let Err(e) = relocate::remove_entry(&dst) {
                warn!(info_hash = %hash, "the partial copy of {name} at {} could not be removed ({e}): delete it by hand", dst.display());
            }
            let _ = relocate::sync_dir(&j.to_path);
            info!(info_hash = %hash, "move of {name} to '{}' was interrupted: the partial copy was removed; {name} stays in '{}'", j.to_label, j.from_label);
        }
        MovePhase::Switched => {
            if let Err(e) = relocate::remove_entry(&src) {
                warn!(info_hash = %hash, "{name} lives in '{}' now, but its old copy at {} could not be deleted ({e}): delete it by hand", j.to_label, src.display());
            }
            let _ = relocate::sync_dir(&j.from_path);
            info!(info_hash = %hash, "move of {name} to '{}' was interrupted after its copy was verified: it was finished, the old copy in '{}' was deleted", j.to_label, j.from_label);
        }
    }
    record.moving = None;
    if let Err(e) = store.put(record) {
        warn!(info_hash = %hash, "cannot save {name}'s record after settling its move: {e}");
    }
}
