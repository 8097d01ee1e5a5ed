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
    for (file, facts, call) in project.calls_named(&["add_url_rule", "register_error_handler"]) {
        let c = call.call();
        // Inside a decorator factory: its uses are the routes.
        if factories.registers_at(Span::new(file, call.range())) {
            continue;
        }
        let Some(recv) = c.receiver() else { continue };
        let method = c.last_name().unwrap_or_default();
        let rule = c.param(0, "rule");
        // `view_func=None` is no view, as when it is left out.
        let view = c
            .param(2, "view_func")
            .filter(|v| !matches!(v.kind, crate::python::value::Kind::None));
        // A helper given the app or blueprint and a table of rules and views
        // registers each row of every table its callers pass.
        let uses = match (method, rule) {
            ("add_url_rule", Some(rule)) => table_helper_uses(
                project, bps, auth_words, file, facts, call, &recv, rule, view,
            ),
            _ => None,
        };
        let instances = match uses {
            Some(uses) => uses,
            None => {
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
                let span = Span::new(file, call.range());
                if method == "register_error_handler" {
                    let (app, blueprint) = match owner {
                        Parent::App(a) => (Some(a), None),
                        Parent::Blueprint(b) => (None, Some(b)),
                    };
                    let (Some(key), Some(handler)) =
                        (c.param(0, "code_or_exception"), c.param(1, "f"))
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
                let Some(rule) = rule else {
                    continue;
                };
                // In a loop over a table (`for rule, view in PAGES:`): one route
                // per row.
                let cases = match loop_rows(project, file, &[Some(rule), view]).filter(|rows| {
                    // Rows whose rule is itself unknown (a loop over names another
                    // loop binds) add nothing but copies.
                    rows.iter().all(|row| {
                        row.first().copied().flatten().is_some_and(|(_, v)| {
                            !matches!(v.kind, crate::python::value::Kind::Unknown)
                        })
                    })
                }) {
                    Some(rows) => rows
                        .into_iter()
                        .filter_map(|row| match row.as_slice() {
                            [Some(r), v] => Some((*r, *v, span)),
                            _ => None,
                        })
                        .collect(),
                    None => vec![((file, rule), view.map(|v| (file, v)), span)],
                };
                vec![HelperUse {
                    site,
                    owner,
                    cases,
                    auth: Vec::new(),
                }]
            }
        };
        for inst in instances {
            emit(project, bps, auth_words, file, c, inst, routes);
        }
    }
}

