//! Candidate secret keys: the built-in weak-key list and user word lists.
//!
//! [`builtin_wordlist`] is `data/weak-keys.txt`, compiled into the binary: keys from
//! the hardening guides this project grew from, tutorial and documentation keys, and
//! documented framework defaults, each group with its source in a comment. In that
//! file a line starting with `#` is a comment, blank lines are skipped, and
//! `hex:` introduces a key given in hex (for keys with control bytes, such as
//! Superset's historical default, or keys that begin with `#` or `hex:`).
//!
//! [`Wordlist::load`] reads a user's list (`--wordlist FILE`): one key per line,
//! taken as raw bytes; only the line ending (`\n` or `\r\n`) is removed, so keys
//! keep leading and trailing spaces; empty lines are skipped; no comments, no
//! escapes. The whole file is read into one buffer and split in place, so a
//! 100,000-line list costs one allocation for the text and one for the line index.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Why a word list could not be loaded. The message names the file.
#[derive(Debug, thiserror::Error)]
pub enum WordlistError {
    #[error("{}: cannot read word list: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: word list has no keys (every line is empty)", path.display())]
    Empty { path: PathBuf },
}

/// A list of candidate keys held in one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wordlist {
    text: Vec<u8>,
    lines: Vec<(usize, usize)>,
}

impl Wordlist {
    /// Loads a word list file (see the module docs for the format).
    pub fn load(path: &Path) -> Result<Wordlist, WordlistError> {
        let text = std::fs::read(path).map_err(|source| WordlistError::Read {
            path: path.to_owned(),
            source,
        })?;
        let list = Wordlist::from_bytes(text);
        if list.is_empty() {
            return Err(WordlistError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(list)
    }

    /// Splits `text` into keys, one per line (see the module docs).
    pub fn from_bytes(text: Vec<u8>) -> Wordlist {
        let mut lines = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let end = memchr_newline(&text[start..]).map_or(text.len(), |i| start + i);
            let mut key_end = end;
            if key_end > start && text[key_end - 1] == b'\r' && end < text.len() {
                key_end -= 1;
            }
            if key_end > start {
                lines.push((start, key_end));
            }
            start = end + 1;
        }
        Wordlist { text, lines }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The key at `index`.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.lines
            .get(index)
            .and_then(|&(s, e)| self.text.get(s..e))
    }

    /// The keys in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.lines.iter().map(|&(s, e)| &self.text[s..e])
    }

    /// The keys as slices, ready for [`crate::crack()`].
    pub fn keys(&self) -> Vec<&[u8]> {
        self.iter().collect()
    }
}

fn memchr_newline(haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == b'\n')
}

const BUILTIN_TEXT: &str = include_str!("../data/weak-keys.txt");

/// The built-in weak-key list (`data/weak-keys.txt`), parsed once.
pub fn builtin_wordlist() -> &'static [Vec<u8>] {
    static KEYS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    KEYS.get_or_init(|| parse_builtin(BUILTIN_TEXT))
}

fn parse_builtin(text: &str) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = match line.strip_prefix("hex:") {
            Some(hex) => match decode_hex(hex.trim()) {
                Some(bytes) => bytes,
                None => continue, // a unit test keeps the file free of bad hex
            },
            None => line.as_bytes().to_vec(),
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn splits_lines_keeping_spaces() {
        let list = Wordlist::from_bytes(b"dev\n\n secret \r\nlast\r".to_vec());
        let keys: Vec<&[u8]> = list.iter().collect();
        assert_eq!(keys, [&b"dev"[..], b" secret ", b"last\r"]);
        assert_eq!(list.get(1), Some(&b" secret "[..]));
        assert_eq!(list.get(3), None);
    }

    #[test]
    fn handles_a_large_file() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        for i in 0..100_000 {
            writeln!(file, "key-{i}").expect("write");
        }
        file.write_all(b"\xff\xfe binary\n").expect("write");
        let list = Wordlist::load(file.path()).expect("loads");
        assert_eq!(list.len(), 100_001);
        assert_eq!(list.get(99_999), Some(&b"key-99999"[..]));
        assert_eq!(list.get(100_000), Some(&b"\xff\xfe binary"[..]));
    }

    #[test]
    fn errors_name_the_file() {
        let missing = Path::new("/nonexistent/dir/keys.txt");
        let err = Wordlist::load(missing).expect_err("missing file");
        assert!(
            err.to_string()
                .starts_with("/nonexistent/dir/keys.txt: cannot read word list"),
            "{err}"
        );
        let empty = tempfile::NamedTempFile::new().expect("temp file");
        let err = Wordlist::load(empty.path()).expect_err("empty file");
        assert!(err.to_string().contains("has no keys"), "{err}");
    }

    #[test]
    fn builtin_list_parses_cleanly() {
        for line in BUILTIN_TEXT.lines() {
            if let Some(hex) = line.strip_prefix("hex:") {
                assert!(decode_hex(hex.trim()).is_some(), "bad hex line: {line}");
            }
            assert!(
                !line.starts_with(' ') && !line.ends_with(' '),
                "stray space (use hex:) in {line:?}"
            );
        }
        let keys = builtin_wordlist();
        assert!(keys.len() >= 200, "{} keys", keys.len());
    }

    #[test]
    fn builtin_list_has_the_seeds_keys_and_framework_defaults() {
        let keys = builtin_wordlist();
        for key in [
            &b"dev"[..],
            b"secret",
            b"change-me",
            b"my-secret",
            b"dev-secret-key-1234",
            b"mysecretkey",
            b"SECRET_KEY",
            b"you-will-never-guess",
            b"hard to guess string",
            b"CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET",
            b"\x02\x01thisismyscretkey\x01\x02\\e\\y\\y\\h",
            b"temporary_key",
        ] {
            assert!(
                keys.iter().any(|k| k == key),
                "missing {}",
                key.escape_ascii()
            );
        }
    }
}
