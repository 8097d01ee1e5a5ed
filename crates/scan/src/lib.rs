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
    let keys = checks::session::Candidates::load(options.wordlist.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ScanError::Runtime(e.to_string()))?;
    runtime.block_on(run(options, &targets, &keys))
}

async fn run(
    options: &ScanOptions,
    targets: &[Target],
    keys: &checks::session::Candidates,
) -> Result<Report, ScanError> {
    let limits = Limits {
        timeout: options.timeout,
        body_cap: options.body_cap,
        concurrency: options.concurrency,
        deadline: tokio::time::Instant::now() + options.budget,
    };
    let client = client::Client::new(limits).map_err(|e| ScanError::Tls(e.to_string()))?;
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
