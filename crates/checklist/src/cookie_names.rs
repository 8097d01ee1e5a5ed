//! Cookie names as the cookie controls (CKE001-CKE003, CKE006) read them, shared by
//! audit, scan and shield so that all three call the same cookies session-like.
//! A name is judged by its words, never by substrings: `sid` is a word of
//! `connect.sid`, not of `sidebar_collapsed`.

/// Patterns that make a cookie session-like (shield's default
/// `session_patterns`).
pub const SESSION_PATTERNS: &[&str] = &[
    "session",
    "sess",
    "sid",
    "phpsessid",
    "jsessionid",
    "token",
    "auth",
    "jwt",
    "remember",
    "login",
];

/// Patterns of cookies scripts must read (CSRF tokens): never session-like.
pub const SCRIPT_READABLE_PATTERNS: &[&str] = &["csrf", "xsrf"];

/// Whether a cookie is session-like by the default patterns.
pub fn is_session_like(name: &str) -> bool {
    let w = words(name);
    let lower = name.to_ascii_lowercase();
    let hit = |ps: &[&str]| ps.iter().any(|p| pattern_matches(p, &lower, &w));
    hit(SESSION_PATTERNS) && !hit(SCRIPT_READABLE_PATTERNS)
}

/// The words of a cookie name, lower-cased: split at every character that is not
/// a letter or digit and where a lower-case letter or digit meets an upper-case
/// one (`ASP.NET_SessionId` is `asp net session id`, `XSRF-TOKEN` `xsrf token`).
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a name pattern matches a cookie name. A pattern with `*` is a glob
/// over the whole lower-cased name (`*sess*`). Any other pattern matches a word
/// of the name: the word itself, with an `id` or `s` after it (`sessionid`,
/// `tokens`), or, for patterns of five letters or more, the start of a word
/// (`sessiontoken`, `rememberme`). So `sid` matches `connect.sid` and `user_sid`
/// but not `sidebar_collapsed` or `considered`, and `auth` matches `auth_token`
/// and `authToken` but not `author_pref`.
pub fn pattern_matches(pattern: &str, lower_name: &str, words: &[String]) -> bool {
    if pattern.contains('*') {
        return glob(pattern.as_bytes(), lower_name.as_bytes());
    }
    words.iter().any(|w| {
        w.strip_prefix(pattern).is_some_and(|rest| {
            rest.is_empty() || rest == "id" || rest == "s" || pattern.len() >= 5
        })
    })
}

/// `*`-only glob matching (iterative, linear in practice).
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_patterns() {
        assert_eq!(words("ASP.NET_SessionId"), ["asp", "net", "session", "id"]);
        assert_eq!(words("XSRF-TOKEN"), ["xsrf", "token"]);
        assert_eq!(words("refreshToken"), ["refresh", "token"]);
        for name in [
            "session",
            "connect.sid",
            "PHPSESSID",
            "remember_token",
            "authToken",
            "sessionid",
        ] {
            assert!(is_session_like(name), "{name}");
        }
        for name in [
            "sidebar_collapsed",
            "considered",
            "author_pref",
            "XSRF-TOKEN",
            "csrf_access_token",
            "theme",
        ] {
            assert!(!is_session_like(name), "{name}");
        }
        assert!(glob(b"*a*b", b"xxaxxb") && !glob(b"*a*b", b"xxaxxbc") && glob(b"**", b""));
        assert!(pattern_matches(
            "*sess*",
            "mysessdata",
            &words("mysessdata")
        ));
    }
}
