//! Counters in Redis, shared by several shield instances and kept across restarts.
//!
//! One decision is one `EVALSHA` of the script below (the `redis` crate's `Script`
//! loads it and retries once on `NOSCRIPT`): it reads every counter of the request,
//! decides with Redis' own clock (`TIME`, so instances with skewed clocks agree),
//! and charges all counters or none, atomically. Keys are `<prefix>:{<digest>}`:
//! the digest is the counter's hash tag, so a counter never straddles Redis Cluster
//! slots. (Several counters of one request are one multi-key call, which a Cluster
//! only accepts within one slot: shield talks to one Redis server, standalone or a
//! primary behind Sentinel or a key-routing proxy.) Each key expires when its
//! counter is fully replenished (`PX` = the GCRA horizon).
//!
//! Each worker thread has its own `ConnectionManager` (a multiplexed connection that
//! reconnects by itself), created lazily on that thread's runtime. Every decision
//! is bounded by `redis_timeout`, one immediate retry on a stale connection
//! included. [`Health`] keeps the outage state: the first failure
//! marks the storage down (the layer logs `storage_down` once); while down, one
//! request per `redis_retry_interval` tries Redis again and the rest decide locally
//! without waiting; the first success marks it up (`storage_recovered`, once).

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use super::memory::{now_us, CellRef};
use crate::redis_conn::{retryable, PerWorker};

/// The decision script. ARGV holds (interval, window, cost) per key, in µs.
/// Returns `{allowed, now, tat_1, …, tat_n}` with `-1` for an absent counter, so the
/// caller recomputes each counter's outcome with the same integer arithmetic
/// (`algorithm::decide`). Numbers stay below 2^53, exact in Lua's doubles.
const SCRIPT: &str = r#"
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
local tats, news = {}, {}
local ok = 1
for i = 1, n do
  local interval = tonumber(ARGV[3 * i - 2])
  local window = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local stored = tonumber(redis.call('GET', KEYS[i]) or '')
  local base = now
  if stored then
    tats[i] = stored
    if stored > now then base = stored end
  else
    tats[i] = -1
  end
  news[i] = base + cost * interval
  if news[i] - now > window then ok = 0 end
end
if ok == 1 then
  for i = 1, n do
    local ttl = math.ceil((news[i] - now) / 1000)
    if ttl < 1 then ttl = 1 end
    redis.call('SET', KEYS[i], string.format('%.0f', news[i]), 'PX', ttl)
  end
end
local out = {ok, now}
for i = 1, n do out[#out + 1] = tats[i] end
return out
"#;

/// The outage state of one storage.
#[derive(Debug, Default)]
pub struct Health {
    down: AtomicBool,
    /// While down: when (µs, `now_us`) the next request may try Redis.
    next_try: AtomicU64,
}

impl Health {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// Whether this request should ask Redis: always while up; while down, the
    /// first request after each retry interval.
    pub fn should_try(&self, interval: Duration) -> bool {
        if !self.is_down() {
            return true;
        }
        let now = now_us();
        let next = self.next_try.load(Ordering::Relaxed);
        now >= next
            && self
                .next_try
                .compare_exchange(
                    next,
                    now + interval.as_micros() as u64,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }

    /// Records a failure; true when it is the transition to down.
    pub fn failed(&self, interval: Duration) -> bool {
        self.next_try
            .store(now_us() + interval.as_micros() as u64, Ordering::Relaxed);
        !self.down.swap(true, Ordering::Relaxed)
    }

    /// Records a success; true when it is the transition back up.
    pub fn succeeded(&self) -> bool {
        self.down.swap(false, Ordering::Relaxed)
    }
}

/// What Redis answered: whether the request passes, Redis' clock, each counter's
/// stored TAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub allowed: bool,
    pub now: u64,
    pub tats: Vec<Option<u64>>,
}

/// The Redis storage.
pub struct RedisStore {
    conns: PerWorker,
    script: Arc<redis::Script>,
    prefix: String,
    pub timeout: Duration,
    pub retry_interval: Duration,
    pub health: Arc<Health>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    pub fn new(
        url: &str,
        workers: usize,
        prefix: &str,
        timeout: Duration,
        retry_interval: Duration,
    ) -> Result<RedisStore, String> {
        Ok(RedisStore {
            conns: PerWorker::new(url, workers, timeout)?,
            script: Arc::new(redis::Script::new(SCRIPT)),
            prefix: prefix.to_string(),
            timeout,
            retry_interval,
            health: Arc::new(Health::default()),
        })
    }

    /// The Redis key of a counter.
    pub fn key(&self, id: &[u8; 16]) -> String {
        let mut k = String::with_capacity(self.prefix.len() + 36);
        k.push_str(&self.prefix);
        k.push_str(":{");
        for b in id {
            k.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
            k.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
        }
        k.push('}');
        k
    }

    /// Prepares one decision as a `'static` future: one EVALSHA, bounded in time.
    pub fn decide(
        &self,
        worker: usize,
        cells: &[CellRef],
    ) -> impl std::future::Future<Output = Result<Answer, String>> + Send + 'static {
        let conn = self.conns.get(worker);
        let script = self.script.clone();
        let keys: Vec<String> = cells.iter().map(|c| self.key(&c.id)).collect();
        let args: Vec<u64> = cells
            .iter()
            .flat_map(|c| [c.gcra.interval, c.gcra.window, c.cost])
            .collect();
        let timeout = self.timeout;
        async move {
            let mut conn = conn?;
            let mut inv = script.prepare_invoke();
            for k in &keys {
                inv.key(k);
            }
            for a in &args {
                inv.arg(*a);
            }
            let run = async {
                match inv.invoke_async::<Vec<i64>>(&mut conn).await {
                    Err(e) if retryable(&e) => inv.invoke_async::<Vec<i64>>(&mut conn).await,
                    other => other,
                }
            };
            let reply = match tokio::time::timeout(timeout, run).await {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => return Err(e.to_string()),
                Err(_) => return Err(format!("no answer within {timeout:?}")),
            };
            parse_answer(&reply, keys.len())
        }
    }
}

fn parse_answer(reply: &[i64], n: usize) -> Result<Answer, String> {
    if reply.len() != n + 2 || reply[1] <= 0 {
        return Err(format!("unexpected script reply of {} values", reply.len()));
    }
    Ok(Answer {
        allowed: reply[0] == 1,
        now: reply[1] as u64,
        tats: reply[2..].iter().map(|&t| u64::try_from(t).ok()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_digest_as_hash_tag() {
        let s = RedisStore::new(
            "redis://127.0.0.1:6379/0",
            2,
            "fg:rl",
            Duration::from_millis(100),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            s.key(&[0xab; 16]),
            "fg:rl:{abababababababababababababababab}"
        );
    }

    #[test]
    fn answers_parse() {
        let a = parse_answer(&[1, 5_000_000, -1, 7_000_000], 2).unwrap();
        assert!(a.allowed);
        assert_eq!(a.tats, [None, Some(7_000_000)]);
        assert!(parse_answer(&[1, 5], 2).is_err());
    }

    #[test]
    fn health_transitions_once() {
        let h = Health::default();
        let i = Duration::from_secs(3600);
        assert!(h.should_try(i));
        assert!(h.failed(i));
        assert!(!h.failed(i), "already down");
        assert!(!h.should_try(i), "waits for the retry interval");
        assert!(h.succeeded());
        assert!(!h.succeeded());
        assert!(h.should_try(i));
    }
}
