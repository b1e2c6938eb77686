//! Where a vault torrent's bytes live. The torrent's byte space (its files one after the
//! other, as in the metainfo) is cut into pieces, each piece into chunks of at most
//! [`CHUNK_LEN`] bytes, and each chunk has a fixed slot in the torrent's vault file: its
//! nonce, its ciphertext and its tag. A chunk never crosses a piece boundary, so a piece
//! is sealed as soon as all of it has arrived, and a piece fetched again rewrites only its
//! own chunks.

use std::ops::Range;

/// The most plaintext one chunk holds. Small enough that serving one 16 KiB block from a
/// cold chunk decrypts little; large enough that the per-chunk overhead is negligible.
pub const CHUNK_LEN: u64 = 256 * 1024;
/// Bytes of nonce before each chunk's ciphertext: room for the longest nonce of the vault
/// ciphers (XChaCha20-Poly1305's 192 bits).
pub const NONCE_LEN: u64 = 24;
/// Bytes of authentication tag after each chunk's ciphertext.
pub const TAG_LEN: u64 = 16;

/// One chunk: the `index`th of piece `piece`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkId {
    pub piece: u32,
    pub index: u32,
}

/// The mapping between a torrent's files, its pieces and its chunk slots.
#[derive(Debug, Clone)]
pub struct Layout {
    piece_len: u64,
    total_len: u64,
    chunk_len: u64,
    chunks_per_piece: u64,
    /// Where each file starts in the torrent's byte space, and its length.
    files: Vec<Range<u64>>,
    /// The byte ranges of padding files: never written by the engine, always zeros.
    padding: Vec<Range<u64>>,
}

impl Layout {
    /// `files` lists each file's length and whether it is a padding file, in metainfo
    /// order.
    pub fn new(piece_len: u64, files: &[(u64, bool)]) -> Result<Self, String> {
        if piece_len == 0 {
            return Err("a piece length of 0".into());
        }
        let mut start = 0u64;
        let mut ranges = Vec::with_capacity(files.len());
        let mut padding = Vec::new();
        for &(len, is_padding) in files {
            let end = start.checked_add(len).ok_or("file lengths that overflow")?;
            if is_padding && len > 0 {
                padding.push(start..end);
            }
            ranges.push(start..end);
            start = end;
        }
        let chunk_len = piece_len.min(CHUNK_LEN);
        Ok(Layout {
            piece_len,
            total_len: start,
            chunk_len,
            chunks_per_piece: piece_len.div_ceil(chunk_len),
            files: ranges,
            padding,
        })
    }

    pub fn total_len(&self) -> u64 {
        self.total_len
    }

    pub fn piece_count(&self) -> u32 {
        self.total_len.div_ceil(self.piece_len) as u32
    }

    /// The torrent byte range of `len` bytes at `offset` in file `file`, if it lies inside
    /// that file.
    pub fn in_torrent(&self, file: usize, offset: u64, len: u64) -> Option<Range<u64>> {
        let f = self.files.get(file)?;
        let start = f.start.checked_add(offset)?;
        let end = start.checked_add(len)?;
        (end <= f.end).then_some(start..end)
    }

    pub fn piece_range(&self, piece: u32) -> Range<u64> {
        let start = u64::from(piece) * self.piece_len;
        start..(start + self.piece_len).min(self.total_len)
    }

    /// The pieces `range` touches.
    pub fn pieces_over(&self, range: &Range<u64>) -> Range<u32> {
        if range.is_empty() {
            return 0..0;
        }
        (range.start / self.piece_len) as u32..range.end.div_ceil(self.piece_len) as u32
    }

    /// The chunks of one piece.
    pub fn chunks_of(&self, piece: u32) -> impl Iterator<Item = ChunkId> + use<> {
        let r = self.piece_range(piece);
        let n = (r.end - r.start).div_ceil(self.chunk_len) as u32;
        (0..n).map(move |index| ChunkId { piece, index })
    }

    /// The torrent byte range a chunk holds.
    pub fn chunk_range(&self, c: ChunkId) -> Range<u64> {
        let piece = self.piece_range(c.piece);
        let start = piece.start + u64::from(c.index) * self.chunk_len;
        start..(start + self.chunk_len).min(piece.end)
    }

