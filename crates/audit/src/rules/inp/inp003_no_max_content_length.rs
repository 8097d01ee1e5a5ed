//! INP003 `no-max-content-length`: request bodies of any size are read.

use report::Finding;

use crate::{
    model::AppKind,
    python::value::Kind,
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "INP003",
    name: "no-max-content-length",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports a Flask app (at its `Flask(...)` line) whose production configuration
sets no `MAX_CONTENT_LENGTH` — across config classes, files and
`app.config[...]` writes — and that sets no per-request
`request.max_content_length` (Flask 3.1) either; and reports
`MAX_CONTENT_LENGTH = None` where it is written. A value from the environment
counts as set; when a config source cannot be read, nothing is reported.

`MAX_FORM_MEMORY_SIZE` and `MAX_FORM_PARTS` (Flask 3.1 defaults) do not count:
they bound form fields only, not JSON, raw or file bodies. A
`client_max_body_size` at an nginx proxy does not count either (it is shown as
related): the app server can often be reached around the proxy, and many
platforms' proxies allow far more.

## Why is this bad?
`MAX_CONTENT_LENGTH` defaults to `None`: `request.get_json()`, `request.data`
and `request.get_data()` read the whole body into memory, so a few huge POSTs
exhaust a worker, and slow uploads hold synchronous workers for as long as the
client likes.

## Example
```python
app = Flask(__name__)
```

Use instead:
```python
app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    // `request.max_content_length = ...` (Flask 3.1, per request).
    let per_request = project.python().any(|(_, facts)| {
        facts
            .request_reads
            .iter()
            .any(|a| a.global && a.attr == "max_content_length")
    });
    let mut out = Vec::new();
    for app in project.apps.iter().filter(|a| a.kind == AppKind::Flask) {
        if project.file(app.span.file).is_none_or(|f| f.is_test) {
            continue;
        }
        let finding = match app.config.get("MAX_CONTENT_LENGTH") {
            Some(e) => {
                let (_, v) = project.resolver().deref(e.file, &e.value);
                if !matches!(v.kind, Kind::None) {
                    continue;
                }
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    e.span,
                    "`MAX_CONTENT_LENGTH` is None in the configuration production uses: request bodies of any size are read into memory",
                )
                .with_evidence(ctx.snippet(e.span))
            }
            None => {
                if app.config.incomplete || per_request {
                    continue;
                }
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    app.span,
                    "the app sets no `MAX_CONTENT_LENGTH`: request bodies of any size are read into memory",
                )
            }
        };
        let mut f = finding.with_fix(
            "Set MAX_CONTENT_LENGTH in the production config (e.g. 2 * 1024 * 1024 for a JSON API) and answer 413 with JSON; keep a matching client_max_body_size at the proxy.",
        );
        for conf in &project.deploy.nginx {
            for (size, span) in &conf.client_max_body_size {
                f = f.with_related(
                    ctx.at(*span),
                    format!("the proxy limits bodies to {size}, but the app itself does not"),
                );
            }
        }
        out.push(ctx.with_production(f, app));
    }
    out
}
