//! `flaskguard audit [PATH...]`: settings from the `[audit]` config section and
//! the command line, the run, and the report (or the route inventory).

use std::path::PathBuf;

use anyhow::{bail, Context};
use audit::{AuditConfig, AuditSettings};
use config::ConfigFile;
use report::Format;

use crate::{
    cli::{AuditArgs, Color},
    exit,
    output::{self, FileSettings, Resolved},
};

pub fn run(args: &AuditArgs, color: Color) -> anyhow::Result<u8> {
    let paths: Vec<PathBuf> = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    for p in &paths {
        if std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let cfg = match &args.report.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::discover(&paths[0])?.unwrap_or_else(ConfigFile::empty),
    };
    let section: AuditConfig = cfg.section("audit")?;
    let file = FileSettings {
        select: section.select.clone(),
        ignore: section.ignore.clone(),
        fail_on: section.fail_on.clone(),
        output_format: section.output_format.clone(),
        source: if cfg.is_file() {
            cfg.path.display().to_string()
        } else {
            "config".into()
        },
    };
    let resolved = Resolved::new(&args.report, &file)?;

    let mut settings = AuditSettings::from_config(&section, cfg.dir());
    if let Some(exclude) = &args.exclude {
        settings.exclude = exclude.clone();
        settings
            .exclude
            .extend(section.extend_exclude.iter().cloned());
    }
    if let Some(extra) = &args.extend_exclude {
        settings.exclude.extend(extra.iter().cloned());
    }
    settings.include_tests |= args.include_tests;
    if let Some(adv) = &args.advisories {
        settings.advisories = Some(adv.clone());
    }
    if let Some(adv) = &settings.advisories {
        if !adv.exists() {
            bail!("{}: advisories path does not exist", adv.display());
        }
    }
    settings.selector = resolved.selector.clone();

    let outcome = audit::run(&paths, &settings).context("audit")?;
    // The model of a large tree takes a noticeable share of the run to free, one
    // allocation at a time, and the process is about to exit: leave it to the OS.
    let project = std::mem::ManuallyDrop::new(outcome.project);
    if args.routes {
        let text = match resolved.format {
            Format::Json => audit::routes_report::json(&project),
            Format::Text => audit::routes_report::table(&project),
            _ => bail!("--routes prints text or json; choose one with --output-format"),
        };
        report::emit(&text, resolved.output.as_deref())?;
        return Ok(exit::CLEAN);
    }
    let mut report = outcome.report;
    if cfg.has_section("shield") {
        edge_enforced(&mut report, &cfg);
    }
    output::finish(report, &resolved, color)
}

/// Controls whose audit findings a gateway in front of the app makes hold for
/// every request: headers, CORS, CSRF, rate limits, Host check, input limits,
/// error pages, cookie flags, the HTTPS redirect. Findings about the code or
/// the deployment themselves (debug mode, secrets, auth, injection, a limiter's
/// storage) stay as they are whatever shield does.
const AT_THE_EDGE: &[&str] = &[
    "HDR001", "HDR002", "HDR003", "HDR004", "HDR005", "HDR006", "HDR007", "HDR008", "HDR009",
    "PRX002", "INP001", "INP003", "INP005", "INP007", "CSR001", "COR001", "COR002", "COR003",
    "RL001", "RL003", "RL004", "ERR002", "ERR003", "CKE001", "CKE002", "CKE003", "CKE006",
    "TLS001", "TLS002",
];

/// A project whose config file has a `[shield]` section runs flaskguard shield
/// in front of the app: findings of controls that config makes shield enforce
/// (see [`shield::enforced_controls`]) become info, saying so. A `[shield]`
/// section shield would refuse changes nothing and is reported.
fn edge_enforced(report: &mut report::Report, cfg: &ConfigFile) {
    let source = cfg.path.display().to_string();
    let enforced = cfg
        .section::<shield::Settings>("shield")
        .map_err(|e| e.to_string())
        .and_then(|mut s| {
            // The upstream may come from the command line (`--upstream`).
            if s.upstream.trim().is_empty() {
                s.upstream = "http://127.0.0.1:8000".into();
            }
            shield::enforced_controls(&s)
        });
    let enforced = match enforced {
        Ok(e) => e,
        Err(e) => {
            report.diagnostics.push(report::Diagnostic {
                level: report::DiagnosticLevel::Warning,
                source: Some(source),
                message: format!(
                    "the [shield] section is not a config shield would start with, so no finding is counted as enforced by it: {e}"
                ),
            });
            return;
        }
    };
    for f in &mut report.findings {
        if !AT_THE_EDGE.contains(&f.control.as_str()) {
            continue;
        }
        // HDR008 (no header mechanism at all) is met by shield's header layer.
        let control = if f.control == "HDR008" {
            "HDR001"
        } else {
            f.control.as_str()
        };
        if let Some(layer) = enforced.get(control) {
            f.message = format!(
                "{} (enforced at runtime by flaskguard shield: its `{layer}` layer, [shield] in {source})",
                f.message
            );
            f.severity = checklist::Severity::Info;
        }
    }
}
