//! AUTH002: HMAC-signed JWTs met during the scan, tested offline against the
//! weak-key list (the built-in one the session check uses, plus `--wordlist`).
//! A token whose signature verifies under a public secret (a documentation
//! example, a framework or product default) lets anyone mint tokens for any
//! user. The tokens come from `--header` values (`Authorization: Bearer …`),
//! `--cookie` values and cookies the site set; nothing extra is sent, and
//! neither the token nor the secret appears in a report (the secret is masked).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use flask_session::{builtin_wordlist, mask_key};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};

use super::{check, cookies, outcomes, CheckDef, Verdicts};
use crate::observations::Observations;

outcomes! {
    pub enum JwtKey for "AUTH002" {
        Cracked = "jwt-secret-weak" [Critical, -60, Flaskguard]
            "A JWT's HMAC signature verifies under a well-known secret: anyone can mint tokens for any user",
            "Generate a long random signing secret (JWT_SECRET_KEY = secrets.token_hex(32)), load it from the environment, and rotate it now (every token is invalidated).";
        NotFound = "jwt-secret-not-guessed" [Pass, 0, Flaskguard]
            "The JWT's HMAC secret is not in the built-in list or the word list",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[check!("jwt-weak-secret", "AUTH002", JwtKey, weak_secret)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Hs256,
    Hs384,
    Hs512,
}

impl Alg {
    fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Hs384 => "HS384",
            Alg::Hs512 => "HS512",
        }
    }
}

/// An HMAC-signed JWT: what is signed, the signature, the algorithm.
#[derive(Debug)]
struct HmacJwt {
    signed: String,
    signature: Vec<u8>,
    alg: Alg,
}

impl HmacJwt {
    /// `header.payload.signature` with an `HS256/384/512` header; anything else
    /// (other algorithms, not base64url, not JSON) is not one.
    fn parse(token: &str) -> Option<HmacJwt> {
        let token = token.trim().trim_matches('"');
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || h.is_empty() || p.is_empty() || s.is_empty() {
            return None;
        }
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h.trim_end_matches('=')).ok()?).ok()?;
        let alg = match header.get("alg")?.as_str()? {
            "HS256" => Alg::Hs256,
            "HS384" => Alg::Hs384,
            "HS512" => Alg::Hs512,
            _ => return None,
        };
        URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
        Some(HmacJwt {
            signed: format!("{h}.{p}"),
            signature,
            alg,
        })
    }

    fn verifies(&self, key: &[u8]) -> bool {
        fn check<M: Mac + KeyInit>(key: &[u8], data: &[u8], sig: &[u8]) -> bool {
            let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
                return false;
            };
            mac.update(data);
            mac.verify_slice(sig).is_ok()
        }
        let data = self.signed.as_bytes();
        match self.alg {
            Alg::Hs256 => check::<Hmac<Sha256>>(key, data, &self.signature),
            Alg::Hs384 => check::<Hmac<Sha384>>(key, data, &self.signature),
            Alg::Hs512 => check::<Hmac<Sha512>>(key, data, &self.signature),
        }
    }
}

/// Every HMAC JWT the scan holds, with where it came from (for the evidence,
/// never the value) and the URL to report it at.
fn tokens(obs: &Observations) -> Vec<(String, String, HmacJwt)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |place: String, url: String, value: &str| {
        for word in value.split([' ', ',', ';']) {
            if let Some(t) = HmacJwt::parse(word) {
                if seen.insert(t.signed.clone()) {
                    out.push((place.clone(), url.clone(), t));
                }
            }
        }
    };
    for (name, value) in &obs.given_headers {
        push(
            format!("the {name} header given with --header"),
            obs.target.url.clone(),
            value,
        );
    }
    for (name, value) in &obs.given_cookies {
        push(
            format!("cookie `{name}` given with --cookie"),
            obs.target.url.clone(),
            value,
        );
    }
    for c in cookies::all(obs) {
        push(
            format!("cookie `{}` set by the site", c.name),
            c.url.clone(),
            &c.value,
        );
    }
    out
}

