//! HDR002: `Content-Security-Policy`, parsed directive by directive. One check
//! reproduces the Observatory's CSP verdict (and its modifiers); the others name
//! each weakness separately so a report says exactly which directive to change.

use std::collections::BTreeMap;

use super::{check, outcomes, page, CheckDef, Verdicts};
use crate::observations::Observations;

outcomes! {
    pub enum CspObservatory for "HDR002" {
        Missing = "csp-not-implemented" [Medium, -25, Observatory]
            "No Content-Security-Policy header",
            "Send a policy; for a JSON API `default-src 'none'; frame-ancestors 'none'` is enough (Talisman: content_security_policy=...).";
        Invalid = "csp-header-invalid" [Medium, -25, Observatory]
            "The Content-Security-Policy header cannot be parsed",
            "Write directives as `name source source; name source`, with directive names in lower-case letters and dashes.";
        UnsafeInline = "csp-implemented-with-unsafe-inline" [Medium, -20, Observatory]
            "The policy does not stop injected scripts: 'unsafe-inline' or data: in script-src, a broad source (*, https:) in script-src or object-src, or no restriction on one of them",
            "Restrict script-src and object-src (or default-src) to 'self' or named hosts, and use nonces or hashes instead of 'unsafe-inline'.";
        InsecureScheme = "csp-implemented-with-insecure-scheme" [Medium, -20, Observatory]
            "The policy of an HTTPS site allows scripts or other active content over plain http",
            "Remove http: sources from the policy.";
        UnsafeEval = "csp-implemented-with-unsafe-eval" [Medium, -10, Observatory]
            "The policy allows 'unsafe-eval'",
            "Remove eval() from the code, then 'unsafe-eval' from the policy.";
        InsecurePassive = "csp-implemented-with-insecure-scheme-in-passive-content-only" [Low, -10, Observatory]
            "The policy of an HTTPS site allows images or media over plain http",
            "Remove http: sources from img-src and media-src.";
        StyleOnly = "csp-implemented-with-unsafe-inline-in-style-src-only" [Pass, 0, Observatory]
            "The policy is safe for scripts; only style-src is broad",
            "";
        NoUnsafe = "csp-implemented-with-no-unsafe" [Pass, 5, Observatory]
            "The policy allows neither 'unsafe-inline' nor 'unsafe-eval'",
            "";
        DefaultNone = "csp-implemented-with-no-unsafe-default-src-none" [Pass, 10, Observatory]
            "The policy starts from default-src 'none' and allows nothing unsafe",
            "";
    }
}

outcomes! {
    pub enum InlineScript for "HDR002" {
        Unsafe = "csp-unsafe-inline-without-nonce" [Medium, 0, Flaskguard]
            "script-src allows 'unsafe-inline' with no nonce or hash, so injected inline scripts run",
            "Give each inline script a per-request nonce (`'nonce-…'`) or a hash and drop 'unsafe-inline'.";
        Neutralised = "csp-unsafe-inline-neutralised" [Pass, 0, Flaskguard]
            "'unsafe-inline' is ignored by browsers because a nonce or hash is present",
            "";
        Ok = "csp-no-unsafe-inline" [Pass, 0, Flaskguard]
            "script-src does not allow 'unsafe-inline'",
            "";
    }
}

outcomes! {
    pub enum Eval for "HDR002" {
        Unsafe = "csp-unsafe-eval" [Medium, 0, Flaskguard]
            "The policy allows 'unsafe-eval' for scripts",
            "Remove eval()/new Function() from the front end, then 'unsafe-eval'.";
        Ok = "csp-no-unsafe-eval" [Pass, 0, Flaskguard]
            "The policy does not allow 'unsafe-eval'",
            "";
    }
}

outcomes! {
    pub enum Wildcard for "HDR002" {
        Broad = "csp-wildcard-source" [Medium, 0, Flaskguard]
            "A script or object source is a wildcard (*, http:, https:, data:), so any host can serve code",
            "List the hosts that serve scripts instead of a wildcard or scheme.";
        Ok = "csp-no-wildcard-source" [Pass, 0, Flaskguard]
            "Script and object sources are restricted",
            "";
    }
}

outcomes! {
    pub enum ObjectSrc for "HDR002" {
        Missing = "csp-object-src-missing" [Low, 0, Flaskguard]
            "Neither object-src nor default-src restricts plugins",
            "Add `object-src 'none'`.";
        Ok = "csp-object-src-restricted" [Pass, 0, Flaskguard]
            "Plugins are restricted",
            "";
    }
}

