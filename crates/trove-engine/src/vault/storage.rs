//! librqbit's storage for a torrent kept in a vault: one file per torrent holding the
//! torrent's chunks sealed with the vault's cipher.
//!
//! Blocks arrive in any order, so a piece is gathered in memory until all of it has
//! arrived and then sealed chunk by chunk, each with a fresh random nonce (a piece fetched
//! again after a failed hash check gets new ones). The associated data binds each
//! chunk to its torrent and its slot, so chunks cannot be swapped unnoticed. A chunk that
//! fails its tag is never returned: the read fails, and the engine is told so it can fetch
//! the piece again.

use std::any::TypeId;
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use anyhow::{Context, bail};
use librqbit::storage::filesystem::FilesystemStorageFactory;
use librqbit::storage::{BoxStorageFactory, StorageFactory, StorageFactoryExt, TorrentStorage};
use librqbit::{ManagedTorrentShared, TorrentMetadata};
use tokio::sync::mpsc::UnboundedSender;

use super::cache::{ChunkCache, Plain};
use super::cipher::ChunkCipher;
use super::key::Sealer;
use super::layout::{ChunkId, Coverage, Layout, NONCE_LEN, TAG_LEN};
use super::seal_pool::{Done, SealPool};

/// What a vault storage tells the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultEvent {
    /// A chunk failed its authentication tag: its piece must be fetched again.
    Damaged {
        info_hash: String,
        piece: u32,
        chunk: u64,
    },
}

/// Makes the storage of one torrent in a vault root.
#[derive(Clone)]
pub struct VaultStorageFactory {
    pub sealer: Sealer,
    /// The torrent's vault file.
    pub file: PathBuf,
    pub cache: Arc<ChunkCache>,
    pub events: UnboundedSender<VaultEvent>,
    /// Set by the engine while the torrent uploads: what it reads then is pinned.
    pub serving: Arc<AtomicBool>,
    /// Where the storage, once open, is found by other readers (the mount).
    pub open: Arc<OpenVaults>,
    /// Where chunks are sealed (None: on the writing thread).
    pub pool: Option<Arc<SealPool>>,
}

/// The session's vault torrents and, once librqbit has opened them, their storage: how
/// the mount reads them decrypted.
#[derive(Default)]
pub struct OpenVaults {
    torrents: Mutex<HashMap<String, Weak<Inner>>>,
}

impl OpenVaults {
    /// Marks a torrent as kept in a vault (before librqbit opens it).
    pub fn register(&self, info_hash: &str) {
        self.lock().entry(info_hash.to_string()).or_default();
    }