fn weak_secret(obs: &Observations, v: &mut Verdicts) {
    let found = tokens(obs);
    if found.is_empty() {
        return;
    }
    let keys = obs.session_keys.clone().unwrap_or_default();
    let extra: Vec<&[u8]> = keys.extra.as_ref().map(|w| w.keys()).unwrap_or_default();
    for (place, url, token) in &found {
        let hit = builtin_wordlist()
            .iter()
            .map(Vec::as_slice)
            .chain(extra.iter().copied())
            .find(|k| token.verifies(k));
        match hit {
            Some(key) => {
                v.add(JwtKey::Cracked, url.clone()).evidence(format!(
                    "the {} token in {place} verifies under the secret {}",
                    token.alg.name(),
                    mask_key(key)
                ));
            }
            None => {
                v.add(JwtKey::NotFound, url.clone())
                    .detail(format!("{} candidates tried", keys.len()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(alg: &str, key: &[u8]) -> String {
        let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        let p = URL_SAFE_NO_PAD.encode(r#"{"sub":"1","exp":4102444800}"#);
        let signed = format!("{h}.{p}");
        let sig = match alg {
            "HS384" => {
                let mut m = <Hmac<Sha384> as KeyInit>::new_from_slice(key).unwrap();
                m.update(signed.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            _ => {
                let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
                m.update(signed.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
        };
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    #[test]
    fn parses_hmac_tokens_only() {
        let t = sign("HS256", b"k");
        assert!(HmacJwt::parse(&t).unwrap().verifies(b"k"));
        assert!(!HmacJwt::parse(&t).unwrap().verifies(b"other"));
        assert!(HmacJwt::parse(&sign("HS384", b"k")).unwrap().verifies(b"k"));
        let rs = t.replacen(
            &URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            &URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            1,
        );
        assert!(HmacJwt::parse(&rs).is_none());
        for bad in ["", "a.b", "a.b.c.d", "...", "x.eyJ9.y", "not a token"] {
            assert!(HmacJwt::parse(bad).is_none(), "{bad}");
        }
    }

    fn obs_with(headers: Vec<(&str, String)>, cookies: Vec<(&str, String)>) -> Observations {
        let mut obs = super::super::tests::observations(
            "http://127.0.0.1:5000/",
            vec![(
                "main",
                "/",
                super::super::tests::response(200, &[("content-type", "application/json")], "{}"),
            )],
        );
        obs.given_headers = headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        obs.given_cookies = cookies
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        obs
    }

    #[test]
    fn a_token_under_a_public_secret_is_critical_and_masked() {
        let weak = sign("HS256", b"your-256-bit-secret");
        let obs = obs_with(vec![("Authorization", format!("Bearer {weak}"))], vec![]);
        let v = super::super::run_all(&obs);
        let hit = v
            .iter()
            .find(|v| v.spec.name == "jwt-secret-weak")
            .expect("cracked");
        let evidence = hit.evidence.clone().unwrap();
        assert!(evidence.contains("Authorization header"), "{evidence}");
        assert!(
            !evidence.contains("your-256-bit-secret"),
            "masked: {evidence}"
        );
        assert!(!evidence.contains(&weak), "no token in reports: {evidence}");
        // A strong secret: tried, not found; a cookie-borne token is read too.
        let strong = sign("HS256", b"8f1c0b0e3f5d4c2a9e7b6a5d4c3b2a1f0e9d8c7b6a5f4e3d");
        let obs = obs_with(vec![], vec![("access_token_cookie", strong)]);
        let names: Vec<_> = super::super::run_all(&obs)
            .iter()
            .map(|v| v.spec.name)
            .collect();
        assert!(names.contains(&"jwt-secret-not-guessed"), "{names:?}");
        assert!(!names.contains(&"jwt-secret-weak"));
        // No token: no verdict at all.
        let obs = obs_with(vec![("X-Api-Key", "abc".into())], vec![]);
        let names: Vec<_> = super::super::run_all(&obs)
            .iter()
            .map(|v| v.spec.name)
            .collect();
        assert!(
            !names.iter().any(|n| n.starts_with("jwt-secret")),
            "{names:?}"
        );
    }
}
