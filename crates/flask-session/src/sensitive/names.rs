//! Key names: which ones mark sensitive data (the rules in the parent module's docs).

use super::SensitiveCategory;

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

#[cfg(test)]
mod tests {
    use super::*;
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
}
