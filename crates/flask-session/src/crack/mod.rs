//! Finding the secret key of a signed cookie from a list of candidates (KEY002).
//!
//! [`Cracker::new`] prepares a cookie once; [`Cracker::crack`] tries every candidate
//! key under every applicable parameter set, in parallel (rayon), and returns the
//! first key whose signature matches. Parameter sets are tried one at a time in the
//! order given, each against all candidates, so Flask's default is exhausted before
//! rarer combinations cost anything. Sets whose digest length differs from the
//! cookie's signature length are skipped outright: a 20-byte signature can only be
//! SHA-1.
//!
//! [`default_params`] is the ordered list used when the app's choices are unknown:
//! the four key derivations × five digests × these salts, most likely first:
//!
//! - `cookie-session`: Flask's `SecureCookieSessionInterface`, kept by Quart and by
//!   Flask-AppBuilder apps such as Superset and Airflow's web UI;
//! - `flask-session`: Flask-Session's signed server-side session IDs
//!   (`SESSION_USE_SIGNER`, an untimed `sid.signature`);
//! - `itsdangerous`: itsdangerous' `Serializer` default salt, for apps that sign
//!   their own cookies with `URLSafeTimedSerializer(secret_key)`;
//! - `itsdangerous.Signer`: the `Signer` default salt, also what Starlette's
//!   (FastAPI's) `SessionMiddleware` signs with (`django-concat`, SHA-1);
//! - `remember-salt`: Flask-Security's remember-me token (`SECURITY_REMEMBER_SALT`).
//!
//! The `none` derivation ignores the salt, so it appears once per digest.

mod engine;

use crate::{b64, decode, signer};
use engine::{pad_after_one_block, BlockHash, KeyedPads};
use rayon::prelude::*;
use signer::{DigestAlgorithm, KeyDerivation, SignerParams};

/// Salts tried by [`default_params`], most likely first (see the module docs).
pub const KNOWN_SALTS: [&str; 5] = [
    "cookie-session",
    "flask-session",
    "itsdangerous",
    "itsdangerous.Signer",
    "remember-salt",
];

/// Candidates handed to one rayon task: large enough to amortise scheduling, small
/// enough that a hit stops the other workers quickly.
const CHUNK: usize = 2048;

/// A key that verifies the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The secret key.
    pub key: Vec<u8>,
    /// The parameters it verifies under.
    pub params: SignerParams,
    /// Its position in the candidate list.
    pub index: usize,
}

/// Why a value cannot be cracked at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrackError {
    #[error("not a signed itsdangerous value: no `.` before a signature")]
    NoSignature,
    #[error("signature is not valid base64url")]
    SignatureBase64,
    #[error("a {0}-byte signature matches no supported digest (SHA-1: 20, SHA-256: 32, SHA-512: 64 bytes)")]
    UnknownSignatureLength(usize),
}

/// Every parameter set worth trying when the app's choices are unknown, in the
/// order to try them (see the module docs). Flask's default comes first.
pub fn default_params() -> Vec<SignerParams> {
    // Per digest: Flask's choice, then Flask-Session's, then itsdangerous' own
    // defaults, then the remaining combinations.
    let ordered: [(KeyDerivation, &str); 8] = [
        (KeyDerivation::Hmac, "cookie-session"),
        (KeyDerivation::Hmac, "flask-session"),
        (KeyDerivation::DjangoConcat, "itsdangerous"),
        (KeyDerivation::DjangoConcat, "itsdangerous.Signer"),
        (KeyDerivation::DjangoConcat, "remember-salt"),
        (KeyDerivation::DjangoConcat, "cookie-session"),
        (KeyDerivation::Concat, "cookie-session"),
        (KeyDerivation::None, ""),
    ];
    let mut params = Vec::new();
    for digest in DigestAlgorithm::ALL {
        for (derivation, salt) in ordered {
            params.push(SignerParams::new(salt, derivation, digest));
        }
        for derivation in [
            KeyDerivation::Hmac,
            KeyDerivation::DjangoConcat,
            KeyDerivation::Concat,
        ] {
            for salt in KNOWN_SALTS {
                let p = SignerParams::new(salt, derivation, digest);
                if !params.contains(&p) {
                    params.push(p);
                }
            }
        }
    }
    params
}

