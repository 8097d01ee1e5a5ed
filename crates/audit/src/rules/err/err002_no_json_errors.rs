//! ERR002 `api-errors-not-json`: a JSON API whose framework errors are HTML
//! (or plain text).

use report::Finding;

use crate::{
    model::{index::Target, is_api_resource_method, App, AppKind, ErrorHandler, Project},
    python::value::Kind,
    rules::{
        responses::{classify, route_body, Body},
        Rule, RuleContext,
    },
};

pub const RULE: Rule = Rule {
    code: "ERR002",
    name: "api-errors-not-json",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports a JSON API (at its `Flask(...)` / `FastAPI(...)` line) whose errors
from the framework itself are not answered in JSON.

An app is a JSON API when at least half of its routes return JSON (`jsonify`,
dicts and lists, `JSONResponse`, `make_response(jsonify(...))`) and more
return JSON than HTML. A view that renders no HTML counts as JSON when a
serializing decorator turns what it returns (often an ORM object) into JSON:
`marshal_with` / `marshal_list_with` of flask-apispec, flask-restx,
flask-restplus or flask-restful (also as a `Namespace` / `Api` method),
flask-smorest's `@blp.response(...)` / `@blp.arguments(...)`, and
`use_kwargs` / `use_args` (flask-apispec, webargs); a FastAPI app is one unless most of its routes render
HTML.

- Flask answers 404, 405 and 500 with HTML pages. Each needs an app-wide
  handler that does not render HTML: the code itself, its Werkzeug class
  (`NotFound`, `MethodNotAllowed`, `InternalServerError`), `HTTPException`
  (which also receives the 500 of unhandled exceptions) or `Exception`. A
  blueprint's own `errorhandler` never sees the 404 and 405 raised while
  routing (only `app_errorhandler` does), but handles 500s of its views.
- FastAPI answers 404 and 405 in JSON already, but an unhandled exception
  becomes a plain-text 500: it needs an `exception_handler(Exception)` or
  `(500)`.

Handlers registered with keys that are not literals count as covering
everything. A flask-smorest `Api` bound to the app (`Api(app)`,
`api.init_app(app)`) registers a JSON handler for `HTTPException`, so such an
app is covered, and so is an `APIFlask(...)` app (unless `json_errors=False`).
The routes of Flask-RESTful, Flask-RESTX and Flask-RESTPlus
resources (`Api(app)` or `Api(blueprint)`) are not counted: their `Api`
answers the errors raised while serving them (`abort(404)`, 405, unhandled
exceptions) in JSON itself. A request for a path that matches no route is
another matter: such an `Api` leaves its 404 to Flask's HTML page unless it
was built with `catch_all_404s=True`, so an app whose JSON routes are all
resources needs that (or a JSON 404 handler).

## Why is this bad?
Clients that expect JSON fail with a parse error of their own and lose the
real status; an HTML error page also tells a scanner which framework runs.

## Example
```python
app = Flask(__name__)  # only JSON routes, no error handlers
```

Use instead:
```python
@app.errorhandler(HTTPException)
def http_error(e):
    return jsonify(error=e.name), e.code
```
"#;

/// Whether a handler's key catches the framework's `code` error.
fn covers(project: &Project, h: &ErrorHandler, code: i64) -> bool {
    if let Kind::Int(c) = h.key.kind {
        return c == code;
    }
    match project.resolver().resolve(h.file, &h.key).target {
        Target::External(q) => {
            let last = q.rsplit('.').next().unwrap_or(&q);
            match last {
                "Exception" | "BaseException" | "HTTPException" => true,
                "NotFound" => code == 404,
                "MethodNotAllowed" => code == 405,
                "InternalServerError" => code == 500,
                _ => false,
            }
        }
        Target::Class(_) => false,
        // A key we cannot read (a loop over codes): assume it covers.
        _ => !h.key.is_literal(),
    }
}

/// Whether a handler renders HTML (and so does not answer in JSON).
fn renders_html(project: &Project, h: &ErrorHandler) -> bool {
    let Some((_, func)) = project.resolver().function(&h.function) else {
        return false;
    };
    let bodies: Vec<Body> = func.returns.iter().map(classify).collect();
    bodies.contains(&Body::Html) && !bodies.contains(&Body::Json)
}

/// What kind of JSON API an app is, for its error pages.
#[derive(Debug, PartialEq)]
enum ApiKind {
    /// Not a JSON API.
    No,
    /// Its routes return JSON themselves: every framework error needs a handler.
    Routes,
    /// Its JSON routes are all Flask-RESTful / Flask-RESTX resources, whose `Api`
    /// answers their errors in JSON: only the 404 of unknown paths is Flask's.
    Resources,
}

fn api_kind(project: &Project, app: &App) -> ApiKind {
    let single = project.apps.len() == 1;
    let (mut json, mut html, mut total, mut resources) = (0, 0, 0, 0);
    for r in project
        .routes
        .iter()
        .filter(|r| r.app == Some(app.id) || (r.app.is_none() && single))
    {
        // The routes of a Flask-RESTful / Flask-RESTX resource: their `Api`
        // answers their errors in JSON by itself.
        if r.class.is_some() && is_api_resource_method(project, &r.function) {
            resources += 1;
            continue;
        }
        total += 1;
        match route_body(project, r).map(|(b, _)| b) {
            Some(Body::Json) => json += 1,
            Some(Body::Html) => html += 1,
            _ => {}
        }
    }
    let is_api = |json: usize, total: usize| match app.kind {
        AppKind::Flask => json > 0 && json * 2 >= total && json > html,
        AppKind::FastApi => total > 0 && html * 2 < total,
    };
    if is_api(json, total) {
        ApiKind::Routes
    } else if app.kind == AppKind::Flask
        && resources > 0
        && is_api(json + resources, total + resources)
    {
        ApiKind::Resources
    } else {
        ApiKind::No
    }
}

/// Whether a Flask-RESTful / Flask-RESTX / RESTPlus `Api` of the project is built
/// with `catch_all_404s=True`: it then answers the 404 of every path in JSON.
fn api_catches_all_404s(project: &Project) -> bool {
    const APIS: &[&str] = &["flask_restful.Api", "flask_restx.Api", "flask_restplus.Api"];
    project
        .calls_named(&["Api"])
        .into_iter()
        .any(|(file, _, call)| {
            let c = call.call();
            project
                .resolver()
                .resolve(file, &c.func)
                .external_name()
                .is_some_and(|n| APIS.contains(&n.as_str()))
                && c.kwarg("catch_all_404s").and_then(|v| v.as_bool()) == Some(true)
        })
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let single = project.apps.len() == 1;
    let mut out = Vec::new();
    for app in &project.apps {
        // APIFlask answers HTTP errors (the 500 of unhandled exceptions too)
        // in JSON unless told otherwise.
        if app.json_errors {
            continue;
        }
        let kind = api_kind(project, app);
        if kind == ApiKind::No || (kind == ApiKind::Resources && api_catches_all_404s(project)) {
            continue;
        }
        // flask-smorest's Api registers a JSON handler for HTTPException.
        if app.kind == AppKind::Flask
            && crate::model::blueprints::smorest_apis(project)
                .iter()
                .any(|(_, a)| *a == Some(app.id) || (a.is_none() && single))
        {
            continue;
        }
        let handlers: Vec<&ErrorHandler> = project
            .error_handlers
            .iter()
            .filter(|h| h.app == Some(app.id) || (h.app.is_none() && single))
            .filter(|h| !renders_html(project, h))
            .collect();
        let codes: &[i64] = match (app.kind, &kind) {
            (AppKind::Flask, ApiKind::Resources) => &[404],
            (AppKind::Flask, _) => &[404, 405, 500],
            (AppKind::FastApi, _) => &[500],
        };
        let missing: Vec<String> = codes
            .iter()
            .filter(|&&code| {
                !handlers
                    .iter()
                    .any(|h| (h.app_wide || code == 500) && covers(project, h, code))
            })
            .map(i64::to_string)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let message = match app.kind {
            AppKind::Flask if kind == ApiKind::Resources => "this JSON API's resources answer their own errors in JSON, but a path that matches no route gets Flask's HTML 404 page (its Api has no catch_all_404s=True)".to_string(),
            AppKind::Flask => format!(
                "this JSON API has no JSON error handler for {}: Flask answers them with HTML pages",
                missing.join(", ")
            ),
            AppKind::FastApi => "this API has no handler for unhandled exceptions: FastAPI answers them with a plain-text 500".to_string(),
        };
        let fix = match app.kind {
            AppKind::Flask if kind == ApiKind::Resources => "Build the Api with catch_all_404s=True, or register @app.errorhandler(404) returning JSON.",
            AppKind::Flask => "Register @app.errorhandler(HTTPException) (covers 404, 405 and the 500 of unhandled exceptions) returning JSON, or handlers per code.",
            AppKind::FastApi => "Add @app.exception_handler(Exception) returning JSONResponse({\"detail\": \"Internal server error\"}, status_code=500).",
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, app.span, message)
                .with_fix(fix),
        );
    }
    out
}
