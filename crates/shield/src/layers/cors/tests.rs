use http::{Method, Request, Response};

use super::*;
use crate::config::{CorsRouteSettings, Dur, StringList};
use crate::{
    context::Context,
    layer::{Flow, RequestLayer, ResponseLayer},
};

fn cors(origins: &[&str], credentials: bool) -> Cors {
    Cors::new(&CorsSettings {
        allow_origins: origins.iter().map(|s| s.to_string()).collect(),
        allow_credentials: credentials,
        ..CorsSettings::default()
    })
    .unwrap()
}

/// Runs the request half, then (unless it answered) the response half on an
/// upstream response that sets its own permissive CORS headers.
fn run(c: &Cors, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, http::HeaderMap) {
    let mut b = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let (mut head, _) = b.body(()).unwrap().into_parts();
    let mut cx = Context::new(
        "127.0.0.1:1".parse().unwrap(),
        false,
        head.method.clone(),
        head.uri.clone(),
    );
    let resp = match c.request_layer().check(&mut head, &mut cx) {
        Flow::Continue => {
            let mut r = Response::new(());
            let h = r.headers_mut();
            h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
            h.insert(
                "access-control-allow-credentials",
                HeaderValue::from_static("true"),
            );
            h.insert("set-cookie", HeaderValue::from_static("session=x"));
            h.insert("vary", HeaderValue::from_static("Accept-Encoding"));
            r
        }
        Flow::Reject(rej) => {
            let mut r = Response::new(());
            *r.status_mut() = rej.status;
            for (k, v) in rej.headers {
                r.headers_mut().append(k, v);
            }
            r
        }
        _ => panic!("cors neither waits nor reads bodies"),
    };
    let (mut rh, _) = resp.into_parts();
    c.response_layer().apply(&mut rh, &mut cx);
    (rh.status.as_u16(), rh.headers)
}

fn get<'a>(h: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn simple_requests_matrix() {
    let c = cors(&["https://app.example.com", "https://*.example.com"], true);
    for (origin, allowed) in [
        ("https://app.example.com", true),
        ("https://eu.example.com", true),
        ("https://evil.example", false),
        ("null", false),
        ("https://example.com.evil.test", false),
        ("https://app.example.com.evil.test", false),
        ("https://evilapp.example.com.", false),
        ("http://app.example.com", false),
    ] {
        let (status, h) = run(&c, "GET", "/api/orders", &[("origin", origin)]);
        assert_eq!(status, 200);
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            allowed.then_some(origin),
            "{origin}"
        );
        assert_eq!(
            get(&h, "access-control-allow-credentials"),
            allowed.then_some("true"),
            "{origin}"
        );
        // The upstream's own headers never survive; Vary is merged.
        assert_eq!(get(&h, "vary"), Some("Accept-Encoding, Origin"), "{origin}");
        if allowed {
            assert!(get(&h, "access-control-expose-headers")
                .unwrap()
                .contains("RateLimit"));
        }
    }
    // No Origin: no CORS headers, still Vary (a cache must not reuse it for an origin).
    let (_, h) = run(&c, "GET", "/api/orders", &[]);
    assert!(get(&h, "access-control-allow-origin").is_none());
    assert_eq!(get(&h, "vary"), Some("Accept-Encoding, Origin"));
}

