//! COR002 `cors-credentials-any-origin`: credentialed requests from every origin.

use report::Finding;

use super::{allows_any_origin, catch_all_pattern, origins_span, sources, with_same_policy};
use crate::rules::{Rule, RuleContext};

pub const RULE: Rule = Rule {
    code: "COR002",
    name: "cors-credentials-any-origin",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports a CORS policy that allows credentials (flask-cors
`supports_credentials=True` or `CORS_SUPPORTS_CREDENTIALS`, Starlette
`allow_credentials=True`) together with every origin: `*`, flask-cors's
default origins, or a catch-all pattern (`.*`, `https://.*`). Values given
by name are followed, also to the default of a settings field
(`allow_origins=settings.allowed_hosts` with `allowed_hosts: List[str] =
["*"]` in a pydantic `BaseSettings` class) unless an env, Dockerfile or
compose file sets that variable.

Both libraries then answer with the caller's own `Origin` instead of `*`
(read from their source): flask-cors matches `*` as the pattern `.*` and
returns the request's origin when credentials are on; Starlette's
`CORSMiddleware` returns the request's origin on preflights and on every
response to a request that carries an `Origin`.

## Why is this bad?
Any website the victim visits can send `fetch(url, {credentials: "include"})`
and read the answer, made with the victim's cookies: profile data, API keys,
CSRF tokens — and with the CSRF token, every action. Sandboxed iframes send
`Origin: null`, which is reflected the same way.

## Example
```python
CORS(app, origins="*", supports_credentials=True)
```

Use instead:
```python
CORS(app, origins=["https://app.example.com"], supports_credentials=True)
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    sources(ctx.project)
        .into_iter()
        .filter(|s| s.policy.credentials == Some(true) && allows_any_origin(s))
        .map(|s| {
            let what = match catch_all_pattern(&s) {
                Some(p) => format!("the catch-all origin pattern `{p}`"),
                None => "every origin".to_string(),
            };
            let mut f = ctx
                .finding(RULE.code, RULE.name, origins_span(&s), format!("{} allows credentials with {what}: it reflects the caller's Origin (`null` included) with Access-Control-Allow-Credentials, so any website can read responses made with the user's cookies", s.library()))
                .with_fix("List the trusted origins explicitly, or drop credentials if the API does not use cookies cross-origin.");
            if let Some(c) = s.policy.credentials_span {
                f = f.with_related(ctx.at(c), "credentials are allowed here");
            }
            with_same_policy(ctx, f, &s)
        })
        .collect()
}
