//! INP001: a body declared JSON must parse, or the client gets a JSON 400 instead
//! of the HTML error page Flask's `request.get_json()` would raise.
//!
//! Checked only when the `Content-Type` is `application/json` or `*/*+json` and a
//! body is present; the body is buffered once (bounded by the body limit) through
//! [`Flow::NeedBody`] and validated without building a value, by the grammar
//! Python's `json.loads` accepts (what the app will parse): RFC 8259 plus `NaN`,
//! `Infinity` and `-Infinity`, any `\uXXXX` escape (lone surrogates too), numbers
//! of any size, after an optional UTF-8 byte order mark; nesting of any depth
//! (Python's recursion limit is the app's business, not a syntax error).
//! A body shield cannot read as the app would is passed on unchecked: one with a
//! `Content-Encoding` (the app may decompress it) or in UTF-16/UTF-32 (which
//! `json.loads` detects).

use http::{header, request, HeaderMap, StatusCode};

use crate::{
    config::{ConfigError, JsonBodySettings},
    context::{BodyView, Context},
    layer::{Flow, RequestLayer},
    reply::Rejection,
    route::RouteSet,
};

pub const CONTROL: &str = "INP001";

/// The INP001 layer.
#[derive(Debug, Clone)]
pub struct JsonBodyCheck {
    exempt: RouteSet,
    limit: usize,
}

impl JsonBodyCheck {
    pub fn new(cfg: &JsonBodySettings, max_body: u64) -> Result<JsonBodyCheck, ConfigError> {
        let exempt = RouteSet::new(&cfg.exempt_routes).map_err(|(i, m)| {
            ConfigError::new(format!("shield.json_body.exempt_routes[{i}]"), m)
        })?;
        Ok(JsonBodyCheck {
            exempt,
            limit: usize::try_from(max_body).unwrap_or(usize::MAX),
        })
    }
}

/// Whether the request says its body is JSON.
pub fn declares_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json")
        || mime.len() > 5
            && mime
                .get(mime.len() - 5..)
                .is_some_and(|s| s.eq_ignore_ascii_case("+json"))
}

/// Whether the request carries a body (chunked, or a length above 0).
pub fn has_body(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}

impl RequestLayer for JsonBodyCheck {
    fn name(&self) -> &'static str {
        "json_body"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        if !declares_json(&head.headers) || !has_body(&head.headers) {
            return Flow::Continue;
        }
        if !self.exempt.is_empty() && self.exempt.matches(&head.method, head.uri.path()) {
            return Flow::Continue;
        }
        if head
            .headers
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"))
        {
            return Flow::Continue;
        }
        match &cx.body {
            BodyView::NotRead => Flow::NeedBody { limit: self.limit },
            // The pipeline answers 413 for a body over the limit.
            BodyView::TooLarge => Flow::Continue,
            BodyView::Buffered(b) => match validate(b) {
                Ok(()) => Flow::Continue,
                Err(e) => Flow::Reject(Rejection::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("the request body is not valid JSON: {e}"),
                    CONTROL,
                    format!("unparsable JSON body ({} bytes): {e}", b.len()),
                )),
            },
        }
    }
}

