//! What a `**opts` spread passes (`Limiter(key_func, app=app,
//! **LIMITER_OPTS)`): the items of a mapping the source spells out and no
//! code changes afterwards.

use super::Project;
use crate::{
    python::value::{Kind, Value},
    source::FileId,
};

/// The items of a `**opts` spread the source spells out: a dict literal
/// with string keys, or `dict(key=...)`, written there or bound to a name
/// (a module constant, also imported) that no audited code changes in place
/// (`OPTS["k"] = ...`, `OPTS.update(...)`). None when it cannot be read whole.
pub(super) fn spread_items<'a>(
    project: &'a Project,
    file: FileId,
    v: &'a Value,
) -> Option<(FileId, Vec<(&'a str, &'a Value)>)> {
    let resolver = project.resolver();
    let (dfile, d) = resolver.deref(file, v);
    let mut out = Vec::new();
    match &d.kind {
        Kind::Dict(items) => {
            for (k, value) in items.iter() {
                out.push((k.as_ref()?.as_str()?, value));
            }
        }
        Kind::Call(c) if c.func.qualified().as_deref() == Some("dict") => {
            if !c.args.is_empty() || c.spread {
                return None;
            }
            for (k, value) in c.kwargs.iter() {
                out.push((k.as_deref()?, value));
            }
        }
        _ => return None,
    }
    if changed_in_place(project, dfile, d) {
        return None;
    }
    Some((dfile, out))
}

/// Whether audited code changes the mapping written at `d` in place:
/// `OPTS["k"] = ...`, `OPTS |= ...`, `OPTS.update(...)`, `.setdefault`,
/// `.pop`, `.clear`. A name bound to a literal reads as the literal itself,
/// so the mapping is recognised by where it is written.
fn changed_in_place(project: &Project, dfile: FileId, d: &Value) -> bool {
    let resolver = project.resolver();
    project.python().any(|(file, facts)| {
        let is_it = |x: &Value| {
            let (f, y) = resolver.deref(file, x);
            f == dfile && y.range == d.range
        };
        facts.assigns.iter().any(|a| match &a.target.kind {
            Kind::Subscript(base, _) => is_it(base),
            _ => a.augmented && is_it(&a.target),
        }) || facts.calls.iter().any(|c| {
            let func = &c.call().func;
            let (recv, method) = match &func.kind {
                Kind::Attr(base, name) => (Some(base.as_ref().clone()), name.as_str()),
                Kind::Ref(r) => (c.call().receiver(), r.last_name()),
                _ => return false,
            };
            matches!(
                method,
                "update" | "setdefault" | "pop" | "popitem" | "clear"
            ) && recv.is_some_and(|r| is_it(&r))
        })
    })
}
