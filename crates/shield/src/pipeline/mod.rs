//! The ordered request and response layers around one upstream call.
//!
//! request  -> [request layers, in order] -> upstream
//! response <- [error sanitising] <- [response layers: cookies, headers] <- CSP nonce
//!             rewriting <- audit log and metrics
//!
//! A [`Pipeline`] is built from a validated config and is immutable; a reload builds
//! a new one and swaps it in (see `server`), so requests in flight finish on the
//! pipeline they started with.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use http::{header, request, HeaderName, HeaderValue, Request, Response, StatusCode, Version};
use hyper::body::Incoming;

mod body_buffer;
mod hop;

use body_buffer::BodyBuffer;
use hop::{bridge_upgrade, is_upgrade, strip_hop_by_hop};

use crate::{
    audit_log::AuditLog,
    body::{AppBody, BodyBudget, BodyPace, ResBody, Spill},
    config::{ConfigError, Validated},
    context::{BodyView, Context},
    layer::{Flow, RequestLayer, ResponseLayer},
    layers::{self, csp_nonce::NonceBody, errors::ErrorSanitizer, limits::SizeLimits},
    metrics::Metrics,
    reply::Rejection,
    route::RouteSet,
    upstream::{Upstream, UpstreamError},
};

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the server knows about the connection a request came on.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub tls: bool,
    /// The worker thread serving the connection (selects its upstream pool).
    pub worker: usize,
    /// The raw framing of each request head on this HTTP/1 connection, in order.
    pub framing: Option<crate::server::sniff::FramingQueue>,
}

impl ConnInfo {
    /// A connection without framing inspection (tests, HTTP/2).
    pub fn plain(peer: SocketAddr, tls: bool) -> ConnInfo {
        ConnInfo {
            peer,
            tls,
            worker: 0,
            framing: None,
        }
    }
}

/// Process-wide sinks shared by every pipeline generation.
#[derive(Debug, Clone)]
pub struct Shared {
    pub audit: Arc<AuditLog>,
    pub metrics: Arc<Metrics>,
    /// Worker threads; each gets its own upstream pool, so a request and its
    /// upstream connection stay on one thread.
    pub workers: usize,
    /// The in-memory rate-limit counters: one for the process, kept across reloads.
    pub limiter: Arc<layers::ratelimit::memory::MemoryStore>,
}

impl Shared {
    /// Sinks for a process: the limiter sized by `max_keys`.
    pub fn new(audit: AuditLog, workers: usize, max_keys: usize) -> Shared {
        Shared {
            audit: Arc::new(audit),
            metrics: Arc::new(Metrics::new()),
            workers,
            limiter: Arc::new(layers::ratelimit::memory::MemoryStore::new(max_keys)),
        }
    }
}

