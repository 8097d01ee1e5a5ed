//! TLS001/TLS002: plain HTTP is redirected to HTTPS, without loops.
//!
//! Behind a proxy, shield redirects only when a *trusted* proxy says the client
//! spoke `http` (a spoofed `X-Forwarded-Proto` is gone by now, and a request the
//! proxy marks `https` is never redirected: no loop, by construction). When shield
//! terminates TLS itself, its optional plain listener (`tls.redirect_listen`)
//! redirects everything; see `server`.

use http::{request, HeaderValue};

use crate::{
    context::{Context, Scheme},
    layer::{Flow, RequestLayer},
    reply::Rejection,
};

pub const CONTROL: &str = "TLS001";

/// The TLS001 layer for requests arriving through a trusted proxy.
#[derive(Debug, Clone)]
pub struct HttpsRedirect {
    /// The port of the HTTPS URL (None: the default, 443).
    pub https_port: Option<u16>,
}

/// `https://host[:port]/path?query`, or None when the host is unusable.
pub fn location(cx: &Context, https_port: Option<u16>) -> Option<HeaderValue> {
    let host = cx.host.as_deref()?;
    let pq = cx.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = match https_port {
        Some(p) if p != 443 => format!("https://{host}:{p}{pq}"),
        _ => format!("https://{host}{pq}"),
    };
    HeaderValue::from_str(&url).ok()
}

impl RequestLayer for HttpsRedirect {
    fn name(&self) -> &'static str {
        "https_redirect"
    }

    fn check(&self, _head: &mut request::Parts, cx: &mut Context) -> Flow {
        if cx.own_tls || !cx.proto_from_proxy || cx.scheme == Scheme::Https {
            return Flow::Continue;
        }
        match location(cx, self.https_port) {
            Some(loc) => Flow::Reject(Rejection::redirect(
                loc,
                CONTROL,
                "trusted proxy reports plain HTTP",
            )),
            None => Flow::Continue,
        }
    }
}
