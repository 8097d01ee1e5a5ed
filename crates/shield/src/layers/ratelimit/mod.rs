//! RL001-RL005: rate limits at the edge, one counter for every upstream worker.
//!
//! - [`algorithm`]: GCRA, the exact semantics of "N per W".
//! - [`limits`]: `"10 per minute"`, `"200/hour"`, `"5/30s"`.
//! - [`keys`]: what identifies a counter (client IP, header, cookie, body field…).
//! - [`rules`]: the global limit, per-route rules, the built-in auth rule.
//! - [`memory`]: the in-process store (default), shared by every worker thread.
//! - [`redis`]: the shared store for several instances, with fail-open/closed.
//! - [`headers`]: `RateLimit-Policy`, `RateLimit`, `Retry-After`.
//!
//! Per request: the global counters and those of the first matching rule decide
//! together (all charged, or none). A rule with body keys asks for the body first
//! ([`Flow::NeedBody`], bounded by `body_limit`). With memory storage the decision
//! is synchronous; with Redis it is one round trip ([`Flow::Wait`]), and when Redis
//! fails the request is decided by the local store (`fail_open`, the default) or
//! answered 503 (`fail_closed`). Refusals are 429 JSON with `Retry-After`.

pub mod algorithm;
mod auth;
mod body;
pub mod headers;
pub mod keys;
pub mod limits;
pub mod memory;
pub mod redis;
pub mod rules;

use std::sync::Arc;

use http::{header, request, HeaderName, HeaderValue, StatusCode};

use self::{
    algorithm::CellOutcome,
    keys::{counter_id, BodyCache},
    memory::{now_us, CellRef, MemoryStore},
    redis::RedisStore,
    rules::{Rule, Rules},
};
use crate::{
    config::{ConfigError, OnStorageError, RateLimitHeaders, RateLimitSettings},
    context::{BodyView, Context},
    layer::{Flow, RequestLayer, Resume},
    reply::Rejection,
};

/// The control storage events are logged under.
pub const STORAGE_CONTROL: &str = "RL002";

/// The rate-limit layer.
#[derive(Debug, Clone)]
pub struct RateLimit {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    rules: Rules,
    memory: Arc<MemoryStore>,
    redis: Option<RedisStore>,
    on_error: OnStorageError,
    headers: RateLimitHeaders,
    body_limit: usize,
}

/// One counter met by a request.
#[derive(Debug, Clone, Copy)]
struct Cell {
    counter: usize,
    store: CellRef,
}

impl RateLimit {
    /// Builds the layer; `memory` is the process-wide store (it outlives reloads),
    /// `workers` the number of worker threads (one Redis connection each).
    pub fn new(
        s: &RateLimitSettings,
        memory: Arc<MemoryStore>,
        workers: usize,
    ) -> Result<RateLimit, ConfigError> {
        let rules = Rules::new(s)?;
        let redis = match s.storage.trim() {
            "memory" => None,
            url => {
                if s.redis_timeout.get().is_zero() {
                    return Err(ConfigError::new(
                        "shield.rate_limit.redis_timeout",
                        "must be longer than 0s",
                    ));
                }
                Some(
                    RedisStore::new(
                        url,
                        workers,
                        &s.key_prefix,
                        s.redis_timeout.get(),
                        s.redis_retry_interval.get(),
                    )
                    .map_err(|e| ConfigError::new("shield.rate_limit.storage", e))?,
                )
            }
        };
        if s.key_prefix.is_empty() || s.key_prefix.contains(['{', '}', ' ']) {
            return Err(ConfigError::new(
                "shield.rate_limit.key_prefix",
                "a non-empty prefix without braces or spaces",
            ));
        }
        if s.body_limit < 1024 {
            return Err(ConfigError::new(
                "shield.rate_limit.body_limit",
                "at least 1024 bytes (a login body with its fields)",
            ));
        }
        if s.max_keys < 1000 {
            return Err(ConfigError::new(
                "shield.rate_limit.max_keys",
                "at least 1000 (each counter takes about 50 bytes)",
            ));
        }
        Ok(RateLimit {
            inner: Arc::new(Inner {
                rules,
                memory,
                redis,
                on_error: s.on_storage_error,
                headers: s.headers,
                body_limit: s.body_limit,
            }),
        })
    }

    /// Whether counters live in Redis.
    pub fn shared(&self) -> bool {
        self.inner.redis.is_some()
    }
}

impl Inner {
    /// The counters this request meets (a missing key skips its counters).
    fn cells(&self, head: &request::Parts, cx: &Context, rule: Option<&Rule>) -> Vec<Cell> {
        let mut cells = Vec::with_capacity(4);
        let mut body = BodyCache::default();
        let mut value = Vec::with_capacity(64);
        for r in std::iter::once(&self.rules.global).chain(rule) {
            for (ki, key) in r.keys.iter().enumerate() {
                value.clear();
                if !key.value(head, cx, &mut body, &mut value) {
                    continue;
                }
                for &ci in &r.counters {
                    let c = &self.rules.counters[ci];
                    if c.key != ki {
                        continue;
                    }
                    cells.push(Cell {
                        counter: ci,
                        store: CellRef {
                            id: counter_id(&c.identity, &value),
                            gcra: c.gcra,
                            cost: if std::ptr::eq(r, &self.rules.global) {
                                1
                            } else {
                                r.cost
                            },
                        },
                    });
                }
            }
        }
        cells
    }

    fn local(&self, cells: &[Cell]) -> (bool, Vec<CellOutcome>) {
        let refs: Vec<CellRef> = cells.iter().map(|c| c.store).collect();
        self.memory.decide(&refs, now_us())
    }

