//! CSR001: token-free CSRF protection on unsafe methods, with the algorithm of Go
//! 1.25's `http.CrossOriginProtection`, run by tower-http 0.7's `csrf` middleware:
//!
//! 1. `GET`, `HEAD` and `OPTIONS` pass, except a WebSocket handshake (a `GET`
//!    with `Upgrade: websocket`): a socket carries state changes both ways and
//!    the browser sends the page's cookies with it, whatever site opened it, so
//!    a cross-site handshake is refused like a cross-site `POST` (cross-site
//!    WebSocket hijacking; CORS does not apply to WebSockets).
//! 2. `Sec-Fetch-Site: same-origin` or `none` passes.
//! 3. Any other `Sec-Fetch-Site` (`same-site`, `cross-site`) is refused unless the
//!    `Origin` is trusted or the route is on the bypass list.
//! 4. Without `Sec-Fetch-Site`: no `Origin` passes (non-browser clients); an
//!    `Origin` whose host equals the request's host passes; anything else is refused
//!    unless trusted or bypassed.
//!
//! tower-http exposes the decision only as a tower `Service`, so this layer hands it
//! a small synthetic request (method, path, `Origin`, `Sec-Fetch-Site`, and as
//! `Host` the host proxy_trust resolved: the client's `Host`, or a trusted proxy's
//! `X-Forwarded-Host`, never the internal name a proxy rewrote) and reads the
//! verdict tower-http attaches to its refusal (`ProtectionError`); the inner
//! service it would call answers at once, so the future is ready on its first poll.
//! Only unsafe methods pay for this (one small header map). Exact trusted origins
//! and the bypass routes are tower-http's own options; subdomain patterns
//! (`https://*.example.com`, from the CORS allow-list) are applied to its refusals,
//! which is the same as trusting them up front: tower-http consults its trusted
//! list exactly where it would otherwise refuse.
//!
//! Trusted origins default to `shield.cors.allow_origins`. A refusal is a 403 JSON
//! with `Vary: Origin, Sec-Fetch-Site` and an audit line; `mode = "log_only"` lets
//! the request through and writes the audit line (action `log_only`) for rollout.

use std::{
    convert::Infallible,
    future::{ready, Future, Ready},
    sync::Arc,
    task::{Context as TaskContext, Poll, Waker},
};

use http::{header, request, HeaderValue, Method, Request, Response, StatusCode, Uri};
use tower_http::csrf::{Csrf, CsrfLayer, ProtectionError, ProtectionErrorKind};
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    config::{ConfigError, CsrfMode, CsrfSettings},
    context::Context,
    layer::{Flow, RequestLayer},
    layers::cors::allow_origin::AllowOrigin,
    reply::Rejection,
    route::RouteSet,
};

pub const CONTROL: &str = "CSR001";

static SEC_FETCH_SITE: http::HeaderName = http::HeaderName::from_static("sec-fetch-site");

/// The service tower-http protects: answers at once.
#[derive(Debug, Clone, Copy)]
pub struct Pass;

impl Service<Request<()>> for Pass {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        ready(Ok(Response::new(())))
    }
}

/// The CSR001 layer.
#[derive(Clone)]
pub struct CsrfProtection {
    svc: Csrf<Pass>,
    /// Trusted origins, patterns included.
    trusted: Arc<AllowOrigin>,
    /// The bypass routes (also handed to tower-http), for WebSocket handshakes.
    bypass: Arc<RouteSet>,
    mode: CsrfMode,
}

impl std::fmt::Debug for CsrfProtection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfProtection")
            .field("trusted", &self.trusted)
            .field("mode", &self.mode)
            .finish()
    }
}

/// Why a request was refused, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Sec-Fetch-Site` said the request came from another origin.
    CrossOrigin,
    /// No `Sec-Fetch-Site`, and the `Origin` is another host.
    OriginMismatch,
}

impl CsrfProtection {
    /// `cors_origins` is the CORS allow-list, the default trusted origins.
    pub fn new(s: &CsrfSettings, cors_origins: &[String]) -> Result<CsrfProtection, ConfigError> {
        let (key, list) = match &s.trusted_origins {
            Some(l) => ("shield.csrf.trusted_origins", l.as_slice()),
            None => ("shield.cors.allow_origins", cors_origins),
        };
        let trusted =
            AllowOrigin::new(list).map_err(|(i, e)| ConfigError::new(format!("{key}[{i}]"), e))?;
        if trusted.any {
            return Err(ConfigError::new(
                format!("{key}[0]"),
                "trusting every origin turns CSRF protection off; set shield.csrf.enabled = false if that is meant",
            ));
        }
        let bypass =
            Arc::new(RouteSet::new(&s.bypass_routes).map_err(|(i, e)| {
                ConfigError::new(format!("shield.csrf.bypass_routes[{i}]"), e)
            })?);
        let mut layer = CsrfLayer::new();
        for o in trusted.exact() {
            layer = layer
                .add_trusted_origin(o)
                .map_err(|e| ConfigError::new(key, format!("`{o}`: {e}")))?;
        }
        if !bypass.is_empty() {
            let routes = Arc::clone(&bypass);
            layer =
                layer.with_insecure_bypass(move |m: &Method, u: &Uri| routes.matches(m, u.path()));
        }
        Ok(CsrfProtection {
            svc: layer.layer(Pass),
            trusted: Arc::new(trusted),
            bypass,
            mode: s.mode,
        })
    }

