//! TLS for the scanner: a rustls client that records certificate problems instead
//! of failing on them, so a scan of a server with an expired, self-signed or
//! wrongly named certificate still runs and TLS003 can say exactly what is wrong.
//!
//! The handshake signatures are still verified (a peer must prove it holds the
//! certificate's key); only the trust decision is turned into a record. What a
//! rustls client cannot test is listed in [`LIMITS`].

use std::sync::{Arc, Mutex};

use rustls::{
    client::{
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
        WebPkiServerVerifier,
    },
    pki_types::{CertificateDer, ServerName, UnixTime},
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// What a rustls-based client cannot observe about a server's TLS, said plainly in
/// reports and docs.
pub const LIMITS: &str = "rustls speaks only TLS 1.2 and 1.3 with modern cipher suites, so a scan \
cannot tell whether the server also accepts SSL 3, TLS 1.0 or 1.1, weak or export ciphers, \
insecure renegotiation or compression; it does not check OCSP stapling or revocation. Use a \
dedicated TLS scanner (testssl.sh, sslyze) for those.";

/// What was seen of one server certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRecord {
    /// The name the client asked for (SNI / expected host).
    pub server_name: String,
    /// Why the Web PKI (Mozilla's roots, via webpki) does not trust the chain.
    pub trust_error: Option<String>,
    pub subject: String,
    pub issuer: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// DNS names and IP addresses the certificate is valid for.
    pub names: Vec<String>,
    pub self_signed: bool,
    /// Whether `server_name` matches one of `names`.
    pub name_matches: bool,
    /// The certificate could not be parsed at all.
    pub parse_error: Option<String>,
}

/// The negotiated parameters of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    pub protocol: String,
    pub cipher: String,
}

/// Shared log of certificates seen during a scan.
pub type CertLog = Arc<Mutex<Vec<CertRecord>>>;

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    log: CertLog,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let trust_error = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .err()
            .map(|e| e.to_string());
        let name = server_name_text(server_name);
        let record = inspect(end_entity.as_ref(), &name, trust_error);
        if let Ok(mut log) = self.log.lock() {
            if !log.contains(&record) {
                log.push(record);
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn server_name_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => String::new(),
    }
}

/// A client configuration that trusts Mozilla's roots for the record but never
/// aborts a handshake over the certificate. HTTP/1.1 only.
pub fn client_config(log: CertLog) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
    let verifier = Arc::new(RecordingVerifier { inner, log });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads what matters for TLS003 out of a DER certificate.
pub fn inspect(der: &[u8], server_name: &str, trust_error: Option<String>) -> CertRecord {
    let mut record = CertRecord {
        server_name: server_name.to_string(),
        trust_error,
        subject: String::new(),
        issuer: String::new(),
        not_before: 0,
        not_after: 0,
        names: Vec::new(),
        self_signed: false,
        name_matches: false,
        parse_error: None,
    };
    let cert = match X509Certificate::from_der(der) {
        Ok((_, cert)) => cert,
        Err(e) => {
            record.parse_error = Some(e.to_string());
            return record;
        }
    };
    record.subject = cert.subject().to_string();
    record.issuer = cert.issuer().to_string();
    record.not_before = cert.validity().not_before.timestamp();
    record.not_after = cert.validity().not_after.timestamp();
    record.self_signed = cert.subject() == cert.issuer();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => record.names.push(d.to_ascii_lowercase()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        record.names.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    if record.names.is_empty() {
        // Legacy certificates name the host only in the subject's CN.
        for cn in cert.subject().iter_common_name() {
            if let Ok(s) = cn.as_str() {
                record.names.push(s.to_ascii_lowercase());
            }
        }
    }
    record.name_matches = record
        .names
        .iter()
        .any(|n| name_matches(n, &server_name.to_ascii_lowercase()));
    record
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => {
            let a: [u8; 4] = bytes.try_into().ok()?;
            Some(std::net::IpAddr::from(a))
        }
        16 => {
            let a: [u8; 16] = bytes.try_into().ok()?;
            Some(std::net::IpAddr::from(a))
        }
        _ => None,
    }
}

/// RFC 6125 matching: exact, or a `*.` wildcard standing for exactly one leftmost
/// label (never for an IP address).
pub fn name_matches(pattern: &str, host: &str) -> bool {
    if pattern == host {
        return true;
    }
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return false;
    };
    if host.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    match host.split_once('.') {
        Some((label, rest)) => !label.is_empty() && rest == suffix,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("*.example.com", "api.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(name_matches("example.com", "example.com"));
        assert!(!name_matches("*.0.0.1", "127.0.0.1"));
    }

    #[test]
    fn garbage_certificates_are_recorded_not_fatal() {
        let r = inspect(b"not a certificate", "example.com", None);
        assert!(r.parse_error.is_some());
        assert!(!r.name_matches);
    }
}
