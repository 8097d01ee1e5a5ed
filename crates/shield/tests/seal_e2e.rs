//! Sealed session cookies in front of examples/orders-weak, whose Flask session
//! holds the user's role and API token in a signed, readable cookie under a
//! well-known key (CKE004, KEY002).
//!
//! - The session works through shield; the browser's cookie is ciphertext that
//!   `flaskguard scan` (its library) can neither decode nor crack, while the same
//!   scan of the app alone finds both problems.
//! - A tampered or foreign cookie leaves the app with an empty session, not an error.
//! - Server-side mode: the cookie is an id, the value lives in Redis, and deleting
//!   the key logs the session out at once.
//! - Keys from `keys_file` rotate on reload: new key first, old cookies still open
//!   until the old key is retired, and a bad file keeps the running keys.

mod support;

use std::sync::Once;

use shield::config::{SealMode, Settings};
use support::{echo::Echo, settings_for, TestShield};
use testkit::{http_get, http_request, Gunicorn, RawResponse, RedisServer};

const KEYS: &str = "2026a:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn keys_in_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var("FLASKGUARD_SEAL_KEYS", KEYS));
}

fn sealed_settings(app: &Gunicorn) -> Settings {
    keys_in_env();
    let mut s = settings_for(&app.url());
    s.seal.cookies = vec!["session".into()];
    s
}

fn session_cookie(r: &RawResponse) -> Option<String> {
    r.headers_all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("session="))
        .map(|c| {
            c.split(';')
                .next()
                .unwrap()
                .trim_start_matches("session=")
                .to_string()
        })
}

fn login(addr: std::net::SocketAddr) -> RawResponse {
    http_request(
        addr,
        "POST",
        "/api/auth/login",
        &[("Content-Type", "application/json")],
        br#"{"email": "alice@example.com", "password": "password123"}"#,
    )
    .unwrap()
}

fn whoami(addr: std::net::SocketAddr, cookie: &str) -> serde_json::Value {
    let r = http_request(
        addr,
        "GET",
        "/api/auth/whoami",
        &[("Cookie", &format!("session={cookie}"))],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

fn scan_ids(url: &str) -> Vec<String> {
    let report = scan::scan(&scan::ScanOptions {
        targets: vec![url.to_string()],
        ..scan::ScanOptions::default()
    })
    .expect("scan runs");
    report.findings.iter().map(|f| f.control.clone()).collect()
}

fn orders_weak(dir: &std::path::Path) -> Option<Gunicorn> {
    Gunicorn::start(
        "orders-weak",
        &[
            ("WEB_CONCURRENCY", "2"),
            ("ORDERS_DB", dir.join("orders.db").to_str().unwrap()),
        ],
    )
}

#[test]
fn a_sealed_flask_session_works_and_reveals_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(app) = orders_weak(dir.path()) else {
        return;
    };
    let shield = TestShield::start(sealed_settings(&app));

    let r = login(shield.addr);
    assert_eq!(r.status, 200, "{}", r.text());
    let cookie = session_cookie(&r).expect("a session cookie");
    assert!(cookie.starts_with("fg1.2026a."), "{cookie}");
    // The session works through shield.
    let me = whoami(shield.addr, &cookie);
    assert_eq!(
        (me["user_id"].as_i64(), me["role"].as_str()),
        (Some(1), Some("admin"))
    );

    // The browser-side value decodes to nothing readable and cracks under no key.
    assert!(flask_session::decode(&cookie).is_err());
    assert!(flask_session::crack(
        &cookie,
        flask_session::builtin_wordlist(),
        &flask_session::default_params()
    )
    .is_none());
    // The app's own cookie, for contrast, is readable and signed with a weak key.
    let direct = login(app.addr);
    let plain = session_cookie(&direct).unwrap();
    assert!(flask_session::decode(&plain)
        .unwrap()
        .keys()
        .contains(&"api_token"));

    // flaskguard scan: the app alone shows CKE004 and KEY002; through shield, neither.
    let alone = scan_ids(&app.url());
    assert!(
        alone.iter().any(|c| c == "KEY002") && alone.iter().any(|c| c == "CKE004"),
        "{alone:?}"
    );
    let shielded = scan_ids(&format!("http://{}", shield.addr));
    assert!(
        !shielded.iter().any(|c| c == "KEY002" || c == "CKE004"),
        "{shielded:?}"
    );

    // Tampered, foreign or forged cookies: an empty session, never an error page.
    let mut bytes = cookie.clone().into_bytes();
    let i = bytes.len() - 5;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    for bad in [
        tampered.as_str(),
        plain.as_str(),
        "fg1.2026a.AAAA",
        "fg1.other.abcd",
    ] {
        let me = whoami(shield.addr, bad);
        assert!(me["user_id"].is_null(), "{bad}: {me}");
        assert_eq!(
            me["role"], "guest",
            "{bad}: the app started a fresh guest session"
        );
    }
    assert!(shield.wait_audit("\"CKE004\"").is_some());
}

fn redis_keys(url: &str, pattern: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = redis::Client::open(url).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut c)
            .await
            .unwrap()
    })
}

