//! `flaskguard scan`: a graded, Flask-aware external check of a live deployment.
//!
//! A target URL becomes a plan of probes ([`plan`]); the [`client`] sends them
//! under strict limits (per-request timeout, body cap, bounded concurrency, a total
//! budget, no request to another host); [`engine`] collects what came back into
//! [`observations`], learning the API surface on the way ([`discover`]);
//! [`checks`] turn observations into named outcomes mapped to control IDs;
//! [`score`] grades them the Mozilla Observatory's way; the result is a
//! [`report::Report`]. Intrusive probes ([`active`]) run only when asked.

pub mod active;
pub mod checks;
pub mod client;
pub mod discover;
pub mod engine;
pub mod observations;
pub mod plan;
pub mod score;
pub mod settings;
pub mod target;
pub mod tls;

use std::time::Duration;

use checklist::{Engine, Implementation};
use report::{Diagnostic, DiagnosticLevel, Finding, Location, Report};

pub use client::Limits;
pub use target::{Target, TargetError};

/// Every named check, for `flaskguard checklist` and `explain`.
pub fn implementations() -> Vec<Implementation> {
    checks::registry()
        .into_iter()
        .map(|c| Implementation::new(Engine::Scan, c.control, c.name))
        .collect()
}

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub targets: Vec<String>,
    /// Run the intrusive probes too.
    pub active: bool,
    /// Login endpoints to test besides the discovered ones.
    pub login_paths: Vec<String>,
    /// Extra candidate keys for the session cookie (one per line).
    pub wordlist: Option<std::path::PathBuf>,
    pub concurrency: usize,
    pub timeout: Duration,
    /// Total time for the whole scan.
    pub budget: Duration,
    pub body_cap: usize,
    /// `Name: value` headers sent with every request but anonymous probes
    /// (`--header`, e.g. an `Authorization` for an API behind a login).
    pub headers: Vec<String>,
    /// `name=value` cookies sent likewise (`--cookie`; `a=1; b=2` holds two).
    pub cookies: Vec<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            targets: Vec::new(),
            active: false,
            login_paths: Vec::new(),
            wordlist: None,
            concurrency: 8,
            timeout: engine::DEFAULT_TIMEOUT,
            budget: Duration::from_secs(120),
            body_cap: 1024 * 1024,
            headers: Vec::new(),
            cookies: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("no target to scan (give a URL, or --targets FILE)")]
    NoTargets,
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{0}")]
    Unreachable(String),
    #[error("{path}: cannot read the word list: {reason}")]
    Wordlist { path: String, reason: String },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot start the scanner's runtime: {0}")]
    Runtime(String),
    #[error("login path `{0}` must start with `/`")]
    LoginPath(String),
    #[error("--header `{given}`: {reason}")]
    Header { given: String, reason: String },
    #[error("--cookie `{given}`: {reason}")]
    Cookie { given: String, reason: String },
    #[error(
        "--header/--cookie go with every request of the run, and the targets are on \
         several hosts ({0}): each would receive them; scan one host per run"
    )]
    CredentialsAcrossHosts(String),
}

/// Headers a scan must not be given: the client owns framing and the target's
/// Host (the Host probes craft their own).
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "proxy-connection",
];

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Reads `--header` values (`Name: value`) into pairs, refusing what would break
/// a request or the scan. The error quotes the name only, never the value.
pub fn parse_headers(given: &[String]) -> Result<Vec<(String, String)>, ScanError> {
    given
        .iter()
        .map(|h| {
            let err = |name: &str, reason: &str| ScanError::Header {
                given: format!("{name}: …"),
                reason: reason.to_string(),
            };
            let Some((name, value)) = h.split_once(':') else {
                return Err(ScanError::Header {
                    given: "…".into(),
                    reason: "expected `Name: value`".into(),
                });
            };
            let name = name.trim();
            let value = value.trim();
            if !is_token(name) {
                return Err(err(name, "not a valid header name"));
            }
            if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(err(name, "the scanner sets this header itself"));
            }
            if name.eq_ignore_ascii_case("cookie") {
                return Err(err(name, "give cookies with --cookie name=value"));
            }
            if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(err(name, "the value holds control characters"));
            }
            Ok((name.to_string(), value.to_string()))
        })
        .collect()
}

