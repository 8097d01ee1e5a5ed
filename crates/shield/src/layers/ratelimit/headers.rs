//! The rate-limit response fields of draft-ietf-httpapi-ratelimit-headers-10
//! (the current draft; -09 has the same syntax), as Structured Field lists:
//!
//! ```text
//! RateLimit-Policy: "global";q=1200;w=60, "login.ip.60";q=5;w=60
//! RateLimit: "global";r=1187;t=1, "login.ip.60";r=3;t=24
//! Retry-After: 12                       (429 only)
//! ```
//!
//! One list member per counter the request met. `q` is the quota and `w` the
//! window in seconds; `r` is what is left right after this request and `t` the
//! seconds until the counter is fully replenished (rounded up). A counter skipped
//! for a missing key (no e-mail in the body, say) is in the policy but not in
//! `RateLimit`. No partition key (`pk`) is sent: it would describe the key.

use std::fmt::Write as _;

use http::{HeaderName, HeaderValue};

use super::rules::Counter;

pub static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Microseconds rounded up to whole seconds.
pub fn secs_ceil(us: u64) -> u64 {
    us.div_ceil(1_000_000)
}

/// The `RateLimit-Policy` value for a set of counters.
pub fn policy(counters: &[&Counter]) -> HeaderValue {
    let text = counters
        .iter()
        .map(|c| {
            format!(
                "\"{}\";q={};w={}",
                c.name,
                c.limit.quota,
                c.limit.window_secs()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""))
}

/// The `RateLimit` value: `(policy name, remaining, reset in µs)` per counter met.
pub fn ratelimit<'a>(items: impl Iterator<Item = (&'a str, u64, u64)>) -> Option<HeaderValue> {
    let mut text = String::with_capacity(64);
    for (name, remaining, reset) in items {
        if !text.is_empty() {
            text.push_str(", ");
        }
        let _ = write!(text, "\"{name}\";r={remaining};t={}", secs_ceil(reset));
    }
    if text.is_empty() {
        return None;
    }
    HeaderValue::from_str(&text).ok()
}

/// `Retry-After` in whole seconds, at least 1.
pub fn retry_after(us: u64) -> HeaderValue {
    HeaderValue::from(secs_ceil(us).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::ratelimit::limits::parse_one;

    fn counter(name: &str, limit: &str) -> Counter {
        let l = parse_one(limit).unwrap();
        Counter {
            name: name.into(),
            identity: Vec::new(),
            gcra: l.gcra(),
            limit: l,
            key: 0,
            control: "RL001",
            describe: String::new(),
        }
    }

    #[test]
    fn draft_syntax() {
        let a = counter("default", "100 per 10s");
        let b = counter("login.ip.3600", "20/hour");
        assert_eq!(
            policy(&[&a, &b]),
            "\"default\";q=100;w=10, \"login.ip.3600\";q=20;w=3600"
        );
        assert_eq!(
            ratelimit([("default", 50, 29_000_001)].into_iter()).unwrap(),
            "\"default\";r=50;t=30"
        );
        assert!(ratelimit(std::iter::empty()).is_none());
        assert_eq!(retry_after(1), "1");
        assert_eq!(retry_after(4_000_000), "4");
        assert_eq!(retry_after(4_000_001), "5");
    }
}
