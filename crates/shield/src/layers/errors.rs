//! ERR002, ERR003, DBG001: upstream error pages never reach the client as they are.
//!
//! - A 5xx carrying HTML, a Python traceback, a file path with a line number, SQL
//!   driver errors or Werkzeug debugger markers becomes a generic error with a
//!   request id (JSON, or a plain page under `html_errors = "page"` when the client
//!   asked for HTML: `Accept` names `text/html`, as a browser's navigation does).
//! - Under the api preset every HTML error page (4xx included) becomes a JSON error
//!   with the same status, and so does any other 5xx that is not JSON (uvicorn's
//!   plain-text `Internal Server Error`), so API clients see one error shape.
//!
//! Only error responses are inspected, and only their first `inspect_bytes`; the
//! original goes to the audit log (truncated), never to the client.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};

use crate::{
    body::{read_prefix, AppBody, ResBody},
    config::{ErrorsSettings, HtmlErrors},
    context::{Context, RequestId},
    reply::{code_for, error_json},
};

/// How much of the original body the audit line keeps.
const LOG_EXCERPT: usize = 2048;

/// Markers of leaked internals in an error body.
const MARKERS: &[(&str, &str)] = &[
    ("Traceback (most recent call last)", "Python traceback"),
    ("__debugger__", "Werkzeug debugger"),
    ("Werkzeug Debugger", "Werkzeug debugger"),
    ("werkzeug.debug", "Werkzeug debugger"),
    ("sqlalchemy.exc.", "SQL error"),
    ("sqlite3.OperationalError", "SQL error"),
    ("psycopg2.", "SQL error"),
    ("pymysql.err.", "SQL error"),
    ("SQLSTATE[", "SQL error"),
    ("OperationalError", "SQL error"),
    ("ProgrammingError", "SQL error"),
    ("IntegrityError", "SQL error"),
    ("unrecognized token:", "SQL error"),
    ("no such table:", "SQL error"),
    ("no such column:", "SQL error"),
    ("syntax error at or near", "SQL error"),
    ("\": syntax error", "SQL error"),
    ("You have an error in your SQL syntax", "SQL error"),
];

/// The error-sanitising stage (first on the response path).
#[derive(Debug, Clone)]
pub struct ErrorSanitizer {
    sanitize: bool,
    html: HtmlErrors,
    inspect: usize,
}

/// What the sanitiser did, for the audit log.
#[derive(Debug)]
pub struct Sanitized {
    pub control: &'static str,
    pub reason: String,
    pub original: String,
}

impl ErrorSanitizer {
    pub fn new(cfg: &ErrorsSettings) -> Result<ErrorSanitizer, crate::config::ConfigError> {
        if !(1024..=1024 * 1024).contains(&cfg.inspect_bytes) {
            return Err(crate::config::ConfigError::new(
                "shield.errors.inspect_bytes",
                "must be between 1 KiB and 1 MiB",
            ));
        }
        Ok(ErrorSanitizer {
            sanitize: cfg.sanitize,
            html: cfg.html_errors.unwrap_or(HtmlErrors::Json),
            inspect: cfg.inspect_bytes,
        })
    }

