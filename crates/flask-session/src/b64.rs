//! Base64 the way itsdangerous and Flask read and write it.
//!
//! itsdangerous encodes URL-safe base64 without padding. Its decoder is lenient: it
//! drops non-ASCII characters, re-adds the padding, and hands the result to Python's
//! non-validating `base64.urlsafe_b64decode`, which skips characters outside the
//! alphabet and ignores leftover bits. Mirroring that keeps us from rejecting a cookie
//! that Flask itself would accept.

use base64::{
    alphabet,
    engine::{
        general_purpose::URL_SAFE_NO_PAD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig,
    },
    Engine,
};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_allow_trailing_bits(true)
    .with_decode_padding_mode(DecodePaddingMode::RequireNone);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// URL-safe base64 without padding (itsdangerous' `base64_encode`).
pub(crate) fn encode_urlsafe(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Standard base64 with padding (Python's `b64encode`, used by the `" b"` tag).
pub(crate) fn encode_standard(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// itsdangerous' `base64_decode`: URL-safe alphabet (the standard `+` `/` are
/// accepted too, as Python's decoder translates `-_` to `+/` first), any other
/// character skipped, padding optional. `None` when the data characters cannot form
/// base64 (one more than a multiple of four).
pub(crate) fn decode_urlsafe_lenient(text: &[u8]) -> Option<Vec<u8>> {
    let filtered: Vec<u8> = text
        .iter()
        .filter_map(|&c| match c {
            b'-' => Some(b'+'),
            b'_' => Some(b'/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => Some(c),
            _ => None,
        })
        .collect();
    decode_filtered(&filtered)
}

/// Python's non-validating `b64decode` (standard alphabet), used by Flask's `" b"` tag.
pub(crate) fn decode_standard_lenient(text: &[u8]) -> Option<Vec<u8>> {
    let filtered: Vec<u8> = text
        .iter()
        .copied()
        .filter(|c| matches!(c, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/'))
        .collect();
    decode_filtered(&filtered)
}

fn decode_filtered(filtered: &[u8]) -> Option<Vec<u8>> {
    if filtered.len() % 4 == 1 {
        return None;
    }
    STANDARD_LENIENT.decode(filtered).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_without_padding() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"\xff\xfe\xfd\x00"] {
            let text = encode_urlsafe(data);
            assert!(!text.contains('='));
            assert_eq!(
                decode_urlsafe_lenient(text.as_bytes()).as_deref(),
                Some(data)
            );
        }
    }

    #[test]
    fn lenient_like_python() {
        // padding present, junk characters, standard alphabet
        assert_eq!(
            decode_urlsafe_lenient(b"YWJj").as_deref(),
            Some(&b"abc"[..])
        );
        assert_eq!(
            decode_urlsafe_lenient(b"YW=Jj").as_deref(),
            Some(&b"abc"[..])
        );
        assert_eq!(
            decode_urlsafe_lenient(b"Y W\xc3\xa9Jj").as_deref(),
            Some(&b"abc"[..])
        );
        assert_eq!(
            decode_urlsafe_lenient(b"-_8").as_deref(),
            decode_urlsafe_lenient(b"+/8").as_deref()
        );
        // trailing bits are ignored, as binascii does
        assert_eq!(decode_urlsafe_lenient(b"YR").as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn rejects_impossible_lengths() {
        assert_eq!(decode_urlsafe_lenient(b"abcde"), None);
        assert_eq!(decode_standard_lenient(b"a"), None);
    }

    #[test]
    fn standard_skips_urlsafe_characters() {
        assert_eq!(
            decode_standard_lenient(b"YWJj-_").as_deref(),
            Some(&b"abc"[..])
        );
        assert_eq!(encode_standard(b"\xfb\xff"), "+/8=");
    }
}
