//! COR — cross-origin resource sharing.
//!
//! Shared here: every CORS policy in force (flask-cors `CORS` extensions that
//! are initialised, flask-cors `@cross_origin` decorators, Starlette's
//! `CORSMiddleware`) and what an origin pattern lets through.

pub mod cor001_wildcard_origin;
pub mod cor002_credentials_any_origin;
pub mod cor003_loose_origin_patterns;

use crate::{
    model::{
        cors::{self, CorsPolicy, Origins},
        ExtKind, ExtOption, Extension, Project,
    },
    python::value::Site,
    source::Span,
};

/// One CORS policy in force.
pub struct Source {
    pub kind: ExtKind,
    /// The extension's constructor, the middleware registration or the decorator.
    pub span: Span,
    pub policy: CorsPolicy,
}

impl Source {
    /// flask-cors matches origin patterns with `re.match` (anchored at the
    /// start only); Starlette uses `fullmatch`.
    pub fn anchored_at_end(&self) -> bool {
        self.kind == ExtKind::CorsMiddleware
    }

    pub fn library(&self) -> &'static str {
        match self.kind {
            ExtKind::CorsMiddleware => "CORSMiddleware",
            _ => "flask-cors",
        }
    }
}

/// A flask-cors `CORS(...)` that is bound to something: an app, a blueprint
/// (`CORS(bp)`), or `init_app` later. A bare `CORS()` never initialised does
/// nothing.
fn initialised(project: &Project, ext: &Extension) -> bool {
    if ext.app.is_some() || ext.init.is_some() || ext.kind == ExtKind::CorsMiddleware {
        return true;
    }
    project
        .resolver()
        .call(ext.site)
        .is_some_and(|c| !c.call().args.is_empty() || c.call().kwarg("app").is_some())
}

/// Every CORS policy in force.
pub fn sources(project: &Project) -> Vec<Source> {
    let mut out: Vec<Source> = project
        .extensions
        .iter()
        .filter(|e| matches!(e.kind, ExtKind::Cors | ExtKind::CorsMiddleware))
        .filter(|e| initialised(project, e))
        .filter_map(|e| {
            Some(Source {
                kind: e.kind,
                span: e
                    .init
                    .filter(|_| e.kind == ExtKind::CorsMiddleware)
                    .unwrap_or(e.span),
                policy: cors::policy(project, e)?,
            })
        })
        .collect();
    // @cross_origin(...) on a view: the same options, no app config.
    let resolver = project.resolver();
    for (file, _, call) in project.calls_named(&["cross_origin"]) {
        let c = call.call();
        let name = resolver.resolve(file, &c.func).external_name();
        if !matches!(
            name.as_deref(),
            Some("flask_cors.cross_origin" | "flask_cors.decorator.cross_origin")
        ) {
            continue;
        }
        let options = c
            .kwargs
            .iter()
            .filter_map(|(k, v)| {
                Some(ExtOption {
                    name: k.as_ref()?.to_string(),
                    value: v.clone(),
                    file,
                    span: Span::new(file, v.range),
                })
            })
            .collect();
        let ext = Extension {
            id: usize::MAX,
            kind: ExtKind::Cors,
            site: Site {
                file,
                offset: call.range().start().into(),
            },
            span: Span::new(file, call.range()),
            app: None,
            init: None,
            options,
            opaque: c.spread || !c.args.is_empty(),
        };
        if let Some(policy) = cors::policy(project, &ext) {
            out.push(Source {
                kind: ExtKind::Cors,
                span: ext.span,
                policy,
            });
        }
    }
    out
}

/// Whether a policy answers every origin: `*`, or a pattern that matches any
/// host (`.*`, `https://.*`, `https?://[^/]+`).
pub fn allows_any_origin(source: &Source) -> bool {
    match &source.policy.origins {
        Origins::Any => true,
        Origins::Patterns(ps) => ps.iter().any(|p| is_catch_all(p, source.anchored_at_end())),
        _ => false,
    }
}

