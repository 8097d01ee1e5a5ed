//! Hostile servers on 127.0.0.1: each scan must end well inside its budget with a
//! clear message, and nothing may panic. The servers are plain threads that live
//! until the test process ends.

mod common;

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    time::{Duration, Instant},
};

use scan::{ScanError, ScanOptions};

/// Serves each connection on its own thread with `handle`.
fn serve(handle: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || handle(stream));
        }
    });
    format!("http://{addr}/")
}

fn read_head(s: &mut TcpStream) -> String {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    common::read_head(s)
}

fn options(url: &str) -> ScanOptions {
    ScanOptions {
        targets: vec![url.to_string()],
        timeout: Duration::from_secs(1),
        budget: Duration::from_secs(20),
        ..ScanOptions::default()
    }
}

#[test]
fn slow_drip_times_out_with_a_clear_error() {
    let url = serve(|mut s| {
        read_head(&mut s);
        for b in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let start = Instant::now();
    let err = scan::scan(&options(&url)).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let msg = err.to_string();
    assert!(matches!(err, ScanError::Unreachable(_)), "{msg}");
    assert!(
        msg.contains(&url) && msg.contains("no complete response within 1000 ms"),
        "{msg}"
    );
}

#[test]
fn a_100_mb_body_is_cut_at_the_cap() {
    let url = serve(|mut s| {
        read_head(&mut s);
        let size = 100 * 1024 * 1024;
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {size}\r\n\r\n");
        if s.write_all(head.as_bytes()).is_err() {
            return;
        }
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..(size / chunk.len()) {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let start = Instant::now();
    let opts = options(&url);
    let report = scan::scan(&opts).expect("scan");
    // Bounded by the scan's own budget (plus slack for a loaded CI machine running
    // a debug build), not by a speed expectation: dozens of 1 MiB bodies are read.
    assert!(
        start.elapsed() < opts.budget + Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    let cut = report
        .diagnostics
        .iter()
        .find(|d| d.message.contains("cut at"))
        .expect("a diagnostic about the cut body");
    assert!(cut.message.contains("1048576 bytes"), "{}", cut.message);
}

#[test]
fn a_redirect_loop_is_reported_not_followed_forever() {
    let url = serve(|mut s| {
        let head = read_head(&mut s);
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let _ = s.write_all(format!("HTTP/1.1 302 Found\r\nLocation: {path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
    });
    let start = Instant::now();
    let report = scan::scan(&options(&url)).expect("scan");
    assert!(start.elapsed() < Duration::from_secs(10));
    let f = report
        .findings
        .iter()
        .find(|f| f.control == "TLS002")
        .expect("TLS002 finding");
    assert_eq!(f.check, "redirect-loop");
    assert!(f.evidence.as_deref().unwrap_or("").contains("302"));
}

#[test]
fn garbage_instead_of_http_is_a_clear_error() {
    let url = serve(|mut s| {
        read_head(&mut s);
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let _ = s.write_all(&garbage);
    });
    let err = scan::scan(&options(&url)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("not a valid HTTP response"), "{msg}");
}

#[test]
fn an_unreachable_target_among_several_is_a_diagnostic() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let ok = serve(|mut s| {
        read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    });
    let mut opts = options(&ok);
    opts.targets.push(closed.clone());
    let report = scan::scan(&opts).expect("one target answers");
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.source.as_deref() == Some(closed.as_str())
            && d.message.contains("cannot connect")));
    assert!(report.score.is_some());
    // Alone, it is an error naming the URL.
    let err = scan::scan(&options(&closed)).unwrap_err().to_string();
    assert!(
        err.contains(&closed) && err.contains("cannot connect"),
        "{err}"
    );
}

#[test]
fn bad_input_fails_before_any_request() {
    let err = scan::scan(&options("not a url")).unwrap_err().to_string();
    assert!(err.starts_with("not a url: unparsable URL"), "{err}");
    let mut opts = options("http://127.0.0.1:9/");
    opts.wordlist = Some("/nonexistent/words.txt".into());
    let err = scan::scan(&opts).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/words.txt"), "{err}");
}

/// A TLS server with a self-signed certificate, expired, for another name.
fn bad_tls_server() -> String {
    let mut params =
        rcgen::CertificateParams::new(vec!["expired.invalid".to_string()]).expect("params");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let config = common::self_signed_tls(params);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf);
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    format!("https://{addr}/")
}

#[test]
fn a_bad_certificate_is_reported_not_fatal() {
    let url = bad_tls_server();
    let start = Instant::now();
    let report = scan::scan(&options(&url)).expect("scan over a bad certificate");
    assert!(start.elapsed() < Duration::from_secs(15));
    let checks: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.control == "TLS003")
        .map(|f| f.check.as_str())
        .collect();
    for expected in [
        "certificate-self-signed",
        "certificate-expired",
        "certificate-wrong-host",
        "tls-legacy-protocols-not-tested",
    ] {
        assert!(checks.contains(&expected), "{expected} not in {checks:?}");
    }
    // HSTS cannot work over an invalid certificate; that is a score line, not a finding.
    assert!(!report.findings.iter().any(|f| f.control == "HDR001"));
}
