//! shield in front of a real upstream (the echo server): every layer, through real
//! sockets on 127.0.0.1.

mod support;

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use support::{echo::Echo, settings_for, TestShield};
use testkit::{http_get, http_request};

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[test]
fn security_headers_and_stripped_server() {
    let echo = Echo::start();
    let s = TestShield::start(settings_for(&echo.url()));
    let r = http_get(s.addr, "/anything", &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        r.header("referrer-policy"),
        Some("strict-origin-when-cross-origin")
    );
    assert!(r
        .header("permissions-policy")
        .unwrap()
        .contains("camera=()"));
    assert_eq!(r.header("cross-origin-opener-policy"), Some("same-origin"));
    assert!(
        r.header("server").is_none(),
        "Server leaked: {:?}",
        r.header("server")
    );
    assert!(r.header("x-powered-by").is_none());
    assert!(
        r.header("strict-transport-security").is_none(),
        "HSTS over plain HTTP"
    );
    assert_eq!(r.header("x-request-id").map(str::len), Some(16));
}

#[test]
fn spoofed_forwarded_for_is_not_believed_but_a_trusted_hop_is() {
    let echo = Echo::start();
    // Untrusted: nobody is a proxy.
    let s = TestShield::start(settings_for(&echo.url()));
    let r = http_get(
        s.addr,
        "/headers",
        &[
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Forwarded-Proto", "https"),
            ("Forwarded", "for=6.6.6.6"),
        ],
    )
    .unwrap();
    let h = json(&r.body);
    assert_eq!(h["x-forwarded-for"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(h["x-forwarded-proto"], serde_json::json!(["http"]));
    assert!(h.get("forwarded").is_none());
    let line = s
        .wait_audit("\"PRX001\"")
        .expect("audit line for the spoof");
    assert_eq!(line["action"], "strip");

    // One trusted hop (the test client plays the proxy on 127.0.0.1).
    let mut cfg = settings_for(&echo.url());
    cfg.trusted_proxies = shield::config::TrustedProxies::Cidrs(vec!["127.0.0.1/32".into()]);
    let t = TestShield::start(cfg);
    let r = http_get(
        t.addr,
        "/headers",
        &[
            ("X-Forwarded-For", "6.6.6.6, 198.51.100.7"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "api.example.com"),
        ],
    )
    .unwrap();
    let h = json(&r.body);
    assert_eq!(h["x-forwarded-for"], serde_json::json!(["198.51.100.7"]));
    assert_eq!(h["x-forwarded-proto"], serde_json::json!(["https"]));
    assert_eq!(
        h["x-forwarded-host"],
        serde_json::json!(["api.example.com"])
    );
    // The trusted proxy said https: HSTS applies.
    assert!(r.header("strict-transport-security").is_some());
    // And a trusted `http` is redirected to HTTPS on the same host.
    let r = http_get(
        t.addr,
        "/orders?x=1",
        &[
            ("X-Forwarded-For", "198.51.100.7"),
            ("X-Forwarded-Proto", "http"),
            ("Host", "api.example.com"),
        ],
    )
    .unwrap();
    assert_eq!(r.status, 308);
    assert_eq!(
        r.header("location"),
        Some("https://api.example.com/orders?x=1")
    );
}

/// method, path, headers, body, expected status, expected error code
type Case<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Vec<u8>,
    u16,
    &'a str,
);

#[test]
fn hosts_methods_paths_traversal_limits_json() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.allowed_hosts = vec!["api.example.com".into()];
    cfg.limits.max_body_bytes = 1000;
    cfg.json_body.exempt_routes = vec!["POST /hooks/{id}".into()];
    let s = TestShield::start(cfg);
    let host = [("Host", "api.example.com:8080")];
    let before = echo.hits();
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/",
            vec![("Host", "evil.example")],
            vec![],
            400,
            "host_not_allowed",
        ),
        (
            "TRACE",
            "/",
            host.to_vec(),
            vec![],
            405,
            "method_not_allowed",
        ),
        ("GET", "/console", host.to_vec(), vec![], 404, "not_found"),
        (
            "GET",
            "/orders?__debugger__=yes&cmd=resource&f=debugger.js",
            host.to_vec(),
            vec![],
            404,
            "not_found",
        ),
        (
            "GET",
            "/_debug_toolbar/static/css/toolbar.css",
            host.to_vec(),
            vec![],
            404,
            "not_found",
        ),
        ("GET", "/.env", host.to_vec(), vec![], 404, "not_found"),
        (
            "GET",
            "/.git/config",
            host.to_vec(),
            vec![],
            404,
            "not_found",
        ),
        (
            "GET",
            "/files/..%2f..%2fetc/passwd",
            host.to_vec(),
            vec![],
            400,
            "path_traversal",
        ),
        (
            "GET",
            "/files/%2e%2e/%2e%2e/etc/passwd",
            host.to_vec(),
            vec![],
            400,
            "path_traversal",
        ),
        (
            "POST",
            "/orders",
            host.to_vec(),
            vec![b'x'; 1001],
            413,
            "payload_too_large",
        ),
        (
            "POST",
            "/orders",
            [host[0], ("Content-Type", "application/json")].to_vec(),
            b"{\"qty\": ".to_vec(),
            400,
            "invalid_json",
        ),
    ];
    for (method, path, headers, body, status, code) in cases {
        let r = http_request(s.addr, method, path, &headers, &body).unwrap();
        assert_eq!(r.status, status, "{method} {path}: {}", r.text());
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{method} {path}"
        );
        let v = json(&r.body);
        assert_eq!(v["error"]["code"], code, "{method} {path}");
        assert_eq!(v["error"]["status"], status);
        assert_eq!(v["error"]["request_id"].as_str(), r.header("x-request-id"));
        // Shield's own errors carry the security headers too.
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    assert_eq!(
        echo.hits(),
        before,
        "a blocked request reached the upstream"
    );
    let allow = http_request(s.addr, "TRACE", "/", &host, b"").unwrap();
    assert!(allow.header("allow").unwrap().contains("GET"));
    // What passes does reach the app.
    for (method, path, ct, body) in [
        ("POST", "/orders", "application/json", &b"{\"qty\": 2}"[..]),
        (
            "POST",
            "/hooks/7",
            "application/json",
            b"not json, but exempt",
        ),
        ("GET", "/.well-known/security.txt", "text/plain", b""),
        ("POST", "/upload", "application/octet-stream", b"{{{{"),
    ] {
        let r = http_request(s.addr, method, path, &[host[0], ("Content-Type", ct)], body).unwrap();
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text());
    }
    // Each block is an audit line with its control.
    for control in [
        "PRX002", "INP007", "DBG001", "DBG002", "KEY004", "INP005", "INP003", "INP001",
    ] {
        let line = s
            .wait_audit(&format!("\"control\":\"{control}\""))
            .unwrap_or_else(|| panic!("no audit line for {control}:\n{}", s.audit_log()));
        for field in [
            "time",
            "request_id",
            "client",
            "method",
            "path",
            "action",
            "reason",
        ] {
            assert!(
                line.get(field).is_some(),
                "{control} line lacks {field}: {line}"
            );
        }
    }
}

