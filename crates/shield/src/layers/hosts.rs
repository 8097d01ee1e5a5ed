//! PRX002: only the configured host names reach the app.
//!
//! The host is the one proxy_trust resolved (`Host`, `:authority`, or a trusted
//! `X-Forwarded-Host`), compared without port and case. `*.example.com` matches
//! any subdomain of example.com (not example.com itself). An empty list allows
//! every host; the server warns about it at start.

use http::{request, StatusCode};

use crate::{
    config::ConfigError,
    context::Context,
    layer::{Flow, RequestLayer},
    reply::Rejection,
};

pub const CONTROL: &str = "PRX002";

#[derive(Debug, Clone)]
enum Pattern {
    Exact(String),
    /// `.example.com` (from `*.example.com`).
    Suffix(String),
}

/// The PRX002 layer.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    patterns: Vec<Pattern>,
}

impl AllowedHosts {
    pub fn new(hosts: &[String]) -> Result<AllowedHosts, ConfigError> {
        let mut patterns = Vec::with_capacity(hosts.len());
        for (i, h) in hosts.iter().enumerate() {
            let key = format!("shield.allowed_hosts[{i}]");
            let h = h.trim().to_ascii_lowercase();
            if h == "*" {
                return Err(ConfigError::new(key, "`*` allows every host; leave allowed_hosts empty to allow all (with a warning)"));
            }
            let (wild, name) = match h.strip_prefix("*.") {
                Some(rest) => (true, rest),
                None => (false, h.as_str()),
            };
            let valid = !name.is_empty()
                && (name.starts_with('[') && name.ends_with(']')
                    || name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'));
            if !valid || name.contains('*') {
                return Err(ConfigError::new(key, format!("`{h}` is not a host name (write `api.example.com` or `*.example.com`, no port or scheme)")));
            }
            patterns.push(if wild {
                Pattern::Suffix(format!(".{name}"))
            } else {
                Pattern::Exact(name.to_string())
            });
        }
        Ok(AllowedHosts { patterns })
    }

    pub fn is_open(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `host` is lower-case, without port.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.patterns.iter().any(|p| match p {
            Pattern::Exact(e) => e == host,
            Pattern::Suffix(s) => host.ends_with(s.as_str()) && host.len() > s.len(),
        })
    }
}

impl RequestLayer for AllowedHosts {
    fn name(&self) -> &'static str {
        "hosts"
    }

    fn check(&self, _head: &mut request::Parts, cx: &mut Context) -> Flow {
        if self.is_open() {
            return Flow::Continue;
        }
        match cx.host.as_deref() {
            Some(h) if self.allows(h) => Flow::Continue,
            other => Flow::Reject(Rejection::new(
                StatusCode::BAD_REQUEST,
                "host_not_allowed",
                "this host name is not served here",
                CONTROL,
                format!("Host `{}` is not in allowed_hosts", other.unwrap_or("")),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcard() {
        let a = AllowedHosts::new(&["API.example.com".into(), "*.shop.example".into()]).unwrap();
        assert!(a.allows("api.example.com"));
        assert!(a.allows("api.example.com."));
        assert!(!a.allows("evil.example"));
        assert!(a.allows("eu.shop.example"));
        assert!(!a.allows("shop.example"));
        assert!(!a.allows("evilshop.example"));
    }

    #[test]
    fn rejects_bad_entries() {
        assert_eq!(
            AllowedHosts::new(&["ok".into(), "*".into()])
                .unwrap_err()
                .key,
            "shield.allowed_hosts[1]"
        );
        assert!(AllowedHosts::new(&["https://x".into()]).is_err());
        assert!(AllowedHosts::new(&["x:80".into()]).is_err());
    }
}
