//! COR001-COR003: shield owns CORS.
//!
//! - Request side ([`CorsRequest`]): picks the policy (the first `[[shield.cors.routes]]`
//!   entry whose routes match, else `[shield.cors]`; a preflight is matched with the
//!   method it asks for), answers preflights at the edge (204 with the allowed
//!   methods, headers and `max_age`, or 403 JSON for an origin, method or header
//!   that is not allowed) and records the verdict for the response side.
//! - Response side ([`CorsResponse`]): removes the upstream's own
//!   `Access-Control-*` headers, then sets `Access-Control-Allow-Origin` (the
//!   request's origin when it is allowed, never a reflection of anything else),
//!   credentials and expose headers, and `Vary: Origin` whenever the answer depends
//!   on the origin. shield's own errors (429, 413…) get the same headers, so an
//!   allowed frontend can read them.
//!
//! A route marked `cookies = false` is public: shield strips `Cookie` from its
//! requests and `Set-Cookie` from its responses, and only there may
//! `allow_origins = ["*"]` be used (without credentials). Every other route "sees
//! cookies" and must list its origins. With no origins configured there is no
//! cross-origin access at all: no `Access-Control-Allow-Origin`, preflights 403.

pub mod allow_methods;
pub mod allow_origin;
pub mod max_age;
pub mod vary;

use std::sync::Arc;

use http::{header, request, response, HeaderName, HeaderValue, Method, StatusCode};

use self::{
    allow_methods::{AllowHeaders, AllowMethods},
    allow_origin::AllowOrigin,
};
use crate::{
    config::{ConfigError, CorsRouteSettings, CorsSettings},
    context::Context,
    layer::{Flow, RequestLayer, ResponseLayer},
    reply::Rejection,
    route::RouteSet,
};

pub const CONTROL: &str = "COR001";
pub const CONTROL_CREDENTIALS: &str = "COR002";
pub const CONTROL_PATTERNS: &str = "COR003";

static ACRM: HeaderName = HeaderName::from_static("access-control-request-method");
static ACRH: HeaderName = HeaderName::from_static("access-control-request-headers");

/// One compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub origins: AllowOrigin,
    methods: AllowMethods,
    headers: AllowHeaders,
    expose: Option<HeaderValue>,
    credentials: bool,
    max_age: HeaderValue,
    pub cookies: bool,
}

/// What the request side decided.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Index of the policy: 0 is `[shield.cors]`, i+1 the i-th route entry.
    pub policy: usize,
    /// The request's origin, when allowed (sent back as `Access-Control-Allow-Origin`).
    pub origin: Option<HeaderValue>,
    /// shield answered the preflight itself.
    pub preflight: bool,
}

#[derive(Debug)]
struct Policies {
    default: Policy,
    routes: Vec<(RouteSet, Policy)>,
}

impl Policies {
    fn get(&self, i: usize) -> &Policy {
        match i {
            0 => &self.default,
            i => self.routes.get(i - 1).map_or(&self.default, |(_, p)| p),
        }
    }

    fn find(&self, method: &Method, path: &str) -> (usize, &Policy) {
        self.routes
            .iter()
            .enumerate()
            .find(|(_, (r, _))| r.matches(method, path))
            .map_or((0, &self.default), |(i, (_, p))| (i + 1, p))
    }
}

/// Both halves of the CORS layer, sharing one compiled config.
#[derive(Debug, Clone)]
pub struct Cors {
    policies: Arc<Policies>,
}

fn at(key: String) -> impl Fn((usize, String)) -> ConfigError {
    move |(i, e)| ConfigError::new(format!("{key}[{i}]"), e)
}

#[allow(clippy::too_many_arguments)]
fn build(
    key: &str,
    origins: &[String],
    methods: &[String],
    headers: &[String],
    expose: &[String],
    credentials: bool,
    max_age: crate::config::Dur,
    cookies: bool,
) -> Result<Policy, ConfigError> {
    let origins_key = format!("{key}.allow_origins");
    let o = AllowOrigin::new(origins).map_err(at(origins_key.clone()))?;
    if o.any && credentials {
        return Err(ConfigError::new(
            origins_key,
            "`*` with allow_credentials = true would let every site read responses made with the user's cookies (COR002); list the origins",
        ));
    }
    if o.any && cookies {
        return Err(ConfigError::new(
            origins_key,
            "`*` is only allowed on public routes: add a [[shield.cors.routes]] entry with cookies = false (shield then strips cookies there), or list the origins",
        ));
    }
    let h = AllowHeaders::new(headers).map_err(at(format!("{key}.allow_headers")))?;
    if h.any && credentials {
        return Err(ConfigError::new(
            format!("{key}.allow_headers"),
            "`*` with allow_credentials = true: list the headers (COR003)",
        ));
    }
    Ok(Policy {
        origins: o,
        methods: AllowMethods::new(methods).map_err(at(format!("{key}.allow_methods")))?,
        headers: h,
        expose: allow_methods::expose(expose).map_err(at(format!("{key}.expose_headers")))?,
        credentials,
        max_age: max_age::header(max_age)
            .map_err(|e| ConfigError::new(format!("{key}.max_age"), e))?,
        cookies,
    })
}

impl Cors {
    pub fn new(s: &CorsSettings) -> Result<Cors, ConfigError> {
        let default = build(
            "shield.cors",
            &s.allow_origins,
            &s.allow_methods,
            &s.allow_headers,
            &s.expose_headers,
            s.allow_credentials,
            s.max_age,
            true,
        )?;
        let mut routes = Vec::new();
        for (i, r) in s.routes.iter().enumerate() {
            routes.push(route(s, i, r)?);
        }
        Ok(Cors {
            policies: Arc::new(Policies { default, routes }),
        })
    }

    /// The top-level allowed origins (CSRF's default trusted origins).
    pub fn default_origins(&self) -> &AllowOrigin {
        &self.policies.default.origins
    }

    pub fn request_layer(&self) -> CorsRequest {
        CorsRequest(self.clone())
    }

    pub fn response_layer(&self) -> CorsResponse {
        CorsResponse(self.clone())
    }
}

fn route(
    s: &CorsSettings,
    i: usize,
    r: &CorsRouteSettings,
) -> Result<(RouteSet, Policy), ConfigError> {
    let key = format!("shield.cors.routes[{i}]");
    if r.routes.is_empty() {
        return Err(ConfigError::new(
            format!("{key}.routes"),
            "at least one route",
        ));
    }
    let set = RouteSet::new(&r.routes).map_err(at(format!("{key}.routes")))?;
    let p = build(
        &key,
        r.allow_origins.as_deref().unwrap_or(&s.allow_origins),
        r.allow_methods.as_deref().unwrap_or(&s.allow_methods),
        r.allow_headers.as_deref().unwrap_or(&s.allow_headers),
        r.expose_headers.as_deref().unwrap_or(&s.expose_headers),
        r.allow_credentials.unwrap_or(s.allow_credentials),
        r.max_age.unwrap_or(s.max_age),
        r.cookies.unwrap_or(true),
    )?;
    if !p.cookies && p.credentials {
        return Err(ConfigError::new(
            format!("{key}.allow_credentials"),
            "a route with cookies = false sends no credentials",
        ));
    }
    Ok((set, p))
}

/// The request half.
#[derive(Debug, Clone)]
pub struct CorsRequest(Cors);

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
                    "preflight asks for headers `{}`",
                    shown(asked_headers.as_bytes())
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

/// The response half.
#[derive(Debug, Clone)]
pub struct CorsResponse(Cors);

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

#[cfg(test)]
mod tests;
