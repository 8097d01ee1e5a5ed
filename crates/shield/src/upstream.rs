//! The upstream app: a pooled HTTP/1.1 client (hyper-util) over TCP or a unix
//! socket, with connect and response timeouts.

use std::{
    future::Future,
    io,
    path::PathBuf,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use http::{uri, Request, Response, Uri};
use hyper::body::Incoming;
use hyper_util::{
    client::legacy::{
        connect::{Connected, Connection},
        Client,
    },
    rt::{TokioExecutor, TokioIo, TokioTimer},
};
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

impl Connection for UpstreamIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
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

impl tower_service::Service<Uri> for Connector {
    type Response = UpstreamIo;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<UpstreamIo>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let target = self.target.clone();
        let limit = self.connect_timeout;
        Box::pin(async move {
            let connect = async {
                match &*target {
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
            match tokio::time::timeout(limit, connect).await {
                Ok(r) => r,
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "upstream connect timed out",
                )),
            }
        })
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

/// The pooled client.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: Client<Connector, ReqBody>,
    scheme: uri::Scheme,
    authority: uri::Authority,
    response_timeout: Duration,
}

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
        let connector = Connector {
            target: Arc::new(t),
            connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(idle)
            .pool_max_idle_per_host(1024)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .http1_preserve_header_case(false)
            .set_host(false)
            .build(connector);
        Upstream {
            client,
            scheme: uri::Scheme::HTTP,
            authority,
            response_timeout,
        }
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
        match tokio::time::timeout(self.response_timeout, self.client.request(req)).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => {
                let mut msg = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    msg.push_str(": ");
                    msg.push_str(&s.to_string());
                    src = s.source();
                }
                Err(UpstreamError::Unavailable(msg))
            }
            Err(_) => Err(UpstreamError::Timeout(self.response_timeout)),
        }
    }
}
