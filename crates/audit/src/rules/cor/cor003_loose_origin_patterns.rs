//! COR003 `cors-loose-origin-pattern`: origin patterns that let look-alike
//! hosts through, and any request header allowed with credentials.

use checklist::Severity;
use report::Finding;

use super::{is_anchored_at_end, is_catch_all, sources, unescaped_dot, with_same_policy, Source};
use crate::{
    model::{cors::Origins, ExtKind},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "COR003",
    name: "cors-loose-origin-pattern",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports CORS origin patterns that accept more hosts than intended:
- flask-cors patterns not anchored with `$` (or `\Z`): flask-cors matches with
  `re.match`, anchored at the start only, so `r"https://app\.example\.com"`
  also accepts `https://app.example.com.evil.test`. Starlette's
  `allow_origin_regex` is matched whole (`fullmatch`) and is not reported for
  this;
- an unescaped `.` between name characters (`https://.*.example.com`,
  `^https://app.example.com$`): it matches any character, so
  `https://evilexample.com` passes, in either library;

and, with credentials allowed, any request header (`allow_headers="*"`,
`["*"]`): medium when written, low for flask-cors's default (`*` as well).
Catch-all patterns are COR001 / COR002.

## Why is this bad?
Attackers register whatever host a loose pattern accepts and then read the
API's responses from their page, with the user's cookies when credentials are
allowed. Allowing any header with credentials widens what such a page may send.

## Example
```python
CORS(app, origins=[r"https://.*\.example\.com"], supports_credentials=True)
```

Use instead:
```python
CORS(app, origins=[r"^https://([a-z0-9-]+\.)?example\.com$"], supports_credentials=True,
     allow_headers=["Content-Type", "X-CSRFToken"])
```
"#;

fn patterns(s: &Source) -> &[String] {
    match &s.policy.origins {
        Origins::Patterns(p) => p,
        _ => &[],
    }
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in sources(ctx.project) {
        let at = s.policy.origins_span.unwrap_or(s.span);
        for p in patterns(&s) {
            if is_catch_all(p, s.anchored_at_end()) {
                continue; // COR001 / COR002
            }
            if !s.anchored_at_end() && !is_anchored_at_end(p) {
                let f = ctx.finding(RULE.code, RULE.name, at, format!("the origin pattern `{p}` is not anchored with `$`: flask-cors matches it with re.match, so any origin that merely starts with a match (`…example.com.attacker.test`) passes"))
                    .with_fix("End the pattern with `$` (and escape its dots), or list exact origins.");
                out.push(with_same_policy(ctx, f, &s));
            }
            if unescaped_dot(p) {
                let f = ctx.finding(RULE.code, RULE.name, at, format!("the origin pattern `{p}` has an unescaped `.`, which matches any character: look-alike hosts such as `evilexample.com` pass"))
                    .with_fix("Escape literal dots as `\\.` (and anchor the pattern with `^...$`).");
                out.push(with_same_policy(ctx, f, &s));
            }
        }
        if s.policy.credentials != Some(true) {
            continue;
        }
        let Some(headers) = &s.policy.allow_headers else {
            continue;
        };
        if !headers.iter().any(|h| h == "*") {
            continue;
        }
        let (span, severity, message) = match s.policy.allow_headers_span {
            Some(span) => (span, Severity::Medium, format!("{} allows any request header together with credentials", s.library())),
            None if s.kind == ExtKind::Cors => (s.span, Severity::Low, "flask-cors allows any request header by default (`allow_headers=\"*\"`), here together with credentials".to_string()),
            None => continue,
        };
        let f = ctx
            .finding(RULE.code, RULE.name, span, message)
            .with_severity(severity)
            .with_fix("List the headers the frontend sends: allow_headers=[\"Content-Type\", \"X-CSRFToken\"].");
        out.push(with_same_policy(ctx, f, &s));
    }
    out
}
