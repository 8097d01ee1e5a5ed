//! CSR001's GET-write check: writes that only record that something was
//! seen or used (a "read" flag, a timestamp, a counter) are reported at low
//! severity; any other write at the control's own.

use std::path::Path;

use audit::AuditSettings;
use checklist::Severity;

#[test]
fn bookkeeping_writes_on_get_are_low() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/CSR001/fire_get_bookkeeping_writes");
    let outcome = audit::run(&[case], &AuditSettings::default()).unwrap();
    let mut got: Vec<(u32, Severity)> = outcome
        .report
        .findings
        .iter()
        .filter(|f| f.control == "CSR001")
        .map(|f| (f.location.file().unwrap().line, f.severity))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (26, Severity::Low),
            (36, Severity::Low),
            (45, Severity::High)
        ]
    );
}
