//! CKE — cookies and sessions.
//!
//! Shared here: whether the project uses the session cookie at all, cookies
//! the code sets with `set_cookie`, cookie names that carry a login, Flask-Login's
//! remember-me cookie, and durations (`timedelta(days=90)`, seconds).

pub mod cke001_cookie_not_secure;
pub mod cke002_cookie_not_httponly;
pub mod cke003_cookie_samesite;
pub mod cke004_sensitive_session_data;
pub mod cke005_session_not_regenerated;
pub mod cke006_session_lifetime;

use crate::{
    model::{App, ConfigEntry, ExtKind, Project},
    python::{
        facts::CallFact,
        value::{Kind, Value},
    },
    source::{FileId, Span},
};

/// A flag of fastapi-users' `CookieTransport(...)`, which sets the auth cookie
/// itself (Secure, HttpOnly and SameSite=Lax unless told otherwise): the
/// value given for `option` (`cookie_secure`, `cookie_httponly`,
/// `cookie_samesite`), followed through names, and where it is.
pub fn cookie_transport_flags<'a>(project: &'a Project, option: &str) -> Vec<(&'a Value, Span)> {
    let resolver = project.resolver();
    let mut out = Vec::new();
    for (file, _, call) in project.calls_named(&["CookieTransport"]) {
        let c = call.call();
        let is_transport = resolver
            .resolve(file, &c.func)
            .external_name()
            .is_some_and(|n| n.starts_with("fastapi_users.") && n.ends_with(".CookieTransport"));
        if !is_transport {
            continue;
        }
        if let Some(v) = c.kwarg(option) {
            // A value bound to a name elsewhere keeps that place: point at
            // the call then.
            let at = if call.range().contains_range(v.range) {
                v.range
            } else {
                call.range()
            };
            out.push((resolver.deref(file, v).1, Span::new(file, at)));
        }
    }
    out
}

/// Evidence that the session cookie is used: where it is written, or the
/// Flask-Login manager that keeps logins in it.
pub fn session_evidence(project: &Project) -> Option<(Span, &'static str)> {
    if let Some(w) = project.session_writes.first() {
        return Some((*w, "the session cookie is written here"));
    }
    project
        .extensions
        .iter()
        .find(|e| e.kind == ExtKind::LoginManager)
        .map(|e| (e.span, "Flask-Login keeps logins in the session cookie"))
}

/// A `login_user(...)` call that asks for the remember-me cookie (`remember=`
/// true, or not a literal).
pub fn remember_me(project: &Project) -> Option<Span> {
    if !project.has_extension(ExtKind::LoginManager) {
        return None;
    }
    project
        .calls_named(&["login_user"])
        .into_iter()
        .find(|(_, _, c)| {
            c.call()
                .param(1, "remember")
                .is_some_and(|v| v.truthy() != Some(false))
        })
        .map(|(file, _, c)| Span::new(file, c.range()))
}

/// Whether a Flask-Login manager may serve `app` (bound to it, or to nothing
/// we could resolve).
pub fn login_manager_covers(project: &Project, app: crate::model::AppId) -> bool {
    project
        .extensions
        .iter()
        .any(|e| e.kind == ExtKind::LoginManager && e.app.is_none_or(|a| a == app))
}

/// The project sets cookie flags its own way: a response class that overrides
/// `set_cookie`, or its own `app.session_interface`. Findings about a flag
/// being *unset* in the config are then unreliable.
pub fn custom_cookie_handling(project: &Project) -> bool {
    project.python().any(|(_, facts)| {
        facts
            .functions
            .iter()
            .any(|f| f.method_of.is_some() && f.name == "set_cookie")
    }) || custom_session_interface(project)
}

/// A session interface other than Flask's cookie one: `app.session_interface =
/// RedisSessionInterface()`, or `session_interface = ...` in the body of a
/// `Flask` subclass.
pub fn custom_session_interface(project: &Project) -> bool {
    let not_cookie = |v: &Value| {
        v.as_call()
            .and_then(|c| c.last_name())
            .is_none_or(|n| n != "SecureCookieSessionInterface")
    };
    project.python().any(|(_, facts)| {
        facts.assigns.iter().any(|a| {
            a.target
                .reference()
                .is_some_and(|r| !r.attrs.is_empty() && r.last_name() == "session_interface")
                && not_cookie(&a.value)
        }) || facts.classes.iter().any(|c| {
            c.attr("session_interface")
                .is_some_and(|a| not_cookie(&a.value))
        })
    })
}

/// Words in a cookie name that say it carries a login or a credential.
const AUTH_COOKIE_WORDS: &[&str] = &[
    "session",
    "sess",
    "sid",
    "token",
    "auth",
    "jwt",
    "refresh",
    "access",
    "remember",
    "login",
    "credential",
    "apikey",
    "bearer",
    "identity",
];

/// Splits a name into lower-case words (`refreshToken` -> refresh, token).
pub use checklist::cookie_names::words;

/// Whether a cookie name says it carries a login or a credential.
pub fn is_auth_cookie(name: &str) -> bool {
    let w = words(name);
    w.iter().any(|w| AUTH_COOKIE_WORDS.contains(&w.as_str())) || name.eq_ignore_ascii_case("sid")
}

/// A CSRF cookie must stay readable by the page's scripts.
pub fn is_csrf_cookie(name: &str) -> bool {
    words(name).iter().any(|w| w == "csrf" || w == "xsrf")
}

