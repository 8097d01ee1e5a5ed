//! Where the cookie session is written: `session[...] = ...`,
//! `session.update(...)`, Flask-Login's `login_user`.

use super::Project;
use crate::{python::value::Kind, source::Span};

pub(super) fn find_session_writes(project: &Project) -> Vec<Span> {
    let resolver = project.resolver();
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
    }
    for (file, _, call) in project.calls_named(&["login_user", "update", "setdefault"]) {
        let c = call.call();
        let Some(r) = c.func.reference() else {
            continue;
        };
        if r.last_name() != "login_user" && r.second_last_name() != Some("session") {
            continue;
        }
        let name = resolver.resolve(file, &c.func).external_name();
        match name.as_deref() {
            Some("flask_login.login_user" | "flask_login.utils.login_user") => {
                writes.push(Span::new(file, call.range()))
            }
            // `session.update()` with nothing to add writes nothing.
            Some(n)
                if n.starts_with("flask.session.")
                    && (n.ends_with(".update") || n.ends_with(".setdefault"))
                    && (!c.args.is_empty() || !c.kwargs.is_empty()) =>
            {
                writes.push(Span::new(file, call.range()))
            }
            _ => {}
        }
    }
    writes.sort();
    writes
}

fn is_session(name: Option<&str>) -> bool {
    matches!(
        name,
        Some("flask.session" | "flask.globals.session" | "quart.session")
    )
}
