//! The plan: which requests a scan sends, and why. Passive probes are ordinary
//! GET/HEAD/OPTIONS requests, a few unusual methods on the front page and crafted
//! headers; together a few dozen requests. Intrusive probes live in
//! [`crate::active`] and only run with `--active`.
//!
//! Each probe has a key that the checks look it up by.

use crate::{client::HttpRequest, discover::Discovery, target::Target};

/// A request with the key its answer is filed under.
#[derive(Debug, Clone)]
pub struct Probe {
    pub key: String,
    pub request: HttpRequest,
}

/// A foreign origin no deployment should trust.
pub const EVIL_ORIGIN: &str = "https://evil.example";
/// A Host header value no deployment should serve.
pub const EVIL_HOST: &str = "evil.example";

/// Files that must never be served, with what real content looks like (checked by
/// [`crate::checks::files`]).
pub const EXPOSED_FILES: &[&str] = &[
    "/.env",
    "/.env.production",
    "/.env.bak",
    "/.git/HEAD",
    "/.git/config",
    "/config.py",
    "/instance/config.py",
    "/settings.py",
    "/app.py",
    "/wsgi.py",
    "/config.py.bak",
    "/app.py~",
    "/backup.sql",
    "/dump.sql",
];

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8";

fn get(target: &Target, key: impl Into<String>, path: &str) -> Probe {
    Probe {
        key: key.into(),
        request: HttpRequest::new(&target.endpoint, "GET", path).header("accept", BROWSER_ACCEPT),
    }
}

fn with(target: &Target, key: impl Into<String>, method: &str, path: &str) -> Probe {
    Probe {
        key: key.into(),
        request: HttpRequest::new(&target.endpoint, method, path),
    }
}

/// A random path segment that no app serves.
pub fn random_token() -> String {
    let mut s = String::from("flaskguard-");
    for _ in 0..16 {
        s.push(fastrand::alphanumeric().to_ascii_lowercase());
    }
    s
}

/// Probes that need nothing but the target: the main page, the soft-404 baseline,
/// debugger and toolbar paths, exposed files, methods, crafted Host headers, the
/// discovery seeds.
pub fn first_round(target: &Target, token: &str, extra_logins: &[String]) -> Vec<Probe> {
    let mut p = vec![
        get(target, "main", &target.path),
        get(target, "baseline", &format!("/{token}")),
        Probe {
            key: "baseline-json".into(),
            request: HttpRequest::new(&target.endpoint, "GET", &format!("/{token}/x.json"))
                .header("accept", "application/json"),
        },
        // Werkzeug's debugger serves its own assets for any path once the
        // `__debugger__` query is present, and the console at /console.
        get(target, "console", "/console"),
        get(
            target,
            "debugger-resource",
            "/?__debugger__=yes&cmd=resource&f=debugger.js",
        ),
        get(target, "toolbar", "/_debug_toolbar/static/css/toolbar.css"),
        with(target, "method:TRACE", "TRACE", "/"),
        with(target, "method:TRACK", "TRACK", "/"),
        with(target, "method:FLASKGUARD", "FLASKGUARD", &target.path),
        with(target, "method:OPTIONS", "OPTIONS", &target.path),
        with(target, "method:HEAD", "HEAD", &target.path),
    ];
    let mut host = get(target, "host:main", &target.path);
    host.request = host.request.header("host", EVIL_HOST);
    p.push(host);
    let mut xfh = get(target, "xfh:main", &target.path);
    xfh.request = xfh.request.header("x-forwarded-host", EVIL_HOST);
    p.push(xfh);
    for f in EXPOSED_FILES {
        p.push(with(target, format!("file:{f}"), "GET", f));
    }
    for seed in crate::discover::SEEDS {
        p.push(get(target, format!("disc:{seed}"), seed));
    }
    for login in extra_logins {
        p.push(get(target, format!("disc:{login}"), login));
    }
    p
}

