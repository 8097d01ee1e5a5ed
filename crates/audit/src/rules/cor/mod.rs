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
    /// Other `@cross_origin` decorators with the same policy, written the
    /// same way (reported once, at the first).
    pub also: Vec<Span>,
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
                also: Vec::new(),
            })
        })
        .collect();
    // @cross_origin(...) on a view: the same options, then the config of the
    // app that serves the view, read on every request.
    let resolver = project.resolver();
    let mut decorated: Vec<Source> = Vec::new();
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
        let span = Span::new(file, call.range());
        let mut ext = Extension {
            id: usize::MAX,
            kind: ExtKind::Cors,
            site: Site {
                file,
                offset: call.range().start().into(),
            },
            span,
            app: None,
            init: None,
            options,
            opaque: c.spread || !c.args.is_empty(),
        };
        // The apps that may serve the view: the route's, else every Flask
        // app of the project. They must agree on the origins and the
        // credentials, else those are unknown.
        let apps = decorator_apps(project, span);
        let mut policy: Option<CorsPolicy> = None;
        for app in apps.iter().map(Some).chain(apps.is_empty().then_some(None)) {
            ext.app = app.copied();
            let p = cors::decorator_policy(project, &ext);
            policy = Some(match policy {
                None => p,
                Some(mut q) => {
                    if q.origins != p.origins {
                        q.origins = Origins::Unknown;
                    }
                    if q.credentials != p.credentials {
                        q.credentials = None;
                    }
                    if q.allow_headers != p.allow_headers {
                        q.allow_headers = None;
                    }
                    q
                }
            });
        }
        let Some(policy) = policy else { continue };
        // The same policy written the same way on another view: one source.
        // Each option written on the decorator, set by the config, or the
        // library default: where it comes from shapes the findings.
        let shape = |p: &CorsPolicy, at: Span| {
            let within = |s: Option<Span>| {
                s.map(|s| s.file == at.file && s.start >= at.start && s.end <= at.end)
            };
            (
                within(p.origins_span),
                within(p.credentials_span),
                within(p.allow_headers_span),
            )
        };
        let same = decorated.iter_mut().find(|s| {
            s.policy.origins == policy.origins
                && s.policy.credentials == policy.credentials
                && s.policy.allow_headers == policy.allow_headers
                && shape(&s.policy, s.span) == shape(&policy, span)
        });
        match same {
            Some(s) => s.also.push(span),
            None => decorated.push(Source {
                kind: ExtKind::Cors,
                span,
                policy,
                also: Vec::new(),
            }),
        }
    }
    out.extend(decorated);
    out
}

/// The Flask apps whose config a `@cross_origin` at `span` reads: the app of
/// the route it decorates when known, else every Flask app of the project
/// not mounted into another.
fn decorator_apps(project: &Project, span: Span) -> Vec<crate::model::AppId> {
    let routed: Vec<_> = project
        .routes
        .iter()
        .filter(|r| {
            r.file == span.file
                && r.decorators
                    .iter()
                    .any(|d| d.span.start <= span.start && span.end <= d.span.end)
        })
        .collect();
    let mut apps: Vec<_> = routed.iter().filter_map(|r| r.app).collect();
    if apps.is_empty() || routed.iter().any(|r| r.app.is_none()) {
        apps.extend(
            project
                .apps
                .iter()
                .filter(|a| a.kind == crate::model::AppKind::Flask && a.mounted_in.is_none())
                .map(|a| a.id),
        );
    }
    apps.sort_unstable();
    apps.dedup();
    apps
}

/// Adds the other views a decorator source stands for to its finding: the
/// first few as related locations, the count in the message.
pub fn with_same_policy(
    ctx: &crate::rules::RuleContext,
    mut f: report::Finding,
    s: &Source,
) -> report::Finding {
    const SHOWN: usize = 5;
    if s.also.is_empty() {
        return f;
    }
    let n = s.also.len();
    f.message.push_str(&format!(
        " (the same `@cross_origin` policy is on {n} more view{})",
        if n == 1 { "" } else { "s" }
    ));
    for span in s.also.iter().take(SHOWN) {
        f = f.with_related(ctx.at(*span), "the same policy on another view");
    }
    f
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