    /// tower-http's verdict on a request, given the host the client addressed.
    pub fn verdict(&self, head: &request::Parts, host: Option<&str>) -> Option<Refusal> {
        let method = if is_websocket_handshake(head) {
            if self.bypass.matches(&head.method, head.uri.path()) {
                return None;
            }
            // Judged as the state-changing request it opens.
            Method::POST
        } else if matches!(head.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return None;
        } else {
            head.method.clone()
        };
        let mut req = Request::new(());
        *req.method_mut() = method;
        *req.uri_mut() = head
            .uri
            .path_and_query()
            .map_or_else(|| Uri::from_static("/"), |pq| Uri::from(pq.clone()));
        let h = req.headers_mut();
        if let Some(o) = head.headers.get(header::ORIGIN) {
            h.insert(header::ORIGIN, o.clone());
        }
        if let Some(s) = head.headers.get(&SEC_FETCH_SITE) {
            h.insert(SEC_FETCH_SITE.clone(), s.clone());
        }
        if let Some(v) = host.and_then(|a| HeaderValue::from_str(a).ok()) {
            h.insert(header::HOST, v);
        }
        let mut svc = self.svc.clone();
        let mut fut = std::pin::pin!(svc.call(req));
        let mut tcx = TaskContext::from_waker(Waker::noop());
        let resp = match fut.as_mut().poll(&mut tcx) {
            Poll::Ready(Ok(r)) => r,
            // Cannot happen (the inner service is ready at once); refuse to be safe.
            _ => return Some(Refusal::CrossOrigin),
        };
        let kind = resp.extensions().get::<ProtectionError>()?.kind();
        // Patterns are trusted origins too (see the module doc).
        if head
            .headers
            .get(header::ORIGIN)
            .is_some_and(|o| self.trusted.allows(o.as_bytes()))
        {
            return None;
        }
        Some(match kind {
            ProtectionErrorKind::CrossOriginRequest => Refusal::CrossOrigin,
            _ => Refusal::OriginMismatch,
        })
    }
}

/// A WebSocket opening handshake (RFC 6455: `GET` with `Upgrade: websocket`;
/// over HTTP/2, RFC 8441's extended `CONNECT` carries no `Upgrade` and is not a
/// safe method anyway).
pub fn is_websocket_handshake(head: &request::Parts) -> bool {
    head.method == Method::GET
        && head.headers.get_all(header::UPGRADE).iter().any(|v| {
            v.as_bytes()
                .split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"websocket"))
        })
}

