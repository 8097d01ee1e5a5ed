//! `--output-format html`: one self-contained page (inline CSS, no scripts, no
//! external assets) with the grade, the score explained line by line, findings
//! grouped by severity with evidence and fixes, and diagnostics.
//!
//! Everything from the target (URLs, header values, response excerpts) is
//! attacker-controlled, so every string is escaped. The page carries its own
//! Content-Security-Policy (`default-src 'none'`, the stylesheet allowed by its
//! SHA-256 hash), so it renders the same when opened under a strict policy and
//! nothing injected into it could run.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use checklist::Severity;
use sha2::{Digest, Sha256};

use crate::{Report, Summary};

const STYLE: &str = "
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
header{display:flex;gap:24px;align-items:center;background:#fff;border-radius:10px;padding:20px 24px;box-shadow:0 1px 3px #0002}
.grade{font-size:56px;font-weight:800;width:110px;height:110px;border-radius:12px;display:flex;align-items:center;justify-content:center;color:#fff}
.g-a{background:#2e7d32}.g-b{background:#689f38}.g-c{background:#f9a825}.g-d{background:#ef6c00}.g-f{background:#c62828}
h1{margin:0 0 4px;font-size:22px}h2{font-size:18px;margin:28px 0 10px}
.meta{color:#555;font-size:13px;word-break:break-all}
.counts span{display:inline-block;margin-right:10px;padding:2px 8px;border-radius:10px;font-size:13px;background:#eceff3}
section.f{background:#fff;border-radius:8px;padding:14px 18px;margin:10px 0;box-shadow:0 1px 2px #0002;border-left:6px solid #999}
.s-critical{border-left-color:#b71c1c!important}.s-high{border-left-color:#e53935!important}.s-medium{border-left-color:#fb8c00!important}.s-low{border-left-color:#29b6f6!important}.s-info{border-left-color:#90a4ae!important}
.id{font-weight:700;font-family:ui-monospace,Menlo,Consolas,monospace}
.sev{font-size:12px;text-transform:uppercase;letter-spacing:.05em;padding:1px 6px;border-radius:4px;background:#eceff3;margin-left:6px}
.url,.ev{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.ev{background:#f3f4f6;padding:6px 8px;border-radius:4px;white-space:pre-wrap;margin:6px 0}
.fix{color:#1b5e20}.check{color:#777;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden;box-shadow:0 1px 2px #0002;font-size:13px}
td,th{padding:6px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.m{font-family:ui-monospace,Menlo,Consolas,monospace;text-align:right;white-space:nowrap}
.neg{color:#c62828}.pos{color:#2e7d32}
.diag{background:#fff8e1;border-radius:6px;padding:8px 12px;margin:6px 0;font-size:13px}
footer{color:#777;font-size:12px;margin-top:30px}
";

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The CSP hash source of the inline stylesheet.
pub fn style_hash() -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(STYLE.as_bytes()))
    )
}

fn grade_class(grade: &str) -> &'static str {
    match grade.chars().next() {
        Some('A') => "g-a",
        Some('B') => "g-b",
        Some('C') => "g-c",
        Some('D') => "g-d",
        _ => "g-f",
    }
}

fn counts(s: &Summary) -> String {
    [
        (Severity::Critical, "critical"),
        (Severity::High, "high"),
        (Severity::Medium, "medium"),
        (Severity::Low, "low"),
        (Severity::Info, "info"),
    ]
    .iter()
    .map(|(sev, name)| format!("<span>{} {name}</span>", s.count(*sev)))
    .collect()
}

pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    let title = format!("flaskguard {} report", report.engine);
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; img-src data:\">\n",
        style_hash()
    ));
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&title)
    ));

    let summary = report.summary();
    out.push_str("<header>\n");
    if let Some(score) = &report.score {
        out.push_str(&format!(
            "<div class=\"grade {}\" id=\"grade\" title=\"score {}\">{}</div>\n",
            grade_class(&score.grade),
            score.score,
            escape(&score.grade)
        ));
    }
    out.push_str("<div>\n");
    out.push_str(&format!("<h1>{}</h1>\n", escape(&title)));
    for t in &report.targets {
        out.push_str(&format!("<div class=\"meta\">{}</div>\n", escape(t)));
    }
    if let Some(score) = &report.score {
        out.push_str(&format!("<div class=\"meta\">Score {} / 100 (Mozilla Observatory method; see docs/scan-scoring.md)</div>\n", score.score));
    }
    out.push_str(&format!(
        "<div class=\"counts\"><strong>{} findings</strong> {}</div>\n</div>\n</header>\n",
        summary.total,
        counts(&summary)
    ));

    if !report.diagnostics.is_empty() {
        out.push_str("<h2>Diagnostics</h2>\n");
        for d in &report.diagnostics {
            let src = d
                .source
                .as_deref()
                .map(|s| format!("{}: ", escape(s)))
                .unwrap_or_default();
            out.push_str(&format!(
                "<div class=\"diag\">{src}{}</div>\n",
                escape(&d.message)
            ));
        }
    }

    out.push_str("<h2>Findings</h2>\n");
    if report.findings.is_empty() {
        out.push_str("<p>No findings.</p>\n");
    }
    let mut findings: Vec<_> = report.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in findings {
        let sev = f.severity.to_string().to_ascii_lowercase();
        out.push_str(&format!(
            "<section class=\"f s-{sev}\" id=\"{}\">\n<div><span class=\"id\">{}</span><span class=\"sev\">{}</span> {}</div>\n",
            escape(&format!("{}-{}", f.control, f.check)),
            escape(&f.control),
            escape(&sev),
            escape(&f.message)
        ));
        out.push_str(&format!(
            "<div class=\"url\">{}</div>\n",
            escape(&f.location.display())
        ));
        if let Some(e) = &f.evidence {
            out.push_str(&format!("<div class=\"ev\">{}</div>\n", escape(e)));
        }
        if let Some(fix) = &f.fix {
            out.push_str(&format!("<div class=\"fix\">Fix: {}</div>\n", escape(fix)));
        }
        out.push_str(&format!(
            "<div class=\"check\">{}</div>\n</section>\n",
            escape(&f.check)
        ));
    }

    if let Some(score) = &report.score {
        out.push_str("<h2>How the score was computed</h2>\n<table>\n<tr><th>modifier</th><th>control</th><th>outcome</th><th>table</th><th>reason</th></tr>\n");
        out.push_str("<tr><td class=\"m\">100</td><td></td><td>baseline</td><td></td><td>Every scan starts at 100; bonuses count only while the score is 90 or more.</td></tr>\n");
        for l in &score.lines {
            let class = if l.modifier < 0 { "neg" } else { "pos" };
            out.push_str(&format!(
                "<tr><td class=\"m {class}\">{:+}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                l.modifier,
                escape(&l.control),
                escape(&l.outcome),
                escape(&l.table),
                escape(&l.reason)
            ));
        }
        out.push_str(&format!(
            "<tr><td class=\"m\"><strong>{}</strong></td><td></td><td>total</td><td></td><td>Grade {}</td></tr>\n</table>\n",
            score.score,
            escape(&score.grade)
        ));
    }
    out.push_str("<footer>Generated by flaskguard. This page loads nothing and runs no script.</footer>\n</main>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Finding, Location, Score, ScoreLine};

    #[test]
    fn escapes_attacker_strings_and_hashes_the_style() {
        let mut r = Report::new("scan");
        r.targets.push("http://127.0.0.1/<x>".into());
        r.findings.push(
            Finding::new(
                "HDR007",
                "server-version-disclosed",
                "m",
                Location::url("http://h/\"><script>alert(1)</script>"),
            )
            .with_evidence("Server: <script>alert('x')</script>"),
        );
        r.score = Some(Score {
            score: 40,
            grade: "D+".into(),
            lines: vec![ScoreLine {
                outcome: "x".into(),
                control: "HDR007".into(),
                modifier: -5,
                table: "flaskguard".into(),
                reason: "<b>".into(),
            }],
        });
        let html = render(&r);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        let hash = style_hash();
        assert!(html.contains(&format!("style-src {hash}")));
        let inline = html
            .split("<style>")
            .nth(1)
            .unwrap()
            .split("</style>")
            .next()
            .unwrap();
        assert_eq!(
            format!(
                "'sha256-{}'",
                STANDARD.encode(Sha256::digest(inline.as_bytes()))
            ),
            hash
        );
        assert!(html.contains(">D+</div>"));
    }
}
