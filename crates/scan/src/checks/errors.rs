//! ERR002, ERR003: what error responses give away. A JSON API that answers 404
//! and 405 with HTML pages, and any response carrying a Python traceback, a
//! server file path or a database error message.

use super::{check, outcomes, CheckDef, Verdicts};
use crate::observations::{around, excerpt, Observations};

outcomes! {
    pub enum Html404 for "ERR002" {
        Html = "html-404-on-json-api" [Low, -5, Flaskguard]
            "The JSON API answers an unknown path with an HTML 404 page",
            "Register JSON error handlers: @app.errorhandler(404) returning jsonify(error=...), 404.";
        Json = "json-404" [Pass, 0, Flaskguard]
            "Unknown paths get a non-HTML 404",
            "";
    }
}

outcomes! {
    pub enum Html405 for "ERR002" {
        Html = "html-405-on-json-api" [Low, -5, Flaskguard]
            "The JSON API answers a wrong method with an HTML 405 page",
            "Register a JSON handler for 405 (and for HTTPException in general).";
        Json = "json-405" [Pass, 0, Flaskguard]
            "Wrong methods get a non-HTML 405",
            "";
    }
}

outcomes! {
    pub enum StackTrace for "ERR003" {
        Leaked = "stack-trace-leak" [High, -20, Flaskguard]
            "A response carries a Python traceback",
            "Turn debug mode off and return a generic JSON 500 from an error handler; log the exception instead.";
        None = "no-stack-trace" [Pass, 0, Flaskguard]
            "No traceback in any response",
            "";
    }
}

outcomes! {
    pub enum FilePath for "ERR003" {
        Leaked = "file-path-leak" [Medium, -10, Flaskguard]
            "A response reveals server file paths (File \"/…py\", line N, or site-packages)",
            "Return generic error bodies; keep paths in the logs.";
        None = "no-file-path" [Pass, 0, Flaskguard]
            "No server file paths in any response",
            "";
    }
}

