//! The project model: built once from every file's facts, plain data, read by
//! the rules.
//!
//! - [`App`]s (Flask / FastAPI, also made by factories), their [`AppConfig`]
//!   (resolved across files and classes, the production class chosen with a
//!   recorded reason), [`Extension`]s with their options, [`Blueprint`]s and
//!   where they are registered, [`Route`]s with full paths and decorators,
//!   [`ErrorHandler`]s, where the session cookie is written;
//! - [`Deployment`]: servers and worker counts, proxies in front, the container.
//!
//! Every value keeps its [`Span`] so rules can point at the exact line. What
//! cannot be known statically is `None`/unknown, and rules stay silent on it.

mod admin_views;
pub(crate) mod apps;
mod auth;
mod blueprint_discovery;
pub(crate) mod blueprints;
pub mod calls;
mod class_views;
mod config;
pub mod cors;
mod deployment;
mod extension_views;
mod extensions;
mod fab_views;
mod fastapi_users;
pub mod flow;
pub mod headers;
pub mod index;
mod limits;
mod openapi_routes;
pub use openapi_routes::requires_spec_credentials;
pub mod pydantic_settings;
mod resources;
mod route_factories;
mod routes;
mod sessions;
mod spread;
mod url_rules;

pub use config::{
    is_config_key, AppConfig, ConfigEntry, ConfigOpening, ConfigVia, Overrider, OverriderKind,
    ProductionChoice,
};
pub use deployment::{
    compose_service, development_command, development_file, exposure, Deployment, Exposure,
    ProxyEvidence, ProxyKind, WorkerSource,
};
pub use extensions::{ExtKind, ExtOption, Extension};
pub use resources::{
    is_api_resource_method, is_restx_payload, is_restx_resource_method, restx_object,
};
pub use routes::{Decorator, ErrorHandler, Provider, Route};

use crate::{
    deploy::DeployFacts,
    discover::FileKind,
    python::{facts::PyFacts, value::Site},
    source::{FileId, SourceFile, Span},
};
use index::{Index, Resolver, Target};

pub type AppId = usize;
pub type BlueprintId = usize;
pub type ExtId = usize;

/// One file of the run.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub source: SourceFile,
    pub kind: FileKind,
    pub is_test: bool,
    pub gitignored: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    Flask,
    FastApi,
}

#[derive(Debug, Clone)]
pub struct App {
    pub id: AppId,
    pub kind: AppKind,
    /// The `Flask(...)` / `FastAPI(...)` call (absence findings point here).
    pub site: Site,
    pub span: Span,
    /// The factory function that creates it (`orders.create_app`).
    pub factory: Option<String>,
    pub config: AppConfig,
    /// Wrappers assigned to `app.wsgi_app` (ProxyFix, DebuggedApplication) are
    /// extensions of kind ProxyFix / Debugger bound to this app.
    pub extensions: Vec<ExtId>,
    /// The framework answers HTTP errors in JSON itself: APIFlask's
    /// `APIFlask(...)` does unless `json_errors=False`.
    pub json_errors: bool,
    /// The app of the project this one is mounted into with Starlette's
    /// `parent.mount("/sub", app)`: the parent's middleware (host checks,
    /// headers, limits) wraps its requests, and the app-level absence
    /// findings belong to the parent.
    pub mounted_in: Option<AppId>,
    /// An earlier app bound to the same module-level name (`if debug: app =
    /// FastAPI(debug=True)` / `else: app = FastAPI()`): the name, and with
    /// it every use of the app, refers to that one; this one is the same
    /// app made another way.
    pub same_as: Option<AppId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlueprintKind {
    /// flask.Blueprint
    Blueprint,
    /// fastapi.APIRouter
    Router,
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub parent: Parent,
    /// `url_prefix=` / `prefix=` at registration.
    pub prefix: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    App(AppId),
    Blueprint(BlueprintId),
}

#[derive(Debug, Clone)]
pub struct Blueprint {
    pub id: BlueprintId,
    pub kind: BlueprintKind,
    pub site: Site,
    pub span: Span,
    /// The blueprint's name (endpoint prefix).
    pub name: String,
    /// `url_prefix=` (Blueprint) / `prefix=` (APIRouter) at creation.
    pub prefix: Option<String>,
    pub registrations: Vec<Registration>,
    /// Passed to a `register_blueprint` / `include_router` call on something
    /// that is not an app or blueprint we know (flask-smorest's `Api`, an app
    /// we cannot resolve): registered, where is unknown.
    pub registered_elsewhere: bool,
}

/// The whole model.
#[derive(Debug)]
pub struct Project {
    pub files: Vec<ProjectFile>,
    /// Facts per file id (None: not Python, test code not audited, or unparsable).
    pub py: Vec<Option<PyFacts>>,
    pub deploy: DeployFacts,
    pub apps: Vec<App>,
    pub blueprints: Vec<Blueprint>,
    pub extensions: Vec<Extension>,
    /// Routes an app serves (or may serve: their owner is not known).
    pub routes: Vec<Route>,
    /// Routes of blueprints and routers that no app registers (marked
    /// [`Route::unregistered`]): listed by `--routes`, not audited. Empty when
    /// the project registers blueprints it names dynamically.
    pub unregistered_routes: Vec<Route>,
    pub error_handlers: Vec<ErrorHandler>,
    /// Writes to the cookie session (`session[...] = ...`, `login_user(...)`).
    pub session_writes: Vec<Span>,
    /// The session writes that record who is logged in (`session["user_id"]
    /// = ...`, `login_user(...)`): the app authenticates with the cookie.
    pub login_writes: Vec<Span>,
    /// Response headers the code sets (`resp.headers[...] = ...`).
    pub header_writes: Vec<headers::HeaderWrite>,
    pub deployment: Deployment,
    pub index: Index,
    /// Paths git tracks, when the audited root is a git checkout.
    pub git_tracked: Option<std::collections::BTreeSet<String>>,
    /// Calls bucketed by the last name of their callee.
    pub calls: calls::CallIndex,
    /// The directory the audited paths have in common (files the Python
    /// code names, such as connexion's OpenAPI specifications, are read
    /// from it); None in tests that build a model from facts alone.
    pub root: Option<std::path::PathBuf>,
}

impl Project {
    pub fn build(
        files: Vec<ProjectFile>,
        py: Vec<Option<PyFacts>>,
        deploy: DeployFacts,
        production_override: Option<&str>,
        root: Option<&std::path::Path>,
    ) -> Project {
        // Independent passes over every file's facts.
        let rels: Vec<&str> = files.iter().map(|f| f.source.rel.as_str()).collect();
        let (index, calls) =
            rayon::join(|| Index::build(&py, &rels), || calls::CallIndex::build(&py));
        drop(rels);
        let mut project = Project {
            files,
            py,
            deploy,
            apps: Vec::new(),
            blueprints: Vec::new(),
            extensions: Vec::new(),
            routes: Vec::new(),
            unregistered_routes: Vec::new(),
            error_handlers: Vec::new(),
            session_writes: Vec::new(),
            login_writes: Vec::new(),
            header_writes: Vec::new(),
            deployment: Deployment::default(),
            index,
            git_tracked: None,
            calls,
            root: root.map(std::path::Path::to_path_buf),
        };
        apps::find_apps(&mut project);
        apps::find_mounts(&mut project);
        extensions::find_extensions(&mut project);
        config::resolve_configs(&mut project, production_override);
        routes::find_blueprints_and_routes(&mut project);
        project.header_writes = headers::find_header_writes(&project);
        auth::find_auth(&mut project);
        deployment::build(&mut project);
        project
    }

