//! DBG001, DBG002, KEY004: paths that must never reach a production app.
//!
//! The Werkzeug debugger (`/console`, any `__debugger__` query: its resource and
//! command endpoints ride on every URL), the Flask-DebugToolbar (`/_debug_toolbar/`),
//! dotfiles (`/.env`, `/.git/config`, `/.aws/credentials`), source, backup and
//! deploy files (`/config.py`, `/orders.db`, `/Dockerfile`) and configured extras
//! answer a JSON 404, so a scanner learns nothing. Matching is done on the path as
//! the app will see it: percent-decoded, with repeated slashes merged (Werkzeug
//! decodes `%63onsole` to `/console` and redirects `//console` there).

use std::borrow::Cow;

use http::{request, StatusCode};
use percent_encoding::percent_decode_str;

use crate::{
    config::{BlockedPathsSettings, ConfigError},
    context::Context,
    layer::{Flow, RequestLayer},
    reply::Rejection,
    route::Route,
};

#[derive(Debug, Clone)]
enum Extra {
    Prefix(String),
    Route(Route),
}

/// The blocked-paths layer.
#[derive(Debug, Clone)]
pub struct BlockedPaths {
    debugger: bool,
    debug_toolbar: bool,
    dotfiles: bool,
    source_files: bool,
    allow: Vec<String>,
    extra: Vec<Extra>,
}

/// Extensions of files a Python web app never means to serve.
const SOURCE_EXTENSIONS: &[&str] = &[
    "py", "pyc", "pyo", "pyd", "bak", "old", "orig", "swp", "swo", "sql", "sqlite", "sqlite3",
    "db", "ini", "cfg", "toml", "lock", "log", "pem", "key",
];

/// Deploy and dependency files by name.
const SOURCE_NAMES: &[&str] = &[
    "dockerfile",
    "procfile",
    "requirements.txt",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
    "pipfile",
    "gunicorn.conf.py",
    "manage.py",
];

fn is_source_file(path: &str) -> bool {
    let Some(last) = path.rsplit('/').next().filter(|s| !s.is_empty()) else {
        return false;
    };
    let lower = last.to_ascii_lowercase();
    if lower.ends_with('~') || SOURCE_NAMES.contains(&lower.as_str()) {
        return true;
    }
    lower
        .rsplit_once('.')
        .is_some_and(|(_, ext)| SOURCE_EXTENSIONS.contains(&ext))
}

impl BlockedPaths {
    pub fn new(cfg: &BlockedPathsSettings) -> Result<BlockedPaths, ConfigError> {
        for (i, a) in cfg.allow.iter().enumerate() {
            if !a.starts_with('/') {
                return Err(ConfigError::new(
                    format!("shield.blocked_paths.allow[{i}]"),
                    format!("`{a}` must start with `/`"),
                ));
            }
            if a.to_ascii_lowercase().contains("/.git") || a.to_ascii_lowercase().contains("/.env")
            {
                return Err(ConfigError::new(
                    format!("shield.blocked_paths.allow[{i}]"),
                    format!("`{a}` would serve repository metadata or secrets (KEY004)"),
                ));
            }
        }
        let mut extra = Vec::new();
        for (i, e) in cfg.extra.iter().enumerate() {
            let key = format!("shield.blocked_paths.extra[{i}]");
            let is_route = e.contains('{') || e.trim().contains(' ');
            if !is_route && !e.starts_with('/') {
                return Err(ConfigError::new(key, format!("`{e}` must start with `/`")));
            }
            extra.push(if is_route {
                Extra::Route(Route::parse(e).map_err(|m| ConfigError::new(key, m))?)
            } else {
                Extra::Prefix(e.clone())
            });
        }
        Ok(BlockedPaths {
            debugger: cfg.debugger,
            debug_toolbar: cfg.debug_toolbar,
            dotfiles: cfg.dotfiles,
            source_files: cfg.source_files,
            allow: cfg.allow.clone(),
            extra,
        })
    }

