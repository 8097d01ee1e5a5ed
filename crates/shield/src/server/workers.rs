//! Worker threads and the hand-off of accepted connections to them.

use std::{
    net::SocketAddr,
    sync::{atomic::AtomicUsize, Arc},
};

use tokio::net::TcpStream;

use super::{serve_tcp, Kind, State};

/// A connection handed from the accept loop to a worker thread.
pub(super) struct Accepted {
    pub(super) tcp: std::net::TcpStream,
    pub(super) peer: SocketAddr,
    pub(super) kind: Kind,
    pub(super) state: Arc<State>,
}

/// Worker threads, each with a single-threaded runtime (like nginx's worker
/// processes): a connection, its requests and their upstream connections all run on
/// one thread, so a proxied request needs no cross-thread wake-up. The accept loop
/// deals connections out in turn.
pub(super) struct Workers {
    pub(super) senders: std::sync::Mutex<Vec<tokio::sync::mpsc::UnboundedSender<Accepted>>>,
    pub(super) next: AtomicUsize,
}

impl Workers {
    pub(super) fn start(n: usize) -> std::io::Result<Workers> {
        let mut senders = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Accepted>();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            std::thread::Builder::new()
                .name(format!("shield-worker-{i}"))
                .spawn(move || {
                    rt.block_on(async move {
                        tokio::spawn(heartbeat());
                        while let Some(a) = rx.recv().await {
                            match TcpStream::from_std(a.tcp) {
                                Ok(tcp) => {
                                    tokio::spawn(serve_tcp(tcp, a.peer, a.kind, a.state, i));
                                }
                                Err(e) => eprintln!("flaskguard shield: worker {i}: {e}"),
                            }
                        }
                    });
                })?;
            senders.push(tx);
        }
        Ok(Workers {
            senders: std::sync::Mutex::new(senders),
            next: AtomicUsize::new(0),
        })
    }
}

/// How often a worker's heartbeat timer fires.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// Keeps a timer due within [`HEARTBEAT`] on the worker's runtime at all times.
///
/// Every request arms timers (hyper's header-read timeout, the upstream timeouts),
/// and tokio wakes its own driver through an eventfd (a `write` and an extra
/// `epoll_wait`) whenever a new timer is due before the earliest one it parked
/// with, which, with no timer at all, is every new one. With this timer armed, the
/// timers a request sets (seconds away) are never the earliest, so arming them costs
/// no system call; the price is one wake-up per second per idle worker.
async fn heartbeat() {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
    }
}

impl Workers {
    /// Closes the hand-off channels: each worker ends once its queue is empty.
    pub(super) fn close(&self) {
        if let Ok(mut s) = self.senders.lock() {
            s.clear();
        }
    }
}
