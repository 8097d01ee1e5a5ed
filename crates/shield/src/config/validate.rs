//! Checks of the whole `[shield]` section that no single layer owns: addresses,
//! the upstream, TLS files, cross-layer combinations. Layer-specific checks live in
//! each layer's constructor and report through the same [`ConfigError`].

use std::{net::SocketAddr, path::PathBuf};

use super::{Preset, Settings};

/// An invalid or dangerous setting, naming its key path (`shield.limits.max_body_bytes`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Where the upstream app listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamTarget {
    /// `http://host:port` (the authority is also the default `Host` for HTTP/2 clients).
    Tcp { authority: http::uri::Authority },
    /// `unix:/path` (gunicorn `--bind unix:/path`).
    Unix { path: PathBuf },
}

/// The parts of the configuration the server needs besides the pipeline.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The effective settings (presets resolved).
    pub settings: Settings,
    pub listen: SocketAddr,
    pub upstream: UpstreamTarget,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub redirect_listen: Option<SocketAddr>,
    pub admin_listen: Option<SocketAddr>,
    /// Things that are allowed but worth a line at start.
    pub warnings: Vec<String>,
}

fn addr(key: &str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse().map_err(|_| {
        ConfigError::new(
            key,
            format!("`{text}` is not an address with a port (e.g. 127.0.0.1:8080 or [::1]:8080)"),
        )
    })
}

/// Parses `upstream`.
pub fn upstream(text: &str) -> Result<UpstreamTarget, ConfigError> {
    const KEY: &str = "shield.upstream";
    if let Some(path) = text.strip_prefix("unix:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(ConfigError::new(KEY, "`unix:` needs a socket path"));
        }
        return Ok(UpstreamTarget::Unix { path: path.into() });
    }
    let uri: http::Uri = text.parse().map_err(|_| {
        ConfigError::new(
            KEY,
            format!("`{text}` is not a URL (http://127.0.0.1:8000 or unix:/path)"),
        )
    })?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(ConfigError::new(
                KEY,
                "https upstreams are not supported: shield sits next to the app; use http:// on loopback or a unix socket",
            ))
        }
        _ => return Err(ConfigError::new(KEY, format!("`{text}` must start with http:// or unix:"))),
    }
    if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return Err(ConfigError::new(
            KEY,
            "the upstream URL may not have a path or query",
        ));
    }
    let authority = uri
        .authority()
        .cloned()
        .ok_or_else(|| ConfigError::new(KEY, "the upstream URL needs a host"))?;
    if authority.as_str().contains('@') {
        return Err(ConfigError::new(
            KEY,
            "the upstream URL may not carry credentials",
        ));
    }
    Ok(UpstreamTarget::Tcp { authority })
}

