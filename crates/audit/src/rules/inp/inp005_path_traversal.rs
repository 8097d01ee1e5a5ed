//! INP005 `path-from-request`: file APIs given a path built from request data.

use report::Finding;

use crate::{
    model::{flow::request_origin, Project},
    python::{
        facts::{PyFacts, ScopeId},
        taint::Sink,
        value::{CmpOp, Kind, Root, Value},
    },
    rules::{
        request_data::{callee, origin_words, with_built_here, with_origin},
        Rule, RuleContext,
    },
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "INP005",
    name: "path-from-request",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds file APIs whose path comes from the request: `send_file`, the
*directory* of `send_from_directory`, `open`/`io.open`/`codecs.open`,
`pathlib.Path(...)` reads and writes, `os.remove`/`unlink`/`rename`/`listdir`,
`shutil.copy`/`move`/`rmtree`, and FastAPI/Starlette `FileResponse`. Request data
(`request.args`, `form`, `json`, `values`, `cookies`, `path` route variables,
FastAPI parameters) is followed through `os.path.join`, f-strings and helpers
that receive it.

Silent: `send_from_directory(DIR, name)` (Werkzeug's `safe_join` answers 404 for
paths that leave `DIR`), names passed through `secure_filename`,
`os.path.basename` or `safe_join`, views that check containment
(`is_relative_to`, `commonpath`, `startswith` on the resolved path, a `".."`
test, a project helper given the path that does one of these or tests
`base in path.parents`, or a membership test of the request value in a
literal list of names, a module-level collection or `os.listdir(...)`), route variables without the `path` converter (they
cannot hold a `/`), FastAPI parameters typed with an `Enum` class (FastAPI
accepts only its values), and Starlette's `request.user` / `request.auth`
(set by the authentication middleware, not sent by the client).

## Why is this bad?
`os.path.join(BASE, name)` accepts `../../etc/passwd` and drops `BASE` when
`name` is absolute. A download view built that way serves `.env`,
`config.py`, keys and `/proc/self/environ`; a write overwrites code.

## Example
```python
name = request.args["name"]
return send_file(os.path.join("/srv/files", name))
```

Use instead:
```python
@app.get("/download/<path:name>")
def download(name):
    return send_from_directory("/srv/files", name, as_attachment=True)
```
"#;

/// Dotted callee, and which arguments (index, keyword) are paths.
const SINKS: &[(&str, &[(usize, &str)])] = &[
    ("flask.send_file", &[(0, "path_or_file")]),
    ("flask.helpers.send_file", &[(0, "path_or_file")]),
    ("quart.send_file", &[(0, "filename_or_io")]),
    ("werkzeug.utils.send_file", &[(0, "path_or_file")]),
    ("flask.send_from_directory", &[(0, "directory")]),
    ("flask.helpers.send_from_directory", &[(0, "directory")]),
    ("werkzeug.utils.send_from_directory", &[(0, "directory")]),
    ("fastapi.responses.FileResponse", &[(0, "path")]),
    ("starlette.responses.FileResponse", &[(0, "path")]),
    ("open", &[(0, "file")]),
    ("io.open", &[(0, "file")]),
    ("codecs.open", &[(0, "filename")]),
    ("os.remove", &[(0, "path")]),
    ("os.unlink", &[(0, "path")]),
    ("os.rmdir", &[(0, "path")]),
    ("os.rename", &[(0, "src"), (1, "dst")]),
    ("os.listdir", &[(0, "path")]),
    ("os.scandir", &[(0, "path")]),
    ("shutil.rmtree", &[(0, "path")]),
    ("shutil.copy", &[(0, "src"), (1, "dst")]),
    ("shutil.copyfile", &[(0, "src"), (1, "dst")]),
    ("shutil.copy2", &[(0, "src"), (1, "dst")]),
    ("shutil.move", &[(0, "src"), (1, "dst")]),
];

/// `pathlib.Path(...)` methods that touch the file.
const PATH_METHODS: &[&str] = &[
    "open",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "unlink",
];

const PATH_CTORS: &[&str] = &["pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let names = [
        "send_file",
        "send_from_directory",
        "FileResponse",
        "open",
        "remove",
        "unlink",
        "rmdir",
        "rename",
        "listdir",
        "scandir",
        "rmtree",
        "copy",
        "copyfile",
        "copy2",
        "move",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
    ];
    for (file, facts, call) in project.calls_named(&names) {
        let c = call.call();
        let name = callee(project, file, call);
        let mut paths: Vec<&Value> = Vec::new();
        if let Some((_, params)) = name
            .as_deref()
            .and_then(|n| SINKS.iter().find(|(s, _)| *s == n))
        {
            paths.extend(params.iter().filter_map(|(i, k)| c.param(*i, k)));
        } else if c.callee_name().is_some_and(|m| PATH_METHODS.contains(&m)) {
            // `Path(base, name).read_text()`, `(Path(BASE) / name).open()`.
            if let Some(p) = path_object(project, c) {
                paths.push(p);
            }
        }
        for path in paths {
            if is_file_object(path) {
                continue;
            }
            let Some(origin) = request_origin(project, file, path, Sink::Path) else {
                continue;
            };
            if checks_containment(project, file, facts, call.scope, path) {
                continue;
            }
            let span = Span::new(file, call.range());
            let short = c.callee_name().unwrap_or("open");
            let mut f = ctx
                .finding(
                    RULE.code,
                    RULE.name,
                    span,
                    format!(
                        "`{short}` gets a file path built from {}: `../` or an absolute path reaches files outside the intended directory",
                        origin_words(ctx, origin)
                    ),
                )
                .with_evidence(ctx.snippet(span))
                .with_fix("Serve files with `send_from_directory(BASE, name)`, or resolve the path and check `resolved.is_relative_to(BASE)` before using it; better, look files up by id.");
            f = with_origin(ctx, f, origin);
            f = with_built_here(ctx, f, file, path, span, "the path");
            out.push(f);
            break;
        }
    }
    out
}

