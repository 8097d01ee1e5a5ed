//! Hostile input: files that cannot be read, decoded or parsed, deep nesting,
//! oversized files and link loops become diagnostics; the run goes on, never
//! panics, and its output is the same every time.

use std::path::Path;

use audit::AuditSettings;
use report::{Format, RenderOptions};

fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn hostile_project(dir: &Path) {
    write(
        dir,
        "app.py",
        "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n",
    );
    write(dir, "latin1.py", b"name = '\xe9t\xe9'\n");
    write(dir, "broken.py", "def f(:\n    return\n");
    write(
        dir,
        "nested.py",
        format!("x = {}1{}\n", "(".repeat(20_000), ")".repeat(20_000)),
    );
    write(
        dir,
        "chain.py",
        format!("x = {}1\n", "1 + ".repeat(400_000)),
    );
    write(dir, "attrs.py", format!("x = a{}\n", ".b".repeat(200_000)));
    write(dir, "calls.py", format!("x = f{}\n", "()".repeat(100_000)));
    write(
        dir,
        "lists.py",
        format!("x = {}{}\n", "[".repeat(5_000), "]".repeat(5_000)),
    );
    write(dir, "indent.py", {
        let mut s = String::new();
        for depth in 0..300 {
            s.push_str(&" ".repeat(depth));
            s.push_str("if x:\n");
        }
        s.push_str(&" ".repeat(300));
        s.push_str("pass\n");
        s
    });
    // Resolution that branches: a factory returning calls to itself, a config
    // chosen through parameters passed along a chain of many callers.
    write(dir, "recursion.py", {
        let mut s = String::from("from flask import Flask\n\ndef f(a):\n");
        for i in 0..16 {
            s.push_str(&format!("    if a == {i}:\n        return f(a)\n"));
        }
        s.push_str(
            "    return Flask(__name__)\n\napp = f(1)\napp.config.from_object(app.config)\napp.config.from_pyfile('app.cfg')\napp.config.from_envvar('SETTINGS')\napp.config.from_file('app.json', load=json.load)\napp.config.from_file('app.toml', load=toml.load)\n",
        );
        for level in 0..10 {
            s.push_str(&format!(
                "\ndef g{level}(cfg):\n    return g{}(cfg)\n",
                level + 1
            ));
            for caller in 0..20 {
                s.push_str(&format!("g{level}('c{caller}')\n"));
            }
        }
        s.push_str("\ndef g10(cfg):\n    app.config.from_object(cfg)\n");
        s
    });
    // Over the 10 MB cap.
    write(dir, "huge.py", "# padding\n".repeat(1_100_000));
    write(
        dir,
        "docker-compose.yml",
        format!("services: {}{}\n", "[".repeat(50_000), "]".repeat(50_000)),
    );
    write(dir, "compose.yaml", "services:\n  web: [unclosed\n");
    write(
        dir,
        "Dockerfile",
        "FROM \\\n\\\nCMD [\"unterminated\nUSER\n",
    );
    write(
        dir,
        ".env",
        format!("KEY={}\n=novalue\nexport\n", "v".repeat(100_000)),
    );
    write(
        dir,
        "requirements.txt",
        "-r requirements.txt\n==1.0\nflask[[[==\n\\\n",
    );
    write(dir, "pyproject.toml", "[project\n");
    // Config files loaded by name: one the app points at that nests too deep,
    // one that is not UTF-8 and one that is an INI file after all.
    write(
        dir,
        "instance/app.cfg",
        format!("SECRET_KEY = {}0{}\n", "(".repeat(5_000), ")".repeat(5_000)),
    );
    write(dir, "latin1.cfg", b"SECRET_KEY = '\xe9t\xe9'\n");
    write(dir, "setup.cfg", "[metadata\nSECRET_KEY = =\n");
    // JSON and TOML config files (`from_file`): nested too deep, broken, not
    // UTF-8, and a big one (not read as config).
    write(
        dir,
        "app.json",
        format!(
            "{{\"SECRET_KEY\": {}1{}}}",
            "[".repeat(50_000),
            "]".repeat(50_000)
        ),
    );
    write(
        dir,
        "app.toml",
        format!(
            "SECRET_KEY = {}1{}\n",
            "[".repeat(50_000),
            "]".repeat(50_000)
        ),
    );
    write(dir, "broken.json", "{\"SECRET_KEY\": \"dev\",, \"\\u12\"");
    write(dir, "latin1.json", b"{\"SECRET_KEY\": \"\xe9t\xe9\"}");
    write(
        dir,
        "data/big.json",
        format!(
            "{{\"SECRET_KEY\": \"dev\", \"rows\": [{}0]}}",
            "0, ".repeat(200_000)
        ),
    );
    write(dir, "Procfile", ":\nweb:\n: web\nworker: bin/boot\n");
    write(dir, "nginx/site.conf", "proxy_pass;\nlisten\n;;;\n");
    write(
        dir,
        "gunicorn.conf.py",
        "workers = 10 ** 100 * cpu_count()\n",
    );
    write(dir, "templates/x.html", b"\xff\xfe{{ x|safe }}");
    // Shell scripts: not UTF-8, unterminated quotes and `${`, a 10,000-line
    // continuation, deep nesting, and an extensionless script the Procfile runs.
    write(
        dir,
        "latin1.sh",
        b"#!/bin/sh\nexec gunicorn -w 4 '\xe9t\xe9:app'\n",
    );
    write(
        dir,
        "start.sh",
        format!(
            "#!/bin/bash\nexec gunicorn 'unterminated \\\n{}--workers ${{W:-${{\n{}{}\ncat <<EOF\n",
            "-w 4 \\\n".repeat(10_000),
            "if [ \"$DEBUG\" = 1 ]; then { ( case x in\n".repeat(3_000),
            "fi\n".repeat(5),
        ),
    );
    write(dir, "bin/boot", b"#!/bin/sh\n\xff\xfe exec gunicorn \"${\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::{symlink, PermissionsExt};
        symlink(dir.join("loop_b.py"), dir.join("loop_a.py")).unwrap();
        symlink(dir.join("loop_a.py"), dir.join("loop_b.py")).unwrap();
        symlink(dir, dir.join("self_loop")).unwrap();
        symlink(dir.join("missing.py"), dir.join("dangling.py")).unwrap();
        write(dir, "secret.py", "x = 1\n");
        std::fs::set_permissions(
            dir.join("secret.py"),
            std::fs::Permissions::from_mode(0o000),
        )
        .unwrap();
    }
}

