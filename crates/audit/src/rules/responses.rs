//! What routes answer with, read from their `return` values: JSON
//! (`jsonify`, dicts, `JSONResponse`), HTML (`render_template`,
//! `TemplateResponse`, markup literals), or something else. For the rules that
//! depend on whether an app renders pages (HDR002) or is a JSON API (ERR002).

use crate::{
    model::{AppId, Project, Route},
    python::value::{Kind, Value},
    source::Span,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Json,
    Html,
    /// A redirect, a file, a plain string, or not known.
    Other,
}

const JSON_CALLS: &[&str] = &[
    "jsonify",
    "JSONResponse",
    "ORJSONResponse",
    "UJSONResponse",
    "dumps",
];
const HTML_CALLS: &[&str] = &[
    "render_template",
    "render_template_string",
    "stream_template",
    "TemplateResponse",
    "HTMLResponse",
];

/// What a returned value is.
pub fn classify(v: &Value) -> Body {
    classify_at(v, 0)
}

fn classify_at(v: &Value, depth: usize) -> Body {
    if depth > 8 {
        return Body::Other;
    }
    match &v.kind {
        Kind::Dict(_) | Kind::List(_) => Body::Json,
        Kind::Tuple(items) => items
            .first()
            .map_or(Body::Other, |f| classify_at(f, depth + 1)),
        Kind::Str(s) if s.trim_start().starts_with('<') => Body::Html,
        Kind::FString(parts) => match parts.first().and_then(Value::as_str) {
            Some(s) if s.trim_start().starts_with('<') => Body::Html,
            _ => Body::Other,
        },
        Kind::Call(c) => {
            let Some(name) = c.last_name() else {
                return Body::Other;
            };
            if JSON_CALLS.contains(&name) {
                return Body::Json;
            }
            if HTML_CALLS.contains(&name) {
                return Body::Html;
            }
            match name {
                // make_response(jsonify(...), 201) / Response(json.dumps(...), mimetype=...)
                "make_response" | "Response" => {
                    let mimetype = c
                        .kwarg("mimetype")
                        .or_else(|| c.kwarg("content_type"))
                        .or_else(|| c.kwarg("media_type"))
                        .and_then(Value::as_str);
                    match mimetype {
                        Some(m) if m.contains("json") => Body::Json,
                        Some(m) if m.contains("html") => Body::Html,
                        _ => c.arg(0).map_or(Body::Other, |a| classify_at(a, depth + 1)),
                    }
                }
                _ => Body::Other,
            }
        }
        Kind::Cond(parts) => {
            let (a, b) = (
                classify_at(&parts[1], depth + 1),
                classify_at(&parts[2], depth + 1),
            );
            if a == b {
                a
            } else {
                Body::Other
            }
        }
        _ => Body::Other,
    }
}

/// Packages whose decorators serialize what a view returns to JSON
/// (`@marshal_with(schema)`) or parse its JSON input (`@use_kwargs(...)`).
const SERIALIZING_PACKAGES: &[&str] = &[
    "flask_apispec",
    "flask_restx",
    "flask_restplus",
    "flask_restful",
    "flask_smorest",
    "webargs",
];

/// Decorator names of those packages (functions, or methods of their
/// `Namespace` / `Api` / smorest `Blueprint` objects).
const SERIALIZING_DECORATORS: &[&str] = &[
    "marshal_with",
    "marshal_list_with",
    "marshal_with_field",
    "response",
    "use_kwargs",
    "use_args",
    "arguments",
    "paginate",
];

/// A decorator of the view that makes it a JSON endpoint: flask-apispec's,
/// flask-restx's or flask-restplus's `marshal_with`, flask-smorest's
/// `@blp.response(...)` / `@blp.arguments(...)`, webargs' `use_kwargs`.
fn serializing_decorator(project: &Project, route: &Route) -> Option<Span> {
    let resolver = project.resolver();
    route.decorators.iter().find_map(|d| {
        let callee = d.value.as_call().map_or(&d.value, |c| &c.func);
        let r = resolver.resolve(d.span.file, callee);
        let from_package = |q: &str| {
            SERIALIZING_PACKAGES
                .iter()
                .any(|p| q == *p || q.starts_with(&format!("{p}.")))
        };
        let hit = match (&r.target, r.attrs.as_slice()) {
            (crate::model::index::Target::External(q), attrs) => {
                let last = attrs
                    .last()
                    .map(String::as_str)
                    .unwrap_or_else(|| q.rsplit('.').next().unwrap_or(q));
                from_package(q) && SERIALIZING_DECORATORS.contains(&last)
            }
            (crate::model::index::Target::Object(site), [m]) => {
                SERIALIZING_DECORATORS.contains(&m.as_str())
                    && resolver.call(*site).is_some_and(|c| {
                        resolver
                            .resolve(site.file, &c.call().func)
                            .external_name()
                            .is_some_and(|q| from_package(&q))
                    })
            }
            _ => false,
        };
        hit.then_some(d.span)
    })
}

/// The kinds of body a route's view returns (each once), with where: JSON
/// wins over Other, HTML over both. A view under a serializing decorator
/// (`@marshal_with(schema)`, `@blp.response(...)`) that renders no HTML
/// answers JSON whatever it returns (an ORM object, a list of them).
pub fn route_body(project: &Project, route: &Route) -> Option<(Body, Span)> {
    let from_returns = returned_body(project, route);
    if from_returns.is_none_or(|(b, _)| b != Body::Html) {
        if let Some(span) = serializing_decorator(project, route) {
            return Some((Body::Json, span));
        }
    }
    from_returns
}

fn returned_body(project: &Project, route: &Route) -> Option<(Body, Span)> {
    let (file, func) = project.resolver().function(&route.function)?;
    let mut best: Option<(Body, Span)> = None;
    for r in &func.returns {
        let b = classify(r);
        let rank = |b: Body| match b {
            Body::Other => 0,
            Body::Json => 1,
            Body::Html => 2,
        };
        if best.is_none_or(|(cur, _)| rank(b) > rank(cur)) {
            best = Some((b, Span::new(file, r.range)));
        }
    }
    best
}

/// A route of `app` (or of no app we could resolve) that renders HTML.
pub fn html_route(project: &Project, app: Option<AppId>) -> Option<(&Route, Span)> {
    project
        .routes
        .iter()
        .filter(|r| app.is_none() || r.app.is_none() || r.app == app)
        .find_map(|r| match route_body(project, r) {
            Some((Body::Html, span)) => Some((r, span)),
            _ => None,
        })
}