    pub fn forget(&self, info_hash: &str) {
        self.lock().remove(info_hash);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Weak<Inner>>> {
        self.torrents.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl trove_mount::SealedData for OpenVaults {
    fn holds(&self, info_hash: &str) -> bool {
        self.lock().contains_key(info_hash)
    }

    fn read(
        &self,
        info_hash: &str,
        file: usize,
        offset: u64,
        buf: &mut [u8],
    ) -> std::io::Result<()> {
        let inner = self
            .lock()
            .get(info_hash)
            .and_then(Weak::upgrade)
            .ok_or_else(|| std::io::Error::other("the torrent's vault file is not open"))?;
        let range = inner
            .layout
            .in_torrent(file, offset, buf.len() as u64)
            .ok_or_else(|| std::io::Error::other(format!("a read outside file {file}")))?;
        inner.read(range, buf).map_err(std::io::Error::other)
    }
}

impl StorageFactory for VaultStorageFactory {
    type Storage = VaultStorage;

    fn create(
        &self,
        shared: &ManagedTorrentShared,
        metadata: &TorrentMetadata,
    ) -> anyhow::Result<VaultStorage> {
        let files: Vec<(u64, bool)> = metadata
            .file_infos
            .iter()
            .map(|f| (f.len, f.attrs.padding))
            .collect();
        let piece_len = u64::from(metadata.info.lengths().default_piece_length());
        let layout = Layout::new(piece_len, &files).map_err(anyhow::Error::msg)?;
        VaultStorage::open(self, shared.info_hash.0, layout)
    }

    /// librqbit's session persistence (trove keeps only its fast-resume bitfields) refuses
    /// any storage but its file system one; the bitfields do not depend on the storage, so
    /// this one answers for it too.
    fn is_type_id(&self, type_id: TypeId) -> bool {
        type_id == TypeId::of::<Self>() || type_id == TypeId::of::<FilesystemStorageFactory>()
    }

    fn clone_box(&self) -> BoxStorageFactory {
        self.clone().boxed()
    }
}

/// One torrent's vault file, open.
pub struct VaultStorage {
    inner: Arc<Inner>,
}

struct Inner {
    info_hash: [u8; 20],
    /// The torrent's name in the shared cache.
    cache_id: u64,
    layout: Layout,
    path: PathBuf,
    file: File,
    cipher: ChunkCipher,
    /// Pieces partly arrived: their bytes so far and which ones they are.
    pending: Mutex<HashMap<u32, Pending>>,
    cache: Arc<ChunkCache>,
    events: UnboundedSender<VaultEvent>,
    serving: Arc<AtomicBool>,
    pool: Option<Arc<SealPool>>,
}

/// A piece partly arrived, chunk by chunk.
struct Pending {
    chunks: Vec<Fill>,
}

/// One chunk of a piece still arriving.
enum Fill {
    /// Blocks still arriving: its bytes so far, and which ones they are (relative to the
    /// chunk's start).
    Partial { data: Vec<u8>, covered: Coverage },
    /// Whole, and handed to the sealers; its plaintext serves reads until the piece is
    /// done.
    Whole {
        data: Arc<Vec<u8>>,
        sealed: Arc<Done>,
    },
    /// Padding files only: zeros, never written.
    Padding,
}

impl Fill {
    fn is_whole(&self) -> bool {
        !matches!(self, Fill::Partial { .. })
    }
}

impl VaultStorage {
    fn open(f: &VaultStorageFactory, info_hash: [u8; 20], layout: Layout) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&f.file)
            .with_context(|| format!("opening the vault file {}", f.file.display()))?;
        let cache_id = u64::from_le_bytes(info_hash[..8].try_into().expect("20 bytes"));
        let storage = VaultStorage {
            inner: Arc::new(Inner {
                info_hash,
                cache_id,
                layout,
                path: f.file.clone(),
                file,
                cipher: f.sealer.for_torrent(&info_hash),
                pending: Mutex::new(HashMap::new()),
                cache: f.cache.clone(),
                events: f.events.clone(),
                serving: f.serving.clone(),
                pool: f.pool.clone(),
            }),
        };
        let hex: String = info_hash.iter().map(|b| format!("{b:02x}")).collect();
        f.open.lock().insert(hex, Arc::downgrade(&storage.inner));
        Ok(storage)
    }
}

/// What one write left to do once the lock on the pieces still arriving is let go.
#[derive(Default)]
struct AfterWrite {
    /// Chunks that became whole: to be sealed.
    seal: Vec<(ChunkId, Arc<Vec<u8>>, Arc<Done>)>,
    /// The piece became whole: its chunks' seals, to wait for.
    piece_done: Option<Vec<Arc<Done>>>,
    /// The write lands in a chunk already being sealed (the piece is being written
    /// again): wait for that seal, then write.
    busy: Option<Arc<Done>>,
}

impl Inner {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What binds a chunk to this torrent and this slot.
    fn aad(&self, c: ChunkId, len: u64) -> [u8; 36] {
        let mut aad = [0u8; 36];
        aad[..20].copy_from_slice(&self.info_hash);
        aad[20..28].copy_from_slice(&self.layout.slot(c).to_le_bytes());
        aad[28..].copy_from_slice(&len.to_le_bytes());
        aad
    }

