//! The whole site-packages of the hardened example's venv (hundreds of thousands
//! of lines of other people's Python): no panics, and the same bytes twice.

use audit::AuditSettings;
use report::{Format, RenderOptions};
use testkit::E2e;

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
    let run = || {
        audit::run(std::slice::from_ref(&site), &AuditSettings::default())
            .expect("the run completes")
    };
    let first = run();
    let python_files = first.project.py.iter().filter(|p| p.is_some()).count();
    assert!(
        python_files > 300,
        "only {python_files} Python files analysed in {}",
        site.display()
    );
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
    let render =
        |r: &report::Report| report::render(r, Format::Json, &RenderOptions { color: false });
    let second = run();
    assert_eq!(
        render(&first.report),
        render(&second.report),
        "same input, same bytes"
    );
}
