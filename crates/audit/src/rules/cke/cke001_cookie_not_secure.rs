//! CKE001 `cookie-not-secure`: session and login cookies sent over plain HTTP.

use report::Finding;

use super::{
    cookie_transport_flags, custom_cookie_handling, entry_value, flask_apps, is_auth_cookie,
    is_csrf_cookie, login_manager_covers, remember_me, session_evidence, set_cookies,
};
use crate::{
    model::{ConfigVia, ExtKind},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "CKE001",
    name: "cookie-not-secure",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports, for the production configuration of a Flask app:
- `SESSION_COOKIE_SECURE = False`, or unset (Flask's default is `False`) when
  the app uses the session cookie (writes `session[...]`, uses Flask-Login
  directly or through Flask-Security or Flask-AppBuilder, which log users in
  with it).
  flask-talisman sets it to `True` on every request while debug mode is off
  (its default `session_cookie_secure=True`), so an app with Talisman and
  debug off is not reported; with debug on, Talisman leaves it alone;
- `REMEMBER_COOKIE_SECURE = False`, or unset (Flask-Login's default is `False`)
  when `login_user(..., remember=...)` asks for the remember-me cookie;
- `JWT_COOKIE_SECURE = False`, or unset (flask-jwt-extended's default is
  `False`), when `JWT_TOKEN_LOCATION` puts the tokens in cookies;

and elsewhere:
- `response.set_cookie(...)` of a session or login cookie (a name such as
  `session`, `token`, `auth`, `jwt`, `refresh_token`) without `secure=True`,
  and `secure=False` on a cookie whose name is not a literal;
- Starlette's `SessionMiddleware` without `https_only=True`;
- fastapi-users' `CookieTransport(cookie_secure=False)`.

Flags passed in a `**mapping` are read when it can be: a dict literal, a
module constant bound to one (`**COOKIE_KWARGS`) or a project function
returning one (`**cookie_opts()`); a mapping that cannot be read hides the
flags, and the call is then reported only for a flag given as `False`.
Values that are not literals are not judged. A project that sets cookie
flags its own way (a response class overriding `set_cookie`, its own
`app.session_interface`) is not reported for unset settings.

## Why is this bad?
A cookie without `Secure` goes out with every plain-HTTP request to the host.
On a network they control, attackers inject a request to `http://` and read
the session cookie in clear text: one captured cookie is a logged-in session.

## Example
```python
SESSION_COOKIE_SECURE = False
resp.set_cookie("refresh_token", token, httponly=True)
```

Use instead:
```python
SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
resp.set_cookie("refresh_token", token, secure=True, httponly=True, samesite="Lax")
```
"#;

/// flask-jwt-extended's cookies: with `"cookies"` in `JWT_TOKEN_LOCATION`,
/// the access and refresh tokens travel in cookies whose `Secure` flag is
/// `JWT_COOKIE_SECURE` (default False).
fn jwt_cookies(ctx: &RuleContext, app: &crate::model::App, out: &mut Vec<Finding>) {
    let project = ctx.project;
    let cfg = &app.config;
    let Some(location) = cfg
        .get("JWT_TOKEN_LOCATION")
        .filter(|e| e.overridable.is_none())
    else {
        return;
    };
    let v = entry_value(project, location);
    let in_cookies = match v.as_str() {
        Some(s) => s == "cookies",
        None => v
            .as_seq()
            .is_some_and(|items| items.iter().any(|i| i.as_str() == Some("cookies"))),
    };
    if !in_cookies {
        return;
    }
    let (span, message) = match cfg.get("JWT_COOKIE_SECURE") {
        Some(e) => {
            let v = entry_value(project, e);
            if v.truthy() != Some(false) {
                return;
            }
            (e.span, format!("`JWT_COOKIE_SECURE` is {}: flask-jwt-extended's token cookies are also sent over plain HTTP", off_word(v)))
        }
        None if cfg.incomplete => return,
        None => (location.span, "`JWT_COOKIE_SECURE` is not set (flask-jwt-extended's default is False): with `JWT_TOKEN_LOCATION` holding \"cookies\", the token cookies are also sent over plain HTTP".to_string()),
    };
    out.push(
        ctx.with_production(
            ctx.finding(RULE.code, RULE.name, span, message)
                .with_fix("Set JWT_COOKIE_SECURE = True in the production config."),
            app,
        ),
    );
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    // With cookie flags set by the project's own code, "unset" says nothing.
    let sessions = session_evidence(project).filter(|_| !custom_cookie_handling(project));
    let remember = remember_me(project).filter(|_| !custom_cookie_handling(project));
    for app in flask_apps(project) {
        let cfg = &app.config;
        match cfg.get("SESSION_COOKIE_SECURE") {
            Some(e) if e.via != ConfigVia::Extension(ExtKind::Talisman) => {
                let v = entry_value(project, e);
                if v.truthy() == Some(false) {
                    out.push(ctx.with_production(
                        ctx.finding(RULE.code, RULE.name, e.span, format!("`SESSION_COOKIE_SECURE` is {} in production: the session cookie is also sent over plain HTTP", off_word(v)))
                            .with_fix("Set SESSION_COOKIE_SECURE = True in the production config (override it in the development config only)."),
                        app,
                    ));
                }
            }
            Some(_) => {}
            None if cfg.incomplete => {}
            None => {
                if let Some((span, note)) = sessions {
                    let talisman = project.extensions_of(app.id, ExtKind::Talisman).next();
                    let mut message = "`SESSION_COOKIE_SECURE` is not set (Flask's default is False): the session cookie is also sent over plain HTTP".to_string();
                    if talisman.is_some() {
                        message.push_str(", and Talisman only sets it while debug mode is off");
                    }
                    out.push(
                        ctx.with_production(
                            ctx.finding(RULE.code, RULE.name, app.span, message)
                                .with_fix(
                                    "Set SESSION_COOKIE_SECURE = True in the production config.",
                                )
                                .with_related(ctx.at(span), note),
                            app,
                        ),
                    );
                }
            }
        }
        jwt_cookies(ctx, app, &mut out);
        let Some(remember_at) = remember.filter(|_| login_manager_covers(project, app.id)) else {
            continue;
        };
        match cfg.get("REMEMBER_COOKIE_SECURE") {
            Some(e) => {
                let v = entry_value(project, e);
                if v.truthy() == Some(false) {
                    out.push(ctx.with_production(
                        ctx.finding(RULE.code, RULE.name, e.span, format!("`REMEMBER_COOKIE_SECURE` is {}: Flask-Login's remember-me cookie is also sent over plain HTTP", off_word(v)))
                            .with_fix("Set REMEMBER_COOKIE_SECURE = True in the production config.")
                            .with_related(ctx.at(remember_at), "the remember-me cookie is requested here"),
                        app,
                    ));
                }
            }
            None if cfg.incomplete => {}
            None => out.push(ctx.with_production(
                ctx.finding(RULE.code, RULE.name, app.span, "`REMEMBER_COOKIE_SECURE` is not set (Flask-Login's default is False): the remember-me cookie is also sent over plain HTTP")
                    .with_fix("Set REMEMBER_COOKIE_SECURE = True in the production config.")
                    .with_related(ctx.at(remember_at), "the remember-me cookie is requested here"),
                app,
            )),
        }
    }
    for ext in project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::SessionMiddleware)
    {
        let (span, message) = match ext.opt("https_only") {
            Some(o) if o.value.truthy() == Some(false) => (o.span, "`https_only=False`: Starlette's session cookie is sent without Secure"),
            Some(_) => continue,
            None if ext.opaque => continue,
            None => (ext.span, "SessionMiddleware without `https_only=True` (its default is False): the session cookie is sent without Secure"),
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, span, message)
                .with_fix("Pass https_only=True to SessionMiddleware."),
        );
    }
    for (v, span) in cookie_transport_flags(project, "cookie_secure") {
        if v.truthy() == Some(false) {
            out.push(
                ctx.finding(RULE.code, RULE.name, span, "fastapi-users' CookieTransport `cookie_secure=False`: the auth cookie is also sent over plain HTTP")
                    .with_fix("Leave cookie_secure at its default (True)."),
            );
        }
    }
    for c in set_cookies(project) {
        // A CSRF token is no login: CKE001 is about session and auth cookies.
        if c.no_secret || c.name.as_deref().is_some_and(is_csrf_cookie) {
            continue;
        }
        let secure = c.kwarg(project, "secure").map(|v| v.truthy());
        let fire = match (&c.name, secure) {
            (Some(n), None) if !c.opaque => is_auth_cookie(n),
            (Some(n), Some(Some(false))) => is_auth_cookie(n),
            (None, Some(Some(false))) => true,
            _ => false,
        };
        if !fire {
            continue;
        }
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                c.span(),
                format!(
                    "{} is set without `secure=True`: it is also sent over plain HTTP",
                    c.describe()
                ),
            )
            .with_fix("Pass secure=True (with httponly=True and samesite=\"Lax\")."),
        );
    }
    out
}

/// How an off value reads in a message: `None` as written, else False.
fn off_word(v: &crate::python::value::Value) -> &'static str {
    match v.kind {
        crate::python::value::Kind::None => "None (off)",
        _ => "False",
    }
}
