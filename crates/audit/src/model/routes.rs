//! Routes with their full path, methods, endpoint and decorators (rate limits,
//! CSRF exemption, auth), and error handlers.

use super::{
    extensions::ExtKind, index::Target, AppId, BlueprintId, BlueprintKind, Parent, Project,
};
use crate::{
    python::{
        value::{Site, Value},
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
    /// Dotted name of the view function (for a class-based view or a
    /// Flask-RESTful / RESTX resource, the method that answers:
    /// `api.Users.post`, `views.Report.dispatch_request`).
    pub function: String,
    /// The class of a class-based view or resource whose method `function`
    /// is (`api.Users`; a method inherited from a base class is the base's).
    pub class: Option<String>,
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
    /// Of a blueprint or router that no app registers (and the project
    /// registers no blueprint dynamically): not served, so not audited.
    /// Such routes are in [`Project::unregistered_routes`](super::Project).
    pub unregistered: bool,
    /// Declared by an extension rather than the project (Flask-Security's
    /// login): listed at the extension's call.
    pub provided_by: Option<Provider>,
}

/// An extension that declares views of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    FastapiUsers,
    FlaskSecurity,
    AppBuilder,
    /// An operation of an OpenAPI specification connexion serves.
    Connexion,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::FastapiUsers => "fastapi-users",
            Provider::FlaskSecurity => "Flask-Security",
            Provider::AppBuilder => "Flask-AppBuilder",
            Provider::Connexion => "connexion",
        }
    }

    /// Its views are Flask-WTF forms, which carry a CSRF token of their own.
    pub fn forms_carry_csrf_token(self) -> bool {
        matches!(self, Provider::FlaskSecurity | Provider::AppBuilder)
    }

    /// A Flask extension: its views are the app's, so flask-limiter's
    /// `default_limits` apply to them, and no decorator of the project can
    /// give them a limit of their own.
    pub fn flask_blueprint(self) -> bool {
        matches!(self, Provider::FlaskSecurity | Provider::AppBuilder)
    }
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

    /// The name that says what the view is for: the function's last name, or a
    /// class-based view's or resource's class name (`Login` rather than its
    /// `post`).
    pub fn view_name(&self) -> &str {
        let dotted = self.class.as_deref().unwrap_or(&self.function);
        dotted.rsplit('.').next().unwrap_or(dotted)
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
    /// Handles errors of the whole app: registered on the app, or with a
    /// blueprint's `app_errorhandler`. A blueprint's own handlers never see
    /// the 404 and 405 raised while routing.
    pub app_wide: bool,
}

/// Words in a decorator or dependency name that mean "requires authentication"
/// (not in a name that says `anonymous`: Flask-Security's
/// `@anonymous_user_required` lets only signed-out callers in).
pub(super) const AUTH_WORDS: &[&str] = &[
    "login_required",
    "auth",
    "jwt_required",
    "token_required",
    "role",
    "permission",
    "admin_required",
    // `@user_required`: any signed-in user (also `@staff_user_required`)
    "user_required",
    "current_user",
    "verify_token",
    "fresh_jwt_required",
];

/// The dotted name of a decorator (`login_required`, `auth.admin_required()`)
/// when its last part carries one of `auth_words`.
pub(super) fn auth_decorator(
    resolver: &super::index::Resolver,
    file: crate::source::FileId,
    d: &crate::python::value::Value,
    auth_words: &[&str],
) -> Option<String> {
    let callee = d.as_call().map_or(d, |c| &c.func);
    let name = resolver
        .resolve(file, callee)
        .external_name()
        .unwrap_or_else(|| callee.render());
    let last = name
        .rsplit('.')
        .next()
        .unwrap_or(&name)
        .to_ascii_lowercase();
    ((auth_words.iter().any(|w| last.contains(w)) && !last.contains("anonymous"))
        || starlette_requires(&name, d))
    .then_some(name)
}