/// The catch-all pattern of a policy, if any.
pub fn catch_all_pattern(source: &Source) -> Option<&str> {
    match &source.policy.origins {
        Origins::Patterns(ps) => ps
            .iter()
            .find(|p| is_catch_all(p, source.anchored_at_end()))
            .map(String::as_str),
        _ => None,
    }
}

/// Where the origins are set, else the credentials, else the extension.
pub fn origins_span(source: &Source) -> Span {
    source
        .policy
        .origins_span
        .or(source.policy.credentials_span)
        .unwrap_or(source.span)
}

/// A pattern with its `^` and trailing `$` / `\Z` removed, and whether it was
/// anchored at the end.
fn strip_anchors(p: &str) -> (&str, bool) {
    let s = p.trim();
    let s = s.strip_prefix('^').unwrap_or(s);
    if let Some(r) = s.strip_suffix("\\Z").or_else(|| s.strip_suffix('$')) {
        return (r, true);
    }
    (s, false)
}

/// Whether a pattern is anchored at its end (`$` or `\Z`).
pub fn is_anchored_at_end(p: &str) -> bool {
    strip_anchors(p).1
}

/// Whether an origin pattern lets any host through: after the scheme it holds
/// no literal letter or digit (only wildcards, classes and escapes). `matched
/// whole` says the library matches the whole origin; otherwise a pattern that
/// stops after the scheme also matches every host.
pub fn is_catch_all(p: &str, matched_whole: bool) -> bool {
    let (s, anchored) = strip_anchors(p);
    let whole = matched_whole || anchored;
    let mut rest = s;
    for scheme in [
        "(https|http)",
        "(http|https)",
        "https?",
        "http(s)?",
        "http(s?)",
        "(https?)",
        "https",
        "http",
    ] {
        if let Some(r) = rest.strip_prefix(scheme) {
            rest = r;
            break;
        }
    }
    if let Some(r) = rest.strip_prefix(':') {
        rest = r
            .strip_prefix("\\/\\/")
            .or_else(|| r.strip_prefix("//"))
            .unwrap_or(r);
    }
    if rest.is_empty() {
        return !whole;
    }
    !has_literal_alnum(rest)
}

/// Whether a regex holds a literal letter or digit outside classes, escapes and
/// repetition counts.
fn has_literal_alnum(s: &str) -> bool {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => {
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                }
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
            }
            c if c.is_ascii_alphanumeric() => return true,
            _ => {}
        }
    }
    false
}

/// An unescaped `.` that stands between name characters (`app.example.com`,
/// `.*.example.com`): meant as a literal dot, it matches any character.
pub fn unescaped_dot(p: &str) -> bool {
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                i += 2;
                continue;
            }
            '[' => in_class = true,
            ']' => in_class = false,
            '.' if !in_class => {
                let next = chars.get(i + 1).copied();
                if next.is_some_and(|n| n.is_ascii_alphanumeric()) {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_all_patterns() {
        for p in [
            ".*",
            "^.*$",
            "https://.*",
            "https?://.*",
            r"^https?:\/\/[^/]+$",
            "https://",
        ] {
            assert!(is_catch_all(p, false), "{p}");
        }
        assert!(!is_catch_all("^https://$", false), "matches no host at all");
        for p in [
            r"https://.*\.example\.com",
            r"^https://app\.example\.com$",
            r"https://[a-z]+\.example\.com",
        ] {
            assert!(!is_catch_all(p, false), "{p}");
        }
    }

    #[test]
    fn anchors_and_dots() {
        assert!(is_anchored_at_end(r"^https://app\.example\.com$"));
        assert!(is_anchored_at_end(r"https://app\.example\.com\Z"));
        assert!(!is_anchored_at_end(r"https://.*\.example\.com"));
        assert!(unescaped_dot("https://.*.example.com"));
        assert!(unescaped_dot("^https://app.example.com$"));
        assert!(!unescaped_dot(r"https://.*\.example\.com"));
        assert!(!unescaped_dot(r"https://(.+\.)?example\.com"));
        assert!(!unescaped_dot(r"https://[.a-z]+\.example\.com"));
    }
}
