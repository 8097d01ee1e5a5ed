//! `--active` against small servers on 127.0.0.1 that model common Flask
//! setups: a server-rendered form login behind an anti-CSRF token (Flask-WTF),
//! and a JSON API that reads bodies only as application/json. Servers run on
//! threads that live until the test process ends.

mod common;

use std::{
    io::{Read, Write},
    net::TcpListener,
    time::Duration,
};

use scan::ScanOptions;

struct Request {
    method: String,
    path: String,
    headers: String,
    body: String,
}

/// Status, content type, extra headers and body of an answer.
type Answer = (u16, &'static str, Vec<(&'static str, String)>, String);

fn read_request(s: &mut impl Read) -> Request {
    let head = common::read_head(s);
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or("").to_string();
    let path = words.next().unwrap_or("/").to_string();
    let headers = head.to_ascii_lowercase();
    let len: usize = headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    // Bodies past 1 MiB are not read (the oversized probe); the answer goes out anyway.
    let mut body = vec![0u8; len.min(1 << 20)];
    let _ = s.read_exact(&mut body);
    Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn serve(handle: fn(Request) -> Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = stream;
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let req = read_request(&mut s);
                let (status, ct, headers, body) = handle(req);
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body.as_bytes());
            });
        }
    });
    format!("http://{addr}/")
}

fn active(url: &str) -> report::Report {
    scan::scan(&ScanOptions {
        targets: vec![url.to_string()],
        active: true,
        login_paths: vec!["/login".into()],
        timeout: Duration::from_secs(2),
        budget: Duration::from_secs(30),
        ..ScanOptions::default()
    })
    .expect("scan")
}

const TOKEN: &str = "IjNhYzE.aYb-token";

/// Flask-WTF style: the login page sets a session cookie and a hidden
/// csrf_token; a POST without both is refused with 400 "The CSRF token is
/// missing."; with both, a wrong password re-renders the form (200). No rate
/// limit.
fn form_site(req: Request) -> Answer {
    let html = "text/html; charset=utf-8";
    match (req.method.as_str(), req.path.split('?').next().unwrap_or("")) {
        ("GET", "/login") => (
            200,
            html,
            vec![("Set-Cookie", "session=sid42; HttpOnly; Path=/; SameSite=Lax".into())],
            format!("<html><body><form method=\"post\" action=\"/login\"><input id=\"csrf_token\" name=\"csrf_token\" type=\"hidden\" value=\"{TOKEN}\"><input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>"),
        ),
        ("POST", "/login") => {
            let token_ok = req.body.contains(&format!("csrf_token={}", TOKEN)) && req.headers.contains("session=sid42");
            if token_ok {
                (200, html, vec![], "<html><body><p>Invalid credentials</p><form></form></body></html>".into())
            } else {
                (400, html, vec![], "<!doctype html><title>400 Bad Request</title><h1>Bad Request</h1><p>The CSRF token is missing.</p>".into())
            }
        }
        ("GET", "/") => (200, html, vec![], "<html><body><a href=\"/login\">Log in</a></body></html>".into()),
        _ => (404, html, vec![], "<p>not found</p>".into()),
    }
}

#[test]
fn a_form_login_is_tested_with_the_token_its_page_hands_out() {
    let report = active(&serve(form_site));
    let rl = report
        .findings
        .iter()
        .find(|f| f.control == "RL003")
        .unwrap_or_else(|| panic!("RL003 finding: {:#?}", report.findings));
    let ev = rl.evidence.as_deref().unwrap_or("");
    // The attempts reached the password check (200), not just the CSRF check (400).
    assert!(ev.contains("× 200"), "{ev}");
    // The CSRF check stops cross-site POSTs, and the 400 about a CSRF token is no
    // JSON parser's answer.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.control == "CSR001" || f.control == "INP001"),
        "{:#?}",
        report.findings
    );
}

/// A token API: no cookies at all, a JSON login that answers 401 to bad
/// credentials and reads only application/json bodies (415 otherwise).
fn token_api(req: Request) -> Answer {
    let json = "application/json";
    match (
        req.method.as_str(),
        req.path.split('?').next().unwrap_or(""),
    ) {
        ("POST", "/login") if req.headers.contains("content-type: application/json") => (
            401,
            json,
            vec![],
            "{\"error\":\"invalid credentials\"}".into(),
        ),
        ("POST", "/login") => (415, json, vec![], "{\"error\":\"expected JSON\"}".into()),
        ("GET", "/") => (200, json, vec![], "{\"login\":\"/login\"}".into()),
        _ => (404, json, vec![], "{\"error\":\"not found\"}".into()),
    }
}

/// A cookie-session JSON API: the same login, but every answer sets a session
/// cookie.
fn cookie_api(req: Request) -> Answer {
    let (status, ct, mut headers, body) = token_api(req);
    headers.push((
        "Set-Cookie",
        "session=abc; HttpOnly; Path=/; SameSite=Lax".into(),
    ));
    (status, ct, headers, body)
}

#[test]
fn cross_site_posts_are_judged_as_a_browser_could_send_them() {
    // No cookie: a forged request has nothing to ride on.
    let report = active(&serve(token_api));
    assert!(
        !report.findings.iter().any(|f| f.control == "CSR001"),
        "{:#?}",
        report.findings
    );
    // Cookies, but the JSON body can only come cross-site as text/plain, which
    // the endpoint refuses.
    let report = active(&serve(cookie_api));
    assert!(
        !report.findings.iter().any(|f| f.control == "CSR001"),
        "{:#?}",
        report.findings
    );
}
