//! Registry invariants and checks run on hand-made observations.

use std::collections::BTreeSet;

use super::*;
use crate::{
    client::{HttpRequest, HttpResponse},
    observations::{Exchange, Observations},
    target::Target,
};

/// The controls with an entry in CHECKLIST.md's scan column.
const SCAN_COLUMN: &[&str] = &[
    "DBG001", "DBG002", "DBG003", "KEY002", "KEY004", "HDR001", "HDR002", "HDR003", "HDR004",
    "HDR005", "HDR006", "HDR007", "HDR009", "TLS001", "TLS002", "TLS003", "CKE001", "CKE002",
    "CKE003", "CKE004", "CKE006", "CSR001", "COR001", "COR002", "COR003", "RL003", "PRX001",
    "PRX002", "INP001", "INP003", "INP007", "INJ005", "ERR002", "ERR003", "AUTH002",
];

/// Reads the scan column from CHECKLIST.md when the shared folder is beside the
/// repository, so the list above cannot drift from the specification.
fn scan_column_from_checklist() -> Option<BTreeSet<String>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = [
        root.join("../shared/CHECKLIST.md"),
        root.join("shared/CHECKLIST.md"),
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())?;
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | ID | sev | control | seeds | audit | scan | shield |
        if cells.len() >= 8
            && cells[1]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
            && cells[1].len() <= 7
            && cells[1] != "ID"
            && cells[6] != "—"
            && !cells[6].is_empty()
        {
            ids.insert(cells[1].to_string());
        }
    }
    Some(ids)
}

#[test]
fn at_least_sixty_named_checks_each_on_a_scan_control() {
    let reg = registry();
    assert!(reg.len() >= 60, "only {} checks", reg.len());
    let names: BTreeSet<&str> = reg.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), reg.len(), "check names must be unique");
    let mut outcome_names = BTreeSet::new();
    for c in &reg {
        assert!(
            SCAN_COLUMN.contains(&c.control),
            "{} maps to {} which has no scan entry",
            c.name,
            c.control
        );
        assert!(checklist::get(c.control).is_some(), "{}", c.control);
        let outcomes = (c.outcomes)();
        assert!(
            outcomes.len() >= 2,
            "{} needs a failing and a passing outcome",
            c.name
        );
        assert!(
            outcomes.iter().any(|o| o.severity.is_none()),
            "{} has no passing outcome",
            c.name
        );
        for o in outcomes {
            assert_eq!(o.control, c.control, "{} / {}", c.name, o.name);
            assert!(
                outcome_names.insert(o.name),
                "outcome {} appears twice",
                o.name
            );
            assert!(
                o.name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
                "{}",
                o.name
            );
            if o.severity.is_some() {
                assert!(!o.fix.is_empty(), "{} has no fix", o.name);
            }
            if o.table == Table::Observatory {
                assert!(
                    c.observatory_test.is_some(),
                    "{} uses the Observatory table outside an Observatory test",
                    o.name
                );
            }
            if o.severity.is_none() {
                assert!(
                    o.modifier >= 0 || o.table == Table::Observatory,
                    "{}: our penalties come with findings",
                    o.name
                );
            }
        }
    }
    // Every scan-column control is covered.
    let covered: BTreeSet<&str> = reg.iter().map(|c| c.control).collect();
    for id in SCAN_COLUMN {
        assert!(covered.contains(id), "no check for {id}");
    }
    if let Some(spec) = scan_column_from_checklist() {
        let ours: BTreeSet<String> = SCAN_COLUMN.iter().map(|s| s.to_string()).collect();
        assert_eq!(spec, ours, "SCAN_COLUMN drifted from CHECKLIST.md");
    }
}

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

/// docs/scan-scoring.md's table of every outcome, row for row as the registry
/// would write it (order aside), so the documentation cannot drift from the code.
#[test]
fn scoring_doc_lists_every_outcome_as_the_code_defines_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scan-scoring.md");
    let doc = std::fs::read_to_string(&path).expect("docs/scan-scoring.md");
    let documented: BTreeSet<String> = doc
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(str::to_string)
        .collect();
    let mut expected = BTreeSet::new();
    for c in registry() {
        for o in (c.outcomes)() {
            let severity = o
                .severity
                .map_or("pass".to_string(), |s| s.as_str().to_ascii_lowercase());
            expected.insert(format!(
                "| `{}`{} | {} | {} | `{}` | {} | {:+} | {} | {} |",
                c.name,
                if c.active { " (active)" } else { "" },
                c.control,
                c.observatory_test.unwrap_or("—"),
                o.name,
                severity,
                o.modifier,
                o.table.as_str(),
                o.message
            ));
        }
    }
    let missing: Vec<&String> = expected.difference(&documented).collect();
    let stale: Vec<&String> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/scan-scoring.md is out of step with the checks.\nmissing rows:\n{}\nstale rows:\n{}",
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        stale
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
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
