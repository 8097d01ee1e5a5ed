//! Shared by the model tests: a project of a few files, written to a fresh
//! directory and audited with the default settings.

use audit::{AuditOutcome, AuditSettings};

/// Writes `files` (relative path, text) and audits the directory. The directory
/// lives as long as the returned guard.
pub fn audit_files(files: &[(&str, &str)]) -> (tempfile::TempDir, AuditOutcome) {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let outcome = audit::run(&[dir.path().to_path_buf()], &AuditSettings::default()).unwrap();
    (dir, outcome)
}
