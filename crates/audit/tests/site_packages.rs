//! The whole site-packages of the hardened example's venv (about 1,200 files,
//! 450,000 lines of other people's Python): every Python file is read and
//! either analysed or reported, no panic (none caught per file either), and the
//! same bytes twice.
//!
//! It runs in-process on the test build. Ruff's parser is compiled optimised
//! even in test builds (see the workspace Cargo.toml), which keeps the two runs
//! to seconds; the audit's own code stays a debug build, so overflow checks
//! and debug assertions run over all of it.

use std::path::{Path, PathBuf};

use audit::AuditSettings;
use report::{Format, RenderOptions};
use testkit::E2e;

/// Python files (as discovery classifies them) and their lines under `dir`,
/// without following links.
fn python_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(ft) = entry.file_type() else { continue };
        let path = entry.path();
        if ft.is_dir() {
            python_files(&path, files);
        } else if ft.is_file() && path.extension().is_some_and(|e| e == "py" || e == "pyw") {
            files.push(path);
        }
    }
}

#[test]
fn site_packages_audits_without_panics_and_deterministically() {
    let lib = testkit::venv("orders-hardened").join("lib");
    let site = std::fs::read_dir(&lib).ok().and_then(|rd| {
        rd.flatten()
            .map(|e| e.path().join("site-packages"))
            .find(|p| p.is_dir())
    });
    let Some(site) = site else {
        E2e::missing(&format!("no site-packages under {}", lib.display()));
        return;
    };
    let mut files = Vec::new();
    python_files(&site, &mut files);
    let lines: usize = files
        .iter()
        .map(|p| std::fs::read(p).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()))
        .sum();
    assert!(
        lines > 200_000,
        "only {lines} lines of Python in {}",
        site.display()
    );

    // Everything: test code too, and no directory excluded by name.
    let settings = AuditSettings {
        include_tests: true,
        exclude: Vec::new(),
        ..AuditSettings::default()
    };
    let run = || audit::run(std::slice::from_ref(&site), &settings).expect("the run completes");
    let first = run();

    let caught: Vec<_> = first
        .report
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("internal error"))
        .collect();
    assert!(
        caught.is_empty(),
        "panics caught while analysing: {caught:#?}"
    );

    // Every Python file was found, and each was analysed or has a diagnostic.
    let found = first
        .project
        .files
        .iter()
        .filter(|f| f.kind.is_python())
        .count();
    assert_eq!(
        found,
        files.len(),
        "discovery missed Python files of {}",
        site.display()
    );
    let analysed = first.project.py.iter().flatten().count();
    let not_analysed: Vec<_> = first
        .project
        .files
        .iter()
        .zip(&first.project.py)
        .filter(|(f, py)| f.kind.is_python() && py.is_none())
        .map(|(f, _)| f.source.rel.as_str())
        .collect();
    for rel in &not_analysed {
        assert!(
            first
                .report
                .diagnostics
                .iter()
                .any(|d| d.source.as_deref() == Some(rel)),
            "{rel} was neither analysed nor reported"
        );
    }
    assert!(
        analysed * 100 >= files.len() * 99,
        "only {analysed} of {} Python files analysed; not analysed: {not_analysed:?}",
        files.len()
    );

    let render =
        |r: &report::Report| report::render(r, Format::Json, &RenderOptions { color: false });
    let second = run();
    assert_eq!(
        render(&first.report),
        render(&second.report),
        "same input, same bytes"
    );
}