#[test]
fn preflights_are_answered_at_the_edge() {
    let c = cors(&["https://app.example.com"], true);
    let pre = |origin: &str, method: &str, headers: &str| {
        let mut h = vec![
            ("origin", origin),
            ("access-control-request-method", method),
        ];
        if !headers.is_empty() {
            h.push(("access-control-request-headers", headers));
        }
        run(&c, "OPTIONS", "/api/orders/7", &h)
    };
    let (status, h) = pre(
        "https://app.example.com",
        "DELETE",
        "content-type, authorization",
    );
    assert_eq!(status, 204);
    assert_eq!(
        get(&h, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(
        get(&h, "access-control-allow-methods"),
        Some("GET, HEAD, POST, PUT, PATCH, DELETE")
    );
    assert_eq!(get(&h, "access-control-max-age"), Some("600"));
    assert!(get(&h, "vary")
        .unwrap()
        .contains("Access-Control-Request-Headers"));
    assert_eq!(pre("https://evil.example", "DELETE", "").0, 403);
    assert_eq!(pre("null", "POST", "").0, 403);
    assert_eq!(pre("https://app.example.com", "TRACE", "").0, 403);
    assert_eq!(pre("https://app.example.com", "POST", "x-secret").0, 403);
    // An OPTIONS without Access-Control-Request-Method is not a preflight.
    assert_eq!(
        run(&c, "OPTIONS", "/", &[("origin", "https://app.example.com")]).0,
        200
    );
}

#[test]
fn nothing_configured_means_no_cross_origin_access() {
    let c = cors(&[], false);
    let (status, h) = run(&c, "GET", "/", &[("origin", "https://app.example.com")]);
    assert_eq!(status, 200);
    assert!(get(&h, "access-control-allow-origin").is_none());
    assert!(
        get(&h, "access-control-allow-credentials").is_none(),
        "upstream's removed"
    );
    let (status, _) = run(
        &c,
        "OPTIONS",
        "/",
        &[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "POST"),
        ],
    );
    assert_eq!(status, 403);
}

#[test]
fn public_routes_may_use_star_without_cookies() {
    let c = Cors::new(&CorsSettings {
        allow_origins: vec!["https://app.example.com".into()],
        allow_credentials: true,
        routes: vec![CorsRouteSettings {
            routes: StringList::of(&["GET /public/{*rest}"]),
            allow_origins: Some(vec!["*".into()]),
            allow_credentials: Some(false),
            cookies: Some(false),
            max_age: Some(Dur::from_secs(60)),
            ..CorsRouteSettings::default()
        }],
        ..CorsSettings::default()
    })
    .unwrap();
    let (_, h) = run(
        &c,
        "GET",
        "/public/stats",
        &[("origin", "https://anyone.test"), ("cookie", "session=x")],
    );
    assert_eq!(get(&h, "access-control-allow-origin"), Some("*"));
    assert!(get(&h, "access-control-allow-credentials").is_none());
    assert!(
        h.get("set-cookie").is_none(),
        "cookies stripped on a public route"
    );
    // The preflight for that route is matched with the method it asks for.
    let (status, h) = run(
        &c,
        "OPTIONS",
        "/public/stats",
        &[
            ("origin", "https://anyone.test"),
            ("access-control-request-method", "GET"),
        ],
    );
    assert_eq!(
        (status, get(&h, "access-control-max-age")),
        (204, Some("60"))
    );
    // Other routes keep the allow-list.
    let (_, h) = run(
        &c,
        "GET",
        "/api/orders",
        &[("origin", "https://anyone.test")],
    );
    assert!(get(&h, "access-control-allow-origin").is_none());
}

#[test]
fn dangerous_configs_are_refused_naming_the_key() {
    let err = |s: CorsSettings| Cors::new(&s).unwrap_err().key;
    assert_eq!(
        err(CorsSettings {
            allow_origins: vec!["*".into()],
            ..CorsSettings::default()
        }),
        "shield.cors.allow_origins"
    );
    assert_eq!(
        err(CorsSettings {
            allow_origins: vec!["https://a.test".into(), "null".into()],
            ..CorsSettings::default()
        }),
        "shield.cors.allow_origins[1]"
    );
    assert_eq!(
        err(CorsSettings {
            allow_origins: vec!["https://a.test".into()],
            allow_headers: vec!["*".into()],
            allow_credentials: true,
            ..CorsSettings::default()
        }),
        "shield.cors.allow_headers"
    );
    let route = |r: CorsRouteSettings| CorsSettings {
        routes: vec![r],
        ..CorsSettings::default()
    };
    // `*` on a route that sees cookies.
    assert_eq!(
        err(route(CorsRouteSettings {
            routes: StringList::of(&["/p"]),
            allow_origins: Some(vec!["*".into()]),
            ..CorsRouteSettings::default()
        })),
        "shield.cors.routes[0].allow_origins"
    );
    // `*` with credentials, even on a public route.
    assert_eq!(
        err(route(CorsRouteSettings {
            routes: StringList::of(&["/p"]),
            allow_origins: Some(vec!["*".into()]),
            allow_credentials: Some(true),
            cookies: Some(false),
            ..CorsRouteSettings::default()
        })),
        "shield.cors.routes[0].allow_origins"
    );
    assert_eq!(
        err(CorsSettings {
            max_age: Dur::from_secs(90_000),
            ..CorsSettings::default()
        }),
        "shield.cors.max_age"
    );
    assert_eq!(
        err(route(CorsRouteSettings {
            routes: StringList::of(&["bad"]),
            ..CorsRouteSettings::default()
        })),
        "shield.cors.routes[0].routes[0]"
    );
    let _ = Method::GET;
}
