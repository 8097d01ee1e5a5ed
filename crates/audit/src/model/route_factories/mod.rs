//! Routes declared through a project's own registration helper rather than
//! `@bp.route` itself:
//!
//! ```python
//! def route(bp, *args, **kwargs):
//!     def decorator(f):
//!         @bp.route(*args, **kwargs)
//!         @wraps(f)
//!         def wrapper(*a, **kw):
//!             return f(*a, **kw)
//!         return f
//!     return decorator
//!
//! @route(bp, "/orders", methods=["POST"])
//! def create(): ...
//! ```
//!
//! A *factory* is a project function that returns a decorator whose body
//! registers the decorated function (or a wrapper that calls it) with
//! `X.route(...)`, `X.post(...)` or `X.add_url_rule(...)`; or a function that
//! registers a function it is given (`def register(bp, rule, view, **kw):
//! bp.add_url_rule(rule, view_func=view, **kw)`). X is one of its parameters,
//! an attribute of `self` that `__init__` sets from its parameters (a method
//! of a helper class), or an app or blueprint it names itself. Each use
//! (`@route(bp, "/orders")`, `register(bp, "/x", view)`) is a route: the
//! registration inside with the use's arguments, the decorators at the use
//! site and the authentication the factory itself wraps around the view.
//! The registration inside a factory is no route of its own.

mod bind;
mod uses;

pub(super) use bind::factory_sets;

use bind::param_of;
use rustc_hash::{FxHashMap, FxHashSet};

use super::{index::Target, routes::AUTH_WORDS, Blueprint, Parent, Project};
use crate::{
    python::{
        facts::{FunctionFact, ParamKind, PyFacts},
        is_route_decorator,
        value::{Call, Root, Value},
    },
    source::{FileId, Span},
};

/// What a factory registers on.
#[derive(Debug, Clone)]
enum Recv {
    /// A parameter of the factory (by index).
    Param(usize),
    /// `self.<attr>` in a method of a helper class.
    SelfAttr(String),
    /// An app or blueprint the factory names itself.
    Fixed(Parent),
}

/// What a factory registers as the view.
#[derive(Debug, Clone, Copy)]
enum View {
    /// The function the returned decorator is applied to.
    Decorated,
    /// A function passed in this parameter of the factory.
    Param(usize),
}

#[derive(Debug)]
struct Factory {
    file: FileId,
    /// Index into the file's functions.
    func: usize,
    recv: Recv,
    view: View,
    /// `route`, `post`... or `add_url_rule`.
    method: String,
    /// The registration: the route decorator or the `add_url_rule` call.
    call: Value,
    /// Authentication the factory wraps around the view (decorators of the
    /// wrapper below the route decorator, `login_required(f)`).
    auth: Vec<String>,
}

/// The project's factories, by dotted name.
pub(super) struct Factories {
    by_name: FxHashMap<String, Vec<Factory>>,
    /// The registrations inside factories, and whose they are.
    inner: FxHashMap<Span, String>,
    /// Factories with a use the project makes: their own registrations are
    /// theirs, not routes. One nothing calls keeps its registration as a
    /// route with an unknown rule.
    used: FxHashSet<String>,
}

/// Whether `v` is the parameter `index` of `func` itself.
fn is_param(v: &Value, func: &str, index: usize) -> bool {
    param_of(v, func).is_some_and(|(i, attrs)| i == index && attrs.is_empty())
}

/// The function of a file whose own scope is `scope`.
fn function_with_scope(facts: &PyFacts, scope: u32) -> Option<(usize, &FunctionFact)> {
    facts
        .functions
        .iter()
        .enumerate()
        .find(|(_, f)| f.scope == scope)
}

/// Whether `f` returns the nested function `inner`.
fn returns(f: &FunctionFact, inner: &FunctionFact) -> bool {
    f.returns
        .iter()
        .any(|r| r.qualified().as_deref() == Some(inner.qualified.as_str()))
}

/// Whether the nested function `w` wraps the parameter `index` of `outer`:
/// `@wraps(f)` or a call of `f` in its body.
fn wraps(facts: &PyFacts, w: &FunctionFact, outer: &str, index: usize) -> bool {
    w.decorators
        .iter()
        .filter_map(Value::as_call)
        .any(|c| c.args.iter().any(|a| is_param(a, outer, index)))
        || facts
            .calls
            .iter()
            .any(|c| c.scope == w.scope && is_param(&c.call().func, outer, index))
}

