//! An example's expected-scan.toml: what a live scan must find, and where.
//! Paths use Flask's route converters for the parts any value fills.

use std::path::Path;

/// One `[[finding]]` of an example's expected-scan.toml.
pub struct Expected {
    pub id: String,
    pub mode: String,
    pub path: String,
}

pub fn expected(dir: &Path) -> Vec<Expected> {
    let text = std::fs::read_to_string(dir.join("expected-scan.toml")).expect("expected-scan.toml");
    let doc: toml::Table = text.parse().expect("expected-scan.toml parses");
    doc.get("finding")
        .and_then(|f| f.as_array())
        .map(|list| {
            list.iter()
                .map(|f| {
                    let s = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    Expected {
                        id: s("id"),
                        mode: s("mode"),
                        path: s("path"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a request path matches a manifest route: literal segments, and
/// Flask's converters for the parts any value fills (`<int:x>` one all-digit
/// segment, `<x>` or `<string:x>` one segment, `<path:x>` one or more).
fn route_matches(route: &[&str], path: &[&str]) -> bool {
    let Some((first, rest)) = route.split_first() else {
        return path.is_empty();
    };
    let Some(var) = first.strip_prefix('<').and_then(|v| v.strip_suffix('>')) else {
        return path.first() == Some(first) && route_matches(rest, &path[1..]);
    };
    let converter = var.split_once(':').map_or("string", |(c, _)| c);
    match converter {
        "path" => (1..=path.len())
            .any(|n| path[..n].iter().all(|s| !s.is_empty()) && route_matches(rest, &path[n..])),
        "int" => path.first().is_some_and(|s| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && route_matches(rest, &path[1..])
        }),
        _ => path
            .first()
            .is_some_and(|s| !s.is_empty() && route_matches(rest, &path[1..])),
    }
}

/// Whether a finding's URL is at a manifest path: the route matches the URL's
/// path, and every query parameter the manifest names is in the URL's query.
pub fn at_path(url: &str, manifest_path: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let (route, query) = manifest_path.split_once('?').unwrap_or((manifest_path, ""));
    let route: Vec<&str> = route.split('/').collect();
    let path: Vec<&str> = url.path().split('/').collect();
    if !route_matches(&route, &path) {
        return false;
    }
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map_or(p, |(k, _)| k))
        .all(|k| names.iter().any(|n| n == k))
}

#[test]
fn manifest_paths_match_like_flask_routes() {
    let u = |p: &str| format!("http://127.0.0.1:5000{p}");
    assert!(at_path(&u("/"), "/"));
    assert!(!at_path(&u("/api/"), "/"));
    assert!(at_path(
        &u("/api/orders/987654321"),
        "/api/orders/<int:order_id>"
    ));
    assert!(!at_path(
        &u("/api/orders/abc"),
        "/api/orders/<int:order_id>"
    ));
    assert!(!at_path(
        &u("/api/orders/1/cancel"),
        "/api/orders/<int:order_id>"
    ));
    assert!(at_path(&u("/api/x-1/y"), "/api/<path:rest>"));
    assert!(!at_path(&u("/api/"), "/api/<path:rest>"));
    assert!(at_path(&u("/api/x"), "/api/<name>"));
    assert!(at_path(
        &u("/api/auth/logout?url=a&next=https%3A%2F%2Fevil.example%2F"),
        "/api/auth/logout?next=https://evil.example/"
    ));
    assert!(!at_path(
        &u("/api/auth/logout?url=a"),
        "/api/auth/logout?next=https://evil.example/"
    ));
}
