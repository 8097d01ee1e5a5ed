//! ERR001 `exception-text-in-response`: error handlers that send exception
//! text or tracebacks to the client.

use report::Finding;

use super::{handler_function, HandlerKind};
use crate::{
    model::Project,
    python::{
        facts::{GuardId, PyFacts},
        value::{BinOp, Kind, Name, Root, Value},
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
  `InternalServerError` or `HTTPException`;
- the same exception text sent by a route view (a Flask-RESTful / RESTX
  resource method included) — returned, or as the message of an HTTP error
  (`raise HTTPException(status_code=500, detail=str(e))`,
  `abort(500, description=str(e))`, `ns.abort(400, f"... {e}")`) — from its own
  `except Exception as e:` (also `OSError`, and database, cache and HTTP
  client errors: `sqlite3`, `sqlalchemy`, `psycopg`, `pymongo`, `redis`,
  `requests`...). Views that catch narrower exceptions (`ValueError`,
  `KeyError`) usually answer with input errors and are not reported, and so
  are answers given only under `if isinstance(e, QuotaExceeded):` inside a
  broad `except` (the same narrowing, written as a test).

Handlers for HTTP errors (`404`, `NotFound`, `HTTPException`, FastAPI's
`HTTPException`, validation errors) and for the project's own exception
classes carry messages written for clients and are not reported for `str(e)`.
Values built in local variables are followed into the `return`, and so is a
project helper the handler returns with the exception (`return
error_response(e)`: that helper's returns are read); returns
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
fn param_attrs<'v>(v: &'v Value, func: &str, param: &str) -> Option<&'v [Name]> {
    let r = v.reference()?;
    match &r.root {
        Root::Param { func: f, name, .. } if f == func && name == param => Some(&r.attrs),
        _ => None,
    }
}

/// Recognises the handler's exception parameter.
fn param_matcher<'p>(
    func: &'p str,
    param: &'p str,
) -> impl for<'a> Fn(&'a Value) -> Option<&'a [Name]> + 'p {
    move |v| param_attrs(v, func, param)
}

/// Recognises `e` of an `except ... as e:` clause.
fn local_matcher(name: &str) -> impl for<'a> Fn(&'a Value) -> Option<&'a [Name]> + '_ {
    move |v| {
        let r = v.reference()?;
        matches!(&r.root, Root::Local(n) if n == name).then_some(r.attrs.as_slice())
    }
}

