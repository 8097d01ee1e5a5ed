//! Output handling shared by the report-producing commands (`audit`, `scan`): the
//! common flags, merging them over the config file, rendering, writing, exit code.

use std::{io::IsTerminal, path::PathBuf};

use anyhow::Context;
use checklist::{Selector, Severity};
use clap::Args;
use report::{Format, RenderOptions, Report};

use crate::{cli::Color, exit};

/// Flags every report-producing command takes. Each overrides the same key of the
/// command's config section.
#[derive(Debug, Clone, Default, Args)]
pub struct ReportArgs {
    /// Output format: text, json, sarif, github or html [default: text].
    #[arg(long, value_name = "FORMAT")]
    pub output_format: Option<String>,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity: critical, high, medium, low, info, or never [default: low].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Report only these controls: IDs or area prefixes, comma-separated (e.g. KEY,DBG001).
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Do not report these controls: IDs or area prefixes, comma-separated.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,
    /// Use this configuration file instead of looking for flaskguard.toml / pyproject.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The same settings as read from a config section (`[audit]`, `[scan]`). Engines
/// fill this from their own section type.
#[derive(Debug, Clone, Default)]
pub struct FileSettings {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub fail_on: Option<String>,
    pub output_format: Option<String>,
    /// For messages: `flaskguard.toml`, `pyproject.toml`...
    pub source: String,
}

/// Command line over config file over defaults.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub format: Format,
    pub output: Option<PathBuf>,
    /// None means never fail on findings.
    pub fail_on: Option<Severity>,
    pub selector: Selector,
}

impl Resolved {
    pub fn new(cli: &ReportArgs, file: &FileSettings) -> anyhow::Result<Resolved> {
        let from = |cli_set: bool, key: &str| {
            if cli_set {
                format!("--{key}")
            } else {
                format!("{}: `{key}`", file.source)
            }
        };
        let format = match (&cli.output_format, &file.output_format) {
            (Some(f), _) => f.parse().with_context(|| from(true, "output-format"))?,
            (None, Some(f)) => f.parse().with_context(|| from(false, "output-format"))?,
            (None, None) => Format::Text,
        };
        let fail_on = match (&cli.fail_on, &file.fail_on) {
            (Some(s), _) => parse_fail_on(s).with_context(|| from(true, "fail-on"))?,
            (None, Some(s)) => parse_fail_on(s).with_context(|| from(false, "fail-on"))?,
            (None, None) => Some(Severity::Low),
        };
        let (select, select_cli) = match (&cli.select, &file.select) {
            (Some(s), _) => (s.clone(), true),
            (None, Some(s)) => (s.clone(), false),
            (None, None) => (Vec::new(), true),
        };
        let (ignore, ignore_cli) = match (&cli.ignore, &file.ignore) {
            (Some(s), _) => (s.clone(), true),
            (None, Some(s)) => (s.clone(), false),
            (None, None) => (Vec::new(), true),
        };
        // Validate each list on its own so the error names where it came from.
        Selector::new(&select, &[] as &[String]).with_context(|| from(select_cli, "select"))?;
        Selector::new(&[] as &[String], &ignore).with_context(|| from(ignore_cli, "ignore"))?;
        let selector = Selector::new(&select, &ignore)?;
        Ok(Resolved {
            format,
            output: cli.output.clone(),
            fail_on,
            selector,
        })
    }
}

fn parse_fail_on(s: &str) -> anyhow::Result<Option<Severity>> {
    if s.eq_ignore_ascii_case("never") || s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    Ok(Some(s.parse::<Severity>().map_err(|_| {
        anyhow::anyhow!(
            "unknown severity `{s}` (expected one of: critical, high, medium, low, info, never)"
        )
    })?))
}

/// Drops unselected findings, renders, writes, and returns the exit code.
pub fn finish(mut report: Report, settings: &Resolved, color: Color) -> anyhow::Result<u8> {
    report
        .findings
        .retain(|f| settings.selector.enabled(&f.control));
    report.sort();
    let options = RenderOptions {
        color: use_color(color, settings.output.is_some()),
    };
    let text = report::render(&report, settings.format, &options);
    report::emit(&text, settings.output.as_deref())?;
    Ok(match settings.fail_on {
        Some(threshold) if report.fails(threshold) => exit::FINDINGS,
        _ => exit::CLEAN,
    })
}

/// Whether to colour output that goes to standard output.
pub fn use_color(choice: Color, to_file: bool) -> bool {
    match choice {
        Color::Always => !to_file,
        Color::Never => false,
        Color::Auto => {
            !to_file
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_overrides_file_and_errors_name_the_source() {
        let file = FileSettings {
            select: Some(vec!["KEY".into()]),
            fail_on: Some("high".into()),
            output_format: Some("json".into()),
            source: "flaskguard.toml".into(),
            ..Default::default()
        };
        let r = Resolved::new(&ReportArgs::default(), &file).unwrap();
        assert_eq!(r.format, Format::Json);
        assert_eq!(r.fail_on, Some(Severity::High));
        assert!(r.selector.enabled("KEY001") && !r.selector.enabled("DBG001"));

        let cli = ReportArgs {
            output_format: Some("sarif".into()),
            fail_on: Some("never".into()),
            select: Some(vec!["DBG".into()]),
            ..Default::default()
        };
        let r = Resolved::new(&cli, &file).unwrap();
        assert_eq!(r.format, Format::Sarif);
        assert_eq!(r.fail_on, None);
        assert!(r.selector.enabled("DBG001") && !r.selector.enabled("KEY001"));

        let bad = FileSettings {
            ignore: Some(vec!["KEYY".into()]),
            source: "pyproject.toml".into(),
            ..Default::default()
        };
        let e = format!(
            "{:#}",
            Resolved::new(&ReportArgs::default(), &bad).unwrap_err()
        );
        assert!(
            e.contains("pyproject.toml: `ignore`") && e.contains("KEYY"),
            "{e}"
        );
        let cli = ReportArgs {
            fail_on: Some("severe".into()),
            ..Default::default()
        };
        let e = format!(
            "{:#}",
            Resolved::new(&cli, &FileSettings::default()).unwrap_err()
        );
        assert!(e.contains("--fail-on") && e.contains("severe"), "{e}");
    }
}
