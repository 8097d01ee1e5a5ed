//! Checks run on hand-made observations (registry invariants: registry_tests.rs).

use super::*;
use crate::{
    client::{HttpRequest, HttpResponse},
    observations::{Exchange, Observations},
    target::Target,
};

pub(crate) fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
        truncated: false,
        tls: None,
    }
}

pub(crate) fn observations(url: &str, exchanges: Vec<(&str, &str, HttpResponse)>) -> Observations {
    let target = Target::parse(url).unwrap();
    let mut obs = Observations::new(target.clone(), false);
    for (key, path, resp) in exchanges {
        obs.exchanges.push(Exchange {
            key: key.to_string(),
            request: HttpRequest::new(&target.endpoint, "GET", path),
            result: Ok(resp),
        });
    }
    obs
}

fn names(obs: &Observations) -> Vec<&'static str> {
    run_all(obs).iter().map(|v| v.spec.name).collect()
}

fn findings(obs: &Observations) -> Vec<(&'static str, checklist::Severity)> {
    run_all(obs)
        .iter()
        .filter_map(|v| v.spec.severity.map(|s| (v.spec.name, s)))
        .collect()
}

const HARDENED: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains; preload",
    ),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    (
        "permissions-policy",
        "geolocation=(), camera=(), microphone=()",
    ),
    ("cross-origin-resource-policy", "same-origin"),
    ("server", "gunicorn"),
    (
        "set-cookie",
        "session=abc; Secure; HttpOnly; SameSite=Lax; Path=/",
    ),
];

#[test]
fn a_hardened_https_api_has_no_findings_and_an_a_plus() {
    let obs = observations(
        "https://api.example/",
        vec![("main", "/", response(200, HARDENED, "{}"))],
    );
    assert_eq!(findings(&obs), []);
    let s = crate::score::score(&run_all(&obs), None);
    assert_eq!(s.grade, "A+", "{s:?}");
    let n = names(&obs);
    for expected in [
        "hsts-preload-eligible",
        "csp-implemented-with-no-unsafe-default-src-none",
        "server-product-only",
        "cookies-secure-with-httponly-sessions-and-samesite",
    ] {
        assert!(n.contains(&expected), "{expected} not in {n:?}");
    }
}

#[test]
fn hsts_is_judged_only_over_https() {
    let obs = observations(
        "http://127.0.0.1:5000/",
        vec![(
            "main",
            "/",
            response(200, &[("content-type", "text/html")], "<p>hi</p>"),
        )],
    );
    let f = findings(&obs);
    assert!(!f.iter().any(|(n, _)| n.starts_with("hsts")), "{f:?}");
    assert!(names(&obs).contains(&"hsts-not-implemented-no-https"));
    let obs = observations(
        "https://a.example/",
        vec![(
            "main",
            "/",
            response(200, &[("strict-transport-security", "max-age=300")], ""),
        )],
    );
    assert!(names(&obs).contains(&"hsts-implemented-max-age-less-than-six-months"));
}

#[test]
fn cookie_flags_are_judged_not_the_scan_transport() {
    // Over plain HTTP (a staging port, gunicorn behind its proxy) a Secure
    // cookie is fine for CKE001: the plain-HTTP answer is TLS001's finding.
    let secure = response(
        200,
        &[(
            "set-cookie",
            "session=abc; Secure; HttpOnly; SameSite=Lax; Path=/",
        )],
        "{}",
    );
    let obs = observations("http://127.0.0.1:5000/", vec![("main", "/", secure)]);
    let n = names(&obs);
    assert!(
        n.contains(&"cookies-secure-with-httponly-sessions"),
        "{n:?}"
    );
    assert!(!findings(&obs).iter().any(|(n, _)| n.starts_with("cookies")));
    // Without the flag it is a finding on either transport, and HSTS on the
    // page does not excuse a cookie that came over plain HTTP.
    let plain = response(
        200,
        &[("set-cookie", "session=abc; HttpOnly; SameSite=Lax")],
        "{}",
    );
    let obs = observations("http://127.0.0.1:5000/", vec![("main", "/", plain)]);
    assert!(names(&obs).contains(&"cookies-session-without-secure-flag"));
    let mut headers = HARDENED.to_vec();
    headers.retain(|(k, _)| *k != "set-cookie");
    headers.push(("set-cookie", "theme=dark; SameSite=Lax"));
    let obs = observations(
        "https://a.example/",
        vec![("main", "/", response(200, &headers, "{}"))],
    );
    assert!(names(&obs).contains(&"cookies-without-secure-flag-but-protected-by-hsts"));
}

