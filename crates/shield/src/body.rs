//! The body types shield streams: requests to the upstream, responses to the client.
//!
//! Both are small enums rather than boxed trait objects: a proxied request should
//! not pay an allocation for a body it only passes along.

use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use crate::layers::csp_nonce::NonceBody;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request body sent upstream: bytes a layer already read, then the rest of the
/// client's stream, cut off at the body limit.
#[derive(Debug, Default)]
pub struct ReqBody {
    prefix: Option<Bytes>,
    rest: Option<Incoming>,
    /// Bytes the stream may still carry before it breaks the limit.
    remaining: u64,
    /// Set when the client sent more than the limit (the pipeline answers 413).
    overflow: Option<Arc<AtomicBool>>,
}

/// The client sent more than `max_body_bytes` while its body streamed.
#[derive(Debug, thiserror::Error)]
#[error("request body exceeds the limit")]
pub struct BodyTooLarge;

impl ReqBody {
    pub fn empty() -> ReqBody {
        ReqBody::default()
    }

    pub fn full(b: Bytes) -> ReqBody {
        ReqBody {
            prefix: (!b.is_empty()).then_some(b),
            ..ReqBody::default()
        }
    }

    /// A streamed body limited to `limit` bytes after `prefix`. `overflow` is set
    /// when the limit is broken (only needed when the length is not declared).
    pub fn streaming(
        prefix: Option<Bytes>,
        rest: Incoming,
        limit: u64,
        overflow: Option<Arc<AtomicBool>>,
    ) -> ReqBody {
        let used = prefix.as_ref().map_or(0, |p| p.len() as u64);
        ReqBody {
            prefix: prefix.filter(|p| !p.is_empty()),
            rest: Some(rest),
            remaining: limit.saturating_sub(used),
            overflow,
        }
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(p) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(p))));
        }
        let Some(rest) = this.rest.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(rest).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    let n = d.len() as u64;
                    if n > this.remaining {
                        if let Some(flag) = &this.overflow {
                            flag.store(true, Ordering::Relaxed);
                        }
                        this.rest = None;
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
                    }
                    this.remaining -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.rest = None;
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                this.rest = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.rest.as_ref().is_none_or(|r| r.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let p = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        match &self.rest {
            None => SizeHint::with_exact(p),
            Some(r) => {
                let h = r.size_hint();
                let mut out = SizeHint::new();
                out.set_lower(h.lower() + p);
                if let Some(u) = h.upper() {
                    out.set_upper(u + p);
                }
                out
            }
        }
    }
}

/// The response body sent to the client.
#[derive(Debug, Default)]
pub enum ResBody {
    #[default]
    Empty,
    Full(Option<Bytes>),
    /// The upstream's body, possibly after a prefix shield read to inspect it.
    Upstream {
        prefix: Option<Bytes>,
        rest: Incoming,
    },
    /// HTML rewritten on the fly to carry CSP nonces.
    Html(Box<NonceBody>),
    /// gzipped by shield (the app was asked for identity encoding).
    Gzip(Box<crate::layers::compress::GzipBody>),
}

impl ResBody {
    pub fn empty() -> ResBody {
        ResBody::Empty
    }

    pub fn full(b: Bytes) -> ResBody {
        ResBody::Full(Some(b))
    }

    pub fn upstream(rest: Incoming) -> ResBody {
        ResBody::Upstream { prefix: None, rest }
    }
}

impl Body for ResBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ResBody::Empty => Poll::Ready(None),
            ResBody::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            ResBody::Upstream { prefix, rest } => {
                if let Some(p) = prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(p))));
                }
                Pin::new(rest)
                    .poll_frame(cx)
                    .map_err(|e| Box::new(e) as BoxError)
            }
            ResBody::Html(h) => Pin::new(h.as_mut()).poll_frame(cx),
            ResBody::Gzip(g) => Pin::new(g.as_mut()).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResBody::Empty => true,
            ResBody::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            ResBody::Upstream { prefix, rest } => prefix.is_none() && rest.is_end_stream(),
            ResBody::Html(h) => h.is_end_stream(),
            ResBody::Gzip(g) => g.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResBody::Empty => SizeHint::with_exact(0),
            ResBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ResBody::Upstream { prefix, rest } => {
                let p = prefix.as_ref().map_or(0, |p| p.len() as u64);
                let h = rest.size_hint();
                let mut out = SizeHint::new();
                out.set_lower(h.lower() + p);
                if let Some(u) = h.upper() {
                    out.set_upper(u + p);
                }
                out
            }
            ResBody::Html(_) | ResBody::Gzip(_) => SizeHint::new(),
        }
    }
}

/// Reads up to `limit` bytes of `body`. Returns the bytes read and whether the body
/// ended within the limit; on `false` the caller must send the bytes before the rest.
pub async fn read_prefix<B>(body: &mut B, limit: usize) -> Result<(Bytes, bool), B::Error>
where
    B: Body<Data = Bytes> + Unpin,
{
    use http_body_util::BodyExt;
    let mut first: Option<Bytes> = None;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let len = first.as_ref().map_or(buf.len(), |f| f.len());
        if len > limit {
            break;
        }
        match body.frame().await {
            None => {
                let b = first.unwrap_or_else(|| Bytes::from(buf));
                return Ok((b, true));
            }
            Some(frame) => {
                let frame = frame?;
                if let Ok(data) = frame.into_data() {
                    if data.is_empty() {
                        continue;
                    }
                    // A body in one frame (the common case) is kept without copying.
                    match first.take() {
                        None if buf.is_empty() => first = Some(data),
                        Some(f) => {
                            buf.extend_from_slice(&f);
                            buf.extend_from_slice(&data);
                        }
                        None => buf.extend_from_slice(&data),
                    }
                }
            }
        }
    }
    Ok((first.unwrap_or_else(|| Bytes::from(buf)), false))
}
