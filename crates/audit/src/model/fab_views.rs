//! Flask-AppBuilder views and APIs of the project, as Flask-AppBuilder
//! registers them: classes given to `appbuilder.add_view(...)`,
//! `appbuilder.add_view_no_menu(...)` or `appbuilder.add_api(...)` on an
//! `AppBuilder(...)` object (the class itself or an instance of it).
//!
//! - every method of the class (and of its project base classes) decorated
//!   with Flask-AppBuilder's `@expose(url, methods=...)` is a route at the
//!   class's `route_base` and the exposed URL;
//! - `route_base` is the class attribute, else `/api/<version>/<resource_name>`
//!   for an API (`BaseApi`, `ModelRestApi`; `version` defaults to `v1`,
//!   `resource_name` to the class's name in lower case), else `/` and the
//!   class's name in lower case;
//! - a `ModelRestApi` also serves Flask-AppBuilder's own CRUD API (`GET /`,
//!   `GET /<pk>`, `POST /`, `PUT /<pk>`, `DELETE /<pk>`, `GET /_info`), a
//!   `ModelView` its list, show, add, edit, delete, download and action views,
//!   each behind Flask-AppBuilder's `@protect()` / `@has_access`, unless the
//!   class overrides the method, leaves it out of a literal
//!   `include_route_methods`, or puts it in a literal `exclude_route_methods`;
//! - `@protect()`, `@has_access` and `@has_access_api` of Flask-AppBuilder are
//!   the route's authentication, as the project's own auth decorators are.

use super::{index::Target, routes::Decorator, AppId, Project, Route};
use crate::{
    python::{
        facts::{ClassFact, FunctionFact},
        value::{Kind, Site, Value},
    },
    source::{FileId, Span},
};

/// Flask-AppBuilder's own views of a family: (method, url, HTTP methods,
/// the guard it carries).
type BuiltinRoute = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
);

const PROTECT: Option<&str> = Some("flask_appbuilder.security.decorators.protect");
const HAS_ACCESS: Option<&str> = Some("flask_appbuilder.security.decorators.has_access");

/// `ModelRestApi`'s CRUD API (Flask-AppBuilder 2 to 5).
const MODEL_REST_API_ROUTES: &[BuiltinRoute] = &[
    ("info", "/_info", &["GET"], PROTECT),
    ("get", "/<int:pk>", &["GET"], PROTECT),
    ("get_list", "/", &["GET"], PROTECT),
    ("post", "/", &["POST"], PROTECT),
    ("put", "/<pk>", &["PUT"], PROTECT),
    ("delete", "/<pk>", &["DELETE"], PROTECT),
];

/// `ModelView`'s pages. `action` and `action_post` check the action's own
/// permission in their body.
const MODEL_VIEW_ROUTES: &[BuiltinRoute] = &[
    ("list", "/list/", &["GET"], HAS_ACCESS),
    ("show", "/show/<pk>", &["GET"], HAS_ACCESS),
    ("add", "/add", &["GET", "POST"], HAS_ACCESS),
    ("edit", "/edit/<pk>", &["GET", "POST"], HAS_ACCESS),
    ("delete", "/delete/<pk>", &["GET", "POST"], HAS_ACCESS),
    (
        "download",
        "/download/<string:filename>",
        &["GET"],
        HAS_ACCESS,
    ),
    (
        "action",
        "/action/<string:name>/<pk>",
        &["GET", "POST"],
        HAS_ACCESS,
    ),
    ("action_post", "/action_post", &["POST"], HAS_ACCESS),
];

/// What a view class derives from in Flask-AppBuilder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `BaseView` and the form views: only what the class exposes.
    View,
    /// `BaseApi`: only what the class exposes, under `/api/v1/...`.
    Api,
    ModelRestApi,
    ModelView,
}

impl Family {
    fn of(name: &str) -> Option<Family> {
        if !name.starts_with("flask_appbuilder.") {
            return None;
        }
        let last = name.rsplit('.').next().unwrap_or(name);
        Some(if last == "ModelRestApi" {
            Family::ModelRestApi
        } else if last.ends_with("Api") {
            Family::Api
        } else if last.ends_with("ModelView") || last == "CompactCRUDMixin" {
            Family::ModelView
        } else {
            Family::View
        })
    }

    fn builtins(self) -> &'static [BuiltinRoute] {
        match self {
            Family::View | Family::Api => &[],
            Family::ModelRestApi => MODEL_REST_API_ROUTES,
            Family::ModelView => MODEL_VIEW_ROUTES,
        }
    }

    fn is_api(self) -> bool {
        matches!(self, Family::Api | Family::ModelRestApi)
    }
}

