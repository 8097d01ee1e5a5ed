//! DBG001 `debug-mode-enabled`: debug mode or the Werkzeug debugger turned on in code.

use report::Finding;

use crate::{
    model::{AppKind, ExtKind},
    rules::{common, Rule, RuleContext},
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "DBG001",
    name: "debug-mode-enabled",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds debug mode switched on in code that production runs: `app.run(debug=True)`,
`DEBUG = True` (or `app.debug = True`, `app.config["DEBUG"] = True`) in the
configuration production uses — across files and through config class
inheritance — `FastAPI(debug=True)`, `run_simple(..., use_debugger=True)`, and
apps wrapped in Werkzeug's `DebuggedApplication`.

## Why is this bad?
Flask's debug mode serves the Werkzeug debugger: any visitor who triggers an
error gets an interactive Python console in the browser, which is remote code
execution (the PIN is derivable from files an attacker can often read). Debug
pages also print source code, settings and secrets.

## Example
```python
class Config:
    DEBUG = True

class ProductionConfig(Config):
    pass
```

Use instead:
```python
class Config:
    DEBUG = False
```
and turn debugging on only in a development config or with `flask run --debug`
on your machine.
"#;

const RUN_SIMPLE: &[&str] = &["werkzeug.serving.run_simple", "werkzeug.run_simple"];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    // DEBUG in the production config.
    for app in project.apps.iter().filter(|a| a.kind == AppKind::Flask) {
        let Some(entry) = app.config.get("DEBUG") else {
            continue;
        };
        // FLASK_DEBUG read by from_prefixed_env: reported on its deploy file line
        // by `debug-enabled-in-deploy`.
        if entry.value.truthy() != Some(true) || entry.via == crate::model::ConfigVia::Environment {
            continue;
        }
        let f = ctx
            .finding(RULE.code, RULE.name, entry.span, "debug mode is on in the configuration production uses: the Werkzeug debugger gives any visitor a Python console")
            .with_fix("Set DEBUG = False for production; enable debugging only in a development config.")
            .with_evidence(ctx.snippet(entry.span));
        out.push(ctx.with_production(f, app));
    }
    for (file, _, call) in project.calls_named(&["run", "run_simple"]) {
        let c = call.call();
        let Some(r) = c.func.reference() else {
            continue;
        };
        match r.last_name() {
            // app.run(debug=True)
            "run" => {
                let Some(debug) = c.kwarg("debug") else {
                    continue;
                };
                if debug.truthy() != Some(true) {
                    continue;
                }
                let app = common::app_of_receiver(project, file, c);
                let recv_name = common::receiver(c).map(|v| v.render()).unwrap_or_default();
                if app.is_none()
                    && !matches!(recv_name.rsplit('.').next(), Some("app" | "application"))
                {
                    continue;
                }
                if project.guard_in_production(app, file, call.guard) == Some(false) {
                    continue;
                }
                let span = Span::new(file, debug.range);
                out.push(
                    ctx.finding(RULE.code, RULE.name, span, "`app.run(debug=True)` starts the development server with the Werkzeug debugger")
                        .with_fix("Remove `debug=True`; run production under gunicorn or uvicorn and use `flask run --debug` locally.")
                        .with_evidence(ctx.snippet(Span::new(file, call.range()))),
                );
            }
            "run_simple" => {
                if !common::resolves_to(project, file, &c.func, RUN_SIMPLE) {
                    continue;
                }
                let Some(flag) = c.kwarg("use_debugger").filter(|v| v.truthy() == Some(true))
                else {
                    continue;
                };
                out.push(
                    ctx.finding(
                        RULE.code,
                        RULE.name,
                        Span::new(file, flag.range),
                        "`run_simple(use_debugger=True)` serves the Werkzeug debugger",
                    )
                    .with_fix("Drop `use_debugger=True` outside local development."),
                );
            }
            _ => {}
        }
    }
    // FastAPI(debug=True)
    for app in project.apps.iter().filter(|a| a.kind == AppKind::FastApi) {
        let Some(call) = project.resolver().call(app.site) else {
            continue;
        };
        let Some(debug) = call
            .call()
            .kwarg("debug")
            .filter(|v| v.truthy() == Some(true))
        else {
            continue;
        };
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                Span::new(app.site.file, debug.range),
                "`FastAPI(debug=True)` returns tracebacks to clients",
            )
            .with_fix("Remove `debug=True` (or read it from a setting that is off in production)."),
        );
    }
    // DebuggedApplication wrapping in production code: an app we know, or an
    // `app.wsgi_app` (library code wrapping an arbitrary WSGI callable it was
    // handed is not an app's deployment).
    for ext in project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::Debugger)
    {
        let Some(call) = project.resolver().call(ext.site) else {
            continue;
        };
        let wraps_wsgi_app = call
            .call()
            .param(0, "app")
            .and_then(|a| a.reference())
            .is_some_and(|r| r.attrs.last().map(|a| a.as_str()) == Some("wsgi_app"));
        if ext.app.is_none() && !wraps_wsgi_app {
            continue;
        }
        if project.guard_in_production(ext.app, ext.site.file, call.guard) == Some(false) {
            continue;
        }
        let message = match ext.bool_opt("evalex") {
            Some(true) => "the app is wrapped in Werkzeug's `DebuggedApplication(evalex=True)`: an interactive console for anyone who triggers an error",
            Some(false) => "the app is wrapped in Werkzeug's `DebuggedApplication`: tracebacks with source and locals for anyone who triggers an error",
            None => "the app is wrapped in Werkzeug's `DebuggedApplication`: tracebacks, and a console when evalex is on, for anyone who triggers an error",
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, ext.span, message)
            .with_fix(
                "Never wrap the production app in DebuggedApplication; use error logging instead.",
            )
            .with_evidence(ctx.snippet(ext.span));
        if let Some(app) = ext.app.and_then(|a| project.apps.get(a)) {
            if let Some(e) = app
                .config
                .get("DEBUG")
                .filter(|e| e.value.truthy() == Some(true))
            {
                f = f.with_related(
                    ctx.at(e.span),
                    "debug is on in production here, so the wrapper is applied",
                );
            }
        }
        out.push(f);
    }
    out
}