/// Why a body is not JSON, and where.
#[derive(Debug, PartialEq, Eq)]
pub struct JsonError {
    pub at: usize,
    pub what: &'static str,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

/// Whether `json.loads` would accept these bytes (see the module doc). Iterative:
/// nesting depth costs one byte of stack per level, never the call stack.
pub fn validate(body: &[u8]) -> Result<(), JsonError> {
    let err = |at: usize, what: &'static str| Err(JsonError { at, what });
    // UTF-16/32 (a BOM, or a NUL in the first bytes: JSON text starts with ASCII):
    // decoded by json.loads, not checked here.
    if body.starts_with(&[0xfe, 0xff])
        || body.starts_with(&[0xff, 0xfe])
        || body.iter().take(4).any(|b| *b == 0)
    {
        return Ok(());
    }
    let start = if body.starts_with(&[0xef, 0xbb, 0xbf]) {
        3
    } else {
        0
    };
    if let Err(e) = std::str::from_utf8(&body[start..]) {
        return err(start + e.valid_up_to(), "invalid UTF-8");
    }
    let b = &body[start..];
    let at = |i: usize| start + i;
    let ws = |i: &mut usize| {
        while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    };
    // Open containers: b'{' or b'['.
    let mut stack: Vec<u8> = Vec::new();
    let mut i = 0;
    ws(&mut i);
    'value: loop {
        // A value at b[i].
        if i >= b.len() {
            return err(at(i), "expected a value");
        }
        match b[i] {
            b'{' | b'[' => {
                let open = b[i];
                i += 1;
                ws(&mut i);
                let close = if open == b'{' { b'}' } else { b']' };
                if i < b.len() && b[i] == close {
                    i += 1;
                } else {
                    stack.push(open);
                    if open == b'{' {
                        i = key(b, i).map_err(|(j, w)| JsonError { at: at(j), what: w })?;
                    }
                    continue 'value;
                }
            }
            b'"' => i = string(b, i).map_err(|(j, w)| JsonError { at: at(j), what: w })?,
            b't' if b[i..].starts_with(b"true") => i += 4,
            b'f' if b[i..].starts_with(b"false") => i += 5,
            b'n' if b[i..].starts_with(b"null") => i += 4,
            b'N' if b[i..].starts_with(b"NaN") => i += 3,
            b'I' if b[i..].starts_with(b"Infinity") => i += 8,
            b'-' if b[i..].starts_with(b"-Infinity") => i += 9,
            b'-' | b'0'..=b'9' => {
                i = number(b, i).map_err(|(j, w)| JsonError { at: at(j), what: w })?
            }
            _ => return err(at(i), "expected a value"),
        }
        // After a value: close containers or go on to the next item.
        loop {
            ws(&mut i);
            let Some(&open) = stack.last() else {
                return if i == b.len() {
                    Ok(())
                } else {
                    err(at(i), "extra data after the value")
                };
            };
            let close = if open == b'{' { b'}' } else { b']' };
            match b.get(i) {
                Some(&c) if c == close => {
                    stack.pop();
                    i += 1;
                }
                Some(b',') => {
                    i += 1;
                    ws(&mut i);
                    if open == b'{' {
                        i = key(b, i).map_err(|(j, w)| JsonError { at: at(j), what: w })?;
                    }
                    continue 'value;
                }
                Some(_) => return err(at(i), "expected `,` or a closing bracket"),
                None => return err(at(i), "unexpected end of the body"),
            }
        }
    }
}

/// An object key and its colon at `i` (after whitespace): the index of the value.
fn key(b: &[u8], i: usize) -> Result<usize, (usize, &'static str)> {
    if b.get(i) != Some(&b'"') {
        return Err((i, "expected a property name in double quotes"));
    }
    let mut i = string(b, i)?;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    if b.get(i) != Some(&b':') {
        return Err((i, "expected `:`"));
    }
    i += 1;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    Ok(i)
}

/// A string starting at the quote `b[i]`: the index after its closing quote.
fn string(b: &[u8], mut i: usize) -> Result<usize, (usize, &'static str)> {
    i += 1;
    loop {
        match b.get(i) {
            None => return Err((i, "unterminated string")),
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    let hex = b.get(i + 2..i + 6).ok_or((i, "bad \\u escape"))?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err((i, "bad \\u escape"));
                    }
                    i += 6;
                }
                _ => return Err((i, "bad escape")),
            },
            Some(c) if *c < 0x20 => return Err((i, "control character in a string")),
            Some(_) => i += 1,
        }
    }
}

