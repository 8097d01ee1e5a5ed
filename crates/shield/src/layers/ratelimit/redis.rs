//! Counters in Redis, shared by several shield instances and kept across restarts.
//!
//! A decision is one `EVALSHA` of the script below at most (the `redis` crate's
//! `Script` loads it and retries once on `NOSCRIPT`): it reads every counter of the
//! request, decides with Redis' own clock (`TIME`, so instances with skewed clocks
//! agree), and charges all counters or none, atomically. The decisions one worker
//! takes in the same turn of its event loop share one call, and a worker keeps a
//! few calls in flight on its connection (see [`RedisStore::decide`]). Keys are `<prefix>:{<digest>}`: the digest is the
//! counter's hash tag, so a counter never straddles Redis Cluster slots. (Several
//! counters in one call make a multi-key call, which a Cluster only accepts within
//! one slot: shield talks to one Redis server (5.0 or newer; 6.0 writes less),
//! standalone or a primary behind Sentinel or a key-routing proxy.) Each key expires at most half a
//! window after its counter is fully replenished, and is never gone before (see
//! [`SCRIPT`]).
//!
//! Each worker thread has its own `ConnectionManager` (a multiplexed connection that
//! reconnects by itself), created lazily on that thread's runtime. Every decision
//! is bounded by `redis_timeout`, one immediate retry on a stale connection
//! included. [`Health`] keeps the outage state: the first failure
//! marks the storage down (the layer logs `storage_down` once); while down, one
//! request per `redis_retry_interval` tries Redis again and the rest decide locally
//! without waiting; the first success marks it up (`storage_recovered`, once).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use super::memory::{now_us, CellRef};
use crate::redis_conn::{retryable, PerWorker};

/// The decision script, for a batch of decisions. KEYS holds the batch's distinct
/// counters (a busy client's counter appears once however many of its requests
/// the batch holds), read with one `MGET`. ARGV[1] is one MessagePack array of
/// integers (decoded in C by Redis' bundled `cmsgpack`: converting many decimal
/// arguments with `tonumber` costs Redis more than the rest of the decision):
/// the number of decisions, their total number of counters, each key's window,
/// then per decision its number of counters followed by (index in KEYS,
/// increment) per counter, in µs (the increment is cost × interval). Decisions
/// run one after the other, each charging all its counters or none, exactly as
/// separate calls would: later decisions see what earlier ones charged, and each
/// changed counter is written once at the end. Returns `{now, allowed_1, tat_1_1,
/// …, allowed_2, …}` with `-1` for an absent counter (each TAT as that decision
/// saw it), so the caller recomputes each counter's outcome with the same integer
/// arithmetic (`algorithm::decide`). Numbers stay below 2^53, exact in Lua's
/// doubles (Redis writes a number argument as its integer digits). Tables are
/// made at their final size (`{unpack(...)}`) rather than grown slot by slot.
///
/// Expiry without a TTL write per decision: a counter's key expires at the end of
/// the bucket after its TAT's, buckets being a quarter of the counter's window
/// (`b`). A write whose TAT stays in the stored TAT's bucket keeps the TTL
/// (`KEEPTTL`; Redis before 6.0 refuses it, and the same expiry instant is then
/// written again with `PX`), one that moves to another bucket sets it again, so
/// the key always outlives its TAT (by at least `b`, at most `2b`: half a window)
/// and most writes leave the expiry table alone (a write with `PX` costs Redis
/// about twice a plain one). `b` depends on the window only, and the window is
/// part of the counter's identity (its key), so every write to a key agrees.
const SCRIPT: &str = r#"
if redis.replicate_commands then pcall(redis.replicate_commands) end
local floor = math.floor
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nk = #KEYS
local cur = redis.call('MGET', unpack(KEYS))
for j = 1, nk do
  local v = cur[j]
  cur[j] = v and tonumber(v) or -1
