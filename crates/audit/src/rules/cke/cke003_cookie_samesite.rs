//! CKE003 `cookie-samesite-missing`: the session cookie without `SameSite=Lax`
//! or `Strict`.

use report::Finding;

use super::{
    cookie_transport_flags, custom_cookie_handling, entry_value, flask_apps, is_auth_cookie,
    login_manager_covers, session_evidence, set_cookies,
};
use crate::{
    model::{ConfigVia, ExtKind},
    python::value::{Kind, Value},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "CKE003",
    name: "cookie-samesite-missing",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports, for the production configuration of a Flask app:
- `SESSION_COOKIE_SAMESITE` set to `None` or `"None"`, or unset (Flask's
  default, no attribute) when the app uses the session cookie. flask-talisman
  writes `SESSION_COOKIE_SAMESITE` when it is initialised, from its
  `session_cookie_samesite` option (default `"Lax"`), overriding the config:
  with Talisman the finding is on that option;
- `REMEMBER_COOKIE_SAMESITE` set to `None` or `"None"` with Flask-Login;

and `set_cookie` of a session or login cookie with `samesite=None` or
`"None"`, Starlette's `SessionMiddleware(same_site="none")`, and
fastapi-users' `CookieTransport(cookie_samesite="none")`. A project
that sets cookie flags its own way (a response class overriding `set_cookie`,
its own `app.session_interface`) is not reported for the unset setting.

## Why is this bad?
A cookie without `SameSite` (or with `SameSite=None`) goes along with requests
that other sites trigger: forms posted from any page, embedded images and
frames. That is what cross-site request forgery needs. Browsers differ in what
they assume when the attribute is missing.

## Example
```python
Talisman(app, session_cookie_samesite=None)
```

Use instead:
```python
Talisman(app)  # session_cookie_samesite="Lax"
```
"#;

/// Whether a SameSite value sends the cookie cross-site.
fn is_none(v: &Value) -> bool {
    match &v.kind {
        Kind::None => true,
        Kind::Str(s) => s.eq_ignore_ascii_case("none"),
        _ => false,
    }
}

const FIX: &str = "Use SameSite=Lax (or Strict): SESSION_COOKIE_SAMESITE = \"Lax\", or Talisman's default session_cookie_samesite.";

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    // With cookie flags set by the project's own code, "unset" says nothing.
    let sessions = session_evidence(project).filter(|_| !custom_cookie_handling(project));
    for app in flask_apps(project) {
        match app.config.get("SESSION_COOKIE_SAMESITE") {
            Some(e) => {
                if !is_none(entry_value(project, e)) {
                    // Lax, Strict, or not known.
                } else if e.via == ConfigVia::Extension(ExtKind::Talisman) {
                    let span = project
                        .extensions_of(app.id, ExtKind::Talisman)
                        .filter_map(|t| t.opt("session_cookie_samesite"))
                        .last()
                        .map_or(e.span, |o| o.span);
                    out.push(
                        ctx.finding(RULE.code, RULE.name, span, "Talisman sets `SESSION_COOKIE_SAMESITE` to None: the session cookie goes along with requests other sites trigger")
                            .with_fix("Remove session_cookie_samesite=None (Talisman's default is \"Lax\")."),
                    );
                } else {
                    out.push(ctx.with_production(
                        ctx.finding(RULE.code, RULE.name, e.span, "`SESSION_COOKIE_SAMESITE` is None: the session cookie goes along with requests other sites trigger")
                            .with_fix(FIX),
                        app,
                    ));
                }
            }
            None if app.config.incomplete => {}
            None => {
                if let Some((span, note)) = sessions {
                    out.push(ctx.with_production(
                        ctx.finding(RULE.code, RULE.name, app.span, "`SESSION_COOKIE_SAMESITE` is not set (Flask sends no SameSite attribute): the session cookie may go along with requests other sites trigger")
                            .with_fix(FIX)
                            .with_related(ctx.at(span), note),
                        app,
                    ));
                }
            }
        }
        if login_manager_covers(project, app.id) {
            if let Some(e) = app.config.get("REMEMBER_COOKIE_SAMESITE") {
                if is_none(entry_value(project, e)) {
                    out.push(ctx.with_production(
                        ctx.finding(RULE.code, RULE.name, e.span, "`REMEMBER_COOKIE_SAMESITE` is None: the remember-me cookie goes along with cross-site requests")
                            .with_fix("Set REMEMBER_COOKIE_SAMESITE = \"Lax\"."),
                        app,
                    ));
                }
            }
        }
    }
    for ext in project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::SessionMiddleware)
    {
        if let Some(o) = ext.opt("same_site") {
            if is_none(project.resolver().deref(o.file, &o.value).1) {
                out.push(
                    ctx.finding(RULE.code, RULE.name, o.span, "SessionMiddleware `same_site=\"none\"`: the session cookie goes along with cross-site requests")
                        .with_fix("Use same_site=\"lax\" (the default) or \"strict\"."),
                );
            }
        }
    }
    for (v, span) in cookie_transport_flags(project, "cookie_samesite") {
        if is_none(v) {
            out.push(
                ctx.finding(RULE.code, RULE.name, span, "fastapi-users' CookieTransport `cookie_samesite=\"none\"`: the auth cookie goes along with cross-site requests")
                    .with_fix("Leave cookie_samesite at its default (\"lax\"), or \"strict\"."),
            );
        }
    }
    for c in set_cookies(project) {
        if c.no_secret || !c.name.as_deref().is_some_and(is_auth_cookie) {
            continue;
        }
        if c.kwarg(project, "samesite").is_some_and(is_none) {
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    c.span(),
                    format!(
                        "{} is set with `samesite=None`: it goes along with cross-site requests",
                        c.describe()
                    ),
                )
                .with_fix("Pass samesite=\"Lax\" (or \"Strict\")."),
            );
        }
    }
    out
}
