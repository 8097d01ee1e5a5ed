//! CSR001 `csrf-unprotected`: cookie sessions with state-changing routes and no CSRF protection.

use checklist::Severity;
use report::Finding;

use crate::{
    model::{AppKind, ExtKind, Project},
    rules::{hooks::before_request_hooks, Rule, RuleContext},
    source::Span,
};

use super::{
    get_writes::{credential_in_path, exempt_by_nature, get_write},
    hook_check::checks_csrf,
};

pub const RULE: Rule = Rule {
    code: "CSR001",
    name: "csrf-unprotected",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
For a Flask app whose authentication rides on the session cookie (the code
writes who is logged in into the session: a key that names the user or the
login such as `session["user_id"]`, `uid`, `username`, `logged_in`,
`account_id`, also through `session.update(...)`; or uses Flask-Login's
`login_user`/`LoginManager`, also through Flask-Security or
Flask-AppBuilder) and that has state-changing routes
(POST, PUT, PATCH, DELETE; also those of Flask-Admin views, see `flaskguard
audit --routes`; not Flask-Security's and Flask-AppBuilder's own views, whose
forms carry a token, nor connexion operations whose specification requires
credentials of their own), reports:
- no `CSRFProtect` (Flask-WTF) or `SeaSurf`, no `FlaskForm` (nor
  Flask-Admin's `SecureForm` as a form base), and no
  hand-written check in a `before_request` hook (at the `Flask(...)` line);
- `WTF_CSRF_ENABLED = False` in the production config;
- `@csrf.exempt` on a state-changing route (not one whose path carries a
  credential of its own, `/sync/<device_token>/...` or `/hooks/<secret>`:
  a cross-site request cannot know it; nor a logout, nor an OAuth or SAML
  return the identity provider posts, `/oauth/callback`, `/saml/acs`);
- a route that answers only GET yet writes: its view (or a project function
  it calls, up to two calls deep) commits a database session or connection
  (`db.session.commit()`, `conn.commit()`), writes a MongoDB collection
  (`insert_one`, `update_many`, `delete_one`, ...), writes through peewee or
  MongoEngine (`post.save()`, `post.delete_instance()`, `Post.create(...)`,
  `Post.update(...).where(...).execute()`, `Post.objects(...).delete()`, on
  an object that comes from a model class of the project, or Flask-Login's
  `current_user` when the models are peewee's or MongoEngine's; not a form's
  or an image's `save()`), runs `INSERT`/`UPDATE`/`DELETE` SQL on a
  connection that commits by itself (inside `with engine.begin()`, or in a
  project that turns autocommit on: `sqlite3.connect(..., isolation_level=None)`,
  `autocommit=True`, `isolation_level="AUTOCOMMIT"`), or deletes a file
  (`os.remove`, `shutil.rmtree`). CSRF protection checks only unsafe methods.
  Only routes the session authenticates count (an auth decorator other than a
  token one, or a view that reads Flask's `session` or `current_user`);
  logout views and sign-in flows (OAuth callbacks; by a whole word of their
  path or view name: `logout`, `log-out`, `callback`, `login`), links that
  carry a secret in their path (`/reset/<token>`), and confirmation,
  activation and unsubscribe links (`confirm_email`, `/unsubscribe`) whose
  view reads a secret query argument (`request.args["token"]`) are left out:
  a forged request cannot know the secret. `GET /orders/<id>/confirm`
  without one is reported.
  Writes that only record that something was seen or used — every
  attribute the view (and the functions it calls) assigns is a "seen" or
  "read" flag, a last-seen/last-login timestamp or a view/hit counter
  (`is_read`, `last_seen`, `read_at`, `view_count`), no row is added or
  deleted — are bookkeeping: a view that renders a page or JSON and records
  that it was seen is not reported, and one whose purpose is the write
  (`GET /notifications/<id>/read`, then a redirect) is reported at low
  severity.

A hand-written check counts when a `before_request` hook of the app (or a
blueprint's `before_app_request` hook; a blueprint's own `before_request`
covers that blueprint's routes) refuses the request — `abort(400)`/`abort(403)`,
`raise Forbidden()`/`BadRequest()`, or a 4xx response — under a condition that
compares a value of the session or a cookie with a form field, header, JSON
body or query argument (`!=`, `==`, `hmac.compare_digest`,
`secrets.compare_digest`), or that compares the `Origin`, `Referer` or
`Sec-Fetch-Site` header with something. A hook that compares without refusing,
or refuses without comparing anything the request submits, does not count.
The check may be made in a project function the hook calls (same module or
imported, up to two calls deep): one that refuses under such a condition
itself (`check_csrf()` aborting on a mismatch), or one whose result the
hook's refusal tests (`if not csrf_ok(): abort(403)` where `csrf_ok` returns
the comparison).

## Why is this bad?
Browsers attach the session cookie to requests that other sites trigger. A
form or `fetch` on any page a logged-in user visits can then create, change or
delete data as that user. `SameSite=Lax` does not cover every case (top-level
POST within two minutes in some browsers, same-site subdomains).

## Example
```python
app = Flask(__name__)
session["user_id"] = user.id
```

Use instead:
```python
csrf = CSRFProtect(app)  # and send the token (X-CSRFToken) from the frontend
```
"#;

fn uses_flask_form(project: &Project) -> bool {
    let resolver = project.resolver();
    let with_token = |n: String| {
        matches!(
            n.as_str(),
            "flask_wtf.FlaskForm"
                | "flask_wtf.form.FlaskForm"
                | "flask_wtf.Form"
                // Flask-Admin's form base with a CSRF token, as a base
                // class or as a model view's `form_base_class`.
                | "flask_admin.form.SecureForm"
                | "flask_admin.form.base.SecureForm"
        )
    };
    project.python().any(|(file, facts)| {
        facts.classes.iter().any(|c| {
            c.bases
                .iter()
                .chain(c.attr("form_base_class").map(|a| &a.value))
                .any(|b| {
                    resolver
                        .resolve(file, b)
                        .external_name()
                        .is_some_and(with_token)
                })
        })
    })
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let login = project
        .extensions
        .iter()
        .find(|e| e.kind == ExtKind::LoginManager)
        .map(|e| e.span);
    // Only a write that records who is logged in makes the cookie an
    // authentication: a session that holds a Celery task id, a flash
    // counter or a theme carries no authority a forged request could use.
    let evidence: Option<(Span, &str)> = project
        .login_writes
        .first()
        .map(|s| (*s, "the login is written into the session cookie here"))
        .or_else(|| login.map(|s| (s, "Flask-Login keeps the login in the session cookie")));
    let Some((session_span, session_note)) = evidence else {
        return Vec::new();
    };
    let csrf_hooks: Vec<_> = before_request_hooks(project)
        .into_iter()
        .filter(|h| checks_csrf(project, h.file, h.func))
        .collect();
    let mut out = Vec::new();
    for app in project.apps.iter().filter(|a| a.kind == AppKind::Flask) {
        for r in project
            .routes
            .iter()
            .filter(|r| r.app == Some(app.id) || r.app.is_none())
        {
            let Some(w) = get_write(project, r) else {
                continue;
            };
            let finding = match &w.bookkeeping {
                None => ctx.finding(
                    RULE.code,
                    RULE.name,
                    r.def_span,
                    format!(
                        "`GET {}` {} although it answers GET: CSRF protection checks only POST, PUT, PATCH and DELETE, so a link or `<img src>` on any site triggers it with the visitor's session cookie",
                        r.display_path(),
                        w.what
                    ),
                ),
                Some(attrs) => ctx
                    .finding(
                        RULE.code,
                        RULE.name,
                        r.def_span,
                        format!(
                            "`GET {}` {} although it answers GET, only to record that something was seen or used ({}): a link or `<img src>` on any site sets it with the visitor's session cookie (low: bookkeeping, no data of consequence changes)",
                            r.display_path(),
                            w.what,
                            attrs
                                .iter()
                                .map(|a| format!("`{a}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .with_severity(Severity::Low),
            };
            out.push(
                finding
                .with_fix("Accept only POST (or DELETE) on this route and send it from a form or fetch that carries the CSRF token.")
                .with_related(ctx.at(w.span), "the write")
                .with_related(ctx.at(session_span), session_note),
            );
        }
        let mutations: Vec<_> = project
            .routes
            .iter()
            .filter(|r| r.is_mutation() && (r.app == Some(app.id) || r.app.is_none()))
            // Flask-Security's and Flask-AppBuilder's own forms carry a token.
            .filter(|r| !r.provided_by.is_some_and(|p| p.forms_carry_csrf_token()))
            // API operations that take the credentials their specification
            // declares, not the session cookie.
            .filter(|r| !crate::model::requires_spec_credentials(r))
            .collect();
        let Some(first_mutation) = mutations.first() else {
            continue;
        };
        let protected = project.extensions.iter().any(|e| {
            matches!(e.kind, ExtKind::CsrfProtect | ExtKind::SeaSurf)
                && (e.app == Some(app.id) || e.app.is_none())
        }) || uses_flask_form(project)
            || mutations
                .iter()
                .all(|r| csrf_hooks.iter().any(|h| h.covers(r)));
        if !protected {
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    app.span,
                    format!("the app keeps logins in the session cookie and has {} state-changing routes, but no CSRF protection", mutations.len()),
                )
                .with_fix("Initialise Flask-WTF's CSRFProtect (or SeaSurf) and send its token with every unsafe request.")
                .with_related(ctx.at(session_span), session_note)
                .with_related(ctx.at(first_mutation.def_span), format!("{} {} changes state", first_mutation.methods.join("/"), first_mutation.display_path())),
            );
            continue;
        }
        if let Some(e) = app
            .config
            .get("WTF_CSRF_ENABLED")
            .filter(|e| e.value.truthy() == Some(false))
        {
            out.push(
                ctx.with_production(
                    ctx.finding(
                        RULE.code,
                        RULE.name,
                        e.span,
                        "`WTF_CSRF_ENABLED = False` turns CSRF protection off in production",
                    )
                    .with_fix("Remove WTF_CSRF_ENABLED = False from the production config.")
                    .with_related(ctx.at(session_span), session_note),
                    app,
                ),
            );
        }
        for r in &mutations {
            let Some(span) = r.csrf_exempt else { continue };
            if !r.auth.is_empty()
                && r.auth
                    .iter()
                    .all(|a| a.contains("jwt") || a.contains("token"))
            {
                // Token-authenticated endpoints do not ride on the cookie.
                continue;
            }
            // The URL carries the credential (`/kobo/<auth_token>/...`,
            // `/hooks/<secret>`): a cross-site request cannot know it.
            if credential_in_path(r.display_path()) || exempt_by_nature(r) {
                continue;
            }
            out.push(
                ctx.finding(RULE.code, RULE.name, span, format!("`{} {}` is exempt from CSRF protection although it changes state and sessions ride on cookies", r.methods.join("/"), r.display_path()))
                    .with_fix("Remove @csrf.exempt, or authenticate this route with a header token instead of the session cookie.")
                    .with_related(ctx.at(session_span), session_note),
            );
        }
    }
    out
}
