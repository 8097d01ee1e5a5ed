//! Rule fixtures: `tests/fixtures/<ID>/<case>/` is a small project.
//!
//! - `fire_*` cases hold an `expected` file listing, one per line, every finding
//!   of that control the case must produce, as `path:line ID` (paths relative to
//!   the case directory). The findings of that control must be exactly these.
//! - `silent_*` cases must produce no finding of that control.
//!
//! Every registered rule must fire in at least one fire case, and every control
//! with a rule must have at least one fire and one silent case.
//!
//! Cases run with OSV advisories (DEP002): the case's own `advisories`
//! directory, `advisories.json` or `advisories.zip` when it has one, else the
//! small synthetic set in `tests/advisories/`.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use audit::AuditSettings;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

struct CaseResult {
    /// `path:line ID` of the case's control.
    got: BTreeSet<String>,
    /// Rule names that fired for the case's control.
    rules: BTreeSet<String>,
}

fn settings_for(case: &Path) -> AuditSettings {
    let own = ["advisories", "advisories.json", "advisories.zip"]
        .iter()
        .map(|n| case.join(n))
        .find(|p| p.exists());
    AuditSettings {
        advisories: Some(
            own.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/advisories")),
        ),
        ..AuditSettings::default()
    }
}

fn run_case(case: &Path, control: &str) -> CaseResult {
    let outcome = audit::run(&[case.to_path_buf()], &settings_for(case))
        .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    let mut got = BTreeSet::new();
    let mut rules = BTreeSet::new();
    for f in outcome
        .report
        .findings
        .iter()
        .filter(|f| f.control == control)
    {
        let loc = f.location.file().expect("audit findings are in files");
        got.insert(format!("{}:{} {}", loc.path, loc.line, f.control));
        rules.insert(f.check.clone());
    }
    CaseResult { got, rules }
}

#[test]
fn every_fixture_case_fires_or_stays_silent_as_expected() {
    let registry = audit::rules::all();
    let mut failures = Vec::new();
    let mut fired_rules: BTreeSet<String> = BTreeSet::new();
    let mut cases_per_control: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for control_dir in sorted_dirs(&fixtures_dir()) {
        let control = control_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            registry.iter().any(|r| r.code == control),
            "fixtures for {control}, which has no registered rule"
        );
        for case in sorted_dirs(&control_dir) {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let result = run_case(&case, &control);
            let counts = cases_per_control.entry(control.clone()).or_default();
            if name.starts_with("fire_") {
                counts.0 += 1;
                let expected_text = std::fs::read_to_string(case.join("expected"))
                    .unwrap_or_else(|e| panic!("{}/expected: {e}", case.display()));
                let expected: BTreeSet<String> = expected_text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(String::from)
                    .collect();
                assert!(
                    !expected.is_empty(),
                    "{}: a fire case expects findings",
                    case.display()
                );
                for e in &expected {
                    assert!(
                        e.ends_with(&format!(" {control}")),
                        "{}: `{e}` is not a {control} line",
                        case.display()
                    );
                }
                if result.got != expected {
                    failures.push(format!(
                        "{control}/{name}: expected {:?}, got {:?}",
                        expected, result.got
                    ));
                }
                fired_rules.extend(result.rules);
            } else if name.starts_with("silent_") {
                counts.1 += 1;
                if !result.got.is_empty() {
                    failures.push(format!(
                        "{control}/{name}: expected no {control}, got {:?}",
                        result.got
                    ));
                }
            } else {
                failures.push(format!(
                    "{control}/{name}: case names start with fire_ or silent_"
                ));
            }
        }
    }
    for rule in &registry {
        if !fired_rules.contains(rule.name) {
            failures.push(format!(
                "rule {} ({}) fires in no fixture case",
                rule.name, rule.code
            ));
        }
        match cases_per_control.get(rule.code) {
            Some((fire, silent)) if *fire > 0 && *silent > 0 => {}
            _ => failures.push(format!(
                "{} needs at least one fire_ and one silent_ case",
                rule.code
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "fixture failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_rule_is_documented_in_ruff_shape() {
    let mut names = BTreeSet::new();
    for rule in audit::rules::all() {
        assert!(names.insert(rule.name), "duplicate rule name {}", rule.name);
        assert!(
            checklist::get(rule.code).is_some(),
            "{} is not a control",
            rule.code
        );
        assert!(
            rule.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-'),
            "{}: names are kebab-case",
            rule.name
        );
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "Use instead:",
        ] {
            assert!(
                rule.doc.contains(section),
                "{} lacks `{section}`",
                rule.name
            );
        }
    }
}
