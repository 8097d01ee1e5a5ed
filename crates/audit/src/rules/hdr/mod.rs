//! HDR — security headers.
//!
//! Shared here: the Talisman extensions of the project, what counts as a
//! header mechanism (Talisman, a header library, code that writes security
//! headers, nginx `add_header`), and Content-Security-Policy parsing.

pub mod csp;
pub mod hdr001_hsts;
pub mod hdr002_csp;
pub mod hdr003_frame_options;
pub mod hdr004_nosniff;
pub mod hdr005_referrer_policy;
pub mod hdr008_no_header_mechanism;

use crate::{
    model::{headers::SECURITY_HEADERS, App, ExtKind, Extension, Project},
    source::Span,
};

/// Packages whose only job is setting security headers (Python module names).
const HEADER_LIBRARIES: &[&str] = &[
    "secure",
    "secweb",
    "flask_secure_headers",
    "secure_headers",
    "fastapi_security_headers",
    "starlette_securityheaders",
];

/// Talisman extensions: every one in the project (their options are checked
/// wherever they are initialised).
pub fn talismans(project: &Project) -> impl Iterator<Item = &Extension> {
    project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::Talisman)
}

/// Whether a Talisman may apply to `app`: bound to it, or bound to nothing we
/// could resolve (then it counts for every app: absence rules stay silent).
pub fn talisman_covers(project: &Project, app: &App) -> bool {
    talismans(project).any(|e| e.app.is_none_or(|a| a == app.id))
}

/// The import of a header library (`secure`, `secweb`...), unless the project
/// has a module of that name itself.
pub fn header_library(project: &Project) -> Option<(Span, &str)> {
    for (file, facts) in project.python() {
        for imp in &facts.imports {
            let top = imp.qualified.split('.').next().unwrap_or("");
            if let Some(lib) = HEADER_LIBRARIES.iter().find(|l| **l == top) {
                if project.index.module_file(top).is_none() {
                    return Some((Span::new(file, imp.range), lib));
                }
            }
        }
    }
    None
}

/// An nginx `add_header` of one of `names` (lower case), in any conf.
pub fn nginx_header<'a>(project: &'a Project, names: &[&str]) -> Option<(Span, &'a str)> {
    project.deploy.nginx.iter().find_map(|n| {
        n.add_headers
            .iter()
            .find(|(name, _, _)| names.contains(&name.as_str()))
            .map(|(_, value, span)| (*span, value.as_str()))
    })
}

/// A string literal in the code that names one of `names` (lower case): code
/// that passes header names around (a dict of headers handed to a server,
/// Tornado transforms) most likely sets them.
pub fn mentioned_header(project: &Project, names: &[&str]) -> Option<(Span, String)> {
    project.python().find_map(|(file, facts)| {
        facts.strings.iter().find_map(|s| {
            let lower = s.value.to_ascii_lowercase();
            names
                .contains(&lower.as_str())
                .then(|| (Span::new(file, s.range), s.value.to_string()))
        })
    })
}

/// Where the code or the proxy sets security headers by itself, if anywhere:
/// a write of a security header, a hook that writes headers whose names are
/// not literal, a security header's name in the code, a header library, or
/// nginx `add_header`.
pub fn other_header_mechanism(project: &Project) -> Option<(Span, String)> {
    if let Some(w) = project
        .header_writes
        .iter()
        .find(|w| w.is_security_header() || (w.in_hook && w.name.is_none()))
    {
        let what = match &w.name {
            Some(n) => format!("the code sets `{n}`"),
            None => "a response hook sets headers".to_string(),
        };
        return Some((w.span, what));
    }
    if let Some((span, name)) = mentioned_header(project, SECURITY_HEADERS) {
        return Some((span, format!("the code names `{name}`")));
    }
    if let Some((span, lib)) = header_library(project) {
        return Some((span, format!("the `{lib}` package")));
    }
    nginx_header(project, SECURITY_HEADERS)
        .map(|(span, _)| (span, "nginx adds security headers".to_string()))
}
