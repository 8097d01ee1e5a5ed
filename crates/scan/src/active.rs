//! Intrusive probes, run only with `--active`. They send what an attacker would:
//! a burst of failed logins, a 20 MiB body, cross-site POSTs carrying the session
//! cookie, redirect parameters pointing off-site, spoofed forwarding headers,
//! and forged tokens. They can lock accounts, fill logs, trip
//! alerting and create rows in a database: point them only at deployments you
//! are allowed to test.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

use crate::{
    client::{Client, HttpRequest},
    engine::run,
    observations::{Exchange, Observations},
    plan::{Probe, EVIL_ORIGIN},
};

/// Failed logins sent in the burst (RL003). Login limits are usually 3–10 a minute.
pub const BURST: usize = 25;
/// Size of the oversized body (INP003): above Flask's commonly used 16 MiB limit.
pub const OVERSIZED: usize = 20 * 1024 * 1024;
/// A documentation address (RFC 5737) used as the spoofed client.
pub const SPOOFED_IP: &str = "203.0.113.77";

/// Parameters that commonly carry a post-login or post-logout destination.
pub const REDIRECT_PARAMS: &[&str] = &[
    "next",
    "url",
    "redirect",
    "redirect_uri",
    "redirect_to",
    "return",
    "return_to",
    "returnTo",
    "continue",
    "dest",
    "destination",
    "goto",
];

fn login_body(i: usize, form: bool) -> (String, &'static str) {
    if form {
        (
            format!("email=flaskguard-probe%40example.invalid&username=flaskguard-probe&password=wrong-{i}"),
            "application/x-www-form-urlencoded",
        )
    } else {
        (
            format!(
                r#"{{"email":"flaskguard-probe@example.invalid","username":"flaskguard-probe","password":"wrong-{i}"}}"#
            ),
            "application/json",
        )
    }
}

fn post(obs: &Observations, path: &str, body: String, content_type: &str) -> HttpRequest {
    HttpRequest::new(&obs.target.endpoint, "POST", path)
        .header("content-type", content_type)
        .header("accept", "application/json")
        .body(body)
}