impl Factories {
    pub(super) fn find(project: &Project, bps: &[Blueprint]) -> Factories {
        let mut out = Factories {
            by_name: FxHashMap::default(),
            inner: FxHashMap::default(),
            used: FxHashSet::default(),
        };
        let mut memo = FxHashMap::default();
        for (file, facts) in project.python() {
            // `@X.route(...)` on a wrapper defined in the decorator a
            // factory returns.
            for w in &facts.functions {
                if w.parent == 0 {
                    continue;
                }
                for (k, d) in w.decorators.iter().enumerate() {
                    if !is_route_decorator(d) {
                        continue;
                    }
                    let Some((_, dfn)) = function_with_scope(facts, w.parent) else {
                        continue;
                    };
                    let Some((fi, ffn)) = function_with_scope(facts, dfn.parent) else {
                        continue;
                    };
                    if dfn.params.is_empty()
                        || !returns(ffn, dfn)
                        || !wraps(facts, w, &dfn.qualified, 0)
                    {
                        continue;
                    }
                    let Some(c) = d.as_call() else { continue };
                    let Some((recv, method)) = receiver(project, bps, file, ffn, c) else {
                        continue;
                    };
                    // What the factory wraps around the view after registering
                    // it: the wrapper's decorators below the route decorator.
                    let auth = w.decorators[k + 1..]
                        .iter()
                        .filter_map(|inner| wrapper_auth(project, file, inner, &mut memo))
                        .collect();
                    out.add(
                        ffn,
                        Factory {
                            file,
                            func: fi,
                            recv,
                            view: View::Decorated,
                            method,
                            call: d.clone(),
                            auth,
                        },
                    );
                }
            }
        }
        // A factory that returns the route decorator itself:
        // `def post(rule, **kw): kw.setdefault("methods", ["POST"]);
        // return bp.route(rule, **kw)`.
        for (file, facts) in project.python() {
            for (fi, ffn) in facts.functions.iter().enumerate() {
                for r in &ffn.returns {
                    if !is_route_decorator(r) {
                        continue;
                    }
                    let Some(c) = r.as_call() else { continue };
                    let Some((recv, method)) = receiver(project, bps, file, ffn, c) else {
                        continue;
                    };
                    out.add(
                        ffn,
                        Factory {
                            file,
                            func: fi,
                            recv,
                            view: View::Decorated,
                            method,
                            call: r.clone(),
                            auth: Vec::new(),
                        },
                    );
                }
            }
        }
        // `X.add_url_rule(rule, endpoint, f, ...)` in the decorator a factory
        // returns, or in a function given the view.
        for (file, facts, call) in project.calls_named(&["add_url_rule"]) {
            if call.scope == 0 {
                continue;
            }
            let c = call.call();
            let Some((_, inner)) = function_with_scope(facts, call.scope) else {
                continue;
            };
            let Some(view) = c.param(2, "view_func") else {
                continue;
            };
            // The view, and the calls wrapped around it.
            let mut view = view;
            let mut wrappers = Vec::new();
            for _ in 0..4 {
                match view.as_call().and_then(|w| Some((w, w.arg(0)?))) {
                    Some((w, arg)) if w.args.len() == 1 => {
                        wrappers.push(view);
                        view = arg;
                    }
                    _ => break,
                }
            }
            let (ffn, fi, kind, wrapper_fn) = if let Some((index, _)) =
                param_of(view, &inner.qualified).filter(|(_, a)| a.is_empty())
            {
                // `register(bp, rule, view)`: the view is the factory's own
                // parameter; a decorator's parameter when the function is
                // a decorator a factory returns.
                match function_with_scope(facts, inner.parent) {
                    Some((fi, outer)) if index == 0 && returns(outer, inner) => {
                        (outer, fi, View::Decorated, None)
                    }
                    _ => {
                        let Some(fi) = facts.functions.iter().position(|f| f.scope == inner.scope)
                        else {
                            continue;
                        };
                        if inner.method_of.is_some() || inner.parent != 0 {
                            continue;
                        }
                        (inner, fi, View::Param(index), None)
                    }
                }
            } else if let Some(w) = view
                .qualified()
                .and_then(|q| facts.functions.iter().find(|f| f.qualified.as_str() == q))
                .filter(|w| w.parent == inner.scope && !inner.params.is_empty())
            {
                // A wrapper defined next to the registration.
                let Some((fi, outer)) = function_with_scope(facts, inner.parent) else {
                    continue;
                };
                if !returns(outer, inner) || !wraps(facts, w, &inner.qualified, 0) {
                    continue;
                }
                (outer, fi, View::Decorated, Some(w))
            } else {
                continue;
            };
            let Some((recv, method)) = receiver(project, bps, file, ffn, c) else {
                continue;
            };
            let mut auth: Vec<String> = wrappers
                .iter()
                .filter_map(|w| wrapper_auth(project, file, w, &mut memo))
                .collect();
            if let Some(w) = wrapper_fn {
                auth.extend(
                    w.decorators
                        .iter()
                        .filter_map(|d| wrapper_auth(project, file, d, &mut memo)),
                );
            }
            out.add(
                ffn,
                Factory {
                    file,
                    func: fi,
                    recv,
                    view: kind,
                    method,
                    call: call.value.clone(),
                    auth,
                },
            );
        }
        out
    }