#[test]
fn server_side_sessions_live_in_redis_and_revoke_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let Some(app) = orders_weak(dir.path()) else {
        return;
    };
    let mut s = sealed_settings(&app);
    s.seal.mode = SealMode::Server;
    s.seal.redis = Some(redis.url());
    let shield = TestShield::start(s);

    let r = login(shield.addr);
    assert_eq!(r.status, 200, "{}", r.text());
    let cookie = session_cookie(&r).unwrap();
    assert!(cookie.starts_with("fgs1.2026a."), "{cookie}");
    assert!(cookie.len() < 120, "an id, not the value: {cookie}");
    let me = whoami(shield.addr, &cookie);
    assert_eq!(me["user_id"].as_i64(), Some(1));
    assert!(!redis_keys(&redis.url(), "fg:sess:*").is_empty());

    // Revocation: delete the session's key, the next request has no session.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let n = rt
        .block_on(shield::layers::seal::server::revoke_all(&client, "fg:sess"))
        .unwrap();
    assert!(n >= 1);
    let me = whoami(shield.addr, &cookie);
    assert!(me["user_id"].is_null(), "{me}");
}

const KEY_A: &str = "a:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B: &str = "b:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

fn write_keys(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The session cookie the echo upstream sets (`/cookies`), as shield sealed it.
fn sealed_session(addr: std::net::SocketAddr) -> String {
    let r = http_get(addr, "/cookies", &[]).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    session_cookie(&r).expect("a session cookie")
}

/// The `Cookie` header the upstream received for `session=<cookie>`.
fn upstream_cookie(addr: std::net::SocketAddr, cookie: &str) -> Option<String> {
    let r = http_get(
        addr,
        "/headers",
        &[("Cookie", &format!("session={cookie}; theme=dark"))],
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["cookie"][0].as_str().map(str::to_string)
}

/// What the echo upstream's `/cookies` session cookie holds before sealing.
const PLAIN: &str = "session=eyJ1IjoxfQ.sig; theme=dark";

#[test]
fn keys_from_a_file_rotate_on_reload() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("seal-keys");
    write_keys(&keys, &format!("{KEY_A}\n"));
    let echo = Echo::start();
    let mut s = settings_for(&echo.url());
    s.seal.cookies = vec!["session".into()];
    // Not set in this process: the file is the only source.
    s.seal.keys_env = "FLASKGUARD_TEST_SEAL_KEYS_UNSET".into();
    s.seal.keys_file = Some(keys.clone());
    let shield = TestShield::start(s);

    let a = sealed_session(shield.addr);
    assert!(a.starts_with("fg1.a."), "{a}");
    assert_eq!(upstream_cookie(shield.addr, &a).as_deref(), Some(PLAIN));

    // Rotation, step 1: the new key first, the old one after it; SIGHUP.
    write_keys(
        &keys,
        &format!("# 2026-05: b seals, a until its cookies expire\n{KEY_B}\n{KEY_A}\n"),
    );
    shield.handle().reload().unwrap();
    assert_eq!(
        upstream_cookie(shield.addr, &a).as_deref(),
        Some(PLAIN),
        "a cookie sealed with the old key no longer opens"
    );
    let b = sealed_session(shield.addr);
    assert!(
        b.starts_with("fg1.b."),
        "new cookies are sealed with the new key: {b}"
    );
    assert_eq!(upstream_cookie(shield.addr, &b).as_deref(), Some(PLAIN));

    // A broken file, or one every user can read: the reload is refused, naming
    // the key, and the running keys stay.
    write_keys(&keys, "b:not-a-key\n");
    let e = shield.handle().reload().unwrap_err();
    assert!(e.contains("shield.seal.keys_file"), "{e}");
    {
        use std::os::unix::fs::PermissionsExt;
        write_keys(&keys, KEY_B);
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = shield.handle().reload().unwrap_err();
        assert!(
            e.contains("shield.seal.keys_file") && e.contains("every user"),
            "{e}"
        );
    }
    std::fs::remove_file(&keys).unwrap();
    let e = shield.handle().reload().unwrap_err();
    assert!(e.contains("shield.seal.keys_file"), "{e}");
    assert_eq!(upstream_cookie(shield.addr, &a).as_deref(), Some(PLAIN));
    assert!(sealed_session(shield.addr).starts_with("fg1.b."));

    // Step 2: the old key retired. Its cookie is dropped: the app sees no session
    // (the other cookies pass); the new one still opens.
    write_keys(&keys, KEY_B);
    shield.handle().reload().unwrap();
    assert_eq!(
        upstream_cookie(shield.addr, &a).as_deref(),
        Some("theme=dark"),
        "a cookie sealed with a retired key reached the app"
    );
    assert_eq!(upstream_cookie(shield.addr, &b).as_deref(), Some(PLAIN));
    assert!(shield.wait_audit("retired key").is_some());
}
