//! A small route matcher: `"POST /orders/{id}"`, `"/files/{*path}"`.
//!
//! Layers that act per route (JSON-body exemptions, and later CSRF bypasses and
//! rate limits) compile their patterns once at start with [`RouteSet::new`].
//! A pattern is an optional method list (`GET|HEAD`) and a path whose segments are
//! literals, `{name}` (one non-empty segment) or a final `{*name}` (the rest, maybe
//! empty). Matching is on the raw path, segment by segment, without allocating.

use http::Method;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
    Rest,
}

/// One compiled route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Empty: any method.
    methods: Vec<Method>,
    segments: Vec<Segment>,
    /// The pattern as written, for messages and logs.
    pub pattern: String,
}

impl Route {
    /// Parses a pattern; the error says what is wrong with it.
    pub fn parse(pattern: &str) -> Result<Route, String> {
        let text = pattern.trim();
        let (methods, path) = match text.split_once(char::is_whitespace) {
            Some((m, p)) if !m.starts_with('/') => (m, p.trim()),
            _ => ("", text),
        };
        let methods = methods
            .split('|')
            .filter(|m| !m.is_empty())
            .map(|m| {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| format!("`{m}` is not an HTTP method"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !path.starts_with('/') {
            return Err(format!("route `{text}`: the path must start with `/`"));
        }
        let parts: Vec<&str> = path[1..].split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, seg) in parts.iter().enumerate() {
            let s = if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if inner.starts_with('*') {
                    if i + 1 != parts.len() {
                        return Err(format!("route `{text}`: `{{*…}}` must be the last segment"));
                    }
                    Segment::Rest
                } else if inner.is_empty()
                    || !inner.chars().all(|c| c.is_alphanumeric() || c == '_')
                {
                    return Err(format!("route `{text}`: bad parameter `{seg}`"));
                } else {
                    Segment::Param
                }
            } else if seg.contains('{') || seg.contains('}') {
                return Err(format!(
                    "route `{text}`: `{seg}`: a parameter must be a whole segment"
                ));
            } else {
                Segment::Literal((*seg).to_string())
            };
            segments.push(s);
        }
        Ok(Route {
            methods,
            segments,
            pattern: text.to_string(),
        })
    }

    pub fn matches(&self, method: &Method, path: &str) -> bool {
        if !self.methods.is_empty() && !self.methods.contains(method) {
            return false;
        }
        let Some(path) = path.strip_prefix('/') else {
            return false;
        };
        let mut parts = path.split('/');
        for seg in &self.segments {
            match seg {
                Segment::Rest => return true,
                Segment::Param => match parts.next() {
                    Some(p) if !p.is_empty() => {}
                    _ => return false,
                },
                Segment::Literal(l) => match parts.next() {
                    Some(p) if p == l => {}
                    _ => return false,
                },
            }
        }
        parts.next().is_none()
    }
}

/// A list of routes, tried in order.
#[derive(Debug, Clone, Default)]
pub struct RouteSet {
    routes: Vec<Route>,
}

impl RouteSet {
    /// Compiles patterns; the error names the list index (`[2]: ...`).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<RouteSet, (usize, String)> {
        let routes = patterns
            .iter()
            .enumerate()
            .map(|(i, p)| Route::parse(p.as_ref()).map_err(|e| (i, e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RouteSet { routes })
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The first matching route.
    pub fn find(&self, method: &Method, path: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.matches(method, path))
    }

    pub fn matches(&self, method: &Method, path: &str) -> bool {
        self.find(method, path).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_params_and_methods() {
        let r = Route::parse("POST /orders/{id}/items").unwrap();
        assert!(r.matches(&Method::POST, "/orders/42/items"));
        assert!(!r.matches(&Method::GET, "/orders/42/items"));
        assert!(!r.matches(&Method::POST, "/orders//items"));
        assert!(!r.matches(&Method::POST, "/orders/42/items/x"));
        let any = Route::parse("/health").unwrap();
        assert!(any.matches(&Method::DELETE, "/health"));
        assert!(!any.matches(&Method::GET, "/health/"));
        let multi = Route::parse("GET|head /a").unwrap();
        assert!(multi.matches(&Method::HEAD, "/a"));
    }

    #[test]
    fn rest_segments() {
        let r = Route::parse("/static/{*path}").unwrap();
        assert!(r.matches(&Method::GET, "/static/"));
        assert!(r.matches(&Method::GET, "/static/a/b.css"));
        assert!(!r.matches(&Method::GET, "/stat"));
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(Route::parse("orders").unwrap_err().contains("must start"));
        assert!(Route::parse("/a/{*x}/b").unwrap_err().contains("last"));
        assert!(Route::parse("/a/x{id}")
            .unwrap_err()
            .contains("whole segment"));
        assert!(Route::parse("G@T /a").is_err());
        let e = RouteSet::new(&["/ok", "bad"]).unwrap_err();
        assert_eq!(e.0, 1);
    }
}