outcomes! {
    pub enum SqlError for "ERR003" {
        Leaked = "sql-error-leak" [High, -20, Flaskguard]
            "An error response carries a database error message (and with it the query's shape, often an injection foothold)",
            "Catch database errors in a handler that returns a generic message; never return str(e).";
        None = "no-sql-error" [Pass, 0, Flaskguard]
            "No database error messages in responses",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!("html-404-on-json-api", "ERR002", Html404, html_404),
    check!("html-405-on-json-api", "ERR002", Html405, html_405),
    check!("stack-trace-leak", "ERR003", StackTrace, stack_trace),
    check!("file-path-leak", "ERR003", FilePath, file_path_check),
    check!("sql-error-leak", "ERR003", SqlError, sql_error),
];

fn html_404(obs: &Observations, v: &mut Verdicts) {
    if !obs.is_json_api() {
        return;
    }
    let Some(e) = obs.get("api404").or_else(|| obs.get("baseline-json")) else {
        return;
    };
    let Some(resp) = e.response() else { return };
    if resp.status != 404 {
        return;
    }
    if resp.is_html() {
        v.add(Html404::Html, e.url()).evidence(format!(
            "HTTP 404 {}: {}",
            resp.media_type(),
            excerpt(&resp.text(), 100)
        ));
    } else {
        v.add(Html404::Json, e.url());
    }
}

fn html_405(obs: &Observations, v: &mut Verdicts) {
    if !obs.is_json_api() {
        return;
    }
    let mut seen = None;
    // Wrong-method probes on API paths, and GETs of POST-only API endpoints.
    let candidates = obs
        .with_prefix("method405:")
        .chain(obs.with_prefix("disc:").filter(|e| {
            obs.discovery
                .login_paths
                .iter()
                .any(|p| e.request.path.starts_with(p.as_str()))
        }));
    for e in candidates {
        let Some(resp) = e.response() else { continue };
        if resp.status != 405 {
            continue;
        }
        if resp.is_html() {
            v.add(Html405::Html, e.url()).evidence(format!(
                "{} → HTTP 405 {}: {}",
                e.request.method,
                resp.media_type(),
                excerpt(&resp.text(), 100)
            ));
            return;
        }
        seen = Some(e.url());
    }
    if let Some(url) = seen {
        v.add(Html405::Json, url);
    }
}

const TRACEBACK: &str = "Traceback (most recent call last)";

fn stack_trace(obs: &Observations, v: &mut Verdicts) {
    for (e, resp) in obs.answered() {
        let body = resp.text();
        // The Werkzeug debugger page writes it as `Traceback <em>(most recent call last)</em>`.
        let marker = if body.contains(TRACEBACK) {
            Some(TRACEBACK)
        } else if body.contains("Traceback <em>(most recent call last)</em>") {
            Some("Traceback <em>")
        } else {
            None
        };
        if let Some(m) = marker {
            v.add(StackTrace::Leaked, e.url()).evidence(format!(
                "HTTP {}: {}",
                resp.status,
                around(&body, m, 80).unwrap_or_default()
            ));
            return;
        }
    }
    if let Some((url, _)) = super::page(obs) {
        v.add(StackTrace::None, url);
    }
}

/// `File "/srv/app/orders/api.py", line 42` or a site-packages path.
pub fn file_path(body: &str) -> Option<String> {
    for marker in [
        "File \"/",
        "File &#34;/",
        "File &quot;/",
        "/site-packages/",
        "/dist-packages/",
    ] {
        if let Some(at) = body.find(marker) {
            let rest = &body[at..];
            let end = rest.find(['\n', '<']).unwrap_or(rest.len()).min(160);
            let mut cut = end;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            return Some(rest[..cut].to_string());
        }
    }
    // Werkzeug's debugger page: <cite class="filename">"/srv/app/x.py"</cite>
    if let Some(at) = body.find("<cite class=\"filename\">") {
        return around(body, &body[at..at + 23], 60);
    }
    None
}

fn file_path_check(obs: &Observations, v: &mut Verdicts) {
    for (e, resp) in obs.answered() {
        if resp.status < 400 && !resp.is_html() && !resp.is_json() {
            continue;
        }
        if let Some(p) = file_path(&resp.text()) {
            v.add(FilePath::Leaked, e.url()).evidence(format!(
                "HTTP {}: {}",
                resp.status,
                excerpt(&p, 160)
            ));
            return;
        }
    }
    if let Some((url, _)) = super::page(obs) {
        v.add(FilePath::None, url);
    }
}

/// Database driver and server error signatures.
pub const SQL_ERRORS: &[&str] = &[
    "sqlite3.OperationalError",
    "unrecognized token:",
    "OperationalError",
    "ProgrammingError",
    "psycopg2.errors",
    "syntax error at or near",
    "You have an error in your SQL syntax",
    "SQLSTATE[",
    "ORA-00933",
    "ORA-01756",
    "near \"",
    "sqlalchemy.exc.",
    "IntegrityError",
];

fn sql_error(obs: &Observations, v: &mut Verdicts) {
    for (e, resp) in obs.answered() {
        if resp.status < 400 {
            continue;
        }
        let body = resp.text();
        for sig in SQL_ERRORS {
            // "near \"" alone is too common: it must come with "syntax error".
            if *sig == "near \"" && !body.contains("syntax error") {
                continue;
            }
            if body.contains(sig) {
                v.add(SqlError::Leaked, e.url()).evidence(format!(
                    "HTTP {}: {}",
                    resp.status,
                    around(&body, sig, 80).unwrap_or_default()
                ));
                return;
            }
        }
    }
    if let Some((url, _)) = super::page(obs) {
        v.add(SqlError::None, url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_file_paths() {
        let tb = "Traceback (most recent call last):\n  File \"/srv/app/orders/api.py\", line 42, in get\n";
        assert_eq!(
            file_path(tb).unwrap(),
            "File \"/srv/app/orders/api.py\", line 42, in get"
        );
        assert!(file_path("{\"error\":\"not found\"}").is_none());
    }
}
