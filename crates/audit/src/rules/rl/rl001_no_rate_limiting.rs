//! RL001 `no-rate-limiting`: the app has no rate limiting at all.

use report::Finding;

use crate::{
    model::{ExtKind, Project},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "RL001",
    name: "no-rate-limiting",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports an app (at its `Flask(...)` / `FastAPI(...)` line) when the project
initialises no rate limiter — neither flask-limiter, slowapi nor Quart's
quart-rate-limiter, and no route takes fastapi-limiter's
`Depends(RateLimiter(...))` — no proxy in front limits requests (nginx
`limit_req`), and no limiter of the project's own is in use. Flask-AppBuilder
makes a flask-limiter `Limiter` itself: an app under it counts as limited when
its config turns on `AUTH_RATE_LIMITED` or sets `RATELIMIT_DEFAULT` /
`RATELIMIT_APPLICATION` (and `RATELIMIT_ENABLED` is not off). Apps that do
not answer requests on their own are left out, as for PRX002: one mounted
into another app, a module-level app nothing uses, a second binding of an
app's name.

A limiter of the project's own is a decorator (or decorator factory) on a
view, or a `before_request` hook, whose body keys a counter by the client —
`request.remote_addr`, `get_remote_address()`, `request.access_route`,
`X-Forwarded-For`, a `get_ip()`-style helper, or the user id — and answers 429
(`abort(429)`, `raise TooManyRequests()`, `return ..., 429`,
`resp.status_code = 429`).

## Why is this bad?
Without limits, login and token endpoints can be brute-forced, expensive
endpoints exhausted, and scrapers take everything, at the speed of the
attacker's bandwidth.

## Example
```python
app = Flask(__name__)
```

Use instead:
```python
limiter = Limiter(get_remote_address, app=app, default_limits=["200 per hour"],
                  storage_uri=os.environ["RATELIMIT_STORAGE_URI"])
```
"#;

fn has_limiter(project: &Project) -> bool {
    project.extensions.iter().any(|e| e.kind.limits_requests()) || appbuilder_limits(project)
}

/// Flask-AppBuilder makes a flask-limiter `Limiter` for the app at init: it
/// limits the login views when `AUTH_RATE_LIMITED` is on, and every request
/// under flask-limiter's own `RATELIMIT_DEFAULT` / `RATELIMIT_APPLICATION`,
/// unless `RATELIMIT_ENABLED` is off.
pub(super) fn appbuilder_limits(project: &Project) -> bool {
    let resolver = project.resolver();
    project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::LoginManager)
        .filter(|e| {
            resolver.call(e.site).is_some_and(|c| {
                resolver
                    .resolve(e.site.file, &c.call().func)
                    .external_name()
                    .is_some_and(|n| n.starts_with("flask_appbuilder."))
            })
        })
        .any(|e| {
            // `appbuilder.init_app(self.app, ...)`: an app we cannot name,
            // one of the project's.
            match e.app {
                Some(a) => project.apps.get(a).is_some_and(limited),
                None => project.apps.iter().any(limited),
            }
        })
}

fn limited(app: &crate::model::App) -> bool {
    let cfg = &app.config;
    let enabled = cfg
        .get("RATELIMIT_ENABLED")
        .is_none_or(|v| v.value.truthy() != Some(false));
    let limits = cfg
        .get("AUTH_RATE_LIMITED")
        .is_some_and(|v| v.value.truthy() != Some(false))
        || cfg.get("RATELIMIT_DEFAULT").is_some()
        || cfg.get("RATELIMIT_APPLICATION").is_some();
    enabled && limits
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    if project.apps.is_empty()
        || has_limiter(project)
        // A limit the model read on a route (fastapi-limiter's dependency).
        || project.routes.iter().any(|r| !r.limits.is_empty())
        || project.deployment.proxies.iter().any(|p| p.rate_limits)
        || ctx.custom_limits().in_use(project)
    {
        return Vec::new();
    }
    // A sub-app mounted into another is covered by (or reported with) its
    // parent; an app that serves nothing, or another binding of an app's
    // name, is not reported.
    project
        .standalone_apps()
        .map(|app| {
            ctx.finding(RULE.code, RULE.name, app.span, "the app has no rate limiting: no limiter extension (flask-limiter, slowapi, quart-rate-limiter, fastapi-limiter) and no limits at a proxy")
                .with_fix("Add flask-limiter (slowapi for FastAPI) with default limits and shared (Redis) storage, and stricter limits on login and mutation routes.")
        })
        .collect()
}
