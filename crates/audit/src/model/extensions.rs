//! Extensions and middleware, modelled on what the installed libraries really do:
//! created with `Ext(app, ...)` or `Ext()` + `ext.init_app(app, ...)` (options from
//! both, init_app last), wrappers assigned to `app.wsgi_app`, FastAPI's
//! `app.add_middleware(Cls, ...)`.

use super::{index::Target, ExtId, Project};
use crate::{
    python::value::{Kind, Site, Value},
    source::{FileId, Span},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtKind {
    Talisman,
    /// flask-cors `CORS`.
    Cors,
    /// FastAPI / Starlette `CORSMiddleware`.
    CorsMiddleware,
    /// flask-limiter `Limiter`.
    Limiter,
    /// slowapi `Limiter`.
    SlowApi,
    /// quart-rate-limiter `RateLimiter`: routes are limited by its
    /// `@rate_limit(count, period)` decorator (or its `default_limits`).
    QuartRateLimiter,
    CsrfProtect,
    SeaSurf,
    ProxyFix,
    /// uvicorn's `ProxyHeadersMiddleware` used explicitly.
    ProxyHeaders,
    DebugToolbar,
    /// Werkzeug's `DebuggedApplication`.
    Debugger,
    FlaskSession,
    TrustedHost,
    HttpsRedirect,
    LoginManager,
    JwtManager,
    /// Starlette's cookie `SessionMiddleware`.
    SessionMiddleware,
}

/// Dotted class name -> kind.
pub const EXT_CTORS: &[(&str, ExtKind)] = &[
    ("flask_talisman.Talisman", ExtKind::Talisman),
    ("flask_talisman.talisman.Talisman", ExtKind::Talisman),
    ("flask_cors.CORS", ExtKind::Cors),
    ("flask_cors.extension.CORS", ExtKind::Cors),
    (
        "fastapi.middleware.cors.CORSMiddleware",
        ExtKind::CorsMiddleware,
    ),
    (
        "starlette.middleware.cors.CORSMiddleware",
        ExtKind::CorsMiddleware,
    ),
    ("flask_limiter.Limiter", ExtKind::Limiter),
    ("flask_limiter.extension.Limiter", ExtKind::Limiter),
    ("slowapi.Limiter", ExtKind::SlowApi),
    ("slowapi.extension.Limiter", ExtKind::SlowApi),
    ("quart_rate_limiter.RateLimiter", ExtKind::QuartRateLimiter),
    ("flask_wtf.csrf.CSRFProtect", ExtKind::CsrfProtect),
    ("flask_wtf.CSRFProtect", ExtKind::CsrfProtect),
    ("flask_wtf.csrf.CsrfProtect", ExtKind::CsrfProtect),
    ("flask_seasurf.SeaSurf", ExtKind::SeaSurf),
    ("werkzeug.middleware.proxy_fix.ProxyFix", ExtKind::ProxyFix),
    ("werkzeug.contrib.fixers.ProxyFix", ExtKind::ProxyFix),
    (
        "uvicorn.middleware.proxy_headers.ProxyHeadersMiddleware",
        ExtKind::ProxyHeaders,
    ),
    (
        "flask_debugtoolbar.DebugToolbarExtension",
        ExtKind::DebugToolbar,
    ),
    ("werkzeug.debug.DebuggedApplication", ExtKind::Debugger),
    ("flask_session.Session", ExtKind::FlaskSession),
    (
        "starlette.middleware.trustedhost.TrustedHostMiddleware",
        ExtKind::TrustedHost,
    ),
    (
        "fastapi.middleware.trustedhost.TrustedHostMiddleware",
        ExtKind::TrustedHost,
    ),
    (
        "starlette.middleware.httpsredirect.HTTPSRedirectMiddleware",
        ExtKind::HttpsRedirect,
    ),
    (
        "fastapi.middleware.httpsredirect.HTTPSRedirectMiddleware",
        ExtKind::HttpsRedirect,
    ),
    ("flask_login.LoginManager", ExtKind::LoginManager),
    // Flask-Security(-Too) and Flask-AppBuilder make a Flask-Login manager of
    // their own at init: logins live in the session cookie the same way.
    ("flask_security.Security", ExtKind::LoginManager),
    ("flask_security.core.Security", ExtKind::LoginManager),
    ("flask_appbuilder.AppBuilder", ExtKind::LoginManager),
    ("flask_appbuilder.base.AppBuilder", ExtKind::LoginManager),
    ("flask_jwt_extended.JWTManager", ExtKind::JwtManager),
    (
        "starlette.middleware.sessions.SessionMiddleware",
        ExtKind::SessionMiddleware,
    ),
];

/// The last names of [`EXT_CTORS`] (indexed in `model::calls`).
pub const EXT_CTOR_NAMES: &[&str] = &[
    "Talisman",
    "CORS",
    "CORSMiddleware",
    "Limiter",
    "RateLimiter",
    "CSRFProtect",
    "CsrfProtect",
    "SeaSurf",
    "ProxyFix",
    "ProxyHeadersMiddleware",
    "DebugToolbarExtension",
    "DebuggedApplication",
    "Session",
    "TrustedHostMiddleware",
    "HTTPSRedirectMiddleware",
    "LoginManager",
    "Security",
    "AppBuilder",
    "JWTManager",
    "SessionMiddleware",
];

impl ExtKind {
    pub fn of(dotted: &str) -> Option<ExtKind> {
        EXT_CTORS
            .iter()
            .find(|(n, _)| *n == dotted)
            .map(|(_, k)| *k)
    }

    /// Positional parameters after the app (None: the position is the app).
    fn positional(self) -> &'static [Option<&'static str>] {
        match self {
            ExtKind::ProxyFix => &[
                None,
                Some("x_for"),
                Some("x_proto"),
                Some("x_host"),
                Some("x_port"),
                Some("x_prefix"),
            ],
            ExtKind::Debugger => &[None, Some("evalex")],
            ExtKind::SlowApi => &[Some("key_func")],
            ExtKind::QuartRateLimiter => &[
                None,
                Some("key_function"),
                Some("enabled"),
                Some("store"),
                Some("default_limits"),
            ],
            _ => &[None],
        }
    }

    /// A rate limiter: flask-limiter, slowapi or quart-rate-limiter.
    pub fn limits_requests(self) -> bool {
        matches!(
            self,
            ExtKind::Limiter | ExtKind::SlowApi | ExtKind::QuartRateLimiter
        )
    }

    /// The library's default for a boolean option, where the rules need it.
    pub fn default_bool(self, option: &str) -> Option<bool> {
        match (self, option) {
            (
                ExtKind::Talisman,
                "force_https"
                | "strict_transport_security"
                | "session_cookie_secure"
                | "session_cookie_http_only"
                | "x_content_type_options"
                | "strict_transport_security_include_subdomains",
            ) => Some(true),
            (ExtKind::Talisman, "force_https_permanent" | "strict_transport_security_preload") => {
                Some(false)
            }
            (ExtKind::Cors, "supports_credentials") => Some(false),
            (ExtKind::CorsMiddleware, "allow_credentials") => Some(false),
            (ExtKind::Debugger, "evalex") => Some(false),
            _ => None,
        }
    }
}

