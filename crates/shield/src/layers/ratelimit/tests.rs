//! The layer with memory storage, driven like the pipeline drives it.

use bytes::Bytes;
use http::{Method, Request};

use super::*;
use crate::config::{RuleSettings, StringList};

fn layer(rules: Vec<RuleSettings>) -> RateLimit {
    let s = RateLimitSettings {
        global_limit: StringList::of(&["100 per minute"]),
        rules,
        ..RateLimitSettings::default()
    };
    RateLimit::new(&s, Arc::new(MemoryStore::new(10_000)), 1).unwrap()
}

/// Runs the layer on one request (reading the body when asked): the status it
/// answers with (200 for "go on") and the headers it wants on the response.
fn send(
    l: &RateLimit,
    method: &str,
    path: &str,
    ip: &str,
    body: &[u8],
) -> (u16, Vec<(String, String)>) {
    let (mut head, _) = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(())
        .unwrap()
        .into_parts();
    let mut cx = Context::new(
        format!("{ip}:1").parse().unwrap(),
        false,
        Method::POST,
        path.parse().unwrap(),
    );
    loop {
        match l.check(&mut head, &mut cx) {
            Flow::Continue => {
                let h = cx
                    .response_headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                    .collect();
                return (200, h);
            }
            Flow::Reject(r) => {
                let h = r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                    .collect();
                return (r.status.as_u16(), h);
            }
            Flow::NeedBody { limit } => {
                assert_eq!(limit, 64 * 1024);
                cx.body = BodyView::Buffered(Bytes::copy_from_slice(body));
            }
            Flow::Wait(_) => panic!("memory storage decides synchronously"),
        }
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn per_ip_and_per_account_counters_are_separate() {
    let l = layer(vec![RuleSettings {
        name: Some("login".into()),
        routes: StringList::of(&["POST /login"]),
        limit: StringList::of(&["3 per minute"]),
        keys: StringList::of(&["ip", "json:email"]),
        cost: None,
    }]);
    // One IP, three accounts: the third passes, the fourth hits the IP counter.
    for email in ["a@x", "b@x", "c@x"] {
        let body = format!(r#"{{"email":"{email}"}}"#);
        assert_eq!(
            send(&l, "POST", "/login", "10.0.0.1", body.as_bytes()).0,
            200,
            "{email}"
        );
    }
    let (status, h) = send(&l, "POST", "/login", "10.0.0.1", br#"{"email":"d@x"}"#);
    assert_eq!(status, 429);
    assert!(header(&h, "retry-after").is_some());
    assert!(
        header(&h, "ratelimit")
            .unwrap()
            .contains("\"login.ip\";r=0"),
        "{h:?}"
    );
    // Other IPs on account a@x: two more pass (it has 2 left), then its counter refuses.
    assert_eq!(
        send(&l, "POST", "/login", "10.0.0.2", br#"{"email":"A@X"}"#).0,
        200
    );
    assert_eq!(
        send(&l, "POST", "/login", "10.0.0.3", br#"{"email":"a@x"}"#).0,
        200
    );
    let (status, h) = send(&l, "POST", "/login", "10.0.0.4", br#"{"email":"a@x"}"#);
    assert_eq!(status, 429);
    assert!(
        header(&h, "ratelimit")
            .unwrap()
            .contains("\"login.json.email\";r=0"),
        "{h:?}"
    );
    // No e-mail at all: only the IP counters apply.
    assert_eq!(send(&l, "POST", "/login", "10.0.0.5", br#"{}"#).0, 200);
}

#[test]
fn allowed_responses_carry_the_fields() {
    let l = layer(Vec::new());
    let (status, h) = send(&l, "GET", "/api/orders", "10.0.0.9", b"");
    assert_eq!(status, 200);
    assert_eq!(
        header(&h, "ratelimit-policy"),
        Some("\"global\";q=100;w=60")
    );
    assert_eq!(header(&h, "ratelimit"), Some("\"global\";r=99;t=1"));
}

#[test]
fn settings_are_validated() {
    let memory = || Arc::new(MemoryStore::new(10_000));
    let bad = |s: RateLimitSettings| RateLimit::new(&s, memory(), 1).unwrap_err().key;
    assert_eq!(
        bad(RateLimitSettings {
            storage: "memcached://x".into(),
            ..RateLimitSettings::default()
        }),
        "shield.rate_limit.storage"
    );
    assert_eq!(
        bad(RateLimitSettings {
            body_limit: 10,
            ..RateLimitSettings::default()
        }),
        "shield.rate_limit.body_limit"
    );
    assert_eq!(
        bad(RateLimitSettings {
            key_prefix: "a{b}".into(),
            ..RateLimitSettings::default()
        }),
        "shield.rate_limit.key_prefix"
    );
    assert!(RateLimit::new(
        &RateLimitSettings {
            storage: "redis://127.0.0.1:1/0".into(),
            ..RateLimitSettings::default()
        },
        memory(),
        2
    )
    .unwrap()
    .shared());
}
