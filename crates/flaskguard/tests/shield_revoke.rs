//! `flaskguard shield revoke`: server-side sessions end at once, from the command
//! line, with real Redis and shield as a real process.

#[path = "../../shield/tests/support/echo.rs"]
mod echo;

use std::{
    net::SocketAddr,
    process::{Command, Stdio},
    time::Duration,
};

use echo::Echo;
use testkit::{free_port, http_get, wait_for_port, Proc, RedisServer};

const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flaskguard"));
    c.env("FLASKGUARD_SEAL_KEYS", KEYS);
    c
}

fn session(addr: SocketAddr) -> String {
    let r = http_get(addr, "/cookies", &[]).unwrap();
    r.headers_all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("session="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string()
}

/// What the upstream sees when the browser sends `cookie`.
fn upstream_sees(addr: SocketAddr, cookie: &str) -> serde_json::Value {
    let r = http_get(addr, "/headers", &[("Cookie", cookie)]).unwrap();
    serde_json::from_slice(&r.body).unwrap()
}

fn revoke(config: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .args(["shield", "--config"])
        .arg(config)
        .arg("revoke")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn revoked_sessions_reach_the_app_without_their_cookie() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let echo = Echo::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("flaskguard.toml");
    std::fs::write(
        &config,
        format!(
            "[shield]\nlisten = \"127.0.0.1:{port}\"\nupstream = \"{}\"\n[shield.seal]\ncookies = [\"session\"]\nmode = \"server\"\nredis = \"{}\"\n[shield.audit_log]\npath = \"{}\"\n",
            echo.url(),
            redis.url(),
            dir.path().join("audit.log").display()
        ),
    )
    .unwrap();
    let mut cmd = bin();
    cmd.args(["shield", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _shield = Proc::spawn("flaskguard shield", cmd).unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(wait_for_port(addr, Duration::from_secs(10)));

    let (a, b) = (session(addr), session(addr));
    assert!(a.starts_with("session=fgs1.k1."), "{a}");
    assert_eq!(
        upstream_sees(addr, &a)["cookie"][0],
        "session=eyJ1IjoxfQ.sig"
    );

    // One session, by its cookie as the browser holds it.
    let (code, out, err) = revoke(&config, &[&a]);
    assert_eq!((code, out.trim()), (0, "revoked 1 session(s)"), "{err}");
    assert!(upstream_sees(addr, &a).get("cookie").is_none(), "revoked");
    assert_eq!(
        upstream_sees(addr, &b)["cookie"][0],
        "session=eyJ1IjoxfQ.sig",
        "the other one lives"
    );

    // A value that is not ours: a warning and exit 2.
    let (code, _, err) = revoke(&config, &["fgs1.k1.AAAA"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a session cookie"), "{err}");

    // Everything.
    let (code, out, _) = revoke(&config, &["--all"]);
    assert_eq!((code, out.trim()), (0, "revoked 1 session(s)"));
    assert!(upstream_sees(addr, &b).get("cookie").is_none());

    // Without server-side sessions there is nothing to revoke: a clear error.
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, "[shield]\n").unwrap();
    let (code, _, err) = revoke(&plain, &["--all"]);
    assert_eq!(code, 2);
    assert!(err.contains("mode = \"server\""), "{err}");
}
