//! HDR001-HDR007, HDR009: security headers on every response, shield's own included.
//!
//! Every value is built once from the config; per request the layer only inserts
//! prebuilt `HeaderValue`s (cheap reference-counted clones). HSTS goes only on
//! HTTPS responses (own TLS or a trusted proxy's `https`). Under the `html` preset
//! an HTML response gets a fresh nonce in its CSP, and `csp_nonce` puts the same
//! nonce into the page's `<script>`/`<style>` tags while it streams; with
//! `csp_nonce_header`, the app got the nonce in a request header and wrote it
//! into its tags itself, and the CSP carries that one.
//!
//! Two mistakes are said once on stderr: HTML pages served under the `api`
//! preset (whose CSP blocks every script and style of a page), and compressed
//! HTML under nonce rewriting (its tags cannot get the nonce).

use http::{header, response, HeaderName, HeaderValue};

use crate::{
    config::{ConfigError, HeadersSettings},
    context::{Context, Scheme},
    layer::ResponseLayer,
    layers::csp_nonce,
    route::RouteSet,
};

static PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");
static COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
static CORP: HeaderName = HeaderName::from_static("cross-origin-resource-policy");
static CSP_REPORT_ONLY: HeaderName = HeaderName::from_static("content-security-policy-report-only");

/// The CSP, split around `{nonce}` so a per-request value is one concatenation.
#[derive(Debug, Clone)]
struct CspTemplate {
    /// The policy without nonce sources, for responses that carry no nonce.
    without_nonce: HeaderValue,
    /// The policy's pieces between `{nonce}` placeholders (None: no placeholder).
    pieces: Option<Vec<String>>,
}

