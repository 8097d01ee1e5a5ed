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

/// The `Cookie` header a browser would send back after the scan's pages: one
/// value per cookie name, the last one set.
pub fn session_cookie(obs: &Observations) -> Option<String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (_, resp) in obs.answered() {
        cookie_pairs(resp, &mut pairs);
    }
    cookie_header(&pairs)
}

fn cookie_pairs(resp: &crate::client::HttpResponse, pairs: &mut Vec<(String, String)>) {
    for sc in resp.headers_all("set-cookie") {
        let Some((name, value)) = sc.split(';').next().and_then(|p| p.split_once('=')) else {
            continue;
        };
        let name = name.trim().to_string();
        pairs.retain(|(n, _)| *n != name);
        pairs.push((name, value.trim().to_string()));
    }
}

fn cookie_header(pairs: &[(String, String)]) -> Option<String> {
    let list: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
    (!list.is_empty()).then(|| list.join("; "))
}

/// The anti-CSRF token of an HTML form: the name and value of a hidden input
/// named like one (`csrf_token` of Flask-WTF, `csrfmiddlewaretoken`,
/// `authenticity_token`, `_token`).
pub fn form_token(html: &str) -> Option<(String, String)> {
    for tag in crate::observations::tags(html, "<input") {
        let Some(name) = attribute(tag, "name") else {
            continue;
        };
        let n = name.to_ascii_lowercase();
        if n.contains("csrf") || n == "authenticity_token" || n == "_token" {
            return Some((name, attribute(tag, "value").unwrap_or_default()));
        }
    }
    None
}

/// An attribute's value in one tag (quoted or not); names match case-insensitively.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(name) {
        let start = from + at;
        from = start + name.len();
        let before_ok = start > 0 && lower.as_bytes()[start - 1].is_ascii_whitespace();
        let rest = tag[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value = rest[1..].trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_string(),
            _ => value
                .split(|c: char| c.is_ascii_whitespace() || c == '/')
                .next()
                .unwrap_or("")
                .to_string(),
        });
    }
    None
}

