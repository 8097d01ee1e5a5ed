//! `--output-format text`: ruff-like lines with code frames, then a summary.
//!
//! Audit findings read `path:line:col: ID [severity] message` followed by a frame of
//! the source with a caret under the span; scan findings are grouped by severity
//! with their evidence. Colour only when the caller asks for it.

use checklist::Severity;

use crate::{render::source_path, Finding, Location, RenderOptions, Report};

const MAX_FRAME_WIDTH: usize = 160;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn severity(&self, sev: Severity, s: &str) -> String {
        let code = match sev {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "34",
        };
        self.paint(code, s)
    }
}

/// One file's text and where its lines start.
struct SourceFile {
    text: String,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
}

impl SourceFile {
    fn new(text: String) -> SourceFile {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        if starts.last() == Some(&text.len()) && !text.is_empty() {
            // A final newline ends the last line; it does not start one.
            starts.pop();
        }
        if text.is_empty() {
            starts.clear();
        }
        SourceFile { text, starts }
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    /// Line `n` (1-based), without its line ending (as `str::lines`).
    fn line(&self, n: usize) -> &str {
        let start = self.starts[n - 1];
        let end = self.starts.get(n).copied().unwrap_or(self.text.len());
        let line = &self.text[start..end];
        match line.strip_suffix('\n') {
            Some(l) => l.strip_suffix('\r').unwrap_or(l),
            None => line,
        }
    }
}

/// Source lines of the file the last finding was in. Findings come sorted by file,
/// so each file is read once, and only one is held at a time (a report over a large
/// tree would otherwise keep every quoted file until it is written).
struct Sources<'a> {
    report: &'a Report,
    current: Option<(String, Option<SourceFile>)>,
}

impl<'a> Sources<'a> {
    fn lines(&mut self, rel: &str) -> Option<&SourceFile> {
        if self.current.as_ref().is_none_or(|(path, _)| path != rel) {
            let read = || {
                let path = source_path(self.report, rel);
                let meta = std::fs::metadata(&path).ok()?;
                if meta.len() > 10 * 1024 * 1024 {
                    return None;
                }
                let bytes = std::fs::read(&path).ok()?;
                Some(SourceFile::new(
                    String::from_utf8_lossy(&bytes).into_owned(),
                ))
            };
            self.current = Some((rel.to_string(), read()));
        }
        self.current.as_ref().and_then(|(_, f)| f.as_ref())
    }
}

pub(super) fn render(report: &Report, options: &RenderOptions) -> String {
    let style = Style { on: options.color };
    let mut sources = Sources {
        report,
        current: None,
    };
    let mut out = String::new();

    if report.engine == "scan" {
        for sev in Severity::ALL {
            let group: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.severity == sev)
                .collect();
            if group.is_empty() {
                continue;
            }
            out.push_str(&style.severity(
                sev,
                &format!("{} ({})", sev.as_str().to_uppercase(), group.len()),
            ));
            out.push('\n');
            for f in group {
                finding(&mut out, f, &style, &mut sources);
            }
        }
    } else {
        for f in &report.findings {
            finding(&mut out, f, &style, &mut sources);
        }
    }

    for d in &report.diagnostics {
        let level = match d.level {
            crate::DiagnosticLevel::Error => style.paint("1;31", "error"),
            crate::DiagnosticLevel::Warning => style.paint("1;33", "warning"),
        };
        match &d.source {
            Some(src) => out.push_str(&format!("{level}: {}: {}\n", style.bold(src), d.message)),
            None => out.push_str(&format!("{level}: {}\n", d.message)),
        }
    }

    if let Some(score) = &report.score {
        out.push_str(&format!(
            "\n{} {} (score {}/100)\n",
            style.bold("Grade:"),
            style.bold(&score.grade),
            score.score
        ));
        for line in &score.lines {
            out.push_str(&format!(
                "  {:>+4}  {:<7} {:<40} {} [{}]\n",
                line.modifier, line.control, line.outcome, line.reason, line.table
            ));
        }
    }

    let s = report.summary();
    if s.total == 0 {
        out.push_str(&style.bold("No findings.\n"));
    } else {
        let parts: Vec<String> = Severity::ALL
            .iter()
            .filter(|sev| s.count(**sev) > 0)
            .map(|sev| style.severity(*sev, &format!("{} {}", s.count(*sev), sev.as_str())))
            .collect();
        out.push_str(&format!(
            "{} {} {}: {}.\n",
            style.bold("Found"),
            s.total,
            if s.total == 1 { "finding" } else { "findings" },
            parts.join(", ")
        ));
    }
    out
}

