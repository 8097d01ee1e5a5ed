//! Registry invariants: every check maps to a control with a scan entry in the
//! specification, every outcome is well formed, and docs/scan-scoring.md lists
//! every outcome exactly as the code defines it.

use std::collections::BTreeSet;

use super::*;

/// The controls with an entry in CHECKLIST.md's scan column.
const SCAN_COLUMN: &[&str] = &[
    "DBG001", "DBG002", "DBG003", "KEY002", "KEY004", "HDR001", "HDR002", "HDR003", "HDR004",
    "HDR005", "HDR006", "HDR007", "HDR009", "TLS001", "TLS002", "TLS003", "CKE001", "CKE002",
    "CKE003", "CKE004", "CKE006", "CSR001", "COR001", "COR002", "COR003", "RL003", "PRX001",
    "PRX002", "INP001", "INP003", "INP007", "INJ005", "ERR002", "ERR003", "AUTH002",
];

/// Reads the scan column from CHECKLIST.md when the shared folder is beside the
/// repository, so the list above cannot drift from the specification.
fn scan_column_from_checklist() -> Option<BTreeSet<String>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = [
        root.join("../shared/CHECKLIST.md"),
        root.join("shared/CHECKLIST.md"),
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())?;
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        let cells = table_cells(line);
        // | ID | sev | control | seeds | audit | scan | shield |
        if cells.len() >= 8
            && cells[1]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
            && cells[1].len() <= 7
            && cells[1] != "ID"
            && cells[6] != "—"
            && !cells[6].is_empty()
        {
            ids.insert(cells[1].to_string());
        }
    }
    Some(ids)
}

/// Splits a Markdown table row on `|`, except inside backtick code spans (titles
/// such as "`|safe`/`Markup` only on trusted data" contain pipes).
fn table_cells(line: &str) -> Vec<&str> {
    let mut cells = Vec::new();
    let mut in_code = false;
    let mut start = 0;
    for (i, c) in line.char_indices() {
        match c {
            '`' => in_code = !in_code,
            '|' if !in_code => {
                cells.push(line[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    cells.push(line[start..].trim());
    cells
}

#[test]
fn at_least_sixty_named_checks_each_on_a_scan_control() {
    let reg = registry();
    assert!(reg.len() >= 60, "only {} checks", reg.len());
    let names: BTreeSet<&str> = reg.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), reg.len(), "check names must be unique");
    let mut outcome_names = BTreeSet::new();
    for c in &reg {
        assert!(
            SCAN_COLUMN.contains(&c.control),
            "{} maps to {} which has no scan entry",
            c.name,
            c.control
        );
        assert!(checklist::get(c.control).is_some(), "{}", c.control);
        let outcomes = (c.outcomes)();
        assert!(
            outcomes.len() >= 2,
            "{} needs a failing and a passing outcome",
            c.name
        );
        assert!(
            outcomes.iter().any(|o| o.severity.is_none()),
            "{} has no passing outcome",
            c.name
        );
        for o in outcomes {
            assert_eq!(o.control, c.control, "{} / {}", c.name, o.name);
            assert!(
                outcome_names.insert(o.name),
                "outcome {} appears twice",
                o.name
            );
            assert!(
                o.name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
                "{}",
                o.name
            );
            if o.severity.is_some() {
                assert!(!o.fix.is_empty(), "{} has no fix", o.name);
            }
            if o.table == Table::Observatory {
                assert!(
                    c.observatory_test.is_some(),
                    "{} uses the Observatory table outside an Observatory test",
                    o.name
                );
            }
            if o.severity.is_none() {
                assert!(
                    o.modifier >= 0 || o.table == Table::Observatory,
                    "{}: our penalties come with findings",
                    o.name
                );
            }
        }
    }
    // Every scan-column control is covered.
    let covered: BTreeSet<&str> = reg.iter().map(|c| c.control).collect();
    for id in SCAN_COLUMN {
        assert!(covered.contains(id), "no check for {id}");
    }
    if let Some(spec) = scan_column_from_checklist() {
        let ours: BTreeSet<String> = SCAN_COLUMN.iter().map(|s| s.to_string()).collect();
        assert_eq!(spec, ours, "SCAN_COLUMN drifted from CHECKLIST.md");
    }
}

/// docs/scan-scoring.md's table of every outcome, row for row as the registry
/// would write it (order aside), so the documentation cannot drift from the code.
#[test]
fn scoring_doc_lists_every_outcome_as_the_code_defines_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scan-scoring.md");
    let doc = std::fs::read_to_string(&path).expect("docs/scan-scoring.md");
    let documented: BTreeSet<String> = doc
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(str::to_string)
        .collect();
    let mut expected = BTreeSet::new();
    for c in registry() {
        for o in (c.outcomes)() {
            let severity = o
                .severity
                .map_or("pass".to_string(), |s| s.as_str().to_ascii_lowercase());
            expected.insert(format!(
                "| `{}`{} | {} | {} | `{}` | {} | {:+} | {} | {} |",
                c.name,
                if c.active { " (active)" } else { "" },
                c.control,
                c.observatory_test.unwrap_or("—"),
                o.name,
                severity,
                o.modifier,
                o.table.as_str(),
                o.message
            ));
        }
    }
    let missing: Vec<&String> = expected.difference(&documented).collect();
    let stale: Vec<&String> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/scan-scoring.md is out of step with the checks.\nmissing rows:\n{}\nstale rows:\n{}",
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        stale
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