    /// Headers and verdict for a decided request.
    fn apply(
        &self,
        rule: Option<usize>,
        cells: &[Cell],
        allowed: bool,
        outcomes: &[CellOutcome],
        cx: &mut Context,
    ) -> Result<(), Box<Rejection>> {
        let policy = match rule {
            Some(i) => self.rules.rules[i].policy.clone(),
            None => self.rules.global.policy.clone(),
        };
        let send = match self.headers {
            RateLimitHeaders::Always => true,
            RateLimitHeaders::WhenLimited => !allowed,
            RateLimitHeaders::Never => false,
        };
        let mut out: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(3);
        if send {
            out.push((headers::RATELIMIT_POLICY.clone(), policy));
            let items = cells.iter().zip(outcomes).map(|(c, o)| {
                (
                    self.rules.counters[c.counter].name.as_str(),
                    o.remaining,
                    o.reset,
                )
            });
            if let Some(v) = headers::ratelimit(items) {
                out.push((headers::RATELIMIT.clone(), v));
            }
        }
        if allowed {
            cx.response_headers.extend(out);
            return Ok(());
        }
        // The refusing counter that frees up last decides Retry-After.
        let (cell, worst) = cells
            .iter()
            .zip(outcomes)
            .filter(|(_, o)| !o.allowed)
            .max_by_key(|(_, o)| o.retry_after)
            .map(|(c, o)| (c, *o))
            .unwrap_or((&cells[0], outcomes[0]));
        let counter = &self.rules.counters[cell.counter];
        let secs = headers::secs_ceil(worst.retry_after).max(1);
        let mut r = Rejection::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; retry in {secs} s"),
            counter.control,
            format!("{} exhausted", counter.describe),
        )
        .with_header(header::RETRY_AFTER, headers::retry_after(worst.retry_after));
        r.headers.extend(out);
        Err(Box::new(r))
    }

    fn storage_unavailable(&self) -> Rejection {
        Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "rate_limit_unavailable",
            "the service is temporarily unavailable",
            STORAGE_CONTROL,
            "rate-limit storage down and on_storage_error = fail_closed",
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
    }

    /// The decision when Redis cannot be asked: the local store, or 503.
    fn fallback(
        &self,
        rule: Option<usize>,
        cells: &[Cell],
        cx: &mut Context,
    ) -> Result<(), Box<Rejection>> {
        match self.on_error {
            OnStorageError::FailOpen => {
                cx.count(STORAGE_CONTROL, "local_fallback");
                let (ok, o) = self.local(cells);
                self.apply(rule, cells, ok, &o, cx)
            }
            OnStorageError::FailClosed => Err(Box::new(self.storage_unavailable())),
        }
    }
}

impl RequestLayer for RateLimit {
    fn name(&self) -> &'static str {
        "ratelimit"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        let inner = &self.inner;
        let found = inner.rules.find(&head.method, head.uri.path());
        let rule = found.map(|(_, r)| r);
        // Asked whatever the framing says: an HTTP/2 body has no length header.
        if rule.is_some_and(Rule::needs_body) && matches!(cx.body, BodyView::NotRead) {
            return Flow::NeedBody {
                limit: inner.body_limit,
            };
        }
        let cells = inner.cells(head, cx, rule);
        if cells.is_empty() {
            return Flow::Continue;
        }
        let rule_idx = found.map(|(i, _)| i);
        let Some(redis) = &inner.redis else {
            let (ok, o) = inner.local(&cells);
            return match inner.apply(rule_idx, &cells, ok, &o, cx) {
                Ok(()) => Flow::Continue,
                Err(r) => Flow::Reject(*r),
            };
        };
        if !redis.health.should_try(redis.retry_interval) {
            return match inner.fallback(rule_idx, &cells, cx) {
                Ok(()) => Flow::Continue,
                Err(r) => Flow::Reject(*r),
            };
        }
        let refs: Vec<CellRef> = cells.iter().map(|c| c.store).collect();
        let ask = redis.decide(cx.worker, &refs);
        let inner = self.inner.clone();
        Flow::Wait(Box::pin(async move {
            let answer = ask.await;
            let resume: Resume =
                Box::new(move |_head, cx| decided(&inner, rule_idx, &cells, answer, cx));
            resume
        }))
    }
}

/// Applies what Redis answered (or the failure) to the request.
fn decided(
    inner: &Inner,
    rule: Option<usize>,
    cells: &[Cell],
    answer: Result<redis::Answer, String>,
    cx: &mut Context,
) -> Result<(), Box<Rejection>> {
    let Some(store) = &inner.redis else {
        return Ok(());
    };
    match answer {
        Ok(a) => {
            if store.health.succeeded() {
                cx.note(
                    STORAGE_CONTROL,
                    "storage_recovered",
                    "rate-limit storage answers again: counters are shared again",
                );
            }
            let inputs: Vec<_> = cells
                .iter()
                .zip(&a.tats)
                .map(|(c, t)| (c.store.gcra, *t, c.store.cost))
                .collect();
            // Redis decided atomically; the same arithmetic here only describes
            // each counter for the headers.
            let (_, outcomes) = algorithm::decide(&inputs, a.now);
            inner.apply(rule, cells, a.allowed, &outcomes, cx)
        }
        Err(e) => {
            if store.health.failed(store.retry_interval) {
                cx.note(
                    STORAGE_CONTROL,
                    "storage_down",
                    format!(
                        "rate-limit storage failed ({e}); {}",
                        match inner.on_error {
                            OnStorageError::FailOpen =>
                                "deciding with this instance's local counters (fail_open)",
                            OnStorageError::FailClosed => "answering 503 (fail_closed)",
                        }
                    ),
                );
            }
            cx.count(STORAGE_CONTROL, "storage_error");
            inner.fallback(rule, cells, cx)
        }
    }
}

#[cfg(test)]
mod tests;
