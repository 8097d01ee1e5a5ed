//! Responses shield writes itself: JSON errors of one shape, redirects.
//!
//! ```json
//! {"error": {"status": 405, "code": "method_not_allowed", "message": "...", "request_id": "..."}}
//! ```

use std::borrow::Cow;

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Response, StatusCode};
use serde::Serialize;

use crate::{body::ResBody, context::RequestId};

/// A request a layer refuses (or redirects), with what the audit log records.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub status: StatusCode,
    /// Machine-readable, snake_case (`method_not_allowed`).
    pub code: &'static str,
    /// For the client: says what is wrong, never echoes internals.
    pub message: Cow<'static, str>,
    /// The control enforced (`INP007`).
    pub control: &'static str,
    /// For the audit log: why, with details the client does not get.
    pub reason: Cow<'static, str>,
    /// Extra response headers (`Allow`, `Location`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Close the connection after answering (framing errors, oversized bodies).
    pub close: bool,
    /// The audit-log action (`block`, `redirect`).
    pub action: &'static str,
}

impl Rejection {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
        control: &'static str,
        reason: impl Into<Cow<'static, str>>,
    ) -> Rejection {
        Rejection {
            status,
            code,
            message: message.into(),
            control,
            reason: reason.into(),
            headers: Vec::new(),
            close: false,
            action: "block",
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Rejection {
        self.headers.push((name, value));
        self
    }

    pub fn closing(mut self) -> Rejection {
        self.close = true;
        self
    }

    /// A permanent redirect (308 keeps the method and body).
    pub fn redirect(
        location: HeaderValue,
        control: &'static str,
        reason: impl Into<Cow<'static, str>>,
    ) -> Rejection {
        Rejection {
            status: StatusCode::PERMANENT_REDIRECT,
            code: "redirect",
            message: Cow::Borrowed("use HTTPS"),
            control,
            reason: reason.into(),
            headers: vec![(header::LOCATION, location)],
            close: false,
            action: "redirect",
        }
    }

    /// An answer shield gives itself without an error (a CORS preflight): 204 with
    /// these headers, no body, no audit line.
    pub fn no_content(headers: Vec<(HeaderName, HeaderValue)>) -> Rejection {
        Rejection {
            status: StatusCode::NO_CONTENT,
            code: "no_content",
            message: Cow::Borrowed(""),
            control: "",
            reason: Cow::Borrowed(""),
            headers,
            close: false,
            action: "answer",
        }
    }

    /// Renders the response (JSON error; an empty body for redirects).
    pub fn into_response(self, id: RequestId, head_only: bool) -> Response<ResBody> {
        if self.status == StatusCode::NO_CONTENT {
            let mut resp = Response::new(ResBody::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            for (k, v) in self.headers {
                resp.headers_mut().append(k, v);
            }
            return resp;
        }
        let body = if self.status.is_redirection() {
            Bytes::new()
        } else {
            error_json(self.status, self.code, &self.message, id)
        };
        let mut resp = json_response(self.status, body, head_only);
        let h = resp.headers_mut();
        for (k, v) in self.headers {
            h.append(k, v);
        }
        if self.close {
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

impl Rejection {
    /// The same refusal as a small HTML page, for a person in a browser under the
    /// `html` preset (a form post refused, an upload too large): status, message
    /// and request id; headers (`Retry-After`, `Vary`) as in the JSON answer.
    pub fn into_html_response(self, id: RequestId, head_only: bool) -> Response<ResBody> {
        if self.status == StatusCode::NO_CONTENT || self.status.is_redirection() {
            return self.into_response(id, head_only);
        }
        let page = html_page(self.status, &self.message, id);
        let mut resp = json_response(self.status, page, head_only);
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        for (k, v) in self.headers {
            h.append(k, v);
        }
        if self.close {
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

/// A plain page for a refusal: no scripts, no styles, the message escaped.
pub fn html_page(status: StatusCode, message: &str, id: RequestId) -> Bytes {
    let mut m = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '<' => m.push_str("&lt;"),
            '>' => m.push_str("&gt;"),
            '&' => m.push_str("&amp;"),
            '"' => m.push_str("&quot;"),
            '\'' => m.push_str("&#39;"),
            c => m.push(c),
        }
    }
    let id = id.to_hex();
    Bytes::from(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code} {reason}</title></head>\
         <body><h1>{code} {reason}</h1><p>{m}</p><p>Request id: {id}</p></body></html>\n",
        code = status.as_u16(),
        reason = status.canonical_reason().unwrap_or("Error"),
        id = std::str::from_utf8(&id).unwrap_or(""),
    ))
}

/// Whether a request asks for an HTML page (a browser navigating or posting a
/// form: `Accept` names `text/html`).
pub fn wants_html(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| memchr::memmem::find(&v.as_bytes().to_ascii_lowercase(), b"text/html").is_some())
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    status: u16,
    code: &'a str,
    message: &'a str,
    request_id: &'a str,
}

/// The JSON error body.
pub fn error_json(status: StatusCode, code: &str, message: &str, id: RequestId) -> Bytes {
    let id = id.to_hex();
    let body = ErrorBody {
        error: ErrorFields {
            status: status.as_u16(),
            code,
            message,
            request_id: std::str::from_utf8(&id).unwrap_or(""),
        },
    };
    let mut out = serde_json::to_vec(&body).unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}

/// A response with a JSON body (or its headers only, for HEAD).
pub fn json_response(status: StatusCode, body: Bytes, head_only: bool) -> Response<ResBody> {
    let len = body.len();
    let mut resp = Response::new(if head_only {
        ResBody::empty()
    } else {
        ResBody::full(body)
    });
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The machine-readable code for a status shield did not choose itself (upstream
/// error pages turned into JSON).
pub fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        410 => "gone",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "unprocessable_entity",
        429 => "too_many_requests",
        431 => "request_header_fields_too_large",
        500 => "internal_error",
        501 => "not_implemented",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        s if s >= 500 => "server_error",
        _ => "client_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_refusal_pages_escape_the_message() {
        let r = Rejection::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "<b>slow</b> & 'down'",
            "RL001",
            "x",
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("6"));
        let resp = r.into_html_response(RequestId::next(), false);
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "6");
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let ResBody::Full(Some(b)) = resp.into_body() else {
            panic!("a full body")
        };
        let page = String::from_utf8(b.to_vec()).unwrap();
        assert!(
            page.contains("&lt;b&gt;slow&lt;/b&gt; &amp; &#39;down&#39;"),
            "{page}"
        );
        assert!(page.contains("<h1>429 Too Many Requests</h1>"));
    }

    #[test]
    fn error_shape() {
        let id = RequestId::next();
        let b = error_json(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "no \"TRACE\"",
            id,
        );
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["error"]["status"], 405);
        assert_eq!(v["error"]["code"], "method_not_allowed");
        assert_eq!(v["error"]["message"], "no \"TRACE\"");
        assert_eq!(v["error"]["request_id"], id.to_string());
    }
}
