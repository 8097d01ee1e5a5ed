//! INJ005 `open-redirect`: redirects to a URL taken from the request.

use report::Finding;

use super::sql::{pieces, Piece};
use crate::{
    model::{flow::request_origin, Project},
    python::{
        facts::{PyFacts, ScopeId},
        taint::{is_sanitizer_name, Sink},
        value::{CmpOp, Kind, Value},
    },
    rules::{
        request_data::{callee, origin_words, with_origin},
        Rule, RuleContext,
    },
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "INJ005",
    name: "open-redirect",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds `redirect(...)` (Flask, Werkzeug, Quart) and `RedirectResponse(...)`
(FastAPI, Starlette) whose target is request data (`request.args["next"]`,
`request.form`, `request.values`, JSON, cookies, route variables), with no
validation in the view.

These count as validation and keep the rule silent: passing the target through
`url_for`, or through a helper named for checking it (`safe_next`,
`is_safe_url`, `url_has_allowed_host_and_scheme`, `validate_redirect`);
parsing it in the view (`urlparse(next).netloc`, `urlsplit`, Werkzeug's
`url_parse`); comparing it with an allow-list (`if next in ALLOWED:`);
`startswith` with a full origin or a `//` check. A target whose start pins the host (`"/orders/" + id`,
`f"https://app.example.com/{path}"`, `url_for(...) + "?" + query`, Starlette's
`str(request.url_for("login")) + "?" + query` and `app.url_path_for(...)`) is silent, and so are `request.referrer` (also read as
`request.headers.get("Referer")`) and the request's own URL.
`startswith("/")` alone is not validation: `//evil.example` passes it.

## Why is this bad?
An open redirect lends your domain to phishing: a link to
`https://app.example.com/login?next=https://evil.example/login` looks
legitimate, and after a real login the victim lands on a copy of your login
page. In OAuth flows it can leak codes and tokens.

## Example
```python
return redirect(request.args.get("next", "/"))
```

Use instead:
```python
def safe_next(target, default="/"):
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target.replace("\\", "/"))
    return default if parts.scheme or parts.netloc else target

return redirect(safe_next(request.args.get("next")))
```
"#;

const REDIRECTS: &[&str] = &[
    "flask.redirect",
    "flask.helpers.redirect",
    "werkzeug.utils.redirect",
    "werkzeug.redirect",
    "quart.redirect",
    "quart.helpers.redirect",
    "fastapi.responses.RedirectResponse",
    "starlette.responses.RedirectResponse",
];

/// Calls that check a URL when request data goes in.
const CHECKS: &[&str] = &[
    "urlparse",
    "urlsplit",
    "url_parse",
    "urlparse_",
    "url_has_allowed_host_and_scheme",
    "is_safe_url",
];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for (file, facts, call) in project.calls_named(&["redirect", "RedirectResponse"]) {
        if !callee(project, file, call).is_some_and(|n| REDIRECTS.contains(&n.as_str())) {
            continue;
        }
        let c = call.call();
        let Some(target) = c.param(0, "location").or_else(|| c.kwarg("url")) else {
            continue;
        };
        let Some(origin) = request_origin(project, file, target, Sink::Redirect) else {
            continue;
        };
        if host_pinned(target) || same_site(target, 0) {
            continue;
        }
        let check = validation(project, file, facts, call.scope);
        if check == Validation::Checked {
            continue;
        }
        let span = Span::new(file, call.range());
        let mut message = format!(
            "redirect to a URL taken from {} with no check that it stays on this site",
            origin_words(ctx, origin)
        );
        if check == Validation::SlashOnly {
            message.push_str(" (`startswith(\"/\")` alone accepts `//evil.example`)");
        }
        let f = ctx
            .finding(RULE.code, RULE.name, span, message)
            .with_evidence(ctx.snippet(span))
            .with_fix("Accept only same-site paths: reject targets with a scheme or host (`urlsplit(t).scheme or urlsplit(t).netloc`), `//` or a backslash, and fall back to a default; or pass an endpoint name and use `url_for`.");
        out.push(with_origin(ctx, f, origin));
    }
    out
}

/// Whether the target's literal start fixes the host: a path with at least one
/// character after the leading slash, or an absolute URL with its host.
fn host_pinned(target: &Value) -> bool {
    let Some(parts) = pieces(target) else {
        return false;
    };
    let prefix = match parts.first() {
        Some(Piece::Lit(prefix)) => prefix,
        // `f"{url_for('dashboard')}?{request.query_string}"`
        Some(Piece::Val { value, .. }) if same_site(value, 0) => return true,
        // `f"{request.script_root}/app/{lang}/"`: the prefix the app is
        // mounted under (the server's `SCRIPT_NAME`), then a literal path.
        Some(Piece::Val { value, .. }) if is_script_root(value) => match parts.get(1) {
            Some(Piece::Lit(prefix)) => prefix,
            _ => return false,
        },
        _ => return false,
    };
    if let Some(rest) = prefix
        .strip_prefix("https://")
        .or_else(|| prefix.strip_prefix("http://"))
    {
        return rest.contains('/');
    }
    let mut chars = prefix.chars();
    chars.next() == Some('/') && chars.next().is_some_and(|c| c != '/' && c != '\\')
}

