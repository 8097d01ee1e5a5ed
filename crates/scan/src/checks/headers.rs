//! HDR003–HDR006, HDR009: X-Frame-Options, nosniff, Referrer-Policy,
//! Permissions-Policy and the cross-origin isolation headers, judged on the page
//! the target URL ends on. Deprecated headers (X-XSS-Protection) are never required.

use super::{check, outcomes, page, CheckDef, Verdicts};
use crate::observations::Observations;

outcomes! {
    pub enum FrameOptions for "HDR003" {
        ViaCsp = "x-frame-options-implemented-via-csp" [Pass, 5, Observatory]
            "Framing is controlled by the CSP frame-ancestors directive",
            "";
        SameOriginOrDeny = "x-frame-options-sameorigin-or-deny" [Pass, 0, Observatory]
            "X-Frame-Options is DENY or SAMEORIGIN",
            "";
        AllowFrom = "x-frame-options-allow-from-origin" [Low, 0, Observatory]
            "X-Frame-Options uses ALLOW-FROM, which current browsers ignore",
            "Use CSP `frame-ancestors https://partner.example` instead.";
        Missing = "x-frame-options-not-implemented" [Medium, -20, Observatory]
            "Neither X-Frame-Options nor CSP frame-ancestors: the page can be framed (clickjacking)",
            "Send `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'` (Talisman: frame_options='DENY').";
        Invalid = "x-frame-options-header-invalid" [Medium, -20, Observatory]
            "X-Frame-Options has a value browsers do not recognise",
            "Use DENY or SAMEORIGIN.";
    }
}

outcomes! {
    pub enum Nosniff for "HDR004" {
        Ok = "x-content-type-options-nosniff" [Pass, 0, Observatory]
            "X-Content-Type-Options is nosniff",
            "";
        Missing = "x-content-type-options-not-implemented" [Medium, -5, Observatory]
            "No X-Content-Type-Options header: browsers may sniff responses into executable types",
            "Send `X-Content-Type-Options: nosniff` (Talisman does by default).";
        Invalid = "x-content-type-options-header-invalid" [Medium, -5, Observatory]
            "X-Content-Type-Options is set to something other than nosniff",
            "Send exactly `X-Content-Type-Options: nosniff`.";
    }
}

outcomes! {
    pub enum Referrer for "HDR005" {
        Private = "referrer-policy-private" [Pass, 5, Observatory]
            "Referrer-Policy keeps URLs private (no-referrer, same-origin, strict-origin, strict-origin-when-cross-origin)",
            "";
        Missing = "referrer-policy-not-implemented" [Low, 0, Observatory]
            "No Referrer-Policy header",
            "Send `Referrer-Policy: strict-origin-when-cross-origin` (or no-referrer for an API).";
        Unsafe = "referrer-policy-unsafe" [Low, -5, Observatory]
            "Referrer-Policy leaks full URLs to other sites (unsafe-url, no-referrer-when-downgrade, origin-when-cross-origin, origin)",
            "Use `strict-origin-when-cross-origin` or `no-referrer`.";
        Invalid = "referrer-policy-header-invalid" [Low, -5, Observatory]
            "Referrer-Policy has no value browsers recognise",
            "Use `strict-origin-when-cross-origin`.";
    }
}

outcomes! {
    pub enum Permissions for "HDR006" {
        Missing = "permissions-policy-missing" [Low, 0, Flaskguard]
            "No Permissions-Policy header restricting powerful browser features",
            "Send `Permissions-Policy: geolocation=(), microphone=(), camera=()` (Talisman: permissions_policy=...).";
        Wildcard = "permissions-policy-allows-all" [Low, 0, Flaskguard]
            "Permissions-Policy grants a powerful feature to every origin (`*`)",
            "Grant features to `self` or named origins only.";
        Ok = "permissions-policy-set" [Pass, 0, Flaskguard]
            "Permissions-Policy restricts browser features",
            "";
    }
}

