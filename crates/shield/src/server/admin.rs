//! The admin listener: `/metrics` (Prometheus text) and `/healthz`. It is a
//! separate socket (loopback by default), never the public one.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::{body::ResBody, metrics::Metrics, pipeline::Shared};

pub fn handle(req: &Request<Incoming>, shared: &Shared) -> Response<ResBody> {
    let metrics: &Arc<Metrics> = &shared.metrics;
    let (status, ct, body) = match (req.method().as_str(), req.uri().path()) {
        ("GET" | "HEAD", "/metrics") => {
            metrics.log_dropped.store(shared.audit.dropped(), std::sync::atomic::Ordering::Relaxed);
            (StatusCode::OK, "text/plain; version=0.0.4", Bytes::from(metrics.render()))
        }
        ("GET" | "HEAD", "/healthz") => (StatusCode::OK, "application/json", Bytes::from_static(b"{\"status\":\"ok\"}\n")),
        _ => (StatusCode::NOT_FOUND, "application/json", Bytes::from_static(b"{\"error\":{\"status\":404,\"code\":\"not_found\",\"message\":\"/metrics or /healthz\"}}\n")),
    };
    let mut resp = Response::new(ResBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
