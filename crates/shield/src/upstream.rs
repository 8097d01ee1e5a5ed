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
    async fn open(&self) -> io::Result<UpstreamIo> {
        let connect = async {
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
        };
        match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "upstream connect timed out",
            )),
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
    idle: Mutex<Vec<(SendRequest<ReqBody>, Instant)>>,
    idle_timeout: Duration,
    scheme: uri::Scheme,
    authority: uri::Authority,
    response_timeout: Duration,
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
            scheme: uri::Scheme::HTTP,
            authority,
            response_timeout,
        }
    }

    /// A pooled connection that can take a request now.
    fn checkout(&self) -> Option<SendRequest<ReqBody>> {
        let mut idle = self.idle.lock().ok()?;
        let now = Instant::now();
        idle.retain(|(s, since)| !s.is_closed() && now.duration_since(*since) < self.idle_timeout);
        let i = idle.iter().rposition(|(s, _)| s.is_ready())?;
        Some(idle.swap_remove(i).0)
    }

    fn checkin(&self, sender: SendRequest<ReqBody>) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push((sender, Instant::now()));
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
    /// The URI the upstream gets: its authority, the client's path and query.
    pub fn uri_for(&self, original: &Uri) -> Uri {
        let mut parts = uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = original
            .path_and_query()
            .cloned()
            .or_else(|| Some(uri::PathAndQuery::from_static("/")));
        Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("/"))
    }

    /// The upstream's authority (the `Host` for requests that arrived without one).
    pub fn authority(&self) -> &uri::Authority {
        &self.authority
    }

    pub async fn send(&self, req: Request<ReqBody>) -> Result<Response<Incoming>, UpstreamError> {
        match tokio::time::timeout(self.response_timeout, self.exchange(req)).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::Timeout(self.response_timeout)),
        }
    }

    async fn exchange(&self, req: Request<ReqBody>) -> Result<Response<Incoming>, UpstreamError> {
        let mut req = req;
        if let Some(mut sender) = self.checkout() {
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    self.checkin(sender);
                    return Ok(resp);
                }
                Err(mut e) => match e.take_message() {
                    // Not written: the pooled connection was gone. Try a new one.
                    Some(r) => req = r,
                    None => return Err(UpstreamError::Unavailable(chain(e.error()))),
                },
            }
        }
        let mut sender = self.connect().await?;
        match sender.send_request(req).await {
            Ok(resp) => {
                self.checkin(sender);
                Ok(resp)
            }
            Err(e) => Err(UpstreamError::Unavailable(chain(&e))),
        }
    }
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
