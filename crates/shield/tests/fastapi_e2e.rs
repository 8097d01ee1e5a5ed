//! examples/notes-fastapi (FastAPI on uvicorn, `--proxy-headers` trusting only
//! 127.0.0.1) behind shield with its defaults: what an ASGI app needs from the
//! gateway. FastAPI's own JSON errors (422, 404, 401) pass unchanged; a crash's
//! plain-text 500 leaves as shield's JSON error; server-sent events stream as
//! they come; a WebSocket echoes through; the app sees the real client.

mod support;

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use support::{settings_for, TestShield};
use testkit::{http_request, E2e, Proc};

struct Uvicorn {
    _proc: Proc,
    addr: SocketAddr,
}

const TOKEN: &str = "notes-test-token-4f1c9a";

/// uvicorn serving examples/notes-fastapi on a free port, None (after
/// `E2e::missing`) when its venv is not installed.
fn uvicorn() -> Option<Uvicorn> {
    let bin = testkit::venv("notes-fastapi").join("bin/uvicorn");
    if !bin.is_file() {
        E2e::missing(&format!("{} is missing", bin.display()));
        return None;
    }
    let port = testkit::free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut cmd = Command::new(bin);
    cmd.current_dir(testkit::repo_root().join("examples/notes-fastapi"))
        .args([
            "main:app",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .args(["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"])
        .args(["--log-level", "warning"])
        .env("NOTES_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let proc = Proc::spawn("uvicorn notes-fastapi", cmd).expect("spawn uvicorn");
    assert!(
        testkit::wait_for_port(addr, Duration::from_secs(30)),
        "uvicorn did not start on {addr}"
    );
    Some(Uvicorn { _proc: proc, addr })
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// A client-side WebSocket text frame (masked, as RFC 6455 requires).
fn ws_text_frame(text: &str) -> Vec<u8> {
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut f = vec![0x81, 0x80 | text.len() as u8];
    f.extend_from_slice(&mask);
    f.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

#[test]
fn a_fastapi_app_on_uvicorn_behind_shield() {
    let Some(app) = uvicorn() else { return };
    let shield = TestShield::start(settings_for(&format!("http://{}", app.addr)));
    let at = shield.addr;
    let get = |path: &str, headers: &[(&str, &str)]| {
        http_request(at, "GET", path, headers, b"").expect("answer")
    };

    // The app sees the real client and scheme through uvicorn's proxy headers;
    // what the client claims in X-Forwarded-For is not believed.
    let who = get("/api/whoami", &[("X-Forwarded-For", "203.0.113.9")]);
    assert_eq!(who.status, 200, "{}", who.text());
    let who = json(&who.body);
    assert_eq!(who["client"], "127.0.0.1", "{who}");
    assert_eq!(who["scheme"], "http", "{who}");
    // Secure defaults on the way out; uvicorn's Server header is gone.
    let list = get("/api/notes", &[]);
    assert_eq!(list.status, 200);
    assert!(list
        .header("content-security-policy")
        .is_some_and(|c| c.contains("default-src 'none'")));
    assert_eq!(list.header("x-content-type-options"), Some("nosniff"));
    assert!(list.header("server").is_none(), "{:?}", list.headers);

    // FastAPI's own JSON answers pass unchanged: 401 from the auth dependency,
    // 422 from validation, 201, 404.
    let post = |body: &str, auth: bool| {
        let bearer = format!("Bearer {TOKEN}");
        let mut h = vec![("Content-Type", "application/json")];
        if auth {
            h.push(("Authorization", bearer.as_str()));
        }
        http_request(at, "POST", "/api/notes", &h, body.as_bytes()).expect("answer")
    };
    let denied = post(r#"{"title": "a"}"#, false);
    assert_eq!(denied.status, 401);
    assert_eq!(
        json(&denied.body)["detail"],
        "a valid bearer token is required"
    );
    let invalid = post(r#"{"title": ""}"#, true);
    assert_eq!(invalid.status, 422, "{}", invalid.text());
    let detail = &json(&invalid.body)["detail"];
    assert_eq!(
        detail[0]["loc"],
        serde_json::json!(["body", "title"]),
        "{detail}"
    );
    let created = post(r#"{"title": "first", "body": "through shield"}"#, true);
    assert_eq!(created.status, 201, "{}", created.text());
    let id = json(&created.body)["id"].as_i64().unwrap();
    let one = get(&format!("/api/notes/{id}"), &[]);
    assert_eq!(json(&one.body)["body"], "through shield");
    let missing = get("/api/notes/999999", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(json(&missing.body)["detail"], "no such note");
    // A body that is not JSON never reaches the app (INP001).
    let broken = post(r#"{"title": "#, true);
    assert_eq!(broken.status, 400);
    assert_eq!(
        json(&broken.body)["error"]["code"],
        "invalid_json",
        "{}",
        broken.text()
    );

    // A crash: Starlette's plain-text 500 leaves as a JSON error with a request
    // id, and nothing of the exception.
    let crash = get("/api/fail", &[]);
    assert_eq!(crash.status, 500);
    assert!(!crash.text().contains("hunter2"));
    let crash = json(&crash.body);
    assert_eq!(crash["error"]["status"], 500, "{crash}");
    assert!(crash["error"]["request_id"].is_string(), "{crash}");

    // Server-sent events pass as they come: the first event arrives while the
    // app is still producing the rest (five events 200 ms apart).
    let mut s = TcpStream::connect(at).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /api/events HTTP/1.1\r\nHost: {at}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut first = None;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("events: {e}"),
        }
        if first.is_none() && String::from_utf8_lossy(&got).contains("data: 0") {
            first = Some(started.elapsed());
        }
    }
    let all = started.elapsed();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("data: 4"), "{text}");
    let first = first.expect("first event");
    assert!(
        all >= first + Duration::from_millis(500),
        "events were held back: first after {first:?}, all after {all:?}"
    );

    // A WebSocket echoes through (same-origin handshake).
    let mut ws = TcpStream::connect(at).unwrap();
    ws.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        ws,
        "GET /ws/echo HTTP/1.1\r\nHost: {at}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://{at}\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = ws.read(&mut buf).expect("handshake");
        assert!(n > 0, "closed during the handshake");
        head.extend_from_slice(&buf[..n]);
    }
    let head_text = String::from_utf8_lossy(&head).into_owned();
    assert!(head_text.starts_with("HTTP/1.1 101"), "{head_text}");
    assert!(
        head_text.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "accept key: {head_text}"
    );
    let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut frame = head[end..].to_vec();
    ws.write_all(&ws_text_frame("hello through shield"))
        .unwrap();
    while frame.len() < 2 || frame.len() < 2 + (frame[1] & 0x7f) as usize {
        let n = ws.read(&mut buf).expect("echo");
        assert!(n > 0, "closed before the echo");
        frame.extend_from_slice(&buf[..n]);
    }
    assert_eq!(frame[0], 0x81, "a text frame");
    let len = (frame[1] & 0x7f) as usize;
    assert_eq!(&frame[2..2 + len], b"hello through shield");
}

/// INP002 with the app's own OpenAPI document (3.1, exported with
/// `app.openapi()`, as a build step would: the example serves no /openapi.json):
/// shield refuses a body that breaks the schema before the app sees it, lets a
/// valid one through, and in `report` mode lets the app answer for itself.
#[test]
fn the_apps_openapi_document_is_enforced_by_shield() {
    let Some(app) = uvicorn() else { return };
    let export = Command::new(testkit::venv("notes-fastapi").join("bin/python"))
        .current_dir(testkit::repo_root().join("examples/notes-fastapi"))
        .args([
            "-c",
            "import json, main; print(json.dumps(main.app.openapi()))",
        ])
        .env("NOTES_TOKEN", TOKEN)
        .output()
        .expect("export the OpenAPI document");
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, &export.stdout).unwrap();

    let bearer = format!("Bearer {TOKEN}");
    let post = |at: SocketAddr, body: &str| {
        let h = [
            ("Content-Type", "application/json"),
            ("Authorization", bearer.as_str()),
        ];
        http_request(at, "POST", "/api/notes", &h, body.as_bytes()).expect("answer")
    };
    let mut s = settings_for(&format!("http://{}", app.addr));
    s.schema.openapi = Some(path.clone());
    let shield = TestShield::start(s.clone());
    for bad in [
        r#"{"title": ""}"#,
        r#"{"body": "no title"}"#,
        r#"{"title": 5}"#,
        r#"[]"#,
    ] {
        let r = post(shield.addr, bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
        let v = json(&r.body);
        assert_eq!(
            v["error"]["code"], "invalid_body",
            "{bad}: shield answered, not the app: {v}"
        );
        assert!(v.get("detail").is_none());
    }
    let long = format!(r#"{{"title": "{}"}}"#, "t".repeat(101));
    let r = post(shield.addr, &long);
    assert_eq!(json(&r.body)["error"]["code"], "invalid_body");
    assert!(json(&r.body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/title"));
    let empty = http_request(
        shield.addr,
        "POST",
        "/api/notes",
        &[("Authorization", bearer.as_str())],
        b"",
    )
    .unwrap();
    assert_eq!(
        empty.status,
        422,
        "FastAPI's body is required: {}",
        empty.text()
    );
    let ok = post(shield.addr, r#"{"title": "checked", "body": "by shield"}"#);
    assert_eq!(ok.status, 201, "{}", ok.text());
    // Reads are not checked.
    let list = http_request(shield.addr, "GET", "/api/notes", &[], b"").unwrap();
    assert_eq!(list.status, 200);
    drop(shield);

    // report: the app answers with its own 422.
    s.schema.mode = shield::config::SchemaMode::Report;
    let shield = TestShield::start(s);
    let r = post(shield.addr, r#"{"title": ""}"#);
    assert_eq!(r.status, 422);
    assert!(json(&r.body).get("detail").is_some(), "{}", r.text());
}
