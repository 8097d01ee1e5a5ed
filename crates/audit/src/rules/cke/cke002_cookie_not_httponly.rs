//! CKE002 `cookie-not-httponly`: session and login cookies readable by scripts.

use report::Finding;

use super::{
    cookie_transport_flags, entry_value, flask_apps, is_auth_cookie, is_csrf_cookie,
    login_manager_covers, set_cookies,
};
use crate::{
    model::{ConfigVia, ExtKind},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "CKE002",
    name: "cookie-not-httponly",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports `SESSION_COOKIE_HTTPONLY = False` in the production config of a Flask
app (Flask's default is `True`), `REMEMBER_COOKIE_HTTPONLY = False` with
Flask-Login, and `response.set_cookie(...)` of a session or login cookie (a
name such as `session`, `token`, `auth`, `jwt`) without `httponly=True`, and
fastapi-users' `CookieTransport(cookie_httponly=False)`.
CSRF cookies (`csrf`, `xsrf` in the name) are meant to be read by scripts and
are not reported.

flask-talisman sets `SESSION_COOKIE_HTTPONLY = True` when it is initialised
(overriding the config), unless it is given `session_cookie_http_only=False`;
with Talisman's default, a `False` in the config is dead and not reported.

## Why is this bad?
Any script running in the page can read a cookie without `HttpOnly`, so one
cross-site scripting bug hands the session to the attacker, who can use it
from anywhere, long after the victim closed the page.

## Example
```python
SESSION_COOKIE_HTTPONLY = False
```

Use instead:
```python
SESSION_COOKIE_HTTPONLY = True  # Flask's default; read the session through an API instead
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for app in flask_apps(project) {
        let mut keys = vec!["SESSION_COOKIE_HTTPONLY"];
        if login_manager_covers(project, app.id) {
            keys.push("REMEMBER_COOKIE_HTTPONLY");
        }
        for key in keys {
            let Some(e) = app.config.get(key) else {
                continue;
            };
            if e.via == ConfigVia::Extension(ExtKind::Talisman)
                || entry_value(project, e).truthy() != Some(false)
            {
                continue;
            }
            out.push(ctx.with_production(
                ctx.finding(RULE.code, RULE.name, e.span, format!("`{key}` is False in production: scripts in the page can read the cookie, so any XSS steals the session"))
                    .with_fix(format!("Remove {key} = False (True is the default).")),
                app,
            ));
        }
    }
    for (v, span) in cookie_transport_flags(project, "cookie_httponly") {
        if v.truthy() == Some(false) {
            out.push(
                ctx.finding(RULE.code, RULE.name, span, "fastapi-users' CookieTransport `cookie_httponly=False`: scripts in the page can read the auth cookie")
                    .with_fix("Leave cookie_httponly at its default (True)."),
            );
        }
    }
    for c in set_cookies(project) {
        if c.no_secret {
            continue;
        }
        let Some(name) = &c.name else { continue };
        if !is_auth_cookie(name) || is_csrf_cookie(name) {
            continue;
        }
        let fire = match c.kwarg(project, "httponly").map(|v| v.truthy()) {
            None => !c.opaque,
            Some(t) => t == Some(false),
        };
        if fire {
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    c.span(),
                    format!(
                        "{} is set without `httponly=True`: scripts in the page can read it",
                        c.describe()
                    ),
                )
                .with_fix("Pass httponly=True."),
            );
        }
    }
    out
}
