//! Changing which files of a torrent librqbit fetches, safely for a torrent that already
//! has everything it wanted.

use std::collections::HashSet;
use std::sync::Arc;

use librqbit::{ManagedTorrent, Session};

/// Gives librqbit a new file selection (its numbering) for a torrent it holds. A torrent
/// that has every selected piece has let its seeders go; changing the selection of the live
/// torrent would call them back while their connections may still be closing, and librqbit
/// then loses such a peer for good (it drops a peer it finds "in a wrong state"). So such a
/// torrent is paused for the change: no peer is about, and the start dials the known peers
/// and trackers afresh.
pub(super) async fn apply(
    session: &Arc<Session>,
    handle: &Arc<ManagedTorrent>,
    files: &HashSet<usize>,
) -> anyhow::Result<()> {
    let finished = handle
        .live()
        .and_then(|live| live.get_hns())
        .is_some_and(|hns| hns.finished());
    if !finished {
        return session.update_only_files(handle, files).await;
    }
    session.pause(handle).await?;
    session.update_only_files(handle, files).await?;
    session.unpause(handle).await
}
