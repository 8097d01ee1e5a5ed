//! DBG002 `debug-toolbar-enabled`: Flask-DebugToolbar active in production.

use report::Finding;

use crate::{
    model::ExtKind,
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "DBG002",
    name: "debug-toolbar-enabled",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds Flask-DebugToolbar initialised for an app whose production configuration
leaves it on: `DEBUG_TB_ENABLED` true, or unset while `DEBUG` is on (the
toolbar's default for `DEBUG_TB_ENABLED` is `app.debug`).

## Why is this bad?
The toolbar shows request data, configuration (secret key included), SQL
queries and templates to whoever opens a page, and serves its own routes under
`/_debug_toolbar/`.

## Example
```python
toolbar = DebugToolbarExtension()
toolbar.init_app(app)  # DEBUG = True in the production config
```

Use instead:
```python
class ProductionConfig(Config):
    DEBUG = False
    DEBUG_TB_ENABLED = False
```
or initialise the toolbar only in development.
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for ext in project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::DebugToolbar)
    {
        let Some(app) = ext.app.and_then(|a| project.apps.get(a)) else {
            continue;
        };
        if let Some(call) = project.resolver().call(ext.site) {
            if project.guard_in_production(Some(app.id), ext.site.file, call.guard) == Some(false) {
                continue;
            }
        }
        if let Some(init) = ext.init {
            let guard = project
                .py
                .get(init.file as usize)
                .and_then(Option::as_ref)
                .and_then(|f| {
                    f.calls
                        .iter()
                        .find(|c| u32::from(c.range().start()) == init.start)
                })
                .map(|c| c.guard);
            if let Some(g) = guard {
                if project.guard_in_production(Some(app.id), init.file, g) == Some(false) {
                    continue;
                }
            }
        }
        let (message, related) = match app.config.get("DEBUG_TB_ENABLED") {
            Some(e) if e.value.truthy() == Some(true) => ("Flask-DebugToolbar is enabled in production (`DEBUG_TB_ENABLED` is on)", Some((e.span, "DEBUG_TB_ENABLED set here"))),
            Some(_) => continue,
            None => match app.config.get("DEBUG") {
                Some(e) if e.value.truthy() == Some(true) => (
                    "Flask-DebugToolbar is enabled in production: `DEBUG_TB_ENABLED` is unset, so it follows `DEBUG`, which is on",
                    Some((e.span, "DEBUG turned on here")),
                ),
                _ => continue,
            },
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, ext.span, message)
            .with_fix("Set DEBUG_TB_ENABLED = False (and DEBUG = False) in the production config, or only initialise the toolbar in development.");
        if let Some((span, msg)) = related {
            f = f.with_related(ctx.at(span), msg);
        }
        out.push(ctx.with_production(f, app));
    }
    out
}
