//! `--output-format github`: GitHub Actions workflow commands, one annotation per
//! finding.

use checklist::Severity;

use crate::{Location, Report};

pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let level = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "notice",
        };
        let title = format!(
            "{} {}",
            f.control,
            checklist::get(&f.control)
                .map(|c| c.plain_title())
                .unwrap_or_default()
        );
        let mut props = Vec::new();
        let mut message = f.message.clone();
        match &f.location {
            Location::File(l) => {
                props.push(format!("file={}", escape_property(&l.path)));
                props.push(format!("line={}", l.line));
                props.push(format!("col={}", l.column));
                if l.end_line >= l.line {
                    props.push(format!("endLine={}", l.end_line));
                }
                if l.end_line == l.line && l.end_column > l.column {
                    props.push(format!("endColumn={}", l.end_column));
                }
            }
            Location::Url { url } => message = format!("{url}: {message}"),
        }
        props.push(format!("title={}", escape_property(&title)));
        if let Some(fix) = &f.fix {
            message.push_str("\nFix: ");
            message.push_str(fix);
        }
        out.push_str(&format!(
            "::{level} {}::{}\n",
            props.join(","),
            escape_data(&message)
        ));
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use crate::{FileLocation, Finding, Location, Report};

    #[test]
    fn annotations_escape_and_map_levels() {
        let mut r = Report::new("audit");
        r.findings.push(
            Finding::new(
                "KEY002",
                "weak-secret-key",
                "weak key, 100% guessable\nreally",
                Location::File(FileLocation::point("a,b.py", 2, 5)),
            )
            .with_fix("use secrets.token_hex(32)"),
        );
        r.findings.push(Finding::new(
            "HDR005",
            "referrer-policy-missing",
            "no Referrer-Policy",
            Location::url("http://127.0.0.1:8000/"),
        ));
        let out = super::render(&r);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("::error file=a%2Cb.py,line=2,col=5,endLine=2,endColumn=6,title=KEY002 SECRET_KEY not weak or well known::"));
        assert!(lines[0].contains("100%25 guessable%0Areally%0AFix: use"));
        assert!(lines[1].starts_with("::notice title=HDR005"));
        assert!(lines[1].contains("::http://127.0.0.1:8000/: no Referrer-Policy"));
    }
}
