//! Flask-Admin views, as Flask-Admin registers them: an `Admin(app, url=...,
//! index_view=...)` object and the views given to `admin.add_view(...)` /
//! `admin.add_views(...)`.
//!
//! - every method of a view class (and of its project base classes) decorated
//!   with `@expose(url, methods=...)` is a route at the admin's URL, the view's
//!   URL and the exposed URL (`/admin/login/`);
//! - a model view (a subclass of one of Flask-Admin's `ModelView`s) also
//!   serves Flask-Admin's own list, create, edit and delete views (`/new/`,
//!   `/edit/`, `/delete/`, `/action/`; `/details/` and `/export/` when enabled),
//!   unless the class turns them off (`can_create = False`...); a file admin
//!   (`FileAdmin`, `S3FileAdmin`...) serves its file manager (`/upload/`,
//!   `/delete/`, `/rename/`, `/mkdir/`, `/download/...`; `/edit/` with
//!   `editable_extensions`) the same way;
//! - the view's URL is its `url=` (relative to the admin's URL unless it starts
//!   with `/`), else the admin's URL and the view's endpoint: `endpoint=`, else
//!   the model's class name (model views) or the view class's name, lower case;
//!   an index view serves the admin's URL itself;
//! - a view class that overrides `is_accessible` with anything but `return
//!   True` decides who may use it (Flask-Admin answers 403, or the view's
//!   `inaccessible_callback`, when it refuses): `model::auth` reads it as the
//!   class's guard, as it reads other class-based views.

use super::{index::Target, routes::Decorator, AppId, Project, Route};
use crate::{
    python::{
        facts::{ClassFact, FunctionFact},
        value::{Call, Site, Value},
    },
    source::{FileId, Span},
};

/// The `Admin` class, by its dotted names.
const ADMIN_CLASSES: &[&str] = &["flask_admin.Admin", "flask_admin.base.Admin"];

/// Base classes that make a view a model view with Flask-Admin's own CRUD
/// routes (the dotted name ends with one of these).
fn is_model_view_base(name: &str) -> bool {
    name.starts_with("flask_admin.")
        && (name.ends_with(".ModelView") || name.ends_with(".BaseModelView"))
}

/// Base classes that make a view a file manager with Flask-Admin's own
/// upload, delete, rename and mkdir routes (`FileAdmin`, `S3FileAdmin`...).
fn is_file_admin_base(name: &str) -> bool {
    name.starts_with("flask_admin.") && name.ends_with("FileAdmin")
}

/// Which of Flask-Admin's built-in view families a view class belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    None,
    Model,
    File,
}

impl Builtin {
    fn of(name: &str) -> Builtin {
        if is_model_view_base(name) {
            Builtin::Model
        } else if is_file_admin_base(name) {
            Builtin::File
        } else {
            Builtin::None
        }
    }

    fn routes(self) -> &'static [ModelViewRoute] {
        match self {
            Builtin::None => &[],
            Builtin::Model => MODEL_VIEW_ROUTES,
            Builtin::File => FILE_ADMIN_ROUTES,
        }
    }
}

/// One of Flask-Admin's model-view routes: (method, url, HTTP methods,
/// enabled by default, the class attribute that turns it on or off).
type ModelViewRoute = (
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
    Option<&'static str>,
);

const MODEL_VIEW_ROUTES: &[ModelViewRoute] = &[
    ("index_view", "/", &["GET"], true, None),
    (
        "create_view",
        "/new/",
        &["GET", "POST"],
        true,
        Some("can_create"),
    ),
    (
        "edit_view",
        "/edit/",
        &["GET", "POST"],
        true,
        Some("can_edit"),
    ),
    (
        "details_view",
        "/details/",
        &["GET"],
        false,
        Some("can_view_details"),
    ),
    (
        "delete_view",
        "/delete/",
        &["POST"],
        true,
        Some("can_delete"),
    ),
    ("action_view", "/action/", &["POST"], true, None),
    (
        "export",
        "/export/<export_type>/",
        &["GET"],
        false,
        Some("can_export"),
    ),
];

