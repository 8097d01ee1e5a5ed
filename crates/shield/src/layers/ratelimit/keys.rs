//! What identifies a counter: the client, an API key, a cookie, a field of the
//! body or the query string, or a combination.
//!
//! ```text
//! ip                        the client address (after trusted proxies, PRX001);
//!                           IPv6 clients by their /64 network
//! header:X-Api-Key          a request header's value
//! cookie:session            a cookie's value
//! query:email               a query-string parameter
//! json:email  json:user.email   a field of a JSON body (dotted path)
//! form:email                a field of an application/x-www-form-urlencoded body
//! body:email|username       a field of either, by Content-Type; the first present
//! ip+json:email             parts joined into ONE counter (per IP-and-account pair)
//! ```
//!
//! A rule lists keys; each key is its own counter, so `["ip", "json:email"]` limits
//! per IP *and* per account (one IP rotating accounts hits the IP counter, many IPs
//! on one account hit the account counter). A combined key such as
//! `"ip+json:email"` would do neither: use it only when that is what you mean.
//!
//! A key whose value is missing (no such header, field or cookie) skips its
//! counter for that request; the other keys still count. A body that is longer
//! than `body_limit` is not read: its body keys all share one counter named for
//! that case, so padding a login request does not escape the per-account limit.
//!
//! Values from the body and the query string are account identifiers: they are
//! trimmed and case-folded (`Alice@Example.com ` and `alice@example.com` share a
//! counter). Headers and cookies are compared as sent. Only a SHA-256 digest of a
//! value is stored or sent to Redis, and no value is ever logged.

use std::net::IpAddr;

use http::{header, request, HeaderName};
use sha2::{Digest, Sha256};

pub use super::body::BodyCache;
use super::body::{body_value, fold, form_field, json_field, push, Parsed};
use crate::context::Context;

/// Where one part of a key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Ip,
    Header(HeaderName),
    Cookie(String),
    Query(String),
    Json(Vec<String>),
    Form(String),
    /// JSON or form by Content-Type; alternatives tried in order.
    Body(Vec<String>),
}

impl Part {
    fn needs_body(&self) -> bool {
        matches!(self, Part::Json(_) | Part::Form(_) | Part::Body(_))
    }
}

/// One key: one or more parts joined into one counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub parts: Vec<Part>,
    /// For `RateLimit-Policy` names and logs: `ip`, `json.email`, `ip+header.x-api-key`.
    pub label: String,
}

impl KeySpec {
    pub fn parse(text: &str) -> Result<KeySpec, String> {
        let t = text.trim();
        let mut parts = Vec::new();
        let mut labels = Vec::new();
        for raw in t.split('+') {
            let raw = raw.trim();
            let (kind, arg) = raw.split_once(':').unwrap_or((raw, ""));
            let arg = arg.trim();
            let need_arg = |what: &str| -> Result<(), String> {
                if arg.is_empty() {
                    Err(format!("`{raw}`: write `{kind}:NAME` (which {what})"))
                } else {
                    Ok(())
                }
            };
            let part = match kind.trim().to_ascii_lowercase().as_str() {
                "ip" if arg.is_empty() => Part::Ip,
                "header" => {
                    need_arg("header")?;
                    Part::Header(
                        HeaderName::from_bytes(arg.to_ascii_lowercase().as_bytes())
                            .map_err(|_| format!("`{arg}` is not a header name"))?,
                    )
                }
                "cookie" => {
                    need_arg("cookie")?;
                    Part::Cookie(arg.to_string())
                }
                "query" => {
                    need_arg("parameter")?;
                    Part::Query(arg.to_string())
                }
                "json" => {
                    need_arg("field")?;
                    Part::Json(arg.split('.').map(str::to_string).collect())
                }
                "form" => {
                    need_arg("field")?;
                    Part::Form(arg.to_string())
                }
                "body" => {
                    need_arg("field")?;
                    Part::Body(arg.split('|').map(|s| s.trim().to_string()).collect())
                }
                _ => {
                    return Err(format!(
                        "`{raw}` is not a key; use ip, header:NAME, cookie:NAME, query:NAME, json:FIELD, form:FIELD or body:FIELD, joined with + to combine"
                    ))
                }
            };
            if let Part::Json(path) | Part::Body(path) = &part {
                if path.iter().any(|p| p.is_empty()) {
                    return Err(format!("`{raw}`: an empty field name"));
                }
            }
            labels.push(raw.replace(':', ".").to_ascii_lowercase());
            parts.push(part);
        }
        if parts.is_empty() {
            return Err("an empty key".into());
        }
        Ok(KeySpec {
            parts,
            label: labels.join("+"),
        })
    }

