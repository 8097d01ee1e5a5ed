//! Authentication that routes get beyond decorators named for it: project
//! decorators and FastAPI dependencies whose body refuses anonymous callers,
//! `before_request` guards of the app or a blueprint, `url_value_preprocessor`
//! hooks that refuse callers without access to a URL variable (`<project_id>`:
//! they guard the routes whose rule has it), and dependencies of a
//! router, an `include_router` call or the FastAPI app. Each adds an entry to
//! [`Route::auth`](super::Route) (`before_request require_login`).
//!
//! A function "refuses" when its body (nested functions included) answers 401
//! or 403 (`abort(401)`, `return ..., 403`, `raise HTTPException(status_code=
//! status.HTTP_401_UNAUTHORIZED)`, `raise Forbidden()`), calls
//! `verify_jwt_in_request` / `login_manager.unauthorized()`, redirects to a login
//! page, or wraps with a decorator named for authentication.

use rustc_hash::FxHashMap;

use super::{index::Target, routes::AUTH_WORDS, BlueprintId, BlueprintKind, Parent, Project};
use crate::{
    python::{
        facts::{FunctionFact, PyFacts},
        value::{Kind, Site, Value},
    },
    source::FileId,
};

/// Methods of a class-based view that answer requests.
const VIEW_METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options"];

/// A guard of many routes: where it applies, its name in the inventory, and
/// the URL variable it needs (a `url_value_preprocessor` that checks access to
/// `<project_id>` guards only the routes whose rule has it).
type Guard = (Scope, String, Option<String>);

/// Where a guard applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    App(usize),
    Blueprint(BlueprintId),
}

pub(super) fn find_auth(project: &mut Project) {
    let mut memo: FxHashMap<String, bool> = FxHashMap::default();
    let mut added: Vec<Vec<String>> = vec![Vec::new(); project.routes.len()];
    let resolver = project.resolver();
    // Decorators and dependencies of each view.
    for (i, route) in project.routes.iter().enumerate() {
        for d in &route.decorators {
            // Above the route decorator: not part of the registered view (a
            // resource's decorators always are).
            let above = route.class.is_none() && d.span.start <= route.span.start;
            if above || route.auth.contains(&d.name) {
                continue;
            }
            let callee = d.value.as_call().map_or(&d.value, |c| &c.func);
            if let Target::Function(q) = resolver.resolve(d.span.file, callee).target {
                if refuses(project, &q, &mut memo) {
                    added[i].push(d.name.clone());
                }
            }
        }
        let class = route.class.as_deref().unwrap_or(&route.function);
        if let Some(name) = class_view_auth(project, class, &mut memo) {
            // A class view's route carries the class's `decorators` already.
            let read = route.class.is_some() && name.ends_with(".decorators");
            if !read && !route.auth.contains(&name) {
                added[i].push(name);
            }
        }
        // FastAPI: `dependencies=[Depends(...)]` on the route decorator.
        let route_deps = route
            .decorators
            .iter()
            .filter(|d| d.span == route.span)
            .filter_map(|d| d.value.as_call()?.kwarg("dependencies")?.as_seq())
            .flatten()
            .map(|dep| (route.file, dep));
        let param_deps = resolver
            .function(&route.function)
            .map(|(ffile, view)| param_dependencies(project, ffile, view))
            .unwrap_or_default();
        for (file, dep) in route_deps.chain(param_deps) {
            if let Some(name) = dependency_auth(project, file, dep, &mut memo) {
                if !route.auth.contains(&name) && !added[i].contains(&name) {
                    added[i].push(name);
                }
            }
        }
    }
    // Guards and dependencies that cover many routes.
    let guards = guards(project, &mut memo);
    for (i, route) in project.routes.iter().enumerate() {
        let chain = blueprint_chain(project, route.blueprint);
        for (scope, name, variable) in &guards {
            let covers = match scope {
                Scope::App(a) => route.app == Some(*a),
                Scope::Blueprint(b) => chain.contains(b),
            } && variable
                .as_deref()
                .is_none_or(|v| rule_has_variable(&route.rule, v));
            if covers && !added[i].contains(name) && !route.auth.contains(name) {
                added[i].push(name.clone());
            }
        }
    }
    for (route, extra) in project.routes.iter_mut().zip(added) {
        route.auth.extend(extra);
    }
}

