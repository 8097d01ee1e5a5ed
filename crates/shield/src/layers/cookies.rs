//! CKE001-CKE003, CKE006: hardening of the upstream's `Set-Cookie` headers.
//!
//! `Secure` on every cookie over HTTPS, `HttpOnly` on session-like cookies (name
//! patterns matched as words of the name, see
//! `checklist::cookie_names::pattern_matches`; CSRF cookies
//! excepted so scripts can read them), `SameSite=Lax` where
//! none is set, and a cap on the lifetime of session-like cookies (`Max-Age`, and
//! `Expires` via an added `Max-Age`, which takes precedence in every browser).
//! A header is only rebuilt when something changes.

use std::time::{Duration, SystemTime};

use http::{header, response, HeaderValue};

use crate::{
    config::{ConfigError, CookiesSettings},
    context::{Context, Scheme},
    layer::ResponseLayer,
};

/// The cookie layer.
#[derive(Debug, Clone)]
pub struct CookieHardening {
    secure: bool,
    http_only: bool,
    same_site: &'static str,
    max_age: Option<Duration>,
    session: Vec<String>,
    readable: Vec<String>,
}

impl CookieHardening {
    pub fn new(cfg: &CookiesSettings) -> Result<CookieHardening, ConfigError> {
        let same_site = match cfg.same_site.to_ascii_lowercase().as_str() {
            "lax" => "Lax",
            "strict" => "Strict",
            _ => {
                return Err(ConfigError::new(
                    "shield.cookies.same_site",
                    format!(
                    "`{}`: write Lax or Strict (None would send cookies on cross-site requests)",
                    cfg.same_site
                ),
                ))
            }
        };
        Ok(CookieHardening {
            secure: cfg.secure,
            http_only: cfg.http_only,
            same_site,
            max_age: (!cfg.max_age.get().is_zero()).then(|| cfg.max_age.get()),
            session: cfg
                .session_patterns
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
            readable: cfg
                .script_readable_patterns
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
        })
    }

    fn session_like(&self, name: &str) -> bool {
        let words = checklist::cookie_names::words(name);
        let lower = name.to_ascii_lowercase();
        let hit = |patterns: &[String]| {
            patterns
                .iter()
                .any(|p| checklist::cookie_names::pattern_matches(p, &lower, &words))
        };
        hit(&self.session) && !hit(&self.readable)
    }

