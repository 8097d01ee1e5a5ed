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

/// The controls shield enforces under `settings`, each with the layer that
/// enforces it: the layers this config builds (see [`layers::REGISTRY`]), for
/// `flaskguard audit` to tell what the gateway covers. The host check counts
/// only with `allowed_hosts` set (without it shield allows every Host). An
/// invalid config is an error naming the key, as at start.
pub fn enforced_controls(
    settings: &Settings,
) -> Result<std::collections::BTreeMap<&'static str, &'static str>, String> {
    let v = check(settings)?;
    let env = |k: &str| std::env::var(k).ok();
    let stacks = layers::build(
        &v,
        &layers::BuildEnv {
            limiter: std::sync::Arc::new(layers::ratelimit::memory::MemoryStore::new(16)),
            workers: 1,
            env: &env,
        },
    )
    .map_err(|e| e.to_string())?;
    let mut built: std::collections::BTreeSet<&'static str> = stacks
        .request
        .iter()
        .map(|l| l.name())
        .chain(stacks.response.iter().map(|l| l.name()))
        .collect();
    // The error sanitiser runs in the pipeline, outside the stacks.
    if v.settings.errors.sanitize {
        built.insert("errors");
    }
    let mut out = std::collections::BTreeMap::new();
    for (layer, controls) in layers::REGISTRY {
        if !built.contains(layer) {
            continue;
        }
        for c in *controls {
            if *c == "PRX002" && v.settings.allowed_hosts.is_empty() {
                continue;
            }
            out.entry(*c).or_insert(*layer);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_registered_control_exists() {
        let mut cov = checklist::Coverage::new();
        cov.register(super::implementations()).unwrap();
    }

    #[test]
    fn enforced_controls_follow_the_config() {
        let mut s = super::Settings {
            upstream: "http://127.0.0.1:8000".into(),
            ..super::Settings::default()
        };
        let all = super::enforced_controls(&s).unwrap();
        for c in [
            "HDR001", "CSR001", "RL001", "COR001", "INP003", "ERR002", "CKE001",
        ] {
            assert!(all.contains_key(c), "{c} not in {all:?}");
        }
        assert!(
            !all.contains_key("PRX002"),
            "no allowed_hosts: every Host passes"
        );
        s.allowed_hosts = vec!["api.example.com".into()];
        s.csrf.enabled = false;
        s.rate_limit.enabled = false;
        let some = super::enforced_controls(&s).unwrap();
        assert_eq!(some.get("PRX002"), Some(&"hosts"));
        assert!(
            !some.contains_key("CSR001") && !some.contains_key("RL001"),
            "{some:?}"
        );
    }
}