    fn new_pending(&self, piece: u32) -> Pending {
        let chunks = self
            .layout
            .chunks_of(piece)
            .map(|c| {
                let cr = self.layout.chunk_range(c);
                let mut covered = Coverage::default();
                for pad in self.layout.padding_in(&cr) {
                    covered.add(pad.start - cr.start..pad.end - cr.start);
                }
                if covered.covers(&(0..cr.end - cr.start)) {
                    Fill::Padding
                } else {
                    Fill::Partial {
                        data: vec![0; (cr.end - cr.start) as usize],
                        covered,
                    }
                }
            })
            .collect();
        Pending { chunks }
    }

    /// Takes in bytes `range` of the torrent. A chunk is sealed (on the pool) once all of
    /// it has arrived; the write that completes a piece returns once all of the piece is
    /// sealed and written, so a piece librqbit has checked is on disk.
    fn write(self: &Arc<Self>, range: std::ops::Range<u64>, buf: &[u8]) -> anyhow::Result<()> {
        for p in self.layout.pieces_over(&range) {
            loop {
                let after = self.take_in(p, &range, buf);
                if let Some(busy) = after.busy {
                    // Whatever its outcome, the chunk is rewritten now.
                    let _ = busy.wait();
                    continue;
                }
                for (c, data, done) in after.seal {
                    let inner = self.clone();
                    let job = move || {
                        let sealed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            inner.seal_chunk(c, &data)
                        }));
                        done.finish(match sealed {
                            Ok(Ok(())) => Ok(()),
                            Ok(Err(e)) => Err(format!("{e:#}")),
                            Err(_) => Err(format!("sealing chunk {} failed", c.index)),
                        });
                    };
                    match &self.pool {
                        Some(pool) => pool.run(job),
                        None => job(),
                    }
                }
                if let Some(seals) = after.piece_done {
                    let outcome = seals.iter().map(|d| d.wait()).find(Result::is_err);
                    self.forget_done_piece(p, &seals);
                    if let Some(Err(e)) = outcome {
                        bail!(e);
                    }
                }
                break;
            }
        }
        Ok(())
    }

    /// Copies the part of `range` in piece `p` into its chunks, under the lock.
    fn take_in(&self, p: u32, range: &std::ops::Range<u64>, buf: &[u8]) -> AfterWrite {
        let mut after = AfterWrite::default();
        let mut pending = self.pending();
        let entry = pending.entry(p).or_insert_with(|| self.new_pending(p));
        let pr = self.layout.piece_range(p);
        let part = pr.start.max(range.start)..pr.end.min(range.end);
        for (c, _) in self.layout.chunks_over(part.clone()) {
            let fill = &mut entry.chunks[c.index as usize];
            if let Fill::Whole { data, sealed } = fill {
                if !sealed.is_done() {
                    after.busy = Some(sealed.clone());
                    return after;
                }
                // Written again: start again from what it holds.
                let len = data.len() as u64;
                let mut covered = Coverage::default();
                covered.add(0..len);
                *fill = Fill::Partial {
                    data: data.to_vec(),
                    covered,
                };
            }
        }
        for (c, cpart) in self.layout.chunks_over(part) {
            let cr = self.layout.chunk_range(c);
            let fill = &mut entry.chunks[c.index as usize];
            let Fill::Partial { data, covered } = fill else {
                continue;
            };
            let src =
                &buf[(cpart.start - range.start) as usize..(cpart.end - range.start) as usize];
            let at = (cpart.start - cr.start) as usize;
            data[at..at + src.len()].copy_from_slice(src);
            covered.add(cpart.start - cr.start..cpart.end - cr.start);
            if covered.covers(&(0..cr.end - cr.start)) {
                let data = Arc::new(std::mem::take(data));
                let sealed = Arc::new(Done::default());
                after.seal.push((c, data.clone(), sealed.clone()));
                *fill = Fill::Whole { data, sealed };
            }
        }
        if entry.chunks.iter().all(Fill::is_whole) {
            after.piece_done = Some(
                entry
                    .chunks
                    .iter()
                    .filter_map(|f| match f {
                        Fill::Whole { sealed, .. } => Some(sealed.clone()),
                        _ => None,
                    })
                    .collect(),
            );
        }
        after
    }

    /// Drops a piece whose chunks are all sealed from the pieces arriving, unless a later
    /// write has started it again.
    fn forget_done_piece(&self, p: u32, seals: &[Arc<Done>]) {
        let mut pending = self.pending();
        let Some(entry) = pending.get(&p) else {
            return;
        };
        let mut ours = entry.chunks.iter().filter_map(|f| match f {
            Fill::Whole { sealed, .. } => Some(sealed),
            _ => None,
        });
        let unchanged = entry.chunks.iter().all(Fill::is_whole)
            && seals
                .iter()
                .all(|s| ours.next().is_some_and(|o| Arc::ptr_eq(o, s)));
        if unchanged {
            pending.remove(&p);
        }
    }

    /// Seals one whole chunk into its slot, and keeps its plaintext in the cache for the
    /// hash check that follows.
    fn seal_chunk(&self, c: ChunkId, data: &Arc<Vec<u8>>) -> anyhow::Result<()> {
        let (n, t) = (NONCE_LEN as usize, TAG_LEN as usize);
        let len = data.len();
        let mut slot = vec![0u8; n + len + t];
        let (nonce, rest) = slot.split_at_mut(n);
        let nonce: &mut [u8; NONCE_LEN as usize] = nonce.try_into().expect("nonce length");
        let tag = self
            .cipher
            .seal(nonce, &self.aad(c, len as u64), data, &mut rest[..len])
            .map_err(|e| {
                anyhow::anyhow!("sealing chunk {} failed: {}", self.layout.slot(c), e.0)
            })?;
        slot[n + len..].copy_from_slice(&tag);
        self.file
            .write_all_at(&slot, self.layout.slot_offset(c))
            .with_context(|| format!("writing to the vault file {}", self.path.display()))?;
        self.cache.insert(
            (self.cache_id, self.layout.slot(c)),
            Arc::new(Plain::new(data.clone(), 0..len)),
            false,
        );
        Ok(())
    }

    fn read(&self, range: std::ops::Range<u64>, buf: &mut [u8]) -> anyhow::Result<()> {
        for (c, part) in self.layout.chunks_over(range.clone()) {
            let dst =
                &mut buf[(part.start - range.start) as usize..(part.end - range.start) as usize];
            // A piece of padding files only is never written: its bytes are zeros.
            let padding: u64 = self.layout.padding_in(&part).map(|p| p.end - p.start).sum();
            if padding == part.end - part.start {
                dst.fill(0);
                continue;
            }
            let cstart = self.layout.chunk_range(c).start;
            let rel = (part.start - cstart) as usize..(part.end - cstart) as usize;
            {
                let pending = self.pending();
                if let Some(p) = pending.get(&c.piece) {
                    match &p.chunks[c.index as usize] {
                        Fill::Partial { data, covered } => {
                            if !covered.covers(&(rel.start as u64..rel.end as u64)) {
                                bail!("piece {} has not arrived yet", c.piece);
                            }
                            dst.copy_from_slice(&data[rel]);
                        }
                        Fill::Whole { data, .. } => dst.copy_from_slice(&data[rel]),
                        Fill::Padding => dst.fill(0),
                    }
                    continue;
                }
            }
            let chunk = self.chunk(c)?;
            dst.copy_from_slice(&chunk[rel]);
        }
        Ok(())
    }

    /// A chunk's plaintext, from the cache or opened from its slot. librqbit reads only
    /// pieces it has verified, except when it checks what is there, and a slot never
    /// written then answers as a plain file would: past the vault file's end (every later
    /// slot is unwritten too) it is an error, as a missing file is, and librqbit moves on
    /// to the next file at once; a hole inside the file reads as zeros, which fail that
    /// piece's hash alone.
    fn chunk(&self, c: ChunkId) -> anyhow::Result<Arc<Plain>> {
        let key = (self.cache_id, self.layout.slot(c));
        let pin = self.serving.load(Ordering::Relaxed);
        if let Some(d) = self.cache.get(key, pin) {
            return Ok(d);
        }
        let cr = self.layout.chunk_range(c);
        let len = cr.end - cr.start;
        let mut slot = vec![0u8; (NONCE_LEN + len + TAG_LEN) as usize];
        match self
            .file
            .read_exact_at(&mut slot, self.layout.slot_offset(c))
        {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                bail!("piece {} has not been written yet", c.piece)
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading the vault file {}", self.path.display()));
            }
        }
        let (n, t) = (NONCE_LEN as usize, slot.len() - TAG_LEN as usize);
        // A slot never written reads as zeros (a hole): no nonce is all zeros.
        if slot[..n].iter().all(|b| *b == 0) {
            return Ok(Arc::new(Plain::copy_of(&vec![0u8; len as usize])));
        }
        let aad = self.aad(c, len);
        let (head, rest) = slot.split_at_mut(n);
        let (text, tag) = rest.split_at_mut(t - n);
        let nonce: &[u8; NONCE_LEN as usize] = (&*head).try_into().expect("nonce length");
        let tag: &[u8; TAG_LEN as usize] = (&*tag).try_into().expect("tag length");
        if !self.cipher.open(nonce, &aad, text, tag) {
            self.cache.forget(key);
            let chunk = self.layout.slot(c);
            let _ = self.events.send(VaultEvent::Damaged {
                info_hash: self.info_hash.iter().map(|b| format!("{b:02x}")).collect(),
                piece: c.piece,
                chunk,
            });
            bail!(
                "chunk {chunk} (piece {}) of the vault file {} failed its authentication: it is damaged and is not served",
                c.piece,
                self.path.display()
            );
        }
        let data = Arc::new(Plain::new(Arc::new(slot), n..t));
        self.cache.insert(key, data.clone(), pin);
        Ok(data)
    }
}