/// A "set this cookie" endpoint fed the scan's own query parameters (the
/// open-redirect probe's `next=…&url=…`) sets cookies named and valued by the
/// scan: they are not the app's cookies. A cookie of the app's own on the same
/// answer still counts.
#[test]
fn cookies_that_echo_the_scans_own_query_are_not_the_apps() {
    let probe =
        "/cookies/set?next=https%3A%2F%2Fevil.example%2Fx&url=https%3A%2F%2Fevil.example%2Fx";
    let echo = response(
        302,
        &[
            ("set-cookie", "next=https://evil.example/x; Path=/"),
            ("set-cookie", "url=https%3A%2F%2Fevil.example%2Fx; Path=/"),
        ],
        "",
    );
    let page = response(200, &[("content-type", "application/json")], "{}");
    let obs = observations(
        "http://127.0.0.1:5000/",
        vec![("main", "/", page.clone()), ("redirect", probe, echo)],
    );
    let n = names(&obs);
    assert!(n.contains(&"cookies-not-found"), "{n:?}");
    // The app's own cookie on that answer, and a cookie whose value is not the
    // one sent, are judged.
    let mixed = response(
        302,
        &[
            ("set-cookie", "next=https://evil.example/x; Path=/"),
            ("set-cookie", "url=/home; Path=/"),
            ("set-cookie", "session=abc; HttpOnly; SameSite=Lax"),
        ],
        "",
    );
    let obs = observations(
        "http://127.0.0.1:5000/",
        vec![("main", "/", page), ("redirect", probe, mixed)],
    );
    let v = run_all(&obs);
    let details: Vec<String> = v
        .iter()
        .filter(|v| v.spec.control == "CKE001" && v.spec.severity.is_some())
        .filter_map(|v| v.detail.clone())
        .collect();
    assert_eq!(details, ["cookie `url`", "cookie `session`"], "{details:?}");
}

#[test]
fn deprecated_headers_are_never_required_and_products_are_not_versions() {
    let obs = observations(
        "https://a.example/",
        vec![("main", "/", response(200, HARDENED, "{}"))],
    );
    assert!(!names(&obs).iter().any(|n| n.contains("xss")));
    let mut headers = HARDENED.to_vec();
    headers.retain(|(k, _)| *k != "server");
    headers.push(("server", "Werkzeug/2.2.2 Python/3.11.2"));
    let obs = observations(
        "https://a.example/",
        vec![("main", "/", response(200, &headers, "{}"))],
    );
    let n = names(&obs);
    assert!(
        n.contains(&"server-version-disclosed") && n.contains(&"development-server"),
        "{n:?}"
    );
}

#[test]
fn exposed_files_need_real_content_not_a_200() {
    let page = "<!doctype html><html><body>app shell</body></html>";
    let obs = observations(
        "http://127.0.0.1:5000/",
        vec![
            (
                "main",
                "/",
                response(200, &[("content-type", "text/html")], page),
            ),
            (
                "file:/.env",
                "/.env",
                response(200, &[("content-type", "text/html")], page),
            ),
            (
                "file:/.git/HEAD",
                "/.git/HEAD",
                response(
                    200,
                    &[("content-type", "text/plain")],
                    "ref: refs/heads/main\n",
                ),
            ),
            ("file:/config.py", "/config.py", response(404, &[], "")),
        ],
    );
    let f = findings(&obs);
    assert!(f.iter().any(|(n, _)| *n == "exposed-git-metadata"), "{f:?}");
    assert!(
        !f.iter()
            .any(|(n, _)| *n == "exposed-env-file" || *n == "exposed-python-source"),
        "{f:?}"
    );
}