impl CspTemplate {
    fn new(policy: &str) -> Result<CspTemplate, String> {
        let stripped: Vec<String> = policy
            .split(';')
            .map(|d| {
                d.split_whitespace()
                    .filter(|src| !src.contains("{nonce}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|d| !d.is_empty())
            .collect();
        let without_nonce = HeaderValue::from_str(&stripped.join("; "))
            .map_err(|_| "contains characters a header cannot carry".to_string())?;
        let pieces = policy
            .contains("{nonce}")
            .then(|| policy.split("{nonce}").map(str::to_string).collect());
        Ok(CspTemplate {
            without_nonce,
            pieces,
        })
    }

    fn with_nonce(&self, nonce: &str) -> Option<HeaderValue> {
        let pieces = self.pieces.as_ref()?;
        HeaderValue::from_str(&pieces.join(nonce)).ok()
    }
}

/// The security-headers layer.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    fixed: Vec<(HeaderName, HeaderValue)>,
    hsts: Option<HeaderValue>,
    csp_name: HeaderName,
    csp: CspTemplate,
    nonce: bool,
    /// `csp_nonce_header` mode: the nonce comes from the request, pages are kept.
    nonce_from_request: bool,
    /// Under the api preset (no nonce in the policy): warn about HTML pages.
    api: bool,
    warned_html: std::sync::Arc<std::sync::atomic::AtomicBool>,
    warned_compressed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    warned_kept: std::sync::Arc<std::sync::atomic::AtomicBool>,
    override_upstream: bool,
    remove: Vec<HeaderName>,
    /// `[[shield.headers.routes]]`: (routes, policy, nonce injected), tried in order.
    routes: Vec<(RouteSet, CspTemplate, bool)>,
}

/// Prints a warning the first time only.
fn warn_once(flag: &std::sync::atomic::AtomicBool, message: std::fmt::Arguments<'_>) {
    if !flag.swap(true, std::sync::atomic::Ordering::Relaxed) {
        eprintln!("flaskguard shield: warning: {message}");
    }
}

/// Whether a response is an HTML page (any encoding).
fn is_html(h: &http::HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let m = ct.split(';').next().unwrap_or("").trim();
            m.eq_ignore_ascii_case("text/html") || m.eq_ignore_ascii_case("application/xhtml+xml")
        })
}

fn value(key: &str, v: &str) -> Result<HeaderValue, ConfigError> {
    HeaderValue::from_str(v)
        .map_err(|_| ConfigError::new(key, "contains characters a header cannot carry"))
}

/// Refuses policies that defeat the point of a CSP.
fn check_csp(policy: &str) -> Result<(), String> {
    for directive in policy.split(';') {
        let mut words = directive.split_whitespace();
        let Some(name) = words.next() else { continue };
        let name = name.to_ascii_lowercase();
        let srcs: Vec<&str> = words.collect();
        if name == "script-src" || (name == "default-src" && !policy.contains("script-src")) {
            for s in &srcs {
                let l = s.to_ascii_lowercase();
                if l == "*" || l == "http:" || l == "https:" || l == "data:" {
                    return Err(format!("`{name} {s}` lets any script run; remove it"));
                }
                if l == "'unsafe-inline'"
                    && !srcs
                        .iter()
                        .any(|x| x.contains("nonce-") || x.contains("sha256-"))
                {
                    return Err(format!("`{name} 'unsafe-inline'` without a nonce or hash lets injected scripts run"));
                }
            }
        }
    }
    Ok(())
}

/// Whether a policy lets the page's scripts run strings as code
/// (`'unsafe-eval'` in script-src, or in default-src without a script-src).
pub fn allows_eval(policy: &str) -> bool {
    let has_script_src = policy.split(';').any(|d| {
        d.split_whitespace()
            .next()
            .is_some_and(|n| n.eq_ignore_ascii_case("script-src"))
    });
    policy.split(';').any(|d| {
        let mut words = d.split_whitespace();
        let name = words.next().unwrap_or("").to_ascii_lowercase();
        (name == "script-src" || (name == "default-src" && !has_script_src))
            && words.any(|w| w.eq_ignore_ascii_case("'unsafe-eval'"))
    })
}

impl SecurityHeaders {
    /// Builds from *effective* settings (presets resolved).
    pub fn new(h: &HeadersSettings) -> Result<SecurityHeaders, ConfigError> {
        const P: &str = "shield.headers";
        let policy = h.content_security_policy.clone().unwrap_or_default();
        check_csp(&policy)
            .map_err(|m| ConfigError::new(format!("{P}.content_security_policy"), m))?;
        let csp = CspTemplate::new(&policy)
            .map_err(|m| ConfigError::new(format!("{P}.content_security_policy"), m))?;
        let max_age = h.hsts_max_age.unwrap_or(31_536_000);
        if h.hsts.unwrap_or(true) && max_age < 31_536_000 && max_age != 0 {
            return Err(ConfigError::new(
                format!("{P}.hsts_max_age"),
                format!("{max_age} is shorter than a year (31536000), the minimum HDR001 asks for; set hsts = false to turn HSTS off"),
            ));
        }
        if h.hsts_preload == Some(true) && h.hsts_include_subdomains != Some(true) {
            return Err(ConfigError::new(
                format!("{P}.hsts_preload"),
                "preload requires hsts_include_subdomains = true",
            ));
        }
        let hsts = h.hsts.unwrap_or(true).then(|| {
            let mut v = format!("max-age={max_age}");
            if h.hsts_include_subdomains == Some(true) {
                v.push_str("; includeSubDomains");
            }
            if h.hsts_preload == Some(true) {
                v.push_str("; preload");
            }
            HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("max-age=31536000"))
        });
        let mut fixed = Vec::new();
        match h
            .frame_options
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("OFF") => {}
            Some(v @ ("DENY" | "SAMEORIGIN")) => fixed.push((
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static(if v == "DENY" { "DENY" } else { "SAMEORIGIN" }),
            )),
            Some(other) => {
                return Err(ConfigError::new(
                    format!("{P}.frame_options"),
                    format!("`{other}`: write DENY, SAMEORIGIN or off"),
                ))
            }
            None => fixed.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"))),
        }
        if h.content_type_options.unwrap_or(true) {
            fixed.push((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ));
        }
        if let Some(r) = h.referrer_policy.as_deref() {
            let bad = ["unsafe-url", "no-referrer-when-downgrade"];
            if bad.contains(&r.trim().to_ascii_lowercase().as_str()) {
                return Err(ConfigError::new(
                    format!("{P}.referrer_policy"),
                    format!("`{r}` leaks full URLs to other sites (HDR005)"),
                ));
            }
            if !r.is_empty() {
                fixed.push((
                    header::REFERRER_POLICY,
                    value(&format!("{P}.referrer_policy"), r)?,
                ));
            }
        }
        for (key, name, v) in [
            (
                "permissions_policy",
                &PERMISSIONS_POLICY,
                &h.permissions_policy,
            ),
            (
                "cross_origin_opener_policy",
                &COOP,
                &h.cross_origin_opener_policy,
            ),
            (
                "cross_origin_resource_policy",
                &CORP,
                &h.cross_origin_resource_policy,
            ),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                fixed.push((name.clone(), value(&format!("{P}.{key}"), v)?));
            }
        }
        let mut remove = Vec::new();
        for (i, r) in h.remove.clone().unwrap_or_default().iter().enumerate() {
            remove.push(HeaderName::from_bytes(r.trim().as_bytes()).map_err(|_| {
                ConfigError::new(
                    format!("{P}.remove[{i}]"),
                    format!("`{r}` is not a header name"),
                )
            })?);
        }
        let nonce_from_request = h.csp_nonce_header.is_some();
        if let Some(name) = &h.csp_nonce_header {
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConfigError::new(
                    format!("{P}.csp_nonce_header"),
                    format!("`{name}` is not a header name"),
                ));
            }
            if csp.pieces.is_none() {
                return Err(ConfigError::new(
                    format!("{P}.csp_nonce_header"),
                    "the policy has no `'nonce-{nonce}'` source to carry the nonce (use preset = \"html\" or write one)",
                ));
            }
        }
        let nonce = h.csp_nonce.unwrap_or(false) && !nonce_from_request;
        if nonce && csp.pieces.is_none() && !policy.is_empty() {
            return Err(ConfigError::new(
                format!("{P}.content_security_policy"),
                "csp_nonce is on but the policy has no `'nonce-{nonce}'` source",
            ));
        }
        let mut routes = Vec::with_capacity(h.routes.len());
        for (i, r) in h.routes.iter().enumerate() {
            let key = format!("{P}.routes[{i}]");
            if r.routes.is_empty() {
                return Err(ConfigError::new(
                    format!("{key}.routes"),
                    "names no route (e.g. routes = [\"GET /docs\"])",
                ));
            }
            let set = RouteSet::new(&r.routes)
                .map_err(|(j, m)| ConfigError::new(format!("{key}.routes[{j}]"), m))?;
            let csp_key = format!("{key}.content_security_policy");
            if r.content_security_policy.trim().is_empty() {
                return Err(ConfigError::new(
                    csp_key,
                    "is empty; a route without a CSP is not safer than the default",
                ));
            }
            check_csp(&r.content_security_policy)
                .map_err(|m| ConfigError::new(csp_key.clone(), m))?;
            let template = CspTemplate::new(&r.content_security_policy)
                .map_err(|m| ConfigError::new(csp_key.clone(), m))?;
            let route_nonce = r.nonce() && !nonce_from_request;
            if route_nonce && template.pieces.is_none() {
                return Err(ConfigError::new(
                    format!("{key}.csp_nonce"),
                    "is on but the policy has no `'nonce-{nonce}'` source",
                ));
            }
            routes.push((set, template, route_nonce));
        }
        if let Some(p) = &h.csp_nonce_placeholder {
            if p.len() < 8 {
                return Err(ConfigError::new(
                    format!("{P}.csp_nonce_placeholder"),
                    "use at least 8 characters, so it cannot be guessed from markup",
                ));
            }
        }
        Ok(SecurityHeaders {
            fixed,
            hsts,
            csp_name: if h.csp_report_only.unwrap_or(false) {
                CSP_REPORT_ONLY.clone()
            } else {
                header::CONTENT_SECURITY_POLICY
            },
            api: h.preset == crate::config::Preset::Api && csp.pieces.is_none() && !nonce,
            csp,
            nonce,
            nonce_from_request,
            warned_html: Default::default(),
            warned_compressed: Default::default(),
            warned_kept: Default::default(),
            override_upstream: h.override_upstream.unwrap_or(true),
            remove,
            routes,
        })
    }

    fn put(&self, headers: &mut http::HeaderMap, name: &HeaderName, v: HeaderValue) {
        if self.override_upstream || !headers.contains_key(name) {
            headers.insert(name.clone(), v);
        }
    }
}

