//! Routers made by fastapi-users (`fastapi_users.get_auth_router(backend)`,
//! `get_register_router(...)`, `get_users_router(...)`...) and included with
//! `include_router`: their routes are written in the library, not in the
//! project, yet the app serves them, the login route among them. Each
//! inclusion adds the routes the library declares, at the `include_router`
//! call, with its prefix.

use super::{index::Target, Blueprint, Parent, Project, Route};
use crate::{
    python::value::{Call, Value},
    source::{FileId, Span},
};

/// What one route of a library router is: method, path, view name, and the
/// dependency that authenticates it (None: public).
type LibRoute = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

const ACTIVE_USER: Option<&str> = Some("fastapi_users.current_user(active=True)");
const SUPERUSER: Option<&str> = Some("fastapi_users.current_user(active=True, superuser=True)");

/// The routes each router factory of `FastAPIUsers` declares (fastapi-users
/// 10 to 14).
fn library_routes(factory: &str) -> Option<&'static [LibRoute]> {
    Some(match factory {
        "get_auth_router" => &[
            ("POST", "/login", "login", None),
            ("POST", "/logout", "logout", ACTIVE_USER),
        ],
        "get_register_router" => &[("POST", "/register", "register", None)],
        "get_reset_password_router" => &[
            ("POST", "/forgot-password", "forgot_password", None),
            ("POST", "/reset-password", "reset_password", None),
        ],
        "get_verify_router" => &[
            (
                "POST",
                "/request-verify-token",
                "request_verify_token",
                None,
            ),
            ("POST", "/verify", "verify", None),
        ],
        "get_users_router" => &[
            ("GET", "/me", "me", ACTIVE_USER),
            ("PATCH", "/me", "update_me", ACTIVE_USER),
            ("GET", "/{id}", "get_user", SUPERUSER),
            ("PATCH", "/{id}", "update_user", SUPERUSER),
            ("DELETE", "/{id}", "delete_user", SUPERUSER),
        ],
        "get_oauth_router" => &[
            ("GET", "/authorize", "authorize", None),
            ("GET", "/callback", "callback", None),
        ],
        "get_oauth_associate_router" => &[
            ("GET", "/authorize", "authorize", ACTIVE_USER),
            ("GET", "/callback", "callback", ACTIVE_USER),
        ],
        _ => return None,
    })
}

/// Whether any file imports fastapi-users.
fn uses_fastapi_users(project: &Project) -> bool {
    project.python().any(|(_, f)| {
        f.imports
            .iter()
            .any(|i| i.qualified == "fastapi_users" || i.qualified.starts_with("fastapi_users."))
    })
}

/// The router factory call an `include_router` argument is, directly
/// (`include_router(fastapi_users.get_auth_router(backend))`) or through a
/// name bound to it (`auth_router = fastapi_users.get_auth_router(backend)`).
fn factory_call<'a>(project: &'a Project, file: FileId, v: &'a Value) -> Option<&'a Call> {
    if let Some(c) = v.as_call() {
        return Some(c);
    }
    let r = project.resolver().resolve(file, v);
    match r.target {
        Target::Object(site) if r.attrs.is_empty() => {
            project.resolver().call(site).map(|c| c.call())
        }
        _ => None,
    }
}

/// Whether an `include_router` argument is a router fastapi-users makes (the
/// blueprint pass then knows it is not a project router it failed to name).
pub(super) fn is_library_router(project: &Project, file: FileId, v: &Value) -> bool {
    factory_call(project, file, v)
        .and_then(Call::last_name)
        .and_then(library_routes)
        .is_some()
        && uses_fastapi_users(project)
}

/// Adds the routes of the fastapi-users routers the project includes.
pub(super) fn find(project: &Project, bps: &[Blueprint], routes: &mut Vec<Route>) {
    let calls = project.calls_named(&["include_router"]);
    if calls.is_empty() || !uses_fastapi_users(project) {
        return;
    }
    for (file, _, call) in calls {
        let c = call.call();
        if c.last_name() != Some("include_router") {
            continue;
        }
        let Some(child) = c.param(0, "router") else {
            continue;
        };
        let Some(lib) = factory_call(project, file, child)
            .and_then(Call::last_name)
            .and_then(library_routes)
        else {
            continue;
        };
        let parent = c
            .receiver()
            .and_then(|recv| super::resources::owner_of(project, bps, file, &recv));
        let (app, blueprint) = match parent {
            Some(Parent::App(a)) => (Some(a), None),
            Some(Parent::Blueprint(b)) => (None, Some(b)),
            None => (None, None),
        };
        let prefix = c.kwarg("prefix").and_then(Value::as_str).unwrap_or("");
        let span = Span::new(file, call.range());
        for &(method, path, name, auth) in lib {
            routes.push(Route {
                app,
                blueprint,
                methods: vec![method.to_string()],
                rule: super::blueprints::join_paths(prefix, path),
                path: None,
                endpoint: name.to_string(),
                function: format!("fastapi_users.{name}"),
                class: None,
                file,
                def_span: span,
                span,
                decorators: Vec::new(),
                limits: Vec::new(),
                limit_exempt: false,
                csrf_exempt: None,
                auth: auth.map(str::to_string).into_iter().collect(),
                unregistered: false,
                provided_by: Some(super::Provider::FastapiUsers),
            });
        }
    }
}