#[test]
fn cors_reflection_with_credentials_and_null() {
    let reflect = |origin: &str| {
        response(
            200,
            &[
                ("access-control-allow-origin", origin),
                ("access-control-allow-credentials", "true"),
                ("content-type", "application/json"),
            ],
            "{}",
        )
    };
    let target = Target::parse("http://127.0.0.1:5000/").unwrap();
    let mut obs = observations(
        "http://127.0.0.1:5000/",
        vec![("main", "/", response(200, &[], "{}"))],
    );
    for (key, origin) in [
        ("cors-evil:/api", "https://evil.example"),
        ("cors-null:/api", "null"),
    ] {
        obs.exchanges.push(Exchange {
            key: key.into(),
            request: HttpRequest::new(&target.endpoint, "GET", "/api").header("origin", origin),
            result: Ok(reflect(origin)),
        });
    }
    let n = names(&obs);
    assert!(
        n.contains(&"cross-origin-resource-sharing-implemented-with-universal-access"),
        "{n:?}"
    );
    assert!(n.contains(&"cors-null-origin-with-credentials"), "{n:?}");
}

#[test]
fn tracebacks_sql_errors_and_debugger_pages() {
    let tb = "<html><head><title>TypeError // Werkzeug Debugger</title><script src=\"?__debugger__=yes&amp;cmd=resource&amp;f=debugger.js\"></script><script>var CONSOLE_MODE = false, EVALEX = true, SECRET = \"s3cr3t\";</script></head><body>Traceback <em>(most recent call last)</em>: File \"/srv/app/x.py\", line 3</body></html>";
    let obs = observations(
        "http://127.0.0.1:5000/",
        vec![
            (
                "main",
                "/",
                response(200, &[("content-type", "application/json")], "{}"),
            ),
            (
                "err-id:/api/orders",
                "/api/orders/987654321",
                response(500, &[("content-type", "text/html; charset=utf-8")], tb),
            ),
            (
                "err-param:/api/orders",
                "/api/orders?q=%27",
                response(
                    500,
                    &[("content-type", "application/json")],
                    "{\"detail\": \"unrecognized token: \\\"'''\\\"\"}",
                ),
            ),
        ],
    );
    let verdicts = run_all(&obs);
    let n: Vec<&str> = verdicts.iter().map(|v| v.spec.name).collect();
    for expected in [
        "werkzeug-debugger-traceback",
        "stack-trace-leak",
        "file-path-leak",
        "sql-error-leak",
    ] {
        assert!(n.contains(&expected), "{expected} not in {n:?}");
    }
    let dbg = verdicts
        .iter()
        .find(|v| v.spec.name == "werkzeug-debugger-traceback")
        .unwrap();
    assert!(!dbg.evidence.as_deref().unwrap_or("").contains("s3cr3t"));
}

/// `--wordlist` is tried whole: a key on the last line of a 56,000-line list is
/// found (under Flask's parameters), and a key on no line is reported as not
/// guessed, with every candidate counted.
#[test]
fn the_whole_word_list_is_tried() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.txt");
    let keys: Vec<String> = (0..56_000)
        .map(|i| format!("candidate-key-{i:05}"))
        .collect();
    std::fs::write(&path, keys.join("\n") + "\n").unwrap();
    let candidates = session::Candidates::load(Some(&path)).unwrap();
    let scan = |key: &[u8]| {
        let cookie = flask_session::sign_at(
            &serde_json::json!({"user_id": 7}),
            key,
            &flask_session::SignerParams::flask_default(),
            1_700_000_000,
        );
        let header = format!("session={cookie}; HttpOnly; Path=/");
        let mut obs = observations(
            "http://127.0.0.1:5000/",
            vec![("main", "/", response(200, &[("set-cookie", &header)], "{}"))],
        );
        obs.session_keys = Some(candidates.clone());
        run_all(&obs)
            .into_iter()
            .find(|v| v.check == "session-weak-key")
            .expect("the weak-key check ran")
    };
    let last = scan(b"candidate-key-55999");
    assert_eq!(last.spec.name, "session-secret-key-weak");
    assert!(
        last.evidence
            .as_deref()
            .unwrap()
            .contains("ca…99 (19 chars)"),
        "{:?}",
        last.evidence
    );
    let absent = scan(b"candidate-key-56000");
    assert_eq!(absent.spec.name, "session-secret-key-not-guessed");
    assert!(
        absent
            .message()
            .contains(&format!("{} candidates tried", candidates.len())),
        "{}",
        absent.message()
    );
    assert!(candidates.len() > 56_000);
}

