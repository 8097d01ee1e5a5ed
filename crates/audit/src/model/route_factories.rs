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

use rustc_hash::{FxHashMap, FxHashSet};

use super::{
    index::Target,
    routes::{ViewDecorators, AUTH_WORDS},
    Blueprint, Parent, Project, Route,
};
use crate::{
    python::{
        facts::{FunctionFact, ParamKind, PyFacts},
        is_route_decorator,
        value::{Call, Kind, Root, Site, Value},
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

fn param_of<'v>(v: &'v Value, func: &str) -> Option<(usize, &'v [crate::python::value::Name])> {
    match &v.reference()?.root {
        Root::Param { func: f, index, .. } if f.as_str() == func => {
            Some((*index as usize, v.reference()?.attrs.as_slice()))
        }
        _ => None,
    }
}

/// Whether `v` is the parameter `index` of `func` itself.
fn is_param(v: &Value, func: &str, index: usize) -> bool {
    param_of(v, func).is_some_and(|(i, attrs)| i == index && attrs.is_empty())
}

/// Whether a value mentions a parameter or a local of a function (so it
/// cannot be read without the call that passes it).
fn mentions_locals(v: &Value) -> bool {
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

    /// The routes of every use of a factory (run before [`Self::registers_at`]
    /// is asked).
    pub(super) fn routes(
        &mut self,
        project: &Project,
        bps: &[Blueprint],
        limiter_sites: &[Site],
        csrf_sites: &[Site],
        routes: &mut Vec<Route>,
    ) {
        if self.by_name.is_empty() {
            return;
        }
        let resolver = project.resolver();
        let mut memo = FxHashMap::default();
        let mut used = Vec::new();
        // Decorator uses: `@route(bp, "/x")`, `@api.route("/x")`.
        for (file, facts) in project.python() {
            for u in &facts.functions {
                for d in &u.decorators {
                    let Some(c) = d.as_call() else { continue };
                    let r = resolver.resolve(file, &c.func);
                    let (name, instance) = match (&r.target, r.attrs.as_slice()) {
                        (Target::Function(q), []) => (q.clone(), None),
                        (Target::Object(site), [m]) => {
                            match resolver.class_of(Target::Object(*site)) {
                                Some(class) => (format!("{class}.{m}"), Some(*site)),
                                None => continue,
                            }
                        }
                        _ => continue,
                    };
                    let Some(found) = self.by_name.get(&name) else {
                        continue;
                    };
                    used.push(name.clone());
                    let decos =
                        ViewDecorators::of(project, file, &u.decorators, limiter_sites, csrf_sites);
                    for f in found.iter().filter(|f| matches!(f.view, View::Decorated)) {
                        let Some(ffn) =
                            resolver.facts(f.file).and_then(|p| p.functions.get(f.func))
                        else {
                            continue;
                        };
                        let usage = Use {
                            file,
                            call: c,
                            skip: skip_of(ffn, instance.is_some()),
                            instance,
                        };
                        if let Some(route) =
                            self.route(project, bps, f, ffn, &usage, Some((file, u)), d, &decos)
                        {
                            routes.push(route);
                        }
                    }
                }
            }
        }
        // Call uses: `register(bp, "/x", view)`.
        for (name, found) in &self.by_name {
            for f in found {
                let View::Param(vi) = f.view else { continue };
                let Some(ffn) = resolver.facts(f.file).and_then(|p| p.functions.get(f.func)) else {
                    continue;
                };
                let Some(vparam) = ffn.params.get(vi) else {
                    continue;
                };
                for &(cfile, ci) in project.index.callers(name) {
                    let Some(cf) = resolver.facts(cfile).and_then(|p| p.calls.get(ci)) else {
                        continue;
                    };
                    let c = cf.call();
                    used.push(name.clone());
                    let usage = Use {
                        file: cfile,
                        call: c,
                        skip: 0,
                        instance: None,
                    };
                    // The view, when it can be named (not in a loop over a
                    // table of views).
                    let view = usage
                        .param(f.file, ffn, vi, &vparam.name)
                        .and_then(|(vfile, v)| match resolver.resolve(vfile, v).target {
                            Target::Function(q) => resolver.function(&q),
                            _ => None,
                        });
                    // The view's own decorators all wrap what is registered.
                    let decos = match view {
                        Some((ufile, u)) => ViewDecorators::of(
                            project,
                            ufile,
                            &u.decorators,
                            limiter_sites,
                            csrf_sites,
                        ),
                        None => ViewDecorators::of(project, cfile, &[], limiter_sites, csrf_sites),
                    };
                    let Some(mut route) =
                        self.route(project, bps, f, ffn, &usage, view, &cf.value, &decos)
                    else {
                        continue;
                    };
                    // Judged here, as the view's decorators are not where
                    // the route is registered.
                    route.auth = view
                        .into_iter()
                        .flat_map(|(ufile, u)| u.decorators.iter().map(move |d| (ufile, d)))
                        .filter_map(|(ufile, d)| wrapper_auth(project, ufile, d, &mut memo))
                        .chain(f.auth.iter().cloned())
                        .collect();
                    route.decorators.clear();
                    route.file = cfile;
                    routes.push(route);
                }
            }
        }
        self.used.extend(used);
    }

    /// The route one use of a factory declares; None when what it registers
    /// on, its rule or its methods cannot be read.
    #[allow(clippy::too_many_arguments)]
    fn route(
        &self,
        project: &Project,
        bps: &[Blueprint],
        f: &Factory,
        ffn: &FunctionFact,
        usage: &Use,
        view: Option<(FileId, &FunctionFact)>,
        at: &Value,
        decos: &ViewDecorators,
    ) -> Option<Route> {
        let c = f.call.as_call()?;
        let owner = match &f.recv {
            Recv::Fixed(p) => *p,
            Recv::Param(i) => {
                let p = ffn.params.get(*i)?;
                let (vf, v) = usage.param(f.file, ffn, *i, &p.name)?;
                super::resources::owner_of(project, bps, vf, v)?
            }
            Recv::SelfAttr(attr) => self_attr_owner(project, bps, ffn, usage.instance?, attr)?,
        };
        let (app, blueprint) = match owner {
            Parent::App(a) => (Some(a), None),
            Parent::Blueprint(b) => (None, Some(b)),
        };
        let rule_arg = match c.kwarg("rule").or_else(|| c.kwarg("path")) {
            Some(v) => usage.bind(f.file, ffn, v),
            None => usage.positional(f.file, ffn, c, 0),
        };
        let rule = bound_rule(project, usage, f.file, ffn, rule_arg?)?;
        let methods = match f.method.as_str() {
            "route" | "api_route" | "add_url_rule" => {
                match usage.keyword(f.file, ffn, c, "methods") {
                    // Passed, but not readable: the route is not listed on a guess.
                    Some(None) => return None,
                    Some(Some((vf, v))) => bound_methods(usage, f.file, ffn, (vf, v))?,
                    None => vec!["GET".to_string()],
                }
            }
            m => vec![m.to_ascii_uppercase()],
        };
        let endpoint_arg = match usage.keyword(f.file, ffn, c, "endpoint") {
            Some(found) => found,
            None if f.method == "add_url_rule" && c.kwarg("endpoint").is_none() => {
                usage.positional(f.file, ffn, c, 1)
            }
            None => None,
        };
        let endpoint_name = endpoint_arg
            .and_then(|(_, v)| v.as_str())
            .or(view.map(|(_, u)| u.name.as_str()))
            .unwrap_or_default()
            .to_string();
        let span = Span::new(usage.file, at.range);
        // A decorator above the factory's wraps the function after it was
        // registered: the registered view runs without it.
        let auth = decos
            .auth
            .iter()
            .filter(|(_, s)| s.is_none_or(|s| s.file != span.file || s.start > span.start))
            .map(|(n, _)| n.clone())
            .chain(f.auth.iter().cloned())
            .collect();
        Some(Route {
            app,
            blueprint,
            methods,
            rule,
            path: None,
            endpoint: super::url_rules::qualified_endpoint(bps, blueprint, &endpoint_name),
            function: view
                .map(|(_, u)| u.qualified.to_string())
                .unwrap_or_default(),
            class: None,
            file: view.map_or(usage.file, |(f, _)| f),
            def_span: view.map_or(span, |(f, u)| Span::new(f, u.name_range)),
            span,
            decorators: decos.decorators.clone(),
            limits: decos.limits.clone(),
            limit_exempt: decos.limit_exempt,
            csrf_exempt: decos.csrf_exempt,
            auth,
            unregistered: false,
            provided_by: None,
        })
    }
}

/// How many leading parameters a use binds itself: `self` for a method
/// called on an instance, `cls` for a classmethod.
fn skip_of(ffn: &FunctionFact, on_instance: bool) -> usize {
    let first = ffn.params.first().map(|p| p.name.as_str());
    let bound =
        ffn.method_of.is_some() && (first == Some("cls") || (on_instance && first == Some("self")));
    usize::from(bound)
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

/// The app or blueprint `self.<attr>` is for an instance of a helper class:
/// what `__init__` assigns from its parameters, as the constructor call
/// passes it (`Router(bp)`).
fn self_attr_owner(
    project: &Project,
    bps: &[Blueprint],
    ffn: &FunctionFact,
    instance: Site,
    attr: &str,
) -> Option<Parent> {
    let resolver = project.resolver();
    let class = ffn.method_of.as_deref()?;
    let init = format!("{class}.__init__");
    let (ifile, init_fn) = resolver.function(&init)?;
    let facts = resolver.facts(ifile)?;
    let assigned = facts.assigns.iter().rev().find(|a| {
        a.scope == init_fn.scope
            && a.target.reference().is_some_and(|t| {
                matches!(&t.root, Root::Param { func, index: 0, .. } if func.as_str() == init)
                    && t.attrs.len() == 1
                    && t.attrs[0].as_str() == attr
            })
    })?;
    match param_of(&assigned.value, &init).filter(|(_, a)| a.is_empty()) {
        Some((i, _)) => {
            let ctor = resolver.call(instance)?.call();
            let p = init_fn.params.get(i)?;
            let usage = Use {
                file: instance.file,
                call: ctor,
                skip: 1,
                instance: None,
            };
            let (vf, v) = usage.param(ifile, init_fn, i, &p.name)?;
            super::resources::owner_of(project, bps, vf, v)
        }
        None if !mentions_locals(&assigned.value) => {
            super::resources::owner_of(project, bps, ifile, &assigned.value)
        }
        None => None,
    }
}

/// One use of a factory: the call and how its arguments meet the factory's
/// parameters.
struct Use<'a> {
    file: FileId,
    call: &'a Call,
    /// Leading parameters bound without an argument (`self`, `cls`).
    skip: usize,
    /// The helper object a method factory is called on.
    instance: Option<Site>,
}

impl<'a> Use<'a> {
    /// The use's positional argument `i` (after the bound ones), when no
    /// `*spread` comes before it.
    fn arg(&self, i: usize) -> Option<&'a Value> {
        if self.call.star.as_ref().is_some_and(|s| s.0 <= i) {
            return None;
        }
        self.call.args.get(i)
    }

    /// What the use passes for parameter `index` of the factory, else the
    /// parameter's default.
    fn param<'b>(
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
    fn bind<'b>(
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
    fn positional<'b>(
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
    fn keyword<'b>(
        &self,
        ffile: FileId,
        ffn: &'b FunctionFact,
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
        if !forwards || ffn.params.iter().any(|p| p.name.as_str() == name) {
            // A `**spread` the factory does not take from its caller may set it.
            if c.kwargs.iter().any(|(k, _)| k.is_none()) && !forwards {
                return Some(None);
            }
            return None;
        }
        match self.call.kwarg(name) {
            Some(v) => Some(Some((self.file, v))),
            None if self.call.kwargs.iter().any(|(k, _)| k.is_none()) => Some(None),
            None => None,
        }
    }
}

/// The HTTP methods a list written in the factory or passed by the use
/// names, its items bound through the use (`methods=[method]`).
fn bound_methods(
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
fn bound_rule(
    project: &Project,
    usage: &Use,
    ffile: FileId,
    ffn: &FunctionFact,
    (vfile, v): (FileId, &Value),
) -> Option<String> {
    if vfile != ffile || !mentions_locals(v) {
        return Some(super::routes::rule_text(project, vfile, v));
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
