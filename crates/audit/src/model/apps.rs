//! Finding the applications: every `Flask(...)` / `FastAPI(...)` call in audited
//! code, and every call of a project class derived from one (`class
//! SupersetApp(Flask)`), with the factory function that makes it.

use std::collections::HashMap;

use super::{config::AppConfig, App, AppId, AppKind, Project};
use crate::{
    python::{
        facts::{CallFact, PyFacts},
        value::{Kind, Site},
    },
    source::{FileId, Span},
};

/// Dotted names of application classes.
pub const APP_CTORS: &[(&str, AppKind)] = &[
    ("flask.Flask", AppKind::Flask),
    ("flask.app.Flask", AppKind::Flask),
    ("quart.Quart", AppKind::Flask),
    // APIFlask is a Flask subclass: same routes, config and extensions, plus
    // `@app.input` / `@app.output` / `@app.auth_required` and JSON errors.
    ("apiflask.APIFlask", AppKind::Flask),
    ("apiflask.app.APIFlask", AppKind::Flask),
    ("fastapi.FastAPI", AppKind::FastApi),
    ("fastapi.applications.FastAPI", AppKind::FastApi),
    // connexion's Flask-based apps: `connexion.App(__name__,
    // specification_dir=...)` builds a Flask app (its `.app`) and forwards
    // `route`, `run` and the WSGI calls to it.
    ("connexion.App", AppKind::Flask),
    ("connexion.FlaskApp", AppKind::Flask),
    ("connexion.apps.flask_app.FlaskApp", AppKind::Flask),
    ("connexion.apps.flask.FlaskApp", AppKind::Flask),
];

/// APIFlask's application class, which answers HTTP errors in JSON.
const APIFLASK_CTORS: &[(&str, ())] = &[("apiflask.APIFlask", ()), ("apiflask.app.APIFlask", ())];

fn is_apiflask(dotted: &str, subclasses: &HashMap<String, ()>) -> bool {
    APIFLASK_CTORS.iter().any(|(n, _)| *n == dotted) || subclasses.contains_key(dotted)
}

/// Whether a dotted class name is one of connexion's Flask-based apps.
pub fn is_connexion_app(dotted: &str) -> bool {
    dotted.starts_with("connexion.")
        && APP_CTORS
            .iter()
            .any(|(n, k)| *n == dotted && *k == AppKind::Flask)
}

pub fn find_apps(project: &mut Project) {
    let resolver = project.resolver();
    let mut apps = Vec::new();
    let subclasses = derived_classes(project, APP_CTORS);
    let subclasses_of_apiflask = derived_classes(project, APIFLASK_CTORS);
    let mut calls =
        project.calls_named(&["Flask", "Quart", "FastAPI", "App", "FlaskApp", "APIFlask"]);
    add_calls_of(project, &subclasses, &mut calls);
    for (file, facts, call) in calls {
        let r = resolver.resolve(file, &call.call().func);
        let Some(name) = r.external_name() else {
            continue;
        };
        let kind = APP_CTORS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
            .or_else(|| subclasses.get(&name).copied());
        let Some(kind) = kind else {
            continue;
        };
        // `OAuth(Flask(__name__))`, `DispatcherMiddleware(Flask("dummy"), ...)`,
        // `Request({"app": FastAPI(), ...})`: an app made only to be handed to
        // another object, or put in a literal handed to one, serves nothing
        // itself.
        if is_argument(facts, call.range()) {
            continue;
        }
        let factory = facts
            .function_of(call.scope)
            .map(|f| f.qualified.to_string());
        let json_errors = is_apiflask(&name, &subclasses_of_apiflask)
            && !call
                .call()
                .kwarg("json_errors")
                .is_some_and(|v| matches!(v.kind, Kind::Bool(false)));
        apps.push(App {
            id: apps.len(),
            kind,
            site: Site {
                file,
                offset: call.range().start().into(),
            },
            span: Span::new(file, call.range()),
            factory,
            config: AppConfig::default(),
            extensions: Vec::new(),
            json_errors,
            mounted_in: None,
            same_as: None,
        });
    }
    mark_rebound(project, &mut apps);
    project.apps = apps;
}

/// Marks an app bound to the same module-level name as an earlier one of
/// the same file (`if debug: app = FastAPI(debug=True)` / `else: app =
/// FastAPI(docs_url=None)`): the name resolves to the first, which gets the
/// routes and middleware; the later one is the same app made another way.
fn mark_rebound(project: &Project, apps: &mut [App]) {
    let mut bound: Vec<(FileId, String, AppId)> = Vec::new();
    for app in apps.iter_mut() {
        let Some(facts) = project
            .py
            .get(app.site.file as usize)
            .and_then(Option::as_ref)
        else {
            continue;
        };
        let name = facts.assigns.iter().find_map(|a| {
            let r = a.target.reference()?;
            (a.scope == 0
                && a.value.range == app.span.range()
                && r.attrs.is_empty()
                && matches!(r.root, crate::python::value::Root::Global(_)))
            .then(|| format!("{:?}", r.root))
        });
        let Some(name) = name else { continue };
        match bound
            .iter()
            .find(|(f, n, _)| *f == app.site.file && *n == name)
        {
            Some(&(_, _, first)) => app.same_as = Some(first),
            None => bound.push((app.site.file, name, app.id)),
        }
    }
}

