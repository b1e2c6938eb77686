//! Raw bytes → `check_torrent` (bencode, lengths, pieces, names, symlinks, librqbit's own
//! validation) and → `parse_magnet`. Nothing may panic, and whatever is accepted must stay
//! inside its root exactly as librqbit will write it.

#![no_main]

use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use librqbit_core::torrent_metainfo::torrent_from_bytes;
use trove_engine::source::{
    Loaded, MAX_FILES, MAX_TOTAL_BYTES, check_no_symlinks, check_torrent, parse_magnet,
};

fn plain(rel: &Path) -> bool {
    rel.components().count() >= 1 && rel.components().all(|c| matches!(c, Component::Normal(_)))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = check_torrent(data, "fuzz") {
        let root = Path::new("/nonexistent/trove-fuzz-root");
        assert!(t.files.len() <= MAX_FILES && !t.files.is_empty());
        assert!(t.total_len <= MAX_TOTAL_BYTES);
        assert!(t.piece_length > 0);
        let folder = t.output_folder(root);
        assert!(folder.starts_with(root));
        for p in t.file_paths(root) {
            let rel = p.strip_prefix(root).expect("a file path outside the root");
            assert!(plain(rel), "{p:?}");
        }
        // librqbit writes output_folder + its own decoding of each non-padding path: that
        // must be the very path trove checked.
        let meta = torrent_from_bytes(data).expect("accepted but librqbit cannot parse it");
        let v = meta
            .info
            .data
            .clone()
            .validate()
            .expect("accepted but librqbit refuses it");
        let theirs: Vec<Vec<String>> = v
            .iter_file_details()
            .filter(|fd| !fd.attrs().padding)
            .map(|fd| {
                fd.filename
                    .iter_components()
                    .map(|c| c.into_owned())
                    .collect()
            })
            .collect();
        let ours: Vec<Vec<String>> = t.files.iter().map(|f| f.components.clone()).collect();
        assert_eq!(
            ours, theirs,
            "trove and librqbit disagree on the file names"
        );
        // Walks paths that do not exist: must just say yes.
        assert!(check_no_symlinks(&t, root).is_ok());
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(Loaded::Magnet { info_hash, .. }) = parse_magnet(s) {
            assert_eq!(info_hash.len(), 40);
        }
        let _ = parse_magnet(&format!("magnet:?xt=urn:btih:{s}"));
    }
});
