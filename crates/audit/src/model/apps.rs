//! Finding the applications: every `Flask(...)` / `FastAPI(...)` call in audited
//! code, with the factory function that makes it.

use super::{config::AppConfig, App, AppKind, Project};
use crate::{python::value::Site, source::Span};

/// Dotted names of application classes.
pub const APP_CTORS: &[(&str, AppKind)] = &[
    ("flask.Flask", AppKind::Flask),
    ("flask.app.Flask", AppKind::Flask),
    ("quart.Quart", AppKind::Flask),
    ("fastapi.FastAPI", AppKind::FastApi),
    ("fastapi.applications.FastAPI", AppKind::FastApi),
];

pub fn find_apps(project: &mut Project) {
    let resolver = project.resolver();
    let mut apps = Vec::new();
    for (file, facts, call) in project.calls_named(&["Flask", "Quart", "FastAPI"]) {
        let r = resolver.resolve(file, &call.call().func);
        let Some(name) = r.external_name() else {
            continue;
        };
        let Some(&(_, kind)) = APP_CTORS.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let factory = facts
            .function_of(call.scope)
            .map(|f| f.qualified.to_string());
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
        });
    }
    project.apps = apps;
}
