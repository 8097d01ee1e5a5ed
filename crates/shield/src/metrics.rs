//! Counters for `/metrics` (Prometheus text format), served on the admin listener.
//!
//! Plain atomics updated on the request path; rendering walks them on scrape.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
        Mutex,
    },
    time::Duration,
};

/// Upper bounds (seconds) of the request-duration histogram.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
pub struct Metrics {
    /// By status class 1xx..5xx.
    responses: [AtomicU64; 5],
    duration_buckets: [AtomicU64; BUCKETS.len()],
    duration_sum_us: AtomicU64,
    duration_count: AtomicU64,
    /// Security events by (control, action): rare, so a mutex is fine.
    events: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    pub upstream_errors: AtomicU64,
    pub upstream_timeouts: AtomicU64,
    /// Request bodies that streamed because `buffer_memory_bytes` was full.
    pub bodies_unbuffered: AtomicU64,
    /// Responses partly written to a spill file (`response_spill_bytes`).
    pub responses_spilled: AtomicU64,
    pub in_flight: AtomicI64,
    pub connections: AtomicI64,
    pub reloads_ok: AtomicU64,
    pub reloads_failed: AtomicU64,
    pub log_dropped: AtomicU64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    pub fn response(&self, status: u16, took: Duration) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.responses[class].fetch_add(1, Relaxed);
        let s = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| s <= *b) {
            self.duration_buckets[i].fetch_add(1, Relaxed);
        }
        self.duration_sum_us
            .fetch_add(took.as_micros() as u64, Relaxed);
        self.duration_count.fetch_add(1, Relaxed);
    }

    pub fn event(&self, control: &'static str, action: &'static str) {
        if let Ok(mut m) = self.events.lock() {
            *m.entry((control, action)).or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP shield_responses_total Responses sent, by status class.\n# TYPE shield_responses_total counter\n");
        for (i, c) in self.responses.iter().enumerate() {
            let _ = writeln!(
                out,
                "shield_responses_total{{class=\"{}xx\"}} {}",
                i + 1,
                c.load(Relaxed)
            );
        }
        out.push_str("# HELP shield_security_events_total Security events (blocks, redirects, sanitised errors), by control and action.\n# TYPE shield_security_events_total counter\n");
        if let Ok(m) = self.events.lock() {
            for ((control, action), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "shield_security_events_total{{control=\"{control}\",action=\"{action}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP shield_request_duration_seconds Time from request to response head.\n# TYPE shield_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (b, c) in BUCKETS.iter().zip(&self.duration_buckets) {
            cumulative += c.load(Relaxed);
            let _ = writeln!(
                out,
                "shield_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
            );
        }
        let count = self.duration_count.load(Relaxed);
        let _ = writeln!(
            out,
            "shield_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "shield_request_duration_seconds_sum {}",
            self.duration_sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "shield_request_duration_seconds_count {count}");
        for (name, help, kind, v) in [
            (
                "shield_upstream_errors_total",
                "Upstream connection failures (answered 502).",
                "counter",
                self.upstream_errors.load(Relaxed) as i64,
            ),
            (
                "shield_upstream_timeouts_total",
                "Upstream response timeouts (answered 504).",
                "counter",
                self.upstream_timeouts.load(Relaxed) as i64,
            ),
            (
                "shield_bodies_streamed_unbuffered_total",
                "Request bodies sent to the app as they arrived because buffer_memory_bytes was full.",
                "counter",
                self.bodies_unbuffered.load(Relaxed) as i64,
            ),
            (
                "shield_responses_spilled_total",
                "Responses read ahead of a slow client past response_buffer_bytes into a spill file.",
                "counter",
                self.responses_spilled.load(Relaxed) as i64,
            ),
            (
                "shield_in_flight_requests",
                "Requests being handled.",
                "gauge",
                self.in_flight.load(Relaxed),
            ),
            (
                "shield_open_connections",
                "Client connections open.",
                "gauge",
                self.connections.load(Relaxed),
            ),
            (
                "shield_config_reloads_total",
                "Successful SIGHUP reloads.",
                "counter",
                self.reloads_ok.load(Relaxed) as i64,
            ),
            (
                "shield_config_reload_failures_total",
                "Rejected SIGHUP reloads (the old config stays).",
                "counter",
                self.reloads_failed.load(Relaxed) as i64,
            ),
            (
                "shield_log_dropped_total",
                "Log lines dropped because the writer fell behind.",
                "counter",
                self.log_dropped.load(Relaxed) as i64,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::new();
        m.response(200, Duration::from_micros(300));
        m.response(404, Duration::from_millis(3));
        m.event("DBG001", "block");
        let t = m.render();
        assert!(t.contains("shield_responses_total{class=\"2xx\"} 1"));
        assert!(t.contains("shield_responses_total{class=\"4xx\"} 1"));
        assert!(t.contains("shield_security_events_total{control=\"DBG001\",action=\"block\"} 1"));
        assert!(t.contains("shield_request_duration_seconds_bucket{le=\"0.0005\"} 1"));
        assert!(t.contains("shield_request_duration_seconds_count 2"));
    }
}
