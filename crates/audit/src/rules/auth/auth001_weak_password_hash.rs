//! AUTH001 `weak-password-hash`: passwords hashed with a fast hash, a weak
//! Werkzeug method, or compared in plain text.

use report::Finding;

use super::password::{is_password_like, mentions_password, stored_password};
use crate::{
    model::flow::request_origin,
    python::{
        facts::{PyFacts, ScopeId},
        taint::Sink,
        value::{CmpOp, Kind, Root, Value},
    },
    rules::{request_data::callee, Rule, RuleContext},
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "AUTH001",
    name: "weak-password-hash",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds passwords that are not stored with a slow, salted password hash:
- `hashlib.md5/sha1/sha224/sha256/sha384/sha512/sha3_*/blake2*/new(...)`
  (also `.update(...)` on a hashlib object) applied to a password-like value:
  a variable, parameter, attribute or key named `password`, `passwd`,
  `passphrase`, `pwd`, `pw`, `pass`, `pin` (`user_pass`, `form.password.data`,
  `data["password"]`). Names that say the value is a hash, a salt or a token
  (`password_hash`, `reset_password_token`) do not count, and neither does an
  e-mail hashed for a Gravatar URL or a SHA-1 prefix sent to the Pwned
  Passwords API;
- `generate_password_hash(..., method=...)` with `plain`, a bare digest
  (`md5`, `sha1`, `sha256`: one salted round, Werkzeug before 2.3), PBKDF2 with
  fewer than 100,000 iterations, or PBKDF2 over MD5/SHA-1;
- a stored password compared in plain text with the submitted one
  (`user.password == request.form["password"]`,
  `hmac.compare_digest(row["password"], password)`): it is stored unhashed;
- Flask-Security's `SECURITY_PASSWORD_HASH` set, in the configuration
  production uses, to `plaintext` (the default of Flask-Security before 3.0)
  or to a fast or broken scheme (`des_crypt`, `md5_crypt`, unsalted `hex_*`
  digests).

## Why is this bad?
Databases leak. A GPU computes billions of MD5 or SHA-256 hashes per second,
so most real passwords in a fast-hashed table fall within hours, and
unsalted hashes share precomputed tables. Plain-text passwords fall at once,
and people reuse them elsewhere.

## Example
```python
user.password_hash = hashlib.sha256(password.encode()).hexdigest()
```

Use instead:
```python
user.password_hash = generate_password_hash(password)  # scrypt, salted
```
"#;

const FAST_HASHES: &[&str] = &[
    "hashlib.md5",
    "hashlib.sha1",
    "hashlib.sha224",
    "hashlib.sha256",
    "hashlib.sha384",
    "hashlib.sha512",
    "hashlib.sha3_224",
    "hashlib.sha3_256",
    "hashlib.sha3_384",
    "hashlib.sha3_512",
    "hashlib.blake2b",
    "hashlib.blake2s",
];

const GENERATE: &[&str] = &[
    "werkzeug.security.generate_password_hash",
    "werkzeug.generate_password_hash",
];

/// Below this many PBKDF2 iterations a password hash is weak (OWASP asks for
/// 600,000 with SHA-256; 100,000 is where guessing stops being cheap).
const MIN_PBKDF2_ITERATIONS: i64 = 100_000;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    fast_hashes(ctx, &mut out);
    werkzeug_methods(ctx, &mut out);
    plaintext_comparisons(ctx, &mut out);
    security_password_hash(ctx, &mut out);
    out
}

/// What is wrong with a Flask-Security `SECURITY_PASSWORD_HASH` scheme (passlib
/// names), when something is.
fn weak_security_scheme(scheme: &str) -> Option<&'static str> {
    match scheme.trim().to_ascii_lowercase().as_str() {
        "plaintext" => Some("passwords are stored as they were typed"),
        "des_crypt" | "bsdi_crypt" | "bigcrypt" | "crypt16" => {
            Some("DES-based crypt keeps 8 characters and falls to brute force")
        }
        "md5_crypt" | "apr_md5_crypt" | "sun_md5_crypt" => {
            Some("MD5-crypt is a fast hash: GPUs try billions of guesses per second")
        }
        "hex_md5" | "hex_sha1" | "hex_sha256" | "hex_sha512" | "ldap_md5" | "ldap_sha1"
        | "ldap_hex_md5" | "ldap_hex_sha1" => {
            Some("an unsalted fast digest: precomputed tables and GPUs crack it")
        }
        _ => None,
    }
}

