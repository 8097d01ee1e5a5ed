//! Where a limiter keeps its counters: flask-limiter reads `storage_uri=` or the
//! `RATELIMIT_STORAGE_URI` config key (`RATELIMIT_STORAGE_URL` in older
//! releases) and defaults to `memory://`; slowapi takes `storage_uri=`.

use crate::{
    model::{ExtKind, Extension, Project},
    python::value::{env_lookup, Value},
    source::Span,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// In process memory; the span is where it is chosen (None: the default).
    Memory(Option<Span>),
    Shared,
    Unknown,
}

pub fn storage_of(project: &Project, ext: &Extension) -> Storage {
    if let Some(o) = ext.opt("storage_uri") {
        return of_value(project, o.file, &o.value, Some(o.span));
    }
    if ext.opaque {
        return Storage::Unknown;
    }
    if ext.kind == ExtKind::Limiter {
        let Some(app) = ext.app.and_then(|a| project.apps.get(a)) else {
            // Not bound to an app we know: its config is unknown.
            return if project.apps.is_empty() {
                Storage::Memory(None)
            } else {
                Storage::Unknown
            };
        };
        for key in ["RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_URL"] {
            if let Some(e) = app.config.get(key) {
                return of_value(project, e.file, &e.value, Some(e.span));
            }
        }
        if app.config.incomplete {
            return Storage::Unknown;
        }
    }
    Storage::Memory(None)
}

fn of_value(
    project: &Project,
    file: crate::source::FileId,
    v: &Value,
    span: Option<Span>,
) -> Storage {
    let (_, v) = project.resolver().deref(file, v);
    if let Some(s) = v.as_str() {
        return if s.starts_with("memory://") {
            Storage::Memory(span)
        } else {
            Storage::Shared
        };
    }
    if matches!(v.kind, crate::python::value::Kind::None) {
        return Storage::Memory(span);
    }
    if let Some(l) = env_lookup(v) {
        // Set by the environment in production: unknown here.
        let _ = l;
        return Storage::Unknown;
    }
    Storage::Unknown
}
