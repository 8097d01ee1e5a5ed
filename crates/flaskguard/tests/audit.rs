//! `flaskguard audit` end to end: exit codes, formats, the route inventory,
//! configuration, suppressions, and errors that name what is wrong.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flaskguard"));
    c.env_remove("NO_COLOR");
    c
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn run(args: &[&str], cwd: Option<&Path>) -> (i32, String, String) {
    let mut c = bin();
    c.args(args);
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const DEBUG_APP: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n";

#[test]
fn weak_example_fails_and_json_is_deterministic() {
    let weak = example("orders-weak");
    let weak = weak.to_str().unwrap();
    let (code, first, err) = run(&["audit", weak, "--output-format", "json"], None);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["engine"], "audit");
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"config.py") && paths.contains(&"orders/__init__.py"),
        "paths are relative to the root: {paths:?}"
    );
    let (_, second, _) = run(&["audit", weak, "--output-format", "json"], None);
    assert_eq!(first, second, "same input, same bytes");
}

#[test]
fn hardened_example_passes_at_medium() {
    let hardened = example("orders-hardened");
    let (code, out, err) = run(
        &[
            "audit",
            hardened.to_str().unwrap(),
            "--fail-on",
            "medium",
            "--color",
            "never",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn text_output_defaults_to_the_current_directory() {
    let dir = project(&[("app.py", DEBUG_APP)]);
    let (code, out, _) = run(&["audit", "--color", "never"], Some(dir.path()));
    assert_eq!(code, 1);
    assert!(out.contains("app.py:3:") && out.contains("DBG001"), "{out}");
    let (code, _, _) = run(
        &[
            "audit",
            "--ignore",
            "DBG,RL,HDR,PRX,INP",
            "--color",
            "never",
        ],
        Some(dir.path()),
    );
    assert_eq!(code, 0);
    let (code, out, _) = run(
        &["audit", "--select", "KEY", "--output-format", "sarif"],
        Some(dir.path()),
    );
    assert_eq!(code, 0);
    assert!(out.contains("\"version\": \"2.1.0\""), "{out}");
}

#[test]
fn suppressions_and_config_section() {
    let dir = project(&[
        ("app.py", "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)  # flaskguard: ignore[DBG001]\n"),
        ("scripts/dev.py", DEBUG_APP),
        ("flaskguard.toml", "[audit]\nper-file-ignores = { \"scripts/*.py\" = [\"DBG\"] }\nignore = [\"RL001\", \"HDR001\"]\nfail-on = \"high\"\n"),
    ]);
    let (code, out, err) = run(&["audit", "--color", "never"], Some(dir.path()));
    assert_eq!(code, 0, "{out}{err}");
    // (Other findings quote the suppressed line, comment included.)
    assert!(!out.contains(": DBG001 ["), "{out}");

    std::fs::write(
        dir.path().join("flaskguard.toml"),
        "[audit]\nexclud = [\"x\"]\n",
    )
    .unwrap();
    let (code, _, err) = run(&["audit"], Some(dir.path()));
    assert_eq!(code, 2);
    assert!(
        err.contains("flaskguard.toml") && err.contains("audit.exclud"),
        "{err}"
    );
}

#[test]
fn production_config_setting_names_the_class_judged() {
    let app = "import os\nfrom flask import Flask\n\nclass Base:\n    DEBUG = False\n\nclass Staging(Base):\n    DEBUG = True\n\nclass Live(Base):\n    pass\n\nconfigs = {'staging': Staging, 'live': Live, 'default': Live}\napp = Flask(__name__)\napp.config.from_object(configs[os.environ.get('ENV', 'default')])\n";
    let dir = project(&[("app.py", app)]);
    let (code, out, _) = run(
        &["audit", "--select", "DBG001", "--color", "never"],
        Some(dir.path()),
    );
    assert_eq!(code, 0, "the default entry (Live) is production: {out}");
    std::fs::write(
        dir.path().join("flaskguard.toml"),
        "[audit]\nproduction-config = \"Staging\"\n",
    )
    .unwrap();
    let (code, out, _) = run(
        &["audit", "--select", "DBG001", "--color", "never"],
        Some(dir.path()),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("app.py:8:") && out.contains("Staging taken as production"),
        "{out}"
    );
}

#[test]
fn tests_are_skipped_unless_asked_for() {
    let dir = project(&[("tests/test_app.py", DEBUG_APP)]);
    let (code, _, _) = run(&["audit"], Some(dir.path()));
    assert_eq!(code, 0);
    let (code, _, _) = run(&["audit", "--include-tests"], Some(dir.path()));
    assert_eq!(code, 1);
}

#[test]
fn excludes_prune_directories() {
    let dir = project(&[("app.py", "x = 1\n"), ("legacy/old.py", DEBUG_APP)]);
    let (code, _, _) = run(&["audit"], Some(dir.path()));
    assert_eq!(code, 1);
    let (code, _, _) = run(&["audit", "--extend-exclude", "legacy"], Some(dir.path()));
    assert_eq!(code, 0);
}

#[test]
fn routes_as_table_and_json() {
    let hardened = example("orders-hardened");
    let h = hardened.to_str().unwrap();
    let (code, out, _) = run(&["audit", h, "--routes"], None);
    assert_eq!(code, 0);
    assert!(out.starts_with("METHOD"), "{out}");
    assert!(
        out.contains("/api/auth/login") && out.contains("20 per hour"),
        "{out}"
    );
    let (code, out, _) = run(&["audit", h, "--routes", "--output-format", "json"], None);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["path"] == "/api/orders" && r["methods"][0] == "POST"));
    // Unauthenticated state-changing routes (AUTH003) are marked.
    let weak = example("orders-weak");
    let (_, out, _) = run(&["audit", weak.to_str().unwrap(), "--routes"], None);
    let import = out
        .lines()
        .find(|l| l.contains("/api/orders/import"))
        .unwrap_or_default();
    assert!(import.ends_with("NONE"), "{out}");
    let login = out
        .lines()
        .find(|l| l.contains("/api/auth/login"))
        .unwrap_or_default();
    assert!(!login.ends_with("NONE"), "login is public by design: {out}");
}

#[test]
fn bad_arguments_exit_2_naming_the_path() {
    let (code, _, err) = run(&["audit", "/nonexistent/project"], None);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/project"), "{err}");
    let dir = project(&[("app.py", "x = 1\n")]);
    let (code, _, err) = run(
        &["audit", "--advisories", "no-such-advisories"],
        Some(dir.path()),
    );
    assert_eq!(code, 2);
    assert!(err.contains("no-such-advisories"), "{err}");
    let (code, _, err) = run(&["audit", "--select", "DBG01"], Some(dir.path()));
    assert_eq!(code, 2);
    assert!(err.contains("DBG01"), "{err}");
}

#[test]
fn advisories_from_the_command_line_and_the_config() {
    let weak = example("orders-weak");
    let advisories = weak.join("advisories");
    let (code, out, err) = run(
        &[
            "audit",
            weak.to_str().unwrap(),
            "--advisories",
            advisories.to_str().unwrap(),
            "--select",
            "DEP002",
            "--output-format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lines: Vec<u64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"] == "requirements.txt")
        .map(|f| f["location"]["line"].as_u64().unwrap())
        .collect();
    let requirements = std::fs::read_to_string(weak.join("requirements.txt")).unwrap();
    let planted: Vec<u64> = requirements
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("planted: DEP002"))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(planted.len(), 7);
    for line in &planted {
        assert!(
            lines.contains(line),
            "requirements.txt:{line} not reported: {lines:?}"
        );
    }
    assert!(v["diagnostics"].as_array().unwrap().is_empty());

    // `advisories =` in the config section, relative to the config file; a
    // broken advisory file is a diagnostic naming it, not a failure.
    let record = std::fs::read_to_string(advisories.join("GHSA-xg9f-g7g7-2323.json")).unwrap();
    let dir = project(&[
        ("app/requirements.txt", "Werkzeug==2.2.2\n"),
        ("osv/nested/GHSA-xg9f-g7g7-2323.json", &record),
        ("osv/broken.json", "{\"id\": "),
        (
            "flaskguard.toml",
            "[audit]\nadvisories = \"osv\"\nselect = [\"DEP002\"]\n",
        ),
    ]);
    let (code, out, err) = run(
        &["audit", "app", "--output-format", "json"],
        Some(dir.path()),
    );
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["control"], "DEP002");
    assert!(
        f["message"].as_str().unwrap().contains("CVE-2023-25577"),
        "{f}"
    );
    assert!(f["fix"].as_str().unwrap().contains("2.2.3"), "{f}");
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(
        diags
            .iter()
            .any(|d| d["source"].as_str().unwrap().ends_with("broken.json")),
        "{diags:?}"
    );
}