/// A torrent's vault file opened outside librqbit, to move data into or out of a vault:
/// byte ranges of the torrent in and out, nothing cached, so what is read back comes from
/// the disk.
pub struct SealedFile(VaultStorage);

impl SealedFile {
    pub fn open(
        sealer: &Sealer,
        path: &Path,
        info_hash: [u8; 20],
        piece_len: u64,
        total_len: u64,
    ) -> anyhow::Result<Self> {
        let (events, _) = tokio::sync::mpsc::unbounded_channel();
        let factory = VaultStorageFactory {
            sealer: sealer.clone(),
            file: path.to_path_buf(),
            cache: Arc::new(ChunkCache::new(0)),
            events,
            serving: Default::default(),
            open: Default::default(),
            pool: None,
        };
        let layout = Layout::new(piece_len, &[(total_len, false)]).map_err(anyhow::Error::msg)?;
        VaultStorage::open(&factory, info_hash, layout).map(SealedFile)
    }

    /// Bytes `range` of the torrent.
    pub fn read(&self, range: std::ops::Range<u64>, buf: &mut [u8]) -> anyhow::Result<()> {
        self.0.inner.read(range, buf)
    }

    /// Writes bytes `range` of the torrent; a piece is sealed once all of it is written.
    pub fn write(&self, range: std::ops::Range<u64>, buf: &[u8]) -> anyhow::Result<()> {
        self.0.inner.write(range, buf)
    }

