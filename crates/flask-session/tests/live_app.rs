//! End to end against the real `examples/orders-weak` app under gunicorn: the
//! session cookie it hands every visitor must decode to its planted `role`
//! (CKE004) and be cracked with the built-in list under Flask's default parameters
//! (KEY002), for both of its planted keys; with a random key from the environment
//! the same cookie must not crack.

use flask_session::{builtin_wordlist, crack, decode, default_params, verify, SensitiveCategory};
use testkit::{http_get, Gunicorn};

/// Starts orders-weak, fetches `/api/` and returns the `session` cookie's value.
fn guest_session_cookie(env: &[(&str, &str)]) -> Option<String> {
    let mut env = env.to_vec();
    env.push(("WEB_CONCURRENCY", "1"));
    let app = Gunicorn::start("orders-weak", &env)?;
    let response = http_get(app.addr, "/api/", &[]).expect("GET /api/");
    let cookie = response
        .headers_all("set-cookie")
        .into_iter()
        .find_map(|h| h.strip_prefix("session="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned());
    assert!(
        cookie.is_some(),
        "no session cookie from /api/; log:\n{}",
        app.log_contents()
    );
    cookie
}

fn assert_weak(cookie: &str, expected_key: &[u8]) {
    let session = decode(cookie).expect("decodes");
    assert_eq!(session.value()["role"], "guest");
    let sensitive = session.sensitive_keys();
    assert!(
        sensitive
            .iter()
            .any(|k| k.path == "role" && k.category == SensitiveCategory::Authorization),
        "{sensitive:?}"
    );
    assert!(
        !sensitive.iter().any(|k| k.path == "_permanent"),
        "{sensitive:?}"
    );
    let found = crack(cookie, builtin_wordlist(), &default_params())
        .expect("cracked with the built-in list");
    assert_eq!(found.key, expected_key);
    assert!(found.params.is_flask_default(), "{}", found.params);
    assert!(verify(cookie, &found.key, &found.params));
}

#[test]
fn development_key_is_cracked() {
    let Some(cookie) = guest_session_cookie(&[]) else {
        return;
    };
    assert_weak(&cookie, b"dev-secret-key-1234");
}

#[test]
fn production_fallback_key_is_cracked() {
    let Some(cookie) = guest_session_cookie(&[("ORDERS_ENV", "production")]) else {
        return;
    };
    assert_weak(&cookie, b"change-me");
}

#[test]
fn random_key_is_not_cracked() {
    let key = format!("{:032x}{:032x}", std::process::id(), rand_ish());
    let Some(cookie) = guest_session_cookie(&[("ORDERS_ENV", "production"), ("SECRET_KEY", &key)])
    else {
        return;
    };
    assert!(decode(&cookie).is_ok());
    assert_eq!(crack(&cookie, builtin_wordlist(), &default_params()), None);
    assert!(verify(
        &cookie,
        key.as_bytes(),
        &flask_session::SignerParams::flask_default()
    ));
}

fn rand_ish() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