/// A class-based view (`MethodView`, a Flask-Admin view, or a handler class of
/// the project's own framework) that authenticates: a method of the class or
/// of a project base class named for it (`_check_access`, `check_permissions`,
/// Flask-Admin's `is_accessible`) or whose body refuses anonymous callers (not
/// the views themselves: HTTP-method methods and Flask-Admin's `@expose`
/// methods; nor a method that only ever returns `True`), or
/// `decorators = [login_required]`.
fn class_view_auth(
    project: &Project,
    class: &str,
    memo: &mut FxHashMap<String, bool>,
) -> Option<String> {
    let resolver = project.resolver();
    let mut queue = vec![class.to_string()];
    let mut seen: Vec<String> = Vec::new();
    while let Some(q) = queue.pop() {
        if seen.contains(&q) || seen.len() > 16 {
            continue;
        }
        let Some((file, fact)) = resolver.class(&q) else {
            continue;
        };
        seen.push(q.clone());
        let decorated = fact.attr("decorators").is_some_and(|a| {
            a.value
                .as_seq()
                .unwrap_or_default()
                .iter()
                .any(|d| has_auth_word(&d.as_call().map_or(d, |c| &c.func).render()))
        });
        if decorated {
            return Some(format!("{}.decorators", fact.name));
        }
        let facts = resolver.facts(file)?;
        // The views themselves (`get`, `post`...) are not guards: a view that
        // answers 401 in one branch authenticates nothing by that.
        for f in facts.functions.iter().filter(|f| {
            f.method_of.as_deref() == Some(q.as_str())
                && !VIEW_METHODS.contains(&f.name.as_str())
                && !super::admin_views::is_exposed(project, file, f)
        }) {
            // `def is_accessible(self): return True` lets everyone in.
            if !f.returns.is_empty() && f.returns.iter().all(|v| v.as_bool() == Some(true)) {
                continue;
            }
            let lower = f.name.to_ascii_lowercase();
            let named = has_auth_word(&lower) || lower.contains("access");
            if named || refuses(project, &f.qualified, memo) {
                return Some(format!("{}.{}", fact.name, f.name));
            }
        }
        for b in &fact.bases {
            if let Target::Class(base) = resolver.resolve(file, b).target {
                queue.push(base);
            }
        }
    }
    None
}

/// The items of `Annotated[T, Depends(...)]`.
fn annotated_items(a: &Value) -> impl Iterator<Item = &Value> {
    let items = match &a.kind {
        Kind::Subscript(base, inner)
            if base
                .qualified()
                .is_some_and(|q| q.rsplit('.').next() == Some("Annotated")) =>
        {
            inner.as_seq().unwrap_or_default()
        }
        _ => &[],
    };
    items.iter()
}

/// The `Depends(...)` / `Security(...)` of a function's parameters: defaults,
/// `Annotated[T, Depends(...)]` annotations, and type aliases of those
/// (`CurrentUser = Annotated[User, Depends(get_current_user)]`), each with the
/// file it is written in.
fn param_dependencies<'a>(
    project: &'a Project,
    file: FileId,
    func: &'a FunctionFact,
) -> Vec<(FileId, &'a Value)> {
    let resolver = project.resolver();
    let mut out = Vec::new();
    for p in &func.params {
        if let Some(d) = p.default.as_deref() {
            out.push((file, d));
        }
        if let Some(a) = p.annotation.as_deref() {
            let (afile, a) = resolver.deref(file, a);
            out.extend(annotated_items(a).map(|d| (afile, d)));
        }
    }
    out
}

/// How deep dependencies of dependencies are followed.
const MAX_DEPENDENCY_DEPTH: usize = 4;

/// `Depends(get_current_user)` that authenticates: named for it, `Security(...)`,
/// or a project function (or the `__call__` of a project class's instance)
/// that refuses anonymous callers or depends on one that authenticates
/// (`get_current_superuser(user=Depends(get_current_user))`).
fn dependency_auth(
    project: &Project,
    file: FileId,
    dep: &Value,
    memo: &mut FxHashMap<String, bool>,
) -> Option<String> {
    dependency_auth_at(project, file, dep, memo, 0)
}

fn dependency_auth_at(
    project: &Project,
    file: FileId,
    dep: &Value,
    memo: &mut FxHashMap<String, bool>,
    depth: usize,
) -> Option<String> {
    let call = dep.as_call()?;
    let ctor = call.func_name()?;
    if !(ctor.ends_with("Depends") || ctor.ends_with("Security")) {
        return None;
    }
    let target = call.param(0, "dependency")?;
    let rendered = target.render();
    if ctor.ends_with("Security") || named_for_auth(project, file, target) {
        return Some(rendered);
    }
    let resolver = project.resolver();
    // `Depends(JWTBearer())`: the instance's `__call__`.
    let (callee, suffix) = match target.as_call() {
        Some(c) => (&c.func, Some("__call__")),
        None => (target, None),
    };
    let r = resolver.resolve(file, callee);
    let function = match (r.target, suffix) {
        (Target::Function(q), None) if r.attrs.is_empty() => q,
        (Target::Class(q), Some(m)) if r.attrs.is_empty() => format!("{q}.{m}"),
        (Target::Object(site), None) if r.attrs.is_empty() => {
            let made = resolver.call(site)?;
            // `current_active_user = fastapi_users.current_user(active=True)`:
            // a variable holding what a call named for authentication made.
            if named_for_auth(project, site.file, &made.call().func) {
                return Some(rendered);
            }
            let class = resolver.resolve(site.file, &made.call().func);
            match class.target {
                Target::Class(q) if class.attrs.is_empty() => format!("{q}.__call__"),
                _ => return None,
            }
        }
        _ => return None,
    };
    authenticates(project, &function, memo, depth).then_some(rendered)
}