fn finding(out: &mut String, f: &Finding, style: &Style, sources: &mut Sources<'_>) {
    let head = match &f.location {
        Location::File(l) => format!("{}:{}:{}:", style.bold(&l.path), l.line, l.column),
        Location::Url { url } => format!("{}:", style.bold(url)),
    };
    out.push_str(&format!(
        "{head} {} {} {}\n",
        style.severity(f.severity, &f.control),
        style.dim(&format!("[{}]", f.severity)),
        f.message
    ));
    let gutter_width = match &f.location {
        Location::File(l) => {
            let w = (l.line + 1).to_string().len();
            if let Some(lines) = sources.lines(&l.path) {
                frame(
                    out,
                    lines,
                    l.line,
                    l.column,
                    l.end_line,
                    l.end_column,
                    w,
                    style,
                );
            }
            w
        }
        Location::Url { .. } => 1,
    };
    let pad = " ".repeat(gutter_width);
    if let Some(ev) = &f.evidence {
        let ev = truncate(ev.lines().next().unwrap_or(""), 200);
        out.push_str(&format!("{pad} = {} {ev}\n", style.bold("evidence:")));
    }
    for r in &f.related {
        out.push_str(&format!(
            "{pad} = {} {}: {}\n",
            style.bold("note:"),
            r.location.display(),
            r.message
        ));
    }
    if let Some(fix) = &f.fix {
        out.push_str(&format!("{pad} = {} {fix}\n", style.paint("1;32", "help:")));
    }
    out.push_str(&format!(
        "{} {}\n\n",
        pad,
        style.dim(&format!("(check: {})", f.check))
    ));
}

#[allow(clippy::too_many_arguments)]
fn frame(
    out: &mut String,
    lines: &SourceFile,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    width: usize,
    style: &Style,
) {
    let idx = line as usize;
    if idx == 0 || idx > lines.len() {
        return;
    }
    let bar = style.dim("|");
    out.push_str(&format!("{} {bar}\n", " ".repeat(width)));
    let first = idx.saturating_sub(1).max(1);
    let last = (idx + 1).min(lines.len());
    for n in first..=last {
        let (text, _) = expand(lines.line(n), usize::MAX);
        out.push_str(&format!(
            "{} {bar} {}\n",
            style.dim(&format!("{n:>width$}")),
            truncate(&text, MAX_FRAME_WIDTH)
        ));
        if n == idx {
            let raw = lines.line(n);
            let start_char = (column.max(1) - 1) as usize;
            let end_char = if end_line == line && end_column > column {
                (end_column - 1) as usize
            } else {
                raw.chars().count().max(start_char + 1)
            };
            let (_, start) = expand(raw, start_char);
            let (_, end) = expand(raw, end_char);
            let start = start.min(MAX_FRAME_WIDTH);
            let len = end
                .saturating_sub(start)
                .clamp(1, MAX_FRAME_WIDTH.saturating_sub(start).max(1));
            out.push_str(&format!(
                "{} {bar} {}{}\n",
                " ".repeat(width),
                " ".repeat(start),
                style.severity(Severity::Critical, &"^".repeat(len))
            ));
        }
    }
    out.push_str(&format!("{} {bar}\n", " ".repeat(width)));
}

