//! CORS as the libraries really apply it, for the COR rules.
//!
//! flask-cors (read from its source): options come from `CORS(app, ...)` /
//! `init_app(app, ...)` keywords, then the app's `CORS_*` config keys; `origins`
//! defaults to `"*"` (also when `CORS(app)` is given nothing), `resources` maps
//! URL patterns to per-resource options, `supports_credentials` defaults to
//! False, and with a wildcard origin plus credentials it *reflects* the caller's
//! Origin instead of sending `*`.
//!
//! Starlette/FastAPI `CORSMiddleware`: `allow_origins` defaults to none,
//! `allow_origin_regex` adds a pattern, `allow_credentials` defaults to False, and
//! with `"*"` plus credentials it answers a request that carries cookies with
//! that request's own Origin.

use super::{ExtKind, Extension, Project};
use crate::{
    python::value::{Kind, Value},
    source::Span,
};

/// Which origins are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// `*` (or a catch-all pattern such as `.*`).
    Any,
    /// Exact origins.
    Listed(Vec<String>),
    /// Regular expressions (flask-cors treats strings with regex characters as
    /// patterns; `allow_origin_regex`).
    Patterns(Vec<String>),
    /// None at all (CORSMiddleware with no `allow_origins`).
    None,
    /// Not known statically.
    Unknown,
}

/// The effective CORS policy of one extension.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    pub origins: Origins,
    /// Where the origins are set (None: the library default).
    pub origins_span: Option<Span>,
    pub credentials: Option<bool>,
    pub credentials_span: Option<Span>,
    /// Allowed request headers, when given as a literal (`"*"` included).
    pub allow_headers: Option<Vec<String>>,
    pub allow_headers_span: Option<Span>,
}

impl CorsPolicy {
    /// Whether any site's requests get their own Origin back with credentials
    /// allowed: the library reflects instead of sending `*`.
    pub fn reflects_any_origin_with_credentials(&self) -> Option<bool> {
        match (&self.origins, self.credentials) {
            (Origins::Any, Some(true)) => Some(true),
            (Origins::Unknown, _) | (_, None) => None,
            _ => Some(false),
        }
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match &v.kind {
        Kind::Str(s) => Some(vec![s.to_string()]),
        _ => v.as_seq().map(|items| {
            items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })?,
    }
}

/// flask-cors's own test for "this origin string is a regular expression".
fn probably_regex(s: &str) -> bool {
    s.chars().any(|c| "*\\]?$^[]()".contains(c))
}

fn classify(list: Vec<String>) -> Origins {
    if list
        .iter()
        .any(|o| matches!(o.as_str(), "*" | ".*" | "^.*$"))
    {
        return Origins::Any;
    }
    let (patterns, exact): (Vec<String>, Vec<String>) =
        list.into_iter().partition(|o| probably_regex(o));
    if patterns.is_empty() {
        Origins::Listed(exact)
    } else {
        Origins::Patterns(patterns)
    }
}

/// The policy of a CORS extension (`ExtKind::Cors` or `CorsMiddleware`); None
/// for other kinds.
pub fn policy(project: &Project, ext: &Extension) -> Option<CorsPolicy> {
    match ext.kind {
        ExtKind::Cors => Some(flask_cors(project, ext, false)),
        ExtKind::CorsMiddleware => Some(middleware(project, ext)),
        _ => None,
    }
}

/// The policy of a flask-cors `@cross_origin(...)` decorator on a view of
/// `ext.app`: its keywords, then the app's `CORS_*` config keys, which the
/// decorator reads on every request (read from flask-cors's source:
/// `get_cors_options(current_app, options)` in the wrapped view), so any
/// config the app ends up with counts, wherever it is loaded.
pub fn decorator_policy(project: &Project, ext: &Extension) -> CorsPolicy {
    flask_cors(project, ext, true)
}

fn flask_cors(project: &Project, ext: &Extension, per_request: bool) -> CorsPolicy {
    let config = ext.app.and_then(|a| project.apps.get(a)).map(|a| &a.config);
    // A keyword, else the app's CORS_<NAME> config key. A keyword wins over
    // the config; a config value that a file loaded after it may replace
    // (`from_envvar(..., silent=True)`) is not known.
    let option = |name: &str| -> Option<(Value, Span)> {
        if let Some(o) = ext.opt(name) {
            return Some((option_value(project, o.file, &o.value), o.span));
        }
        let key = format!("CORS_{}", name.to_ascii_uppercase());
        config
            .and_then(|c| c.get(&key))
            .map(|e| match e.overridable {
                Some(_) => (Value::unknown(e.value.range, false), e.span),
                None => (e.value.clone(), e.span),
            })
    };
    // flask-cors reads the app's config once, when `CORS(app)` / `init_app`
    // runs: a config file loaded after that in the same function changes
    // nothing.
    let init = ext.init.unwrap_or(ext.span);
    let init_scope = project
        .resolver()
        .call(crate::python::value::Site {
            file: init.file,
            offset: init.start,
        })
        .map(|c| c.scope);
    let unknown_config = ext.opaque
        || config.is_some_and(|c| {
            if per_request {
                c.incomplete
            } else {
                c.open_at(init, init_scope)
            }
        });
    let (origins, origins_span) = match option("origins") {
        Some((v, span)) => (strings(&v).map_or(Origins::Unknown, classify), Some(span)),
        None => match ext.opt("resources") {
            Some(r) => (resources_origins(&r.value), Some(r.span)),
            None if unknown_config => (Origins::Unknown, None),
            // flask-cors's default: every origin.
            None => (Origins::Any, None),
        },
    };
    let (credentials, credentials_span) = match option("supports_credentials") {
        Some((v, span)) => (v.truthy(), Some(span)),
        None if unknown_config => (None, None),
        None => (Some(false), None),
    };
    let (allow_headers, allow_headers_span) = match option("allow_headers") {
        Some((v, span)) => (strings(&v), Some(span)),
        None if unknown_config => (None, None),
        None => (Some(vec!["*".into()]), None),
    };
    CorsPolicy {
        origins,
        origins_span,
        credentials,
        credentials_span,
        allow_headers,
        allow_headers_span,
    }
}

/// `resources={r"/api/*": {"origins": [...]}}`: the loosest policy of all
/// resources (a resource without `origins` gets the default `*`).
fn resources_origins(v: &Value) -> Origins {
    let Some(items) = v.as_dict() else {
        return match v.as_str().or_else(|| v.as_seq().map(|_| "")) {
            // A pattern or list of patterns: each gets the default origins.
            Some(_) => Origins::Any,
            None => Origins::Unknown,
        };
    };
    let mut all = Vec::new();
    for (_, options) in items {
        match options.dict_get("origins") {
            Some(o) => match strings(o) {
                Some(list) => all.extend(list),
                None => return Origins::Unknown,
            },
            None if options.as_dict().is_some() => return Origins::Any,
            None => return Origins::Unknown,
        }
    }
    classify(all)
}

/// The default of a settings field an option names (`settings.allowed_hosts`
/// where `settings = Settings()` and `class Settings(BaseSettings):
/// allowed_hosts: List[str] = ["*"]`, base classes included), unless an env
/// file, Dockerfile, compose file or command sets that variable (pydantic
/// matches names case-insensitively, after an optional prefix): then None.
pub(crate) fn settings_default<'a>(
    project: &'a Project,
    file: crate::source::FileId,
    v: &Value,
) -> Option<(crate::source::FileId, &'a Value)> {
    let resolver = project.resolver();
    let (cfile, _, attr) = resolver.class_attr_of(file, v)?;
    let upper = attr.name.to_ascii_uppercase();
    let set_elsewhere = project.deploy.env.iter().any(|e| {
        let name = e.name.to_ascii_uppercase();
        name == upper || name.ends_with(&format!("_{upper}"))
    });
    if set_elsewhere {
        return None;
    }
    // `Field(default=[...])` / `Field([...])`: the default inside; a
    // `default_factory` is not followed.
    let value = crate::python::pydantic::field_value(&attr.value)?;
    Some(resolver.deref(cfile, value))
}