/// Validates the section (layer constructors check their own tables later, in
/// [`crate::Pipeline::build`]).
pub fn validate(settings: &Settings) -> Result<Validated, ConfigError> {
    let s = settings.effective();
    let listen = addr("shield.listen", &s.listen)?;
    let upstream = upstream(&s.upstream)?;
    let tls = match (&s.tls.cert, &s.tls.key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ConfigError::new(
                "shield.tls.key",
                "`cert` is set but `key` is not",
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "shield.tls.cert",
                "`key` is set but `cert` is not",
            ))
        }
    };
    let redirect_listen = s
        .tls
        .redirect_listen
        .as_deref()
        .map(|a| addr("shield.tls.redirect_listen", a))
        .transpose()?;
    if redirect_listen.is_some() && tls.is_none() {
        return Err(ConfigError::new(
            "shield.tls.redirect_listen",
            "redirecting to HTTPS needs shield to terminate TLS (set shield.tls.cert and shield.tls.key)",
        ));
    }
    let admin_listen = s
        .admin
        .listen
        .as_deref()
        .map(|a| addr("shield.admin.listen", a))
        .transpose()?;
    for (key, other) in [
        ("shield.admin.listen", admin_listen),
        ("shield.tls.redirect_listen", redirect_listen),
    ] {
        if let Some(o) = other.filter(|o| o.port() != 0) {
            if o == listen
                || (o.port() == listen.port()
                    && (o.ip().is_unspecified() || listen.ip().is_unspecified()))
            {
                return Err(ConfigError::new(
                    key,
                    format!("{o} is the public listener's address; it must differ"),
                ));
            }
        }
    }
    if let (Some(a), Some(r)) = (admin_listen, redirect_listen) {
        if a == r {
            return Err(ConfigError::new(
                "shield.admin.listen",
                "must differ from shield.tls.redirect_listen",
            ));
        }
    }
    if let UpstreamTarget::Tcp { authority } = &upstream {
        let port = authority.port_u16().unwrap_or(80);
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let same_host =
            host == listen.ip().to_string() || (host == "localhost" && listen.ip().is_loopback());
        if port == listen.port() && (same_host || listen.ip().is_unspecified()) {
            return Err(ConfigError::new(
                "shield.upstream",
                "points at shield's own listener (a loop)",
            ));
        }
    }
    let mut warnings = Vec::new();
    if s.allowed_hosts.is_empty() {
        warnings.push(
            "shield.allowed_hosts is not set: every Host is allowed (PRX002); list your host names to block Host header attacks".into(),
        );
    }
    let eff = s.effective();
    let policies = std::iter::once((
        "shield.headers.content_security_policy".to_string(),
        eff.headers
            .content_security_policy
            .clone()
            .unwrap_or_default(),
    ))
    .chain(eff.headers.routes.iter().enumerate().map(|(i, r)| {
        (
            format!("shield.headers.routes[{i}].content_security_policy"),
            r.content_security_policy.clone(),
        )
    }));
    for (key, policy) in policies {
        if crate::layers::headers::allows_eval(&policy) {
            warnings.push(format!(
                "{key} allows 'unsafe-eval': the page's own scripts may run strings as code (some template libraries need it, e.g. underscore's _.template), so an injection into such a string runs; drop it when the pages work without it"
            ));
        }
    }
    if s.headers.preset == Preset::Api && s.headers.csp_nonce == Some(true) {
        warnings.push(
            "shield.headers.csp_nonce is on under the api preset: only HTML responses get nonces"
                .into(),
        );
    }
    Ok(Validated {
        settings: s,
        listen,
        upstream,
        tls,
        redirect_listen,
        admin_listen,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_warn_about_hosts() {
        let v = validate(&Settings::default()).unwrap();
        assert_eq!(v.listen.to_string(), "127.0.0.1:8080");
        assert!(v.warnings[0].contains("allowed_hosts"));
    }

    #[test]
    fn unsafe_eval_is_allowed_with_a_warning() {
        let mut s = Settings::default();
        s.headers.content_security_policy =
            Some("default-src 'self'; script-src 'self' 'unsafe-eval'".into());
        let v = validate(&s).unwrap();
        assert!(
            v.warnings
                .iter()
                .any(|w| w.contains("shield.headers.content_security_policy allows 'unsafe-eval'")),
            "{:?}",
            v.warnings
        );
        // In default-src it counts only without a script-src of its own.
        s.headers.content_security_policy =
            Some("default-src 'self' 'unsafe-eval'; script-src 'self'".into());
        let v = validate(&s).unwrap();
        assert!(!v.warnings.iter().any(|w| w.contains("unsafe-eval")));
        // It builds; sources that let any script run are still refused.
        let layer =
            |s: &Settings| crate::layers::headers::SecurityHeaders::new(&s.effective().headers);
        s.headers.content_security_policy =
            Some("default-src 'self'; script-src 'self' 'unsafe-eval'".into());
        assert!(layer(&s).is_ok());
        s.headers.content_security_policy = Some("script-src 'self' https:".into());
        assert_eq!(
            layer(&s).unwrap_err().key,
            "shield.headers.content_security_policy"
        );
    }

    #[test]
    fn upstream_forms() {
        assert!(matches!(
            upstream("unix:/run/app.sock").unwrap(),
            UpstreamTarget::Unix { .. }
        ));
        assert!(matches!(
            upstream("http://127.0.0.1:8000").unwrap(),
            UpstreamTarget::Tcp { .. }
        ));
        for bad in [
            "ftp://x",
            "https://x",
            "http://x/app",
            "unix:",
            "nonsense value",
        ] {
            let e = upstream(bad).unwrap_err();
            assert_eq!(e.key, "shield.upstream", "{bad}");
        }
    }

    #[test]
    fn refuses_dangerous_combinations_naming_the_key() {
        let mut s = Settings::default();
        s.tls.cert = Some("c.pem".into());
        assert_eq!(validate(&s).unwrap_err().key, "shield.tls.key");
        let mut s = Settings::default();
        s.admin.listen = Some(s.listen.clone());
        assert_eq!(validate(&s).unwrap_err().key, "shield.admin.listen");
        let s = Settings {
            upstream: "http://127.0.0.1:8080".into(),
            ..Settings::default()
        };
        assert_eq!(validate(&s).unwrap_err().key, "shield.upstream");
        let mut s = Settings::default();
        s.tls.redirect_listen = Some("127.0.0.1:8081".into());
        assert_eq!(validate(&s).unwrap_err().key, "shield.tls.redirect_listen");
    }
}
