//! INJ001 `sql-built-from-strings`: SQL text built by formatting and run.

use checklist::Severity;
use report::Finding;

use super::sql::{literal_text, looks_like_sql, pieces, uncontrolled_values};
use crate::{
    model::flow::request_origin,
    python::{
        taint::Sink,
        value::{Ref, Root, Value},
    },
    rules::{
        request_data::{callee, object_method_of, origin_words, with_built_here, with_origin},
        Rule, RuleContext,
    },
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "INJ001",
    name: "sql-built-from-strings",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds SQL text built with f-strings, `%`, `.format()`, `+` or `str.join` and
passed to a DB-API cursor or connection (`execute`, `executemany`,
`executescript`), SQLAlchemy (`text()`, `Session.execute`,
`Connection.exec_driver_sql`, `db.text`), Django-style `.raw()` or pandas
`read_sql`:
- **critical** when request data reaches the text: `request.args`, `form`,
  `json`, `get_json()`, `values`, `cookies`, `headers`, `view_args`, route
  variables, FastAPI parameters, followed through local variables, `+=`, helper
  functions that return what they are given, and up to three calls deep into
  helpers that receive it (`find_user(request.args["email"])`);
- **medium** when the text puts a value the code does not control (a function
  parameter or a database row) in a value position (`=
  '{email}'`, `LIKE '%{q}%'`, `IN ({ids})`): the audit cannot see where that
  value comes from, and quoting by hand is the shape of injection.

Values made safe (`int()`, `float()`, `uuid.UUID()`, `len()`, a lookup in a
constant mapping), identifiers from constants (`FROM {TABLE}`), numbers
(`%d`), placeholders built from literals (`",".join("?" * len(ids))`,
`", ".join(["%s"] * width)`), parameters that every call in the project
gives a literal or a module constant (`copy_column(conn, "users", "email")`) and
parameterized queries (a literal SQL string and a parameters tuple or mapping)
are silent.

## Why is this bad?
When user input becomes part of the SQL text, the user writes the query: `'
OR '1'='1` logs in without a password, `UNION SELECT` reads other tables.
`text()` does not escape anything; it only marks a string as SQL.

## Example
```python
email = request.json["email"]
cur.execute(f"SELECT id FROM users WHERE email = '{email}'")
```

Use instead:
```python
cur.execute("SELECT id FROM users WHERE email = ?", (email,))
db.session.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email})
```
"#;

const CURSOR_METHODS: &[&str] = &["execute", "executemany", "executescript", "exec_driver_sql"];

const TEXT_FUNCTIONS: &[&str] = &[
    "sqlalchemy.text",
    "sqlalchemy.sql.text",
    "sqlalchemy.sql.expression.text",
    "sqlalchemy.sql.elements.text",
    "sqlalchemy.TextClause",
    "sqlalchemy.sql.elements.TextClause",
    "sqlmodel.text",
];

const SQLALCHEMY_OBJECTS: &[&str] = &[
    "flask_sqlalchemy.SQLAlchemy",
    "flask_sqlalchemy.extension.SQLAlchemy",
];

const PANDAS: &[&str] = &[
    "pandas.read_sql",
    "pandas.read_sql_query",
    "pd.read_sql",
    "pd.read_sql_query",
];

/// Receiver names that say "database": `cursor.execute`, `db.session.execute`,
/// `get_db().execute`, `conn.exec_driver_sql`.
fn database_receiver(call: &crate::python::value::Call) -> bool {
    let Some(recv) = call.receiver() else {
        return false;
    };
    let Some(r) = recv.reference() else {
        return false;
    };
    let name = r.last_name().to_ascii_lowercase();
    [
        "cur",
        "conn",
        "db",
        "session",
        "engine",
        "sql",
        "database",
        "transaction",
        "tx",
    ]
    .iter()
    .any(|w| name.contains(w))
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let names = [
        "execute",
        "executemany",
        "executescript",
        "exec_driver_sql",
        "text",
        "raw",
        "read_sql",
        "read_sql_query",
    ];
    for (file, _, call) in project.calls_named(&names) {
        let c = call.call();
        let method = c.callee_name().unwrap_or_default();
        let sql = if CURSOR_METHODS.contains(&method) {
            c.arg(0).or_else(|| {
                ["sql", "statement", "operation", "query", "sql_script"]
                    .iter()
                    .find_map(|k| c.kwarg(k))
            })
        } else if method == "text" {
            c.param(0, "text")
        } else {
            c.param(0, "sql").or_else(|| c.kwarg("raw_query"))
        };
        let Some(sql) = sql else { continue };
        // `execute(text(...))`: the text() call is judged on its own.
        if sql.as_call().and_then(|s| s.callee_name()) == Some("text") {
            continue;
        }
        let is_sql_call = match method {
            "text" => {
                callee(project, file, call).is_some_and(|n| TEXT_FUNCTIONS.contains(&n.as_str()))
                    || object_method_of(project, file, &c.func, SQLALCHEMY_OBJECTS, "text")
            }
            "read_sql" | "read_sql_query" => {
                callee(project, file, call).is_some_and(|n| PANDAS.contains(&n.as_str()))
            }
            "raw" => false,
            _ => database_receiver(c),
        };
        let built = pieces(sql);
        let reads_as_sql = built
            .as_ref()
            .map_or_else(|| false, |p| looks_like_sql(&literal_text(p)));
        let span = Span::new(file, call.range());
        if let Some(origin) = request_origin(project, file, sql, Sink::Sql) {
            let whole = built.is_none();
            if !(reads_as_sql || is_sql_call && (whole || sql.is_dynamic_string())) {
                continue;
            }
            let message = if whole {
                format!(
                    "`{method}` runs SQL text that is {} itself",
                    origin_words(ctx, origin)
                )
            } else {
                format!(
                    "SQL text built by string formatting from {} is passed to `{method}`",
                    origin_words(ctx, origin)
                )
            };
            out.push(finish(
                ctx,
                with_origin(
                    ctx,
                    ctx.finding(RULE.code, RULE.name, span, message),
                    origin,
                ),
                file,
                sql,
                span,
            ));
            continue;
        }
        let Some(built) = built else { continue };
        if !reads_as_sql {
            continue;
        }
        // Parameters of route handlers that are not request text are numbers
        // (`<int:id>`, `id: int`).
        // Parameters every caller in the project gives a literal or a module
        // constant (`_backfill(conn, "users", "email")`) are controlled too.
        let route_param = |r: &Ref| match &r.root {
            Root::Param { func, .. } => project.routes.iter().any(|rt| &rt.function == func),
            _ => false,
        } || constant_param(project, r);
        let loose = uncontrolled_values(&built, &route_param);
        let Some(first) = loose.first() else { continue };
        let message = format!(
            "SQL text puts `{}` into a quoted or compared value by string formatting; the audit cannot tell where it comes from",
            first.render()
        );
        out.push(
            finish(
                ctx,
                ctx.finding(RULE.code, RULE.name, span, message),
                file,
                sql,
                span,
            )
            .with_severity(Severity::Medium),
        );
    }
    out
}

/// Whether a parameter gets a literal or a module constant from every call
/// of its function in the project (and there is at least one), or its
/// literal default where a call leaves it out.
fn constant_param(project: &crate::model::Project, r: &Ref) -> bool {
    let Root::Param { func, index, name } = &r.root else {
        return false;
    };
    if !r.attrs.is_empty() {
        return false;
    }
    let resolver = project.resolver();
    let Some((_, fact)) = resolver.function(func) else {
        return false;
    };
    let index = *index as usize;
    let Some(param) = fact.params.get(index) else {
        return false;
    };
    let constant = |v: &Value| match &v.kind {
        crate::python::value::Kind::Str(_)
        | crate::python::value::Kind::Int(_)
        | crate::python::value::Kind::Float(_)
        | crate::python::value::Kind::Bool(_) => true,
        crate::python::value::Kind::Ref(r) => {
            matches!(r.root, Root::Global(_))
                && !r.qualified().is_some_and(|q| {
                    crate::python::REQUEST_OBJECTS
                        .iter()
                        .any(|o| q.starts_with(o))
                })
        }
        _ => false,
    };
    let skip_self = usize::from(fact.method_of.is_some());
    let callers = project.index.callers(func);
    if callers.is_empty() || callers.len() > 64 {
        return false;
    }
    callers.iter().all(|&(cfile, ci)| {
        let Some(call) = resolver.facts(cfile).and_then(|f| f.calls.get(ci)) else {
            return false;
        };
        let c = call.call();
        if c.spread {
            return false;
        }
        let arg = c
            .kwarg(name)
            .or_else(|| index.checked_sub(skip_self).and_then(|i| c.args.get(i)));
        match arg {
            Some(a) => constant(a),
            None => param.default.as_deref().is_some_and(constant),
        }
    })
}

fn finish(
    ctx: &RuleContext,
    f: Finding,
    file: crate::source::FileId,
    sql: &Value,
    span: Span,
) -> Finding {
    let mut f = f
        .with_evidence(ctx.snippet(span))
        .with_fix("Keep the SQL text a literal and pass values as parameters: `cur.execute(\"... WHERE email = ?\", (email,))`, `text(\"... :email\")` with `{\"email\": email}`. Map identifiers (sort columns) through a fixed dict.");
    f = with_built_here(ctx, f, file, sql, span, "the SQL text");
    f
}