/// The routes of Flask-Admin's `BaseFileAdmin` (Flask-Admin 1.5 to 2.0): a
/// file manager of a directory, each operation on unless its `can_*` is off;
/// editing needs `editable_extensions`.
const FILE_ADMIN_ROUTES: &[ModelViewRoute] = &[
    ("index_view", "/", &["GET"], true, None),
    ("index_view", "/b/<path:path>", &["GET"], true, None),
    (
        "upload",
        "/upload/",
        &["GET", "POST"],
        true,
        Some("can_upload"),
    ),
    (
        "upload",
        "/upload/<path:path>",
        &["GET", "POST"],
        true,
        Some("can_upload"),
    ),
    (
        "download",
        "/download/<path:path>",
        &["GET"],
        true,
        Some("can_download"),
    ),
    (
        "mkdir",
        "/mkdir/",
        &["GET", "POST"],
        true,
        Some("can_mkdir"),
    ),
    (
        "mkdir",
        "/mkdir/<path:path>",
        &["GET", "POST"],
        true,
        Some("can_mkdir"),
    ),
    ("delete", "/delete/", &["POST"], true, Some("can_delete")),
    (
        "rename",
        "/rename/",
        &["GET", "POST"],
        true,
        Some("can_rename"),
    ),
    (
        "edit",
        "/edit/",
        &["GET", "POST"],
        false,
        Some("editable_extensions"),
    ),
    // Its only built-in action is the delete of the selected files.
    (
        "action_view",
        "/action/",
        &["POST"],
        true,
        Some("can_delete"),
    ),
];

struct Admin {
    site: Site,
    app: Option<AppId>,
    /// `url=` of the `Admin(...)`, `/admin` by default.
    url: String,
}

/// A view class with its project bases, nearest first, and whether one of
/// them derives from a Flask-Admin model view.
struct ViewClass<'a> {
    chain: Vec<(FileId, &'a ClassFact)>,
    builtin: Builtin,
}

impl<'a> ViewClass<'a> {
    fn of(project: &'a Project, class: &str) -> Option<ViewClass<'a>> {
        let mut builtin = Builtin::None;
        let chain = super::class_views::class_chain(project, class, |r| {
            if let Some(n) = r.external_name() {
                if builtin == Builtin::None {
                    builtin = Builtin::of(&n);
                }
            }
        });
        (!chain.is_empty()).then_some(ViewClass { chain, builtin })
    }

    /// Every method name of the class and its bases, nearest definition first.
    fn methods(&self, project: &'a Project) -> Vec<(FileId, &'a FunctionFact)> {
        let resolver = project.resolver();
        let mut out: Vec<(FileId, &'a FunctionFact)> = Vec::new();
        for (file, class) in &self.chain {
            let Some(facts) = resolver.facts(*file) else {
                continue;
            };
            for f in &facts.functions {
                if f.method_of.as_deref() == Some(class.qualified.as_str())
                    && !out.iter().any(|(_, g)| g.name == f.name)
                {
                    out.push((*file, f));
                }
            }
        }
        out
    }

    fn attr(&self, name: &str) -> Option<&'a Value> {
        self.chain
            .iter()
            .find_map(|(_, class)| class.attr(name).map(|a| &a.value))
    }
}

/// The `Admin(...)` objects and the app each is bound to (by its first
/// argument / `app=`, or `admin.init_app(app)`).
fn admins(project: &Project) -> Vec<Admin> {
    let resolver = project.resolver();
    let mut out = Vec::new();
    for (file, _, call) in project.calls_named(&["Admin"]) {
        let c = call.call();
        let Some(name) = resolver.resolve(file, &c.func).external_name() else {
            continue;
        };
        if !ADMIN_CLASSES.contains(&name.as_str()) {
            continue;
        }
        out.push(Admin {
            site: Site {
                file,
                offset: call.range().start().into(),
            },
            app: c
                .param(0, "app")
                .and_then(|a| project.app_of(file, a, true)),
            url: c
                .kwarg("url")
                .and_then(Value::as_str)
                .unwrap_or("/admin")
                .to_string(),
        });
    }
    if out.iter().any(|a| a.app.is_none()) {
        for (file, _, call) in project.calls_named(&["init_app"]) {
            let c = call.call();
            let Some(recv) = c.receiver() else { continue };
            let r = resolver.resolve(file, &recv);
            let (Target::Object(site), true) = (r.target, r.attrs.is_empty()) else {
                continue;
            };
            if let Some(a) = out.iter_mut().find(|a| a.site == site && a.app.is_none()) {
                a.app = c
                    .param(0, "app")
                    .and_then(|v| project.app_of(file, v, true));
            }
        }
    }
    out
}

/// The call that creates a view instance given as `v`: written in place
/// (`admin.add_view(UserView(User, db.session))`) or bound to a name first.
fn view_call<'p>(project: &'p Project, file: FileId, v: &'p Value) -> Option<(Span, &'p Call)> {
    if let Some(c) = v.as_call() {
        return Some((Span::new(file, v.range), c));
    }
    let resolver = project.resolver();
    let r = resolver.resolve(file, v);
    let (Target::Object(site), true) = (r.target, r.attrs.is_empty()) else {
        return None;
    };
    resolver
        .call(site)
        .map(|c| (Span::new(site.file, c.range()), c.call()))
}