/// A cookie prepared for cracking.
#[derive(Debug, Clone)]
pub struct Cracker {
    message: Vec<u8>,
    signature: Vec<u8>,
}

impl Cracker {
    /// Prepares a signed value: a Flask session cookie, or any itsdangerous-signed
    /// value (the signature covers everything before the last `.`).
    pub fn new(cookie: &str) -> Result<Cracker, CrackError> {
        let (message, sig) = decode::split_signed(cookie).ok_or(CrackError::NoSignature)?;
        let signature =
            b64::decode_urlsafe_lenient(sig.as_bytes()).ok_or(CrackError::SignatureBase64)?;
        if !DigestAlgorithm::ALL
            .iter()
            .any(|d| d.output_len() == signature.len())
        {
            return Err(CrackError::UnknownSignatureLength(signature.len()));
        }
        Ok(Cracker {
            message: message.as_bytes().to_vec(),
            signature,
        })
    }

    /// The parameter sets from `params` that can produce this cookie's signature
    /// (same digest length), in order, without duplicates (`none` ignores the salt).
    pub fn applicable(&self, params: &[SignerParams]) -> Vec<SignerParams> {
        let mut out: Vec<SignerParams> = Vec::new();
        for p in params
            .iter()
            .filter(|p| p.digest.output_len() == self.signature.len())
        {
            let p = p.normalized();
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }

    /// Tries every candidate under every applicable parameter set (see the module
    /// docs for the order). CPU-bound on rayon's global pool: from async code, call
    /// it on a blocking thread (`tokio::task::spawn_blocking`).
    pub fn crack<K: AsRef<[u8]> + Sync>(
        &self,
        candidates: &[K],
        params: &[SignerParams],
    ) -> Option<Found> {
        self.applicable(params).into_iter().find_map(|p| {
            let index = match p.digest {
                DigestAlgorithm::Sha1 => self.search::<engine::Sha1, K>(candidates, &p),
                DigestAlgorithm::Sha224 => self.search::<engine::Sha224, K>(candidates, &p),
                DigestAlgorithm::Sha256 => self.search::<engine::Sha256, K>(candidates, &p),
                DigestAlgorithm::Sha384 => self.search::<engine::Sha384, K>(candidates, &p),
                DigestAlgorithm::Sha512 => self.search::<engine::Sha512, K>(candidates, &p),
            }?;
            let key = candidates.get(index)?.as_ref().to_vec();
            Some(Found {
                key,
                params: p,
                index,
            })
        })
    }

    /// The index of a candidate that verifies under `params`, if any.
    fn search<H: BlockHash, K: AsRef<[u8]> + Sync>(
        &self,
        candidates: &[K],
        params: &SignerParams,
    ) -> Option<usize>
    where
        H::State: Send + Sync,
        H::Block: Send + Sync,
    {
        let message = pad_after_one_block::<H>(&self.message);
        let salt = pad_after_one_block::<H>(&params.salt);
        let derivation = params.key_derivation;
        let salt_bytes = params.salt.as_slice();
        let target = self.signature.as_slice();
        let matches = |key: &[u8]| -> bool {
            let mut derived = [0u8; 64];
            let derived: &[u8] = match derivation {
                KeyDerivation::Hmac => {
                    KeyedPads::<H>::new(key).mac(&salt, &mut derived);
                    &derived[..H::OUT]
                }
                KeyDerivation::Concat => {
                    H::digest_into(&[salt_bytes, key], &mut derived);
                    &derived[..H::OUT]
                }
                KeyDerivation::DjangoConcat => {
                    H::digest_into(&[salt_bytes, b"signer", key], &mut derived);
                    &derived[..H::OUT]
                }
                KeyDerivation::None => key,
            };
            let mut sig = [0u8; 64];
            KeyedPads::<H>::new(derived).mac(&message, &mut sig);
            &sig[..H::OUT] == target
        };
        candidates
            .par_chunks(CHUNK)
            .enumerate()
            .find_map_any(|(chunk_no, chunk)| {
                chunk
                    .iter()
                    .position(|k| matches(k.as_ref()))
                    .map(|i| chunk_no * CHUNK + i)
            })
    }
}

/// Tries `candidates` × `params` against `cookie` (see [`Cracker::crack`]); `None`
/// when no candidate verifies or the cookie carries no usable signature.
pub fn crack<K: AsRef<[u8]> + Sync>(
    cookie: &str,
    candidates: &[K],
    params: &[SignerParams],
) -> Option<Found> {
    Cracker::new(cookie).ok()?.crack(candidates, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_key_under_each_params() {
        let value = json!({"user_id": 7});
        let mut candidates: Vec<Vec<u8>> = (0..300)
            .map(|i| format!("candidate-{i}").into_bytes())
            .collect();
        candidates.push(b"the-real-key".to_vec());
        for params in default_params() {
            let cookie = signer::sign_at(&value, b"the-real-key", &params, 1_700_000_000);
            let found = crack(&cookie, &candidates, &default_params()).expect("found");
            assert_eq!(found.key, b"the-real-key");
            assert_eq!(found.index, 300);
            assert!(
                signer::verify(&cookie, &found.key, &found.params),
                "{params}"
            );
            if params.key_derivation != KeyDerivation::None {
                assert_eq!(found.params, params);
            }
        }
    }

    #[test]
    fn wrong_keys_do_not_crack() {
        let cookie = signer::sign_at(
            &json!({"a": 1}),
            b"unlisted",
            &SignerParams::flask_default(),
            1,
        );
        let candidates = ["dev", "secret", "unlisted ", "Unlisted", "unliste"];
        assert_eq!(crack(&cookie, &candidates, &default_params()), None);
    }

    #[test]
    fn flask_default_is_tried_first() {
        let params = default_params();
        assert!(params[0].is_flask_default());
        let cracker =
            Cracker::new("eyJhIjoxfQ.ZVPxAA.kKgxJDvKVC3LSmhF0o_BBGA1MVY").expect("prepares");
        let applicable = cracker.applicable(&params);
        assert!(applicable[0].is_flask_default());
        assert!(applicable.iter().all(|p| p.digest == DigestAlgorithm::Sha1));
        // 3 derivations x 5 salts + `none` once
        assert_eq!(applicable.len(), 16);
    }

    #[test]
    fn long_keys_and_long_messages() {
        let key = vec![b'x'; 300];
        let value = json!({"blob": "y".repeat(3000)});
        for digest in DigestAlgorithm::ALL {
            let params = SignerParams::new("cookie-session", KeyDerivation::Hmac, digest);
            let cookie = signer::sign_at(&value, &key, &params, 5);
            let found = crack(
                &cookie,
                &[b"short".to_vec(), key.clone()],
                std::slice::from_ref(&params),
            )
            .expect("found");
            assert_eq!(found.index, 1);
        }
    }

    #[test]
    fn rejects_unusable_signatures() {
        assert_eq!(Cracker::new("nodot").err(), Some(CrackError::NoSignature));
        assert_eq!(
            Cracker::new("a.b.c").err(),
            Some(CrackError::SignatureBase64)
        );
        assert_eq!(
            Cracker::new("a.b.AAAA").err(),
            Some(CrackError::UnknownSignatureLength(3))
        );
        assert_eq!(crack("a.b.AAAA", &["x"], &default_params()), None);
    }
}
