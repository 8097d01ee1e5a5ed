//! TLS termination (rustls, certificates from rcgen): HTTP/2 and HTTP/1.1 by ALPN,
//! HSTS on HTTPS, the plain listener's redirect, and certificate reload.

mod support;

use std::{path::Path, sync::Arc};

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

fn client(
    ca_pem: &Path,
    h2: bool,
) -> Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
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