#[test]
fn header_and_uri_limits() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.limits.max_uri_bytes = 1024;
    cfg.limits.max_header_bytes = 4096;
    let s = TestShield::start(cfg);
    let r = http_get(s.addr, &format!("/{}", "a".repeat(2000)), &[]).unwrap();
    assert_eq!(r.status, 414);
    let big = "b".repeat(5000);
    let r = http_get(s.addr, "/", &[("X-Big", &big)]).unwrap();
    assert_eq!(r.status, 431);
    assert_eq!(json(&r.body)["error"]["code"], "headers_too_large");
}

/// A chunked request (no declared length) with `body` in 512-byte chunks, answered
/// before the connection closes.
fn chunked(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> String {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(512) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    raw(addr, &req).0
}

#[test]
fn routes_get_their_own_body_limits() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.limits.max_body_bytes = 1000;
    cfg.limits.routes = vec![
        shield::config::RouteBodyLimit {
            routes: vec!["POST /echo".into()],
            max_body_bytes: Some(100_000),
            request_buffering: None,
        },
        shield::config::RouteBodyLimit {
            routes: vec!["POST /login".into()],
            max_body_bytes: Some(10),
            request_buffering: None,
        },
    ];
    let s = TestShield::start(cfg);
    let body: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = support::echo::sha256_hex(&body);
    // Declared and streamed (chunked) bodies over the global limit pass on the
    // upload route, intact.
    let r = http_request(s.addr, "POST", "/echo", &[], &body).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-body-sha256"), Some(sha.as_str()));
    let head = chunked(s.addr, "POST", "/echo", &body);
    assert!(head.starts_with("HTTP/1.1 200"), "{head:.300}");
    assert!(head.contains(&sha), "{head:.300}");
    // A JSON body larger than the global limit streams on unchecked (the JSON
    // check buffers at most the global limit); a small broken one is still caught.
    let big_json = format!("[{}0]", "1,".repeat(20_000));
    let r = http_request(
        s.addr,
        "POST",
        "/echo",
        &[("Content-Type", "application/json")],
        big_json.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let r = http_request(
        s.addr,
        "POST",
        "/echo",
        &[("Content-Type", "application/json")],
        b"{\"qty\": ",
    )
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    // Over the route's own limit: refused, declared or streamed.
    let over: Vec<u8> = vec![b'x'; 100_001];
    let r = http_request(s.addr, "POST", "/echo", &[], &over).unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("100000 bytes"), "{}", r.text());
    let head = chunked(s.addr, "POST", "/echo", &over);
    assert!(head.starts_with("HTTP/1.1 413"), "{head:.300}");
    // Other routes keep the global limit; a smaller route limit holds too.
    let r = http_request(s.addr, "POST", "/orders", &[], &body[..1001]).unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
    // (A streamed body over the limit is refused by its first chunk when the
    // upstream does not read it, or as soon as it is counted when it does.)
    let head = chunked(s.addr, "POST", "/orders", &body[..1001]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head:.300}");
    let head = chunked(s.addr, "PUT", "/echo", &body[..1200]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head:.300}");
    let r = http_request(s.addr, "POST", "/login", &[], b"01234567890").unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
    let head = chunked(s.addr, "POST", "/login", b"01234567890");
    assert!(head.starts_with("HTTP/1.1 413"), "{head:.300}");
    // Another method on the upload path is not the route: the global limit.
    let r = http_request(s.addr, "PUT", "/echo", &[], &body[..1001]).unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
}

