//! The request half of CORS: picks the policy, answers preflights at the edge and
//! records the verdict for the response half.

use http::{header, request, HeaderName, HeaderValue, Method, StatusCode};

use super::{Cors, Verdict, CONTROL, CONTROL_PATTERNS};
use crate::{
    context::Context,
    layer::{Flow, RequestLayer},
    reply::Rejection,
};

static ACRM: HeaderName = HeaderName::from_static("access-control-request-method");
static ACRH: HeaderName = HeaderName::from_static("access-control-request-headers");

/// The request half.
#[derive(Debug, Clone)]
pub struct CorsRequest(pub(super) Cors);

fn refuse(
    code: &'static str,
    message: &'static str,
    control: &'static str,
    reason: String,
) -> Rejection {
    Rejection::new(StatusCode::FORBIDDEN, code, message, control, reason).with_header(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    )
}

/// A header value for logs: bounded, printable.
fn shown(v: &[u8]) -> String {
    String::from_utf8_lossy(&v[..v.len().min(200)]).into_owned()
}

impl RequestLayer for CorsRequest {
    fn name(&self) -> &'static str {
        "cors"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        let ps = &self.0.policies;
        let origin = head.headers.get(header::ORIGIN).cloned();
        let preflight =
            head.method == Method::OPTIONS && origin.is_some() && head.headers.contains_key(&ACRM);
        let (idx, p) = if preflight {
            let asked = head
                .headers
                .get(&ACRM)
                .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
                .unwrap_or(Method::OPTIONS);
            ps.find(&asked, head.uri.path())
        } else {
            ps.find(&head.method, head.uri.path())
        };
        if !p.cookies {
            head.headers.remove(header::COOKIE);
        }
        let allowed = origin
            .as_ref()
            .filter(|o| p.origins.any || p.origins.allows(o.as_bytes()))
            .cloned();
        cx.cors = Some(Verdict {
            policy: idx,
            origin: allowed.clone(),
            preflight,
        });
        if !preflight {
            return Flow::Continue;
        }
        let origin = origin.unwrap_or(HeaderValue::from_static(""));
        let Some(allowed) = allowed else {
            return Flow::Reject(refuse(
                "cors_origin_not_allowed",
                "this origin may not call this API",
                if p.origins.is_empty() {
                    CONTROL
                } else {
                    CONTROL_PATTERNS
                },
                format!(
                    "preflight from origin `{}` not in the allow-list",
                    shown(origin.as_bytes())
                ),
            ));
        };
        let method = head.headers.get(&ACRM).map_or(&b""[..], |m| m.as_bytes());
        if !p.methods.allows(method) {
            return Flow::Reject(refuse(
                "cors_method_not_allowed",
                "this method may not be used cross-origin",
                CONTROL_PATTERNS,
                format!("preflight asks for method `{}`", shown(method)),
            ));
        }
        let asked_headers = head
            .headers
            .get_all(&ACRH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        if !p.headers.allows(&asked_headers) {
            return Flow::Reject(refuse(
                "cors_headers_not_allowed",
                "these request headers may not be sent cross-origin",
                CONTROL_PATTERNS,
                format!(
                    "preflight asks for headers `{}`; not in shield.cors.allow_headers: `{}`",
                    shown(asked_headers.as_bytes()),
                    shown(p.headers.refused(&asked_headers).as_bytes())
                ),
            ));
        }
        let mut h = vec![
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                if p.origins.any {
                    HeaderValue::from_static("*")
                } else {
                    allowed
                },
            ),
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                p.methods.header.clone(),
            ),
            (header::ACCESS_CONTROL_MAX_AGE, p.max_age.clone()),
            (
                header::VARY,
                HeaderValue::from_static(
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                ),
            ),
        ];
        if let Some(ah) = &p.headers.header {
            h.push((header::ACCESS_CONTROL_ALLOW_HEADERS, ah.clone()));
        }
        if p.credentials {
            h.push((
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            ));
        }
        Flow::Reject(Rejection::no_content(h))
    }
}