    /// The control a request would break, with the reason, or None.
    pub fn verdict(
        &self,
        method: &http::Method,
        path: &str,
        query: Option<&str>,
    ) -> Option<(&'static str, String)> {
        let decoded = decode(path);
        let path = merge_slashes(&decoded);
        if self.debugger {
            if path == "/console" || path.starts_with("/console/") {
                return Some(("DBG001", "Werkzeug debugger console".into()));
            }
            if let Some(q) = query {
                let q = decode(q);
                if q.to_ascii_lowercase().contains("__debugger__") {
                    return Some((
                        "DBG001",
                        "Werkzeug debugger request (`__debugger__` query)".into(),
                    ));
                }
            }
        }
        if self.debug_toolbar && (path == "/_debug_toolbar" || path.starts_with("/_debug_toolbar/"))
        {
            return Some(("DBG002", "Flask-DebugToolbar path".into()));
        }
        if self.dotfiles
            && path
                .split('/')
                .any(|s| s.starts_with('.') && s != "." && s != "..")
            && !self.allow.iter().any(|a| path.starts_with(a.as_str()))
        {
            return Some((
                "KEY004",
                "dotfile path (secrets, repository metadata)".into(),
            ));
        }
        if self.source_files
            && is_source_file(&path)
            && !self.allow.iter().any(|a| path.starts_with(a.as_str()))
        {
            return Some(("KEY004", "source, backup or deploy file".into()));
        }
        for e in &self.extra {
            let hit = match e {
                Extra::Prefix(p) => {
                    path.starts_with(p.as_str())
                        && (p.ends_with('/')
                            || path.len() == p.len()
                            || path.as_bytes().get(p.len()) == Some(&b'/'))
                }
                Extra::Route(r) => r.matches(method, &path),
            };
            if hit {
                return Some(("KEY004", "path listed in blocked_paths.extra".into()));
            }
        }
        None
    }
}

fn decode(s: &str) -> Cow<'_, str> {
    if s.contains('%') {
        percent_decode_str(s).decode_utf8_lossy()
    } else {
        Cow::Borrowed(s)
    }
}

fn merge_slashes<'a>(path: &'a Cow<'a, str>) -> Cow<'a, str> {
    if path.contains("//") {
        let mut out = String::with_capacity(path.len());
        for c in path.chars() {
            if !(c == '/' && out.ends_with('/')) {
                out.push(c);
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(path.as_ref())
    }
}

impl RequestLayer for BlockedPaths {
    fn name(&self) -> &'static str {
        "blocked_paths"
    }

    fn check(&self, head: &mut request::Parts, _cx: &mut Context) -> Flow {
        match self.verdict(&head.method, head.uri.path(), head.uri.query()) {
            None => Flow::Continue,
            Some((control, reason)) => Flow::Reject(Rejection::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "not found",
                control,
                reason,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    fn layer() -> BlockedPaths {
        let s = BlockedPathsSettings {
            extra: vec!["/internal".into(), "DELETE /orders/{id}".into()],
            ..BlockedPathsSettings::default()
        };
        BlockedPaths::new(&s).unwrap()
    }

    fn hit(path: &str, query: Option<&str>) -> Option<&'static str> {
        layer().verdict(&Method::GET, path, query).map(|v| v.0)
    }

    #[test]
    fn blocks_debugger_toolbar_and_dotfiles() {
        assert_eq!(hit("/console", None), Some("DBG001"));
        assert_eq!(hit("/%63onsole", None), Some("DBG001"));
        assert_eq!(hit("//console", None), Some("DBG001"));
        assert_eq!(
            hit("/orders", Some("__debugger__=yes&cmd=resource&f=style.css")),
            Some("DBG001")
        );
        assert_eq!(hit("/x", Some("%5F%5Fdebugger%5F%5F=yes")), Some("DBG001"));
        assert_eq!(hit("/_debug_toolbar/static/x.js", None), Some("DBG002"));
        assert_eq!(hit("/.env", None), Some("KEY004"));
        assert_eq!(hit("/.git/config", None), Some("KEY004"));
        assert_eq!(hit("/static/%2egit/HEAD", None), Some("KEY004"));
        assert_eq!(hit("/.well-known/security.txt", None), None);
        assert_eq!(hit("/orders/1", None), None);
        assert_eq!(hit("/consoles", None), None);
        assert_eq!(hit("/config.py", None), Some("KEY004"));
        assert_eq!(hit("/static/app.py.bak", None), Some("KEY004"));
        assert_eq!(hit("/instance/orders.db", None), Some("KEY004"));
        assert_eq!(hit("/requirements.txt", None), Some("KEY004"));
        assert_eq!(hit("/Dockerfile", None), Some("KEY004"));
        assert_eq!(hit("/static/app.js", None), None);
        assert_eq!(hit("/api/orders.json", None), None);
    }

    #[test]
    fn extras_by_prefix_and_route() {
        assert_eq!(hit("/internal", None), Some("KEY004"));
        assert_eq!(hit("/internal/x", None), Some("KEY004"));
        assert_eq!(hit("/internalx", None), None);
        let l = layer();
        assert!(l.verdict(&Method::DELETE, "/orders/3", None).is_some());
        assert!(l.verdict(&Method::GET, "/orders/3", None).is_none());
    }

    #[test]
    fn refuses_allowing_git() {
        let s = BlockedPathsSettings {
            allow: vec!["/.git/".into()],
            ..BlockedPathsSettings::default()
        };
        assert_eq!(
            BlockedPaths::new(&s).unwrap_err().key,
            "shield.blocked_paths.allow[0]"
        );
    }
}
