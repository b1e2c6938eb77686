//! `Command::Export`: the export document of a running session, the same one `trove
//! export` writes from a stopped session's store (see `saved::export`). Counters are
//! written first, so the figures are those of this moment.

use trove_proto::command::{EngineError, EngineResult, Exported};

use super::engine::{Engine, store_err};
use crate::saved::build_export;
use crate::store::STORE_FORMAT;

impl Engine {
    pub(super) fn export(&mut self) -> EngineResult<Exported> {
        self.flush_counters();
        let mut problems = Vec::new();
        let records = self
            .store
            .list()
            .map_err(store_err)?
            .into_iter()
            .map(|r| {
                let bytes = match self.store.torrent_bytes(&r.info_hash) {
                    Ok(b) => b,
                    Err(e) => {
                        problems.push(format!("{}: {e}", r.info_hash));
                        None
                    }
                };
                (r, bytes)
            })
            .collect();
        let settings = self.store.settings().map_err(store_err)?;
        let out = build_export(records, settings, STORE_FORMAT, problems, &self.roots)
            .map_err(|e| EngineError::Engine(format!("cannot build the export: {e:#}")))?;
        Ok(Exported {
            json: out.json,
            count: out.count,
            problems: out.problems,
        })
    }
}