end
local first = {unpack(cur)}
local a = cmsgpack.unpack(ARGV[1])
local nd, nc = a[1], a[2]
local out = {unpack(a, 1, 1 + nd + nc)}
out[1] = now
local idx, news = {}, {}
local o, p = 1, 3 + nk
for d = 1, nd do
  local n = a[p]
  p = p + 1
  local ok = 1
  for i = 1, n do
    local j = a[p]
    local tat = cur[j]
    out[o + 1 + i] = tat
    local new = now + a[p + 1]
    if tat > now then new = tat + a[p + 1] end
    p = p + 2
    idx[i] = j
    news[i] = new
    if new - now > a[2 + j] then ok = 0 end
  end
  out[o + 1] = ok
  if ok == 1 then
    for i = 1, n do cur[idx[i]] = news[i] end
  end
  o = o + 1 + n
end
for j = 1, nk do
  local new, old = cur[j], first[j]
  if new ~= old then
    local b = floor(a[2 + j] / 4)
    if b < 1 then b = 1 end
    local bucket = floor(new / b)
    local px = floor(((bucket + 2) * b - now) / 1000) + 1
    if old >= 0 and floor(old / b) == bucket then
      local r = redis.pcall('SET', KEYS[j], new, 'KEEPTTL')
      if type(r) == 'table' and r.err then
        redis.call('SET', KEYS[j], new, 'PX', px)
      end
    else
      redis.call('SET', KEYS[j], new, 'PX', px)
    end
  end
end
return out
"#;

/// Decisions waiting on one worker for the next `EVALSHA`.
#[derive(Default)]
struct Batch {
    pending: Vec<Pending>,
    /// A flush task is spawned and has not taken its decisions yet.
    scheduled: bool,
    /// `EVALSHA`s of this worker sent and not answered yet.
    in_flight: usize,
}

struct Pending {
    /// Each counter's id, increment and window.
    cells: Vec<([u8; 16], u64, u64)>,
    tx: tokio::sync::oneshot::Sender<Result<Answer, String>>,
    /// When the decision gives up: `redis_timeout` after it was asked.
    deadline: tokio::time::Instant,
}

/// Decisions per `EVALSHA` at most (a bound on the script's run time in Redis).
const MAX_BATCH: usize = 64;

/// `EVALSHA`s one worker keeps in flight at most. With one, decisions asked while
/// a call is out wait for its answer before theirs is even sent, and a worker
/// with all its connections waiting sits idle for a whole round trip; a few
/// calls pipelined on the connection keep it busy. Each call is atomic in Redis,
/// so their order does not matter for exactness; the bound keeps batches from
/// shrinking to one decision each.
const MAX_IN_FLIGHT: usize = 4;

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
    /// Per worker: the decisions that arrived while the worker was busy.
    batches: Arc<Vec<std::sync::Mutex<Batch>>>,
    prefix: Arc<str>,
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
            batches: Arc::new(
                (0..workers.max(1))
                    .map(|_| std::sync::Mutex::new(Batch::default()))
                    .collect(),
            ),
            prefix: Arc::from(prefix),
            timeout,
            retry_interval,
            health: Arc::new(Health::default()),
        })
    }

    /// The Redis key of a counter.
    pub fn key(&self, id: &[u8; 16]) -> String {
        key_of(&self.prefix, id)
    }

    /// Prepares one decision as a `'static` future, bounded in time.
    ///
    /// One round trip per decision at most: the decisions a worker takes while it
    /// handles one batch of ready connections (its other requests' tasks run before
    /// a newly spawned one) travel together in one `EVALSHA`, so under load there
    /// are fewer round trips than decisions, each decision still atomic. Alone, a
    /// decision is sent at once. Up to [`MAX_IN_FLIGHT`] calls of a worker are out
    /// at a time, pipelined on its connection; decisions asked while all are out
    /// go in the next call to leave.
    ///
    /// The time bound is kept by [`Flusher::flush`], one timer per `EVALSHA` rather than
    /// one per decision: arming a timer earlier than any the worker sleeps on
    /// costs a wake-up of its event loop (tokio writes its eventfd), which per
    /// decision was a good part of what Redis storage added to a request.
    pub fn decide(
        &self,
        worker: usize,
        cells: &[CellRef],
    ) -> impl std::future::Future<Output = Result<Answer, String>> + Send + 'static {
        let cells: Vec<([u8; 16], u64, u64)> = cells
            .iter()
            .map(|c| (c.id, c.cost.saturating_mul(c.gcra.interval), c.gcra.window))
            .collect();
        let flusher = Flusher {
            batches: self.batches.clone(),
            slot: worker % self.batches.len(),
            conn: self.conns.get(worker),
            script: self.script.clone(),
            prefix: self.prefix.clone(),
            timeout: self.timeout,
        };
        async move {
            if let Err(e) = &flusher.conn {
                return Err(e.clone());
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            let deadline = tokio::time::Instant::now() + flusher.timeout;
            let spawn = {
                let mut b = flusher.lock()?;
                b.pending.push(Pending {
                    cells,
                    tx,
                    deadline,
                });
                let spawn = !b.scheduled && b.in_flight < MAX_IN_FLIGHT;
                b.scheduled |= spawn;
                spawn
            };
            if spawn {
                tokio::spawn(flusher.flush());
            }
            // Answered by its deadline (see `flush`), or dropped with the task.
            match rx.await {
                Ok(answer) => answer,
                Err(_) => Err("the decision was dropped".into()),
            }
        }
    }
}

