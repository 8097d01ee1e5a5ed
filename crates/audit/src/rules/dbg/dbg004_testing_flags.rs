//! DBG004 `testing-flags-in-production`: `TESTING` or `PROPAGATE_EXCEPTIONS` on in production.

use report::Finding;

use crate::{
    model::{index::Target, AppId, AppKind, Project},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "DBG004",
    name: "testing-flags-in-production",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds `TESTING = True` or `PROPAGATE_EXCEPTIONS = True` in the configuration
production uses (class attributes through inheritance, `config.update`,
`config[...] =`). `PROPAGATE_EXCEPTIONS` is not reported when the app has
an app-wide `errorhandler(Exception)`: every exception reaches it first.

## Why is this bad?
`PROPAGATE_EXCEPTIONS` makes unhandled exceptions escape Flask's error
handling, so the WSGI server answers with its own error page (or the
debugger's) instead of your JSON 500. `TESTING` does the same and also turns
off safeguards that extensions check (Flask-Login's `login_required`,
Flask-WTF's CSRF, Flask-Limiter), because it means "under test".

## Example
```python
class ProductionConfig(Config):
    PROPAGATE_EXCEPTIONS = True
```

Use instead:
```python
class ProductionConfig(Config):
    PROPAGATE_EXCEPTIONS = False
```
and report errors to a tracker from a logging handler or `got_request_exception`.
"#;

/// Whether the app has an app-wide handler for `Exception` (or
/// `BaseException`): registered on it, or with a blueprint's
/// `app_errorhandler`, or anywhere when the project has one app.
fn handles_every_exception(project: &Project, app: AppId) -> bool {
    let resolver = project.resolver();
    project.error_handlers.iter().any(|h| {
        h.app_wide
            && (h.app == Some(app) || (h.app.is_none() && project.apps.len() == 1))
            && match resolver.resolve(h.file, &h.key).target {
                Target::External(q) => matches!(
                    q.as_str(),
                    "Exception" | "BaseException" | "builtins.Exception" | "builtins.BaseException"
                ),
                _ => false,
            }
    })
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for app in ctx.project.apps.iter().filter(|a| a.kind == AppKind::Flask) {
        for key in ["PROPAGATE_EXCEPTIONS", "TESTING"] {
            let Some(e) = app
                .config
                .get(key)
                .filter(|e| e.value.truthy() == Some(true))
            else {
                continue;
            };
            // An app-wide `@app.errorhandler(Exception)` answers every
            // exception before Flask looks at PROPAGATE_EXCEPTIONS.
            if key == "PROPAGATE_EXCEPTIONS" && handles_every_exception(ctx.project, app.id) {
                continue;
            }
            let why = if key == "TESTING" {
                "turns off the safeguards of extensions and error handling"
            } else {
                "lets exceptions bypass the app's error handlers"
            };
            let f = ctx
                .finding(
                    RULE.code,
                    RULE.name,
                    e.span,
                    format!("`{key}` is on in the configuration production uses: it {why}"),
                )
                .with_fix(format!("Set {key} = False for production."))
                .with_evidence(ctx.snippet(e.span));
            out.push(ctx.with_production(f, app));
        }
    }
    out
}