    pub fn resolver(&self) -> Resolver<'_> {
        Resolver {
            py: &self.py,
            index: &self.index,
            budget: std::cell::Cell::new(0),
        }
    }

    pub fn file(&self, id: FileId) -> Option<&ProjectFile> {
        self.files.get(id as usize)
    }

    pub fn source(&self, id: FileId) -> Option<&SourceFile> {
        self.file(id).map(|f| &f.source)
    }

    /// A report location for a span.
    pub fn location(&self, span: Span) -> report::Location {
        match self.source(span.file) {
            Some(f) => report::Location::File(f.location(span.range())),
            None => report::Location::File(report::FileLocation::point("?", 1, 1)),
        }
    }

    /// `path:line` of a span, for messages and related locations.
    pub fn describe(&self, span: Span) -> String {
        match self.source(span.file) {
            Some(f) => format!("{}:{}", f.rel, f.line_of(span.range().start())),
            None => "?".into(),
        }
    }

    /// Python facts with their file ids.
    /// Calls whose callee's last name is one of `names` (which must be in
    /// [`calls::INDEXED_NAMES`]), in file and fact order.
    pub fn calls_named(
        &self,
        names: &[&str],
    ) -> Vec<(FileId, &PyFacts, &crate::python::facts::CallFact)> {
        debug_assert!(
            names.iter().all(|n| calls::INDEXED_NAMES.contains(n)),
            "{names:?}"
        );
        self.calls.named(&self.py, names)
    }

