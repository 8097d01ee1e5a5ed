//! One use of a factory: the factory's parameters bound to the use's
//! arguments, and the rule, methods and other values of the registration
//! inside read through them.

use super::super::Project;
use crate::{
    python::{
        facts::{FunctionFact, ParamKind, PyFacts},
        value::{Call, Kind, Root, Site, Value},
    },
    source::FileId,
};

/// The parameter of `func` a value is (its index), with the attributes read
/// from it.
pub(super) fn param_of<'v>(
    v: &'v Value,
    func: &str,
) -> Option<(usize, &'v [crate::python::value::Name])> {
    match &v.reference()?.root {
        Root::Param { func: f, index, .. } if f.as_str() == func => {
            Some((*index as usize, v.reference()?.attrs.as_slice()))
        }
        _ => None,
    }
}

/// Whether a value mentions a parameter or a local of a function (so it
/// cannot be read without the call that passes it).
pub(super) fn mentions_locals(v: &Value) -> bool {
    match &v.kind {
        Kind::Ref(r) => matches!(r.root, Root::Param { .. } | Root::Local(_)),
        Kind::BinOp(_, a, b) => mentions_locals(a) || mentions_locals(b),
        Kind::FString(parts) | Kind::List(parts) | Kind::Tuple(parts) | Kind::Set(parts) => {
            parts.iter().any(mentions_locals)
        }
        Kind::Call(c) => mentions_locals(&c.func) || c.args.iter().any(mentions_locals),
        _ => false,
    }
}

/// One use of a factory: the call and how its arguments meet the factory's
/// parameters.
pub(super) struct Use<'a> {
    pub(super) file: FileId,
    pub(super) call: &'a Call,
    /// Leading parameters bound without an argument (`self`, `cls`).
    pub(super) skip: usize,
    /// The helper object a method factory is called on.
    pub(super) instance: Option<Site>,
}

impl<'a> Use<'a> {
    /// The use's positional argument `i` (after the bound ones), when no
    /// `*spread` comes before it.
    pub(super) fn arg(&self, i: usize) -> Option<&'a Value> {
        if self.call.star.as_ref().is_some_and(|s| s.0 <= i) {
            return None;
        }
        self.call.args.get(i)
    }

    /// What the use passes for parameter `index` of the factory, else the
    /// parameter's default.
    pub(super) fn param<'b>(
        &self,
        ffile: FileId,
        ffn: &'b FunctionFact,
        index: usize,
        name: &str,
    ) -> Option<(FileId, &'b Value)>
    where
        'a: 'b,
    {
        let p = ffn.params.get(index)?;
        let passed = match p.kind {
            ParamKind::Positional => self
                .call
                .kwarg(name)
                .or_else(|| index.checked_sub(self.skip).and_then(|i| self.arg(i))),
            ParamKind::KeywordOnly => self.call.kwarg(name),
            ParamKind::VarArgs | ParamKind::VarKeywords => return None,
        };
        match passed {
            Some(v) => Some((self.file, v)),
            None => {
                // A spread may pass it.
                if self.call.spread {
                    return None;
                }
                p.default.as_deref().map(|d| (ffile, d))
            }
        }
    }

    /// A value written in the factory, with the factory's parameters bound to
    /// this use's arguments; None when it depends on what cannot be known.
    pub(super) fn bind<'b>(
        &self,
        ffile: FileId,
        ffn: &'b FunctionFact,
        v: &'b Value,
    ) -> Option<(FileId, &'b Value)>
    where
        'a: 'b,
    {
        if let Some((i, attrs)) = param_of(v, &ffn.qualified) {
            if !attrs.is_empty() {
                return None;
            }
            let name = &ffn.params.get(i)?.name;
            return self.param(ffile, ffn, i, name);
        }
        (!mentions_locals(v)
            || matches!(
                v.kind,
                Kind::BinOp(..) | Kind::FString(_) | Kind::List(_) | Kind::Tuple(_)
            ))
        .then_some((ffile, v))
    }

    /// Positional argument `i` of the registration `c` in the factory, with
    /// `*args` of the factory spread from this use's arguments.
    pub(super) fn positional<'b>(
        &self,
        ffile: FileId,
        ffn: &'b FunctionFact,
        c: &'b Call,
        i: usize,
    ) -> Option<(FileId, &'b Value)>
    where
        'a: 'b,
    {
        if let Some(star) = c.star.as_deref() {
            if i >= star.0 {
                let (va, attrs) = param_of(&star.1, &ffn.qualified)?;
                if !attrs.is_empty() || ffn.params.get(va)?.kind != ParamKind::VarArgs {
                    return None;
                }
                let at = (va + i - star.0).checked_sub(self.skip)?;
                return self.arg(at).map(|v| (self.file, v));
            }
        }
        self.bind(ffile, ffn, c.args.get(i)?)
    }

    /// Keyword argument `name` of the registration `c` in the factory, also
    /// through a `**kwargs` of the factory: None when not passed, Some(None)
    /// when passed but not readable.
    pub(super) fn keyword<'b>(
        &self,
        ffile: FileId,
        ffn: &'b FunctionFact,
        facts: Option<&'b PyFacts>,
        c: &'b Call,
        name: &str,
    ) -> Option<Option<(FileId, &'b Value)>>
    where
        'a: 'b,
    {
        if let Some(v) = c.kwarg(name) {
            return Some(self.bind(ffile, ffn, v));
        }
        let forwards = c.kwargs.iter().any(|(k, v)| {
            k.is_none()
                && param_of(v, &ffn.qualified).is_some_and(|(i, a)| {
                    a.is_empty()
                        && ffn
                            .params
                            .get(i)
                            .is_some_and(|p| p.kind == ParamKind::VarKeywords)
                })
        });
        let kwargs_param = c.kwargs.iter().find_map(|(k, v)| {
            let (i, a) = param_of(v, &ffn.qualified).filter(|_| k.is_none())?;
            (a.is_empty()
                && ffn
                    .params
                    .get(i)
                    .is_some_and(|p| p.kind == ParamKind::VarKeywords))
            .then_some(i)
        });
        if !forwards || ffn.params.iter().any(|p| p.name.as_str() == name) {
            // A `**spread` the factory does not take from its caller may set it.
            if c.kwargs.iter().any(|(k, _)| k.is_none()) && !forwards {
                return Some(None);
            }
            return None;
        }
        // What the factory itself puts into its `**kwargs` before passing
        // them on: `kwargs["methods"] = [...]` wins, `kwargs.setdefault(
        // "methods", [...])` when the use passes none.
        let (set, default) = match (facts, kwargs_param) {
            (Some(facts), Some(i)) => factory_sets(facts, ffn, i, name),
            _ => (None, None),
        };
        if let Some(v) = set {
            return Some(self.bind(ffile, ffn, v));
        }
        match self.call.kwarg(name) {
            Some(v) => Some(Some((self.file, v))),
            None if self.call.kwargs.iter().any(|(k, _)| k.is_none()) => Some(None),
            None => default.map(|v| self.bind(ffile, ffn, v)),
        }
    }
}

