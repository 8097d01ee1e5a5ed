//! End-to-end tests of the binary's foundation: checklist, explain, exit codes and
//! bad input.

use std::{path::PathBuf, process::Command};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flaskguard"));
    c.env_remove("NO_COLOR");
    c
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The IDs of the checklist specification (CHECKLIST.md), one per line.
fn spec_ids() -> Vec<String> {
    include_str!("checklist-ids.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn checklist_json_lists_exactly_the_spec_ids() {
    let (code, stdout, _) = run(&["checklist", "--output-format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<String> = v["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, spec_ids());
    for c in v["controls"].as_array().unwrap() {
        for engine in ["audit", "scan", "shield"] {
            assert!(c["coverage"][engine].is_array(), "{c}");
        }
    }
}

#[test]
fn spec_id_list_matches_the_shared_checklist_when_present() {
    // In a development checkout the specification sits beside the repository.
    let spec = repo_root().join("../shared/CHECKLIST.md");
    let Ok(text) = std::fs::read_to_string(spec) else {
        return;
    };
    let ids: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|id| {
            id.len() >= 5
                && id.chars().all(|c| c.is_ascii_alphanumeric())
                && id[id.len() - 3..].chars().all(|c| c.is_ascii_digit())
                && id.chars().next().unwrap().is_ascii_uppercase()
        })
        .map(String::from)
        .collect();
    assert_eq!(ids, spec_ids());
}

#[test]
fn docs_checklist_md_is_current() {
    let (code, stdout, _) = run(&["checklist", "--output-format", "markdown"]);
    assert_eq!(code, 0);
    let path = repo_root().join("docs/checklist.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == stdout,
        "docs/checklist.md is stale: regenerate it with `cargo run -q -- checklist --output-format markdown -o docs/checklist.md`"
    );
}

#[test]
fn checklist_text_has_every_control() {
    let (code, stdout, _) = run(&["checklist"]);
    assert_eq!(code, 0);
    for id in spec_ids() {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id} missing"
        );
    }
    assert!(!stdout.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn explain_works_for_every_id() {
    for id in spec_ids() {
        let (code, stdout, stderr) = run(&["explain", &id.to_lowercase()]);
        assert_eq!(code, 0, "{id}: {stderr}");
        assert!(stdout.starts_with(&format!("# {id}: ")), "{id}: {stdout}");
        for section in [
            "## What it checks",
            "## Why it matters",
            "## Fix",
            "## References",
        ] {
            assert!(stdout.contains(section), "{id} lacks {section}");
        }
    }
}

#[test]
fn explain_unknown_id_exits_2_with_suggestions() {
    let (code, stdout, stderr) = run(&["explain", "KEY01"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("unknown control `KEY01`"), "{stderr}");
    assert!(stderr.contains("KEY001"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn unknown_flags_and_commands_are_usage_errors() {
    let (code, _, stderr) = run(&["checklist", "--frobnicate"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--frobnicate"), "{stderr}");
    let (code, _, _) = run(&["no-such-command"]);
    assert_eq!(code, 2);
    let (code, _, _) = run(&["checklist", "--output-format", "xml"]);
    assert_eq!(code, 2);
}

#[test]
fn help_and_version_exit_0() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("checklist") && stdout.contains("explain"));
    let (code, stdout, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("flaskguard "));
}

#[test]
fn output_file_is_written_atomically_and_errors_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let (code, stdout, _) = run(&[
        "checklist",
        "--output-format",
        "json",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["controls"].as_array().unwrap().len(), spec_ids().len());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );

    let bad = dir.path().join("missing/dir/c.json");
    let (code, _, stderr) = run(&["checklist", "-o", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing/dir/c.json"), "{stderr}");
}

#[test]
fn color_always_colours_and_no_color_is_respected() {
    let (_, stdout, _) = run(&["--color", "always", "checklist"]);
    // Coverage may be empty before engines register; the header is plain, so check
    // that forcing colour does not break the table.
    assert!(stdout.starts_with("ID "));
    let out = bin()
        .env("NO_COLOR", "1")
        .args(["checklist"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

fn run_stdin(args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn session_decode_and_crack_read_a_cookie_offline() {
    use flask_session::{sign_at, KeyDerivation, SignerParams};
    let value = serde_json::json!({"user_id": 7, "is_admin": true});
    let weak = sign_at(
        &value,
        b"change-me",
        &SignerParams::flask_default(),
        1_700_000_000,
    );
    let strong_key = b"f3c1a9e07b2d4c8e9a6b5d4c3b2a1f0e";
    let strong = sign_at(
        &value,
        strong_key,
        &SignerParams::flask_default(),
        1_700_000_000,
    );

    // decode: contents and the sensitive entry, exit 1 (CKE004).
    let (code, out, err) = run(&["session", "decode", &format!("session={weak}")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("\"user_id\": 7") && out.contains("2023-11-14T22:13:20Z"),
        "{out}"
    );
    assert!(
        out.contains("CKE004") && out.contains("is_admin (authorization)"),
        "{out}"
    );
    let (code, out, _) = run(&["session", "decode", "--json", &strong]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"]["user_id"], 7);
    assert_eq!(v["signature_bytes"], 20);

    // crack: the weak key is found in the built-in list and masked unless asked.
    let (code, out, _) = run(&["session", "crack", &weak]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("KEY002") && out.contains("ch…me (9 chars)"),
        "{out}"
    );
    assert!(out.contains("Flask's default signing"), "{out}");
    let (code, out, _) = run_stdin(&["session", "crack", "--show-key", "--json", "-"], &weak);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["key"], "change-me");
    assert_eq!(v["source"], "the built-in list");

    // A strong key is not found (exit 0) unless a word list holds it, under any
    // derivation: here itsdangerous' own defaults rather than Flask's.
    let (code, out, _) = run(&["session", "crack", &strong]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("Not found"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("keys.txt");
    std::fs::write(&list, b"first\nf3c1a9e07b2d4c8e9a6b5d4c3b2a1f0e\n").unwrap();
    let params = SignerParams::new(
        "itsdangerous",
        KeyDerivation::DjangoConcat,
        flask_session::DigestAlgorithm::Sha1,
    );
    let other = sign_at(&value, strong_key, &params, 1_700_000_000);
    let list_arg = list.to_str().unwrap();
    let (code, out, _) = run(&[
        "session",
        "crack",
        "--no-builtin",
        "--wordlist",
        list_arg,
        "--json",
        &other,
    ]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["candidates"], 2);
    assert_eq!(v["flask_default"], false);
    assert_eq!(v["source"], list_arg);
    assert!(
        v["params"].as_str().unwrap().contains("itsdangerous"),
        "{v}"
    );

    // Bad input: exit 2, naming what is wrong, never echoing the cookie.
    for (args, says) in [
        (
            vec!["session", "decode", "0123456789abcdef"],
            "not a Flask session cookie",
        ),
        (
            vec!["session", "crack", "theme=dark; lang=en"],
            "none named `session`",
        ),
        (
            vec![
                "session",
                "crack",
                "--wordlist",
                "/nonexistent/keys.txt",
                &weak,
            ],
            "/nonexistent/keys.txt",
        ),
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains(&weak[..20]), "{err}");
    }
}
