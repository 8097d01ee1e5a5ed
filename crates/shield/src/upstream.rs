//! The upstream app: pooled HTTP/1.1 connections (hyper's client `conn` API, one
//! pool per worker thread) over TCP or a unix socket, with connect and response
//! timeouts.

use std::{
    io,
    path::PathBuf,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use http::{uri, Request, Response, Uri};
use hyper::{body::Incoming, client::conn::http1::SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, UnixStream};

use crate::{body::ReqBody, config::validate::UpstreamTarget};

/// Where connections go; every request URI is rewritten to this target, so the
/// connector ignores the URI it is given.
#[derive(Debug, Clone)]
pub struct Connector {
    target: Arc<Target>,
    connect_timeout: Duration,
}

#[derive(Debug)]
enum Target {
    /// An IP address: connect without a lookup.
    Addr(std::net::SocketAddr),
    /// A host name, looked up on each new connection (it may move).
    Tcp(String),
    Unix(PathBuf),
}

/// A connection to the upstream.
pub enum UpstreamIo {
    Tcp(TokioIo<TcpStream>),
    Unix(TokioIo<UnixStream>),
}

impl hyper::rt::Read for UpstreamIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            UpstreamIo::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for UpstreamIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamIo::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            UpstreamIo::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Tcp(s) => Pin::new(s).poll_flush(cx),
            UpstreamIo::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamIo::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            UpstreamIo::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamIo::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            UpstreamIo::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            UpstreamIo::Tcp(s) => s.is_write_vectored(),
            UpstreamIo::Unix(s) => s.is_write_vectored(),
        }
    }
}

impl Connector {
    /// A new connection. Its time limit is the caller's (see [`Upstream::send`]).
    async fn open(&self) -> io::Result<UpstreamIo> {
        match &*self.target {
            Target::Addr(addr) => {
                let s = TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                Ok(UpstreamIo::Tcp(TokioIo::new(s)))
            }
            Target::Tcp(addr) => {
                let s = TcpStream::connect(addr.as_str()).await?;
                s.set_nodelay(true)?;
                Ok(UpstreamIo::Tcp(TokioIo::new(s)))
            }
            Target::Unix(path) => Ok(UpstreamIo::Unix(TokioIo::new(
                UnixStream::connect(path).await?,
            ))),
        }
    }
}

/// Why the upstream gave no response.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream unreachable: {0}")]
    Unavailable(String),
    #[error("upstream did not answer within {0:?}")]
    Timeout(Duration),
}

/// The upstream connections of one worker thread: a small LIFO pool of HTTP/1
/// connections (hyper's `client::conn`), each driven by a task on the same thread.
///
/// A connection goes back to the pool as soon as its response head arrives; it is
/// taken again only once hyper says it is ready (the previous body finished), so
/// there is no per-request task or channel just to return it. A request that could
/// not be written on a pooled connection (the app closed it meanwhile) is retried
/// once on a new one.
#[derive(Debug)]
pub struct Upstream {
    connector: Connector,
    idle: Mutex<Vec<Kept>>,
    idle_timeout: Duration,
    authority: uri::Authority,
    response_timeout: Duration,
    /// Requests a connection carries before it is closed.
    max_requests: u64,
    /// Age after which a connection is not taken back into the pool.
    max_age: Duration,
}

/// A connection in the pool, or on its way through a request.
#[derive(Debug)]
struct Kept {
    sender: SendRequest<ReqBody>,
    /// When the connection was opened.
    opened: Instant,
    /// When it last went back to the pool.
    since: Instant,
    /// Requests it has carried, the one in flight included.
    uses: u64,
}

/// Idle connections kept per worker.
const MAX_IDLE: usize = 512;