impl ResponseLayer for SecurityHeaders {
    fn name(&self) -> &'static str {
        "headers"
    }

    fn apply(&self, head: &mut response::Parts, cx: &mut Context) {
        let h = &mut head.headers;
        for name in &self.remove {
            h.remove(name);
        }
        for (name, v) in &self.fixed {
            self.put(h, name, v.clone());
        }
        if cx.scheme == Scheme::Https {
            if let Some(v) = &self.hsts {
                self.put(h, &header::STRICT_TRANSPORT_SECURITY, v.clone());
            }
        }
        let route = if self.routes.is_empty() {
            None
        } else {
            let path = cx.path();
            self.routes
                .iter()
                .find(|(set, _, _)| set.matches(&cx.method, path))
        };
        let (csp, nonce) = match route {
            Some((_, csp, nonce)) => (csp, *nonce),
            None => (&self.csp, self.nonce),
        };
        if csp.without_nonce.is_empty() {
            return;
        }
        if !self.override_upstream
            && (h.contains_key(header::CONTENT_SECURITY_POLICY) || h.contains_key(&CSP_REPORT_ONLY))
        {
            // The app's own policy fits its pages (inline handlers, styles,
            // hosts it loads from): it is kept, and its tags get no nonce.
            if is_html(h) {
                warn_once(
                    &self.warned_kept,
                    format_args!(
                        "{} {} sends its own Content-Security-Policy, which shield keeps (shield.headers.override_upstream is false, the html preset's default); `flaskguard scan` grades it, and override_upstream = true puts shield's policy in its place",
                        cx.method,
                        cx.path()
                    ),
                );
            }
            return;
        }
        let mut policy = None;
        if self.nonce_from_request {
            if let Some(n) = cx.upstream_nonce.as_deref() {
                if is_html(h) {
                    policy = csp.with_nonce(n);
                }
            }
        } else if nonce && csp_nonce::can_rewrite(h) {
            let n = csp_nonce::fresh_nonce();
            policy = csp.with_nonce(&n);
            if policy.is_some() {
                cx.nonce = Some(n);
            }
        } else if nonce && is_html(h) {
            warn_once(
                &self.warned_compressed,
                format_args!(
                    "{} {} is compressed HTML ({}): its <script>/<style> tags get no CSP nonce and will be blocked; let the app compress only when the request accepts it (shield asks for identity), or set shield.headers.csp_nonce_header",
                    cx.method,
                    cx.path(),
                    h.get(header::CONTENT_ENCODING)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("?")
                ),
            );
        } else if self.api && route.is_none() && head.status.is_success() && is_html(h) {
            warn_once(
                &self.warned_html,
                format_args!(
                    "{} {} returned an HTML page under the api preset, whose CSP (`default-src 'none'`) blocks its scripts, styles and images; for server-rendered pages set shield.headers.preset = \"html\", for a few pages (API docs) give their routes a policy in [[shield.headers.routes]]",
                    cx.method,
                    cx.path()
                ),
            );
        }
        let v = policy.unwrap_or_else(|| csp.without_nonce.clone());
        h.remove(header::CONTENT_SECURITY_POLICY);
        h.remove(&CSP_REPORT_ONLY);
        h.insert(self.csp_name.clone(), v);
    }
}

