//! DBG001–DBG003: the Werkzeug debugger and its console, Flask-DebugToolbar, and
//! the development server, recognised by what they serve (markers in content),
//! never by a status code alone.

use super::{check, outcomes, CheckDef, Outcome, Verdicts};
use crate::observations::{around, excerpt, Observations};

// One debugger shows in up to four ways (its console at /console, its resources
// under `__debugger__`, a traceback page, a PIN prompt). The first one seen, in
// that order, is the finding; the others are reported as info outcomes that
// point at it, with their own evidence and no score of their own, so one
// debugger is one critical finding and one -100.

outcomes! {
    pub enum Console for "DBG001" {
        Exposed = "werkzeug-console-exposed" [Critical, -100, Flaskguard]
            "The Werkzeug interactive console is served: anyone who gets past (or computes) the PIN runs Python on the server",
            "Never run with debug=True or DebuggedApplication in production; set DEBUG = False and FLASK_DEBUG=0, and remove DebuggedApplication wrappers.";
        Absent = "werkzeug-console-absent" [Pass, 0, Flaskguard]
            "No Werkzeug console at /console",
            "";
    }
}

outcomes! {
    pub enum Assets for "DBG001" {
        Served = "werkzeug-debugger-assets-served" [Critical, -100, Flaskguard]
            "The Werkzeug debugger middleware answers `__debugger__` requests: the debugger is active",
            "Turn debug mode off in production (DEBUG = False, no FLASK_DEBUG, no DebuggedApplication).";
        AlsoServed = "werkzeug-debugger-assets-same-debugger" [Info, 0, Flaskguard]
            "The same debugger also answers `__debugger__` resource requests (counted once, under the debugger finding)",
            "Turn debug mode off in production (DEBUG = False, no FLASK_DEBUG, no DebuggedApplication).";
        Absent = "werkzeug-debugger-assets-absent" [Pass, 0, Flaskguard]
            "The `__debugger__` resource endpoint does not answer",
            "";
    }
}

outcomes! {
    pub enum Traceback for "DBG001" {
        Page = "werkzeug-debugger-traceback" [Critical, -100, Flaskguard]
            "An error produced the Werkzeug debugger's interactive traceback page (source, locals, and a console behind a PIN)",
            "Turn debug mode off in production and register JSON error handlers.";
        AlsoPage = "werkzeug-debugger-traceback-same-debugger" [Info, 0, Flaskguard]
            "The same debugger also served its interactive traceback page for an error (counted once, under the debugger finding)",
            "Turn debug mode off in production and register JSON error handlers.";
        Absent = "werkzeug-debugger-traceback-absent" [Pass, 0, Flaskguard]
            "No Werkzeug debugger page was seen",
            "";
    }
}

outcomes! {
    pub enum Pin for "DBG001" {
        Prompt = "werkzeug-pin-prompt" [Critical, -100, Flaskguard]
            "A Werkzeug debugger PIN prompt is served; the PIN can be computed from machine facts an attacker can often read",
            "Turn debug mode off; a PIN is not an access control for production.";
        AlsoPrompt = "werkzeug-pin-prompt-same-debugger" [Info, 0, Flaskguard]
            "The same debugger also shows its PIN prompt (counted once, under the debugger finding)",
            "Turn debug mode off; a PIN is not an access control for production.";
        Absent = "werkzeug-pin-prompt-absent" [Pass, 0, Flaskguard]
            "No Werkzeug PIN prompt was seen",
            "";
    }
}

outcomes! {
    pub enum ToolbarAssets for "DBG002" {
        Served = "debug-toolbar-assets-served" [High, -40, Flaskguard]
            "Flask-DebugToolbar's assets are served under /_debug_toolbar/: the toolbar is installed and enabled",
            "Set DEBUG_TB_ENABLED = False in production (or do not init DebugToolbarExtension there).";
        Absent = "debug-toolbar-assets-absent" [Pass, 0, Flaskguard]
            "No Flask-DebugToolbar assets",
            "";
    }
}

outcomes! {
    pub enum ToolbarMarkup for "DBG002" {
        Injected = "debug-toolbar-injected" [High, -40, Flaskguard]
            "HTML pages carry the Flask-DebugToolbar panel (config, SQL queries, templates, request data for every visitor)",
            "Set DEBUG_TB_ENABLED = False in production.";
        Absent = "debug-toolbar-not-injected" [Pass, 0, Flaskguard]
            "No toolbar markup in HTML pages",
            "";
    }
}

