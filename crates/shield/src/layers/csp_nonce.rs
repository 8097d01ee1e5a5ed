//! HDR002: per-request CSP nonces written into `<script>` and `<style>` tags of
//! HTML responses as they stream through (lol_html, no buffering of the page).
//!
//! Every tag gets the nonce unless a placeholder is configured; then only tags whose
//! `nonce` attribute carries the placeholder do, so markup injected into the page
//! (stored XSS) cannot borrow the nonce. Compressed bodies are not rewritten (the
//! html preset asks the upstream for identity encoding instead).

use std::{
    collections::VecDeque,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use base64::Engine as _;
use bytes::Bytes;
use http::{header, HeaderMap};
use http_body::{Body, Frame};
use lol_html::{element, send::HtmlRewriter, send::Settings, OutputSink};

use crate::body::{BoxError, ResBody};

/// 128 random bits, base64: a fresh nonce per HTML response.
pub fn fresh_nonce() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No randomness: a nonce we cannot trust must not exist. Use one that is
        // unique per process at least (the CSP then still blocks injected inline code
        // lacking it).
        b = crate::context::RequestId::next().to_hex()[..16]
            .try_into()
            .unwrap_or([0; 16]);
    }
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Whether a response can be rewritten: HTML, not compressed.
pub fn can_rewrite(h: &HeaderMap) -> bool {
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let m = ct.split(';').next().unwrap_or("").trim();
            m.eq_ignore_ascii_case("text/html") || m.eq_ignore_ascii_case("application/xhtml+xml")
        });
    let plain = h
        .get(header::CONTENT_ENCODING)
        .is_none_or(|v| v.as_bytes().eq_ignore_ascii_case(b"identity"));
    html && plain
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<VecDeque<Bytes>>>);

impl OutputSink for Sink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        if !chunk.is_empty() {
            if let Ok(mut q) = self.0.lock() {
                q.push_back(Bytes::copy_from_slice(chunk));
            }
        }
    }
}

/// An HTML body with nonces injected.
pub struct NonceBody {
    inner: ResBody,
    rewriter: Option<HtmlRewriter<'static, Sink>>,
    out: Sink,
}

impl std::fmt::Debug for NonceBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceBody")
    }
}

impl NonceBody {
    pub fn new(inner: ResBody, nonce: String, placeholder: Option<String>) -> NonceBody {
        let out = Sink::default();
        let settings = Settings {
            element_content_handlers: vec![element!("script, style", move |el| {
                let give = match &placeholder {
                    None => true,
                    Some(p) => el.get_attribute("nonce").as_deref() == Some(p.as_str()),
                };
                if give {
                    el.set_attribute("nonce", &nonce)?;
                }
                Ok(())
            })],
            ..Settings::new_send()
        };
        let rewriter = HtmlRewriter::new(settings, out.clone());
        NonceBody {
            inner,
            rewriter: Some(rewriter),
            out,
        }
    }

    fn pop(&self) -> Option<Bytes> {
        self.out.0.lock().ok().and_then(|mut q| q.pop_front())
    }

    pub fn is_end_stream(&self) -> bool {
        self.rewriter.is_none() && self.out.0.lock().map(|q| q.is_empty()).unwrap_or(true)
    }
}

impl Body for NonceBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if let Some(b) = self.pop() {
                return Poll::Ready(Some(Ok(Frame::data(b))));
            }
            if self.rewriter.is_none() {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    self.rewriter = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        if let Some(rw) = self.rewriter.as_mut() {
                            if let Err(e) = rw.write(&data) {
                                self.rewriter = None;
                                return Poll::Ready(Some(Err(Box::new(e))));
                            }
                        }
                    }
                }
                Poll::Ready(None) => {
                    if let Some(rw) = self.rewriter.take() {
                        if let Err(e) = rw.end() {
                            return Poll::Ready(Some(Err(Box::new(e))));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn rewrite(html: &'static str, placeholder: Option<&str>) -> String {
        let body = NonceBody::new(
            ResBody::full(Bytes::from_static(html.as_bytes())),
            "N0NCE".into(),
            placeholder.map(String::from),
        );
        let out = body.collect().await.unwrap().to_bytes();
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn injects_into_scripts_and_styles() {
        let out = rewrite("<html><script>a()</script><style>p{}</style><script src=/x.js></script><p>hi</p></html>", None).await;
        assert_eq!(
            out,
            r#"<html><script nonce="N0NCE">a()</script><style nonce="N0NCE">p{}</style><script src=/x.js nonce="N0NCE"></script><p>hi</p></html>"#
        );
    }

    #[tokio::test]
    async fn placeholder_mode_only_marked_tags() {
        let out = rewrite(
            r#"<script nonce="{{fg-nonce}}">ok()</script><script>evil()</script>"#,
            Some("{{fg-nonce}}"),
        )
        .await;
        assert_eq!(
            out,
            r#"<script nonce="N0NCE">ok()</script><script>evil()</script>"#
        );
    }

    #[test]
    fn only_plain_html() {
        let mut h = HeaderMap::new();
        h.insert("content-type", "text/html; charset=utf-8".parse().unwrap());
        assert!(can_rewrite(&h));
        h.insert("content-encoding", "gzip".parse().unwrap());
        assert!(!can_rewrite(&h));
        assert_ne!(fresh_nonce(), fresh_nonce());
    }
}
