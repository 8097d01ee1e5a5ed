//! `request_buffering` in front of a Flask app on gunicorn's sync workers, which
//! serve one request at a time and read a body from the socket as the app asks.
//!
//! - A client that sends its body slowly holds a connection of shield's, not the
//!   app's only worker: a second request is answered while the first is still
//!   being sent. With buffering off, the same second request waits for the slow
//!   one (the reason gunicorn asks for a buffering proxy in front of sync workers).
//! - A chunked body reaches the app whole, with a `Content-Length` and without
//!   `Transfer-Encoding` or `Expect`.
//! - A chunked body over the limit is refused with 413 before the app sees it.
//! - Past `buffer_memory_bytes`, a body streams on, intact.
//! - A client that reads a large response slowly does not hold the worker either:
//!   shield reads the response ahead (`response_buffer_bytes`); with that off,
//!   the worker waits on the client.
//! - Past that window, the rest of a large response goes to a spill file
//!   (`response_spill_bytes`), so the worker is free all the same; with spilling
//!   off, it waits on the client.

mod support;

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    sync::mpsc,
    time::{Duration, Instant},
};

use support::{echo::sha256_hex, settings_for, AppServer, TestShield};

/// tests/apps/uploads on gunicorn, one sync worker.
struct UploadApp {
    server: AppServer,
    access_log: PathBuf,
}

impl UploadApp {
    fn start() -> Option<UploadApp> {
        let mut access_log = PathBuf::new();
        let server = AppServer::start(
            "uploads",
            "uploads_app",
            &["-w", "1", "-k", "sync", "--timeout", "60"],
            |cmd, dir| {
                access_log = dir.join("access.log");
                cmd.arg("--access-logfile").arg(&access_log);
            },
        )?;
        Some(UploadApp { server, access_log })
    }

    fn url(&self) -> String {
        self.server.url()
    }

    /// How many requests for `path` the app has answered, once the app has
    /// logged `n` requests for /ping (gunicorn writes a request's line after its
    /// response, and its one sync worker serves requests in turn).
    fn served_by_ping(&self, path: &str, n: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.served("/ping") < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(self.served("/ping"), n, "the app did not log /ping");
        self.served(path)
    }

    /// How many requests for `path` the app has answered.
    fn served(&self, path: &str) -> usize {
        let needle = format!(" {path} HTTP/");
        std::fs::read_to_string(&self.access_log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&needle))
            .count()
    }
}

/// The status and JSON body of a raw HTTP/1.1 response (an interim `100
/// Continue` skipped).
fn parse(raw: &[u8]) -> (u16, serde_json::Value) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let text = text
        .strip_prefix("HTTP/1.1 100 Continue\r\n\r\n")
        .unwrap_or(&text);
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or_default())
}

/// POST /upload with `body`, sent in `pieces` writes `gap` apart; returns when
/// the last byte was written and the parsed response.
fn upload_slowly(
    shield: SocketAddr,
    body: Vec<u8>,
    pieces: usize,
    gap: Duration,
) -> (Instant, (u16, serde_json::Value)) {
    let mut s = TcpStream::connect(shield).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /upload HTTP/1.1\r\nHost: {shield}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    for piece in body.chunks(body.len().div_ceil(pieces)) {
        std::thread::sleep(gap);
        s.write_all(piece).unwrap();
    }
    let sent = Instant::now();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    (sent, parse(&raw))
}

/// Starts a slow upload (3,000 bytes over about 3 s), then asks for /ping once
/// the upload is under way. Returns whether /ping was answered before the last
/// byte of the upload was sent.
fn ping_during_slow_upload(shield: SocketAddr) -> bool {
    let body: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    let want = sha256_hex(&body);
    let (tx, rx) = mpsc::channel();
    let uploader = std::thread::spawn(move || {
        let out = upload_slowly(shield, body, 12, Duration::from_millis(250));
        tx.send(()).ok();
        out
    });
    std::thread::sleep(Duration::from_millis(700));
    let ping = testkit::http_request(shield, "GET", "/ping", &[], b"").expect("ping");
    let pinged = Instant::now();
    assert_eq!(ping.status, 200, "{}", ping.text());
    assert_eq!(ping.text(), "pong");
    let (sent, (status, json)) = uploader.join().unwrap();
    rx.recv().ok();
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["length"], 3000);
    assert_eq!(json["sha256"], want.as_str());
    pinged < sent
}