    /// Every chunk `range` touches, with the part of `range` inside it.
    pub fn chunks_over(
        &self,
        range: Range<u64>,
    ) -> impl Iterator<Item = (ChunkId, Range<u64>)> + '_ {
        self.pieces_over(&range)
            .flat_map(move |p| self.chunks_of(p))
            .filter_map(move |c| {
                let cr = self.chunk_range(c);
                let part = cr.start.max(range.start)..cr.end.min(range.end);
                (!part.is_empty()).then_some((c, part))
            })
    }

    /// The chunk's slot number in the vault file: every piece owns the same number of
    /// slots, so a slot never moves whatever arrives first.
    pub fn slot(&self, c: ChunkId) -> u64 {
        u64::from(c.piece) * self.chunks_per_piece + u64::from(c.index)
    }

    /// Where the chunk's slot starts in the vault file.
    pub fn slot_offset(&self, c: ChunkId) -> u64 {
        self.slot(c) * (self.chunk_len + NONCE_LEN + TAG_LEN)
    }

    /// The parts of `range` that are padding files.
    pub fn padding_in(&self, range: &Range<u64>) -> impl Iterator<Item = Range<u64>> + '_ {
        let range = range.clone();
        self.padding.iter().filter_map(move |p| {
            let part = p.start.max(range.start)..p.end.min(range.end);
            (!part.is_empty()).then_some(part)
        })
    }
}

/// Which bytes of a piece have arrived, as sorted, disjoint, non-adjacent ranges.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    ranges: Vec<Range<u64>>,
}

impl Coverage {
    pub fn add(&mut self, r: Range<u64>) {
        if r.is_empty() {
            return;
        }
        let mut merged = r;
        self.ranges.retain(|x| {
            let touches = x.start <= merged.end && merged.start <= x.end;
            if touches {
                merged = merged.start.min(x.start)..merged.end.max(x.end);
            }
            !touches
        });
        let at = self.ranges.partition_point(|x| x.start < merged.start);
        self.ranges.insert(at, merged);
    }

    pub fn covers(&self, r: &Range<u64>) -> bool {
        r.is_empty()
            || self
                .ranges
                .iter()
                .any(|x| x.start <= r.start && r.end <= x.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn layout() -> impl Strategy<Value = Layout> {
        (
            prop_oneof![Just(16_384u64), Just(262_144), Just(1 << 20), 1u64..700_000],
            prop::collection::vec((0u64..900_000, any::<bool>()), 1..6),
        )
            .prop_filter_map("empty torrent", |(piece, files)| {
                let files: Vec<_> = files.into_iter().map(|(l, p)| (l, p && l > 0)).collect();
                let l = Layout::new(piece, &files).ok()?;
                (l.total_len() > 0).then_some(l)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Chunks tile the torrent exactly: in order, without gaps or overlaps, never
        /// across a piece boundary, never larger than a slot.
        #[test]
        fn chunks_tile_the_torrent(l in layout()) {
            let mut next = 0;
            let mut slots = std::collections::HashSet::new();
            for (c, part) in l.chunks_over(0..l.total_len()) {
                prop_assert_eq!(part.start, next);
                prop_assert_eq!(l.chunk_range(c), part.clone());
                let piece = l.piece_range(c.piece);
                prop_assert!(piece.start <= part.start && part.end <= piece.end);
                prop_assert!(part.end - part.start <= CHUNK_LEN);
                prop_assert!(slots.insert(l.slot(c)));
                next = part.end;
            }
            prop_assert_eq!(next, l.total_len());
        }

        /// Any range maps onto the chunks it touches, each part inside its chunk, the
        /// parts adding up to the range.
        #[test]
        fn a_range_maps_onto_its_chunks(l in layout(), a in any::<u64>(), b in any::<u64>()) {
            let (a, b) = (a % (l.total_len() + 1), b % (l.total_len() + 1));
            let r = a.min(b)..a.max(b);
            let mut total = 0;
            for (c, part) in l.chunks_over(r.clone()) {
                let cr = l.chunk_range(c);
                prop_assert!(cr.start <= part.start && part.end <= cr.end);
                prop_assert!(r.start <= part.start && part.end <= r.end);
                total += part.end - part.start;
            }
            prop_assert_eq!(total, r.end - r.start);
        }

        /// Coverage is full exactly when every byte was added.
        #[test]
        fn coverage_matches_a_byte_map(adds in prop::collection::vec((0u64..200, 0u64..60), 0..30)) {
            let mut cov = Coverage::default();
            let mut bytes = [false; 260];
            for (s, l) in adds {
                cov.add(s..s + l);
                bytes[s as usize..(s + l) as usize].iter_mut().for_each(|b| *b = true);
            }
            for s in 0..260u64 {
                for e in s..=260u64.min(s + 70) {
                    let all = bytes[s as usize..e as usize].iter().all(|b| *b);
                    prop_assert_eq!(cov.covers(&(s..e)), all, "{}..{}", s, e);
                }
            }
        }
    }
}