    pub fn python(&self) -> impl Iterator<Item = (FileId, &PyFacts)> {
        self.py
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (i as FileId, f)))
    }

    /// The app an object (site) is, if any.
    pub fn app_at(&self, site: Site) -> Option<AppId> {
        self.apps.iter().find(|a| a.site == site).map(|a| a.id)
    }

    /// The apps that answer requests on their own, for the app-level absence
    /// findings: not mounted into another app of the project, not another
    /// binding of an earlier app's name ([`App::same_as`]), and not a
    /// module-level app that nothing uses (no route, blueprint or mounted app
    /// of its own, no code that touches it, no module that imports it: a
    /// leftover `app = Flask(__name__)` in a helper module).
    pub fn standalone_apps(&self) -> impl Iterator<Item = &App> + '_ {
        self.apps
            .iter()
            .filter(move |a| a.mounted_in.is_none() && a.same_as.is_none() && !self.unused_app(a))
    }

    /// A module-level app that serves nothing and that no code uses.
    fn unused_app(&self, app: &App) -> bool {
        if app.factory.is_some()
            || self.routes.iter().any(|r| r.app == Some(app.id))
            || self.apps.iter().any(|a| a.mounted_in == Some(app.id))
            || self.blueprints.iter().any(|b| {
                b.registrations
                    .iter()
                    .any(|r| r.parent == Parent::App(app.id))
            })
            || !app.extensions.is_empty()
            || self.extensions.iter().any(|e| e.app == Some(app.id))
            || !app.config.entries.is_empty()
            || app.config.incomplete
            // Only beside an app that serves routes: a project of bare apps
            // is judged as it is.
            || !self
                .routes
                .iter()
                .any(|r| r.app.is_some_and(|a| a != app.id))
        {
            return false;
        }
        let file = app.site.file;
        let Some(facts) = self.py.get(file as usize).and_then(Option::as_ref) else {
            return false;
        };
        // The name it is bound to.
        let Some(name) = facts.assigns.iter().find_map(|a| {
            let r = a.target.reference()?;
            (a.scope == 0 && a.value.range == app.span.range() && r.attrs.is_empty())
                .then(|| r.qualified())
                .flatten()
        }) else {
            return false;
        };
        let module = facts.module.as_str();
        // Its own file, and the files that import it, its module or a
        // package above it.
        let reaches = |imp: &crate::python::facts::ImportFact| {
            let q = imp.qualified.as_str();
            q == name || module == q || module.starts_with(&format!("{q}."))
        };
        let resolver = self.resolver();
        let touches = |f: FileId, v: &crate::python::value::Value| matches!(resolver.resolve(f, v).target, Target::Object(site) if site == app.site);
        for (f, other) in self.python() {
            // Imported by name: handed to a server or a dispatcher.
            if f != file
                && other
                    .imports
                    .iter()
                    .any(|imp| imp.qualified.as_str() == name)
            {
                return false;
            }
            if f != file && !other.imports.iter().any(reaches) {
                continue;
            }
            for call in &other.calls {
                let c = call.call();
                if f == file && call.range() == app.span.range() {
                    continue;
                }
                let used = c.receiver().is_some_and(|r| touches(f, &r))
                    || c.args.iter().any(|a| touches(f, a))
                    || c.kwargs.iter().any(|(_, v)| touches(f, v));
                if used {
                    return false;
                }
            }
            // `@app.after_request`, `@app.errorhandler(404)`.
            if other
                .functions
                .iter()
                .any(|func| func.decorators.iter().any(|d| touches(f, d)))
            {
                return false;
            }
            for a in &other.assigns {
                let target_is_app = a.target.reference().is_some_and(|r| {
                    r.attrs.is_empty() && r.qualified().as_deref() == Some(name.as_str())
                });
                let target_base = match &a.target.kind {
                    crate::python::value::Kind::Subscript(base, _) => base.as_ref(),
                    _ => &a.target,
                };
                if !target_is_app && (touches(f, &a.value) || touches(f, target_base)) {
                    return false;
                }
            }
        }
        true
    }

    /// The app a value in `file` refers to: resolved when possible; when the
    /// project has exactly one app, values that cannot be resolved are taken to be
    /// it only if `fallback` is set.
    pub fn app_of(
        &self,
        file: FileId,
        v: &crate::python::value::Value,
        fallback: bool,
    ) -> Option<AppId> {
        let r = self.resolver().resolve(file, v);
        match r.target {
            // `app = create_app()` is resolved to the factory's object already.
            Target::Object(site) if r.attrs.is_empty() => self.app_at(site),
            Target::Unknown if fallback && self.apps.len() == 1 => Some(0),
            _ => None,
        }
    }

    /// Whether the `if` conditions around a fact hold in production for `app`
    /// (`if app.debug:` with the production DEBUG, `if env == "production":`).
    /// None: unknown.
    pub fn guard_in_production(
        &self,
        app: Option<AppId>,
        file: FileId,
        guard: crate::python::facts::GuardId,
    ) -> Option<bool> {
        let empty = AppConfig::default();
        let (id, cfg) = match app.and_then(|a| self.apps.get(a)) {
            Some(a) => (a.id, &a.config),
            None => (usize::MAX, &empty),
        };
        config::guard_truth(self, id, cfg, file, guard)
    }

    /// The single app of the project, when there is exactly one.
    pub fn only_app(&self) -> Option<&App> {
        match self.apps.as_slice() {
            [a] => Some(a),
            _ => None,
        }
    }

    pub fn extensions_of(&self, app: AppId, kind: ExtKind) -> impl Iterator<Item = &Extension> {
        self.extensions
            .iter()
            .filter(move |e| e.kind == kind && e.app == Some(app))
    }

    pub fn has_extension(&self, kind: ExtKind) -> bool {
        self.extensions.iter().any(|e| e.kind == kind)
    }
}
