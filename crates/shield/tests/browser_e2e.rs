//! shield in front of a server-rendered Flask app on gunicorn, driven by a real
//! headless Chromium: what the browser actually runs and sends.
//!
//! - Under `preset = "html"` the page's own inline script and style run with the
//!   nonce shield writes into their tags, while an injected inline event handler
//!   (`<img onerror>`, through the app's reflected-XSS bug) is blocked by the CSP.
//! - Under `preset = "html"` an app's own policy (a Flask-Talisman-style
//!   `'unsafe-inline'` page with an inline handler) is kept and its handler
//!   runs; with `override_upstream = true` shield's replaces it and it does not.
//!   Shield's own policy lets `style` attributes apply.
//! - With `csp_nonce_header`, the app writes the nonce itself: an injected
//!   `<script>` element gets none and does not run, the app's own script does.
//! - CSRF (CSR001) judged on the headers Chromium really sends: a form the app's
//!   own page submits goes through; the same form auto-submitted by a page of
//!   another site (`http://localhost:PORT`, cross-site to `127.0.0.1`) is refused
//!   with shield's 403 page, never reaches the app, and is audit-logged.
//!
//! Chromium renders each page with `--dump-dom` after the page's scripts and
//! navigations ran (a virtual time budget), on loopback only.

mod support;

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use shield::config::Preset;
use support::{settings_for, AppServer, TestShield};

/// The test app (tests/apps/pages) on gunicorn.
struct PagesApp {
    server: AppServer,
    transfers: PathBuf,
}

impl PagesApp {
    fn start(nonce_from_header: Option<&str>) -> Option<PagesApp> {
        let mut transfers = PathBuf::new();
        let server = AppServer::start(
            "pages",
            "pages_app",
            &["-w", "1", "-k", "gthread", "--threads", "4"],
            |cmd, dir| {
                transfers = dir.join("transfers.txt");
                cmd.env("SECRET_KEY", "browser-test-0c4f3a9e1b7d2e6f8a5c")
                    .env("TRANSFERS_FILE", &transfers);
                if let Some(h) = nonce_from_header {
                    cmd.env("NONCE_FROM_HEADER", h);
                }
            },
        )?;
        Some(PagesApp { server, transfers })
    }

    fn transfers(&self) -> String {
        std::fs::read_to_string(&self.transfers).unwrap_or_default()
    }
}

/// `chromium --dump-dom URL`: the document after its scripts and navigations ran.
fn dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile");
    let out = testkit::chromium_command(chromium, profile.path())
        .args(["--virtual-time-budget=3000", "--dump-dom", url])
        .stderr(Stdio::null())
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Another site: every request gets `page` (an attacker's page).
fn serve_page(page: String) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    addr
}

