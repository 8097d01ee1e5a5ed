//! The controls, one module per family, and their order.
//!
//! [`request_stack`] and [`response_stack`] are the single place that decides which
//! layers run and in what order; a new control is one module and one line here
//! (see LAYERS.md). [`REGISTRY`] names what each layer enforces, for
//! `flaskguard checklist`.

pub mod blocked_paths;
pub mod cookies;
pub mod csp_nonce;
pub mod errors;
pub mod headers;
pub mod hosts;
pub mod https_redirect;
pub mod json_body;
pub mod limits;
pub mod methods;
pub mod proxy_trust;
pub mod traversal;

use crate::{
    config::{ConfigError, Validated},
    layer::{RequestLayer, ResponseLayer},
};

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
    ("errors", &["ERR002", "ERR003", "DBG001"]),
    ("cookies", &["CKE001", "CKE002", "CKE003", "CKE006"]),
    (
        "headers",
        &[
            "HDR001", "HDR002", "HDR003", "HDR004", "HDR005", "HDR006", "HDR007", "HDR009",
            "INJ002",
        ],
    ),
    ("audit_log", &["OPS003"]),
];

/// The request layers, in order. The limits layer is also returned on its own: the
/// pipeline needs its body limit while streaming.
pub fn request_stack(
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
        stack.push(Box::new(traversal::TraversalGuard));
    }
    stack.push(Box::new(limits.clone()));
    let json = json_body::JsonBodyCheck::new(&s.json_body, limits.max_body)?;
    if s.json_body.enabled {
        stack.push(Box::new(json));
    }
    // The next layers (CSRF, CORS, rate limit) go here, in that order.
    Ok((stack, limits))
}

/// The response layers that edit the head, in order (after error sanitising).
pub fn response_stack(v: &Validated) -> Result<Vec<Box<dyn ResponseLayer>>, ConfigError> {
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
