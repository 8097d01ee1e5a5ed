//! PRX002 `host-header-not-restricted`: the app answers for any Host header.

use report::Finding;

use super::versions::declared_at_least;
use crate::{
    model::{index::Target, AppKind, ExtKind, Project},
    python::{
        facts::{FunctionFact, PyFacts},
        value::{Kind, Value},
    },
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "PRX002",
    name: "host-header-not-restricted",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports an app (at its `Flask(...)` / `FastAPI(...)` line) that answers
requests for any `Host`:
- a Flask app with no `TRUSTED_HOSTS`, no `SERVER_NAME`, no `before_request`
  hook that checks `request.host`, and not `host_matching=True`;
- a Flask app with only `SERVER_NAME` when the project declares Flask 3.1 or
  later: since 3.1, `SERVER_NAME` no longer rejects other hosts (Flask binds
  the URL map without checking the host; read from its `create_url_adapter`),
  it only fixes the name used to build URLs. Before 3.1 a request for another
  host got a 404, so `SERVER_NAME` counts as a restriction there, and when the
  version is not known;
- `TRUSTED_HOSTS` when the project declares a Flask older than 3.1, which
  ignores that key (reported at the setting);
- a FastAPI app without Starlette's `TrustedHostMiddleware` (or a middleware
  of the project's own named for hosts, such as `HostValidationMiddleware`), or
  with `allowed_hosts=["*"]`.

An app mounted into another app of the project (`parent.mount("/sub",
sub_app)`, also through `WSGIMiddleware`) is served through the parent's
middleware: it is judged with the parent, not reported itself (nor by
HDR001, HDR008, RL001). Nor are, by these rules, a module-level app that
nothing uses beside an app that serves routes (no route, blueprint,
extension or config of its own, no code that touches it, no module that
imports it: a leftover `app = Flask(__name__)` in a helper module), and a
second binding of an app's module-level name (`if debug: app =
FastAPI(debug=True)` / `else: app = FastAPI()`), which is the same app made
another way.

An nginx conf in the repository with a catch-all `default_server` that
refuses unknown names (`return 444`) counts as a restriction. Configuration
that cannot be read statically keeps the rule silent.

## Why is this bad?
Flask builds absolute URLs (`url_for(..., _external=True)`, redirects,
`request.host_url`) from the `Host` header, which the client chooses. A
password-reset request sent with `Host: evil.example` mails the victim a real
token inside a link to the attacker's host; shared caches can be poisoned the
same way.

## Example
```python
app = Flask(__name__)
```

Use instead:
```python
app.config["TRUSTED_HOSTS"] = ["api.example.com"]  # Flask 3.1+: 400 for other hosts
app.config["SERVER_NAME"] = "api.example.com"      # links always use this name
```
"#;

/// Flask 3.1 added TRUSTED_HOSTS and stopped SERVER_NAME from rejecting hosts.
const FLASK_3_1: [u64; 2] = [3, 1];

/// A value that reads the request's host.
fn mentions_host(v: &Value) -> bool {
    let mut found = false;
    v.walk(&mut |x| {
        if found {
            return;
        }
        match &x.kind {
            Kind::Ref(r) => {
                if let Some(q) = r.qualified() {
                    found = ["flask.request.host", "quart.request.host"]
                        .iter()
                        .any(|p| q.starts_with(p));
                }
            }
            // request.headers.get("Host") / request.headers["Host"]
            Kind::Call(c) => {
                found = c
                    .func_name()
                    .is_some_and(|q| q.ends_with("request.headers.get"))
                    && c.arg(0)
                        .and_then(Value::as_str)
                        .is_some_and(|h| h.eq_ignore_ascii_case("host"));
            }
            Kind::Subscript(base, key) => {
                found = base
                    .qualified()
                    .is_some_and(|q| q.ends_with("request.headers"))
                    && key.as_str().is_some_and(|h| h.eq_ignore_ascii_case("host"));
            }
            _ => {}
        }
    });
    found
}

/// Whether a function's statements read the request's host (in a call, an
/// assignment, a raise, a return, or the `if` around them).
fn reads_host(facts: &PyFacts, func: &FunctionFact) -> bool {
    let inside = |scope| {
        facts
            .function_of(scope)
            .is_some_and(|f| f.scope == func.scope)
    };
    let guarded = |guard| {
        facts
            .guards_of(guard)
            .iter()
            .any(|g| mentions_host(&g.test))
    };
    facts
        .calls
        .iter()
        .filter(|c| inside(c.scope))
        .any(|c| mentions_host(&c.value) || guarded(c.guard))
        || facts
            .assigns
            .iter()
            .filter(|a| inside(a.scope))
            .any(|a| mentions_host(&a.value) || guarded(a.guard))
        || facts
            .raises
            .iter()
            .filter(|r| inside(r.scope))
            .any(|r| r.value.as_ref().is_some_and(mentions_host) || guarded(r.guard))
        || func.returns.iter().any(mentions_host)
}

/// A `before_request` hook (decorated, or registered by call) that checks the host.
fn host_check_hook(project: &Project) -> bool {
    let resolver = project.resolver();
    let registered: Vec<String> = project
        .calls_named(&["before_request", "before_app_request"])
        .into_iter()
        .filter_map(
            |(file, _, c)| match resolver.resolve(file, c.call().arg(0)?).target {
                Target::Function(f) => Some(f),
                _ => None,
            },
        )
        .collect();
    project.python().any(|(_, facts)| {
        facts.functions.iter().any(|f| {
            let hook = registered.iter().any(|r| *r == f.qualified)
                || f.decorators.iter().any(|d| {
                    let callee = d.as_call().map_or(d, |c| &c.func);
                    callee.reference().is_some_and(|r| {
                        !r.attrs.is_empty()
                            && matches!(r.last_name(), "before_request" | "before_app_request")
                    })
                });
            hook && reads_host(facts, f)
        })
    })
}

/// A middleware of the project's own that checks hosts, by its name
/// (`app.add_middleware(HostValidationMiddleware, ...)`), added to `app` or to
/// an app we cannot resolve.
fn host_middleware(project: &Project, app: crate::model::AppId) -> bool {
    project
        .calls_named(&["add_middleware"])
        .into_iter()
        .any(|(file, _, c)| {
            let call = c.call();
            let named_for_hosts = call.arg(0).and_then(Value::reference).is_some_and(|r| {
                r.last_name() != "TrustedHostMiddleware"
                    && r.last_name().to_ascii_lowercase().contains("host")
            });
            named_for_hosts
                && call
                    .receiver()
                    .is_none_or(|recv| project.app_of(file, &recv, false).is_none_or(|a| a == app))
        })
}

/// `Flask(__name__, host_matching=True, static_host=...)`: routes match by host.
fn host_matching(project: &Project, site: crate::python::value::Site) -> bool {
    project
        .resolver()
        .call(site)
        .and_then(|c| c.call().kwarg("host_matching"))
        .and_then(Value::truthy)
        == Some(true)
}

fn is_set(v: &Value) -> bool {
    !matches!(v.kind, Kind::None)
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    if project
        .deploy
        .nginx
        .iter()
        .any(|n| n.rejects_unknown_hosts.is_some())
    {
        return Vec::new();
    }
    let flask_3_1 = declared_at_least(project, "flask", &FLASK_3_1);
    let hook = host_check_hook(project);
    let mut out = Vec::new();
    // A sub-app mounted into another is covered by (or reported with) its
    // parent; an app that serves nothing, or another binding of an app's
    // name, is not reported.
    for app in project.standalone_apps() {
        if app.kind == AppKind::FastApi {
            let trusted: Vec<_> = project
                .extensions_of(app.id, ExtKind::TrustedHost)
                .collect();
            if trusted.is_empty() && !host_middleware(project, app.id) {
                out.push(
                    ctx.finding(RULE.code, RULE.name, app.span, "the app answers requests for any Host header: no TrustedHostMiddleware")
                        .with_fix("app.add_middleware(TrustedHostMiddleware, allowed_hosts=[\"api.example.com\"])"),
                );
            }
            for t in trusted {
                let Some(o) = t.opt("allowed_hosts") else {
                    continue; // Starlette's default is ["*"], but say so only when written
                };
                let hosts = project.resolver().deref(o.file, &o.value).1;
                if hosts
                    .as_seq()
                    .is_some_and(|h| h.iter().any(|x| x.as_str() == Some("*")))
                {
                    out.push(
                        ctx.finding(RULE.code, RULE.name, o.span, "TrustedHostMiddleware with `allowed_hosts=[\"*\"]` accepts every Host header")
                            .with_fix("List the host names the app serves."),
                    );
                }
            }
            continue;
        }
        let cfg = &app.config;
        if cfg.incomplete || hook || host_matching(project, app.site) {
            continue;
        }
        let trusted = cfg.get("TRUSTED_HOSTS").filter(|e| is_set(&e.value));
        let server_name = cfg.get("SERVER_NAME").filter(|e| is_set(&e.value));
        match (trusted, server_name, flask_3_1) {
            (Some(t), None, Some(false)) => out.push(ctx.with_production(
                ctx.finding(RULE.code, RULE.name, t.span, "`TRUSTED_HOSTS` is ignored by the Flask version the project declares (it was added in Flask 3.1): requests for any Host are answered")
                    .with_fix("Upgrade to Flask 3.1 or later, or check request.host in a before_request hook (or set SERVER_NAME, which rejects other hosts before 3.1)."),
                app,
            )),
            (None, Some(s), Some(true)) => out.push(ctx.with_production(
                ctx.finding(RULE.code, RULE.name, app.span, "only `SERVER_NAME` is set, and since Flask 3.1 it no longer rejects requests for other hosts: no `TRUSTED_HOSTS`")
                    .with_fix("Add TRUSTED_HOSTS = [\"api.example.com\"] (requests for other hosts get 400).")
                    .with_related(ctx.at(s.span), "SERVER_NAME only fixes the name used for URLs"),
                app,
            )),
            (None, None, _) => out.push(
                ctx.finding(RULE.code, RULE.name, app.span, "the app answers requests for any Host header: no TRUSTED_HOSTS, no SERVER_NAME, no host check")
                    .with_fix("Set TRUSTED_HOSTS (Flask 3.1+) to the names the app serves, or check request.host in a before_request hook; build e-mail links from a configured base URL."),
            ),
            _ => {}
        }
    }
    out
}
