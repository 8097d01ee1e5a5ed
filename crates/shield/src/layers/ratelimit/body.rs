//! Account identifiers in the request body, for `json:`, `form:` and `body:` keys:
//! the buffered body parsed at most once per request for all keys that read it
//! (JSON or `application/x-www-form-urlencoded`, by Content-Type), and the field
//! values trimmed and case-folded.

use http::{header, request};
use serde_json::Value;

use crate::context::{BodyView, Context};

/// The body, parsed at most once per request for all keys that read it.
#[derive(Default)]
pub struct BodyCache {
    parsed: Option<Parsed>,
}

pub(super) enum Parsed {
    Json(Value),
    Form(Vec<(String, String)>),
    /// Read but neither JSON nor a form.
    Other,
    /// Over the read limit.
    TooLarge,
    /// Not read (no rule asked for it).
    Absent,
}

fn is_json(ct: &str) -> bool {
    let ct = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ct == "application/json" || ct.ends_with("+json")
}

fn is_form(ct: &str) -> bool {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

impl BodyCache {
    pub(super) fn get(&mut self, head: &request::Parts, cx: &Context) -> &Parsed {
        self.parsed.get_or_insert_with(|| {
            let ct = head
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match &cx.body {
                BodyView::NotRead => Parsed::Absent,
                BodyView::TooLarge => Parsed::TooLarge,
                BodyView::Buffered(b) if is_json(ct) => serde_json::from_slice(b)
                    .map(Parsed::Json)
                    .unwrap_or(Parsed::Other),
                BodyView::Buffered(b) if is_form(ct) => Parsed::Form(
                    form_urlencoded::parse(b)
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect(),
                ),
                BodyView::Buffered(_) => Parsed::Other,
            }
        })
    }
}

/// Account identifiers compare trimmed and case-folded.
pub(super) fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

pub(super) fn json_field(v: &Value, path: &[String]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p.as_str())?;
    }
    match cur {
        Value::String(s) if !s.trim().is_empty() => Some(fold(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn form_field(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| fold(v))
}

/// The marker value of "body too large to read": one shared counter.
pub(super) const TOO_LARGE: &str = "\u{0}body-too-large";

pub(super) fn body_value(p: &Parsed, f: impl Fn(&Parsed) -> Option<String>) -> Option<String> {
    match p {
        Parsed::TooLarge => Some(TOO_LARGE.to_string()),
        Parsed::Absent | Parsed::Other => None,
        other => f(other),
    }
}

pub(super) fn push(out: &mut Vec<u8>, v: Option<String>) -> bool {
    match v {
        Some(v) => {
            out.extend_from_slice(v.as_bytes());
            true
        }
        None => false,
    }
}
