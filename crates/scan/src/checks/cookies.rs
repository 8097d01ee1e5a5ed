//! CKE001–CKE003, CKE006: the attributes of every `Set-Cookie` seen during the
//! scan. The Observatory's cookie verdicts (and modifiers) are reproduced; its
//! "session cookie" is a cookie whose name says it carries a session or a
//! credential, as Flask's `session` and Flask-Login's `remember_token` do.
//!
//! These checks judge the flags, as the Observatory does, not the transport the
//! scan happened to use: a cookie marked `Secure` passes CKE001 even when the
//! scan reached the app over plain HTTP (a staging port, gunicorn behind its
//! proxy). Browsers never send a `Secure` cookie over plain HTTP and refuse to
//! store one set by a non-secure origin, so the flag does its job; the plain-HTTP
//! answer itself is TLS001's finding.

use super::{check, hsts, outcomes, CheckDef, Verdicts};
use crate::observations::{excerpt, Observations};

outcomes! {
    pub enum Secure for "CKE001" {
        SessionInsecure = "cookies-session-without-secure-flag" [High, -40, Observatory]
            "A session cookie is set without Secure, so browsers also send it over plain HTTP, in clear text",
            "Set SESSION_COOKIE_SECURE = True and REMEMBER_COOKIE_SECURE = True (and `secure=True` in set_cookie).";
        Insecure = "cookies-without-secure-flag" [Medium, -20, Observatory]
            "A cookie is set without Secure, so browsers also send it over plain HTTP",
            "Pass `secure=True` to set_cookie for every cookie.";
        SessionHsts = "cookies-session-without-secure-flag-but-protected-by-hsts" [Medium, -10, Observatory]
            "A session cookie lacks Secure; HSTS keeps browsers on HTTPS, but the flag is still missing",
            "Set SESSION_COOKIE_SECURE = True.";
        InsecureHsts = "cookies-without-secure-flag-but-protected-by-hsts" [Low, -5, Observatory]
            "A cookie lacks Secure; HSTS keeps browsers on HTTPS, but the flag is still missing",
            "Pass `secure=True` to set_cookie.";
        Ok = "cookies-secure-with-httponly-sessions" [Pass, 0, Observatory]
            "Every cookie is Secure and session cookies are HttpOnly",
            "";
        None = "cookies-not-found" [Pass, 0, Observatory]
            "No cookies were set during the scan",
            "";
    }
}

outcomes! {
    pub enum HttpOnly for "CKE002" {
        Missing = "cookies-session-without-httponly-flag" [High, -30, Observatory]
            "A session cookie is set without HttpOnly, so any injected script can read it",
            "Set SESSION_COOKIE_HTTPONLY = True and REMEMBER_COOKIE_HTTPONLY = True.";
        Ok = "cookies-session-httponly" [Pass, 0, Observatory]
            "Session cookies are HttpOnly",
            "";
    }
}

outcomes! {
    pub enum SameSite for "CKE003" {
        Invalid = "cookies-samesite-flag-invalid" [Medium, -20, Observatory]
            "A cookie's SameSite is something other than Strict or Lax (None, or an unknown value)",
            "Set SESSION_COOKIE_SAMESITE = \"Lax\" (or \"Strict\").";
        Missing = "cookies-session-without-samesite-flag" [Medium, -10, Flaskguard]
            "A session cookie has no SameSite attribute, so the protection depends on the browser's default",
            "Set SESSION_COOKIE_SAMESITE = \"Lax\" (or \"Strict\").";
        AllSet = "cookies-secure-with-httponly-sessions-and-samesite" [Pass, 5, Observatory]
            "Every cookie is Secure, session cookies are HttpOnly, and all use SameSite Lax or Strict",
            "";
        Ok = "cookies-samesite-set" [Pass, 0, Flaskguard]
            "Session cookies use SameSite Lax or Strict",
            "";
    }
}

outcomes! {
    pub enum Lifetime for "CKE006" {
        Long = "cookie-session-lifetime-long" [Low, 0, Flaskguard]
            "A session cookie lives longer than a day",
            "Lower PERMANENT_SESSION_LIFETIME / REMEMBER_COOKIE_DURATION (hours, not weeks, for sensitive apps).";
        Ok = "cookie-session-lifetime-bounded" [Pass, 0, Flaskguard]
            "Session cookies end with the browser session or within a day",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!(
        "cookie-secure",
        "CKE001",
        Secure,
        secure,
        observatory = "cookies"
    ),
    check!(
        "cookie-httponly",
        "CKE002",
        HttpOnly,
        httponly,
        observatory = "cookies"
    ),
    check!(
        "cookie-samesite",
        "CKE003",
        SameSite,
        samesite,
        observatory = "cookies"
    ),
    check!("cookie-lifetime", "CKE006", Lifetime, lifetime),
];

/// One `Set-Cookie` header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
    pub max_age: Option<i64>,
    /// Seconds since the epoch.
    pub expires: Option<i64>,
    pub raw: String,
    /// Where it was set.
    pub url: String,
    /// The `Date` of the response, for relative lifetimes.
    pub date: Option<i64>,
}

