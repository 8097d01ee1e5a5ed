//! TLS001–TLS003: plain HTTP redirecting to HTTPS on the same host, redirect loops,
//! and the certificate and protocol seen by the rustls client. What a rustls
//! client cannot test is said in the report (see [`crate::tls::LIMITS`]).

use super::{check, outcomes, CheckDef, Verdicts};
use crate::{engine::resolve, observations::Observations, tls::LIMITS};

outcomes! {
    pub enum Redirection for "TLS001" {
        ToHttps = "redirection-to-https" [Pass, 0, Observatory]
            "Plain HTTP redirects to HTTPS on the same host",
            "";
        NoHttp = "redirection-not-needed-no-http" [Pass, 0, Observatory]
            "Plain HTTP is not served, so no redirection is needed",
            "";
        NotTested = "redirection-not-tested-https-port" [Pass, 0, Flaskguard]
            "HTTPS is served on a port other than 443, so no plain-HTTP port is known to test: scan the http:// URL to check its redirect",
            "";
        OffHost = "redirection-off-host-from-http" [Low, -5, Observatory]
            "Plain HTTP redirects to HTTPS on another host, so HSTS is never set for this one",
            "Redirect to https:// on the same host first, then to the other host.";
        NotInitial = "redirection-not-to-https-on-initial-redirection" [Medium, -10, Observatory]
            "Plain HTTP reaches HTTPS only after another plain-HTTP redirect",
            "Make the first redirect go to https:// on the same host.";
        Missing = "redirection-missing" [High, -20, Observatory]
            "Plain HTTP is served without a redirect to HTTPS",
            "Redirect every http:// request to https:// with 301 or 308 at the proxy (or Talisman force_https=True when the proxy forwards X-Forwarded-Proto).";
        NotToHttps = "redirection-not-to-https" [High, -20, Observatory]
            "Plain HTTP redirects, but never ends on HTTPS",
            "Redirect to https:// on the same host.";
    }
}

outcomes! {
    pub enum Loop for "TLS002" {
        Looped = "redirect-loop" [High, -20, Flaskguard]
            "Requests redirect in a loop (typically an HTTPS redirect behind a TLS-terminating proxy that does not forward X-Forwarded-Proto)",
            "Let the proxy send X-Forwarded-Proto and apply ProxyFix(x_proto=1), or redirect at the proxy and turn the app's redirect off.";
        TooMany = "too-many-redirects" [High, -20, Flaskguard]
            "Requests go through more redirects than a browser will follow",
            "Redirect once, directly to the final URL.";
        Ok = "no-redirect-loop" [Pass, 0, Flaskguard]
            "Redirects end",
            "";
    }
}

outcomes! {
    pub enum Trust for "TLS003" {
        SelfSigned = "certificate-self-signed" [High, -20, Flaskguard]
            "The certificate is self-signed: browsers refuse it",
            "Use a certificate from a public CA (Let's Encrypt) or your cloud's certificate manager.";
        Untrusted = "certificate-untrusted" [High, -20, Flaskguard]
            "The certificate chain does not lead to a trusted root",
            "Serve the full chain (leaf and intermediates) from a public CA.";
        Trusted = "certificate-trusted" [Pass, 0, Flaskguard]
            "The certificate chains to a trusted root",
            "";
    }
}

outcomes! {
    pub enum Expiry for "TLS003" {
        Expired = "certificate-expired" [High, -20, Flaskguard]
            "The certificate has expired",
            "Renew it, and automate renewal (ACME).";
        NotYetValid = "certificate-not-yet-valid" [High, -20, Flaskguard]
            "The certificate is not valid yet",
            "Check the server clock and the certificate's validity dates.";
        Soon = "certificate-expires-soon" [Medium, -5, Flaskguard]
            "The certificate expires in less than 30 days",
            "Renew it now and automate renewal.";
        Ok = "certificate-valid-dates" [Pass, 0, Flaskguard]
            "The certificate is within its validity period",
            "";
    }
}

outcomes! {
    pub enum HostName for "TLS003" {
        Wrong = "certificate-wrong-host" [High, -20, Flaskguard]
            "The certificate is not valid for the host name",
            "Issue a certificate whose subjectAltName includes this host.";
        Ok = "certificate-host-matches" [Pass, 0, Flaskguard]
            "The certificate names this host",
            "";
    }
}

