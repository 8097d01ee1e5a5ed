//! `flaskguard session decode|crack COOKIE`: a Flask session cookie read offline.

use std::io::Read;
use std::time::Instant;

use anyhow::{bail, Context};
use flask_session::{
    builtin_wordlist, decode, default_params, mask_key, Cracker, DecodedSession, Wordlist,
    MAX_COOKIE_LEN,
};
use serde_json::{json, Value};

use crate::{
    cli::{SessionCommand, SessionCookieArg, SessionCrackArgs, SessionDecodeArgs},
    exit,
};

pub fn run(command: &SessionCommand) -> anyhow::Result<u8> {
    match command {
        SessionCommand::Decode(args) => run_decode(args),
        SessionCommand::Crack(args) => run_crack(args),
    }
}

/// Reads the COOKIE argument (`-`: standard input) and takes the value out of
/// what a browser or a response shows: `VALUE`, `session=VALUE`, a `Cookie:`
/// header with several cookies (the one named `session`, Flask's default name),
/// or a `Set-Cookie:` line (its first pair).
fn cookie_value(arg: &SessionCookieArg) -> anyhow::Result<String> {
    let given = if arg.cookie == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(4 * MAX_COOKIE_LEN as u64)
            .read_to_string(&mut text)
            .context("COOKIE: cannot read standard input")?;
        text
    } else {
        arg.cookie.clone()
    };
    extract_cookie(&given).map_err(|reason| anyhow::anyhow!("COOKIE: {reason}"))
}

fn extract_cookie(given: &str) -> Result<String, String> {
    let text = given.trim();
    let lower = text.to_ascii_lowercase();
    let (text, set_cookie) = if lower.starts_with("set-cookie:") {
        (&text["set-cookie:".len()..], true)
    } else if lower.starts_with("cookie:") {
        (&text["cookie:".len()..], false)
    } else {
        (text, false)
    };
    let parts: Vec<&str> = text
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let pair = |part: &str| -> Option<(String, String)> {
        let (name, value) = part.split_once('=')?;
        let name = name.trim();
        let cookie_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        cookie_name.then(|| (name.to_string(), value.trim().to_string()))
    };
    let value = match parts.as_slice() {
        [] => return Err("empty".into()),
        [first, ..] if set_cookie => pair(first)
            .map(|(_, v)| v)
            .ok_or("a Set-Cookie line without `name=value`")?,
        [only] => pair(only).map_or_else(|| only.to_string(), |(_, v)| v),
        several => {
            let pairs: Vec<(String, String)> = several.iter().filter_map(|p| pair(p)).collect();
            match pairs.iter().find(|(n, _)| n == "session") {
                Some((_, v)) => v.clone(),
                None => {
                    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
                    return Err(format!(
                        "several cookies ({}) and none named `session`: give the session cookie alone",
                        names.join(", ")
                    ));
                }
            }
        }
    };
    let value = value.trim_matches('"').to_string();
    if value.is_empty() {
        return Err("the cookie's value is empty".into());
    }
    if value.len() > MAX_COOKIE_LEN {
        return Err(format!(
            "longer than any cookie a browser sends ({MAX_COOKIE_LEN} bytes at most)"
        ));
    }
    Ok(value)
}

fn decoded(cookie: &str) -> anyhow::Result<DecodedSession> {
    decode(cookie).map_err(|e| {
        anyhow::anyhow!(
            "COOKIE: not a Flask session cookie ({e}); server-side sessions (Flask-Session, a random id) carry nothing to decode"
        )
    })
}

fn digest_name(signature_len: usize) -> &'static str {
    match signature_len {
        20 => "SHA-1, Flask's default",
        28 => "SHA-224",
        32 => "SHA-256",
        48 => "SHA-384",
        64 => "SHA-512",
        _ => "no known digest",
    }
}

