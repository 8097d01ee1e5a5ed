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

/// Elements a nonce policy blocks whatever shield writes: inline event handlers
/// as apps write them (not `onerror`/`onload`, the injections' favourites) and
/// `javascript:` links.
const INLINE_HANDLERS: &str =
    "[onclick], [onchange], [onsubmit], [oninput], [onkeyup], [onkeydown], \
     [onkeypress], [onmouseover], [onmouseout], [onfocus], [onblur], a[href^=\"javascript:\"]";

/// Says once, on stderr, that a page carries inline handlers the policy blocks.
#[derive(Debug, Clone)]
pub struct InlineHandlerWarning {
    pub warned: Arc<std::sync::atomic::AtomicBool>,
    /// `GET /settings`: the first page seen with them.
    pub route: String,
}

impl NonceBody {
    pub fn new(
        inner: ResBody,
        nonce: String,
        placeholder: Option<String>,
        inline_warning: Option<InlineHandlerWarning>,
    ) -> NonceBody {
        let out = Sink::default();
        let mut handlers = vec![element!("script, style", move |el| {
            let give = match &placeholder {
                None => true,
                Some(p) => el.get_attribute("nonce").as_deref() == Some(p.as_str()),
            };
            if give {
                el.set_attribute("nonce", &nonce)?;
            }
            Ok(())
        })];
        if let Some(w) = inline_warning {
            handlers.push(element!(INLINE_HANDLERS, move |_el| {
                if !w.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    eprintln!(
                        "flaskguard shield: warning: {} has inline event handlers (onclick=\"…\") or javascript: links, which a nonce policy blocks: no nonce can reach them. Move them into scripts (addEventListener), or set shield.headers.csp_report_only = true while you do",
                        w.route
                    );
                }
                Ok(())
            }));
        }
        let settings = Settings {
            element_content_handlers: handlers,
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
            None,
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

    #[tokio::test]
    async fn notices_inline_handlers_the_policy_blocks() {
        use std::sync::atomic::Ordering;
        let seen = |html: &'static str| async move {
            let w = InlineHandlerWarning {
                warned: Default::default(),
                route: "GET /settings".into(),
            };
            let flag = w.warned.clone();
            let body = NonceBody::new(
                ResBody::full(Bytes::from_static(html.as_bytes())),
                "N0NCE".into(),
                None,
                Some(w),
            );
            let out = body.collect().await.unwrap().to_bytes();
            assert!(
                String::from_utf8_lossy(&out).contains("N0NCE"),
                "still rewritten"
            );
            flag.load(Ordering::Relaxed)
        };
        assert!(seen(r#"<script>a()</script><button onclick="save()">Save</button>"#).await);
        assert!(seen(r#"<script>a()</script><a href="javascript:void(0)">x</a>"#).await);
        assert!(seen(r#"<script>a()</script><select onChange="go()"></select>"#).await);
        // Not for pages without them, nor for the injections' favourite handlers.
        assert!(!seen(r#"<script>a()</script><a href="/x">x</a><p data-onclick="y">"#).await);
        assert!(!seen(r#"<script>a()</script><img src=x onerror="steal()">"#).await);
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
