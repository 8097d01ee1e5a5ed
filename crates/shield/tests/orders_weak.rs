//! examples/orders-weak (every planted mistake live) on gunicorn behind shield with
//! its own TLS: every control shield enforces holds, from the outside.

mod support;

use std::{collections::BTreeMap, path::Path, sync::Arc};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use rustls::pki_types::{pem::PemObject, CertificateDer};
use support::{settings_for, TestShield};
use testkit::Gunicorn;

struct Resp {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

struct TlsClient {
    rt: tokio::runtime::Runtime,
    client: Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Full<Bytes>,
    >,
    base: String,
}

impl TlsClient {
    fn new(ca: &Path, port: u16) -> TlsClient {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let conn = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(cfg)
            .https_only()
            .enable_http1()
            .build();
        TlsClient {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: Client::builder(TokioExecutor::new()).build(conn),
            base: format!("https://127.0.0.1:{port}"),
        }
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
        self.rt.block_on(async {
            let resp = self
                .client
                .request(req)
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            Resp {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            }
        })
    }

    fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], b"")
    }
}

#[test]
fn orders_weak_behind_shield_holds_every_shield_control() {
    let Some(app) = Gunicorn::start(
        "orders-weak",
        &[("ORDERS_ENV", "production"), ("WEB_CONCURRENCY", "2")],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let mut cfg = settings_for(&app.url());
    cfg.allowed_hosts = vec!["127.0.0.1".into(), "localhost".into()];
    cfg.tls.cert = Some(cert.clone());
    cfg.tls.key = Some(key);
    let shield = TestShield::start(cfg);
    let c = TlsClient::new(&cert, shield.addr.port());

    // The API works through shield (Talisman's HTTPS redirect sees https, no loop).
    let r = c.get("/api/");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.json()["links"]["self"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1"),
        "{}",
        r.body
    );

    // HDR001-HDR007, HDR009: set over the app's own (weak) values; Server stripped.
    let expect: BTreeMap<&str, &str> = [
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        (
            "permissions-policy",
            "geolocation=(), microphone=(), camera=()",
        ),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ]
    .into();
    for path in ["/api/", "/"] {
        let r = c.get(path);
        for (h, v) in &expect {
            assert_eq!(r.header(h), Some(*v), "{path}: {h}");
        }
        assert!(
            r.header("server").is_none(),
            "{path}: Server {:?}",
            r.header("server")
        );
        assert!(r.header("x-powered-by").is_none());
    }

    // CKE001-CKE003, CKE006: the guest session cookie.
    let r = c.get("/api/");
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("session="))
        .expect("session cookie")
        .to_string();
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Max-Age=86400"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }

    // DBG001, DBG002, KEY004: debugger, toolbar, dotfiles and source files blocked.
    for path in [
        "/console",
        "/api/?__debugger__=yes&cmd=resource&f=style.css",
        "/_debug_toolbar/static/css/toolbar.css",
        "/.env",
        "/.git/config",
        "/config.py",
        "/instance/orders.db",
    ] {
        let r = c.get(path);
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "not_found", "{path}");
        assert!(
            !r.body.contains("SECRET_KEY") && !r.body.contains("Werkzeug"),
            "{path} leaked"
        );
    }

    // DBG001/ERR003: the debugger's traceback page for an unknown order is replaced.
    let r = c.get("/api/orders/999999");
    assert_eq!(r.status, 500);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["error"]["code"], "internal_error");
    assert!(
        !r.body.contains("Traceback") && !r.body.contains(".py"),
        "{}",
        r.body
    );
    assert_eq!(
        r.json()["error"]["request_id"].as_str(),
        r.header("x-request-id")
    );
    // ERR003: the raw SQLite error the app puts in its JSON 500.
    let r = c.get("/api/orders?status=%27");
    assert_eq!(r.status, 500);
    assert!(!r.body.contains("unrecognized token"), "{}", r.body);

    // ERR002: Flask's HTML 404 and 405 become JSON with the same status.
    let r = c.get("/api/does-not-exist");
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    // (GET on the POST-only login: Flask answers 404 or 405 depending on its static
    // route; either way the HTML becomes JSON with the upstream's status.)
    let r = c.get("/api/auth/login");
    assert!(matches!(r.status, 404 | 405), "{}", r.status);
    assert_eq!(r.json()["error"]["status"], r.status);
    assert_eq!(r.header("content-type"), Some("application/json"));

    // INP001: malformed JSON gets a JSON 400 from shield.
    let r = c.send(
        "POST",
        "/api/orders",
        &[("content-type", "application/json")],
        b"{\"item\": ",
    );
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    // INP007: TRACE is refused.
    let r = c.send("TRACE", "/api/", &[], b"");
    assert_eq!(r.status, 405);
    // INP003: a 12 MB body never reaches the app.
    let big = vec![b' '; 12 * 1024 * 1024];
    let r = c.send(
        "POST",
        "/api/orders",
        &[("content-type", "application/json")],
        &big,
    );
    assert_eq!(r.status, 413);

    // PRX002: a foreign Host is refused instead of reflected into links.
    let r = c.send("GET", "/api/", &[("host", "evil.example")], b"");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!r.body.contains("evil.example"));

    // PRX001: a spoofed X-Forwarded-For no longer changes who the app sees.
    let r = c.send(
        "GET",
        "/api/auth/whoami",
        &[("x-forwarded-for", "6.6.6.6")],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ip"], "127.0.0.1", "{}", r.body);

    // OPS003: the blocks and sanitised errors are in the audit log.
    for control in [
        "DBG001", "DBG002", "KEY004", "ERR003", "ERR002", "INP001", "PRX002", "PRX001",
    ] {
        assert!(
            shield
                .wait_audit(&format!("\"control\":\"{control}\""))
                .is_some(),
            "no audit line for {control}:\n{}",
            shield.audit_log()
        );
    }
    // Nothing of the debugger's was ever served.
    assert!(!shield.audit_log().is_empty());
    drop(app);
}