/// Whether a dependency function refuses anonymous callers, itself or through
/// its own dependencies (bounded in depth; a cycle counts as no).
fn authenticates(
    project: &Project,
    q: &str,
    memo: &mut FxHashMap<String, bool>,
    depth: usize,
) -> bool {
    if refuses(project, q, memo) {
        return true;
    }
    let key = format!("depends {q}");
    if let Some(&known) = memo.get(&key) {
        return known;
    }
    if depth >= MAX_DEPENDENCY_DEPTH {
        return false;
    }
    memo.insert(key.clone(), false);
    let result = project.resolver().function(q).is_some_and(|(file, f)| {
        param_dependencies(project, file, f)
            .into_iter()
            .any(|(dfile, d)| dependency_auth_at(project, dfile, d, memo, depth + 1).is_some())
    });
    memo.insert(key, result);
    result
}

/// Whether a dependency (`Depends(x)`) is named for authentication. A
/// project function or class goes by its own name: the package it is defined
/// in (`app.auth.dependencies.valid_signup`) says nothing of what it does.
/// Anything else goes by how it is written (`fastapi_users.current_user()`,
/// `oauth2_scheme`).
pub(super) fn named_for_auth(project: &Project, file: FileId, dep: &Value) -> bool {
    let callee = dep.as_call().map_or(dep, |c| &c.func);
    let r = project.resolver().resolve(file, callee);
    match r.target {
        Target::Function(q) | Target::Class(q) if r.attrs.is_empty() => {
            has_auth_word(q.rsplit('.').next().unwrap_or(&q))
        }
        _ => has_auth_word(&dep.render()),
    }
}

fn has_auth_word(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    AUTH_WORDS.iter().any(|w| lower.contains(w)) && !lower.contains("anonymous")
}

