//! CKE004, KEY002: the Flask session cookie, read and tested the way an attacker
//! would. Flask's default session is signed, not encrypted: anyone can decode it
//! (base64url, the `.`-prefixed zlib form, the timestamp), and anyone who guesses
//! the SECRET_KEY can forge it. Decoding, the built-in weak-key list, `--wordlist`
//! and the parallel cracker (every itsdangerous key derivation and digest) are the
//! `flask_session` crate's; this module turns its answers into outcomes.

use std::{path::Path, sync::Arc};

use flask_session::{
    builtin_wordlist, default_params, mask_key, Cracker, DecodedSession, Wordlist,
};

use super::{check, cookies, outcomes, CheckDef, Verdicts};
use crate::{observations::Observations, ScanError};

outcomes! {
    pub enum Contents for "CKE004" {
        Sensitive = "session-sensitive-data-readable" [High, -20, Flaskguard]
            "The Flask session cookie is readable by the client and carries sensitive data (roles, tokens, credentials)",
            "Keep only an opaque user id in the client-side session, or move sessions server-side (Flask-Session with Redis); never store roles, tokens or secrets there.";
        Readable = "session-readable" [Info, 0, Flaskguard]
            "The Flask session cookie is signed, not encrypted: its keys are readable by the client",
            "Store nothing there you would not show the user; use server-side sessions for anything else.";
        Opaque = "session-not-decodable" [Pass, 0, Flaskguard]
            "No readable Flask session cookie was set",
            "";
    }
}

outcomes! {
    pub enum WeakKey for "KEY002" {
        Cracked = "session-secret-key-weak" [Critical, -60, Flaskguard]
            "The session cookie's signature verifies under a well-known key: anyone can forge sessions (log in as any user, become admin)",
            "Generate a long random SECRET_KEY (python -c 'import secrets; print(secrets.token_hex(32))'), load it from the environment, and rotate it now (every session is invalidated).";
        NotFound = "session-secret-key-not-guessed" [Pass, 0, Flaskguard]
            "The session cookie's key is not in the built-in list or the word list",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!("session-cookie-contents", "CKE004", Contents, contents),
    check!("session-weak-key", "KEY002", WeakKey, weak_key),
];

/// Candidate keys: the built-in list of weak and well-known keys, plus a user list.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub extra: Option<Arc<Wordlist>>,
}

impl Candidates {
    /// Loads `--wordlist` (a missing, unreadable or empty file is an error naming it).
    pub fn load(path: Option<&Path>) -> Result<Candidates, ScanError> {
        let extra = match path {
            Some(p) => Some(Arc::new(Wordlist::load(p).map_err(|e| {
                ScanError::Wordlist {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                }
            })?)),
            None => None,
        };
        Ok(Candidates { extra })
    }

    pub fn len(&self) -> usize {
        builtin_wordlist().len() + self.extra.as_ref().map_or(0, |w| w.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A cookie that decodes as a Flask session.
struct SessionCookie {
    name: String,
    value: String,
    /// Where the site set it, or the target's URL for a given one.
    url: String,
    /// Given with `--cookie` rather than set by the site during the scan.
    given: bool,
}

/// The first cookie that decodes as a Flask session: one the site set during
/// the scan, else one given with `--cookie` (a session the site sets only after
/// login). Flask's default name first.
fn session_cookie(obs: &Observations) -> Option<(SessionCookie, DecodedSession)> {
    let mut set = cookies::all(obs);
    set.sort_by_key(|c| c.name != "session");
    let mut given: Vec<&(String, String)> = obs.given_cookies.iter().collect();
    given.sort_by_key(|(n, _)| n != "session");
    let set = set.into_iter().map(|c| SessionCookie {
        name: c.name,
        value: c.value,
        url: c.url,
        given: false,
    });
    let given = given.into_iter().map(|(name, value)| SessionCookie {
        name: name.clone(),
        value: value.clone(),
        url: obs.target.url.clone(),
        given: true,
    });
    set.chain(given).find_map(|c| {
        let decoded = flask_session::decode(&c.value).ok()?;
        Some((c, decoded))
    })
}

/// How a cookie is named in evidence: a given one says so.
fn cookie_name(c: &SessionCookie) -> String {
    if c.given {
        format!("`{}` (given with --cookie)", c.name)
    } else {
        format!("`{}`", c.name)
    }
}

fn describe(c: &SessionCookie, d: &DecodedSession) -> String {
    let mut s = format!("cookie {}: keys {:?}", cookie_name(c), d.keys());
    if d.compressed() {
        s.push_str(", zlib-compressed");
    }
    if let Some(t) = d.issued_at() {
        s.push_str(&format!(", signed at {}", t.to_rfc3339()));
    }
    s
}

fn contents(obs: &Observations, v: &mut Verdicts) {
    let Some((c, d)) = session_cookie(obs) else {
        if let Some((url, _)) = super::page(obs) {
            v.add(Contents::Opaque, url);
        }
        return;
    };
    let sensitive = d.sensitive_keys();
    if sensitive.is_empty() {
        v.add(Contents::Readable, c.url.clone())
            .evidence(describe(&c, &d));
        return;
    }
    let list: Vec<String> = sensitive
        .iter()
        .map(|k| format!("{} ({}): {}", k.path, k.category.as_str(), k.preview))
        .collect();
    v.add(Contents::Sensitive, c.url.clone()).evidence(format!(
        "{}; sensitive: {}",
        describe(&c, &d),
        list.join("; ")
    ));
}

fn weak_key(obs: &Observations, v: &mut Verdicts) {
    let Some((c, _)) = session_cookie(obs) else {
        return;
    };
    let Ok(cracker) = Cracker::new(&c.value) else {
        return;
    };
    let params = default_params();
    let keys = obs.session_keys.clone().unwrap_or_default();
    let found = cracker.crack(builtin_wordlist(), &params).or_else(|| {
        let extra = keys.extra.as_ref()?;
        cracker.crack(&extra.keys(), &params)
    });
    match found {
        Some(f) => {
            v.add(WeakKey::Cracked, c.url.clone()).evidence(format!(
                "cookie {} verifies under SECRET_KEY {} ({}{})",
                cookie_name(&c),
                mask_key(&f.key),
                f.params,
                if f.params.is_flask_default() {
                    ", Flask's defaults"
                } else {
                    ""
                }
            ));
        }
        None => {
            v.add(WeakKey::NotFound, c.url.clone())
                .detail(format!("{} candidates tried", keys.len()));
        }
    }
}
