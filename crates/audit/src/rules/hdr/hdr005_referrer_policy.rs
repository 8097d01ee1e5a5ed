//! HDR005 `unsafe-referrer-policy`: a Referrer-Policy that sends full URLs to
//! other sites.

use report::Finding;

use super::talismans;
use crate::{
    rules::{Rule, RuleContext},
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "HDR005",
    name: "unsafe-referrer-policy",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports a `Referrer-Policy` of `unsafe-url` or `no-referrer-when-downgrade`
configured in flask-talisman's `referrer_policy`, set by the code on
responses, or added by nginx `add_header`. In a comma-separated list the
last policy the browser knows wins, so the last one is judged. Leaving the
header out is not reported here: browsers then use
`strict-origin-when-cross-origin`, which is safe (`scan` reports the header
missing).

## Why is this bad?
Both values send the full URL, path and query string included, to every site
a page links to or loads from (`unsafe-url` even over plain HTTP). Reset
tokens, session ids in URLs, search terms and internal paths leak to
analytics, CDNs and any linked site.

## Example
```python
Talisman(app, referrer_policy="unsafe-url")
```

Use instead:
```python
Talisman(app, referrer_policy="strict-origin-when-cross-origin")
```
"#;

/// Policy tokens browsers know (the last known one in a list applies).
const KNOWN: &[&str] = &[
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];

/// The policy a header value puts in effect, when it is an unsafe one.
fn unsafe_policy(value: &str) -> Option<String> {
    let effective = value
        .split(',')
        .map(|t| {
            t.trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_ascii_lowercase()
        })
        .rfind(|t| KNOWN.contains(&t.as_str()))?;
    matches!(
        effective.as_str(),
        "unsafe-url" | "no-referrer-when-downgrade"
    )
    .then_some(effective)
}

fn finding(ctx: &RuleContext, span: Span, policy: &str) -> Finding {
    ctx.finding(
        RULE.code,
        RULE.name,
        span,
        format!("Referrer-Policy `{policy}` sends full page URLs (paths and query strings) to other sites"),
    )
    .with_fix("Use strict-origin-when-cross-origin (Talisman's default) or no-referrer.")
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for ext in talismans(project) {
        let Some(o) = ext.opt("referrer_policy") else {
            continue;
        };
        let (_, v) = project.resolver().deref(o.file, &o.value);
        if let Some(p) = v.as_str().and_then(unsafe_policy) {
            out.push(finding(ctx, o.span, &p));
        }
    }
    for (w, s) in project.header_values("referrer-policy") {
        if let Some(p) = unsafe_policy(s) {
            out.push(finding(ctx, w.span, &p));
        }
    }
    for n in &project.deploy.nginx {
        for (name, value, span) in &n.add_headers {
            if name == "referrer-policy" {
                if let Some(p) = unsafe_policy(value) {
                    out.push(finding(ctx, *span, &p));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unsafe_policy;

    #[test]
    fn the_last_known_policy_wins() {
        assert_eq!(unsafe_policy("unsafe-url").as_deref(), Some("unsafe-url"));
        assert_eq!(unsafe_policy("unsafe-url, strict-origin"), None);
        assert_eq!(
            unsafe_policy("no-referrer, no-referrer-when-downgrade, made-up").as_deref(),
            Some("no-referrer-when-downgrade")
        );
        assert_eq!(unsafe_policy("strict-origin-when-cross-origin"), None);
    }
}