#[test]
fn upstream_errors_are_sanitised() {
    let echo = Echo::start();
    let s = TestShield::start(settings_for(&echo.url()));
    for (path, status, code) in [
        ("/html-500", 500, "internal_error"),
        ("/text-500", 500, "internal_error"),
        ("/html-404", 404, "not_found"),
        // Not a leak, but not JSON either: one error shape for API clients.
        ("/plain-500", 500, "internal_error"),
    ] {
        let r = http_get(s.addr, path, &[]).unwrap();
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        let text = r.text();
        assert!(
            !text.contains("Traceback") && !text.contains("orders.py") && !text.contains("sqlite3"),
            "{path} leaked: {text}"
        );
        let v = json(&r.body);
        assert_eq!(v["error"]["code"], code);
        assert_eq!(v["error"]["request_id"].as_str(), r.header("x-request-id"));
    }
    // The original goes to the audit log only.
    let line = s
        .wait_audit("sqlite3.OperationalError")
        .expect("original logged");
    assert_eq!(line["control"], "ERR003");
    assert_eq!(line["action"], "sanitize");
    // A JSON error of the app's own passes untouched.
    let r = http_get(s.addr, "/json-500", &[]).unwrap();
    assert_eq!(
        (r.status, r.text().as_str()),
        (500, r#"{"error": "database unavailable"}"#)
    );
    let r = http_get(s.addr, "/json-404", &[]).unwrap();
    assert_eq!(r.text(), r#"{"error": "no such order"}"#);
}

/// The nonce in a response's CSP.
fn csp_nonce(r: &testkit::RawResponse) -> String {
    let csp = r.header("content-security-policy").expect("a CSP");
    csp.split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce in CSP")
        .to_string()
}

/// The echo's `/page` came back with the nonce on its `<script>` and `<style>`.
fn assert_tags_carry(page: &str, nonce: &str) {
    for tag in ["script", "style"] {
        assert!(
            page.contains(&format!("<{tag} nonce=\"{nonce}\">")),
            "{page}"
        );
    }
}

#[test]
fn html_preset_nonces_and_generic_pages() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.headers.preset = shield::config::Preset::Html;
    let s = TestShield::start(cfg);
    let r = http_get(s.addr, "/page", &[("Accept-Encoding", "gzip")]).unwrap();
    assert_eq!(r.status, 200);
    let nonce = csp_nonce(&r);
    assert_tags_carry(&r.text(), &nonce);
    let r2 = http_get(s.addr, "/page", &[]).unwrap();
    assert!(
        !r2.header("content-security-policy")
            .unwrap()
            .contains(&nonce),
        "nonce reused"
    );
    // A sanitised error page: a generic page for a browser, JSON for an API
    // client (curl's `*/*`, or no Accept at all).
    let browser = [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    let r = http_get(s.addr, "/html-500", &browser).unwrap();
    assert_eq!(r.status, 500);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(
        r.text().contains("<h1>500 Internal Server Error</h1>"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("Traceback"));
    for accept in [&[("Accept", "*/*")][..], &[]] {
        let r = http_get(s.addr, "/html-500", accept).unwrap();
        assert_eq!(r.status, 500);
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{accept:?}"
        );
        assert_eq!(json(&r.body)["error"]["status"], 500);
        assert!(!r.text().contains("Traceback"));
    }
    // Pages were asked uncompressed (to be rewritten); shield gzips them for a
    // client that accepts it, nonces included.
    let h = json(
        &http_get(s.addr, "/headers", &[("Accept-Encoding", "gzip, br")])
            .unwrap()
            .body,
    );
    assert!(h.get("accept-encoding").is_none(), "{h}");
    let r = http_get(s.addr, "/big-page", &[("Accept-Encoding", "gzip, br")]).unwrap();
    assert_eq!(
        r.header("content-encoding"),
        Some("gzip"),
        "{:?}",
        r.headers
    );
    assert!(r.body.len() < 2000, "{} bytes", r.body.len());
    let mut page = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut page)
        .unwrap();
    let nonce = csp_nonce(&r);
    assert!(
        page.contains(&format!("<script nonce=\"{nonce}\">start()</script>")),
        "{page}"
    );
    assert!(page.len() > 10_000);
    let r = http_get(s.addr, "/big-page", &[]).unwrap();
    assert!(r.header("content-encoding").is_none());
    assert!(r.text().len() > 10_000);
    // Shield's own refusals: a page for a browser, JSON for anything else.
    let r = http_get(
        s.addr,
        "/console",
        &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
    )
    .unwrap();
    assert_eq!(r.status, 404);
    assert!(
        r.header("content-type").unwrap().starts_with("text/html"),
        "{:?}",
        r.headers
    );
    assert!(r.text().contains("<h1>404 Not Found</h1>"), "{}", r.text());
    let r = http_get(s.addr, "/console", &[("Accept", "*/*")]).unwrap();
    assert_eq!(json(&r.body)["error"]["status"], 404);
    // A HEAD answer describes the rewritten GET one: no upstream length.
    let h = http_request(s.addr, "HEAD", "/page", &[], b"").unwrap();
    assert_eq!(h.status, 200);
    assert!(h.header("content-length").is_none(), "{:?}", h.headers);
}

/// `csp_nonce_header`: the app gets the nonce and writes it into its own tags;
/// a script injected into the page (reflected XSS) does not get it, and the
/// request keeps its Accept-Encoding (no rewriting, so compression stays).
#[test]
fn a_route_gets_its_own_csp_with_nonces_under_the_api_preset() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    // The API keeps `default-src 'none'`; one HTML page (an API's docs page)
    // gets a policy of its own, with nonces shield writes into its tags.
    cfg.headers.routes = vec![shield::config::RouteCsp {
        routes: vec!["GET /page".into()],
        content_security_policy:
            "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'".into(),
        csp_nonce: None,
    }];
    let s = TestShield::start(cfg);
    let r = http_get(s.addr, "/page", &[("Accept-Encoding", "gzip")]).unwrap();
    assert_eq!(r.status, 200);
    let nonce = csp_nonce(&r);
    assert_tags_carry(&r.text(), &nonce);
    // The page was asked uncompressed to be rewritten; other routes were not.
    let h = json(
        &http_get(s.addr, "/headers", &[("Accept-Encoding", "gzip")])
            .unwrap()
            .body,
    );
    assert_eq!(h["accept-encoding"], serde_json::json!(["gzip"]), "{h}");
    // Everything else keeps the preset's policy, and HEAD is not the route.
    for (method, path) in [
        ("GET", "/nonce-page"),
        ("GET", "/headers"),
        ("HEAD", "/page"),
    ] {
        let r = http_request(s.addr, method, path, &[], b"").unwrap();
        assert_eq!(
            r.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{method} {path}"
        );
    }
}

