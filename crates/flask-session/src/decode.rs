//! Reading a Flask session cookie without the key.
//!
//! A cookie is `payload.timestamp.signature` (itsdangerous' `URLSafeTimedSerializer`
//! around Flask's tagged JSON):
//!
//! - `payload`: base64url (no padding) of the JSON, or `.` + base64url of the
//!   zlib-compressed JSON when compressing saved more than one byte;
//! - `timestamp`: base64url of a big-endian unsigned integer with leading zero bytes
//!   dropped: seconds since 1970, or since 2011-01-01 (1293840000) for cookies
//!   written by itsdangerous before 1.0;
//! - `signature`: base64url of the HMAC over `payload.timestamp`.
//!
//! Starlette's (FastAPI's) `SessionMiddleware` cookies, standard base64 of plain JSON
//! under the same timestamp signer, decode too.
//!
//! [`decode`] reads all of it and never panics: input longer than
//! [`MAX_COOKIE_LEN`] is refused, inflation stops at [`MAX_INFLATED_LEN`] (zip
//! bombs), JSON nesting is limited by serde_json (128 levels), and a malformed
//! timestamp only makes [`DecodedSession::issued_at`] `None`.

use crate::{b64, sensitive, tagged_json};
use flate2::read::ZlibDecoder;
use serde_json::Value;
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Longest cookie [`decode`] accepts. Browsers cap a cookie near 4 KiB; anything far
/// beyond is not a cookie a server sent.
pub const MAX_COOKIE_LEN: usize = 64 * 1024;
/// Most bytes a compressed payload may inflate to.
pub const MAX_INFLATED_LEN: usize = 1024 * 1024;
/// itsdangerous before 1.0 counted seconds from 2011-01-01T00:00:00Z.
pub const LEGACY_EPOCH: u64 = 1_293_840_000;

/// Why a cookie could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("cookie is {len} bytes, more than the {max} a session cookie can be")]
    TooLong { len: usize, max: usize },
    #[error("not a signed itsdangerous value: no `.` before a signature")]
    NoSignature,
    #[error("not a Flask session cookie: no timestamp between payload and signature")]
    NoTimestamp,
    #[error("empty payload")]
    EmptyPayload,
    #[error("payload is not valid base64url")]
    PayloadBase64,
    #[error("compressed payload is not valid zlib data: {0}")]
    Zlib(String),
    #[error("compressed payload inflates to more than {max} bytes")]
    InflatedTooLarge { max: usize },
    #[error("payload is not JSON: {0}")]
    Json(String),
}

/// When the cookie was signed, as its timestamp says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IssuedAt {
    /// The integer stored in the cookie.
    pub raw: u64,
    /// Whether `raw` counts from [`LEGACY_EPOCH`] (itsdangerous < 1.0). Decided by
    /// size: a modern timestamp of any date after 2011-01-01 is at least
    /// 1293840000, a legacy one stays below that until 2052.
    pub legacy_epoch: bool,
}

impl IssuedAt {
    fn from_raw(raw: u64) -> IssuedAt {
        IssuedAt {
            raw,
            legacy_epoch: raw < LEGACY_EPOCH,
        }
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(&self) -> u64 {
        if self.legacy_epoch {
            self.raw.saturating_add(LEGACY_EPOCH)
        } else {
            self.raw
        }
    }

    /// The time as a [`SystemTime`] (`None` if it does not fit in one).
    pub fn system_time(&self) -> Option<SystemTime> {
        UNIX_EPOCH.checked_add(Duration::from_secs(self.unix_seconds()))
    }

    /// RFC 3339 in UTC (`2024-05-01T12:00:00Z`), or the raw number when the time is
    /// too far out to format.
    pub fn to_rfc3339(&self) -> String {
        self.system_time()
            .filter(|t| *t < UNIX_EPOCH + Duration::from_secs(253_402_300_799)) // year 9999
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
            .unwrap_or_else(|| format!("@{}", self.unix_seconds()))
    }
}

/// A decoded (not verified) Flask session.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedSession {
    raw: Value,
    value: Value,
    compressed: bool,
    issued_at: Option<IssuedAt>,
    signature_len: usize,
}

