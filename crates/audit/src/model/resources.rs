//! Routes of Flask-RESTful and Flask-RESTX (and Flask-RESTPlus) resources:
//! `api.add_resource(Cls, "/a", "/b")`, `@api.resource("/a")` and
//! `@ns.route("/a")` / `@api.route("/a")` on a `Resource` class, with the
//! `Api`'s `prefix` and the namespace's `path` (`Namespace("users")`,
//! `api.namespace("users", path=...)`, `api.add_namespace(ns, path=...)`), on
//! the app or blueprint the `Api` was created with (or `init_app`ed to). The
//! class's `get`/`post`/... methods (also inherited from the project's base
//! classes) are the views, one route each, decorated by the class's
//! `decorators` and `method_decorators` (a list, or a dict by method name) and
//! their own decorators (see `class_views`).

use super::{
    blueprints::join_paths,
    class_views::{ClassView, Registration},
    index::Target,
    Blueprint, Parent, Project, Route,
};
use crate::{
    python::value::{Site, Value},
    source::{FileId, Span},
};

const APIS: &[&str] = &["flask_restful.Api", "flask_restx.Api", "flask_restplus.Api"];
const NAMESPACES: &[&str] = &["flask_restx.Namespace", "flask_restplus.Namespace"];

/// An `Api` or a namespace: where its routes hang and the path it adds.
#[derive(Debug, Clone)]
struct Mount {
    site: Site,
    owner: Option<Parent>,
    prefix: String,
    /// A namespace's `Api`, once `add_namespace` / `api.namespace` says.
    api: Option<Site>,
}

/// The app or blueprint a value is (`app`, `bp`, `api_router`), if the model knows it.
pub(super) fn owner_of(
    project: &Project,
    bps: &[Blueprint],
    file: FileId,
    v: &Value,
) -> Option<Parent> {
    let r = project.resolver().resolve(file, v);
    let Target::Object(site) = r.target else {
        return None;
    };
    if !r.attrs.is_empty() {
        return None;
    }
    project.app_at(site).map(Parent::App).or_else(|| {
        bps.iter()
            .find(|b| b.site == site)
            .map(|b| Parent::Blueprint(b.id))
    })
}

fn site_of(project: &Project, file: FileId, v: &Value) -> Option<Site> {
    let r = project.resolver().resolve(file, v);
    match r.target {
        Target::Object(site) if r.attrs.is_empty() => Some(site),
        _ => None,
    }
}

