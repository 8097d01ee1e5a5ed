//! Blueprints and routers, and where they are registered: with their URL
//! prefixes, across files, also nested blueprints; and whether the project
//! registers blueprints it does not name (`for bp in plugins:
//! app.register_blueprint(bp)`), which makes every blueprint possibly live.

use super::{
    index::Target, AppId, Blueprint, BlueprintId, BlueprintKind, Parent, Project, Registration,
};
use crate::{
    python::value::{Kind, Site, Value},
    source::{FileId, Span},
};

/// The blueprints and routers, and whether some registration's blueprint
/// cannot be resolved (registration is then dynamic).
pub(super) fn find_blueprints(project: &Project) -> (Vec<Blueprint>, bool) {
    let resolver = project.resolver();
    // Blueprints and routers.
    let mut bps: Vec<Blueprint> = Vec::new();
    const ROOTS: &[(&str, BlueprintKind)] = &[
        ("flask.Blueprint", BlueprintKind::Blueprint),
        ("flask.blueprints.Blueprint", BlueprintKind::Blueprint),
        ("quart.Blueprint", BlueprintKind::Blueprint),
        // flask-smorest's Blueprint is a flask.Blueprint with OpenAPI decorators.
        ("flask_smorest.Blueprint", BlueprintKind::Blueprint),
        (
            "flask_smorest.blueprint.Blueprint",
            BlueprintKind::Blueprint,
        ),
        // APIFlask's APIBlueprint: a flask.Blueprint with its decorators.
        ("apiflask.APIBlueprint", BlueprintKind::Blueprint),
        ("apiflask.blueprint.APIBlueprint", BlueprintKind::Blueprint),
        ("fastapi.APIRouter", BlueprintKind::Router),
        ("fastapi.routing.APIRouter", BlueprintKind::Router),
    ];
    // Also project subclasses: `class IndicoBlueprint(Blueprint)`.
    let subclasses = super::apps::derived_classes(project, ROOTS);
    let mut calls = project.calls_named(&["Blueprint", "APIBlueprint", "APIRouter"]);
    super::apps::add_calls_of(project, &subclasses, &mut calls);
    for (file, _, call) in calls {
        let c = call.call();
        let name = resolver.resolve(file, &c.func).external_name();
        let kind = name.as_deref().and_then(|n| {
            ROOTS
                .iter()
                .find(|(r, _)| *r == n)
                .map(|(_, k)| *k)
                .or_else(|| subclasses.get(n).copied())
        });
        let Some(kind) = kind else {
            continue;
        };
        let prefix_kw = if kind == BlueprintKind::Router {
            "prefix"
        } else {
            "url_prefix"
        };
        bps.push(Blueprint {
            id: bps.len(),
            kind,
            site: Site {
                file,
                offset: call.range().start().into(),
            },
            span: Span::new(file, call.range()),
            name: c
                .param(0, "name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            prefix: c.kwarg(prefix_kw).and_then(|p| match kind {
                BlueprintKind::Router => router_prefix(project, file, p),
                BlueprintKind::Blueprint => p.as_str().map(str::to_string),
            }),
            registrations: Vec::new(),
            registered_elsewhere: false,
        });
    }
    // flask-smorest's `Api(app)` / `api.init_app(app)`: `api.register_blueprint`
    // registers into that app.
    let apis = smorest_apis(project);
    let smorest_app = |site: Site| -> Option<AppId> {
        apis.iter()
            .find(|(s, _)| *s == site)
            .and_then(|(_, app)| *app)
    };
    let parent_of = |file: FileId, v: &Value| -> Option<Parent> {
        let r = resolver.resolve(file, v);
        let Target::Object(site) = r.target else {
            return None;
        };
        if !r.attrs.is_empty() {
            return None;
        }
        if let Some(app) = project.app_at(site).or_else(|| smorest_app(site)) {
            return Some(Parent::App(app));
        }
        bps.iter()
            .find(|b| b.site == site)
            .map(|b| Parent::Blueprint(b.id))
    };
    // What an installed package provides: a name imported from it, or the
    // object one of its functions returns.
    let external_object = |file: FileId, v: &Value| -> bool {
        let r = resolver.resolve(file, v);
        match r.target {
            Target::External(_) => true,
            Target::Object(site) => resolver.call(site).is_some_and(|c| {
                matches!(
                    resolver.resolve(site.file, &c.call().func).target,
                    Target::External(_)
                )
            }),
            _ => false,
        }
    };
    // Registrations.
    let mut regs: Vec<(BlueprintId, Registration)> = Vec::new();
    let mut elsewhere: Vec<BlueprintId> = Vec::new();
    let mut dynamic = false;
    for (file, _, call) in project.calls_named(&["register_blueprint", "include_router"]) {
        let kind = if call.call().last_name() == Some("include_router") {
            BlueprintKind::Router
        } else {
            BlueprintKind::Blueprint
        };
        let c = call.call();
        let Some(fr) = c.func.reference() else {
            continue;
        };
        let method = fr.last_name();
        if method != "register_blueprint" && method != "include_router" {
            continue;
        }
        let mut recv = fr.clone();
        recv.attrs.pop();
        let parent = parent_of(file, &Value::new(c.func.range, Kind::Ref(Box::new(recv))));
        let child = c.param(
            0,
            if method == "include_router" {
                "router"
            } else {
                "blueprint"
            },
        );
        let resolved = child.map(|v| parent_of(file, v));
        // `register_blueprint(module.bp)` in a loop over a package's modules:
        // the package's blueprints.
        let discovered = match (resolved, child) {
            (Some(None), Some(v)) => {
                super::blueprint_discovery::discovered(project, &bps, kind, file, call.scope, v)
            }
            _ => None,
        };
        let children: Vec<BlueprintId> = match resolved {
            _ if discovered.is_some() => discovered.unwrap_or_default(),
            Some(Some(Parent::Blueprint(child))) => vec![child],
            // An app registered into something, a call without arguments.
            Some(Some(Parent::App(_))) => continue,
            // A blueprint of an installed package (`get_swaggerui_blueprint(...)`,
            // `from flask_admin import bp`): not one of the project's.
            Some(None) if external_object(file, child.unwrap_or(&c.func)) => continue,
            // A router fastapi-users makes (`fastapi_users.get_auth_router(...)`):
            // its routes are added by `model::fastapi_users`.
            Some(None)
                if method == "include_router"
                    && child.is_some_and(|v| {
                        super::fastapi_users::is_library_router(project, file, v)
                    }) =>
            {
                continue
            }
            // `register_blueprint(bp)` for a `bp` we cannot name.
            Some(None) | None => {
                dynamic = true;
                continue;
            }
        };
        let Some(parent) = parent else {
            elsewhere.extend(children);
            continue;
        };
        let kw = if method == "include_router" {
            "prefix"
        } else {
            "url_prefix"
        };
        let prefix = c.kwarg(kw).and_then(|p| {
            if method == "include_router" {
                router_prefix(project, file, p)
            } else {
                p.as_str().map(str::to_string)
            }
        });
        for child in children {
            regs.push((
                child,
                Registration {
                    parent,
                    prefix: prefix.clone(),
                    span: Span::new(file, call.range()),
                },
            ));
        }
    }
    for (child, reg) in regs {
        bps[child].registrations.push(reg);
    }
    for child in elsewhere {
        bps[child].registered_elsewhere = true;
    }
    (bps, dynamic)
}

