//! `Access-Control-Allow-Methods` and `-Allow-Headers`: explicit lists, built once.
//!
//! Methods are listed explicitly (`*` is refused: it would be literal with
//! credentials and hides what the API accepts). Headers may be `*` without
//! credentials (COR003); with credentials they must be listed.

use http::{HeaderName, HeaderValue, Method};

/// The allowed methods of one policy.
#[derive(Debug, Clone)]
pub struct AllowMethods {
    list: Vec<Method>,
    pub header: HeaderValue,
}

impl AllowMethods {
    /// Errors carry the list index.
    pub fn new(items: &[String]) -> Result<AllowMethods, (usize, String)> {
        let mut list = Vec::new();
        for (i, m) in items.iter().enumerate() {
            let t = m.trim();
            if t == "*" {
                return Err((i, "list the methods (`*` is literal when credentials are sent, and hides what the API accepts)".into()));
            }
            let method = Method::from_bytes(t.to_ascii_uppercase().as_bytes())
                .map_err(|_| (i, format!("`{t}` is not an HTTP method")))?;
            if matches!(method.as_str(), "TRACE" | "TRACK" | "CONNECT") {
                return Err((i, format!("`{t}` may not be allowed cross-origin")));
            }
            if !list.contains(&method) {
                list.push(method);
            }
        }
        if list.is_empty() {
            return Err((0, "at least one method".into()));
        }
        let text = list
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        Ok(AllowMethods {
            header: HeaderValue::from_str(&text).map_err(|_| (0, "bad method list".to_string()))?,
            list,
        })
    }

    /// `Access-Control-Request-Method` is allowed.
    pub fn allows(&self, requested: &[u8]) -> bool {
        self.list.iter().any(|m| m.as_str().as_bytes() == requested)
    }
}

/// The allowed request headers of one policy.
#[derive(Debug, Clone)]
pub struct AllowHeaders {
    pub any: bool,
    /// Lower-case names.
    list: Vec<String>,
    pub header: Option<HeaderValue>,
}

impl AllowHeaders {
    pub fn new(items: &[String]) -> Result<AllowHeaders, (usize, String)> {
        let mut list = Vec::new();
        let mut any = false;
        for (i, h) in items.iter().enumerate() {
            let t = h.trim();
            if t == "*" {
                any = true;
                continue;
            }
            HeaderName::from_bytes(t.as_bytes())
                .map_err(|_| (i, format!("`{t}` is not a header name")))?;
            list.push(t.to_ascii_lowercase());
        }
        if any && !list.is_empty() {
            return Err((0, "`*` allows every header: list it alone".into()));
        }
        let header = if any {
            Some(HeaderValue::from_static("*"))
        } else if list.is_empty() {
            None
        } else {
            Some(
                HeaderValue::from_str(
                    &items
                        .iter()
                        .map(|s| s.trim())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
                .map_err(|_| (0, "bad header list".to_string()))?,
            )
        };
        Ok(AllowHeaders { any, list, header })
    }

    /// Every name of `Access-Control-Request-Headers` is allowed.
    pub fn allows(&self, requested: &str) -> bool {
        self.any
            || requested
                .split(',')
                .map(|h| h.trim())
                .filter(|h| !h.is_empty())
                .all(|h| self.list.iter().any(|a| a.eq_ignore_ascii_case(h)))
    }

    /// The requested names that are not allowed, comma-separated (for messages).
    pub fn refused(&self, requested: &str) -> String {
        if self.any {
            return String::new();
        }
        requested
            .split(',')
            .map(|h| h.trim())
            .filter(|h| !h.is_empty() && !self.list.iter().any(|a| a.eq_ignore_ascii_case(h)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A list of response headers scripts may read (`Access-Control-Expose-Headers`).
pub fn expose(items: &[String]) -> Result<Option<HeaderValue>, (usize, String)> {
    for (i, h) in items.iter().enumerate() {
        if h.trim() != "*" {
            HeaderName::from_bytes(h.trim().as_bytes())
                .map_err(|_| (i, format!("`{h}` is not a header name")))?;
        }
    }
    if items.is_empty() {
        return Ok(None);
    }
    HeaderValue::from_str(
        &items
            .iter()
            .map(|s| s.trim())
            .collect::<Vec<_>>()
            .join(", "),
    )
    .map(Some)
    .map_err(|_| (0, "bad header list".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn methods() {
        let m = AllowMethods::new(&s(&["get", "POST", "DELETE"])).unwrap();
        assert_eq!(m.header, "GET, POST, DELETE");
        assert!(m.allows(b"DELETE") && !m.allows(b"PUT") && !m.allows(b"delete"));
        assert_eq!(AllowMethods::new(&s(&["GET", "*"])).unwrap_err().0, 1);
        assert!(AllowMethods::new(&s(&["TRACE"])).is_err());
    }

    #[test]
    fn headers() {
        let h = AllowHeaders::new(&s(&["Content-Type", "Authorization"])).unwrap();
        assert!(h.allows("content-type, authorization"));
        assert!(h.allows(""));
        assert!(!h.allows("content-type, x-secret"));
        assert_eq!(
            h.refused("content-type, x-secret,X-Client-Version"),
            "x-secret, X-Client-Version"
        );
        assert!(AllowHeaders::new(&s(&["*"])).unwrap().allows("x-anything"));
        assert!(AllowHeaders::new(&s(&["bad header"])).is_err());
        assert_eq!(
            expose(&s(&["RateLimit", "X-Request-Id"])).unwrap().unwrap(),
            "RateLimit, X-Request-Id"
        );
    }
}
