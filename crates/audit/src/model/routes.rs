//! Blueprints / routers, where they are registered (with their URL prefixes,
//! across files), routes with their full path, methods, endpoint and decorators
//! (rate limits, CSRF exemption, auth), error handlers, and cookie-session writes.

use super::{
    extensions::ExtKind, index::Target, AppId, Blueprint, BlueprintId, BlueprintKind, Parent,
    Project, Registration,
};
use crate::{
    python::{
        value::{Kind, Site, Value},
        ROUTE_METHODS,
    },
    source::{FileId, Span},
};

/// A decorator on a view function, resolved.
#[derive(Debug, Clone)]
pub struct Decorator {
    /// Dotted name of what decorates (`flask_login.login_required`,
    /// `orders.security.role_required`), or the method for object decorators
    /// (`limiter.limit`).
    pub name: String,
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub app: Option<AppId>,
    pub blueprint: Option<BlueprintId>,
    /// Upper-case HTTP methods (`GET` when none are given).
    pub methods: Vec<String>,
    /// The rule as declared on the decorator.
    pub rule: String,
    /// The full path with registration prefixes, when they are known.
    pub path: Option<String>,
    pub endpoint: String,
    /// Dotted name of the view function.
    pub function: String,
    pub file: FileId,
    /// The `def` line of the view (route-level findings point here).
    pub def_span: Span,
    /// The route decorator.
    pub span: Span,
    pub decorators: Vec<Decorator>,
    /// `@limiter.limit(...)` / `@limiter.shared_limit(...)` values.
    pub limits: Vec<(Value, Span)>,
    /// `@limiter.exempt`
    pub limit_exempt: bool,
    /// `@csrf.exempt`
    pub csrf_exempt: Option<Span>,
    /// Auth decorators or dependencies (`login_required`, `jwt_required`, roles).
    pub auth: Vec<String>,
}

