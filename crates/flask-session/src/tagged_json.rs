//! Flask's tagged JSON (`flask.json.tag.TaggedJSONSerializer`), both ways.
//!
//! Flask stores Python types that JSON lacks as one-key objects whose key is a tag:
//!
//! | tag    | Python type            | wire value                          | readable value here                     |
//! |--------|------------------------|-------------------------------------|-----------------------------------------|
//! | `" t"` | `tuple`                | list                                | array                                   |
//! | `" b"` | `bytes`                | standard base64                     | UTF-8 text, or text with `\xNN` escapes |
//! | `" m"` | `Markup`               | string                              | string                                  |
//! | `" u"` | `uuid.UUID`            | 32 hex digits                       | `8-4-4-4-12` hyphenated lower case      |
//! | `" d"` | `datetime`             | HTTP date (`Wed, 21 Oct 2015 ...`)  | RFC 3339 (`2015-10-21T07:28:00Z`)       |
//! | `" di"`| dict whose one key is a tag | `{" di": {"<tag>__": value}}`  | `{"<tag>": value}`                      |
//!
//! [`untag`] turns the wire JSON into a readable [`Value`] for reports: children
//! first, then the object itself, like Flask's `_untag_scan`. Where Flask would raise
//! (bad base64 in `" b"`, a malformed UUID or date), the tagged object is kept as it
//! is instead, so a report still shows what the cookie holds. The `tag_*`
//! constructors build wire values for [`crate::sign`].

use crate::b64;
use serde_json::{Map, Value};
use std::fmt::Write;
use std::time::SystemTime;

/// The deepest nesting [`untag`] descends into. serde_json refuses documents nested
/// deeper than 128 anyway; this keeps `untag` safe on values built by other means.
pub const MAX_DEPTH: usize = 128;

/// Flask's registered tag keys.
pub const TAGS: [&str; 6] = [" di", " t", " b", " m", " u", " d"];

/// Converts Flask's wire JSON into a readable value (see the module docs). Values
/// nested deeper than [`MAX_DEPTH`] are returned as they are.
pub fn untag(value: &Value) -> Value {
    untag_at(value, 0)
}

fn untag_at(value: &Value, depth: usize) -> Value {
    if depth >= MAX_DEPTH {
        return value.clone();
    }
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| untag_at(v, depth + 1)).collect()),
        Value::Object(map) => {
            let children: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), untag_at(v, depth + 1)))
                .collect();
            untag_object(children)
        }
        other => other.clone(),
    }
}

fn untag_object(map: Map<String, Value>) -> Value {
    if map.len() != 1 {
        return Value::Object(map);
    }
    let Some((tag, inner)) = map.iter().next() else {
        return Value::Object(map);
    };
    let readable = match (tag.as_str(), inner) {
        (" t", Value::Array(items)) => Some(Value::Array(items.clone())),
        (" m", Value::String(s)) => Some(Value::String(s.clone())),
        (" b", Value::String(s)) => {
            b64::decode_standard_lenient(s.as_bytes()).map(|b| Value::String(readable_bytes(&b)))
        }
        (" u", Value::String(s)) => parse_uuid(s).map(Value::String),
        (" d", Value::String(s)) => httpdate::parse_http_date(s.trim())
            .ok()
            .map(|t| Value::String(humantime::format_rfc3339_seconds(t).to_string())),
        (" di", Value::Object(inner)) if inner.len() == 1 => inner.iter().next().map(|(key, v)| {
            // Flask strips the last two characters (the `__` it appended).
            let mut stripped = key.clone();
            stripped.pop();
            stripped.pop();
            let mut one = Map::new();
            one.insert(stripped, v.clone());
            Value::Object(one)
        }),
        _ => None,
    };
    readable.unwrap_or(Value::Object(map))
}

/// Bytes as text: UTF-8 when valid, otherwise printable ASCII with every other byte
/// as `\xNN` (and `\` as `\\`), as Python's `repr` shows bytes.
pub fn readable_bytes(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b' '..=b'~' => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// `uuid.UUID(value)` accepts 32 hex digits, optionally with hyphens, braces and a
/// `urn:uuid:` prefix. Returns the canonical hyphenated form.
fn parse_uuid(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let trimmed = trimmed.strip_prefix("urn:uuid:").unwrap_or(trimmed);
    let hex: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '{' | '}' | '-'))
        .collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