#[cfg(test)]
mod tests {
    use http::{Method, Response};

    use super::*;
    use crate::config::{Preset, Settings};

    fn layer(f: impl FnOnce(&mut HeadersSettings)) -> Result<SecurityHeaders, ConfigError> {
        let mut s = Settings::default();
        f(&mut s.headers);
        SecurityHeaders::new(&s.effective().headers)
    }

    fn run(l: &SecurityHeaders, https: bool, ct: &str) -> (http::HeaderMap, Context) {
        let (mut head, _) = Response::builder()
            .header("content-type", ct)
            .header("server", "gunicorn/20.1.0")
            .header("x-powered-by", "Flask")
            .body(())
            .unwrap()
            .into_parts();
        let mut cx = Context::new(
            "127.0.0.1:1".parse().unwrap(),
            https,
            Method::GET,
            "/".parse().unwrap(),
        );
        l.apply(&mut head, &mut cx);
        (head.headers, cx)
    }

    #[test]
    fn api_preset() {
        let l = layer(|_| {}).unwrap();
        let (h, cx) = run(&l, false, "application/json");
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert_eq!(
            h["permissions-policy"],
            "geolocation=(), microphone=(), camera=()"
        );
        assert_eq!(h["cross-origin-opener-policy"], "same-origin");
        assert!(
            h.get("strict-transport-security").is_none(),
            "HSTS over plain HTTP"
        );
        assert!(h.get("server").is_none() && h.get("x-powered-by").is_none());
        assert!(cx.nonce.is_none());
        let (h, _) = run(&l, true, "application/json");
        assert_eq!(
            h["strict-transport-security"],
            "max-age=31536000; includeSubDomains"
        );
    }

