//! Serving one client connection: TLS handshake, then HTTP/1.1 or HTTP/2.

use std::{
    convert::Infallible,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use http_body::{Body, Frame, SizeHint};
use hyper::{
    server::conn::{http1, http2},
    service::service_fn,
};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::{net::TcpStream, sync::watch};

use super::{sniff, Kind, Role, State};
use crate::{body::ResBody, pipeline::ConnInfo};

pub(super) async fn serve_tcp(
    tcp: TcpStream,
    peer: SocketAddr,
    kind: Kind,
    state: Arc<State>,
    worker: usize,
) {
    let _guard = state.enter();
    match kind {
        Kind::Plain(Role::Proxy) => {
            let (io, framing) = sniff::Sniff::new(tcp);
            serve_http1(
                TokioIo::new(io),
                ConnInfo {
                    peer,
                    tls: false,
                    worker,
                    framing: Some(framing),
                },
                Role::Proxy,
                &state,
            )
            .await
        }
        Kind::Plain(role) => {
            serve_http1(
                TokioIo::new(tcp),
                ConnInfo {
                    peer,
                    tls: false,
                    worker,
                    framing: None,
                },
                role,
                &state,
            )
            .await
        }
        Kind::Tls => {
            let Some(cfg) = state.tls.load_full() else {
                return;
            };
            let timeout = state
                .pipeline
                .load()
                .config
                .settings
                .timeouts
                .header_read
                .get();
            let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
            let Ok(Ok(stream)) = tokio::time::timeout(timeout, acceptor.accept(tcp)).await else {
                return;
            };
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            if h2 {
                serve_http2(
                    TokioIo::new(stream),
                    ConnInfo {
                        peer,
                        tls: true,
                        worker,
                        framing: None,
                    },
                    &state,
                )
                .await
            } else {
                let (io, framing) = sniff::Sniff::new(stream);
                serve_http1(
                    TokioIo::new(io),
                    ConnInfo {
                        peer,
                        tls: true,
                        worker,
                        framing: Some(framing),
                    },
                    Role::Proxy,
                    &state,
                )
                .await
            }
        }
    }
}

async fn serve_http1<I>(io: I, info: ConnInfo, role: Role, state: &Arc<State>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut stop = state.stop.subscribe();
    if *stop.borrow_and_update() {
        return;
    }
    let (header_read, buf, max_headers) = {
        let p = state.pipeline.load();
        let l = p.limits();
        (
            p.config.settings.timeouts.header_read.get(),
            l.parser_buffer(),
            (l.max_headers * 2).max(100),
        )
    };
    let mut b = http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(header_read)
        .max_buf_size(buf)
        .max_headers(max_headers)
        .keep_alive(true);
    let st = state.clone();
    let svc = service_fn(move |req| {
        let st = st.clone();
        let info = info.clone();
        async move { Ok::<_, Infallible>(st.respond(req, info, role).await) }
    });
    let conn = b.serve_connection(io, svc).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// HTTP/2 settings that do not come from the config.
mod h2_limits {
    /// Streams a client may have open at once (RFC 9113 recommends at least 100).
    pub const MAX_CONCURRENT_STREAMS: u32 = 100;
    /// Streams the client opened and reset before shield accepted them
    /// (CVE-2023-44487, rapid reset): past this, GOAWAY.
    pub const MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;
    /// Streams shield itself reset because the client got something wrong, before
    /// the connection is closed: rapid reset without sending RST_STREAM.
    pub const MAX_LOCAL_ERROR_RESET_STREAMS: usize = 256;
}

async fn serve_http2<I>(io: I, info: ConnInfo, state: &Arc<State>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut stop = state.stop.subscribe();
    if *stop.borrow_and_update() {
        return;
    }
    let (header_read, idle, list_size) = {
        let p = state.pipeline.load();
        let t = &p.config.settings.timeouts;
        (
            t.header_read.get(),
            t.idle.get(),
            p.limits().h2_header_list_size(),
        )
    };
    let mut b = http2::Builder::new(TokioExecutor::new());
    b.timer(TokioTimer::new())
        .max_header_list_size(list_size)
        .max_concurrent_streams(h2_limits::MAX_CONCURRENT_STREAMS)
        .max_pending_accept_reset_streams(h2_limits::MAX_PENDING_ACCEPT_RESET_STREAMS)
        .max_local_error_reset_streams(h2_limits::MAX_LOCAL_ERROR_RESET_STREAMS)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    let activity = Activity::new();
    let st = state.clone();
    let act = activity.clone();
    let svc = service_fn(move |req| {
        let st = st.clone();
        let info = info.clone();
        // Counted from the moment the request head is complete until its response
        // body is sent or dropped.
        let stream = act.open_stream();
        async move {
            let resp = st.respond(req, info, Role::Proxy).await;
            Ok::<_, Infallible>(resp.map(|body| Tracked {
                body,
                _stream: stream,
            }))
        }
    });
    let conn = b.serve_connection(io, svc);
    tokio::pin!(conn);
    let watchdog = activity.watchdog(header_read, idle);
    tokio::pin!(watchdog);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            expired = watchdog.as_mut() => {
                match expired {
                    // Nothing to finish: the client never completed a request head.
                    Expired::HeaderRead => return,
                    // GOAWAY, then the client gets `header_read` to see it.
                    Expired::Idle => {
                        conn.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(header_read, conn.as_mut()).await;
                        return;
                    }
                }
            }
        }
    }
}