impl SetCookie {
    pub fn parse(raw: &str) -> Option<SetCookie> {
        let mut parts = raw.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let mut c = SetCookie {
            name: name.to_string(),
            value: value.trim().trim_matches('"').to_string(),
            secure: false,
            http_only: false,
            same_site: None,
            max_age: None,
            expires: None,
            raw: raw.to_string(),
            url: String::new(),
            date: None,
        };
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "secure" => c.secure = true,
                "httponly" => c.http_only = true,
                "samesite" => c.same_site = Some(v.trim().to_string()),
                "max-age" => c.max_age = v.trim().parse().ok(),
                "expires" => c.expires = parse_http_date(v.trim()),
                _ => {}
            }
        }
        Some(c)
    }

    /// Whether the name says it carries a session or a credential.
    pub fn is_session(&self) -> bool {
        checklist::cookie_names::is_session_like(&self.name)
    }

    /// Whether this Set-Cookie deletes the cookie (Max-Age 0 or an expiry in the past).
    pub fn is_deletion(&self) -> bool {
        self.max_age.is_some_and(|m| m <= 0)
            || match (self.expires, self.date) {
                (Some(e), Some(d)) => e <= d,
                (Some(e), None) => e < 86_400,
                _ => false,
            }
    }

    /// Seconds the cookie lives, if it is persistent.
    pub fn lifetime(&self) -> Option<i64> {
        if let Some(m) = self.max_age {
            return Some(m);
        }
        let now = self.date.unwrap_or_else(now);
        self.expires.map(|e| e - now)
    }

    fn same_site_ok(&self) -> bool {
        self.same_site
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("lax") || s.eq_ignore_ascii_case("strict"))
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Parses the date formats cookies use: `Wed, 21 Oct 2015 07:28:00 GMT` and the
/// Netscape `Wed, 21-Oct-2015 07:28:00 GMT`.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.split_once(',').map(|(_, r)| r).unwrap_or(s).trim();
    let s = s.replace('-', " ");
    let mut it = s.split_whitespace();
    let day: i64 = it.next()?.parse().ok()?;
    let month = match it.next()?.to_ascii_lowercase().get(..3)? {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    let mut year: i64 = it.next()?.parse().ok()?;
    if year < 100 {
        year += if year < 70 { 2000 } else { 1900 };
    }
    let mut hms = it.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Every cookie set during the scan, first occurrence per name, deletions skipped,
/// and so are cookies that only echo the request: a name and value both taken
/// from a query parameter the scan sent (a "set this cookie" endpoint fed the
/// scan's own probe parameters is not one of the app's cookies).
pub fn all(obs: &Observations) -> Vec<SetCookie> {
    let mut out: Vec<SetCookie> = Vec::new();
    for (e, resp) in obs.answered() {
        let date = resp.header("date").and_then(parse_http_date);
        let url = e.url();
        let sent: Vec<(String, String)> = url::Url::parse(&url)
            .map(|u| u.query_pairs().into_owned().collect())
            .unwrap_or_default();
        for raw in resp.headers_all("set-cookie") {
            let Some(mut c) = SetCookie::parse(raw) else {
                continue;
            };
            c.url = url.clone();
            c.date = date;
            if c.is_deletion() || out.iter().any(|o| o.name == c.name) || echoes_query(&c, &sent) {
                continue;
            }
            out.push(c);
        }
    }
    out
}

/// The cookie is `name=value` of one of the request's own query parameters (the
/// value as sent, or percent-encoded as the app may store it).
fn echoes_query(c: &SetCookie, sent: &[(String, String)]) -> bool {
    let decoded: String = url::form_urlencoded::parse(c.value.as_bytes())
        .next()
        .map(|(k, v)| if v.is_empty() { k } else { v })
        .map(|s| s.into_owned())
        .unwrap_or_default();
    sent.iter()
        .any(|(k, v)| k == &c.name && !v.is_empty() && (c.value == *v || decoded == *v))
}

fn hsts_protects(obs: &Observations) -> bool {
    super::page(obs).is_some_and(|(url, r)| {
        url.starts_with("https://")
            && r.header("strict-transport-security")
                .and_then(hsts::parse)
                .is_some_and(|h| h.max_age >= hsts::SIX_MONTHS)
    })
}

fn evidence(c: &SetCookie) -> String {
    format!("Set-Cookie: {}", excerpt(&c.raw, 300))
}

fn secure(obs: &Observations, v: &mut Verdicts) {
    let cookies = all(obs);
    let Some((page_url, _)) = super::page(obs) else {
        return;
    };
    if cookies.is_empty() {
        v.add(Secure::None, page_url);
        return;
    }
    // HSTS only protects cookies the browser received over HTTPS.
    let hsts = hsts_protects(obs);
    let mut any = false;
    for c in cookies.iter().filter(|c| !c.secure) {
        any = true;
        let protected = hsts && c.url.starts_with("https://");
        let outcome = match (c.is_session(), protected) {
            (true, false) => Secure::SessionInsecure,
            (false, false) => Secure::Insecure,
            (true, true) => Secure::SessionHsts,
            (false, true) => Secure::InsecureHsts,
        };
        v.add(outcome, c.url.clone())
            .evidence(evidence(c))
            .detail(format!("cookie `{}`", c.name));
    }
    if !any {
        v.add(Secure::Ok, page_url);
    }
}

fn httponly(obs: &Observations, v: &mut Verdicts) {
    let sessions: Vec<SetCookie> = all(obs).into_iter().filter(SetCookie::is_session).collect();
    if sessions.is_empty() {
        return;
    }
    let mut any = false;
    for c in sessions.iter().filter(|c| !c.http_only) {
        any = true;
        v.add(HttpOnly::Missing, c.url.clone())
            .evidence(evidence(c))
            .detail(format!("cookie `{}`", c.name));
    }
    if !any {
        v.add(HttpOnly::Ok, sessions[0].url.clone());
    }
}

fn samesite(obs: &Observations, v: &mut Verdicts) {
    let cookies = all(obs);
    if cookies.is_empty() {
        return;
    }
    let mut any = false;
    for c in &cookies {
        match &c.same_site {
            Some(_) if !c.same_site_ok() => {
                any = true;
                v.add(SameSite::Invalid, c.url.clone())
                    .evidence(evidence(c))
                    .detail(format!("cookie `{}`", c.name));
            }
            None if c.is_session() => {
                any = true;
                v.add(SameSite::Missing, c.url.clone())
                    .evidence(evidence(c))
                    .detail(format!("cookie `{}`", c.name));
            }
            _ => {}
        }
    }
    if any {
        return;
    }
    let perfect = cookies
        .iter()
        .all(|c| c.secure && c.same_site_ok() && (!c.is_session() || c.http_only));
    let outcome = if perfect {
        SameSite::AllSet
    } else {
        SameSite::Ok
    };
    v.add(outcome, cookies[0].url.clone());
}

fn lifetime(obs: &Observations, v: &mut Verdicts) {
    let sessions: Vec<SetCookie> = all(obs).into_iter().filter(SetCookie::is_session).collect();
    if sessions.is_empty() {
        return;
    }
    let mut any = false;
    for c in &sessions {
        if let Some(secs) = c.lifetime().filter(|s| *s > 86_400) {
            any = true;
            v.add(Lifetime::Long, c.url.clone())
                .evidence(evidence(c))
                .detail(format!("cookie `{}` lives {} days", c.name, secs / 86_400));
        }
    }
    if !any {
        v.add(Lifetime::Ok, sessions[0].url.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cookie_attributes() {
        let c = SetCookie::parse("session=eyJ.x.y; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly; Path=/; SameSite=Lax").unwrap();
        assert!(c.secure && c.http_only && c.same_site_ok() && c.is_session());
        assert_eq!(c.expires, Some(1_445_412_480));
        let c = SetCookie::parse("theme=dark; SameSite=None").unwrap();
        assert!(!c.is_session() && !c.same_site_ok());
        assert!(SetCookie::parse("garbage").is_none());
        assert!(SetCookie::parse("session=; Max-Age=0")
            .unwrap()
            .is_deletion());
    }

    #[test]
    fn netscape_dates() {
        assert_eq!(parse_http_date("Thu, 01-Jan-1970 00:00:10 GMT"), Some(10));
        assert_eq!(parse_http_date("nonsense"), None);
    }
}
