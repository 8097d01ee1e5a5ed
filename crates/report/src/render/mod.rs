//! Renderers: one module per output format.

mod github;
pub mod html;
mod json;
mod sarif;
mod text;

use std::{fmt, path::Path, str::FromStr};

use crate::Report;

/// An output format of `audit` and `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
    Html,
}

impl Format {
    pub const NAMES: [&'static str; 5] = ["text", "json", "sarif", "github", "html"];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format `{0}` (expected one of: text, json, sarif, github, html)")]
pub struct ParseFormatError(pub String);

impl FromStr for Format {
    type Err = ParseFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "github" => Ok(Format::Github),
            "html" => Ok(Format::Html),
            _ => Err(ParseFormatError(s.to_string())),
        }
    }
}

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colour in text output. The caller decides (TTY, `NO_COLOR`, `--color`).
    pub color: bool,
}

/// Renders a report in `format`. Text output reads source files under the report's
/// root for code frames; a file that cannot be read just gets no frame.
pub fn render(report: &Report, format: Format, options: &RenderOptions) -> String {
    match format {
        Format::Text => text::render(report, options),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
        Format::Html => html::render(report),
    }
}

/// Joins a report-relative path onto the root, for reading sources.
pub(crate) fn source_path(report: &Report, rel: &str) -> std::path::PathBuf {
    match &report.root {
        Some(root) => root.join(rel),
        None => Path::new(rel).to_path_buf(),
    }
}