    pub fn needs_body(&self) -> bool {
        self.parts.iter().any(Part::needs_body)
    }
}

fn cookie_value<'a>(head: &'a request::Parts, name: &str) -> Option<&'a str> {
    head.headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| k.trim() == name && !v.is_empty())
        .map(|(_, v)| v.trim())
}

fn query_value(head: &request::Parts, name: &str) -> Option<String> {
    let q = head.uri.query()?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| fold(&v))
}

/// An IPv4 address whole; an IPv6 address by its /64 network: one subscriber gets a
/// whole /64 and could otherwise rotate through 2^64 addresses, one counter each.
fn ip_bytes(ip: IpAddr, out: &mut Vec<u8>) {
    match ip {
        IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => {
            out.push(6);
            out.extend_from_slice(&v6.octets()[..8]);
        }
    }
}

impl KeySpec {
    /// Appends this key's value to `out` (parts separated by a NUL); false when a
    /// part is missing (the counter is skipped).
    pub fn value(
        &self,
        head: &request::Parts,
        cx: &Context,
        body: &mut BodyCache,
        out: &mut Vec<u8>,
    ) -> bool {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push(0);
            }
            let found = match part {
                Part::Ip => {
                    ip_bytes(cx.client_ip, out);
                    true
                }
                Part::Header(name) => match head.headers.get(name) {
                    Some(v) if !v.as_bytes().trim_ascii().is_empty() => {
                        out.extend_from_slice(v.as_bytes().trim_ascii());
                        true
                    }
                    _ => false,
                },
                Part::Cookie(name) => cookie_value(head, name)
                    .map(|v| out.extend_from_slice(v.as_bytes()))
                    .is_some(),
                Part::Query(name) => query_value(head, name)
                    .map(|v| out.extend_from_slice(v.as_bytes()))
                    .is_some(),
                Part::Json(path) => push(
                    out,
                    body_value(body.get(head, cx), |p| match p {
                        Parsed::Json(v) => json_field(v, path),
                        _ => None,
                    }),
                ),
                Part::Form(name) => push(
                    out,
                    body_value(body.get(head, cx), |p| match p {
                        Parsed::Form(f) => form_field(f, name),
                        _ => None,
                    }),
                ),
                Part::Body(names) => push(
                    out,
                    body_value(body.get(head, cx), |p| match p {
                        Parsed::Json(v) => names
                            .iter()
                            .find_map(|n| json_field(v, std::slice::from_ref(n))),
                        Parsed::Form(f) => names.iter().find_map(|n| form_field(f, n)),
                        _ => None,
                    }),
                ),
            };
            if !found {
                return false;
            }
        }
        true
    }
}

