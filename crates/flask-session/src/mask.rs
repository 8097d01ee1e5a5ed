//! Masking secret keys (and other secrets) for reports.
//!
//! A report must prove that a key was found without handing the key to whoever reads
//! the report. [`mask_key`] keeps two characters at each end and the length:
//! `de…34 (19 chars)`. Keys of six characters or fewer are shown whole: they are
//! dictionary words from a public list (`dev`, `secret`), masking them hides nothing
//! and only makes the finding harder to act on.

/// Longest key shown in full.
pub const SHOW_IN_FULL_MAX: usize = 6;
/// Characters kept at each end of a longer key.
const KEEP: usize = 2;

/// Masks a key for display: `de…34 (19 chars)`, or the whole key with its length for
/// keys of at most [`SHOW_IN_FULL_MAX`] characters (`dev (3 chars)`). Keys that are
/// not UTF-8 are counted in bytes (`(24 bytes)`); control characters and non-UTF-8
/// bytes are written as `\xNN`, a backslash as `\\`.
pub fn mask_key(key: &[u8]) -> String {
    let (units, unit_name): (Vec<String>, &str) = match std::str::from_utf8(key) {
        Ok(text) => (text.chars().map(escape_char).collect(), "chars"),
        Err(_) => (key.iter().map(|&b| escape_byte(b)).collect(), "bytes"),
    };
    let n = units.len();
    let plural = |name: &str| {
        if n == 1 {
            name.trim_end_matches('s').to_owned()
        } else {
            name.to_owned()
        }
    };
    if n <= SHOW_IN_FULL_MAX {
        return format!("{} ({n} {})", units.concat(), plural(unit_name));
    }
    format!(
        "{}…{} ({n} {unit_name})",
        units[..KEEP].concat(),
        units[n - KEEP..].concat()
    )
}

fn escape_char(c: char) -> String {
    match c {
        '\\' => "\\\\".to_owned(),
        c if c.is_control() => {
            let mut buf = [0u8; 4];
            c.encode_utf8(&mut buf).bytes().map(escape_byte).collect()
        }
        c => c.to_string(),
    }
}

fn escape_byte(b: u8) -> String {
    match b {
        b'\\' => "\\\\".to_owned(),
        b' '..=b'~' => (b as char).to_string(),
        _ => format!("\\x{b:02x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ends_and_length() {
        assert_eq!(mask_key(b"dev-secret-key-1234"), "de…34 (19 chars)");
        assert_eq!(mask_key(b"mysecretkey"), "my…ey (11 chars)");
        assert_eq!(mask_key(b"secret1"), "se…t1 (7 chars)");
    }

    #[test]
    fn short_keys_are_shown() {
        assert_eq!(mask_key(b"dev"), "dev (3 chars)");
        assert_eq!(mask_key(b"secret"), "secret (6 chars)");
        assert_eq!(mask_key(b"x"), "x (1 char)");
        assert_eq!(mask_key(b""), " (0 chars)");
    }

    #[test]
    fn never_shows_the_middle_of_a_long_key() {
        let key = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let masked = mask_key(key);
        assert!(!masked.contains("2345"), "{masked}");
        assert!(masked.starts_with("01…yz"));
    }

    #[test]
    fn escapes_binary_and_counts_unicode_as_chars() {
        let superset = b"\x02\x01thisismyscretkey\x01\x02\\e\\y\\y\\h";
        assert_eq!(mask_key(superset), "\\x02\\x01…\\\\h (28 chars)");
        assert_eq!(mask_key("clé-très-secrète".as_bytes()), "cl…te (16 chars)");
        assert_eq!(
            mask_key(b"\xff\xfe\x00abcdefgh"),
            "\\xff\\xfe…gh (11 bytes)"
        );
    }
}