/// A FastAPI router prefix: a literal, or the default of a pydantic settings
/// field no env file, Dockerfile or compose file sets
/// (`include_router(api_router, prefix=settings.API_V1_STR)` with
/// `API_V1_STR: str = "/api/v1"`). Other names are left unknown, as before.
fn router_prefix(project: &Project, file: FileId, v: &Value) -> Option<String> {
    if let Some(s) = v.as_str() {
        return Some(s.to_string());
    }
    if v.reference().is_none_or(|r| r.attrs.is_empty()) {
        return None;
    }
    let (_, d) = super::cors::settings_default(project, file, v)?;
    d.as_str().map(str::to_string)
}

/// Whether an app may serve a blueprint's routes: it is registered in an app,
/// somewhere we cannot resolve, or in a blueprint that is.
pub(super) fn registered(bps: &[Blueprint], b: BlueprintId, depth: usize) -> bool {
    let Some(bp) = bps.get(b) else {
        return true;
    };
    if depth > 16 || bp.registered_elsewhere {
        return true;
    }
    bp.registrations.iter().any(|r| match r.parent {
        Parent::App(_) => true,
        Parent::Blueprint(p) => p != b && registered(bps, p, depth + 1),
    })
}

/// The app a blueprint ends up in and the prefix it gets on the way.
pub(super) fn chain(bps: &[Blueprint], b: BlueprintId, depth: usize) -> Option<(AppId, String)> {
    if depth > 16 {
        return None;
    }
    let bp = bps.get(b)?;
    let reg = bp.registrations.first()?;
    let own = match bp.kind {
        // Flask: url_prefix at registration replaces the blueprint's own.
        BlueprintKind::Blueprint => reg
            .prefix
            .clone()
            .or_else(|| bp.prefix.clone())
            .unwrap_or_default(),
        // FastAPI: include_router(prefix=) is prepended to the router's prefix.
        BlueprintKind::Router => join_paths(
            reg.prefix.as_deref().unwrap_or(""),
            bp.prefix.as_deref().unwrap_or(""),
        ),
    };
    match reg.parent {
        Parent::App(app) => Some((app, own)),
        Parent::Blueprint(parent) => {
            let (app, outer) = chain(bps, parent, depth + 1)?;
            Some((app, join_paths(&outer, &own)))
        }
    }
}

