//! Rate limiting end to end: real gunicorn (examples/orders-weak, 4 workers with
//! flask-limiter's per-worker memory), real Redis, shield in-process.
//!
//! - 4 gunicorn workers behind one shield: exactly N of a burst pass.
//! - Per IP and per account on the login route (the built-in auth rule).
//! - Two shield instances on one Redis: exactly N pass across both; the counters
//!   survive a restart.
//! - Redis killed mid-run: requests keep flowing, limited locally; Redis back: shared
//!   limiting resumes; the audit log has each transition once. fail_closed: 503.

mod support;

use std::{net::SocketAddr, time::Duration};

use shield::config::{OnStorageError, RuleSettings, Settings, StringList};
use support::{echo::Echo, settings_for, TestShield};
use testkit::{free_port, http_request, Gunicorn, RawResponse, RedisServer};

/// Sends `n` requests from `threads` threads; `make(i)` says what request i is.
fn burst<F>(addr: SocketAddr, n: usize, threads: usize, make: F) -> Vec<RawResponse>
where
    F: Fn(usize) -> (String, String, Vec<(String, String)>, Vec<u8>) + Sync,
{
    let next = std::sync::atomic::AtomicUsize::new(0);
    let out = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= n {
                    break;
                }
                let (m, p, h, b) = make(i);
                let h: Vec<(&str, &str)> =
                    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let r = http_request(addr, &m, &p, &h, &b)
                    .unwrap_or_else(|e| panic!("request {i}: {e}"));
                out.lock().unwrap().push(r);
            });
        }
    });
    out.into_inner().unwrap()
}

fn get(path: &str) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    ("GET".into(), path.into(), Vec::new(), Vec::new())
}

fn count(rs: &[RawResponse], status: u16) -> usize {
    rs.iter().filter(|r| r.status == status).count()
}

fn rule(name: &str, route: &str, limit: &str, keys: &[&str]) -> RuleSettings {
    RuleSettings {
        name: Some(name.into()),
        routes: StringList::of(&[route]),
        limit: StringList::of(&[limit]),
        keys: StringList::of(keys),
        cost: None,
    }
}

fn orders_weak(db: &std::path::Path) -> Option<Gunicorn> {
    Gunicorn::start(
        "orders-weak",
        &[
            ("WEB_CONCURRENCY", "4"),
            ("ORDERS_DB", db.to_str().unwrap()),
        ],
    )
}

#[test]
fn four_gunicorn_workers_behind_one_shield_pass_exactly_n() {
    let dir = tempfile::tempdir().unwrap();
    let Some(app) = orders_weak(&dir.path().join("orders.db")) else {
        return;
    };
    let mut s = settings_for(&app.url());
    s.rate_limit.rules = vec![rule(
        "orders-list",
        "GET /api/orders",
        "12 per minute",
        &["ip"],
    )];
    let shield = TestShield::start(s);
    let rs = burst(shield.addr, 40, 8, |_| get("/api/orders"));
    assert_eq!(
        count(&rs, 200),
        12,
        "statuses: {:?}",
        rs.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(count(&rs, 429), 28);
    let ok = rs.iter().find(|r| r.status == 200).unwrap();
    assert_eq!(
        ok.header("ratelimit-policy"),
        Some("\"global\";q=1200;w=60, \"orders-list\";q=12;w=60")
    );
    assert!(ok
        .header("ratelimit")
        .unwrap()
        .contains("\"orders-list\";r="));
    let limited = rs.iter().find(|r| r.status == 429).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&limited.body).unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    assert_eq!(limited.header("content-type"), Some("application/json"));
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=5).contains(&retry), "Retry-After {retry}");
    assert!(limited
        .header("ratelimit")
        .unwrap()
        .contains("\"orders-list\";r=0;"));
    let line = shield
        .wait_audit("\"RL004\"")
        .expect("audit line for the 429");
    assert_eq!(line["status"], 429);
    // Other routes are not limited by that rule.
    assert_eq!(
        http_request(shield.addr, "GET", "/api/", &[], b"")
            .unwrap()
            .status,
        200
    );
}

fn login(email: &str, ip: &str) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    (
        "POST".into(),
        "/api/auth/login".into(),
        vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Forwarded-For".into(), ip.into()),
        ],
        format!(r#"{{"email": "{email}", "password": "wrong"}}"#).into_bytes(),
    )
}

