//! `flaskguard scan URL...`: wiring only. Command-line flags over the `[scan]`
//! section of the config file over defaults; the scan crate does the work.

use std::{path::Path, time::Duration};

use anyhow::{bail, Context};
use config::ConfigFile;
use scan::{settings::ScanSettings, ScanOptions};

use crate::{
    cli::{Color, ScanArgs},
    output::{self, FileSettings},
};

pub fn run(args: &ScanArgs, color: Color) -> anyhow::Result<u8> {
    let cfg = match &args.report.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::discover(Path::new("."))?.unwrap_or_else(ConfigFile::empty),
    };
    let settings: ScanSettings = cfg.section("scan")?;
    let source = if cfg.is_file() {
        cfg.path.display().to_string()
    } else {
        "flaskguard.toml".to_string()
    };
    let file = FileSettings {
        select: settings.select.clone(),
        ignore: settings.ignore.clone(),
        fail_on: settings.fail_on.clone(),
        output_format: settings.output_format.clone(),
        source: source.clone(),
    };
    let resolved = output::Resolved::new(&args.report, &file)?;
    let options = options(args, &settings, cfg.dir(), &source)?;
    let report = scan::scan(&options)?;
    output::finish(report, &resolved, color)
}

fn options(
    args: &ScanArgs,
    settings: &ScanSettings,
    config_dir: Option<&Path>,
    source: &str,
) -> anyhow::Result<ScanOptions> {
    let mut targets = args.urls.clone();
    if let Some(file) = &args.targets {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("{}: cannot read the target list", file.display()))?;
        targets.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    if targets.is_empty() {
        targets = settings.targets.clone();
    }
    let seconds = |cli: Option<f64>,
                   file: Option<f64>,
                   key: &str,
                   default: f64|
     -> anyhow::Result<Duration> {
        let (value, from) = match (cli, file) {
            (Some(v), _) => (v, format!("--{key}")),
            (None, Some(v)) => (v, format!("{source}: `scan.{key}`")),
            (None, None) => (default, String::new()),
        };
        if !(value.is_finite() && value > 0.0 && value <= 86_400.0) {
            bail!("{from}: expected a number of seconds between 0 and 86400, got {value}");
        }
        Ok(Duration::from_secs_f64(value))
    };
    let concurrency = args.concurrency.or(settings.concurrency).unwrap_or(8);
    if concurrency == 0 || concurrency > 256 {
        bail!("--concurrency: expected 1 to 256, got {concurrency}");
    }
    let wordlist = match (&args.wordlist, &settings.wordlist) {
        (Some(w), _) => Some(w.clone()),
        (None, Some(w)) => Some(match config_dir {
            Some(dir) if w.is_relative() => dir.join(w),
            _ => w.clone(),
        }),
        (None, None) => None,
    };
    let mut login_paths = args.login_paths.clone();
    if login_paths.is_empty() {
        login_paths = settings.login_paths.clone();
    }
    Ok(ScanOptions {
        targets,
        active: args.active || settings.active.unwrap_or(false),
        login_paths,
        wordlist,
        concurrency,
        timeout: seconds(args.timeout, settings.timeout, "timeout", 10.0)?,
        budget: seconds(args.budget, settings.budget, "budget", 120.0)?,
        headers: args.headers.clone(),
        cookies: args.cookies.clone(),
        ..ScanOptions::default()
    })
}
