//! Request-smuggling detection below hyper.
//!
//! hyper parses request heads safely but leniently: with both `Content-Length` and
//! `Transfer-Encoding` it drops the length, and it folds identical duplicate
//! `Content-Length` lines into one, so neither is visible in the parsed headers. A
//! proxy should refuse such requests outright (RFC 9112 6.3 allows it, and a
//! front-end that normalises them hides an attack from the logs). [`Sniff`] watches
//! the raw bytes of each request head on an HTTP/1 connection and queues what it saw
//! for the pipeline, which refuses the request (limits layer, INP003).
//!
//! It follows message framing only as far as it is simple: heads, and bodies with a
//! `Content-Length`. After a chunked body or an upgrade it stops watching that
//! connection (hyper still frames those safely; nothing is lost but the early
//! warning).

use std::{
    collections::VecDeque,
    io,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the raw head of one request showed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Framing {
    pub content_lengths: u8,
    pub transfer_encoding: bool,
}

impl Framing {
    /// Why this framing is refused, if it is.
    pub fn problem(self) -> Option<&'static str> {
        if self.content_lengths > 0 && self.transfer_encoding {
            Some("both Content-Length and Transfer-Encoding")
        } else if self.content_lengths > 1 {
            Some("several Content-Length headers")
        } else {
            None
        }
    }
}

/// The per-connection queue of framings, one per request head, in order.
pub type FramingQueue = Arc<Mutex<VecDeque<Framing>>>;

#[derive(Debug)]
enum Mode {
    Head,
    Body(u64),
    Off,
}

/// Heads larger than this are hyper's to refuse; we stop watching.
const MAX_HEAD: usize = 256 * 1024;

/// A stream wrapper that watches request heads.
pub struct Sniff<S> {
    inner: S,
    mode: Mode,
    head: Vec<u8>,
    queue: FramingQueue,
}

impl<S> Sniff<S> {
    pub fn new(inner: S) -> (Sniff<S>, FramingQueue) {
        let queue = FramingQueue::default();
        (
            Sniff {
                inner,
                mode: Mode::Head,
                head: Vec::new(),
                queue: queue.clone(),
            },
            queue,
        )
    }

    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match self.mode {
                Mode::Off => return,
                Mode::Body(n) => {
                    let k = (n.min(data.len() as u64)) as usize;
                    data = &data[k..];
                    self.mode = if n - k as u64 == 0 {
                        Mode::Head
                    } else {
                        Mode::Body(n - k as u64)
                    };
                }
                Mode::Head => {
                    let before = self.head.len();
                    let take = data.len().min(MAX_HEAD + 4 - before.min(MAX_HEAD));
                    self.head.extend_from_slice(&data[..take]);
                    match head_end(&self.head) {
                        Some(end) => {
                            let used = end - before;
                            let (framing, next) = analyze(&self.head[..end]);
                            if let Ok(mut q) = self.queue.lock() {
                                q.push_back(framing);
                            }
                            self.mode = next;
                            self.head.clear();
                            data = &data[used..];
                        }
                        None => {
                            if self.head.len() > MAX_HEAD {
                                self.mode = Mode::Off;
                                self.head = Vec::new();
                            }
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// The end of a head (just past its empty line), tolerating bare LF like httparse.
/// Leading empty lines before a request line are skipped, as hyper does.
fn head_end(buf: &[u8]) -> Option<usize> {
    let start = buf.iter().position(|b| *b != b'\r' && *b != b'\n')?;
    let mut i = start;
    while let Some(off) = memchr::memchr(b'\n', &buf[i..]) {
        let nl = i + off;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            Some(_) => i = nl + 1,
            None => return None,
        }
    }
    None
}

fn analyze(head: &[u8]) -> (Framing, Mode) {
    let mut f = Framing::default();
    let mut length: Option<u64> = None;
    let mut upgrade = false;
    for line in head
        .split(|b| *b == b'\n')
        .skip_while(|l| l.is_empty() || *l == b"\r")
        .skip(1)
    {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") {
            f.content_lengths = f.content_lengths.saturating_add(1);
            length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            f.transfer_encoding = true;
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            upgrade = true;
        }
    }
    let next = if f.transfer_encoding || upgrade || f.problem().is_some() {
        Mode::Off
    } else {
        match length {
            Some(0) | None if f.content_lengths == 0 => Mode::Head,
            Some(0) => Mode::Head,
            Some(n) => Mode::Body(n),
            None => Mode::Off,
        }
    };
    (f, next)
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniff<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            if !matches!(self.mode, Mode::Off) {
                let fresh = buf.filled()[before..].to_vec();
                self.feed(&fresh);
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniff<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(chunks: &[&[u8]]) -> Vec<Framing> {
        let (mut s, q) = Sniff::new(());
        for c in chunks {
            s.feed(c);
        }
        let out = q.lock().unwrap().iter().copied().collect();
        out
    }

    #[test]
    fn flags_cl_te_and_duplicates_across_keep_alive() {
        let got = feed_all(&[
            b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel",
            b"loGET /b HTTP/1.1\r\nHost: x\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc",
        ]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].problem(), None);
        assert_eq!(got[1].problem(), None);
        assert_eq!(got[2].problem(), Some("several Content-Length headers"));
        let got = feed_all(&[
            b"POST / HTTP/1.1\r\nContent-Length: 4\r\n",
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ]);
        assert_eq!(
            got[0].problem(),
            Some("both Content-Length and Transfer-Encoding")
        );
    }

    #[test]
    fn bodies_that_look_like_heads_are_not_heads() {
        let body = b"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n";
        let head = format!("POST /u HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len());
        let got = feed_all(&[head.as_bytes(), body]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].problem(), None);
    }

    #[test]
    fn stops_after_chunked_bodies() {
        let got = feed_all(&[b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\nGET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"]);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn bare_lf_heads() {
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: a\n\nrest"), Some(24));
        assert_eq!(head_end(b"\r\nGET / HTTP/1.1\r\n\r\n"), Some(20));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
    }
}
