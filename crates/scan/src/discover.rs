//! Finding the API surface from the outside: which paths answer JSON, which look
//! like login endpoints, which list resources, which need a token. Sources are the
//! target's own pages (links in HTML, URLs in JSON), a short list of conventional
//! Flask API paths, and the `--login-path` the user names.

use std::collections::BTreeSet;

use crate::client::HttpResponse;

/// Conventional paths asked for once per scan (cheap GETs; most will 404).
pub const SEEDS: &[&str] = &[
    "/api",
    "/api/",
    "/api/v1/",
    "/openapi.json",
    "/swagger.json",
    "/login",
    "/auth/login",
    "/api/login",
    "/api/auth/login",
    "/health",
];

/// Last path segments that name a login (or token-issuing) endpoint.
const LOGIN_NAMES: &[&str] = &[
    "login",
    "signin",
    "sign-in",
    "sign_in",
    "token",
    "authenticate",
    "session",
    "sessions",
];

/// Endpoints that commonly sit next to a login endpoint.
pub const LOGIN_SIBLINGS: &[&str] = &["logout", "whoami", "me"];

/// At most this many discovered links are followed.
pub const MAX_LINKS: usize = 12;

/// What discovery learnt. Paths are absolute paths on the target (no query).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Paths that answered 2xx with JSON.
    pub json_endpoints: BTreeSet<String>,
    /// JSON endpoints whose body holds a list of objects (a resource collection).
    pub collections: BTreeSet<String>,
    /// Login endpoints: named like one and answering (2xx, or 405 to GET).
    pub login_paths: BTreeSet<String>,
    /// Endpoints that answered 401 (need a credential).
    pub auth_required: BTreeSet<String>,
    /// Paths that answered a redirect (candidates for open-redirect parameters).
    pub redirectors: BTreeSet<String>,
    /// Every same-origin path seen in a body.
    pub links: BTreeSet<String>,
}

impl Discovery {
    /// Learns from one answer to `GET path`. `soft404` says the answer is the
    /// catch-all page, which teaches nothing.
    pub fn learn(&mut self, path: &str, resp: &HttpResponse, soft404: bool, host: &str) {
        let path = strip_query(path);
        if !soft404 {
            let ok = (200..300).contains(&resp.status);
            if ok && resp.is_json() {
                self.json_endpoints.insert(path.to_string());
                if holds_list(&resp.body) {
                    self.collections.insert(path.to_string());
                }
            }
            if looks_like_login(path) && (ok || resp.status == 405) {
                self.login_paths.insert(path.to_string());
            }
            if resp.status == 401 {
                self.auth_required.insert(path.to_string());
            }
            if resp.is_redirect() {
                self.redirectors.insert(path.to_string());
            }
        }
        if resp.is_html() || resp.is_json() {
            for link in links(&resp.text(), host) {
                // The app itself points at it: a real endpoint even when GET
                // answers 404 (POST-only routes shadowed by a catch-all static route).
                if looks_like_login(&link) {
                    self.login_paths.insert(link.clone());
                }
                self.links.insert(link);
            }
        }
    }

    /// The JSON endpoint best suited to header probes (CORS, Host): a collection
    /// first, then any JSON endpoint.
    pub fn api_endpoints(&self, max: usize) -> Vec<String> {
        let mut out: Vec<String> = self.collections.iter().cloned().collect();
        for p in &self.json_endpoints {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
        out.truncate(max);
        out
    }
}

pub fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

pub fn looks_like_login(path: &str) -> bool {
    let last = strip_query(path)
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    LOGIN_NAMES.contains(&last.as_str())
}

/// `/a/b/login` → `/a/b/logout`, `/a/b/whoami`, `/a/b/me`.
pub fn siblings(login_path: &str) -> Vec<String> {
    let base = strip_query(login_path).trim_end_matches('/');
    let parent = base.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    LOGIN_SIBLINGS
        .iter()
        .map(|s| format!("{parent}/{s}"))
        .collect()
}

/// Whether a JSON body holds a list of objects at the top level or one level down.
fn holds_list(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let is_list = |v: &serde_json::Value| {
        v.as_array()
            .is_some_and(|a| a.iter().all(|x| x.is_object()))
    };
    match &value {
        serde_json::Value::Array(_) => is_list(&value),
        serde_json::Value::Object(map) => map.values().any(is_list),
        _ => false,
    }
}

/// Same-origin paths referenced in a body: `href`/`src`/`action` attributes in
/// HTML, string values in JSON. Absolute URLs count only on `host`.
pub fn links(body: &str, host: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |raw: &str| {
        if let Some(p) = same_origin_path(raw, host) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let mut stack = vec![&value];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::String(s) => push(s),
                serde_json::Value::Array(a) => stack.extend(a.iter()),
                serde_json::Value::Object(m) => stack.extend(m.values()),
                _ => {}
            }
        }
        return out;
    }
    for attr in ["href=", "src=", "action="] {
        let mut rest = body;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let quote = rest.chars().next().unwrap_or(' ');
            if quote != '"' && quote != '\'' {
                continue;
            }
            let value = &rest[1..];
            if let Some(end) = value.find(quote) {
                push(&value[..end]);
            }
        }
    }
    out
}

fn same_origin_path(raw: &str, host: &str) -> Option<String> {
    let raw = raw.trim();
    let path = if let Some(rest) = raw
        .strip_prefix("http://")
        .or_else(|| raw.strip_prefix("https://"))
    {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let h = authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority);
        if !h.eq_ignore_ascii_case(host) {
            return None;
        }
        if path.is_empty() {
            "/"
        } else {
            path
        }
    } else if raw.starts_with('/') && !raw.starts_with("//") {
        raw
    } else {
        return None;
    };
    let path = strip_query(path);
    // Static assets teach nothing about the API.
    let lower = path.to_ascii_lowercase();
    let asset = [
        ".css", ".js", ".png", ".jpg", ".svg", ".ico", ".woff", ".woff2", ".map", ".gif",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext));
    if asset || path.len() > 200 || path.contains("..") {
        return None;
    }
    Some(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_same_origin_links_in_html_and_json() {
        let html = r#"<a href="/orders/1/receipt">r</a><script src="/static/app.js"></script>
            <a href='https://other.example/x'>x</a><form action="/api/auth/login">"#;
        assert_eq!(
            links(html, "127.0.0.1"),
            ["/orders/1/receipt", "/api/auth/login"]
        );
        let json = r#"{"links":{"self":"http://127.0.0.1:5000/api/","orders":"http://127.0.0.1:5000/api/orders?x=1","ext":"https://evil.example/"}}"#;
        let mut got = links(json, "127.0.0.1");
        got.sort();
        assert_eq!(got, ["/api/", "/api/orders"]);
    }

    #[test]
    fn login_names_and_siblings() {
        assert!(looks_like_login("/api/auth/login"));
        assert!(looks_like_login("/oauth/token?x"));
        assert!(!looks_like_login("/api/orders"));
        assert_eq!(
            siblings("/api/auth/login"),
            ["/api/auth/logout", "/api/auth/whoami", "/api/auth/me"]
        );
    }

    #[test]
    fn collections_hold_lists_of_objects() {
        assert!(holds_list(br#"{"orders":[{"id":1}]}"#));
        assert!(holds_list(br#"[{"id":1}]"#));
        assert!(!holds_list(br#"{"service":"x"}"#));
        assert!(!holds_list(b"not json"));
    }
}