/// Starlette's `@requires("authenticated")` (any scope: the authentication
/// backend grants scopes only to callers it has signed in); answers 403 (or
/// redirects) without them. `@requires([])` asks for nothing.
pub(super) fn starlette_requires(name: &str, d: &Value) -> bool {
    if name != "starlette.authentication.requires" {
        return false;
    }
    let Some(c) = d.as_call() else { return false };
    match c.param(0, "scopes") {
        Some(v) => match v.as_seq() {
            Some(items) => !items.is_empty(),
            None => !matches!(v.kind, crate::python::value::Kind::None),
        },
        None => false,
    }
}

/// fastapi-limiter's `Depends(RateLimiter(times=5, seconds=60))`, as `5 per 60
/// seconds` for the inventory.
fn fastapi_limiter_dependency(
    resolver: &super::index::Resolver,
    file: crate::source::FileId,
    v: &Value,
) -> Option<Value> {
    let depends = v.as_call()?;
    if !depends.func_name().is_some_and(|n| n.ends_with("Depends")) {
        return None;
    }
    let limiter = depends.arg(0)?.as_call()?;
    let name = resolver.resolve(file, &limiter.func).external_name()?;
    if !matches!(
        name.as_str(),
        "fastapi_limiter.depends.RateLimiter" | "fastapi_limiter.RateLimiter"
    ) {
        return None;
    }
    let times = limiter.kwarg("times").or_else(|| limiter.arg(0));
    let period = ["milliseconds", "seconds", "minutes", "hours"]
        .iter()
        .find_map(|unit| Some((limiter.kwarg(unit)?, *unit)));
    let label = match (times, period) {
        (Some(t), Some((n, unit))) => format!("{} per {} {unit}", t.render(), n.render()),
        _ => limiter.func.render(),
    };
    Some(Value::new(
        limiter.func.range,
        crate::python::value::Kind::Str(label.into()),
    ))
}

/// `@rate_limit(5, timedelta(minutes=1))` as `5 per timedelta(minutes=1)`,
/// for the inventory (the decorator itself when its arguments are unusual).
fn quart_limit_label(d: &Value) -> Value {
    let Some((count, period)) = d.as_call().and_then(|c| Some((c.arg(0)?, c.arg(1)?))) else {
        return d.clone();
    };
    let short = |v: &Value| {
        let r = v.render();
        match r.find('(') {
            Some(i) => {
                let head = &r[..i];
                format!("{}{}", head.rsplit('.').next().unwrap_or(head), &r[i..])
            }
            None => r,
        }
    };
    Value::new(
        d.range,
        crate::python::value::Kind::Str(format!("{} per {}", short(count), short(period)).into()),
    )
}

/// The name a decorator is recorded under: the method for a decorator of an
/// object (`limit` of `limiter.limit`, `expect` of `ns.expect`), else the
/// dotted name of what it resolves to.
pub(super) fn decorator_name(
    resolver: &super::index::Resolver,
    file: crate::source::FileId,
    d: &Value,
) -> String {
    let callee = d.as_call().map_or(d, |c| &c.func);
    let r = resolver.resolve(file, callee);
    match (&r.target, r.attrs.as_slice()) {
        (Target::Object(_), [m]) => m.clone(),
        _ => r.external_name().unwrap_or_else(|| callee.render()),
    }
}

/// What a view's decorators say: each resolved, the limits, exemptions and
/// authentication among them, and the route decorators (object, method,
/// decorator) still to be read.
pub(super) struct ViewDecorators<'a> {
    pub decorators: Vec<Decorator>,
    pub limits: Vec<(Value, Span)>,
    pub limit_exempt: bool,
    pub csrf_exempt: Option<Span>,
    /// Named for authentication, with the decorator's span (None: a FastAPI
    /// dependency).
    pub auth: Vec<(String, Option<Span>)>,
    pub route_decos: Vec<(Site, String, &'a Value)>,
}