#[test]
fn a_slow_client_does_not_hold_a_sync_worker() {
    let Some(app) = UploadApp::start() else {
        return;
    };
    let shield = TestShield::start(settings_for(&app.url()));
    assert!(
        ping_during_slow_upload(shield.addr),
        "with request buffering, /ping waited for the slow upload"
    );
    drop(shield);

    // The same with buffering off: the app's one worker reads the slow body
    // itself, and /ping waits until it is through.
    let mut s = settings_for(&app.url());
    s.limits.request_buffering = false;
    let shield = TestShield::start(s);
    assert!(
        !ping_during_slow_upload(shield.addr),
        "with buffering off, /ping was answered while the worker read the slow upload"
    );
}

/// POST /upload with a chunked body (and `Expect: 100-continue`), in chunks of
/// `chunk` bytes.
fn upload_chunked(shield: SocketAddr, body: &[u8], chunk: usize) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(shield).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "POST /upload HTTP/1.1\r\nHost: {shield}\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for c in body.chunks(chunk) {
        req.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        req.extend_from_slice(c);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    // A client may send the body without waiting for 100 Continue.
    s.write_all(&req).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    parse(&raw)
}

#[test]
fn a_chunked_body_reaches_the_app_whole_with_its_length() {
    let Some(app) = UploadApp::start() else {
        return;
    };
    let mut s = settings_for(&app.url());
    s.limits.max_body_bytes = 200_000;
    let shield = TestShield::start(s);
    let body: Vec<u8> = (0..102_400u32).map(|i| (i * 13 % 253) as u8).collect();
    let (status, json) = upload_chunked(shield.addr, &body, 4096);
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["length"], 102_400);
    assert_eq!(json["sha256"], sha256_hex(&body).as_str());
    assert_eq!(json["content_length"], "102400", "{json}");
    assert_eq!(json["transfer_encoding"], serde_json::Value::Null, "{json}");
    assert_eq!(json["expect"], serde_json::Value::Null, "{json}");

    // Over the limit: refused while it is read, before the app hears of it.
    let ping = |n| {
        let r = testkit::http_request(shield.addr, "GET", "/ping", &[], b"").unwrap();
        assert_eq!(r.status, 200);
        n
    };
    assert_eq!(app.served_by_ping("/upload", ping(1)), 1);
    let big = vec![b'x'; 300_000];
    let (status, json) = upload_chunked(shield.addr, &big, 8192);
    assert_eq!(status, 413, "{json}");
    assert_eq!(json["error"]["code"], "payload_too_large", "{json}");
    assert_eq!(
        app.served_by_ping("/upload", ping(2)),
        1,
        "the app saw the refused body"
    );
}

#[test]
fn past_the_buffer_memory_a_body_streams_intact() {
    let Some(app) = UploadApp::start() else {
        return;
    };
    let mut s = settings_for(&app.url());
    s.limits.buffer_memory_bytes = 1024 * 1024;
    s.admin.listen = Some("127.0.0.1:0".into());
    let shield = TestShield::start(s);
    let admin = shield.handle().admin_addr.expect("admin listener");
    let streamed = || {
        let m = testkit::http_get(admin, "/metrics", &[]).unwrap().text();
        m.lines()
            .find_map(|l| l.strip_prefix("shield_bodies_streamed_unbuffered_total "))
            .unwrap_or_else(|| panic!("no counter in {m}"))
            .to_string()
    };
    // Within the memory: buffered.
    let small = vec![b'a'; 512 * 1024];
    let (_, (status, json)) = upload_slowly(shield.addr, small, 1, Duration::ZERO);
    assert_eq!(
        (status, &json["length"]),
        (200, &serde_json::json!(512 * 1024))
    );
    assert_eq!(streamed(), "0");
    let body: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 241) as u8).collect();
    let want = sha256_hex(&body);
    let (_, (status, json)) = upload_slowly(shield.addr, body, 1, Duration::ZERO);
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["length"], 3 * 1024 * 1024);
    assert_eq!(json["sha256"], want.as_str());
    assert_eq!(json["content_length"], "3145728");
    assert_eq!(streamed(), "1");
}

