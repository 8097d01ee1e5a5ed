//! How guessable a secret is: well-known values, placeholders, length and
//! character entropy. Shared by KEY002 (secret keys) and KEY004 (credentials).

/// Values that appear in tutorials, templates and generators (compared after
/// lower-casing and dropping everything but letters and digits).
const KNOWN_WEAK: &[&str] = &[
    "dev",
    "devkey",
    "development",
    "secret",
    "secretkey",
    "mysecret",
    "mysecretkey",
    "changeme",
    "changethis",
    "changeit",
    "devsecretkey1234",
    "devsecretkey",
    "supersecret",
    "supersecretkey",
    "yoursecretkey",
    "yoursecret",
    "test",
    "testing",
    "testkey",
    "testsecret",
    "password",
    "default",
    "defaultkey",
    "insecure",
    "key",
    "flask",
    "flasksecret",
    "flasksecretkey",
    "hardtoguessstring",
    "keepitsecret",
    "keepitsecretkeepitsafe",
    "notsecret",
    "notasecret",
    "replaceme",
    "todo",
    "xxx",
    "abc123",
    "123456",
    "12345678",
    "qwerty",
    "admin",
    "letmein",
    "s3cr3t",
    "topsecret",
    "verysecret",
    "verysecretkey",
    "thisisasecret",
    "thisisasecretkey",
    "mysupersecretkey",
    "secret123",
    "secretkey123",
    "appsecret",
    "appsecretkey",
    "apisecret",
    "sessionkey",
    "cookiesecret",
    "pleasechangeme",
    "youwillneverguess",
    "youllneverguess",
    "anothersecret",
];

/// Words that mark a placeholder meant to be replaced.
const PLACEHOLDER_WORDS: &[&str] = &[
    "change",
    "replace",
    "your",
    "example",
    "insecure",
    "dummy",
    "placeholder",
    "sample",
    "todo",
    "fixme",
    "notsecret",
    "default",
];

/// The minimum length of a secret key, in characters (a 32-byte token in hex is 64).
pub const MIN_LENGTH: usize = 32;
/// The minimum estimated entropy, in bits.
pub const MIN_BITS: f64 = 128.0;

/// Why a secret is weak, or None when it looks like a random token.
pub fn weakness(secret: &str) -> Option<String> {
    let normalized: String = secret
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    if KNOWN_WEAK.contains(&normalized.as_str()) {
        return Some("a well-known default".into());
    }
    let lower = secret.to_ascii_lowercase();
    if let Some(w) = PLACEHOLDER_WORDS.iter().find(|w| lower.contains(**w)) {
        return Some(format!("a placeholder (contains \"{w}\")"));
    }
    let len = secret.chars().count();
    if len < MIN_LENGTH {
        return Some(format!(
            "only {len} characters (use at least {MIN_LENGTH} random ones)"
        ));
    }
    let bits = entropy_bits(secret);
    if bits < MIN_BITS {
        return Some(format!(
            "low entropy (about {bits:.0} bits; use at least {MIN_BITS:.0})"
        ));
    }
    None
}