/// One registration of routes on an app or blueprint: per rule, the view and
/// where the route is declared.
struct HelperUse<'p> {
    /// The app or blueprint object.
    site: crate::python::value::Site,
    owner: Parent,
    #[allow(clippy::type_complexity)]
    cases: Vec<(
        (crate::source::FileId, &'p Value),
        Option<(crate::source::FileId, &'p Value)>,
        Span,
    )>,
    /// Authentication the helper wraps around every view (decorators its
    /// caller hands it).
    auth: Vec<String>,
}

/// The routes of one `add_url_rule` call (or of one use of the helper it is
/// in).
fn emit<'p>(
    project: &'p Project,
    bps: &[Blueprint],
    auth_words: &[&str],
    file: crate::source::FileId,
    c: &'p crate::python::value::Call,
    inst: HelperUse<'p>,
    routes: &mut Vec<Route>,
) {
    let resolver = project.resolver();
    let HelperUse {
        site,
        owner,
        cases,
        auth: helper_auth,
    } = inst;
    let (app, blueprint) = match owner {
        Parent::App(a) => (Some(a), None),
        Parent::Blueprint(b) => (None, Some(b)),
    };
    {
        for ((rfile, rule), view, span) in cases {
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
                    routes.extend(found.into_iter().map(|mut r| {
                        r.auth.extend(helper_auth.iter().cloned());
                        r
                    }));
                    continue;
                }
            }
            let mut def_span = span;
            let mut function = String::new();
            let mut auth = helper_auth.clone();
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
                file: span.file,
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

/// Whether a value is the parameter `func` is given at `index`.
fn param_index(v: &Value, func: &str) -> Option<usize> {
    let r = v.reference()?;
    match &r.root {
        crate::python::value::Root::Param { func: f, index, .. }
            if f.as_str() == func && r.attrs.is_empty() =>
        {
            Some(*index as usize)
        }
        _ => None,
    }
}

/// The item of the loop `lp`'s rows a value is made from: the loop name
/// itself, `item.as_view(...)`, `wrap(item)`, or a local of `scope` assigned
/// one of these (`view = item.as_view(item.__name__)`; `view =
/// decorator(view)`). Its position in the row (None: the whole row).
fn loop_item(
    facts: &crate::python::facts::PyFacts,
    scope: u32,
    lp: &crate::python::facts::LoopFact,
    v: &Value,
    depth: u32,
) -> Option<Option<usize>> {
    use crate::python::value::{Kind, Root};
    if depth > 6 {
        return None;
    }
    if let Some(l) = facts.loop_of(v) {
        return (l.iter.range == lp.iter.range && l.scope == lp.scope).then_some(l.position);
    }
    match &v.kind {
        Kind::Call(c) => match &c.func.kind {
            Kind::Attr(inner, _) => loop_item(facts, scope, lp, inner, depth + 1),
            _ => c
                .arg(0)
                .and_then(|a| loop_item(facts, scope, lp, a, depth + 1)),
        },
        Kind::Attr(inner, _) => loop_item(facts, scope, lp, inner, depth + 1),
        Kind::Ref(r) if r.attrs.is_empty() => {
            let Root::Local(name) = &r.root else {
                return None;
            };
            local_values(facts, scope, name).find_map(|v| loop_item(facts, scope, lp, v, depth + 1))
        }
        _ => None,
    }
}

/// The values assigned to the plain local `name` in `scope`.
fn local_values<'a>(
    facts: &'a crate::python::facts::PyFacts,
    scope: u32,
    name: &'a str,
) -> impl Iterator<Item = &'a Value> + 'a {
    use crate::python::value::Root;
    facts
        .assigns
        .iter()
        .filter(move |a| a.scope == scope)
        .filter(move |a| {
            a.target.reference().is_some_and(|t| {
                t.attrs.is_empty() && matches!(&t.root, Root::Local(n) if n == name)
            })
        })
        .map(|a| &a.value)
}

/// The parameter of `func` holding decorators applied to the view in a loop
/// (`for d in decorators or []: view = d(view)`): the view is a call of the
/// loop's name, itself or through a local of `scope` assigned so.
fn decorators_param(
    facts: &crate::python::facts::PyFacts,
    scope: u32,
    func: &str,
    view: &Value,
    depth: u32,
) -> Option<usize> {
    use crate::python::value::{Kind, Root};
    if depth > 6 {
        return None;
    }
    match &view.kind {
        Kind::Call(c) => {
            if let Some(l) = facts.loop_of(&c.func).filter(|l| l.scope == scope) {
                let iter = match &l.iter.kind {
                    // `decorators or []`
                    Kind::Or(items) => items.first()?,
                    _ => &l.iter,
                };
                if let Some(i) = param_index(iter, func) {
                    return Some(i);
                }
            }
            c.arg(0)
                .and_then(|a| decorators_param(facts, scope, func, a, depth + 1))
        }
        Kind::Or(items) => items
            .iter()
            .find_map(|v| decorators_param(facts, scope, func, v, depth + 1)),
        Kind::Ref(r) if r.attrs.is_empty() => {
            let Root::Local(name) = &r.root else {
                return None;
            };
            local_values(facts, scope, name)
                .find_map(|v| decorators_param(facts, scope, func, v, depth + 1))
        }
        _ => None,
    }
}

/// What a call passes for parameter `index` of `func` (by keyword or
/// position), else the parameter's default.
fn passed<'p>(
    cfile: crate::source::FileId,
    c: &'p crate::python::value::Call,
    ffile: crate::source::FileId,
    func: &'p crate::python::facts::FunctionFact,
    index: usize,
) -> Option<(crate::source::FileId, &'p Value)> {
    let p = func.params.get(index)?;
    if let Some(v) = c.kwarg(&p.name) {
        return Some((cfile, v));
    }
    if p.kind == crate::python::facts::ParamKind::Positional
        && c.star.as_ref().is_none_or(|s| s.0 > index)
    {
        if let Some(v) = c.args.get(index) {
            return Some((cfile, v));
        }
    }
    if c.spread {
        return None;
    }
    p.default.as_deref().map(|d| (ffile, d))
}