impl DecodedSession {
    /// The session as readable JSON, Flask's type tags resolved
    /// (see [`crate::tagged_json`]).
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The JSON exactly as stored, Flask's type tags included. Signing this again with
    /// the same key and timestamp reproduces the cookie.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The session's top-level keys (empty if the payload is not an object).
    pub fn keys(&self) -> Vec<&str> {
        match &self.value {
            Value::Object(map) => map.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// When the cookie was signed; `None` if the timestamp is malformed.
    pub fn issued_at(&self) -> Option<IssuedAt> {
        self.issued_at
    }

    /// Whether the payload was zlib-compressed (`.`-prefixed).
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// Length in bytes of the decoded signature: 20 for SHA-1 (Flask's default),
    /// 32 for SHA-256, 64 for SHA-512; 0 if it is not valid base64.
    pub fn signature_len(&self) -> usize {
        self.signature_len
    }

    /// Keys whose names mark data that should not be readable in a cookie
    /// (see [`crate::sensitive`] for what counts and what does not).
    pub fn sensitive_keys(&self) -> Vec<sensitive::SensitiveKey> {
        sensitive::find_sensitive(&self.value)
    }
}

/// Splits a signed value into `(message, signature)` at the last `.`: the message is
/// what the HMAC covers. Trims whitespace and surrounding double quotes.
pub(crate) fn split_signed(cookie: &str) -> Option<(&str, &str)> {
    let cookie = cookie.trim();
    let cookie = cookie
        .strip_prefix('"')
        .and_then(|c| c.strip_suffix('"'))
        .unwrap_or(cookie);
    cookie.rsplit_once('.')
}

/// Decodes a Flask session cookie (the `session` cookie's value) without verifying
/// its signature. See the module docs for the format and the limits.
pub fn decode(cookie: &str) -> Result<DecodedSession, DecodeError> {
    if cookie.len() > MAX_COOKIE_LEN {
        return Err(DecodeError::TooLong {
            len: cookie.len(),
            max: MAX_COOKIE_LEN,
        });
    }
    let (message, signature) = split_signed(cookie).ok_or(DecodeError::NoSignature)?;
    let (payload, timestamp) = message.rsplit_once('.').ok_or(DecodeError::NoTimestamp)?;
    let (payload, compressed) = match payload.strip_prefix('.') {
        Some(rest) => (rest, true),
        None => (payload, false),
    };
    if payload.is_empty() {
        return Err(DecodeError::EmptyPayload);
    }
    let bytes =
        b64::decode_urlsafe_lenient(payload.as_bytes()).ok_or(DecodeError::PayloadBase64)?;
    let json = if compressed { inflate(&bytes)? } else { bytes };
    let raw: Value = serde_json::from_slice(&json).map_err(|e| DecodeError::Json(e.to_string()))?;
    let value = tagged_json::untag(&raw);
    Ok(DecodedSession {
        value,
        raw,
        compressed,
        issued_at: parse_timestamp(timestamp),
        signature_len: b64::decode_urlsafe_lenient(signature.as_bytes()).map_or(0, |s| s.len()),
    })
}

fn inflate(data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    ZlibDecoder::new(data)
        .take(MAX_INFLATED_LEN as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Zlib(e.to_string()))?;
    if out.len() > MAX_INFLATED_LEN {
        return Err(DecodeError::InflatedTooLarge {
            max: MAX_INFLATED_LEN,
        });
    }
    Ok(out)
}

/// itsdangerous' `bytes_to_int(base64_decode(ts))`: at most 8 bytes, big-endian.
fn parse_timestamp(text: &str) -> Option<IssuedAt> {
    let bytes = b64::decode_urlsafe_lenient(text.as_bytes())?;
    if bytes.len() > 8 {
        return None;
    }
    let raw = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    Some(IssuedAt::from_raw(raw))
}

/// itsdangerous' `base64_encode(int_to_bytes(ts))`: big-endian, leading zero bytes
/// dropped (so 0 encodes as the empty string).
pub(crate) fn encode_timestamp(timestamp: u64) -> String {
    let bytes = timestamp.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    b64::encode_urlsafe(&bytes[first..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Made by Flask 3.1 with SECRET_KEY="dev" at timestamp 1700000000.
    const PLAIN: &str =
        "eyJyb2xlIjoiYWRtaW4iLCJ1c2VyX2lkIjo0Mn0.ZVPxAA.kKgxJDvKVC3LSmhF0o_BBGA1MVY";

    #[test]
    fn decodes_a_flask_cookie() {
        let s = decode(PLAIN).expect("decodes");
        assert_eq!(s.value(), &json!({"role": "admin", "user_id": 42}));
        assert_eq!(s.keys(), ["role", "user_id"]);
        assert!(!s.compressed());
        assert_eq!(s.signature_len(), 20);
        let t = s.issued_at().expect("timestamp");
        assert_eq!(
            (t.raw, t.legacy_epoch, t.unix_seconds()),
            (1_700_000_000, false, 1_700_000_000)
        );
        assert_eq!(t.to_rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(s.sensitive_keys().len(), 1);
    }

    #[test]
    fn legacy_timestamps_count_from_2011() {
        let t = IssuedAt::from_raw(250_000_000);
        assert!(t.legacy_epoch);
        assert_eq!(t.unix_seconds(), 1_543_840_000);
        assert_eq!(t.to_rfc3339(), "2018-12-03T12:26:40Z");
    }

    #[test]
    fn timestamp_encoding_matches_itsdangerous() {
        assert_eq!(encode_timestamp(1_700_000_000), "ZVPxAA");
        assert_eq!(encode_timestamp(0), "");
        assert_eq!(
            parse_timestamp("ZVPxAA").map(|t| t.raw),
            Some(1_700_000_000)
        );
        assert_eq!(parse_timestamp("").map(|t| t.raw), Some(0));
        assert_eq!(parse_timestamp("AQIDBAUGBwgJ"), None); // 9 bytes
        assert_eq!(encode_timestamp(u64::MAX), "__________8");
    }

    #[test]
    fn malformed_timestamp_still_decodes() {
        let cookie = "eyJhIjoxfQ.AQIDBAUGBwgJ.s";
        let s = decode(cookie).expect("decodes");
        assert_eq!(s.issued_at(), None);
        assert_eq!(s.signature_len(), 0);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        assert_eq!(decode("nodots"), Err(DecodeError::NoSignature));
        assert_eq!(decode("payload.sig"), Err(DecodeError::NoTimestamp));
        assert_eq!(decode("..ts.sig"), Err(DecodeError::EmptyPayload));
        assert_eq!(decode("a.ts.sig"), Err(DecodeError::PayloadBase64));
        assert!(matches!(decode(".eyJh.ts.sig"), Err(DecodeError::Zlib(_))));
        assert!(matches!(decode("eyJh.ts.sig"), Err(DecodeError::Json(_))));
        let long = "a".repeat(MAX_COOKIE_LEN + 1);
        assert!(matches!(decode(&long), Err(DecodeError::TooLong { .. })));
    }

    #[test]
    fn refuses_zip_bombs() {
        let json = format!("[\"{}\"]", "a".repeat(MAX_INFLATED_LEN + 10));
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut enc, json.as_bytes()).expect("compress");
        let compressed = enc.finish().expect("compress");
        let cookie = format!(".{}.ZVPxAA.sig", b64::encode_urlsafe(&compressed));
        assert!(cookie.len() < MAX_COOKIE_LEN);
        assert_eq!(
            decode(&cookie),
            Err(DecodeError::InflatedTooLarge {
                max: MAX_INFLATED_LEN
            })
        );
    }

    #[test]
    fn refuses_deep_json_without_overflowing() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let cookie = format!("{}.ZVPxAA.sig", b64::encode_urlsafe(deep.as_bytes()));
        assert!(matches!(decode(&cookie), Err(DecodeError::Json(_))));
    }

    #[test]
    fn tolerates_quotes_and_whitespace() {
        let quoted = format!(" \"{PLAIN}\"\n");
        assert_eq!(
            decode(&quoted).map(|s| s.value().clone()),
            decode(PLAIN).map(|s| s.value().clone())
        );
    }
}
