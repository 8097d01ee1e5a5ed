//! connexion's routes: `app.add_api("openapi.yaml")` on a connexion `App` /
//! `FlaskApp` serves every operation of the specification (YAML or JSON,
//! found in the app's directory under `specification_dir`). Each operation is
//! a route at the API's base path (`base_path=`, Swagger 2's `basePath`, or
//! the path of OpenAPI 3's first server URL), its view the function its
//! `operationId` names (with `x-openapi-router-controller`), authenticated
//! when a `security` requirement (the operation's, else the document's)
//! applies to it. A specification that cannot be found or read adds nothing.

use std::path::{Component, Path};

use super::{index::Target, routes::ViewDecorators, Project, Provider, Route};
use crate::{
    deploy::compose::{parse_tree, Node},
    python::value::{Site, Value},
    source::Span,
};

/// Specifications larger than this are not read.
const MAX_SPEC_BYTES: u64 = 10 * 1024 * 1024;

const OPERATIONS: &[&str] = &["get", "put", "post", "delete", "patch", "options", "head"];

/// A relative path that stays below the directory it is joined to.
fn stays_inside(p: &str) -> bool {
    Path::new(p)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// The path part of a server URL (`https://api.example.com/v1` -> `/v1`); None
/// when it has variables.
fn url_path(url: &str) -> Option<String> {
    if url.contains('{') {
        return None;
    }
    let rest = match url.split_once("://") {
        Some((_, after)) => after.find('/').map_or("", |i| &after[i..]),
        None => url,
    };
    Some(rest.trim_end_matches('/').to_string())
}

/// OpenAPI's `/pets/{pet_id}` as a Flask rule, `/pets/<pet_id>`.
fn flask_rule(path: &str) -> String {
    path.replace('{', "<").replace('}', ">")
}

/// How an OpenAPI security requirement is written in [`Route::auth`].
const SECURITY_AUTH: &str = "openapi security: ";

/// Whether a route is an operation whose specification requires credentials
/// of its own (an API key, a bearer token...).
pub fn requires_spec_credentials(route: &Route) -> bool {
    route.provided_by == Some(Provider::Connexion)
        && route.auth.iter().any(|a| a.starts_with(SECURITY_AUTH))
}

/// What a `security` requirement list says: the schemes that authenticate,
/// none when it is empty or one alternative is `{}` (anonymous allowed).
fn security_auth(security: Option<&Node>) -> Option<String> {
    let reqs = security?.seq();
    if reqs.is_empty() || reqs.iter().any(|r| r.items().is_empty()) {
        return None;
    }
    let names: Vec<&str> = reqs
        .iter()
        .flat_map(|r| r.items().into_iter().filter_map(|(k, _)| k.as_str()))
        .collect();
    Some(format!("{SECURITY_AUTH}{}", names.join(", ")))
}

pub(super) fn find(
    project: &Project,
    limiter_sites: &[Site],
    csrf_sites: &[Site],
    routes: &mut Vec<Route>,
) {
    let Some(root) = project.root.as_deref() else {
        return;
    };
    let resolver = project.resolver();
    let mut memo = rustc_hash::FxHashMap::default();
    for (file, _, call) in project.calls_named(&["add_api"]) {
        let c = call.call();
        if c.callee_name() != Some("add_api") {
            continue;
        }
        // `app.add_api(...)`, or `FlaskApp(__name__).add_api(...)`.
        let recv = match &c.func.kind {
            crate::python::value::Kind::Attr(inner, _) if inner.as_call().is_some() => {
                Some(inner.as_ref().clone())
            }
            _ => c.receiver(),
        };
        let Some(recv) = recv else { continue };
        let r = resolver.resolve(file, &recv);
        let Target::Object(site) = r.target else {
            continue;
        };
        if !r.attrs.is_empty() {
            continue;
        }
        let Some(app) = project.app_at(site) else {
            continue;
        };
        // The constructor call: a connexion app's, among the calls that start
        // where the app does (`FlaskApp(__name__).add_api(...)` is one).
        let is_connexion = |k: &crate::python::facts::CallFact| {
            u32::from(k.value.range.start()) == site.offset
                && resolver
                    .resolve(site.file, &k.call().func)
                    .external_name()
                    .is_some_and(|n| super::apps::is_connexion_app(&n))
        };
        let Some(cc) = resolver
            .facts(site.file)
            .and_then(|f| f.calls.iter().find(|k| is_connexion(k)))
            .map(|k| k.call())
        else {
            continue;
        };
        // The app's root is the directory of the module it is named after.
        let (Some(import_name), Some(facts)) = (
            cc.param(0, "import_name").and_then(Value::as_str),
            resolver.facts(site.file),
        ) else {
            continue;
        };
        if import_name != facts.module {
            continue;
        }
        let spec_dir = match cc.kwarg("specification_dir") {
            None => "",
            Some(v) => match v.as_str() {
                Some(s) => s,
                None => continue,
            },
        };
        let Some(spec) = c.param(0, "specification").and_then(Value::as_str) else {
            continue;
        };
        if !stays_inside(spec_dir) || !stays_inside(spec) {
            continue;
        }
        let Some(rel) = project.file(site.file).map(|f| f.source.rel.as_str()) else {
            continue;
        };
        let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
        let path = root.join(dir).join(spec_dir).join(spec);
        if std::fs::metadata(&path).map_or(true, |m| !m.is_file() || m.len() > MAX_SPEC_BYTES) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(Some(doc)) = parse_tree(&text) else {
            continue;
        };
        let base = match c.kwarg("base_path") {
            Some(v) => match v.as_str() {
                Some(s) => s.trim_end_matches('/').to_string(),
                None => continue,
            },
            None if doc.get("swagger").is_some() => doc
                .get("basePath")
                .and_then(Node::as_str)
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string(),
            None => match doc
                .get("servers")
                .and_then(|s| s.seq().first())
                .and_then(|s| s.get("url"))
                .and_then(Node::as_str)
            {
                Some(url) => match url_path(url) {
                    Some(p) => p,
                    None => continue,
                },
                None => String::new(),
            },
        };
        let span = Span::new(file, call.range());
        let global = doc.get("security");
        let Some(paths) = doc.get("paths") else {
            continue;
        };
        for (pk, item) in paths.items() {
            let Some(p) = pk.as_str() else { continue };
            let rule = format!("{base}{}", flask_rule(p));
            let path_controller = item
                .get("x-openapi-router-controller")
                .and_then(Node::as_str);
            for (mk, op) in item.items() {
                let Some(method) = mk.as_str().filter(|m| OPERATIONS.contains(m)) else {
                    continue;
                };
                let operation_id = op.get("operationId").and_then(Node::as_str);
                let controller = op
                    .get("x-openapi-router-controller")
                    .and_then(Node::as_str)
                    .or(path_controller);
                let function = match (controller, operation_id) {
                    (Some(ctl), Some(id)) => format!("{ctl}.{id}"),
                    (None, Some(id)) => id.to_string(),
                    _ => String::new(),
                };
                // Named by its import path, which the project may know
                // under another module name (a directory without
                // `__init__.py` above it).
                let handler = (!function.is_empty())
                    .then(|| {
                        let named = Value::new(
                            call.range(),
                            crate::python::value::Kind::Ref(Box::new(crate::python::value::Ref {
                                root: crate::python::value::Root::Global(function.as_str().into()),
                                attrs: Vec::new(),
                            })),
                        );
                        match resolver.resolve(file, &named) {
                            super::index::Resolved {
                                target: Target::Function(q),
                                attrs,
                            } if attrs.is_empty() => resolver.function(&q),
                            _ => None,
                        }
                    })
                    .flatten();
                let decos = match handler {
                    Some((hfile, h)) => {
                        ViewDecorators::of(project, hfile, &h.decorators, limiter_sites, csrf_sites)
                    }
                    None => ViewDecorators::of(project, file, &[], limiter_sites, csrf_sites),
                };
                // The handler's decorators all wrap the view connexion calls;
                // judged here, as the route is registered elsewhere.
                let mut auth: Vec<String> = handler
                    .into_iter()
                    .flat_map(|(hfile, h)| h.decorators.iter().map(move |d| (hfile, d)))
                    .filter_map(|(hfile, d)| {
                        super::route_factories::wrapper_auth(project, hfile, d, &mut memo)
                    })
                    .collect();
                auth.extend(security_auth(op.get("security").or(global)));
                let endpoint = operation_id
                    .map(|id| id.rsplit('.').next().unwrap_or(id).to_string())
                    .unwrap_or_default();
                routes.push(Route {
                    app: Some(app),
                    blueprint: None,
                    methods: vec![method.to_ascii_uppercase()],
                    rule: rule.clone(),
                    path: None,
                    endpoint,
                    function,
                    class: None,
                    file: handler.map_or(file, |(f, _)| f),
                    def_span: handler.map_or(span, |(f, h)| Span::new(f, h.name_range)),
                    span,
                    decorators: Vec::new(),
                    limits: decos.limits,
                    limit_exempt: decos.limit_exempt,
                    csrf_exempt: decos.csrf_exempt,
                    auth,
                    unregistered: false,
                    provided_by: Some(Provider::Connexion),
                });
            }
        }
    }
}