/// A `resp.set_cookie(...)` call.
pub struct SetCookie<'a> {
    pub file: FileId,
    pub call: &'a CallFact,
    /// The cookie name when literal.
    pub name: Option<String>,
    /// `**kwargs` hide some arguments: a spread that cannot be read.
    pub opaque: bool,
    /// The keyword arguments `**mapping` spreads pass, when they can be read
    /// (`**COOKIE_KWARGS`, `**cookie_opts()`, see
    /// [`spread_kwargs`](crate::model::calls::spread_kwargs)).
    pub spread: Vec<(FileId, &'a str, &'a Value)>,
    /// Clears the cookie (`set_cookie("x", "", expires=0)`), or holds a literal
    /// (`"true"`): no session or credential either way.
    pub no_secret: bool,
}

impl SetCookie<'_> {
    pub fn span(&self) -> Span {
        Span::new(self.file, self.call.range())
    }

    /// A keyword argument, given itself or in a readable `**mapping`,
    /// followed to its literal.
    pub fn kwarg<'p>(&'p self, project: &'p Project, name: &str) -> Option<&'p Value> {
        let (file, v) = match self.call.call().kwarg(name) {
            Some(v) => (self.file, v),
            None => self
                .spread
                .iter()
                .rev()
                .find(|(_, k, _)| *k == name)
                .map(|(f, _, v)| (*f, *v))?,
        };
        Some(project.resolver().deref(file, v).1)
    }

    /// Describes the cookie for messages.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("cookie `{n}`"),
            None => "this cookie".into(),
        }
    }
}

/// Every `set_cookie` call on a response.
pub fn set_cookies(project: &Project) -> Vec<SetCookie<'_>> {
    let resolver = project.resolver();
    project
        .calls_named(&["set_cookie"])
        .into_iter()
        .filter(|(_, _, c)| c.call().func_ref().is_some_and(|r| !r.attrs.is_empty()))
        .map(|(file, _, call)| {
            let c = call.call();
            let name = c
                .param(0, "key")
                .map(|v| resolver.deref(file, v).1)
                .and_then(Value::as_str)
                .map(str::to_string);
            let value = c.param(1, "value").map(|v| resolver.deref(file, v).1);
            let expired = ["expires", "max_age"]
                .iter()
                .any(|k| c.kwarg(k).and_then(Value::as_int) == Some(0));
            let spread = crate::model::calls::spread_kwargs(project, file, c);
            SetCookie {
                file,
                call,
                name,
                opaque: spread.is_none(),
                spread: spread.unwrap_or_default(),
                no_secret: expired
                    || value.is_some_and(|v| {
                        matches!(v.kind, Kind::Str(_) | Kind::Int(_) | Kind::Bool(_))
                    }),
            }
        })
        .collect()
}

/// A config entry's literal value after following names.
pub fn entry_value<'a>(project: &'a Project, e: &'a ConfigEntry) -> &'a Value {
    project.resolver().deref(e.file, &e.value).1
}

/// Flask apps (the session cookie settings are Flask config).
pub fn flask_apps(project: &Project) -> impl Iterator<Item = &App> {
    project
        .apps
        .iter()
        .filter(|a| a.kind == crate::model::AppKind::Flask)
}

/// Seconds in a duration: an int (seconds) or `timedelta(...)` of literals.
pub fn duration_seconds(project: &Project, file: FileId, v: &Value) -> Option<f64> {
    let (file, v) = project.resolver().deref(file, v);
    match &v.kind {
        Kind::Int(i) => Some(*i as f64),
        Kind::Float(f) => Some(*f),
        Kind::Call(c) => {
            let callee = project.resolver().resolve(file, &c.func).external_name()?;
            if callee != "datetime.timedelta" {
                return None;
            }
            // timedelta(days, seconds, microseconds, milliseconds, minutes, hours, weeks)
            const UNITS: [(&str, f64); 7] = [
                ("days", 86_400.0),
                ("seconds", 1.0),
                ("microseconds", 1e-6),
                ("milliseconds", 1e-3),
                ("minutes", 60.0),
                ("hours", 3_600.0),
                ("weeks", 604_800.0),
            ];
            if c.spread {
                return None;
            }
            let number = |v: &Value| match project.resolver().deref(file, v).1.kind {
                Kind::Int(i) => Some(i as f64),
                Kind::Float(f) => Some(f),
                _ => None,
            };
            let mut total = 0.0;
            for (i, a) in c.args.iter().enumerate() {
                total += number(a)? * UNITS.get(i)?.1;
            }
            for (k, a) in &c.kwargs {
                let unit = UNITS.iter().find(|(n, _)| Some(*n) == k.as_deref())?.1;
                total += number(a)? * unit;
            }
            Some(total)
        }
        _ => None,
    }
}

/// "90 days", "1 day", "12 hours", "45 minutes".
pub fn human_duration(seconds: f64) -> String {
    let s = seconds.round() as i64;
    let (n, unit) = if s % 86_400 == 0 && s >= 86_400 {
        (s / 86_400, "day")
    } else if s % 3_600 == 0 && s >= 3_600 {
        (s / 3_600, "hour")
    } else if s % 60 == 0 && s >= 60 {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_names() {
        assert_eq!(words("refreshToken"), vec!["refresh", "token"]);
        assert_eq!(words("X-Auth_token"), vec!["x", "auth", "token"]);
        assert!(is_auth_cookie("session_id"));
        assert!(is_auth_cookie("refreshToken"));
        assert!(is_auth_cookie("sid"));
        assert!(!is_auth_cookie("theme"));
        assert!(!is_auth_cookie("consideration"), "words, not substrings");
        assert!(is_csrf_cookie("XSRF-TOKEN"));
    }

    #[test]
    fn durations_read_like_humans_write_them() {
        assert_eq!(human_duration(90.0 * 86_400.0), "90 days");
        assert_eq!(human_duration(7_200.0), "2 hours");
        assert_eq!(human_duration(1_800.0), "30 minutes");
        assert_eq!(human_duration(86_400.0), "1 day");
    }
}
