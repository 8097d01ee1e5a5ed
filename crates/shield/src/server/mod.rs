//! Listeners, connections, TLS, signals and live reload.
//!
//! - The public listener speaks HTTP/1.1 (keep-alive, upgrades), or TLS with ALPN
//!   choosing HTTP/2 or HTTP/1.1 when `[shield.tls]` has a certificate.
//! - `tls.redirect_listen` is a plain listener that only redirects to HTTPS.
//! - `admin.listen` serves `/metrics` and `/healthz`, never the public socket.
//! - SIGHUP re-reads the config (and certificates, and the seal `keys_file`) and
//!   swaps the pipeline in with an `ArcSwap`: open connections keep going, requests
//!   in flight finish on the old pipeline, and an invalid new config is logged and
//!   ignored.
//! - SIGTERM/SIGINT stop accepting, let in-flight requests finish within
//!   `timeouts.shutdown_grace`, close idle keep-alive connections, then return.

mod admin;
mod conn;
pub mod sniff;
pub mod tls;
mod workers;

use conn::serve_tcp;
use workers::{Accepted, Workers};

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use arc_swap::{ArcSwap, ArcSwapOption};
use hyper::{body::Incoming, Request, Response};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{watch, Notify},
};

use crate::{
    audit_log::AuditLog,
    body::ResBody,
    config::{validate::validate, Settings, Validated},
    metrics::Metrics,
    pipeline::{ConnInfo, Pipeline, Shared},
};

/// Reads the current settings (the config file plus command-line overrides). Called
/// at start and on every reload.
pub type Loader = Arc<dyn Fn() -> Result<Settings, String> + Send + Sync>;

/// Why shield could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the worker threads: {0}")]
    Workers(#[source] std::io::Error),
    #[error("cannot open log `{path}`: {source}")]
    Log {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Proxy,
    Redirect,
    Admin,
}

/// Counts open connections so shutdown can wait for them.
#[derive(Default)]
struct Conns {
    open: AtomicUsize,
    idle: Notify,
}

struct ConnGuard<'a> {
    conns: &'a Conns,
    metrics: &'a Metrics,
}

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.metrics.connections.fetch_sub(1, Ordering::Relaxed);
        if self.conns.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.conns.idle.notify_waiters();
        }
    }
}

struct State {
    pipeline: ArcSwap<Pipeline>,
    tls: ArcSwapOption<rustls::ServerConfig>,
    shared: Shared,
    loader: Loader,
    conns: Conns,
    stop: watch::Sender<bool>,
    shutdown_requested: Notify,
    workers: Workers,
}

/// Everything a config produces before it goes live.
fn prepare(
    settings: &Settings,
    shared: &Shared,
) -> Result<(Pipeline, Option<Arc<rustls::ServerConfig>>), String> {
    let v = validate(settings).map_err(|e| e.to_string())?;
    let tls = match &v.tls {
        Some((c, k)) => Some(tls::load(c, k).map_err(|e| e.to_string())?),
        None => None,
    };
    let p = Pipeline::build(v, shared.clone()).map_err(|e| e.to_string())?;
    Ok((p, tls))
}

/// Validates everything `serve` would, without binding or opening anything:
/// addresses, upstream, TLS files, every layer. Returns the validated config.
pub fn check(settings: &Settings) -> Result<Validated, String> {
    let shared = Shared::new(AuditLog::new_discarding(), 1, 1000);
    let (p, _) = prepare(settings, &shared)?;
    Ok(p.config.clone())
}

/// A running shield.
pub struct Handle {
    /// The public listener's bound address.
    pub addr: SocketAddr,
    pub redirect_addr: Option<SocketAddr>,
    pub admin_addr: Option<SocketAddr>,
    pub tls: bool,
    state: Arc<State>,
}

impl Handle {
    /// Re-reads the config and swaps the pipeline in; on error the old one stays.
    pub fn reload(&self) -> Result<(), String> {
        self.state.reload()
    }