    pub fn sync(&self) -> std::io::Result<()> {
        self.0.inner.file.sync_all()
    }
}

impl TorrentStorage for VaultStorage {
    fn init(&mut self, _: &ManagedTorrentShared, _: &TorrentMetadata) -> anyhow::Result<()> {
        Ok(())
    }

    fn pread_exact(&self, file_id: usize, offset: u64, buf: &mut [u8]) -> anyhow::Result<()> {
        let range = self
            .inner
            .layout
            .in_torrent(file_id, offset, buf.len() as u64)
            .with_context(|| format!("a read outside file {file_id}"))?;
        self.inner.read(range, buf)
    }

    fn pwrite_all(&self, file_id: usize, offset: u64, buf: &[u8]) -> anyhow::Result<()> {
        let range = self
            .inner
            .layout
            .in_torrent(file_id, offset, buf.len() as u64)
            .with_context(|| format!("a write outside file {file_id}"))?;
        self.inner.write(range, buf)
    }

    /// The first file removed takes the whole vault file with it: a vault torrent's data
    /// is one file.
    fn remove_file(&self, _file_id: usize, _filename: &Path) -> anyhow::Result<()> {
        self.inner.pending().clear();
        match std::fs::remove_file(&self.inner.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn remove_directory_if_empty(&self, _path: &Path) -> anyhow::Result<()> {
        Ok(())
    }

    /// Slots are fixed: there is no file length to keep.
    fn ensure_file_length(&self, _file_id: usize, _length: u64) -> anyhow::Result<()> {
        Ok(())
    }

    fn take(&self) -> anyhow::Result<Box<dyn TorrentStorage>> {
        Ok(Box::new(VaultStorage {
            inner: self.inner.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cipher::Suite;
    use super::*;
    use proptest::prelude::*;

    fn storage(
        dir: &Path,
        piece_len: u64,
        files: &[(u64, bool)],
    ) -> (
        VaultStorage,
        tokio::sync::mpsc::UnboundedReceiver<VaultEvent>,
    ) {
        storage_with(dir, Suite::for_this_cpu(), piece_len, files)
    }

    fn storage_with(
        dir: &Path,
        suite: Suite,
        piece_len: u64,
        files: &[(u64, bool)],
    ) -> (
        VaultStorage,
        tokio::sync::mpsc::UnboundedReceiver<VaultEvent>,
    ) {
        let keyfile = dir.join("key");
        if !keyfile.exists() {
            super::super::key::keygen(&keyfile).unwrap();
        }
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let f = VaultStorageFactory {
            sealer: super::super::key::VaultKey::load(&keyfile)
                .unwrap()
                .open_vault(dir, Some(suite))
                .unwrap(),
            file: dir.join("t.vault"),
            cache: Arc::new(ChunkCache::new(4 << 20)),
            events: tx,
            serving: Arc::new(AtomicBool::new(false)),
            open: Default::default(),
            pool: Some(Arc::new(SealPool::new(2))),
        };
        let layout = Layout::new(piece_len, files).unwrap();
        (VaultStorage::open(&f, [7; 20], layout).unwrap(), rx)
    }

    /// Writes `data` (the whole torrent) file by file in `step`-byte writes, in the order
    /// `order` shuffles them into.
    fn write_all(s: &VaultStorage, files: &[(u64, bool)], data: &[u8], step: u64, order: &[usize]) {
        let mut writes = Vec::new();
        let mut start = 0u64;
        for (i, &(len, pad)) in files.iter().enumerate() {
            let mut off = 0;
            while off < len {
                let n = step.min(len - off);
                if !pad {
                    writes.push((i, off, start + off, n));
                }
                off += n;
            }
            start += len;
        }
        let mut idx: Vec<usize> = (0..writes.len()).collect();
        for (i, o) in order.iter().enumerate() {
            let n = idx.len();
            if n > 0 {
                idx.swap(i % n, o % n);
            }
        }
        for i in idx {
            let (file, off, abs, n) = writes[i];
            s.pwrite_all(file, off, &data[abs as usize..(abs + n) as usize])
                .unwrap();
        }
    }

    fn payload(files: &[(u64, bool)]) -> Vec<u8> {
        let mut data = Vec::new();
        for &(len, pad) in files {
            for i in 0..len {
                data.push(if pad {
                    0
                } else {
                    (i.wrapping_mul(31) ^ (data.len() as u64 >> 7)) as u8 | 1
                });
            }
        }
        data
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]

        /// Whatever the piece length, the file sizes and the order and size of the writes,
        /// every read (unaligned, across chunks and files) returns what a plain in-memory
        /// copy holds, and none of it is on disk in the clear.
        #[test]
        fn reads_match_a_plain_copy(
            suite in prop::sample::select(Suite::ALL.to_vec()),
            piece_len in prop_oneof![Just(16_384u64), Just(65_536), 1u64..300_000],
            files in prop::collection::vec((1u64..400_000, prop::bool::weighted(0.2)), 1..5),
            step in prop_oneof![Just(16_384u64), 1u64..70_000],
            order in prop::collection::vec(any::<usize>(), 0..40),
            reads in prop::collection::vec((any::<usize>(), any::<u64>(), 0u64..600_000), 1..20),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let (s, _rx) = storage_with(dir.path(), suite, piece_len, &files);
            let data = payload(&files);
            write_all(&s, &files, &data, step, &order);
            prop_assert!(s.inner.pending().is_empty(), "every piece sealed");
            // Cold reads: straight from the sealed slots.
            let (cold, _rx2) = storage_with(dir.path(), suite, piece_len, &files);
            let starts: Vec<u64> = files.iter().scan(0, |a, f| { let s = *a; *a += f.0; Some(s) }).collect();
            for (file, off, len) in reads {
                let file = file % files.len();
                let flen = files[file].0;
                let off = off % flen;
                let len = len.min(flen - off);
                let mut buf = vec![0u8; len as usize];
                cold.pread_exact(file, off, &mut buf).unwrap();
                let abs = (starts[file] + off) as usize;
                prop_assert_eq!(&buf[..], &data[abs..abs + len as usize]);
            }
            let raw = std::fs::read(dir.path().join("t.vault")).unwrap();
            let probe = &data[..data.len().min(64)];
            prop_assert!(probe.iter().all(|b| *b == 0) || !raw.windows(probe.len()).any(|w| w == probe));
        }
    }

    #[test]
    fn a_flipped_byte_is_caught_and_reported_never_returned() {
        for suite in Suite::ALL {
            a_flipped_byte_is_caught_with(suite);
        }
    }

    fn a_flipped_byte_is_caught_with(suite: Suite) {
        let dir = tempfile::tempdir().unwrap();
        let files = [(1_000_000u64, false)];
        let (s, _rx) = storage_with(dir.path(), suite, 262_144, &files);
        let data = payload(&files);
        write_all(&s, &files, &data, 16_384, &[]);
        let path = dir.path().join("t.vault");
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let at = 262_144 + NONCE_LEN + TAG_LEN + NONCE_LEN + 100; // inside slot 1
        let mut b = [0u8; 1];
        f.read_exact_at(&mut b, at).unwrap();
        f.write_all_at(&[b[0] ^ 1], at).unwrap();
        let (cold, mut rx) = storage_with(dir.path(), suite, 262_144, &files);
        let mut buf = vec![0u8; 16_384];
        let e = cold.pread_exact(0, 262_144, &mut buf).unwrap_err();
        assert!(
            format!("{e:#}").contains("failed its authentication"),
            "{suite:?}: {e:#}"
        );
        assert_eq!(
            rx.try_recv().unwrap(),
            VaultEvent::Damaged {
                info_hash: "07".repeat(20),
                piece: 1,
                chunk: 1
            }
        );
        cold.pread_exact(0, 0, &mut buf).unwrap();
        assert_eq!(&buf[..], &data[..16_384], "the other chunks still read");
    }

    #[test]
    fn a_hole_reads_as_zeros_past_the_end_is_an_error_and_neither_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        let files = [(1_000_000u64, false)];
        let (s, mut rx) = storage(dir.path(), 262_144, &files);
        let data = payload(&files);
        s.pwrite_all(0, 262_144, &data[262_144..524_288]).unwrap();
        let mut buf = vec![1u8; 300_000];
        s.pread_exact(0, 0, &mut buf).unwrap();
        assert!(buf[..262_144].iter().all(|b| *b == 0), "a hole before it");
        assert_eq!(&buf[262_144..], &data[262_144..300_000]);
        let e = s.pread_exact(0, 900_000, &mut buf[..100_000]).unwrap_err();
        assert!(format!("{e}").contains("not been written"), "{e}");
        assert!(rx.try_recv().is_err(), "nothing reported as damage");
    }

    #[test]
    fn a_chunk_written_again_before_its_piece_is_whole_keeps_the_last_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let files = [(1_048_576u64, false)];
        let (s, _rx) = storage(dir.path(), 1_048_576, &files);
        let data = payload(&files);
        // Chunk 0 whole (handed to the sealers), then written again with other bytes.
        let other: Vec<u8> = data[..262_144].iter().map(|b| b ^ 0x5a).collect();
        s.pwrite_all(0, 0, &data[..262_144]).unwrap();
        s.pwrite_all(0, 0, &other).unwrap();
        s.pwrite_all(0, 262_144, &data[262_144..]).unwrap();
        assert!(s.inner.pending().is_empty(), "the piece is sealed");
        let (cold, _rx2) = storage(dir.path(), 1_048_576, &files);
        let mut buf = vec![0u8; 1_048_576];
        cold.pread_exact(0, 0, &mut buf).unwrap();
        assert_eq!(&buf[..262_144], &other[..]);
        assert_eq!(&buf[262_144..], &data[262_144..]);
    }

    #[test]
    fn blocks_written_from_several_threads_at_once_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let files = [(3_000_000u64, false), (1_500_001, false)];
        let (s, _rx) = storage(dir.path(), 524_288, &files);
        let data = Arc::new(payload(&files));
        let s = Arc::new(s);
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let (s, data) = (s.clone(), data.clone());
                std::thread::spawn(move || {
                    // Thread t writes every fourth 16 KiB block of the torrent (in the
                    // torrent's byte space: one block crosses from one file to the next).
                    let mut at = t * 16_384;
                    while at < data.len() as u64 {
                        let end = (at + 16_384).min(data.len() as u64);
                        s.inner
                            .write(at..end, &data[at as usize..end as usize])
                            .unwrap();
                        at += 4 * 16_384;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(s.inner.pending().is_empty(), "every piece sealed");
        let (cold, _rx2) = storage(dir.path(), 524_288, &files);
        let mut buf = vec![0u8; 3_000_000];
        cold.pread_exact(0, 0, &mut buf).unwrap();
        assert_eq!(&buf[..], &data[..3_000_000]);
        let mut buf = vec![0u8; 1_500_001];
        cold.pread_exact(1, 0, &mut buf).unwrap();
        assert_eq!(&buf[..], &data[3_000_000..]);
    }

    #[test]
    fn a_piece_written_again_gets_fresh_nonces() {
        for suite in Suite::ALL {
            let dir = tempfile::tempdir().unwrap();
            let files = [(65_536u64, false)];
            let (s, _rx) = storage_with(dir.path(), suite, 65_536, &files);
            let data = payload(&files);
            s.pwrite_all(0, 0, &data).unwrap();
            let first = std::fs::read(dir.path().join("t.vault")).unwrap();
            s.pwrite_all(0, 0, &data).unwrap();
            let second = std::fs::read(dir.path().join("t.vault")).unwrap();
            assert_ne!(first[..12], second[..12], "{suite:?}");
        }
    }
}