/// A URL this site builds for one of its own endpoints: `url_for(...)`
/// (request data in its arguments only fills in the path and query string),
/// or a choice between such URLs.
fn same_site(v: &Value, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match &v.kind {
        // `str(request.url_for("login"))`: Starlette's URL object as text.
        Kind::Call(c) if c.func_name().as_deref() == Some("str") && c.args.len() == 1 => {
            same_site(&c.args[0], depth + 1)
        }
        Kind::Call(c) => match c.callee_name() {
            // Flask's `url_for`, Starlette's `request.url_for(name)` (a URL
            // on the host the request came to).
            Some("url_for") => c.func_name().is_none_or(|n| {
                matches!(
                    n.as_str(),
                    "url_for" | "flask.url_for" | "flask.helpers.url_for" | "quart.url_for"
                )
            }),
            // Starlette's `app.url_path_for(name)` / `request.app.url_path_for`:
            // a path of the app.
            Some("url_path_for") => true,
            _ => false,
        },
        Kind::Cond(parts) => same_site(&parts[1], depth + 1) && same_site(&parts[2], depth + 1),
        Kind::Or(parts) => !parts.is_empty() && parts.iter().all(|p| same_site(p, depth + 1)),
        _ => false,
    }
}

/// `request.script_root` (Flask) / `request.root_path`: where the app is
/// mounted, set by the server rather than the client's URL.
fn is_script_root(v: &Value) -> bool {
    v.qualified().is_some_and(|q| {
        matches!(
            q.as_str(),
            "flask.request.script_root" | "quart.request.script_root"
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validation {
    None,
    /// Only `startswith("/")`.
    SlashOnly,
    Checked,
}

/// Whether the view checks a request-derived URL somewhere: a URL parser or a
/// checking helper fed request data, an allow-list comparison, `startswith`.
fn validation(project: &Project, file: FileId, facts: &PyFacts, scope: ScopeId) -> Validation {
    let Some(func) = facts.function_of(scope) else {
        return Validation::None;
    };
    let within = |s: ScopeId| facts.scope_within(s, func.scope);
    let fed = |v: &Value| request_origin(project, file, v, Sink::Redirect).is_some();
    let mut slash_only = false;
    for c in facts.calls.iter().filter(|c| within(c.scope)) {
        let call = c.call();
        let Some(name) = call.callee_name() else {
            continue;
        };
        let args_fed = call.args.iter().any(&fed) || call.kwargs.iter().any(|(_, a)| fed(a));
        if name == "startswith" {
            let recv_fed = match &call.func.kind {
                Kind::Attr(base, _) => fed(base),
                _ => call.receiver().is_some_and(|r| fed(&r)),
            };
            if !recv_fed {
                continue;
            }
            let literals: Vec<&str> = call
                .args
                .iter()
                .flat_map(|a| a.as_seq().map_or_else(|| vec![a], |s| s.iter().collect()))
                .filter_map(Value::as_str)
                .collect();
            if literals.iter().any(|l| *l != "/") {
                return Validation::Checked;
            }
            slash_only = true;
            continue;
        }
        if args_fed && (CHECKS.contains(&name) || is_sanitizer_name(name, Sink::Redirect)) {
            return Validation::Checked;
        }
    }
    // `if next in ALLOWED_TARGETS:` / `if target != "/dashboard":`
    for g in facts
        .guards
        .iter()
        .filter(|g| g.scope != 0 && within(g.scope))
    {
        let mut allow_list = false;
        g.test.walk(&mut |v| {
            if let Kind::Compare(left, rest) = &v.kind {
                let operands_fed = fed(left) || rest.iter().any(|(_, r)| fed(r));
                let membership = rest.iter().any(|(op, _)| {
                    matches!(op, CmpOp::In | CmpOp::NotIn | CmpOp::Eq | CmpOp::NotEq)
                });
                let against_literal_or_constant = rest.iter().any(|(_, r)| {
                    !fed(r) && !matches!(r.kind, Kind::None) && r.as_str() != Some("")
                });
                if operands_fed && membership && against_literal_or_constant {
                    allow_list = true;
                }
            }
        });
        if allow_list {
            return Validation::Checked;
        }
    }
    if slash_only {
        Validation::SlashOnly
    } else {
        Validation::None
    }
}
