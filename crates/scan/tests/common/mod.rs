//! Pieces the scan's integration tests share: reading a request head off a raw
//! socket, and a TLS server configuration with a self-signed certificate.

#![allow(dead_code)]

use std::{io::Read, sync::Arc};

/// The request head (up to the blank line, at most 64 KiB), read a byte at a
/// time so no byte of the body is consumed.
pub fn read_head(s: &mut impl Read) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") && buf.len() < 64 * 1024 {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A rustls server configuration with a certificate made from `params`, signed
/// by its own key.
pub fn self_signed_tls(params: rcgen::CertificateParams) -> Arc<rustls::ServerConfig> {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    let certs = vec![rustls::pki_types::CertificateDer::from(cert.der().to_vec())];
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("key der");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config"),
    )
}