    #[test]
    fn warns_once_about_pages_the_policy_breaks() {
        use std::sync::atomic::Ordering;
        // HTML under the api preset: its CSP blocks the page's scripts and styles.
        let l = layer(|_| {}).unwrap();
        run(&l, false, "application/json");
        assert!(!l.warned_html.load(Ordering::Relaxed));
        run(&l, false, "text/html; charset=utf-8");
        assert!(l.warned_html.load(Ordering::Relaxed));
        // Not under the html preset, nor with a policy of one's own carrying a nonce.
        let l = layer(|h| h.preset = Preset::Html).unwrap();
        run(&l, false, "text/html");
        assert!(!l.warned_html.load(Ordering::Relaxed));
        // Compressed HTML under nonce rewriting: no nonce can go in.
        let (mut head, _) = Response::builder()
            .header("content-type", "text/html")
            .header("content-encoding", "gzip")
            .body(())
            .unwrap()
            .into_parts();
        let mut cx = Context::for_test(Method::GET);
        l.apply(&mut head, &mut cx);
        assert!(cx.nonce.is_none());
        assert!(l.warned_compressed.load(Ordering::Relaxed));
    }

    #[test]
    fn nonce_from_the_request_header() {
        let l = layer(|h| {
            h.preset = Preset::Html;
            h.csp_nonce_header = Some("X-CSP-Nonce".into());
        })
        .unwrap();
        let (h, cx) = run(&l, false, "text/html");
        // No nonce was handed to the app (no request phase here): none in the CSP,
        // and pages are never rewritten in this mode.
        assert!(cx.nonce.is_none());
        assert!(!h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("nonce-"));
        let e = layer(|h| h.csp_nonce_header = Some("X-CSP-Nonce".into())).unwrap_err();
        assert_eq!(e.key, "shield.headers.csp_nonce_header");
        let e = layer(|h| {
            h.preset = Preset::Html;
            h.csp_nonce_header = Some("bad header".into());
        })
        .unwrap_err();
        assert_eq!(e.key, "shield.headers.csp_nonce_header");
    }

    #[test]
    fn the_apps_own_headers_win_under_html_and_lose_under_api() {
        use std::sync::atomic::Ordering;
        let apply = |l: &SecurityHeaders| {
            let (mut head, _) = Response::builder()
                .header("content-type", "text/html; charset=utf-8")
                .header(
                    "content-security-policy",
                    "default-src 'self'; script-src 'self' 'unsafe-inline'",
                )
                .header("x-frame-options", "SAMEORIGIN")
                .body(())
                .unwrap()
                .into_parts();
            let mut cx = Context::for_test(Method::GET);
            l.apply(&mut head, &mut cx);
            (head.headers, cx)
        };
        // html: the app wrote its policy for its own pages; nothing is rewritten.
        let l = layer(|h| h.preset = Preset::Html).unwrap();
        let (h, cx) = apply(&l);
        assert_eq!(
            h["content-security-policy"],
            "default-src 'self'; script-src 'self' 'unsafe-inline'"
        );
        assert_eq!(h["x-frame-options"], "SAMEORIGIN");
        assert_eq!(h["x-content-type-options"], "nosniff", "missing ones added");
        assert!(cx.nonce.is_none(), "no nonce for a policy that is not ours");
        assert!(l.warned_kept.load(Ordering::Relaxed));
        // A page without a policy of its own gets shield's, inline styles allowed.
        let (h, cx) = run(&l, false, "text/html");
        let n = cx.nonce.unwrap();
        assert_eq!(
            h["content-security-policy"],
            format!("default-src 'self'; script-src 'self' 'nonce-{n}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'").as_str()
        );
        // Asked to: shield's values replace the app's under html too.
        let l = layer(|h| {
            h.preset = Preset::Html;
            h.override_upstream = Some(true);
        })
        .unwrap();
        let (h, cx) = apply(&l);
        assert!(cx.nonce.is_some());
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(!l.warned_kept.load(Ordering::Relaxed));
        // api: shield's values replace the app's.
        let l = layer(|_| {}).unwrap();
        let (h, _) = apply(&l);
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(h["x-frame-options"], "DENY");
    }

