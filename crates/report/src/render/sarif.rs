//! `--output-format sarif`: SARIF 2.1.0.
//!
//! `tool.driver.rules` holds every control of the catalog; each result's `ruleId` is
//! the control ID and its `ruleIndex` points into that list. The engine's own check
//! name, the fix and the evidence go in the result's `properties`. File locations
//! are relative to `%SRCROOT%`, the audited root.

use checklist::Severity;
use serde_json::{json, Value};

use crate::{Location, Report};

pub(super) fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning reads `security-severity` (0.0-10.0) to rank alerts.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rules() -> Vec<Value> {
    checklist::all()
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": rule_name(&c.plain_title()),
                "shortDescription": { "text": c.plain_title() },
                "fullDescription": { "text": c.plain_title() },
                "help": { "text": c.doc(), "markdown": c.doc() },
                "defaultConfiguration": { "level": level(c.severity) },
                "properties": {
                    "severity": c.severity.as_str(),
                    "security-severity": security_severity(c.severity),
                    "tags": ["security", c.area.code()],
                },
            })
        })
        .collect()
}

/// SARIF rule names are PascalCase identifiers.
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            let first = cs.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(cs).collect::<String>()
        })
        .collect()
}

fn location(loc: &Location) -> Value {
    match loc {
        Location::File(f) => json!({
            "physicalLocation": {
                "artifactLocation": { "uri": encode_uri_path(&f.path), "uriBaseId": "%SRCROOT%" },
                "region": {
                    "startLine": f.line,
                    "startColumn": f.column,
                    "endLine": f.end_line.max(f.line),
                    "endColumn": if f.end_line > f.line || f.end_column > f.column { f.end_column } else { f.column + 1 },
                },
            }
        }),
        Location::Url { url } => json!({
            "physicalLocation": { "artifactLocation": { "uri": url } }
        }),
    }
}

