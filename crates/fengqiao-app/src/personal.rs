//! Encryption at rest and blind indexes for ID and phone numbers.
//!
//! One master key (from configuration, or generated into a single node's data directory) derives two keys:
//! one for XChaCha20-Poly1305 encryption, one for the keyed hash that lets a lookup find a number without
//! decrypting every row. The key never goes into the database.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

use crate::{AppError, AppResult};
use fengqiao_store::SealedValue;

type HmacSha256 = Hmac<Sha256>;

/// The keys for personal data.
pub struct PersonalDataKeys {
    cipher: XChaCha20Poly1305,
    index_key: [u8; 32],
}

impl std::fmt::Debug for PersonalDataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonalDataKeys(<secret>)")
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> AppResult<[u8; 32]> {
    let mut mac = <HmacSha256 as hmac::KeyInit>::new_from_slice(master)
        .map_err(|e| AppError::Internal(format!("key derivation: {e}")))?;
    mac.update(label);
    Ok(mac.finalize().into_bytes().into())
}

impl PersonalDataKeys {
    /// Derives the keys from a 32-byte master key.
    pub fn from_master(master: &[u8; 32]) -> AppResult<Self> {
        let encryption = derive(master, b"fengqiao/personal-data/encryption/v1")?;
        let index_key = derive(master, b"fengqiao/personal-data/blind-index/v1")?;
        let cipher = XChaCha20Poly1305::new_from_slice(&encryption)
            .map_err(|e| AppError::Internal(format!("cipher key: {e}")))?;
        Ok(Self { cipher, index_key })
    }

    /// Parses a master key written as base64 (standard or URL-safe) of 32 bytes.
    pub fn from_base64(text: &str) -> AppResult<Self> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| AppError::Internal("the data key is not valid base64".into()))?;
        let master: [u8; 32] = bytes
            .try_into()
            .map_err(|_| AppError::Internal("the data key must be 32 bytes".into()))?;
        Self::from_master(&master)
    }

    /// Loads the master key from `path`, generating it (mode 0600) if the file does not exist.
    /// Only for a single node: several app servers must share a configured key.
    pub fn load_or_generate(path: &Path) -> AppResult<Self> {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| AppError::Internal(format!("reading {}: {e}", path.display())))?;
            return Self::from_base64(&text);
        }
        let mut master = [0u8; 32];
        rand::rng().fill_bytes(&mut master);
        let text = STANDARD.encode(master);
        write_private(path, &text)?;
        Self::from_master(&master)
    }

    /// Encrypts a value; each call uses a fresh random nonce.
    pub fn encrypt(&self, plaintext: &str) -> AppResult<String> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(&XNonce::from(nonce), plaintext.as_bytes())
            .map_err(|_| AppError::Internal("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(format!("v1:{}", STANDARD.encode(out)))
    }

    /// Decrypts a value written by [`encrypt`](Self::encrypt).
    pub fn decrypt(&self, stored: &str) -> AppResult<String> {
        let body = stored
            .strip_prefix("v1:")
            .ok_or_else(|| AppError::Internal("unknown ciphertext version".into()))?;
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| AppError::Internal("ciphertext is not base64".into()))?;
        if bytes.len() < 24 {
            return Err(AppError::Internal("ciphertext too short".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce
            .try_into()
            .map_err(|_| AppError::Internal("bad nonce".into()))?;
        let plaintext = self
            .cipher
            .decrypt(&XNonce::from(nonce), ciphertext)
            .map_err(|_| {
                AppError::Internal("decryption failed: wrong key or altered data".into())
            })?;
        String::from_utf8(plaintext).map_err(|_| AppError::Internal("plaintext not UTF-8".into()))
    }

    /// The keyed hash of a normalised value, labelled by its kind so equal digits of different kinds differ.
    pub fn blind_index(&self, kind: &str, normalised: &str) -> String {
        let Ok(mut mac) = <HmacSha256 as hmac::KeyInit>::new_from_slice(&self.index_key) else {
            return String::new();
        };
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Encrypts, indexes and masks a value for storage.
    pub fn seal(&self, kind: &str, normalised: &str, masked: String) -> AppResult<SealedValue> {
        Ok(SealedValue {
            ciphertext: self.encrypt(normalised)?,
            blind_index: self.blind_index(kind, normalised),
            masked,
        })
    }
}

/// Writes a secret file readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> AppResult<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| AppError::Internal(format!("creating {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| AppError::Internal(format!("writing {}: {e}", path.display())))
}

/// A random token, URL-safe base64 of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_round_trips_and_is_randomised() -> AppResult<()> {
        let keys = PersonalDataKeys::from_master(&[7; 32])?;
        let a = keys.encrypt("13812345678")?;
        let b = keys.encrypt("13812345678")?;
        assert_ne!(a, b, "fresh nonce each time");
        assert_eq!(keys.decrypt(&a)?, "13812345678");
        assert!(!a.contains("13812345678"));
        let other = PersonalDataKeys::from_master(&[8; 32])?;
        assert!(other.decrypt(&a).is_err(), "another key cannot read it");
        Ok(())
    }

    #[test]
    fn blind_index_is_stable_keyed_and_labelled() -> AppResult<()> {
        let keys = PersonalDataKeys::from_master(&[7; 32])?;
        let other = PersonalDataKeys::from_master(&[9; 32])?;
        assert_eq!(
            keys.blind_index("phone", "13812345678"),
            keys.blind_index("phone", "13812345678")
        );
        assert_ne!(
            keys.blind_index("phone", "13812345678"),
            other.blind_index("phone", "13812345678")
        );
        assert_ne!(
            keys.blind_index("phone", "1"),
            keys.blind_index("id_number", "1")
        );
        Ok(())
    }
}