/// The `pathlib.Path` value a method is called on.
fn path_object<'a>(project: &'a Project, c: &'a crate::python::value::Call) -> Option<&'a Value> {
    let is_path_ctor = |v: &Value| {
        v.as_call()
            .and_then(|ctor| ctor.func_name())
            .is_some_and(|n| PATH_CTORS.contains(&n.as_str()))
    };
    match &c.func.kind {
        // `(Path(BASE) / name).open()`
        Kind::Attr(base, _) => {
            let mut found = false;
            base.walk(&mut |v| found |= is_path_ctor(v));
            found.then_some(base.as_ref())
        }
        // `Path(x).open()`: a method of the object the call created.
        Kind::Ref(r) => match &r.root {
            Root::Obj { site, ctor } if PATH_CTORS.contains(&ctor.as_str()) => {
                let call = project.resolver().creating_call(*site, ctor)?;
                Some(&call.value)
            }
            _ => None,
        },
        _ => None,
    }
}

/// `send_file(io.BytesIO(...))`, `send_file(request.files["f"])`: a file
/// object, not a path.
fn is_file_object(v: &Value) -> bool {
    match &v.kind {
        Kind::Call(c) => {
            c.func_name()
                .is_some_and(|n| matches!(n.as_str(), "io.BytesIO" | "io.StringIO"))
                || c.func_name()
                    .is_some_and(|n| n.starts_with("flask.request.files"))
        }
        Kind::Subscript(base, _) => base
            .qualified()
            .is_some_and(|q| q.starts_with("flask.request.files")),
        _ => false,
    }
}

/// Whether every request value a path is built from (through f-strings, `+`
/// and `os.path.join`) is one of the `allowed` values (as written).
fn parts_allowed(
    v: &Value,
    allowed: &[String],
    fed: &dyn Fn(&Value) -> bool,
    depth: usize,
) -> bool {
    if depth > 16 {
        return false;
    }
    if !fed(v) || allowed.contains(&v.render()) {
        return true;
    }
    let d = depth + 1;
    match &v.kind {
        Kind::FString(parts) => parts.iter().all(|p| parts_allowed(p, allowed, fed, d)),
        Kind::BinOp(_, a, b) => {
            parts_allowed(a, allowed, fed, d) && parts_allowed(b, allowed, fed, d)
        }
        Kind::Call(c) if c.callee_name() == Some("join") => {
            c.kwargs.is_empty() && c.args.iter().all(|a| parts_allowed(a, allowed, fed, d))
        }
        _ => false,
    }
}

/// A literal list, tuple or set of plain names (no `/`, no `..`).
fn literal_names(v: &Value) -> bool {
    match &v.kind {
        Kind::List(items) | Kind::Tuple(items) | Kind::Set(items) => {
            !items.is_empty()
                && items.iter().all(|i| {
                    i.as_str()
                        .is_some_and(|s| !s.contains('/') && !s.contains('\\') && !s.contains(".."))
                })
        }
        _ => false,
    }
}

