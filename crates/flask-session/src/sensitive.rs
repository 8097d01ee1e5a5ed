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

use crate::mask::mask_key;
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

/// Classifies one key name; `None` when the name does not mark sensitive data.
pub fn classify_key(name: &str) -> Option<SensitiveCategory> {
    let words = split_words(name);
    let joined: String = words.concat();
    if joined.contains("csrf") || joined.contains("xsrf") {
        return None;
    }
    let mut head_end = words.len();
    while head_end > 1 && QUALIFIERS.contains(&words[head_end - 1].as_str()) {
        head_end -= 1;
    }
    let words = &words[..head_end];
    let head = words.last()?.as_str();
    let before = words.len().checked_sub(2).map(|i| words[i].as_str());
    let compound: String = words.concat();
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| compound.ends_with(s));

    if CREDENTIAL_HEADS.contains(&head)
        || ends(CREDENTIAL_COMPOUNDS)
        || (head == "key" && before.is_some_and(|b| KEY_OWNERS.contains(&b)))
        || (matches!(head, "hash" | "digest")
            && words
                .iter()
                .any(|w| matches!(w.as_str(), "password" | "passwd" | "pwd")))
    {
        return Some(SensitiveCategory::Credential);
    }
    if FINANCIAL_HEADS.contains(&head) || ends(FINANCIAL_COMPOUNDS) {
        return Some(SensitiveCategory::Financial);
    }
    if GOVERNMENT_HEADS.contains(&head) || ends(GOVERNMENT_COMPOUNDS) {
        return Some(SensitiveCategory::GovernmentId);
    }
    if AUTHORIZATION_HEADS.contains(&head)
        || (head == "level" && before.is_some_and(|b| LEVEL_OWNERS.contains(&b)))
    {
        return Some(SensitiveCategory::Authorization);
    }
    if PERSONAL_HEADS.contains(&head)
        || ends(PERSONAL_COMPOUNDS)
        || (head == "address" && !before.is_some_and(|b| NETWORK_ADDRESS_OWNERS.contains(&b)))
    {
        return Some(SensitiveCategory::PersonalData);
    }
    None
}

/// Trailing words that qualify the head without changing what is stored.
const QUALIFIERS: &[&str] = &[
    "name",
    "names",
    "list",
    "value",
    "values",
    "str",
    "string",
    "data",
    "raw",
    "plain",
    "plaintext",
];
const CREDENTIAL_HEADS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "passphrase",
    "passcode",
    "secret",
    "secrets",
    "token",
    "tokens",
    "jwt",
    "credential",
    "credentials",
    "creds",
    "otp",
    "totp",
    "pin",
    "apikey",
    "bearer",
];
const CREDENTIAL_COMPOUNDS: &[&str] = &[
    "apikey",
    "apitoken",
    "accesstoken",
    "refreshtoken",
    "authtoken",
    "idtoken",
    "secretkey",
    "privatekey",
    "accesskey",
    "clientsecret",
    "sessiontoken",
    "bearertoken",
];
const KEY_OWNERS: &[&str] = &[
    "api",
    "secret",
    "private",
    "access",
    "signing",
    "encryption",
    "auth",
    "client",
    "master",
    "ssh",
    "license",
    "app",
];
const AUTHORIZATION_HEADS: &[&str] = &[
    "role",
    "roles",
    "admin",
    "admins",
    "superuser",
    "superadmin",
    "staff",
    "permission",
    "permissions",
    "perm",
    "perms",
    "privilege",
    "privileges",
    "privs",
    "scope",
    "scopes",
    "acl",
    "acls",
    "grants",
    "entitlements",
];
const LEVEL_OWNERS: &[&str] = &[
    "access",
    "auth",
    "permission",
    "privilege",
    "security",
    "clearance",
    "admin",
    "user",
];
const FINANCIAL_HEADS: &[&str] = &["cvv", "cvc", "cvn", "iban", "creditcard", "cardnumber"];
const FINANCIAL_COMPOUNDS: &[&str] = &[
    "creditcard",
    "cardnumber",
    "cardnum",
    "cardno",
    "ccnumber",
    "ccnum",
    "accountnumber",
    "accountno",
    "routingnumber",
    "bankaccount",
];
const GOVERNMENT_HEADS: &[&str] = &["ssn", "passport"];
const GOVERNMENT_COMPOUNDS: &[&str] = &[
    "socialsecuritynumber",
    "socialsecurity",
    "passportnumber",
    "passportno",
    "nationalid",
    "nationalidnumber",
    "taxid",
    "driverslicense",
    "driverlicense",
    "drivinglicence",
    "drivinglicense",
    "driverslicence",
];
const PERSONAL_HEADS: &[&str] = &[
    "email",
    "emails",
    "phone",
    "telephone",
    "dob",
    "birthdate",
    "birthday",
];
const PERSONAL_COMPOUNDS: &[&str] = &[
    "email",
    "emailaddress",
    "phonenumber",
    "mobilenumber",
    "dateofbirth",
];
const NETWORK_ADDRESS_OWNERS: &[&str] = &[
    "ip", "remote", "mac", "server", "host", "client", "wallet", "contract", "bind",
];