pub(super) fn find(
    project: &Project,
    bps: &[Blueprint],
    auth_words: &[&str],
    routes: &mut Vec<Route>,
) {
    let resolver = project.resolver();
    let mut mounts: Vec<Mount> = Vec::new();
    // Project subclasses of an `Api` (`class ApiExt(Api)`): their instances
    // are Apis too.
    let api_roots: Vec<(&str, ())> = APIS.iter().map(|a| (*a, ())).collect();
    let api_subclasses = super::apps::derived_classes(project, &api_roots);
    let mut api_calls = project.calls_named(&["Api", "Namespace", "namespace"]);
    super::apps::add_calls_of(project, &api_subclasses, &mut api_calls);
    for (file, _, call) in api_calls {
        let c = call.call();
        let site = Site {
            file,
            offset: call.range().start().into(),
        };
        let name = resolver.resolve(file, &c.func).external_name();
        let str_kw = |k: &str| c.kwarg(k).and_then(Value::as_str).map(str::to_string);
        if name
            .as_deref()
            .is_some_and(|n| APIS.contains(&n) || api_subclasses.contains_key(n))
        {
            let owner = c
                .param(0, "app")
                .and_then(|a| owner_of(project, bps, file, a));
            mounts.push(Mount {
                site,
                owner,
                prefix: str_kw("prefix").unwrap_or_default(),
                api: None,
            });
        } else if name.as_deref().is_some_and(|n| NAMESPACES.contains(&n))
            || c.last_name() == Some("namespace")
        {
            let path = str_kw("path").or_else(|| {
                c.param(0, "name")
                    .and_then(Value::as_str)
                    .map(|n| format!("/{n}"))
            });
            let api = (c.last_name() == Some("namespace"))
                .then(|| c.receiver().and_then(|r| site_of(project, file, &r)))
                .flatten();
            if c.last_name() == Some("namespace") && api.is_none() {
                continue;
            }
            mounts.push(Mount {
                site,
                owner: None,
                prefix: path.unwrap_or_default(),
                api,
            });
        }
    }
    if mounts.is_empty() {
        return;
    }
    // init_app(app) and add_namespace(ns, path=...).
    for (file, _, call) in project.calls_named(&["init_app", "add_namespace"]) {
        let c = call.call();
        let Some(recv) = c.receiver().and_then(|r| site_of(project, file, &r)) else {
            continue;
        };
        if !mounts.iter().any(|m| m.site == recv) {
            continue;
        }
        if c.last_name() == Some("init_app") {
            let owner = c
                .param(0, "app")
                .and_then(|a| owner_of(project, bps, file, a));
            if let Some(m) = mounts.iter_mut().find(|m| m.site == recv) {
                m.owner = m.owner.or(owner);
            }
        } else if let Some(ns) = c.arg(0).and_then(|n| site_of(project, file, n)) {
            let path = c
                .param(1, "path")
                .map(|p| super::routes::rule_text(project, file, p));
            if let Some(m) = mounts.iter_mut().find(|m| m.site == ns) {
                m.api = Some(recv);
                if let Some(p) = path {
                    m.prefix = p;
                }
            }
        }
    }
    // The owner and full prefix of a mount (a namespace through its Api).
    let resolve_mount = |site: Site| -> Option<(Option<Parent>, String)> {
        let m = mounts.iter().find(|m| m.site == site)?;
        match m.api.and_then(|a| mounts.iter().find(|x| x.site == a)) {
            Some(api) => Some((api.owner, join_paths(&api.prefix, &m.prefix))),
            None => Some((m.owner, m.prefix.clone())),
        }
    };
    let add =
        |routes: &mut Vec<Route>, mount: Site, class: &str, rules: Vec<String>, span: Span| {
            let Some((owner, prefix)) = resolve_mount(mount) else {
                return;
            };
            let Some(view) = ClassView::of(project, class) else {
                return;
            };
            let (app, blueprint) = match owner {
                Some(Parent::App(a)) => (Some(a), None),
                Some(Parent::Blueprint(b)) => (None, Some(b)),
                None => (None, None),
            };
            // Flask-RESTful's default endpoint: the class name, lower case.
            let endpoint = class
                .rsplit('.')
                .next()
                .unwrap_or(class)
                .to_ascii_lowercase();
            // One route per method: each is its own view, with the class's
            // `decorators` and `method_decorators` and its own decorators.
            for rule in &rules {
                let full = join_paths(&prefix, rule);
                let reg = Registration {
                    app,
                    blueprint,
                    rule: &full,
                    endpoint: &endpoint,
                    methods: None,
                    span,
                    resource: true,
                };
                routes.extend(view.routes(&reg, auth_words).unwrap_or_default());
            }
        };
    // Methods of an Api subclass that hand their first argument on to
    // `self.add_resource(resource, ...)`: `def add_org_resource(self,
    // resource, *urls, **kw): urls = [org_scoped_rule(u) for u in urls];
    // return self.add_resource(resource, *urls, **kw)`. Their uses register
    // the resource under the rules they are given.
    let mut wrappers: Vec<&str> = Vec::new();
    for (_, facts) in project.python() {
        for f in &facts.functions {
            let Some(class) = f.method_of.as_deref() else {
                continue;
            };
            if !api_subclasses.contains_key(class) || f.params.len() < 2 {
                continue;
            }
            let hands_on = facts
                .calls
                .iter()
                .filter(|c| facts.scope_within(c.scope, f.scope))
                .any(|c| {
                    let c = c.call();
                    c.last_name() == Some("add_resource")
                        && c.receiver().and_then(|r| r.reference().cloned()).is_some_and(|r| {
                            r.attrs.is_empty()
                                && matches!(&r.root, crate::python::value::Root::Param { func, index: 0, .. } if func.as_str() == f.qualified.as_str())
                        })
                        && c.arg(0).and_then(Value::reference).is_some_and(|r| {
                            r.attrs.is_empty()
                                && matches!(&r.root, crate::python::value::Root::Param { func, index: 1, .. } if func.as_str() == f.qualified.as_str())
                        })
                });
            if hands_on && f.name.as_str() != "add_resource" {
                wrappers.push(f.name.as_str());
            }
        }
    }
    let mut calls = project.calls_named(&["add_resource"]);
    if !wrappers.is_empty() {
        for (file, facts) in project.python() {
            for call in &facts.calls {
                if call
                    .call()
                    .last_name()
                    .is_some_and(|n| wrappers.contains(&n))
                {
                    calls.push((file, facts, call));
                }
            }
        }
    }
    // api.add_resource(Cls, "/a", "/b", ...); in a loop over a table, one
    // registration per row: `for row in ROUTES: api.add_resource(*row)`,
    // `for cls, rule in ROUTES: api.add_resource(cls, rule)`.
    for (file, _, call) in calls {
        let c = call.call();
        let Some(recv) = c.receiver().and_then(|r| site_of(project, file, &r)) else {
            continue;
        };
        if c.last_name() != Some("add_resource") && !mounts.iter().any(|m| m.site == recv) {
            continue;
        }
        for (args, span) in resource_args(project, file, c, Span::new(file, call.range())) {
            let Some(Target::Class(q)) = args.first().map(|(f, a)| resolver.resolve(*f, a).target)
            else {
                continue;
            };
            let rules: Vec<String> = args[1..]
                .iter()
                .filter(|(_, a)| !matches!(a.kind, crate::python::value::Kind::Unknown))
                .map(|(f, a)| super::routes::rule_text(project, *f, a))
                .collect();
            add(routes, recv, &q, rules, span);
        }
    }
    // @api.resource("/a") / @ns.route("/a") on the class.
    for (file, facts) in project.python() {
        for class in &facts.classes {
            for d in &class.decorators {
                let Some(c) = d.as_call() else { continue };
                if !matches!(c.last_name(), Some("resource" | "route")) {
                    continue;
                }
                let Some(recv) = c.receiver().and_then(|r| site_of(project, file, &r)) else {
                    continue;
                };
                if !mounts.iter().any(|m| m.site == recv) {
                    continue;
                }
                let rules: Vec<String> = c
                    .args
                    .iter()
                    .filter(|a| !matches!(a.kind, crate::python::value::Kind::Unknown))
                    .map(|a| super::routes::rule_text(project, file, a))
                    .collect();
                add(
                    routes,
                    recv,
                    &class.qualified,
                    rules,
                    Span::new(file, d.range),
                );
            }
        }
    }
}

