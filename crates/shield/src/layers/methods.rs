//! INP007: only the configured methods pass (405 with `Allow` otherwise).

use http::{header, request, HeaderValue, Method, StatusCode};

use crate::{
    config::{ConfigError, MethodsSettings},
    context::Context,
    layer::{Flow, RequestLayer},
    reply::Rejection,
};

pub const CONTROL: &str = "INP007";

/// The INP007 layer.
#[derive(Debug, Clone)]
pub struct MethodAllowList {
    allow: Vec<Method>,
    allow_header: HeaderValue,
}

impl MethodAllowList {
    pub fn new(cfg: &MethodsSettings) -> Result<MethodAllowList, ConfigError> {
        let mut allow = Vec::new();
        for (i, m) in cfg.allow.iter().enumerate() {
            let key = format!("shield.methods.allow[{i}]");
            let upper = m.trim().to_ascii_uppercase();
            if matches!(upper.as_str(), "TRACE" | "TRACK") {
                return Err(ConfigError::new(
                    key,
                    format!(
                        "{upper} echoes requests back (cross-site tracing); it cannot be allowed"
                    ),
                ));
            }
            if upper == "CONNECT" {
                return Err(ConfigError::new(
                    key,
                    "CONNECT would turn shield into an open tunnel; it cannot be allowed",
                ));
            }
            let method = Method::from_bytes(upper.as_bytes())
                .map_err(|_| ConfigError::new(key, format!("`{m}` is not an HTTP method")))?;
            if !allow.contains(&method) {
                allow.push(method);
            }
        }
        if allow.is_empty() {
            return Err(ConfigError::new(
                "shield.methods.allow",
                "allows no method at all",
            ));
        }
        let joined = allow
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let allow_header = HeaderValue::from_str(&joined)
            .map_err(|_| ConfigError::new("shield.methods.allow", "invalid method names"))?;
        Ok(MethodAllowList {
            allow,
            allow_header,
        })
    }
}

impl RequestLayer for MethodAllowList {
    fn name(&self) -> &'static str {
        "methods"
    }

    fn check(&self, head: &mut request::Parts, _cx: &mut Context) -> Flow {
        if self.allow.contains(&head.method) {
            return Flow::Continue;
        }
        Flow::Reject(
            Rejection::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed",
                CONTROL,
                format!("method {} is not in methods.allow", head.method),
            )
            .with_header(header::ALLOW, self.allow_header.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_trace() {
        let e = MethodAllowList::new(&MethodsSettings {
            allow: vec!["GET".into(), "trace".into()],
        })
        .unwrap_err();
        assert_eq!(e.key, "shield.methods.allow[1]");
    }

    #[test]
    fn rejects_unlisted_with_allow_header() {
        let l = MethodAllowList::new(&MethodsSettings::default()).unwrap();
        let (mut head, _) = http::Request::builder()
            .method("TRACE")
            .uri("/")
            .body(())
            .unwrap()
            .into_parts();
        let mut cx = Context::for_test(Method::GET);
        match l.check(&mut head, &mut cx) {
            Flow::Reject(r) => {
                assert_eq!(r.status, 405);
                assert_eq!(
                    r.headers[0].1,
                    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
                );
            }
            _ => panic!("TRACE passed"),
        }
        let (mut head, _) = http::Request::builder()
            .method("PATCH")
            .uri("/")
            .body(())
            .unwrap()
            .into_parts();
        assert!(matches!(l.check(&mut head, &mut cx), Flow::Continue));
    }
}