#[test]
fn hostile_files_are_diagnostics_not_failures() {
    let dir = project(&[("ok.py", "x = 1\n"), ("bad.py", "def (:\n")]);
    std::fs::write(dir.path().join("latin1.py"), b"x = '\xe9'\n").unwrap();
    let (code, out, err) = run(&["audit", "--output-format", "json"], Some(dir.path()));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(diags.iter().any(|d| d["source"] == "bad.py"), "{diags:?}");
    assert!(
        diags.iter().any(|d| d["source"] == "latin1.py"),
        "{diags:?}"
    );
}

#[test]
fn explain_prints_the_audit_rule_docs() {
    let (code, out, _) = run(&["explain", "DBG001"], None);
    assert_eq!(code, 0);
    assert!(out.contains("# audit rule `debug-mode-enabled`"), "{out}");
    assert!(
        out.contains("# audit rule `debug-enabled-in-deploy`"),
        "{out}"
    );
    assert!(out.contains("### Why is this bad?"), "{out}");
}

/// A `[shield]` section in the project's config file: the findings of controls
/// that config makes shield enforce become info and say which layer holds them;
/// without the section they keep their severity; a section shield would refuse
/// changes nothing and is reported.
#[test]
fn findings_shield_enforces_are_info_with_a_shield_section() {
    let json = |dir: &Path| {
        let (code, out, err) = run(
            &[
                "audit",
                dir.to_str().unwrap(),
                "--output-format",
                "json",
                "--fail-on",
                "low",
            ],
            None,
        );
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
        (code, v)
    };
    let (code, v) = json(&example("notes-fastapi"));
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() >= 4, "{v}");
    assert_eq!(code, 0, "every finding should be info: {v}");
    for f in findings {
        assert_eq!(f["severity"], "info", "{f}");
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("enforced at runtime by flaskguard shield"),
            "{f}"
        );
    }
    assert!(
        findings.iter().any(|f| f["control"] == "PRX002"),
        "allowed_hosts is set: {v}"
    );

    // The same app without the section, then with one shield would refuse.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        example("notes-fastapi").join("main.py"),
        tmp.path().join("main.py"),
    )
    .unwrap();
    std::fs::copy(
        example("notes-fastapi").join("requirements.txt"),
        tmp.path().join("requirements.txt"),
    )
    .unwrap();
    let (code, plain) = json(tmp.path());
    assert_eq!(code, 1, "{plain}");
    let severities = |v: &serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["severity"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(severities(&plain).iter().any(|s| s == "high"), "{plain}");
    std::fs::write(
        tmp.path().join("flaskguard.toml"),
        "[shield]\nupstream = \"http://127.0.0.1:8000\"\nlisten = \"not an address\"\n",
    )
    .unwrap();
    let (code, bad) = json(tmp.path());
    assert_eq!(code, 1, "{bad}");
    assert_eq!(severities(&bad), severities(&plain));
    let diag = bad["diagnostics"].to_string();
    assert!(
        diag.contains("shield.listen") && diag.contains("flaskguard.toml"),
        "{diag}"
    );
}