pub(super) fn join_paths(prefix: &str, rule: &str) -> String {
    let p = prefix.trim_end_matches('/');
    match (p.is_empty(), rule.is_empty()) {
        (true, true) => "/".into(),
        (true, false) => rule.to_string(),
        (false, true) => p.to_string(),
        (false, false) => format!("{p}/{}", rule.trim_start_matches('/')),
    }
}

/// flask-smorest `Api` objects (also of project subclasses) and the app each
/// is bound to, by `Api(app)` or `api.init_app(app)` (None when neither can be
/// followed). Such an `Api` registers blueprints into its app and answers
/// every HTTP error of the app in JSON.
pub(crate) fn smorest_apis(project: &Project) -> Vec<(Site, Option<AppId>)> {
    const ROOTS: &[(&str, ())] = &[("flask_smorest.Api", ())];
    let resolver = project.resolver();
    let subclasses = super::apps::derived_classes(project, ROOTS);
    let mut calls = project.calls_named(&["Api"]);
    super::apps::add_calls_of(project, &subclasses, &mut calls);
    let mut apis: Vec<(Site, Option<AppId>)> = Vec::new();
    for (file, _, call) in calls {
        let c = call.call();
        let Some(ctor) = resolver.resolve(file, &c.func).external_name() else {
            continue;
        };
        if ctor != "flask_smorest.Api" && !subclasses.contains_key(&ctor) {
            continue;
        }
        let site = Site {
            file,
            offset: call.range().start().into(),
        };
        let app = c
            .param(0, "app")
            .and_then(|a| super::extensions::app_of_arg(project, file, a));
        apis.push((site, app));
    }
    if apis.is_empty() {
        return apis;
    }
    for (file, _, init) in project.calls_named(&["init_app"]) {
        let ic = init.call();
        let r = resolver.resolve(file, &ic.func);
        let (Target::Object(site), [m]) = (&r.target, r.attrs.as_slice()) else {
            continue;
        };
        if m != "init_app" {
            continue;
        }
        if let Some(entry) = apis.iter_mut().find(|(s, app)| s == site && app.is_none()) {
            entry.1 = ic
                .param(0, "app")
                .and_then(|a| super::extensions::app_of_arg(project, file, a));
        }
    }
    apis
}
