//! CKE006 `session-lifetime-too-long`: sessions and remember-me cookies that
//! stay valid for weeks.

use report::Finding;

use super::{
    duration_seconds, flask_apps, human_duration, login_manager_covers, remember_me,
    session_evidence,
};
use crate::{
    model::ExtKind,
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "CKE006",
    name: "session-lifetime-too-long",
    doc: DOC,
    check,
};

/// The longest a session may stay valid: one day.
const MAX_SESSION: f64 = 86_400.0;
/// The longest a remember-me cookie may stay valid: 30 days.
const MAX_REMEMBER: f64 = 30.0 * 86_400.0;

const DOC: &str = r#"## What it does
For a Flask app that uses the session cookie (writes `session[...]`, uses
Flask-Login), reports in the production config:
- `PERMANENT_SESSION_LIFETIME` (or `app.permanent_session_lifetime`) longer
  than one day, or unset: Flask's default is 31 days. Flask checks the
  cookie's signature against this age even for sessions that are not marked
  permanent, so it bounds how long a stolen cookie works;
- `REMEMBER_COOKIE_DURATION` longer than 30 days, or unset (Flask-Login's
  default is 365 days), when `login_user(..., remember=...)` asks for the
  remember-me cookie.

Also Starlette's `SessionMiddleware` with `max_age` over one day, left at its
default (14 days), or `None` (the signature then never expires).

The thresholds are fixed: one day for a session is the loose end of what
OWASP suggests for absolute timeouts, and a remember-me cookie exists to
outlive the browser session but should not outlive a month. Durations are read
from seconds or `timedelta(...)` literals; other values are not judged.

## Why is this bad?
A session cookie stays usable for its whole lifetime, wherever it ends up:
copied from a shared computer, a proxy log, a backup of a browser profile.
A shorter lifetime bounds the damage; users who need longer logins get them
from the remember-me cookie, which can be revoked.

## Example
```python
PERMANENT_SESSION_LIFETIME = timedelta(days=90)
```

Use instead:
```python
PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let sessions = session_evidence(project);
    let remember = remember_me(project);
    for app in flask_apps(project) {
        let Some((session_at, note)) = sessions else {
            break;
        };
        let mut checks = vec![(
            "PERMANENT_SESSION_LIFETIME",
            MAX_SESSION,
            31.0 * 86_400.0,
            "Flask's",
            "the session cookie",
            session_at,
            note,
        )];
        if let Some(r) = remember.filter(|_| login_manager_covers(project, app.id)) {
            checks.push((
                "REMEMBER_COOKIE_DURATION",
                MAX_REMEMBER,
                365.0 * 86_400.0,
                "Flask-Login's",
                "the remember-me cookie",
                r,
                "the remember-me cookie is requested here",
            ));
        }
        for (key, max, default, lib, what, evidence, evidence_note) in checks {
            let (span, seconds, message) = match app.config.get(key) {
                Some(e) => {
                    let Some(s) = duration_seconds(project, e.file, &e.value) else {
                        continue;
                    };
                    (
                        e.span,
                        s,
                        format!(
                            "`{key}` is {}: {what} stays valid longer than {}",
                            human_duration(s),
                            human_duration(max)
                        ),
                    )
                }
                None if app.config.incomplete => continue,
                None => (
                    app.span,
                    default,
                    format!(
                        "`{key}` is not set: {lib} default keeps {what} valid for {}",
                        human_duration(default)
                    ),
                ),
            };
            if seconds <= max {
                continue;
            }
            out.push(
                ctx.with_production(
                    ctx.finding(RULE.code, RULE.name, span, message)
                        .with_fix(format!(
                            "Set {key} to {} or less (e.g. timedelta(hours=8)).",
                            human_duration(max)
                        ))
                        .with_related(ctx.at(evidence), evidence_note),
                    app,
                ),
            );
        }
    }
    for ext in project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::SessionMiddleware)
    {
        let (span, message) = match ext.opt("max_age") {
            Some(o) => {
                let (_, v) = project.resolver().deref(o.file, &o.value);
                if matches!(v.kind, crate::python::value::Kind::None) {
                    (o.span, "SessionMiddleware `max_age=None`: the session cookie's signature never expires".to_string())
                } else {
                    match duration_seconds(project, o.file, &o.value) {
                        Some(s) if s > MAX_SESSION => (
                            o.span,
                            format!("SessionMiddleware `max_age` is {}: the session cookie stays valid longer than a day", human_duration(s)),
                        ),
                        _ => continue,
                    }
                }
            }
            None if ext.opaque => continue,
            None => (ext.span, "SessionMiddleware without `max_age`: its default keeps the session cookie valid for 14 days".to_string()),
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, span, message)
                .with_fix("Pass max_age=8 * 3600 (or less) to SessionMiddleware."),
        );
    }
    out
}