/// `before_request` guards that refuse anonymous callers, and router, app and
/// `include_router` dependencies that authenticate.
fn guards(project: &Project, memo: &mut FxHashMap<String, bool>) -> Vec<Guard> {
    let resolver = project.resolver();
    let scope_of = |file: FileId, recv: &Value, app_wide: bool| -> Option<Scope> {
        let r = resolver.resolve(file, recv);
        let (Target::Object(site), true) = (r.target, r.attrs.is_empty()) else {
            return None;
        };
        if let Some(app) = project.app_at(site) {
            return Some(Scope::App(app));
        }
        let b = project.blueprints.iter().find(|b| b.site == site)?;
        if app_wide {
            let app = super::blueprints::chain(&project.blueprints, b.id, 0)?.0;
            return Some(Scope::App(app));
        }
        Some(Scope::Blueprint(b.id))
    };
    let mut out = Vec::new();
    // `@bp.before_request` on a function.
    for (file, facts) in project.python() {
        for f in &facts.functions {
            for d in &f.decorators {
                let Some(r) = d.reference() else { continue };
                let hook = r.last_name();
                if hook != "before_request" && hook != "before_app_request" {
                    continue;
                }
                let mut recv = r.clone();
                recv.attrs.pop();
                let recv = Value::new(d.range, Kind::Ref(Box::new(recv)));
                if let Some(scope) = scope_of(file, &recv, hook == "before_app_request") {
                    if !checks_csrf(&f.name) && hook_refuses(project, &f.qualified, memo) {
                        out.push((scope, format!("before_request {}", f.name), None));
                    }
                }
            }
        }
    }
    // `@bp.url_value_preprocessor` that takes a URL variable out of the values
    // and refuses callers without access to it (the session does not hold the
    // project, the user is not a member): a guard of the routes with it.
    for (file, facts) in project.python() {
        for f in &facts.functions {
            for d in &f.decorators {
                let Some(r) = d.reference() else { continue };
                let hook = r.last_name();
                if hook != "url_value_preprocessor" && hook != "app_url_value_preprocessor" {
                    continue;
                }
                let Some(variable) = popped_url_variable(facts, f) else {
                    continue;
                };
                let mut recv = r.clone();
                recv.attrs.pop();
                let recv = Value::new(d.range, Kind::Ref(Box::new(recv)));
                if let Some(scope) = scope_of(file, &recv, hook == "app_url_value_preprocessor") {
                    if refuses(project, &f.qualified, memo) {
                        out.push((
                            scope,
                            format!("url_value_preprocessor {}", f.name),
                            Some(variable),
                        ));
                    }
                }
            }
        }
    }
    // `app.before_request(check)`.
    for (file, _, call) in project.calls_named(&["before_request", "before_app_request"]) {
        let c = call.call();
        let (Some(recv), Some(func)) = (c.receiver(), c.arg(0)) else {
            continue;
        };
        let app_wide = c.last_name() == Some("before_app_request");
        let Some(scope) = scope_of(file, &recv, app_wide) else {
            continue;
        };
        if let Target::Function(q) = resolver.resolve(file, func).target {
            let short = q.rsplit('.').next().unwrap_or(&q).to_string();
            if !checks_csrf(&short) && hook_refuses(project, &q, memo) {
                out.push((scope, format!("before_request {short}"), None));
            }
        }
    }
    // Starlette/FastAPI HTTP middleware of the app that refuses anonymous
    // callers: `@app.middleware("http")` on a function, or
    // `app.add_middleware(Cls)` of a class whose `dispatch` does. Only one
    // added whatever the configuration (not under an `if` of the function
    // that adds it: an opt-in setting leaves the app open by default), where
    // the app is made or named, not in a helper handed the app.
    for (file, facts) in project.python() {
        for f in &facts.functions {
            let registered = f.decorators.iter().find_map(|d| {
                let c = d.as_call()?;
                (c.last_name() == Some("middleware")
                    && c.arg(0).and_then(Value::as_str) == Some("http"))
                .then(|| c.receiver())
                .flatten()
            });
            let Some(recv) = registered else { continue };
            if !unconditional_def(facts, f.guard, f.parent) || handed_in(&recv) {
                continue;
            }
            if let Some(Scope::App(app)) = scope_of(file, &recv, false) {
                if middleware_authenticates(project, &f.qualified, &f.name, memo) {
                    out.push((Scope::App(app), format!("middleware {}", f.name), None));
                }
            }
        }
    }
    for (file, facts, call) in project.calls_named(&["add_middleware"]) {
        let c = call.call();
        let (Some(recv), Some(class)) = (c.receiver(), c.param(0, "middleware_class")) else {
            continue;
        };
        if !unconditional_def(facts, call.guard, call.scope) || handed_in(&recv) {
            continue;
        }
        let Some(Scope::App(app)) = scope_of(file, &recv, false) else {
            continue;
        };
        let Target::Class(q) = resolver.resolve(file, class).target else {
            continue;
        };
        let short = q.rsplit('.').next().unwrap_or(&q).to_string();
        if ["dispatch", "__call__"]
            .iter()
            .any(|m| middleware_authenticates(project, &format!("{q}.{m}"), &short, memo))
        {
            out.push((Scope::App(app), format!("middleware {short}"), None));
        }
    }
    // FastAPI: APIRouter(dependencies=[...]), include_router(..., dependencies=[...]),
    // FastAPI(dependencies=[...]).
    let deps_of = |site: Site| -> Vec<(FileId, &Value)> {
        let Some(call) = resolver.call(site) else {
            return Vec::new();
        };
        let mut deps: Vec<(FileId, &Value)> = call
            .call()
            .kwarg("dependencies")
            .and_then(Value::as_seq)
            .map(|d| d.iter().map(|v| (site.file, v)).collect())
            .unwrap_or_default();
        if let Some(class) = resolver.class_of(Target::Object(site)) {
            deps.extend(init_dependencies(project, &class));
        }
        deps
    };
    let mut add_deps = |scope: Scope, deps: Vec<(FileId, &Value)>, out: &mut Vec<_>| {
        for (file, dep) in deps {
            if let Some(name) = dependency_auth(project, file, dep, memo) {
                out.push((scope, name, None));
            }
        }
    };
    for b in project
        .blueprints
        .iter()
        .filter(|b| b.kind == BlueprintKind::Router)
    {
        add_deps(Scope::Blueprint(b.id), deps_of(b.site), &mut out);
        for reg in &b.registrations {
            let site = Site {
                file: reg.span.file,
                offset: reg.span.start,
            };
            add_deps(Scope::Blueprint(b.id), deps_of(site), &mut out);
        }
    }
    // `parent.include_router(router, dependencies=[...])` on a parent the
    // model cannot name (an app handed to a method): the dependencies run
    // before each of the router's routes all the same.
    for (file, _, call) in project.calls_named(&["include_router"]) {
        let c = call.call();
        let Some(child) = c.param(0, "router") else {
            continue;
        };
        let r = resolver.resolve(file, child);
        let (Target::Object(site), true) = (r.target, r.attrs.is_empty()) else {
            continue;
        };
        let Some(b) = project
            .blueprints
            .iter()
            .find(|b| b.site == site && b.kind == BlueprintKind::Router && b.registered_elsewhere)
        else {
            continue;
        };
        let at = Site {
            file,
            offset: call.range().start().into(),
        };
        add_deps(Scope::Blueprint(b.id), deps_of(at), &mut out);
    }
    for app in &project.apps {
        add_deps(Scope::App(app.id), deps_of(app.site), &mut out);
    }
    out
}

