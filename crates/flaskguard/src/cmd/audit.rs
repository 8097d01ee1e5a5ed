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
    if args.routes {
        let text = match resolved.format {
            Format::Json => audit::routes_report::json(&outcome.project),
            Format::Text => audit::routes_report::table(&outcome.project),
            _ => bail!("--routes prints text or json; choose one with --output-format"),
        };
        report::emit(&text, resolved.output.as_deref())?;
        return Ok(exit::CLEAN);
    }
    output::finish(outcome.report, &resolved, color)
}