outcomes! {
    pub enum BaseUri for "HDR002" {
        Missing = "csp-base-uri-missing" [Low, 0, Flaskguard]
            "No base-uri directive (it does not fall back to default-src), so an injected <base> tag can redirect relative script URLs",
            "Add `base-uri 'self'` (or 'none').";
        Ok = "csp-base-uri-set" [Pass, 0, Flaskguard]
            "base-uri is restricted",
            "";
    }
}

outcomes! {
    pub enum FrameAncestors for "HDR002" {
        Missing = "csp-frame-ancestors-missing" [Low, 0, Flaskguard]
            "No frame-ancestors directive (it does not fall back to default-src)",
            "Add `frame-ancestors 'none'` (or 'self').";
        Ok = "csp-frame-ancestors-set" [Pass, 0, Flaskguard]
            "frame-ancestors is set",
            "";
    }
}

outcomes! {
    pub enum ReportOnly for "HDR002" {
        OnlyReportOnly = "csp-report-only" [Low, 0, Flaskguard]
            "Only Content-Security-Policy-Report-Only is sent: the policy is monitored, not enforced",
            "Once the reports are clean, send the same policy as Content-Security-Policy.";
        Enforced = "csp-enforced" [Pass, 0, Flaskguard]
            "The policy is enforced",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!(
        "csp-policy",
        "HDR002",
        CspObservatory,
        observatory,
        observatory = "content-security-policy"
    ),
    check!("csp-unsafe-inline", "HDR002", InlineScript, inline),
    check!("csp-unsafe-eval", "HDR002", Eval, eval),
    check!("csp-wildcard-sources", "HDR002", Wildcard, wildcard),
    check!("csp-object-src", "HDR002", ObjectSrc, object_src),
    check!("csp-base-uri", "HDR002", BaseUri, base_uri),
    check!(
        "csp-frame-ancestors",
        "HDR002",
        FrameAncestors,
        frame_ancestors
    ),
    check!("csp-report-only", "HDR002", ReportOnly, report_only),
];

/// A parsed policy: directive name → sources (lower-cased).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub directives: BTreeMap<String, Vec<String>>,
}

impl Policy {
    /// Parses one or more policies (several headers are joined with `,` by
    /// servers; browsers enforce each, so the directives are merged and the first
    /// occurrence of a directive wins, as within one policy).
    pub fn parse(value: &str) -> Option<Policy> {
        let mut p = Policy::default();
        for policy in value.split(',') {
            for directive in policy.split(';') {
                let mut parts = directive.split_ascii_whitespace();
                let Some(name) = parts.next() else { continue };
                let name = name.to_ascii_lowercase();
                if !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    return None;
                }
                let sources: Vec<String> = parts.map(|s| s.to_ascii_lowercase()).collect();
                p.directives.entry(name).or_insert(sources);
            }
        }
        (!p.directives.is_empty()).then_some(p)
    }

    /// The sources in force for `directive`, falling back to default-src for fetch
    /// directives.
    pub fn effective(&self, directive: &str) -> Option<&[String]> {
        self.directives
            .get(directive)
            .or_else(|| self.directives.get("default-src"))
            .map(Vec::as_slice)
    }

    fn has(&self, directive: &str) -> bool {
        self.directives.contains_key(directive)
    }
}

fn has_nonce_or_hash(sources: &[String]) -> bool {
    sources.iter().any(|s| {
        s.starts_with("'nonce-")
            || s.starts_with("'sha256-")
            || s.starts_with("'sha384-")
            || s.starts_with("'sha512-")
    })
}

fn is_broad(source: &str) -> bool {
    matches!(
        source,
        "*" | "http:" | "https:" | "data:" | "blob:" | "filesystem:"
    )
}

fn is_http(source: &str) -> bool {
    source == "http:" || source.starts_with("http://")
}

