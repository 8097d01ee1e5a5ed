//! Routes and error handlers registered by call rather than by decorator:
//! `app.add_url_rule(rule, endpoint, view_func, methods=...)` (plain functions,
//! and class-based views: `MethodView.as_view(...)`, whose HTTP methods are
//! views of their own, see `class_views`) and
//! `app.register_error_handler(code, handler)`.

use super::{
    class_views::{ClassView, Registration, HTTP_METHOD_FUNCS},
    index::Target,
    Blueprint, BlueprintId, BlueprintKind, ErrorHandler, Parent, Project, Route,
};
use crate::{python::value::Value, source::Span};

/// The endpoint of a view registered on a blueprint gets the blueprint's name
/// in front (`items.item`).
pub(super) fn qualified_endpoint(
    bps: &[Blueprint],
    blueprint: Option<BlueprintId>,
    name: &str,
) -> String {
    match blueprint.and_then(|b| bps.get(b)) {
        Some(b) if b.kind == BlueprintKind::Blueprint && !b.name.is_empty() => {
            format!("{}.{name}", b.name)
        }
        _ => name.to_string(),
    }
}

pub(super) fn find(
    project: &Project,
    bps: &[Blueprint],
    auth_words: &[&str],
    factories: &super::route_factories::Factories,
    routes: &mut Vec<Route>,
    handlers: &mut Vec<ErrorHandler>,
) {
    let resolver = project.resolver();
    for (file, _, call) in project.calls_named(&["add_url_rule", "register_error_handler"]) {
        let c = call.call();
        // Inside a decorator factory: its uses are the routes.
        if factories.registers_at(Span::new(file, call.range())) {
            continue;
        }
        let Some(recv) = c.receiver() else { continue };
        let r = resolver.resolve(file, &recv);
        let Target::Object(site) = r.target else {
            continue;
        };
        if !r.attrs.is_empty() {
            continue;
        }
        let owner = match project.app_at(site) {
            Some(app) => Parent::App(app),
            None => match bps.iter().find(|b| b.site == site) {
                Some(b) => Parent::Blueprint(b.id),
                None => continue,
            },
        };
        let (app, blueprint) = match owner {
            Parent::App(a) => (Some(a), None),
            Parent::Blueprint(b) => (None, Some(b)),
        };
        let span = Span::new(file, call.range());
        let method = c.last_name().unwrap_or_default();
        if method == "register_error_handler" {
            let (Some(key), Some(handler)) = (c.param(0, "code_or_exception"), c.param(1, "f"))
            else {
                continue;
            };
            let function = resolver
                .resolve(file, handler)
                .external_name()
                .unwrap_or_else(|| handler.render());
            handlers.push(ErrorHandler {
                app,
                blueprint,
                key: key.clone(),
                function,
                file,
                span,
                app_wide: app.is_some(),
            });
            continue;
        }
        let Some(rule) = c.param(0, "rule") else {
            continue;
        };
        // `view_func=None` is no view, as when it is left out.
        let view = c
            .param(2, "view_func")
            .filter(|v| !matches!(v.kind, crate::python::value::Kind::None));
        // In a loop over a table (`for rule, view in PAGES:`): one route
        // per row.
        let cases = match loop_rows(project, file, &[Some(rule), view]).filter(|rows| {
            // Rows whose rule is itself unknown (a loop over names another
            // loop binds) add nothing but copies.
            rows.iter().all(|row| {
                row.first()
                    .copied()
                    .flatten()
                    .is_some_and(|(_, v)| !matches!(v.kind, crate::python::value::Kind::Unknown))
            })
        }) {
            Some(rows) => rows
                .into_iter()
                .filter_map(|row| match row.as_slice() {
                    [Some(r), v] => Some((*r, *v)),
                    _ => None,
                })
                .collect(),
            None => vec![((file, rule), view.map(|v| (file, v)))],
        };
        for ((rfile, rule), view) in cases {
            let rule = super::routes::rule_text(project, rfile, rule);
            let rule = rule.as_str();
            let mut vfile = view.map_or(file, |(f, _)| f);
            let mut view = view.map(|(_, v)| v);
            // A name bound to the view (`user_view = UserAPI.as_view("users")`),
            // and `limiter.limit("5/minute")(login)`: the view is the wrapped
            // function (`model::limits` reads the wrappers).
            for _ in 0..8 {
                let Some(v) = view else { break };
                let (f, v) = resolver.deref(vfile, v);
                vfile = f;
                view = Some(v);
                match v
                    .as_call()
                    .filter(|w| w.func.as_call().is_some())
                    .and_then(|w| w.arg(0))
                {
                    Some(inner) => view = Some(inner),
                    None => break,
                }
            }
            let mut endpoint = c
                .param(1, "endpoint")
                .and_then(Value::as_str)
                .map(str::to_string);
            let mut methods: Option<Vec<String>> =
                super::routes::literal_methods(c.kwarg("methods"));
            // A class-based view: `SomeView.as_view("name")`, or the class itself
            // (which flask-smorest's and some projects' blueprints turn into a
            // view). Each of its HTTP methods is a view of its own.
            let as_view = view
                .and_then(Value::as_call)
                .filter(|v| v.last_name() == Some("as_view"));
            let class_ref = match as_view {
                Some(av) => {
                    endpoint = endpoint.or_else(|| {
                        av.param(0, "name")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    });
                    av.receiver()
                }
                None => view.cloned(),
            };
            let class = class_ref.and_then(|r| match resolver.resolve(vfile, &r).target {
                Target::Class(q) => Some(q),
                _ => None,
            });
            if let Some(view) = class.as_deref().and_then(|q| ClassView::of(project, q)) {
                let class_name = class
                    .as_deref()
                    .and_then(|q| q.rsplit('.').next())
                    .unwrap_or_default();
                let endpoint =
                    qualified_endpoint(bps, blueprint, endpoint.as_deref().unwrap_or(class_name));
                let reg = Registration {
                    app,
                    blueprint,
                    rule,
                    endpoint: &endpoint,
                    methods: methods.clone(),
                    span,
                    resource: false,
                };
                if let Some(found) = view.routes(&reg, auth_words) {
                    routes.extend(found);
                    continue;
                }
            }
            let mut def_span = span;
            let mut function = String::new();
            let mut auth = Vec::new();
            if let Some(view) = view {
                match as_view {
                    Some(av) => {
                        let Some(class_ref) = av.receiver() else {
                            continue;
                        };
                        if let Target::Class(q) = resolver.resolve(vfile, &class_ref).target {
                            if let Some((cfile, class)) = resolver.class(&q) {
                                def_span = Span::new(cfile, class.name_range);
                                function = q.clone();
                                let class_methods: Vec<String> = resolver
                                    .facts(cfile)
                                    .into_iter()
                                    .flat_map(|f| f.functions.iter())
                                    .filter(|f| {
                                        f.method_of.as_deref() == Some(q.as_str())
                                            && HTTP_METHOD_FUNCS.contains(&f.name.as_str())
                                    })
                                    .map(|f| f.name.to_ascii_uppercase())
                                    .collect();
                                if methods.is_none() && !class_methods.is_empty() {
                                    methods = Some(class_methods);
                                }
                            }
                        }
                    }
                    None => {
                        let target = resolver.resolve(vfile, view).target;
                        // A handler class given as the view, which a project's own
                        // blueprint subclass turns into a view function.
                        if let Target::Class(q) = &target {
                            if let Some((cfile, class)) = resolver.class(q) {
                                def_span = Span::new(cfile, class.name_range);
                                endpoint = endpoint.or_else(|| Some(class.name.to_string()));
                                function = q.clone();
                            }
                        }
                        if let Target::Function(q) = target {
                            if let Some((ffile, f)) = resolver.function(&q) {
                                def_span = Span::new(ffile, f.name_range);
                                endpoint = endpoint.or_else(|| Some(f.name.to_string()));
                                for d in &f.decorators {
                                    auth.extend(super::routes::auth_decorator(
                                        &resolver, ffile, d, auth_words,
                                    ));
                                }
                            }
                            function = q;
                        }
                    }
                }
            }
            // `add_url_rule("/x", endpoint="x")` with no view: the view is
            // attached to the endpoint later, `@app.endpoint("x")` on a function
            // or `app.view_functions["x"] = f`.
            if view.is_none() {
                if let Some((q, below)) = endpoint
                    .as_deref()
                    .and_then(|name| endpoint_view(project, site, name))
                {
                    if let Some((ffile, f)) = resolver.function(&q) {
                        def_span = Span::new(ffile, f.name_range);
                        for d in f
                            .decorators
                            .iter()
                            .filter(|d| below.is_none_or(|b| u32::from(d.range.start()) > b))
                        {
                            auth.extend(super::routes::auth_decorator(
                                &resolver, ffile, d, auth_words,
                            ));
                        }
                    }
                    function = q;
                }
            }
            let endpoint_name = endpoint
                .unwrap_or_else(|| function.rsplit('.').next().unwrap_or_default().to_string());
            let endpoint = qualified_endpoint(bps, blueprint, &endpoint_name);
            routes.push(Route {
                app,
                blueprint,
                methods: methods.unwrap_or_else(|| vec!["GET".to_string()]),
                rule: rule.to_string(),
                path: None,
                endpoint,
                function,
                class: None,
                file,
                def_span,
                span,
                decorators: Vec::new(),
                limits: Vec::new(),
                limit_exempt: false,
                csrf_exempt: None,
                auth,
                unregistered: false,
                provided_by: None,
            });
        }
    }
}