impl Upstream {
    pub fn new(
        target: &UpstreamTarget,
        connect_timeout: Duration,
        response_timeout: Duration,
        idle: Duration,
    ) -> Upstream {
        let (t, authority) = match target {
            UpstreamTarget::Tcp { authority } => {
                let port = authority.port_u16().unwrap_or(80);
                let host = authority.host();
                let text = format!("{host}:{port}");
                let target = match text.parse::<std::net::SocketAddr>() {
                    Ok(a) => Target::Addr(a),
                    Err(_) => Target::Tcp(text),
                };
                (target, authority.clone())
            }
            UpstreamTarget::Unix { path } => (
                Target::Unix(path.clone()),
                uri::Authority::from_static("localhost"),
            ),
        };
        Upstream {
            connector: Connector {
                target: Arc::new(t),
                connect_timeout,
            },
            idle: Mutex::new(Vec::new()),
            idle_timeout: idle,
            authority,
            response_timeout,
            max_requests: u64::MAX,
            max_age: Duration::MAX,
        }
    }

    /// Close a connection after `max_requests` requests or once it is older than
    /// `max_age` (`[shield.upstream_pool]`).
    pub fn with_recycling(mut self, max_requests: u64, max_age: Duration) -> Upstream {
        self.max_requests = max_requests.max(1);
        self.max_age = max_age;
        self
    }

    /// A pooled connection that can take a request now.
    fn checkout(&self) -> Option<Kept> {
        let mut idle = self.idle.lock().ok()?;
        let now = Instant::now();
        idle.retain(|k| !k.sender.is_closed() && now.duration_since(k.since) < self.idle_timeout);
        let i = idle.iter().rposition(|k| k.sender.is_ready())?;
        Some(idle.swap_remove(i))
    }

    /// Back to the pool once its response head is in, unless it has carried its
    /// last request or is too old: then the sender is dropped, and hyper closes the
    /// connection once the response body is through.
    fn checkin(&self, mut kept: Kept) {
        let now = Instant::now();
        if kept.uses >= self.max_requests || now.duration_since(kept.opened) >= self.max_age {
            return;
        }
        kept.since = now;
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(kept);
            }
        }
    }

    async fn connect(&self) -> Result<SendRequest<ReqBody>, UpstreamError> {
        let io = self
            .connector
            .open()
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("connect: {e}")))?;
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake(io)
            .await
            .map_err(|e| UpstreamError::Unavailable(chain(&e)))?;
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        Ok(sender)
    }

    /// The request target the upstream gets: the client's path and query in origin
    /// form (`/path?q`), as a server expects from a gateway. hyper's connection API
    /// writes the URI as given, so an absolute URI here would reach the app as an
    /// absolute-form target (`GET http://host/path`), which servers must accept but
    /// parse on a slower path, and some mishandle.
    pub fn uri_for(&self, original: &Uri) -> Uri {
        match original.path_and_query() {
            Some(pq) if pq.as_str().starts_with('/') => Uri::from(pq.clone()),
            // `OPTIONS *` and anything else without an origin-form path.
            Some(pq) if pq.as_str() == "*" => Uri::from_static("*"),
            _ => Uri::from_static("/"),
        }
    }

    /// The upstream's authority (the `Host` for requests that arrived without one).
    pub fn authority(&self) -> &uri::Authority {
        &self.authority
    }

    /// One exchange: a pooled connection or a new one, the request written and the
    /// response head read, within `upstream_response` in all and `upstream_connect`
    /// for a new connection.
    ///
    /// One timer serves both limits: it is set to the connect deadline and moved to
    /// the response deadline once connected. A timer earlier than every other one
    /// wakes the runtime's driver (an eventfd write and an extra turn of the event
    /// loop), and a short connect timer per request always is the earliest: with
    /// sync gunicorn workers, which close every connection, that was two extra
    /// wake-ups per request.
    pub async fn send(&self, req: Request<ReqBody>) -> Result<Response<Incoming>, UpstreamError> {
        let start = tokio::time::Instant::now();
        let deadline = start + self.response_timeout;
        let timed_out = || UpstreamError::Timeout(self.response_timeout);
        let mut req = req;
        if let Some(mut kept) = self.checkout() {
            let replay = Replay::of(&req);
            let sleep = tokio::time::sleep_until(deadline);
            kept.uses += 1;
            let sent = tokio::select! {
                biased;
                r = kept.sender.try_send_request(req) => r,
                _ = sleep => return Err(timed_out()),
            };
            match sent {
                Ok(resp) => {
                    self.checkin(kept);
                    return Ok(resp);
                }
                Err(mut e) => match (e.take_message(), replay) {
                    // Not written: the pooled connection was gone. Try a new one.
                    (Some(r), _) => req = r,
                    // Written, and the app closed the kept connection before a byte
                    // of an answer (a server closes an idle connection, or right
                    // after its last response, while the request is on its way):
                    // an idempotent request with its body in memory goes again on
                    // a new connection, once, like nginx does with a cached
                    // connection. Anything else is the app's failure to answer.
                    (None, Some(replay)) if closed_before_answer(e.error()) => {
                        req = replay.request();
                    }
                    (None, _) => return Err(UpstreamError::Unavailable(chain(e.error()))),
                },
            }
        }
        let opened = Instant::now();
        let connect_deadline = (start + self.connector.connect_timeout).min(deadline);
        let sleep = tokio::time::sleep_until(connect_deadline);
        tokio::pin!(sleep);
        let mut sender = tokio::select! {
            biased;
            r = self.connect() => r?,
            _ = &mut sleep => {
                return Err(if connect_deadline < deadline {
                    UpstreamError::Unavailable("connect: upstream connect timed out".into())
                } else {
                    timed_out()
                });
            }
        };
        sleep.as_mut().reset(deadline);
        let sent = tokio::select! {
            biased;
            r = sender.send_request(req) => r,
            _ = &mut sleep => return Err(timed_out()),
        };
        match sent {
            Ok(resp) => {
                self.checkin(Kept {
                    sender,
                    opened,
                    since: opened,
                    uses: 1,
                });
                Ok(resp)
            }
            Err(e) => Err(UpstreamError::Unavailable(chain(&e))),
        }
    }
}

