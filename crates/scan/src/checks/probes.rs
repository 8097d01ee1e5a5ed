//! Verdicts on the intrusive probes of [`crate::active`] (only with `--active`):
//! RL003 login bursts, INP003 oversized bodies, CSR001 cross-site POSTs, INJ005
//! open redirects, PRX001 spoofed forwarding headers, INP001 malformed JSON and
//! AUTH002 forged tokens.

use super::{check, outcomes, CheckDef, Verdicts};
use crate::{
    active::{BURST, SPOOFED_IP},
    observations::{around, excerpt, Observations},
    plan::EVIL_HOST,
};

outcomes! {
    pub enum LoginLimit for "RL003" {
        Unlimited = "login-not-rate-limited" [High, -20, Flaskguard]
            "Failed logins in a burst were never answered 429: passwords can be guessed at full speed",
            "Limit the login route per IP and per account (flask-limiter: @limiter.limit(\"5 per minute\") with Redis storage).";
        Spoofable = "login-rate-limit-bypassed-by-forwarded-for" [High, -20, Flaskguard]
            "The login limit resets when the client sends a different X-Forwarded-For: its key is a header any client controls",
            "Key the limit on the address ProxyFix resolves from your own proxy's header, not the raw header.";
        Limited = "login-rate-limited" [Pass, 0, Flaskguard]
            "The login burst was answered 429",
            "";
        NoLogin = "login-endpoint-not-found" [Pass, 0, Flaskguard]
            "No login endpoint was found to test (name one with --login-path)",
            "";
    }
}

outcomes! {
    pub enum BodySize for "INP003" {
        Accepted = "oversized-body-accepted" [Medium, -10, Flaskguard]
            "A 20 MiB request body was read and answered instead of refused with 413",
            "Set MAX_CONTENT_LENGTH (and client_max_body_size at the proxy).";
        Refused = "oversized-body-refused" [Pass, 0, Flaskguard]
            "The oversized body was refused",
            "";
    }
}

outcomes! {
    pub enum CrossSite for "CSR001" {
        Accepted = "cross-site-post-accepted" [High, -20, Flaskguard]
            "A POST a foreign page can send (foreign Origin, `Sec-Fetch-Site: cross-site`, the site's cookies; the JSON body as text/plain, or as JSON where the CORS preflight grants it) was handled like a same-site one",
            "Reject cross-site unsafe requests: Flask-WTF CSRFProtect, or check Origin / Sec-Fetch-Site on POST/PUT/PATCH/DELETE.";
        Rejected = "cross-site-post-rejected" [Pass, 0, Flaskguard]
            "Cross-site POSTs are rejected",
            "";
        NoCookies = "cross-site-post-not-tested-no-cookies" [Pass, 0, Flaskguard]
            "No cookie was set during the scan, so a forged cross-site request had nothing to ride on; not tested (a site that sets its session cookie only after login is not covered)",
            "";
    }
}

outcomes! {
    pub enum OpenRedirect for "INJ005" {
        OffSite = "open-redirect" [Medium, -10, Flaskguard]
            "A redirect parameter sends visitors to any site",
            "Redirect only to relative paths or an allow-list of hosts (check urlsplit(target).netloc).";
        Safe = "no-open-redirect" [Pass, 0, Flaskguard]
            "Redirect parameters do not lead off-site",
            "";
    }
}

outcomes! {
    pub enum Spoofing for "PRX001" {
        Trusted = "spoofed-forwarded-for-trusted" [High, -20, Flaskguard]
            "A client-sent X-Forwarded-For is taken as the client's address",
            "Use ProxyFix(x_for=N) with N = the number of proxies you run, and never read X-Forwarded-For directly.";
        Ignored = "spoofed-forwarded-for-ignored" [Pass, 0, Flaskguard]
            "A spoofed X-Forwarded-For is not echoed as the client",
            "";
    }
}

outcomes! {
    pub enum BadJson for "INP001" {
        Html = "malformed-json-html-error" [Low, -5, Flaskguard]
            "Malformed JSON is answered with an HTML error page",
            "Use request.get_json(silent=True) and answer 400 in JSON, or register a JSON handler for 400.";
        ServerError = "malformed-json-server-error" [Low, -5, Flaskguard]
            "Malformed JSON makes the server fail with a 5xx",
            "Validate input: get_json(silent=True) and a JSON 400.";
        Json = "malformed-json-json-error" [Pass, 0, Flaskguard]
            "Malformed JSON gets a non-HTML client error",
            "";
    }
}