/// One round of a loop: each argument's value and the file it is written in.
pub(super) type LoopRow<'p> = Vec<Option<(crate::source::FileId, &'p Value)>>;

/// The values several arguments take in each round of the `for` loop that
/// binds one of them, when it runs over a literal table (written in place or
/// a module constant): per row, each argument's value (a loop name of the
/// same loop takes its item of the row; other arguments stay as they are),
/// with the file it is written in. None when no argument is a loop name, or
/// the table cannot be read.
pub(super) fn loop_rows<'p>(
    project: &'p Project,
    file: crate::source::FileId,
    args: &[Option<&'p Value>],
) -> Option<Vec<LoopRow<'p>>> {
    let resolver = project.resolver();
    let facts = resolver.facts(file)?;
    let lp = args.iter().flatten().find_map(|v| facts.loop_of(v))?;
    let (tfile, table) = resolver.deref(file, &lp.iter);
    let rows = table.as_seq()?;
    let same_loop = |v: &Value| {
        facts
            .loop_of(v)
            .filter(|l| l.iter.range == lp.iter.range && l.scope == lp.scope)
    };
    let mut out = Vec::with_capacity(rows.len());
    'rows: for row in rows {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(match a {
                None => None,
                Some(v) => match same_loop(v) {
                    None => Some((file, *v)),
                    Some(l) => match l.position {
                        None => Some((tfile, row)),
                        // A row that is not a tuple of the target's size.
                        Some(i) => match row.as_seq().and_then(|items| items.get(i)) {
                            Some(item) => Some((tfile, item)),
                            None => continue 'rows,
                        },
                    },
                },
            });
        }
        out.push(vals);
    }
    Some(out)
}