impl RequestLayer for CsrfProtection {
    fn name(&self) -> &'static str {
        "csrf"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        let Some(refusal) = self.verdict(head, cx.authority.as_deref()) else {
            return Flow::Continue;
        };
        let show = |name: &http::HeaderName| {
            head.headers.get(name).map_or_else(
                || "none".to_string(),
                |v| String::from_utf8_lossy(&v.as_bytes()[..v.len().min(200)]).into_owned(),
            )
        };
        let what = if is_websocket_handshake(head) {
            "WebSocket handshake".to_string()
        } else {
            head.method.to_string()
        };
        let reason = match refusal {
            Refusal::CrossOrigin => format!(
                "cross-origin {what} (Sec-Fetch-Site: {}, Origin: {})",
                show(&SEC_FETCH_SITE),
                show(&header::ORIGIN)
            ),
            Refusal::OriginMismatch => format!(
                "{what} with Origin {} for host {} and no Sec-Fetch-Site",
                show(&header::ORIGIN),
                cx.authority.as_deref().unwrap_or("none")
            ),
        };
        if self.mode == CsrfMode::LogOnly {
            cx.note(CONTROL, "log_only", reason);
            return Flow::Continue;
        }
        Flow::Reject(
            Rejection::new(
                StatusCode::FORBIDDEN,
                "cross_origin_request",
                "cross-origin requests may not change state here",
                CONTROL,
                reason,
            )
            .with_header(
                header::VARY,
                HeaderValue::from_static("Origin, Sec-Fetch-Site"),
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(trusted: &[&str], bypass: &[&str]) -> CsrfProtection {
        let s = CsrfSettings {
            trusted_origins: Some(trusted.iter().map(|s| s.to_string()).collect()),
            bypass_routes: bypass.iter().map(|s| s.to_string()).collect(),
            ..CsrfSettings::default()
        };
        CsrfProtection::new(&s, &[]).unwrap()
    }

    fn head(method: &str, path: &str, h: &[(&str, &str)]) -> request::Parts {
        let mut b = Request::builder().method(method).uri(path);
        for (k, v) in h {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_go_algorithm() {
        let l = layer(
            &["https://partner.example", "https://*.corp.example"],
            &["POST /hooks/{name}"],
        );
        let host = Some("shop.example");
        for (method, path, headers, want) in [
            ("GET", "/", &[("sec-fetch-site", "cross-site")][..], None),
            (
                "OPTIONS",
                "/",
                &[("sec-fetch-site", "cross-site")][..],
                None,
            ),
            ("POST", "/", &[("sec-fetch-site", "same-origin")][..], None),
            ("POST", "/", &[("sec-fetch-site", "none")][..], None),
            (
                "POST",
                "/",
                &[
                    ("sec-fetch-site", "same-site"),
                    ("origin", "https://a.shop.example"),
                ][..],
                Some(Refusal::CrossOrigin),
            ),
            (
                "POST",
                "/",
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://evil.example"),
                ][..],
                Some(Refusal::CrossOrigin),
            ),
            (
                "DELETE",
                "/x",
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://evil.example"),
                ][..],
                Some(Refusal::CrossOrigin),
            ),
            (
                "POST",
                "/",
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://partner.example"),
                ][..],
                None,
            ),
            (
                "POST",
                "/",
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://eu.corp.example"),
                ][..],
                None,
            ),
            (
                "POST",
                "/",
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://corp.example.evil.test"),
                ][..],
                Some(Refusal::CrossOrigin),
            ),
            (
                "POST",
                "/hooks/stripe",
                &[("sec-fetch-site", "cross-site")][..],
                None,
            ),
            ("POST", "/", &[][..], None),
            ("POST", "/", &[("origin", "https://shop.example")][..], None),
            ("POST", "/", &[("origin", "http://shop.example")][..], None),
            (
                "POST",
                "/",
                &[("origin", "https://evil.example")][..],
                Some(Refusal::OriginMismatch),
            ),
            (
                "POST",
                "/",
                &[("origin", "null")][..],
                Some(Refusal::OriginMismatch),
            ),
        ] {
            assert_eq!(
                l.verdict(&head(method, path, headers), host),
                want,
                "{method} {path} {headers:?}"
            );
        }
        // Without a known host, an Origin cannot be same-host.
        assert_eq!(
            l.verdict(
                &head("POST", "/", &[("origin", "https://shop.example")]),
                None
            ),
            Some(Refusal::OriginMismatch)
        );
    }

    #[test]
    fn websocket_handshakes_are_judged_like_unsafe_requests() {
        let l = layer(&["https://partner.example"], &["GET /public-feed"]);
        let host = Some("shop.example");
        let ws = |path: &str, h: &[(&str, &str)]| {
            let mut all = vec![("upgrade", "websocket"), ("connection", "Upgrade")];
            all.extend_from_slice(h);
            head("GET", path, &all)
        };
        let cross = [
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ];
        assert_eq!(
            l.verdict(&ws("/ws", &cross), host),
            Some(Refusal::CrossOrigin)
        );
        assert_eq!(
            l.verdict(&ws("/ws", &[("origin", "https://evil.example")]), host),
            Some(Refusal::OriginMismatch)
        );
        // The same request without the upgrade is a plain GET.
        assert_eq!(l.verdict(&head("GET", "/ws", &cross), host), None);
        for ok in [
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://shop.example"),
            ][..],
            &[("origin", "https://shop.example")][..],
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://partner.example"),
            ][..],
            // Not a browser: no Origin.
            &[][..],
        ] {
            assert_eq!(l.verdict(&ws("/ws", ok), host), None, "{ok:?}");
        }
        // Case and lists in Upgrade; the bypass list by the handshake's method.
        let mut h = head("GET", "/ws", &[("upgrade", "h2c, WebSocket")]);
        h.headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert_eq!(l.verdict(&h, host), Some(Refusal::OriginMismatch));
        assert_eq!(l.verdict(&ws("/public-feed", &cross), host), None);
    }

    #[test]
    fn refuses_trusting_everyone() {
        let s = CsrfSettings {
            trusted_origins: Some(vec!["*".into()]),
            ..CsrfSettings::default()
        };
        assert_eq!(
            CsrfProtection::new(&s, &[]).unwrap_err().key,
            "shield.csrf.trusted_origins[0]"
        );
        let e = CsrfProtection::new(&CsrfSettings::default(), &["nope".into()]).unwrap_err();
        assert_eq!(e.key, "shield.cors.allow_origins[0]");
    }

    #[test]
    fn log_only_lets_it_through_with_a_note() {
        let s = CsrfSettings {
            mode: CsrfMode::LogOnly,
            ..CsrfSettings::default()
        };
        let l = CsrfProtection::new(&s, &[]).unwrap();
        let mut h = head("POST", "/", &[("sec-fetch-site", "cross-site")]);
        let mut cx = Context::for_test(Method::POST);
        assert!(matches!(l.check(&mut h, &mut cx), Flow::Continue));
        assert_eq!(cx.events[0].action, "log_only");
    }
}
