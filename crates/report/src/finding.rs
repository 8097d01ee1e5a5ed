//! The data every engine produces.

use std::path::PathBuf;

use checklist::Severity;
use serde::Serialize;

/// A place in a file. Lines and columns are 1-based; columns count Unicode scalar
/// values; `end_column` is exclusive, as in SARIF.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FileLocation {
    /// Relative to the report's root, with `/` separators.
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl FileLocation {
    /// A location covering one point (or, with column 1, the start of a line).
    pub fn point(path: impl Into<String>, line: u32, column: u32) -> Self {
        let line = line.max(1);
        let column = column.max(1);
        FileLocation {
            path: path.into(),
            line,
            column,
            end_line: line,
            end_column: column + 1,
        }
    }
}

/// Where a finding was observed: a place in a file (audit) or a URL (scan).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    File(FileLocation),
    Url { url: String },
}

impl Location {
    pub fn url(url: impl Into<String>) -> Self {
        Location::Url { url: url.into() }
    }

    pub fn file(&self) -> Option<&FileLocation> {
        match self {
            Location::File(f) => Some(f),
            Location::Url { .. } => None,
        }
    }

    /// `path:line:col` or the URL.
    pub fn display(&self) -> String {
        match self {
            Location::File(f) => format!("{}:{}:{}", f.path, f.line, f.column),
            Location::Url { url } => url.clone(),
        }
    }
}

/// A secondary location that explains a finding ("DEBUG set here", "production
/// config chosen here").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// One failed control at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The control ID from the catalog (`DBG001`).
    pub control: String,
    pub severity: Severity,
    /// The engine's own name for what fired: an audit rule or a scan check outcome
    /// (`debug-mode-enabled`, `hsts-max-age-too-short`).
    pub check: String,
    /// What is wrong, in one sentence.
    pub message: String,
    pub location: Location,
    /// How to fix it, in one or two sentences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// What was seen: a header value, a response excerpt, a source excerpt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

impl Finding {
    /// A finding with the control's catalog severity.
    ///
    /// # Panics
    /// When `control` is not in the catalog: engines only emit registered IDs, and a
    /// typo must fail their tests rather than produce an unknown ID.
    pub fn new(
        control: &str,
        check: impl Into<String>,
        message: impl Into<String>,
        location: Location,
    ) -> Self {
        let c = checklist::get(control)
            .unwrap_or_else(|| panic!("finding for unknown control {control}"));
        Finding {
            control: c.id.to_string(),
            severity: c.severity,
            check: check.into(),
            message: message.into(),
            location,
            fix: None,
            evidence: None,
            related: Vec::new(),
        }
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn with_evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence = Some(evidence.into());
        self
    }

    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related {
            location,
            message: message.into(),
        });
        self
    }

    fn sort_key(&self) -> (&Location, &str, &str, &str) {
        (&self.location, &self.control, &self.check, &self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticLevel {
    Warning,
    Error,
}

/// Something that kept an engine from looking at part of its input (a file that
/// does not parse, a URL that does not answer). Not a finding about the app.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    pub level: DiagnosticLevel,
    /// The file (relative to the root) or URL concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub message: String,
}

/// One line of a score explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreLine {
    /// The named outcome that moved the score (`hsts-missing`).
    pub outcome: String,
    pub control: String,
    pub modifier: i32,
    /// Whose scoring table the modifier comes from: `observatory` or `flaskguard`.
    pub table: String,
    pub reason: String,
}

/// A score and grade with the lines that explain them (scan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    pub score: i32,
    pub grade: String,
    pub lines: Vec<ScoreLine>,
}

/// Counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub total: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl Summary {
    pub fn count(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// What an engine run produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `audit` or `scan`.
    pub engine: String,
    /// The directory file locations are relative to (audit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// The audited paths or scanned URLs.
    pub targets: Vec<String>,
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
}

impl Report {
    pub fn new(engine: impl Into<String>) -> Self {
        Report {
            engine: engine.into(),
            root: None,
            targets: Vec::new(),
            findings: Vec::new(),
            diagnostics: Vec::new(),
            score: None,
        }
    }

    /// Puts findings and diagnostics in a stable order, so the same input gives the
    /// same bytes.
    pub fn sort(&mut self) {
        self.findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.findings.dedup();
        self.diagnostics.sort();
        self.diagnostics.dedup();
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            total: self.findings.len(),
            ..Summary::default()
        };
        for f in &self.findings {
            match f.severity {
                Severity::Critical => s.critical += 1,
                Severity::High => s.high += 1,
                Severity::Medium => s.medium += 1,
                Severity::Low => s.low += 1,
                Severity::Info => s.info += 1,
            }
        }
        s
    }

    /// Whether any finding is at or above `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_takes_catalog_severity() {
        let f = Finding::new("DBG001", "x", "m", Location::url("http://a/"));
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.with_severity(Severity::Low).severity, Severity::Low);
    }

    #[test]
    #[should_panic(expected = "unknown control")]
    fn unknown_control_panics_in_engine_code() {
        let _ = Finding::new("NOPE001", "x", "m", Location::url("http://a/"));
    }

    #[test]
    fn sort_is_stable_and_dedups() {
        let mut r = Report::new("audit");
        let at = |p: &str, l| Location::File(FileLocation::point(p, l, 1));
        r.findings
            .push(Finding::new("KEY001", "a", "m", at("b.py", 3)));
        r.findings
            .push(Finding::new("DBG001", "a", "m", at("a.py", 9)));
        r.findings
            .push(Finding::new("DBG001", "a", "m", at("a.py", 2)));
        r.findings
            .push(Finding::new("DBG001", "a", "m", at("a.py", 2)));
        r.sort();
        let lines: Vec<_> = r.findings.iter().map(|f| f.location.display()).collect();
        assert_eq!(lines, ["a.py:2:1", "a.py:9:1", "b.py:3:1"]);
        let s = r.summary();
        assert_eq!((s.total, s.critical), (3, 3));
        assert!(r.fails(Severity::High));
        assert!(!Report::new("audit").fails(Severity::Info));
    }
}
