//! Signing and verifying exactly as itsdangerous does for Flask.
//!
//! Flask's `SecureCookieSessionInterface` signs with itsdangerous'
//! `URLSafeTimedSerializer(secret_key, salt="cookie-session",
//! signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1})`. The
//! signer first derives a signing key from the secret key and the salt, then takes
//! `HMAC(derived, "payload.timestamp")` and appends it base64url-encoded. Apps change
//! the salt, digest and derivation by overriding the interface's attributes, so all
//! three are parameters ([`SignerParams`]).
//!
//! This module is the reference implementation built on the RustCrypto `hmac`, `sha1`
//! and `sha2` crates; [`crate::crack`](mod@crate::crack) has its own faster path and is tested against
//! this one.

mod params;

use crate::{b64, decode, flask_json};
use flate2::{Compress, Compression, FlushCompress, Status};
use hmac::{Hmac, KeyInit, Mac};
pub use params::{DigestAlgorithm, KeyDerivation, SignerParams};
use serde_json::Value;
use sha1::Digest;
use std::time::{SystemTime, UNIX_EPOCH};

macro_rules! with_digest {
    ($digest:expr, $d:ident => $body:expr) => {
        match $digest {
            DigestAlgorithm::Sha1 => {
                type $d = sha1::Sha1;
                $body
            }
            DigestAlgorithm::Sha224 => {
                type $d = sha2::Sha224;
                $body
            }
            DigestAlgorithm::Sha256 => {
                type $d = sha2::Sha256;
                $body
            }
            DigestAlgorithm::Sha384 => {
                type $d = sha2::Sha384;
                $body
            }
            DigestAlgorithm::Sha512 => {
                type $d = sha2::Sha512;
                $body
            }
        }
    };
}

/// itsdangerous' `Signer.derive_key`: the HMAC key for `secret_key` under `params`.
pub fn derive_key(secret_key: &[u8], params: &SignerParams) -> Vec<u8> {
    let salt = params.salt.as_slice();
    with_digest!(params.digest, D => match params.key_derivation {
        KeyDerivation::Hmac => {
            let mut mac = <Hmac<D> as KeyInit>::new_from_slice(secret_key).expect("HMAC takes keys of any length");
            mac.update(salt);
            mac.finalize().into_bytes().to_vec()
        }
        KeyDerivation::Concat => D::new().chain_update(salt).chain_update(secret_key).finalize().to_vec(),
        KeyDerivation::DjangoConcat => D::new()
            .chain_update(salt)
            .chain_update(b"signer")
            .chain_update(secret_key)
            .finalize()
            .to_vec(),
        KeyDerivation::None => secret_key.to_vec(),
    })
}

/// The raw signature bytes of `message` (`HMAC(derive_key(secret_key), message)`).
pub fn signature(message: &[u8], secret_key: &[u8], params: &SignerParams) -> Vec<u8> {
    let derived = derive_key(secret_key, params);
    with_digest!(params.digest, D => {
        let mut mac = <Hmac<D> as KeyInit>::new_from_slice(&derived).expect("HMAC takes keys of any length");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    })
}

/// The payload segment Flask writes for a session whose wire JSON (type tags
/// included, see [`crate::tagged_json`]) is `value`: base64url of the compact JSON,
/// or `.` + base64url of its zlib compression (level 6, as Python's
/// `zlib.compress`) when that is more than one byte shorter.
pub fn dump_payload(value: &Value) -> String {
    let json = flask_json::dumps(value);
    match zlib_compress(json.as_bytes()) {
        Some(compressed) if compressed.len() < json.len().saturating_sub(1) => {
            format!(".{}", b64::encode_urlsafe(&compressed))
        }
        _ => b64::encode_urlsafe(json.as_bytes()),
    }
}

/// zlib in one `deflate(Z_FINISH)` call, like CPython's `zlib.compress(data)`.
fn zlib_compress(data: &[u8]) -> Option<Vec<u8>> {
    let mut compressor = Compress::new(Compression::new(6), true);
    let mut out = Vec::with_capacity(data.len() + data.len() / 8 + 64);
    loop {
        let consumed = compressor.total_in() as usize;
        let status = compressor
            .compress_vec(data.get(consumed..)?, &mut out, FlushCompress::Finish)
            .ok()?;
        match status {
            Status::StreamEnd => return Some(out),
            Status::Ok | Status::BufError => out.reserve(out.capacity().max(64)),
        }
    }
}

/// Signs a session the way Flask would at `timestamp` (seconds since 1970):
/// `payload.timestamp.signature`. `value` is the wire JSON, type tags included.
pub fn sign_at(value: &Value, secret_key: &[u8], params: &SignerParams, timestamp: u64) -> String {
    let message = format!(
        "{}.{}",
        dump_payload(value),
        decode::encode_timestamp(timestamp)
    );
    let sig = signature(message.as_bytes(), secret_key, params);
    format!("{message}.{}", b64::encode_urlsafe(&sig))
}

