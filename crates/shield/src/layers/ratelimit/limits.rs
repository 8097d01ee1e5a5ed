//! Limits as users write them: `"10 per minute"`, `"200/hour"`, `"5/30s"`,
//! `"100 per 2 hours"`, and several in one string separated by `;` or `,`
//! (`"10/minute; 100/hour"`, flask-limiter's notation).
//!
//! A limit is a quota `N` over a window `W`. [`Limit::gcra`] turns it into the GCRA
//! parameters (see `algorithm`): one request every `W/N` on average, with a burst
//! of `N`.

use std::{fmt, time::Duration};

use super::algorithm::Gcra;

/// The longest window a limit may have.
const MAX_WINDOW: Duration = Duration::from_secs(31 * 24 * 3600);
/// The largest quota.
const MAX_QUOTA: u64 = 1_000_000;

/// One parsed limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub quota: u64,
    pub window: Duration,
    /// As written (trimmed), for messages and effective config.
    pub text: String,
}

impl Limit {
    /// The window in whole seconds (for `RateLimit-Policy: …;w=`), at least 1.
    pub fn window_secs(&self) -> u64 {
        self.window.as_secs().max(1)
    }

    /// The GCRA cell parameters: emission interval `W/N` rounded down to the
    /// microsecond, tolerance `W`.
    pub fn gcra(&self) -> Gcra {
        let window = self.window.as_micros() as u64;
        Gcra {
            interval: window / self.quota,
            window,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn unit(word: &str) -> Option<Duration> {
    let secs = match word.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// `30s`, `2 minutes`, `hour`: a count (default 1) and a unit.
fn window(text: &str) -> Option<Duration> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (count, rest) = t.split_at(digits);
    let count: u64 = if count.is_empty() {
        1
    } else {
        count.parse().ok()?
    };
    let u = unit(rest.trim())?;
    u.checked_mul(u32::try_from(count).ok()?)
}

/// Parses one limit (`"10 per minute"`, `"10/minute"`, `"5/30s"`).
pub fn parse_one(text: &str) -> Result<Limit, String> {
    let t = text.trim();
    let bad =
        || format!("`{t}` is not a limit; write e.g. \"10 per minute\", \"200/hour\" or \"5/30s\"");
    let (n, w) = if let Some((n, w)) = t.split_once('/') {
        (n, w)
    } else {
        let lower = t.to_ascii_lowercase();
        let i = lower.find(" per ").ok_or_else(bad)?;
        (&t[..i], &t[i + 5..])
    };
    let quota: u64 = n.trim().parse().map_err(|_| bad())?;
    let window = window(w).ok_or_else(bad)?;
    if quota == 0 {
        return Err(format!(
            "`{t}`: a quota of 0 blocks everything; remove the route instead"
        ));
    }
    if quota > MAX_QUOTA {
        return Err(format!("`{t}`: at most {MAX_QUOTA} requests per window"));
    }
    if window.is_zero() || window > MAX_WINDOW {
        return Err(format!("`{t}`: the window must be 1s to 31 days"));
    }
    let limit = Limit {
        quota,
        window,
        text: t.to_string(),
    };
    let g = limit.gcra();
    // One request per millisecond is the finest rate a counter keeps exactly (the
    // interval is rounded down to the microsecond; this keeps N+1 out of a burst).
    if g.interval < 1000 || g.interval.saturating_mul(quota + 1) <= g.window {
        return Err(format!(
            "`{t}`: more than 1000 requests per second per key; use a shorter window with a smaller quota"
        ));
    }
    Ok(limit)
}

/// Parses a list of limit strings, each possibly holding several (`;` or `,`).
/// The error names the list index.
pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<Limit>, (usize, String)> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        for part in item.as_ref().split([';', ',']) {
            if part.trim().is_empty() {
                continue;
            }
            out.push(parse_one(part).map_err(|e| (i, e))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_forms() {
        for (text, q, secs) in [
            ("10 per minute", 10, 60),
            ("10/minute", 10, 60),
            ("200/hour", 200, 3600),
            ("5/30s", 5, 30),
            ("100 per 2 hours", 100, 7200),
            ("1 PER Second", 1, 1),
            ("3/day", 3, 86_400),
            ("7/m", 7, 60),
        ] {
            let l = parse_one(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((l.quota, l.window.as_secs()), (q, secs), "{text}");
        }
    }

    #[test]
    fn lists_and_separators() {
        let l = parse_list(&["10/minute; 100/hour", "1000 per day"]).unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[1].quota, 100);
        let e = parse_list(&["10/minute", "often"]).unwrap_err();
        assert_eq!(e.0, 1);
    }

    #[test]
    fn refusals_say_why() {
        assert!(parse_one("ten per minute")
            .unwrap_err()
            .contains("not a limit"));
        assert!(parse_one("10 per fortnight").is_err());
        assert!(parse_one("0/minute").unwrap_err().contains("0"));
        assert!(parse_one("10/0s").is_err());
        assert!(parse_one("5000/second").unwrap_err().contains("1000"));
        assert!(parse_one("10/40days").is_err());
    }

    #[test]
    fn gcra_parameters() {
        let g = parse_one("7 per minute").unwrap().gcra();
        assert_eq!(g.window, 60_000_000);
        assert_eq!(g.interval, 8_571_428);
        // Rounded down, so 7 fit in the window and the 8th does not.
        assert!(7 * g.interval <= g.window && 8 * g.interval > g.window);
    }
}
