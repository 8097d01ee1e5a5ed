//! ERR — error handling.
//!
//! Shared here: what an error handler handles (HTTP errors, the 500 behind
//! unhandled exceptions, arbitrary exceptions, the project's own exception
//! classes), and the handler's function with its exception parameter.

pub mod err001_exception_text;
pub mod err002_no_json_errors;

use crate::{
    model::{index::Target, ErrorHandler, Project},
    python::{facts::FunctionFact, value::Kind},
    source::FileId,
};

/// What a handler's exception is, which decides what its text may reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerKind {
    /// An HTTP error (`404`, `NotFound`, FastAPI's `HTTPException`,
    /// validation errors): its message is written for clients.
    Http,
    /// Werkzeug's `HTTPException`: HTTP errors, and the 500 wrapping an
    /// unhandled exception (`e.original_exception`).
    AnyHttp,
    /// `500` / `InternalServerError`: generic text, the original behind it.
    ServerError,
    /// `Exception`, built-in and library exceptions: text about internals.
    Exception,
    /// One of the project's own exception classes.
    Project,
    Unknown,
}

impl HandlerKind {
    /// Whether the exception's own text may reveal internals.
    pub fn text(self) -> bool {
        self == HandlerKind::Exception
    }

    /// Whether `e.original_exception` may hold an unhandled exception.
    pub fn original(self) -> bool {
        matches!(self, HandlerKind::AnyHttp | HandlerKind::ServerError)
    }

    pub fn of(project: &Project, h: &ErrorHandler) -> HandlerKind {
        match &h.key.kind {
            Kind::Int(c) if (500..600).contains(c) => return HandlerKind::ServerError,
            Kind::Int(_) => return HandlerKind::Http,
            _ => {}
        }
        match project.resolver().resolve(h.file, &h.key).target {
            Target::Class(_) => HandlerKind::Project,
            Target::External(q) => external_kind(&q),
            _ => HandlerKind::Unknown,
        }
    }
}

fn external_kind(q: &str) -> HandlerKind {
    let last = q.rsplit('.').next().unwrap_or(q);
    if q.starts_with("werkzeug") {
        return match last {
            "HTTPException" => HandlerKind::AnyHttp,
            "InternalServerError" => HandlerKind::ServerError,
            _ => HandlerKind::Http,
        };
    }
    // Token errors (PyJWT, Flask-JWT-Extended) describe the client's token.
    if q.starts_with("jwt.") || q.starts_with("flask_jwt_extended.") {
        return HandlerKind::Http;
    }
    if last.ends_with("HTTPException")
        || last.ends_with("ValidationError")
        || last == "CSRFError"
        || last == "RateLimitExceeded"
    {
        return HandlerKind::Http;
    }
    HandlerKind::Exception
}

/// The handler's function and the name of its exception parameter (Flask:
/// the first; FastAPI / Starlette: the one after `request`).
pub fn handler_function<'a>(
    project: &'a Project,
    h: &ErrorHandler,
) -> Option<(FileId, &'a FunctionFact, String)> {
    let (file, func) = project.resolver().function(&h.function)?;
    let params: Vec<_> = func
        .params
        .iter()
        .skip(usize::from(func.method_of.is_some()))
        .collect();
    let first_is_request = params.first().is_some_and(|p| {
        matches!(p.name.as_str(), "request" | "req" | "_request")
            || p.annotation
                .as_ref()
                .and_then(|a| a.reference())
                .is_some_and(|r| r.last_name() == "Request")
    });
    let param = if params.len() >= 2 && first_is_request {
        params[1]
    } else {
        params.first()?
    };
    Some((file, func, param.name.to_string()))
}
