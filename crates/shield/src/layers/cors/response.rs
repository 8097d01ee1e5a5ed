//! The response half of CORS: the upstream's own `Access-Control-*` headers out,
//! shield's in, `Vary: Origin`, and cookies stripped on public routes.

use http::{header, response, HeaderName, HeaderValue};

use super::{vary, Cors, CONTROL};
use crate::{context::Context, layer::ResponseLayer};

/// The response half.
#[derive(Debug, Clone)]
pub struct CorsResponse(pub(super) Cors);

fn strip_upstream(h: &mut http::HeaderMap) {
    let names: Vec<HeaderName> = h
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for n in names {
        h.remove(n);
    }
}

impl ResponseLayer for CorsResponse {
    fn name(&self) -> &'static str {
        "cors"
    }

    fn apply(&self, head: &mut response::Parts, cx: &mut Context) {
        let Some(v) = cx.cors.clone() else {
            // The request was refused before CORS looked at it: nothing of ours to add,
            // but nothing of the upstream's either.
            strip_upstream(&mut head.headers);
            return;
        };
        if v.preflight {
            return;
        }
        let p = self.0.policies.get(v.policy);
        strip_upstream(&mut head.headers);
        if !p.cookies && head.headers.remove(header::SET_COOKIE).is_some() {
            cx.note(
                CONTROL,
                "strip",
                "Set-Cookie removed on a cookies = false route",
            );
        }
        let h = &mut head.headers;
        if p.origins.any {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        } else if !p.origins.is_empty() {
            vary::add(h, &["Origin"]);
            let Some(o) = &v.origin else { return };
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
            if p.credentials {
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
            }
        } else {
            return;
        }
        if let Some(e) = &p.expose {
            h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, e.clone());
        }
    }
}