#[test]
fn hostile_files_become_diagnostics_and_output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    hostile_project(dir.path());
    let run = || {
        audit::run(&[dir.path().to_path_buf()], &AuditSettings::default())
            .expect("the run completes")
    };
    let first = run();
    let diags: Vec<String> = first
        .report
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.source.clone().unwrap_or_default(), d.message))
        .collect();
    let has = |file: &str, word: &str| {
        diags
            .iter()
            .any(|d| d.starts_with(&format!("{file}:")) && d.contains(word))
    };
    assert!(has("latin1.py", "UTF-8"), "{diags:#?}");
    assert!(has("latin1.sh", "UTF-8"), "{diags:#?}");
    assert!(has("broken.py", "syntax error at 1:"), "{diags:#?}");
    assert!(has("huge.py", "10 MB"), "{diags:#?}");
    assert!(has("loop_a.py", "cannot read"), "{diags:#?}");
    assert!(has("dangling.py", "cannot read"), "{diags:#?}");
    assert!(has("compose.yaml", "invalid YAML"), "{diags:#?}");
    assert!(has("pyproject.toml", "invalid TOML"), "{diags:#?}");
    // JSON and TOML files are read as config only when they are: the broken,
    // foreign and big ones say nothing.
    assert!(
        !diags
            .iter()
            .any(|d| d.contains(".json:")
                || d.contains(".toml:") && !d.starts_with("pyproject.toml:")),
        "{diags:#?}"
    );
    assert!(
        !first
            .report
            .findings
            .iter()
            .any(|f| f.location.display().contains(".json")),
        "{:?}",
        first.report.findings
    );
    assert!(
        !diags.iter().any(|d| d.contains("internal error")),
        "a panic was caught: {diags:#?}"
    );
    // The good file is still audited.
    assert!(first
        .report
        .findings
        .iter()
        .any(|f| f.control == "DBG001" && f.location.display().starts_with("app.py:3")));

    let render =
        |r: &report::Report| report::render(r, Format::Json, &RenderOptions { color: false });
    let second = run();
    assert_eq!(
        render(&first.report),
        render(&second.report),
        "same input, same bytes"
    );
}