/// Splits `isAdmin`, `API_KEY`, `refresh-token`, `card2` into lower-case words,
/// dropping digit-only parts.
fn split_words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            push_word(&mut words, &mut current);
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if c.is_uppercase() => {
                p.is_lowercase()
                    || p.is_numeric()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            }
            Some(p) => c.is_numeric() != p.is_numeric() && p.is_alphanumeric(),
            None => false,
        };
        if boundary {
            push_word(&mut words, &mut current);
        }
        current.extend(c.to_lowercase());
    }
    push_word(&mut words, &mut current);
    words
}

fn push_word(words: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() && !current.chars().all(char::is_numeric) {
        words.push(std::mem::take(current));
    }
    current.clear();
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
    fn splits_names_into_words() {
        assert_eq!(split_words("isAdmin"), ["is", "admin"]);
        assert_eq!(split_words("API_KEY"), ["api", "key"]);
        assert_eq!(split_words("APIKey"), ["api", "key"]);
        assert_eq!(split_words("refresh-token"), ["refresh", "token"]);
        assert_eq!(split_words("_user_id"), ["user", "id"]);
        assert_eq!(split_words("password2"), ["password"]);
        assert_eq!(split_words("cvv2"), ["cvv"]);
        assert_eq!(split_words("Ünïcode Key"), ["ünïcode", "key"]);
    }

    #[test]
    fn reports_what_the_seeds_and_checklist_name() {
        let cases = [
            ("role", Authorization),
            ("is_admin", Authorization),
            ("admin", Authorization),
            ("isAdmin", Authorization),
            ("permissions", Authorization),
            ("user_roles", Authorization),
            ("role_name", Authorization),
            ("access_level", Authorization),
            ("token", Credential),
            ("api_token", Credential),
            ("access_token", Credential),
            ("refresh_token", Credential),
            ("accessToken", Credential),
            ("id_token", Credential),
            ("oauth_token_secret", Credential),
            ("password", Credential),
            ("passwd", Credential),
            ("password_hash", Credential),
            ("secret", Credential),
            ("client_secret", Credential),
            ("api_key", Credential),
            ("apikey", Credential),
            ("secret_key", Credential),
            ("jwt", Credential),
            ("credit_card", Financial),
            ("card_number", Financial),
            ("creditCardNumber", Financial),
            ("cvv", Financial),
            ("iban", Financial),
            ("ssn", GovernmentId),
            ("social_security_number", GovernmentId),
            ("passport_number", GovernmentId),
            ("email", PersonalData),
            ("user_email", PersonalData),
            ("e-mail", PersonalData),
            ("phone_number", PersonalData),
            ("date_of_birth", PersonalData),
            ("address", PersonalData),
        ];
        for (name, want) in cases {
            assert_eq!(classify_key(name), Some(want), "{name}");
        }
    }

    #[test]
    fn ignores_identifiers_flask_internals_and_csrf() {
        for name in [
            "_user_id",
            "user_id",
            "_id",
            "_fresh",
            "_flashes",
            "_permanent",
            "_remember",
            "_remember_seconds",
            "csrf_token",
            "_csrf_token",
            "csrftoken",
            "xsrf-token",
            "token_type",
            "token_expires_at",
            "token_id",
            "role_id",
            "admin_id",
            "username",
            "user_name",
            "cart",
            "locale",
            "next",
            "theme",
            "ip_address",
            "remote_address",
            "is_mobile",
            "key",
            "cache_key",
            "sort_key",
            "logged_in",
            "visits",
            "",
        ] {
            assert_eq!(classify_key(name), None, "{name}");
        }
    }

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
