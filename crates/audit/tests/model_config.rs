//! Config files Flask loads by name: `from_pyfile("application.cfg")` (Python
//! syntax under any extension), `from_envvar("APP_SETTINGS")`, whose file a
//! deploy file names, and `from_file("config.json", load=json.load)` (JSON, TOML, YAML).

use audit::model::{ConfigVia, Project};
use report::Report;

mod common;

fn audit(files: &[(&str, &str)]) -> (tempfile::TempDir, Project, Report) {
    let (dir, outcome) = common::audit_files(files);
    (dir, outcome.project, outcome.report)
}

fn secret_key(p: &Project) -> Option<(String, ConfigVia)> {
    let e = p.apps[0].config.get("SECRET_KEY")?;
    Some((e.value.as_str()?.to_string(), e.via.clone()))
}

fn findings_in<'a>(r: &'a Report, control: &str, file: &str) -> Vec<&'a report::Finding> {
    r.findings
        .iter()
        .filter(|f| f.control == control && f.location.file().is_some_and(|l| l.path == file))
        .collect()
}

const SETTINGS: &str = "# production settings\nSECRET_KEY = 'dev'\nDEBUG = False\n";

#[test]
fn from_pyfile_reads_a_cfg_file_in_python_syntax() {
    let (_d, p, r) = audit(&[
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\napp.config.from_pyfile('application.cfg')\n",
        ),
        ("application.cfg", SETTINGS),
    ]);
    assert_eq!(
        secret_key(&p),
        Some(("dev".into(), ConfigVia::Module("application.cfg".into())))
    );
    assert!(!p.apps[0].config.incomplete);
    assert!(
        !findings_in(&r, "KEY002", "application.cfg").is_empty(),
        "the weak key is reported where it is written: {:?}",
        r.findings.iter().map(|f| &f.control).collect::<Vec<_>>()
    );
}

#[test]
fn from_envvar_follows_the_path_a_dockerfile_sets() {
    let (_d, p, r) = audit(&[
        (
            "app/__init__.py",
            "from flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    app.config.from_envvar('APP_SETTINGS')\n    return app\n",
        ),
        // Where the checkout lands in the image is not where it is here: the
        // longest common tail decides, not the first file of that name.
        (
            "Dockerfile",
            "FROM python:3.12-slim\nCOPY . /srv/app\nENV APP_SETTINGS=/srv/app/settings/production.cfg\n",
        ),
        ("examples/production.cfg", "SECRET_KEY = 'a-real-example-key-0123456789abcdef'\n"),
        ("settings/production.cfg", SETTINGS),
    ]);
    assert_eq!(
        secret_key(&p),
        Some((
            "dev".into(),
            ConfigVia::Module("settings/production.cfg".into())
        ))
    );
    assert!(!findings_in(&r, "KEY002", "settings/production.cfg").is_empty());
}

#[test]
fn from_envvar_without_a_known_value_leaves_the_config_open() {
    let app =
        "from flask import Flask\napp = Flask(__name__)\napp.config.from_envvar('APP_SETTINGS')\n";
    let (_d, p, _r) = audit(&[("app.py", app), ("settings.cfg", SETTINGS)]);
    assert!(p.apps[0].config.incomplete);
    assert_eq!(secret_key(&p), None);
    // Two deploy files disagree: which one runs is unknown.
    let (_d, p, _r) = audit(&[
        ("app.py", app),
        ("settings.cfg", SETTINGS),
        ("other.cfg", "SECRET_KEY = 'x'\n"),
        (".env", "APP_SETTINGS=settings.cfg\n"),
        (
            "Dockerfile",
            "FROM python:3.12\nENV APP_SETTINGS=other.cfg\n",
        ),
    ]);
    assert!(p.apps[0].config.incomplete);
    assert_eq!(secret_key(&p), None);
}

#[test]
fn ini_and_other_cfg_files_are_left_alone() {
    let (_d, p, r) = audit(&[
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\napp.config.from_pyfile('setup.cfg')\n",
        ),
        (
            "setup.cfg",
            "[metadata]\nname = orders\nVERSION = 1\n\n[flake8]\nmax-line-length = 100\n",
        ),
        ("notes.cfg", "this is not python: (\n"),
        ("tox.cfg", "SECRET_KEY = 'unclosed\n"),
    ]);
    assert_eq!(secret_key(&p), None);
    assert!(p.apps[0].config.incomplete, "the named file gave nothing");
    assert!(
        r.diagnostics.is_empty(),
        "no syntax warnings for files that only might be Python: {:?}",
        r.diagnostics
    );
}

#[test]
fn from_pyfile_paths_built_from_a_base_directory() {
    let settings = "SECRET_KEY = 'changeme'\n";
    for call in [
        "app.config.from_pyfile(os.path.join(BASE_DIR, 'conf', 'prod.cfg'))",
        "app.config.from_pyfile(Path(__file__).parent / 'conf' / 'prod.cfg')",
        "app.config.from_pyfile(f'{BASE_DIR}/conf/prod.cfg')",
        "app.config.from_pyfile(BASE_DIR + '/conf/prod.cfg')",
        "app.config.from_pyfile(SETTINGS_FILE)",
    ] {
        let app = format!(
            "import os\nfrom pathlib import Path\nfrom flask import Flask\n\
             BASE_DIR = os.path.abspath(os.path.dirname(__file__))\n\
             SETTINGS_FILE = os.path.join(BASE_DIR, 'conf', 'prod.cfg')\n\
             app = Flask(__name__)\n{call}\n"
        );
        // A file of the same name elsewhere: the spelled-out directory decides.
        let (_d, p, _r) = audit(&[
            ("deploy/old/prod.cfg", "SECRET_KEY = 'a-different-key'\n"),
            ("web/app.py", app.as_str()),
            ("web/conf/prod.cfg", settings),
        ]);
        assert_eq!(
            secret_key(&p),
            Some((
                "changeme".into(),
                ConfigVia::Module("web/conf/prod.cfg".into())
            )),
            "{call}"
        );
    }
    // A path the code only computes stays unknown.
    let (_d, p, _r) = audit(&[
        (
            "app.py",
            "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config.from_pyfile(os.environ['SETTINGS'])\n",
        ),
        ("prod.cfg", settings),
    ]);
    assert!(p.apps[0].config.incomplete);
    assert_eq!(secret_key(&p), None);
}