impl<'a> ViewDecorators<'a> {
    pub(super) fn of(
        project: &Project,
        file: FileId,
        decos: &'a [Value],
        limiter_sites: &[Site],
        csrf_sites: &[Site],
    ) -> ViewDecorators<'a> {
        let resolver = project.resolver();
        // quart-rate-limiter's decorators only mark the view: its `RateLimiter`
        // extension enforces the marks.
        let quart_limiter = project
            .extensions
            .iter()
            .any(|e| e.kind == ExtKind::QuartRateLimiter);
        let mut out = ViewDecorators {
            decorators: Vec::new(),
            limits: Vec::new(),
            limit_exempt: false,
            csrf_exempt: None,
            auth: Vec::new(),
            route_decos: Vec::new(),
        };
        for d in decos {
            let span = Span::new(file, d.range);
            let callee = d.as_call().map_or(d, |c| &c.func);
            let r = resolver.resolve(file, callee);
            let name = match (&r.target, r.attrs.as_slice()) {
                (Target::Object(site), [m]) => {
                    if limiter_sites.contains(site) {
                        match m.as_str() {
                            "limit" | "shared_limit" => out.limits.push((
                                d.as_call()
                                    .and_then(|c| c.arg(0))
                                    .cloned()
                                    .unwrap_or_else(|| d.clone()),
                                span,
                            )),
                            "exempt" => out.limit_exempt = true,
                            _ => {}
                        }
                    } else if csrf_sites.contains(site) && m == "exempt" {
                        out.csrf_exempt = Some(span);
                    } else if ROUTE_METHODS.contains(&m.as_str())
                        || m == "errorhandler"
                        || m == "app_errorhandler"
                        || m == "exception_handler"
                    {
                        out.route_decos.push((*site, m.clone(), d));
                    }
                    m.clone()
                }
                _ => r.external_name().unwrap_or_else(|| callee.render()),
            };
            if quart_limiter {
                match name.as_str() {
                    "quart_rate_limiter.rate_limit" => {
                        out.limits.push((quart_limit_label(d), span));
                    }
                    "quart_rate_limiter.rate_exempt" => out.limit_exempt = true,
                    _ => {}
                }
            }
            let last = name
                .rsplit('.')
                .next()
                .unwrap_or(&name)
                .to_ascii_lowercase();
            if (AUTH_WORDS.iter().any(|w| last.contains(w)) && !last.contains("anonymous"))
                || starlette_requires(&name, d)
            {
                out.auth.push((name.clone(), Some(span)));
            }
            out.decorators.push(Decorator {
                name,
                value: d.clone(),
                span,
            });
        }
        out
    }
}

