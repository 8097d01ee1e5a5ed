//! `flaskguard shield`: a secure-by-default reverse proxy in front of a Flask (or any
//! WSGI/ASGI) app on gunicorn or uvicorn.
//!
//! ```text
//! client -> server (HTTP/1.1, HTTP/2 over TLS) -> pipeline -> upstream (pooled, TCP or unix socket)
//!   request layers:  proxy_trust -> hosts -> https_redirect -> methods -> blocked_paths
//!                    -> traversal -> limits -> json_body -> csrf -> cors -> rate limit -> seal
//!   response:        errors -> cors -> seal -> cookies -> headers (+ CSP nonces)
//!                    -> audit log, metrics
//! ```
//!
//! - [`config`]: the `[shield]` section, its validation and the effective config.
//! - [`layer`]: the layer interface; [`layers`]: one module per control family.
//! - [`pipeline`], [`upstream`], [`server`]: the proxy itself.
//! - [`route`]: a small route matcher for per-route settings.
//! - [`implementations`]: which controls shield enforces, for `flaskguard checklist`.

pub mod audit_log;
pub mod body;
pub mod config;
pub mod context;
pub mod layer;
pub mod layers;
pub mod metrics;
pub mod pipeline;
pub mod redis_conn;
pub mod reply;
pub mod route;
pub mod server;
pub mod upstream;

pub use config::Settings;
pub use pipeline::Pipeline;
pub use server::{check, serve, Handle, Loader, StartError};

/// Every control shield enforces, from the layer registry.
pub fn implementations() -> Vec<checklist::Implementation> {
    layers::REGISTRY
        .iter()
        .flat_map(|(name, controls)| {
            controls
                .iter()
                .map(move |c| checklist::Implementation::new(checklist::Engine::Shield, c, name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_registered_control_exists() {
        let mut cov = checklist::Coverage::new();
        cov.register(super::implementations()).unwrap();
    }
}