/// Shannon entropy per character times length: a rough upper bound of how
/// much randomness a string holds.
pub fn entropy_bits(s: &str) -> f64 {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for c in &chars {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    let n = chars.len() as f64;
    let per_char: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum();
    per_char * n
}

/// Whether a value stands for one filled in elsewhere rather than being one:
/// empty, an interpolation or template marker (`${DB_PASSWORD}`,
/// `$DB_PASSWORD`, `%(password)s`, `{password}`, `<password>`, `[PASSWORD]`,
/// `__PASSWORD__`, `@PASSWORD@`), or a mask (`***`, `xxx`, `...`). A word such
/// as `password` or `changeme` is not: written where a credential goes, it is
/// the credential.
pub fn is_unfilled(value: &str) -> bool {
    let v = value.trim();
    let Some(first) = v.chars().next() else {
        return true;
    };
    // `$NAME`, `${NAME}`; `$$` is compose's escape for a literal `$`.
    let mut rest = v.chars().skip(1);
    let interpolated = v.contains("${")
        || (first == '$'
            && rest
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_'))
        || v.contains("%(")
        || v == "%s"
        || v.contains("{{");
    let wrapped = [('<', '>'), ('{', '}'), ('[', ']'), ('%', '%'), ('@', '@')]
        .iter()
        .any(|(o, c)| v.len() >= 3 && v.starts_with(*o) && v.ends_with(*c))
        || (v.len() > 4 && v.starts_with("__") && v.ends_with("__"));
    let lower = v.to_ascii_lowercase();
    let mut chars = lower.chars();
    let one_char = chars.next().is_some_and(|c| chars.all(|x| x == c));
    let mask = (one_char && (v.len() >= 3 || !first.is_ascii_alphanumeric()))
        || v.chars()
            .all(|c| matches!(c, '*' | '.' | '#' | '?' | '-' | '_' | '•'));
    interpolated || wrapped || mask
}

/// Passwords databases, brokers and tutorials ship with, on top of
/// [`KNOWN_WEAK`] (compared the same way).
const DEFAULT_PASSWORDS: &[&str] = &[
    "pass", "passwd", "pwd", "pw", "root", "toor", "postgres", "mysql", "redis", "guest", "tiger",
    "user", "demo", "example", "sa", "oracle", "mongo", "rabbitmq",
];

/// Whether a password is one attackers try first: a default of a database or
/// broker, or a value from tutorials and generators.
pub fn is_well_known_password(password: &str) -> bool {
    let normalized: String = password
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    KNOWN_WEAK.contains(&normalized.as_str()) || DEFAULT_PASSWORDS.contains(&normalized.as_str())
}

/// Whether a value is a placeholder or an interpolation rather than a secret
/// (`${DB_PASSWORD}`, `<password>`, `changeme`, `xxxx`): for values that are
/// secrets only if they look random (a token in a variable named `*_TOKEN`, an
/// API key after its prefix).
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty()
        || v.starts_with('$')
        || v.contains("${")
        || v.starts_with('<')
        || v.starts_with('{')
        || v.starts_with('%')
    {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    let distinct: std::collections::HashSet<char> = lower.chars().collect();
    distinct.len() <= 2
        || PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
        || KNOWN_WEAK.contains(&lower.as_str()) && lower.len() < 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_strong() {
        for weak in [
            "dev",
            "change-me",
            "dev-secret-key-1234",
            "My Secret",
            "super-secret",
            "your-secret-key",
            "SECRET_KEY",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "0123456789abcdef",
        ] {
            assert!(weakness(weak).is_some(), "{weak}");
        }
        for strong in [
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "Qm8v_3kLx9-ZtR2pW7yNc4HsJdA1uEfGb6oVi0T5",
        ] {
            assert_eq!(weakness(strong), None, "{strong}");
        }
        assert!(
            is_placeholder("${DB_PASSWORD}")
                && is_placeholder("xxxxxxxx")
                && !is_placeholder("Orders2019!")
        );
    }

    #[test]
    fn unfilled_values_are_markers_not_words() {
        for unfilled in [
            "",
            "  ",
            "${DB_PASSWORD}",
            "${DB_PASSWORD:-}",
            "$DB_PASSWORD",
            "$_PW",
            "%(password)s",
            "%s",
            "{password}",
            "{{ db_password }}",
            "<password>",
            "<your-password>",
            "[PASSWORD]",
            "__DB_PASSWORD__",
            "@DB_PASSWORD@",
            "%DB_PASSWORD%",
            "***",
            "********",
            "xxx",
            "XXXXXXXX",
            "...",
            "-",
        ] {
            assert!(is_unfilled(unfilled), "{unfilled:?}");
        }
        for filled in [
            "password",
            "secret",
            "changeme",
            "change-me",
            "your_password",
            "tiger",
            "pw",
            "aa11",
            "$$ecret",
            "p@ss",
            "<3cookies",
            "Orders2019!",
        ] {
            assert!(!is_unfilled(filled), "{filled:?}");
        }
        assert!(is_well_known_password("password"));
        assert!(is_well_known_password("Change-Me"));
        assert!(is_well_known_password("guest"));
        assert!(!is_well_known_password("Orders2019!"));
    }
}