/// Whether an HTTP middleware refuses anonymous callers: it answers 401
/// (`status_code=401`, `HTTP_401_UNAUTHORIZED`), or it refuses (401/403)
/// and is named for authentication (`AuthMiddleware`, `require_api_key`). A
/// middleware that answers 403 for other reasons (file uploads on the wrong
/// path, a blocked country) authenticates nobody.
fn middleware_authenticates(
    project: &Project,
    func: &str,
    name: &str,
    memo: &mut FxHashMap<String, bool>,
) -> bool {
    if !refuses(project, func, memo) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    if has_auth_word(&lower) || lower.contains("key") || lower.contains("credential") {
        return true;
    }
    let resolver = project.resolver();
    let Some((file, f)) = resolver.function(func) else {
        return false;
    };
    let Some(facts) = resolver.facts(file) else {
        return false;
    };
    let within = |s: u32| facts.scope_within(s, f.scope);
    let says_401 = |v: &Value| {
        let mut found = false;
        v.walk(&mut |x| {
            found |= match &x.kind {
                Kind::Int(401) => true,
                Kind::Ref(r) => {
                    let upper = r.last_name().to_ascii_uppercase();
                    upper.contains("UNAUTHORIZED") || upper.contains("NOTAUTHENTICATED")
                }
                _ => false,
            };
        });
        found
    };
    facts
        .calls
        .iter()
        .filter(|c| within(c.scope))
        .any(|c| says_401(&c.value))
        || facts
            .raises
            .iter()
            .filter(|r| within(r.scope))
            .filter_map(|r| r.value.as_ref())
            .any(says_401)
        || facts
            .functions
            .iter()
            .filter(|g| within(g.scope))
            .any(|g| g.returns.iter().any(says_401))
}

/// Whether a middleware is added to an app a function is handed (`def
/// add_auth(app): app.add_middleware(...)`): whether its callers run it
/// for every deployment (an auth plugin's app factory, an opt-in flag)
/// cannot be told, so it does not count.
fn handed_in(recv: &Value) -> bool {
    recv.reference()
        .is_none_or(|r| matches!(r.root, crate::python::value::Root::Param { .. }))
}

/// Whether a statement under `guard` in `scope` runs whatever the
/// configuration: under no `if` of its own scope.
fn unconditional_def(facts: &PyFacts, guard: u32, scope: u32) -> bool {
    facts.guards_of(guard).iter().all(|g| g.scope != scope)
}

/// `dependencies=[...]` that a project subclass of `APIRouter` (or of
/// `FastAPI`) passes up in its `__init__`, or one of its project base classes
/// does: `class AdminAPIRouter(APIRouter): def __init__(self, prefix="", **kw):
/// super().__init__(prefix=prefix, dependencies=[Depends(get_admin_user)], **kw)`.
/// Every instance carries them, as if written at the call.
fn init_dependencies<'a>(project: &'a Project, class: &str) -> Vec<(FileId, &'a Value)> {
    let resolver = project.resolver();
    let mut out = Vec::new();
    let mut queue = vec![class.to_string()];
    let mut seen = 0;
    while let Some(q) = queue.pop() {
        seen += 1;
        if seen > 8 {
            break;
        }
        let Some((cfile, cls)) = resolver.class(&q) else {
            continue;
        };
        for base in &cls.bases {
            if let Target::Class(b) = resolver.resolve(cfile, base).target {
                queue.push(b);
            }
        }
        let Some((ffile, init)) = resolver.function(&format!("{q}.__init__")) else {
            continue;
        };
        let Some(facts) = resolver.facts(ffile) else {
            continue;
        };
        for call in facts
            .calls
            .iter()
            .filter(|c| facts.scope_within(c.scope, init.scope))
        {
            let c = call.call();
            if c.last_name() != Some("__init__") {
                continue;
            }
            if let Some(seq) = c.kwarg("dependencies").and_then(Value::as_seq) {
                out.extend(seq.iter().map(|v| (ffile, v)));
            }
        }
    }
    out
}