outcomes! {
    pub enum Jwt for "AUTH002" {
        NoneAccepted = "jwt-alg-none-accepted" [High, -40, Flaskguard]
            "An unsigned JWT (`alg: none`) was accepted by an endpoint that refuses requests without a token",
            "Decode with jwt.decode(token, key, algorithms=[\"HS256\"]); never disable signature verification.";
        ForgedAccepted = "jwt-signature-not-verified" [High, -40, Flaskguard]
            "A JWT signed with a key the server cannot know was accepted: signatures are not verified",
            "Verify signatures: jwt.decode(token, key, algorithms=[...]) without verify_signature=False.";
        Refused = "jwt-forgeries-refused" [Pass, 0, Flaskguard]
            "Forged tokens were refused",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!("login-rate-limit", "RL003", LoginLimit, login_limit, active),
    check!("oversized-body", "INP003", BodySize, body_size, active),
    check!("cross-site-post", "CSR001", CrossSite, cross_site, active),
    check!(
        "open-redirect",
        "INJ005",
        OpenRedirect,
        open_redirect,
        active
    ),
    check!(
        "spoofed-forwarded-for",
        "PRX001",
        Spoofing,
        spoofing,
        active
    ),
    check!("malformed-json", "INP001", BadJson, bad_json),
    check!("jwt-forgery", "AUTH002", Jwt, jwt, active),
];

fn login_limit(obs: &Observations, v: &mut Verdicts) {
    if obs.discovery.login_paths.is_empty() {
        v.add(LoginLimit::NoLogin, obs.target.url.clone());
        return;
    }
    for path in &obs.discovery.login_paths {
        let Some(fact) = obs.fact(&format!("burst:{path}")) else {
            continue;
        };
        let url = obs.target.url_for(path);
        let statuses: Vec<u16> = obs
            .with_prefix(&format!("burst:{path}:"))
            .filter_map(|e| e.response().map(|r| r.status))
            .collect();
        // A burst that stopped at 404/405 tested nothing, and neither did one
        // refused by a CSRF check before any password was compared.
        if statuses.len() < BURST && !fact.starts_with("limited") {
            continue;
        }
        // Nor did one where no answer shows a password being compared: a CSRF
        // refusal, a validation error (422), a login that is not set up (`400 No
        // auth_callback defined`), a server error.
        let compared = obs
            .with_prefix(&format!("burst:{path}:"))
            .filter_map(|e| e.response())
            .any(|r| login_was_tried(r.status, &r.text()));
        if !compared && !fact.starts_with("limited") {
            continue;
        }
        if fact.starts_with("limited") {
            let bypassed = obs
                .response(&format!("burst-spoofed:{path}"))
                .is_some_and(|r| r.status != 429 && r.status < 500);
            if bypassed {
                v.add(LoginLimit::Spoofable, url).evidence(format!(
                    "{fact}; with X-Forwarded-For: {SPOOFED_IP} the next attempt was not limited"
                ));
            } else {
                v.add(LoginLimit::Limited, url).evidence(fact.to_string());
            }
        } else {
            v.add(LoginLimit::Unlimited, url).evidence(format!(
                "{BURST} failed POSTs, statuses: {}",
                summarise(&statuses)
            ));
        }
    }
}

/// Whether a login answer shows that the credentials were checked and refused:
/// 401/403 (not a CSRF refusal), a page or redirect back to the form (200, 30x),
/// or a 400 that speaks of the credentials. A 400 about something else, 404/405,
/// 415, 422 and 5xx tested nothing.
fn login_was_tried(status: u16, body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    let csrf = lower.contains("csrf");
    match status {
        401 | 403 => !csrf,
        200..=299 | 301..=303 | 307 | 308 => !csrf,
        400 => {
            !csrf
                && [
                    "invalid",
                    "incorrect",
                    "wrong",
                    "credential",
                    "password",
                    "unauthori",
                    "denied",
                    "failed",
                    "not match",
                    "mismatch",
                    "unknown user",
                    "no such user",
                    "not found",
                ]
                .iter()
                .any(|w| lower.contains(w))
        }
        _ => false,
    }
}

fn summarise(statuses: &[u16]) -> String {
    let mut counts: Vec<(u16, usize)> = Vec::new();
    for s in statuses {
        match counts.iter_mut().find(|(k, _)| k == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((*s, 1)),
        }
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n}× {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn body_size(obs: &Observations, v: &mut Verdicts) {
    for e in obs.with_prefix("oversized:") {
        match &e.result {
            Ok(r) if matches!(r.status, 413 | 431) => {
                v.add(BodySize::Refused, e.url());
            }
            Ok(r) if matches!(r.status, 404 | 405 | 429) => {}
            Ok(r) => {
                v.add(BodySize::Accepted, e.url()).evidence(format!(
                    "POST with a {} MiB body → HTTP {}",
                    crate::active::OVERSIZED >> 20,
                    r.status
                ));
            }
            // A connection closed mid-upload is a refusal.
            Err(_) => {
                v.add(BodySize::Refused, e.url());
            }
        }
    }
}

fn rejected_for_csrf(status: u16, body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    matches!(status, 400 | 403 | 419)
        && ["csrf", "cross-site", "cross-origin", "origin", "forbidden"]
            .iter()
            .any(|k| lower.contains(k))
}

fn cross_site(obs: &Observations, v: &mut Verdicts) {
    if crate::active::session_cookie(obs).is_none() && obs.given_cookies.is_empty() {
        if let Some(login) = obs.discovery.login_paths.iter().next() {
            v.add(CrossSite::NoCookies, obs.target.url_for(login));
        }
        return;
    }
    for cross in obs.with_prefix("csrf-cross:") {
        let path = &cross.key["csrf-cross:".len()..];
        let (Some(c), Some(s)) = (cross.response(), obs.response(&format!("csrf-same:{path}")))
        else {
            continue;
        };
        if matches!(c.status, 404 | 405 | 429) {
            continue;
        }
        let blocked = (c.status != s.status && (400..500).contains(&c.status))
            || rejected_for_csrf(c.status, &c.text());
        if blocked {
            v.add(CrossSite::Rejected, cross.url());
        } else {
            let ct = |e: &crate::observations::Exchange| {
                e.request
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let same = obs
                .get(&format!("csrf-same:{path}"))
                .map(ct)
                .unwrap_or_default();
            v.add(CrossSite::Accepted, cross.url()).evidence(format!(
                "same-site POST ({same}) → HTTP {}; cross-site POST ({}, Origin: https://{EVIL_HOST}, Sec-Fetch-Site: cross-site, with the site's cookies) → HTTP {}: {}",
                s.status,
                ct(cross),
                c.status,
                excerpt(&c.text(), 100)
            ));
        }
    }
}

fn open_redirect(obs: &Observations, v: &mut Verdicts) {
    let mut url = None;
    for e in obs.with_prefix("redirect:") {
        url.get_or_insert_with(|| e.url());
        let Some(r) = e.response() else { continue };
        let Some(loc) = r.header("location").filter(|_| r.is_redirect()) else {
            continue;
        };
        let host = crate::engine::resolve(&e.request.endpoint, &e.request.path, loc)
            .map(|(ep, _)| ep.host);
        if host.as_deref() == Some(EVIL_HOST) {
            v.add(OpenRedirect::OffSite, e.url()).evidence(format!(
                "HTTP {} Location: {}",
                r.status,
                excerpt(loc, 200)
            ));
            return;
        }
    }
    if let Some(url) = url {
        v.add(OpenRedirect::Safe, url);
    }
}

fn spoofing(obs: &Observations, v: &mut Verdicts) {
    let mut url = None;
    for e in obs.with_prefix("spoof:") {
        url.get_or_insert_with(|| e.url());
        let Some(r) = e.response() else { continue };
        let body = r.text();
        if let Some(ev) = around(&body, SPOOFED_IP, 50) {
            v.add(Spoofing::Trusted, e.url())
                .evidence(format!("X-Forwarded-For: {SPOOFED_IP} → body: {ev}"));
            return;
        }
    }
    if let Some(url) = url {
        v.add(Spoofing::Ignored, url);
    }
}

fn bad_json(obs: &Observations, v: &mut Verdicts) {
    // An HTML site's form endpoints answer in HTML by design; INP001 is about
    // JSON APIs.
    if !obs.is_json_api() {
        return;
    }
    for e in obs.with_prefix("badjson:") {
        let Some(r) = e.response() else { continue };
        // Not an answer to the body: no such route or method, a rate limit, a
        // redirect (to HTTPS, to a login page), or a CSRF check that refused the
        // request before anything read the JSON.
        let csrf =
            matches!(r.status, 400 | 403 | 419) && r.text().to_ascii_lowercase().contains("csrf");
        if matches!(r.status, 404 | 405 | 429) || r.is_redirect() || csrf {
            continue;
        }
        let ev = format!(
            "HTTP {} {}: {}",
            r.status,
            r.media_type(),
            excerpt(&r.text(), 100)
        );
        if r.status >= 500 {
            v.add(BadJson::ServerError, e.url()).evidence(ev);
        } else if r.is_html() {
            v.add(BadJson::Html, e.url()).evidence(ev);
        } else {
            v.add(BadJson::Json, e.url());
        }
    }
}

fn jwt(obs: &Observations, v: &mut Verdicts) {
    let mut url = None;
    for e in obs.with_prefix("jwt-") {
        url.get_or_insert_with(|| e.url());
        let Some(r) = e.response() else { continue };
        if !(200..300).contains(&r.status) {
            continue;
        }
        let outcome = if e.key.starts_with("jwt-none:") {
            Jwt::NoneAccepted
        } else {
            Jwt::ForgedAccepted
        };
        v.add(outcome, e.url()).evidence(format!(
            "without a token → 401; forged token → HTTP {}: {}",
            r.status,
            excerpt(&r.text(), 100)
        ));
        return;
    }
    if let Some(url) = url {
        v.add(Jwt::Refused, url);
    }
}