pub fn find_blueprints_and_routes(project: &mut Project) {
    let (bps, dynamic_registration) = super::blueprints::find_blueprints(project);
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
    let mut factories = super::route_factories::Factories::find(project, &bps);
    factories.routes(project, &bps, &limiter_sites, &csrf_sites, &mut routes);
    let resolver = project.resolver();
    for (file, facts) in project.python() {
        for func in &facts.functions {
            let ViewDecorators {
                decorators,
                mut limits,
                limit_exempt,
                csrf_exempt,
                mut auth,
                route_decos,
            } = ViewDecorators::of(project, file, &func.decorators, &limiter_sites, &csrf_sites);
            // fastapi-limiter: `Depends(RateLimiter(times=5, seconds=60))` in
            // the route's `dependencies=[...]` or as a parameter's default.
            let route_dependencies = func
                .decorators
                .iter()
                .filter_map(|d| d.as_call()?.kwarg("dependencies")?.as_seq())
                .flatten();
            let param_defaults = func.params.iter().filter_map(|p| p.default.as_deref());
            for dep in route_dependencies.chain(param_defaults) {
                if let Some(label) = fastapi_limiter_dependency(&resolver, file, dep) {
                    limits.push((label, Span::new(file, dep.range)));
                }
            }
            // FastAPI dependencies: Depends(get_current_user) in parameters.
            for p in &func.params {
                let Some(call) = p.default.as_deref().and_then(Value::as_call) else {
                    continue;
                };
                if !call
                    .func_name()
                    .is_some_and(|n| n.ends_with("Depends") || n.ends_with("Security"))
                {
                    continue;
                }
                if let Some(dep) = call.arg(0) {
                    if super::auth::named_for_auth(project, file, dep)
                        || call.func_name().is_some_and(|n| n.ends_with("Security"))
                    {
                        auth.push((dep.render(), None));
                    }
                }
            }
            for (site, method, deco) in route_decos {
                if factories.registers_at(Span::new(file, deco.range)) {
                    continue;
                }
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
                        function: func.qualified.to_string(),
                        file,
                        span: Span::new(file, deco.range),
                        app_wide: app.is_some() || method == "app_errorhandler",
                    });
                    continue;
                }
                let rule = call
                    .and_then(|c| c.param(0, if method == "route" { "rule" } else { "path" }))
                    .map(|v| rule_text(project, file, v))
                    .unwrap_or_default();
                let methods = match method.as_str() {
                    "route" | "api_route" => {
                        let passed = call.and_then(|c| c.kwarg("methods"));
                        let (set, default) = overridden_route_methods(project, site, &method);
                        set.or_else(|| match passed {
                            Some(_) => literal_methods(passed),
                            None => default,
                        })
                        .unwrap_or_else(|| vec!["GET".to_string()])
                    }
                    "websocket" => vec!["WEBSOCKET".to_string()],
                    m => vec![m.to_ascii_uppercase()],
                };
                // A decorator above the route decorator wraps the function after
                // it was registered: the registered view runs without it.
                let route_auth: Vec<String> = auth
                    .iter()
                    .filter(|(_, s)| s.is_none_or(|s| s.start > u32::from(deco.range.start())))
                    .map(|(n, _)| n.clone())
                    .collect();
                // `dependencies=[Depends(...)]` are judged with the parameters'
                // dependencies (`model::auth`).
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
                    function: func.qualified.to_string(),
                    class: None,
                    file,
                    def_span: Span::new(file, func.name_range),
                    span: Span::new(file, deco.range),
                    decorators: decorators.clone(),
                    limits: limits.clone(),
                    limit_exempt,
                    csrf_exempt,
                    auth: route_auth,
                    unregistered: false,
                    provided_by: None,
                });
            }
        }
    }
    super::url_rules::find(
        project,
        &bps,
        AUTH_WORDS,
        &factories,
        &mut routes,
        &mut handlers,
    );
    super::class_views::find_decorated(project, &bps, AUTH_WORDS, &mut routes);
    super::resources::find(project, &bps, AUTH_WORDS, &mut routes);
    super::admin_views::find(project, AUTH_WORDS, &mut routes);
    super::fab_views::find(project, AUTH_WORDS, &mut routes);
    super::fastapi_users::find(project, &bps, &mut routes);
    super::extension_views::find(project, &mut routes);
    super::openapi_routes::find(project, &limiter_sites, &csrf_sites, &mut routes);
    // Full paths and owning apps through the registration chain.
    for r in &mut routes {
        match r.blueprint {
            None => r.path = Some(r.rule.clone()),
            Some(b) => {
                if let Some((app, prefix)) = super::blueprints::chain(&bps, b, 0) {
                    r.app = Some(app);
                    r.path = Some(super::blueprints::join_paths(&prefix, &r.rule));
                } else if let Some(prefix) = bps
                    .get(b)
                    .filter(|bp| bp.registrations.is_empty())
                    .and_then(|bp| bp.prefix.as_deref())
                {
                    // Registered where we cannot follow (`for m in MODULES:
                    // api.register_blueprint(m.blp)`): the blueprint's own
                    // prefix still applies.
                    r.path = Some(super::blueprints::join_paths(prefix, &r.rule));
                }
            }
        }
    }
    for h in &mut handlers {
        if let Some(b) = h.blueprint {
            h.app = super::blueprints::chain(&bps, b, 0).map(|(a, _)| a);
        }
    }
    super::limits::find(project, &bps, &mut routes);
    // Routes of blueprints no app registers are not served.
    let (routes, unregistered): (Vec<Route>, Vec<Route>) = routes.into_iter().partition(|r| {
        dynamic_registration
            || r.blueprint
                .is_none_or(|b| super::blueprints::registered(&bps, b, 0))
    });
    let writes = super::sessions::find_session_writes(project);
    project.blueprints = bps;
    project.routes = routes;
    project.unregistered_routes = unregistered
        .into_iter()
        .map(|r| Route {
            unregistered: true,
            ..r
        })
        .collect();
    project.error_handlers = handlers;
    project.session_writes = writes.all;
    project.login_writes = writes.logins;
}

