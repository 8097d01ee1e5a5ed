//! COR001 `cors-wildcard-origin`: an API open to every origin.

use report::Finding;

use super::{allows_any_origin, catch_all_pattern, origins_span, sources, with_same_policy};
use crate::rules::{Rule, RuleContext};

pub const RULE: Rule = Rule {
    code: "COR001",
    name: "cors-wildcard-origin",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports CORS policies that allow every origin:
- flask-cors `CORS(app)` or `@cross_origin()` with no `origins` (its default
  is `*`, unless the app config sets `CORS_ORIGINS`), `origins="*"`,
  `resources={r"/*": {"origins": "*"}}` (any resource with `*`, or without
  `origins`);
- Starlette / FastAPI `CORSMiddleware(allow_origins=["*"])`;
- an origin pattern that matches any host (`.*`, `https://.*`,
  `allow_origin_regex="https?://.*"`).

Origins given by name are followed, also to the default of a settings
field (`allow_origins=settings.allowed_hosts` where a pydantic `BaseSettings`
class declares `allowed_hosts: List[str] = ["*"]`); when an env, Dockerfile
or compose file sets that variable (`ALLOWED_HOSTS`, or with a prefix,
`APP_ALLOWED_HOSTS`) the origins are unknown and nothing is reported.

A bare `CORS()` that is never initialised is not reported. flask-cors's
`@cross_origin` reads the `CORS_*` keys of the app serving the view on every
request, so the app's config counts wherever it is loaded (`CORS(app)` reads
it once, at init); when that config cannot be read whole, the origins are
unknown and nothing is reported. Decorators with the same policy, written the
same way, are reported once (here and by COR002 / COR003), at the first, with
the count and the first few others.

## Why is this bad?
Every website a user visits can call the API from their browser and read the
answers. For data behind IP allow-lists, intranet addresses or anything the
browser adds implicitly, that is a leak; and a wildcard is one flag away from
the credentialed variant (COR002). An explicit list documents who the API
serves.

## Example
```python
CORS(app)
```

Use instead:
```python
CORS(app, origins=["https://app.example.com"])
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    sources(ctx.project)
        .into_iter()
        .filter(allows_any_origin)
        .map(|s| {
            let message = match (catch_all_pattern(&s), s.policy.origins_span) {
                (Some(p), _) => format!("{}: the origin pattern `{p}` matches every host, so any website can read the API's responses", s.library()),
                (None, None) => "flask-cors with no `origins` allows every origin (`*` is its default): any website can read the API's responses".to_string(),
                (None, Some(_)) => format!("{} allows every origin (`*`): any website can read the API's responses", s.library()),
            };
            let f = ctx.finding(RULE.code, RULE.name, origins_span(&s), message)
                .with_fix("List the origins that may call the API: origins=[\"https://app.example.com\"] (allow_origins=[...] for CORSMiddleware).");
            with_same_policy(ctx, f, &s)
        })
        .collect()
}
