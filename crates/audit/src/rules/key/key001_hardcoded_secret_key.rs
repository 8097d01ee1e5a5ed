//! KEY001 `hardcoded-secret-key`: a string literal as the Flask secret key.

use report::Finding;

use crate::rules::{common, Rule, RuleContext};

pub const RULE: Rule = Rule {
    code: "KEY001",
    name: "hardcoded-secret-key",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds a string literal used as the Flask secret key: assigned to `SECRET_KEY`
in a config class production loads (base classes included) or in any config
class not named for development or tests, `app.secret_key = "..."`,
`app.config["SECRET_KEY"] = "..."`, `config.update(SECRET_KEY=...)`,
`from_mapping`, a constant imported from another module, and the fallback of
`os.getenv("SECRET_KEY", "...")`. Values read from the environment without a
literal are not reported.

## Why is this bad?
The secret key signs the session cookie. Whoever knows it can forge a session
for any user (`{"user_id": 1, "role": "admin"}`), and a key in source control is
known to everyone who can read the repository, its forks and its CI logs.

## Example
```python
class Config:
    SECRET_KEY = "dev-secret-key-1234"
```

Use instead:
```python
class Config:
    SECRET_KEY = os.environ["SECRET_KEY"]  # python -c "import secrets; print(secrets.token_hex(32))"
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for (app, site) in common::secret_key_entries(project) {
        let Some(lit) = common::secret_literal(project, site.file(), site.value()) else {
            continue;
        };
        let message = if lit.fallback {
            "the secret key falls back to a string literal written in the source"
        } else {
            "the secret key is a string literal written in the source"
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, site.span(), message)
            .with_fix("Read SECRET_KEY from the environment or a secrets manager, with no literal fallback.")
            .with_evidence(ctx.snippet(site.span()));
        let lit_span = crate::source::Span::new(lit.file, lit.literal.range);
        if lit.file != site.file()
            || !(site.span().start..=site.span().end).contains(&lit_span.start)
        {
            f = f.with_related(ctx.at(lit_span), "the literal is defined here");
        }
        if let Some(app) = app.and_then(|a| project.apps.get(a)) {
            f = ctx.with_production(f, app);
        }
        out.push(f);
    }
    out
}