#[test]
fn nonce_handed_to_the_app_in_a_header() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.headers.preset = shield::config::Preset::Html;
    cfg.headers.csp_nonce_header = Some("X-CSP-Nonce".into());
    let s = TestShield::start(cfg);
    let r = http_get(
        s.addr,
        "/nonce-page?q=%3Cscript%3Ealert(1)%3C/script%3E",
        &[("X-CSP-Nonce", "chosen-by-the-client")],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let nonce = csp_nonce(&r);
    assert_ne!(nonce, "chosen-by-the-client");
    assert!(nonce.len() >= 22, "{nonce}");
    let page = r.text();
    assert!(
        page.contains(&format!("<script nonce=\"{nonce}\">app()</script>")),
        "{page}"
    );
    assert!(page.contains("<p><script>alert(1)</script></p>"), "{page}");
    let h = json(
        &http_get(s.addr, "/headers", &[("Accept-Encoding", "gzip")])
            .unwrap()
            .body,
    );
    assert_eq!(h["accept-encoding"][0], "gzip");
    assert_eq!(h["x-csp-nonce"].as_array().map(Vec::len), Some(1));
    // JSON responses carry the policy without a nonce.
    let j = http_get(s.addr, "/json-404", &[]).unwrap();
    assert!(!j
        .header("content-security-policy")
        .unwrap()
        .contains("nonce-"));
}

