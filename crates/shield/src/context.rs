//! What the pipeline knows about one request while it passes the layers.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};

/// A request id: 16 hex digits from a per-process random prefix and a counter, so
/// ids are unique across restarts without a random draw per request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId(u64);

static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static ID_SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

impl RequestId {
    pub fn next() -> RequestId {
        let seed = *ID_SEED.get_or_init(|| {
            let mut b = [0u8; 8];
            let _ = getrandom::fill(&mut b);
            u64::from_le_bytes(b)
        });
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // An odd multiplier is a bijection on u64: distinct counters, distinct ids.
        RequestId(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The id as 16 lower-case hex digits, without allocating.
    pub fn to_hex(self) -> [u8; 16] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().enumerate() {
            *b = HEX[((self.0 >> (60 - 4 * i)) & 0xf) as usize];
        }
        out
    }

    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_bytes(&self.to_hex()).unwrap_or(HeaderValue::from_static("0"))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The scheme the client used (shield's own TLS, or what a trusted proxy says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The request body as far as layers are concerned.
#[derive(Debug, Clone, Default)]
pub enum BodyView {
    /// Not read (yet): it will stream to the upstream.
    #[default]
    NotRead,
    /// Read whole, at most the largest limit any layer asked for.
    Buffered(Bytes),
    /// Longer than the limit a layer asked for; its first bytes are kept and the rest
    /// still streams.
    TooLarge,
}

/// Per-request state shared by the layers. Request layers fill it (proxy_trust sets
/// the client and scheme); response layers read it.
pub struct Context {
    pub request_id: RequestId,
    /// The TCP peer (a proxy when one is in front).
    pub peer: SocketAddr,
    /// The real client, resolved by proxy_trust (the peer until then).
    pub client_ip: IpAddr,
    /// The scheme the client used.
    pub scheme: Scheme,
    /// Whether shield itself terminated TLS for this request.
    pub own_tls: bool,
    /// Whether `scheme` comes from a trusted proxy's `X-Forwarded-Proto`/`Forwarded`.
    pub proto_from_proxy: bool,
    /// The host the client addressed, lower-case, without port (set by proxy_trust
    /// from `Host`/`:authority`, or a trusted `X-Forwarded-Host`).
    pub host: Option<String>,
    /// The host with port as sent (for redirects).
    pub authority: Option<String>,
    pub method: Method,
    pub uri: Uri,
    /// Ambiguous framing seen in the raw request head (smuggling), refused by limits.
    pub framing_problem: Option<&'static str>,
    /// The buffered body, when a layer asked for it.
    pub body: BodyView,
    /// This request's body limit, set by the limits layer (its route's, or the
    /// global one); `None` before it ran.
    pub max_body: Option<u64>,
    /// Read the body whole before the request goes upstream (`request_buffering`),
    /// set by the limits layer.
    pub buffer_body: bool,
    /// Headers layers want on the response (rate-limit headers, CORS).
    pub response_headers: Vec<(HeaderName, HeaderValue)>,
    /// The CSP nonce of this response, when one is used.
    pub nonce: Option<String>,
    /// The nonce handed to the app in `csp_nonce_header` mode, for the CSP.
    pub upstream_nonce: Option<String>,
    /// The client asked for an HTML page (`Accept: text/html`).
    pub wants_html: bool,
    /// The client accepts gzip, and shield took `Accept-Encoding` off the request
    /// to the app: shield compresses the response.
    pub gzip_for_client: bool,
    /// Security events noted by layers that let the request pass (stripped spoofed
    /// headers, hardened cookies); the pipeline writes them to the audit log.
    pub events: Vec<Note>,
    pub started: Instant,
    /// The worker thread serving the request (selects per-worker connections).
    pub worker: usize,
    /// What the CORS request layer decided, for the CORS response layer.
    pub cors: Option<crate::layers::cors::Verdict>,
    /// Server-side sessions: the ids the request came with, per sealed cookie name.
    pub session_ids: Vec<(String, String)>,
    /// Asynchronous work response layers queued ([`Context::defer`]); the pipeline
    /// finishes it before the response is sent. (A mutex only to keep the context
    /// `Sync`: it is never contended.)
    before_send: std::sync::Mutex<Vec<crate::layer::SendTask>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.request_id)
            .field("peer", &self.peer)
            .field("client_ip", &self.client_ip)
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("body", &self.body)
            .field("response_headers", &self.response_headers)
            .field("events", &self.events)
            .field("cors", &self.cors)
            .field("deferred", &self.has_deferred())
            .finish_non_exhaustive()
    }
}

/// A security event that did not block the request.
#[derive(Debug, Clone)]
pub struct Note {
    pub control: &'static str,
    pub action: &'static str,
    pub reason: String,
    /// Written to the audit log (false: only counted in the metrics).
    pub audit: bool,
}

impl Context {
    /// A request from 127.0.0.1 to `/` over plain HTTP, for unit tests.
    #[cfg(test)]
    pub fn for_test(method: Method) -> Context {
        Context::new(
            SocketAddr::from(([127, 0, 0, 1], 1)),
            false,
            method,
            Uri::from_static("/"),
        )
    }

    pub fn new(peer: SocketAddr, own_tls: bool, method: Method, uri: Uri) -> Context {
        Context {
            request_id: RequestId::next(),
            peer,
            client_ip: peer.ip(),
            scheme: if own_tls { Scheme::Https } else { Scheme::Http },
            own_tls,
            proto_from_proxy: false,
            host: None,
            authority: None,
            method,
            uri,
            framing_problem: None,
            body: BodyView::NotRead,
            max_body: None,
            buffer_body: false,
            response_headers: Vec::new(),
            nonce: None,
            upstream_nonce: None,
            wants_html: false,
            gzip_for_client: false,
            events: Vec::new(),
            started: Instant::now(),
            worker: 0,
            cors: None,
            session_ids: Vec::new(),
            before_send: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Queues work that must finish before the response is sent.
    pub fn defer(&mut self, task: crate::layer::SendTask) {
        match self.before_send.get_mut() {
            Ok(v) => v.push(task),
            Err(p) => p.into_inner().push(task),
        }
    }

    /// The queued work, taken.
    pub fn take_deferred(&mut self) -> Vec<crate::layer::SendTask> {
        match self.before_send.get_mut() {
            Ok(v) => std::mem::take(v),
            Err(p) => std::mem::take(p.into_inner()),
        }
    }

    pub fn has_deferred(&self) -> bool {
        self.before_send.lock().is_ok_and(|v| !v.is_empty())
    }

    /// Records a security event for the audit log.
    pub fn note(&mut self, control: &'static str, action: &'static str, reason: impl Into<String>) {
        self.events.push(Note {
            control,
            action,
            reason: reason.into(),
            audit: true,
        });
    }

    /// Counts an event in the metrics without an audit line (frequent, expected
    /// events such as a rate-limit decision served by the local fallback).
    pub fn count(&mut self, control: &'static str, action: &'static str) {
        self.events.push(Note {
            control,
            action,
            reason: String::new(),
            audit: false,
        });
    }

    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The buffered body, if a layer asked for it and it fit.
    pub fn body_bytes(&self) -> Option<&Bytes> {
        match &self.body {
            BodyView::Buffered(b) => Some(b),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_hex() {
        let a = RequestId::next();
        let b = RequestId::next();
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), 16);
        assert_eq!(std::str::from_utf8(&a.to_hex()).unwrap(), a.to_string());
    }
}
