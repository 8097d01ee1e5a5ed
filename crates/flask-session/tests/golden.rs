//! Golden tests against real Flask: cookies produced by Flask's own
//! `SecureCookieSessionInterface` (see `make_golden.py`) must decode to the
//! documented readable value, verify under their key and parameters only, be
//! reproduced byte for byte by `sign_at`, and be cracked from a list holding their
//! key, while tampered cookies and wrong keys fail.
//!
//! `fixtures/golden.json` is checked in; `live_flask_agrees` regenerates the cases
//! with the example apps' venv (real Flask) and runs the same checks on them.

use flask_session::{
    builtin_wordlist, crack, decode, default_params, sign_at, verify, DecodeError, DigestAlgorithm,
    KeyDerivation, SignerParams,
};
use serde::Deserialize;
use serde_json::Value;
use std::process::Command;

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    kind: String,
    key_hex: String,
    params: Params,
    timestamp: Option<u64>,
    cookie: String,
    wire: Value,
    readable: Value,
    compressed: bool,
}

#[derive(Debug, Deserialize)]
struct Params {
    salt: String,
    key_derivation: String,
    digest: String,
}

impl Case {
    fn key(&self) -> Vec<u8> {
        (0..self.key_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&self.key_hex[i..i + 2], 16).expect("fixture key is hex"))
            .collect()
    }

    fn params(&self) -> SignerParams {
        SignerParams::new(
            self.params.salt.as_bytes(),
            self.params
                .key_derivation
                .parse::<KeyDerivation>()
                .expect("known derivation"),
            self.params
                .digest
                .parse::<DigestAlgorithm>()
                .expect("known digest"),
        )
    }
}

fn load(text: &str) -> Vec<Case> {
    let cases: Vec<Case> = serde_json::from_str(text).expect("golden JSON parses");
    assert!(
        cases.len() >= 15,
        "expected the full golden set, got {}",
        cases.len()
    );
    cases
}

/// Flips one character of the part `index` (0 payload, 1 timestamp, 2 signature,
/// counted from the end so compressed payloads work) to another base64url char.
fn tamper(cookie: &str, from_end: usize) -> String {
    let mut parts: Vec<String> = cookie.rsplitn(3, '.').map(str::to_owned).collect();
    let part = &mut parts[from_end];
    let pos = part.len() / 2;
    let old = part.as_bytes()[pos];
    let new = if old == b'A' { 'B' } else { 'A' };
    part.replace_range(pos..pos + 1, &new.to_string());
    parts.reverse();
    parts.join(".")
}

