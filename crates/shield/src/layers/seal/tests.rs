use http::{Method, Request, Response};

use super::*;
use crate::config::SealSettings;

const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn seal() -> Seal {
    let s = SealSettings {
        cookies: vec!["session".into()],
        ..SealSettings::default()
    };
    let env = |k: &str| (k == "FLASKGUARD_SEAL_KEYS").then(|| KEYS.to_string());
    Seal::new(&s, &env, None, 1, std::time::Duration::from_millis(100))
        .unwrap()
        .unwrap()
}

fn cx() -> Context {
    Context::for_test(Method::GET)
}

/// The response half on a `Set-Cookie`, returning the `Set-Cookie` lines.
fn close(s: &Seal, set_cookies: &[&str]) -> Vec<String> {
    let mut r = Response::new(());
    for c in set_cookies {
        r.headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_str(c).unwrap());
    }
    let (mut head, _) = r.into_parts();
    s.response_layer().apply(&mut head, &mut cx());
    head.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The request half on a `Cookie` header: what the app receives, and the notes.
fn open(s: &Seal, cookie: &str) -> (Option<String>, Vec<&'static str>) {
    let (mut head, _) = Request::builder()
        .uri("/")
        .header(header::COOKIE, cookie)
        .body(())
        .unwrap()
        .into_parts();
    let mut c = cx();
    assert!(matches!(
        s.request_layer().check(&mut head, &mut c),
        Flow::Continue
    ));
    (
        head.headers
            .get(header::COOKIE)
            .map(|v| v.to_str().unwrap().to_string()),
        c.events.iter().map(|e| e.action).collect(),
    )
}

#[test]
fn seals_on_the_way_out_and_opens_on_the_way_in() {
    let s = seal();
    let flask = "eyJyb2xlIjoiZ3Vlc3QifQ.ZVPxAA.kKgxJDvKVC3LSmhF0o_BBGA1MVY";
    let out = close(
        &s,
        &[
            &format!("session={flask}; HttpOnly; Path=/"),
            "theme=dark; Path=/",
        ],
    );
    assert_eq!(out.len(), 2);
    assert!(out[0].starts_with("session=fg1.k1."), "{}", out[0]);
    assert!(out[0].ends_with("; HttpOnly; Path=/"));
    assert!(!out[0].contains("eyJ"), "the browser sees only ciphertext");
    assert_eq!(out[1], "theme=dark; Path=/", "other cookies untouched");
    let sealed = out[0]
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("session=");
    let (seen, notes) = open(&s, &format!("theme=dark; session={sealed}"));
    assert_eq!(seen.unwrap(), format!("theme=dark; session={flask}"));
    assert!(notes.is_empty());
}

#[test]
fn tampered_foreign_and_plain_cookies_are_dropped() {
    let s = seal();
    let out = close(&s, &["session=abc; Path=/"]);
    let sealed = out[0]
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("session=")
        .to_string();
    let mut tampered = sealed.clone().into_bytes();
    let i = tampered.len() - 2;
    tampered[i] = if tampered[i] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).unwrap();
    let other_key = Keys::parse("k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=")
        .unwrap()
        .seal(TAG_VALUE, "session", b"abc")
        .unwrap();
    for bad in [
        tampered.as_str(),
        other_key.as_str(),
        "eyJyb2xlIjoiYWRtaW4ifQ.ZVPxAA.forged",
    ] {
        let (seen, notes) = open(&s, &format!("a=1; session={bad}"));
        assert_eq!(seen.as_deref(), Some("a=1"), "{bad}");
        assert_eq!(notes, ["drop"]);
    }
    let (seen, _) = open(&s, &format!("session={sealed}"));
    assert_eq!(seen.as_deref(), Some("session=abc"));
    let (seen, _) = open(&s, "session=forged");
    assert!(seen.is_none(), "no Cookie header left");
}

#[test]
fn deletions_pass_unchanged() {
    let s = seal();
    let del = "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/";
    assert_eq!(close(&s, &[del]), [del]);
}

#[test]
fn config_errors() {
    let env_none = |_: &str| None;
    let on = SealSettings {
        cookies: vec!["session".into()],
        ..SealSettings::default()
    };
    let e = Seal::new(&on, &env_none, None, 1, std::time::Duration::from_millis(1)).unwrap_err();
    assert_eq!(e.key, "shield.seal.keys_env");
    let bad_env = |_: &str| Some("k1:c2hvcnQ=".to_string());
    let e = Seal::new(&on, &bad_env, None, 1, std::time::Duration::from_millis(1)).unwrap_err();
    assert!(e.message.contains("32"), "{}", e.message);
    let server = SealSettings {
        mode: crate::config::SealMode::Server,
        ..on.clone()
    };
    let env = |_: &str| Some(KEYS.to_string());
    assert_eq!(
        Seal::new(&server, &env, None, 1, std::time::Duration::from_millis(1))
            .unwrap_err()
            .key,
        "shield.seal.redis"
    );
    let bad_name = SealSettings {
        cookies: vec!["a;b".into()],
        ..SealSettings::default()
    };
    assert_eq!(
        Seal::new(
            &bad_name,
            &env,
            None,
            1,
            std::time::Duration::from_millis(1)
        )
        .unwrap_err()
        .key,
        "shield.seal.cookies[0]"
    );
    assert!(Seal::new(
        &SealSettings::default(),
        &env_none,
        None,
        1,
        std::time::Duration::from_millis(1)
    )
    .unwrap()
    .is_none());
}