/// Asks for a 20 MB response and reads none of it for a while, then asks for
/// /ping. Returns whether /ping was answered (within 5 s), and checks the large
/// response arrives whole once read.
fn ping_while_a_download_waits(shield: SocketAddr) -> bool {
    const SIZE: usize = 20_000_000;
    let mut slow = TcpStream::connect(shield).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        slow,
        "GET /big/{SIZE} HTTP/1.1\r\nHost: {shield}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let answered = (|| {
        let mut s = TcpStream::connect(shield).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET /ping HTTP/1.1\r\nHost: {shield}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).ok()?;
        Some(String::from_utf8_lossy(&raw).ends_with("pong"))
    })()
    .unwrap_or(false);
    let mut raw = Vec::new();
    slow.read_to_end(&mut raw).unwrap();
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(raw.len() - at, SIZE, "the download arrived cut");
    let wrong = raw[at..]
        .iter()
        .enumerate()
        .position(|(i, &b)| usize::from(b) != i % 251);
    assert_eq!(wrong, None, "the download's bytes are out of order");
    answered
}

#[test]
fn a_slow_reader_does_not_hold_a_sync_worker() {
    let Some(app) = UploadApp::start() else {
        return;
    };
    let mut s = settings_for(&app.url());
    s.limits.response_buffer_bytes = 32 * 1024 * 1024;
    s.limits.buffer_memory_bytes = 64 * 1024 * 1024;
    let shield = TestShield::start(s);
    assert!(
        ping_while_a_download_waits(shield.addr),
        "with the response read ahead, /ping waited for the slow reader"
    );
    drop(shield);

    let mut s = settings_for(&app.url());
    s.limits.response_buffer_bytes = 0;
    let shield = TestShield::start(s);
    assert!(
        !ping_while_a_download_waits(shield.addr),
        "without read-ahead, /ping was answered while the worker waited on the slow reader"
    );
    drop(shield);

    // Past buffer_memory_bytes (and with no spill file) the response streams at
    // the client's pace, whole.
    let mut s = settings_for(&app.url());
    s.limits.response_buffer_bytes = 32 * 1024 * 1024;
    s.limits.buffer_memory_bytes = 1024 * 1024;
    s.limits.response_spill_bytes = 0;
    let shield = TestShield::start(s);
    ping_while_a_download_waits(shield.addr);
}

#[test]
fn past_its_window_a_response_spills_to_a_file_and_arrives_whole() {
    let Some(app) = UploadApp::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings_for(&app.url());
    s.limits.response_buffer_bytes = 64 * 1024;
    s.limits.spill_dir = Some(dir.path().to_path_buf());
    let shield = TestShield::start(s.clone());
    assert!(
        ping_while_a_download_waits(shield.addr),
        "with a spill file, /ping waited for the slow reader"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "spill files left behind: {left:?}");
    drop(shield);

    let mut off = s.clone();
    off.limits.response_spill_bytes = 0;
    let shield = TestShield::start(off);
    assert!(
        !ping_while_a_download_waits(shield.addr),
        "without spilling, /ping was answered while the worker waited on the slow reader"
    );
    drop(shield);

    // A response larger than response_spill_bytes spills its first part, then
    // waits for the client; the disk budget smaller than one download likewise.
    for (per_response, disk) in [
        (2 * 1024 * 1024, 4 * 1024 * 1024),
        (8 * 1024 * 1024, 8 * 1024 * 1024),
    ] {
        let mut capped = s.clone();
        capped.limits.response_spill_bytes = per_response;
        capped.limits.spill_disk_bytes = disk;
        let shield = TestShield::start(capped);
        ping_while_a_download_waits(shield.addr);
    }
}