    /// Passes a response on, or replaces an error page that must not be sent.
    pub async fn process(
        &self,
        resp: Response<AppBody>,
        cx: &Context,
    ) -> (Response<ResBody>, Option<Sanitized>) {
        let status = resp.status();
        if status.as_u16() < 400 || !(self.sanitize || self.html != HtmlErrors::Keep) {
            return (resp.map(ResBody::upstream), None);
        }
        let (head, mut body) = resp.into_parts();
        let html = is_html(&head.headers);
        let compressed = head
            .headers
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes() != b"identity");
        let server_error = status.is_server_error();
        let head_only = cx.method == http::Method::HEAD;
        let mut verdict: Option<(&'static str, String)> = None;
        if server_error && self.sanitize && html {
            verdict = Some(("ERR003", format!("upstream {status} with an HTML page")));
        } else if !server_error && html && self.html != HtmlErrors::Keep {
            verdict = Some(("ERR002", format!("upstream {status} with an HTML page")));
        } else if server_error && self.sanitize && compressed && !is_json(&head.headers) {
            verdict = Some((
                "ERR003",
                format!("upstream {status} with a compressed body that cannot be inspected"),
            ));
        }
        let mut prefix = Bytes::new();
        let mut ended = true;
        if !head_only && (verdict.is_some() || (server_error && self.sanitize)) {
            match read_prefix(&mut body, self.inspect).await {
                Ok((p, e)) => {
                    prefix = p;
                    ended = e;
                }
                Err(_) => ended = true,
            }
        }
        if verdict.is_none() && server_error && self.sanitize && !compressed {
            if let Some((marker, what)) = MARKERS
                .iter()
                .find(|(m, _)| memchr::memmem::find(&prefix, m.as_bytes()).is_some())
            {
                let control = if what.contains("debugger") {
                    "DBG001"
                } else {
                    "ERR003"
                };
                verdict = Some((
                    control,
                    format!("upstream {status} leaking a {what} (`{marker}`)"),
                ));
            } else if has_file_line(&prefix) {
                verdict = Some((
                    "ERR003",
                    format!("upstream {status} leaking a source path and line"),
                ));
            }
        }
        if verdict.is_none()
            && server_error
            && self.html == HtmlErrors::Json
            && !is_json(&head.headers)
        {
            let ct = head
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no content type")
                .to_string();
            verdict = Some((
                "ERR002",
                format!("upstream {status} with a non-JSON body ({ct})"),
            ));
        }
        let Some((control, reason)) = verdict else {
            // `prefix` then the rest: the upstream's Content-Length still holds.
            let _ = ended;
            let resp = Response::from_parts(
                head,
                ResBody::Upstream {
                    prefix: (!prefix.is_empty()).then_some(prefix),
                    rest: body,
                },
            );
            return (resp, None);
        };
        let original =
            String::from_utf8_lossy(&prefix[..prefix.len().min(LOG_EXCERPT)]).into_owned();
        drop(body);
        let new_status = if server_error && !matches!(status.as_u16(), 502..=504) {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            status
        };
        // The generic page is for browsers; an API client (curl's `*/*`, `fetch`,
        // `Accept: application/json`) gets the JSON error even under `page`.
        let page = self.html == HtmlErrors::Page && cx.wants_html;
        let resp = self.replacement(head, new_status, cx.request_id, head_only, page);
        (
            resp,
            Some(Sanitized {
                control,
                reason,
                original,
            }),
        )
    }

    fn replacement(
        &self,
        mut head: http::response::Parts,
        status: StatusCode,
        id: RequestId,
        head_only: bool,
        page: bool,
    ) -> Response<ResBody> {
        for h in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::TRANSFER_ENCODING,
            header::ETAG,
            header::LAST_MODIFIED,
        ] {
            head.headers.remove(h);
        }
        head.status = status;
        let (ct, body) = if page {
            ("text/html; charset=utf-8", generic_page(status, id))
        } else {
            let message = if status.is_server_error() {
                "the server could not complete the request"
            } else {
                status.canonical_reason().unwrap_or("error")
            };
            (
                "application/json",
                error_json(status, code_for(status), message, id),
            )
        };
        head.headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        head.headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        head.headers
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Response::from_parts(
            head,
            if head_only {
                ResBody::empty()
            } else {
                ResBody::full(body)
            },
        )
    }
}

fn is_html(h: &HeaderMap) -> bool {
    media_type(h).is_some_and(|m| {
        m.eq_ignore_ascii_case("text/html") || m.eq_ignore_ascii_case("application/xhtml+xml")
    })
}

fn is_json(h: &HeaderMap) -> bool {
    media_type(h).is_some_and(|m| {
        m.eq_ignore_ascii_case("application/json") || m.to_ascii_lowercase().ends_with("+json")
    })
}

fn media_type(h: &HeaderMap) -> Option<&str> {
    h.get(header::CONTENT_TYPE)?
        .to_str()
        .ok()?
        .split(';')
        .next()
        .map(str::trim)
}

/// `File "/srv/app/orders.py", line 42` — a Python frame.
fn has_file_line(body: &[u8]) -> bool {
    let mut rest = body;
    while let Some(i) = memchr::memmem::find(rest, b"File \"") {
        let after = &rest[i + 6..];
        let line_end = after
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(after.len());
        if memchr::memmem::find(&after[..line_end], b"\", line ").is_some() {
            return true;
        }
        rest = after;
    }
    false
}

fn generic_page(status: StatusCode, id: RequestId) -> Bytes {
    let reason = status.canonical_reason().unwrap_or("Error");
    Bytes::from(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code} {reason}</title></head>\
         <body><h1>{code} {reason}</h1><p>Request id: {id}</p></body></html>\n",
        code = status.as_u16()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_python_frames() {
        assert!(has_file_line(
            b"x\n  File \"/srv/app/orders.py\", line 42, in create\n"
        ));
        assert!(!has_file_line(b"File \"report.pdf\" was not found"));
    }
}
