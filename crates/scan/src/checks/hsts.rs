//! HDR001: `Strict-Transport-Security`, parsed (max-age, includeSubDomains,
//! preload). Judged only over HTTPS: browsers ignore the header on plain HTTP, so
//! an http:// target gets no HSTS finding (TLS001 says what is wrong there), only
//! the Observatory's score line for a site without HTTPS.

use super::{check, outcomes, page, CheckDef, Verdicts};
use crate::observations::Observations;

/// Six months, the Observatory's threshold.
pub const SIX_MONTHS: u64 = 15_768_000;
/// One year, the checklist's and the preload list's threshold.
pub const ONE_YEAR: u64 = 31_536_000;

outcomes! {
    /// Presence and the Observatory's max-age verdict.
    pub enum HstsHeader for "HDR001" {
        NoHttps = "hsts-not-implemented-no-https" [Pass, -20, Observatory]
            "The site is not served over HTTPS, so HSTS cannot apply (reported under TLS001)",
            "Serve the site over HTTPS, redirect plain HTTP to it, then add Strict-Transport-Security.";
        InvalidCert = "hsts-invalid-cert" [Pass, -20, Observatory]
            "HSTS cannot take effect while the certificate is not valid (reported under TLS003)",
            "Install a certificate that browsers trust for this host name.";
        Missing = "hsts-not-implemented" [High, -20, Observatory]
            "No Strict-Transport-Security header on the HTTPS response",
            "Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS response (Talisman: strict_transport_security=True).";
        Invalid = "hsts-header-invalid" [High, -20, Observatory]
            "The Strict-Transport-Security header cannot be parsed, so browsers ignore it",
            "Use `max-age=<seconds>` once, with optional `includeSubDomains` and `preload`, separated by semicolons.";
        Short = "hsts-implemented-max-age-less-than-six-months" [Medium, -10, Observatory]
            "HSTS max-age is shorter than six months",
            "Raise max-age to at least 31536000 (one year).";
        Ok = "hsts-implemented-max-age-at-least-six-months" [Pass, 0, Observatory]
            "HSTS is set with a max-age of at least six months",
            "";
    }
}

outcomes! {
    /// The checklist's one-year bar.
    pub enum HstsYear for "HDR001" {
        BelowYear = "hsts-max-age-below-one-year" [Low, 0, Flaskguard]
            "HSTS max-age is below one year (31536000), the checklist's minimum and the preload list's",
            "Raise max-age to 31536000 or more.";
        Ok = "hsts-max-age-at-least-one-year" [Pass, 0, Flaskguard]
            "HSTS max-age is at least one year",
            "";
    }
}

outcomes! {
    pub enum HstsSubdomains for "HDR001" {
        Missing = "hsts-no-include-subdomains" [Low, 0, Flaskguard]
            "HSTS does not cover subdomains (no includeSubDomains)",
            "Add `includeSubDomains` once every subdomain serves HTTPS.";
        Ok = "hsts-include-subdomains" [Pass, 0, Flaskguard]
            "HSTS covers subdomains",
            "";
    }
}

outcomes! {
    /// `preload` is a choice, never an error; asking for it without meeting the
    /// list's requirements is.
    pub enum HstsPreload for "HDR001" {
        Ineligible = "hsts-preload-requested-but-ineligible" [Low, 0, Flaskguard]
            "HSTS asks for preload but the preload list requires max-age >= 31536000 and includeSubDomains",
            "Use `max-age=31536000; includeSubDomains; preload`, or drop `preload`.";
        Eligible = "hsts-preload-eligible" [Pass, 0, Flaskguard]
            "HSTS meets the preload list's header requirements",
            "";
        NotRequested = "hsts-preload-not-requested" [Pass, 0, Flaskguard]
            "HSTS does not ask for preloading (a choice, not a problem)",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!(
        "hsts-header",
        "HDR001",
        HstsHeader,
        header,
        observatory = "strict-transport-security"
    ),
    check!("hsts-max-age-one-year", "HDR001", HstsYear, year),
    check!(
        "hsts-include-subdomains",
        "HDR001",
        HstsSubdomains,
        subdomains
    ),
    check!("hsts-preload", "HDR001", HstsPreload, preload),
];

/// A parsed HSTS header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hsts {
    pub max_age: u64,
    pub include_subdomains: bool,
    pub preload: bool,
}

