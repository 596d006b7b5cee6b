//! Keyed fingerprints of Secret values.
//!
//! A Secret's plain value must never leave the moment it is read: it is
//! turned into an HMAC-SHA-256 under a key right there. The key comes from
//! `CONFDRIFT_FINGERPRINT_KEY` so that snapshots and history stay comparable
//! across runs; without it every run draws a random key, which makes
//! fingerprints useless offline (nobody can brute-force a short password from
//! them) but also incomparable between runs.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::model::Fingerprint;

type HmacSha256 = Hmac<Sha256>;

/// The environment variable that holds the fingerprint key.
pub const KEY_ENV: &str = "CONFDRIFT_FINGERPRINT_KEY";

#[derive(Clone)]
pub struct FingerprintKey {
    key: Vec<u8>,
    id: String,
    /// Whether the key was given by the user (stable across runs).
    pub stable: bool,
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key itself.
        f.debug_struct("FingerprintKey")
            .field("id", &self.id)
            .field("stable", &self.stable)
            .finish()
    }
}

impl FingerprintKey {
    pub fn new(key: &[u8], stable: bool) -> Self {
        let id = mac_hex(key, b"confdrift fingerprint key id")[..16].to_string();
        FingerprintKey {
            key: key.to_vec(),
            id,
            stable,
        }
    }

    /// The key from `CONFDRIFT_FINGERPRINT_KEY`, else a random one.
    pub fn from_env() -> Self {
        match std::env::var(KEY_ENV) {
            Ok(k) if !k.is_empty() => FingerprintKey::new(k.as_bytes(), true),
            _ => FingerprintKey::random(),
        }
    }

    pub fn random() -> Self {
        let mut key = [0u8; 32];
        // getrandom only fails on platforms without an entropy source; a
        // time-derived key is still unknowable offline for our purpose.
        if getrandom::fill(&mut key).is_err() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            key = Sha256::digest(now.to_le_bytes()).into();
        }
        FingerprintKey::new(&key, false)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn fingerprint(&self, value: &[u8]) -> Fingerprint {
        Fingerprint {
            key_id: self.id.clone(),
            mac: mac_hex(&self.key, value),
        }
    }
}

fn mac_hex(key: &[u8], value: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(value);
    hex::encode(mac.finalize().into_bytes())
}

/// Unkeyed SHA-256, for values that are not secret but too large or binary
/// to show (ConfigMap `binaryData`).
pub fn sha256_hex(value: &[u8]) -> String {
    hex::encode(Sha256::digest(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_value_gives_same_fingerprint() {
        let k = FingerprintKey::new(b"k1", true);
        assert_eq!(k.fingerprint(b"hunter2"), k.fingerprint(b"hunter2"));
        assert_ne!(k.fingerprint(b"hunter2"), k.fingerprint(b"hunter3"));
    }

    #[test]
    fn different_keys_give_different_macs_and_ids() {
        let a = FingerprintKey::new(b"k1", true);
        let b = FingerprintKey::new(b"k2", true);
        assert_ne!(a.id(), b.id());
        assert_ne!(a.fingerprint(b"v").mac, b.fingerprint(b"v").mac);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = FingerprintKey::new(b"super-secret-key-material", true);
        assert!(!format!("{k:?}").contains("super-secret"));
    }
}
