//! What looks like a password in code: names (`password`, `passwd`, `pwd`,
//! `user_pass`, `pin`), keys (`data["password"]`), attributes
//! (`form.password.data`), and stored passwords (`user.password`).

use crate::python::value::{Kind, Root, Value};

/// Whether an identifier or key names a password (not its hash, salt or a
/// token about it).
pub fn is_password_like(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let words = words(name);
    let tokens: Vec<&str> = words.iter().map(String::as_str).collect();
    const NOT: &[&str] = &[
        "hash", "hashed", "digest", "salt", "token", "reset", "policy", "length", "min", "max",
        "strength", "field", "label", "confirm", "expires", "changed", "hint", "url", "form",
        "required", "regex", "pattern", "enabled", "manager", "file",
    ];
    if tokens
        .iter()
        .any(|t| NOT.contains(t) || t.ends_with("hash"))
    {
        return false;
    }
    lower.contains("password")
        || lower.contains("passwd")
        || lower.contains("passphrase")
        || tokens
            .iter()
            .any(|t| matches!(*t, "pwd" | "pw" | "pass" | "passcode" | "pin"))
}

/// The lower-case words of a name: split at anything not alphanumeric and at
/// camelCase humps (`confirmPassword` is `confirm`, `password`).
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The password-like part of a value (`password`, `data["password"]`,
/// `form.password.data`), rendered for messages.
pub fn mentions_password(v: &Value) -> Option<String> {
    let mut found: Option<String> = None;
    v.walk(&mut |x| {
        if found.is_some() {
            return;
        }
        found = match &x.kind {
            Kind::Ref(r) => {
                let own = match &r.root {
                    Root::Param { name, .. } | Root::Local(name) => Some(name.as_str()),
                    Root::Global(q) => q.rsplit('.').next(),
                    Root::Obj { .. } => None,
                };
                if own.is_some_and(is_password_like) {
                    own.map(str::to_string)
                } else {
                    // `form.password.data` is shown as `form.password`.
                    r.attrs.iter().position(|a| is_password_like(a)).map(|i| {
                        let mut prefix = own.unwrap_or("…").to_string();
                        for a in &r.attrs[..=i] {
                            prefix.push('.');
                            prefix.push_str(a);
                        }
                        prefix
                    })
                }
            }
            Kind::Subscript(_, key) if key.as_str().is_some_and(is_password_like) => {
                Some(x.render())
            }
            Kind::Attr(_, name) if is_password_like(name) => Some(name.to_string()),
            Kind::Call(c)
                if c.callee_name() == Some("get")
                    && c.arg(0)
                        .and_then(Value::as_str)
                        .is_some_and(is_password_like) =>
            {
                Some(x.render())
            }
            _ => None,
        };
    });
    found
}

/// A password read from storage: `user.password`, `row["password"]` (not the
/// request, not configuration or the environment, not a hash).
pub fn stored_password(v: &Value) -> bool {
    // Not the request itself (an object made by a call fed request data, such as
    // `find_user(request.form["email"])`, is a stored row).
    let from_request = |v: &Value| {
        let mut hit = false;
        v.walk(&mut |x| {
            hit |= match x.reference().map(|r| &r.root) {
                Some(Root::Obj { ctor, .. }) => ctor.starts_with("flask.request"),
                Some(Root::Global(q)) => q.starts_with("flask.request"),
                Some(Root::Param { .. }) => x.tainted,
                _ => false,
            };
        });
        hit
    };
    if from_request(v) {
        return false;
    }
    let from_config = |q: &str| {
        let l = q.to_ascii_lowercase();
        l.contains("config")
            || l.contains("environ")
            || l.contains("settings")
            || l.contains("getenv")
    };
    match &v.kind {
        Kind::Ref(r) => {
            let Some(last) = r.attrs.last() else {
                return false;
            };
            is_password_like(last)
                && !r.attrs.iter().any(|a| from_config(a))
                && !matches!(&r.root, Root::Global(q) if from_config(q))
        }
        Kind::Subscript(base, key) => {
            key.as_str().is_some_and(is_password_like)
                && !base.render().to_ascii_lowercase().contains("config")
                && !base.render().to_ascii_lowercase().contains("environ")
                && !matches!(base.kind, Kind::Dict(_))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_password_like;

    #[test]
    fn password_names() {
        for yes in [
            "password",
            "new_password",
            "passwd",
            "pwd",
            "user_pass",
            "pin",
            "PASSWORD",
            "passphrase",
            "newPassword",
            "userPWD",
        ] {
            assert!(is_password_like(yes), "{yes}");
        }
        for no in [
            "password_hash",
            "hashed_password",
            "reset_password_token",
            "email",
            "pinned",
            "spin",
            "passport",
            "compass",
            "password_salt",
            "bypass",
            "confirmPassword",
            "passwordHash",
        ] {
            assert!(!is_password_like(no), "{no}");
        }
    }
}