/// The URL variable a `url_value_preprocessor(endpoint, values)` hook reads
/// from `values` (`values.pop("project_id", None)`, `values.get("org")`; also
/// after `if not values: values = {}`, which the evaluation reads as `{}`).
fn popped_url_variable(facts: &PyFacts, f: &FunctionFact) -> Option<String> {
    let values = f.params.get(1)?;
    facts
        .calls
        .iter()
        .filter(|c| facts.scope_within(c.scope, f.scope))
        .find_map(|c| {
            let call = c.call();
            let recv = match &call.func.kind {
                Kind::Attr(base, m) if matches!(m.as_str(), "pop" | "get") => (**base).clone(),
                Kind::Ref(_) if matches!(call.last_name(), Some("pop" | "get")) => {
                    call.receiver()?
                }
                _ => return None,
            };
            let empty_fallback = matches!(&recv.kind, Kind::Dict(items) if items.is_empty());
            let mut is_values = false;
            recv.walk(&mut |x| {
                if let Some(r) = x.reference() {
                    is_values |= r.attrs.is_empty()
                        && matches!(&r.root, crate::python::value::Root::Param { name, .. } if name == &values.name);
                }
            });
            if !is_values && !empty_fallback {
                return None;
            }
            call.arg(0)?.as_str().map(str::to_string)
        })
}

/// Whether a route rule has the URL variable `name` (`<name>`, `<int:name>`).
fn rule_has_variable(rule: &str, name: &str) -> bool {
    rule.split('<').skip(1).any(|part| {
        let inner = part.split('>').next().unwrap_or(part);
        inner.rsplit(':').next() == Some(name)
    })
}

/// A hook named for CSRF (`csrf`, `check_csrf_token`, `xsrf_guard`) compares a
/// token with the session and refuses forged requests, anonymous or not: it
/// says nothing of who the caller is, so it authenticates no route.
fn checks_csrf(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("csrf") || lower.contains("xsrf")
}

/// A blueprint and the blueprints it is registered in.
fn blueprint_chain(project: &Project, b: Option<BlueprintId>) -> Vec<BlueprintId> {
    let mut out = Vec::new();
    let mut cur = b;
    while let Some(id) = cur {
        if out.contains(&id) || out.len() > 16 {
            break;
        }
        out.push(id);
        cur = project
            .blueprints
            .get(id)
            .and_then(|bp| bp.registrations.first())
            .and_then(|r| match r.parent {
                Parent::Blueprint(p) => Some(p),
                Parent::App(_) => None,
            });
    }
    out
}

/// Whether the project function `q` (nested functions included) refuses
/// anonymous callers.
/// Whether a `before_request` hook refuses anonymous callers: by its body
/// (see [`refuses`]), or by a decorator it wears (`@admin_required` on the
/// hook: named for authentication, or a project decorator that refuses),
/// which runs before the hook's body on every request it guards.
fn hook_refuses(project: &Project, q: &str, memo: &mut FxHashMap<String, bool>) -> bool {
    if refuses(project, q, memo) {
        return true;
    }
    let resolver = project.resolver();
    let Some((file, f)) = resolver.function(q) else {
        return false;
    };
    let registers = |d: &Value| {
        d.as_call()
            .map_or(d, |c| &c.func)
            .reference()
            .is_some_and(|r| matches!(r.last_name(), "before_request" | "before_app_request"))
    };
    // Only what is below the registration (`@bp.before_request`) wraps the
    // registered hook.
    let below = f
        .decorators
        .iter()
        .rposition(registers)
        .map_or(0, |i| i + 1);
    f.decorators[below..].iter().any(|d| {
        let callee = d.as_call().map_or(d, |c| &c.func);
        if super::routes::auth_decorator(&resolver, file, d, AUTH_WORDS).is_some() {
            return true;
        }
        match resolver.resolve(file, callee).target {
            Target::Function(g) => g != q && refuses(project, &g, memo),
            _ => false,
        }
    })
}

pub(super) fn refuses(project: &Project, q: &str, memo: &mut FxHashMap<String, bool>) -> bool {
    if let Some(&known) = memo.get(q) {
        return known;
    }
    let resolver = project.resolver();
    let result = resolver
        .function(q)
        .and_then(|(file, f)| Some((file, resolver.facts(file)?, f.scope)))
        .is_some_and(|(file, facts, scope)| {
            body_refuses(facts, scope) || raises_refusal_class(project, file, facts, scope)
        });
    memo.insert(q.to_string(), result);
    result
}

/// Whether the body raises an exception class of the project that answers
/// 401/403 (`raise InvalidToken()` where `class InvalidToken(HTTPException)`
/// sets `status_code=401` in its `__init__` or a class attribute), directly or
/// through a project base class, or raises what a project function or
/// classmethod returns when that says 401/403 (`raise ApiError.unauthorized()`).
/// A raise that passes its own status (`raise ApiError("gone", status_code=404)`)
/// is judged by it alone.
fn raises_refusal_class(project: &Project, file: FileId, facts: &PyFacts, scope: u32) -> bool {
    let resolver = project.resolver();
    facts
        .raises
        .iter()
        .filter(|r| facts.scope_within(r.scope, scope))
        .filter_map(|r| r.value.as_ref())
        .any(|v| {
            let codes = Codes::of(v);
            if codes.other && !codes.refusal {
                return false;
            }
            let callee = v.as_call().map_or(v, |c| &c.func);
            match resolver.resolve(file, callee).target {
                Target::Class(q) => class_refuses(project, &q, 0),
                Target::Function(q) if v.as_call().is_some() => resolver
                    .function(&q)
                    .is_some_and(|(_, f)| f.returns.iter().any(denies)),
                _ => false,
            }
        })
}

