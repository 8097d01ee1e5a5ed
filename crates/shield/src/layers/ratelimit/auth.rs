//! The built-in authentication rule's matcher: credential endpoints recognised by
//! a word in their path (`/api/auth/login`, `/oauth/token`, `/users/password/reset`)
//! and the methods that submit credentials.

use http::Method;

use super::rules::Matcher;
use crate::config::{AuthRuleSettings, ConfigError};

/// Whether a path names an authentication endpoint: one of `words` equals a
/// segment (or a run of segments), compared case-insensitively and without an
/// extension (`/api/v1/Login.json`). Allocates nothing.
pub(super) fn auth_path(path: &str, words: &[Vec<String>]) -> bool {
    fn stem(seg: &str) -> &str {
        match seg.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && ext.len() <= 5 => stem,
            _ => seg,
        }
    }
    let segs = || path.split('/').filter(|s| !s.is_empty());
    segs().enumerate().any(|(i, _)| {
        words.iter().any(|w| {
            let mut run = segs().skip(i);
            w.iter().all(|word| {
                run.next()
                    .is_some_and(|s| stem(s).eq_ignore_ascii_case(word))
            })
        })
    })
}

pub(super) fn auth_matcher(a: &AuthRuleSettings) -> Result<Matcher, ConfigError> {
    let methods = a
        .methods
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).map_err(|_| {
                ConfigError::new(
                    format!("shield.rate_limit.auth.methods[{i}]"),
                    format!("`{m}` is not an HTTP method"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut words = Vec::new();
    for (i, w) in a.path_words.iter().enumerate() {
        let segs: Vec<String> = w
            .trim()
            .trim_matches('/')
            .split('/')
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        if segs.iter().any(|s| s.is_empty()) {
            return Err(ConfigError::new(
                format!("shield.rate_limit.auth.path_words[{i}]"),
                format!("`{w}` is not a path word"),
            ));
        }
        words.push(segs);
    }
    Ok(Matcher::Auth { methods, words })
}
