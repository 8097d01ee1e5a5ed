//! Flask session cookies: decode, verify, sign and crack.
//!
//! Flask's default session (`SecureCookieSessionInterface`) is a signed, not
//! encrypted, cookie: itsdangerous' `URLSafeTimedSerializer` with salt
//! `cookie-session`, the `hmac` key derivation and SHA-1, around Flask's tagged JSON.
//! This crate reads and writes that format byte for byte, and finds weak keys:
//!
//! - [`decode()`]: what the cookie says, without the key ([`DecodedSession`], its
//!   readable value, issue time and [`sensitive keys`](DecodedSession::sensitive_keys)).
//! - [`sign()`] / [`sign_at`] / [`verify`]: what Flask would write and accept, under any
//!   [`SignerParams`] (salt, [`KeyDerivation`], [`DigestAlgorithm`]).
//! - [`crack()`] / [`Cracker`]: the key among candidates ([`builtin_wordlist`],
//!   [`Wordlist::load`]), in parallel, under [`default_params`].
//! - [`mask_key`]: a found key as a report may show it.
//!
//! Nothing here panics on untrusted input: cookies and word lists are bounded and
//! every parse failure is an error value.
//!
//! ```
//! use flask_session::{decode, sign_at, verify, crack, default_params, SignerParams};
//! use serde_json::json;
//!
//! let params = SignerParams::flask_default();
//! let cookie = sign_at(&json!({"user_id": 42, "role": "admin"}), b"dev", &params, 1_700_000_000);
//! assert_eq!(cookie, "eyJyb2xlIjoiYWRtaW4iLCJ1c2VyX2lkIjo0Mn0.ZVPxAA.kKgxJDvKVC3LSmhF0o_BBGA1MVY");
//!
//! let session = decode(&cookie).unwrap();
//! assert_eq!(session.keys(), ["role", "user_id"]);
//! assert_eq!(session.sensitive_keys()[0].path, "role");
//! assert!(verify(&cookie, b"dev", &params));
//!
//! let found = crack(&cookie, flask_session::builtin_wordlist(), &default_params()).unwrap();
//! assert_eq!(found.key, b"dev");
//! assert!(found.params.is_flask_default());
//! ```

mod b64;
pub mod crack;
pub mod decode;
pub mod flask_json;
pub mod mask;
pub mod sensitive;
pub mod signer;
pub mod tagged_json;
pub mod wordlist;

pub use crack::{crack, default_params, CrackError, Cracker, Found, KNOWN_SALTS};
pub use decode::{
    decode, DecodeError, DecodedSession, IssuedAt, LEGACY_EPOCH, MAX_COOKIE_LEN, MAX_INFLATED_LEN,
};
pub use mask::mask_key;
pub use sensitive::{classify_key, SensitiveCategory, SensitiveKey};
pub use signer::{
    derive_key, dump_payload, sign, sign_at, signature, verify, DigestAlgorithm, KeyDerivation,
    SignerParams,
};
pub use wordlist::{builtin_wordlist, Wordlist, WordlistError};