#[test]
fn login_is_limited_per_ip_and_per_account() {
    let dir = tempfile::tempdir().unwrap();
    let Some(app) = orders_weak(&dir.path().join("orders.db")) else {
        return;
    };
    let mut s = settings_for(&app.url());
    // The test speaks for many clients through a "proxy" on loopback.
    s.trusted_proxies = shield::config::TrustedProxies::Cidrs(vec!["127.0.0.1".into()]);
    let shield = TestShield::start(s);
    // One IP rotating accounts (credential stuffing): the IP counter stops it.
    let rs = burst(shield.addr, 14, 4, |i| {
        login(&format!("user{i}@example.com"), "203.0.113.7")
    });
    assert_eq!(count(&rs, 401), 10, "the app saw exactly the first 10");
    assert_eq!(count(&rs, 429), 4);
    // Many IPs on one account (distributed guessing): the account counter stops it,
    // whatever the case and spacing of the e-mail.
    let rs = burst(shield.addr, 14, 4, |i| {
        let email = [
            "alice@example.com",
            "Alice@Example.COM",
            " alice@example.com ",
        ][i % 3];
        login(email, &format!("198.51.100.{}", i + 1))
    });
    assert_eq!(count(&rs, 401), 10);
    assert_eq!(count(&rs, 429), 4);
    let limited = rs.iter().find(|r| r.status == 429).unwrap();
    let rl = limited.header("ratelimit").unwrap();
    assert!(
        rl.contains("\"auth.body.email|username|login|user.60\";r=0"),
        "{rl}"
    );
    let line = shield.wait_audit("\"RL003\"").expect("audit line");
    // No account identifier in the log.
    assert!(
        !shield.audit_log().contains("alice@"),
        "the e-mail was logged"
    );
    assert_eq!(line["status"], 429);
    // Another account from a fresh IP still gets through.
    let r = http_request(
        shield.addr,
        "POST",
        "/api/auth/login",
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", "192.0.2.99"),
        ],
        br#"{"email": "alice@example.com", "password": "password123"}"#,
    );
    assert_eq!(
        r.unwrap().status,
        429,
        "alice's account is still locked for this minute"
    );
    let r = http_request(
        shield.addr,
        "POST",
        "/api/auth/login",
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", "192.0.2.99"),
        ],
        br#"{"email": "bob@example.com", "password": "hunter2"}"#,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
}

fn redis_settings(upstream: &str, redis: &str) -> Settings {
    let mut s = settings_for(upstream);
    s.rate_limit.storage = redis.into();
    s.rate_limit.redis_retry_interval = shield::config::Dur::from_millis(200);
    s.rate_limit.rules = vec![rule("limited", "GET /limited", "10 per minute", &["ip"])];
    s
}

#[test]
fn two_instances_share_one_redis_and_counters_survive_a_restart() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let echo = Echo::start();
    let a = TestShield::start(redis_settings(&echo.url(), &redis.url()));
    let b = TestShield::start(redis_settings(&echo.url(), &redis.url()));
    let addrs = [a.addr, b.addr];
    let next = std::sync::atomic::AtomicUsize::new(0);
    let statuses = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= 30 {
                    break;
                }
                let r = http_request(addrs[i % 2], "GET", "/limited", &[], b"").unwrap();
                statuses.lock().unwrap().push(r.status);
            });
        }
    });
    let statuses = statuses.into_inner().unwrap();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20);
    // A restarted instance finds the counter where the others left it.
    drop(a);
    let a2 = TestShield::start(redis_settings(&echo.url(), &redis.url()));
    assert_eq!(
        http_request(a2.addr, "GET", "/limited", &[], b"")
            .unwrap()
            .status,
        429
    );
    assert_eq!(echo.hits(), 10);
}

fn redis_keys(url: &str) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = redis::Client::open(url).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("fg:rl:*")
            .query_async(&mut c)
            .await
            .unwrap();
        keys.len()
    })
}

#[test]
fn redis_down_fails_open_locally_and_recovers() {
    let port = free_port();
    let Some(redis) = RedisServer::start_on(port) else {
        return;
    };
    let url = redis.url();
    let echo = Echo::start();
    let mut s = redis_settings(&echo.url(), &url);
    s.rate_limit.rules = vec![rule("limited", "GET /limited", "5 per minute", &["ip"])];
    let shield = TestShield::start(s);
    for _ in 0..3 {
        assert_eq!(
            http_request(shield.addr, "GET", "/limited", &[], b"")
                .unwrap()
                .status,
            200
        );
    }
    assert!(redis_keys(&url) >= 2, "counters live in Redis");

    drop(redis);
    // Requests keep flowing, limited by this instance's local counters (fresh: 5).
    let statuses: Vec<u16> = (0..10)
        .map(|_| {
            http_request(shield.addr, "GET", "/limited", &[], b"")
                .unwrap()
                .status
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "{statuses:?}"
    );
    let down = shield
        .wait_audit("storage_down")
        .expect("storage_down logged");
    assert_eq!(down["control"], "RL002");

    let redis = RedisServer::start_on(port).expect("redis restarts");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !shield.audit_log().contains("storage_recovered") {
        assert!(std::time::Instant::now() < deadline, "no recovery");
        let _ = http_request(shield.addr, "GET", "/", &[], b"");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Shared limiting again: decisions write to Redis.
    assert_eq!(
        http_request(shield.addr, "GET", "/limited", &[], b"")
            .unwrap()
            .status,
        200
    );
    assert!(redis_keys(&redis.url()) >= 2, "counters are back in Redis");
    let log = shield.audit_log();
    assert_eq!(log.matches("storage_down").count(), 1, "{log}");
    assert_eq!(log.matches("storage_recovered").count(), 1, "{log}");
    let m = shield.handle().metrics().render();
    assert!(
        m.contains("shield_security_events_total{control=\"RL002\",action=\"local_fallback\"}"),
        "{m}"
    );
}

#[test]
fn fail_closed_answers_503() {
    let echo = Echo::start();
    let mut s = redis_settings(&echo.url(), &format!("redis://127.0.0.1:{}/0", free_port()));
    s.rate_limit.on_storage_error = OnStorageError::FailClosed;
    let shield = TestShield::start(s);
    let r = http_request(shield.addr, "GET", "/limited", &[], b"").unwrap();
    assert_eq!(r.status, 503);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["code"], "rate_limit_unavailable");
    assert_eq!(echo.hits(), 0);
    assert!(shield.wait_audit("storage_down").is_some());
}
