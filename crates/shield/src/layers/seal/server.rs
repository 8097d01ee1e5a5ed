//! Server-side sessions: the browser holds a sealed random id, Redis holds the
//! value the app set, for as long as the cookie lives.
//!
//! ```text
//! <prefix>:{<sha256(id), 32 hex>}  ->  the upstream cookie value   (PX = cookie lifetime)
//! ```
//!
//! Only a digest of the id is a key, so a Redis dump does not hand out live
//! cookies. Every `Set-Cookie` of a sealed name gets a new id (an id planted in a
//! browser before login never carries the logged-in session: no fixation); the id
//! the request came with is kept for 30 seconds more, so requests already in
//! flight with it still find their session. Deleting a key ends that session at
//! once: `flaskguard shield revoke COOKIE_VALUE…` or `--all`.

use std::time::Duration;

use redis::AsyncCommands;
use sha2::{Digest, Sha256};

use crate::redis_conn::{retryable, PerWorker};

/// How long a replaced id keeps working (requests already sent with it).
pub const GRACE: Duration = Duration::from_secs(30);

/// A session id: 32 random bytes.
pub type Id = [u8; 32];

pub fn new_id() -> Option<Id> {
    let mut id = [0u8; 32];
    getrandom::fill(&mut id).ok()?;
    Some(id)
}

/// The Redis key of a session id.
pub fn key(prefix: &str, id: &Id) -> String {
    let d = Sha256::digest(id);
    let mut k = String::with_capacity(prefix.len() + 36);
    k.push_str(prefix);
    k.push_str(":{");
    for b in &d[..16] {
        k.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        k.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    k.push('}');
    k
}

/// The session store.
#[derive(Debug)]
pub struct ServerStore {
    conns: PerWorker,
    pub prefix: String,
    /// Lifetime of a session whose cookie has none.
    pub default_ttl: Duration,
}

async fn bounded<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, f).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

impl ServerStore {
    pub fn new(
        url: &str,
        workers: usize,
        prefix: &str,
        default_ttl: Duration,
        timeout: Duration,
    ) -> Result<ServerStore, String> {
        Ok(ServerStore {
            conns: PerWorker::new(url, workers, timeout)?,
            prefix: prefix.to_string(),
            default_ttl,
        })
    }

    /// The values of these ids (None: unknown, expired or revoked), in one MGET.
    pub fn fetch(
        &self,
        worker: usize,
        ids: &[Id],
    ) -> impl std::future::Future<Output = Result<Vec<Option<String>>, String>> + Send + 'static
    {
        let conn = self.conns.get(worker);
        let keys: Vec<String> = ids.iter().map(|id| key(&self.prefix, id)).collect();
        let timeout = self.conns.timeout;
        async move {
            let mut c = conn?;
            let mut cmd = redis::cmd("MGET");
            for k in &keys {
                cmd.arg(k);
            }
            bounded(timeout, async {
                match cmd.query_async::<Vec<Option<String>>>(&mut c).await {
                    Err(e) if retryable(&e) => cmd.query_async(&mut c).await,
                    other => other,
                }
            })
            .await
        }
    }

    /// Stores a value under a new id (and shortens the old id's life), in one
    /// round trip; `ttl` None means a session cookie: the default lifetime.
    pub fn store(
        &self,
        worker: usize,
        id: Id,
        value: String,
        ttl: Option<Duration>,
        old: Option<Id>,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send + 'static {
        let conn = self.conns.get(worker);
        let k = key(&self.prefix, &id);
        let old = old.map(|o| key(&self.prefix, &o));
        let ttl = ttl.unwrap_or(self.default_ttl).max(Duration::from_secs(1));
        let timeout = self.conns.timeout;
        async move {
            let mut c = conn?;
            let mut p = redis::pipe();
            p.atomic()
                .cmd("SET")
                .arg(&k)
                .arg(&value)
                .arg("PX")
                .arg(ttl.as_millis() as u64)
                .ignore();
            if let Some(o) = &old {
                p.cmd("PEXPIRE")
                    .arg(o)
                    .arg(GRACE.as_millis() as u64)
                    .ignore();
            }
            bounded(timeout, async {
                match p.query_async::<()>(&mut c).await {
                    Err(e) if retryable(&e) => p.query_async(&mut c).await,
                    other => other,
                }
            })
            .await
        }
    }

    /// Ends a session now (the app deleted its cookie).
    pub fn delete(
        &self,
        worker: usize,
        id: Id,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send + 'static {
        let conn = self.conns.get(worker);
        let k = key(&self.prefix, &id);
        let timeout = self.conns.timeout;
        async move {
            let mut c = conn?;
            bounded(timeout, async {
                match c.del::<_, ()>(&k).await {
                    Err(e) if retryable(&e) => c.del(&k).await,
                    other => other,
                }
            })
            .await
        }
    }
}

/// Deletes sessions by id (for `flaskguard shield revoke`): how many existed.
pub async fn revoke(client: &redis::Client, prefix: &str, ids: &[Id]) -> Result<usize, String> {
    let mut c = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let keys: Vec<String> = ids.iter().map(|id| key(prefix, id)).collect();
    c.del::<_, usize>(keys).await.map_err(|e| e.to_string())
}

/// Deletes every session under the prefix: how many.
pub async fn revoke_all(client: &redis::Client, prefix: &str) -> Result<usize, String> {
    let mut c = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let pattern = format!("{prefix}:{{*");
    let mut cursor: u64 = 0;
    let mut total = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(500)
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        if !keys.is_empty() {
            total += c.del::<_, usize>(keys).await.map_err(|e| e.to_string())?;
        }
        if next == 0 {
            return Ok(total);
        }
        cursor = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hide_the_id() {
        let id = [7u8; 32];
        let k = key("fg:sess", &id);
        assert!(k.starts_with("fg:sess:{") && k.ends_with('}'));
        assert_eq!(k.len(), "fg:sess:{}".len() + 32);
        assert!(!k.contains("0707"));
        assert_ne!(new_id(), new_id());
    }
}
