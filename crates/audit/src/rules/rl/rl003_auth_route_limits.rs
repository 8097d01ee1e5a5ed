//! RL003 `auth-route-without-limit`: a login, registration, password reset or
//! token endpoint without a limit of its own.

use std::collections::HashSet;

use report::Finding;

use super::route_limits::{auth_reason, default_limits, proxy_limit, HookLimits};
use crate::{
    model::{ExtKind, Provider},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "RL003",
    name: "auth-route-without-limit",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds authentication endpoints — routes taking a body (POST, PUT, PATCH)
whose path says so (`login`, `signin`/`sign-in`, `logon`, `token`,
`oauth/token`, `register`, `signup`, `password/reset`, `forgot`...), whose
view's name says so (`login`, `sign_up`, `LoginView`, `reset_password`,
`login_for_access_token`, a second-factor check: `verify_totp`,
`two_factor_token_validation`), or whose view checks a password, logs a user in or
issues a token (`check_password_hash`, `verify_password`, `bcrypt.checkpw`,
`login_user`, `create_access_token`) — that have no limit of their own. The
finding is on the view's `def` line. The login, register and password-reset
routes of fastapi-users routers (`include_router(fastapi_users.get_auth_router(
backend), prefix="/auth/jwt")`) count too; their finding is on the
`include_router` call.

A view name registers an account only when what it registers is one
(`register`, `register_user`, `register_account`): `register_plugins` or
`bulk_register_devices` registers things, not people. A path that ends with
one token by its id (`/tokens/<int:id>/`) manages that token; it does not
issue tokens.

A registration or sign-up route (`register`, `signup`, `register_user`)
that requires a signed-in user (`@login_required`, `@roles_required("admin")`,
a guard, an authenticating dependency, a Flask-Admin view's `is_accessible`;
not `optional=True`) is an administrator's or member's form, not an anonymous
endpoint, and is not reported. A password reset or recovery route that
requires an administrator (a dependency or decorator named for one,
`Depends(get_current_active_superuser)`, `@admin_required`,
`@staff_member_required`, or a role check naming one,
`@roles_required("admin")`, `@permission_required(Permission.ADMIN)`) is an
administrator's tool, not an anonymous guessing target, and is not reported
either. Login and token routes are, whatever guards them (a guard on the
login is one the login itself cannot pass), and so are password resets that
any signed-in user may call.

A limit of their own is a `@limiter.limit(...)` / `@limiter.shared_limit(...)`
decorator (flask-limiter, or slowapi on FastAPI routes), `limiter.limit(...)`
applied to the view or to its blueprint by call, a `decorators = [...]` entry
of a class-based view, a `before_request` hook of the app or blueprint that
calls the limiter (`limiter.check()`), a limiter of the project's own (a
function that counts requests per client address — also Starlette's
`request.client.host` or the limiter's `_key_func` — or per user or account
field, `request.user`, `form.email`, and answers 429, see RL001) used as a
decorator, a `before_request` hook, a FastAPI dependency of the view
(`Depends(AttemptLimiter(...))`), the `route_class` of its `APIRouter`, or
called by the view before anything can return, itself or through the project
functions it so calls (`check_rate_limit(request)` at the top of the body),
or an nginx `location` matching the path
with its own `limit_req`. The limiter's `default_limits` alone do not
count: they are sized for ordinary traffic. `@limiter.exempt` on such a route
is reported too. The route is reported even when the project has no limiter
at all (RL001 reports that once for the app): this is where it matters most.

The views an extension registers by itself are judged too: Flask-Security's
login (and registration and password reset when `SECURITY_REGISTERABLE` and
`SECURITY_RECOVERABLE` are on, under `SECURITY_URL_PREFIX`, at
`SECURITY_LOGIN_URL`...; Flask-Security-Too's two-factor code check with
`SECURITY_TWO_FACTOR`, its one-time-code sign-in with
`SECURITY_UNIFIED_SIGNIN`) and Flask-AppBuilder's `/login/` (and
`/register/form` with `AUTH_USER_REGISTRATION`), reported at the
`Security(...)` / `AppBuilder(...)` call. No decorator of the project reaches
them, so flask-limiter's `default_limits` (or `RATELIMIT_DEFAULT`) count for
them, and Flask-AppBuilder's own `AUTH_RATE_LIMITED = True` (at
`AUTH_RATE_LIMIT`) limits its login. Operations of a connexion specification
are judged like the project's routes, by their handler's decorators.