/// Redirect and error pages echo the requested URL: the toolbar asset probe's
/// own path in such a page is no toolbar. Markup in a rendered page is.
#[test]
fn toolbar_markup_is_not_the_echo_of_the_probe_path() {
    let html = [("content-type", "text/html; charset=utf-8")];
    let echo = "<!doctype html><title>Redirecting...</title><h1>Redirecting...</h1><p>You should be redirected automatically to the target URL: <a href=\"https://127.0.0.1:8443/_debug_toolbar/static/css/toolbar.css\">https://127.0.0.1:8443/_debug_toolbar/static/css/toolbar.css</a>.";
    let not_found = "<html><body><h1>Not found</h1><p>No page at /_debug_toolbar/static/css/toolbar.css</p></body></html>";
    let page = |body: &str| {
        observations(
            "http://127.0.0.1:5000/",
            vec![
                ("main", "/", response(200, &html, body)),
                (
                    "toolbar",
                    "/_debug_toolbar/static/css/toolbar.css",
                    response(302, &html, echo),
                ),
                (
                    "file:/.env",
                    "/.env",
                    response(
                        200,
                        &html,
                        &not_found.replace("_debug_toolbar/static/css/toolbar.css", ".env"),
                    ),
                ),
                (
                    "disc:/login",
                    "/_debug_toolbar/static/css/toolbar.css",
                    response(200, &html, not_found),
                ),
            ],
        )
    };
    let n = names(&page("<html><body>hello</body></html>"));
    assert!(n.contains(&"debug-toolbar-not-injected"), "{n:?}");
    let verdicts = run_all(&page(
        "<html><body>hello<div id=\"flDebug\" style=\"display:none;\"><div id=\"flDebugToolbar\"></div></div></body></html>",
    ));
    let injected = verdicts
        .iter()
        .find(|v| v.spec.name == "debug-toolbar-injected")
        .expect("the toolbar in the main page is found");
    assert!(injected
        .evidence
        .as_deref()
        .unwrap_or("")
        .contains("flDebug"));
}

/// An exchange whose request carries `origin`, answered by `resp`.
fn with_origin(target: &Target, key: &str, origin: &str, resp: HttpResponse) -> Exchange {
    Exchange {
        key: key.into(),
        request: HttpRequest::new(&target.endpoint, "GET", "/api").header("origin", origin),
        result: Ok(resp),
    }
}

/// A site that reflects every origin is reported as such (COR001/COR002); the
/// look-alike origins it also lets in are no anchoring mistake on top. An
/// allow-list that refuses the foreign origin but lets a look-alike in is one.
#[test]
fn look_alike_origins_count_only_when_foreign_ones_are_refused() {
    let target = Target::parse("http://127.0.0.1:5000/").unwrap();
    let reflect = |origin: &str| {
        response(
            200,
            &[
                ("access-control-allow-origin", origin),
                ("access-control-allow-credentials", "true"),
            ],
            "{}",
        )
    };
    let scan = |evil_allowed: bool| {
        let mut obs = observations(
            "http://127.0.0.1:5000/",
            vec![("main", "/", response(200, &[], "{}"))],
        );
        let evil = if evil_allowed {
            reflect("https://evil.example")
        } else {
            response(200, &[], "{}")
        };
        obs.exchanges.push(with_origin(
            &target,
            "cors-evil:/api",
            "https://evil.example",
            evil,
        ));
        for (key, origin) in [
            ("cors-suffix:/api", "http://127.0.0.1.evil.example"),
            ("cors-prefix:/api", "http://evil127.0.0.1"),
        ] {
            obs.exchanges
                .push(with_origin(&target, key, origin, reflect(origin)));
        }
        names(&obs)
    };
    let everything = scan(true);
    assert!(
        everything.contains(&"cross-origin-resource-sharing-implemented-with-universal-access"),
        "{everything:?}"
    );
    assert!(
        !everything
            .iter()
            .any(|n| n.starts_with("cors-suffix") || n.starts_with("cors-prefix")),
        "{everything:?}"
    );
    let pattern = scan(false);
    assert!(pattern.contains(&"cors-suffix-bypass"), "{pattern:?}");
    assert!(pattern.contains(&"cors-prefix-bypass"), "{pattern:?}");
}