/// The Observatory's verdict for a policy, worst first.
pub fn grade(policy: &Policy, https: bool) -> CspObservatory {
    let script = policy.effective("script-src").unwrap_or(&[]);
    let object = policy.effective("object-src").unwrap_or(&[]);
    let style = policy.effective("style-src").unwrap_or(&[]);
    let nonce = has_nonce_or_hash(script);
    let inline = script.iter().any(|s| s == "'unsafe-inline'") && !nonce;
    let unrestricted = policy.effective("script-src").is_none()
        || policy.effective("object-src").is_none()
        || script
            .iter()
            .any(|s| is_broad(s) || (s == "'unsafe-inline'" && !nonce))
        || object.iter().any(|s| is_broad(s));
    if inline || unrestricted {
        return CspObservatory::UnsafeInline;
    }
    let active_dirs = [
        "default-src",
        "script-src",
        "object-src",
        "connect-src",
        "frame-src",
        "child-src",
        "worker-src",
        "style-src",
        "font-src",
    ];
    if https
        && active_dirs
            .iter()
            .filter_map(|d| policy.directives.get(*d))
            .flatten()
            .any(|s| is_http(s))
    {
        return CspObservatory::InsecureScheme;
    }
    if policy
        .directives
        .values()
        .flatten()
        .any(|s| s == "'unsafe-eval'")
    {
        return CspObservatory::UnsafeEval;
    }
    if https
        && ["img-src", "media-src"]
            .iter()
            .filter_map(|d| policy.directives.get(*d))
            .flatten()
            .any(|s| is_http(s))
    {
        return CspObservatory::InsecurePassive;
    }
    if style.iter().any(|s| s == "'unsafe-inline'" || is_broad(s)) {
        return CspObservatory::StyleOnly;
    }
    if policy
        .directives
        .get("default-src")
        .is_some_and(|d| d == &["'none'"])
    {
        return CspObservatory::DefaultNone;
    }
    CspObservatory::NoUnsafe
}

/// Every policy a list of header values carries. Browsers enforce each policy on
/// its own (several headers, or several comma-separated policies in one, as when
/// a proxy adds its own next to the app's), so a weak policy never weakens a
/// strict one. Unparsable policies are left out; `None` when none parses.
pub fn policies(values: &[&str]) -> Option<Vec<Policy>> {
    let list: Vec<Policy> = values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|p| !p.trim().is_empty())
        .filter_map(Policy::parse)
        .collect();
    (!list.is_empty()).then_some(list)
}

/// How bad an outcome is: by severity, then by modifier (lower is better).
fn rank<O: super::Outcome>(o: O) -> (u8, i32) {
    use checklist::Severity::*;
    let spec = o.spec();
    let severity = match spec.severity {
        None => 0,
        Some(Info) => 1,
        Some(Low) => 2,
        Some(Medium) => 3,
        Some(High) => 4,
        Some(Critical) => 5,
    };
    (severity, -spec.modifier)
}

/// The verdict on every policy together: what the strictest policy ensures
/// holds, since the browser enforces them all.
fn best<O: super::Outcome>(list: &[Policy], f: impl Fn(&Policy) -> O) -> Option<O> {
    list.iter().map(f).min_by_key(|o| rank(*o))
}

/// The enforced policies of the page, with its URL and raw headers.
fn enforced(obs: &Observations) -> Option<(String, String, Option<Vec<Policy>>)> {
    let (url, resp) = page(obs)?;
    let values = resp.headers_all("content-security-policy");
    if values.is_empty() {
        return None;
    }
    Some((url, values.join(", "), policies(&values)))
}

fn observatory(obs: &Observations, v: &mut Verdicts) {
    let Some((url, _)) = page(obs) else { return };
    let https = url.starts_with("https://");
    let Some((_, raw, list)) = enforced(obs) else {
        v.add(CspObservatory::Missing, url);
        return;
    };
    let evidence = format!("Content-Security-Policy: {raw}");
    match list.and_then(|l| best(&l, |p| grade(p, https))) {
        None => v.add(CspObservatory::Invalid, url).evidence(evidence),
        Some(outcome) => v.add(outcome, url).evidence(evidence),
    };
}

/// Runs `f` on every enforced policy and records the best verdict, with the
/// headers as evidence.
fn with_policy<O: super::Outcome>(obs: &Observations, v: &mut Verdicts, f: impl Fn(&Policy) -> O) {
    let Some((url, raw, Some(list))) = enforced(obs) else {
        return;
    };
    if let Some(outcome) = best(&list, f) {
        v.add(outcome, url)
            .evidence(format!("Content-Security-Policy: {raw}"));
    }
}

