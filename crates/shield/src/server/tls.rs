//! TLS003: rustls from PEM files, TLS 1.2 and 1.3 only, ALPN h2 and http/1.1.

use std::{path::Path, sync::Arc};

use rustls::{
    pki_types::{CertificateDer, PrivateKeyDer},
    ServerConfig,
};

use crate::config::ConfigError;

fn read(path: &Path, key: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::new(key, format!("{}: {e}", path.display())))
}

/// Loads the certificate chain and key into a server config.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, ConfigError> {
    let cert_pem = read(cert, "shield.tls.cert")?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| {
            ConfigError::new(
                "shield.tls.cert",
                format!("{}: not PEM: {e}", cert.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(ConfigError::new(
            "shield.tls.cert",
            format!("{}: no certificate found", cert.display()),
        ));
    }
    let key_pem = read(key, "shield.tls.key")?;
    let private: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| {
            ConfigError::new("shield.tls.key", format!("{}: not PEM: {e}", key.display()))
        })?
        .ok_or_else(|| {
            ConfigError::new(
                "shield.tls.key",
                format!("{}: no private key found", key.display()),
            )
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ConfigError::new("shield.tls", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| {
            ConfigError::new(
                "shield.tls.key",
                format!("does not match the certificate or is unusable: {e}"),
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
