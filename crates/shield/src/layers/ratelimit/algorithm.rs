//! GCRA, the generic cell rate algorithm, in integer microseconds. Pure: no clock,
//! no storage; the memory store and the Redis script both apply exactly this.
//!
//! A limit "N per W" has the emission interval `T = W / N` (rounded down to the
//! microsecond) and the tolerance `W`. A counter stores one number, its theoretical
//! arrival time `TAT`. A request of cost `c` arriving at `now`:
//!
//! ```text
//! base    = max(TAT, now)            (a missing counter is TAT = now)
//! new_tat = base + c * T
//! allowed = new_tat - now <= W       -> store new_tat, kept for new_tat - now
//! denied                              -> store nothing; retry in new_tat - now - W
//! ```
//!
//! What that means for a client: a fresh (or rested) counter takes a burst of N
//! requests at once, then one request every `T`; the counter is fully replenished
//! `W` after the burst if nothing else arrives. In any window of length `W` a
//! client gets at most `2N - 1` requests (a full burst, then the steady rate); over
//! longer periods the rate converges to N per W. A refused request costs nothing.
//!
//! Several counters decide together (the global limit, and per IP and per account
//! on a login route): the request passes only when every counter allows it, and
//! then every counter is charged; when one refuses, none is.

/// The parameters of one counter, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// `T = W / N`.
    pub interval: u64,
    /// `W`, the tolerance.
    pub window: u64,
}

/// One counter's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellOutcome {
    /// This counter alone would allow the request.
    pub allowed: bool,
    /// The TAT to store when the whole decision allows the request.
    pub new_tat: u64,
    /// How long the stored TAT must be kept (`new_tat - now`).
    pub ttl: u64,
    /// Unit-cost requests that would still pass right after this decision.
    pub remaining: u64,
    /// Until the counter is fully replenished.
    pub reset: u64,
    /// Until a request of this cost would pass (0 when allowed).
    pub retry_after: u64,
}

/// Evaluates one counter. `committed` says whether the request is charged (every
/// counter of the decision allowed it); `remaining` and `reset` then describe the
/// counter after the charge, otherwise as it stands.
pub fn evaluate(g: Gcra, tat: Option<u64>, now: u64, cost: u64) -> CellOutcome {
    let base = tat.unwrap_or(now).max(now);
    let new_tat = base.saturating_add(cost.saturating_mul(g.interval));
    let ahead = new_tat - now;
    let allowed = ahead <= g.window;
    CellOutcome {
        allowed,
        new_tat,
        ttl: ahead,
        remaining: 0,
        reset: 0,
        retry_after: if allowed { 0 } else { ahead - g.window },
    }
    .describe(g, base, now, allowed)
}

impl CellOutcome {
    fn describe(mut self, g: Gcra, base: u64, now: u64, charged: bool) -> CellOutcome {
        let tat = if charged { self.new_tat } else { base };
        let used = tat - now;
        self.remaining = g.window.saturating_sub(used) / g.interval.max(1);
        self.reset = used;
        self
    }
}

