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

/// Says once, on stderr, that a page loads a script, stylesheet or image from
/// another site that the page's policy does not allow (a CDN's Bootstrap, a font
/// stylesheet, an avatar service): browsers block it and only their console says
/// so. Scripts that carry shield's nonce are allowed wherever they come from.
#[derive(Debug, Clone)]
pub struct OffSiteWarning {
    pub warned: Arc<std::sync::atomic::AtomicBool>,
    /// `GET /`: the page.
    pub route: String,
    /// The policy the page is sent with (enforced, not report-only).
    pub policy: String,
    /// The Host the page was asked for, which `'self'` allows.
    pub host: String,
}

impl OffSiteWarning {
    fn check(&self, url: &str, directive: &'static str, has_nonce: bool) {
        use std::sync::atomic::Ordering;
        if self.warned.load(Ordering::Relaxed) {
            return;
        }
        let Some(target) = OffSite::parse(url) else {
            return;
        };
        let sources = effective_sources(&self.policy, directive);
        let nonce_ok = has_nonce
            && sources
                .iter()
                .any(|s| s.to_ascii_lowercase().starts_with("'nonce-"));
        if nonce_ok || sources_allow(&sources, &target, &self.host) {
            return;
        }
        if !self.warned.swap(true, Ordering::Relaxed) {
            let origin = target.origin();
            eprintln!(
                "flaskguard shield: warning: {} loads {url}, which the page's Content-Security-Policy does not allow ({directive}): browsers block it. Add {origin} to {directive} in shield.headers.content_security_policy, or serve the file from the app",
                self.route
            );
        }
    }
}

/// An absolute `http(s)://` or scheme-relative `//` URL in a page.
#[derive(Debug, PartialEq)]
struct OffSite<'a> {
    /// `None` for `//host/…` (the page's own scheme).
    scheme: Option<&'a str>,
    host: &'a str,
    port: Option<&'a str>,
}

impl<'a> OffSite<'a> {
    fn parse(url: &'a str) -> Option<OffSite<'a>> {
        let url = url.trim();
        let (scheme, rest) = if let Some(r) = url.strip_prefix("//") {
            (None, r)
        } else {
            let (scheme, r) = url.split_once("://")?;
            if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
                return None;
            }
            (Some(scheme), r)
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or("");
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p))
                if !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (h, Some(p))
            }
            _ => (authority, None),
        };
        (!host.is_empty()).then_some(OffSite { scheme, host, port })
    }

    fn origin(&self) -> String {
        let scheme = self.scheme.unwrap_or("https");
        match self.port {
            Some(p) => format!("{scheme}://{}:{p}", self.host),
            None => format!("{scheme}://{}", self.host),
        }
    }
}

/// The sources that govern `directive` (`script-src` ← `script-src-elem`,
/// falling back to `default-src`); empty when nothing governs it (all allowed is
/// then reported as a `*`).
fn effective_sources<'a>(policy: &'a str, directive: &str) -> Vec<&'a str> {
    let find = |name: &str| {
        policy.split(';').find_map(|d| {
            let mut words = d.split_whitespace();
            words
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
                .then(|| words.collect::<Vec<_>>())
        })
    };
    find(&format!("{directive}-elem"))
        .or_else(|| find(directive))
        .or_else(|| find("default-src"))
        .unwrap_or_else(|| vec!["*"])
}

/// Whether a source list lets the page load `url` (lenient where it is unsure:
/// paths in host sources are not compared).
fn sources_allow(sources: &[&str], url: &OffSite<'_>, page_host: &str) -> bool {
    let scheme = url.scheme.unwrap_or("https").to_ascii_lowercase();
    let host = url.host.to_ascii_lowercase();
    let page = page_host
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map(|(h, _)| h)
        .unwrap_or(page_host)
        .to_ascii_lowercase();
    sources.iter().any(|s| {
        let s = s.to_ascii_lowercase();
        match s.as_str() {
            "*" => true,
            "'self'" => host == page,
            "https:" => scheme == "https",
            "http:" => true,
            _ if s.starts_with('\'') => false,
            _ => {
                let (src_scheme, rest) = match s.split_once("://") {
                    Some((sc, r)) => (Some(sc), r),
                    None if s.ends_with(':') => return false, // data:, blob:, ...
                    None => (None, s.as_str()),
                };
                if src_scheme.is_some_and(|sc| sc == "https" && scheme != "https") {
                    return false;
                }
                let authority = rest.split('/').next().unwrap_or("");
                let (src_host, src_port) = match authority.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (authority, None),
                };
                let host_ok = match src_host.strip_prefix("*.") {
                    Some(base) => host.ends_with(&format!(".{base}")),
                    None => src_host == host,
                };
                let port_ok = match (src_port, url.port) {
                    (None | Some("*"), _) => true,
                    (Some(p), Some(q)) => p == q,
                    (Some(p), None) => p == if scheme == "https" { "443" } else { "80" },
                };
                host_ok && port_ok
            }
        }
    })
}