#[test]
fn cookies_are_hardened() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.trusted_proxies = shield::config::TrustedProxies::Hops(1);
    let s = TestShield::start(cfg);
    let r = http_get(
        s.addr,
        "/cookies",
        &[
            ("X-Forwarded-For", "198.51.100.7"),
            ("X-Forwarded-Proto", "https"),
        ],
    )
    .unwrap();
    let cookies = r.headers_all("set-cookie");
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let session = cookies.iter().find(|c| c.starts_with("session=")).unwrap();
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Max-Age=86400"] {
        assert!(session.contains(flag), "{session} lacks {flag}");
    }
    assert!(!session.contains("7776000"));
    let theme = cookies.iter().find(|c| c.starts_with("theme=")).unwrap();
    assert!(
        theme.contains("Secure") && theme.contains("SameSite=Lax") && !theme.contains("HttpOnly"),
        "{theme}"
    );
}

fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (String, bool) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

#[test]
fn request_smuggling_is_refused_and_the_connection_closed() {
    let echo = Echo::start();
    let s = TestShield::start(settings_for(&echo.url()));
    let attempts: [&[u8]; 6] = [
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabcGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ];
    for (i, a) in attempts.iter().enumerate() {
        let (resp, closed) = raw(s.addr, a);
        assert!(resp.starts_with("HTTP/1.1 400"), "attempt {i}: {resp}");
        assert!(closed, "attempt {i}: connection left open");
        assert!(!resp.contains("smuggled"), "attempt {i}");
    }
    assert_eq!(echo.hits(), 0, "a smuggling attempt reached the upstream");
}

#[test]
fn slowloris_is_closed_within_the_header_timeout() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.timeouts.header_read = shield::config::Dur::from_millis(500);
    let s = TestShield::start(cfg);
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let start = std::time::Instant::now();
    c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap();
    // Dribble a header byte now and then; the server must still cut us off.
    let mut closed = false;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        if c.write_all(b"X").is_err() {
            closed = true;
            break;
        }
    }
    let mut buf = [0u8; 512];
    if !closed {
        closed = matches!(c.read(&mut buf), Ok(_) | Err(_));
    }
    let took = start.elapsed();
    assert!(closed);
    // Bounded: well under the 4 s of dribbling (a resource bound, generous for load).
    assert!(
        took < Duration::from_secs(4),
        "slowloris held the connection for {took:?}"
    );
    assert_eq!(echo.hits(), 0);
}

