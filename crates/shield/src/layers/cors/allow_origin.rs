//! Which origins are allowed: exact origins and anchored subdomain patterns.
//!
//! An origin is `scheme://host[:port]`, compared after the serialisation browsers
//! use (lower case, default port omitted). A pattern `https://*.example.com`
//! matches `https://a.example.com` and `https://a.b.example.com`: the host must end
//! with `.example.com` and have at least one whole label before it, the scheme and
//! port must be equal. So `https://example.com.evil.test`,
//! `https://evilexample.com` and `https://example.com` (the bare domain; list it
//! separately if wanted) do not match. `null` (sandboxed frames, `file:` pages,
//! redirects) is never allowed: any site can produce it.
//!
//! This list is also CSRF's default list of trusted origins.

use std::collections::HashSet;

/// A subdomain pattern: scheme, the suffix after `*` (`.example.com`), and the
/// port part (`:8443` or "").
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    scheme: String,
    suffix: String,
    port: String,
}

/// The allowed origins of one policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowOrigin {
    /// `*`: any origin, never with credentials or cookies.
    pub any: bool,
    exact: HashSet<String>,
    patterns: Vec<Pattern>,
}

/// The serialisation a browser sends, or an error saying what is wrong.
/// Accepts `https://Host:443` and returns `https://host`.
pub fn normalize(origin: &str) -> Result<String, String> {
    let o = origin.trim();
    let (scheme, rest) = o
        .split_once("://")
        .ok_or_else(|| format!("`{o}` is not an origin (write scheme://host[:port])"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return Err(format!("`{o}`: the scheme must be http or https")),
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "`{o}`: an origin is scheme://host[:port] with no path, query or credentials"
        ));
    }
    let rest = rest.to_ascii_lowercase();
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') && h.contains(':') => (rest.as_str(), ""),
        Some((h, p)) => (h, p),
        None => (rest.as_str(), ""),
    };
    if !port.is_empty() && (port.parse::<u16>().is_err() || port.starts_with('0')) {
        return Err(format!("`{o}`: bad port"));
    }
    let host_ok = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'*'));
    if !host_ok || host.starts_with('.') || host.ends_with('.') || host.contains("..") {
        return Err(format!(
            "`{o}`: not a host name (internationalised names go in punycode, xn--…)"
        ));
    }
    Ok(if port.is_empty() || port == default_port {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{port}")
    })
}

impl AllowOrigin {
    /// Parses a list. Errors carry the list index.
    pub fn new<S: AsRef<str>>(items: &[S]) -> Result<AllowOrigin, (usize, String)> {
        let mut a = AllowOrigin::default();
        for (i, item) in items.iter().enumerate() {
            let t = item.as_ref().trim();
            if t == "*" {
                a.any = true;
                continue;
            }
            if t.eq_ignore_ascii_case("null") {
                return Err((
                    i,
                    "`null` is the origin of sandboxed frames and file: pages, which any site can produce; it is never allowed".into(),
                ));
            }
            let n = normalize(t).map_err(|e| (i, e))?;
            match n.find('*') {
                None => {
                    a.exact.insert(n);
                }
                Some(_) => a.patterns.push(pattern(&n).map_err(|e| (i, e))?),
            }
        }
        if a.any && (items.len() > 1) {
            return Err((0, "`*` allows every origin: list it alone".into()));
        }
        Ok(a)
    }

    pub fn is_empty(&self) -> bool {
        !self.any && self.exact.is_empty() && self.patterns.is_empty()
    }

    /// The exact origins (for CSRF's trusted list).
    pub fn exact(&self) -> impl Iterator<Item = &str> {
        self.exact.iter().map(String::as_str)
    }

    /// Whether a request's `Origin` value is allowed (exact or pattern; `*` is
    /// handled by the caller, which sends `*` instead of the origin).
    pub fn allows(&self, origin: &[u8]) -> bool {
        let Ok(o) = std::str::from_utf8(origin) else {
            return false;
        };
        if o.bytes().any(|b| b.is_ascii_uppercase()) {
            return match normalize(o) {
                Ok(n) if !n.contains('*') => self.allows_normalized(&n),
                _ => false,
            };
        }
        self.allows_normalized(o)
    }

    fn allows_normalized(&self, o: &str) -> bool {
        if o.contains('*') {
            return false;
        }
        if self.exact.contains(o) {
            return true;
        }
        self.patterns.iter().any(|p| {
            let Pattern {
                scheme,
                suffix,
                port,
            } = p;
            {
                let Some(rest) = o
                    .strip_prefix(scheme.as_str())
                    .and_then(|r| r.strip_prefix("://"))
                else {
                    return false;
                };
                let (host, p) = match rest.rsplit_once(':') {
                    Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, format!(":{p}")),
                    _ => (rest, String::new()),
                };
                if p != *port {
                    return false;
                }
                match host.strip_suffix(suffix.as_str()) {
                    Some(label) => {
                        !label.is_empty()
                            && !label.starts_with('.')
                            && !label.ends_with('.')
                            && !label.contains("..")
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                    }
                    None => false,
                }
            }
        })
    }
}

fn pattern(n: &str) -> Result<Pattern, String> {
    let (scheme, rest) = n.split_once("://").unwrap_or(("", n));
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, format!(":{p}")),
        None => (rest, String::new()),
    };
    let Some(base) = host.strip_prefix("*.") else {
        return Err(format!(
            "`{n}`: `*` may only stand for the leftmost labels (https://*.example.com)"
        ));
    };
    if base.contains('*') || base.split('.').count() < 2 {
        return Err(format!(
            "`{n}`: the part after `*.` must be a registrable domain with at least two labels"
        ));
    }
    Ok(Pattern {
        scheme: scheme.to_string(),
        suffix: format!(".{base}"),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_a_browser() {
        assert_eq!(
            normalize("HTTPS://App.Example.COM:443").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            normalize("http://a.test:8080").unwrap(),
            "http://a.test:8080"
        );
        assert_eq!(normalize("http://[::1]:80").unwrap(), "http://[::1]");
        for bad in [
            "app.example.com",
            "ftp://x",
            "https://x/path",
            "https://u@x",
            "https://x:99999",
            "https://x?q",
        ] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exact_and_anchored_patterns() {
        let a = AllowOrigin::new(&["https://app.example.com", "https://*.example.com"]).unwrap();
        for (o, want) in [
            ("https://app.example.com", true),
            ("https://eu.example.com", true),
            ("https://a.b.example.com", true),
            ("https://APP.example.com", true),
            ("https://example.com", false),
            ("http://eu.example.com", false),
            ("https://eu.example.com:8443", false),
            ("https://example.com.evil.test", false),
            ("https://evilexample.com", false),
            ("https://eu.example.com.evil.test", false),
            ("https://app.example.co", false),
            ("https://app.example.company", false),
            ("null", false),
            ("https://*.example.com", false),
            ("https://.example.com", false),
        ] {
            assert_eq!(a.allows(o.as_bytes()), want, "{o}");
        }
    }

    #[test]
    fn refusals() {
        assert!(AllowOrigin::new(&["null"])
            .unwrap_err()
            .1
            .contains("never allowed"));
        assert!(AllowOrigin::new(&["https://*.com"]).is_err());
        assert!(AllowOrigin::new(&["https://a.*.com"]).is_err());
        assert_eq!(
            AllowOrigin::new(&["https://ok.test", "*"]).unwrap_err().0,
            0
        );
        assert!(AllowOrigin::new(&["*"]).unwrap().any);
        assert!(AllowOrigin::new::<&str>(&[]).unwrap().is_empty());
    }
}
