//! INP001 `json-body-errors-as-html`: strict JSON parsing in an app that answers
//! parse errors with Flask's HTML error page.

use std::{collections::HashSet, str::FromStr};

use report::Finding;

use crate::{
    model::{AppId, AppKind, ErrorHandler, Project},
    python::{
        facts::{PyFacts, ScopeId, TryFact},
        value::{Kind, Value},
    },
    rules::{dep::pinned_version, Rule, RuleContext},
    source::{FileId, Span},
};
use ruff_text_size::TextRange;

pub const RULE: Rule = Rule {
    code: "INP001",
    name: "json-body-errors-as-html",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds `request.get_json()` without `silent=True`, and `request.json`, in a
Flask app that has no JSON error handler for what they raise, on the line of
the call. Werkzeug raises 400 Bad Request for a malformed body and, since
Werkzeug 2.3 (Flask 2.3), 415 Unsupported Media Type when the content type
is not JSON (`get_json(force=True)` skips that check); Werkzeug 2.2 raised 400
for both. Without a handler Flask renders both as an HTML page.

A read inside a `try:` whose `except` catches `BadRequest` (and
`UnsupportedMediaType` where 415 applies), `HTTPException`, `Exception` or
everything, and returns an answer (rather than re-raising or calling `abort`),
is answered by the view itself and is not reported; so is a read in
a view whose decorator wraps the call in such a `try:` (a project decorator, or
Flask-AppBuilder's `@safe`, which answers `BadRequest` with a JSON 400).

A handler counts when it is registered for 400 / `BadRequest` (and 415 /
`UnsupportedMediaType` where the pinned Werkzeug or Flask is 2.3 or later),
for `HTTPException`, or for `Exception`, on the app or a blueprint, and does
not return an HTML template. When the Werkzeug version is unknown, a 400
handler is enough to stay silent. Methods of Flask-RESTful / Flask-RESTX
`Resource` classes, and projects using Flask-Smorest's `Api` or APIFlask apps, are not
reported: those frameworks answer HTTP errors with JSON themselves.

Routes of a blueprint (or router) that no app registers are not served and
not reported (`--routes` lists them, marked unregistered), unless the project
registers blueprints it does not name (`for bp in plugins:
app.register_blueprint(bp)`).

## Why is this bad?
API clients that parse every answer as JSON fail on the HTML page with an
error of their own, monitoring sees two error formats, and in debug mode the
page shows the decoder's message about the input.

## Example
```python
data = request.get_json()
```

Use instead:
```python
data = request.get_json(silent=True)
if not isinstance(data, dict):
    return jsonify(error="Request body must be a JSON object"), 400
```
or register an `HTTPException` handler that answers JSON.
"#;

const GET_JSON: &[&str] = &[
    "flask.request.get_json",
    "quart.request.get_json",
    "flask.globals.request.get_json",
];

/// What an app's error handlers answer in JSON.
#[derive(Debug, Default, Clone, Copy)]
struct Coverage {
    bad_request: bool,
    unsupported: bool,
    /// A handler whose key could not be read: it may cover anything.
    unknown: bool,
}

fn coverage(project: &Project, app: AppId) -> Coverage {
    let mut c = Coverage::default();
    let handlers = project
        .error_handlers
        .iter()
        // A handler whose app could not be traced (a blueprint registered in a
        // loop, say) is taken to cover every app: precision first.
        .filter(|h| h.app == Some(app) || h.app.is_none());
    for h in handlers {
        if renders_html(project, h) {
            continue;
        }
        let (f, key) = project.resolver().deref(h.file, &h.key);
        match &key.kind {
            Kind::Int(400) => c.bad_request = true,
            Kind::Int(415) => c.unsupported = true,
            Kind::Int(_) => {}
            _ => {
                let name = project.resolver().resolve(f, key).external_name();
                match name.as_deref().map(|n| n.rsplit('.').next().unwrap_or(n)) {
                    Some("BadRequest") => c.bad_request = true,
                    Some("UnsupportedMediaType") => c.unsupported = true,
                    Some("HTTPException" | "Exception" | "BaseException") => {
                        c.bad_request = true;
                        c.unsupported = true;
                    }
                    Some(_) => {}
                    None => c.unknown = true,
                }
            }
        }
    }
    c
}

/// A handler all of whose returns render a template or an HTML string.
fn renders_html(project: &Project, h: &ErrorHandler) -> bool {
    let Some((_, f)) = project.resolver().function(&h.function) else {
        return false;
    };
    let html = |v: &Value| -> bool {
        let v = match &v.kind {
            Kind::Tuple(items) => match items.first() {
                Some(first) => first,
                None => return false,
            },
            _ => v,
        };
        match &v.kind {
            Kind::Call(c) => c.last_name() == Some("render_template"),
            Kind::Str(s) => s.trim_start().starts_with('<'),
            _ => false,
        }
    };
    !f.returns.is_empty() && f.returns.iter().all(html)
}

/// What catching these exception types covers, as a coverage.
fn caught(project: &Project, file: FileId, t: &TryFact) -> Coverage {
    let mut c = Coverage::default();
    // Handlers that log and re-raise (or `abort(400)`) leave the answer to
    // Flask's error pages.
    let answering = t
        .catches
        .iter()
        .zip(&t.returns)
        .filter(|(_, r)| **r)
        .map(|(ty, _)| ty);
    for ty in answering {
        let Some(ty) = ty else {
            // A bare `except:`.
            c.bad_request = true;
            c.unsupported = true;
            continue;
        };
        let items: Vec<&Value> = match &ty.kind {
            Kind::Tuple(items) | Kind::List(items) => items.iter().collect(),
            _ => vec![ty],
        };
        for item in items {
            let (b, u) = exception_covers(project, file, item);
            c.bad_request |= b;
            c.unsupported |= u;
        }
    }
    c
}

/// Whether catching an exception class catches the 400 / 415 Werkzeug raises:
/// (400, 415). A class of the project (even one deriving from `BadRequest`)
/// does not: an `except` for a subclass lets the base class through.
fn exception_covers(project: &Project, file: FileId, ty: &Value) -> (bool, bool) {
    let r = project.resolver().resolve(file, ty);
    let name = match &r.target {
        crate::model::index::Target::External(_) => r.external_name(),
        crate::model::index::Target::Unknown => Some(ty.render()),
        _ => None,
    };
    let Some(name) = name else {
        return (false, false);
    };
    match name.rsplit('.').next().unwrap_or(&name) {
        "BadRequest" => (true, false),
        "UnsupportedMediaType" => (false, true),
        "HTTPException" | "Exception" | "BaseException" => (true, true),
        _ => (false, false),
    }
}

/// What the `try:` blocks around a read, in the same function, catch.
fn caught_around(
    project: &Project,
    file: FileId,
    facts: &PyFacts,
    scope: ScopeId,
    range: TextRange,
) -> Coverage {
    let func = facts.function_of(scope).map(|f| f.qualified.as_str());
    let mut c = Coverage::default();
    for t in facts.tries.iter().filter(|t| {
        t.body.contains_range(range)
            && facts.function_of(t.scope).map(|f| f.qualified.as_str()) == func
    }) {
        let k = caught(project, file, t);
        c.bad_request |= k.bad_request;
        c.unsupported |= k.unsupported;
    }
    c
}

/// Decorators that run the view inside a `try:` answering `BadRequest`
/// (and every other exception) themselves.
const CATCHING_DECORATORS: &[&str] = &["flask_appbuilder.api.safe"];

/// What the decorators of the view around a read catch: a decorator defined
/// in the project whose body has a `try:` catching them, or a known one.
fn caught_by_decorators(
    project: &Project,
    file: FileId,
    facts: &PyFacts,
    scope: ScopeId,
) -> Coverage {
    let mut c = Coverage::default();
    let Some(view) = facts.function_of(scope) else {
        return c;
    };
    let resolver = project.resolver();
    for d in &view.decorators {
        let callee = d.as_call().map_or(d, |call| &call.func);
        let r = resolver.resolve(file, callee);
        if r.external_name()
            .is_some_and(|n| CATCHING_DECORATORS.contains(&n.as_str()))
        {
            c.bad_request = true;
            c.unsupported = true;
            continue;
        }
        let crate::model::index::Target::Function(q) = &r.target else {
            continue;
        };
        if !r.attrs.is_empty() {
            continue;
        }
        let Some((dfile, dfunc)) = resolver.function(q) else {
            continue;
        };
        let Some(dfacts) = resolver.facts(dfile) else {
            continue;
        };
        for t in dfacts
            .tries
            .iter()
            .filter(|t| dfunc.def_range.contains_range(t.body))
        {
            let k = caught(project, dfile, t);
            c.bad_request |= k.bad_request;
            c.unsupported |= k.unsupported;
        }
    }
    c
}

/// Whether the installed Werkzeug answers a non-JSON content type with 415.
fn raises_415(project: &Project) -> Option<bool> {
    let at_least_2_3 = |v: String| {
        let v = pep440_rs::Version::from_str(&v).ok()?;
        Some(v >= pep440_rs::Version::from_str("2.3").ok()?)
    };
    if let Some(v) = pinned_version(project, "werkzeug") {
        return at_least_2_3(v);
    }
    // Flask 2.3 requires Werkzeug 2.3; an older Flask says nothing.
    pinned_version(project, "flask")
        .and_then(at_least_2_3)
        .filter(|new| *new)
}

/// Resource classes whose framework answers HTTP errors raised in them with
/// JSON (Flask-RESTful's and Flask-RESTX's `Api.handle_error`).
const JSON_RESOURCES: &[&str] = &[
    "flask_restful.Resource",
    "flask_restx.Resource",
    "flask_restplus.Resource",
];

/// Whether a class is (or derives, within a few levels, from) such a resource.
fn is_json_resource(project: &Project, class: &str, depth: usize) -> bool {
    if depth > 4 {
        return false;
    }
    let resolver = project.resolver();
    let Some((file, c)) = resolver.class(class) else {
        return false;
    };
    c.bases.iter().any(|b| {
        let r = resolver.resolve(file, b);
        match (&r.target, r.external_name()) {
            (_, Some(n)) if JSON_RESOURCES.contains(&n.as_str()) => true,
            (crate::model::index::Target::Class(q), _) => is_json_resource(project, q, depth + 1),
            _ => false,
        }
    })
}

/// Flask-Smorest's `Api` registers a JSON handler for every HTTP error, and
/// APIFlask does the same for its apps.
fn json_error_api(project: &Project) -> bool {
    project.apps.iter().any(|a| a.json_errors)
        || project.python().any(|(_, facts)| {
            facts
                .imports
                .iter()
                .any(|i| i.qualified == "flask_smorest.Api" || i.qualified == "flask_smorest")
        })
}

/// The app a fact inside a view belongs to.
fn app_of_scope(project: &Project, facts: &PyFacts, scope: ScopeId) -> Option<AppId> {
    let f = facts.function_of(scope)?;
    project
        .routes
        .iter()
        .find(|r| r.function == f.qualified || f.method_of.as_deref() == Some(r.function.as_str()))
        .and_then(|r| r.app)
}

/// Whether a fact is inside the view of a route no app serves (its blueprint
/// is never registered) and of no served route.
fn in_unregistered_view(project: &Project, facts: &PyFacts, scope: ScopeId) -> bool {
    let Some(f) = facts.function_of(scope) else {
        return false;
    };
    let is_view = |r: &&crate::model::Route| {
        r.function == f.qualified || f.method_of.as_deref() == Some(r.function.as_str())
    };
    project.unregistered_routes.iter().any(|r| is_view(&r))
        && !project.routes.iter().any(|r| is_view(&r))
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let flask_apps: Vec<AppId> = project
        .apps
        .iter()
        .filter(|a| a.kind == AppKind::Flask)
        .map(|a| a.id)
        .collect();
    if flask_apps.is_empty() {
        return Vec::new();
    }
    if json_error_api(project) {
        return Vec::new();
    }
    let new_werkzeug = raises_415(project);
    // (facts, scope, span, what, checks the content type)
    let mut sites: Vec<(&PyFacts, ScopeId, Span, &'static str, bool)> = Vec::new();
    for (file, facts, call) in project.calls_named(&["get_json"]) {
        let c = call.call();
        if !c
            .func_name()
            .is_some_and(|q| GET_JSON.contains(&q.as_str()))
        {
            continue;
        }
        match c.param(1, "silent") {
            None => {}
            Some(v) if v.truthy() == Some(false) => {}
            // silent=True, or a value we cannot read.
            Some(_) => continue,
        }
        if c.spread {
            continue;
        }
        let force = c.param(0, "force").and_then(Value::truthy);
        if force.is_none() && c.param(0, "force").is_some() {
            continue;
        }
        let span = Span::new(file, call.range());
        sites.push((
            facts,
            call.scope,
            span,
            "request.get_json()",
            force != Some(true),
        ));
    }
    for (file, facts) in project.python() {
        for a in facts
            .request_reads
            .iter()
            .filter(|a| a.global && a.attr == "json")
        {
            sites.push((
                facts,
                a.scope,
                Span::new(file, a.range),
                "request.json",
                true,
            ));
        }
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (facts, scope, span, what, content_type) in sites {
        let in_resource = facts
            .function_of(scope)
            .and_then(|f| f.method_of.as_deref())
            .is_some_and(|class| is_json_resource(project, class, 0));
        if in_resource || in_unregistered_view(project, facts, scope) {
            continue;
        }
        let apps: Vec<AppId> = match app_of_scope(project, facts, scope) {
            Some(a) => vec![a],
            None => flask_apps.clone(),
        };
        let range = TextRange::new(span.start.into(), span.end.into());
        let mut local = caught_around(project, span.file, facts, scope, range);
        let deco = caught_by_decorators(project, span.file, facts, scope);
        local.bad_request |= deco.bad_request;
        local.unsupported |= deco.unsupported;
        let covs: Vec<Coverage> = apps
            .iter()
            .map(|&a| {
                let mut c = coverage(project, a);
                c.bad_request |= local.bad_request;
                c.unsupported |= local.unsupported;
                c
            })
            .collect();
        if covs.iter().any(|c| c.unknown) {
            continue;
        }
        let needs_415 = content_type && new_werkzeug == Some(true);
        let missing_400 = covs.iter().all(|c| !c.bad_request);
        let missing_415 = needs_415 && covs.iter().all(|c| !c.unsupported);
        if !missing_400 && !missing_415 {
            continue;
        }
        let line = ctx.project.describe(span);
        if !seen.insert(line) {
            continue;
        }
        let message = if missing_400 {
            let extra = if needs_415 {
                " (415 for a body that is not JSON)"
            } else {
                ""
            };
            format!("`{what}` raises 400 Bad Request on a malformed body{extra}, and the app has no JSON error handler for it: clients get Flask's HTML error page")
        } else {
            format!("`{what}` raises 415 Unsupported Media Type for a body that is not JSON (Werkzeug 2.3 and later), and the app's JSON handlers cover 400 but not 415: clients get an HTML error page")
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, span, message)
                .with_fix("Use `request.get_json(silent=True)` and answer a missing or non-object body with a JSON 400, or register an `HTTPException` handler that returns JSON.")
                .with_evidence(ctx.snippet(span)),
        );
    }
    out
}