fn run_decode(args: &SessionDecodeArgs) -> anyhow::Result<u8> {
    let cookie = cookie_value(&args.cookie)?;
    let session = decoded(&cookie)?;
    let sensitive = session.sensitive_keys();
    if args.json {
        let out = json!({
            "value": session.value(),
            "issued_at": session.issued_at().map(|t| t.to_rfc3339()),
            "compressed": session.compressed(),
            "signature_bytes": session.signature_len(),
            "sensitive": sensitive,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let mut out = String::from("Flask session cookie (decoded without the key: anyone holding the cookie reads this)\n");
        out.push_str(&format!(
            "  signed at:  {}\n",
            session
                .issued_at()
                .map_or("unreadable timestamp".into(), |t| t.to_rfc3339())
        ));
        out.push_str(&format!(
            "  compressed: {}\n",
            if session.compressed() { "yes" } else { "no" }
        ));
        out.push_str(&format!(
            "  signature:  {} bytes ({})\n  contents:\n",
            session.signature_len(),
            digest_name(session.signature_len())
        ));
        let pretty = serde_json::to_string_pretty(session.value())?;
        for line in pretty.lines() {
            out.push_str(&format!("    {line}\n"));
        }
        if sensitive.is_empty() {
            out.push_str("No sensitive entries by name (CKE004).\n");
        } else {
            out.push_str(&format!(
                "CKE004: {} sensitive entr{} readable by anyone holding the cookie:\n",
                sensitive.len(),
                if sensitive.len() == 1 { "y" } else { "ies" }
            ));
            for s in &sensitive {
                out.push_str(&format!(
                    "  {} ({}): {}\n",
                    s.path,
                    s.category.as_str(),
                    s.preview
                ));
            }
        }
        print!("{out}");
    }
    Ok(if sensitive.is_empty() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    })
}

fn run_crack(args: &SessionCrackArgs) -> anyhow::Result<u8> {
    let cookie = cookie_value(&args.cookie)?;
    let cracker = Cracker::new(&cookie).map_err(|e| anyhow::anyhow!("COOKIE: {e}"))?;
    let lists = args
        .wordlist
        .iter()
        .map(|p| Wordlist::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    // Every candidate with where it comes from (for the report): the built-in
    // list first, then the files in the order given.
    let mut keys: Vec<&[u8]> = Vec::new();
    let mut sources: Vec<(usize, String)> = Vec::new();
    if !args.no_builtin {
        sources.push((keys.len(), "the built-in list".into()));
        keys.extend(builtin_wordlist().iter().map(Vec::as_slice));
    }
    for (list, path) in lists.iter().zip(&args.wordlist) {
        sources.push((keys.len(), path.display().to_string()));
        keys.extend(list.iter());
    }
    let params = cracker.applicable(&default_params());
    if params.is_empty() {
        bail!("COOKIE: its signature fits no parameter set flaskguard knows");
    }
    let start = Instant::now();
    let found = cracker.crack(&keys, &params);
    let seconds = start.elapsed().as_secs_f64();
    let source_of = |index: usize| {
        sources
            .iter()
            .rev()
            .find(|(first, _)| index >= *first)
            .map_or(String::new(), |(_, name)| name.clone())
    };
    let shown = |key: &[u8]| {
        if args.show_key {
            String::from_utf8_lossy(key).into_owned()
        } else {
            mask_key(key)
        }
    };
    if args.json {
        let mut out = json!({
            "found": found.is_some(),
            "candidates": keys.len(),
            "parameter_sets": params.len(),
            "seconds": (seconds * 1000.0).round() / 1000.0,
        });
        if let (Some(f), Value::Object(map)) = (&found, &mut out) {
            map.insert("key".into(), json!(shown(&f.key)));
            map.insert("key_masked".into(), json!(!args.show_key));
            map.insert("params".into(), json!(f.params.to_string()));
            map.insert("flask_default".into(), json!(f.params.is_flask_default()));
            map.insert("source".into(), json!(source_of(f.index)));
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        match &found {
            Some(f) => println!(
                "KEY002: the cookie is signed with a known key: {} ({}{}; from {}). \
                 Anyone can forge sessions with it: set a new random SECRET_KEY (32+ bytes, \
                 e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`) from the \
                 environment; every session signed with the old one stops verifying.",
                shown(&f.key),
                f.params,
                if f.params.is_flask_default() {
                    ", Flask's default signing"
                } else {
                    ""
                },
                source_of(f.index),
            ),
            None => println!(
                "Not found: none of {} candidate keys verifies the cookie under {} parameter set{} ({:.2} s).",
                keys.len(),
                params.len(),
                if params.len() == 1 { "" } else { "s" },
                seconds
            ),
        }
    }
    Ok(if found.is_some() {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

#[cfg(test)]
mod tests {
    use super::extract_cookie;

    #[test]
    fn the_value_is_taken_from_what_a_browser_or_response_shows() {
        let v = "eyJ1c2VyX2lkIjo3fQ.ZVPxAA.abc";
        for given in [
            v.to_string(),
            format!("  {v}\n"),
            format!("session={v}"),
            format!("\"{v}\""),
            format!("session=\"{v}\""),
            format!("Cookie: theme=dark; session={v}; lang=en"),
            format!("Set-Cookie: session={v}; HttpOnly; Path=/; SameSite=Lax"),
            format!(".{v}"),
        ] {
            let want = if given.starts_with('.') {
                format!(".{v}")
            } else {
                v.to_string()
            };
            assert_eq!(
                extract_cookie(&given).as_deref(),
                Ok(want.as_str()),
                "{given}"
            );
        }
        // Another cookie name given alone is that cookie (apps rename `session`).
        assert_eq!(extract_cookie(&format!("sid={v}")).unwrap(), v);
    }

    #[test]
    fn unusable_input_is_refused_with_a_reason() {
        for (given, says) in [
            ("", "empty"),
            ("   ;  ", "empty"),
            ("session=", "value is empty"),
            ("theme=dark; lang=en", "none named `session`"),
            ("Set-Cookie: HttpOnly", "without `name=value`"),
        ] {
            let e = extract_cookie(given).unwrap_err();
            assert!(e.contains(says), "{given:?}: {e}");
        }
        let long = "a".repeat(flask_session::MAX_COOKIE_LEN + 1);
        assert!(extract_cookie(&long).unwrap_err().contains("longer"));
    }
}