outcomes! {
    pub enum Coop for "HDR009" {
        Missing = "coop-missing-on-html" [Low, 0, Flaskguard]
            "An HTML page without Cross-Origin-Opener-Policy can be scripted by pages it opens or that open it",
            "Send `Cross-Origin-Opener-Policy: same-origin`.";
        Ok = "coop-set" [Pass, 0, Flaskguard]
            "Cross-Origin-Opener-Policy is set",
            "";
        NotHtml = "coop-not-applicable" [Pass, 0, Flaskguard]
            "Not an HTML page: COOP does not apply",
            "";
    }
}

outcomes! {
    pub enum Corp for "HDR009" {
        SameOrigin = "corp-implemented-with-same-origin" [Pass, 10, Observatory]
            "Cross-Origin-Resource-Policy: same-origin keeps responses out of other origins",
            "";
        SameSite = "corp-implemented-with-same-site" [Pass, 10, Observatory]
            "Cross-Origin-Resource-Policy: same-site keeps responses out of other sites",
            "";
        CrossOrigin = "corp-implemented-with-cross-origin" [Pass, 0, Observatory]
            "Cross-Origin-Resource-Policy: cross-origin (explicitly shareable)",
            "";
        Missing = "corp-not-implemented" [Pass, 0, Observatory]
            "No Cross-Origin-Resource-Policy on a non-HTML response",
            "";
        MissingOnHtml = "corp-not-implemented-on-html" [Low, 0, Observatory]
            "An HTML page without Cross-Origin-Resource-Policy (the Observatory scores this 0; the checklist asks for it)",
            "Send `Cross-Origin-Resource-Policy: same-origin`.";
        Invalid = "corp-header-invalid" [Low, -5, Observatory]
            "Cross-Origin-Resource-Policy has a value browsers do not recognise",
            "Use same-origin, same-site or cross-origin.";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!(
        "x-frame-options",
        "HDR003",
        FrameOptions,
        frame_options,
        observatory = "x-frame-options"
    ),
    check!(
        "x-content-type-options",
        "HDR004",
        Nosniff,
        nosniff,
        observatory = "x-content-type-options"
    ),
    check!(
        "referrer-policy",
        "HDR005",
        Referrer,
        referrer,
        observatory = "referrer-policy"
    ),
    check!("permissions-policy", "HDR006", Permissions, permissions),
    check!("cross-origin-opener-policy", "HDR009", Coop, coop),
    check!(
        "cross-origin-resource-policy",
        "HDR009",
        Corp,
        corp,
        observatory = "cross-origin-resource-policy"
    ),
];

/// How browsers read X-Frame-Options from every value sent (the HTML standard's
/// algorithm): one `deny` or `sameorigin` rules; several different values that
/// include one of them block framing (a proxy's SAMEORIGIN next to the app's
/// DENY); anything else does not restrict.
pub fn frame_options_verdict(values: &[&str]) -> FrameOptions {
    let mut set: Vec<String> = Vec::new();
    for v in values.iter().flat_map(|v| v.split(',')) {
        let v = v.trim().to_ascii_lowercase();
        if !set.contains(&v) {
            set.push(v);
        }
    }
    let known = |v: &String| matches!(v.as_str(), "deny" | "sameorigin" | "allowall");
    match set.as_slice() {
        [one] if one == "deny" || one == "sameorigin" => FrameOptions::SameOriginOrDeny,
        [one] if one.starts_with("allow-from") => FrameOptions::AllowFrom,
        many if many.len() > 1 && many.iter().any(known) => FrameOptions::SameOriginOrDeny,
        _ => FrameOptions::Invalid,
    }
}

fn frame_options(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    let csp = super::csp::policies(&resp.headers_all("content-security-policy"));
    if csp.is_some_and(|list| {
        list.iter()
            .any(|p| p.directives.contains_key("frame-ancestors"))
    }) {
        v.add(FrameOptions::ViaCsp, url);
        return;
    }
    let values = resp.headers_all("x-frame-options");
    if values.is_empty() {
        v.add(FrameOptions::Missing, url);
        return;
    }
    v.add(frame_options_verdict(&values), url)
        .evidence(format!("X-Frame-Options: {}", values.join(", ")));
}

fn nosniff(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    match resp.header("x-content-type-options") {
        None => {
            v.add(Nosniff::Missing, url);
        }
        Some(raw) if raw.trim().eq_ignore_ascii_case("nosniff") => {
            v.add(Nosniff::Ok, url);
        }
        Some(raw) => {
            v.add(Nosniff::Invalid, url)
                .evidence(format!("X-Content-Type-Options: {raw}"));
        }
    }
}

/// The policy in force: the last recognised token of a comma-separated list.
pub fn referrer_verdict(raw: &str) -> Referrer {
    const PRIVATE: &[&str] = &[
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ];
    const UNSAFE: &[&str] = &[
        "origin",
        "origin-when-cross-origin",
        "unsafe-url",
        "no-referrer-when-downgrade",
    ];
    let last = raw
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .rfind(|t| PRIVATE.contains(&t.as_str()) || UNSAFE.contains(&t.as_str()));
    match last {
        Some(t) if PRIVATE.contains(&t.as_str()) => Referrer::Private,
        Some(_) => Referrer::Unsafe,
        None => Referrer::Invalid,
    }
}

fn referrer(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    // A <meta name="referrer"> counts too, but an API has no HTML; the header rules.
    // Several headers (a proxy's next to the app's) are read as one list, in
    // order: the last policy browsers recognise is the one in force.
    let values = resp.headers_all("referrer-policy");
    if values.is_empty() {
        v.add(Referrer::Missing, url);
        return;
    }
    let raw = values.join(", ");
    v.add(referrer_verdict(&raw), url)
        .evidence(format!("Referrer-Policy: {raw}"));
}

fn permissions(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    let Some(raw) = resp.header("permissions-policy") else {
        v.add(Permissions::Missing, url);
        return;
    };
    let powerful = ["geolocation", "camera", "microphone", "payment", "usb"];
    let wildcard = raw.split(',').any(|item| {
        let (name, allow) = item.split_once('=').unwrap_or((item, ""));
        powerful.contains(&name.trim().to_ascii_lowercase().as_str()) && allow.trim() == "*"
    });
    let outcome = if wildcard {
        Permissions::Wildcard
    } else {
        Permissions::Ok
    };
    v.add(outcome, url)
        .evidence(format!("Permissions-Policy: {raw}"));
}

fn coop(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    let outcome = match (resp.is_html(), resp.header("cross-origin-opener-policy")) {
        (false, _) => Coop::NotHtml,
        (true, Some(_)) => Coop::Ok,
        (true, None) => Coop::Missing,
    };
    v.add(outcome, url);
}

fn corp(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    let Some(raw) = resp.header("cross-origin-resource-policy") else {
        let outcome = if resp.is_html() {
            Corp::MissingOnHtml
        } else {
            Corp::Missing
        };
        v.add(outcome, url);
        return;
    };
    let outcome = match raw.trim().to_ascii_lowercase().as_str() {
        "same-origin" => Corp::SameOrigin,
        "same-site" => Corp::SameSite,
        "cross-origin" => Corp::CrossOrigin,
        _ => Corp::Invalid,
    };
    v.add(outcome, url)
        .evidence(format!("Cross-Origin-Resource-Policy: {raw}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrer_takes_the_last_known_token() {
        assert_eq!(
            referrer_verdict("unsafe-url, strict-origin-when-cross-origin"),
            Referrer::Private
        );
        assert_eq!(
            referrer_verdict("no-referrer, unsafe-url"),
            Referrer::Unsafe
        );
        assert_eq!(referrer_verdict("bogus"), Referrer::Invalid);
        assert_eq!(referrer_verdict("no-referrer, bogus"), Referrer::Private);
    }
}