/// Whether a dotted name is Flask-AppBuilder's `expose` (`flask_appbuilder.expose`,
/// `flask_appbuilder.api.expose`, `flask_appbuilder.baseviews.expose`).
pub(super) fn is_fab_expose(name: &str) -> bool {
    name.starts_with("flask_appbuilder.") && name.ends_with(".expose")
}

/// Whether a dotted name is one of Flask-AppBuilder's guards.
fn is_fab_guard(name: &str) -> bool {
    name.starts_with("flask_appbuilder.")
        && matches!(
            name.rsplit('.').next(),
            Some("protect" | "has_access" | "has_access_api")
        )
}

struct AppBuilder {
    site: Site,
    app: Option<AppId>,
}

/// The `AppBuilder(...)` objects the extension model found, with their apps.
fn appbuilders(project: &Project) -> Vec<AppBuilder> {
    let resolver = project.resolver();
    project
        .extensions
        .iter()
        .filter(|e| {
            resolver.call(e.site).is_some_and(|c| {
                resolver
                    .resolve(e.site.file, &c.call().func)
                    .external_name()
                    .is_some_and(|n| {
                        n.starts_with("flask_appbuilder.") && n.ends_with("AppBuilder")
                    })
            })
        })
        .map(|e| AppBuilder {
            site: e.site,
            app: e.app,
        })
        .collect()
}

/// A class attribute of the class or its nearest base that sets it.
fn class_attr<'a>(chain: &[(FileId, &'a ClassFact)], name: &str) -> Option<&'a Value> {
    chain
        .iter()
        .find_map(|(_, class)| class.attr(name).map(|a| &a.value))
}

/// The string items of a literal list, tuple or set; None when it is not one
/// (`RouteMethods.CRUD | {"export"}`).
fn literal_names(v: &Value) -> Option<Vec<String>> {
    v.as_seq()?
        .iter()
        .map(|i| i.as_str().map(str::to_string))
        .collect()
}

/// The routes of Flask-AppBuilder views and APIs the project registers.
pub(super) fn find(project: &Project, auth_words: &[&str], routes: &mut Vec<Route>) {
    let builders = appbuilders(project);
    if builders.is_empty() {
        return;
    }
    let resolver = project.resolver();
    let mut done: Vec<(String, Option<AppId>)> = Vec::new();
    for (file, _, call) in project.calls_named(&["add_view", "add_view_no_menu", "add_api"]) {
        let c = call.call();
        let Some(recv) = c.receiver() else { continue };
        let r = resolver.resolve(file, &recv);
        let (Target::Object(site), true) = (r.target, r.attrs.is_empty()) else {
            continue;
        };
        let Some(builder) = builders.iter().find(|b| b.site == site) else {
            continue;
        };
        let Some(view) = c.param(0, "baseview") else {
            continue;
        };
        // The class, or an instance made in place or bound to a name.
        let class = {
            let v = view.as_call().map_or(view, |c| &c.func);
            match resolver.resolve(file, v).target {
                Target::Class(q) => Some(q),
                Target::Object(s) => resolver.call(s).and_then(|c| {
                    match resolver.resolve(s.file, &c.call().func).target {
                        Target::Class(q) => Some(q),
                        _ => None,
                    }
                }),
                _ => None,
            }
        };
        let Some(class) = class else { continue };
        if done.iter().any(|(q, a)| *q == class && *a == builder.app) {
            continue;
        }
        done.push((class.clone(), builder.app));
        let span = Span::new(file, call.range());
        view_routes(project, &class, builder.app, span, auth_words, routes);
    }
}