/// An option's value: followed through names, and to the default of a
/// settings field.
fn option_value(project: &Project, file: crate::source::FileId, v: &Value) -> Value {
    let (f, v) = project.resolver().deref(file, v);
    match v.reference() {
        Some(r) if !r.attrs.is_empty() => settings_default(project, f, v)
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| v.clone()),
        _ => v.clone(),
    }
}

fn middleware(project: &Project, ext: &Extension) -> CorsPolicy {
    let get = |name: &str| {
        ext.opt(name)
            .map(|o| (option_value(project, o.file, &o.value), o.span))
    };
    let regex = get("allow_origin_regex").and_then(|(v, s)| v.as_str().map(|r| (r.to_string(), s)));
    let (mut origins, mut origins_span) = match get("allow_origins") {
        Some((v, span)) => (
            strings(&v).map_or(Origins::Unknown, |l| {
                if l.is_empty() {
                    Origins::None
                } else {
                    classify(l)
                }
            }),
            Some(span),
        ),
        None if ext.opaque => (Origins::Unknown, None),
        None => (Origins::None, None),
    };
    if let Some((r, span)) = regex {
        if matches!(origins, Origins::None | Origins::Listed(_)) {
            origins = if r == ".*" || r == "^.*$" {
                Origins::Any
            } else {
                Origins::Patterns(vec![r])
            };
            origins_span = Some(span);
        }
    }
    let (credentials, credentials_span) = match get("allow_credentials") {
        Some((v, span)) => (v.truthy(), Some(span)),
        None if ext.opaque => (None, None),
        None => (Some(false), None),
    };
    let (allow_headers, allow_headers_span) = match get("allow_headers") {
        Some((v, span)) => (strings(&v), Some(span)),
        None => (Some(Vec::new()), None),
    };
    CorsPolicy {
        origins,
        origins_span,
        credentials,
        credentials_span,
        allow_headers,
        allow_headers_span,
    }
}