/// The HTTP error statuses a value names: 401/403 (see [`denies`]) and others
/// (`404`, `status.HTTP_409_CONFLICT`).
#[derive(Debug, Default, Clone, Copy)]
struct Codes {
    refusal: bool,
    other: bool,
}

impl Codes {
    fn of(v: &Value) -> Codes {
        let mut other = false;
        v.walk(&mut |x| {
            other |= match &x.kind {
                Kind::Int(n) => (400..=599).contains(n) && !matches!(n, 401 | 403),
                Kind::Ref(r) => {
                    let last = r.last_name();
                    last.len() >= 8
                        && (last.starts_with("HTTP_4") || last.starts_with("HTTP_5"))
                        && !last.starts_with("HTTP_401")
                        && !last.starts_with("HTTP_403")
                }
                _ => false,
            };
        });
        Codes {
            refusal: denies(v),
            other,
        }
    }

    fn add(&mut self, c: Codes) {
        self.refusal |= c.refusal;
        self.other |= c.other;
    }
}

/// Whether a project class (or one of its project bases, a few levels up) says
/// 401/403 in its body: a class attribute or a call in its methods. A class
/// answers with its own status: one whose attributes name another
/// (`status_code = 404`) does not refuse whatever its bases say, and a class
/// whose methods name 401/403 and other statuses alike (a base `ApiError`
/// with `unauthorized()` and `not_found()` constructors) is used for both, so
/// raising it, or a subclass that does not say, is no refusal.
fn class_refuses(project: &Project, q: &str, depth: usize) -> bool {
    if depth > 4 {
        return false;
    }
    let resolver = project.resolver();
    let Some((file, class)) = resolver.class(q) else {
        return false;
    };
    let Some(facts) = resolver.facts(file) else {
        return false;
    };
    let mut attrs = Codes::default();
    for a in &class.attrs {
        let mut c = Codes::of(&a.value);
        // `retries = 500` is no status.
        let name = a.name.to_ascii_lowercase();
        c.other &= name.contains("code") || name.contains("status");
        attrs.add(c);
    }
    if attrs.refusal {
        return true;
    }
    if attrs.other {
        return false;
    }
    let mut calls = Codes::default();
    for c in facts
        .calls
        .iter()
        .filter(|c| facts.scope_within(c.scope, class.scope))
    {
        calls.add(Codes::of(&c.value));
    }
    if calls.refusal || calls.other {
        return calls.refusal && !calls.other;
    }
    class
        .bases
        .iter()
        .any(|b| match resolver.resolve(file, b).target {
            Target::Class(base) if base != q => class_refuses(project, &base, depth + 1),
            _ => false,
        })
}

fn body_refuses(facts: &PyFacts, scope: u32) -> bool {
    let within = |s: u32| facts.scope_within(s, scope);
    // A refusal only for callers who are signed in or present a credential
    // (`if authed(): ... if user.banned: return ..., 403`, `if token: ...
    // abort(401)`) lets anonymous callers through: it is no login check.
    let for_anyone = |g: u32| !only_with_identity(facts, g);
    facts
        .calls
        .iter()
        .filter(|c| within(c.scope) && for_anyone(c.guard))
        .any(|c| denies(&c.value))
        || facts
            .raises
            .iter()
            .filter(|r| within(r.scope) && for_anyone(r.guard))
            .filter_map(|r| r.value.as_ref())
            .any(denies)
        || facts.functions.iter().filter(|f| within(f.scope)).any(|f| {
            f.returns
                .iter()
                .zip(f.return_guards.iter().copied().chain(std::iter::repeat(0)))
                .any(|(r, g)| for_anyone(g) && denies(r))
                || (f.scope != scope
                    && f.decorators.iter().any(|d| {
                        let callee = d.as_call().map_or(d, |c| &c.func);
                        callee
                            .reference()
                            .is_some_and(|r| has_auth_word(r.last_name()))
                    }))
        })
}

/// Whether a fact runs only when the caller is already signed in or has sent
/// a credential: one of the `if` conditions around it (not an `else`) tests
/// `authed()`, `current_user.is_authenticated`, `logged_in`, or a token,
/// an `Authorization` header or an API key the request carries.
fn only_with_identity(facts: &PyFacts, guard: u32) -> bool {
    facts
        .guards_of(guard)
        .iter()
        .any(|g| !g.negated && asserts_identity(&g.test))
}

