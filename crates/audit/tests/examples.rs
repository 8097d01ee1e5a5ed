//! End to end over the example apps: every problem planted in
//! `examples/orders-weak` that an existing rule covers is reported with the right
//! ID at the right line, and `examples/orders-hardened` has nothing of medium
//! severity or above. The set of IDs checked comes from the rule registry, so the
//! test tightens by itself as rules are added.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use audit::AuditSettings;
use checklist::Severity;
use regex::Regex;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// `(path, line, ID)` of every `planted:` marker. In `.env` files the marker sits
/// on the comment line above the value it is about (README convention).
fn planted(root: &Path) -> Vec<(String, u32, String)> {
    let re = Regex::new(r"planted: ([A-Z]+[0-9]{3}(?:, *[A-Z]+[0-9]{3})*)").unwrap();
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".md") || name == "expected-scan.toml" {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let value_below = name == ".env" || name.starts_with(".env.");
            for (i, line) in text.lines().enumerate() {
                let Some(caps) = re.captures(line) else {
                    continue;
                };
                let line_no = i as u32 + 1 + u32::from(value_below);
                for id in caps[1].split(',') {
                    out.push((rel.clone(), line_no, id.trim().to_string()));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn orders_weak_reports_every_planted_problem_with_a_rule() {
    let root = example("orders-weak");
    assert!(root.is_dir(), "examples/orders-weak is missing");
    let covered: BTreeSet<&str> = audit::rules::all().iter().map(|r| r.code).collect();
    let markers: Vec<_> = planted(&root)
        .into_iter()
        .filter(|(_, _, id)| covered.contains(id.as_str()))
        .collect();
    assert!(
        markers.len() >= 20,
        "too few planted markers found: {markers:?}"
    );

    // As the README runs it: with the example's own OSV advisories (DEP002).
    let settings = AuditSettings {
        advisories: Some(root.join("advisories")),
        ..AuditSettings::default()
    };
    let outcome = audit::run(std::slice::from_ref(&root), &settings).unwrap();
    let advisory_problems: Vec<_> = outcome
        .report
        .diagnostics
        .iter()
        .filter(|d| {
            d.source
                .as_deref()
                .is_some_and(|s| s.contains("advisories"))
        })
        .collect();
    assert!(
        advisory_problems.is_empty(),
        "advisories not read: {advisory_problems:?}"
    );
    let found: BTreeSet<(String, u32, String)> = outcome
        .report
        .findings
        .iter()
        .filter_map(|f| {
            f.location
                .file()
                .map(|l| (l.path.clone(), l.line, f.control.clone()))
        })
        .collect();
    let missing: Vec<String> = markers
        .iter()
        .filter(|m| !found.contains(*m))
        .map(|(p, l, id)| format!("{p}:{l} {id}"))
        .collect();
    assert!(
        missing.is_empty(),
        "planted problems not reported:\n{}",
        missing.join("\n")
    );
}

#[test]
fn orders_hardened_has_nothing_of_medium_or_above() {
    // The weak example's advisories cover the versions the hardened one moved
    // past: none may match.
    let settings = AuditSettings {
        advisories: Some(example("orders-weak").join("advisories")),
        ..AuditSettings::default()
    };
    let outcome = audit::run(&[example("orders-hardened")], &settings).unwrap();
    let serious: Vec<String> = outcome
        .report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .map(|f| format!("{} {} {}", f.location.display(), f.control, f.message))
        .collect();
    assert!(
        serious.is_empty(),
        "orders-hardened findings:\n{}",
        serious.join("\n")
    );
}

#[test]
fn the_model_of_orders_weak() {
    let outcome = audit::run(&[example("orders-weak")], &AuditSettings::default()).unwrap();
    let p = &outcome.project;
    assert_eq!(p.apps.len(), 1);
    let app = &p.apps[0];
    assert_eq!(app.factory.as_deref(), Some("orders.create_app"));
    let prod = app
        .config
        .production
        .as_ref()
        .expect("a production config is chosen");
    assert_eq!(prod.name, "config.ProductionConfig");
    assert!(prod.reason.contains("\"production\""), "{}", prod.reason);
    assert_eq!(p.describe(prod.span), "config.py:59");
    // DEBUG comes from the base class, SECRET_KEY from ProductionConfig.
    assert_eq!(
        p.describe(app.config.get("DEBUG").unwrap().span),
        "config.py:20"
    );
    assert_eq!(
        p.describe(app.config.get("SECRET_KEY").unwrap().span),
        "config.py:51"
    );
    // Talisman switched its HttpOnly override off; the config value stands.
    assert_eq!(app.config.flag("SESSION_COOKIE_HTTPONLY"), Some(false));
    // Blueprints registered with prefixes in another file.
    let login = p
        .routes
        .iter()
        .find(|r| r.endpoint == "auth.login")
        .unwrap();
    assert_eq!(login.path.as_deref(), Some("/api/auth/login"));
    assert_eq!(login.methods, ["POST"]);
    assert_eq!(p.describe(login.def_span), "orders/api/auth.py:26");
    // Deployment: gunicorn.conf.py's WEB_CONCURRENCY default, nginx in front.
    let (workers, _, _) = p.deployment.workers.as_ref().unwrap();
    assert_eq!(workers.min, 4);
    assert!(p.deployment.behind_proxy());
    // The limiter is bound to the app by init_app in another file.
    let limiter = p
        .extensions
        .iter()
        .find(|e| e.kind == audit::model::ExtKind::Limiter)
        .unwrap();
    assert_eq!(limiter.app, Some(0));
    assert_eq!(p.describe(limiter.span), "orders/extensions.py:15");
    // flask-cors with `*` and credentials reflects any Origin.
    let cors = p
        .extensions
        .iter()
        .find(|e| e.kind == audit::model::ExtKind::Cors)
        .unwrap();
    let policy = audit::model::cors::policy(p, cors).unwrap();
    assert_eq!(policy.reflects_any_origin_with_credentials(), Some(true));
    assert_eq!(policy.allow_headers, Some(vec!["*".to_string()]));
}

#[test]
fn the_route_inventory_of_orders_hardened() {
    let outcome = audit::run(&[example("orders-hardened")], &AuditSettings::default()).unwrap();
    let rows = audit::routes_report::rows(&outcome.project);
    let login = rows.iter().find(|r| r.path == "/api/auth/login").unwrap();
    assert_eq!(login.methods, ["POST"]);
    assert_eq!(login.rate_limit, ["20 per hour"]);
    let delete = rows
        .iter()
        .find(|r| r.path == "/api/orders/<int:order_id>" && r.methods == ["DELETE"])
        .unwrap();
    assert_eq!(delete.auth, ["admin_required"]);
    let json: serde_json::Value =
        serde_json::from_str(&audit::routes_report::json(&outcome.project)).unwrap();
    assert_eq!(json["routes"].as_array().unwrap().len(), rows.len());
}