## Why is this bad?
Authentication endpoints are where guessing pays: an app-wide budget of
hundreds of requests an hour still lets one client try thousands of passwords
a day, and reset and registration endpoints without limits can flood inboxes
and create accounts in bulk.

## Example
```python
@app.post("/login")
def login():
    ...
```

Use instead:
```python
@app.post("/login")
@limiter.limit("10 per minute")
@limiter.limit("20 per hour", key_func=account_key)
def login():
    ...
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let hooks = HookLimits::of(project);
    let custom = ctx.custom_limits();
    let has_limiter = project.extensions.iter().any(|e| e.kind.limits_requests())
        || super::rl001_no_rate_limiting::appbuilder_limits(project)
        || project.routes.iter().any(|r| !r.limits.is_empty())
        || custom.in_use(project);
    let defaults = default_limits(project);
    let flask_defaults = project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::Limiter)
        .find_map(|e| e.opt("default_limits"))
        .map(|o| o.span)
        .or_else(|| {
            project
                .apps
                .iter()
                .find_map(|a| a.config.get("RATELIMIT_DEFAULT").map(|e| e.span))
        });
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for route in &project.routes {
        if project.file(route.file).is_none_or(|f| f.is_test) {
            continue;
        }
        let Some(reason) = auth_reason(project, route) else {
            continue;
        };
        let limited = !route.limits.is_empty()
            || hooks.covers(route)
            || custom.limiter_of(project, route).is_some();
        if (limited || proxy_limit(project, route).is_some()) && !route.limit_exempt {
            continue;
        }
        // An extension's own view (Flask-Security's login): no decorator of
        // the project reaches it, the limiter's default limits do.
        if route.provided_by.is_some_and(|p| p.flask_blueprint()) && flask_defaults.is_some() {
            continue;
        }
        // One finding per view; an extension's views share its call's line.
        let own_view = route
            .provided_by
            .filter(|p| *p != Provider::FastapiUsers)
            .map(|_| (route.display_path(), route.methods.clone()));
        if !seen.insert((route.def_span, own_view)) {
            continue;
        }
        let what = match route.provided_by.filter(|p| p.flask_blueprint()) {
            Some(p) => format!(
                "`{} {}` ({}'s own view)",
                route.methods.join("|"),
                route.display_path(),
                p.name()
            ),
            None => format!("`{} {}`", route.methods.join("|"), route.display_path()),
        };
        let message = if route.limit_exempt {
            format!("{what} is an authentication route ({reason}) exempt from rate limiting: passwords and codes can be guessed at full speed")
        } else if !has_limiter {
            format!("{what} is an authentication route ({reason}) with no rate limit: the project has no rate limiter")
        } else if defaults.is_some() {
            format!("{what} is an authentication route ({reason}) with only the limiter's default limits, sized for ordinary traffic")
        } else {
            format!("{what} is an authentication route ({reason}) without a limit of its own")
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, route.def_span, message)
            .with_fix(match route.provided_by.filter(|p| p.flask_blueprint()) {
                Some(p) => format!("{}'s view takes no decorator of the project: give the app's flask-limiter `default_limits` (they cover it), or limit `{}` at the proxy (nginx `limit_req`) or with flaskguard shield.", p.name(), route.display_path()),
                None => "Add a tight per-route limit keyed by client IP, and one keyed by the account (`@limiter.limit(\"10 per minute\")`, `@limiter.limit(\"20 per hour\", key_func=account_key)`).".to_string(),
            })
            .with_related(ctx.at(route.span), "route registered here");
        if let Some(d) = defaults {
            f = f.with_related(ctx.at(d), "default limits");
        }
        out.push(f);
    }
    out
}