/// The positional arguments of an `add_resource` call, each with the file it
/// is written in, and where the registration is declared: the call itself,
/// or per row of the table a loop around it runs over (the row's place).
#[allow(clippy::type_complexity)]
fn resource_args<'p>(
    project: &'p Project,
    file: FileId,
    c: &'p crate::python::value::Call,
    span: Span,
) -> Vec<(Vec<(FileId, &'p Value)>, Span)> {
    let resolver = project.resolver();
    let own = || vec![(c.args.iter().map(|a| (file, a)).collect(), span)];
    // `add_resource(*row)`: the row is the argument list.
    if let Some(star) = c.star.as_deref().filter(|s| s.0 == 0 && c.args.len() <= 1) {
        let Some(lp) = resolver
            .facts(file)
            .and_then(|f| f.loop_of(&star.1))
            .filter(|l| l.position.is_none())
        else {
            return own();
        };
        let (tfile, table) = resolver.deref(file, &lp.iter);
        let Some(rows) = table.as_seq() else {
            return own();
        };
        return rows
            .iter()
            .filter_map(|row| {
                let items = row.as_seq()?;
                Some((
                    items.iter().map(|a| (tfile, a)).collect(),
                    Span::new(tfile, row.range),
                ))
            })
            .collect();
    }
    if c.star.is_some() {
        return own();
    }
    let args: Vec<Option<&Value>> = c.args.iter().map(Some).collect();
    match super::url_rules::loop_rows(project, file, &args) {
        Some(rows) => rows
            .into_iter()
            .filter_map(|row| {
                let args: Vec<(FileId, &Value)> = row.into_iter().flatten().collect();
                (args.len() == c.args.len()).then_some((args, span))
            })
            .collect(),
        None => own(),
    }
}

/// Flask-RESTX's and Flask-RESTPlus's `Api` and `Namespace` classes.
const RESTX: &[&str] = &[
    "flask_restx.Api",
    "flask_restx.Namespace",
    "flask_restplus.Api",
    "flask_restplus.Namespace",
];

/// Flask-RESTX's and Flask-RESTPlus's `Resource` classes (their `self.api`
/// is the `Api`).
const RESTX_RESOURCES: &[&str] = &["flask_restx.Resource", "flask_restplus.Resource"];

/// The Flask-RESTX / RESTPlus `Api` or `Namespace` call that created the
/// object a value in `file` refers to (`ns` of `ns.payload`, `api` of
/// `@api.expect`), also a namespace made by `api.namespace(...)`.
pub fn restx_object<'p>(
    project: &'p Project,
    file: FileId,
    v: &Value,
) -> Option<(FileId, &'p crate::python::facts::CallFact)> {
    restx_object_at(project, file, v, 0)
}