/// Decides a request over all its counters: `(allowed, outcomes)`, where the
/// outcomes describe each counter after the decision (charged only if allowed).
pub fn decide(cells: &[(Gcra, Option<u64>, u64)], now: u64) -> (bool, Vec<CellOutcome>) {
    let mut out: Vec<CellOutcome> = cells
        .iter()
        .map(|(g, tat, cost)| evaluate(*g, *tat, now, *cost))
        .collect();
    let allowed = out.iter().all(|o| o.allowed);
    if !allowed {
        for ((g, tat, _), o) in cells.iter().zip(out.iter_mut()) {
            let base = tat.unwrap_or(now).max(now);
            *o = o.describe(*g, base, now, false);
        }
    }
    (allowed, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000;

    fn per_minute(n: u64) -> Gcra {
        Gcra {
            interval: 60 * SEC / n,
            window: 60 * SEC,
        }
    }

    /// Runs requests at the given times (µs), returning which passed.
    fn run(g: Gcra, times: &[u64]) -> Vec<bool> {
        let mut tat = None;
        times
            .iter()
            .map(|&t| {
                let (ok, o) = decide(&[(g, tat, 1)], t);
                if ok {
                    tat = Some(o[0].new_tat);
                }
                ok
            })
            .collect()
    }

    #[test]
    fn a_fresh_counter_takes_exactly_the_burst() {
        let g = per_minute(10);
        let got = run(g, &[0; 12]);
        assert_eq!(got.iter().filter(|x| **x).count(), 10);
        assert!(got[..10].iter().all(|x| *x) && !got[10] && !got[11]);
    }

    #[test]
    fn one_more_each_interval_at_the_exact_boundary() {
        let g = per_minute(10); // T = 6 s
        let mut times = vec![0; 10];
        times.push(6 * SEC - 1); // one microsecond early
        times.push(6 * SEC); // exactly on time
        times.push(6 * SEC); // the next one is 6 s later
        assert_eq!(
            run(g, &times)[10..],
            [false, true, false],
            "boundary behaviour"
        );
    }

    #[test]
    fn retry_after_and_remaining() {
        let g = per_minute(10);
        let mut tat = None;
        for i in 0..10 {
            let (ok, o) = decide(&[(g, tat, 1)], 0);
            assert!(ok);
            assert_eq!(o[0].remaining, 9 - i);
            tat = Some(o[0].new_tat);
        }
        let (ok, o) = decide(&[(g, tat, 1)], 2 * SEC);
        assert!(!ok);
        assert_eq!(o[0].retry_after, 4 * SEC);
        assert_eq!(o[0].remaining, 0);
        assert_eq!(o[0].reset, 58 * SEC);
    }

    #[test]
    fn a_rested_counter_is_fresh_again() {
        let g = per_minute(10);
        let (_, o) = decide(&[(g, Some(0), 1)], 0);
        assert_eq!(o[0].reset, 6 * SEC);
        // Long after its TAT the stored value is as good as none.
        let (_, late) = decide(&[(g, Some(5 * SEC), 1)], 3600 * SEC);
        let (_, none) = decide(&[(g, None, 1)], 3600 * SEC);
        assert_eq!(late, none);
    }

    #[test]
    fn cost_counts_several_cells() {
        let g = per_minute(10);
        let (ok, o) = decide(&[(g, None, 4)], 0);
        assert!(ok && o[0].remaining == 6);
        let (ok, _) = decide(&[(g, Some(o[0].new_tat), 7)], 0);
        assert!(!ok, "7 more do not fit in the 6 left");
    }

    #[test]
    fn counters_decide_together_and_a_refusal_charges_none() {
        let ip = per_minute(10);
        let account = per_minute(2);
        let acct_full = Some(2 * 30 * SEC); // two used at t=0
        let (ok, o) = decide(&[(ip, None, 1), (account, acct_full, 1)], 0);
        assert!(!ok);
        assert!(o[0].allowed && !o[1].allowed);
        // The IP counter was not charged: it still reports its full quota.
        assert_eq!(o[0].remaining, 10);
        let (ok, o) = decide(&[(ip, None, 1), (account, None, 1)], 0);
        assert!(ok);
        assert_eq!((o[0].remaining, o[1].remaining), (9, 1));
    }

    #[test]
    fn at_most_2n_minus_1_in_any_window() {
        let g = per_minute(5); // T = 12 s
                               // Every 100 ms for two minutes: count the passes in each 60 s window.
        let times: Vec<u64> = (0..1200).map(|i| i * SEC / 10).collect();
        let passed: Vec<u64> = times
            .iter()
            .zip(run(g, &times))
            .filter(|(_, ok)| *ok)
            .map(|(t, _)| *t)
            .collect();
        for &start in &passed {
            let n = passed
                .iter()
                .filter(|&&t| t >= start && t < start + 60 * SEC)
                .count();
            assert!(n <= 9, "{n} in the window from {start}");
        }
    }
}