/// A counter's identity: SHA-256 over the counter (rule, key, limit) and the
/// value, truncated to 128 bits. Stable across instances and restarts.
pub fn counter_id(counter: &[u8], value: &[u8]) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(b"flaskguard-rl-v1\0");
    h.update((counter.len() as u32).to_be_bytes());
    h.update(counter);
    h.update(value);
    let d = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::Method;

    use super::*;
    use crate::context::BodyView;

    fn req(headers: &[(&str, &str)], uri: &str) -> request::Parts {
        let mut b = http::Request::builder().method("POST").uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn cx(ip: &str, body: Option<&'static [u8]>) -> Context {
        let mut c = Context::new(
            format!("{ip}:1").parse().unwrap(),
            false,
            Method::POST,
            "/".parse().unwrap(),
        );
        if let Some(b) = body {
            c.body = BodyView::Buffered(Bytes::from_static(b));
        }
        c
    }

    fn value(spec: &str, head: &request::Parts, c: &Context) -> Option<Vec<u8>> {
        let k = KeySpec::parse(spec).unwrap();
        let mut out = Vec::new();
        k.value(head, c, &mut BodyCache::default(), &mut out)
            .then_some(out)
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(KeySpec::parse("ip").unwrap().parts, [Part::Ip]);
        let k = KeySpec::parse("ip + header:X-Api-Key").unwrap();
        assert_eq!(k.label, "ip+header.x-api-key");
        assert_eq!(k.parts.len(), 2);
        assert!(KeySpec::parse("json:user.email").unwrap().needs_body());
        assert_eq!(
            KeySpec::parse("body:email|username").unwrap().parts,
            [Part::Body(vec!["email".into(), "username".into()])]
        );
        for bad in ["", "mac", "header:", "json:a..b", "header:bad name", "ip:x"] {
            assert!(KeySpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn account_fields_are_folded() {
        let h = req(&[("content-type", "application/json")], "/login");
        let a = value(
            "json:email",
            &h,
            &cx("1.2.3.4", Some(br#"{"email":" Alice@Example.COM "}"#)),
        );
        let b = value(
            "json:email",
            &h,
            &cx("1.2.3.4", Some(br#"{"email":"alice@example.com"}"#)),
        );
        assert_eq!(a, b);
        assert_eq!(a.unwrap(), b"alice@example.com");
        let f = req(
            &[("content-type", "application/x-www-form-urlencoded")],
            "/login",
        );
        let c = value(
            "body:email|username",
            &f,
            &cx("1.2.3.4", Some(b"username=Bob&x=1")),
        );
        assert_eq!(c.unwrap(), b"bob");
        let q = req(&[], "/reset?email=ALICE%40example.com");
        assert_eq!(
            value("query:email", &q, &cx("1.2.3.4", None)).unwrap(),
            b"alice@example.com"
        );
    }

    #[test]
    fn missing_parts_skip_the_counter() {
        let h = req(&[("content-type", "application/json")], "/login");
        let c = cx("1.2.3.4", Some(br#"{"password":"x"}"#));
        assert!(value("json:email", &h, &c).is_none());
        assert!(value("ip+json:email", &h, &c).is_none());
        assert!(value("header:x-api-key", &h, &c).is_none());
        assert!(value("ip", &h, &c).is_some());
        // Not JSON at all: missing, not an error.
        let t = req(&[("content-type", "text/plain")], "/login");
        assert!(value("body:email", &t, &cx("1.2.3.4", Some(b"email=x"))).is_none());
    }

    #[test]
    fn an_unread_large_body_shares_one_counter() {
        let h = req(&[("content-type", "application/json")], "/login");
        let mut c = cx("1.2.3.4", None);
        c.body = BodyView::TooLarge;
        let v = value("json:email", &h, &c).unwrap();
        assert_eq!(v, super::super::body::TOO_LARGE.as_bytes());
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let h = req(&[], "/");
        let a = value("ip", &h, &cx("[2001:db8:1:2::1]", None));
        let b = value("ip", &h, &cx("[2001:db8:1:2:ffff::9]", None));
        let c = value("ip", &h, &cx("[2001:db8:1:3::1]", None));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn headers_cookies_and_combinations() {
        let h = req(
            &[("x-api-key", "K-123"), ("cookie", "a=1; session=abc; b=2")],
            "/",
        );
        let c = cx("10.0.0.1", None);
        assert_eq!(value("header:X-API-KEY", &h, &c).unwrap(), b"K-123");
        assert_eq!(value("cookie:session", &h, &c).unwrap(), b"abc");
        let both = value("ip+header:x-api-key", &h, &c).unwrap();
        assert_eq!(both, [&[10, 0, 0, 1][..], b"\0K-123"].concat());
        let other_ip = value("ip+header:x-api-key", &h, &cx("10.0.0.2", None)).unwrap();
        assert_ne!(counter_id(b"r", &both), counter_id(b"r", &other_ip));
    }
}