/// Marks the apps mounted into another app of the project with Starlette's
/// `parent.mount(path, app)` (or `parent.mount(path, WSGIMiddleware(app))`).
pub fn find_mounts(project: &mut Project) {
    if project.apps.len() < 2 {
        return;
    }
    let mut mounted: Vec<(AppId, AppId)> = Vec::new();
    for (file, _, call) in project.calls_named(&["mount"]) {
        let call = call.call();
        let Some(recv) = call.receiver() else {
            continue;
        };
        let Some(parent) = project.app_of(file, &recv, false) else {
            continue;
        };
        let Some(mut sub) = call.param(1, "app") else {
            continue;
        };
        // A WSGI app (Flask) mounted through `WSGIMiddleware(flask_app)`.
        if let Some(inner) = sub.as_call().filter(|c| {
            c.last_name() == Some("WSGIMiddleware")
                || project
                    .resolver()
                    .resolve(file, &c.func)
                    .external_name()
                    .is_some_and(|n| n.ends_with(".WSGIMiddleware"))
        }) {
            match inner.param(0, "app") {
                Some(v) => sub = v,
                None => continue,
            }
        }
        if let Some(child) = project.app_of(file, sub, false) {
            if child != parent {
                mounted.push((child, parent));
            }
        }
    }
    for (child, parent) in mounted {
        // Mounted into an app that is itself mounted into it: keep both.
        if project.apps[parent].mounted_in == Some(child) {
            continue;
        }
        project.apps[child].mounted_in.get_or_insert(parent);
    }
}

/// Project classes derived, directly or through other project classes, from
/// one of `roots` (dotted names of library classes): dotted name -> what the
/// root says (`class SupersetApp(Flask)`, `class IndicoBlueprint(Blueprint)`).
pub(crate) fn derived_classes<K: Copy>(
    project: &Project,
    roots: &[(&str, K)],
) -> HashMap<String, K> {
    let resolver = project.resolver();
    let resolver = &resolver;
    // Each class's bases, resolved once: (class, base names).
    let classes: Vec<(&str, Vec<String>)> = project
        .python()
        .flat_map(|(file, facts)| {
            facts
                .classes
                .iter()
                .filter(|c| !c.bases.is_empty())
                .map(move |c| {
                    let bases = c
                        .bases
                        .iter()
                        .filter_map(|b| resolver.resolve(file, b).external_name())
                        .collect();
                    (c.qualified.as_str(), bases)
                })
        })
        .collect();
    let mut out: HashMap<String, K> = HashMap::new();
    // One round per level of inheritance, bounded.
    for _ in 0..8 {
        let mut changed = false;
        for (class, bases) in &classes {
            if out.contains_key(*class) {
                continue;
            }
            let kind = bases.iter().find_map(|name| {
                roots
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, k)| *k)
                    .or_else(|| out.get(name).copied())
            });
            if let Some(kind) = kind {
                out.insert(class.to_string(), kind);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    out
}

/// Adds the calls whose callee's last name is one of `classes`' (to be
/// resolved by the caller), keeping `calls` in source order without repeats.
pub(super) fn add_calls_of<'p, K>(
    project: &'p Project,
    classes: &HashMap<String, K>,
    calls: &mut Vec<(FileId, &'p PyFacts, &'p CallFact)>,
) {
    if classes.is_empty() {
        return;
    }
    let short: Vec<&str> = classes
        .keys()
        .map(|q| q.rsplit('.').next().unwrap_or(q))
        .collect();
    for (file, facts) in project.python() {
        for call in &facts.calls {
            if call.call().last_name().is_some_and(|n| short.contains(&n)) {
                calls.push((file, facts, call));
            }
        }
    }
    calls.sort_by_key(|(file, _, call)| (*file, call.range().start()));
    calls.dedup_by_key(|(file, _, call)| (*file, call.range().start()));
}

/// Whether the call at `range` is written as an argument of another call, or
/// inside one (an item of a dict, list or tuple literal passed to it).
fn is_argument(facts: &PyFacts, range: ruff_text_size::TextRange) -> bool {
    // A name bound to the app carries the app's own range where it is used, so
    // the argument must also lie inside the outer call.
    facts.calls.iter().any(|c| {
        let call = c.call();
        c.range() != range
            && c.range().contains_range(range)
            && (call.args.iter().any(|a| a.range.contains_range(range))
                || call
                    .kwargs
                    .iter()
                    .any(|(_, v)| v.range.contains_range(range)))
    })
}
