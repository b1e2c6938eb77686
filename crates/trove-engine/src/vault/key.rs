//! A vault's key: a file of exactly 32 random bytes, readable by its owner only. The key
//! opens the vault's marker file (a known text sealed with XChaCha20-Poly1305 when the
//! vault is first used, naming the cipher its chunks are sealed with), so a wrong key is
//! told apart from damage before any torrent starts. Neither the key nor anything derived
//! from it is ever printed: errors name the key file, not its contents.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chacha20poly1305::aead::Generate;
use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305, XNonce};

use super::cipher::{ChunkCipher, Suite};
use super::layout::{NONCE_LEN, TAG_LEN};

pub const KEY_LEN: usize = 32;

/// The file in a vault root that proves a key is the vault's.
pub const MARKER_FILE: &str = ".trove-vault";
/// The marker's text: this, then for any cipher but XChaCha20-Poly1305 (the only one of
/// the first vaults) a space and the cipher's name.
const MARKER_TEXT: &str = "trove vault 1";

/// A loaded key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct VaultKey {
    bytes: [u8; KEY_LEN],
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(..)")
    }
}

impl VaultKey {
    /// Reads a key file, refusing one that others can read or that is not 32 bytes. The
    /// error finishes a sentence beginning "the vault's key ...".
    pub fn load(path: &Path) -> Result<Self, String> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!(
                    "file {} does not exist: put the vault's key back there, or point key_file at it",
                    path.display()
                ));
            }
            Err(e) => return Err(format!("file {} cannot be read ({e})", path.display())),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "file {} can be read by others (mode {mode:03o}): run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
        let data = std::fs::read(path)
            .map_err(|e| format!("file {} cannot be read ({e})", path.display()))?;
        let bytes: [u8; KEY_LEN] = data.as_slice().try_into().map_err(|_| {
            format!(
                "file {} holds {} bytes, not {KEY_LEN}: it is not a vault key (`trove vault keygen PATH` writes one)",
                path.display(),
                data.len()
            )
        })?;
        Ok(VaultKey { bytes })
    }

    fn marker_cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.bytes.into())
    }

    /// Checks the key against the vault in `root` and tells which cipher its chunks are
    /// sealed with. A new vault (no marker yet) gets `wanted`, or the cipher best for this
    /// CPU, and its marker is written. The error says what is wrong and what to do, as a
    /// clause about the vault ("the key does not open it ...").
    pub fn open_vault(&self, root: &Path, wanted: Option<Suite>) -> Result<Sealer, String> {
        let marker = root.join(MARKER_FILE);
        let sealer = |suite| Sealer {
            key: self.clone(),
            suite,
        };
        match std::fs::read(&marker) {
            Ok(sealed) => match self.unseal_marker(&sealed) {
                Some(suite) if wanted.is_none_or(|w| w == suite) => Ok(sealer(suite)),
                Some(suite) => Err(format!(
                    "the key opens it, but its chunks are sealed with {} and the configuration asks for {}: cipher only chooses for a new vault, so set cipher = \"{}\" or remove the line (to change, move its torrents to a new vault)",
                    suite.name(),
                    wanted.map_or("", Suite::name),
                    suite.name()
                )),
                None => Err(format!(
                    "the key does not open it (its marker {} was sealed with another key): point key_file at the key this vault was made with",
                    marker.display()
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let suite = wanted.unwrap_or_else(Suite::for_this_cpu);
                let sealed = self.seal_marker(suite)?;
                let tmp = root.join(format!("{MARKER_FILE}.tmp"));
                std::fs::write(&tmp, sealed)
                    .and_then(|_| std::fs::rename(&tmp, &marker))
                    .map_err(|e| {
                        format!("its marker {} cannot be written ({e})", marker.display())
                    })?;
                Ok(sealer(suite))
            }
            Err(e) => Err(format!(
                "its marker {} cannot be read ({e})",
                marker.display()
            )),
        }
    }

    fn seal_marker(&self, suite: Suite) -> Result<Vec<u8>, String> {
        let nonce = XNonce::try_generate().map_err(|e| format!("no random nonce ({e})"))?;
        let mut text = match suite {
            Suite::XChaCha20Poly1305 => MARKER_TEXT.to_string(),
            other => format!("{MARKER_TEXT} {}", other.name()),
        }
        .into_bytes();
        let tag = self
            .marker_cipher()
            .encrypt_inout_detached(&nonce, MARKER_FILE.as_bytes(), text.as_mut_slice().into())
            .map_err(|_| "cannot seal the marker".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&text);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// The cipher the marker names, if this key opens it.
    fn unseal_marker(&self, sealed: &[u8]) -> Option<Suite> {
        let (n, t) = (NONCE_LEN as usize, TAG_LEN as usize);
        if sealed.len() < n + MARKER_TEXT.len() + t {
            return None;
        }
        let nonce = XNonce::try_from(&sealed[..n]).expect("length checked");
        let mut text = sealed[n..sealed.len() - t].to_vec();
        let tag =
            chacha20poly1305::Tag::try_from(&sealed[sealed.len() - t..]).expect("length checked");
        self.marker_cipher()
            .decrypt_inout_detached(
                &nonce,
                MARKER_FILE.as_bytes(),
                text.as_mut_slice().into(),
                &tag,
            )
            .ok()?;
        match std::str::from_utf8(&text).ok()?.strip_prefix(MARKER_TEXT)? {
            "" => Some(Suite::XChaCha20Poly1305),
            rest => Suite::from_name(rest.strip_prefix(' ')?),
        }
    }
}

/// How a vault root is opened: its key file and the cipher a new vault there gets (none:
/// the best for this CPU).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSpec {
    pub key_file: std::path::PathBuf,
    pub cipher: Option<Suite>,
}

impl VaultSpec {
    /// Loads the key and opens the vault at `root` with it (see [`VaultKey::open_vault`]),
    /// the error a clause about the vault.
    pub fn open(&self, root: &Path) -> Result<Sealer, String> {
        VaultKey::load(&self.key_file)
            .map_err(|e| format!("the key {e}"))?
            .open_vault(root, self.cipher)
    }
}

/// A vault's key with the cipher its chunks are sealed with: what its storage needs.
#[derive(Clone, Debug)]
pub struct Sealer {
    key: VaultKey,
    pub suite: Suite,
}

impl Sealer {
    /// The cipher of the torrent `info_hash`'s chunks.
    pub fn for_torrent(&self, info_hash: &[u8; 20]) -> ChunkCipher {
        ChunkCipher::new(self.suite, &self.key.bytes, info_hash)
    }
}

/// A new random name for a torrent's file in a vault.
pub fn new_file_name() -> Result<String, String> {
    let bytes = chacha20poly1305::Key::try_generate()
        .map_err(|e| format!("the system's random source failed ({e})"))?;
    let hex: String = bytes[..16].iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{hex}.vault"))
}

/// Writes a new random key to `path` with mode 0600. Never replaces an existing file.
pub fn keygen(path: &Path) -> Result<(), String> {
    let key = chacha20poly1305::Key::try_generate()
        .map_err(|e| format!("the system's random source failed ({e})"))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} already exists: trove never overwrites a key (choose another path)",
                path.display()
            ),
            _ => format!("cannot create {} ({e})", path.display()),
        })?;
    // The mode given at creation is masked by the umask; set it outright.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|_| f.write_all(&key))
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("cannot write {} ({e})", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_loads_and_opens_only_its_own_vault() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, k2) = (dir.path().join("k1"), dir.path().join("k2"));
        keygen(&k1).unwrap();
        keygen(&k2).unwrap();
        assert_eq!(
            std::fs::metadata(&k1).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(keygen(&k1).unwrap_err().contains("already exists"));
        let vault = dir.path().join("v");
        std::fs::create_dir(&vault).unwrap();
        let key1 = VaultKey::load(&k1).unwrap();
        let made = key1.open_vault(&vault, None).unwrap().suite;
        assert_eq!(made, Suite::for_this_cpu());
        assert_eq!(key1.open_vault(&vault, None).unwrap().suite, made);
        assert_eq!(key1.open_vault(&vault, Some(made)).unwrap().suite, made);
        let e = VaultKey::load(&k2)
            .unwrap()
            .open_vault(&vault, None)
            .unwrap_err();
        assert!(e.contains("another key"), "{e}");
        assert_eq!(format!("{key1:?}"), "VaultKey(..)");
        let s = format!("{:?}", key1.open_vault(&vault, None).unwrap());
        assert!(s.contains("VaultKey(..)"), "{s}");
    }

    #[test]
    fn a_vault_keeps_the_cipher_it_was_made_with() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("k");
        keygen(&k).unwrap();
        let key = VaultKey::load(&k).unwrap();
        for suite in Suite::ALL {
            let vault = dir.path().join(suite.name());
            std::fs::create_dir(&vault).unwrap();
            assert_eq!(key.open_vault(&vault, Some(suite)).unwrap().suite, suite);
            assert_eq!(key.open_vault(&vault, None).unwrap().suite, suite);
            let other = Suite::ALL.into_iter().find(|s| *s != suite).unwrap();
            let e = key.open_vault(&vault, Some(other)).unwrap_err();
            assert!(
                e.contains(&format!("sealed with {}", suite.name()))
                    && e.contains(&format!("cipher = \"{}\"", suite.name())),
                "{e}"
            );
        }
    }

    #[test]
    fn a_marker_from_before_the_cipher_choice_opens_as_xchacha() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("k");
        keygen(&k).unwrap();
        let key = VaultKey::load(&k).unwrap();
        // The first vaults' marker: the bare text, sealed the same way.
        let nonce = XNonce::try_generate().unwrap();
        let mut text = MARKER_TEXT.as_bytes().to_vec();
        let tag = key
            .marker_cipher()
            .encrypt_inout_detached(&nonce, MARKER_FILE.as_bytes(), text.as_mut_slice().into())
            .unwrap();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&text);
        sealed.extend_from_slice(&tag);
        std::fs::write(dir.path().join(MARKER_FILE), sealed).unwrap();
        let opened = key.open_vault(dir.path(), None).unwrap();
        assert_eq!(opened.suite, Suite::XChaCha20Poly1305);
    }

    #[test]
    fn a_key_file_others_can_read_or_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("k");
        keygen(&k).unwrap();
        std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(VaultKey::load(&k).unwrap_err().contains("chmod 600"));
        let short = dir.path().join("short");
        std::fs::write(&short, b"abc").unwrap();
        std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(VaultKey::load(&short).unwrap_err().contains("3 bytes"));
        assert!(
            VaultKey::load(&dir.path().join("none"))
                .unwrap_err()
                .contains("does not exist")
        );
    }
}
