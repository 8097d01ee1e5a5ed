//! gzip for responses shield asked the app not to compress.
//!
//! Rewriting pages for CSP nonces needs them uncompressed, so the `html` preset
//! removes `Accept-Encoding` from requests to the app. Without this stage every
//! response (pages, scripts, style sheets, JSON) would then reach the client
//! uncompressed, several times larger. A response the client could have had
//! compressed is gzipped here instead, as it streams: each chunk from the app is
//! compressed and flushed (`Z_SYNC_FLUSH`) at once, so a streamed page or an
//! event stream is not held back.

use std::{
    io::Write,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use flate2::{write::GzEncoder, Compression};
use http::{header, response, HeaderMap, HeaderValue, StatusCode};
use http_body::{Body, Frame};

use crate::body::{BoxError, ResBody};

/// Bodies shorter than this (when their length is known) are sent as they are.
const MIN_LENGTH: u64 = 860;

/// Whether the client accepts gzip (`Accept-Encoding: gzip`, `*`, with a q-value
/// above zero).
pub fn accepts_gzip(h: &HeaderMap) -> bool {
    h.get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

/// The declared length of a body.
pub fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Whether a response is worth compressing: text-like, not already encoded, with
/// a body that is not tiny (`len`: its length before any rewriting, if known).
fn compressible(status: StatusCode, h: &HeaderMap, len: Option<u64>) -> bool {
    if status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational()
        || h.contains_key(header::CONTENT_ENCODING)
        || h.contains_key(header::CONTENT_RANGE)
    {
        return false;
    }
    if len.is_some_and(|n| n < MIN_LENGTH) {
        return false;
    }
    let Some(ct) = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let m = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    m.starts_with("text/")
        || m.ends_with("+json")
        || m.ends_with("+xml")
        || matches!(
            m.as_str(),
            "application/json"
                | "application/javascript"
                | "application/x-javascript"
                | "application/xml"
                | "application/manifest+json"
                | "image/svg+xml"
                | "application/wasm"
        )
}

/// Gzips the response when the client accepts it and it is worth it: sets
/// `Content-Encoding` and `Vary`, drops the length (the body is then chunked). A
/// HEAD answer gets the headers its GET would. `len` is the body's length as the
/// app declared it (before a rewrite dropped the header), if known.
pub fn maybe_gzip(
    head: &mut response::Parts,
    body: ResBody,
    client_accepts: bool,
    head_only: bool,
    len: Option<u64>,
) -> ResBody {
    if !client_accepts || !compressible(head.status, &head.headers, len) {
        return body;
    }
    if !head_only && matches!(body, ResBody::Empty) {
        return body;
    }
    let h = &mut head.headers;
    h.remove(header::CONTENT_LENGTH);
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    h.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // A strong validator names one representation; the gzipped one is another.
    if let Some(tag) = h.get(header::ETAG).and_then(|v| v.to_str().ok()) {
        if !tag.starts_with("W/") {
            if let Ok(v) = HeaderValue::from_str(&format!("W/{tag}")) {
                h.insert(header::ETAG, v);
            }
        }
    }
    if head_only {
        return body;
    }
    ResBody::Gzip(Box::new(GzipBody::new(body)))
}

/// A body gzipped chunk by chunk.
pub struct GzipBody<B = ResBody> {
    inner: B,
    /// None once the trailer is written.
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl<B> std::fmt::Debug for GzipBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GzipBody")
    }
}

impl<B> GzipBody<B> {
    pub fn new(inner: B) -> GzipBody<B> {
        GzipBody {
            inner,
            encoder: Some(GzEncoder::new(Vec::new(), Compression::new(5))),
        }
    }

    pub fn is_end_stream(&self) -> bool {
        self.encoder.is_none()
    }
}

impl<B> Body for GzipBody<B>
where
    B: Body<Data = Bytes, Error = BoxError> + Unpin,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if self.encoder.is_none() {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    self.encoder = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if data.is_empty() {
                        continue;
                    }
                    let Some(enc) = self.encoder.as_mut() else {
                        return Poll::Ready(None);
                    };
                    if let Err(e) = enc.write_all(&data).and_then(|()| enc.flush()) {
                        self.encoder = None;
                        return Poll::Ready(Some(Err(Box::new(e))));
                    }
                    let out = std::mem::take(enc.get_mut());
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                Poll::Ready(None) => {
                    let Some(enc) = self.encoder.take() else {
                        return Poll::Ready(None);
                    };
                    return match enc.finish() {
                        Ok(out) => Poll::Ready(Some(Ok(Frame::data(Bytes::from(out))))),
                        Err(e) => Poll::Ready(Some(Err(Box::new(e)))),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use http::Response;
    use http_body_util::BodyExt;

    use super::*;

    fn accepts(v: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
        accepts_gzip(&h)
    }

    #[test]
    fn reads_accept_encoding() {
        assert!(accepts("gzip, deflate, br"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("br"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    fn parts(ct: &str, len: Option<usize>) -> response::Parts {
        let mut b = Response::builder().header("content-type", ct);
        if let Some(n) = len {
            b = b.header("content-length", n);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[tokio::test]
    async fn gzips_text_and_round_trips() {
        let page = "<p>hello, compressed world</p>\n".repeat(200);
        let mut head = parts("text/html; charset=utf-8", Some(page.len()));
        head.headers.insert(header::ETAG, "\"v1\"".parse().unwrap());
        let len = content_length(&head.headers);
        let body = maybe_gzip(
            &mut head,
            ResBody::full(Bytes::from(page.clone())),
            true,
            false,
            len,
        );
        assert_eq!(head.headers[header::CONTENT_ENCODING], "gzip");
        assert!(head.headers.get(header::CONTENT_LENGTH).is_none());
        assert_eq!(head.headers[header::VARY], "Accept-Encoding");
        assert_eq!(head.headers[header::ETAG], "W/\"v1\"");
        let zipped = body.collect().await.unwrap().to_bytes();
        assert!(zipped.len() < page.len() / 5, "{} bytes", zipped.len());
        let mut out = String::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, page);
    }

    #[test]
    fn leaves_what_it_should() {
        for (ct, len, accepts) in [
            ("text/html", Some(5000), false),
            ("image/png", Some(5000), true),
            ("application/octet-stream", None, true),
            ("application/json", Some(100), true),
        ] {
            let mut head = parts(ct, len);
            let body = maybe_gzip(
                &mut head,
                ResBody::full(Bytes::from_static(b"x")),
                accepts,
                false,
                len.map(|n| n as u64),
            );
            assert!(matches!(body, ResBody::Full(_)), "{ct}");
            assert!(head.headers.get(header::CONTENT_ENCODING).is_none(), "{ct}");
        }
        let mut head = parts("application/json", Some(5000));
        head.headers
            .insert(header::CONTENT_ENCODING, "br".parse().unwrap());
        let body = maybe_gzip(
            &mut head,
            ResBody::full(Bytes::from_static(b"x")),
            true,
            false,
            None,
        );
        assert!(matches!(body, ResBody::Full(_)));
        assert_eq!(head.headers[header::CONTENT_ENCODING], "br");
        // HEAD: the headers the GET would carry.
        let mut head = parts("application/json", Some(5000));
        let body = maybe_gzip(&mut head, ResBody::Empty, true, true, Some(5000));
        assert!(matches!(body, ResBody::Empty));
        assert_eq!(head.headers[header::CONTENT_ENCODING], "gzip");
        assert!(head.headers.get(header::CONTENT_LENGTH).is_none());
    }

    /// One event, then nothing yet (a stream still open).
    struct OneEvent(bool);

    impl Body for OneEvent {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            if self.0 {
                return Poll::Pending;
            }
            self.0 = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"data: one\n\n")))))
        }
    }

    /// Each chunk leaves at once (a streamed page or an event stream is not held).
    #[tokio::test]
    async fn streams_chunk_by_chunk() {
        let mut body = GzipBody::new(OneEvent(false));
        let first = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
            .await
            .expect("the first chunk is not held back")
            .unwrap()
            .unwrap()
            .into_data()
            .unwrap();
        let mut d = flate2::read::GzDecoder::new(&first[..]);
        let mut got = vec![0u8; 64];
        let n = d.read(&mut got).unwrap();
        assert_eq!(&got[..n], b"data: one\n\n");
    }
}