/// Reads `--cookie` values (`name=value`, or several joined by `;`) into pairs.
/// The error quotes the name only, never the value.
pub fn parse_cookies(given: &[String]) -> Result<Vec<(String, String)>, ScanError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for c in given {
        for pair in c.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(ScanError::Cookie {
                    given: "…".into(),
                    reason: "expected `name=value`".into(),
                });
            };
            let (name, value) = (name.trim(), value.trim());
            let err = |reason: &str| ScanError::Cookie {
                given: format!("{name}=…"),
                reason: reason.to_string(),
            };
            if !is_token(name) {
                return Err(err("not a valid cookie name"));
            }
            if value
                .bytes()
                .any(|b| b < 0x21 || b == 0x7f || b == b',' || b == b'\\')
            {
                return Err(err("the value holds characters a cookie cannot carry (space, comma, backslash, control)"));
            }
            out.retain(|(n, _)| n != name);
            out.push((name.to_string(), value.to_string()));
        }
    }
    Ok(out)
}

/// Runs a scan to completion (blocking) and returns its report. Bad input fails
/// before any request; a target that does not answer is an error when it is the
/// only one, a diagnostic otherwise.
pub fn scan(options: &ScanOptions) -> Result<Report, ScanError> {
    if options.targets.is_empty() {
        return Err(ScanError::NoTargets);
    }
    let targets = options
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    for p in &options.login_paths {
        if !p.starts_with('/') {
            return Err(ScanError::LoginPath(p.clone()));
        }
    }
    let credentials = client::Credentials {
        headers: parse_headers(&options.headers)?,
        cookies: parse_cookies(&options.cookies)?,
    };
    if !(credentials.headers.is_empty() && credentials.cookies.is_empty()) {
        // A token or session given for one site must not reach another.
        let mut hosts: Vec<&str> = targets.iter().map(|t| t.endpoint.host.as_str()).collect();
        hosts.sort_unstable();
        hosts.dedup();
        if hosts.len() > 1 {
            return Err(ScanError::CredentialsAcrossHosts(hosts.join(", ")));
        }
    }
    let keys = checks::session::Candidates::load(options.wordlist.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ScanError::Runtime(e.to_string()))?;
    runtime.block_on(run(options, &targets, &keys, credentials))
}

async fn run(
    options: &ScanOptions,
    targets: &[Target],
    keys: &checks::session::Candidates,
    credentials: client::Credentials,
) -> Result<Report, ScanError> {
    let limits = Limits {
        timeout: options.timeout,
        body_cap: options.body_cap,
        concurrency: options.concurrency,
        deadline: tokio::time::Instant::now() + options.budget,
    };
    let client = client::Client::new(limits)
        .map_err(|e| ScanError::Tls(e.to_string()))?
        .with_credentials(credentials);
    let mut report = Report::new("scan");
    report.targets = targets.iter().map(|t| t.url.clone()).collect();
    let target_opts = engine::TargetOptions {
        active: options.active,
        login_paths: options.login_paths.clone(),
    };
    let mut failures = Vec::new();
    let mut scores = Vec::new();
    let several = targets.len() > 1;
    for target in targets {
        let mut obs = match engine::scan_target(&client, target, &target_opts).await {
            Ok(obs) => obs,
            Err(reason) => {
                report.diagnostics.push(Diagnostic {
                    level: DiagnosticLevel::Error,
                    source: Some(target.url.clone()),
                    message: format!("target not scanned: {reason}"),
                });
                failures.push(reason);
                continue;
            }
        };
        obs.session_keys = Some(keys.clone());
        let verdicts = checks::run_all(&obs);
        diagnostics(&obs, &mut report);
        for v in &verdicts {
            if let Some(severity) = v.spec.severity {
                let mut f = Finding::new(
                    v.spec.control,
                    v.spec.name,
                    v.message(),
                    Location::url(&v.url),
                )
                .with_severity(severity);
                if !v.spec.fix.is_empty() {
                    f = f.with_fix(v.spec.fix);
                }
                if let Some(e) = &v.evidence {
                    f = f.with_evidence(e.clone());
                }
                report.findings.push(f);
            }
        }
        scores.push(score::score(
            &verdicts,
            several.then_some(target.url.as_str()),
        ));
    }
    if failures.len() == targets.len() {
        return Err(ScanError::Unreachable(failures.join("; ")));
    }
    // The report's grade is the worst target's.
    report.score = scores.into_iter().min_by_key(|s| s.score);
    report.sort();
    Ok(report)
}