/// A proxy that adds its own headers next to the app's: browsers enforce every
/// CSP, read Referrer-Policy values as one list (the last known token rules)
/// and block framing on conflicting X-Frame-Options values. The scan must
/// judge what the browser does, not the first header.
#[test]
fn duplicate_security_headers_are_read_as_browsers_read_them() {
    let headers = [
        ("content-type", "text/html"),
        // The app's own weak policy first, the proxy's strict one after it.
        (
            "content-security-policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline' https:; img-src *",
        ),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "unsafe-url"),
        (
            "content-security-policy",
            "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'",
        ),
        ("x-frame-options", "SAMEORIGIN"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ];
    let obs = observations(
        "https://blog.example/",
        vec![("main", "/", response(200, &headers, "<p>hi</p>"))],
    );
    let n = names(&obs);
    for expected in [
        "csp-implemented-with-no-unsafe",
        "csp-no-unsafe-inline",
        "csp-no-wildcard-source",
        "csp-object-src-restricted",
        "csp-base-uri-set",
        "csp-frame-ancestors-set",
        "x-frame-options-implemented-via-csp",
        "referrer-policy-private",
    ] {
        assert!(n.contains(&expected), "{expected} not in {n:?}");
    }
    // In the other order the unsafe Referrer-Policy is the one in force.
    let obs = observations(
        "https://blog.example/",
        vec![(
            "main",
            "/",
            response(
                200,
                &[
                    ("referrer-policy", "no-referrer"),
                    ("referrer-policy", "unsafe-url"),
                ],
                "{}",
            ),
        )],
    );
    assert!(names(&obs).contains(&"referrer-policy-unsafe"));
    use headers::{frame_options_verdict, FrameOptions};
    assert_eq!(
        frame_options_verdict(&["DENY", "SAMEORIGIN"]),
        FrameOptions::SameOriginOrDeny
    );
    assert_eq!(
        frame_options_verdict(&["DENY, DENY"]),
        FrameOptions::SameOriginOrDeny
    );
    assert_eq!(
        frame_options_verdict(&["bogus", "other"]),
        FrameOptions::Invalid
    );
    assert_eq!(
        frame_options_verdict(&["ALLOW-FROM https://a.example"]),
        FrameOptions::AllowFrom
    );
}

/// INP001 judges how a JSON API parses bodies. A redirect (to HTTPS, to a login
/// page) or a CSRF rejection never read the JSON, and an HTML site's form
/// login answers in HTML by design.
#[test]
fn malformed_json_verdicts_need_an_answer_to_the_body() {
    let html = [("content-type", "text/html; charset=utf-8")];
    let scan = |main: HttpResponse, answer: HttpResponse| {
        let obs = observations(
            "http://127.0.0.1:5000/",
            vec![
                ("main", "/", main),
                ("badjson:/api/auth/login", "/api/auth/login", answer),
            ],
        );
        names(&obs)
    };
    let api = || response(200, &[("content-type", "application/json")], "{}");
    let redirect = response(
        301,
        &[
            ("content-type", "text/html"),
            ("location", "https://127.0.0.1/api/auth/login"),
        ],
        "<html><head><title>301 Moved Permanently</title></head></html>",
    );
    let n = scan(api(), redirect);
    assert!(!n.iter().any(|n| n.starts_with("malformed-json")), "{n:?}");
    let csrf = response(
        400,
        &html,
        "<!doctype html><title>400 Bad Request</title><h1>Bad Request</h1><p>The CSRF token is missing.</p>",
    );
    let n = scan(api(), csrf);
    assert!(!n.iter().any(|n| n.starts_with("malformed-json")), "{n:?}");
    let parser = || {
        response(
            400,
            &html,
            "<!doctype html><title>400 Bad Request</title><p>Failed to decode JSON object</p>",
        )
    };
    assert!(scan(api(), parser()).contains(&"malformed-json-html-error"));
    // An HTML site (no JSON anywhere): its form endpoint is not a JSON API.
    let n = scan(response(200, &html, "<p>hi</p>"), parser());
    assert!(!n.iter().any(|n| n.starts_with("malformed-json")), "{n:?}");
}

