//! COR001–COR003: how the API answers hostile origins: a foreign site, `null`
//! (sandboxed iframes, `file:` pages), and look-alike origins that slip past
//! patterns anchored at one end only, with and without credentials, and a
//! preflight asking for a dangerous method and arbitrary headers.

use super::{check, outcomes, CheckDef, Verdicts};
use crate::{
    client::HttpResponse,
    observations::{Exchange, Observations},
};

outcomes! {
    pub enum Wildcard for "COR001" {
        Public = "cross-origin-resource-sharing-implemented-with-public-access" [Medium, 0, Observatory]
            "The API answers `Access-Control-Allow-Origin: *`: any site can read its responses",
            "List the front-end origins that may call the API (flask-cors origins=[...]) instead of *.";
        AnyOriginReflected = "cors-any-origin-reflected" [Medium, -10, Flaskguard]
            "The API reflects any Origin in Access-Control-Allow-Origin (without credentials): any site can read its public responses",
            "Allow an explicit list of origins.";
        Restricted = "cross-origin-resource-sharing-implemented-with-restricted-access" [Pass, 0, Observatory]
            "CORS is restricted to specific origins",
            "";
        NotImplemented = "cross-origin-resource-sharing-not-implemented" [Pass, 0, Observatory]
            "No CORS headers for foreign origins",
            "";
    }
}

outcomes! {
    pub enum Credentialed for "COR002" {
        Universal = "cross-origin-resource-sharing-implemented-with-universal-access" [Critical, -50, Observatory]
            "A foreign Origin is reflected with `Access-Control-Allow-Credentials: true`: any site can read users' data with their cookies",
            "Never combine credentials with a reflected or wildcard origin; allow named origins only (flask-cors: origins=[...] with supports_credentials=True).";
        Safe = "cors-credentials-not-reflected" [Pass, 0, Flaskguard]
            "Foreign origins are not granted credentialed access",
            "";
    }
}

outcomes! {
    pub enum NullOrigin for "COR002" {
        WithCredentials = "cors-null-origin-with-credentials" [Critical, -50, Flaskguard]
            "`Origin: null` is allowed with credentials: a sandboxed iframe on any site can read users' data",
            "Never allow the `null` origin.";
        Allowed = "cors-null-origin-allowed" [Medium, -10, Flaskguard]
            "`Origin: null` is allowed (without credentials)",
            "Never allow the `null` origin.";
        Refused = "cors-null-origin-refused" [Pass, 0, Flaskguard]
            "`Origin: null` is not allowed",
            "";
    }
}

outcomes! {
    pub enum Suffix for "COR003" {
        Accepted = "cors-suffix-bypass" [Medium, -10, Flaskguard]
            "An attacker domain that starts with the site's host (`https://HOST.evil.example`) is allowed: the origin pattern is not anchored at the end",
            "Match origins exactly (a list), or anchor regexes at both ends (`^https://app\\.example\\.com$`).";
        Refused = "cors-suffix-origin-refused" [Pass, 0, Flaskguard]
            "Look-alike origins with an attacker suffix are refused",
            "";
    }
}

outcomes! {
    pub enum Prefix for "COR003" {
        Accepted = "cors-prefix-bypass" [Medium, -10, Flaskguard]
            "An attacker domain that ends with the site's host (`https://evilHOST`) is allowed: the origin pattern is not anchored at the start",
            "Match origins exactly, or anchor regexes at both ends.";
        Refused = "cors-prefix-origin-refused" [Pass, 0, Flaskguard]
            "Look-alike origins with an attacker prefix are refused",
            "";
    }
}

outcomes! {
    pub enum Preflight for "COR003" {
        Permissive = "cors-preflight-permissive" [Medium, -10, Flaskguard]
            "A preflight from a foreign origin is granted DELETE with arbitrary request headers",
            "Limit allowed origins, methods and headers per route (flask-cors methods=[...], allow_headers=[...]).";
        Restricted = "cors-preflight-restricted" [Pass, 0, Flaskguard]
            "Preflights from foreign origins are not granted",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!(
        "cors-wildcard-origin",
        "COR001",
        Wildcard,
        wildcard,
        observatory = "cross-origin-resource-sharing"
    ),
    check!(
        "cors-credentialed-reflection",
        "COR002",
        Credentialed,
        credentialed,
        observatory = "cross-origin-resource-sharing"
    ),
    check!("cors-null-origin", "COR002", NullOrigin, null_origin),
    check!("cors-suffix-bypass", "COR003", Suffix, suffix),
    check!("cors-prefix-bypass", "COR003", Prefix, prefix),
    check!("cors-preflight", "COR003", Preflight, preflight),
];

fn origin_of(e: &Exchange) -> &str {
    e.request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("origin"))
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn allows(resp: &HttpResponse, origin: &str) -> bool {
    resp.header("access-control-allow-origin")
        .is_some_and(|a| a.trim() == origin)
}

fn credentials(resp: &HttpResponse) -> bool {
    resp.header("access-control-allow-credentials")
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("true"))
}