#[test]
fn from_file_reads_json_and_toml_config_files() {
    let app = |name: &str, load: &str| {
        format!(
            "import json\nimport tomllib\nfrom flask import Flask\n\ndef create_app():\n    app = Flask(__name__, instance_relative_config=True)\n    app.config.from_file('{name}', load={load}, text=False)\n    return app\n"
        )
    };
    let json = app("config.json", "json.load");
    let (_d, p, r) = audit(&[
        ("web/__init__.py", &json),
        // Not a config file: no upper-case keys.
        ("web/static/package.json", "{\"name\": \"web\", \"private\": true}\n"),
        (
            "instance/config.json",
            "{\n  \"SECRET_KEY\": \"dev\",\n  \"DEBUG\": true,\n  \"SQLALCHEMY_ENGINE_OPTIONS\": {\"pool_size\": 5}\n}\n",
        ),
    ]);
    assert_eq!(
        secret_key(&p),
        Some((
            "dev".into(),
            ConfigVia::Module("instance/config.json".into())
        ))
    );
    assert!(!p.apps[0].config.incomplete);
    let key = findings_in(&r, "KEY002", "instance/config.json");
    assert_eq!(key.len(), 1, "{:?}", r.findings);
    assert_eq!(key[0].location.file().unwrap().line, 2);
    let debug = findings_in(&r, "DBG001", "instance/config.json");
    assert_eq!(debug.len(), 1, "{:?}", r.findings);
    assert_eq!(debug[0].location.file().unwrap().line, 3);

    let toml = app("settings.toml", "tomllib.load");
    let (_d, p, r) = audit(&[
        ("web/__init__.py", &toml),
        (
            "instance/settings.toml",
            "# production\nSECRET_KEY = \"changeme\"\nSESSION_COOKIE_SECURE = true\n\n[tool]\nname = \"x\"\n",
        ),
    ]);
    assert_eq!(secret_key(&p).map(|s| s.0), Some("changeme".into()));
    assert_eq!(
        p.apps[0].config.flag("SESSION_COOKIE_SECURE"),
        Some(true),
        "a TOML boolean loads as a Python bool"
    );
    assert_eq!(
        findings_in(&r, "KEY002", "instance/settings.toml")[0]
            .location
            .file()
            .unwrap()
            .line,
        2
    );
}

#[test]
fn from_file_reads_yaml_config_files() {
    let src = "import yaml\nfrom flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    app.config.from_file('config.yml', load=yaml.safe_load)\n    return app\n";
    let (_d, p, r) = audit(&[
        ("web/__init__.py", src),
        // Not a config file: lower-case keys.
        (".github/workflows/ci.yml", "name: CI\non: [push]\n"),
        (
            "web/config.yml",
            "# deployed as is\nSECRET_KEY: dev\nDEBUG: off\nSESSION_COOKIE_SECURE: yes\nMAIL_PASSWORD: ${MAIL_PASSWORD}\n",
        ),
    ]);
    assert_eq!(
        secret_key(&p),
        Some(("dev".into(), ConfigVia::Module("web/config.yml".into())))
    );
    assert_eq!(
        p.apps[0].config.flag("DEBUG"),
        Some(false),
        "a plain `off` loads as False (PyYAML)"
    );
    assert_eq!(p.apps[0].config.flag("SESSION_COOKIE_SECURE"), Some(true));
    let key = findings_in(&r, "KEY002", "web/config.yml");
    assert_eq!(key.len(), 1, "{:?}", r.findings);
    assert_eq!(key[0].location.file().unwrap().line, 2);
    assert!(findings_in(&r, "DBG001", "web/config.yml").is_empty());
}

#[test]
fn from_file_with_an_unknown_or_foreign_file_leaves_the_config_open() {
    for (call, files) in [
        // No such file in the project.
        (
            "app.config.from_file('config.json', load=json.load)",
            vec![],
        ),
        // A YAML file with no config keys (a list).
        (
            "app.config.from_file('config.yaml', load=yaml.safe_load)",
            vec![("config.yaml", "- SECRET_KEY\n- dev\n")],
        ),
        // The file holds no config keys.
        (
            "app.config.from_file('config.json', load=json.load)",
            vec![("config.json", "{\"secret_key\": \"dev\"}")],
        ),
        // The path is computed.
        ("app.config.from_file(pick(), load=json.load)", vec![]),
    ] {
        let src = format!(
            "import json\nimport yaml\nfrom flask import Flask\napp = Flask(__name__)\n{call}\n"
        );
        let mut all = vec![("app.py", src.as_str())];
        all.extend(files);
        let (_d, p, r) = audit(&all);
        assert!(p.apps[0].config.incomplete, "{call}");
        assert!(secret_key(&p).is_none(), "{call}");
        assert!(
            r.findings.iter().all(|f| f.control != "KEY002"),
            "{call}: {:?}",
            r.findings
        );
    }
}
