//! CORS and CSRF at the edge, in front of examples/orders-weak on gunicorn, whose
//! flask-cors reflects every origin (`null` included) with credentials (COR002)
//! and which has no CSRF protection although it authenticates by cookie (CSR001).

mod support;

use shield::config::{CorsRouteSettings, CsrfMode, StringList};
use support::{settings_for, TestShield};
use testkit::{http_request, Gunicorn, RawResponse};

const APP: &str = "https://app.example.com";

fn start(app: &Gunicorn, mode: CsrfMode) -> TestShield {
    let mut s = settings_for(&app.url());
    s.allowed_hosts = vec!["shop.example.com".into()];
    s.cors.allow_origins = vec![APP.into(), "https://*.partner.example".into()];
    s.cors.allow_credentials = true;
    s.cors.routes = vec![CorsRouteSettings {
        routes: StringList::of(&["GET /api/"]),
        allow_origins: Some(vec!["*".into()]),
        allow_credentials: Some(false),
        cookies: Some(false),
        ..CorsRouteSettings::default()
    }];
    s.csrf.mode = mode;
    s.csrf.bypass_routes = vec!["POST /api/orders/{id}/cancel".into()];
    // The tests send many requests from one client.
    s.rate_limit.enabled = false;
    TestShield::start(s)
}

fn send(shield: &TestShield, method: &str, path: &str, headers: &[(&str, &str)]) -> RawResponse {
    let mut h = vec![("Host", "shop.example.com")];
    h.extend_from_slice(headers);
    let body: &[u8] = if method == "POST" || method == "PUT" {
        br#"{"customer": "Eve", "item": "forged"}"#
    } else {
        b""
    };
    if !body.is_empty() {
        h.push(("Content-Type", "application/json"));
    }
    http_request(shield.addr, method, path, &h, body).unwrap()
}

fn orders_weak(dir: &std::path::Path) -> Option<Gunicorn> {
    Gunicorn::start(
        "orders-weak",
        &[
            ("WEB_CONCURRENCY", "2"),
            ("ORDERS_DB", dir.join("orders.db").to_str().unwrap()),
        ],
    )
}