/// The view function attached to an endpoint of the app or blueprint created
/// at `owner` without a route: a function decorated `@owner.endpoint(name)`,
/// or `owner.view_functions[name] = view`. Returns the function (qualified)
/// and, for the decorator, where it starts: only the decorators below it
/// wrap the registered view.
fn endpoint_view(
    project: &Project,
    owner: crate::python::value::Site,
    name: &str,
) -> Option<(String, Option<u32>)> {
    let resolver = project.resolver();
    let owned = |file, recv: &Value| {
        let r = resolver.resolve(file, recv);
        matches!(r.target, Target::Object(s) if s == owner) && r.attrs.is_empty()
    };
    for (file, facts) in project.python() {
        for f in &facts.functions {
            for d in &f.decorators {
                let Some(c) = d.as_call() else { continue };
                if c.last_name() != Some("endpoint")
                    || c.param(0, "endpoint").and_then(Value::as_str) != Some(name)
                {
                    continue;
                }
                if c.receiver().is_some_and(|recv| owned(file, &recv)) {
                    return Some((f.qualified.to_string(), Some(d.range.start().into())));
                }
            }
        }
    }
    for (file, facts) in project.python() {
        for a in &facts.assigns {
            let crate::python::value::Kind::Subscript(base, key) = &a.target.kind else {
                continue;
            };
            if key.as_str() != Some(name) {
                continue;
            }
            if base.reference().map(|r| r.last_name()) != Some("view_functions") {
                continue;
            }
            let r = resolver.resolve(file, base);
            if !(matches!(r.target, Target::Object(s) if s == owner)
                && r.attrs.len() == 1
                && r.attrs[0] == "view_functions")
            {
                continue;
            }
            if let Target::Function(q) = resolver.resolve(file, &a.value).target {
                return Some((q, None));
            }
        }
    }
    None
}
