//! Which session keys hold data that should not ride in a readable cookie (CKE004).
//!
//! Flask's default session is signed, not encrypted: whoever holds the cookie (the
//! user, a proxy log, malware in the browser) reads every value. A key is reported
//! when its *name* says what it holds. Names are split into words (`isAdmin`,
//! `api-key`, `ACCESS_TOKEN` → `is admin`, `api key`, `access token`), digits are
//! dropped, trailing qualifiers (`name`, `list`, `value`, `str`) are ignored, and the
//! last remaining word (the head of an English compound) decides:
//!
//! - Credential ([`SensitiveCategory::Credential`]): `password`/`passwd`/`pwd`/`passphrase`,
//!   `secret`, `token` (`api_token`, `access_token`, `refresh_token`, `id_token`,
//!   `remember_token`…), `jwt`, `credentials`, `otp`/`totp`, `pin`; `key` after `api`,
//!   `secret`, `private`, `access`, `signing`, `encryption`, `auth`, `client`,
//!   `master`, `ssh`; `hash`/`digest` after `password`.
//! - Authorization ([`SensitiveCategory::Authorization`]): `role`/`roles`, `admin` (`is_admin`),
//!   `superuser`, `staff`, `permissions`/`perms`, `privileges`, `scopes`, `acl`,
//!   `grants`, `access_level`. Not secret, but they show (and, under a weak key,
//!   invite forging) the authorization model; the seeds flag `session['role']`.
//! - Financial ([`SensitiveCategory::Financial`]): card numbers (`credit_card`, `card_number`,
//!   `cc_number`), `cvv`/`cvc`, `iban`, bank `account_number`, `routing_number`.
//! - GovernmentId ([`SensitiveCategory::GovernmentId`]): `ssn`, `social_security_number`,
//!   `passport` (`passport_number`), `national_id`, `tax_id`, driver's licence.
//! - PersonalData ([`SensitiveCategory::PersonalData`]): `email`, `phone`/`phone_number`,
//!   `date_of_birth`/`dob`/`birthday`, postal `address` (not `ip_address`). Lower
//!   risk (usually the holder's own data); report as informational.
//!
//! Deliberately **not** reported: identifiers (`_user_id` and `_id` from
//! Flask-Login, `user_id`, `role_id`, `token_id`; anything ending in `id`), token
//! metadata (`token_type`, `token_expires_at`), Flask's own `_fresh`, `_flashes`,
//! `_permanent`, and CSRF tokens (`csrf_token`, `_csrf_token`, anything naming
//! `csrf`/`xsrf`): Flask-WTF keeps its raw token in the session by design; the user
//! may read it, only a cross-site attacker must not, and the cookie is not readable
//! cross-site. Keys whose value is empty (`null`, `""`, `[]`, `{}`) expose nothing
//! and are skipped.

mod names;

use crate::mask::mask_key;
pub use names::classify_key;
use serde::Serialize;
use serde_json::Value;

/// How deep [`find_sensitive`] walks nested objects and arrays.
const MAX_WALK_DEPTH: usize = 32;

/// What a sensitive key holds (see the module docs for the exact names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SensitiveCategory {
    /// Passwords, tokens, API keys, secrets: anyone holding the cookie can use them.
    Credential,
    /// Roles, admin flags, permissions: reveal the authorization model.
    Authorization,
    /// Card and bank account numbers.
    Financial,
    /// Social security, passport, national ID, tax ID, driver's licence numbers.
    GovernmentId,
    /// Email, phone, date of birth, postal address.
    PersonalData,
}

impl SensitiveCategory {
    /// A short lower-case name (`credential`, `authorization`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SensitiveCategory::Credential => "credential",
            SensitiveCategory::Authorization => "authorization",
            SensitiveCategory::Financial => "financial",
            SensitiveCategory::GovernmentId => "government-id",
            SensitiveCategory::PersonalData => "personal-data",
        }
    }
}

/// A session entry whose name marks it as sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SensitiveKey {
    /// Where it is: the top-level key, or a dotted path for nested objects
    /// (`user.role`, `accounts[0].iban`).
    pub path: String,
    /// The key's own name (the last path segment).
    pub key: String,
    /// What it holds.
    pub category: SensitiveCategory,
    /// The value for a report: credentials, financial and government IDs masked with
    /// [`mask_key`]; others as compact JSON, cut at 80 characters.
    pub preview: String,
}

/// Every sensitive key in a (readable, untagged) session value, walking nested
/// objects and arrays up to 32 levels. Keys inside a reported key are not reported
/// again.
pub fn find_sensitive(value: &Value) -> Vec<SensitiveKey> {
    let mut found = Vec::new();
    walk(value, "", 0, &mut found);
    found
}

fn walk(value: &Value, path: &str, depth: usize, found: &mut Vec<SensitiveKey>) {
    if depth >= MAX_WALK_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match classify_key(key) {
                    Some(category) if !is_empty(child) => found.push(SensitiveKey {
                        path: child_path,
                        key: key.clone(),
                        category,
                        preview: preview(child, category),
                    }),
                    Some(_) => {}
                    None => walk(child, &child_path, depth + 1, found),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), depth + 1, found);
            }
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn preview(value: &Value, category: SensitiveCategory) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match category {
        SensitiveCategory::Credential
        | SensitiveCategory::Financial
        | SensitiveCategory::GovernmentId => mask_key(text.as_bytes()),
        SensitiveCategory::Authorization | SensitiveCategory::PersonalData => {
            let shown = if value.is_string() {
                format!("{value}")
            } else {
                text
            };
            if shown.chars().count() > 80 {
                let cut: String = shown.chars().take(79).collect();
                format!("{cut}…")
            } else {
                shown
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use SensitiveCategory::*;

    #[test]
    fn finds_nested_keys_and_masks_secrets() {
        let session = json!({
            "_user_id": "42",
            "_fresh": true,
            "csrf_token": "0123456789abcdef",
            "role": "admin",
            "api_token": "sk-live-1234567890abcdef",
            "profile": {"email": "a@example.com", "prefs": {"theme": "dark"}},
            "accounts": [{"iban": "DE89370400440532013000"}],
            "password": "",
            "token": null,
        });
        let mut found = find_sensitive(&session);
        found.sort_by(|a, b| a.path.cmp(&b.path));
        let paths: Vec<(&str, SensitiveCategory)> = found
            .iter()
            .map(|k| (k.path.as_str(), k.category))
            .collect();
        assert_eq!(
            paths,
            [
                ("accounts[0].iban", Financial),
                ("api_token", Credential),
                ("profile.email", PersonalData),
                ("role", Authorization)
            ]
        );
        let token = found
            .iter()
            .find(|k| k.key == "api_token")
            .map(|k| k.preview.clone())
            .unwrap_or_default();
        assert!(!token.contains("1234567890"), "{token}");
        let role = found
            .iter()
            .find(|k| k.key == "role")
            .map(|k| k.preview.clone())
            .unwrap_or_default();
        assert_eq!(role, "\"admin\"");
    }

    #[test]
    fn reports_false_admin_flags_but_not_empty_values() {
        let found = find_sensitive(&json!({"is_admin": false, "token": "", "roles": []}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].preview, "false");
    }
}