#[test]
fn cors_matrix_over_a_permissive_app() {
    let dir = tempfile::tempdir().unwrap();
    let Some(app) = orders_weak(dir.path()) else {
        return;
    };
    // Without shield, the app reflects anything with credentials.
    let direct = http_request(
        app.addr,
        "GET",
        "/api/orders",
        &[("Origin", "https://evil.example")],
        b"",
    )
    .unwrap();
    assert_eq!(
        direct.header("access-control-allow-origin"),
        Some("https://evil.example")
    );
    let shield = start(&app, CsrfMode::Enforce);

    // Simple requests: only allowed origins are answered, never reflected otherwise.
    for (origin, allowed) in [
        (APP, true),
        ("https://eu.partner.example", true),
        ("https://evil.example", false),
        ("null", false),
        ("https://app.example.com.evil.test", false), // suffix bypass
        ("https://evil-app.example.com", false),      // prefix bypass
        ("https://partner.example.evil.test", false),
        ("https://evilpartner.example", false),
        ("http://app.example.com", false), // scheme
    ] {
        let r = send(&shield, "GET", "/api/orders", &[("Origin", origin)]);
        assert_eq!(r.status, 200, "{origin}");
        assert_eq!(
            r.header("access-control-allow-origin"),
            allowed.then_some(origin),
            "{origin}"
        );
        assert_eq!(
            r.header("access-control-allow-credentials"),
            allowed.then_some("true"),
            "{origin}"
        );
        assert!(
            r.headers_all("vary").iter().any(|v| v.contains("Origin")),
            "{origin}: Vary"
        );
    }

    // Preflights are answered by shield; the app never sees them.
    let pre = |origin: &str, method: &str, headers: &str| {
        let mut h = vec![
            ("Origin", origin),
            ("Access-Control-Request-Method", method),
        ];
        if !headers.is_empty() {
            h.push(("Access-Control-Request-Headers", headers));
        }
        send(&shield, "OPTIONS", "/api/orders/1", &h)
    };
    let ok = pre(APP, "PUT", "Content-Type");
    assert_eq!(ok.status, 204);
    assert_eq!(ok.header("access-control-allow-origin"), Some(APP));
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert!(ok
        .header("access-control-allow-methods")
        .unwrap()
        .contains("PUT"));
    assert_eq!(ok.header("access-control-max-age"), Some("600"));
    assert!(ok.body.is_empty());
    for (origin, method, headers) in [
        ("https://evil.example", "PUT", ""),
        ("null", "POST", ""),
        ("https://app.example.com.evil.test", "DELETE", ""),
        (APP, "PROPFIND", ""),
        (APP, "POST", "X-Admin-Override"),
    ] {
        let r = pre(origin, method, headers);
        assert_eq!(r.status, 403, "{origin} {method} {headers}");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert!(v["error"]["code"].as_str().unwrap().starts_with("cors_"));
        assert!(r.header("access-control-allow-origin").is_none());
    }
    assert!(shield.wait_audit("not in the allow-list").is_some());

    // The public route: `*`, no credentials, and no cookies either way.
    let r = send(
        &shield,
        "GET",
        "/api/",
        &[("Origin", "https://anyone.test"), ("Cookie", "session=x")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r.header("access-control-allow-credentials").is_none());
    assert!(
        r.header("set-cookie").is_none(),
        "the guest session cookie was stripped"
    );
    // Elsewhere the app's guest cookie still flows.
    let r = send(&shield, "GET", "/api/orders", &[]);
    assert!(r.header("set-cookie").is_some());
}

#[test]
fn csrf_matrix_and_log_only_rollout() {
    let dir = tempfile::tempdir().unwrap();
    let Some(app) = orders_weak(dir.path()) else {
        return;
    };
    let shield = start(&app, CsrfMode::Enforce);
    let post = |headers: &[(&str, &str)]| send(&shield, "POST", "/api/orders", headers).status;
    // Same origin, or typed by the user: allowed.
    assert_eq!(
        post(&[
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", "http://shop.example.com")
        ]),
        201
    );
    assert_eq!(post(&[("Sec-Fetch-Site", "none")]), 201);
    // Non-browser clients: no Sec-Fetch-Site, no Origin.
    assert_eq!(post(&[]), 201);
    // Old browsers: no Sec-Fetch-Site, Origin equal to the host.
    assert_eq!(post(&[("Origin", "http://shop.example.com")]), 201);
    // Same-site (a sibling subdomain) and cross-site: refused.
    let r = send(
        &shield,
        "POST",
        "/api/orders",
        &[
            ("Sec-Fetch-Site", "same-site"),
            ("Origin", "https://blog.example.com"),
        ],
    );
    assert_eq!(r.status, 403);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["code"], "cross_origin_request");
    assert!(r.header("vary").unwrap().contains("Sec-Fetch-Site"));
    assert_eq!(
        post(&[
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.example")
        ]),
        403
    );
    assert_eq!(
        send(
            &shield,
            "DELETE",
            "/api/orders/2",
            &[("Sec-Fetch-Site", "cross-site")]
        )
        .status,
        403
    );
    assert_eq!(
        send(
            &shield,
            "PUT",
            "/api/orders/2",
            &[("Origin", "https://evil.example")]
        )
        .status,
        403
    );
    // A trusted origin (the CORS allow-list, patterns included) may write.
    assert_eq!(
        post(&[("Sec-Fetch-Site", "cross-site"), ("Origin", APP)]),
        201
    );
    assert_eq!(
        post(&[
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://eu.partner.example")
        ]),
        201
    );
    // GET is never affected; the bypass route is not checked.
    assert_eq!(
        send(
            &shield,
            "GET",
            "/api/orders",
            &[("Sec-Fetch-Site", "cross-site")]
        )
        .status,
        200
    );
    assert_eq!(
        send(
            &shield,
            "POST",
            "/api/orders/1/cancel",
            &[
                ("Sec-Fetch-Site", "cross-site"),
                ("Origin", "https://evil.example")
            ]
        )
        .status,
        200
    );
    let line = shield.wait_audit("\"CSR001\"").expect("audit line");
    assert_eq!(line["status"], 403);
    drop(shield);

    // log_only: the same cross-site POST goes through and is logged.
    let shield = start(&app, CsrfMode::LogOnly);
    let r = send(
        &shield,
        "POST",
        "/api/orders",
        &[
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.example"),
        ],
    );
    assert_eq!(r.status, 201);
    let line = shield.wait_audit("\"log_only\"").expect("log_only line");
    assert_eq!(line["control"], "CSR001");
}
