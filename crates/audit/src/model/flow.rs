//! Request data across functions: the project's answer to what one function
//! cannot tell ([`taint::Flow`]).
//!
//! - A parameter of a view that no route decorator marks (a class-based view's
//!   method, a function given to `add_url_rule`) is a URL variable of its
//!   routes' rules: request text unless its converter is numeric.
//! - A parameter of a plain function holds request data when a caller passes
//!   some (`find_user(request.args["email"])` into `def find_user(email)`), up to
//!   three calls deep.
//! - A call of a project function returns request data when one of its return
//!   values is built from a parameter that receives request data.
//! - An object a call created is request data when that call is
//!   (`request.files.get("f")`), not merely because request data went in
//!   (`User.query.filter_by(name=...).first()` is a database row).
//! - Flask-RESTX's `ns.payload` / `api.payload` of a project `Namespace` or
//!   `Api`, and `self.api.payload` in a resource, are the request's JSON body.
//! - Any other call (a library function the sanitiser and pass-through tables do
//!   not know) is taken to end the request data: precision first.
//!
//! Every walk is bounded by a step budget and a depth.

use std::cell::Cell;

use super::{index::Target, Project};
use crate::{
    python::{
        taint::{self, Flow, Sink},
        value::{Call, Ref, Root, Site, Value},
        NUMERIC_CONVERTERS,
    },
    source::{FileId, Span},
};

/// Calls followed into callers (or callees) at most.
const MAX_DEPTH: usize = 3;
/// Call sites of one function considered.
const MAX_CALLERS: usize = 16;
/// Steps one question may take in all.
const BUDGET: u32 = 512;

/// How request data reaches a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Read from the request in the same function, or a route parameter.
    Direct,
    /// Passed in by a caller: the call that passes it.
    Caller(Span),
}

/// How request data not cleaned for `sink` reaches `v` (a value in `file`), if
/// it does.
pub fn request_origin(project: &Project, file: FileId, v: &Value, sink: Sink) -> Option<Origin> {
    let budget = Cell::new(BUDGET);
    let mut flow = ProjectFlow {
        project,
        file,
        sink,
        depth: 0,
        budget: &budget,
        via: None,
    };
    if !taint::derived(v, sink, &mut flow) {
        return None;
    }
    Some(match flow.via {
        Some(span) => Origin::Caller(span),
        None => Origin::Direct,
    })
}

/// Whether request data not cleaned for `sink` reaches `v`.
pub fn is_request_data(project: &Project, file: FileId, v: &Value, sink: Sink) -> bool {
    request_origin(project, file, v, sink).is_some()
}

struct ProjectFlow<'a> {
    project: &'a Project,
    /// The file whose values are walked.
    file: FileId,
    sink: Sink,
    depth: usize,
    budget: &'a Cell<u32>,
    /// The first call found passing request data into the walked function.
    via: Option<Span>,
}

impl<'a> ProjectFlow<'a> {
    fn step(&self) -> bool {
        let left = self.budget.get();
        if left == 0 {
            return false;
        }
        self.budget.set(left - 1);
        true
    }

    fn nested(&self, file: FileId) -> ProjectFlow<'a> {
        ProjectFlow {
            project: self.project,
            file,
            sink: self.sink,
            depth: self.depth + 1,
            budget: self.budget,
            via: None,
        }
    }
}

impl ProjectFlow<'_> {
    /// A parameter of a view that no route decorator marks (a class-based
    /// view's method, a function given to `add_url_rule`): Flask passes the
    /// URL variables of its rules by name. Whether one of them carries text
    /// that can do harm at the sink (not `int`/`float`/`uuid`/`any`; for a path,
    /// only the `path` converter holds a `/`).
    fn url_variable(&self, func: &str, name: &str) -> bool {
        self.project
            .routes
            .iter()
            .filter(|rt| rt.function == func)
            .filter_map(|rt| converter(&rt.rule, name))
            .any(|c| match self.sink {
                Sink::Path => c == "path",
                _ => !NUMERIC_CONVERTERS.contains(&c),
            })
    }
}