/// Sends `head`, then `pieces` of the body with `pause` before each, then reads
/// until the server closes (or 10 s pass): the response text, whether every piece
/// could be written, and the time from the head to the end of the response.
fn paced_request(
    addr: std::net::SocketAddr,
    head: &str,
    pieces: &[&[u8]],
    pause: Duration,
) -> (String, bool, Duration) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let start = std::time::Instant::now();
    c.write_all(head.as_bytes()).unwrap();
    let mut all_sent = true;
    for p in pieces {
        std::thread::sleep(pause);
        // Stop once the server has answered or closed: writing on would reset the
        // connection and could discard the answer before it is read.
        let mut probe = [0u8; 1];
        c.set_nonblocking(true).unwrap();
        let answered =
            !matches!(c.peek(&mut probe), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock);
        c.set_nonblocking(false).unwrap();
        if answered || c.write_all(p).is_err() {
            all_sent = false;
            break;
        }
    }
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    (
        String::from_utf8_lossy(&out).into_owned(),
        all_sent,
        start.elapsed(),
    )
}

#[test]
fn a_body_that_stalls_or_trickles_is_cut_off_with_408() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.timeouts.body_read = shield::config::Dur::from_millis(800);
    cfg.timeouts.body_min_rate = 1000;
    let s = TestShield::start(cfg);

    // Streamed to the app: 10 of 1,000 declared bytes, then a 1-byte trickle.
    let head = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n";
    let trickle: Vec<&[u8]> = std::iter::once(&b"0123456789"[..])
        .chain(std::iter::repeat_n(&b"x"[..], 40))
        .collect();
    let (resp, _, took) = paced_request(s.addr, head, &trickle, Duration::from_millis(100));
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert!(resp.contains("request_timeout"), "{resp}");
    // Cut off near 0.8 s (+ 1 ms per byte received), long before the 4 s trickle.
    assert!(took < Duration::from_millis(3500), "held for {took:?}");

    // Read by shield itself (a JSON body the INP001 check buffers): same answer.
    let head = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    let (resp, _, took) = paced_request(s.addr, head, &[b"{\"a\": "], Duration::ZERO);
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert!(took < Duration::from_millis(3500), "held for {took:?}");
    assert!(
        s.wait_audit("request body too slow").is_some(),
        "{}",
        s.audit_log()
    );

    // A client that keeps the pace (about 3,300 bytes/s against a floor of 1,000)
    // may take longer than body_read in all: 4,000 bytes over 1.2 s is served whole.
    let body = vec![b'z'; 4000];
    let pieces: Vec<&[u8]> = body.chunks(100).collect();
    let head =
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4000\r\nConnection: close\r\n\r\n";
    let (resp, all_sent, took) = paced_request(s.addr, head, &pieces, Duration::from_millis(30));
    assert!(all_sent, "{resp}");
    assert!(took > Duration::from_millis(800), "{took:?}");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let sha = support::echo::sha256_hex(&body);
    assert!(
        resp.to_ascii_lowercase()
            .contains(&format!("x-body-sha256: {sha}")),
        "{resp}"
    );
}

#[test]
fn upstream_down_is_502_json_at_once() {
    let mut echo = Echo::start();
    let url = echo.url();
    let s = TestShield::start(settings_for(&url));
    assert_eq!(http_get(s.addr, "/", &[]).unwrap().status, 200);
    echo.kill();
    let start = std::time::Instant::now();
    let r = http_get(s.addr, "/", &[]).unwrap();
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(json(&r.body)["error"]["code"], "upstream_unavailable");
    // Connection refused is immediate, far inside the 3 s connect timeout.
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn upstream_response_timeout_is_504() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.timeouts.upstream_response = shield::config::Dur::from_millis(300);
    let s = TestShield::start(cfg);
    let r = http_get(s.addr, "/slow?ms=3000", &[]).unwrap();
    assert_eq!(r.status, 504);
    assert_eq!(json(&r.body)["error"]["code"], "upstream_timeout");
}