/// What kept the scan from seeing everything: cut bodies, the time budget,
/// failed probes, a login endpoint it could not find.
fn diagnostics(obs: &observations::Observations, report: &mut Report) {
    let warn = |message: String| Diagnostic {
        level: DiagnosticLevel::Warning,
        source: Some(obs.target.url.clone()),
        message,
    };
    if let Some((e, _)) = obs.answered().find(|(_, r)| r.truncated) {
        report.diagnostics.push(warn(format!(
            "response body of {} was cut at {} bytes (the body cap); checks saw only that part",
            e.url(),
            report_cap(obs)
        )));
    }
    if !obs.skipped.is_empty() {
        report.diagnostics.push(warn(format!(
            "the time budget ran out: {} probe(s) were not sent (raise --budget)",
            obs.skipped.len()
        )));
    }
    let failed: Vec<&observations::Exchange> = obs
        .exchanges
        .iter()
        .filter(|e| matches!(&e.result, Err(err) if !matches!(err, client::FetchError::Budget)))
        .collect();
    if let Some(first) = failed.first() {
        let err = first
            .result
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        report.diagnostics.push(warn(format!(
            "{} probe(s) got no answer; first: {} {}: {err}",
            failed.len(),
            first.request.method,
            first.url()
        )));
    }
    if obs.active && obs.discovery.login_paths.is_empty() {
        report.diagnostics.push(warn(
            "no login endpoint found, so login rate limiting (RL003) was not tested; name one with --login-path".into(),
        ));
    }
    if let Some(chain) = &obs.redirects {
        if let Some(off) = &chain.off_host {
            report.diagnostics.push(warn(format!(
                "redirect to another host recorded, not followed: {off}"
            )));
        }
    }
}

fn report_cap(obs: &observations::Observations) -> usize {
    obs.answered()
        .filter(|(_, r)| r.truncated)
        .map(|(_, r)| r.body.len())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn credentials_never_go_to_several_hosts() {
        let options = |targets: &[&str], headers: &[&str], cookies: &[&str]| ScanOptions {
            targets: s(targets),
            headers: s(headers),
            cookies: s(cookies),
            timeout: std::time::Duration::from_millis(200),
            budget: std::time::Duration::from_secs(2),
            ..ScanOptions::default()
        };
        let two_hosts = ["http://127.0.0.1:1/", "http://localhost:1/api"];
        for (headers, cookies) in [
            (&["Authorization: Bearer t0k3n"][..], &[][..]),
            (&[], &["session=s3cr3t"]),
        ] {
            let e = scan(&options(&two_hosts, headers, cookies)).unwrap_err();
            assert!(matches!(e, ScanError::CredentialsAcrossHosts(_)), "{e}");
            let text = e.to_string();
            assert!(text.contains("127.0.0.1, localhost"), "{text}");
            assert!(
                !text.contains("t0k3n") && !text.contains("s3cr3t"),
                "{text}"
            );
        }
        // Without credentials, or with every target on one host (other ports and
        // schemes included), the run goes ahead (here: to closed ports).
        let same_host = ["http://127.0.0.1:1/", "https://127.0.0.1:2/"];
        for opts in [
            options(&two_hosts, &[], &[]),
            options(&same_host, &["X-Api-Key: k"], &["a=b"]),
        ] {
            if let Err(e) = scan(&opts) {
                assert!(!matches!(e, ScanError::CredentialsAcrossHosts(_)), "{e}");
            }
        }
    }

    #[test]
    fn headers_and_cookies_are_read_and_bad_ones_refused_without_their_value() {
        assert_eq!(
            parse_headers(&s(&["Authorization: Bearer abc:def", "X-Api-Key:k"])).unwrap(),
            [
                ("Authorization".to_string(), "Bearer abc:def".to_string()),
                ("X-Api-Key".to_string(), "k".to_string())
            ]
        );
        for (bad, says) in [
            ("no colon here", "expected `Name: value`"),
            ("Bad Name: x", "not a valid header name"),
            ("Host: evil.test", "sets this header itself"),
            ("Content-Length: 5", "sets this header itself"),
            ("Cookie: a=b", "--cookie"),
            ("X-Token: sec\r\nret", "control characters"),
        ] {
            let e = parse_headers(&s(&[bad])).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(
                !e.contains("ret") && !e.contains("evil"),
                "value leaked: {e}"
            );
        }
        assert_eq!(
            parse_cookies(&s(&["session=eyJ.a.b; theme=dark", "session=last"])).unwrap(),
            [
                ("theme".to_string(), "dark".to_string()),
                ("session".to_string(), "last".to_string())
            ]
        );
        for bad in ["novalue", "=x", "a b=c", "s=has space", "s=a,b"] {
            let e = parse_cookies(&s(&[bad])).unwrap_err().to_string();
            assert!(e.starts_with("--cookie"), "{bad}: {e}");
        }
    }
}