/// Flask-Security hashes with the passlib scheme named by
/// `SECURITY_PASSWORD_HASH`; only the configuration of a project that uses
/// Flask-Security counts (the key means nothing to other code).
fn security_password_hash(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    let uses_flask_security = project.python().any(|(_, facts)| {
        facts
            .imports
            .iter()
            .any(|i| i.qualified.split('.').next() == Some("flask_security"))
    });
    if !uses_flask_security {
        return;
    }
    for app in &project.apps {
        let Some(e) = app.config.get("SECURITY_PASSWORD_HASH") else {
            continue;
        };
        let Some(scheme) = e.value.as_str() else {
            continue;
        };
        let Some(problem) = weak_security_scheme(scheme) else {
            continue;
        };
        let f = ctx
            .finding(
                RULE.code,
                RULE.name,
                e.span,
                format!("Flask-Security hashes passwords with `{scheme}`: {problem}"),
            )
            .with_fix("Set SECURITY_PASSWORD_HASH = \"argon2\" (or \"bcrypt\"), the Flask-Security-Too default, and rehash on next login.")
            .with_evidence(ctx.snippet(e.span));
        out.push(ctx.with_production(f, app));
    }
}

fn fast_hashes(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    let names = [
        "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512", "blake2b",
        "blake2s", "new", "update",
    ];
    for (file, facts, call) in project.calls_named(&names) {
        let c = call.call();
        let method = c.callee_name().unwrap_or_default();
        let (algorithm, data) = if method == "update" {
            // `h = hashlib.sha256(); h.update(password.encode())`
            let ctor = match c.func_ref().map(|r| &r.root) {
                Some(Root::Obj { ctor, .. }) if ctor.starts_with("hashlib.") => ctor.to_string(),
                _ => continue,
            };
            (ctor, c.arg(0))
        } else {
            let Some(name) = callee(project, file, call) else {
                continue;
            };
            if name == "hashlib.new" {
                let Some(alg) = c.param(0, "name").and_then(Value::as_str) else {
                    continue;
                };
                (
                    format!("hashlib.{}", alg.to_ascii_lowercase()),
                    c.param(1, "data"),
                )
            } else if FAST_HASHES.contains(&name.as_str()) {
                (name, c.param(0, "string").or_else(|| c.kwarg("data")))
            } else {
                continue;
            }
        };
        if !FAST_HASHES.contains(&algorithm.as_str()) {
            continue;
        }
        let Some(data) = data else { continue };
        let Some(what) = mentions_password(data) else {
            continue;
        };
        if checks_breaches(facts, call.scope) {
            continue;
        }
        let span = Span::new(file, call.range());
        let short = algorithm.trim_start_matches("hashlib.");
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                span,
                format!("`{what}` is hashed with {short}, a fast hash: a leaked table is cracked in hours"),
            )
            .with_evidence(ctx.snippet(span))
            .with_fix("Hash passwords with `werkzeug.security.generate_password_hash` (scrypt) or argon2-cffi's `PasswordHasher`, and verify with `check_password_hash`; re-hash old digests at the next login."),
        );
    }
}

/// A SHA-1 of the password sent to the Pwned Passwords range API, or an old
/// digest checked once to move the account to a strong hash
/// (`_verify_and_upgrade_from_sha1`).
fn checks_breaches(facts: &PyFacts, scope: ScopeId) -> bool {
    let func = facts.function_of(scope);
    func.is_some_and(|f| {
        let n = f.name.to_ascii_lowercase();
        [
            "pwned", "breach", "leaked", "upgrade", "legacy", "migrat", "rehash",
        ]
        .iter()
        .any(|w| n.contains(w))
    }) || facts.strings.iter().any(|s| {
        func.is_some_and(|f| facts.scope_within(s.scope, f.scope))
            && s.value.contains("pwnedpasswords")
    })
}

fn werkzeug_methods(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    for (file, _, call) in project.calls_named(&["generate_password_hash"]) {
        if !callee(project, file, call).is_some_and(|n| GENERATE.contains(&n.as_str())) {
            continue;
        }
        let Some(method) = call.call().param(1, "method") else {
            continue;
        };
        let Some(text) = method.as_str() else {
            continue;
        };
        let Some(problem) = weak_method(text) else {
            continue;
        };
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                Span::new(file, method.range),
                format!("`generate_password_hash(method=\"{text}\")`: {problem}"),
            )
            .with_fix(
                "Leave `method` at Werkzeug's default (scrypt), or use `pbkdf2:sha256:600000`.",
            ),
        );
    }
}