/// Whether a condition holds only for a caller with an identity (see
/// [`only_with_identity`]); `not authed()` is the opposite.
fn asserts_identity(test: &Value) -> bool {
    let identity_word = |name: &str| {
        let n = name.to_ascii_lowercase();
        // `token_missing`, `bad_token`: the condition of a refusal, not of
        // an identity.
        if ["invalid", "missing", "bad", "expired", "no_", "not_"]
            .iter()
            .any(|w| n.contains(w))
        {
            return false;
        }
        n == "authed"
            || n.ends_with("_authed")
            || n.contains("is_authenticated")
            || n.contains("logged_in")
            || n.contains("signed_in")
            || n.contains("token")
            || n.contains("api_key")
            || n.contains("apikey")
            || n.contains("authorization")
            || n == "auth_header"
    };
    match &test.kind {
        Kind::And(items) => items.iter().any(asserts_identity),
        Kind::Call(c) => {
            c.func
                .reference()
                .is_some_and(|r| identity_word(r.last_name()))
                || (c.last_name() == Some("get")
                    && c.func
                        .reference()
                        .is_some_and(|r| r.attrs.iter().any(|a| a.as_str() == "headers"))
                    && c.arg(0).and_then(Value::as_str).is_some_and(identity_word))
        }
        Kind::Ref(r) => {
            identity_word(r.last_name())
                || matches!(&r.root, crate::python::value::Root::Local(n) if identity_word(n.as_str()))
        }
        _ => false,
    }
}

/// Whether a value answers 401/403 or sends the caller to log in.
fn denies(v: &Value) -> bool {
    let mut found = false;
    v.walk(&mut |x| {
        if found {
            return;
        }
        found = match &x.kind {
            Kind::Int(401 | 403) => true,
            Kind::Ref(r) => {
                let last = r.last_name();
                let upper = last.to_ascii_uppercase();
                upper.contains("UNAUTHORIZED")
                    || upper.contains("FORBIDDEN")
                    || upper.contains("PERMISSIONDENIED")
                    || upper.contains("NOTAUTHENTICATED")
                    || upper.contains("AUTHENTICATIONFAILED")
                    || matches!(
                        last,
                        "verify_jwt_in_request"
                            | "unauthorized"
                            | "unauthorized_callback"
                            | "needs_refresh"
                    )
            }
            // The endpoint may be built: `url_for(bp_name + ".login")`,
            // `url_for(f"{prefix}.login")`.
            Kind::Call(c) => {
                c.last_name() == Some("url_for")
                    && c.arg(0).is_some_and(|a| {
                        let mut login = false;
                        a.walk(&mut |p| {
                            if let Kind::Str(e) = &p.kind {
                                let e = e.to_ascii_lowercase();
                                login |= e.contains("login")
                                    || e.contains("signin")
                                    || e.contains("sign_in")
                                    || e.contains("authenticate");
                            }
                        });
                        login
                    })
            }
            _ => false,
        };
    });
    found
}

#[cfg(test)]
mod tests {
    use super::denies;
    use crate::python::analyze;

    #[test]
    fn refusals_for_callers_with_an_identity_only() {
        let src = r#"
def hook():
    if authed():
        if user.banned:
            abort(403)
    key = request.headers.get("Authorization")
    if key and request.is_json:
        abort(401)
    if not authed():
        abort(401)
"#;
        let facts = analyze(0, src, "m", false).unwrap();
        let seen: Vec<bool> = facts
            .calls
            .iter()
            .filter(|c| c.call().last_name() == Some("abort"))
            .map(|c| super::only_with_identity(&facts, c.guard))
            .collect();
        assert_eq!(seen, [true, true, false]);
    }

    #[test]
    fn refusals_are_recognised() {
        let src = r#"
abort(401)
raise HTTPException(status_code=status.HTTP_403_FORBIDDEN)
redirect(url_for("auth.login", next=request.url))
verify_jwt_in_request()
current_app.login_manager.needs_refresh()
redirect(url_for(settings.blueprint + ".login"))
redirect(url_for(f"{settings.blueprint}.sign_in"))
abort(404)
redirect(url_for("index"))
redirect(url_for(settings.blueprint + ".index"))
"#;
        let facts = analyze(0, src, "m", false).unwrap();
        let top: Vec<bool> = facts
            .calls
            .iter()
            .filter(|c| c.scope == 0)
            .filter(|c| !matches!(c.call().last_name(), Some("url_for" | "HTTPException")))
            .map(|c| denies(&c.value))
            .collect();
        assert_eq!(
            top,
            [true, true, true, true, true, true, false, false, false]
        );
        assert!(facts
            .raises
            .iter()
            .all(|r| r.value.as_ref().is_some_and(denies)));
    }
}
