//! CKE004 `sensitive-data-in-session-cookie`: roles, tokens and secrets kept
//! in the client-side session cookie.

use report::Finding;

use super::words;
use crate::{
    model::{ExtKind, Project},
    python::value::{Kind, Value},
    rules::{Rule, RuleContext},
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "CKE004",
    name: "sensitive-data-in-session-cookie",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports writes of sensitive keys to Flask's session — `session["role"] = ...`,
`session.update(api_token=...)`, `session.setdefault("is_admin", ...)` — and
to Starlette's `request.session` under `SessionMiddleware`, both of which keep
the session in a signed cookie on the client. A key is sensitive when one of
its words is a role or privilege (`role`, `admin`, `is_admin`, `superuser`,
`staff`, `permissions`), a credential (`password`, `secret`, `token`,
`api_key`, `private_key`, `jwt`, `otp`), or personal data such as `ssn`.
CSRF tokens (Flask-WTF keeps its own in the session by design) are not
reported.

The rule is silent when the project keeps sessions on the server:
Flask-Session (`Session(app)`), Flask-KVSession, or a custom
`app.session_interface` other than Flask's cookie one.

## Why is this bad?
Flask's session cookie is signed, not encrypted: anyone who holds it can
base64-decode it and read every key. Tokens and passwords in it leak through
browser storage, logs and proxies; a role in it leaks how authorisation works
and becomes forgeable the moment the secret key is weak (KEY002).

## Example
```python
session["role"] = user.role
session["api_token"] = user.api_token
```

Use instead:
```python
session["user_id"] = user.id  # look the role up on the server per request
```
"#;

/// Words that make a session key sensitive.
const SENSITIVE: &[&str] = &[
    "role",
    "roles",
    "admin",
    "superuser",
    "staff",
    "permission",
    "permissions",
    "perms",
    "privilege",
    "privileges",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "tokens",
    "apikey",
    "jwt",
    "otp",
    "totp",
    "ssn",
    "credential",
    "credentials",
    "pin",
];

/// Whether a session key names sensitive data.
pub fn is_sensitive_key(key: &str) -> bool {
    let w = words(key);
    if w.iter().any(|w| w == "csrf" || w == "xsrf") {
        return false;
    }
    w.iter().any(|x| SENSITIVE.contains(&x.as_str()))
        || w.windows(2).any(|p| {
            p[1] == "key" && matches!(p[0].as_str(), "api" | "private" | "secret" | "access")
        })
}

/// Sessions kept on the server: the cookie holds only an id.
fn server_side_sessions(project: &Project) -> bool {
    if project.has_extension(ExtKind::FlaskSession) {
        return true;
    }
    project.python().any(|(_, facts)| {
        facts
            .imports
            .iter()
            .any(|i| i.qualified.starts_with("flask_kvsession"))
    }) || super::custom_session_interface(project)
}

/// Where a session object is written: `flask.session` (cookie), or
/// Starlette's `request.session` (cookie, with SessionMiddleware).
fn is_cookie_session(project: &Project, file: FileId, base: &Value, starlette: bool) -> bool {
    let Some(r) = base.reference() else {
        return false;
    };
    if r.last_name() != "session" {
        return false;
    }
    if starlette && r.second_last_name() == Some("request") {
        return true;
    }
    matches!(
        project
            .resolver()
            .resolve(file, base)
            .external_name()
            .as_deref(),
        Some("flask.session" | "flask.globals.session" | "quart.session")
    )
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    if server_side_sessions(project) {
        return Vec::new();
    }
    let starlette = project.has_extension(ExtKind::SessionMiddleware);
    // (file, span of the write, key)
    let mut writes: Vec<(Span, String)> = Vec::new();
    for (file, facts) in project.python() {
        for a in &facts.assigns {
            let Kind::Subscript(base, key) = &a.target.kind else {
                continue;
            };
            let Some(key) = project.resolver().deref(file, key).1.as_str() else {
                continue;
            };
            if is_sensitive_key(key) && is_cookie_session(project, file, base, starlette) {
                writes.push((Span::new(file, a.range), key.to_string()));
            }
        }
    }
    for (file, _, call) in project.calls_named(&["update", "setdefault"]) {
        let c = call.call();
        let Some(recv) = c.receiver() else { continue };
        if !is_cookie_session(project, file, &recv, starlette) {
            continue;
        }
        let span = Span::new(file, call.range());
        let mut keys: Vec<String> = Vec::new();
        match c.last_name() {
            Some("setdefault") => keys.extend(c.arg(0).and_then(Value::as_str).map(str::to_string)),
            _ => {
                keys.extend(
                    c.kwargs
                        .iter()
                        .filter_map(|(k, _)| k.as_ref().map(|k| k.to_string())),
                );
                if let Some(d) = c.arg(0).map(|a| project.resolver().deref(file, a).1) {
                    for (k, _) in d.as_dict().unwrap_or_default() {
                        keys.extend(k.as_ref().and_then(Value::as_str).map(str::to_string));
                    }
                }
            }
        }
        for k in keys.into_iter().filter(|k| is_sensitive_key(k)) {
            writes.push((span, k));
        }
    }
    writes.sort();
    writes.dedup();
    writes
        .into_iter()
        .map(|(span, key)| {
            ctx.finding(RULE.code, RULE.name, span, format!("`session[\"{key}\"]` is stored in the client-side session cookie, which is signed but not encrypted: anyone holding the cookie can read it"))
                .with_fix("Keep only an identifier (user id) in the session and look roles and tokens up on the server, or use server-side sessions (Flask-Session).")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::is_sensitive_key;

    #[test]
    fn sensitive_keys() {
        for k in [
            "role",
            "is_admin",
            "api_token",
            "password",
            "apiKey",
            "private_key",
            "oauth_token",
        ] {
            assert!(is_sensitive_key(k), "{k}");
        }
        for k in [
            "user_id",
            "csrf_token",
            "_fresh",
            "next",
            "cart",
            "keyboard",
            "spinner",
        ] {
            assert!(!is_sensitive_key(k), "{k}");
        }
    }
}
