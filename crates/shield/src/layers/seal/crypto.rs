//! The sealed cookie format and its keys.
//!
//! ```text
//! <tag>.<key id>.<base64url(nonce || ciphertext || poly1305 tag)>
//! tag         fg1 (the value itself) or fgs1 (a server-side session id)
//! key id      which key sealed it, [A-Za-z0-9_-]{1,16}
//! nonce       24 random bytes (XChaCha20-Poly1305: random nonces are safe)
//! associated  "flaskguard-seal" 0 tag 0 cookie name 0 key id
//! ```
//!
//! Binding the cookie name and key id in the associated data means a sealed value
//! cannot be moved to another cookie, nor relabelled with another key id. Keys come
//! from an environment variable or a file (see `load_keys` in the parent module),
//! `id:base64key,id:base64key…` with 32-byte keys:
//! the first seals, every one opens, so a key is rotated by putting the new one
//! first and dropping the old one once its cookies have expired.

use std::collections::HashMap;

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
    Engine,
};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};

/// The value itself is sealed.
pub const TAG_VALUE: &str = "fg1";
/// A server-side session id is sealed.
pub const TAG_SERVER: &str = "fgs1";

const NONCE: usize = 24;
const TAG_LEN: usize = 16;

/// The key ring.
#[derive(Clone)]
pub struct Keys {
    current: String,
    ciphers: HashMap<String, XChaCha20Poly1305>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material.
        f.debug_struct("Keys")
            .field("current", &self.current)
            .field("ids", &self.ciphers.len())
            .finish()
    }
}

fn valid_id(id: &str) -> bool {
    (1..=16).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Keys {
    /// Parses `id:base64key[,id:base64key…]`. The error never contains key material.
    pub fn parse(text: &str) -> Result<Keys, String> {
        let mut current = None;
        let mut ciphers = HashMap::new();
        for (i, entry) in text.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            let (id, b64) = entry
                .split_once(':')
                .ok_or_else(|| format!("entry {} is not `id:base64key`", i + 1))?;
            let id = id.trim();
            if !valid_id(id) {
                return Err(format!(
                    "entry {}: the key id must be 1-16 letters, digits, - or _",
                    i + 1
                ));
            }
            let b64 = b64.trim();
            let key = [&STANDARD, &URL_SAFE, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(b64).ok())
                .ok_or_else(|| format!("key `{id}` is not base64"))?;
            if key.len() != 32 {
                return Err(format!(
                    "key `{id}` is {} bytes; it must be 32 (e.g. `openssl rand -base64 32`)",
                    key.len()
                ));
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&key)
                .map_err(|_| format!("key `{id}` is not usable"))?;
            if ciphers.insert(id.to_string(), cipher).is_some() {
                return Err(format!("key id `{id}` is listed twice"));
            }
            current.get_or_insert_with(|| id.to_string());
        }
        let current = current.ok_or("no key")?;
        Ok(Keys { current, ciphers })
    }

    /// The id of the sealing key.
    pub fn current(&self) -> &str {
        &self.current
    }

    fn aad(tag: &str, name: &str, kid: &str) -> Vec<u8> {
        let mut a = Vec::with_capacity(32 + name.len());
        a.extend_from_slice(b"flaskguard-seal\0");
        a.extend_from_slice(tag.as_bytes());
        a.push(0);
        a.extend_from_slice(name.as_bytes());
        a.push(0);
        a.extend_from_slice(kid.as_bytes());
        a
    }

    /// Seals `plain` for the cookie `name`.
    pub fn seal(&self, tag: &str, name: &str, plain: &[u8]) -> Option<String> {
        let cipher = self.ciphers.get(&self.current)?;
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).ok()?;
        let aad = Self::aad(tag, name, &self.current);
        let ct = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .ok()?;
        let mut raw = Vec::with_capacity(NONCE + ct.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ct);
        Some(format!(
            "{tag}.{}.{}",
            self.current,
            URL_SAFE_NO_PAD.encode(raw)
        ))
    }

    /// Opens a sealed value of the cookie `name`: None when it is not ours, was
    /// sealed for another cookie or tag, under an unknown key, or was altered.
    pub fn open(&self, tag: &str, name: &str, value: &str) -> Option<Vec<u8>> {
        let rest = value.strip_prefix(tag)?.strip_prefix('.')?;
        let (kid, data) = rest.split_once('.')?;
        let cipher = self.ciphers.get(kid)?;
        // A cookie is at most a few KiB; refuse to decode anything larger.
        if data.len() > 16 * 1024 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(data).ok()?;
        if raw.len() < NONCE + TAG_LEN {
            return None;
        }
        let (nonce, ct) = raw.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().ok()?;
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: &Self::aad(tag, name, kid),
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // 0..32
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="; // 32..64

    #[test]
    fn round_trip_and_binding() {
        let k = Keys::parse(&format!("new:{K2}, old:{K1}")).unwrap();
        assert_eq!(k.current(), "new");
        let sealed = k
            .seal(TAG_VALUE, "session", b"eyJyb2xlIjoiYWRtaW4ifQ.x.y")
            .unwrap();
        assert!(sealed.starts_with("fg1.new."));
        assert!(!sealed.contains("eyJyb2xl"));
        assert_eq!(
            k.open(TAG_VALUE, "session", &sealed).unwrap(),
            b"eyJyb2xlIjoiYWRtaW4ifQ.x.y"
        );
        // Another cookie name, another tag, a relabelled key id: refused.
        assert!(k.open(TAG_VALUE, "remember", &sealed).is_none());
        assert!(k.open(TAG_SERVER, "session", &sealed).is_none());
        assert!(k
            .open(TAG_VALUE, "session", &sealed.replacen(".new.", ".old.", 1))
            .is_none());
        // Two seals of the same value differ (random nonce).
        assert_ne!(
            sealed,
            k.seal(TAG_VALUE, "session", b"eyJyb2xlIjoiYWRtaW4ifQ.x.y")
                .unwrap()
        );
    }

    #[test]
    fn tampering_is_detected() {
        let k = Keys::parse(&format!("a:{K1}")).unwrap();
        let sealed = k.seal(TAG_VALUE, "session", b"hello").unwrap();
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert!(k
            .open(TAG_VALUE, "session", std::str::from_utf8(&bytes).unwrap())
            .is_none());
        for junk in [
            "",
            "fg1",
            "fg1.a.",
            "fg1.a.!!!",
            "fg1.zz.AAAA",
            "plain-flask-cookie.abc.def",
        ] {
            assert!(k.open(TAG_VALUE, "session", junk).is_none(), "{junk}");
        }
    }

    #[test]
    fn rotation_opens_old_cookies() {
        let old = Keys::parse(&format!("old:{K1}")).unwrap();
        let sealed = old.seal(TAG_VALUE, "session", b"v").unwrap();
        let rotated = Keys::parse(&format!("new:{K2},old:{K1}")).unwrap();
        assert_eq!(rotated.open(TAG_VALUE, "session", &sealed).unwrap(), b"v");
        let dropped = Keys::parse(&format!("new:{K2}")).unwrap();
        assert!(dropped.open(TAG_VALUE, "session", &sealed).is_none());
    }

    #[test]
    fn key_errors_never_show_the_key() {
        for bad in [
            "",
            "nokey",
            "a:short",
            "a b:AAAA",
            &format!("a:{K1},a:{K2}"),
        ] {
            let e = Keys::parse(bad).unwrap_err();
            assert!(!e.contains("AAEC") && !e.contains("ICEi"), "{e}");
        }
    }
}