/// The HTTP methods a list written in the factory or passed by the use
/// names, its items bound through the use (`methods=[method]`).
pub(super) fn bound_methods(
    usage: &Use,
    ffile: FileId,
    ffn: &FunctionFact,
    (vfile, v): (FileId, &Value),
) -> Option<Vec<String>> {
    let items = v.as_seq()?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let m = if vfile == ffile {
            usage.bind(ffile, ffn, item)?.1
        } else {
            item
        };
        out.push(m.as_str()?.to_ascii_uppercase());
    }
    Some(out)
}

/// The rule text of a value written in the factory or passed by the use, its
/// parts bound through the use (`prefix + rule`).
pub(super) fn bound_rule(
    project: &Project,
    usage: &Use,
    ffile: FileId,
    ffn: &FunctionFact,
    (vfile, v): (FileId, &Value),
) -> Option<String> {
    if vfile != ffile || !mentions_locals(v) {
        return Some(super::super::routes::rule_text(project, vfile, v));
    }
    match &v.kind {
        Kind::BinOp(crate::python::value::BinOp::Add, a, b) => {
            let a = bound_rule(project, usage, ffile, ffn, usage.bind(ffile, ffn, a)?)?;
            let b = bound_rule(project, usage, ffile, ffn, usage.bind(ffile, ffn, b)?)?;
            Some(a + &b)
        }
        Kind::FString(parts) => {
            let mut out = String::new();
            for p in parts.iter() {
                out.push_str(&bound_rule(
                    project,
                    usage,
                    ffile,
                    ffn,
                    usage.bind(ffile, ffn, p)?,
                )?);
            }
            Some(out)
        }
        _ => {
            let bound = usage.bind(ffile, ffn, v)?;
            if bound.0 == ffile && std::ptr::eq(bound.1, v) {
                return None;
            }
            bound_rule(project, usage, ffile, ffn, bound)
        }
    }
}

/// What a factory writes into its `**kwargs` parameter (index `kw`) under
/// `name` in its body (also in the decorator it returns): `(kwargs["name"] = v, kwargs.setdefault("name", v))`,
/// each the last one written.
pub(in crate::model) fn factory_sets<'b>(
    facts: &'b PyFacts,
    ffn: &FunctionFact,
    kw: usize,
    name: &str,
) -> (Option<&'b Value>, Option<&'b Value>) {
    let is_kwargs =
        |v: &Value| param_of(v, &ffn.qualified).is_some_and(|(i, a)| i == kw && a.is_empty());
    let set = facts
        .assigns
        .iter()
        .filter(|a| facts.scope_within(a.scope, ffn.scope) && !a.augmented)
        .filter_map(|a| match &a.target.kind {
            Kind::Subscript(base, key) if is_kwargs(base) && key.as_str() == Some(name) => {
                Some(&a.value)
            }
            _ => None,
        })
        .next_back();
    let default = facts
        .calls
        .iter()
        .filter(|c| facts.scope_within(c.scope, ffn.scope))
        .filter_map(|c| {
            let call = c.call();
            let r = call.func.reference()?;
            let Root::Param { func, index, .. } = &r.root else {
                return None;
            };
            (func.as_str() == ffn.qualified.as_str()
                && *index as usize == kw
                && r.attrs.len() == 1
                && r.attrs[0].as_str() == "setdefault"
                && call.arg(0)?.as_str() == Some(name))
            .then(|| call.arg(1))
            .flatten()
        })
        .next_back();
    (set, default)
}