/// Every leak in a returned value: (span, what leaks).
/// `exc_attrs` says whether a value is the exception (with its attribute
/// path), `param` names it in messages.
fn leaks(
    v: &Value,
    file: FileId,
    exc_attrs: &dyn for<'a> Fn(&'a Value) -> Option<&'a [Name]>,
    param: &str,
    kind: HandlerKind,
    out: &mut Vec<(Span, String)>,
) {
    let is_e = |v: &Value| exc_attrs(v).is_some_and(<[Name]>::is_empty);
    let start = out.len();
    v.walk(&mut |x| {
        let found: Option<String> = match &x.kind {
            Kind::Call(c) => match c.func_name().as_deref() {
                Some(n) if TRACEBACK.contains(&n) => Some(format!("{n}()")),
                Some(n @ ("str" | "repr" | "format")) if kind.text() && c.arg(0).is_some_and(is_e) => {
                    Some(format!("{n}({param})"))
                }
                _ if kind.text()
                    && matches!(&c.func.kind, Kind::Attr(base, m) if m.as_str() == "format" && matches!(base.kind, Kind::Str(_)))
                    && c.args.iter().any(is_e) =>
                {
                    Some(format!("\"...\".format({param})"))
                }
                _ => None,
            },
            // `f"{e}"`, also with a conversion or a spec (`f"{e!r}"`).
            Kind::FString(parts)
                if kind.text()
                    && parts.iter().any(|p| {
                        is_e(p) || crate::python::format::formatted_field(p).is_some_and(|(x, ..)| is_e(x))
                    }) =>
            {
                Some(format!("f\"{{{param}}}\""))
            }
            Kind::BinOp(BinOp::Mod, left, right)
                if kind.text()
                    && matches!(left.kind, Kind::Str(_))
                    && (is_e(right) || right.as_seq().is_some_and(|s| s.iter().any(is_e))) =>
            {
                Some(format!("\"...\" % {param}"))
            }
            Kind::Ref(_) => match exc_attrs(x) {
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
    // A leak inside another (`repr(e)` in `f"{e!r}"`) is the same leak.
    let all = out.split_off(start);
    for (i, (span, what)) in all.iter().enumerate() {
        let inside = all.iter().enumerate().any(|(j, (outer, _))| {
            j != i
                && outer.start <= span.start
                && span.end <= outer.end
                && (outer.start, outer.end) != (span.start, span.end)
        });
        if !inside {
            out.push((*span, what.clone()));
        }
    }
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
        let exc = param_matcher(&func.qualified, &param);
        for (i, r) in func.returns.iter().enumerate() {
            let guard = func.return_guards.get(i).copied().unwrap_or(0);
            if debug_only(facts, guard) {
                continue;
            }
            leaks(r, file, &exc, &param, kind, &mut found);
            // `return render_error(e)`: what the project helper returns.
            for (hfile, helper, hparam) in helpers_given_exception(project, file, r, &exc) {
                let Some(hfacts) = project.py.get(hfile as usize).and_then(Option::as_ref) else {
                    continue;
                };
                let hexc = param_matcher(&helper.qualified, &hparam);
                let mut through = Vec::new();
                for (j, hr) in helper.returns.iter().enumerate() {
                    let guard = helper.return_guards.get(j).copied().unwrap_or(0);
                    if !debug_only(hfacts, guard) {
                        leaks(hr, hfile, &hexc, &hparam, kind, &mut through);
                    }
                }
                found.extend(
                    through
                        .into_iter()
                        .map(|(span, what)| (span, format!("{what}` through `{}", helper.name))),
                );
            }
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
    out.extend(view_leaks(ctx, &mut seen));
    out
}

/// Project functions a handler's return value calls with the exception
/// (`return error_response(e)`), each with the parameter that receives it.
fn helpers_given_exception<'p>(
    project: &'p Project,
    file: FileId,
    returned: &Value,
    exc: &dyn for<'a> Fn(&'a Value) -> Option<&'a [Name]>,
) -> Vec<(FileId, &'p crate::python::facts::FunctionFact, String)> {
    let resolver = project.resolver();
    let mut out = Vec::new();
    returned.walk(&mut |x| {
        let Kind::Call(c) = &x.kind else { return };
        let Some(pos) = c
            .args
            .iter()
            .position(|a| exc(a).is_some_and(<[Name]>::is_empty))
        else {
            return;
        };
        let crate::model::index::Target::Function(q) = resolver.resolve(file, &c.func).target
        else {
            return;
        };
        let Some((hfile, helper)) = resolver.function(&q) else {
            return;
        };
        let skip = usize::from(helper.method_of.is_some());
        if let Some(p) = helper.params.get(pos + skip) {
            if !out.iter().any(
                |(_, h, _): &(FileId, &crate::python::facts::FunctionFact, String)| {
                    h.qualified == helper.qualified
                },
            ) {
                out.push((hfile, helper, p.name.to_string()));
            }
        }
    });
    out
}

/// Exception types whose text is about internals when a view catches them:
/// everything (`Exception`), OS errors (paths), and database, cache and HTTP
/// client libraries.
fn reveals_internals(project: &Project, file: FileId, types: &Value) -> bool {
    if let Some(items) = types.as_seq() {
        return items.iter().any(|t| reveals_internals(project, file, t));
    }
    let Some(name) = project.resolver().resolve(file, types).external_name() else {
        return false;
    };
    const LIBRARIES: &[&str] = &[
        "sqlite3.",
        "sqlalchemy.",
        "psycopg2.",
        "psycopg.",
        "pymysql.",
        "MySQLdb.",
        "pymongo.",
        "redis.",
        "requests.",
        "httpx.",
        "botocore.",
        "subprocess.",
    ];
    matches!(
        name.as_str(),
        "Exception" | "BaseException" | "OSError" | "IOError" | "EnvironmentError"
    ) || LIBRARIES.iter().any(|l| name.starts_with(l))
}

/// Route views that return the text of an exception they caught:
/// `except Exception as e: return {"error": str(e)}, 500`.
fn view_leaks(ctx: &RuleContext, seen: &mut std::collections::HashSet<Span>) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let mut views = std::collections::HashSet::new();
    for route in &project.routes {
        if !views.insert(route.function.as_str()) {
            continue;
        }
        let Some((file, func)) = project.resolver().function(&route.function) else {
            continue;
        };
        let Some(facts) = project.py.get(file as usize).and_then(Option::as_ref) else {
            continue;
        };
        let excepts: Vec<_> = facts
            .excepts
            .iter()
            .filter(|e| {
                facts
                    .function_of(e.scope)
                    .is_some_and(|f| f.scope == func.scope)
                    && e.types
                        .as_ref()
                        .is_some_and(|t| reveals_internals(project, file, t))
            })
            .collect();
        if excepts.is_empty() {
            continue;
        }
        // A class-based view's method by its class: `ItemAPI.post`.
        let view = match route.class.as_deref() {
            Some(class) => format!(
                "{}.{}",
                class.rsplit('.').next().unwrap_or(class),
                func.name
            ),
            None => func.name.to_string(),
        };
        // What the view answers: its returns, and the message of an HTTP
        // error it raises or aborts with (`raise HTTPException(500,
        // detail=str(e))`, `abort(500, description=str(e))`, `ns.abort(400,
        // f"...{e}")`).
        let errors = facts
            .calls
            .iter()
            .filter(|c| c.scope == func.scope && !debug_only(facts, c.guard))
            .filter_map(|c| error_message(project, file, c.call()).map(|m| (m, c.guard)));
        let returns = func
            .returns
            .iter()
            .enumerate()
            .map(|(i, r)| (r, func.return_guards.get(i).copied().unwrap_or(0)))
            .filter(|(_, g)| !debug_only(facts, *g));
        for (r, guard) in returns.chain(errors) {
            for e in excepts.iter().filter(|e| {
                e.range.contains_range(r.range) && !narrowed(project, file, facts, guard, &e.name)
            }) {
                let mut found = Vec::new();
                let exc = local_matcher(&e.name);
                leaks(r, file, &exc, &e.name, HandlerKind::Exception, &mut found);
                for (span, what) in found {
                    if !seen.insert(span) {
                        continue;
                    }
                    out.push(
                        ctx.finding(RULE.code, RULE.name, span, format!("the view `{view}` sends `{what}` of an exception it caught to the client: exception text reveals internals"))
                            .with_fix("Log the exception (current_app.logger.exception(...)) and return a generic message with the status code."),
                    );
                }
            }
        }
    }
    out
}

/// Whether a statement runs only when the caught exception `e` is of a type
/// meant for clients (`if isinstance(e, QuotaExceeded):` around it, inside
/// `except Exception as e:`): the view answers that type as if it had caught
/// it alone.
fn narrowed(project: &Project, file: FileId, facts: &PyFacts, guard: GuardId, e: &str) -> bool {
    facts.guards_of(guard).iter().any(|g| {
        if g.negated {
            return false;
        }
        let Some(call) = g.test.as_call() else {
            return false;
        };
        if call.func_name().as_deref() != Some("isinstance") {
            return false;
        }
        let is_e = call
            .arg(0)
            .and_then(Value::reference)
            .is_some_and(|r| r.attrs.is_empty() && matches!(&r.root, Root::Local(n) if n == e));
        is_e && call
            .arg(1)
            .is_some_and(|t| !reveals_internals(project, file, t))
    })
}

/// The client-facing message of an HTTP error a view raises or aborts with:
/// the arguments after the status of `abort(...)` (Flask, Flask-RESTful,
/// `api.abort` / `ns.abort` of Flask-RESTX), the `detail` of FastAPI's or
/// Starlette's `HTTPException`, the description of a werkzeug HTTP exception.
fn error_message<'v>(
    project: &Project,
    file: FileId,
    call: &'v crate::python::value::Call,
) -> Option<&'v Value> {
    let last = call.last_name()?;
    let name = project
        .resolver()
        .resolve(file, &call.func)
        .external_name()
        .unwrap_or_default();
    if last == "abort" {
        // `abort(code, description)`, `ns.abort(code, message, **kwargs)`.
        call.kwarg("description")
            .or_else(|| call.kwarg("message"))
            .or_else(|| call.args.get(1))
    } else if last == "HTTPException" || last == "WebSocketException" {
        // FastAPI/Starlette: (status_code, detail); werkzeug: (description).
        call.kwarg("detail")
            .or_else(|| call.kwarg("reason"))
            .or_else(|| call.kwarg("description"))
            .or_else(|| {
                if name.starts_with("werkzeug") {
                    call.args.first()
                } else {
                    call.args.get(1)
                }
            })
    } else if name.starts_with("werkzeug.exceptions.") {
        // `raise InternalServerError(description=str(e))`.
        call.kwarg("description").or_else(|| call.args.first())
    } else {
        None
    }
}