/// Why an HTTP/2 connection's watchdog fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    /// No complete request head within `timeouts.header_read` of the connection
    /// opening (a client that sends only the preface, or never ends a HEADERS frame).
    HeaderRead,
    /// No open stream for `timeouts.idle`.
    Idle,
}

/// What an HTTP/2 connection has done, for its watchdog: request heads received
/// and streams still open (a handler running, or its response body being sent).
#[derive(Clone)]
struct Activity(Arc<watch::Sender<Counts>>);

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    requests: u64,
    open: usize,
}

/// One open stream; dropping it (the response body sent, or the stream reset)
/// closes it.
struct StreamGuard(Activity);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0 .0.send_modify(|c| c.open -= 1);
    }
}

impl Activity {
    fn new() -> Activity {
        Activity(Arc::new(watch::channel(Counts::default()).0))
    }

    fn open_stream(&self) -> StreamGuard {
        self.0.send_modify(|c| {
            c.requests += 1;
            c.open += 1;
        });
        StreamGuard(self.clone())
    }

    /// Resolves when the connection should close: never while a stream is open.
    async fn watchdog(&self, header_read: Duration, idle: Duration) -> Expired {
        let mut rx = self.0.subscribe();
        let first = rx.wait_for(|c| c.requests > 0);
        if !matches!(tokio::time::timeout(header_read, first).await, Ok(Ok(_))) {
            return Expired::HeaderRead;
        }
        loop {
            let Ok(now) = rx.wait_for(|c| c.open == 0).await.map(|c| *c) else {
                return Expired::Idle;
            };
            let seen = now.requests;
            let next = rx.wait_for(|c| c.requests != seen);
            match tokio::time::timeout(idle, next).await {
                Ok(Ok(_)) => continue,
                Ok(Err(_)) | Err(_) => return Expired::Idle,
            }
        }
    }
}

/// A response body that keeps its stream counted as open until it is dropped.
struct Tracked {
    body: ResBody,
    _stream: StreamGuard,
}

impl Body for Tracked {
    type Data = <ResBody as Body>::Data;
    type Error = <ResBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn no_request_head_within_header_read_expires() {
        let a = Activity::new();
        let start = tokio::time::Instant::now();
        assert_eq!(a.watchdog(500 * MS, 60_000 * MS).await, Expired::HeaderRead);
        assert_eq!(start.elapsed(), 500 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_counts_from_the_last_stream_closing() {
        let a = Activity::new();
        let start = tokio::time::Instant::now();
        let b = a.clone();
        tokio::spawn(async move {
            tokio::time::sleep(100 * MS).await;
            let s1 = b.open_stream();
            // Open far longer than `idle`: the connection is not idle.
            tokio::time::sleep(5_000 * MS).await;
            let s2 = b.open_stream();
            drop(s1);
            tokio::time::sleep(500 * MS).await;
            drop(s2);
            // A new request within `idle` of going idle resets the clock.
            tokio::time::sleep(900 * MS).await;
            drop(b.open_stream());
        });
        assert_eq!(a.watchdog(500 * MS, 1_000 * MS).await, Expired::Idle);
        assert_eq!(start.elapsed(), (100 + 5_000 + 500 + 900 + 1_000) * MS);
    }
}