fn view_routes(
    project: &Project,
    class: &str,
    app: Option<AppId>,
    span: Span,
    auth_words: &[&str],
    routes: &mut Vec<Route>,
) {
    let resolver = project.resolver();
    let mut family: Option<Family> = None;
    let chain = super::class_views::class_chain(project, class, |r| {
        if family.is_none() {
            family = r.external_name().and_then(|n| Family::of(&n));
        }
    });
    let (Some(family), Some((cfile, cfact))) = (family, chain.first()) else {
        return;
    };
    let class_name = cfact.name.to_string();
    let lower = class_name.to_ascii_lowercase();
    // A class attribute: Some(Some(text)) when a string, Some(None) when not
    // set (or `None`), None when set to something we cannot read (the URLs
    // are then unknown).
    let text_attr = |name: &str| -> Option<Option<String>> {
        match class_attr(&chain, name).map(|v| &v.kind) {
            None | Some(Kind::None) => Some(None),
            Some(Kind::Str(s)) => Some(Some(s.to_string())),
            Some(_) => None,
        }
    };
    let Some(route_base) = text_attr("route_base") else {
        return;
    };
    let route_base = match route_base {
        Some(base) => base,
        None if family.is_api() => {
            let (Some(version), Some(resource)) =
                (text_attr("version"), text_attr("resource_name"))
            else {
                return;
            };
            format!(
                "/api/{}/{}",
                version.unwrap_or_else(|| "v1".to_string()),
                resource
                    .unwrap_or_else(|| lower.clone())
                    .to_ascii_lowercase()
            )
        }
        None => format!("/{lower}"),
    };
    let include = class_attr(&chain, "include_route_methods").and_then(literal_names);
    let exclude = class_attr(&chain, "exclude_route_methods")
        .and_then(literal_names)
        .unwrap_or_default();
    let wanted = |name: &str| {
        include.as_ref().is_none_or(|i| i.iter().any(|n| n == name))
            && !exclude.iter().any(|n| n == name)
    };
    let mut push = |name: &str,
                    rule: &str,
                    methods: Vec<String>,
                    def_span: Span,
                    decorators: Vec<Decorator>,
                    auth: Vec<String>| {
        routes.push(Route {
            app,
            blueprint: None,
            methods,
            rule: super::blueprints::join_paths(&route_base, rule),
            path: None,
            endpoint: format!("{class_name}.{name}"),
            function: format!("{class}.{name}"),
            class: Some(class.to_string()),
            file: def_span.file,
            def_span,
            span,
            decorators,
            limits: Vec::new(),
            limit_exempt: false,
            csrf_exempt: None,
            auth,
            unregistered: false,
            provided_by: None,
        });
    };
    // Every method of the class and its bases, nearest definition first.
    let mut methods: Vec<(FileId, &FunctionFact)> = Vec::new();
    for (file, c) in &chain {
        let Some(facts) = resolver.facts(*file) else {
            continue;
        };
        for f in &facts.functions {
            if f.method_of.as_deref() == Some(c.qualified.as_str())
                && !methods.iter().any(|(_, g)| g.name == f.name)
            {
                methods.push((*file, f));
            }
        }
    }
    for (ffile, f) in &methods {
        if !wanted(&f.name) {
            continue;
        }
        let mut rules: Vec<(String, Vec<String>)> = Vec::new();
        let mut decorators = Vec::new();
        let mut auth = Vec::new();
        for d in &f.decorators {
            let callee = d.as_call().map_or(d, |c| &c.func);
            let name = resolver.resolve(*ffile, callee).external_name();
            if name.as_deref().is_some_and(is_fab_expose) {
                let c = d.as_call();
                let rule = match c.and_then(|c| c.param(0, "url")) {
                    Some(v) => match v.as_str() {
                        Some(s) => s.to_string(),
                        None => continue,
                    },
                    None => "/".to_string(),
                };
                let methods = super::routes::literal_methods(c.and_then(|c| c.param(1, "methods")))
                    .unwrap_or_else(|| vec!["GET".to_string()]);
                rules.push((rule, methods));
                continue;
            }
            if let Some(n) = name.as_deref().filter(|n| is_fab_guard(n)) {
                auth.push(n.to_string());
            } else {
                auth.extend(super::routes::auth_decorator(
                    &resolver, *ffile, d, auth_words,
                ));
            }
            decorators.push(Decorator {
                name: super::routes::decorator_name(&resolver, *ffile, d),
                value: d.clone(),
                span: Span::new(*ffile, d.range),
            });
        }
        for (rule, m) in rules {
            push(
                &f.name,
                &rule,
                m,
                Span::new(*ffile, f.name_range),
                decorators.clone(),
                auth.clone(),
            );
        }
    }
    let class_span = Span::new(*cfile, cfact.name_range);
    for (name, rule, m, guard) in family.builtins() {
        // Overridden (exposed again or not) by the project, or left out.
        if methods.iter().any(|(_, f)| f.name == *name) || !wanted(name) {
            continue;
        }
        push(
            name,
            rule,
            m.iter().map(|s| s.to_string()).collect(),
            class_span,
            Vec::new(),
            guard.iter().map(|g| g.to_string()).collect(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{is_fab_expose, is_fab_guard, Family};

    #[test]
    fn names() {
        assert!(is_fab_expose("flask_appbuilder.api.expose"));
        assert!(!is_fab_expose("flask_admin.expose"));
        assert!(is_fab_guard("flask_appbuilder.security.decorators.protect"));
        assert!(!is_fab_guard("myapp.decorators.protect"));
        assert_eq!(
            Family::of("flask_appbuilder.api.ModelRestApi"),
            Some(Family::ModelRestApi)
        );
        assert_eq!(Family::of("flask_appbuilder.BaseView"), Some(Family::View));
        assert_eq!(Family::of("flask_admin.BaseView"), None);
    }
}