/// Signs a session the way Flask would now (see [`sign_at`]).
pub fn sign(value: &Value, secret_key: &[u8], params: &SignerParams) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    sign_at(value, secret_key, params, now)
}

/// Whether `cookie`'s signature verifies under `secret_key` and `params`, as
/// itsdangerous' `Signer.unsign` decides it: the HMAC covers everything before the
/// last `.`. Works for untimed signed values too (Flask-Session's signed session
/// IDs). Expiry is not checked.
pub fn verify(cookie: &str, secret_key: &[u8], params: &SignerParams) -> bool {
    let Some((message, sig)) = decode::split_signed(cookie) else {
        return false;
    };
    let Some(sig) = b64::decode_urlsafe_lenient(sig.as_bytes()) else {
        return false;
    };
    let derived = derive_key(secret_key, params);
    with_digest!(params.digest, D => {
        let mut mac = <Hmac<D> as KeyInit>::new_from_slice(&derived).expect("HMAC takes keys of any length");
        mac.update(message.as_bytes());
        mac.verify_slice(&sig).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Made by Flask 3.1 with SECRET_KEY="dev" at timestamp 1700000000.
    const PLAIN: &str =
        "eyJyb2xlIjoiYWRtaW4iLCJ1c2VyX2lkIjo0Mn0.ZVPxAA.kKgxJDvKVC3LSmhF0o_BBGA1MVY";

    #[test]
    fn reproduces_flask() {
        let value = json!({"user_id": 42, "role": "admin"});
        assert_eq!(
            sign_at(
                &value,
                b"dev",
                &SignerParams::flask_default(),
                1_700_000_000
            ),
            PLAIN
        );
    }

    #[test]
    fn verifies_only_the_right_key_and_params() {
        let params = SignerParams::flask_default();
        assert!(verify(PLAIN, b"dev", &params));
        assert!(!verify(PLAIN, b"dev ", &params));
        assert!(!verify(PLAIN, b"Dev", &params));
        for other in [
            SignerParams::new(
                "cookie-session",
                KeyDerivation::Concat,
                DigestAlgorithm::Sha1,
            ),
            SignerParams::new("other", KeyDerivation::Hmac, DigestAlgorithm::Sha1),
            SignerParams::new(
                "cookie-session",
                KeyDerivation::Hmac,
                DigestAlgorithm::Sha256,
            ),
        ] {
            assert!(!verify(PLAIN, b"dev", &other), "{other}");
        }
        let tampered = PLAIN.replacen("eyJyb2xlIjoiYWRtaW4i", "eyJyb2xlIjoiYWRtaW5i", 1);
        assert!(!verify(&tampered, b"dev", &params));
        assert!(!verify("no-signature", b"dev", &params));
        assert!(!verify("a.b.!", b"dev", &params));
    }

    #[test]
    fn every_derivation_and_digest_round_trips() {
        let value = json!({"a": [1, 2.5, "é"]});
        for d in KeyDerivation::ALL {
            for h in DigestAlgorithm::ALL {
                let params = SignerParams::new("salt", d, h);
                let cookie = sign(&value, b"k", &params);
                assert!(verify(&cookie, b"k", &params), "{params}");
                assert!(!verify(&cookie, b"K", &params), "{params}");
                let sig = cookie.rsplit('.').next().unwrap_or_default();
                assert_eq!(
                    b64::decode_urlsafe_lenient(sig.as_bytes()).map(|s| s.len()),
                    Some(h.output_len())
                );
            }
        }
    }

    #[test]
    fn derivations_match_their_definitions() {
        let p = |d| SignerParams::new("s", d, DigestAlgorithm::Sha256);
        assert_eq!(derive_key(b"k", &p(KeyDerivation::None)), b"k");
        assert_eq!(
            derive_key(b"k", &p(KeyDerivation::Concat)),
            sha2::Sha256::digest(b"sk").to_vec()
        );
        assert_eq!(
            derive_key(b"k", &p(KeyDerivation::DjangoConcat)),
            sha2::Sha256::digest(b"ssignerk").to_vec()
        );
    }

    #[test]
    fn compresses_only_when_it_helps() {
        assert!(!dump_payload(&json!({"a": 1})).starts_with('.'));
        let big = json!({"items": vec!["same text"; 200]});
        let payload = dump_payload(&big);
        assert!(payload.starts_with('.'));
        let cookie = sign_at(&big, b"k", &SignerParams::flask_default(), 1);
        let decoded = decode::decode(&cookie).expect("decodes");
        assert!(decoded.compressed());
        assert_eq!(decoded.raw(), &big);
    }
}
