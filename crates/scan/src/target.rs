//! What a scan is pointed at: a parsed target URL and the endpoints derived from it.
//!
//! Every request the scanner sends goes to a target's own host. [`Endpoint`] is the
//! (scheme, host, port) triple the client connects to; only the transport check
//! uses a second endpoint, the same host over the other scheme.

use std::fmt;

use url::Url;

/// Where to connect: scheme, host and port. The host is what TLS names and what the
/// `Host` header carries by default.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub https: bool,
    /// A DNS name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    fn default_port(&self) -> u16 {
        if self.https {
            443
        } else {
            80
        }
    }

    /// `host[:port]` as it goes into a `Host` header (port omitted when default).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// `scheme://authority`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme(), self.authority())
    }

    /// An absolute URL for a path (and query) on this endpoint.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.origin(), path_and_query)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())
    }
}

/// A scan target: the URL the user gave, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given (normalised by the URL parser).
    pub url: String,
    pub endpoint: Endpoint,
    /// Path and query of the target URL (`/` at least).
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: {reason}")]
pub struct TargetError {
    pub input: String,
    pub reason: String,
}

impl Target {
    /// Parses `http://` or `https://` URLs with a host. Anything else (no scheme,
    /// another scheme, user info) is refused with a reason.
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        let err = |reason: &str| TargetError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = input.trim();
        if !trimmed.contains("://") {
            return Err(err(
                "unparsable URL: expected http://HOST[:PORT][/PATH] or https://...",
            ));
        }
        let url = Url::parse(trimmed).map_err(|e| err(&format!("unparsable URL: {e}")))?;
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(err(&format!(
                    "unsupported scheme `{other}` (use http or https)"
                )))
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("credentials in the URL are not supported"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(err("the URL has no host")),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        let mut path = url.path().to_string();
        if path.is_empty() {
            path.push('/');
        }
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        Ok(Target {
            url: url.to_string(),
            endpoint: Endpoint { https, host, port },
            path,
        })
    }

    /// The target's own URL for a path on its host.
    pub fn url_for(&self, path_and_query: &str) -> String {
        self.endpoint.url(path_and_query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let t = Target::parse("http://127.0.0.1:8000").unwrap();
        assert_eq!(t.endpoint.authority(), "127.0.0.1:8000");
        assert_eq!(t.path, "/");
        let t = Target::parse("https://Example.COM/api/v1?x=1").unwrap();
        assert_eq!(t.endpoint.host, "example.com");
        assert_eq!(t.endpoint.port, 443);
        assert_eq!(t.endpoint.authority(), "example.com");
        assert_eq!(t.path, "/api/v1?x=1");
        let t = Target::parse("http://[::1]:9/").unwrap();
        assert_eq!(t.endpoint.authority(), "[::1]:9");
    }

    #[test]
    fn refuses_bad_input_with_a_reason() {
        for bad in [
            "example.com",
            "ftp://x/",
            "http://",
            "http://u:p@h/",
            "http://exa mple/",
        ] {
            let e = Target::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with(bad), "{e}");
        }
    }
}