/// A call counted in [`Batch::in_flight`] until this is dropped, also when the
/// task is (a worker shutting down): a count left behind would keep a slot taken.
struct Outstanding<'a>(&'a Flusher);

impl Drop for Outstanding<'_> {
    fn drop(&mut self) {
        if let Ok(mut b) = self.0.lock() {
            b.in_flight = b.in_flight.saturating_sub(1);
        }
    }
}

/// What a flush task needs: one worker's batch and connection.
#[derive(Clone)]
struct Flusher {
    batches: Arc<Vec<std::sync::Mutex<Batch>>>,
    slot: usize,
    conn: Result<redis::aio::ConnectionManager, String>,
    script: Arc<redis::Script>,
    prefix: Arc<str>,
    timeout: Duration,
}

impl Flusher {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Batch>, String> {
        self.batches[self.slot]
            .lock()
            .map_err(|_| "rate-limit batch lock poisoned".to_string())
    }

    /// [`Flusher::flush`] with a named type, so that it can spawn itself.
    fn boxed(self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(self.flush())
    }

    /// Takes the decisions waiting on the worker (at most [`MAX_BATCH`]) and
    /// sends them in one `EVALSHA`, handing each its answer by its deadline; then,
    /// while decisions wait because [`MAX_IN_FLIGHT`] calls were out, takes the
    /// next batch. What is left after a batch is taken goes in another task's call
    /// (spawned here, so it runs after the requests this turn of the event loop
    /// still holds, and takes theirs too) while calls remain free. A decision
    /// whose deadline passed while it waited fails without being sent, and a call
    /// gives up at the earliest deadline of its batch.
    async fn flush(self) {
        let mut index: HashMap<[u8; 16], usize> = HashMap::new();
        loop {
            let batch: Vec<Pending> = {
                let Ok(mut b) = self.lock() else {
                    return;
                };
                b.scheduled = false;
                if b.pending.is_empty() {
                    return;
                }
                let n = b.pending.len().min(MAX_BATCH);
                let batch: Vec<Pending> = b.pending.drain(..n).collect();
                b.in_flight += 1;
                if !b.pending.is_empty() && b.in_flight < MAX_IN_FLIGHT {
                    b.scheduled = true;
                    tokio::spawn(self.clone().boxed());
                }
                batch
            };
            let outstanding = Outstanding(&self);
            self.send(batch, &mut index).await;
            drop(outstanding);
            let Ok(mut b) = self.lock() else {
                return;
            };
            if b.scheduled || b.pending.is_empty() {
                return;
            }
            // Decisions that found every call out: this task takes them.
            b.scheduled = true;
        }
    }