/// RFC 6797 parsing: directives separated by `;`, case-insensitive names, each at
/// most once, `max-age` required (value may be quoted).
pub fn parse(value: &str) -> Option<Hsts> {
    let mut max_age = None;
    let mut include_subdomains = false;
    let mut preload = false;
    let mut seen = Vec::new();
    for directive in value.split(';') {
        let directive = directive.trim();
        if directive.is_empty() {
            continue;
        }
        let (name, arg) = match directive.split_once('=') {
            Some((n, a)) => (
                n.trim().to_ascii_lowercase(),
                Some(a.trim().trim_matches('"')),
            ),
            None => (directive.to_ascii_lowercase(), None),
        };
        if seen.contains(&name) {
            return None;
        }
        seen.push(name.clone());
        match name.as_str() {
            "max-age" => max_age = Some(arg?.parse::<u64>().ok()?),
            "includesubdomains" => include_subdomains = true,
            "preload" => preload = true,
            _ => {}
        }
    }
    Some(Hsts {
        max_age: max_age?,
        include_subdomains,
        preload,
    })
}

/// The parsed header of the HTTPS page, when there is one.
fn parsed(obs: &Observations) -> Option<(String, String, Hsts)> {
    let (url, resp) = page(obs)?;
    if !url.starts_with("https://") {
        return None;
    }
    let raw = resp.header("strict-transport-security")?;
    Some((url, raw.to_string(), parse(raw)?))
}

fn header(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    if !url.starts_with("https://") {
        v.add(HstsHeader::NoHttps, url);
        return;
    }
    if obs.certs.iter().any(|c| c.trust_error.is_some()) {
        v.add(HstsHeader::InvalidCert, url);
        return;
    }
    let Some(raw) = resp.header("strict-transport-security") else {
        v.add(HstsHeader::Missing, url);
        return;
    };
    let evidence = format!("Strict-Transport-Security: {raw}");
    match parse(raw) {
        None => {
            v.add(HstsHeader::Invalid, url).evidence(evidence);
        }
        Some(h) if h.max_age < SIX_MONTHS => {
            v.add(HstsHeader::Short, url)
                .evidence(evidence)
                .detail(format!("max-age={}", h.max_age));
        }
        Some(_) => {
            v.add(HstsHeader::Ok, url).evidence(evidence);
        }
    }
}

fn year(obs: &Observations, v: &mut Verdicts) {
    let Some((url, raw, h)) = parsed(obs) else {
        return;
    };
    // Below six months is already the Observatory finding.
    if h.max_age < SIX_MONTHS {
        return;
    }
    let outcome = if h.max_age < ONE_YEAR {
        HstsYear::BelowYear
    } else {
        HstsYear::Ok
    };
    v.add(outcome, url)
        .evidence(format!("Strict-Transport-Security: {raw}"));
}

fn subdomains(obs: &Observations, v: &mut Verdicts) {
    let Some((url, raw, h)) = parsed(obs) else {
        return;
    };
    let outcome = if h.include_subdomains {
        HstsSubdomains::Ok
    } else {
        HstsSubdomains::Missing
    };
    v.add(outcome, url)
        .evidence(format!("Strict-Transport-Security: {raw}"));
}

fn preload(obs: &Observations, v: &mut Verdicts) {
    let Some((url, raw, h)) = parsed(obs) else {
        return;
    };
    let eligible = h.max_age >= ONE_YEAR && h.include_subdomains;
    let outcome = match (h.preload, eligible) {
        (true, true) => HstsPreload::Eligible,
        (true, false) => HstsPreload::Ineligible,
        (false, _) => HstsPreload::NotRequested,
    };
    v.add(outcome, url)
        .evidence(format!("Strict-Transport-Security: {raw}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc6797() {
        let h = parse("max-age=31536000; includeSubDomains; preload").unwrap();
        assert_eq!(
            (h.max_age, h.include_subdomains, h.preload),
            (31536000, true, true)
        );
        assert_eq!(parse("MAX-AGE=\"300\"").unwrap().max_age, 300);
        assert!(parse("includeSubDomains").is_none());
        assert!(parse("max-age=1; max-age=2").is_none());
        assert!(parse("max-age=abc").is_none());
        assert!(parse("max-age=10;;").is_some());
    }
}