/// The `Cookie` header a browser would send back after the main page.
fn session_cookie(obs: &Observations) -> Option<String> {
    let mut pairs = Vec::new();
    for (_, resp) in obs.answered() {
        for sc in resp.headers_all("set-cookie") {
            if let Some(pair) = sc.split(';').next() {
                let pair = pair.trim();
                if pair.contains('=') && !pairs.iter().any(|p: &String| p == pair) {
                    pairs.push(pair.to_string());
                }
            }
        }
    }
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

pub async fn run_all(client: &Client, obs: &mut Observations) {
    let logins: Vec<String> = obs.discovery.login_paths.iter().take(2).cloned().collect();
    // The probes that POST to the login endpoint go before the burst: once the
    // burst has tripped a rate limit, every answer there is a 429 that says
    // nothing about body limits or CSRF.
    oversized(client, obs, logins.first().cloned()).await;
    cross_site(client, obs, logins.first().cloned()).await;
    for login in &logins {
        login_burst(client, obs, login).await;
    }
    redirects(client, obs, &logins).await;
    spoofing(client, obs).await;
    forged_tokens(client, obs).await;
}

/// RL003: failed logins one after another until a 429 or [`BURST`] attempts.
async fn login_burst(client: &Client, obs: &mut Observations, path: &str) {
    let mut form = false;
    let mut limited_at = None;
    let mut statuses = Vec::new();
    for i in 0..BURST {
        let (body, ct) = login_body(i, form);
        let req = post(obs, path, body, ct);
        let result = client.fetch(&req).await;
        let status = result.as_ref().map(|r| r.status).unwrap_or(0);
        if i == 0 && matches!(status, 400 | 415) {
            // The endpoint wants a form, not JSON: start over with a form body.
            form = true;
        }
        statuses.push(status);
        obs.exchanges.push(Exchange {
            key: format!("burst:{path}:{i}"),
            request: req,
            result,
        });
        if status == 429 {
            limited_at = Some(i + 1);
            break;
        }
        if status == 0 || matches!(status, 404 | 405) {
            break;
        }
    }
    obs.facts.insert(
        format!("burst:{path}"),
        match limited_at {
            Some(n) => format!("limited after {n}"),
            None => format!("not limited; statuses {statuses:?}"),
        },
    );
    // A limit keyed on a client-supplied header resets when the header changes.
    if limited_at.is_some() {
        let (body, ct) = login_body(BURST, form);
        let req = post(obs, path, body, ct).header("x-forwarded-for", SPOOFED_IP);
        let result = client.fetch(&req).await;
        obs.exchanges.push(Exchange {
            key: format!("burst-spoofed:{path}"),
            request: req,
            result,
        });
    }
}

/// INP003: a body far over any sensible limit, to an endpoint that reads bodies.
async fn oversized(client: &Client, obs: &mut Observations, login: Option<String>) {
    let Some(path) = login.or_else(|| obs.discovery.collections.iter().next().cloned()) else {
        return;
    };
    let mut body = String::with_capacity(OVERSIZED + 64);
    body.push_str(r#"{"email":"flaskguard-probe@example.invalid","password":""#);
    body.extend(std::iter::repeat_n('A', OVERSIZED));
    body.push_str("\"}");
    let req = post(obs, &path, body, "application/json");
    let result = client.fetch(&req).await;
    // Do not keep 20 MiB in the observations.
    let mut kept = req;
    kept.body = bytes::Bytes::from(format!("<{} bytes>", OVERSIZED + 58));
    obs.exchanges.push(Exchange {
        key: format!("oversized:{path}"),
        request: kept,
        result,
    });
}

/// CSR001: the same POST from the site itself and from a foreign site, both
/// carrying the session cookie. A protected app rejects only the second.
async fn cross_site(client: &Client, obs: &mut Observations, login: Option<String>) {
    let Some(path) = login else { return };
    let cookie = session_cookie(obs);
    let origin = obs.target.endpoint.origin();
    let (body, ct) = login_body(0, false);
    let mut same = post(obs, &path, body.clone(), ct)
        .header("origin", &origin)
        .header("sec-fetch-site", "same-origin");
    let mut cross = post(obs, &path, body, ct)
        .header("origin", EVIL_ORIGIN)
        .header("referer", &format!("{EVIL_ORIGIN}/"))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "cors");
    if let Some(c) = &cookie {
        same = same.header("cookie", c);
        cross = cross.header("cookie", c);
    }
    let probes = vec![
        Probe {
            key: format!("csrf-same:{path}"),
            request: same,
        },
        Probe {
            key: format!("csrf-cross:{path}"),
            request: cross,
        },
    ];
    obs.exchanges.extend(run(client, probes).await);
}

/// INJ005: every redirect parameter pointing off-site, on paths that redirect or
/// commonly take a destination (login, logout).
async fn redirects(client: &Client, obs: &mut Observations, logins: &[String]) {
    let mut paths: Vec<String> = obs.discovery.redirectors.iter().cloned().collect();
    for login in logins {
        paths.push(login.clone());
        paths.extend(crate::discover::siblings(login).into_iter().take(1));
    }
    paths.push(obs.target.path.clone());
    paths.sort();
    paths.dedup();
    paths.truncate(6);
    let target = format!("{EVIL_ORIGIN}/flaskguard");
    let query: Vec<String> = REDIRECT_PARAMS
        .iter()
        .map(|p| format!("{p}={}", target.replace(':', "%3A").replace('/', "%2F")))
        .collect();
    let probes = paths
        .iter()
        .map(|p| {
            let base = crate::discover::strip_query(p);
            Probe {
                key: format!("redirect:{base}"),
                request: HttpRequest::new(
                    &obs.target.endpoint,
                    "GET",
                    &format!("{base}?{}", query.join("&")),
                ),
            }
        })
        .collect();
    obs.exchanges.extend(run(client, probes).await);
}

/// PRX001: a spoofed client address in every forwarding header; an app that
/// trusts them echoes it (who-am-i endpoints, logs, rate-limit keys).
async fn spoofing(client: &Client, obs: &mut Observations) {
    let mut paths: Vec<String> = obs
        .discovery
        .json_endpoints
        .iter()
        .take(6)
        .cloned()
        .collect();
    paths.push(obs.target.path.clone());
    paths.dedup();
    let probes = paths
        .iter()
        .map(|p| Probe {
            key: format!("spoof:{p}"),
            request: HttpRequest::new(&obs.target.endpoint, "GET", p)
                .header("accept", "application/json")
                .header("x-forwarded-for", SPOOFED_IP)
                .header("x-real-ip", SPOOFED_IP)
                .header("forwarded", &format!("for={SPOOFED_IP}")),
        })
        .collect();
    obs.exchanges.extend(run(client, probes).await);
}

/// An unsigned (`alg: none`) JWT with admin-looking claims.
pub fn none_token() -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":1,"role":"admin","exp":4102444800}"#);
    format!("{header}.{payload}.")
}

/// A JWT signed with a key the server cannot know (HS256, random signature bytes).
pub fn foreign_token() -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":1,"role":"admin","exp":4102444800}"#);
    let sig: Vec<u8> = (0..32).map(|_| fastrand::u8(..)).collect();
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// AUTH002: forged tokens on endpoints that answered 401 without one.
async fn forged_tokens(client: &Client, obs: &mut Observations) {
    let paths: Vec<String> = obs
        .discovery
        .auth_required
        .iter()
        .take(3)
        .cloned()
        .collect();
    let mut probes = Vec::new();
    for p in &paths {
        for (kind, token) in [("none", none_token()), ("foreign", foreign_token())] {
            probes.push(Probe {
                key: format!("jwt-{kind}:{p}"),
                request: HttpRequest::new(&obs.target.endpoint, "GET", p)
                    .header("accept", "application/json")
                    .header("authorization", &format!("Bearer {token}")),
            });
        }
    }
    obs.exchanges.extend(run(client, probes).await);
}