    fn add(&mut self, ffn: &FunctionFact, f: Factory) {
        self.inner
            .insert(Span::new(f.file, f.call.range), ffn.qualified.to_string());
        self.by_name
            .entry(ffn.qualified.to_string())
            .or_default()
            .push(f);
    }

    /// Whether a registration (a route decorator or `add_url_rule` call) is
    /// the one inside a factory.
    pub(super) fn registers_at(&self, span: Span) -> bool {
        self.inner
            .get(&span)
            .is_some_and(|name| self.used.contains(name))
    }
}

/// The authentication a decorator or a wrapping call inside a factory adds:
/// named for it, or a project function whose body refuses anonymous callers.
pub(super) fn wrapper_auth(
    project: &Project,
    file: FileId,
    d: &Value,
    memo: &mut FxHashMap<String, bool>,
) -> Option<String> {
    let resolver = project.resolver();
    if let Some(name) = super::routes::auth_decorator(&resolver, file, d, AUTH_WORDS) {
        return Some(name);
    }
    let callee = d.as_call().map_or(d, |c| &c.func);
    match resolver.resolve(file, callee).target {
        Target::Function(q) if super::auth::refuses(project, &q, memo) => Some(q),
        _ => None,
    }
}

/// What a registration inside factory `ffn` is called on, and its method.
fn receiver(
    project: &Project,
    bps: &[Blueprint],
    file: FileId,
    ffn: &FunctionFact,
    c: &Call,
) -> Option<(Recv, String)> {
    let method = c.last_name()?.to_string();
    let recv = c.receiver()?;
    let r = recv.reference()?;
    let is_self = |i: usize| {
        i == 0
            && ffn.method_of.is_some()
            && ffn
                .params
                .first()
                .is_some_and(|p| p.name.as_str() == "self")
    };
    let recv = match (&r.root, r.attrs.as_slice()) {
        (Root::Param { func, index, .. }, []) if func.as_str() == ffn.qualified.as_str() => {
            let i = *index as usize;
            // `self.add_url_rule` in a blueprint subclass's own `route`: the
            // use is an ordinary route decorator on the blueprint.
            if is_self(i) || ffn.params.get(i)?.kind != ParamKind::Positional {
                return None;
            }
            Recv::Param(i)
        }
        (Root::Param { func, index, .. }, [attr])
            if func.as_str() == ffn.qualified.as_str() && is_self(*index as usize) =>
        {
            Recv::SelfAttr(attr.to_string())
        }
        (Root::Param { .. } | Root::Local(_), _) => return None,
        _ => Recv::Fixed(super::resources::owner_of(project, bps, file, &recv)?),
    };
    // The rule comes from the factory's parameters or is written in it; a
    // rule built from the factory's locals cannot be read.
    let rule = c
        .kwarg("rule")
        .or_else(|| c.kwarg("path"))
        .or_else(|| c.arg(0));
    let from_star = c.star.as_ref().is_some_and(|s| s.0 == 0);
    if !from_star && rule.is_none() {
        return None;
    }
    Some((recv, method))
}