impl NonceBody {
    pub fn new(
        inner: ResBody,
        nonce: String,
        placeholder: Option<String>,
        inline_warning: Option<InlineHandlerWarning>,
        off_site_warning: Option<OffSiteWarning>,
    ) -> NonceBody {
        let out = Sink::default();
        let given = nonce.clone();
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
        if let Some(w) = off_site_warning {
            // After the nonce handler: a script that got the nonce is allowed.
            handlers.push(element!(
                "script[src], link[rel][href], img[src]",
                move |el| {
                    match el.tag_name().as_str() {
                        "script" => {
                            let has = el.get_attribute("nonce").as_deref() == Some(given.as_str());
                            if let Some(src) = el.get_attribute("src") {
                                w.check(&src, "script-src", has);
                            }
                        }
                        "link" => {
                            let rel = el.get_attribute("rel").unwrap_or_default();
                            if rel
                                .split_ascii_whitespace()
                                .any(|r| r.eq_ignore_ascii_case("stylesheet"))
                            {
                                if let Some(href) = el.get_attribute("href") {
                                    w.check(&href, "style-src", false);
                                }
                            }
                        }
                        _ => {
                            if let Some(src) = el.get_attribute("src") {
                                w.check(&src, "img-src", false);
                            }
                        }
                    }
                    Ok(())
                }
            ));
        }
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
                None,
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

    #[tokio::test]
    async fn notices_off_site_files_the_policy_blocks() {
        use std::sync::atomic::Ordering;
        const HTML: &str = "default-src 'self'; script-src 'self' 'nonce-N0NCE'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";
        let seen = |policy: &'static str, html: &'static str, placeholder: Option<&'static str>| async move {
            let w = OffSiteWarning {
                warned: Default::default(),
                route: "GET /".into(),
                policy: policy.into(),
                host: "app.example:8080".into(),
            };
            let flag = w.warned.clone();
            let body = NonceBody::new(
                ResBody::full(Bytes::from_static(html.as_bytes())),
                "N0NCE".into(),
                placeholder.map(String::from),
                None,
                Some(w),
            );
            body.collect().await.unwrap();
            flag.load(Ordering::Relaxed)
        };
        // A CDN stylesheet, an off-site image, a script without the nonce.
        assert!(
            seen(
                HTML,
                r#"<link rel="stylesheet" href="https://cdn.example/bootstrap.css">"#,
                None
            )
            .await
        );
        assert!(seen(HTML, r#"<img src="//avatars.example/u/1.png">"#, None).await);
        assert!(
            seen(
                HTML,
                r#"<script src="https://cdn.example/x.js"></script>"#,
                Some("{{n}}")
            )
            .await,
            "placeholder mode: the tag did not ask for the nonce"
        );
        // Allowed: the nonce, the page's own host, listed hosts, wildcards,
        // scheme sources, relative URLs, other rel values.
        assert!(
            !seen(
                HTML,
                r#"<script src="https://cdn.example/x.js"></script>"#,
                None
            )
            .await
        );
        assert!(!seen(HTML, r#"<link rel=stylesheet href="http://app.example:8080/s.css"><img src="/a.png"><img src="data:image/png;base64,AA">"#, None).await);
        assert!(
            !seen(
                HTML,
                r#"<link rel="icon" href="https://cdn.example/f.ico">"#,
                None
            )
            .await
        );
        let listed = "default-src 'self'; style-src 'self' https://cdn.example *.fonts.example; img-src https:";
        assert!(!seen(listed, r#"<link rel="preload stylesheet" href="https://cdn.example/b.css"><link rel=stylesheet href="https://a.fonts.example/f.css"><img src="https://any.example/p.png">"#, None).await);
        assert!(
            seen(
                listed,
                r#"<link rel=stylesheet href="https://fonts.example/f.css">"#,
                None
            )
            .await,
            "*.x does not match x itself"
        );
        assert!(
            seen(listed, r#"<img src="http://any.example/p.png">"#, None).await,
            "https: does not allow http"
        );
        assert!(
            !seen(
                "script-src 'self'",
                r#"<img src="https://any.example/p.png">"#,
                None
            )
            .await,
            "no img-src or default-src: allowed"
        );
    }

    #[test]
    fn off_site_urls() {
        assert_eq!(
            OffSite::parse("https://cdn.example:8443/x.css?v=1"),
            Some(OffSite {
                scheme: Some("https"),
                host: "cdn.example",
                port: Some("8443")
            })
        );
        assert_eq!(
            OffSite::parse("//cdn.example/x").map(|u| u.origin()),
            Some("https://cdn.example".into())
        );
        assert_eq!(OffSite::parse("/static/x.css"), None);
        assert_eq!(OffSite::parse("data:image/png;base64,AA"), None);
        assert_eq!(OffSite::parse("javascript:alert(1)"), None);
        assert_eq!(OffSite::parse("https://"), None);
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