fn check_case(case: &Case) {
    let name = &case.name;
    let key = case.key();
    let params = case.params();

    // verify: right key and params only
    assert!(
        verify(&case.cookie, &key, &params),
        "{name}: does not verify"
    );
    let mut wrong_key = key.clone();
    wrong_key.push(b'x');
    assert!(
        !verify(&case.cookie, &wrong_key, &params),
        "{name}: verifies under a wrong key"
    );
    assert!(
        !verify(&case.cookie, &key[..key.len() - 1], &params),
        "{name}: verifies under a truncated key"
    );
    let other_salt = SignerParams {
        salt: b"other-salt".to_vec(),
        ..params.clone()
    };
    if params.key_derivation != KeyDerivation::None {
        assert!(
            !verify(&case.cookie, &key, &other_salt),
            "{name}: verifies under another salt"
        );
    }
    for from_end in 0..case
        .cookie
        .split('.')
        .filter(|p| !p.is_empty())
        .count()
        .min(3)
    {
        let tampered = tamper(&case.cookie, from_end);
        assert_ne!(tampered, case.cookie);
        assert!(
            !verify(&tampered, &key, &params),
            "{name}: tampered part {from_end} still verifies"
        );
    }

    // crack: found among decoys; wrong lists find nothing
    let mut candidates: Vec<Vec<u8>> = builtin_wordlist().to_vec();
    candidates.retain(|k| *k != key);
    let decoys = candidates.clone();
    candidates.push(key.clone());
    let mut param_sets = default_params();
    if !param_sets
        .iter()
        .any(|p| p.normalized() == params.normalized())
    {
        assert_eq!(
            crack(&case.cookie, &candidates, &param_sets),
            None,
            "{name}: cracked under unknown params"
        );
        param_sets.push(params.clone());
    }
    let found = crack(&case.cookie, &candidates, &param_sets)
        .unwrap_or_else(|| panic!("{name}: not cracked"));
    assert_eq!(found.key, key, "{name}");
    assert!(verify(&case.cookie, &found.key, &found.params), "{name}");
    assert_eq!(found.params, params.normalized(), "{name}");
    assert_eq!(
        crack(&case.cookie, &decoys, &param_sets),
        None,
        "{name}: cracked without its key"
    );

    match case.kind.as_str() {
        "flask" => {
            let session = decode(&case.cookie).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(session.value(), &case.readable, "{name}: readable value");
            assert_eq!(session.raw(), &case.wire, "{name}: wire JSON");
            assert_eq!(session.compressed(), case.compressed, "{name}: compressed");
            assert_eq!(
                session.signature_len(),
                params.digest.output_len(),
                "{name}"
            );
            let ts = case.timestamp.expect("flask cases carry a timestamp");
            let issued = session
                .issued_at()
                .unwrap_or_else(|| panic!("{name}: no timestamp"));
            assert_eq!(issued.raw, ts, "{name}");
            // sign reproduces Flask's cookie exactly
            assert_eq!(
                sign_at(&case.wire, &key, &params, ts),
                case.cookie,
                "{name}: sign_at differs from Flask"
            );
        }
        "starlette" => {
            let session = decode(&case.cookie).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(session.value(), &case.readable, "{name}");
        }
        "flask-session-sid" => {
            assert_eq!(
                decode(&case.cookie).err(),
                Some(DecodeError::NoTimestamp),
                "{name}"
            );
        }
        other => panic!("{name}: unknown kind {other}"),
    }
}

#[test]
fn checked_in_golden_cookies() {
    for case in load(include_str!("fixtures/golden.json")) {
        check_case(&case);
    }
}

#[test]
fn golden_cookies_tell_what_a_scan_reports() {
    let cases = load(include_str!("fixtures/golden.json"));
    let by_name = |n: &str| {
        cases
            .iter()
            .find(|c| c.name == n)
            .unwrap_or_else(|| panic!("no case {n}"))
    };

    let login = decode(&by_name("flask-login-mysecretkey").cookie).expect("decodes");
    assert_eq!(
        login.sensitive_keys(),
        vec![],
        "Flask-Login and CSRF keys are not sensitive"
    );

    let large = decode(&by_name("large-compressed-dev-secret").cookie).expect("decodes");
    let paths: Vec<String> = large.sensitive_keys().into_iter().map(|k| k.path).collect();
    assert_eq!(paths, ["api_token"]);

    let legacy = decode(&by_name("legacy-timestamp").cookie).expect("decodes");
    let issued = legacy.issued_at().expect("timestamp");
    assert!(issued.legacy_epoch);
    assert_eq!(issued.to_rfc3339(), "2018-12-03T12:26:40Z");
    let modern = decode(&by_name("plain-dev").cookie).expect("decodes");
    assert_eq!(
        modern.issued_at().map(|t| t.to_rfc3339()).as_deref(),
        Some("2023-11-14T22:13:20Z")
    );
}

#[test]
fn live_flask_agrees() {
    let python = testkit::venv("orders-hardened").join("bin/python");
    if !python.is_file() {
        testkit::E2e::missing(&format!(
            "{} (the orders-hardened venv, for real Flask)",
            python.display()
        ));
        return;
    }
    let out = tempfile::tempdir().expect("temp dir");
    let path = out.path().join("golden.json");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/make_golden.py");
    let status = Command::new(&python)
        .arg(&script)
        .arg(&path)
        .status()
        .expect("runs python");
    assert!(status.success(), "make_golden.py failed: {status}");
    let text = std::fs::read_to_string(&path).expect("generated file");
    for case in load(&text) {
        check_case(&case);
    }
}
