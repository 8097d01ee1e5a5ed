//! INP001: a body declared JSON must parse, or the client gets a JSON 400 instead
//! of the HTML error page Flask's `request.get_json()` would raise.
//!
//! Checked only when the `Content-Type` is `application/json` or `*/*+json` and a
//! body is present; the body is buffered once (bounded by the body limit) through
//! [`Flow::NeedBody`] and validated without building a value.

use http::{header, request, HeaderMap, StatusCode};
use serde::de::IgnoredAny;

use crate::{
    config::{ConfigError, JsonBodySettings},
    context::{BodyView, Context},
    layer::{Flow, RequestLayer},
    reply::Rejection,
    route::RouteSet,
};

pub const CONTROL: &str = "INP001";

/// The INP001 layer.
#[derive(Debug, Clone)]
pub struct JsonBodyCheck {
    exempt: RouteSet,
    limit: usize,
}

impl JsonBodyCheck {
    pub fn new(cfg: &JsonBodySettings, max_body: u64) -> Result<JsonBodyCheck, ConfigError> {
        let exempt = RouteSet::new(&cfg.exempt_routes).map_err(|(i, m)| {
            ConfigError::new(format!("shield.json_body.exempt_routes[{i}]"), m)
        })?;
        Ok(JsonBodyCheck {
            exempt,
            limit: usize::try_from(max_body).unwrap_or(usize::MAX),
        })
    }
}

/// Whether the request says its body is JSON.
pub fn declares_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json")
        || mime.len() > 5
            && mime
                .get(mime.len() - 5..)
                .is_some_and(|s| s.eq_ignore_ascii_case("+json"))
}

fn has_body(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}

impl RequestLayer for JsonBodyCheck {
    fn name(&self) -> &'static str {
        "json_body"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        if !declares_json(&head.headers) || !has_body(&head.headers) {
            return Flow::Continue;
        }
        if !self.exempt.is_empty() && self.exempt.matches(&head.method, head.uri.path()) {
            return Flow::Continue;
        }
        match &cx.body {
            BodyView::NotRead => Flow::NeedBody { limit: self.limit },
            // The pipeline answers 413 for a body over the limit.
            BodyView::TooLarge => Flow::Continue,
            BodyView::Buffered(b) => match serde_json::from_slice::<IgnoredAny>(b) {
                Ok(_) => Flow::Continue,
                Err(e) => Flow::Reject(Rejection::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("the request body is not valid JSON: {e}"),
                    CONTROL,
                    format!("unparsable JSON body ({} bytes): {e}", b.len()),
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::Method;

    use super::*;

    fn check(
        l: &JsonBodyCheck,
        method: &str,
        path: &str,
        ct: &str,
        body: &'static [u8],
    ) -> Option<u16> {
        let (mut head, _) = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .header("content-length", body.len().to_string())
            .body(())
            .unwrap()
            .into_parts();
        let mut cx = Context::new(
            "127.0.0.1:1".parse().unwrap(),
            false,
            Method::POST,
            "/".parse().unwrap(),
        );
        loop {
            match l.check(&mut head, &mut cx) {
                Flow::Continue => return None,
                Flow::Reject(r) => return Some(r.status.as_u16()),
                Flow::NeedBody { .. } => cx.body = BodyView::Buffered(Bytes::from_static(body)),
                Flow::Wait(_) => panic!("json_body does not wait"),
            }
        }
    }

    #[test]
    fn rejects_bad_json_unless_exempt() {
        let l = JsonBodyCheck::new(
            &JsonBodySettings {
                enabled: true,
                exempt_routes: vec!["POST /hooks/{id}".into()],
            },
            1000,
        )
        .unwrap();
        assert_eq!(
            check(&l, "POST", "/orders", "application/json", b"{\"a\": "),
            Some(400)
        );
        assert_eq!(
            check(
                &l,
                "POST",
                "/orders",
                "application/json; charset=utf-8",
                b"{\"a\": [1, 2]}"
            ),
            None
        );
        assert_eq!(
            check(&l, "POST", "/orders", "application/vnd.api+json", b"nope"),
            Some(400)
        );
        assert_eq!(check(&l, "POST", "/orders", "text/plain", b"nope"), None);
        assert_eq!(
            check(&l, "POST", "/hooks/7", "application/json", b"nope"),
            None
        );
        assert_eq!(check(&l, "PUT", "/orders", "application/json", b""), None);
    }
}
