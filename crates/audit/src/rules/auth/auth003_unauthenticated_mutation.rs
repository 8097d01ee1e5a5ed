//! AUTH003 `unauthenticated-mutation`: state-changing routes with no
//! authentication.

use checklist::Severity;
use report::Finding;

use crate::{
    model::{Project, Route},
    rules::{rl::route_limits::auth_reason, Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "AUTH003",
    name: "unauthenticated-mutation",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Lists POST, PUT, PATCH and DELETE routes that no authentication covers, for
review (information level; also in `flaskguard audit --routes`, AUTH column
`NONE`). A route counts as authenticated when it has:
- a decorator named for it (`login_required`, `jwt_required`,
  `roles_required`, `permission_required`, `auth.login_required`,
  `admin_required`, `token_required`...), Starlette's
  `@requires("authenticated")` (any scope), or a project decorator whose body
  refuses anonymous callers (answers 401/403, `abort(401)`, raises
  `Unauthorized`/`Forbidden`/`HTTPException(status_code=401)` or an
  exception class of the project whose body or bases say 401/403 — its own
  status when it sets one, and not a class used for 401 and other statuses
  alike (`ApiError.unauthorized()` / `ApiError.not_found()`) unless the raise
  or the constructor raised says 401/403 — calls
  `verify_jwt_in_request` or `login_manager.unauthorized()`, redirects to a
  login page, also one whose endpoint is built: `url_for(bp_name + ".login")`);
- an HTTP middleware of the app (`@app.middleware("http")`, or
  `app.add_middleware(Cls)` whose `dispatch` does it) that answers 401, or
  refuses (401/403) and is named for authentication (`AuthMiddleware`,
  `require_api_key`), added whatever the configuration: one added under an
  `if` (an opt-in setting) leaves the app open by default;
- a `before_request` (or `before_app_request`) guard of its blueprint, a parent
  blueprint or the app that does the same, in its body or by a decorator the
  hook wears below its registration (`@bp.before_request` over
  `@admin_required`);
- for a Flask-AppBuilder view or API (`appbuilder.add_view(...)`,
  `add_view_no_menu(...)`, `add_api(...)`: its `@expose` methods, and the
  CRUD views of a `ModelView` or `ModelRestApi`), `@protect()`,
  `@has_access` or `@has_access_api`;
- for a Flask-Admin view (its `@expose` methods and a model view's create,
  edit, delete and action views), an `is_accessible` (or `_handle_view`)
  override of the view class or a base class that does more than
  `return True`;
- a FastAPI dependency that authenticates (`Depends(get_current_user)`,
  `Security(...)`, a dependency function that raises 401/403, or one that
  itself depends on an authenticating dependency, as
  `get_current_superuser(user=Depends(get_current_user))` does — through
  defaults, `Annotated[User, Depends(...)]` and type aliases of it, a few
  levels deep), on the endpoint's parameters, its `dependencies=[...]`, its
  router, `include_router(..., dependencies=...)` (also on an app the model
  cannot name, one handed to a method) or the app. A project
  dependency is named for authentication by its own name, not by the package
  it sits in: `app.auth.dependencies.valid_signup` is judged by its body.

Operations of a connexion specification (`app.add_api("openapi.yaml")`) are
routes like any other: a `security` requirement of the operation, or of the
document when the operation sets none, authenticates them (not `security:
[]`, nor a list with the anonymous `{}` alternative); the finding is on the
handler `operationId` names, or on the `add_api` call. Routes declared
through a project's registration helper (`@route(bp, "/orders",
methods=["POST"])`) count with the decorators at their use and the
authentication the helper wraps around the view.

Routers made by fastapi-users (`fastapi_users.get_auth_router(backend)`,
`get_register_router`, `get_users_router`...) are listed with the routes the
library declares; its `/me` and `/{id}` routes require a user
(`current_user(active=True)`, superuser for `/{id}`).

Each method (`get`, `post`...) of a Flask-RESTful / Flask-RESTX resource is
its own view: its own decorators (`@jwt_required()` under `@ns.doc(...)`)
and the class's `decorators` / `method_decorators` (a list, or a dict by
method name) authenticate it. A view that itself answers 401/403 in a branch
(`return {...}, 401`) is not counted as authentication.

Routes that are public by design are left out: login, logout, registration,
sign-up, token and refresh endpoints, password reset, e-mail confirmation,
webhooks, OAuth callbacks and SAML assertion endpoints (by path or function
name), and views that log a user in, check a password or issue a token
whatever they are called
(`login_user`, `check_password_hash`, `create_access_token`... as RL003 reads
them: a home page that takes the login form is the login), and views that
only answer a redirect (`return redirect(url_for("api.add_user"), code=307)`,
an old URL kept for clients): they change nothing themselves.

An authentication decorator placed *above* the route decorator is reported
as **high**: `@app.route` registers the function it receives, so the check
never runs.

Routes of a blueprint (or router) that no app registers are not served and
not reported (`--routes` lists them, marked unregistered), unless the project
registers blueprints it does not name (`for bp in plugins:
app.register_blueprint(bp)`).

## Why is this bad?
Missing authentication is rarely a decision; it is a forgotten decorator on
the newest endpoint. An unauthenticated `DELETE /projects/<id>` lets anyone
on the internet change data.

## Example
```python
@app.post("/projects/<int:project_id>/archive")
def archive_project(project_id):
    ...
```

Use instead:
```python
@app.post("/projects/<int:project_id>/archive")
@login_required
def archive_project(project_id):
    ...
```
"#;

/// Words in a route's path or function that mark it public on purpose.
const PUBLIC: &[&str] = &[
    "login",
    "logout",
    "signin",
    "sign_in",
    "sign-in",
    "signup",
    "sign_up",
    "sign-up",
    "register",
    "token",
    "refresh",
    "forgot",
    "reset",
    "confirm",
    "activate",
    "verify",
    "webhook",
    "callback",
    "oauth",
    // SAML assertions the identity provider posts back (`/saml/acs`, `/saml/sso`)
    "saml",
    "authorize",
    "csrf",
    "health",
];

/// Decorator names that mean "requires authentication".
const AUTH_DECORATOR_WORDS: &[&str] = &[
    "login_required",
    "auth",
    "jwt_required",
    "token_required",
    "role",
    "permission",
    "admin_required",
];

/// Whether a route changes state, is not public by design, and nothing
/// authenticates it: what the route inventory marks `NONE`.
pub fn unauthenticated(project: &Project, route: &Route) -> bool {
    if !route.is_mutation() || !route.auth.is_empty() {
        return false;
    }
    let function = route.view_name().to_ascii_lowercase();
    let path = route.display_path().to_ascii_lowercase();
    !PUBLIC
        .iter()
        .any(|w| function.contains(w) || path.contains(w))
        // A view that logs users in or checks a password is the login,
        // whatever its name (a home page with the login form).
        && auth_reason(project, route).is_none()
        && !only_redirects(project, route)
}

/// Whether a view does nothing but answer a redirect (`return
/// redirect(url_for("api.add_user"), code=307)`, a deprecated alias of
/// another endpoint): it changes nothing itself, and the endpoint it sends
/// the caller to is judged on its own.
fn only_redirects(project: &Project, route: &Route) -> bool {
    let resolver = project.resolver();
    let Some((file, f)) = resolver.function(&route.function) else {
        return false;
    };
    let Some(facts) = resolver.facts(file) else {
        return false;
    };
    let redirect = |n: Option<&str>| matches!(n, Some("redirect" | "RedirectResponse"));
    !f.returns.is_empty()
        && f.returns
            .iter()
            .all(|v| redirect(v.as_call().and_then(|c| c.last_name())))
        && facts
            .calls
            .iter()
            .filter(|c| facts.scope_within(c.scope, f.scope))
            .all(|c| {
                let n = c.call().last_name();
                redirect(n) || n == Some("url_for")
            })
        && !facts
            .assigns
            .iter()
            .any(|a| facts.scope_within(a.scope, f.scope))
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for route in ctx
        .project
        .routes
        .iter()
        .filter(|r| unauthenticated(ctx.project, r))
    {
        let what = format!("{} {}", route.methods.join("/"), route.display_path());
        // `@login_required` above `@app.post(...)`: registered without it.
        let misplaced = route.decorators.iter().find(|d| {
            route.class.is_none() && d.span.start < route.span.start && {
                let last = d
                    .name
                    .rsplit('.')
                    .next()
                    .unwrap_or(&d.name)
                    .to_ascii_lowercase();
                AUTH_DECORATOR_WORDS.iter().any(|w| last.contains(w))
            }
        });
        let f = match misplaced {
            Some(d) => ctx
                .finding(
                    RULE.code,
                    RULE.name,
                    route.def_span,
                    format!(
                        "`{what}`: `@{}` sits above the route decorator, so the view is registered without it and anyone can call it",
                        d.name.rsplit('.').next().unwrap_or(&d.name)
                    ),
                )
                .with_severity(Severity::High)
                .with_related(ctx.at(d.span), "this check wraps the function after it was registered")
                .with_fix("Put the route decorator first (on top), then the authentication decorator."),
            None => ctx
                .finding(
                    RULE.code,
                    RULE.name,
                    route.def_span,
                    format!("`{what}` changes state and no authentication covers it (no auth decorator, before_request guard or dependency)"),
                )
                .with_fix("Add `@login_required` (or the app's auth decorator) below the route decorator, or guard the blueprint with a `before_request` check; leave it public only on purpose."),
        };
        out.push(f.with_related(ctx.at(route.span), "route registered here"));
    }
    out
}
