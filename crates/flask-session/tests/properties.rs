//! Property tests: nothing panics on arbitrary input, and sign → decode → verify
//! round-trips every JSON value.

use flask_session::{
    classify_key, crack, decode, mask_key, sign_at, tagged_json, verify, Cracker, SignerParams,
    Wordlist,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6).prop_map(
                |entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())
            ),
        ]
    })
}

/// Cookies that are almost right: a real cookie with a few bytes changed, cut or
/// repeated, so the fuzzing reaches base64, zlib and JSON parsing.
fn mutated_cookie() -> impl Strategy<Value = String> {
    (
        json_value(),
        any::<bool>(),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        any::<usize>(),
    )
        .prop_map(|(value, big, edits, cut)| {
            let value = if big {
                Value::Array(vec![value; 40])
            } else {
                value
            };
            let cookie = sign_at(&value, b"k", &SignerParams::flask_default(), 1_700_000_000);
            let mut bytes = cookie.into_bytes();
            for (pos, byte) in edits {
                if !bytes.is_empty() {
                    let i = pos % bytes.len();
                    bytes[i] = byte;
                }
            }
            if cut % 3 == 0 && !bytes.is_empty() {
                bytes.truncate(cut % bytes.len());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decode_never_panics_on_arbitrary_text(s in any::<String>()) {
        let _ = decode(&s);
        let _ = verify(&s, b"k", &SignerParams::flask_default());
        let _ = Cracker::new(&s);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = decode(&s);
        let _ = decode(&format!(".{s}.AA.AAAA"));
        let _ = decode(&format!("{s}.AA.AAAA"));
    }

    #[test]
    fn decode_never_panics_on_mutated_cookies(cookie in mutated_cookie()) {
        if let Ok(session) = decode(&cookie) {
            let _ = session.sensitive_keys();
            let _ = session.keys();
            let _ = session.issued_at().map(|t| t.to_rfc3339());
        }
        let _ = crack(&cookie, &["a", "k"], &flask_session::default_params());
    }

    #[test]
    fn sign_decode_verify_round_trip(value in json_value(), key in prop::collection::vec(any::<u8>(), 0..80), ts in any::<u64>()) {
        let params = SignerParams::flask_default();
        let cookie = sign_at(&value, &key, &params, ts);
        let session = decode(&cookie).expect("our own cookie decodes");
        prop_assert_eq!(session.raw(), &value);
        prop_assert_eq!(session.issued_at().map(|t| t.raw), Some(ts));
        prop_assert!(verify(&cookie, &key, &params));
        // (A trailing zero byte would not do: HMAC pads short keys with zeros.)
        let mut other = key.clone();
        other.push(b'x');
        prop_assert!(!verify(&cookie, &other, &params));
    }

    #[test]
    fn untag_never_panics(value in json_value()) {
        let _ = tagged_json::untag(&value);
        let wrapped: Value = serde_json::json!({" t": [value.clone()], " di": {" b__": value}});
        let _ = tagged_json::untag(&wrapped);
    }

    #[test]
    fn mask_never_shows_a_long_key(key in "[a-zA-Z0-9]{7,64}") {
        let masked = mask_key(key.as_bytes());
        prop_assert!(!masked.contains(key.as_str()));
        let suffix = format!("({} chars)", key.len());
        prop_assert!(masked.ends_with(&suffix));
    }

    #[test]
    fn mask_never_panics(key in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = mask_key(&key);
    }

    #[test]
    fn wordlist_lines_never_hold_newlines(text in prop::collection::vec(any::<u8>(), 0..512)) {
        let list = Wordlist::from_bytes(text.clone());
        prop_assert!(list.len() <= text.iter().filter(|&&b| b == b'\n').count() + 1);
        for key in list.iter() {
            prop_assert!(!key.is_empty());
            prop_assert!(!key.contains(&b'\n'));
        }
    }

    #[test]
    fn classify_never_panics(name in any::<String>()) {
        let _ = classify_key(&name);
    }
}