/// Why a Werkzeug method string is weak, if it is.
pub fn weak_method(method: &str) -> Option<String> {
    let parts: Vec<&str> = method.split(':').collect();
    match parts.first().copied().unwrap_or("") {
        "plain" => Some("the password is stored as it is".into()),
        "scrypt" | "argon2" | "bcrypt" => None,
        "pbkdf2" => {
            let hash = parts.get(1).copied().unwrap_or("sha256");
            let iterations = parts.get(2).and_then(|i| i.parse::<i64>().ok());
            if matches!(hash, "md5" | "sha1") {
                return Some(format!(
                    "PBKDF2 over {hash} is weak; use sha256 with 600,000 iterations"
                ));
            }
            match iterations {
                Some(n) if n < MIN_PBKDF2_ITERATIONS => Some(format!(
                    "{n} PBKDF2 iterations make each guess cheap (OWASP: 600,000 with SHA-256)"
                )),
                _ => None,
            }
        }
        other if !other.is_empty() => Some(format!(
            "one salted {other} round, as fast as a plain digest"
        )),
        _ => None,
    }
}

/// `user.password == request.form["password"]`, `compare_digest(row["password"], pw)`.
fn plaintext_comparisons(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    let hashing = hashing_attributes(project);
    let stored_password = |v: &Value| {
        stored_password(v)
            && !v
                .reference()
                .and_then(|r| r.attrs.last())
                .is_some_and(|a| hashing.contains(a.as_str()))
    };
    for (file, facts) in project.python() {
        let submitted = |v: &Value| -> bool {
            request_origin(project, file, v, Sink::Any).is_some() && mentions_password(v).is_some()
                || matches!(v.reference().map(|r| &r.root), Some(Root::Param { name, .. }) if is_password_like(name))
                    && v.reference().is_some_and(|r| r.attrs.is_empty())
        };
        let report = |span: Span, stored: &Value, out: &mut Vec<Finding>| {
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    span,
                    format!("`{}` is compared in plain text with the submitted password: passwords are stored unhashed", stored.render()),
                )
                .with_evidence(ctx.snippet(span))
                .with_fix("Store `generate_password_hash(password)` and check with `check_password_hash(user.password_hash, candidate)`."),
            );
        };
        let mut seen = std::collections::HashSet::new();
        let mut visit = |v: &Value, file: FileId, out: &mut Vec<Finding>| {
            v.walk(&mut |x| {
                let Kind::Compare(left, rest) = &x.kind else {
                    return;
                };
                let Some((op, right)) = rest.first() else {
                    return;
                };
                if !matches!(op, CmpOp::Eq | CmpOp::NotEq) {
                    return;
                }
                let pair = [(left.as_ref(), right), (right, left.as_ref())];
                for (a, b) in pair {
                    // Two submitted values (`new == confirm`) are a
                    // confirmation check, not a stored password.
                    if stored_password(a) && !submitted(a) && submitted(b) && seen.insert(x.range) {
                        report(Span::new(file, x.range), a, out);
                        return;
                    }
                }
            });
        };
        for g in facts.guards.iter().filter(|g| g.scope != 0) {
            visit(&g.test, file, out);
        }
        for f in &facts.functions {
            for r in &f.returns {
                visit(r, file, out);
            }
        }
        for c in &facts.calls {
            let call = c.call();
            if call.callee_name() != Some("compare_digest") {
                continue;
            }
            if let (Some(a), Some(b)) = (call.arg(0), call.arg(1)) {
                if (stored_password(a) && submitted(b) || stored_password(b) && submitted(a))
                    && seen.insert(c.value.range)
                {
                    let stored = if stored_password(a) { a } else { b };
                    report(Span::new(file, c.value.range), stored, out);
                }
            }
        }
    }
}

/// Password attributes whose comparison hashes: properties and hybrid
/// properties (`@property def password`), sqlalchemy-utils `PasswordType`
/// columns and other `Password...(...)` descriptors.
fn hashing_attributes(project: &crate::model::Project) -> std::collections::HashSet<&str> {
    let mut out = std::collections::HashSet::new();
    for (_, facts) in project.python() {
        for f in &facts.functions {
            if f.method_of.is_some() && !f.decorators.is_empty() && is_password_like(&f.name) {
                out.insert(f.name.as_str());
            }
        }
        for c in &facts.classes {
            for a in &c.attrs {
                let mut descriptor = false;
                a.value.walk(&mut |x| {
                    descriptor |= x
                        .as_call()
                        .and_then(|c| c.callee_name())
                        .is_some_and(|n| n.contains("Password"));
                });
                if descriptor && is_password_like(&a.name) {
                    out.insert(a.name.as_str());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::weak_method;

    #[test]
    fn werkzeug_methods() {
        assert!(weak_method("plain").is_some());
        assert!(weak_method("md5").is_some());
        assert!(weak_method("sha256").is_some());
        assert!(weak_method("pbkdf2:sha256:1000").is_some());
        assert!(weak_method("pbkdf2:sha1").is_some());
        assert!(weak_method("pbkdf2:sha256").is_none());
        assert!(weak_method("pbkdf2:sha256:600000").is_none());
        assert!(weak_method("scrypt").is_none());
        assert!(weak_method("scrypt:32768:8:1").is_none());
    }
}