#[test]
fn unix_socket_upstream_and_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("app.sock");
    let _echo = Echo::start_unix(&sock);
    let s = TestShield::start(settings_for(&format!("unix:{}", sock.display())));
    let r = http_request(
        s.addr,
        "POST",
        "/echo",
        &[("Content-Type", "application/octet-stream")],
        b"over a unix socket",
    )
    .unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "over a unix socket"));
    // An Upgrade passes once the request passes the layers, then bytes flow both ways.
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = c.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    c.write_all(b"ping").unwrap();
    let mut got = Vec::new();
    while got.len() < 4 {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(&got, b"ping");
    // A blocked path is not upgraded.
    let (resp, _) = raw(
        s.addr,
        b"GET /console HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    );
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    // A WebSocket handshake from another site (cross-site WebSocket hijacking:
    // the browser sends the cookies) is refused before it reaches the app; one
    // from the page's own origin is upgraded.
    let hits = |host: &str, origin: &str, site: &str| {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(
            format!("GET /ws HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nOrigin: {origin}\r\nSec-Fetch-Site: {site}\r\nCookie: session=abc\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut b = [0u8; 4096];
        let n = c.read(&mut b).unwrap();
        String::from_utf8_lossy(&b[..n]).into_owned()
    };
    let cross = hits("a", "https://evil.example", "cross-site");
    assert!(cross.starts_with("HTTP/1.1 403"), "{cross}");
    assert!(cross.contains("cross_origin_request"), "{cross}");
    let same = hits("a", "http://a", "same-origin");
    assert!(same.starts_with("HTTP/1.1 101"), "{same}");
}

#[test]
fn reload_applies_new_config_and_refuses_a_bad_one() {
    let echo = Echo::start();
    let s = TestShield::start(settings_for(&echo.url()));
    assert_eq!(
        http_request(s.addr, "PUT", "/x", &[], b"").unwrap().status,
        200
    );
    s.reload_with(|c| c.methods.allow = vec!["GET".into()])
        .unwrap();
    assert_eq!(
        http_request(s.addr, "PUT", "/x", &[], b"").unwrap().status,
        405
    );
    let err = s
        .reload_with(|c| c.methods.allow = vec!["TRACE".into()])
        .unwrap_err();
    assert!(err.contains("shield.methods.allow[0]"), "{err}");
    // The old (GET-only) config is still running.
    assert_eq!(
        http_request(s.addr, "PUT", "/x", &[], b"").unwrap().status,
        405
    );
    assert_eq!(http_get(s.addr, "/x", &[]).unwrap().status, 200);
}

#[test]
fn metrics_and_health_only_on_the_admin_listener() {
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.admin.listen = Some("127.0.0.1:0".into());
    let s = TestShield::start(cfg);
    let admin = s.handle().admin_addr.expect("admin listener");
    assert_eq!(http_get(s.addr, "/", &[]).unwrap().status, 200);
    assert_eq!(http_get(s.addr, "/console", &[]).unwrap().status, 404);
    let h = http_get(admin, "/healthz", &[]).unwrap();
    assert_eq!((h.status, h.text().trim()), (200, r#"{"status":"ok"}"#));
    let m = http_get(admin, "/metrics", &[]).unwrap();
    assert_eq!(m.status, 200);
    let text = m.text();
    assert!(
        text.contains("shield_responses_total{class=\"2xx\"}"),
        "{text}"
    );
    assert!(
        text.contains("shield_security_events_total{control=\"DBG001\",action=\"block\"} 1"),
        "{text}"
    );
    // The public listener never serves them: /metrics there is the app's.
    let before = echo.hits();
    let r = http_get(s.addr, "/metrics", &[]).unwrap();
    assert_eq!(r.text(), r#"{"ok": true}"#);
    assert_eq!(echo.hits(), before + 1);
}

/// The upstream gets an origin-form target (`/path?query`) over TCP and over a
/// unix socket, as a server expects from a gateway, never `GET http://host/path`.
#[test]
fn upstream_gets_origin_form_targets() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("app.sock");
    let _unix = Echo::start_unix(&sock);
    let tcp = Echo::start();
    for upstream in [tcp.url(), format!("unix:{}", sock.display())] {
        let s = TestShield::start(settings_for(&upstream));
        for (sent, want) in [
            ("/headers?a=1&b=two", "/headers?a=1&b=two"),
            ("/headers", "/headers"),
        ] {
            let r = http_get(s.addr, sent, &[]).unwrap();
            assert_eq!(r.status, 200, "{upstream} {sent}");
            assert_eq!(
                json(&r.body)[":target"],
                serde_json::json!([want]),
                "{upstream} {sent}"
            );
        }
        // An absolute-form request from a client is passed on in origin form too.
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(
            b"GET http://127.0.0.1/headers?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut raw = Vec::new();
        let _ = c.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.contains(r#"":target":["/headers?x=1"]"#), "{text}");
    }
}