    #[test]
    fn html_preset_nonce_and_report_only() {
        let l = layer(|h| {
            h.preset = Preset::Html;
            h.csp_report_only = Some(true);
        })
        .unwrap();
        let (h, cx) = run(&l, false, "text/html; charset=utf-8");
        let n = cx.nonce.unwrap();
        let v = h["content-security-policy-report-only"].to_str().unwrap();
        assert!(v.contains(&format!("'nonce-{n}'")), "{v}");
        assert!(h.get("content-security-policy").is_none());
        let (h, cx) = run(&l, false, "application/json");
        assert!(cx.nonce.is_none());
        assert!(!h["content-security-policy-report-only"]
            .to_str()
            .unwrap()
            .contains("nonce"));
    }

    #[test]
    fn route_policies_first_match_and_their_errors() {
        use crate::config::RouteCsp;
        let route = |routes: &[&str], policy: &str, nonce: Option<bool>| RouteCsp {
            routes: routes.iter().map(|r| r.to_string()).collect(),
            content_security_policy: policy.into(),
            csp_nonce: nonce,
        };
        let l = layer(|h| {
            h.routes = vec![
                route(
                    &["GET /docs", "GET /redoc"],
                    "default-src 'self'; script-src 'nonce-{nonce}'",
                    None,
                ),
                route(&["/docs/{*rest}"], "default-src 'self'", None),
            ]
        })
        .unwrap();
        let at = |method: Method, path: &str, ct: &str| {
            let (mut head, _) = Response::builder()
                .header("content-type", ct)
                .body(())
                .unwrap()
                .into_parts();
            let mut cx = Context::new(
                "127.0.0.1:1".parse().unwrap(),
                false,
                method,
                path.parse().unwrap(),
            );
            l.apply(&mut head, &mut cx);
            let csp = head.headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .to_string();
            (csp, cx.nonce)
        };
        let (csp, nonce) = at(Method::GET, "/docs", "text/html; charset=utf-8");
        let n = nonce.expect("a nonce for the docs page");
        assert_eq!(csp, format!("default-src 'self'; script-src 'nonce-{n}'"));
        // JSON from the same route: the route's policy without nonce sources.
        let (csp, nonce) = at(Method::GET, "/redoc", "application/json");
        assert_eq!(
            (csp.as_str(), nonce),
            ("default-src 'self'; script-src", None)
        );
        let (csp, _) = at(Method::GET, "/docs/swagger.css", "text/css");
        assert_eq!(csp, "default-src 'self'");
        let (csp, nonce) = at(Method::POST, "/redoc", "text/html");
        assert_eq!(
            (csp.as_str(), nonce),
            ("default-src 'none'; frame-ancestors 'none'", None)
        );

        for (r, key) in [
            (
                route(&["GET /docs"], "script-src 'unsafe-inline'", None),
                "shield.headers.routes[0].content_security_policy",
            ),
            (
                route(&["GET /docs"], " ", None),
                "shield.headers.routes[0].content_security_policy",
            ),
            (
                route(&["/ok", "GET docs"], "default-src 'self'", None),
                "shield.headers.routes[0].routes[1]",
            ),
            (
                route(&[], "default-src 'self'", None),
                "shield.headers.routes[0].routes",
            ),
            (
                route(&["GET /docs"], "default-src 'self'", Some(true)),
                "shield.headers.routes[0].csp_nonce",
            ),
        ] {
            let e = layer(|h| h.routes = vec![r.clone()]).unwrap_err();
            assert_eq!(e.key, key, "{r:?}: {}", e.message);
        }
    }

    #[test]
    fn refuses_weak_settings() {
        assert_eq!(
            layer(|h| h.hsts_max_age = Some(300)).unwrap_err().key,
            "shield.headers.hsts_max_age"
        );
        let e =
            layer(|h| h.content_security_policy = Some("script-src 'self' 'unsafe-inline'".into()))
                .unwrap_err();
        assert_eq!(e.key, "shield.headers.content_security_policy");
        assert!(layer(|h| h.referrer_policy = Some("unsafe-url".into())).is_err());
        assert!(layer(|h| h.frame_options = Some("ALLOW-FROM x".into())).is_err());
    }
}
