//! `Vary`: responses that depend on request headers must say so, or a cache serves
//! one origin's answer to another. Tokens are merged into the existing field
//! (upstream's included) without duplicates; `Vary: *` is left alone.

use http::{header, HeaderMap, HeaderValue};

/// Adds `tokens` to the response's `Vary`.
pub fn add(headers: &mut HeaderMap, tokens: &[&str]) {
    let mut present: Vec<String> = Vec::new();
    for v in headers.get_all(header::VARY).iter() {
        let Ok(s) = v.to_str() else { continue };
        for t in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if t == "*" {
                return;
            }
            if !present.iter().any(|p| p.eq_ignore_ascii_case(t)) {
                present.push(t.to_string());
            }
        }
    }
    let before = present.len();
    for t in tokens {
        if !present.iter().any(|p| p.eq_ignore_ascii_case(t)) {
            present.push((*t).to_string());
        }
    }
    if present.len() == before && headers.get_all(header::VARY).iter().count() <= 1 {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(&present.join(", ")) {
        headers.insert(header::VARY, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_without_duplicates() {
        let mut h = HeaderMap::new();
        add(&mut h, &["Origin"]);
        assert_eq!(h.get(header::VARY).unwrap(), "Origin");
        h.insert(
            header::VARY,
            HeaderValue::from_static("Accept-Encoding, origin"),
        );
        add(&mut h, &["Origin", "Access-Control-Request-Method"]);
        assert_eq!(
            h.get(header::VARY).unwrap(),
            "Accept-Encoding, origin, Access-Control-Request-Method"
        );
        h.insert(header::VARY, HeaderValue::from_static("*"));
        add(&mut h, &["Origin"]);
        assert_eq!(h.get(header::VARY).unwrap(), "*");
    }
}
