//! ERR002 `api-errors-not-json`: a JSON API whose framework errors are HTML
//! (or plain text).

use report::Finding;

use crate::{
    model::{index::Target, App, AppKind, ErrorHandler, Project},
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

fn is_api(project: &Project, app: &App) -> bool {
    let single = project.apps.len() == 1;
    let (mut json, mut html, mut total) = (0, 0, 0);
    for r in project
        .routes
        .iter()
        .filter(|r| r.app == Some(app.id) || (r.app.is_none() && single))
    {
        total += 1;
        match route_body(project, r).map(|(b, _)| b) {
            Some(Body::Json) => json += 1,
            Some(Body::Html) => html += 1,
            _ => {}
        }
    }
    match app.kind {
        AppKind::Flask => json > 0 && json * 2 >= total && json > html,
        AppKind::FastApi => total > 0 && html * 2 < total,
    }
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let single = project.apps.len() == 1;
    let mut out = Vec::new();
    for app in &project.apps {
        // APIFlask answers HTTP errors (the 500 of unhandled exceptions too)
        // in JSON unless told otherwise.
        if !is_api(project, app) || app.json_errors {
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
        let codes: &[i64] = match app.kind {
            AppKind::Flask => &[404, 405, 500],
            AppKind::FastApi => &[500],
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
            AppKind::Flask => format!(
                "this JSON API has no JSON error handler for {}: Flask answers them with HTML pages",
                missing.join(", ")
            ),
            AppKind::FastApi => "this API has no handler for unhandled exceptions: FastAPI answers them with a plain-text 500".to_string(),
        };
        let fix = match app.kind {
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
