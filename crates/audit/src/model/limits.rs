//! Rate limits that are not a decorator on the view function itself:
//! flask-limiter's `limiter.limit(...)` applied by call — to a view
//! (`add_url_rule(..., view_func=limiter.limit("5/minute")(login))`,
//! `login = limiter.limit(...)(login)`) or to a whole blueprint
//! (`limiter.limit("30/minute")(auth_bp)`), `limiter.exempt(bp)` — and the
//! decorators of views registered with `add_url_rule` and of class-based views
//! (a `MethodView`'s or `Resource`'s `decorators` / `method_decorators` and its
//! methods' decorators, which their routes carry).

use super::{index::Target, Blueprint, Project, Route};
use crate::{
    python::value::{Site, Value},
    source::{FileId, Span},
};

/// What a limiter decorator does.
#[derive(Clone)]
enum LimitDeco {
    Limit(Value),
    Exempt,
}

/// `limiter.limit("...")`, `limiter.shared_limit(...)`, `limiter.exempt`.
fn limiter_decorator(
    project: &Project,
    limiters: &[Site],
    file: FileId,
    d: &Value,
) -> Option<LimitDeco> {
    let callee = d.as_call().map_or(d, |c| &c.func);
    let r = project.resolver().resolve(file, callee);
    let (Target::Object(site), [m]) = (&r.target, r.attrs.as_slice()) else {
        return None;
    };
    if !limiters.contains(site) {
        return None;
    }
    match m.as_str() {
        "limit" | "shared_limit" => Some(LimitDeco::Limit(
            d.as_call()
                .and_then(|c| c.arg(0))
                .cloned()
                .unwrap_or_else(|| d.clone()),
        )),
        "exempt" => Some(LimitDeco::Exempt),
        _ => None,
    }
}

fn apply(route: &mut Route, deco: LimitDeco, span: Span) {
    match deco {
        LimitDeco::Limit(v) => {
            if !route.limits.iter().any(|(_, s)| *s == span) {
                route.limits.push((v, span));
            }
        }
        LimitDeco::Exempt => route.limit_exempt = true,
    }
}

pub(super) fn find(project: &Project, bps: &[Blueprint], routes: &mut [Route]) {
    let limiters: Vec<Site> = project
        .extensions
        .iter()
        .filter(|e| matches!(e.kind, super::ExtKind::Limiter | super::ExtKind::SlowApi))
        .map(|e| e.site)
        .collect();
    if limiters.is_empty() {
        return;
    }
    let resolver = project.resolver();
    // Views registered with add_url_rule: their own decorators, and wrappers
    // around the view_func argument.
    for (file, _, call) in project.calls_named(&["add_url_rule"]) {
        let span = Span::new(file, call.range());
        // One route for a function view, one per HTTP method of a class view.
        let mut registered: Vec<&mut Route> =
            routes.iter_mut().filter(|r| r.span == span).collect();
        if registered.is_empty() {
            continue;
        }
        let mut view = call.call().param(2, "view_func");
        while let Some(wrapper) = view.and_then(Value::as_call) {
            if wrapper.func.as_call().is_none() {
                break;
            }
            if let Some(d) = limiter_decorator(project, &limiters, file, &wrapper.func) {
                for route in registered.iter_mut() {
                    apply(route, d.clone(), Span::new(file, wrapper.func.range));
                }
            }
            view = wrapper.arg(0);
        }
        let Some(view) = view else { continue };
        // Class views (`as_view`) are read with every class-based route below.
        let Target::Function(q) = resolver.resolve(file, view).target else {
            continue;
        };
        if let Some((ffile, f)) = resolver.function(&q) {
            for d in &f.decorators {
                if let Some(deco) = limiter_decorator(project, &limiters, ffile, d) {
                    for route in registered.iter_mut() {
                        apply(route, deco.clone(), Span::new(ffile, d.range));
                    }
                }
            }
        }
    }
    // Class-based views (MethodView, View, Flask-RESTful / RESTX resources):
    // their routes carry the class's `decorators` / `method_decorators` and
    // the method's own decorators.
    for route in routes.iter_mut() {
        if route.class.is_some() {
            let decorators = std::mem::take(&mut route.decorators);
            for d in &decorators {
                if let Some(deco) = limiter_decorator(project, &limiters, d.span.file, &d.value) {
                    apply(route, deco, d.span);
                }
            }
            route.decorators = decorators;
            continue;
        }
        // A handler class given as the view, read as one route.
        let qualified = route.function.clone();
        let Some((cfile, class)) = resolver.class(&qualified) else {
            continue;
        };
        let class_decos = ["decorators", "method_decorators"]
            .iter()
            .filter_map(|attr| class.attr(attr).and_then(|a| a.value.as_seq()))
            .flatten();
        for d in class_decos {
            if let Some(deco) = limiter_decorator(project, &limiters, cfile, d) {
                apply(route, deco, Span::new(cfile, d.range));
            }
        }
        let methods = resolver
            .facts(cfile)
            .into_iter()
            .flat_map(|f| f.functions.iter())
            .filter(|f| f.method_of.as_deref() == Some(qualified.as_str()));
        for m in methods {
            for d in &m.decorators {
                if let Some(deco) = limiter_decorator(project, &limiters, cfile, d) {
                    apply(route, deco, Span::new(cfile, d.range));
                }
            }
        }
    }
    // limiter.limit(...)(target) and limiter.exempt(target) calls.
    for (file, facts, inner) in project.calls_named(&["limit", "shared_limit", "exempt"]) {
        let c = inner.call();
        let (deco, target) = if c.last_name() == Some("exempt") {
            (&c.func, c.arg(0))
        } else {
            // The call that applies the limit: the one whose callee is `inner`.
            let applied = facts.calls.iter().find(|o| {
                o.call()
                    .func
                    .as_call()
                    .is_some_and(|_| o.call().func.range == inner.range())
            });
            match applied {
                Some(o) => (&inner.value, o.call().arg(0)),
                None => continue,
            }
        };
        let Some(target) = target else { continue };
        let span = Span::new(file, inner.range());
        let r = resolver.resolve(file, target);
        for route in routes.iter_mut() {
            let hit = match (&r.target, r.attrs.is_empty()) {
                (Target::Function(q), true) => route.function == *q,
                (Target::Object(site), true) => route
                    .blueprint
                    .and_then(|b| bps.get(b))
                    .is_some_and(|b| b.site == *site),
                _ => false,
            };
            if !hit {
                continue;
            }
            if let Some(d) = limiter_decorator(project, &limiters, file, deco) {
                apply(route, d, span);
            }
        }
    }
}
