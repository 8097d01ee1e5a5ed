//! INP005: path traversal never reaches the app.
//!
//! Rejects a path with a `..` segment, also percent-encoded once or twice
//! (`%2e%2e`, `%252e%252e`), encoded slashes or backslashes (`%2f`, `%5c`, which a
//! WSGI server decodes into separators), raw backslashes and NUL bytes. With
//! `allow_encoded_slash`, `%2f` passes unless it makes a `..` segment.

use http::{request, StatusCode};
use percent_encoding::percent_decode;

use crate::{
    context::Context,
    layer::{Flow, RequestLayer},
    reply::Rejection,
};

pub const CONTROL: &str = "INP005";

/// The INP005 layer.
#[derive(Debug, Clone, Default)]
pub struct TraversalGuard {
    pub allow_encoded_slash: bool,
}

/// Why a path is refused, or None.
pub fn inspect(path: &str, allow_encoded_slash: bool) -> Option<&'static str> {
    let raw = path.as_bytes();
    if raw.contains(&b'\\') {
        return Some("backslash in path");
    }
    if has_dotdot(raw) {
        return Some("`..` segment");
    }
    if !raw.contains(&b'%') {
        return None;
    }
    // Decode up to twice: `%252e` is `%2e` after one pass, `.` after two.
    let mut current: Vec<u8> = raw.to_vec();
    for _ in 0..2 {
        let lower = current.to_ascii_lowercase();
        if !allow_encoded_slash && contains(&lower, b"%2f") {
            return Some("encoded slash in path");
        }
        if contains(&lower, b"%5c") {
            return Some("encoded backslash in path");
        }
        if contains(&lower, b"%00") {
            return Some("encoded NUL in path");
        }
        let decoded: Vec<u8> = percent_decode(&current).collect();
        if decoded.contains(&b'\\') || decoded.contains(&0) {
            return Some("encoded backslash or NUL in path");
        }
        if has_dotdot(&decoded) {
            return Some("encoded `..` segment");
        }
        if decoded == current {
            break;
        }
        current = decoded;
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

fn has_dotdot(path: &[u8]) -> bool {
    path.split(|b| *b == b'/').any(|seg| seg == b"..")
}

impl RequestLayer for TraversalGuard {
    fn name(&self) -> &'static str {
        "traversal"
    }

    fn check(&self, head: &mut request::Parts, _cx: &mut Context) -> Flow {
        match inspect(head.uri.path(), self.allow_encoded_slash) {
            None => Flow::Continue,
            Some(why) => Flow::Reject(Rejection::new(
                StatusCode::BAD_REQUEST,
                "path_traversal",
                "the request path is not allowed",
                CONTROL,
                why,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_encodings() {
        for p in [
            "/files/../etc/passwd",
            "/files/..",
            "/files/%2e%2e/etc/passwd",
            "/files/%2E%2E/x",
            "/files/.%2e/x",
            "/files/%252e%252e/x",
            "/files/..%2fetc",
            "/files/a%2Fb",
            "/files/a%5cb",
            "/files/a\\b",
            "/files/a%00.txt",
        ] {
            assert!(inspect(p, false).is_some(), "{p}");
        }
        for p in [
            "/",
            "/orders/1",
            "/files/a..b",
            "/files/...",
            "/q%20x",
            "/a.b/c",
        ] {
            assert!(inspect(p, false).is_none(), "{p}");
        }
    }

    #[test]
    fn encoded_slashes_when_allowed() {
        for p in [
            "/files/docs%2Freport.pdf",
            "/packages/%40scope%2Fname",
            "/a%252Fb",
        ] {
            assert!(inspect(p, false).is_some(), "{p}");
            assert!(inspect(p, true).is_none(), "{p}");
        }
        for p in [
            "/files/..%2fetc",
            "/files/%2e%2e%2Fetc",
            "/files/a%2F..%2Fetc",
            "/files/a%252F..%252Fetc",
            "/files/a%5cb",
        ] {
            assert!(inspect(p, true).is_some(), "{p}");
        }
    }
}