/// `?greeting=` for the app's reflected-XSS bug, percent-encoded.
fn greeting(html: &str) -> String {
    let mut out = String::new();
    for b in html.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[test]
fn html_preset_in_a_real_browser_scripts_styles_and_injected_handlers() {
    let Some(chromium) = testkit::chromium() else {
        return;
    };
    let Some(app) = PagesApp::start(None) else {
        return;
    };
    let mut cfg = settings_for(&format!("http://{}", app.server.addr));
    cfg.headers.preset = Preset::Html;
    let shield = TestShield::start(cfg);
    let base = format!("http://{}", shield.addr);

    let page = dom(&chromium, &format!("{base}/"));
    assert!(
        page.contains("app script ran, color rgb(1, 2, 3)"),
        "the page's own script and style must run under the nonce policy:\n{page}"
    );
    assert!(
        page.contains("style attribute rgb(4, 5, 6)"),
        "style attributes apply under the html policy:\n{page}"
    );
    // An inline event handler injected through the app's bug: the CSP has no
    // 'unsafe-inline' (nonce only), so the browser does not run it.
    let injected = greeting(
        "<img src=\"/nothing.png\" onerror=\"document.getElementById('greeting').setAttribute('data-hit', 'in'+'jected')\">",
    );
    let page = dom(&chromium, &format!("{base}/?greeting={injected}"));
    assert!(page.contains("app script ran"), "{page}");
    assert!(
        page.contains("onerror="),
        "the injection is in the page:\n{page}"
    );
    assert!(
        !page.contains("data-hit=\"injected\""),
        "an injected event handler ran:\n{page}"
    );
}

#[test]
fn the_apps_own_policy_is_kept_under_the_html_preset_in_a_real_browser() {
    let Some(chromium) = testkit::chromium() else {
        return;
    };
    let Some(app) = PagesApp::start(None) else {
        return;
    };
    let mut cfg = settings_for(&format!("http://{}", app.server.addr));
    cfg.headers.preset = Preset::Html;
    let shield = TestShield::start(cfg.clone());
    let page = dom(&chromium, &format!("http://{}/own-policy", shield.addr));
    assert!(
        page.contains("app handler ran"),
        "the app's own policy allows its inline handler:\n{page}"
    );
    drop(shield);
    // Told to override, shield's nonce policy replaces the app's: the handler
    // is blocked (what kept pages working above).
    cfg.headers.override_upstream = Some(true);
    let shield = TestShield::start(cfg);
    let page = dom(&chromium, &format!("http://{}/own-policy", shield.addr));
    assert!(
        page.contains("app handler did not run"),
        "an inline handler ran under shield's nonce policy:\n{page}"
    );
}

#[test]
fn nonce_from_the_app_blocks_an_injected_script_in_a_real_browser() {
    let Some(chromium) = testkit::chromium() else {
        return;
    };
    let Some(app) = PagesApp::start(Some("X-CSP-Nonce")) else {
        return;
    };
    let mut cfg = settings_for(&format!("http://{}", app.server.addr));
    cfg.headers.preset = Preset::Html;
    cfg.headers.csp_nonce_header = Some("X-CSP-Nonce".into());
    let shield = TestShield::start(cfg);
    let injected = greeting(
        "<script>document.getElementById('greeting').setAttribute('data-hit', 'in'+'jected')</script>",
    );
    let page = dom(
        &chromium,
        &format!("http://{}/?greeting={injected}", shield.addr),
    );
    assert!(
        page.contains("app script ran, color rgb(1, 2, 3)"),
        "the app's own tags carry the nonce it was handed:\n{page}"
    );
    assert!(
        page.contains("'in'+'jected'"),
        "the injection is in the page:\n{page}"
    );
    assert!(
        !page.contains("data-hit=\"injected\""),
        "an injected script ran:\n{page}"
    );
}

#[test]
fn cross_site_form_posts_from_a_real_browser_are_refused() {
    let Some(chromium) = testkit::chromium() else {
        return;
    };
    let Some(app) = PagesApp::start(None) else {
        return;
    };
    let mut cfg = settings_for(&format!("http://{}", app.server.addr));
    cfg.headers.preset = Preset::Html;
    let shield = TestShield::start(cfg);

    // The app's own page submits its form: same-origin, through.
    let page = dom(&chromium, &format!("http://{}/form", shield.addr));
    assert!(page.contains("transfer of 7 done"), "{page}");
    assert_eq!(app.transfers(), "7\n");

    // Another site's page auto-submits the same form to the app.
    let evil = serve_page(format!(
        "<!doctype html><html><body>\
         <form id=\"f\" method=\"post\" action=\"http://{}/transfer\">\
         <input name=\"amount\" value=\"666\"></form>\
         <script>document.getElementById('f').submit()</script></body></html>",
        shield.addr
    ));
    let page = dom(&chromium, &format!("http://localhost:{}/", evil.port()));
    assert!(!page.contains("transfer of 666 done"), "{page}");
    assert!(
        page.contains("403 Forbidden"),
        "the browser gets shield's refusal page:\n{page}"
    );
    assert_eq!(
        app.transfers(),
        "7\n",
        "the cross-site post reached the app"
    );
    let line = shield
        .wait_audit("CSR001")
        .expect("the refusal is audit-logged");
    assert_eq!(line["path"], "/transfer", "{line}");
}
