//! The controls, one module per family, and their order.
//!
//! [`request_stack`] and [`response_stack`] are the single place that decides which
//! layers run and in what order; a new control is one module and one line here
//! (see LAYERS.md). [`REGISTRY`] names what each layer enforces, for
//! `flaskguard checklist`.

pub mod blocked_paths;
pub mod compress;
pub mod cookies;
pub mod cors;
pub mod csp_nonce;
pub mod csrf;
pub mod errors;
pub mod headers;
pub mod hosts;
pub mod https_redirect;
pub mod json_body;
pub mod limits;
pub mod methods;
pub mod proxy_trust;
pub mod ratelimit;
pub mod schema;
pub mod seal;
pub mod traversal;

use std::sync::Arc;

use crate::{
    config::{ConfigError, Validated},
    layer::{RequestLayer, ResponseLayer},
};

/// What building the layers needs besides the config.
pub struct BuildEnv<'a> {
    /// The process-wide rate-limit counters (they outlive reloads).
    pub limiter: Arc<ratelimit::memory::MemoryStore>,
    /// Worker threads (one Redis connection each).
    pub workers: usize,
    /// Reads an environment variable (seal keys).
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Both stacks, built from one config.
pub struct Stacks {
    pub request: Vec<Box<dyn RequestLayer>>,
    pub limits: limits::SizeLimits,
    pub response: Vec<Box<dyn ResponseLayer>>,
}

/// Which controls each layer enforces: `(layer name, control IDs)`.
pub const REGISTRY: &[(&str, &[&str])] = &[
    ("proxy_trust", &["PRX001"]),
    ("hosts", &["PRX002"]),
    ("https_redirect", &["TLS001", "TLS002"]),
    ("tls", &["TLS003"]),
    ("methods", &["INP007"]),
    ("blocked_paths", &["DBG001", "DBG002", "KEY004"]),
    ("traversal", &["INP005"]),
    ("limits", &["INP003"]),
    ("json_body", &["INP001"]),
    ("schema", &["INP002"]),
    ("errors", &["ERR002", "ERR003", "DBG001"]),
    ("cookies", &["CKE001", "CKE002", "CKE003", "CKE006"]),
    (
        "headers",
        &[
            "HDR001", "HDR002", "HDR003", "HDR004", "HDR005", "HDR006", "HDR007", "HDR009",
            "INJ002",
        ],
    ),
    ("csrf", &["CSR001"]),
    ("cors", &["COR001", "COR002", "COR003"]),
    ("ratelimit", &["RL001", "RL002", "RL003", "RL004", "RL005"]),
    ("seal", &["CKE004"]),
    ("audit_log", &["OPS003"]),
];

/// Builds every layer. Layers with a request and a response half (CORS, sealing)
/// are compiled once and shared by both.
pub fn build(v: &Validated, env: &BuildEnv<'_>) -> Result<Stacks, ConfigError> {
    let s = &v.settings;
    let cors = cors::Cors::new(&s.cors)?;
    let csrf = csrf::CsrfProtection::new(&s.csrf, &s.cors.allow_origins)?;
    let rate = ratelimit::RateLimit::new(&s.rate_limit, env.limiter.clone(), env.workers)?;
    let redis_default =
        (s.rate_limit.storage.trim() != "memory").then_some(s.rate_limit.storage.trim());
    let seal = seal::Seal::new(
        &s.seal,
        env.env,
        redis_default,
        env.workers,
        s.rate_limit.redis_timeout.get(),
    )?
    .map(|seal| {
        let cap = (s.cookies.enabled && !s.cookies.max_age.get().is_zero())
            .then(|| s.cookies.max_age.get());
        seal.with_ttl_cap(cap)
    });
    let (mut request, limits) = request_stack(v)?;
    if s.csrf.enabled {
        request.push(Box::new(csrf));
    }
    request.push(Box::new(cors.request_layer()));
    if s.rate_limit.enabled {
        request.push(Box::new(rate));
    }
    if let Some(seal) = &seal {
        request.push(Box::new(seal.request_layer()));
    }
    let mut response: Vec<Box<dyn ResponseLayer>> = vec![Box::new(cors.response_layer())];
    if let Some(seal) = &seal {
        response.push(Box::new(seal.response_layer()));
    }
    response.extend(response_stack(v)?);
    Ok(Stacks {
        request,
        limits,
        response,
    })
}

/// The request layers up to json_body and schema, in order ([`build`] adds CSRF, CORS, the
/// rate limit and sealing). The limits layer is also returned on its own: the
/// pipeline needs its body limit while streaming.
fn request_stack(
    v: &Validated,
) -> Result<(Vec<Box<dyn RequestLayer>>, limits::SizeLimits), ConfigError> {
    let s = &v.settings;
    let limits = limits::SizeLimits::new(&s.limits)?;
    let mut stack: Vec<Box<dyn RequestLayer>> = vec![
        Box::new(proxy_trust::ClientResolver::new(&s.trusted_proxies)?),
        Box::new(hosts::AllowedHosts::new(&s.allowed_hosts)?),
    ];
    if s.tls.redirect_http {
        stack.push(Box::new(https_redirect::HttpsRedirect {
            https_port: v.tls.as_ref().map(|_| v.listen.port()),
        }));
    }
    stack.push(Box::new(methods::MethodAllowList::new(&s.methods)?));
    stack.push(Box::new(blocked_paths::BlockedPaths::new(
        &s.blocked_paths,
    )?));
    if s.traversal.enabled {
        stack.push(Box::new(traversal::TraversalGuard {
            allow_encoded_slash: s.traversal.allow_encoded_slash,
        }));
    }
    stack.push(Box::new(limits.clone()));
    let json = json_body::JsonBodyCheck::new(&s.json_body, limits.max_body)?;
    if s.json_body.enabled {
        stack.push(Box::new(json));
    }
    if let Some(schema) = schema::SchemaCheck::new(&s.schema, limits.max_body)? {
        stack.push(Box::new(schema));
    }
    Ok((stack, limits))
}

/// The response layers after CORS and sealing: cookie hardening, headers.
fn response_stack(v: &Validated) -> Result<Vec<Box<dyn ResponseLayer>>, ConfigError> {
    let s = &v.settings;
    let mut stack: Vec<Box<dyn ResponseLayer>> = Vec::new();
    if s.cookies.enabled {
        stack.push(Box::new(cookies::CookieHardening::new(&s.cookies)?));
    } else {
        cookies::CookieHardening::new(&s.cookies)?;
    }
    stack.push(Box::new(headers::SecurityHeaders::new(&s.headers)?));
    Ok(stack)
}
