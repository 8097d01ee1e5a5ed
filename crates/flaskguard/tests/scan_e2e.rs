//! `flaskguard scan` end to end: the real binary against the example apps under
//! gunicorn on 127.0.0.1, the HTML report rendered by headless Chromium, and bad
//! input on the command line.

use std::{path::PathBuf, process::Command};

use serde_json::Value;

#[path = "scan_e2e/manifest.rs"]
mod manifest;
use manifest::{at_path, expected};
use testkit::{E2e, Gunicorn, RedisServer};

fn flaskguard(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flaskguard"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example(name: &str) -> Option<PathBuf> {
    let dir = testkit::repo_root().join("examples").join(name);
    if !dir.is_dir() {
        E2e::missing(&format!("examples/{name} is not in this checkout"));
        return None;
    }
    Some(dir)
}

fn scan_json(url: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "scan",
        url,
        "--output-format",
        "json",
        "--fail-on",
        "never",
        "--budget",
        "60",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = flaskguard(&args);
    assert_eq!(code, 0, "scan failed: {err}");
    serde_json::from_str(&out).expect("json report")
}

fn findings(report: &Value) -> Vec<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["control"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
                f["location"]["url"].as_str().unwrap_or("").to_string(),
                f["check"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn orders_weak_every_planted_problem_is_found() {
    let Some(dir) = example("orders-weak") else {
        return;
    };
    let db = tempfile::tempdir().expect("tempdir");
    let db_path = db.path().join("orders.db");
    let Some(app) = Gunicorn::start("orders-weak", &[("ORDERS_DB", db_path.to_str().unwrap())])
    else {
        return;
    };
    let url = app.url();
    let passive = scan_json(&url, &[]);
    let active = scan_json(&url, &["--active"]);
    let (p, a) = (findings(&passive), findings(&active));
    let mut missing = Vec::new();
    for e in expected(&dir) {
        let got = if e.mode == "active" { &a } else { &p };
        let found = got
            .iter()
            .any(|(c, _, u, _)| *c == e.id && (e.path.is_empty() || at_path(u, &e.path)));
        if !found {
            let elsewhere: Vec<&str> = got
                .iter()
                .filter(|(c, ..)| *c == e.id)
                .map(|(_, _, u, _)| u.as_str())
                .collect();
            missing.push(format!(
                "{} ({}, {}; reported at {elsewhere:?})",
                e.id, e.mode, e.path
            ));
        }
    }
    assert!(missing.is_empty(), "not found: {missing:#?}");
    // The Flask-specific problems generic header checkers miss, by name.
    let checks: Vec<&str> = a.iter().map(|f| f.3.as_str()).collect();
    for name in [
        "werkzeug-console-exposed",
        "stack-trace-leak",
        "html-404-on-json-api",
        "login-not-rate-limited",
        "exposed-env-file",
        "cors-null-origin-with-credentials",
        "session-secret-key-weak",
    ] {
        assert!(checks.contains(&name), "{name} not in {checks:?}");
    }
    let score = &passive["score"];
    assert_eq!(score["grade"], "F", "{score}");
    assert!(!score["lines"].as_array().unwrap().is_empty());
}

/// What a scan over plain HTTP on 127.0.0.1 makes true of any app, however
/// hardened: the answer is plain HTTP and nothing redirects it to HTTPS (in
/// production the TLS-terminating proxy does that, see the example's README).
/// HSTS is not in the list: it is judged only over HTTPS, so over HTTP it is a
/// score line (`hsts-not-implemented-no-https`), never a finding.
const PLAIN_HTTP_LOOPBACK: &[(&str, &str)] = &[("TLS001", "redirection-missing")];

/// The score lines plain HTTP costs any app: no redirect, and no HSTS possible.
const PLAIN_HTTP_PENALTIES: &[&str] = &["redirection-missing", "hsts-not-implemented-no-https"];

#[test]
fn orders_hardened_has_nothing_medium_or_above_but_transport() {
    let Some(_dir) = example("orders-hardened") else {
        return;
    };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let redis_url = redis.url();
    let data = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| data.path().join(name).to_str().unwrap().to_string();
    let (db, uploads, exports) = (path("orders.db"), path("uploads"), path("exports"));
    let secret = "7f3c9a1e5b2d48c6a0f1e9d3b7c5a2e4f6d8b0c2a4e6f8d0b2c4e6a8f0d2b4c6";
    let env = [
        ("SECRET_KEY", secret),
        ("RATELIMIT_STORAGE_URI", redis_url.as_str()),
        // Werkzeug's trusted-host check ignores the port, so the scanner's
        // `Host: 127.0.0.1:<port>` is answered and `Host: evil.example` is not.
        ("ALLOWED_HOSTS", "127.0.0.1"),
        ("ORDERS_ENV", "production"),
        // gunicorn is reached directly here, with no proxy in front.
        ("PROXY_HOPS", "0"),
        // Real accounts behind the login the active scan bursts against.
        ("ORDERS_DEMO_PASSWORD", "demo-password-for-tests"),
        ("ORDERS_DB", db.as_str()),
        ("ORDERS_UPLOAD_DIR", uploads.as_str()),
        ("ORDERS_EXPORT_DIR", exports.as_str()),
    ];
    let Some(app) = Gunicorn::start("orders-hardened", &env) else {
        return;
    };
    for (mode, extra) in [("passive", &[][..]), ("active", &["--active"][..])] {
        let report = scan_json(&app.url(), extra);
        let serious: Vec<_> = findings(&report)
            .into_iter()
            .filter(|(_, sev, ..)| matches!(sev.as_str(), "medium" | "high" | "critical"))
            .filter(|(c, _, _, check)| {
                !PLAIN_HTTP_LOOPBACK
                    .iter()
                    .any(|(id, name)| c == id && check == name)
            })
            .collect();
        assert!(
            serious.is_empty(),
            "{mode} scan: hardened app has findings: {serious:#?}\n{}",
            app.log_contents()
        );
        let penalties: Vec<&str> = report["score"]["lines"]
            .as_array()
            .expect("score lines")
            .iter()
            .filter(|l| l["modifier"].as_i64().unwrap_or(0) < 0)
            .filter_map(|l| l["outcome"].as_str())
            .filter(|o| !PLAIN_HTTP_PENALTIES.contains(o))
            .collect();
        assert!(penalties.is_empty(), "{mode} scan penalties: {penalties:?}");
    }
    // The clean report comes from probes that ran, not from probes that never
    // reached the app: the access log shows the login burst limited (429), the
    // oversized body refused (413) and the token-less cross-site POST refused by
    // CSRF protection.
    let log = app.log_contents();
    for (what, line) in [
        (
            "login burst limited",
            "\"POST /api/auth/login HTTP/1.1\" 429",
        ),
        (
            "oversized body refused",
            "\"POST /api/auth/login HTTP/1.1\" 413",
        ),
        ("token-less POST refused", "csrf rejected"),
        ("Host: evil.example refused", "\"GET /api/ HTTP/1.1\" 400"),
        (
            "unknown method refused",
            "\"FLASKGUARD /api/ HTTP/1.1\" 405",
        ),
    ] {
        assert!(log.contains(line), "{what}: no `{line}` in the log:\n{log}");
    }
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(_dir) = example("orders-weak") else {
        return;
    };
    let Some(chromium) = testkit::chromium() else {
        return;
    };
    let Some(app) = Gunicorn::start("orders-weak", &[]) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let html = tmp.path().join("report.html");
    let (code, _, err) = flaskguard(&[
        "scan",
        &app.url(),
        "--output-format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "findings exit 1: {err}");
    let shot = tmp.path().join("shot.png");
    let chrome = |extra: &[&str]| {
        let profile = tempfile::tempdir().expect("profile");
        let mut cmd = testkit::chromium_command(&chromium, profile.path());
        cmd.arg("--window-size=1280,2000")
            .args(extra)
            .arg(format!("file://{}", html.display()));
        let out = cmd.output().expect("chromium runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    chrome(&[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot is {} bytes",
        png.len()
    );
    let dom = chrome(&["--dump-dom"]);
    assert!(
        dom.contains("id=\"grade\"") && dom.contains(">F</div>"),
        "grade missing"
    );
    assert!(dom.contains("DBG001") && dom.contains("werkzeug-console-exposed"));
    assert!(
        dom.contains("variables (values hidden): FLASK_DEBUG"),
        "evidence missing"
    );
    assert!(dom.contains("How the score was computed"));
    // Attacker-controlled text stays text: no script element made it into the page.
    assert!(!dom.to_ascii_lowercase().contains("<script"));
}

#[test]
fn bad_input_is_a_one_line_error_with_exit_2() {
    let (code, _, err) = flaskguard(&["scan", "127.0.0.1:8000"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("flaskguard: error: 127.0.0.1:8000: unparsable URL")
            && err.lines().count() == 1,
        "{err}"
    );
    let port = testkit::free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (code, _, err) = flaskguard(&["scan", &url, "--timeout", "2"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&url) && err.contains("cannot connect") && err.lines().count() == 1,
        "{err}"
    );
    let (code, _, err) = flaskguard(&["scan", &url, "--wordlist", "/nonexistent/keys.txt"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/keys.txt"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("flaskguard.toml");
    std::fs::write(&cfg, "[scan]\nbudjet = 3\n").unwrap();
    let (code, _, err) = flaskguard(&["scan", &url, "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("scan.budjet"), "{err}");
}

/// One request as the recording server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A JSON API behind a bearer token on 127.0.0.1 that records every request:
/// `/` links to `/api/items`, which answers 401 without `Bearer s3cret-token`.
fn recording_api() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Seen>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(3)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65_536 {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let mut lines = head.split("\r\n");
                let mut first = lines.next().unwrap_or("").split(' ');
                let req = Seen {
                    method: first.next().unwrap_or("").to_string(),
                    path: first.next().unwrap_or("").to_string(),
                    headers: lines
                        .take_while(|l| !l.is_empty())
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect(),
                };
                let authorized = req.header("authorization") == Some("Bearer s3cret-token");
                let (status, ctype, body) = match req.path.split('?').next().unwrap_or("") {
                    "/" => (
                        "200 OK",
                        "text/html",
                        "<html><body><a href=\"/api/items\">items</a></body></html>".to_string(),
                    ),
                    "/api/items" if authorized => (
                        "200 OK",
                        "application/json",
                        "[{\"id\": 1, \"name\": \"a\"}]".to_string(),
                    ),
                    "/api/items" => (
                        "401 Unauthorized",
                        "application/json",
                        "{\"error\": \"unauthorized\"}".to_string(),
                    ),
                    _ => (
                        "404 Not Found",
                        "application/json",
                        "{\"error\": \"not found\"}".to_string(),
                    ),
                };
                log.lock().unwrap().push(req);
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    (url, seen)
}

/// `--header` and `--cookie` go with every request of a scan but the forged-token
/// probes, which go as a stranger (and find the endpoint that refuses strangers
/// by asking it anonymously); a given Flask session cookie is decoded and its
/// weak key found; no report shows either value.
#[test]
fn credentials_go_with_every_request_but_forged_tokens() {
    let (url, seen) = recording_api();
    let cookie = flask_session::sign_at(
        &serde_json::json!({"user_id": 7}),
        b"dev",
        &flask_session::SignerParams::flask_default(),
        1_700_000_000,
    );
    let session = format!("session={cookie}");
    let report = scan_json(
        &url,
        &[
            "--active",
            "--header",
            "Authorization: Bearer s3cret-token",
            "--cookie",
            &session,
        ],
    );
    let text = report.to_string();
    assert!(
        !text.contains("s3cret-token"),
        "the header's value is in the report"
    );
    assert!(
        !text.contains(&cookie),
        "the cookie's value is in the report"
    );

    let weak = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "session-secret-key-weak")
        .unwrap_or_else(|| panic!("the given session cookie was not cracked: {text}"));
    assert!(
        weak["evidence"]
            .as_str()
            .unwrap_or("")
            .contains("given with --cookie"),
        "{weak}"
    );

    let seen = seen.lock().unwrap().clone();
    let user = |r: &Seen| r.header("authorization") == Some("Bearer s3cret-token");
    let with_cookie = |r: &Seen| r.header("cookie").is_some_and(|c| c.contains(&session));
    let forged: Vec<&Seen> = seen
        .iter()
        .filter(|r| r.header("authorization").is_some() && !user(r))
        .collect();
    let anonymous: Vec<&Seen> = seen
        .iter()
        .filter(|r| r.header("authorization").is_none())
        .collect();
    assert!(seen.iter().filter(|r| user(r)).count() >= 10, "{seen:#?}");
    assert!(
        seen.iter().filter(|r| user(r)).all(with_cookie),
        "a request with the header lacked the cookie: {seen:#?}"
    );
    // The forged tokens went to the endpoint that refuses strangers, as strangers.
    assert!(forged.len() >= 2, "no forged-token probe: {seen:#?}");
    assert!(
        forged
            .iter()
            .all(|r| r.path == "/api/items" && !with_cookie(r)),
        "{forged:#?}"
    );
    // Requests without the header are the anonymous ones: the baseline that
    // found /api/items refuses strangers, with no cookie either.
    assert!(
        anonymous
            .iter()
            .all(|r| r.method == "GET" && r.path == "/api/items" && !with_cookie(r)),
        "{anonymous:#?}"
    );
    assert!(!anonymous.is_empty(), "no anonymous baseline: {seen:#?}");
}
