//! The storage-root watchdog: roots are probed every few seconds, and a torrent still
//! running on a root that broke is paused with an error naming the root.

use super::engine::{Engine, ManagedHandle};

impl Engine {
    /// Probes every root. librqbit keeps its files open, so a root that vanishes or turns
    /// read-only may not fail a write at once: a torrent still running on such a root is
    /// paused here with an error naming the root, and resuming it re-checks the root.
    pub(super) async fn check_roots(&mut self) {
        self.root_info = self.roots.info();
        let broken: Vec<(String, String)> = self
            .root_info
            .iter()
            .filter_map(|r| {
                r.problem.as_ref().map(|p| {
                    (
                        r.token.clone(),
                        format!("storage root '{}' at {} {p}", r.label, r.path.display()),
                    )
                })
            })
            .collect();
        for (token, msg) in broken {
            let affected: Vec<(String, ManagedHandle)> = self
                .torrents
                .iter()
                .filter(|(_, e)| e.record.root_token == token && e.record.error.is_none())
                .filter_map(|(h, e)| e.handle.clone().map(|m| (h.clone(), m)))
                .filter(|(_, m)| !m.is_paused())
                .collect();
            for (hash, handle) in affected {
                let _ = self.session.pause(&handle).await;
                if let Some(e) = self.torrents.get_mut(&hash) {
                    e.record.error = Some(msg.clone());
                }
            }
        }
    }
}
