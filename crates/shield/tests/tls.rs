//! TLS termination (rustls, certificates from rcgen): HTTP/2 and HTTP/1.1 by ALPN,
//! HSTS on HTTPS, the plain listener's redirect, certificate reload, and HTTP/2
//! connections that never send a request (or stop sending them) being closed.

mod support;

use std::{
    io::{ErrorKind, Read, Write},
    net::TcpStream,
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use rustls::pki_types::{pem::PemObject, CertificateDer};
use support::{echo::Echo, settings_for, TestShield};
use testkit::http_get;

fn write_cert(dir: &Path, tag: &str) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let cert = dir.join(format!("{tag}.pem"));
    let key = dir.join(format!("{tag}.key"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    (cert, key, ck.cert.der().to_vec())
}

fn roots(ca_pem: &Path) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    roots
}

fn client(
    ca_pem: &Path,
    h2: bool,
) -> Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
> {
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots(ca_pem))
    .with_no_client_auth();
    let b = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(cfg)
        .https_only();
    let conn = if h2 {
        b.enable_http2().build()
    } else {
        b.enable_http1().build()
    };
    let mut builder = Client::builder(TokioExecutor::new());
    if h2 {
        builder.http2_only(true);
    }
    builder.build(conn)
}

#[test]
fn http2_and_http1_over_tls_with_redirect_and_cert_reload() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der1) = write_cert(dir.path(), "a");
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.listen = format!("127.0.0.1:{}", testkit::free_port());
    cfg.tls.cert = Some(cert.clone());
    cfg.tls.key = Some(key.clone());
    cfg.tls.redirect_listen = Some(format!("127.0.0.1:{}", testkit::free_port()));
    let shield = TestShield::start(cfg);
    let port = shield.addr.port();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    rt.block_on(async {
        for h2 in [true, false] {
            let c = client(&cert, h2);
            let req = hyper::Request::post(format!("https://127.0.0.1:{port}/echo"))
                .header("content-type", "application/octet-stream")
                .body(Full::new(Bytes::from_static(b"over tls")))
                .unwrap();
            let resp = c.request(req).await.expect("TLS request");
            assert_eq!(
                resp.version(),
                if h2 {
                    hyper::Version::HTTP_2
                } else {
                    hyper::Version::HTTP_11
                }
            );
            assert_eq!(resp.status(), 200);
            assert_eq!(
                resp.headers()["strict-transport-security"],
                "max-age=31536000; includeSubDomains"
            );
            assert!(resp.headers().get("server").is_none());
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"over tls");
        }
        // Headers the upstream got: it sees https and the client.
        let c = client(&cert, true);
        let resp = c
            .request(
                hyper::Request::get(format!("https://127.0.0.1:{port}/headers"))
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
            )
            .await
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(v["x-forwarded-proto"], serde_json::json!(["https"]));
        assert_eq!(v["host"], serde_json::json!([format!("127.0.0.1:{port}")]));
    });

    // The plain listener only redirects, to the TLS port, same host and path.
    let redirect = shield.handle().redirect_addr.unwrap();
    let r = http_get(redirect, "/orders?page=2", &[("Host", "127.0.0.1")]).unwrap();
    assert_eq!(r.status, 308);
    assert_eq!(
        r.header("location"),
        Some(format!("https://127.0.0.1:{port}/orders?page=2").as_str())
    );
    assert_eq!(echo.hits(), 3);

    // New certificate files + reload: new connections get the new certificate.
    let (cert2, key2, der2) = write_cert(dir.path(), "b");
    std::fs::copy(&cert2, &cert).unwrap();
    std::fs::copy(&key2, &key).unwrap();
    assert_ne!(der1, der2);
    shield.handle().reload().unwrap();
    rt.block_on(async {
        let c = client(&cert2, true);
        let resp = c
            .request(
                hyper::Request::get(format!("https://127.0.0.1:{port}/"))
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
            )
            .await;
        assert!(
            resp.is_ok(),
            "client trusting only the new certificate failed: {resp:?}"
        );
    });
}

#[test]
fn bad_tls_files_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let mut cfg = settings_for("http://127.0.0.1:9");
    cfg.tls.cert = Some(junk.clone());
    cfg.tls.key = Some(junk);
    let e = shield::check(&cfg).unwrap_err();
    assert!(e.contains("shield.tls.cert"), "{e}");
}