/// A copy of a request that may be sent again: an idempotent method (RFC 9110
/// 9.2.2) whose body is all in memory.
struct Replay {
    method: http::Method,
    uri: Uri,
    headers: http::HeaderMap,
    body: Vec<bytes::Bytes>,
}

impl Replay {
    fn of(req: &Request<ReqBody>) -> Option<Replay> {
        use http::Method;
        let idempotent = matches!(
            *req.method(),
            Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
        );
        if !idempotent {
            return None;
        }
        Some(Replay {
            method: req.method().clone(),
            uri: req.uri().clone(),
            headers: req.headers().clone(),
            body: req.body().in_memory()?,
        })
    }

    fn request(self) -> Request<ReqBody> {
        let mut req = Request::new(ReqBody::chunks(self.body));
        *req.method_mut() = self.method;
        *req.uri_mut() = self.uri;
        *req.headers_mut() = self.headers;
        req
    }
}

/// The connection ended (closed or reset) before the response began.
fn closed_before_answer(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() || e.is_canceled() {
        return true;
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionAborted
            );
        }
        src = s.source();
    }
    false
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback listener that completes no more handshakes: its accept queue
    /// (backlog 0) is filled by one connection nobody accepts, so the kernel drops
    /// further SYNs and a new connect hangs until its time limit.
    async fn full_listener() -> (tokio::net::TcpListener, tokio::net::TcpStream, String) {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = sock.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let filler = TcpStream::connect(addr).await.unwrap();
        (listener, filler, format!("127.0.0.1:{}", addr.port()))
    }

    fn upstream(authority: &str, connect: Duration, response: Duration) -> Upstream {
        let target = UpstreamTarget::Tcp {
            authority: authority.parse().unwrap(),
        };
        Upstream::new(&target, connect, response, Duration::from_secs(60))
    }

    fn get() -> Request<ReqBody> {
        Request::get("/").body(ReqBody::empty()).unwrap()
    }

    #[tokio::test]
    async fn a_connect_that_hangs_ends_at_the_connect_limit_then_the_response_limit() {
        let (_l, _filler, authority) = full_listener().await;
        // The connect limit comes first: the app is unreachable (502).
        let u = upstream(
            &authority,
            Duration::from_millis(150),
            Duration::from_secs(20),
        );
        let t = std::time::Instant::now();
        match u.send(get()).await {
            Err(UpstreamError::Unavailable(m)) => assert!(m.contains("connect"), "{m}"),
            other => panic!("expected a connect failure, got {other:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(10));
        // The response limit comes first: it is a timeout (504).
        let u = upstream(
            &authority,
            Duration::from_secs(20),
            Duration::from_millis(150),
        );
        match u.send(get()).await {
            Err(UpstreamError::Timeout(d)) => assert_eq!(d, Duration::from_millis(150)),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    /// An app that answers the first request of each connection, then reads the
    /// next one and closes the connection without answering it (like uvicorn after
    /// an exception, or a server closing an idle connection as a request arrives).
    /// Returns its address and the requests it has read, in order.
    async fn answers_once_per_connection() -> (String, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    for answer in [true, false] {
                        let mut got = Vec::new();
                        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                        }
                        let head = String::from_utf8_lossy(&got);
                        log.lock()
                            .unwrap()
                            .push(head.lines().next().unwrap_or("").to_string());
                        if answer {
                            let _ = s
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                                .await;
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    #[tokio::test]
    async fn an_idempotent_request_goes_again_when_a_kept_connection_closes_unanswered() {
        let (addr, seen) = answers_once_per_connection().await;
        let u = upstream(&addr, Duration::from_secs(5), Duration::from_secs(5));
        let send = |req: Request<ReqBody>| async {
            let resp = u.send(req).await?;
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
            Ok::<_, UpstreamError>(body.to_bytes())
        };
        assert_eq!(send(get()).await.unwrap(), "ok");
        // The second GET goes out on the kept connection, which closes unanswered:
        // it is sent again on a new one.
        let del = Request::delete("/orders/7").body(ReqBody::empty()).unwrap();
        assert_eq!(send(del).await.unwrap(), "ok");
        // A POST is not sent twice: the app may have acted on it.
        let post = Request::post("/orders")
            .body(ReqBody::full(bytes::Bytes::from_static(b"{}")))
            .unwrap();
        match send(post).await {
            Err(UpstreamError::Unavailable(_)) => {}
            other => panic!("a POST must not be replayed: {other:?}"),
        }
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "GET / HTTP/1.1",
                "DELETE /orders/7 HTTP/1.1",
                "DELETE /orders/7 HTTP/1.1",
                "POST /orders HTTP/1.1",
            ]
        );
    }

    /// A keep-alive app that answers every request; returns its address and, per
    /// request in order, the number of the connection it came on.
    async fn keep_alive_app() -> (String, Arc<Mutex<Vec<usize>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((mut s, _)) = l.accept().await {
                n += 1;
                let (log, conn) = (log.clone(), n);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut got = Vec::new();
                    loop {
                        while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            got.drain(..end + 4);
                            log.lock().unwrap().push(conn);
                            let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if s.write_all(reply).await.is_err() {
                                return;
                            }
                        }
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    async fn fetch(u: &Upstream) {
        let resp = u.send(get()).await.unwrap();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap();
        assert_eq!(body.to_bytes(), "ok");
    }

    #[tokio::test]
    async fn a_kept_connection_is_closed_after_its_last_request_and_at_its_age() {
        let (addr, seen) = keep_alive_app().await;
        let u = upstream(&addr, Duration::from_secs(5), Duration::from_secs(5))
            .with_recycling(3, Duration::from_secs(3600));
        for _ in 0..7 {
            fetch(&u).await;
        }
        assert_eq!(*seen.lock().unwrap(), [1, 1, 1, 2, 2, 2, 3]);

        let (addr, seen) = keep_alive_app().await;
        let u = upstream(&addr, Duration::from_secs(5), Duration::from_secs(5))
            .with_recycling(1000, Duration::from_millis(200));
        fetch(&u).await;
        fetch(&u).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        // The connection is past its age when its third response is in: that
        // request still uses it, the next one opens a new connection.
        fetch(&u).await;
        fetch(&u).await;
        assert_eq!(*seen.lock().unwrap(), [1, 1, 1, 2]);
    }

    #[test]
    fn the_target_sent_upstream_is_origin_form() {
        let u = upstream(
            "127.0.0.1:9",
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
        for (given, want) in [
            ("http://a.example:8080/x/y?q=1", "/x/y?q=1"),
            ("/x?q", "/x?q"),
            ("http://a.example", "/"),
            ("*", "*"),
        ] {
            assert_eq!(
                u.uri_for(&given.parse().unwrap()).to_string(),
                want,
                "{given}"
            );
        }
    }
}