/// What a browser that opened the login page sends with its form: the page's
/// anti-CSRF token and the cookies it set (the token is tied to them). From the
/// page discovery already fetched, or fetched now.
async fn login_form(client: &Client, obs: &Observations, path: &str) -> Option<(String, String)> {
    let fetched;
    let page = match obs.response(&format!("disc:{path}")) {
        Some(r) => r,
        None => {
            let req =
                HttpRequest::new(&obs.target.endpoint, "GET", path).header("accept", "text/html");
            fetched = client.fetch(&req).await.ok()?;
            &fetched
        }
    };
    if !page.is_html() {
        return None;
    }
    let (name, value) = form_token(&page.text())?;
    let mut pairs = Vec::new();
    cookie_pairs(page, &mut pairs);
    let field = format!("&{}={}", form_encode(&name), form_encode(&value));
    Some((field, cookie_header(&pairs).unwrap_or_default()))
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
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

/// Failed login attempt `i`, with the login form's token and cookies if it has one.
fn login_request(
    obs: &Observations,
    path: &str,
    i: usize,
    form: bool,
    token: Option<&(String, String)>,
) -> HttpRequest {
    let (mut body, ct) = login_body(i, form);
    let mut cookie = None;
    if let Some((field, c)) = token {
        body.push_str(field);
        cookie = Some(c).filter(|c| !c.is_empty());
    }
    let req = post(obs, path, body, ct);
    match cookie {
        Some(c) => req.header("cookie", c),
        None => req,
    }
}

/// RL003: failed logins one after another until a 429 or [`BURST`] attempts.
async fn login_burst(client: &Client, obs: &mut Observations, path: &str) {
    let mut form = false;
    // A form login behind an anti-CSRF token: the token and cookies of its page.
    let mut token: Option<(String, String)> = None;
    let mut limited_at = None;
    let mut statuses = Vec::new();
    for i in 0..BURST {
        let req = login_request(obs, path, i, form, token.as_ref());
        let result = client.fetch(&req).await;
        let status = result.as_ref().map(|r| r.status).unwrap_or(0);
        if i == 0 && matches!(status, 400 | 415 | 422) {
            // The endpoint wants a form, not JSON (FastAPI answers 422 when its
            // form fields are missing): start over with a form body, carrying the
            // token its page hands every visitor.
            form = true;
            token = login_form(client, obs, path).await;
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
        let req = login_request(obs, path, BURST, form, token.as_ref())
            .header("x-forwarded-for", SPOOFED_IP);
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

/// Whether a foreign page may send a credentialed JSON request: the preflight
/// for the hostile origin was granted with credentials, so the browser follows
/// it with the real request.
fn preflight_grants_credentials(obs: &Observations) -> bool {
    obs.with_prefix("cors-preflight:").any(|e| {
        e.response().is_some_and(|r| {
            r.header("access-control-allow-origin")
                .is_some_and(|a| a.trim() == EVIL_ORIGIN)
                && r.header("access-control-allow-credentials")
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("true"))
        })
    })
}

/// CSR001: the same POST from the site itself and from a foreign site, both
/// carrying the cookies the site set. The cross-site one is what a browser
/// would send for an attacker's page: without a preflight only a "simple"
/// content type, so the JSON body goes as `text/plain` (a form can post that),
/// unless the site's CORS grants the foreign origin credentialed preflights. A
/// protected app rejects only the second. Without any cookie there is nothing
/// for a forged request to ride on, and nothing is sent.
async fn cross_site(client: &Client, obs: &mut Observations, login: Option<String>) {
    let Some(path) = login else { return };
    // The cookies the site set, and the client adds any given with `--cookie`.
    let cookie = session_cookie(obs);
    if cookie.is_none() && obs.given_cookies.is_empty() {
        return;
    }
    let with_cookie = |req: HttpRequest| match &cookie {
        Some(c) => req.header("cookie", c),
        None => req,
    };
    let origin = obs.target.endpoint.origin();
    let (body, ct) = login_body(0, false);
    let cross_ct = if preflight_grants_credentials(obs) {
        ct
    } else {
        "text/plain"
    };
    let same = with_cookie(
        post(obs, &path, body.clone(), ct)
            .header("origin", &origin)
            .header("sec-fetch-site", "same-origin"),
    );
    let cross = with_cookie(
        post(obs, &path, body, cross_ct)
            .header("origin", EVIL_ORIGIN)
            .header("referer", &format!("{EVIL_ORIGIN}/"))
            .header("sec-fetch-site", "cross-site")
            .header("sec-fetch-mode", "cors"),
    );
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

/// AUTH002: forged tokens on endpoints that answered 401 without one. Every
/// request here is anonymous (no `--header`/`--cookie`): a forged token riding
/// on the user's real session would prove nothing. A scan with credentials
/// sees its JSON endpoints answer 200, so it first asks up to three of them
/// anonymously to learn which refuse strangers.
async fn forged_tokens(client: &Client, obs: &mut Observations) {
    let mut paths: Vec<String> = obs
        .discovery
        .auth_required
        .iter()
        .take(3)
        .cloned()
        .collect();
    if client.authenticated() && paths.len() < 3 {
        let candidates: Vec<String> = obs
            .discovery
            .api_endpoints(3)
            .into_iter()
            .filter(|p| !paths.contains(p))
            .collect();
        let probes: Vec<Probe> = candidates
            .iter()
            .map(|p| Probe {
                key: format!("anon:{p}"),
                request: HttpRequest::new(&obs.target.endpoint, "GET", p)
                    .header("accept", "application/json")
                    .anonymous(),
            })
            .collect();
        let answers = run(client, probes).await;
        for e in &answers {
            if e.response().is_some_and(|r| r.status == 401) && paths.len() < 3 {
                paths.push(e.key["anon:".len()..].to_string());
            }
        }
        obs.exchanges.extend(answers);
    }
    let mut probes = Vec::new();
    for p in &paths {
        for (kind, token) in [("none", none_token()), ("foreign", foreign_token())] {
            probes.push(Probe {
                key: format!("jwt-{kind}:{p}"),
                request: HttpRequest::new(&obs.target.endpoint, "GET", p)
                    .header("accept", "application/json")
                    .header("authorization", &format!("Bearer {token}"))
                    .anonymous(),
            });
        }
    }
    obs.exchanges.extend(run(client, probes).await);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_form_tokens() {
        let wtf = r#"<form method="post"><input id="csrf_token" name="csrf_token" type="hidden" value="ImFi.Yz-_"><input name="username"></form>"#;
        assert_eq!(
            form_token(wtf),
            Some(("csrf_token".to_string(), "ImFi.Yz-_".to_string()))
        );
        let django = "<INPUT type=hidden NAME='csrfmiddlewaretoken' VALUE='abc'>";
        assert_eq!(
            form_token(django),
            Some(("csrfmiddlewaretoken".to_string(), "abc".to_string()))
        );
        let rails = r#"<input type="hidden" name="authenticity_token" value=x1>"#;
        assert_eq!(form_token(rails).unwrap().1, "x1");
        assert_eq!(form_token(r#"<input name="username" value="csrf">"#), None);
        assert_eq!(form_token("<input"), None);
        assert_eq!(form_encode("a b/+="), "a%20b%2F%2B%3D");
    }

    #[test]
    fn cookies_are_one_value_per_name() {
        let mut pairs = Vec::new();
        let resp = |v: &str| crate::client::HttpResponse {
            status: 200,
            headers: vec![("set-cookie".into(), v.into())],
            ..Default::default()
        };
        cookie_pairs(&resp("session=a; Path=/"), &mut pairs);
        cookie_pairs(&resp("theme=dark"), &mut pairs);
        cookie_pairs(&resp("session=b; HttpOnly"), &mut pairs);
        assert_eq!(cookie_header(&pairs).unwrap(), "theme=dark; session=b");
    }
}
