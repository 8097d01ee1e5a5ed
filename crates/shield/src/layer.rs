//! The layer interface: how a control plugs into the pipeline.
//!
//! A [`RequestLayer`] looks at the request head and the [`Context`] and decides:
//! go on, answer now with a JSON error ([`Rejection`]), read the body first
//! ([`Flow::NeedBody`]: the pipeline buffers it once, bounded, and asks again), or
//! wait for an asynchronous decision ([`Flow::Wait`], e.g. a Redis round trip),
//! whose result is a [`Resume`]: a closure the pipeline applies to the request and
//! its context once the future is done (add response headers, note an event, edit
//! a request header, or refuse).
//! A [`ResponseLayer`] edits the response head (headers, cookies) in place; one that
//! must finish asynchronous work before the response leaves (a server-side session
//! written to Redis) queues it in [`Context::before_send`].
//!
//! Decisions that need no I/O return without allocating; only `Wait` boxes a future.
//! See LAYERS.md for the order and how to add one.

use std::{future::Future, pin::Pin};

use http::{request, response, HeaderName, HeaderValue};

use crate::{context::Context, reply::Rejection};

/// What a request layer decided.
pub enum Flow {
    /// Pass the request on to the next layer.
    Continue,
    /// Answer now; the request never reaches the upstream.
    Reject(Rejection),
    /// Buffer the body (at most `limit` bytes) into [`Context::body`], then call
    /// this layer again. The body is read once, whichever layers ask.
    NeedBody { limit: usize },
    /// An asynchronous decision. The pipeline awaits the future, applies the
    /// [`Resume`] it yields to the request and its context, and goes on with the
    /// next layer (or answers with the rejection the resume returns).
    Wait(LayerFuture),
}

/// What an asynchronous decision does once it is known: runs synchronously with the
/// request head and context, like `check`. (The rejection is boxed: it is the rare
/// path, and keeps the result small.)
pub type Resume =
    Box<dyn FnOnce(&mut request::Parts, &mut Context) -> Result<(), Box<Rejection>> + Send>;

/// The future of [`Flow::Wait`].
pub type LayerFuture = Pin<Box<dyn Future<Output = Resume> + Send>>;

/// A resume that only adds response headers.
pub fn resume_with_headers(headers: Vec<(HeaderName, HeaderValue)>) -> Resume {
    Box::new(move |_, cx| {
        cx.response_headers.extend(headers);
        Ok(())
    })
}

/// Work a response layer queued that must finish before the response is sent; an
/// error replaces the response with the rejection.
pub type SendTask = Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send>>;

/// A control enforced on the request, in pipeline order.
pub trait RequestLayer: Send + Sync + 'static {
    /// The layer's name (as registered for checklist coverage and in metrics).
    fn name(&self) -> &'static str;

    /// Decides on one request. May edit the head (proxy_trust rewrites forwarding
    /// headers; cookie sealing would decrypt `Cookie`).
    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow;
}

/// A control applied to the response head, in pipeline order.
pub trait ResponseLayer: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Edits the response head. `cx` is the request's context (client, scheme, route).
    fn apply(&self, head: &mut response::Parts, cx: &mut Context);
}