impl Route {
    /// POST, PUT, PATCH or DELETE.
    pub fn is_mutation(&self) -> bool {
        self.methods
            .iter()
            .any(|m| matches!(m.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
    }

    pub fn display_path(&self) -> &str {
        self.path.as_deref().unwrap_or(&self.rule)
    }
}

#[derive(Debug, Clone)]
pub struct ErrorHandler {
    pub app: Option<AppId>,
    pub blueprint: Option<BlueprintId>,
    /// The status code or exception class.
    pub key: Value,
    pub function: String,
    pub file: FileId,
    pub span: Span,
}

/// Words in a decorator or dependency name that mean "requires authentication".
const AUTH_WORDS: &[&str] = &[
    "login_required",
    "auth",
    "jwt_required",
    "token_required",
    "role",
    "permission",
    "admin_required",
    "current_user",
    "verify_token",
    "fresh_jwt_required",
];

pub fn find_blueprints_and_routes(project: &mut Project) {
    let resolver = project.resolver();
    // Blueprints and routers.
    let mut bps: Vec<Blueprint> = Vec::new();
    for (file, facts) in project.python() {
        for call in &facts.calls {
            let c = call.call();
            if !matches!(c.last_name(), Some("Blueprint" | "APIRouter")) {
                continue;
            }
            let name = resolver.resolve(file, &c.func).external_name();
            let kind = match name.as_deref() {
                Some("flask.Blueprint" | "flask.blueprints.Blueprint" | "quart.Blueprint") => {
                    BlueprintKind::Blueprint
                }
                Some("fastapi.APIRouter" | "fastapi.routing.APIRouter") => BlueprintKind::Router,
                _ => continue,
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
                prefix: c
                    .kwarg(prefix_kw)
                    .and_then(Value::as_str)
                    .map(str::to_string),
                registrations: Vec::new(),
            });
        }
    }
    let parent_of = |file: FileId, v: &Value| -> Option<Parent> {
        let r = resolver.resolve(file, v);
        let Target::Object(site) = r.target else {
            return None;
        };
        if !r.attrs.is_empty() {
            return None;
        }
        if let Some(app) = project.app_at(site) {
            return Some(Parent::App(app));
        }
        bps.iter()
            .find(|b| b.site == site)
            .map(|b| Parent::Blueprint(b.id))
    };
    // Registrations.
    let mut regs: Vec<(BlueprintId, Registration)> = Vec::new();
    for (file, facts) in project.python() {
        for call in &facts.calls {
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
            let Some(parent) = parent_of(file, &Value::new(c.func.range, Kind::Ref(recv))) else {
                continue;
            };
            let Some(child) = c.param(
                0,
                if method == "include_router" {
                    "router"
                } else {
                    "blueprint"
                },
            ) else {
                continue;
            };
            let Some(Parent::Blueprint(child)) = parent_of(file, child) else {
                continue;
            };
            let kw = if method == "include_router" {
                "prefix"
            } else {
                "url_prefix"
            };
            regs.push((
                child,
                Registration {
                    parent,
                    prefix: c.kwarg(kw).and_then(Value::as_str).map(str::to_string),
                    span: Span::new(file, call.range()),
                },
            ));
        }
    }
    for (child, reg) in regs {
        bps[child].registrations.push(reg);
    }

    // Routes and error handlers from decorators, and add_url_rule.
    let limiter_sites: Vec<Site> = project
        .extensions
        .iter()
        .filter(|e| matches!(e.kind, ExtKind::Limiter | ExtKind::SlowApi))
        .map(|e| e.site)
        .collect();
    let csrf_sites: Vec<Site> = project
        .extensions
        .iter()
        .filter(|e| matches!(e.kind, ExtKind::CsrfProtect | ExtKind::SeaSurf))
        .map(|e| e.site)
        .collect();
    let mut routes = Vec::new();
    let mut handlers = Vec::new();
    for (file, facts) in project.python() {
        for func in &facts.functions {
            let mut decorators = Vec::new();
            let mut limits = Vec::new();
            let mut limit_exempt = false;
            let mut csrf_exempt = None;
            let mut auth = Vec::new();
            let mut route_decos = Vec::new();
            for d in &func.decorators {
                let span = Span::new(file, d.range);
                let callee = d.as_call().map_or(d, |c| &c.func);
                let r = resolver.resolve(file, callee);
                let name = match (&r.target, r.attrs.as_slice()) {
                    (Target::Object(site), [m]) => {
                        if limiter_sites.contains(site) {
                            match m.as_str() {
                                "limit" | "shared_limit" => limits.push((
                                    d.as_call()
                                        .and_then(|c| c.arg(0))
                                        .cloned()
                                        .unwrap_or_else(|| d.clone()),
                                    span,
                                )),
                                "exempt" => limit_exempt = true,
                                _ => {}
                            }
                        } else if csrf_sites.contains(site) && m == "exempt" {
                            csrf_exempt = Some(span);
                        } else if ROUTE_METHODS.contains(&m.as_str())
                            || m == "errorhandler"
                            || m == "app_errorhandler"
                            || m == "exception_handler"
                        {
                            route_decos.push((*site, m.clone(), d));
                        }
                        m.clone()
                    }
                    _ => r.external_name().unwrap_or_else(|| callee.render()),
                };
                let last = name
                    .rsplit('.')
                    .next()
                    .unwrap_or(&name)
                    .to_ascii_lowercase();
                if AUTH_WORDS.iter().any(|w| last.contains(w)) {
                    auth.push(name.clone());
                }
                decorators.push(Decorator {
                    name,
                    value: d.clone(),
                    span,
                });
            }
            // FastAPI dependencies: Depends(get_current_user) in parameters.
            for p in &func.params {
                let Some(call) = p.default.as_ref().and_then(Value::as_call) else {
                    continue;
                };
                if !call
                    .func_name()
                    .is_some_and(|n| n.ends_with("Depends") || n.ends_with("Security"))
                {
                    continue;
                }
                if let Some(dep) = call.arg(0) {
                    let dep_name = dep.render();
                    if AUTH_WORDS
                        .iter()
                        .any(|w| dep_name.to_ascii_lowercase().contains(w))
                        || call.func_name().is_some_and(|n| n.ends_with("Security"))
                    {
                        auth.push(dep_name);
                    }
                }
            }
            for (site, method, deco) in route_decos {
                let owner = project.app_at(site).map(Parent::App).or_else(|| {
                    bps.iter()
                        .find(|b| b.site == site)
                        .map(|b| Parent::Blueprint(b.id))
                });
                let Some(owner) = owner else { continue };
                let (app, blueprint) = match owner {
                    Parent::App(a) => (Some(a), None),
                    Parent::Blueprint(b) => (None, Some(b)),
                };
                let call = deco.as_call();
                if matches!(
                    method.as_str(),
                    "errorhandler" | "app_errorhandler" | "exception_handler"
                ) {
                    handlers.push(super::ErrorHandler {
                        app,
                        blueprint,
                        key: call
                            .and_then(|c| c.arg(0))
                            .cloned()
                            .unwrap_or_else(|| deco.clone()),
                        function: func.qualified.clone(),
                        file,
                        span: Span::new(file, deco.range),
                    });
                    continue;
                }
                let rule = call
                    .and_then(|c| c.param(0, if method == "route" { "rule" } else { "path" }))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let methods = match method.as_str() {
                    "route" | "api_route" => call
                        .and_then(|c| c.kwarg("methods"))
                        .and_then(Value::as_seq)
                        .map(|m| {
                            m.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_ascii_uppercase)
                                .collect()
                        })
                        .unwrap_or_else(|| vec!["GET".to_string()]),
                    "websocket" => vec!["WEBSOCKET".to_string()],
                    m => vec![m.to_ascii_uppercase()],
                };
                let mut route_auth = auth.clone();
                if let Some(deps) = call
                    .and_then(|c| c.kwarg("dependencies"))
                    .and_then(Value::as_seq)
                {
                    for d in deps {
                        let text = d.render();
                        if AUTH_WORDS
                            .iter()
                            .any(|w| text.to_ascii_lowercase().contains(w))
                        {
                            route_auth.push(text);
                        }
                    }
                }
                let endpoint_name = call
                    .and_then(|c| c.kwarg("endpoint"))
                    .and_then(Value::as_str)
                    .unwrap_or(&func.name)
                    .to_string();
                let endpoint = match blueprint {
                    Some(b)
                        if bps[b].kind == BlueprintKind::Blueprint && !bps[b].name.is_empty() =>
                    {
                        format!("{}.{endpoint_name}", bps[b].name)
                    }
                    _ => endpoint_name,
                };
                routes.push(super::Route {
                    app,
                    blueprint,
                    methods,
                    rule,
                    path: None,
                    endpoint,
                    function: func.qualified.clone(),
                    file,
                    def_span: Span::new(file, func.name_range),
                    span: Span::new(file, deco.range),
                    decorators: decorators.clone(),
                    limits: limits.clone(),
                    limit_exempt,
                    csrf_exempt,
                    auth: route_auth,
                });
            }
        }
    }
    // Full paths and owning apps through the registration chain.
    for r in &mut routes {
        match r.blueprint {
            None => r.path = Some(r.rule.clone()),
            Some(b) => {
                if let Some((app, prefix)) = chain(&bps, b, 0) {
                    r.app = Some(app);
                    r.path = Some(join_paths(&prefix, &r.rule));
                }
            }
        }
    }
    for h in &mut handlers {
        if let Some(b) = h.blueprint {
            h.app = chain(&bps, b, 0).map(|(a, _)| a);
        }
    }
    // Session cookie writes.
    let mut writes = Vec::new();
    for (file, facts) in project.python() {
        for a in &facts.assigns {
            if let Kind::Subscript(base, _) = &a.target.kind {
                if base.reference().is_none_or(|r| r.last_name() != "session") {
                    continue;
                }
                if is_session(resolver.resolve(file, base).external_name().as_deref()) {
                    writes.push(Span::new(file, a.range));
                }
            }
        }
        for call in &facts.calls {
            let c = call.call();
            let Some(r) = c.func.reference() else {
                continue;
            };
            let candidate = r.last_name() == "login_user"
                || (matches!(r.last_name(), "update" | "setdefault")
                    && r.second_last_name() == Some("session"));
            if !candidate {
                continue;
            }
            let name = resolver.resolve(file, &c.func).external_name();
            match name.as_deref() {
                Some("flask_login.login_user" | "flask_login.utils.login_user") => {
                    writes.push(Span::new(file, call.range()))
                }
                Some(n)
                    if n.starts_with("flask.session.")
                        && (n.ends_with(".update") || n.ends_with(".setdefault")) =>
                {
                    writes.push(Span::new(file, call.range()))
                }
                _ => {}
            }
        }
    }
    project.blueprints = bps;
    project.routes = routes;
    project.error_handlers = handlers;
    project.session_writes = writes;
}

fn is_session(name: Option<&str>) -> bool {
    matches!(
        name,
        Some("flask.session" | "flask.globals.session" | "quart.session")
    )
}

/// The app a blueprint ends up in and the prefix it gets on the way.
fn chain(bps: &[Blueprint], b: BlueprintId, depth: usize) -> Option<(AppId, String)> {
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

fn join_paths(prefix: &str, rule: &str) -> String {
    let p = prefix.trim_end_matches('/');
    match (p.is_empty(), rule.is_empty()) {
        (true, true) => "/".into(),
        (true, false) => rule.to_string(),
        (false, true) => p.to_string(),
        (false, false) => format!("{p}/{}", rule.trim_start_matches('/')),
    }
}