/// The HTTP methods a literal list names (`methods=["get", "POST"]`), upper-cased;
/// None when the value is not a list or tuple.
/// How many project base classes are searched for an overridden `route`.
const MAX_ROUTE_OVERRIDE_DEPTH: usize = 4;

/// The methods a project subclass of `Flask` / `Blueprint` writes into the
/// `**options` of its own `route` before passing them on (`def route(self,
/// rule, **options): options.setdefault("methods", ("GET", "POST")); return
/// super().route(rule, **options)`), for the object made at `site`:
/// `(options["methods"] = [...], options.setdefault("methods", [...]))`.
fn overridden_route_methods(
    project: &Project,
    site: Site,
    method: &str,
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let resolver = project.resolver();
    let mut class = resolver.class_of(Target::Object(site));
    for _ in 0..MAX_ROUTE_OVERRIDE_DEPTH {
        let Some(q) = class.take() else { break };
        if let Some((file, func)) = resolver.function(&format!("{q}.{method}")) {
            let Some(kw) = func
                .params
                .iter()
                .position(|p| p.kind == crate::python::facts::ParamKind::VarKeywords)
            else {
                break;
            };
            let Some(facts) = resolver.facts(file) else {
                break;
            };
            let (set, default) = super::route_factories::factory_sets(facts, func, kw, "methods");
            return (literal_methods(set), literal_methods(default));
        }
        // The first project base class.
        class = resolver.class(&q).and_then(|(file, c)| {
            c.bases
                .iter()
                .find_map(|b| match resolver.resolve(file, b).target {
                    Target::Class(base) => Some(base),
                    _ => None,
                })
        });
    }
    (None, None)
}

pub(super) fn literal_methods(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_seq).map(|m| {
        m.iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_uppercase)
            .collect()
    })
}

/// How deep [`rule_text`] follows constants into constants.
const MAX_RULE_HOPS: usize = 8;

/// The rule a route is registered with, as text: a literal, a module-level
/// string constant of this module or another (`from .urls import API`,
/// `urls.API`), a class attribute (`Config.PREFIX`), a settings field's
/// default, or a concatenation or f-string of those (`PREFIX + "/orders"`,
/// `f"{API}/items"`). A part that cannot be known statically is kept as
/// `<?expr>` (`<?get_prefix()>/orders`): the route is still served, only its
/// path is partly unknown, and a marked segment reads like a variable one.
pub(super) fn rule_text(project: &Project, file: FileId, v: &Value) -> String {
    let mut out = String::new();
    rule_parts(project, file, v, &mut out, 0);
    out
}

