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
mod request;
mod response;
pub mod vary;

pub use request::CorsRequest;
pub use response::CorsResponse;

use std::sync::Arc;

use http::{HeaderValue, Method};

use self::{
    allow_methods::{AllowHeaders, AllowMethods},
    allow_origin::AllowOrigin,
};
use crate::{
    config::{ConfigError, CorsRouteSettings, CorsSettings},
    route::RouteSet,
};

pub const CONTROL: &str = "COR001";
pub const CONTROL_CREDENTIALS: &str = "COR002";
pub const CONTROL_PATTERNS: &str = "COR003";

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

#[cfg(test)]
mod tests;