/// The uses of a project helper that registers every row of a table it is
/// given: `def register_api(bp, routes, decorators=None): for rule, resource
/// in routes: view = resource.as_view(resource.__name__); ...;
/// bp.add_url_rule(rule, view_func=view)`. Each call of the helper passes
/// its own blueprint and table (a list written there or imported); every
/// row is a route declared where the row is written, with the decorators
/// the call hands the helper around its view. None when the call is not
/// in such a helper (a module-level function whose rule is an item of a
/// loop over one of its parameters).
#[allow(clippy::too_many_arguments)]
fn table_helper_uses<'p>(
    project: &'p Project,
    bps: &[Blueprint],
    auth_words: &[&str],
    file: crate::source::FileId,
    facts: &'p crate::python::facts::PyFacts,
    call: &'p crate::python::facts::CallFact,
    recv: &Value,
    rule: &'p Value,
    view: Option<&'p Value>,
) -> Option<Vec<HelperUse<'p>>> {
    if call.scope == 0 {
        return None;
    }
    let helper = facts.functions.iter().find(|f| f.scope == call.scope)?;
    if helper.method_of.is_some() || helper.parent != 0 {
        return None;
    }
    let func = helper.qualified.as_str();
    let lp = facts.loop_of(rule).filter(|l| l.scope == call.scope)?;
    let table_param = param_index(&lp.iter, func)?;
    let recv_param = param_index(recv, func);
    let view_item = view.and_then(|v| loop_item(facts, call.scope, lp, v, 0));
    let deco_param = view.and_then(|v| decorators_param(facts, call.scope, func, v, 0));
    let resolver = project.resolver();
    let mut out = Vec::new();
    for &(cfile, ci) in project.index.callers(func).iter().take(256) {
        let Some(cf) = resolver.facts(cfile).and_then(|p| p.calls.get(ci)) else {
            continue;
        };
        let uc = cf.call();
        let (rfile, rv) = match recv_param {
            Some(i) => match passed(cfile, uc, file, helper, i) {
                Some(found) => found,
                None => continue,
            },
            None => (file, recv),
        };
        let r = resolver.resolve(rfile, rv);
        let (Target::Object(site), true) = (r.target, r.attrs.is_empty()) else {
            continue;
        };
        let owner = match project.app_at(site) {
            Some(app) => Parent::App(app),
            None => match bps.iter().find(|b| b.site == site) {
                Some(b) => Parent::Blueprint(b.id),
                None => continue,
            },
        };
        let Some((tfile, table)) = passed(cfile, uc, file, helper, table_param) else {
            continue;
        };
        let (tfile, table) = resolver.deref(tfile, table);
        let Some(rows) = table.as_seq() else { continue };
        let item = |row: &'p Value, pos: Option<usize>| -> Option<&'p Value> {
            match pos {
                None => Some(row),
                Some(i) => row.as_seq()?.get(i),
            }
        };
        let cases = rows
            .iter()
            .filter_map(|row| {
                let r = item(row, lp.position)?;
                if matches!(r.kind, crate::python::value::Kind::Unknown) {
                    return None;
                }
                let v = match view_item {
                    Some(pos) => Some((tfile, item(row, pos)?)),
                    None => view.map(|v| (file, v)),
                };
                Some(((tfile, r), v, Span::new(tfile, row.range)))
            })
            .collect();
        let auth = deco_param
            .and_then(|i| passed(cfile, uc, file, helper, i))
            .map(|(df, d)| resolver.deref(df, d))
            .and_then(|(df, d)| Some((df, d.as_seq()?)))
            .map(|(df, items)| {
                items
                    .iter()
                    .filter_map(|d| super::routes::auth_decorator(&resolver, df, d, auth_words))
                    .collect()
            })
            .unwrap_or_default();
        out.push(HelperUse {
            site,
            owner,
            cases,
            auth,
        });
    }
    Some(out)
}