/// The canonical HTTPS redirect (`return 301 https://$host$request_uri`) sends
/// the client that forged Host back to what it asked for: no PRX002. A forged
/// host in a link, a redirect elsewhere, or from X-Forwarded-Host is.
#[test]
fn an_https_redirect_to_the_same_url_is_no_host_reflection() {
    let target = Target::parse("http://127.0.0.1:8080/").unwrap();
    let exchange = |key: &str, path: &str, header: (&str, &str), resp: HttpResponse| Exchange {
        key: key.into(),
        request: HttpRequest::new(&target.endpoint, "GET", path).header(header.0, header.1),
        result: Ok(resp),
    };
    let redirect = |to: &str| {
        response(
            301,
            &[("location", to), ("content-type", "text/html")],
            &format!("<a href=\"{to}\">moved</a>"),
        )
    };
    let scan = |extra: Vec<Exchange>| {
        let mut obs = observations(
            "http://127.0.0.1:8080/",
            vec![("main", "/", response(200, &[], "{}"))],
        );
        obs.exchanges.extend(extra);
        names(&obs)
    };
    let n = scan(vec![
        exchange(
            "host:main",
            "/",
            ("host", "evil.example"),
            redirect("https://evil.example/"),
        ),
        exchange(
            "host:/api/orders",
            "/api/orders",
            ("host", "evil.example"),
            redirect("https://evil.example:8443/api/orders"),
        ),
    ]);
    assert!(n.contains(&"host-header-not-reflected"), "{n:?}");
    let n = scan(vec![exchange(
        "host:/api/orders",
        "/api/orders",
        ("host", "evil.example"),
        redirect("https://evil.example/reset?token=1"),
    )]);
    assert!(n.contains(&"host-header-reflected"), "{n:?}");
    let n = scan(vec![exchange(
        "xfh:main",
        "/",
        ("x-forwarded-host", "evil.example"),
        redirect("https://evil.example/"),
    )]);
    assert!(n.contains(&"forwarded-host-reflected"), "{n:?}");
}

#[test]
fn https_on_another_port_does_not_claim_plain_http_is_absent() {
    use crate::observations::RedirectChain;
    let main = || vec![("main", "/", response(200, HARDENED, "{}"))];
    let mut obs = observations("https://api.example.test:8443/", main());
    obs.redirects = Some(RedirectChain {
        no_http_port: true,
        error: Some("no plain-HTTP port is known".into()),
        ..RedirectChain::default()
    });
    let n = names(&obs);
    assert!(n.contains(&"redirection-not-tested-https-port"), "{n:?}");
    assert!(!n.contains(&"redirection-not-needed-no-http"), "{n:?}");
    // On 443, a refused port 80 is plain HTTP not served.
    let mut obs = observations("https://api.example.test/", main());
    obs.redirects = Some(RedirectChain {
        error: Some("http://api.example.test/: connection refused".into()),
        ..RedirectChain::default()
    });
    assert!(names(&obs).contains(&"redirection-not-needed-no-http"));
}

