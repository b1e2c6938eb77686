//! A vault's key: a file of exactly 32 random bytes, readable by its owner only. The key
//! opens the vault's marker file (a sealed known text written when the vault is first
//! used), so a wrong key is told apart from damage before any torrent starts. Neither the
//! key nor anything derived from it is ever printed: errors name the key file, not its
//! contents.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chacha20poly1305::aead::Generate;
use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305, XNonce};

use super::layout::{NONCE_LEN, TAG_LEN};

pub const KEY_LEN: usize = 32;

/// The file in a vault root that proves a key is the vault's.
pub const MARKER_FILE: &str = ".trove-vault";
const MARKER_TEXT: &[u8] = b"trove vault 1";

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

    pub(super) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.bytes.into())
    }

    /// Checks the key against the vault in `root`, writing the marker if the vault is new.
    /// The error finishes "the vault's key ...".
    pub fn open_vault(&self, root: &Path) -> Result<(), String> {
        let marker = root.join(MARKER_FILE);
        match std::fs::read(&marker) {
            Ok(sealed) => {
                if self.unseal_marker(&sealed) {
                    Ok(())
                } else {
                    Err(format!(
                        "does not open this vault (its marker {} was sealed with another key): point key_file at the key this vault was made with",
                        marker.display()
                    ))
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let sealed = self.seal_marker()?;
                let tmp = root.join(format!("{MARKER_FILE}.tmp"));
                std::fs::write(&tmp, sealed)
                    .and_then(|_| std::fs::rename(&tmp, &marker))
                    .map_err(|e| format!("cannot write the marker {} ({e})", marker.display()))
            }
            Err(e) => Err(format!(
                "cannot read the vault's marker {} ({e})",
                marker.display()
            )),
        }
    }

    fn seal_marker(&self) -> Result<Vec<u8>, String> {
        let nonce = XNonce::try_generate().map_err(|e| format!("no random nonce ({e})"))?;
        let mut text = MARKER_TEXT.to_vec();
        let tag = self
            .cipher()
            .encrypt_inout_detached(&nonce, MARKER_FILE.as_bytes(), text.as_mut_slice().into())
            .map_err(|_| "cannot seal the marker".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&text);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn unseal_marker(&self, sealed: &[u8]) -> bool {
        let (n, t) = (NONCE_LEN as usize, TAG_LEN as usize);
        if sealed.len() != n + MARKER_TEXT.len() + t {
            return false;
        }
        let nonce = XNonce::try_from(&sealed[..n]).expect("length checked");
        let mut text = sealed[n..sealed.len() - t].to_vec();
        let tag =
            chacha20poly1305::Tag::try_from(&sealed[sealed.len() - t..]).expect("length checked");
        self.cipher()
            .decrypt_inout_detached(
                &nonce,
                MARKER_FILE.as_bytes(),
                text.as_mut_slice().into(),
                &tag,
            )
            .is_ok()
            && text == MARKER_TEXT
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
        key1.open_vault(&vault).unwrap();
        key1.open_vault(&vault).unwrap();
        let e = VaultKey::load(&k2).unwrap().open_vault(&vault).unwrap_err();
        assert!(e.contains("another key"), "{e}");
        assert_eq!(format!("{key1:?}"), "VaultKey(..)");
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
