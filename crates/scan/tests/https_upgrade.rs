//! A plain-HTTP target that redirects to HTTPS on the same host: the site
//! behind the redirect is what gets probed, and the plain-HTTP entry point is
//! still what the transport checks judge. Servers run on 127.0.0.1 on threads
//! that live until the test process ends.

mod common;

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    time::{Duration, Instant},
};

use scan::ScanOptions;

fn request_path(s: &mut impl Read) -> String {
    let head = common::read_head(s);
    head.split_whitespace().nth(1).unwrap_or("/").to_string()
}

/// An HTTPS server (self-signed for 127.0.0.1) that serves a dotenv file at
/// `/.env` and an empty JSON object elsewhere. Returns its port.
fn https_site() -> u16 {
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    let config = common::self_signed_tls(params);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let path = request_path(&mut tls);
                let (ct, body) = if path == "/.env" {
                    (
                        "text/plain",
                        "SECRET_KEY=not-for-you\nDATABASE_URL=postgres://u:p@db/app\n",
                    )
                } else {
                    ("application/json", "{}")
                };
                let _ = tls.write_all(
                    format!(
                        "HTTP/1.1 {}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        if path == "/.env" || path == "/" { "200 OK" } else { "404 Not Found" },
                        body.len()
                    )
                    .as_bytes(),
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

/// Plain HTTP that redirects every request to the same path on `https_port`.
fn redirector(https_port: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s: TcpStream = stream;
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let path = request_path(&mut s);
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 301 Moved Permanently\r\nLocation: https://127.0.0.1:{https_port}{path}\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                );
            });
        }
    });
    format!("http://{addr}/")
}

#[test]
fn an_http_target_redirecting_to_https_is_probed_over_https() {
    let port = https_site();
    let url = redirector(port);
    let start = Instant::now();
    let report = scan::scan(&ScanOptions {
        targets: vec![url.clone()],
        timeout: Duration::from_secs(2),
        budget: Duration::from_secs(20),
        ..ScanOptions::default()
    })
    .expect("scan");
    assert!(start.elapsed() < Duration::from_secs(15));
    let env = report
        .findings
        .iter()
        .find(|f| f.check == "exposed-env-file")
        .unwrap_or_else(|| {
            panic!(
                "the .env on the HTTPS site is found: {:#?}",
                report.findings
            )
        });
    let at = format!("https://127.0.0.1:{port}/.env");
    assert!(
        format!("{:?}", env.location).contains(&at),
        "{:?}",
        env.location
    );
    // The redirect itself is right: no TLS001 finding.
    assert!(
        !report.findings.iter().any(|f| f.control == "TLS001"),
        "{:#?}",
        report.findings
    );
}