const K2: &str = "BBECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A keys file with `mode`, in a directory of its own.
fn keys_file(text: &str, mode: u32) -> (tempfile::TempDir, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seal-keys");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    (dir, path)
}

fn from_file(path: &std::path::Path) -> SealSettings {
    SealSettings {
        cookies: vec!["session".into()],
        keys_file: Some(path.to_path_buf()),
        ..SealSettings::default()
    }
}

#[test]
fn keys_file_holds_the_same_list_as_the_variable() {
    let env_none = |_: &str| None;
    let k1 = KEYS.split_once(':').unwrap().1;
    // The variable's format, with the newline an editor leaves.
    let (_d, comma) = keys_file(&format!("k2:{K2},k1:{k1}\n"), 0o600);
    // One entry per line, comments, blank lines; group-readable is fine.
    let (_e, lines) = keys_file(
        &format!("# rotated 2026-05\nk2:{K2}\n\n# old, until its cookies expire\nk1:{k1}\n"),
        0o640,
    );
    let sealed_k1 = super::crypto::Keys::parse(KEYS)
        .unwrap()
        .seal(TAG_VALUE, "session", b"v")
        .unwrap();
    for path in [&comma, &lines] {
        let keys = load_keys(&from_file(path), &env_none).unwrap();
        assert_eq!(keys.current(), "k2", "{}", path.display());
        assert_eq!(keys.open(TAG_VALUE, "session", &sealed_k1).unwrap(), b"v");
        assert!(Seal::new(
            &from_file(path),
            &env_none,
            None,
            1,
            std::time::Duration::from_millis(1)
        )
        .unwrap()
        .is_some());
    }
    // The same list from the variable, for comparison.
    let env = |k: &str| (k == "FLASKGUARD_SEAL_KEYS").then(|| format!("k2:{K2},k1:{k1}"));
    let on = SealSettings {
        cookies: vec!["session".into()],
        ..SealSettings::default()
    };
    assert_eq!(load_keys(&on, &env).unwrap().current(), "k2");
}

#[test]
fn keys_file_errors_name_the_key() {
    let env_none = |_: &str| None;
    let err = |s: &SealSettings, env: &dyn Fn(&str) -> Option<String>| {
        let e = load_keys(s, env).map(|_| ()).unwrap_err();
        assert_eq!(e.key, "shield.seal.keys_file", "{}", e.message);
        e.message
    };

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let m = err(&from_file(&missing), &env_none);
    assert!(m.contains("cannot read") && m.contains("nope"), "{m}");

    let m = err(&from_file(dir.path()), &env_none);
    assert!(m.contains("not a regular file"), "{m}");

    for mode in [0o644, 0o604, 0o602, 0o666] {
        let (_d, p) = keys_file(KEYS, mode);
        let m = err(&from_file(&p), &env_none);
        assert!(
            m.contains("every user") && m.contains(&format!("{mode:03o}")),
            "{m}"
        );
    }

    let (_d, short) = keys_file("k1:c2hvcnQ=\n", 0o600);
    let m = err(&from_file(&short), &env_none);
    assert!(m.contains("32") && m.contains("seal-keys"), "{m}");

    let (_d, empty) = keys_file("# nothing yet\n\n", 0o600);
    assert!(err(&from_file(&empty), &env_none).contains("no key"));

    let (_d, huge) = keys_file(&"#".repeat(70_000), 0o600);
    assert!(err(&from_file(&huge), &env_none).contains("larger than"));

    // Both places at once: refused, rather than guessing which list seals.
    let (_d, ok) = keys_file(KEYS, 0o600);
    let env = |k: &str| (k == "FLASKGUARD_SEAL_KEYS").then(|| KEYS.to_string());
    let m = err(&from_file(&ok), &env);
    assert!(m.contains("$FLASKGUARD_SEAL_KEYS"), "{m}");
    // A variable set but empty does not count.
    let blank = |_: &str| Some(String::new());
    assert!(load_keys(&from_file(&ok), &blank).is_ok());
    // Seal::new reports the same key.
    assert_eq!(
        Seal::new(
            &from_file(&missing),
            &env_none,
            None,
            1,
            std::time::Duration::from_millis(1)
        )
        .unwrap_err()
        .key,
        "shield.seal.keys_file"
    );
}
