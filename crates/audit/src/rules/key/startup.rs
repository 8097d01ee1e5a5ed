//! Startup checks on the secret key: a `raise`, `assert` or `sys.exit` under
//! a condition on `SECRET_KEY`, anywhere in the audited code but tests (module level,
//! `create_app()`, a config class's `init_app(app)`, an extension's
//! `init_app`). KEY003 takes them as "the app refuses to start without a
//! key"; a check that compares the key with its fallback literal also makes
//! that fallback one the app refuses to run with.

use crate::{
    model::Project,
    python::{
        facts::{PyFacts, RaiseKind},
        value::{Kind, Value},
    },
    source::FileId,
};

/// Whether a value mentions the secret key: `"SECRET_KEY"` (as in
/// `app.config["SECRET_KEY"]`), `app.secret_key`, a name `SECRET_KEY`.
fn mentions_key(v: &Value) -> bool {
    let mut hit = false;
    v.walk(&mut |x| match &x.kind {
        Kind::Str(s) if s.contains("SECRET_KEY") => hit = true,
        Kind::Ref(r)
            if r.attrs.iter().any(|a| a.eq_ignore_ascii_case("secret_key"))
                || r.qualified().is_some_and(|q| q.ends_with("SECRET_KEY")) =>
        {
            hit = true
        }
        _ => {}
    });
    hit
}

/// Whether a value mentions the string `literal`, written there or through
/// a constant (`DEFAULT_SECRET`, `WEAK_KEYS = ("dev", "change-me")`).
fn mentions_literal(project: &Project, file: FileId, v: &Value, literal: &str) -> bool {
    let resolver = project.resolver();
    let is_it = |x: &Value| x.as_str() == Some(literal);
    let mut hit = false;
    v.walk(&mut |x| {
        if hit {
            return;
        }
        if is_it(x) {
            hit = true;
            return;
        }
        if x.reference().is_some() {
            let (_, d) = resolver.deref(file, x);
            hit = is_it(d) || d.as_seq().is_some_and(|items| items.iter().any(is_it));
        }
    });
    hit
}

fn is_exit(c: &crate::python::value::Call) -> bool {
    c.func_name()
        .is_some_and(|n| n == "sys.exit" || n == "exit" || n == "os._exit")
}

/// Project functions that always stop the process: a `sys.exit()` or a
/// `raise` in their body outside any `if` (`def fatal_error(msg):
/// print(msg); sys.exit(1)`).
fn exiting_functions(project: &Project) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for (_, facts) in app_code(project) {
        let stops = facts
            .calls
            .iter()
            .filter(|c| is_exit(c.call()))
            .map(|c| (c.scope, c.guard))
            .chain(
                facts
                    .raises
                    .iter()
                    .filter(|r| r.kind == RaiseKind::Raise)
                    .map(|r| (r.scope, r.guard)),
            );
        // A function body starts with no guard of its own.
        for (scope, guard) in stops.filter(|&(scope, guard)| scope != 0 && guard == 0) {
            let _ = guard;
            if let Some(f) = facts.functions.iter().find(|f| f.scope == scope) {
                out.insert(f.qualified.to_string());
            }
        }
    }
    out
}

/// The conditions under which the project refuses to start: each `raise`
/// and `assert` (with the asserted test), and each `sys.exit()` or call of
/// a project function that always exits, with the tests around it.
fn checks<'a>(
    project: &'a Project,
    file: FileId,
    facts: &'a PyFacts,
    exiting: &'a std::collections::HashSet<String>,
) -> impl Iterator<Item = Vec<&'a Value>> + 'a {
    let tests = |guard| {
        facts
            .guards_of(guard)
            .into_iter()
            .map(|g| g.test.as_ref())
            .collect::<Vec<_>>()
    };
    let raises = facts.raises.iter().map(move |r| {
        let mut t = tests(r.guard);
        if let (RaiseKind::Assert, Some(v)) = (r.kind, &r.value) {
            t.push(v);
        }
        t
    });
    let exits = facts
        .calls
        .iter()
        .filter(move |c| {
            is_exit(c.call())
                || (!exiting.is_empty()
                    && matches!(
                        project.resolver().resolve(file, &c.call().func).target,
                        crate::model::index::Target::Function(q) if exiting.contains(&q)
                    ))
        })
        .map(move |c| tests(c.guard));
    raises.chain(exits)
}

/// The audited Python files that run in production: a check in a test
/// (`assert app.config["SECRET_KEY"] == "dev"`) stops nothing.
fn app_code(project: &Project) -> impl Iterator<Item = (FileId, &PyFacts)> {
    project
        .python()
        .filter(|(file, _)| project.file(*file).is_none_or(|f| !f.is_test))
}

/// Whether any audited code refuses to start under a condition on the
/// secret key (`if not app.config.get("SECRET_KEY"): raise ...`, `assert
/// app.config["SECRET_KEY"]`), or on the environment variable it is read
/// from (`secret = os.environ.get("APP_SECRET")` then `if not secret:
/// raise ...`, where the name reads as the lookup).
pub fn checks_key(project: &Project, variable: Option<&str>) -> bool {
    let mentions_variable = |v: &Value| {
        let Some(var) = variable else {
            return false;
        };
        let mut hit = false;
        v.walk(&mut |x| hit |= x.as_str() == Some(var));
        hit
    };
    let exiting = exiting_functions(project);
    app_code(project).any(|(file, facts)| {
        checks(project, file, facts, &exiting)
            .any(|t| t.iter().any(|v| mentions_key(v) || mentions_variable(v)))
    })
}

/// Whether any audited code refuses to start when the secret key is the
/// fallback `literal`: a condition that mentions both
/// (`if app.config["SECRET_KEY"] == "dev" and not app.debug: raise ...`,
/// `assert SECRET_KEY not in WEAK_KEYS`).
pub fn refuses_fallback(project: &Project, literal: &str) -> bool {
    let exiting = exiting_functions(project);
    app_code(project).any(|(file, facts)| {
        checks(project, file, facts, &exiting).any(|t| {
            t.iter().any(|v| mentions_key(v))
                && t.iter()
                    .any(|v| mentions_literal(project, file, v, literal))
        })
    })
}
