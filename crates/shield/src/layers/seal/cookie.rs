//! Just enough cookie syntax for sealing: the pairs of a `Cookie` header, and the
//! name, value and lifetime of a `Set-Cookie`.

use std::time::{Duration, SystemTime};

/// `a=1; b=2` from every `Cookie` line, in order (a pair without `=` is kept as a
/// name with an empty value).
pub fn pairs<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(&'a str, &'a str)> {
    lines
        .flat_map(|l| l.split(';'))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => (p, ""),
        })
        .collect()
}

/// A `Set-Cookie` value split into name, value (quotes removed) and the attribute
/// part starting at the first `;` (possibly empty).
pub fn split_set_cookie(line: &str) -> Option<(&str, &str, &str)> {
    let (pair, attrs) = match line.find(';') {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    };
    let (name, value) = pair.split_once('=')?;
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    Some((name.trim(), value, attrs))
}

fn attr<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    attrs
        .split(';')
        .filter_map(|a| a.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim())
}

/// How long the browser keeps the cookie: `Max-Age` wins over `Expires`; None for
/// a session cookie (no lifetime); `Some(0)` for a deletion.
pub fn lifetime(attrs: &str, now: SystemTime) -> Option<Duration> {
    if let Some(ma) = attr(attrs, "max-age") {
        return Some(match ma.parse::<i64>() {
            Ok(n) if n > 0 => Duration::from_secs(n as u64),
            _ => Duration::ZERO,
        });
    }
    let exp = attr(attrs, "expires")?;
    let when = httpdate::parse_http_date(exp).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether this `Set-Cookie` deletes the cookie (empty value or a past lifetime).
pub fn is_deletion(value: &str, attrs: &str, now: SystemTime) -> bool {
    value.is_empty() || lifetime(attrs, now) == Some(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_pairs() {
        let p = pairs(["a=1; session=x.y.z", "flag; b = 2"].into_iter());
        assert_eq!(
            p,
            [("a", "1"), ("session", "x.y.z"), ("flag", ""), ("b", "2")]
        );
    }

    #[test]
    fn set_cookie_parts_and_lifetimes() {
        let now = SystemTime::now();
        let (n, v, a) =
            split_set_cookie("session=\"abc\"; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/")
                .unwrap();
        assert_eq!((n, v), ("session", "abc"));
        assert!(is_deletion(v, a, now));
        let (_, v, a) = split_set_cookie("session=abc; Max-Age=3600; Path=/").unwrap();
        assert_eq!(lifetime(a, now), Some(Duration::from_secs(3600)));
        assert!(!is_deletion(v, a, now));
        let (_, v, a) = split_set_cookie("session=; Path=/").unwrap();
        assert!(is_deletion(v, a, now));
        let (_, _, a) = split_set_cookie("session=abc").unwrap();
        assert_eq!(lifetime(a, now), None);
        assert!(split_set_cookie("garbage").is_none());
    }
}
