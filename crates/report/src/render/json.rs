//! `--output-format json`: the versioned schema documented in `docs/json-report.md`.

use serde_json::json;

use crate::{Report, JSON_SCHEMA_VERSION};

pub(super) fn render(report: &Report) -> String {
    let value = json!({
        "schema": format!("flaskguard-report/v{JSON_SCHEMA_VERSION}"),
        "tool": { "name": "flaskguard", "version": env!("CARGO_PKG_VERSION") },
        "engine": report.engine,
        "root": report.root.as_ref().map(|p| p.display().to_string()),
        "targets": report.targets,
        "summary": report.summary(),
        "score": report.score,
        "findings": report.findings,
        "diagnostics": report.diagnostics,
    });
    let mut out = serde_json::to_string_pretty(&value).expect("report serialises");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use crate::{FileLocation, Finding, Location, Report};

    #[test]
    fn carries_schema_version_and_findings() {
        let mut r = Report::new("audit");
        r.findings.push(
            Finding::new(
                "KEY001",
                "hardcoded-secret-key",
                "SECRET_KEY is a literal",
                Location::File(FileLocation::point("app.py", 3, 1)),
            )
            .with_fix("read it from the environment"),
        );
        let v: serde_json::Value = serde_json::from_str(&super::render(&r)).unwrap();
        assert_eq!(v["schema"], "flaskguard-report/v1");
        assert_eq!(v["summary"]["critical"], 1);
        let f = &v["findings"][0];
        assert_eq!(f["control"], "KEY001");
        assert_eq!(f["severity"], "critical");
        assert_eq!(f["location"]["kind"], "file");
        assert_eq!(f["location"]["line"], 3);
        assert_eq!(f["fix"], "read it from the environment");
        assert!(f.get("evidence").is_none());
    }
}
