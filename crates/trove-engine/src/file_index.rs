//! File numbering at the boundary with librqbit.
//!
//! trove numbers a torrent's files 0, 1, 2, … over its *real* files only, in the order of
//! the .torrent: the numbers the Files tab, `trove add --only-files` and the stored
//! record's `only_files` use. librqbit numbers every entry of the info dict's `files`
//! list, BEP 47 padding entries (`attr` containing `p`, usually `.pad/N`) included, in
//! `AddTorrentOptions::only_files`, `update_only_files` and `TorrentStats::file_progress`.
//! The two agree unless the torrent has padding entries. Everything trove stores or shows
//! is in trove's numbering; these functions convert exactly where librqbit is called.

use crate::source::CheckedTorrent;

/// trove file indices → librqbit file indices. Indices past the end (which callers have
/// refused already) are dropped.
pub fn to_librqbit(t: &CheckedTorrent, files: &[usize]) -> Vec<usize> {
    files
        .iter()
        .filter_map(|&i| t.files.get(i).map(|f| f.librqbit_index))
        .collect()
}

/// librqbit's per-file have-bytes (one per `files` entry, padding included) → one per
/// trove file. A file librqbit did not report counts as 0.
pub fn progress_from_librqbit(t: &CheckedTorrent, per_entry: &[u64]) -> Vec<u64> {
    t.files
        .iter()
        .map(|f| per_entry.get(f.librqbit_index).copied().unwrap_or(0))
        .collect()
}

/// Have-bytes per trove file from a have-pieces bitfield (librqbit's fast-resume layout, see
/// [`crate::bitfield`]: one bit per piece, most significant bit first): for a torrent librqbit is not running, whose
/// bitfield is all there is. A file counts the bytes of it that lie in pieces it has.
pub fn progress_from_bitfield(t: &CheckedTorrent, bitfield: &[u8]) -> Vec<u64> {
    let has = |piece: u64| {
        bitfield
            .get((piece / 8) as usize)
            .is_some_and(|b| b & (0x80 >> (piece % 8)) != 0)
    };
    let pl = t.piece_length.max(1);
    t.files
        .iter()
        .map(|f| {
            if f.len == 0 {
                return 0;
            }
            let end = f.offset + f.len;
            (f.offset / pl..=(end - 1) / pl)
                .filter(|&p| has(p))
                .map(|p| end.min((p + 1) * pl) - f.offset.max(p * pl))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::check_torrent;

    fn bstr(b: &[u8]) -> Vec<u8> {
        let mut v = format!("{}:", b.len()).into_bytes();
        v.extend_from_slice(b);
        v
    }

    /// A v1 multi-file torrent; `pad` entries get `attr` "p".
    fn torrent(entries: &[(&[&str], u64, bool)], piece: u64) -> Vec<u8> {
        let total: u64 = entries.iter().map(|e| e.1).sum();
        let mut info = b"d".to_vec();
        info.extend(bstr(b"files"));
        info.push(b'l');
        for (path, len, pad) in entries {
            info.push(b'd');
            if *pad {
                info.extend(bstr(b"attr"));
                info.extend(bstr(b"p"));
            }
            info.extend(bstr(b"length"));
            info.extend(format!("i{len}e").as_bytes());
            info.extend(bstr(b"path"));
            info.push(b'l');
            for c in *path {
                info.extend(bstr(c.as_bytes()));
            }
            info.extend(b"ee");
        }
        info.push(b'e');
        info.extend(bstr(b"name"));
        info.extend(bstr(b"padded"));
        info.extend(bstr(b"piece length"));
        info.extend(format!("i{piece}e").as_bytes());
        info.extend(bstr(b"pieces"));
        info.extend(bstr(&vec![7u8; 20 * total.div_ceil(piece) as usize]));
        info.push(b'e');
        let mut t = b"d".to_vec();
        t.extend(bstr(b"info"));
        t.extend(info);
        t.push(b'e');
        t
    }

    /// Pieces of 16 KiB; librqbit numbers 0 a, 1 pad, 2 b, 3 pad, 4 pad, 5 c, 6 pad; trove
    /// numbers 0 a, 1 b, 2 c. In the byte stream a is 0..10 (piece 0), b 16384..36384
    /// (pieces 1–2) and c 49152..49157 (piece 3).
    fn padded() -> CheckedTorrent {
        let bytes = torrent(
            &[
                (&["a"], 10, false),
                (&[".pad", "16374"], 16374, true),
                (&["dir", "b"], 20000, false),
                (&[".pad", "1"], 1, true),
                (&[".pad", "12767"], 12767, true),
                (&["c"], 5, false),
                (&[".pad", "16379"], 16379, true),
            ],
            16384,
        );
        check_torrent(&bytes, "test").unwrap()
    }

    #[test]
    fn padding_entries_are_skipped_both_ways() {
        let t = padded();
        let names: Vec<String> = t.files.iter().map(|f| f.display_path()).collect();
        assert_eq!(names, ["a", "dir/b", "c"]);
        assert_eq!(to_librqbit(&t, &[0, 1, 2]), [0, 2, 5]);
        assert_eq!(to_librqbit(&t, &[2]), [5]);
        assert_eq!(to_librqbit(&t, &[1, 0]), [2, 0]);
        assert_eq!(to_librqbit(&t, &[3, 1]), [2], "out of range is dropped");
        assert_eq!(
            progress_from_librqbit(&t, &[10, 0, 20000, 0, 0, 3, 0]),
            [10, 20000, 3]
        );
        assert_eq!(
            progress_from_librqbit(&t, &[10, 0]),
            [10, 0, 0],
            "short list"
        );
        assert_eq!(progress_from_librqbit(&t, &[]), [0, 0, 0]);
    }

    #[test]
    fn progress_from_a_bitfield_counts_the_bytes_in_had_pieces() {
        let t = padded();
        assert_eq!(t.piece_count, 4);
        assert_eq!(progress_from_bitfield(&t, &[0b1111_0000]), [10, 20000, 5]);
        assert_eq!(progress_from_bitfield(&t, &[0b0100_0000]), [0, 16384, 0]);
        assert_eq!(progress_from_bitfield(&t, &[0b1011_0000]), [10, 3616, 5]);
        assert_eq!(progress_from_bitfield(&t, &[]), [0, 0, 0], "no bitfield");
        // A file spanning a piece boundary without padding.
        let bytes = torrent(&[(&["x"], 100, false), (&["y"], 40000, false)], 16384);
        let t = check_torrent(&bytes, "test").unwrap();
        assert_eq!(progress_from_bitfield(&t, &[0b1000_0000]), [100, 16284]);
        assert_eq!(
            progress_from_bitfield(&t, &[0b0010_0000]),
            [0, 40100 - 32768]
        );
    }

    #[test]
    fn without_padding_the_numberings_agree() {
        let bytes = torrent(&[(&["x"], 100, false), (&["y"], 200, false)], 16384);
        let t = check_torrent(&bytes, "test").unwrap();
        assert_eq!(to_librqbit(&t, &[1, 0]), [1, 0]);
        assert_eq!(progress_from_librqbit(&t, &[7, 8]), [7, 8]);
    }
}