fn inline(obs: &Observations, v: &mut Verdicts) {
    with_policy(obs, v, |p| {
        let script = p.effective("script-src").unwrap_or(&[]);
        match (
            script.iter().any(|s| s == "'unsafe-inline'"),
            has_nonce_or_hash(script),
        ) {
            (true, false) => InlineScript::Unsafe,
            (true, true) => InlineScript::Neutralised,
            _ => InlineScript::Ok,
        }
    });
}

fn eval(obs: &Observations, v: &mut Verdicts) {
    with_policy(obs, v, |p| {
        if p.effective("script-src")
            .unwrap_or(&[])
            .iter()
            .any(|s| s == "'unsafe-eval'")
        {
            Eval::Unsafe
        } else {
            Eval::Ok
        }
    });
}

fn wildcard(obs: &Observations, v: &mut Verdicts) {
    with_policy(obs, v, |p| {
        let broad = ["script-src", "object-src"]
            .iter()
            .filter_map(|d| p.effective(d))
            .flatten()
            .any(|s| is_broad(s) || s.starts_with("*."));
        if broad {
            Wildcard::Broad
        } else {
            Wildcard::Ok
        }
    });
}

fn object_src(obs: &Observations, v: &mut Verdicts) {
    with_policy(obs, v, |p| {
        if p.effective("object-src").is_some() {
            ObjectSrc::Ok
        } else {
            ObjectSrc::Missing
        }
    });
}

fn base_uri(obs: &Observations, v: &mut Verdicts) {
    with_policy(obs, v, |p| {
        if p.has("base-uri") {
            BaseUri::Ok
        } else {
            BaseUri::Missing
        }
    });
}

fn frame_ancestors(obs: &Observations, v: &mut Verdicts) {
    with_policy(obs, v, |p| {
        if p.has("frame-ancestors") {
            FrameAncestors::Ok
        } else {
            FrameAncestors::Missing
        }
    });
}

fn report_only(obs: &Observations, v: &mut Verdicts) {
    let Some((url, resp)) = page(obs) else { return };
    let enforced = resp.header("content-security-policy").is_some();
    match resp.header("content-security-policy-report-only") {
        Some(ro) if !enforced => {
            v.add(ReportOnly::OnlyReportOnly, url)
                .evidence(format!("Content-Security-Policy-Report-Only: {ro}"));
        }
        _ if enforced => {
            v.add(ReportOnly::Enforced, url);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(csp: &str) -> &'static str {
        use super::super::Outcome;
        grade(&Policy::parse(csp).unwrap(), true).spec().name
    }

    #[test]
    fn observatory_grades() {
        assert_eq!(
            g("default-src 'none'"),
            "csp-implemented-with-no-unsafe-default-src-none"
        );
        assert_eq!(g("default-src 'self'"), "csp-implemented-with-no-unsafe");
        assert_eq!(
            g("default-src 'self'; script-src 'self' 'unsafe-inline'"),
            "csp-implemented-with-unsafe-inline"
        );
        assert_eq!(
            g("default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-abc'"),
            "csp-implemented-with-no-unsafe"
        );
        assert_eq!(g("script-src 'self'"), "csp-implemented-with-unsafe-inline");
        assert_eq!(
            g("default-src 'self'; script-src 'self' 'unsafe-eval'"),
            "csp-implemented-with-unsafe-eval"
        );
        assert_eq!(
            g("default-src 'self'; script-src https:"),
            "csp-implemented-with-unsafe-inline"
        );
        assert_eq!(
            g("default-src 'self'; style-src 'self' 'unsafe-inline'"),
            "csp-implemented-with-unsafe-inline-in-style-src-only"
        );
        assert_eq!(
            g("default-src 'self'; img-src http://cdn.example"),
            "csp-implemented-with-insecure-scheme-in-passive-content-only"
        );
        assert_eq!(
            g("default-src 'self' http://cdn.example"),
            "csp-implemented-with-insecure-scheme"
        );
    }

    #[test]
    fn parse_rejects_garbage_and_merges() {
        assert!(Policy::parse("default_src 'self'").is_none());
        assert!(Policy::parse(" ; ").is_none());
        let p = Policy::parse("default-src 'self'; default-src *, object-src 'none'").unwrap();
        assert_eq!(p.directives["default-src"], ["'self'"]);
        assert_eq!(p.effective("object-src").unwrap(), ["'none'"]);
    }
}