type RawTls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A TLS connection that negotiated HTTP/2 and has sent nothing yet.
fn raw_h2(addr: std::net::SocketAddr, ca_pem: &Path) -> RawTls {
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots(ca_pem))
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("TLS handshake");
    }
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"h2"[..]));
    tls
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// [`raw_h2`] that has sent the client preface and an empty SETTINGS frame.
fn raw_h2_opened(addr: std::net::SocketAddr, ca_pem: &Path) -> RawTls {
    let mut tls = raw_h2(addr, ca_pem);
    tls.write_all(PREFACE).unwrap();
    tls.write_all(&frame(SETTINGS, 0, 0, &[])).unwrap();
    tls
}

/// An HTTP/2 frame: 24-bit length, type, flags, stream id.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

const SETTINGS: u8 = 0x4;
const HEADERS: u8 = 0x1;
const PING: u8 = 0x6;

/// Reads (discarding the server's SETTINGS, PING acks, GOAWAY) until the server
/// closes the connection, calling `between` every 100 ms; false if it is still
/// open after `limit`.
fn closed_within(tls: &mut RawTls, limit: Duration, mut between: impl FnMut(&mut RawTls)) -> bool {
    tls.sock
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match tls.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
        between(tls);
    }
    false
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn http2_connections_without_a_request_are_closed_after_header_read() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = write_cert(dir.path(), "h2");
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.tls.cert = Some(cert.clone());
    cfg.tls.key = Some(key);
    cfg.timeouts.header_read = shield::config::Dur::from_millis(500);
    let shield = TestShield::start(cfg);
    // Generous bound (the timeout is 500 ms): a resource bound, not a speed claim.
    let limit = Duration::from_secs(10);

    // TLS and ALPN h2, then silence.
    let mut silent = raw_h2(shield.addr, &cert);
    assert!(
        closed_within(&mut silent, limit, |_| {}),
        "an h2 connection that sent nothing after TLS stayed open"
    );

    // The preface and SETTINGS, then nothing.
    let mut preface = raw_h2_opened(shield.addr, &cert);
    assert!(
        closed_within(&mut preface, limit, |_| {}),
        "an h2 connection that sent only the preface stayed open"
    );

    // Slowloris over h2: a HEADERS frame without END_HEADERS, never continued.
    let mut partial = raw_h2_opened(shield.addr, &cert);
    // :method GET, :scheme https (HPACK static table), and no END_HEADERS flag.
    partial
        .write_all(&frame(HEADERS, 0, 1, &[0x82, 0x87]))
        .unwrap();
    assert!(
        closed_within(&mut partial, limit, |_| {}),
        "an h2 connection with an unfinished HEADERS frame stayed open"
    );

    // Busy at the frame level (a PING every 100 ms, which h2 answers) but never a
    // request: still closed.
    let mut pinger = raw_h2_opened(shield.addr, &cert);
    assert!(
        closed_within(&mut pinger, limit, |t| {
            let _ = t.write_all(&frame(PING, 0, 0, b"flaskgrd"));
        }),
        "an h2 connection sending only PINGs stayed open"
    );

    assert!(
        wait_until(limit, || shield.handle().open_connections() == 0),
        "{} connection(s) still open",
        shield.handle().open_connections()
    );
    assert_eq!(echo.hits(), 0);
}

#[test]
fn http2_requests_still_work_and_an_idle_connection_is_closed_after_idle() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = write_cert(dir.path(), "h2");
    let echo = Echo::start();
    let mut cfg = settings_for(&echo.url());
    cfg.tls.cert = Some(cert.clone());
    cfg.tls.key = Some(key);
    cfg.timeouts.header_read = shield::config::Dur::from_millis(500);
    cfg.timeouts.idle = shield::config::Dur::from_secs(1);
    let shield = TestShield::start(cfg);
    let port = shield.addr.port();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = client(&cert, true);
    rt.block_on(async {
        // A request whose answer takes longer than both header_read and idle: an
        // open stream keeps the connection alive.
        for path in ["/echo", "/slow?ms=1500", "/echo"] {
            let req = hyper::Request::post(format!("https://127.0.0.1:{port}{path}"))
                .header("content-type", "application/octet-stream")
                .body(Full::new(Bytes::from_static(b"h2")))
                .unwrap();
            let resp = c.request(req).await.expect("h2 request");
            assert_eq!(resp.version(), hyper::Version::HTTP_2);
            assert_eq!(resp.status(), 200, "{path}");
            resp.into_body().collect().await.unwrap();
        }
    });
    assert_eq!(echo.hits(), 3);
    // One pooled connection served all three.
    assert_eq!(shield.handle().open_connections(), 1);
    // The client keeps it in its pool (90 s); shield closes it after `idle`. The
    // client's runtime must run for it to see the GOAWAY and close its end.
    let closed = rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if shield.handle().open_connections() == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    });
    assert!(closed, "an idle h2 connection stayed open");
    drop(c);
}
