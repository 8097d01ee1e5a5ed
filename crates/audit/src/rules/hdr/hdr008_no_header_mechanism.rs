//! HDR008 `no-security-headers`: nothing in the project sets security headers.

use report::Finding;

use super::{other_header_mechanism, talisman_covers};
use crate::{
    model::AppKind,
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "HDR008",
    name: "no-security-headers",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports an app (at its `Flask(...)` / `FastAPI(...)` line) when the project has
no mechanism that sets security headers:
- no flask-talisman;
- no header package (`secure`, `secweb`, `flask_secure_headers`...);
- no code that sets a security header (`Strict-Transport-Security`,
  `Content-Security-Policy`, `X-Frame-Options`, `X-Content-Type-Options`,
  `Referrer-Policy`, `Permissions-Policy`, the `Cross-Origin-*` policies) on a
  response — in an `after_request` hook, a FastAPI `@app.middleware("http")`, a
  `BaseHTTPMiddleware`, or anywhere else — and no response hook that writes
  headers whose names are not literals (a loop over a dict of headers);
- no string literal naming a security header (code that hands a dict of
  headers to its server, as Tornado transforms do);
- no nginx conf in the repository that adds a security header with
  `add_header`: headers set by the proxy are a valid mechanism, and counted
  when the proxy's configuration is committed. A proxy or CDN configured
  outside the repository cannot be seen: confirm it with `flaskguard scan`.

## Why is this bad?
Flask and FastAPI send no security headers by default. Without one central
place that adds them, every header control fails at once and fixes get
scattered across views, missing on error pages and redirects.

## Example
```python
app = Flask(__name__)
```

Use instead:
```python
app = Flask(__name__)
Talisman(app, force_https=False)
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    if other_header_mechanism(project).is_some() {
        return Vec::new();
    }
    // A sub-app mounted into another is covered by (or reported with) its
    // parent; an app that serves nothing, or another binding of an app's
    // name, is not reported.
    project
        .standalone_apps()
        .filter(|app| !talisman_covers(project, app))
        .map(|app| {
            let fix = match app.kind {
                AppKind::Flask => "Initialise flask-talisman, or set the security headers in one @app.after_request hook (or at the proxy, with its config in the repository).",
                AppKind::FastApi => "Add a middleware (the `secure` package, or an @app.middleware(\"http\") function) that sets the security headers on every response, or set them at the proxy.",
            };
            ctx.finding(RULE.code, RULE.name, app.span, "no security-header mechanism: no Talisman, no header package, no hook or proxy config that sets security headers")
                .with_fix(fix)
        })
        .collect()
}
