//! Helpers for the rules on request data (INP, INJ): where the data comes
//! from, for messages and related locations, and what a sink call resolves to.

use report::Finding;

use crate::{
    model::{flow::Origin, index::Target, Project},
    python::{facts::CallFact, value::Value},
    rules::RuleContext,
    source::{FileId, Span},
};

/// Adds "request data passed in here" when the data arrives through a caller.
pub fn with_origin(ctx: &RuleContext, finding: Finding, origin: Origin) -> Finding {
    match origin {
        Origin::Direct => finding,
        Origin::Caller(span) => finding.with_related(
            ctx.at(span),
            format!("request data is passed in at {}", ctx.describe(span)),
        ),
    }
}

/// "from request data" / "from request data passed in at app.py:12".
pub fn origin_words(ctx: &RuleContext, origin: Origin) -> String {
    match origin {
        Origin::Direct => "request data".into(),
        Origin::Caller(span) => format!("request data (passed in at {})", ctx.describe(span)),
    }
}

/// The dotted name a call's callee resolves to (`flask.redirect`,
/// `subprocess.run`), through imports, aliases and re-exports.
pub fn callee(project: &Project, file: FileId, call: &CallFact) -> Option<String> {
    crate::rules::common::callee(project, file, call)
}

/// Whether a value resolves to an object created by a call to one of `ctors`
/// (`db.text` where `db = SQLAlchemy()`), with `attrs` left over.
pub fn object_method_of(
    project: &Project,
    file: FileId,
    v: &Value,
    ctors: &[&str],
    method: &str,
) -> bool {
    let resolver = project.resolver();
    let r = resolver.resolve(file, v);
    let (Target::Object(site), [m]) = (&r.target, r.attrs.as_slice()) else {
        return false;
    };
    if m != method {
        return false;
    }
    resolver
        .call(*site)
        .and_then(|c| resolver.resolve(site.file, &c.call().func).external_name())
        .is_some_and(|n| ctors.contains(&n.as_str()))
}

/// A span on the line where a value was built, when it is not the sink's line
/// (`q = f"..."` above `cursor.execute(q)`).
pub fn built_elsewhere(project: &Project, file: FileId, v: &Value, sink: Span) -> Option<Span> {
    let built = Span::new(file, v.range);
    let line = |s: Span| project.describe(s);
    (built.start < sink.start || built.end > sink.end)
        .then_some(built)
        .filter(|b| line(*b) != line(sink))
}

/// Adds "<what> is built here" pointing at the line where `v` was built, when
/// that is not the sink's line.
pub fn with_built_here(
    ctx: &RuleContext,
    finding: Finding,
    file: FileId,
    v: &Value,
    sink: Span,
    what: &str,
) -> Finding {
    match built_elsewhere(ctx.project, file, v, sink) {
        Some(b) => finding.with_related(ctx.at(b), format!("{what} is built here")),
        None => finding,
    }
}

/// The version a requirement is pinned to (`==1.7.1` → `[1, 7, 1]`), from the
/// requirements files or pyproject dependencies; None when unpinned or absent.
pub fn pinned_version(project: &Project, package: &str) -> Option<Vec<u64>> {
    let wanted = crate::deploy::requirements::normalize_name(package);
    project
        .deploy
        .requirements
        .iter()
        .chain(project.deploy.pyprojects.iter().flat_map(|p| p.deps.iter()))
        .filter(|r| r.name == wanted)
        .find_map(|r| r.pinned.as_deref())
        .map(|v| {
            v.split('.')
                .map(|p| {
                    p.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse()
                        .unwrap_or(0)
                })
                .collect()
        })
}

/// Whether `version` is below `bound` (`[5, 4]`).
pub fn version_below(version: &[u64], bound: &[u64]) -> bool {
    for (i, b) in bound.iter().enumerate() {
        let v = version.get(i).copied().unwrap_or(0);
        if v != *b {
            return v < *b;
        }
    }
    false
}