/// A number at `b[i]`: the index after it.
fn number(b: &[u8], mut i: usize) -> Result<usize, (usize, &'static str)> {
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    if b[i] == b'-' {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return Err((i, "bad number")),
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return Err((i, "bad number"));
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return Err((i, "bad number"));
        }
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::Method;

    use super::*;

    fn check(
        l: &JsonBodyCheck,
        method: &str,
        path: &str,
        ct: &str,
        body: &'static [u8],
    ) -> Option<u16> {
        let (mut head, _) = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .header("content-length", body.len().to_string())
            .body(())
            .unwrap()
            .into_parts();
        let mut cx = Context::for_test(Method::POST);
        loop {
            match l.check(&mut head, &mut cx) {
                Flow::Continue => return None,
                Flow::Reject(r) => return Some(r.status.as_u16()),
                Flow::NeedBody { .. } => cx.body = BodyView::Buffered(Bytes::from_static(body)),
                Flow::Wait(_) => panic!("json_body does not wait"),
            }
        }
    }

    #[test]
    fn rejects_bad_json_unless_exempt() {
        let l = JsonBodyCheck::new(
            &JsonBodySettings {
                enabled: true,
                exempt_routes: vec!["POST /hooks/{id}".into()],
            },
            1000,
        )
        .unwrap();
        assert_eq!(
            check(&l, "POST", "/orders", "application/json", b"{\"a\": "),
            Some(400)
        );
        assert_eq!(
            check(
                &l,
                "POST",
                "/orders",
                "application/json; charset=utf-8",
                b"{\"a\": [1, 2]}"
            ),
            None
        );
        assert_eq!(
            check(&l, "POST", "/orders", "application/vnd.api+json", b"nope"),
            Some(400)
        );
        assert_eq!(check(&l, "POST", "/orders", "text/plain", b"nope"), None);
        assert_eq!(
            check(&l, "POST", "/hooks/7", "application/json", b"nope"),
            None
        );
        assert_eq!(check(&l, "PUT", "/orders", "application/json", b""), None);
    }

    /// What Python's `json.loads` accepts (checked against CPython 3.11: each `ok`
    /// but the last three parses, each `bad` raises `ValueError`).
    #[test]
    fn the_grammar_python_accepts() {
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let ok: &[&[u8]] = &[
            b"{}",
            b" [ ] ",
            b"0",
            b"-0.5e+10",
            b"1E400",
            b"123456789012345678901234567890",
            b"\"x\"",
            b"\"\\ud800 lone surrogate\"",
            b"{\"a\": NaN, \"b\": [Infinity, -Infinity], \"c\": null}",
            b"\xef\xbb\xbf{\"bom\": true}",
            b"{\"a\": 1, \"a\": 2}",
            b"{\"k\": \"caf\xc3\xa9\", \"e\": \"\\n\\t\\/\\u00e9\"}",
            b"\t\r\n{\"nested\": {\"x\": [1, {\"y\": []}]}}\n",
            // Deeper than Python's recursion limit: not a syntax error.
            deep.as_bytes(),
            // UTF-16 (and what looks like it) is json.loads' to decode: passed on.
            b"\xff\xfe{\x00}\x00",
            b"{\x00\"\x00",
        ];
        for body in ok {
            assert_eq!(
                validate(body),
                Ok(()),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        let bad: &[&[u8]] = &[
            b"",
            b"   ",
            b"{",
            b"[1,]",
            b"{\"a\": 1,}",
            b"{'a': 1}",
            b"{a: 1}",
            b"[01]",
            b"[1.]",
            b"[.5]",
            b"[+1]",
            b"[1e]",
            b"nan",
            b"[True]",
            b"\"tab\there\"",
            b"\"bad \\x escape\"",
            b"\"\\u12\"",
            b"\"unterminated",
            b"{} {}",
            b"[1] x",
            b"// comment\n{}",
            b"{\"a\" 1}",
            b"\xc3\x28",
            b"[1 2]",
        ];
        for body in bad {
            assert!(
                validate(body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            validate(b"{\"a\": [1, 2,]}"),
            Err(JsonError {
                at: 12,
                what: "expected a value"
            })
        );
    }

    #[test]
    fn compressed_bodies_pass_unchecked() {
        let l = JsonBodyCheck::new(&JsonBodySettings::default(), 1000).unwrap();
        let (mut head, _) = http::Request::builder()
            .method("POST")
            .uri("/")
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .header("content-length", "10")
            .body(())
            .unwrap()
            .into_parts();
        let mut cx = Context::for_test(Method::POST);
        assert!(matches!(l.check(&mut head, &mut cx), Flow::Continue));
    }
}