    /// The hardened cookie, or None when it is fine as it is.
    pub fn harden(&self, cookie: &str, https: bool, now: SystemTime) -> Option<String> {
        let mut parts = cookie.split(';');
        let name = parts.next()?.split('=').next()?.trim();
        let (mut secure, mut http_only, mut same_site) = (false, false, false);
        let mut max_age: Option<i64> = None;
        let mut expires: Option<SystemTime> = None;
        for attr in parts {
            let (k, v) = attr
                .split_once('=')
                .map_or((attr.trim(), ""), |(k, v)| (k.trim(), v.trim()));
            match k.to_ascii_lowercase().as_str() {
                "secure" => secure = true,
                "httponly" => http_only = true,
                "samesite" => same_site = true,
                "max-age" => max_age = v.parse().ok(),
                "expires" => expires = httpdate::parse_http_date(v).ok(),
                _ => {}
            }
        }
        let session = self.session_like(name);
        let mut add = String::new();
        let mut cap_max_age = None;
        if https && self.secure && !secure {
            add.push_str("; Secure");
        }
        if session && self.http_only && !http_only {
            add.push_str("; HttpOnly");
        }
        if !same_site {
            add.push_str("; SameSite=");
            add.push_str(self.same_site);
        }
        if let (true, Some(cap)) = (session, self.max_age) {
            let cap_s = cap.as_secs() as i64;
            match (max_age, expires) {
                (Some(m), _) if m > cap_s => cap_max_age = Some(cap_s),
                (None, Some(e)) if e.duration_since(now).is_ok_and(|d| d > cap) => {
                    add.push_str(&format!("; Max-Age={cap_s}"));
                }
                _ => {}
            }
        }
        if add.is_empty() && cap_max_age.is_none() {
            return None;
        }
        let mut out = match cap_max_age {
            Some(cap) => cookie
                .split(';')
                .map(|a| {
                    if a.trim().to_ascii_lowercase().starts_with("max-age") {
                        format!(" Max-Age={cap}")
                    } else {
                        a.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(";"),
            None => cookie.trim_end().trim_end_matches(';').to_string(),
        };
        out.push_str(&add);
        Some(out)
    }
}

impl ResponseLayer for CookieHardening {
    fn name(&self) -> &'static str {
        "cookies"
    }

    fn apply(&self, head: &mut response::Parts, cx: &mut Context) {
        if !head.headers.contains_key(header::SET_COOKIE) {
            return;
        }
        let https = cx.scheme == Scheme::Https;
        let now = SystemTime::now();
        let old: Vec<HeaderValue> = head
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        let mut changed = false;
        let new: Vec<HeaderValue> = old
            .into_iter()
            .map(
                |v| match v.to_str().ok().and_then(|c| self.harden(c, https, now)) {
                    Some(h) => match HeaderValue::from_str(&h) {
                        Ok(nv) => {
                            changed = true;
                            nv
                        }
                        Err(_) => v,
                    },
                    None => v,
                },
            )
            .collect();
        if changed {
            head.headers.remove(header::SET_COOKIE);
            for v in new {
                head.headers.append(header::SET_COOKIE, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> CookieHardening {
        CookieHardening::new(&CookiesSettings::default()).unwrap()
    }

    #[test]
    fn flask_session_cookie_over_https() {
        let now = SystemTime::now();
        let out = layer()
            .harden(
                "session=eyJ1Ijo1fQ.abc; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/",
                true,
                now,
            )
            .unwrap();
        assert_eq!(out, "session=eyJ1Ijo1fQ.abc; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=86400");
    }

    #[test]
    fn caps_max_age_and_keeps_good_cookies() {
        let now = SystemTime::now();
        let l = layer();
        let out = l
            .harden(
                "remember_token=x; Max-Age=7776000; Secure; HttpOnly; SameSite=Strict",
                true,
                now,
            )
            .unwrap();
        assert_eq!(
            out,
            "remember_token=x; Max-Age=86400; Secure; HttpOnly; SameSite=Strict"
        );
        assert!(l
            .harden("session=x; Secure; HttpOnly; SameSite=Lax", true, now)
            .is_none());
        // Deleting a cookie stays a deletion.
        assert!(l
            .harden(
                "session=; Max-Age=0; Secure; HttpOnly; SameSite=Lax",
                true,
                now
            )
            .is_none());
    }

    #[test]
    fn plain_http_and_readable_cookies() {
        let now = SystemTime::now();
        let l = layer();
        assert_eq!(
            l.harden("csrf_token=abc", false, now).unwrap(),
            "csrf_token=abc; SameSite=Lax"
        );
        assert_eq!(
            l.harden("theme=dark", true, now).unwrap(),
            "theme=dark; Secure; SameSite=Lax"
        );
        assert_eq!(
            l.harden("sid=1", false, now).unwrap(),
            "sid=1; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn session_like_names_are_words_not_substrings() {
        let l = layer();
        for name in [
            "session",
            "flask_session",
            "sessionid",
            "PHPSESSID",
            "JSESSIONID",
            "connect.sid",
            "ASP.NET_SessionId",
            "__Host-session",
            "remember_token",
            "access_token",
            "authToken",
            "auth",
            "jwt",
            "user_sid",
            "csrf_access_token_x_session",
        ] {
            let want = !name.starts_with("csrf");
            assert_eq!(l.session_like(name), want, "{name}");
        }
        for name in [
            "sidebar_collapsed",
            "considered_offer",
            "author_pref",
            "theme",
            "XSRF-TOKEN",
            "csrf_access_token",
            "csrftoken",
            "_ga",
        ] {
            assert!(!l.session_like(name), "{name}");
        }
        // A glob matches the whole name.
        let s = CookiesSettings {
            session_patterns: vec!["*sess*".into(), "app_*".into()],
            ..CookiesSettings::default()
        };
        let g = CookieHardening::new(&s).unwrap();
        assert!(g.session_like("mysessdata"));
        assert!(g.session_like("APP_state"));
        assert!(!g.session_like("theapp_state"));
    }

    #[test]
    fn refuses_samesite_none() {
        let s = CookiesSettings {
            same_site: "None".into(),
            ..CookiesSettings::default()
        };
        assert_eq!(
            CookieHardening::new(&s).unwrap_err().key,
            "shield.cookies.same_site"
        );
    }
}
