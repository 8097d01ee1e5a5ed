//! INJ003 `template-source-from-request`: request data in a template's source.

use checklist::Severity;
use report::Finding;

use super::sql::{pieces, uncontrolled};
use crate::{
    model::{flow::request_origin, index::Target},
    python::{
        taint::Sink,
        value::{Kind, Root},
    },
    rules::{
        request_data::{callee, origin_words, with_built_here, with_origin},
        Rule, RuleContext,
    },
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "INJ003",
    name: "template-source-from-request",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds templates whose *source* is built at run time: `render_template_string`
(Flask, Quart), `jinja2.Template(...)`, and `from_string(...)` on Flask's
`jinja_env` or a `jinja2.Environment`:
- **critical** when request data reaches the source (directly, through local
  variables, or through helpers that receive it);
- **high** when the source is built with an f-string, `%`, `.format()` or `+`
  from values the code does not control (a parameter, a database row).

Sources built only from literals and module constants, templates rendered with
the data passed as variables (`render_template_string(SRC, name=name)`) and
`jinja2.sandbox.SandboxedEnvironment` are silent.

## Why is this bad?
Jinja templates are code. Request data pasted into the source is evaluated:
`{{ config }}` prints the `SECRET_KEY`, and well-known payloads reach `os` and
`subprocess` (remote code execution). Escaping does not help: it applies to
values passed into a template, not to its source.

## Example
```python
name = request.args.get("name", "world")
return render_template_string(f"<h1>Hello {name}!</h1>")
```

Use instead:
```python
return render_template_string("<h1>Hello {{ name }}!</h1>", name=name)
```
"#;

const RENDER: &[&str] = &[
    "flask.render_template_string",
    "flask.templating.render_template_string",
    "quart.render_template_string",
    "quart.templating.render_template_string",
];
const TEMPLATE: &[&str] = &["jinja2.Template", "jinja2.environment.Template"];
const ENVIRONMENTS: &[&str] = &["jinja2.Environment", "jinja2.environment.Environment"];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let resolver = project.resolver();
    let mut out = Vec::new();
    for (file, _, call) in
        project.calls_named(&["render_template_string", "Template", "from_string"])
    {
        let c = call.call();
        let name = c.callee_name().unwrap_or_default();
        let is_sink = match name {
            "from_string" => {
                // Flask's `app.jinja_env` / `current_app.jinja_env`, or an
                // Environment the project creates (not a sandboxed one).
                let on_flask_env = c
                    .func_ref()
                    .is_some_and(|r| r.second_last_name() == Some("jinja_env"));
                on_flask_env
                    || c.receiver().is_some_and(|recv| {
                        let r = resolver.resolve(file, &recv);
                        match (&r.target, r.attrs.is_empty()) {
                            (Target::Object(site), true) => resolver
                                .call(*site)
                                .and_then(|ctor| {
                                    resolver
                                        .resolve(site.file, &ctor.call().func)
                                        .external_name()
                                })
                                .is_some_and(|n| ENVIRONMENTS.contains(&n.as_str())),
                            _ => false,
                        }
                    })
            }
            "Template" => {
                callee(project, file, call).is_some_and(|n| TEMPLATE.contains(&n.as_str()))
            }
            _ => callee(project, file, call).is_some_and(|n| RENDER.contains(&n.as_str())),
        };
        if !is_sink {
            continue;
        }
        let Some(source) = c.param(0, "source") else {
            continue;
        };
        let span = Span::new(file, call.range());
        let fix = "Keep the template source constant and pass data as variables: `render_template_string(\"<h1>Hello {{ name }}</h1>\", name=name)`, or render user-written templates in `jinja2.sandbox.SandboxedEnvironment`.";
        let finding = if let Some(origin) = request_origin(project, file, source, Sink::Template) {
            let f = ctx.finding(
                RULE.code,
                RULE.name,
                span,
                format!("`{name}` renders a template whose source contains {}: Jinja code in it runs on the server", origin_words(ctx, origin)),
            );
            with_origin(ctx, f, origin)
        } else {
            let numeric = |r: &crate::python::value::Ref| match &r.root {
                Root::Param { func, .. } => project.routes.iter().any(|rt| &rt.function == func),
                _ => false,
            };
            let Some(parts) = pieces(source) else {
                continue;
            };
            let Some(loose) = parts.iter().find_map(|p| match p {
                super::sql::Piece::Val { value, .. }
                    if !matches!(value.kind, Kind::Str(_)) && uncontrolled(value, &numeric, 0) =>
                {
                    Some(*value)
                }
                _ => None,
            }) else {
                continue;
            };
            ctx.finding(
                RULE.code,
                RULE.name,
                span,
                format!("`{name}` renders a template whose source is built by string formatting from `{}`: if that ever holds user input, it runs as Jinja code", loose.render()),
            )
            .with_severity(Severity::High)
        };
        let mut finding = finding.with_fix(fix).with_evidence(ctx.snippet(span));
        finding = with_built_here(ctx, finding, file, source, span, "the template source");
        out.push(finding);
    }
    out
}
