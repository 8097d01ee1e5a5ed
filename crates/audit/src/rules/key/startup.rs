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

/// The conditions under which the project refuses to start: each `raise`
/// and `assert` (with the asserted test), and each `sys.exit()`, with the
/// tests around it.
fn checks<'a>(facts: &'a PyFacts) -> impl Iterator<Item = Vec<&'a Value>> + 'a {
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
        .filter(|c| {
            c.call()
                .func_name()
                .is_some_and(|n| n == "sys.exit" || n == "exit")
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
    app_code(project).any(|(_, facts)| {
        checks(facts).any(|t| t.iter().any(|v| mentions_key(v) || mentions_variable(v)))
    })
}

/// Whether any audited code refuses to start when the secret key is the
/// fallback `literal`: a condition that mentions both
/// (`if app.config["SECRET_KEY"] == "dev" and not app.debug: raise ...`,
/// `assert SECRET_KEY not in WEAK_KEYS`).
pub fn refuses_fallback(project: &Project, literal: &str) -> bool {
    app_code(project).any(|(file, facts)| {
        checks(facts).any(|t| {
            t.iter().any(|v| mentions_key(v))
                && t.iter()
                    .any(|v| mentions_literal(project, file, v, literal))
        })
    })
}
