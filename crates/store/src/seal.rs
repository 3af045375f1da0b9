//! Secrets at rest: XChaCha20-Poly1305 with a random nonce per value, and associated data
//! that binds each ciphertext to its row and column so sealed values cannot be swapped.
//!
//! Format: `v1.<key id>.<nonce>.<ciphertext>`, both parts base64url without padding.

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::SecretString;

use crate::StoreError;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

pub struct Sealer {
    key_id: String,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl Sealer {
    /// `encoded_key` is 32 bytes in base64 (standard or url-safe, padding optional).
    pub fn from_encoded_key(encoded_key: &str) -> Result<Self, StoreError> {
        let trimmed = encoded_key.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
            .map_err(|_| StoreError::Config(bad_key_message()))?;
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| StoreError::Config(bad_key_message()))?;
        Ok(Self::from_key(&key))
    }

    pub fn from_key(key: &[u8; KEY_LEN]) -> Self {
        let cipher = XChaCha20Poly1305::new(&(*key).into());
        // The key id lets a future key rotation tell old values from new ones.
        let key_id = URL_SAFE_NO_PAD.encode(&sha256(key)[..6]);
        Self { key_id, cipher }
    }

    /// A fresh random key, base64-encoded, for a new key file.
    pub fn generate_encoded_key() -> String {
        let mut key = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// Reads the key file, creating it (mode 0600) with a fresh key when it does not exist.
    /// Returns whether it was created.
    pub fn load_or_create_key_file(path: &Path) -> Result<(Self, bool), StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::from_encoded_key(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
                }
                let encoded = Self::generate_encoded_key();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(|e| StoreError::io(path, e))?;
                std::io::Write::write_all(&mut file, encoded.as_bytes())
                    .map_err(|e| StoreError::io(path, e))?;
                Ok((Self::from_encoded_key(&encoded)?, true))
            }
            Err(e) => Err(StoreError::io(path, e)),
        }
    }

    pub fn seal(&self, plaintext: &str, associated_data: &str) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload { msg: plaintext.as_bytes(), aad: associated_data.as_bytes() },
            )
            .map_err(|_| StoreError::Sealing("encryption failed"))?;
        Ok(format!(
            "v1.{}.{}.{}",
            self.key_id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ciphertext)
        ))
    }

    pub fn unseal(&self, sealed: &str, associated_data: &str) -> Result<SecretString, StoreError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(key_id), Some(nonce), Some(ciphertext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(StoreError::Sealing("sealed value has an unknown format"));
        };
        if key_id != self.key_id {
            return Err(StoreError::Sealing(
                "sealed with a different secret key; restore the key this database was created with",
            ));
        }
        let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(StoreError::Sealing("sealed value has a malformed nonce"))?;
        let ciphertext = URL_SAFE_NO_PAD
            .decode(ciphertext)
            .map_err(|_| StoreError::Sealing("sealed value has a malformed body"))?;
        let plaintext = self
            .cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: &ciphertext, aad: associated_data.as_bytes() })
            .map_err(|_| StoreError::Sealing("sealed value failed authentication"))?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| StoreError::Sealing("sealed value is not text"))
    }
}

fn bad_key_message() -> String {
    "the secret key must be 32 random bytes in base64 (generate one with `openssl rand -base64 32`)"
        .to_owned()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let sealer = Sealer::from_encoded_key(&Sealer::generate_encoded_key()).unwrap();
        let sealed = sealer.seal("pat:secret-value", "integration/1/token").unwrap();
        assert!(!sealed.contains("secret-value"));
        assert_eq!(
            sealer.unseal(&sealed, "integration/1/token").unwrap().expose_secret(),
            "pat:secret-value"
        );
        assert!(sealer.unseal(&sealed, "integration/2/token").is_err(), "wrong row accepted");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(sealer.unseal(&String::from_utf8(tampered).unwrap(), "integration/1/token").is_err());
        let other = Sealer::from_encoded_key(&Sealer::generate_encoded_key()).unwrap();
        assert!(other.unseal(&sealed, "integration/1/token").is_err(), "wrong key accepted");
    }

    #[test]
    fn malformed_keys_are_refused_with_advice() {
        let err = Sealer::from_encoded_key("too-short").unwrap_err().to_string();
        assert!(err.contains("32 random bytes"), "{err}");
    }
}
