//! Serving one client connection: TLS handshake, then HTTP/1.1 or HTTP/2.

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use hyper::{
    server::conn::{http1, http2},
    service::service_fn,
};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use super::{sniff, Kind, Role, State};
use crate::pipeline::ConnInfo;

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

async fn serve_http2<I>(io: I, info: ConnInfo, state: &Arc<State>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut stop = state.stop.subscribe();
    if *stop.borrow_and_update() {
        return;
    }
    let buf = state.pipeline.load().limits().parser_buffer();
    let mut b = http2::Builder::new(TokioExecutor::new());
    b.timer(TokioTimer::new())
        .max_header_list_size(buf as u32)
        .max_concurrent_streams(256)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    let st = state.clone();
    let svc = service_fn(move |req| {
        let st = st.clone();
        let info = info.clone();
        async move { Ok::<_, Infallible>(st.respond(req, info, Role::Proxy).await) }
    });
    let conn = b.serve_connection(io, svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