/// Whether a call is of a project function that checks a path stays inside a
/// directory: it calls `is_relative_to` / `relative_to` / `commonpath` /
/// `commonprefix`, or tests membership in a path's `.parents`.
fn containment_helper(project: &Project, file: FileId, call: &crate::python::value::Call) -> bool {
    let resolver = project.resolver();
    let r = resolver.resolve(file, &call.func);
    let (crate::model::index::Target::Function(q), true) = (&r.target, r.attrs.is_empty()) else {
        return false;
    };
    let Some((hfile, helper)) = resolver.function(q) else {
        return false;
    };
    let Some(hfacts) = resolver.facts(hfile) else {
        return false;
    };
    let calls = hfacts
        .calls
        .iter()
        .filter(|c| hfacts.scope_within(c.scope, helper.scope))
        .any(|c| {
            matches!(
                c.call().callee_name(),
                Some("is_relative_to" | "relative_to" | "commonpath" | "commonprefix")
            )
        });
    let parents = helper.returns.iter().any(|r| {
        let mut found = false;
        r.walk(&mut |v| {
            if let Kind::Compare(_, rest) = &v.kind {
                found |= rest.iter().any(|(op, right)| {
                    let parents = right
                        .reference()
                        .is_some_and(|r| r.last_name() == "parents")
                        || matches!(&right.kind, Kind::Attr(_, a) if a.as_str() == "parents");
                    matches!(op, CmpOp::In | CmpOp::NotIn) && parents
                });
            }
        });
        found
    });
    calls || parents
}

/// A collection of names the server holds: a module-level constant
/// (`ALLOWED_FILES`, `STATIC_NAMES = get_static_names()`) or a directory
/// listing (`os.listdir(BASE)`).
fn server_names(v: &Value) -> bool {
    match &v.kind {
        Kind::Ref(r) => matches!(r.root, Root::Global(_)),
        Kind::Call(c) => {
            c.func_name()
                .is_some_and(|n| matches!(n.as_str(), "os.listdir" | "set" | "frozenset"))
                && (c.func_name().as_deref() == Some("os.listdir")
                    || c.args.first().is_some_and(server_names))
        }
        _ => false,
    }
}

/// Whether the view checks that a path stays inside a directory.
fn checks_containment(
    project: &Project,
    file: FileId,
    facts: &PyFacts,
    scope: ScopeId,
    path: &Value,
) -> bool {
    let Some(func) = facts.function_of(scope) else {
        return false;
    };
    let within = |s: ScopeId| facts.scope_within(s, func.scope);
    let fed = |v: &Value| request_origin(project, file, v, Sink::Path).is_some();
    let by_call = facts.calls.iter().filter(|c| within(c.scope)).any(|c| {
        let call = c.call();
        match call.callee_name() {
            Some("is_relative_to" | "relative_to" | "commonpath" | "commonprefix") => true,
            Some("startswith") => match &call.func.kind {
                Kind::Attr(base, _) => fed(base),
                _ => call.receiver().is_some_and(|r| fed(&r)),
            },
            // `if not is_path_inside(path, BASE): abort(400)`: a project
            // helper given the path that checks containment itself.
            _ => {
                (call.args.iter().any(&fed) || call.kwargs.iter().any(|(_, a)| fed(a)))
                    && containment_helper(project, file, call)
            }
        }
    });
    // `if kind not in ("thumbs", "covers"): abort(404)`: the request value is
    // one of a few literal names. Every request value the path is built from
    // must be checked so.
    let mut allowed: Vec<String> = Vec::new();
    for g in facts
        .guards
        .iter()
        .filter(|g| g.scope != 0 && within(g.scope))
    {
        g.test.walk(&mut |v| {
            if let Kind::Compare(left, rest) = &v.kind {
                let listed = rest.iter().any(|(op, right)| {
                    matches!(op, CmpOp::In | CmpOp::NotIn)
                        && (literal_names(right) || server_names(right) && !fed(right))
                });
                if listed && fed(left) {
                    allowed.push(left.render());
                }
            }
        });
    }
    if !allowed.is_empty() && parts_allowed(path, &allowed, &fed, 0) {
        return true;
    }
    by_call
        || facts
            .guards
            .iter()
            .filter(|g| g.scope != 0 && within(g.scope))
            .any(|g| {
                let mut dots = false;
                g.test.walk(&mut |v| {
                    if let Kind::Compare(left, rest) = &v.kind {
                        dots |= left.as_str().is_some_and(|s| s.contains(".."))
                            && rest
                                .iter()
                                .any(|(op, _)| matches!(op, CmpOp::In | CmpOp::NotIn));
                    }
                });
                dots
            })
}