fn evidence(e: &Exchange, resp: &HttpResponse) -> String {
    let mut s = format!(
        "Origin: {} → Access-Control-Allow-Origin: {}",
        origin_of(e),
        resp.header("access-control-allow-origin")
            .unwrap_or("(none)")
    );
    if let Some(c) = resp.header("access-control-allow-credentials") {
        s.push_str(&format!(", Access-Control-Allow-Credentials: {c}"));
    }
    s
}

/// The first probe of `kind` whose answer allows its origin.
fn allowed<'a>(obs: &'a Observations, kind: &str) -> Option<(&'a Exchange, &'a HttpResponse)> {
    let prefix = format!("{kind}:");
    obs.exchanges
        .iter()
        .filter(|e| e.key.starts_with(&prefix))
        .find_map(|e| {
            let r = e.response()?;
            allows(r, origin_of(e)).then_some((e, r))
        })
}

fn first_url(obs: &Observations, kind: &str) -> Option<String> {
    let prefix = format!("{kind}:");
    let url = obs.with_prefix(&prefix).next().map(Exchange::url);
    url
}

fn wildcard(obs: &Observations, v: &mut Verdicts) {
    for (e, resp) in obs.answered() {
        if resp
            .header("access-control-allow-origin")
            .is_some_and(|a| a.trim() == "*")
        {
            v.add(Wildcard::Public, e.url()).evidence(evidence(e, resp));
            return;
        }
    }
    if let Some((e, resp)) = allowed(obs, "cors-evil") {
        if !credentials(resp) {
            v.add(Wildcard::AnyOriginReflected, e.url())
                .evidence(evidence(e, resp));
            return;
        }
        // With credentials it is COR002's universal access.
        return;
    }
    let Some(url) = first_url(obs, "cors-evil") else {
        return;
    };
    let any_cors = obs
        .answered()
        .any(|(_, r)| r.header("access-control-allow-origin").is_some());
    let outcome = if any_cors {
        Wildcard::Restricted
    } else {
        Wildcard::NotImplemented
    };
    v.add(outcome, url);
}

fn credentialed(obs: &Observations, v: &mut Verdicts) {
    match allowed(obs, "cors-evil") {
        Some((e, resp)) if credentials(resp) => {
            v.add(Credentialed::Universal, e.url())
                .evidence(evidence(e, resp));
        }
        _ => {
            if let Some(url) = first_url(obs, "cors-evil") {
                v.add(Credentialed::Safe, url);
            }
        }
    }
}

fn null_origin(obs: &Observations, v: &mut Verdicts) {
    match allowed(obs, "cors-null") {
        Some((e, resp)) => {
            let outcome = if credentials(resp) {
                NullOrigin::WithCredentials
            } else {
                NullOrigin::Allowed
            };
            v.add(outcome, e.url()).evidence(evidence(e, resp));
        }
        None => {
            if let Some(url) = first_url(obs, "cors-null") {
                v.add(NullOrigin::Refused, url);
            }
        }
    }
}

fn suffix(obs: &Observations, v: &mut Verdicts) {
    if allowed(obs, "cors-evil").is_some() {
        // Any origin is allowed (COR001/COR002 say so): a look-alike getting
        // in too is no anchoring mistake and no further finding.
        return;
    }
    match allowed(obs, "cors-suffix") {
        Some((e, resp)) => {
            v.add(Suffix::Accepted, e.url()).evidence(evidence(e, resp));
        }
        None => {
            if let Some(url) = first_url(obs, "cors-suffix") {
                v.add(Suffix::Refused, url);
            }
        }
    }
}

fn prefix(obs: &Observations, v: &mut Verdicts) {
    if allowed(obs, "cors-evil").is_some() {
        // Any origin is allowed (COR001/COR002 say so): a look-alike getting
        // in too is no anchoring mistake and no further finding.
        return;
    }
    match allowed(obs, "cors-prefix") {
        Some((e, resp)) => {
            v.add(Prefix::Accepted, e.url()).evidence(evidence(e, resp));
        }
        None => {
            if let Some(url) = first_url(obs, "cors-prefix") {
                v.add(Prefix::Refused, url);
            }
        }
    }
}

fn preflight(obs: &Observations, v: &mut Verdicts) {
    for e in obs.with_prefix("cors-preflight:") {
        let Some(resp) = e.response() else { continue };
        if !allows(resp, origin_of(e)) && resp.header("access-control-allow-origin") != Some("*") {
            continue;
        }
        let methods = resp
            .header("access-control-allow-methods")
            .unwrap_or("")
            .to_ascii_lowercase();
        let headers = resp
            .header("access-control-allow-headers")
            .unwrap_or("")
            .to_ascii_lowercase();
        let any_method = methods.contains("delete") || methods.trim() == "*";
        let any_header = headers.contains("x-flaskguard-probe") || headers.trim() == "*";
        if any_method && any_header {
            v.add(Preflight::Permissive, e.url()).evidence(format!(
                "{}; Access-Control-Allow-Methods: {methods}; Access-Control-Allow-Headers: {headers}",
                evidence(e, resp)
            ));
            return;
        }
    }
    if let Some(url) = first_url(obs, "cors-preflight") {
        v.add(Preflight::Restricted, url);
    }
}