    /// Waits for SIGTERM/SIGINT (or [`Handle::request_shutdown`]), then drains.
    pub async fn wait(self) {
        self.state.shutdown_requested.notified().await;
        self.state.drain().await;
    }

    /// Asks a [`Handle::wait`]er to shut down.
    pub fn request_shutdown(&self) {
        self.state.shutdown_requested.notify_one();
    }

    /// Graceful shutdown now.
    pub async fn shutdown(self) {
        self.state.drain().await;
    }

    /// Open client connections.
    pub fn open_connections(&self) -> usize {
        self.state.conns.open.load(Ordering::Relaxed)
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.state.shared.metrics.clone()
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

/// Starts shield: loads and validates the config, opens the logs, binds every
/// listener and spawns the accept loops (and signal handlers when `signals`).
/// Must run inside a multi-threaded tokio runtime.
pub async fn serve(loader: Loader, signals: bool) -> Result<Handle, StartError> {
    let settings = loader().map_err(StartError::Config)?;
    let eff = settings.effective();
    let access = eff
        .access_log
        .enabled
        .then_some(eff.access_log.path.as_str());
    let audit = AuditLog::open(&eff.audit_log.path, access).map_err(|source| StartError::Log {
        path: eff.audit_log.path.clone(),
        source,
    })?;
    let workers = eff.workers.resolve();
    let shared = Shared::new(audit, workers, eff.rate_limit.max_keys);
    let (pipeline, tls) = prepare(&settings, &shared).map_err(StartError::Config)?;
    let v = pipeline.config.clone();
    for w in &v.warnings {
        eprintln!("flaskguard shield: warning: {w}");
    }
    let public = bind(v.listen).await?;
    let redirect = match v.redirect_listen {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let admin = match v.admin_listen {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let local = |l: &TcpListener, fallback: SocketAddr| l.local_addr().unwrap_or(fallback);
    let addr = local(&public, v.listen);
    let redirect_addr = redirect
        .as_ref()
        .zip(v.redirect_listen)
        .map(|(l, a)| local(l, a));
    let admin_addr = admin.as_ref().zip(v.admin_listen).map(|(l, a)| local(l, a));
    let (stop, _) = watch::channel(false);
    let has_tls = tls.is_some();
    let state = Arc::new(State {
        pipeline: ArcSwap::from_pointee(pipeline),
        tls: ArcSwapOption::new(tls),
        shared,
        loader,
        conns: Conns::default(),
        stop,
        shutdown_requested: Notify::new(),
        workers: Workers::start(workers).map_err(StartError::Workers)?,
    });
    tokio::spawn(accept_loop(
        public,
        if has_tls {
            Kind::Tls
        } else {
            Kind::Plain(Role::Proxy)
        },
        state.clone(),
    ));
    if let Some(l) = redirect {
        tokio::spawn(accept_loop(l, Kind::Plain(Role::Redirect), state.clone()));
    }
    if let Some(l) = admin {
        tokio::spawn(accept_loop(l, Kind::Plain(Role::Admin), state.clone()));
    }
    if signals {
        spawn_signal_handlers(state.clone());
    }
    eprintln!(
        "flaskguard shield: listening on {}://{addr} -> {}{}{} ({workers} worker{})",
        if has_tls { "https" } else { "http" },
        v.settings.upstream,
        redirect_addr
            .map(|a| format!(", redirecting http://{a}"))
            .unwrap_or_default(),
        admin_addr
            .map(|a| format!(", admin on http://{a}"))
            .unwrap_or_default(),
        if workers == 1 { "" } else { "s" },
    );
    Ok(Handle {
        addr,
        redirect_addr,
        admin_addr,
        tls: has_tls,
        state,
    })
}

impl State {
    fn reload(&self) -> Result<(), String> {
        let result = (self.loader)().and_then(|s| prepare(&s, &self.shared));
        let m = &self.shared.metrics;
        match result {
            Ok((p, tls)) => {
                let old = self.pipeline.load();
                let (o, n) = (&old.config, &p.config);
                if o.listen != n.listen
                    || o.admin_listen != n.admin_listen
                    || o.redirect_listen != n.redirect_listen
                    || o.tls.is_some() != n.tls.is_some()
                {
                    eprintln!("flaskguard shield: warning: listener changes (listen, admin.listen, tls) take effect on restart only");
                }
                if o.settings.workers != n.settings.workers {
                    eprintln!("flaskguard shield: warning: a change of workers takes effect on restart only");
                }
                if o.settings.audit_log != n.settings.audit_log
                    || o.settings.access_log != n.settings.access_log
                {
                    eprintln!("flaskguard shield: warning: log destination changes take effect on restart only");
                }
                if o.tls.is_some() && tls.is_some() {
                    self.tls.store(tls);
                }
                self.pipeline.store(Arc::new(p));
                m.reloads_ok.fetch_add(1, Ordering::Relaxed);
                eprintln!("flaskguard shield: configuration reloaded");
                Ok(())
            }
            Err(e) => {
                m.reloads_failed.fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "flaskguard shield: reload refused, keeping the running configuration: {e}"
                );
                Err(e)
            }
        }
    }

    async fn drain(&self) {
        let _ = self.stop.send(true);
        let grace = self
            .pipeline
            .load()
            .config
            .settings
            .timeouts
            .shutdown_grace
            .get();
        let drained = async {
            loop {
                let idle = self.conns.idle.notified();
                tokio::pin!(idle);
                idle.as_mut().enable();
                if self.conns.open.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        if tokio::time::timeout(grace, drained).await.is_err() {
            eprintln!(
                "flaskguard shield: {} connection(s) still open after the {:?} grace period; closing",
                self.conns.open.load(Ordering::Relaxed),
                grace
            );
        }
        self.workers.close();
    }

    fn dispatch(self: &Arc<Self>, tcp: TcpStream, peer: SocketAddr, kind: Kind) {
        let Ok(tcp) = tcp.into_std() else { return };
        let Ok(senders) = self.workers.senders.lock() else {
            return;
        };
        if senders.is_empty() {
            return;
        }
        let i = self.workers.next.fetch_add(1, Ordering::Relaxed) % senders.len();
        let _ = senders[i].send(Accepted {
            tcp,
            peer,
            kind,
            state: self.clone(),
        });
    }

    fn enter(&self) -> ConnGuard<'_> {
        self.conns.open.fetch_add(1, Ordering::AcqRel);
        self.shared
            .metrics
            .connections
            .fetch_add(1, Ordering::Relaxed);
        ConnGuard {
            conns: &self.conns,
            metrics: &self.shared.metrics,
        }
    }

    async fn respond(
        &self,
        req: Request<Incoming>,
        info: ConnInfo,
        role: Role,
    ) -> Response<ResBody> {
        match role {
            Role::Proxy => {
                let p = self.pipeline.load_full();
                p.handle(req, info).await
            }
            Role::Redirect => self.pipeline.load_full().redirect_to_https(req, info),
            Role::Admin => admin::handle(&req, &self.shared),
        }
    }
}

fn spawn_signal_handlers(state: Arc<State>) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            eprintln!("flaskguard shield: warning: cannot install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = hup.recv() => { let _ = state.reload(); }
                _ = term.recv() => { state.shutdown_requested.notify_one(); }
                _ = int.recv() => { state.shutdown_requested.notify_one(); }
            }
        }
    });
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Plain(Role),
    Tls,
}

async fn accept_loop(listener: TcpListener, kind: Kind, state: Arc<State>) {
    let mut stop = state.stop.subscribe();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    state.dispatch(tcp, peer, kind);
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    eprintln!("flaskguard shield: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}