outcomes! {
    pub enum DevServer for "DBG003" {
        Werkzeug = "development-server" [Medium, -20, Flaskguard]
            "Responses come from Werkzeug's development server, which is not built for production traffic",
            "Run the app under gunicorn, uWSGI or waitress behind a reverse proxy.";
        Other = "production-server" [Pass, 0, Flaskguard]
            "No sign of the development server",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!("werkzeug-console", "DBG001", Console, console),
    check!("werkzeug-debugger-resource", "DBG001", Assets, assets),
    check!("werkzeug-traceback", "DBG001", Traceback, traceback),
    check!("werkzeug-pin-prompt", "DBG001", Pin, pin),
    check!(
        "debug-toolbar-assets",
        "DBG002",
        ToolbarAssets,
        toolbar_assets
    ),
    check!(
        "debug-toolbar-markup",
        "DBG002",
        ToolbarMarkup,
        toolbar_markup
    ),
    check!("development-server", "DBG003", DevServer, dev_server),
];

/// Hides the debugger's per-process secret from evidence.
fn mask_secret(s: &str) -> String {
    match s.find("SECRET = \"") {
        Some(at) => {
            let start = at + "SECRET = \"".len();
            let end = s[start..].find('"').map(|e| start + e).unwrap_or(s.len());
            format!("{}…{}", &s[..start], &s[end..])
        }
        None => s.to_string(),
    }
}

fn is_debugger_page(body: &str) -> bool {
    body.contains("Werkzeug Debugger")
        || (body.contains("__debugger__")
            && (body.contains("EVALEX") || body.contains("CONSOLE_MODE")))
}

/// Where a sign of the debugger was seen, and what shows it.
struct Seen {
    url: String,
    evidence: String,
}

/// The console page at /console.
fn console_seen(obs: &Observations) -> Option<Seen> {
    let e = obs.get("console")?;
    let resp = e.response()?;
    let body = resp.text();
    let console = body.contains("CONSOLE_MODE = true")
        || (body.contains("Werkzeug") && body.contains("Console //"));
    if !(console && is_debugger_page(&body) && !obs.is_soft404(resp, "/console")) {
        return None;
    }
    let marker = around(&body, "<title>", 50).unwrap_or_else(|| excerpt(&body, 120));
    Some(Seen {
        url: e.url(),
        evidence: format!("HTTP {}: {}", resp.status, mask_secret(&marker)),
    })
}

/// The debugger's JavaScript served for a `__debugger__` resource request.
fn assets_seen(obs: &Observations) -> Option<Seen> {
    let e = obs.get("debugger-resource")?;
    let resp = e.response()?;
    let body = resp.text();
    let js = [
        "__debugger__",
        "CONSOLE_MODE",
        "EVALEX",
        "openShell",
        "docReady",
    ]
    .iter()
    .filter(|m| body.contains(**m))
    .count();
    if !((200..300).contains(&resp.status) && js >= 2 && !resp.is_html()) {
        return None;
    }
    Some(Seen {
        url: e.url(),
        evidence: format!(
            "HTTP {} {}: {}",
            resp.status,
            resp.media_type(),
            excerpt(&body, 120)
        ),
    })
}

/// The interactive traceback page, on any answer but the console's.
fn traceback_seen(obs: &Observations) -> Option<Seen> {
    obs.answered().find_map(|(e, resp)| {
        let body = resp.text();
        let page = body.contains("The debugger caught an exception in your WSGI application")
            || (is_debugger_page(&body) && body.contains("Traceback"));
        if !(page && resp.is_html() && e.key != "console") {
            return None;
        }
        let marker = around(&body, "<title>", 60).unwrap_or_else(|| excerpt(&body, 120));
        Some(Seen {
            url: e.url(),
            evidence: format!("HTTP {}: {}", resp.status, mask_secret(&marker)),
        })
    })
}

/// The PIN prompt of a locked console, on any answer.
fn pin_seen(obs: &Observations) -> Option<Seen> {
    obs.answered().find_map(|(e, resp)| {
        let body = resp.text();
        if !(body.contains("pin-prompt") && is_debugger_page(&body)) {
            return None;
        }
        let marker = around(&body, "console is locked", 40)
            .unwrap_or_else(|| around(&body, "pin-prompt", 40).unwrap_or_default());
        Some(Seen {
            url: e.url(),
            evidence: marker,
        })
    })
}

/// A way to see the debugger.
type Sign = fn(&Observations) -> Option<Seen>;

/// The name of the outcome that carries the debugger finding when a sign
/// earlier in the order (console, resources, traceback) was seen.
fn reported_under(obs: &Observations, earlier: usize) -> Option<&'static str> {
    let signs: [(Sign, &'static str); 3] = [
        (console_seen, "werkzeug-console-exposed"),
        (assets_seen, "werkzeug-debugger-assets-served"),
        (traceback_seen, "werkzeug-debugger-traceback"),
    ];
    signs[..earlier]
        .iter()
        .find(|(seen, _)| seen(obs).is_some())
        .map(|(_, name)| *name)
}

fn console(obs: &Observations, v: &mut Verdicts) {
    match console_seen(obs) {
        Some(s) => {
            v.add(Console::Exposed, s.url).evidence(s.evidence);
        }
        None => {
            if let Some(e) = obs.get("console") {
                v.add(Console::Absent, e.url());
            }
        }
    }
}

/// Reports one sign of the debugger (`seen`, the sign at `earlier` in the
/// order): `found` when no earlier sign was seen, else `also` naming the
/// finding; `absent` at `absent_url` when it was looked for and not seen.
fn sign<O: Outcome>(
    obs: &Observations,
    v: &mut Verdicts,
    seen: Option<Seen>,
    earlier: usize,
    [found, also, absent]: [O; 3],
    absent_url: Option<String>,
) {
    match seen {
        Some(s) => match reported_under(obs, earlier) {
            Some(under) => {
                v.add(also, s.url)
                    .evidence(s.evidence)
                    .detail(format!("reported as {under}"));
            }
            None => {
                v.add(found, s.url).evidence(s.evidence);
            }
        },
        None => {
            if let Some(url) = absent_url {
                v.add(absent, url);
            }
        }
    }
}

fn assets(obs: &Observations, v: &mut Verdicts) {
    let Some(e) = obs.get("debugger-resource") else {
        return;
    };
    let outcomes = [Assets::Served, Assets::AlsoServed, Assets::Absent];
    sign(obs, v, assets_seen(obs), 1, outcomes, Some(e.url()));
}

fn traceback(obs: &Observations, v: &mut Verdicts) {
    let outcomes = [Traceback::Page, Traceback::AlsoPage, Traceback::Absent];
    let page = super::page(obs).map(|(url, _)| url);
    sign(obs, v, traceback_seen(obs), 2, outcomes, page);
}

fn pin(obs: &Observations, v: &mut Verdicts) {
    let outcomes = [Pin::Prompt, Pin::AlsoPrompt, Pin::Absent];
    let page = super::page(obs).map(|(url, _)| url);
    sign(obs, v, pin_seen(obs), 3, outcomes, page);
}

fn toolbar_assets(obs: &Observations, v: &mut Verdicts) {
    let Some(e) = obs.get("toolbar") else { return };
    if let Some(resp) = e.response() {
        let body = resp.text();
        if (200..300).contains(&resp.status) && body.contains("flDebug") && !resp.is_html() {
            v.add(ToolbarAssets::Served, e.url()).evidence(format!(
                "HTTP {} {}: {}",
                resp.status,
                resp.media_type(),
                excerpt(&body, 100)
            ));
            return;
        }
    }
    v.add(ToolbarAssets::Absent, e.url());
}

/// The toolbar's markup in a page, with a window around it. The page's own URL
/// is removed first: redirect and error pages often echo the requested path, and
/// the asset probe's path names the toolbar itself.
pub fn toolbar_marker(body: &str, request_path: &str) -> Option<String> {
    let body = if request_path.len() > 1 {
        body.replace(request_path, "")
    } else {
        body.to_string()
    };
    ["id=\"flDebug\"", "flDebugToolbar", "_debug_toolbar/static"]
        .iter()
        .find_map(|m| around(&body, m, 60))
}

fn toolbar_markup(obs: &Observations, v: &mut Verdicts) {
    for (e, resp) in obs.answered() {
        // The toolbar is injected into pages the app rendered, never into
        // redirects or error pages.
        if !resp.is_html() || !(200..300).contains(&resp.status) || e.key == "toolbar" {
            continue;
        }
        if let Some(marker) = toolbar_marker(&resp.text(), &e.request.path) {
            v.add(ToolbarMarkup::Injected, e.url()).evidence(marker);
            return;
        }
    }
    if let Some((url, _)) = super::page(obs) {
        v.add(ToolbarMarkup::Absent, url);
    }
}

fn dev_server(obs: &Observations, v: &mut Verdicts) {
    for (e, resp) in obs.answered() {
        if let Some(s) = resp.header("server") {
            if s.to_ascii_lowercase().contains("werkzeug/") {
                v.add(DevServer::Werkzeug, e.url())
                    .evidence(format!("Server: {s}"));
                return;
            }
        }
    }
    if let Some((url, _)) = super::page(obs) {
        v.add(DevServer::Other, url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_debugger_secret() {
        let s = r#"var CONSOLE_MODE = true, EVALEX = true, SECRET = "AbCdEf123";"#;
        assert_eq!(
            mask_secret(s),
            r#"var CONSOLE_MODE = true, EVALEX = true, SECRET = "…";"#
        );
    }
}