impl Flow for ProjectFlow<'_> {
    fn route_param(&mut self, r: &Ref, sink: Sink) -> bool {
        if sink != Sink::Path {
            return true;
        }
        let Root::Param { func, name, .. } = &r.root else {
            return true;
        };
        // The rules of the handler's own route decorators (also of blueprint
        // classes the model does not know).
        let Some((_, f)) = self.project.resolver().function(func) else {
            return true;
        };
        let rules: Vec<&str> = f
            .decorators
            .iter()
            .filter(|d| crate::python::is_route_decorator(d))
            .filter_map(|d| d.as_call()?.param(0, "rule").and_then(Value::as_str))
            .chain(
                self.project
                    .routes
                    .iter()
                    .filter(|rt| &rt.function == func)
                    .map(|rt| rt.rule.as_str()),
            )
            .collect();
        // Only a variable every rule gives a converter without `/` is safe.
        rules.is_empty()
            || rules
                .iter()
                .any(|rule| converter(rule, name).is_none_or(|c| c == "path"))
    }

    fn closed_param(&mut self, r: &Ref) -> bool {
        let Root::Param { func, index, .. } = &r.root else {
            return false;
        };
        if !self.step() {
            return false;
        }
        let resolver = self.project.resolver();
        let Some((file, f)) = resolver.function(func) else {
            return false;
        };
        let Some(annotation) = f
            .params
            .get(*index as usize)
            .and_then(|p| p.annotation.as_deref())
        else {
            return false;
        };
        closed_annotation(self.project, file, annotation, 0)
    }

    fn param(&mut self, r: &Ref) -> bool {
        let Root::Param { func, index, name } = &r.root else {
            return false;
        };
        let index = *index as usize;
        if self.depth >= MAX_DEPTH || !self.step() {
            return false;
        }
        if r.attrs.is_empty() && self.url_variable(func, name) {
            return true;
        }
        let resolver = self.project.resolver();
        let Some((_, fact)) = resolver.function(func) else {
            return false;
        };
        let skip_self = usize::from(fact.method_of.is_some());
        for &(cfile, ci) in self.project.index.callers(func).iter().take(MAX_CALLERS) {
            let Some(call) = resolver.facts(cfile).and_then(|f| f.calls.get(ci)) else {
                continue;
            };
            let c = call.call();
            let arg = c
                .kwarg(name)
                .or_else(|| index.checked_sub(skip_self).and_then(|i| c.args.get(i)));
            let Some(arg) = arg else { continue };
            let mut inner = self.nested(cfile);
            if taint::derived(arg, self.sink, &mut inner) {
                self.via.get_or_insert(Span::new(cfile, call.range()));
                return true;
            }
        }
        false
    }

    fn object(&mut self, site: Site, ctor: &str, tainted: bool) -> bool {
        if !tainted || self.depth >= MAX_DEPTH || !self.step() {
            return false;
        }
        let Some(call) = self.project.resolver().creating_call(site, ctor) else {
            return tainted;
        };
        let mut inner = self.nested(site.file);
        let hit = taint::derived(&call.value, self.sink, &mut inner);
        if let Some(span) = inner.via {
            self.via.get_or_insert(span);
        }
        hit
    }

    fn body_attr(&mut self, r: &Ref) -> bool {
        self.step() && super::resources::is_restx_payload(self.project, self.file, r)
    }

    fn opaque_call(&mut self, call: &Call, fed: bool) -> bool {
        if !fed || self.depth >= MAX_DEPTH || !self.step() {
            return false;
        }
        let resolver = self.project.resolver();
        let r = resolver.resolve(self.file, &call.func);
        let (Target::Function(q), true) = (&r.target, r.attrs.is_empty()) else {
            return false;
        };
        let Some((ffile, fact)) = resolver.function(q) else {
            return false;
        };
        let skip_self = usize::from(fact.method_of.is_some());
        for ret in &fact.returns {
            let inner = self.nested(ffile);
            let mut summary = Summary {
                caller: self,
                callee: q,
                call,
                skip_self,
                inner,
            };
            if taint::derived(ret, summary.inner.sink, &mut summary) {
                return true;
            }
        }
        false
    }
}

/// A callee's return value walked with its parameters bound to one call's
/// arguments (walked in the caller).
struct Summary<'c, 'a> {
    caller: &'c mut ProjectFlow<'a>,
    callee: &'c str,
    call: &'c Call,
    skip_self: usize,
    inner: ProjectFlow<'a>,
}

impl Flow for Summary<'_, '_> {
    fn param(&mut self, r: &Ref) -> bool {
        match &r.root {
            Root::Param { func, index, name } if func == self.callee => {
                let arg = self.call.kwarg(name).or_else(|| {
                    (*index as usize)
                        .checked_sub(self.skip_self)
                        .and_then(|i| self.call.args.get(i))
                });
                arg.is_some_and(|a| taint::derived(a, self.inner.sink, self.caller))
            }
            _ => self.inner.param(r),
        }
    }