/// One option given to an extension, where it was given.
#[derive(Debug, Clone)]
pub struct ExtOption {
    pub name: String,
    pub value: Value,
    pub file: FileId,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Extension {
    pub id: ExtId,
    pub kind: ExtKind,
    /// The creating call.
    pub site: Site,
    pub span: Span,
    pub app: Option<super::AppId>,
    /// `init_app(...)` / `add_middleware(...)` / `app.wsgi_app = ...` call, if any.
    pub init: Option<Span>,
    /// Options in the order they take effect (constructor, then init_app).
    pub options: Vec<ExtOption>,
    /// Arguments spread from a sequence or mapping the source does not spell
    /// out (`*args`, `**opts` built at run time): options not visible. A
    /// `**OPTS` whose dict literal (or `dict(...)` call) is a constant no
    /// code changes is read into `options` instead.
    pub opaque: bool,
}

impl Extension {
    /// The effective value of an option (the last one given).
    pub fn opt(&self, name: &str) -> Option<&ExtOption> {
        self.options.iter().rev().find(|o| o.name == name)
    }

    /// A boolean option: given as a literal, else the library default (None when
    /// given but not a literal, or hidden in `**kwargs`).
    pub fn bool_opt(&self, name: &str) -> Option<bool> {
        match self.opt(name) {
            Some(o) => o.value.truthy(),
            None if self.opaque => None,
            None => self.kind.default_bool(name),
        }
    }
}

pub fn find_extensions(project: &mut Project) {
    let resolver = project.resolver();
    let mut exts: Vec<Extension> = Vec::new();
    // Constructors, also of the project's subclasses (`class
    // AppCSRF(CSRFProtect)`), which keep the extension's behaviour.
    let subclasses = super::apps::derived_classes(project, EXT_CTORS);
    let mut calls = project.calls_named(EXT_CTOR_NAMES);
    super::apps::add_calls_of(project, &subclasses, &mut calls);
    for (file, _, call) in calls {
        let c = call.call();
        let r = resolver.resolve(file, &c.func);
        let Some(kind) = r
            .external_name()
            .and_then(|n| ExtKind::of(&n).or_else(|| subclasses.get(&n).copied()))
        else {
            continue;
        };
        let mut ext = Extension {
            id: exts.len(),
            kind,
            site: Site {
                file,
                offset: call.range().start().into(),
            },
            span: Span::new(file, call.range()),
            app: None,
            init: None,
            options: Vec::new(),
            opaque: false,
        };
        ext.opaque = !absorb_args(project, &mut ext, file, &c.args, &c.kwargs, 0, star_args(c));
        exts.push(ext);
    }
    // init_app and add_middleware.
    for (file, _, call) in project.calls_named(&["init_app", "add_middleware"]) {
        let c = call.call();
        let r = resolver.resolve(file, &c.func);
        match (&r.target, r.attrs.as_slice()) {
            (Target::Object(site), [m]) if m == "init_app" => {
                if let Some(ext) = exts.iter_mut().find(|e| e.site == *site) {
                    ext.init = Some(Span::new(file, call.range()));
                    ext.opaque |=
                        !absorb_args(project, ext, file, &c.args, &c.kwargs, 0, star_args(c));
                }
            }
            (Target::Object(site), [m]) if m == "add_middleware" => {
                let Some(app) = project.app_at(*site) else {
                    continue;
                };
                let Some(cls) = c.args.first() else { continue };
                let Some(kind) = resolver
                    .resolve(file, cls)
                    .external_name()
                    .and_then(|n| ExtKind::of(&n))
                else {
                    continue;
                };
                let mut ext = Extension {
                    id: exts.len(),
                    kind,
                    site: Site {
                        file,
                        offset: call.range().start().into(),
                    },
                    span: Span::new(file, call.range()),
                    app: Some(app),
                    init: Some(Span::new(file, call.range())),
                    options: Vec::new(),
                    opaque: false,
                };
                ext.opaque = !absorb_args(project, &mut ext, file, &[], &c.kwargs, 1, star_args(c));
                exts.push(ext);
            }
            _ => {}
        }
    }
    // app.wsgi_app = <wrapper built elsewhere>.
    for (file, facts) in project.python() {
        for a in &facts.assigns {
            // app.wsgi_app = ProxyFix(app.wsgi_app, ...): bound by the constructor's
            // first argument already; nothing more to record here, except when
            // the wrapper object was built elsewhere.
            let Some(t) = a.target.reference() else {
                continue;
            };
            if t.attrs.last().map(crate::python::value::Name::as_str) != Some("wsgi_app") {
                continue;
            }
            let target = resolver.resolve(file, &a.target);
            let Target::Object(app_site) = target.target else {
                continue;
            };
            let Some(app) = project.app_at(app_site) else {
                continue;
            };
            let vr = resolver.resolve(file, &a.value);
            if let Target::Object(site) = vr.target {
                if let Some(ext) = exts.iter_mut().find(|e| e.site == site) {
                    ext.app.get_or_insert(app);
                    ext.init.get_or_insert(Span::new(file, a.range));
                }
            }
        }
    }
    // With a single app, an extension initialised with something that could not
    // be resolved (a parameter nobody passes) belongs to it.
    if project.apps.len() == 1 {
        for e in &mut exts {
            if e.app.is_none() && e.init.is_some() {
                e.app = Some(0);
            }
        }
    }
    for e in &exts {
        if let Some(app) = e.app {
            if let Some(a) = project.apps.get_mut(app) {
                a.extensions.push(e.id);
            }
        }
    }
    project.extensions = exts;
}

/// Reads an extension's arguments: the app (by position or `app=`) and
/// options, also those of a `**opts` spread. Returns whether every option is
/// visible: false when a `*args` spread hides positions, or a `**opts`
/// spread is not a mapping the source spells out (see
/// [`super::spread::spread_items`]).
fn absorb_args(
    project: &Project,
    ext: &mut Extension,
    file: FileId,
    args: &[Value],
    kwargs: &[(Option<crate::python::value::Name>, Value)],
    skip: usize,
    star_args: bool,
) -> bool {
    let mut visible = !star_args;
    let positional = ext.kind.positional();
    for (i, a) in args.iter().enumerate().skip(skip) {
        match positional.get(i) {
            Some(None) => {
                if let Some(app) = app_of_arg(project, file, a) {
                    ext.app = Some(app);
                } else if ext.kind == ExtKind::Limiter && i == 0 {
                    // Limiter(key_func, ...): the current signature; the dated
                    // Limiter(app, key_func=...) was handled above.
                    push(ext, "key_func", a, file);
                }
            }
            Some(Some(name)) => push(ext, name, a, file),
            None => {}
        }
    }
    for (k, v) in kwargs {
        match k.as_deref() {
            Some("app") => {
                if let Some(app) = app_of_arg(project, file, v) {
                    ext.app = Some(app);
                }
            }
            Some(name) => push(ext, name, v, file),
            // `Limiter(key_func, app=app, **LIMITER_OPTS)`.
            None => match super::spread::spread_items(project, file, v) {
                Some((dfile, items)) => {
                    for (name, value) in items {
                        if name == "app" {
                            if let Some(app) = app_of_arg(project, dfile, value) {
                                ext.app = Some(app);
                            }
                        } else {
                            push(ext, name, value, dfile);
                        }
                    }
                }
                None => visible = false,
            },
        }
    }
    visible
}

/// Whether a call may have a `*args` spread: its spread flag covers `*args`
/// and `**kwargs` alike, and a `*args` leaves an unknown value in its place.
fn star_args(c: &crate::python::value::Call) -> bool {
    c.spread
        && (c.kwargs.iter().all(|(k, _)| k.is_some())
            || c.args.iter().any(|a| matches!(a.kind, Kind::Unknown)))
}

fn push(ext: &mut Extension, name: &str, v: &Value, file: FileId) {
    ext.options.push(ExtOption {
        name: name.to_string(),
        value: v.clone(),
        file,
        span: Span::new(file, v.range),
    });
}

/// The app an argument refers to (`app` or `app.wsgi_app`).
pub fn app_of_arg(project: &Project, file: FileId, v: &Value) -> Option<super::AppId> {
    if matches!(v.kind, Kind::None) {
        return None;
    }
    let r = project.resolver().resolve(file, v);
    match (&r.target, r.attrs.as_slice()) {
        (Target::Object(site), []) => project.app_at(*site),
        (Target::Object(site), [w]) if w == "wsgi_app" => project.app_at(*site),
        _ => None,
    }
}
