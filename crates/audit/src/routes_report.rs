//! `audit --routes`: the route inventory with each route's protections, as a
//! table or JSON.

use serde::Serialize;

use crate::model::Project;

#[derive(Debug, Serialize)]
pub struct RouteRow {
    pub methods: Vec<String>,
    pub path: String,
    pub endpoint: String,
    /// `file:line` of the view function.
    pub location: String,
    /// `@limiter.limit` values (`"5 per minute"`), quart-rate-limiter's
    /// (`5 per timedelta(minutes=1)`), a project limiter's name, `exempt`, or empty.
    pub rate_limit: Vec<String>,
    pub csrf_exempt: bool,
    pub auth: Vec<String>,
    /// Changes state, is not public by design, and nothing authenticates it
    /// (AUTH003).
    pub auth_missing: bool,
    /// Of a blueprint or router no app registers: not served, not audited
    /// (the path is the rule without any registration prefix).
    pub unregistered: bool,
    /// The extension that declares the view (`Flask-Security`), when the
    /// project does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provided_by: Option<&'static str>,
}

/// Every route, sorted by path then method; routes of unregistered
/// blueprints are included, marked.
pub fn rows(project: &Project) -> Vec<RouteRow> {
    // Limiters of the project's own (a `@ratelimit(...)` decorator, a limiting
    // hook), as RL001/RL003 read them.
    let custom = crate::rules::rl::custom_limiter::CustomLimits::of(project);
    let mut rows: Vec<RouteRow> = project
        .routes
        .iter()
        .chain(&project.unregistered_routes)
        .map(|r| {
            let mut limits: Vec<String> = r
                .limits
                .iter()
                .map(|(v, _)| v.as_str().map_or_else(|| v.render(), str::to_string))
                .collect();
            if limits.is_empty() {
                if let Some(l) = custom.limiter_of(project, r) {
                    // `check_budget`; a method with its class
                    // (`AttemptLimiter.__call__`, `LimitedRoute.get_route_handler`).
                    let mut parts = l.qualified.rsplit('.');
                    let name = parts.next().unwrap_or(&l.qualified);
                    limits.push(match parts.next() {
                        Some(class) if class.starts_with(|c: char| c.is_ascii_uppercase()) => {
                            format!("{class}.{name}")
                        }
                        _ => name.to_string(),
                    });
                }
            }
            if r.limit_exempt {
                limits.push("exempt".into());
            }
            RouteRow {
                methods: r.methods.clone(),
                path: r.display_path().to_string(),
                endpoint: r.endpoint.clone(),
                location: project.describe(r.def_span),
                rate_limit: limits,
                csrf_exempt: r.csrf_exempt.is_some(),
                auth: r.auth.iter().map(|a| short_auth_name(a)).collect(),
                auth_missing: !r.unregistered
                    && crate::rules::auth::auth003_unauthenticated_mutation::unauthenticated(
                        project, r,
                    ),
                unregistered: r.unregistered,
                provided_by: r.provided_by.map(crate::model::Provider::name),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.path, &a.methods, &a.location).cmp(&(&b.path, &b.methods, &b.location))
    });
    rows
}

/// The last name of an authentication decorator or dependency, with `()` when
/// it is called without arguments and `(...)` with some: the arguments'
/// dotted names (`get_current_user(required_roles=[Role.admin])`) must not be
/// taken for the callee's.
fn short_auth_name(a: &str) -> String {
    let (head, call) = match a.find('(') {
        Some(i) => (&a[..i], Some(&a[i..])),
        None => (a, None),
    };
    let last = head.rsplit('.').next().unwrap_or(head);
    match call {
        Some("()") => format!("{last}()"),
        Some(_) => format!("{last}(...)"),
        None => last.to_string(),
    }
}

pub fn json(project: &Project) -> String {
    let mut s = serde_json::to_string_pretty(&serde_json::json!({
        "schema": "flaskguard-routes/v1",
        "routes": rows(project),
    }))
    .unwrap_or_default();
    s.push('\n');
    s
}

pub fn table(project: &Project) -> String {
    let rows = rows(project);
    let header = [
        "METHOD",
        "PATH",
        "ENDPOINT",
        "LOCATION",
        "RATE LIMIT",
        "CSRF EXEMPT",
        "AUTH",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.methods.join(","),
                if r.unregistered {
                    format!("{} (unregistered)", r.path)
                } else {
                    r.path.clone()
                },
                r.endpoint.clone(),
                match r.provided_by {
                    Some(p) => format!("{} ({p})", r.location),
                    None => r.location.clone(),
                },
                if r.rate_limit.is_empty() {
                    "-".into()
                } else {
                    r.rate_limit.join("; ")
                },
                if r.csrf_exempt {
                    "yes".into()
                } else {
                    "-".into()
                },
                if r.auth_missing {
                    "NONE".into()
                } else if r.auth.is_empty() {
                    "-".into()
                } else {
                    r.auth.join(", ")
                },
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(&widths).enumerate() {
            if i + 1 == cols.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    let unregistered = rows.iter().filter(|r| r.unregistered).count();
    if unregistered > 0 {
        out.push_str(&format!(
            "\n{} routes ({unregistered} of blueprints no app registers)\n",
            cells.len()
        ));
    } else {
        out.push_str(&format!("\n{} routes\n", cells.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::short_auth_name;

    #[test]
    fn auth_names_keep_the_callee() {
        assert_eq!(
            short_auth_name("flask_login.login_required"),
            "login_required"
        );
        assert_eq!(
            short_auth_name("deps.get_current_user()"),
            "get_current_user()"
        );
        assert_eq!(
            short_auth_name("deps.get_current_user(required_roles=[IRoleEnum.admin, ...])"),
            "get_current_user(...)"
        );
        assert_eq!(
            short_auth_name("before_request require_login"),
            "before_request require_login"
        );
    }
}