/// Links found in the first round that were not probed yet.
pub fn follow_links(target: &Target, discovery: &Discovery, seen: &[String]) -> Vec<Probe> {
    let mut out = Vec::new();
    let mut candidates: Vec<String> = discovery.links.iter().cloned().collect();
    for login in &discovery.login_paths {
        candidates.extend(crate::discover::siblings(login));
    }
    for path in candidates {
        if out.len() >= crate::discover::MAX_LINKS {
            break;
        }
        if seen.iter().any(|s| s == &path) || path == target.path {
            continue;
        }
        out.push(get(target, format!("disc:{path}"), &path));
    }
    out
}

/// Probes aimed at the discovered API: CORS with hostile origins, Host-header
/// reflection, methods and error pages on an API path, and requests that make a
/// fragile endpoint fail (an unknown id, a quote in common parameters).
pub fn second_round(target: &Target, discovery: &Discovery) -> Vec<Probe> {
    let mut p = Vec::new();
    let mut cors_paths = discovery.api_endpoints(2);
    if cors_paths.is_empty() {
        cors_paths.push(target.path.clone());
    }
    let host = target.endpoint.host.as_str();
    let scheme = target.endpoint.scheme();
    for path in &cors_paths {
        let origins = [
            ("cors-evil", EVIL_ORIGIN.to_string()),
            ("cors-null", "null".to_string()),
            // Accepted by patterns anchored only at the start (`^https://host`).
            ("cors-suffix", format!("{scheme}://{host}.evil.example")),
            // Accepted by patterns anchored only at the end (`host$`).
            ("cors-prefix", format!("{scheme}://evil{host}")),
        ];
        for (key, origin) in origins {
            let mut probe = get(target, format!("{key}:{path}"), path);
            probe.request = probe.request.header("origin", &origin);
            p.push(probe);
        }
        let mut pre = with(target, format!("cors-preflight:{path}"), "OPTIONS", path);
        pre.request = pre
            .request
            .header("origin", EVIL_ORIGIN)
            .header("access-control-request-method", "DELETE")
            .header(
                "access-control-request-headers",
                "x-flaskguard-probe, authorization",
            );
        p.push(pre);
    }
    // A 404 inside the API, where blueprint error handlers apply.
    if let Some(api) = discovery.api_endpoints(1).first() {
        let prefix = api
            .trim_end_matches('/')
            .rsplit_once('/')
            .map(|(p, _)| p)
            .unwrap_or("");
        p.push(Probe {
            key: "api404".into(),
            request: HttpRequest::new(
                &target.endpoint,
                "GET",
                &format!("{prefix}/{}", random_token()),
            )
            .header("accept", "application/json"),
        });
    }
    // Malformed JSON to endpoints that take JSON: no app can act on a body it
    // cannot parse, so this is safe in a passive scan.
    let mut json_posts: Vec<String> = discovery.collections.iter().take(2).cloned().collect();
    json_posts.extend(discovery.login_paths.iter().take(1).cloned());
    for path in json_posts {
        p.push(Probe {
            key: format!("badjson:{path}"),
            request: HttpRequest::new(&target.endpoint, "POST", &path)
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(r#"{"flaskguard": "#),
        });
    }
    for path in discovery.api_endpoints(4) {
        let mut host = get(target, format!("host:{path}"), &path);
        host.request = host.request.header("host", EVIL_HOST);
        p.push(host);
        let mut unknown = with(target, format!("method405:{path}"), "FLASKGUARD", &path);
        unknown.request = unknown.request.header("accept", "application/json");
        p.push(unknown);
    }
    for path in discovery.collections.iter().take(3) {
        let base = path.trim_end_matches('/');
        p.push(Probe {
            key: format!("err-id:{path}"),
            request: HttpRequest::new(&target.endpoint, "GET", &format!("{base}/987654321"))
                .header("accept", "application/json"),
        });
        p.push(Probe {
            key: format!("err-param:{path}"),
            request: HttpRequest::new(
                &target.endpoint,
                "GET",
                &format!(
                    "{path}?id=%27&q=%27&status=%27&sort=%27&order=%27&page=%27&limit=%27&filter=%27"
                ),
            )
            .header("accept", "application/json"),
        });
    }
    p
}