    /// One `EVALSHA` for a batch (one immediate retry on a stale connection),
    /// every decision answered.
    async fn send(&self, batch: Vec<Pending>, index: &mut HashMap<[u8; 16], usize>) {
        let timeout = self.timeout;
        let now = tokio::time::Instant::now();
        let (batch, late): (Vec<Pending>, Vec<Pending>) =
            batch.into_iter().partition(|p| p.deadline > now);
        for p in late {
            let _ = p.tx.send(Err(format!("no answer within {timeout:?}")));
        }
        let Some(deadline) = batch.iter().map(|p| p.deadline).min() else {
            return;
        };
        let answers: Result<Vec<Answer>, String> = match &self.conn {
            Err(e) => Err(e.clone()),
            Ok(conn) => {
                let mut conn = conn.clone();
                let inv = invocation(&self.script, &self.prefix, &batch, index);
                let run = async {
                    match inv.invoke_async::<Vec<i64>>(&mut conn).await {
                        Err(e) if retryable(&e) => inv.invoke_async::<Vec<i64>>(&mut conn).await,
                        other => other,
                    }
                };
                match tokio::time::timeout_at(deadline, run).await {
                    Ok(Ok(reply)) => {
                        let sizes: Vec<usize> = batch.iter().map(|p| p.cells.len()).collect();
                        parse_answers(&reply, &sizes)
                    }
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(format!("no answer within {timeout:?}")),
                }
            }
        };
        match answers {
            Ok(answers) => {
                for (p, a) in batch.into_iter().zip(answers) {
                    let _ = p.tx.send(Ok(a));
                }
            }
            Err(e) => {
                for p in batch {
                    let _ = p.tx.send(Err(e.clone()));
                }
            }
        }
    }
}

/// The `EVALSHA` of a batch: each distinct counter once in KEYS, the decisions
/// as one MessagePack array in ARGV[1] (see [`SCRIPT`]).
fn invocation<'s>(
    script: &'s redis::Script,
    prefix: &str,
    batch: &[Pending],
    index: &mut HashMap<[u8; 16], usize>,
) -> redis::ScriptInvocation<'s> {
    let mut inv = script.prepare_invoke();
    index.clear();
    let cells: usize = batch.iter().map(|p| p.cells.len()).sum();
    let mut windows: Vec<u64> = Vec::with_capacity(cells);
    let mut decisions: Vec<u64> = Vec::with_capacity(batch.len() + 2 * cells);
    for p in batch {
        decisions.push(p.cells.len() as u64);
        for (id, inc, window) in &p.cells {
            let next = index.len() + 1;
            let j = *index.entry(*id).or_insert(next);
            if j == next {
                inv.key(key_of(prefix, id));
                windows.push(*window);
            }
            decisions.push(j as u64);
            decisions.push(*inc);
        }
    }
    let head = [batch.len() as u64, cells as u64];
    let mut packed = Vec::with_capacity(5 + 9 * (2 + windows.len() + decisions.len()));
    msgpack_array_len(&mut packed, 2 + windows.len() + decisions.len());
    for &n in head.iter().chain(&windows).chain(&decisions) {
        msgpack_uint(&mut packed, n);
    }
    inv.arg(packed);
    inv
}

