//! Where the cookie session is written: `session[...] = ...`,
//! `session.update(...)`, Flask-Login's `login_user`; and which of those
//! writes record who is logged in.

use super::Project;
use crate::{
    python::value::{Kind, Value},
    source::{FileId, Span},
};

/// Writes to the cookie session, in source order.
#[derive(Debug, Default)]
pub(super) struct SessionWrites {
    pub all: Vec<Span>,
    /// The writes that record an identity: a key that names the user or the
    /// login (`user_id`, `uid`, `username`, `logged_in`, `account_id`,
    /// `oauth_token`), and Flask-Login's `login_user(...)`.
    pub logins: Vec<Span>,
}

pub(super) fn find_session_writes(project: &Project) -> SessionWrites {
    let resolver = project.resolver();
    // Session cookie writes.
    let mut writes = Vec::new();
    let mut logins = Vec::new();
    let names_identity = |file: FileId, key: &Value| {
        resolver
            .deref(file, key)
            .1
            .as_str()
            .is_some_and(is_identity_key)
    };
    for (file, facts) in project.python() {
        for a in &facts.assigns {
            if let Kind::Subscript(base, key) = &a.target.kind {
                if base.reference().is_none_or(|r| r.last_name() != "session") {
                    continue;
                }
                if is_session(resolver.resolve(file, base).external_name().as_deref()) {
                    writes.push(Span::new(file, a.range));
                    if names_identity(file, key) {
                        logins.push(Span::new(file, a.range));
                    }
                }
            }
        }
    }
    for (file, _, call) in project.calls_named(&["login_user", "update", "setdefault"]) {
        let c = call.call();
        let Some(r) = c.func.reference() else {
            continue;
        };
        if r.last_name() != "login_user" && r.second_last_name() != Some("session") {
            continue;
        }
        let name = resolver.resolve(file, &c.func).external_name();
        match name.as_deref() {
            Some("flask_login.login_user" | "flask_login.utils.login_user") => {
                writes.push(Span::new(file, call.range()));
                logins.push(Span::new(file, call.range()));
            }
            // `session.update()` with nothing to add writes nothing.
            Some(n)
                if n.starts_with("flask.session.")
                    && (n.ends_with(".update") || n.ends_with(".setdefault"))
                    && (!c.args.is_empty() || !c.kwargs.is_empty()) =>
            {
                writes.push(Span::new(file, call.range()));
                // `update(user_id=...)`, `update({"user_id": ...})`,
                // `setdefault("user_id", ...)`.
                let identity = if n.ends_with(".setdefault") {
                    c.args.first().is_some_and(|k| names_identity(file, k))
                } else {
                    c.kwargs
                        .iter()
                        .any(|(k, _)| k.as_deref().is_some_and(is_identity_key))
                        || c.args.first().is_some_and(|d| {
                            let (_, d) = resolver.deref(file, d);
                            matches!(&d.kind, Kind::Dict(items) if items
                                .iter()
                                .any(|(k, _)| k.as_ref().is_some_and(|k| names_identity(file, k))))
                        })
                };
                if identity {
                    logins.push(Span::new(file, call.range()));
                }
            }
            _ => {}
        }
    }
    writes.sort();
    logins.sort();
    SessionWrites {
        all: writes,
        logins,
    }
}

/// Words of a session key that name who is logged in.
const IDENTITY_WORDS: &[&str] = &[
    "user",
    "users",
    "userid",
    "username",
    "uid",
    "login",
    "logged",
    "loggedin",
    "auth",
    "authed",
    "authenticated",
    "account",
    "member",
    "customer",
    "admin",
    "identity",
    "principal",
    "email",
    "role",
    "roles",
    "oauth",
    "jwt",
];

/// Whether a session key records an identity: one of its words (split at
/// `_`, `-`, `.` and case changes) is in [`IDENTITY_WORDS`], or it is `id`,
/// `sub`, `access_token`, `id_token` or `refresh_token`. `task_id`,
/// `visits`, `cart`, `next`, `csrf_token` are not.
pub fn is_identity_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "id" | "sub" | "access_token" | "id_token" | "refresh_token"
    ) {
        return true;
    }
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in key.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        cur.push(ch.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    if words.iter().any(|w| IDENTITY_WORDS.contains(&w.as_str())) {
        return true;
    }
    // `session["token"] = ...`: an access token rides on the cookie; a CSRF
    // token, a nonce or an OAuth `state` does not log anyone in.
    words.iter().any(|w| w == "token")
        && !words.iter().any(|w| {
            matches!(
                w.as_str(),
                "csrf" | "xsrf" | "nonce" | "state" | "form" | "reset"
            )
        })
}

fn is_session(name: Option<&str>) -> bool {
    matches!(
        name,
        Some("flask.session" | "flask.globals.session" | "quart.session")
    )
}

#[cfg(test)]
mod tests {
    use super::is_identity_key;

    #[test]
    fn identity_keys_name_the_user_or_the_login() {
        for k in [
            "user_id",
            "uid",
            "username",
            "logged_in",
            "loggedin",
            "id",
            "user",
            "userId",
            "account_id",
            "oauth_token",
            "access_token",
            "is_admin",
            "email",
            "authenticated",
            "current-user",
            "token",
            "api_token",
        ] {
            assert!(is_identity_key(k), "{k}");
        }
        for k in [
            "task_id",
            "visits",
            "cart",
            "next",
            "csrf_token",
            "theme",
            "flash_count",
            "nonce",
            "lang",
            "state",
            "job",
            "upload_id",
            "_flashes",
            "userless",
            "form_token",
            "reset_token",
        ] {
            assert!(!is_identity_key(k), "{k}");
        }
    }
}