    fn object(&mut self, site: Site, ctor: &str, tainted: bool) -> bool {
        self.inner.object(site, ctor, tainted)
    }

    fn route_param(&mut self, r: &Ref, sink: Sink) -> bool {
        self.inner.route_param(r, sink)
    }

    fn opaque_call(&mut self, call: &Call, fed: bool) -> bool {
        self.inner.opaque_call(call, fed)
    }

    fn body_attr(&mut self, r: &Ref) -> bool {
        self.inner.body_attr(r)
    }
}

/// The converter of a variable in a route rule: `<path:name>` → `path`,
/// `<name>` → `string`, FastAPI `{name:path}` → `path`, `{name}` → `string`;
/// None when the rule does not name the variable (a query or body parameter).
pub fn converter<'a>(rule: &'a str, name: &str) -> Option<&'a str> {
    for (open, close) in [('<', '>'), ('{', '}')] {
        let mut rest = rule;
        while let Some(i) = rest.find(open) {
            let after = &rest[i + 1..];
            let Some(j) = after.find(close) else { break };
            let inner = &after[..j];
            let (conv, var) = match (open, inner.rsplit_once(':'), inner.split_once(':')) {
                ('<', Some((c, v)), _) => (c, v),
                ('{', _, Some((v, c))) => (c, v),
                _ => ("string", inner),
            };
            if var.trim() == name {
                return Some(conv.split('(').next().unwrap_or(conv).trim());
            }
            rest = &after[j + 1..];
        }
    }
    None
}

/// Whether an annotation admits only a closed set of values: an `Enum` class
/// (of the project, deriving from `enum.Enum` or its kin), optionally in
/// `Optional[...]`, `X | None` or `Annotated[X, ...]`.
fn closed_annotation(project: &Project, file: FileId, a: &Value, depth: usize) -> bool {
    use crate::python::value::{BinOp, Kind};
    if depth > 6 {
        return false;
    }
    match &a.kind {
        Kind::BinOp(BinOp::Other, l, r) => {
            let none = |v: &Value| matches!(v.kind, Kind::None);
            (none(l) || closed_annotation(project, file, l, depth + 1))
                && (none(r) || closed_annotation(project, file, r, depth + 1))
                && !(none(l) && none(r))
        }
        Kind::Subscript(base, inner) => {
            let outer = base.qualified().unwrap_or_default();
            let items: Vec<&Value> = match inner.as_seq() {
                Some(items) => items.iter().collect(),
                None => vec![inner.as_ref()],
            };
            match outer.rsplit('.').next().unwrap_or("") {
                "Optional" => items
                    .first()
                    .is_some_and(|v| closed_annotation(project, file, v, depth + 1)),
                "Annotated" => items
                    .first()
                    .is_some_and(|v| closed_annotation(project, file, v, depth + 1)),
                _ => false,
            }
        }
        Kind::Ref(_) => {
            let r = project.resolver().resolve(file, a);
            match (&r.target, r.attrs.is_empty()) {
                (Target::Class(q), true) => is_enum_class(project, q, 0),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether a project class derives (within a few levels) from `enum.Enum`,
/// `IntEnum`, `StrEnum`, `Flag` or `IntFlag`.
fn is_enum_class(project: &Project, class: &str, depth: usize) -> bool {
    if depth > 4 {
        return false;
    }
    let resolver = project.resolver();
    let Some((file, c)) = resolver.class(class) else {
        return false;
    };
    c.bases.iter().any(|b| {
        let r = resolver.resolve(file, b);
        match (&r.target, r.external_name()) {
            (_, Some(n))
                if matches!(
                    n.as_str(),
                    "enum.Enum" | "enum.IntEnum" | "enum.StrEnum" | "enum.Flag" | "enum.IntFlag"
                ) =>
            {
                true
            }
            (Target::Class(q), _) => is_enum_class(project, q, depth + 1),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::converter;

    #[test]
    fn converters_of_flask_and_fastapi_rules() {
        assert_eq!(converter("/f/<path:name>", "name"), Some("path"));
        assert_eq!(converter("/f/<name>", "name"), Some("string"));
        assert_eq!(converter("/f/<int:id>/<slug>", "slug"), Some("string"));
        assert_eq!(converter("/f/<any(css,js):folder>", "folder"), Some("any"));
        assert_eq!(converter("/f/{name:path}", "name"), Some("path"));
        assert_eq!(converter("/f/{name}", "name"), Some("string"));
        assert_eq!(converter("/f", "name"), None);
    }
}
