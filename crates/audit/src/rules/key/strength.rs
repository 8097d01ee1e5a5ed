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

/// Whether a value is a placeholder or an interpolation rather than a secret
/// (`${DB_PASSWORD}`, `<password>`, `changeme`, `xxxx`).
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
}
