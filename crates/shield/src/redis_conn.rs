//! Redis connections for layers: one `ConnectionManager` per worker thread.
//!
//! A `ConnectionManager` is a multiplexed connection that reconnects by itself; its
//! I/O task runs on the runtime that first uses it, so each worker thread (one
//! single-threaded runtime each) gets its own, created lazily on first use: a
//! request and its Redis round trip stay on one thread, like its upstream
//! connection. Connecting is bounded by `timeout`, and the layers bound every call
//! with it themselves (so the manager arms no timer of its own per call: a second
//! timer per round trip costs a wake-up of the worker's event loop when it is the
//! earliest). The manager retries nothing itself, the layers decide what a
//! failure means.

use std::{sync::OnceLock, time::Duration};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Checks a Redis URL without connecting.
pub fn client(url: &str) -> Result<redis::Client, String> {
    let ok = ["redis://", "rediss://", "redis+unix://", "unix://"]
        .iter()
        .any(|p| url.starts_with(p));
    if !ok {
        return Err(format!("`{}` is not a redis:// URL", redact(url)));
    }
    redis::Client::open(url).map_err(|e| format!("`{}`: {e}", redact(url)))
}

/// A URL with its password replaced, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => format!("{}***{}", &url[..s + 3], &url[at..]),
            }
        }
        _ => url.to_string(),
    }
}

/// Whether a failed call deserves one immediate retry: the connection was stale (a
/// server that restarted, or another worker saw it come back). The manager starts
/// reconnecting on such an error, and the retry waits for the new connection.
pub fn retryable(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error()
}

/// Lazily created connections, one per worker.
pub struct PerWorker {
    client: redis::Client,
    conns: Vec<OnceLock<ConnectionManager>>,
    pub timeout: Duration,
}

impl std::fmt::Debug for PerWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerWorker")
            .field("workers", &self.conns.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl PerWorker {
    pub fn new(url: &str, workers: usize, timeout: Duration) -> Result<PerWorker, String> {
        Ok(PerWorker {
            client: client(url)?,
            conns: (0..workers.max(1)).map(|_| OnceLock::new()).collect(),
            timeout,
        })
    }

    /// This worker's connection. Must be called on the worker's runtime.
    pub fn get(&self, worker: usize) -> Result<ConnectionManager, String> {
        let slot = &self.conns[worker % self.conns.len()];
        if let Some(c) = slot.get() {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(None)
            .set_number_of_retries(0);
        let c = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| e.to_string())?;
        Ok(slot.get_or_init(|| c).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_redacted() {
        assert!(client("memory").is_err());
        assert!(client("http://x").is_err());
        assert!(client("redis://127.0.0.1:6379/0").is_ok());
        assert!(
            client("rediss://127.0.0.1:6380/0").is_ok(),
            "TLS is built in"
        );
        assert_eq!(
            redact("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact("redis://secret@host"), "redis://***@host");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
        assert!(!client("ftp://u:pw@x").unwrap_err().contains("pw"));
    }
}