/// Percent-encodes what may not appear in a relative URI reference path.
fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(super) fn render(report: &Report) -> String {
    let controls = checklist::all();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut props = serde_json::Map::new();
            props.insert("severity".into(), json!(f.severity.as_str()));
            props.insert("check".into(), json!(f.check));
            if let Some(fix) = &f.fix {
                props.insert("fix".into(), json!(fix));
            }
            if let Some(ev) = &f.evidence {
                props.insert("evidence".into(), json!(ev));
            }
            if let Location::Url { url } = &f.location {
                props.insert("url".into(), json!(url));
            }
            let mut text = f.message.clone();
            if let Some(fix) = &f.fix {
                text.push_str(" Fix: ");
                text.push_str(fix);
            }
            let mut result = json!({
                "ruleId": f.control,
                "level": level(f.severity),
                "message": { "text": text },
                "locations": [location(&f.location)],
                "properties": props,
            });
            if let Some(index) = controls.iter().position(|c| c.id == f.control) {
                result["ruleIndex"] = json!(index);
            }
            if !f.related.is_empty() {
                result["relatedLocations"] = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut l = location(&r.location);
                        l["id"] = json!(i);
                        l["message"] = json!({ "text": r.message });
                        l
                    })
                    .collect();
            }
            result
        })
        .collect();

    let mut run = json!({
        "tool": {
            "driver": {
                "name": "flaskguard",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/flaskguard/flaskguard",
                "rules": rules(),
            }
        },
        "invocations": [{
            "executionSuccessful": true,
            "toolExecutionNotifications": report.diagnostics.iter().map(|d| {
                let mut n = json!({
                    "level": match d.level { crate::DiagnosticLevel::Error => "error", crate::DiagnosticLevel::Warning => "warning" },
                    "message": { "text": d.message },
                });
                if let Some(src) = &d.source {
                    n["locations"] = json!([{ "physicalLocation": { "artifactLocation": {
                        "uri": if src.contains("://") { src.clone() } else { encode_uri_path(src) },
                    }}}]);
                }
                n
            }).collect::<Vec<_>>(),
        }],
        "results": results,
        "properties": { "engine": report.engine },
    });
    if let Some(root) = &report.root {
        let mut uri = String::from("file://");
        let abs = root.display().to_string();
        if !abs.starts_with('/') {
            uri.push('/');
        }
        uri.push_str(&encode_uri_path(&abs.replace('\\', "/")));
        if !uri.ends_with('/') {
            uri.push('/');
        }
        run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": uri } });
    }
    if let Some(score) = &report.score {
        run["properties"]["score"] = json!(score);
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    let mut out = serde_json::to_string_pretty(&log).expect("sarif serialises");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Diagnostic, DiagnosticLevel, FileLocation, Finding};

    pub(crate) fn sample() -> Report {
        let mut r = Report::new("audit");
        r.root = Some("/tmp/project dir".into());
        r.findings.push(
            Finding::new(
                "DBG001",
                "debug-mode-enabled",
                "DEBUG is True in the production config",
                Location::File(FileLocation::point("orders/config.py", 7, 5)),
            )
            .with_fix("set DEBUG = False")
            .with_related(
                Location::File(FileLocation::point("orders/__init__.py", 12, 5)),
                "ProductionConfig chosen here",
            ),
        );
        r.findings.push(
            Finding::new(
                "HDR006",
                "permissions-policy-missing",
                "no Permissions-Policy",
                Location::url("http://127.0.0.1:8000/"),
            )
            .with_evidence("headers: content-type"),
        );
        r.diagnostics.push(Diagnostic {
            level: DiagnosticLevel::Warning,
            source: Some("bad file.py".into()),
            message: "syntax error".into(),
        });
        r
    }

    #[test]
    fn results_point_into_the_catalog() {
        let v: Value = serde_json::from_str(&render(&sample())).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), checklist::all().len());
        let r0 = &run["results"][0];
        assert_eq!(r0["ruleId"], "DBG001");
        assert_eq!(r0["level"], "error");
        assert_eq!(
            rules[r0["ruleIndex"].as_u64().unwrap() as usize]["id"],
            "DBG001"
        );
        assert_eq!(r0["properties"]["check"], "debug-mode-enabled");
        assert_eq!(r0["properties"]["severity"], "critical");
        let loc = &r0["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "orders/config.py");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["region"]["startLine"], 7);
        assert_eq!(run["results"][1]["level"], "note");
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///tmp/project%20dir/"
        );
    }

    #[test]
    fn rule_names_are_identifiers() {
        assert_eq!(
            rule_name("No wildcard origin on an API"),
            "NoWildcardOriginOnAnAPI"
        );
    }

    /// Validates against the official SARIF 2.1.0 schema as shipped by the npm package
    /// `@microsoft/jest-sarif` (scripts/test fetches it and sets
    /// FLASKGUARD_SARIF_SCHEMA). Without the file the test is skipped, unless
    /// FLASKGUARD_E2E=required.
    #[test]
    fn validates_against_the_official_schema() {
        let Some(path) = std::env::var_os("FLASKGUARD_SARIF_SCHEMA") else {
            assert!(
                std::env::var("FLASKGUARD_E2E").as_deref() != Ok("required"),
                "FLASKGUARD_SARIF_SCHEMA is not set (scripts/test sets it)"
            );
            eprintln!("skipped: FLASKGUARD_SARIF_SCHEMA not set");
            return;
        };
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file")).unwrap();
        assert!(
            schema["title"].as_str().unwrap_or("").contains("SARIF")
                && schema["title"].as_str().unwrap_or("").contains("2.1.0"),
            "not the SARIF 2.1.0 schema"
        );
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        for report in [sample(), Report::new("scan")] {
            let out: Value = serde_json::from_str(&render(&report)).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&out)
                .map(|e| format!("{} at {}", e, e.instance_path))
                .collect();
            assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
        }
        // The validator really rejects bad logs.
        let mut bad: Value = serde_json::from_str(&render(&sample())).unwrap();
        bad["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!validator.is_valid(&bad));
    }
}