fn restx_object_at<'p>(
    project: &'p Project,
    file: FileId,
    v: &Value,
    depth: usize,
) -> Option<(FileId, &'p crate::python::facts::CallFact)> {
    if depth > 4 {
        return None;
    }
    let resolver = project.resolver();
    let r = resolver.resolve(file, v);
    let (Target::Object(site), true) = (&r.target, r.attrs.is_empty()) else {
        return None;
    };
    let call = resolver.call(*site)?;
    let c = call.call();
    let ctor = resolver.resolve(site.file, &c.func).external_name();
    let made_by_api = c.last_name() == Some("namespace")
        && c.receiver()
            .is_some_and(|api| restx_object_at(project, site.file, &api, depth + 1).is_some());
    (ctor.as_deref().is_some_and(|n| RESTX.contains(&n)) || made_by_api)
        .then_some((site.file, call))
}

/// Whether the project function `func` is a method of a Flask-RESTX /
/// RESTPlus resource class (directly or through the project's base classes).
pub fn is_restx_resource_method(project: &Project, func: &str) -> bool {
    resource_method_of(project, func, RESTX_RESOURCES)
}

/// Whether the project function `func` is a method of a Flask-RESTful,
/// Flask-RESTX or Flask-RESTPlus resource class: its `Api` answers the
/// errors of its routes (404, 405, 500 and `abort`) in JSON itself.
pub fn is_api_resource_method(project: &Project, func: &str) -> bool {
    resource_method_of(project, func, API_RESOURCES)
}

const API_RESOURCES: &[&str] = &[
    "flask_restx.Resource",
    "flask_restplus.Resource",
    "flask_restful.Resource",
];

fn resource_method_of(project: &Project, func: &str, bases: &[&str]) -> bool {
    let resolver = project.resolver();
    let Some(class) = resolver
        .function(func)
        .and_then(|(_, f)| f.method_of.clone())
    else {
        return false;
    };
    let mut queue = vec![class.to_string()];
    let mut seen: Vec<String> = Vec::new();
    while let Some(q) = queue.pop() {
        if seen.contains(&q) || seen.len() > 16 {
            continue;
        }
        let Some((file, fact)) = resolver.class(&q) else {
            continue;
        };
        seen.push(q);
        for b in &fact.bases {
            let r = resolver.resolve(file, b);
            if r.external_name()
                .is_some_and(|n| bases.contains(&n.as_str()))
            {
                return true;
            }
            if let Target::Class(base) = r.target {
                queue.push(base);
            }
        }
    }
    false
}

/// Whether a reference in `file` is Flask-RESTX's parsed JSON body:
/// `ns.payload` / `api.payload` of a project `Namespace` or `Api` (also one
/// made by `api.namespace(...)`), or `self.api.payload` in a method of a
/// Flask-RESTX resource.
pub fn is_restx_payload(project: &Project, file: FileId, r: &crate::python::value::Ref) -> bool {
    use crate::python::value::{Kind, Root};
    let [recv_attrs @ .., last] = r.attrs.as_slice() else {
        return false;
    };
    if last.as_str() != "payload" {
        return false;
    }
    if let Root::Param {
        func,
        index: 0,
        name,
    } = &r.root
    {
        return name.as_str() == "self"
            && matches!(recv_attrs, [a] if a.as_str() == "api")
            && is_restx_resource_method(project, func);
    }
    let recv = crate::python::value::Ref {
        root: r.root.clone(),
        attrs: recv_attrs.to_vec(),
    };
    let recv = Value::new(Default::default(), Kind::Ref(Box::new(recv)));
    restx_object(project, file, &recv).is_some()
}
