//! ERR001 `exception-text-in-response`: error handlers that send exception
//! text or tracebacks to the client.

use report::Finding;

use super::{handler_function, HandlerKind};
use crate::{
    python::{
        facts::{GuardId, PyFacts},
        value::{BinOp, Kind, Root, Value},
    },
    rules::{Rule, RuleContext},
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "ERR001",
    name: "exception-text-in-response",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reads what error handlers (`@app.errorhandler`, `register_error_handler`,
FastAPI's `@app.exception_handler`) return and reports:
- a traceback (`traceback.format_exc()`, `format_exception`, `format_tb`) in
  any handler;
- the exception's text — `str(e)`, `repr(e)`, `e.args`, `f"{e}"`,
  `"%s" % e`, `"{}".format(e)` — in a handler for exceptions that are not
  meant for clients: `Exception`, built-in and library exceptions
  (`sqlite3.Error`, `SQLAlchemyError`...);
- `e.original_exception` (the exception behind a 500) in a handler for 500,
  `InternalServerError` or `HTTPException`.

Handlers for HTTP errors (`404`, `NotFound`, `HTTPException`, FastAPI's
`HTTPException`, validation errors) and for the project's own exception
classes carry messages written for clients and are not reported for `str(e)`.
Values built in local variables are followed into the `return`; returns
that only happen in debug mode (`if app.debug:` / `if config.DEBUG:` around
them) are not reported.

## Why is this bad?
Exception text describes internals: SQL and table names, file paths, host
names, library versions, sometimes data from other users. Attackers use it to
map the system and to refine injection payloads. The client needs a status and
a generic message; the details belong in the log.

## Example
```python
@app.errorhandler(Exception)
def error(e):
    return jsonify(error=str(e)), 500
```

Use instead:
```python
@app.errorhandler(Exception)
def error(e):
    app.logger.exception("unhandled error")
    return jsonify(error="Internal server error"), 500
```
"#;

const TRACEBACK: &[&str] = &[
    "traceback.format_exc",
    "traceback.format_exception",
    "traceback.format_exception_only",
    "traceback.format_tb",
    "traceback.format_stack",
];

/// The attribute path on the handler's exception parameter (`e.args` ->
/// `["args"]`), when the value is that parameter.
fn param_attrs<'v>(v: &'v Value, func: &str, param: &str) -> Option<&'v [String]> {
    let r = v.reference()?;
    match &r.root {
        Root::Param { func: f, name, .. } if f == func && name == param => Some(&r.attrs),
        _ => None,
    }
}

/// Every leak in a returned value: (span, what leaks).
fn leaks(
    v: &Value,
    file: FileId,
    func: &str,
    param: &str,
    kind: HandlerKind,
    out: &mut Vec<(Span, String)>,
) {
    let is_e = |v: &Value| param_attrs(v, func, param).is_some_and(<[String]>::is_empty);
    v.walk(&mut |x| {
        let found: Option<String> = match &x.kind {
            Kind::Call(c) => match c.func_name().as_deref() {
                Some(n) if TRACEBACK.contains(&n) => Some(format!("{n}()")),
                Some(n @ ("str" | "repr" | "format")) if kind.text() && c.arg(0).is_some_and(is_e) => {
                    Some(format!("{n}({param})"))
                }
                _ if kind.text()
                    && matches!(&c.func.kind, Kind::Attr(base, m) if m == "format" && matches!(base.kind, Kind::Str(_)))
                    && c.args.iter().any(is_e) =>
                {
                    Some(format!("\"...\".format({param})"))
                }
                _ => None,
            },
            Kind::FString(parts) if kind.text() && parts.iter().any(is_e) => {
                Some(format!("f\"{{{param}}}\""))
            }
            Kind::BinOp(BinOp::Mod, left, right)
                if kind.text()
                    && matches!(left.kind, Kind::Str(_))
                    && (is_e(right) || right.as_seq().is_some_and(|s| s.iter().any(is_e))) =>
            {
                Some(format!("\"...\" % {param}"))
            }
            Kind::Ref(_) => match param_attrs(x, func, param) {
                Some([a]) if a == "args" && kind.text() => Some(format!("{param}.args")),
                Some([a, ..]) if a == "original_exception" && kind.original() => {
                    Some(format!("{param}.original_exception"))
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(what) = found {
            out.push((Span::new(file, x.range), what));
        }
    });
}

/// Whether a value names debug mode (`DEBUG`, `app.debug`, `config["DEBUG"]`,
/// `config.get("DEBUG")`).
fn names_debug(v: &Value) -> bool {
    let mut found = false;
    v.walk(&mut |x| {
        found |= match &x.kind {
            Kind::Ref(r) => r.last_name().eq_ignore_ascii_case("debug"),
            Kind::Str(s) => s == "DEBUG",
            _ => false,
        };
    });
    found
}

/// Whether a statement runs only in debug mode (`if app.debug:` around it).
fn debug_only(facts: &PyFacts, guard: GuardId) -> bool {
    facts
        .guards_of(guard)
        .iter()
        .any(|g| !g.negated && names_debug(&g.test) && !matches!(g.test.kind, Kind::Not(_)))
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for h in &project.error_handlers {
        let kind = HandlerKind::of(project, h);
        let Some((file, func, param)) = handler_function(project, h) else {
            continue;
        };
        let Some(facts) = project.py.get(file as usize).and_then(Option::as_ref) else {
            continue;
        };
        let mut found = Vec::new();
        for (i, r) in func.returns.iter().enumerate() {
            let guard = func.return_guards.get(i).copied().unwrap_or(0);
            if debug_only(facts, guard) {
                continue;
            }
            leaks(r, file, &func.qualified, &param, kind, &mut found);
        }
        for (span, what) in found {
            if !seen.insert(span) {
                continue;
            }
            out.push(
                ctx.finding(RULE.code, RULE.name, span, format!("the error handler `{}` sends `{what}` to the client: exception text reveals internals", func.name))
                    .with_fix("Log the exception (app.logger.exception(...)) and return a generic message with the status code.")
                    .with_related(ctx.at(h.span), "registered here"),
            );
        }
    }
    out
}
