//! KEY004 on a git checkout: a `.env` that `.gitignore` lists but the index
//! still tracks is committed all the same.

use std::path::Path;

use audit::AuditSettings;

/// A git index (version 2) tracking `paths`.
fn index(paths: &[&str]) -> Vec<u8> {
    let mut b = b"DIRC".to_vec();
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(&(paths.len() as u32).to_be_bytes());
    for p in paths {
        let start = b.len();
        b.extend_from_slice(&[0u8; 60]);
        b.extend_from_slice(&(p.len() as u16).to_be_bytes());
        b.extend_from_slice(p.as_bytes());
        let len = b.len() - start;
        b.resize(start + (len + 8) / 8 * 8, 0);
    }
    b
}

fn key004(root: &Path) -> Vec<String> {
    let outcome = audit::run(&[root.to_path_buf()], &AuditSettings::default()).unwrap();
    outcome
        .report
        .findings
        .iter()
        .filter(|f| f.control == "KEY004")
        .map(|f| f.location.display())
        .collect()
}

#[test]
fn an_ignored_but_tracked_env_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join(".gitignore"), ".env\n").unwrap();
    std::fs::write(
        root.join(".env"),
        "DEBUG=0\nDATABASE_URL=postgresql://app:Zx9-Qw8-Er7@db/app\n",
    )
    .unwrap();
    std::fs::create_dir(root.join(".git")).unwrap();

    std::fs::write(root.join(".git/index"), index(&[".gitignore"])).unwrap();
    assert!(
        key004(root).is_empty(),
        "ignored and untracked: nothing committed"
    );

    std::fs::write(root.join(".git/index"), index(&[".env", ".gitignore"])).unwrap();
    assert_eq!(key004(root), [".env:1:1", ".env:2:1"]);
}