/// Expands tabs to four spaces; returns the text and the display width of its first
/// `upto` characters.
fn expand(line: &str, upto: usize) -> (String, usize) {
    let mut text = String::with_capacity(line.len());
    let mut width_at = None;
    for (i, c) in line.chars().enumerate() {
        if i == upto {
            width_at = Some(text.chars().count());
        }
        if c == '\t' {
            text.push_str("    ");
        } else if c.is_control() {
            text.push(' ');
        } else {
            text.push(c);
        }
    }
    let width = width_at
        .unwrap_or_else(|| text.chars().count() + upto.saturating_sub(line.chars().count()).min(1));
    (text, width)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::{FileLocation, Finding, Location, Report};

    #[test]
    fn source_lines_split_like_str_lines() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "\n\nx\n\n",
            "é\r\n\tö",
        ] {
            let f = SourceFile::new(text.to_string());
            let got: Vec<&str> = (1..=f.len()).map(|n| f.line(n)).collect();
            let want: Vec<&str> = text.lines().collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    fn project() -> (tempfile::TempDir, Report) {
        let dir = tempfile::tempdir().unwrap();
        let mut f = std::fs::File::create(dir.path().join("app.py")).unwrap();
        writeln!(f, "from flask import Flask\napp = Flask(__name__)\napp.secret_key = \"dev\"\n\tapp.debug = True").unwrap();
        let mut r = Report::new("audit");
        r.root = Some(dir.path().to_path_buf());
        r.findings.push(
            Finding::new(
                "KEY002",
                "weak-secret-key",
                "SECRET_KEY `dev` is in the list of well-known keys",
                Location::File(FileLocation {
                    path: "app.py".into(),
                    line: 3,
                    column: 18,
                    end_line: 3,
                    end_column: 23,
                }),
            )
            .with_fix(
                "generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`",
            ),
        );
        r.findings.push(Finding::new(
            "DBG001",
            "debug-mode-enabled",
            "debug on",
            Location::File(FileLocation {
                path: "app.py".into(),
                line: 4,
                column: 2,
                end_line: 4,
                end_column: 16,
            }),
        ));
        (dir, r)
    }

    #[test]
    fn ruff_like_lines_with_caret_frames() {
        let (_dir, r) = project();
        let out = render(&r, &RenderOptions { color: false });
        assert!(
            out.contains("app.py:3:18: KEY002 [critical] SECRET_KEY `dev`"),
            "{out}"
        );
        assert!(
            out.contains("3 | app.secret_key = \"dev\"\n  |                  ^^^^^\n"),
            "{out}"
        );
        // A tab before the span widens the caret offset by the expansion.
        assert!(
            out.contains("4 |     app.debug = True\n  |     ^^^^^^^^^^^^^^\n"),
            "{out}"
        );
        assert!(out.contains("= help: generate one"), "{out}");
        assert!(out.contains("Found 2 findings: 2 critical."), "{out}");
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn colour_only_when_asked() {
        let (_dir, r) = project();
        assert!(render(&r, &RenderOptions { color: true }).contains("\x1b["));
    }

    #[test]
    fn missing_source_means_no_frame_not_a_panic() {
        let (_dir, mut r) = project();
        r.root = Some("/nonexistent/flaskguard".into());
        let out = render(&r, &RenderOptions::default());
        assert!(out.contains("app.py:3:18: KEY002"));
        assert!(!out.contains('^'));
    }

    #[test]
    fn out_of_range_positions_do_not_panic() {
        let (_dir, mut r) = project();
        for (line, col, el, ec) in [(99, 1, 99, 2), (3, 400, 3, 500), (3, 5, 1, 1), (1, 0, 0, 0)] {
            r.findings[0].location = Location::File(FileLocation {
                path: "app.py".into(),
                line,
                column: col,
                end_line: el,
                end_column: ec,
            });
            let _ = render(&r, &RenderOptions::default());
        }
    }

    #[test]
    fn scan_reports_group_by_severity() {
        let mut r = Report::new("scan");
        r.findings.push(Finding::new(
            "HDR005",
            "referrer-policy-missing",
            "no Referrer-Policy",
            Location::url("http://h/"),
        ));
        r.findings.push(
            Finding::new(
                "DBG001",
                "werkzeug-console-exposed",
                "console open",
                Location::url("http://h/console"),
            )
            .with_evidence("<title>Console // Werkzeug Debugger</title>"),
        );
        let out = render(&r, &RenderOptions::default());
        let crit = out.find("CRITICAL (1)").unwrap();
        let low = out.find("LOW (1)").unwrap();
        assert!(crit < low, "{out}");
        assert!(out.contains("= evidence: <title>Console"), "{out}");
        assert!(Report::new("scan").findings.is_empty());
        assert!(render(&Report::new("scan"), &RenderOptions::default()).contains("No findings."));
    }
}