outcomes! {
    pub enum Protocol for "TLS003" {
        Modern = "tls-modern-protocol" [Pass, 0, Flaskguard]
            "The connection negotiated TLS 1.2 or 1.3",
            "";
        Untested = "tls-legacy-protocols-not-tested" [Info, 0, Flaskguard]
            "Not tested by this scan: whether the server also accepts legacy protocols or weak ciphers",
            "Run a dedicated TLS scanner (testssl.sh, sslyze) to check legacy protocols, ciphers and revocation.";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!(
        "http-to-https-redirect",
        "TLS001",
        Redirection,
        redirection,
        observatory = "redirection"
    ),
    check!("redirect-loop", "TLS002", Loop, redirect_loop),
    check!("certificate-trust", "TLS003", Trust, trust),
    check!("certificate-expiry", "TLS003", Expiry, expiry),
    check!("certificate-hostname", "TLS003", HostName, hostname),
    check!("tls-protocol", "TLS003", Protocol, protocol),
];

fn chain_evidence(hops: &[(String, u16, Option<String>)]) -> String {
    hops.iter()
        .map(|(u, s, l)| match l {
            Some(l) => format!("{u} → {s} Location: {l}"),
            None => format!("{u} → {s}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn redirection(obs: &Observations, v: &mut Verdicts) {
    let Some(chain) = &obs.redirects else { return };
    let url = obs.target.url.clone();
    let Some((first_url, status, location)) = chain.hops.first() else {
        if chain.no_http_port {
            v.add(Redirection::NotTested, url);
        } else if obs.target.endpoint.https {
            v.add(Redirection::NoHttp, url);
        }
        return;
    };
    let ev = chain_evidence(&chain.hops);
    if !matches!(status, 301 | 302 | 303 | 307 | 308) || location.is_none() {
        v.add(Redirection::Missing, first_url.clone()).evidence(ev);
        return;
    }
    if chain
        .off_host
        .as_deref()
        .is_some_and(|o| o.starts_with("https://"))
        && chain.hops.len() == 1
    {
        v.add(Redirection::OffHost, first_url.clone()).evidence(ev);
        return;
    }
    let first_to_https = chain
        .hops
        .get(1)
        .is_some_and(|(u, _, _)| u.starts_with("https://"));
    let final_https = chain
        .hops
        .last()
        .is_some_and(|(u, s, _)| u.starts_with("https://") || (*s >= 300 && chain.looped));
    let outcome = match (first_to_https, final_https) {
        (true, _) => Redirection::ToHttps,
        (false, true) => Redirection::NotInitial,
        (false, false) => Redirection::NotToHttps,
    };
    v.add(outcome, first_url.clone()).evidence(ev);
}

fn redirect_loop(obs: &Observations, v: &mut Verdicts) {
    let url = obs.target.url.clone();
    if let Some(chain) = &obs.redirects {
        let ev = chain_evidence(&chain.hops);
        if chain.looped {
            v.add(Loop::Looped, url).evidence(ev);
            return;
        }
        if chain
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("more than"))
        {
            v.add(Loop::TooMany, url).evidence(ev);
            return;
        }
    }
    // An https:// target that redirects to itself.
    if let Some(e) = obs.get("main") {
        if let Some(resp) = e.response().filter(|r| r.is_redirect()) {
            let next = resp
                .header("location")
                .and_then(|l| resolve(&e.request.endpoint, &e.request.path, l));
            if next.is_some_and(|(ep, p)| ep == e.request.endpoint && p == e.request.path) {
                v.add(Loop::Looped, e.url()).evidence(format!(
                    "{} → {} Location: {}",
                    e.url(),
                    resp.status,
                    resp.header("location").unwrap_or("")
                ));
                return;
            }
        }
    }
    v.add(Loop::Ok, url);
}

/// Trust errors that are about dates or names belong to the other checks.
fn only_dates_or_name(error: &str) -> bool {
    ["Expired", "NotValidYet", "NotValidForName"]
        .iter()
        .any(|k| error.contains(k))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn trust(obs: &Observations, v: &mut Verdicts) {
    let url = obs.target.url.clone();
    for c in &obs.certs {
        let ev = format!("subject: {}; issuer: {}", c.subject, c.issuer);
        match &c.trust_error {
            Some(_) if c.self_signed => {
                v.add(Trust::SelfSigned, url).evidence(ev);
                return;
            }
            Some(e) if !only_dates_or_name(e) => {
                v.add(Trust::Untrusted, url).evidence(format!("{ev}; {e}"));
                return;
            }
            _ => {}
        }
    }
    if !obs.certs.is_empty() {
        v.add(Trust::Trusted, url);
    }
}

fn expiry(obs: &Observations, v: &mut Verdicts) {
    let url = obs.target.url.clone();
    let Some(c) = obs.certs.first() else { return };
    let now = now();
    let days = |t: i64| (t - now) / 86_400;
    let ev = format!(
        "not before {} / not after {} (Unix time)",
        c.not_before, c.not_after
    );
    let outcome = if c.parse_error.is_some() {
        return;
    } else if now > c.not_after {
        Expiry::Expired
    } else if now < c.not_before {
        Expiry::NotYetValid
    } else if days(c.not_after) < 30 {
        Expiry::Soon
    } else {
        Expiry::Ok
    };
    let verdict = v.add(outcome, url).evidence(ev);
    match outcome {
        Expiry::Expired => {
            verdict.detail(format!("{} days ago", -days(c.not_after)));
        }
        Expiry::Soon => {
            verdict.detail(format!("{} days left", days(c.not_after)));
        }
        _ => {}
    }
}

fn hostname(obs: &Observations, v: &mut Verdicts) {
    let url = obs.target.url.clone();
    let Some(c) = obs.certs.first() else { return };
    if c.parse_error.is_some() {
        return;
    }
    let outcome = if c.name_matches {
        HostName::Ok
    } else {
        HostName::Wrong
    };
    v.add(outcome, url).evidence(format!(
        "host {}; certificate names: {}",
        c.server_name,
        if c.names.is_empty() {
            "(none)".to_string()
        } else {
            c.names.join(", ")
        }
    ));
}

fn protocol(obs: &Observations, v: &mut Verdicts) {
    let tls = obs
        .answered()
        .find_map(|(e, r)| r.tls.as_ref().map(|t| (e.url(), t)));
    let Some((url, info)) = tls else { return };
    v.add(Protocol::Modern, url.clone())
        .evidence(format!("{} {}", info.protocol, info.cipher));
    v.add(Protocol::Untested, url).evidence(LIMITS);
}
