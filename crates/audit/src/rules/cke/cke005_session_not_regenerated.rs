//! CKE005 `session-not-cleared-on-login`: a login view that writes the session
//! without clearing it first.

use report::Finding;

use super::words;
use crate::{
    model::{Project, Route},
    python::facts::{FunctionFact, PyFacts},
    rules::{Rule, RuleContext},
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "CKE005",
    name: "session-not-cleared-on-login",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds login views and reports the first session write in them (`session[...] =
...`, `session.update(...)`, Flask-Login's `login_user(...)`) when the view
does not call `session.clear()` (or Flask-Session's
`session_interface.regenerate(session)`) before it.

A route is a login view when its view checks a password
(`check_password_hash`, `verify_password`, `checkpw`, `user.check_password`...)
or calls `login_user`, or when its path or function name says login (`login`,
`signin`, `sign-in`, `authenticate`; not `logout`) and it accepts POST.

Flask-Login's `login_user` does not start a new session: it adds `_user_id`,
`_fresh` and `_id` to the session the browser already had, so it counts as a
write, not as a regeneration.

## Why is this bad?
Whatever was in the session before the login survives into the authenticated
session: a CSRF token or `next` URL an attacker planted, a previous user's
leftovers on a shared computer, and with server-side sessions the session id
itself (session fixation: the attacker who planted the id is now logged in as
the victim).

## Example
```python
@app.post("/login")
def login():
    user = authenticate(request.form["email"], request.form["password"])
    session["user_id"] = user.id
```

Use instead:
```python
@app.post("/login")
def login():
    user = authenticate(request.form["email"], request.form["password"])
    session.clear()
    session["user_id"] = user.id
```
"#;

/// Calls (by last name) that check a password.
const PASSWORD_CHECKS: &[&str] = &[
    "check_password_hash",
    "check_password",
    "verify_password",
    "checkpw",
    "verify_and_update",
    "authenticate",
];

/// Words in a path or function name that mark a login view.
const LOGIN_WORDS: &[&str] = &["login", "signin", "authenticate"];
const LOGOUT_WORDS: &[&str] = &["logout", "signout"];

fn name_says_login(route: &Route, func: &FunctionFact) -> bool {
    let text = format!("{} {}", route.display_path(), func.name).to_ascii_lowercase();
    let joined = text.replace(['-', '_'], "");
    LOGIN_WORDS.iter().any(|w| joined.contains(w))
        && !LOGOUT_WORDS.iter().any(|w| joined.contains(w))
}

/// The view's own calls (not those of nested functions).
fn own_calls<'a>(
    facts: &'a PyFacts,
    func: &'a FunctionFact,
) -> impl Iterator<Item = &'a crate::python::facts::CallFact> {
    facts.calls.iter().filter(move |c| {
        facts
            .function_of(c.scope)
            .is_some_and(|f| f.scope == func.scope)
    })
}

fn calls_named(facts: &PyFacts, func: &FunctionFact, names: &[&str]) -> bool {
    own_calls(facts, func).any(|c| c.call().last_name().is_some_and(|n| names.contains(&n)))
}

/// The earliest offset at which the view no_secret or regenerates the session.
fn clears_at(project: &Project, file: FileId, facts: &PyFacts, func: &FunctionFact) -> Option<u32> {
    own_calls(facts, func)
        .filter(|c| {
            let call = c.call();
            match call.last_name() {
                Some("regenerate") => true,
                Some("clear") => project
                    .resolver()
                    .resolve(file, &call.func)
                    .external_name()
                    .is_some_and(|n| {
                        matches!(
                            n.as_str(),
                            "flask.session.clear"
                                | "flask.globals.session.clear"
                                | "quart.session.clear"
                        )
                    }),
                _ => false,
            }
        })
        .map(|c| u32::from(c.range().start()))
        .min()
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for route in &project.routes {
        let Some((file, func)) = project.resolver().function(&route.function) else {
            continue;
        };
        let Some(facts) = project.py.get(file as usize).and_then(Option::as_ref) else {
            continue;
        };
        let login_user = calls_named(facts, func, &["login_user"]);
        let checks_password = calls_named(facts, func, PASSWORD_CHECKS);
        let is_login = login_user
            || checks_password
            || (name_says_login(route, func) && route.methods.iter().any(|m| m == "POST"));
        if !is_login
            || words(&func.name)
                .iter()
                .any(|w| LOGOUT_WORDS.contains(&w.as_str()))
        {
            continue;
        }
        let Some(first) = project
            .session_writes
            .iter()
            .filter(|s| s.file == file && func.range.contains_range(s.range()))
            .min()
        else {
            continue;
        };
        if !seen.insert(*first) {
            continue; // one view under several routes
        }
        if clears_at(project, file, facts, func).is_some_and(|at| at < first.start) {
            continue;
        }
        let what = if ctx.snippet(*first).contains("login_user") {
            "login_user() adds the login to the session the browser already had"
        } else {
            "the login view writes the session without clearing it first"
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, *first, format!("{what}: whatever was in it before the login (a planted CSRF token, a `next` URL, another user's leftovers) survives into the authenticated session"))
                .with_fix("Call session.clear() after checking the credentials and before writing the login into the session (with Flask-Session, also regenerate the session id).")
                .with_related(ctx.at(Span::new(file, func.name_range)), format!("login view `{}`", route.display_path())),
        );
    }
    out
}
