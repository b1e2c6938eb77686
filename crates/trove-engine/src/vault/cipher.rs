//! The authenticated ciphers a vault seals its chunks with. A vault uses one of two, fixed
//! when the vault is made and written in its marker:
//!
//! - AES-256-GCM, several times faster than anything else on a CPU with AES and
//!   carry-less multiply instructions (every x86 server of the last decade, most 64-bit
//!   ARM cores with the crypto extension). GCM's nonce is 96 bits, and random 96-bit
//!   nonces must not seal more than about 2^32 messages under one key, so each torrent
//!   seals under its own key derived from the vault's (HKDF-SHA256 over its info hash).
//! - XChaCha20-Poly1305, fast and constant-time in plain software, for CPUs without those
//!   instructions (such as a Raspberry Pi 4). Its 192-bit nonces may be random under one
//!   key without a bound a vault could reach, so it seals under the vault's key itself.
//!
//! Both take the same slot: a nonce field of [`NONCE_LEN`] bytes (AES-256-GCM uses the
//! first 12 and leaves the rest zero), the ciphertext, and a 16-byte tag.

use aes_gcm::Aes256Gcm;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::aead::{AeadInOut, Generate, KeyInit};

use super::key::KEY_LEN;
use super::layout::{NONCE_LEN, TAG_LEN};

/// Which cipher a vault seals its chunks with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    Aes256Gcm,
    XChaCha20Poly1305,
}

impl Suite {
    pub const ALL: [Suite; 2] = [Suite::Aes256Gcm, Suite::XChaCha20Poly1305];

    /// The name used in the configuration and in a vault's marker.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Aes256Gcm => "aes-256-gcm",
            Suite::XChaCha20Poly1305 => "xchacha20-poly1305",
        }
    }

    pub fn from_name(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The suite a new vault gets when the configuration does not choose: AES-256-GCM
    /// where this CPU has AES and carry-less multiply instructions, XChaCha20-Poly1305
    /// elsewhere.
    pub fn for_this_cpu() -> Suite {
        if aes_in_hardware() {
            Suite::Aes256Gcm
        } else {
            Suite::XChaCha20Poly1305
        }
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn aes_in_hardware() -> bool {
    std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("pclmulqdq")
}

#[cfg(target_arch = "aarch64")]
fn aes_in_hardware() -> bool {
    std::arch::is_aarch64_feature_detected!("aes")
        && std::arch::is_aarch64_feature_detected!("pmull")
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
fn aes_in_hardware() -> bool {
    false
}

/// What a chunk could not be sealed for.
#[derive(Debug)]
pub struct SealError(pub &'static str);

/// One torrent's chunk cipher, keyed.
pub enum ChunkCipher {
    /// Boxed: AES-256-GCM's expanded key schedule is large.
    Aes(Box<Aes256Gcm>),
    XChaCha(Box<XChaCha20Poly1305>),
}

impl ChunkCipher {
    /// The cipher sealing the chunks of the torrent `info_hash` in a vault of `suite` with
    /// `key`.
    pub fn new(suite: Suite, key: &[u8; KEY_LEN], info_hash: &[u8; 20]) -> ChunkCipher {
        match suite {
            Suite::Aes256Gcm => {
                let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(info_hash), key);
                let mut sub = [0u8; KEY_LEN];
                hk.expand(b"trove vault: aes-256-gcm chunk key", &mut sub)
                    .expect("32 bytes is a valid HKDF-SHA256 output length");
                ChunkCipher::Aes(Box::new(Aes256Gcm::new(&sub.into())))
            }
            Suite::XChaCha20Poly1305 => {
                ChunkCipher::XChaCha(Box::new(XChaCha20Poly1305::new(&(*key).into())))
            }
        }
    }

    /// Seals `plain` into `out` (as long as `plain`), writing a fresh random nonce into
    /// `nonce`; returns the tag.
    pub fn seal(
        &self,
        nonce: &mut [u8; NONCE_LEN as usize],
        aad: &[u8],
        plain: &[u8],
        out: &mut [u8],
    ) -> Result<[u8; TAG_LEN as usize], SealError> {
        let inout = InOutBuf::new(plain, out).map_err(|_| SealError("unequal lengths"))?;
        *nonce = [0; NONCE_LEN as usize];
        let tag = match self {
            ChunkCipher::Aes(c) => {
                let n = aes_gcm::Nonce::<_>::try_generate()
                    .map_err(|_| SealError("the system's random source failed"))?;
                nonce[..n.len()].copy_from_slice(&n);
                c.encrypt_inout_detached(&n, aad, inout)
            }
            ChunkCipher::XChaCha(c) => {
                let n = chacha20poly1305::XNonce::try_generate()
                    .map_err(|_| SealError("the system's random source failed"))?;
                nonce.copy_from_slice(&n);
                c.encrypt_inout_detached(&n, aad, inout)
            }
        }
        .map_err(|_| SealError("the cipher refused the chunk"))?;
        Ok(tag.into())
    }

    /// Opens `text` in place; false if its tag does not match (nothing of it may be used
    /// then).
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN as usize],
        aad: &[u8],
        text: &mut [u8],
        tag: &[u8; TAG_LEN as usize],
    ) -> bool {
        match self {
            ChunkCipher::Aes(c) => {
                let n = aes_gcm::Nonce::<_>::try_from(&nonce[..12]).expect("12 of 24 bytes");
                c.decrypt_inout_detached(&n, aad, text.into(), &(*tag).into())
            }
            ChunkCipher::XChaCha(c) => {
                c.decrypt_inout_detached(&(*nonce).into(), aad, text.into(), &(*tag).into())
            }
        }
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_suite_opens_what_it_sealed_and_nothing_altered() {
        for suite in Suite::ALL {
            assert_eq!(Suite::from_name(suite.name()), Some(suite));
            let c = ChunkCipher::new(suite, &[3; 32], &[9; 20]);
            let plain: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
            let mut sealed = vec![0u8; plain.len()];
            let mut nonce = [0u8; 24];
            let tag = c.seal(&mut nonce, b"slot 1", &plain, &mut sealed).unwrap();
            assert_ne!(sealed, plain);
            let mut text = sealed.clone();
            assert!(c.open(&nonce, b"slot 1", &mut text, &tag), "{suite:?}");
            assert_eq!(text, plain);
            let mut text = sealed.clone();
            assert!(!c.open(&nonce, b"slot 2", &mut text, &tag), "other aad");
            let mut text = sealed.clone();
            text[4000] ^= 1;
            assert!(!c.open(&nonce, b"slot 1", &mut text, &tag), "flipped byte");
            let mut text = sealed.clone();
            let other = ChunkCipher::new(suite, &[3; 32], &[8; 20]);
            let opened_by_other = other.open(&nonce, b"slot 1", &mut text, &tag);
            assert_eq!(
                opened_by_other,
                suite == Suite::XChaCha20Poly1305,
                "an AES-256-GCM chunk opens only under its own torrent's key"
            );
        }
    }

    #[test]
    fn nonces_are_fresh_and_aes_leaves_the_field_tail_zero() {
        for suite in Suite::ALL {
            let c = ChunkCipher::new(suite, &[1; 32], &[2; 20]);
            let (mut n1, mut n2) = ([0u8; 24], [0u8; 24]);
            let mut out = [0u8; 10];
            c.seal(&mut n1, b"", &[5; 10], &mut out).unwrap();
            c.seal(&mut n2, b"", &[5; 10], &mut out).unwrap();
            assert_ne!(n1, n2);
            if suite == Suite::Aes256Gcm {
                assert_eq!(n1[12..], [0; 12]);
            }
        }
    }
}