/// The URL a view serves under (Flask-Admin's `BaseView._get_view_url`).
fn view_url(admin_url: &str, endpoint: &str, url: Option<&str>, index: bool) -> String {
    match url {
        Some(u) if u.starts_with('/') => u.to_string(),
        Some(u) => super::blueprints::join_paths(admin_url, u),
        None if index => admin_url.to_string(),
        None if admin_url.trim_end_matches('/').is_empty() => format!("/{endpoint}"),
        None => super::blueprints::join_paths(admin_url, endpoint),
    }
}

/// The routes Flask-Admin views serve.
pub(super) fn find(project: &Project, auth_words: &[&str], routes: &mut Vec<Route>) {
    let admins = admins(project);
    if admins.is_empty() {
        return;
    }
    let resolver = project.resolver();
    // (admin, the view's constructor call and where it is, is the index view)
    let mut views: Vec<(&Admin, Span, &Call, bool)> = Vec::new();
    for admin in &admins {
        let Some(call) = resolver.call(admin.site) else {
            continue;
        };
        if let Some((f, c)) = call
            .call()
            .kwarg("index_view")
            .and_then(|v| view_call(project, admin.site.file, v))
        {
            views.push((admin, f, c, true));
        }
    }
    for (file, _, call) in project.calls_named(&["add_view", "add_views"]) {
        let c = call.call();
        let Some(recv) = c.receiver() else { continue };
        let r = resolver.resolve(file, &recv);
        let (Target::Object(site), true) = (r.target, r.attrs.is_empty()) else {
            continue;
        };
        let Some(admin) = admins.iter().find(|a| a.site == site) else {
            continue;
        };
        let args: Vec<&Value> = match c.last_name() {
            Some("add_view") => c.param(0, "view").into_iter().collect(),
            _ => c.args.iter().collect(),
        };
        for a in args {
            if let Some((f, vc)) = view_call(project, file, a) {
                views.push((admin, f, vc, false));
            }
        }
    }
    for (admin, span, ctor, index) in views {
        let file = span.file;
        // A project view class, or one of Flask-Admin's model views used as
        // it is (`admin.add_view(ModelView(User, db.session))`).
        let resolved = resolver.resolve(file, &ctor.func);
        let view = match &resolved.target {
            Target::Class(class) => ViewClass::of(project, class),
            _ => resolved
                .external_name()
                .map(|n| Builtin::of(&n))
                .filter(|b| *b != Builtin::None)
                .map(|builtin| ViewClass {
                    chain: Vec::new(),
                    builtin,
                }),
        };
        let Some(view) = view else {
            continue;
        };
        // The class's dotted and short names, and where its built-in views
        // are reported: its `def` line, or the constructor call of a
        // Flask-Admin class.
        let (class_qualified, class_name, builtin_span) = match view.chain.first() {
            Some((cfile, c)) => (
                c.qualified.to_string(),
                c.name.to_string(),
                Span::new(*cfile, c.name_range),
            ),
            None => {
                let q = resolved.external_name().unwrap_or_default();
                let short = q.rsplit('.').next().unwrap_or(&q).to_string();
                (q, short, span)
            }
        };
        let endpoint = match ctor.kwarg("endpoint").and_then(Value::as_str) {
            Some(e) => e.to_string(),
            None if index => "admin".to_string(),
            None if view.builtin == Builtin::Model => ctor
                .param(0, "model")
                .map(|m| match resolver.resolve(file, m).target {
                    Target::Class(q) => q.rsplit('.').next().unwrap_or(&q).to_string(),
                    _ => m
                        .render()
                        .rsplit('.')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                })
                .unwrap_or_else(|| class_name.clone())
                .to_ascii_lowercase(),
            None => class_name.to_ascii_lowercase(),
        };
        let base_url = view_url(
            &admin.url,
            &endpoint,
            ctor.kwarg("url").and_then(Value::as_str),
            index,
        );
        let mut route = |name: &str,
                         rule: &str,
                         methods: Vec<String>,
                         def_span: Span,
                         decorators: Vec<Decorator>,
                         auth: Vec<String>| {
            routes.push(Route {
                app: admin.app,
                blueprint: None,
                methods,
                rule: super::blueprints::join_paths(&base_url, rule),
                path: None,
                endpoint: format!("{endpoint}.{name}"),
                function: format!("{class_qualified}.{name}"),
                class: Some(class_qualified.clone()),
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
        let mut exposed: Vec<String> = Vec::new();
        for (ffile, f) in view.methods(project) {
            let mut rules: Vec<(String, Vec<String>)> = Vec::new();
            let mut decorators = Vec::new();
            let mut auth = Vec::new();
            for d in &f.decorators {
                let callee = d.as_call().map_or(d, |c| &c.func);
                let is_expose = resolver
                    .resolve(ffile, callee)
                    .external_name()
                    .is_some_and(|n| n.starts_with("flask_admin.") && n.ends_with(".expose"));
                if is_expose {
                    let c = d.as_call();
                    let rule = c
                        .and_then(|c| c.param(0, "url"))
                        .and_then(Value::as_str)
                        .unwrap_or("/")
                        .to_string();
                    let methods =
                        super::routes::literal_methods(c.and_then(|c| c.param(1, "methods")))
                            .unwrap_or_else(|| vec!["GET".to_string()]);
                    rules.push((rule, methods));
                    continue;
                }
                auth.extend(super::routes::auth_decorator(
                    &resolver, ffile, d, auth_words,
                ));
                decorators.push(Decorator {
                    name: super::routes::decorator_name(&resolver, ffile, d),
                    value: d.clone(),
                    span: Span::new(ffile, d.range),
                });
            }
            if rules.is_empty() {
                continue;
            }
            exposed.push(f.name.to_string());
            for (rule, methods) in rules {
                route(
                    &f.name,
                    &rule,
                    methods,
                    Span::new(ffile, f.name_range),
                    decorators.clone(),
                    auth.clone(),
                );
            }
        }
        for (name, rule, methods, default, switch) in view.builtin.routes() {
            // The class exposes its own version, or defines the method
            // without exposing it (then Flask-Admin's stays, read as its own).
            if exposed.iter().any(|e| e == name) {
                continue;
            }
            let on = switch
                .and_then(|s| view.attr(s))
                .and_then(|v| match v.as_seq() {
                    // `editable_extensions = ("md", "txt")`
                    Some(items) => Some(!items.is_empty()),
                    None => v.as_bool(),
                })
                .unwrap_or(*default);
            if !on {
                continue;
            }
            route(
                name,
                rule,
                methods.iter().map(|m| m.to_string()).collect(),
                builtin_span,
                Vec::new(),
                Vec::new(),
            );
        }
    }
}

/// Whether a method is a Flask-Admin or Flask-AppBuilder view: decorated with
/// `@expose(...)`.
pub(super) fn is_exposed(project: &Project, file: FileId, f: &FunctionFact) -> bool {
    if f.decorators.is_empty() {
        return false;
    }
    let resolver = project.resolver();
    f.decorators.iter().any(|d| {
        let callee = d.as_call().map_or(d, |c| &c.func);
        resolver
            .resolve(file, callee)
            .external_name()
            .is_some_and(|n| {
                (n.starts_with("flask_admin.") && n.ends_with(".expose"))
                    || super::fab_views::is_fab_expose(&n)
            })
    })
}