fn tagged(tag: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(tag.to_owned(), value);
    Value::Object(map)
}

/// A Python `tuple` on the wire: `{" t": [...]}`.
pub fn tag_tuple(items: Vec<Value>) -> Value {
    tagged(" t", Value::Array(items))
}

/// Python `bytes` on the wire: `{" b": "<standard base64>"}`.
pub fn tag_bytes(bytes: &[u8]) -> Value {
    tagged(" b", Value::String(b64::encode_standard(bytes)))
}

/// A `markupsafe.Markup` string on the wire: `{" m": "..."}`.
pub fn tag_markup(html: &str) -> Value {
    tagged(" m", Value::String(html.to_owned()))
}

/// A `uuid.UUID` on the wire: `{" u": "<32 hex digits>"}`.
pub fn tag_uuid(uuid: u128) -> Value {
    tagged(" u", Value::String(format!("{uuid:032x}")))
}

/// A `datetime` on the wire: `{" d": "<HTTP date>"}` (whole seconds, GMT), as
/// Werkzeug's `http_date` writes it.
pub fn tag_datetime(time: SystemTime) -> Value {
    tagged(" d", Value::String(httpdate::fmt_http_date(time)))
}

/// A dict whose only key is one of Flask's tags, escaped as Flask does:
/// `{" di": {"<key>__": value}}`. Other dicts need no escaping.
pub fn tag_dict_with_tag_key(key: &str, value: Value) -> Value {
    let mut inner = Map::new();
    inner.insert(format!("{key}__"), value);
    tagged(" di", Value::Object(inner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn untags_every_flask_tag() {
        let wire = json!({
            "t": {" t": [1, {" b": "aGk="}]},
            "b": {" b": "/wA="},
            "m": {" m": "<b>x</b>"},
            "u": {" u": "12345678123456781234567812345678"},
            "d": {" d": "Wed, 21 Oct 2015 07:28:00 GMT"},
            "di": {" di": {" t__": {" u": "00000000000000000000000000000001"}}},
        });
        assert_eq!(
            untag(&wire),
            json!({
                "t": [1, "hi"],
                "b": "\\xff\\x00",
                "m": "<b>x</b>",
                "u": "12345678-1234-5678-1234-567812345678",
                "d": "2015-10-21T07:28:00Z",
                "di": {" t": "00000000-0000-0000-0000-000000000001"},
            })
        );
    }

    #[test]
    fn keeps_malformed_or_unknown_tags() {
        for wire in [
            json!({" u": "not-a-uuid"}),
            json!({" d": "yesterday"}),
            json!({" b": "a"}),
            json!({" t": "not a list"}),
            json!({" x": 1}),
            json!({" t": [1], "other": 2}),
            json!({" di": {"a__": 1, "b__": 2}}),
        ] {
            assert_eq!(untag(&wire), wire);
        }
    }

    #[test]
    fn tag_constructors_round_trip() {
        let t = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let wire = json!([
            tag_tuple(vec![json!(1), json!("a")]),
            tag_bytes(b"hi"),
            tag_markup("<i>"),
            tag_uuid(1),
            tag_datetime(t),
            tag_dict_with_tag_key(" m", json!(2)),
        ]);
        assert_eq!(wire[4], json!({" d": "Wed, 21 Oct 2015 07:28:00 GMT"}));
        assert_eq!(
            untag(&wire),
            json!([[1, "a"], "hi", "<i>", "00000000-0000-0000-0000-000000000001", "2015-10-21T07:28:00Z", {" m": 2}])
        );
    }

    #[test]
    fn depth_is_capped() {
        let mut v = json!({" t": [1]});
        for _ in 0..(MAX_DEPTH + 10) {
            v = json!([v]);
        }
        // Must not recurse without bound; deep content is returned unchanged.
        let out = untag(&v);
        assert!(out.is_array());
        let mut deep = &v;
        for _ in 0..(MAX_DEPTH + 10) {
            deep = &deep[0];
        }
        assert_eq!(deep, &json!({" t": [1]}));
    }

    #[test]
    fn readable_bytes_escapes_binary() {
        assert_eq!(readable_bytes(b"plain"), "plain");
        assert_eq!(readable_bytes(b"a\\\xff\n"), "a\\\\\\xff\\x0a");
    }
}