/// One debugger seen four ways (its console, its resources, a traceback page and
/// the PIN prompt) is one critical DBG001 finding; the other signs are info
/// outcomes naming it, each with its evidence. Without the console, the first
/// sign seen in the order resources, traceback, PIN carries the finding.
#[test]
fn one_debugger_is_one_critical_finding() {
    let head = "<html><head><title>Console // Werkzeug Debugger</title><script>var CONSOLE_MODE = true, EVALEX = true, EVALEX_TRUSTED = false, SECRET = \"k3y\";</script></head>";
    let console = format!("{head}<body><div class=\"pin-prompt\">The console is locked and needs to be unlocked by entering the PIN.</div></body></html>");
    let tb = "<html><head><title>ZeroDivisionError // Werkzeug Debugger</title><script>var CONSOLE_MODE = false, EVALEX = true, SECRET = \"k3y\";</script></head><body>Traceback <em>(most recent call last)</em><div class=\"pin-prompt\">locked</div></body></html>";
    let js = "docReady(() => { if (!EVALEX_TRUSTED) { initPinBox(); } openShell(null, ...) }); // __debugger__";
    let main = (
        "main",
        "/",
        response(200, &[("content-type", "application/json")], "{}"),
    );
    let all = observations(
        "http://127.0.0.1:5000/",
        vec![
            main.clone(),
            (
                "console",
                "/console",
                response(
                    200,
                    &[("content-type", "text/html; charset=utf-8")],
                    &console,
                ),
            ),
            (
                "debugger-resource",
                "/?__debugger__=yes&cmd=resource&f=debugger.js",
                response(
                    200,
                    &[("content-type", "text/javascript; charset=utf-8")],
                    js,
                ),
            ),
            (
                "err-id:/api",
                "/api/987654321",
                response(500, &[("content-type", "text/html; charset=utf-8")], tb),
            ),
        ],
    );
    let verdicts = run_all(&all);
    let dbg: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| v.spec.control == "DBG001")
        .collect();
    let critical: Vec<&str> = dbg
        .iter()
        .filter(|v| v.spec.severity == Some(checklist::Severity::Critical))
        .map(|v| v.spec.name)
        .collect();
    assert_eq!(critical, ["werkzeug-console-exposed"], "{dbg:#?}");
    for also in [
        "werkzeug-debugger-assets-same-debugger",
        "werkzeug-debugger-traceback-same-debugger",
        "werkzeug-pin-prompt-same-debugger",
    ] {
        let v = dbg
            .iter()
            .find(|v| v.spec.name == also)
            .unwrap_or_else(|| panic!("{also} missing: {dbg:#?}"));
        assert_eq!(v.spec.severity, Some(checklist::Severity::Info));
        assert_eq!(v.spec.modifier, 0);
        assert!(
            v.message().contains("reported as werkzeug-console-exposed"),
            "{}",
            v.message()
        );
        assert!(v
            .evidence
            .as_deref()
            .is_some_and(|e| !e.is_empty() && !e.contains("k3y")));
    }

    // No console, no resources: the traceback page is the finding, the PIN
    // prompt on it points at it.
    let tb_only = observations(
        "http://127.0.0.1:5000/",
        vec![
            main,
            (
                "console",
                "/console",
                response(
                    404,
                    &[("content-type", "application/json")],
                    "{\"error\":\"not found\"}",
                ),
            ),
            (
                "err-id:/api",
                "/api/987654321",
                response(500, &[("content-type", "text/html; charset=utf-8")], tb),
            ),
        ],
    );
    let f = findings(&tb_only);
    let dbg: Vec<_> = f
        .iter()
        .filter(|(n, _)| n.starts_with("werkzeug"))
        .collect();
    assert_eq!(
        dbg,
        [
            &("werkzeug-debugger-traceback", checklist::Severity::Critical),
            &(
                "werkzeug-pin-prompt-same-debugger",
                checklist::Severity::Info
            )
        ]
    );
}

/// RL003 needs a burst in which the credentials were compared: a login that is
/// not set up (`400 No auth_callback defined`), a validation error or a CSRF
/// refusal tested nothing; 401s, a form shown again, or a 400 about the
/// credentials did.
#[test]
fn a_login_burst_counts_only_when_passwords_were_compared() {
    let burst = |status: u16, body: &str| {
        let mut obs = observations(
            "http://127.0.0.1:5000/",
            vec![(
                "main",
                "/",
                response(200, &[("content-type", "application/json")], "{}"),
            )],
        );
        obs.active = true;
        obs.discovery.login_paths.insert("/login".into());
        obs.facts
            .insert("burst:/login".into(), "not limited; statuses [..]".into());
        for i in 0..crate::active::BURST {
            obs.exchanges.push(Exchange {
                key: format!("burst:/login:{i}"),
                request: HttpRequest::new(&obs.target.endpoint, "POST", "/login"),
                result: Ok(response(
                    status,
                    &[("content-type", "application/json")],
                    body,
                )),
            });
        }
        names(&obs).contains(&"login-not-rate-limited")
    };
    assert!(!burst(400, r#"{"detail":"No auth_callback defined"}"#));
    assert!(!burst(422, r#"{"detail":[{"msg":"Field required"}]}"#));
    assert!(!burst(400, "The CSRF token is missing."));
    assert!(!burst(500, "Internal Server Error"));
    assert!(burst(401, r#"{"error":"unauthorized"}"#));
    assert!(burst(400, r#"{"message":"Invalid email or password"}"#));
    assert!(burst(200, "<form>Wrong password</form>"));
}
