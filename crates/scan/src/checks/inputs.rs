//! INP007 and PRX002 from passive probes: TRACE/TRACK and made-up methods, and a
//! forged `Host` / `X-Forwarded-Host` finding its way into links or redirects.

use super::{check, outcomes, CheckDef, Verdicts};
use crate::{
    observations::{around, excerpt, Exchange, Observations},
    plan::EVIL_HOST,
};

outcomes! {
    pub enum Trace for "INP007" {
        Enabled = "trace-method-enabled" [Low, -5, Flaskguard]
            "TRACE or TRACK is answered with 2xx",
            "Allow only the methods the API uses (at the proxy, or a method allow-list); answer others with 405.";
        Refused = "trace-method-refused" [Pass, 0, Flaskguard]
            "TRACE and TRACK are refused",
            "";
    }
}

outcomes! {
    pub enum Unknown for "INP007" {
        Accepted = "unknown-method-accepted" [Low, -5, Flaskguard]
            "A made-up HTTP method is answered with 2xx, so method-based controls can be sidestepped",
            "Answer methods a route does not declare with 405.";
        Refused = "unknown-method-refused" [Pass, 0, Flaskguard]
            "Made-up methods are refused",
            "";
    }
}

outcomes! {
    pub enum HostReflection for "PRX002" {
        Reflected = "host-header-reflected" [Medium, -10, Flaskguard]
            "A forged Host header is accepted and written into the response (links, redirects): cache poisoning and password-reset link hijacking",
            "Restrict hosts: set SERVER_NAME, or TRUSTED_HOSTS (Flask 3.1), or reject unknown hosts at the proxy; build external URLs from configuration.";
        Refused = "host-header-not-reflected" [Pass, 0, Flaskguard]
            "A forged Host header is not reflected",
            "";
    }
}

outcomes! {
    pub enum ForwardedHost for "PRX002" {
        Reflected = "forwarded-host-reflected" [Medium, -10, Flaskguard]
            "A client-sent X-Forwarded-Host is trusted and written into the response",
            "Trust X-Forwarded-Host only from your proxy (ProxyFix(x_host=1) with the proxy overwriting the header), or not at all.";
        Refused = "forwarded-host-not-reflected" [Pass, 0, Flaskguard]
            "A client-sent X-Forwarded-Host is not reflected",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!("trace-method", "INP007", Trace, trace),
    check!("unknown-method", "INP007", Unknown, unknown),
    check!("host-header-reflection", "PRX002", HostReflection, host),
    check!(
        "forwarded-host-reflection",
        "PRX002",
        ForwardedHost,
        forwarded_host
    ),
];

fn trace(obs: &Observations, v: &mut Verdicts) {
    let mut url = None;
    for key in ["method:TRACE", "method:TRACK"] {
        let Some(e) = obs.get(key) else { continue };
        url.get_or_insert_with(|| e.url());
        let Some(resp) = e.response() else { continue };
        if (200..300).contains(&resp.status) {
            let echoed = resp
                .text()
                .contains(&format!("{} / HTTP", e.request.method));
            v.add(Trace::Enabled, e.url()).evidence(format!(
                "{} / → HTTP {}{}",
                e.request.method,
                resp.status,
                if echoed { " (request echoed back)" } else { "" }
            ));
            return;
        }
    }
    if let Some(url) = url {
        v.add(Trace::Refused, url);
    }
}

fn unknown(obs: &Observations, v: &mut Verdicts) {
    let Some(e) = obs.get("method:FLASKGUARD") else {
        return;
    };
    let Some(resp) = e.response() else { return };
    if (200..300).contains(&resp.status) {
        v.add(Unknown::Accepted, e.url()).evidence(format!(
            "FLASKGUARD {} → HTTP {}",
            e.request.path, resp.status
        ));
    } else {
        v.add(Unknown::Refused, e.url());
    }
}

/// A redirect to the very URL that was asked for, over HTTPS, on the host the
/// client named in `Host` (`return 301 https://$host$request_uri`, an app's own
/// HTTPS redirect). Only the client that forged the Host follows it, and caches
/// key on Host, so it steers nobody else. (From X-Forwarded-Host, a header
/// caches do not key on, the same redirect poisons them and stays a finding.)
fn is_https_redirect_to_itself(e: &Exchange, location: &str) -> bool {
    e.key.starts_with("host:")
        && crate::engine::resolve(&e.request.endpoint, &e.request.path, location).is_some_and(
            |(ep, path)| {
                ep.https && ep.host.eq_ignore_ascii_case(EVIL_HOST) && path == e.request.path
            },
        )
}

/// Where a forged host shows up in an answer: the Location header or the body.
fn reflection(e: &Exchange) -> Option<String> {
    let resp = e.response()?;
    if !(200..400).contains(&resp.status) {
        return None;
    }
    if let Some(l) = resp.header("location").filter(|l| l.contains(EVIL_HOST)) {
        if resp.is_redirect() && is_https_redirect_to_itself(e, l) {
            return None;
        }
        return Some(format!(
            "HTTP {} Location: {}",
            resp.status,
            excerpt(l, 200)
        ));
    }
    // In a URL (a link, a form action, a script source), not just echoed text.
    let body = resp.text();
    let needle = format!("//{EVIL_HOST}");
    around(&body, &needle, 60).map(|a| format!("HTTP {} body: {a}", resp.status))
}

fn host(obs: &Observations, v: &mut Verdicts) {
    let mut url = None;
    // API endpoints first: their absolute links are the usual victim.
    let mut probes: Vec<&Exchange> = obs.with_prefix("host:").collect();
    probes.sort_by_key(|e| e.key == "host:main");
    for e in probes {
        url.get_or_insert_with(|| e.url());
        if let Some(ev) = reflection(e) {
            v.add(HostReflection::Reflected, e.url())
                .evidence(format!("Host: {EVIL_HOST} → {ev}"));
            return;
        }
    }
    if let Some(url) = url {
        v.add(HostReflection::Refused, url);
    }
}

fn forwarded_host(obs: &Observations, v: &mut Verdicts) {
    let Some(e) = obs.get("xfh:main") else { return };
    match reflection(e) {
        Some(ev) => {
            v.add(ForwardedHost::Reflected, e.url())
                .evidence(format!("X-Forwarded-Host: {EVIL_HOST} → {ev}"));
        }
        None => {
            v.add(ForwardedHost::Refused, e.url());
        }
    }
}