/// A MessagePack array header.
fn msgpack_array_len(out: &mut Vec<u8>, n: usize) {
    if n < 16 {
        out.push(0x90 | n as u8);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(0xdc);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// A MessagePack unsigned integer, in its shortest form.
fn msgpack_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if let Ok(n) = u8::try_from(n) {
        out.extend_from_slice(&[0xcc, n]);
    } else if let Ok(n) = u16::try_from(n) {
        out.push(0xcd);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0xce);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The Redis key of a counter: `<prefix>:{<hex digest>}`.
fn key_of(prefix: &str, id: &[u8; 16]) -> String {
    let mut k = String::with_capacity(prefix.len() + 36);
    k.push_str(prefix);
    k.push_str(":{");
    for b in id {
        k.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        k.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    k.push('}');
    k
}

/// Splits a batch reply into one answer per decision (`sizes`: each one's number
/// of counters).
fn parse_answers(reply: &[i64], sizes: &[usize]) -> Result<Vec<Answer>, String> {
    let want = 1 + sizes.iter().map(|n| n + 1).sum::<usize>();
    if reply.len() != want || reply[0] <= 0 {
        return Err(format!(
            "unexpected script reply of {} values ({want} expected)",
            reply.len()
        ));
    }
    let now = reply[0] as u64;
    let mut at = 1;
    let mut out = Vec::with_capacity(sizes.len());
    for &n in sizes {
        let part = &reply[at..at + 1 + n];
        out.push(Answer {
            allowed: part[0] == 1,
            now,
            tats: part[1..].iter().map(|&t| u64::try_from(t).ok()).collect(),
        });
        at += 1 + n;
    }
    Ok(out)
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
        // One decision of two counters, then one of one counter.
        let a = parse_answers(&[5_000_000, 1, -1, 7_000_000, 0, 9_000_000], &[2, 1]).unwrap();
        assert_eq!(a.len(), 2);
        assert!(a[0].allowed);
        assert_eq!(a[0].tats, [None, Some(7_000_000)]);
        assert_eq!(a[0].now, 5_000_000);
        assert!(!a[1].allowed);
        assert_eq!(a[1].tats, [Some(9_000_000)]);
        assert!(parse_answers(&[5, 1], &[2]).is_err());
        assert!(
            parse_answers(&[0, 1, 2], &[1]).is_err(),
            "Redis' clock cannot be 0"
        );
        assert!(parse_answers(&[], &[]).is_err());
    }

    #[test]
    fn msgpack_integers_take_their_shortest_form() {
        let enc = |n: u64| {
            let mut v = Vec::new();
            msgpack_uint(&mut v, n);
            v
        };
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0xcc, 0x80]);
        assert_eq!(enc(255), [0xcc, 0xff]);
        assert_eq!(enc(256), [0xcd, 0x01, 0x00]);
        assert_eq!(enc(65_536), [0xce, 0, 1, 0, 0]);
        assert_eq!(enc(3_600_000_000), [0xce, 0xd6, 0x93, 0xa4, 0x00]);
        assert_eq!(enc(1 << 32), [0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
        let len = |n: usize| {
            let mut v = Vec::new();
            msgpack_array_len(&mut v, n);
            v
        };
        assert_eq!(len(15), [0x9f]);
        assert_eq!(len(16), [0xdc, 0, 16]);
        assert_eq!(len(70_000), [0xdd, 0, 1, 0x11, 0x70]);
    }

    fn evalsha_calls(url: &str) -> u64 {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut c)
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("cmdstat_evalsha:calls="))
            .and_then(|l| l.split(',').next())
            .map_or(0, |n| n.parse().unwrap())
    }

    /// A Redis server, its URL, a store of one worker on it, and that worker's
    /// runtime; `None` when no redis-server can be started (the test then skips,
    /// or fails under `FLASKGUARD_E2E=required`, as testkit decides).
    fn fixture() -> Option<(
        testkit::RedisServer,
        String,
        RedisStore,
        tokio::runtime::Runtime,
    )> {
        let server = testkit::RedisServer::start()?;
        let url = format!("redis://127.0.0.1:{}/0", server.port);
        let store = RedisStore::new(
            &url,
            1,
            "fg:test",
            Duration::from_secs(5),
            Duration::from_secs(1),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Some((server, url, store, rt))
    }

    /// Decisions taken together on one worker travel in one `EVALSHA` (at most
    /// `MAX_BATCH` each) and stay exact: of 100 concurrent requests against a
    /// limit of 30, exactly 30 pass, the first 30 asked.
    #[test]
    fn concurrent_decisions_share_a_round_trip_and_stay_exact() {
        let Some((server, url, store, rt)) = fixture() else {
            return;
        };
        // 30 per hour for one client: a window of an hour, an interval of 120 s.
        let cell = CellRef {
            id: [7; 16],
            gcra: super::super::algorithm::Gcra {
                interval: 120_000_000,
                window: 3_600_000_000,
            },
            cost: 1,
        };
        // A lone decision is sent on its own (and loads the script: a first call
        // finds it missing and goes again after `SCRIPT LOAD`).
        let other = CellRef {
            id: [8; 16],
            ..cell
        };
        let lone = rt
            .block_on(async { store.decide(0, &[other]).await })
            .unwrap();
        assert!(lone.allowed);
        assert_eq!(lone.tats, [None]);
        assert!((1..=2).contains(&evalsha_calls(&url)));
        let before = evalsha_calls(&url);
        let answers: Vec<Answer> = rt.block_on(async {
            let futs: Vec<_> = (0..100).map(|_| store.decide(0, &[cell])).collect();
            let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await.unwrap().unwrap());
            }
            out
        });
        let calls = evalsha_calls(&url) - before;
        assert_eq!(answers.iter().filter(|a| a.allowed).count(), 30);
        assert!(
            answers[..30].iter().all(|a| a.allowed),
            "first come, first served"
        );
        // 100 decisions in batches of at most 64: two calls.
        assert_eq!(calls, 2, "EVALSHA calls for 100 decisions");
        drop(server);
    }

    /// A batch whose decisions share counters (a busy client's, sent once in KEYS)
    /// answers exactly what the same decisions taken one by one would: each sees
    /// what the earlier ones charged, a refused one charges nothing, costs count.
    #[test]
    fn shared_counters_in_a_batch_decide_as_one_by_one() {
        use super::super::algorithm::{decide, Gcra};
        let Some((server, url, store, rt)) = fixture() else {
            return;
        };
        let per_hour = |n: u64| Gcra {
            interval: 3_600_000_000 / n,
            window: 3_600_000_000,
        };
        let cell = |id: u8, n: u64, cost: u64| CellRef {
            id: [id; 16],
            gcra: per_hour(n),
            cost,
        };
        let (a, b, c) = (cell(1, 9, 1), cell(2, 6, 2), cell(3, 4, 1));
        let shapes: [Vec<CellRef>; 5] = [vec![a], vec![a, b], vec![b, c], vec![c], vec![a, c]];
        let decisions: Vec<Vec<CellRef>> = (0..90).map(|i| shapes[i % 5].clone()).collect();
        let answers: Vec<Answer> = rt.block_on(async {
            let handles: Vec<_> = decisions
                .iter()
                .map(|d| tokio::spawn(store.decide(0, d)))
                .collect();
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await.unwrap().unwrap());
            }
            out
        });
        // Replay one by one, at the clock Redis used for each.
        let mut tats: HashMap<[u8; 16], u64> = HashMap::new();
        let mut allowed = 0;
        for (d, answer) in decisions.iter().zip(&answers) {
            let seen: Vec<Option<u64>> = d.iter().map(|c| tats.get(&c.id).copied()).collect();
            assert_eq!(answer.tats, seen, "each decision sees the earlier charges");
            let inputs: Vec<_> = d
                .iter()
                .zip(&seen)
                .map(|(c, t)| (c.gcra, *t, c.cost))
                .collect();
            let (ok, outcomes) = decide(&inputs, answer.now);
            assert_eq!(answer.allowed, ok);
            if ok {
                allowed += 1;
                for (c, o) in d.iter().zip(outcomes) {
                    tats.insert(c.id, o.new_tat);
                }
            }
        }
        // b (6 per hour, cost 2) takes three charges, c four: the limits bite.
        assert!(allowed > 5 && allowed < 30, "{allowed} allowed");
        // What Redis stored is what the replay ends with.
        let mut conn = redis::Client::open(url.as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        for (id, tat) in &tats {
            let stored: u64 = redis::cmd("GET")
                .arg(store.key(id))
                .query(&mut conn)
                .unwrap();
            assert_eq!(stored, *tat);
        }
        drop(server);
    }

    /// A key never expires before its counter's TAT and is gone at most half a
    /// window after it; writes whose TAT stays in the same quarter-window bucket
    /// keep the expiry instant, a move to the next bucket pushes it forward.
    #[test]
    fn keys_outlive_their_tat_by_at_most_half_a_window() {
        let Some((server, url, store, rt)) = fixture() else {
            return;
        };
        expiry_follows_the_tat(&url, &store, &rt);
        drop(server);
    }

    /// The same on a server without `KEEPTTL` (Redis before 6.0, played here by a
    /// script whose keep-TTL option Redis refuses as a syntax error): each write
    /// sets the expiry instant the kept TTL would have had.
    #[test]
    fn without_keepttl_the_expiry_is_written_again() {
        let Some((server, url, mut store, rt)) = fixture() else {
            return;
        };
        assert_eq!(SCRIPT.matches("'KEEPTTL'").count(), 1);
        store.script = Arc::new(redis::Script::new(
            &SCRIPT.replace("'KEEPTTL'", "'KEEPTTL_BEFORE_6'"),
        ));
        expiry_follows_the_tat(&url, &store, &rt);
        drop(server);
    }

    fn expiry_follows_the_tat(url: &str, store: &RedisStore, rt: &tokio::runtime::Runtime) {
        // 20 per second: an interval of 50 ms, a window of 1 s, buckets of 250 ms.
        let window = 1_000_000u64;
        let b = window / 4;
        let cell = CellRef {
            id: [9; 16],
            gcra: super::super::algorithm::Gcra {
                interval: 50_000,
                window,
            },
            cost: 1,
        };
        let key = store.key(&cell.id);
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let mut last: Option<(u64, i64)> = None;
        let (mut kept, mut moved, mut allowed) = (0, 0, 0);
        for _ in 0..30 {
            let answer = rt
                .block_on(async { store.decide(0, &[cell]).await })
                .unwrap();
            allowed += usize::from(answer.allowed);
            let (tat, pttl, time): (u64, i64, (u64, u64)) = redis::pipe()
                .get(&key)
                .pttl(&key)
                .cmd("TIME")
                .query(&mut c)
                .unwrap();
            let now = time.0 * 1_000_000 + time.1;
            assert!(pttl > 0, "the key has a TTL");
            // When the key expires, in µs (PTTL rounds to the millisecond).
            let expiry = now as i64 + pttl * 1000;
            assert!(
                expiry + 1000 >= (tat + b) as i64,
                "expires {expiry}, before TAT {tat} + a bucket"
            );
            assert!(
                expiry <= (tat + 2 * b + 2000) as i64,
                "expires {expiry}, over half a window after TAT {tat}"
            );
            if let Some((prev_tat, prev_expiry)) = last {
                if prev_tat / b == tat / b {
                    assert!((expiry - prev_expiry).abs() <= 2000, "TTL kept in a bucket");
                    kept += 1;
                } else {
                    assert!(expiry - prev_expiry >= (b - 2000) as i64, "TTL pushed");
                    moved += 1;
                }
            }
            last = Some((tat, expiry));
        }
        // A burst of 20 (then refusals, which write nothing) over five buckets.
        assert!((20..=21).contains(&allowed), "{allowed} allowed");
        assert!(kept >= 20, "{kept} writes kept the TTL");
        assert!(moved >= 3, "{moved} writes moved it");
    }

    /// A store on a server at `port` that will not answer decisions, one
    /// counter, and a runtime like a worker's.
    fn unanswered(port: u16, timeout: Duration) -> (RedisStore, CellRef, tokio::runtime::Runtime) {
        let store = RedisStore::new(
            &format!("redis://127.0.0.1:{port}/0"),
            1,
            "fg:test",
            timeout,
            Duration::from_secs(1),
        )
        .unwrap();
        let cell = CellRef {
            id: [3; 16],
            gcra: super::super::algorithm::Gcra {
                interval: 1_000_000,
                window: 60_000_000,
            },
            cost: 1,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        (store, cell, rt)
    }

    /// A stand-in Redis server: answers `+OK` to every command (the client's
    /// connection set-up) but `EVALSHA`, which it counts and never answers.
    fn holding_server() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = held.clone();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut out) = s else { break };
                let count = count.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(out.try_clone().unwrap());
                    let mut line = String::new();
                    // `*<n>` then `$<len>` + the argument, n times.
                    while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        let n: usize = line.trim_end()[1..].parse().unwrap();
                        let mut args = Vec::new();
                        for _ in 0..n {
                            line.clear();
                            r.read_line(&mut line).unwrap();
                            let len: usize = line.trim_end()[1..].parse().unwrap();
                            let mut arg = vec![0; len + 2];
                            std::io::Read::read_exact(&mut r, &mut arg).unwrap();
                            arg.truncate(len);
                            args.push(arg);
                        }
                        if args[0].eq_ignore_ascii_case(b"EVALSHA") {
                            count.fetch_add(1, Ordering::SeqCst);
                        } else {
                            out.write_all(b"+OK\r\n").unwrap();
                        }
                        line.clear();
                    }
                });
            }
        });
        (port, held)
    }

    /// Decisions asked one after the other while earlier calls hang are sent at
    /// once, each in its own call, up to `MAX_IN_FLIGHT` calls; the rest wait for
    /// a call to end (here: give up) and then leave together in one.
    #[test]
    fn calls_are_pipelined_up_to_the_bound() {
        let (port, held) = holding_server();
        let timeout = Duration::from_millis(400);
        let (store, cell, rt) = unanswered(port, timeout);
        rt.block_on(async {
            let mut asked = Vec::new();
            for _ in 0..MAX_IN_FLIGHT + 2 {
                asked.push(tokio::spawn(store.decide(0, &[cell])));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(held.load(Ordering::SeqCst), MAX_IN_FLIGHT);
            for h in asked {
                assert!(h.await.unwrap().is_err());
            }
            assert_eq!(held.load(Ordering::SeqCst), MAX_IN_FLIGHT + 1);
        });
    }

    /// A server that accepts and never answers: every decision fails by its own
    /// deadline, those asked while an earlier call hangs included (sent at once in
    /// calls of their own), and none waits much longer.
    #[test]
    fn a_silent_server_fails_each_decision_by_its_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in listener.incoming() {
                match s {
                    Ok(s) => held.push(s),
                    Err(_) => break,
                }
            }
        });
        let timeout = Duration::from_millis(300);
        let (store, cell, rt) = unanswered(port, timeout);
        rt.block_on(async {
            let start = std::time::Instant::now();
            let timed = |asked: Duration| {
                let f = store.decide(0, &[cell]);
                async move {
                    let r = f.await;
                    (r, asked, start.elapsed())
                }
            };
            let first = tokio::spawn(timed(Duration::ZERO));
            tokio::time::sleep(Duration::from_millis(100)).await;
            let later: Vec<_> = (0..3)
                .map(|_| tokio::spawn(timed(start.elapsed())))
                .collect();
            for h in std::iter::once(first).chain(later) {
                let (r, asked, done) = h.await.unwrap();
                assert!(r.is_err(), "{r:?}");
                let waited = done - asked;
                assert!(
                    waited >= timeout - Duration::from_millis(20)
                        && waited < timeout + Duration::from_millis(250),
                    "answered after {waited:?}"
                );
            }
        });
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