fn rule_parts(project: &Project, file: FileId, v: &Value, out: &mut String, depth: usize) {
    use crate::python::value::{BinOp, Kind};
    if let (Kind::Call(c), true) = (&v.kind, depth < MAX_RULE_HOPS) {
        if let Some(arg) = passed_through(project, file, c) {
            rule_parts(project, file, arg, out, depth + 1);
            return;
        }
    }
    match &v.kind {
        Kind::Str(s) => out.push_str(s),
        Kind::BinOp(BinOp::Add, a, b) if depth < MAX_RULE_HOPS => {
            rule_parts(project, file, a, out, depth + 1);
            rule_parts(project, file, b, out, depth + 1);
        }
        Kind::FString(parts) if depth < MAX_RULE_HOPS => {
            for p in parts.iter() {
                rule_parts(project, file, p, out, depth + 1);
            }
        }
        _ => match constant(project, file, v).filter(|_| depth < MAX_RULE_HOPS) {
            Some((f, c)) => rule_parts(project, f, c, out, depth + 1),
            None => {
                // A name says what is unknown (`<?API_PREFIX>`,
                // `<?get_prefix()>`); anything else is just unknown.
                let name = |x: &Value| match &x.kind {
                    Kind::Ref(r) if !matches!(r.root, crate::python::value::Root::Obj { .. }) => {
                        Some(x.render())
                    }
                    _ => None,
                };
                let shown = match &v.kind {
                    Kind::Call(c) => name(&c.func).map(|f| format!("{f}()")),
                    _ => name(v),
                };
                out.push_str("<?");
                out.push_str(&shown.unwrap_or_default());
                out.push('>');
            }
        },
    }
}

/// The argument a project helper hands back unchanged in one of its returns:
/// `org_scoped_rule("/login")` with `def org_scoped_rule(rule): if
/// settings.MULTI_ORG: return "/<org_slug>" + rule; return rule`. The rule as
/// written is the route under the default settings; a prefix the helper adds
/// in other deployments is not guessed.
fn passed_through<'a>(
    project: &Project,
    file: FileId,
    c: &'a crate::python::value::Call,
) -> Option<&'a Value> {
    use crate::python::value::Root;
    let resolver = project.resolver();
    let Target::Function(q) = resolver.resolve(file, &c.func).target else {
        return None;
    };
    let (_, f) = resolver.function(&q)?;
    if f.method_of.is_some() {
        return None;
    }
    let index = f.returns.iter().find_map(|r| {
        let r = r.reference()?;
        match &r.root {
            Root::Param { func, index, .. }
                if r.attrs.is_empty() && func.as_str() == f.qualified.as_str() =>
            {
                Some(*index as usize)
            }
            _ => None,
        }
    })?;
    let param = f.params.get(index)?;
    c.param(index, &param.name)
}

/// What a module-level name, a class attribute or a settings field stands
/// for, when the project binds it once to a string-ish value (not a
/// parameter: each caller may pass its own).
fn constant<'a>(project: &'a Project, file: FileId, v: &Value) -> Option<(FileId, &'a Value)> {
    use crate::python::value::{Kind, Root};
    let r = v.reference()?;
    let Root::Global(q) = &r.root else {
        return None;
    };
    let resolver = project.resolver();
    let dotted = if r.attrs.is_empty() {
        q.to_string()
    } else {
        format!("{q}.{}", r.attrs.join("."))
    };
    let stringish = |x: &Value| {
        matches!(
            x.kind,
            Kind::Str(_) | Kind::FString(_) | Kind::BinOp(..) | Kind::Ref(_)
        )
    };
    if let Some(found) = resolver.global_value(&dotted).filter(|(_, x)| stringish(x)) {
        return Some(found);
    }
    // `Config.PREFIX`, `settings.API_V1_STR`.
    let mut base = r.clone();
    let last = base.attrs.pop()?;
    let base = Value::new(v.range, Kind::Ref(Box::new(base)));
    if let Target::Class(c) = resolver.resolve(file, &base).target {
        let (cfile, class) = resolver.class(&c)?;
        return class
            .attr(&last)
            .map(|a| (cfile, &a.value))
            .filter(|(_, x)| stringish(x));
    }
    super::cors::settings_default(project, file, v).filter(|(_, x)| stringish(x))
}