pub struct Pipeline {
    request: Vec<Box<dyn RequestLayer>>,
    response: Vec<Box<dyn ResponseLayer>>,
    errors: ErrorSanitizer,
    limits: SizeLimits,
    /// `timeouts.body_read` and `body_min_rate`.
    body_pace: BodyPace,
    /// The memory bodies read whole before going upstream may hold at once.
    body_budget: Arc<BodyBudget>,
    /// Spill files for responses past their read-ahead window.
    spill: Option<Arc<Spill>>,
    upstreams: Vec<Upstream>,
    nonce_placeholder: Option<String>,
    /// Set once a page with inline event handlers was seen (warned about once).
    warned_inline_handlers: Arc<std::sync::atomic::AtomicBool>,
    /// Said once: a page loads a file from another site its policy blocks.
    warned_off_site: Arc<std::sync::atomic::AtomicBool>,
    /// Ask the upstream for uncompressed bodies (needed to rewrite HTML).
    identity_upstream: bool,
    /// Routes whose own CSP carries a nonce (`[[shield.headers.routes]]`): asked
    /// for identity like every route when `identity_upstream`.
    nonce_routes: RouteSet,
    /// `csp_nonce_header`: the request header that hands the app its nonce.
    nonce_header: Option<HeaderName>,
    /// The `html` preset: shield's refusals are pages for clients asking for HTML.
    html_refusals: bool,
    pub config: Validated,
    shared: Shared,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field(
                "request",
                &self.request.iter().map(|l| l.name()).collect::<Vec<_>>(),
            )
            .field(
                "response",
                &self.response.iter().map(|l| l.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pipeline {
    /// Builds every layer from the config; any invalid setting is an error naming
    /// its key. Builds no connection.
    pub fn build(config: Validated, shared: Shared) -> Result<Pipeline, ConfigError> {
        let env = |k: &str| std::env::var(k).ok();
        let layers::Stacks {
            request,
            limits,
            response,
        } = layers::build(
            &config,
            &layers::BuildEnv {
                limiter: shared.limiter.clone(),
                workers: shared.workers,
                env: &env,
            },
        )?;
        let s = &config.settings;
        let errors = ErrorSanitizer::new(&s.errors)?;
        let t = &s.timeouts;
        for (key, d) in [
            ("header_read", &t.header_read),
            ("body_read", &t.body_read),
            ("upstream_connect", &t.upstream_connect),
            ("upstream_response", &t.upstream_response),
        ] {
            if d.get().is_zero() {
                return Err(ConfigError::new(
                    format!("shield.timeouts.{key}"),
                    "must be longer than 0s",
                ));
            }
        }
        if t.body_min_rate == 0 {
            return Err(ConfigError::new(
                "shield.timeouts.body_min_rate",
                "must be at least 1 (bytes per second)",
            ));
        }
        let body_pace = BodyPace {
            grace: t.body_read.get(),
            min_rate: t.body_min_rate,
        };
        let pool = &s.upstream_pool;
        if pool.max_requests == 0 {
            return Err(ConfigError::new(
                "shield.upstream_pool.max_requests",
                "must be at least 1 (requests per upstream connection)",
            ));
        }
        if pool.max_age.get().is_zero() {
            return Err(ConfigError::new(
                "shield.upstream_pool.max_age",
                "must be longer than 0s",
            ));
        }
        let upstreams = (0..shared.workers.max(1))
            .map(|_| {
                Upstream::new(
                    &config.upstream,
                    t.upstream_connect.get(),
                    t.upstream_response.get(),
                    t.idle.get(),
                )
                .with_recycling(pool.max_requests, pool.max_age.get())
            })
            .collect();
        let nonce_header = s
            .headers
            .csp_nonce_header
            .as_deref()
            .and_then(|n| HeaderName::from_bytes(n.as_bytes()).ok());
        let nonce = s.headers.csp_nonce.unwrap_or(false) && nonce_header.is_none();
        // Routes with a nonce policy of their own: their pages are rewritten too.
        let nonce_routes: Vec<String> = if nonce_header.is_none() {
            s.headers
                .routes
                .iter()
                .filter(|r| r.nonce())
                .flat_map(|r| r.routes.iter().cloned())
                .collect()
        } else {
            Vec::new()
        };
        // Patterns were checked by the headers layer, built before.
        let nonce_routes = RouteSet::new(&nonce_routes).unwrap_or_default();
        let body_budget = BodyBudget::new(limits.buffer_memory);
        let spill = limits.spill.as_ref().map(|l| {
            Arc::new(Spill {
                dir: l.dir.clone(),
                per_response: l.per_response,
                disk: BodyBudget::new(l.disk),
                metrics: Arc::clone(&shared.metrics),
            })
        });
        Ok(Pipeline {
            body_budget,
            spill,
            request,
            response,
            errors,
            limits,
            body_pace,
            upstreams,
            nonce_placeholder: s.headers.csp_nonce_placeholder.clone(),
            warned_inline_handlers: Default::default(),
            warned_off_site: Default::default(),
            identity_upstream: nonce,
            nonce_routes,
            nonce_header,
            html_refusals: s.headers.preset == crate::config::Preset::Html,
            config,
            shared,
        })
    }

    pub fn limits(&self) -> &SizeLimits {
        &self.limits
    }

    /// Handles one request end to end.
    pub async fn handle(&self, mut req: Request<Incoming>, conn: ConnInfo) -> Response<ResBody> {
        let metrics = &self.shared.metrics;
        metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        let _guard = InFlight(metrics);
        let upgrade = is_upgrade(req.headers()).then(|| hyper::upgrade::on(&mut req));
        let (mut head, body) = req.into_parts();
        let mut cx = Context::new(conn.peer, conn.tls, head.method.clone(), head.uri.clone());
        cx.worker = conn.worker;
        if self.html_refusals {
            cx.wants_html = crate::reply::wants_html(&head.headers);
        }
        if let Some(q) = &conn.framing {
            cx.framing_problem = q
                .lock()
                .ok()
                .and_then(|mut q| q.pop_front())
                .and_then(|f| f.problem());
        }
        let mut body = BodyBuffer::new(body, self.body_pace);
        let resp = match self.run_request_layers(&mut head, &mut cx, &mut body).await {
            Err(rejection) => {
                if rejection.close {
                    body.linger();
                }
                self.rejected(rejection, &cx)
            }
            Ok(()) => match self
                .forward(head, body, &mut cx, upgrade, conn.worker)
                .await
            {
                Ok(resp) => resp,
                Err(rejection) => self.rejected(rejection, &cx),
            },
        };
        let mut resp = self.finish(resp, &mut cx);
        if cx.has_deferred() {
            resp = self.run_send_tasks(resp, &mut cx).await;
        }
        self.log(&resp, &mut cx);
        resp
    }

    /// Finishes the work response layers queued (server-side session writes). A
    /// failure replaces the response with the rejection, itself finished.
    async fn run_send_tasks(&self, resp: Response<ResBody>, cx: &mut Context) -> Response<ResBody> {
        for task in cx.take_deferred() {
            if let Err(r) = task.await {
                let replaced = self.rejected(r, cx);
                let out = self.finish(replaced, cx);
                // A rejection sets no cookies, so nothing new was queued.
                cx.take_deferred();
                return out;
            }
        }
        resp
    }

    /// The plain listener beside shield's own TLS: client resolution and the host
    /// check, then a 308 to the same URL over HTTPS (TLS001).
    pub fn redirect_to_https(&self, req: Request<Incoming>, conn: ConnInfo) -> Response<ResBody> {
        let (mut head, _) = req.into_parts();
        let mut cx = Context::new(conn.peer, false, head.method.clone(), head.uri.clone());
        // proxy_trust and hosts are the first two layers.
        for layer in self.request.iter().take(2) {
            if let Flow::Reject(r) = layer.check(&mut head, &mut cx) {
                let resp = self.rejected(r, &cx);
                let resp = self.finish(resp, &mut cx);
                self.log(&resp, &mut cx);
                return resp;
            }
        }
        let resp = match layers::https_redirect::location(&cx, Some(self.config.listen.port())) {
            Some(loc) => self.rejected(
                Rejection::redirect(
                    loc,
                    layers::https_redirect::CONTROL,
                    "plain HTTP on the redirect listener",
                ),
                &cx,
            ),
            None => self.rejected(
                Rejection::new(
                    StatusCode::BAD_REQUEST,
                    "missing_host",
                    "the request has no usable Host",
                    layers::hosts::CONTROL,
                    "no Host on the redirect listener",
                ),
                &cx,
            ),
        };
        let resp = self.finish(resp, &mut cx);
        self.log(&resp, &mut cx);
        resp
    }

    async fn run_request_layers(
        &self,
        head: &mut request::Parts,
        cx: &mut Context,
        body: &mut BodyBuffer,
    ) -> Result<(), Rejection> {
        if let Some(problem) = cx.framing_problem {
            return Err(layers::limits::framing_rejection(problem));
        }
        for layer in &self.request {
            loop {
                match layer.check(head, cx) {
                    Flow::Continue => break,
                    Flow::Reject(r) => return Err(r),
                    Flow::Wait(fut) => {
                        let resume = fut.await;
                        resume(head, cx).map_err(|r| *r)?;
                        break;
                    }
                    Flow::NeedBody { limit } => {
                        if matches!(cx.body, BodyView::Buffered(_)) {
                            // Already whole: asking again is a layer bug, not a loop.
                            break;
                        }
                        let max_body = cx.max_body.unwrap_or(self.limits.max_body);
                        // Buffered for a layer: never more than the global limit,
                        // even on a route allowed a larger body (it streams on).
                        let max = usize::try_from(max_body.min(self.limits.max_body))
                            .unwrap_or(usize::MAX);
                        let want = limit.min(max);
                        if matches!(cx.body, BodyView::TooLarge) && body.len > want {
                            break;
                        }
                        body.fill(want).await.map_err(fill_rejection)?;
                        if body.len as u64 > max_body {
                            return Err(layers::limits::too_large(max_body));
                        }
                        cx.body = if body.ended {
                            BodyView::Buffered(body.joined())
                        } else {
                            BodyView::TooLarge
                        };
                    }
                }
            }
        }
        // A chunked body's first chunk is read before anything goes upstream, so a
        // malformed chunk size is refused here instead of half-forwarded.
        if matches!(cx.body, BodyView::NotRead)
            && head.headers.contains_key(header::TRANSFER_ENCODING)
        {
            body.fill(0).await.map_err(fill_rejection)?;
            let max_body = cx.max_body.unwrap_or(self.limits.max_body);
            if body.len as u64 > max_body {
                return Err(layers::limits::too_large(max_body));
            }
        }
        if cx.buffer_body && !body.ended {
            self.buffer_body(cx, body).await?;
        }
        Ok(())
    }

    /// `request_buffering`: reads the body whole before the request goes upstream,
    /// at the client's required pace, so the app gets it at once however slowly the
    /// client sends, and a worker that serves one request at a time (gunicorn's
    /// sync workers) is never held by a slow client. At most the global
    /// `max_body_bytes` is buffered (a route allowed more streams the rest), and
    /// only while `buffer_memory_bytes` has room: past it, the body streams.
    async fn buffer_body(&self, cx: &mut Context, body: &mut BodyBuffer) -> Result<(), Rejection> {
        let max_body = cx.max_body.unwrap_or(self.limits.max_body);
        let limit = usize::try_from(max_body.min(self.limits.max_body)).unwrap_or(usize::MAX);
        let whole = body
            .fill_within(limit, Some(&self.body_budget))
            .await
            .map_err(fill_rejection)?;
        if body.len as u64 > max_body {
            return Err(layers::limits::too_large(max_body));
        }
        if !whole {
            self.shared
                .metrics
                .bodies_unbuffered
                .fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn forward(
        &self,
        mut head: request::Parts,
        mut body: BodyBuffer,
        cx: &mut Context,
        upgrade: Option<hyper::upgrade::OnUpgrade>,
        worker: usize,
    ) -> Result<Response<ResBody>, Rejection> {
        let upstream = &self.upstreams[worker % self.upstreams.len()];
        strip_hop_by_hop(&mut head.headers, upgrade.is_some());
        if !head.headers.contains_key(header::HOST) {
            let host = cx
                .authority
                .as_deref()
                .and_then(|a| HeaderValue::from_str(a).ok())
                .unwrap_or_else(|| {
                    HeaderValue::from_str(upstream.authority().as_str())
                        .unwrap_or(HeaderValue::from_static("localhost"))
                });
            head.headers.insert(header::HOST, host);
        }
        head.headers
            .insert(X_REQUEST_ID.clone(), cx.request_id.header_value());
        if self.identity_upstream
            || (!self.nonce_routes.is_empty() && self.nonce_routes.matches(&cx.method, cx.path()))
        {
            cx.gzip_for_client = layers::compress::accepts_gzip(&head.headers);
            head.headers.remove(header::ACCEPT_ENCODING);
        }
        if let Some(name) = &self.nonce_header {
            // Whatever the client sent under this name is replaced.
            let n = layers::csp_nonce::fresh_nonce();
            if let Ok(v) = HeaderValue::from_str(&n) {
                head.headers.insert(name.clone(), v);
                cx.upstream_nonce = Some(n);
            }
        }
        head.uri = upstream.uri_for(&head.uri);
        head.version = Version::HTTP_11;
        if body.ended {
            // The whole body is here: nothing for the app to wait for or refuse
            // before it is sent.
            head.headers.remove(header::EXPECT);
        }
        // The memory of a buffered body, given back once the body is sent (the
        // response head is in).
        let _held = body.take_held();
        let overflow = (!body.ended && !head.headers.contains_key(header::CONTENT_LENGTH))
            .then(|| Arc::new(AtomicBool::new(false)));
        let max_body = cx.max_body.unwrap_or(self.limits.max_body);
        let too_slow = (!body.ended).then(|| Arc::new(AtomicBool::new(false)));
        let req = Request::from_parts(
            head,
            body.into_req_body(max_body, overflow.clone(), too_slow.clone()),
        );
        let resp = match upstream.send(req).await {
            Ok(r) => r,
            Err(e) => {
                if overflow.is_some_and(|o| o.load(Ordering::Relaxed)) {
                    return Err(layers::limits::too_large(max_body));
                }
                if too_slow.is_some_and(|t| t.load(Ordering::Relaxed)) {
                    return Err(body_too_slow());
                }
                return Err(self.upstream_failure(e, cx));
            }
        };
        if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
            if let Some(client_side) = upgrade {
                return Ok(bridge_upgrade(resp, client_side));
            }
        }
        let (mut rh, rb) = resp.into_parts();
        strip_hop_by_hop(&mut rh.headers, false);
        let rb = AppBody::new(
            rb,
            self.limits.response_buffer,
            &self.body_budget,
            self.spill.as_ref(),
        );
        let (resp, sanitized) = self.errors.process(Response::from_parts(rh, rb), cx).await;
        if let Some(s) = sanitized {
            self.shared.metrics.event(s.control, "sanitize");
            self.shared.audit.event(
                cx,
                s.control,
                "sanitize",
                Some(resp.status().as_u16()),
                &s.reason,
                Some(&s.original),
            );
        }
        Ok(resp)
    }

    fn upstream_failure(&self, e: UpstreamError, cx: &Context) -> Rejection {
        let m = &self.shared.metrics;
        let (status, code, message) = match &e {
            UpstreamError::Timeout(_) => {
                m.upstream_timeouts.fetch_add(1, Ordering::Relaxed);
                (
                    StatusCode::GATEWAY_TIMEOUT,
                    "upstream_timeout",
                    "the application did not answer in time",
                )
            }
            UpstreamError::Unavailable(_) => {
                m.upstream_errors.fetch_add(1, Ordering::Relaxed);
                (
                    StatusCode::BAD_GATEWAY,
                    "upstream_unavailable",
                    "the application is not reachable",
                )
            }
        };
        eprintln!("flaskguard shield: request {}: {e}", cx.request_id);
        // Not a security control: no audit line (control left empty).
        Rejection::new(status, code, message, "", e.to_string())
    }

    fn rejected(&self, r: Rejection, cx: &Context) -> Response<ResBody> {
        if !r.control.is_empty() {
            self.shared.metrics.event(r.control, r.action);
            self.shared.audit.event(
                cx,
                r.control,
                r.action,
                Some(r.status.as_u16()),
                &r.reason,
                None,
            );
        }
        let head_only = cx.method == http::Method::HEAD;
        if cx.wants_html {
            r.into_html_response(cx.request_id, head_only)
        } else {
            r.into_response(cx.request_id, head_only)
        }
    }

    /// Response layers, request id, nonce rewriting.
    fn finish(&self, resp: Response<ResBody>, cx: &mut Context) -> Response<ResBody> {
        let (mut head, mut body) = resp.into_parts();
        if head.status != StatusCode::SWITCHING_PROTOCOLS {
            for layer in &self.response {
                layer.apply(&mut head, cx);
            }
        }
        for (k, v) in cx.response_headers.drain(..) {
            head.headers.append(k, v);
        }
        head.headers
            .insert(X_REQUEST_ID.clone(), cx.request_id.header_value());
        let head_only = cx.method == http::Method::HEAD;
        let declared_len = layers::compress::content_length(&head.headers);
        if let Some(nonce) = cx.nonce.clone() {
            // A HEAD answer describes the GET one, which is rewritten (no length).
            if cx.method == http::Method::HEAD {
                head.headers.remove(header::CONTENT_LENGTH);
            } else if !matches!(body, ResBody::Empty) {
                head.headers.remove(header::CONTENT_LENGTH);
                let inline_warning = (!self
                    .warned_inline_handlers
                    .load(std::sync::atomic::Ordering::Relaxed))
                .then(|| layers::csp_nonce::InlineHandlerWarning {
                    warned: self.warned_inline_handlers.clone(),
                    route: format!("{} {}", cx.method, cx.path()),
                });
                let off_site_warning = (!self
                    .warned_off_site
                    .load(std::sync::atomic::Ordering::Relaxed))
                .then(|| {
                    let policy = head
                        .headers
                        .get(header::CONTENT_SECURITY_POLICY)
                        .and_then(|v| v.to_str().ok())?;
                    Some(layers::csp_nonce::OffSiteWarning {
                        warned: self.warned_off_site.clone(),
                        route: format!("{} {}", cx.method, cx.path()),
                        policy: policy.to_string(),
                        host: cx.host.clone().unwrap_or_default(),
                    })
                })
                .flatten();
                body = ResBody::Html(Box::new(NonceBody::new(
                    body,
                    nonce,
                    self.nonce_placeholder.clone(),
                    inline_warning,
                    off_site_warning,
                )));
            }
        }
        if cx.gzip_for_client && head.status != StatusCode::SWITCHING_PROTOCOLS {
            body = layers::compress::maybe_gzip(&mut head, body, true, head_only, declared_len);
        }
        Response::from_parts(head, body)
    }

    /// Audit lines for the events layers noted, metrics, the access log.
    fn log(&self, resp: &Response<ResBody>, cx: &mut Context) {
        for n in std::mem::take(&mut cx.events) {
            self.shared.metrics.event(n.control, n.action);
            if n.audit {
                self.shared
                    .audit
                    .event(cx, n.control, n.action, None, &n.reason, None);
            }
        }
        let status = resp.status().as_u16();
        self.shared.metrics.response(status, cx.started.elapsed());
        self.shared.audit.access(cx, status);
    }
}

fn fill_rejection(e: body_buffer::FillError) -> Rejection {
    match e {
        body_buffer::FillError::Malformed => bad_body(),
        body_buffer::FillError::TooSlow => body_too_slow(),
    }
}

/// The client sent its body too slowly (`timeouts.body_read`, `body_min_rate`).
fn body_too_slow() -> Rejection {
    Rejection::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request body did not arrive in time",
        layers::limits::CONTROL,
        "request body too slow (timeouts.body_read / body_min_rate)",
    )
    .closing()
}

fn bad_body() -> Rejection {
    Rejection::new(
        StatusCode::BAD_REQUEST,
        "bad_framing",
        "the request body is malformed",
        layers::limits::CONTROL,
        "malformed request body (chunk framing)",
    )
    .closing()
}
