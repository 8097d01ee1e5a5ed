//! When a config stays readable: patterns common in real Flask projects that
//! used to leave the config `incomplete` (silencing every finding about an
//! absent key): the tutorial factory's `test_config=None`, `from_pyfile(...,
//! silent=True)` for an instance file not in the checkout, `from_object` of a
//! config *instance*, and packages without an `__init__.py`.

use audit::model::{ConfigVia, Project};
use report::Report;

mod common;

fn audit(files: &[(&str, &str)]) -> (tempfile::TempDir, Project, Report) {
    let (dir, outcome) = common::audit_files(files);
    (dir, outcome.project, outcome.report)
}

fn controls(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.control.as_str()).collect()
}

fn has(r: &Report, control: &str) -> bool {
    r.findings.iter().any(|f| f.control == control)
}

fn secret_key(p: &Project) -> Option<String> {
    Some(
        p.apps[0]
            .config
            .get("SECRET_KEY")?
            .value
            .as_str()?
            .to_string(),
    )
}

/// flaskr, the Flask tutorial's factory, with a login route writing the session.
fn tutorial(guard: &str, other: &str) -> String {
    format!(
        "import os\nfrom flask import Flask, request, session\n\n\
         def create_app(test_config=None):\n    \
             app = Flask(__name__, instance_relative_config=True)\n    \
             app.config.from_mapping(SECRET_KEY='dev', DATABASE=os.path.join(app.instance_path, 'flaskr.sqlite'))\n    \
             if {guard}:\n        \
                 app.config.from_pyfile('config.py', silent=True)\n    \
             else:\n        \
                 {other}\n\n    \
             @app.route('/login', methods=['POST'])\n    \
             def login():\n        \
                 session.clear()\n        \
                 session['user_id'] = request.form['username']\n        \
                 return 'ok'\n\n    \
             return app\n"
    )
}

#[test]
fn tutorial_factory_is_read_as_production_calls_it() {
    for (guard, other) in [
        ("test_config is None", "app.config.update(test_config)"),
        (
            "test_config is None",
            "app.config.from_mapping(test_config)",
        ),
        ("not test_config", "app.config.update(test_config)"),
        ("None == test_config", "app.config.from_object(test_config)"),
    ] {
        let src = tutorial(guard, other);
        for extra in [
            vec![],
            // A wsgi.py that calls the factory bare, as production does.
            vec![(
                "wsgi.py",
                "from flaskr import create_app\napp = create_app()\n",
            )],
            // Tests pass a config: they are not production.
            vec![(
                "tests/conftest.py",
                "from flaskr import create_app\napp = create_app({'TESTING': True, 'SESSION_COOKIE_SECURE': True})\n",
            )],
        ] {
            let mut files = vec![("flaskr/__init__.py", src.as_str())];
            files.extend(extra);
            let (_d, p, r) = audit(&files);
            let cfg = &p.apps[0].config;
            assert!(!cfg.incomplete, "{guard} / {other}");
            assert_eq!(secret_key(&p).as_deref(), Some("dev"));
            assert!(cfg.get("DATABASE").is_some());
            assert!(cfg.get("SESSION_COOKIE_SECURE").is_none());
            for control in ["CKE001", "INP003", "PRX002"] {
                assert!(
                    has(&r, control),
                    "{guard} / {other}: {control} missing in {:?}",
                    controls(&r)
                );
            }
        }
    }
}

#[test]
fn an_unguarded_update_with_an_omitted_parameter_loads_nothing() {
    for (default, op) in [
        ("None", "app.config.update(overrides or {})"),
        ("None", "app.config.from_mapping(overrides)"),
        ("{}", "app.config.update(overrides)"),
        ("None", "app.config.from_object(overrides)"),
    ] {
        let src = format!(
            "from flask import Flask\n\ndef create_app(overrides={default}):\n    \
             app = Flask(__name__)\n    app.config['SECRET_KEY'] = 'dev'\n    {op}\n    \
             return app\n"
        );
        let (_d, p, r) = audit(&[("web/__init__.py", &src)]);
        assert!(!p.apps[0].config.incomplete, "{op} with {default}");
        assert!(has(&r, "INP003"), "{op}: {:?}", controls(&r));
    }
}

#[test]
fn a_factory_called_with_a_config_keeps_todays_reading() {
    let src = tutorial("test_config is None", "app.config.update(test_config)");
    // Production passes a mapping the analyser cannot read: which branch runs,
    // and what it loads, is unknown.
    for caller in [
        "import os, json\nfrom flaskr import create_app\napp = create_app(json.loads(os.environ['CFG']))\n",
        "import os, json\nfrom flaskr import create_app\napp = create_app(test_config=json.loads(os.environ['CFG']))\n",
        "from flaskr import create_app\nkw = {}\napp = create_app(**kw)\n",
    ] {
        let (_d, p, r) = audit(&[("flaskr/__init__.py", &src), ("wsgi.py", caller)]);
        assert!(p.apps[0].config.incomplete, "{caller}");
        assert!(!has(&r, "INP003"), "{caller}: {:?}", controls(&r));
    }
    // A readable mapping is read, branch and all.
    let (_d, p, r) = audit(&[
        ("flaskr/__init__.py", &src),
        (
            "wsgi.py",
            "from flaskr import create_app\napp = create_app({'MAX_CONTENT_LENGTH': 1024})\n",
        ),
    ]);
    assert!(p.apps[0].config.get("MAX_CONTENT_LENGTH").is_some());
    assert!(!has(&r, "INP003"), "{:?}", controls(&r));
    // A deploy command that calls the factory with arguments.
    let (_d, p, _r) = audit(&[
        ("flaskr/__init__.py", &src),
        (
            "Procfile",
            "web: gunicorn \"flaskr:create_app(test_config=load())\"\n",
        ),
    ]);
    assert!(p.apps[0].config.incomplete);
}

#[test]
fn a_silent_config_file_that_is_not_in_the_checkout_loads_nothing() {
    for call in [
        "app.config.from_pyfile('config.py', silent=True)",
        "app.config.from_pyfile('settings.cfg', True)",
        "app.config.from_file('config.json', load=json.load, silent=True)",
    ] {
        let src = format!(
            "import json\nfrom flask import Flask\napp = Flask(__name__, instance_relative_config=True)\n\
             app.config['SECRET_KEY'] = 'dev'\n{call}\n\
             @app.post('/upload')\ndef upload():\n    return str(len(request.get_data()))\n"
        );
        let (_d, p, r) = audit(&[("app.py", &src)]);
        assert!(!p.apps[0].config.incomplete, "{call}");
        assert!(has(&r, "INP003"), "{call}: {:?}", controls(&r));
    }
    // With a known path that is not there, from_envvar(silent=True) too.
    let (_d, p, _r) = audit(&[
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\napp.config.from_envvar('APP_SETTINGS', silent=True)\n",
        ),
        (
            "Dockerfile",
            "FROM python:3.12\nENV APP_SETTINGS=/etc/app/settings.cfg\n",
        ),
    ]);
    assert!(!p.apps[0].config.incomplete);
}

#[test]
fn a_config_file_that_must_exist_or_an_unknown_variable_leaves_the_config_open() {
    for call in [
        // Not silent: the deployment supplies the file.
        "app.config.from_pyfile('config.py')",
        "app.config.from_pyfile('config.py', silent=False)",
        // Silent, but the variable's value is unknown: it may name a real file.
        "app.config.from_envvar('APP_SETTINGS', silent=True)",
        // Silent, but whether is computed.
        "app.config.from_pyfile('config.py', silent=flag())",
    ] {
        let src = format!("from flask import Flask\napp = Flask(__name__)\n{call}\n");
        let (_d, p, r) = audit(&[("app.py", &src)]);
        assert!(p.apps[0].config.incomplete, "{call}");
        assert!(!has(&r, "INP003"), "{call}: {:?}", controls(&r));
    }
    // A silent call whose file is there still reads it.
    let (_d, p, _r) = audit(&[
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\napp.config.from_pyfile('settings.cfg', silent=True)\n",
        ),
        ("settings.cfg", "SECRET_KEY = 'from-the-file'\n"),
    ]);
    assert_eq!(secret_key(&p).as_deref(), Some("from-the-file"));
}

const CTFD_CONFIG: &str = "import os\n\n\
class BaseConfig(object):\n    SESSION_COOKIE_HTTPONLY = True\n\n\
class ServerConfig(BaseConfig):\n    SECRET_KEY: str = os.environ['SECRET_KEY']\n    DEBUG = False\n\n\
class TestingConfig(ServerConfig):\n    TESTING = True\n    SESSION_COOKIE_SECURE = True\n\n\
Config = ServerConfig()\n";

#[test]
fn from_object_of_a_config_instance_reads_its_class() {
    for factory in [
        // CTFd: a parameter whose default names the instance.
        "def create_app(config='ctfd.config.Config'):\n    app = Flask(__name__)\n    app.config.from_object(config)\n    return app\n",
        "def create_app():\n    app = Flask(__name__)\n    app.config.from_object('ctfd.config.Config')\n    return app\n",
        // The instance imported by name.
        "from ctfd.config import Config\n\ndef create_app():\n    app = Flask(__name__)\n    app.config.from_object(Config)\n    return app\n",
        // Made on the spot.
        "from ctfd.config import ServerConfig\n\ndef create_app():\n    app = Flask(__name__)\n    app.config.from_object(ServerConfig())\n    return app\n",
    ] {
        let src = format!("from flask import Flask\n{factory}");
        let (_d, p, r) = audit(&[
            ("ctfd/__init__.py", &src),
            ("ctfd/config.py", CTFD_CONFIG),
            (
                "ctfd/auth.py",
                "from flask import session

def login(user):
    session.clear()
    session['id'] = user.id
",
            ),
        ]);
        let cfg = &p.apps[0].config;
        assert!(!cfg.incomplete, "{factory}");
        let choice = cfg.production.as_ref().expect("a production choice");
        assert_eq!(choice.name, "ctfd.config.ServerConfig");
        assert_eq!(
            cfg.get("SECRET_KEY").map(|e| e.via.clone()),
            Some(ConfigVia::Class("ctfd.config.ServerConfig".into()))
        );
        // Inherited from the base class.
        assert_eq!(cfg.flag("SESSION_COOKIE_HTTPONLY"), Some(true));
        assert!(cfg.get("TESTING").is_none());
        for control in ["CKE001", "INP003"] {
            assert!(
                has(&r, control),
                "{factory}: {control} missing in {:?}",
                controls(&r)
            );
        }
    }
}

#[test]
fn from_object_of_an_instance_reads_what_init_sets() {
    let config = "import os\n\nclass Settings:\n    DEBUG = False\n\n    \
                  def __init__(self):\n        self.SECRET_KEY = os.environ['SECRET_KEY']\n        \
                  self.MAX_CONTENT_LENGTH = 1024 * 1024\n        self.lower = 1\n\n\
                  settings = Settings()\n";
    let (_d, p, r) = audit(&[
        (
            "app.py",
            "from flask import Flask\nfrom settings import settings\napp = Flask(__name__)\napp.config.from_object(settings)\n",
        ),
        ("settings.py", config),
    ]);
    let cfg = &p.apps[0].config;
    assert!(!cfg.incomplete);
    assert!(cfg.get("MAX_CONTENT_LENGTH").is_some());
    assert!(cfg.get("SECRET_KEY").is_some());
    assert!(cfg.get("lower").is_none());
    assert!(!has(&r, "INP003"), "{:?}", controls(&r));
    // An instance of something that is not a project class stays unknown.
    let (_d, p, _r) = audit(&[(
        "app.py",
        "from flask import Flask\nfrom somewhere import Settings\nsettings = Settings()\napp = Flask(__name__)\napp.config.from_object(settings)\n",
    )]);
    assert!(p.apps[0].config.incomplete);
}

const REALWORLD_SETTINGS: &str = "import os\n\n\
class Config:\n    SECRET_KEY = os.environ.get('CONDUIT_SECRET', 'secret-key')\n\n\
class ProdConfig(Config):\n    DEBUG = False\n\n\
class DevConfig(Config):\n    DEBUG = True\n";

const REALWORLD_APP: &str = "from flask import Flask\nfrom conduit.settings import ProdConfig\n\n\
def create_app(config_object=ProdConfig):\n    app = Flask(__name__)\n    \
app.config.from_object(config_object)\n    return app\n";

#[test]
fn imports_through_a_directory_without_init_resolve() {
    // gothinkster's realworld app: conduit/ has no __init__.py.
    for autoapp in [
        "from flask.helpers import get_debug_flag\nfrom conduit.app import create_app\n\
         from conduit.settings import DevConfig, ProdConfig\n\
         CONFIG = DevConfig if get_debug_flag() else ProdConfig\napp = create_app(CONFIG)\n",
        "from conduit.app import create_app\napp = create_app()\n",
    ] {
        let (_d, p, r) = audit(&[
            ("autoapp.py", autoapp),
            ("conduit/app.py", REALWORLD_APP),
            ("conduit/settings.py", REALWORLD_SETTINGS),
            // A real package inside the namespace directory.
            ("conduit/articles/__init__.py", "from .views import blueprint\n"),
            (
                "conduit/articles/views.py",
                "from flask import Blueprint\nfrom conduit.settings import Config\nblueprint = Blueprint('articles', __name__)\n",
            ),
        ]);
        assert_eq!(p.apps.len(), 1);
        let cfg = &p.apps[0].config;
        assert!(!cfg.incomplete, "{autoapp}");
        assert_eq!(
            cfg.production.as_ref().map(|c| c.short_name()),
            Some("ProdConfig")
        );
        assert_eq!(secret_key(&p), None, "an environment value, not a literal");
        assert!(cfg.get("SECRET_KEY").is_some());
        assert_eq!(cfg.flag("DEBUG"), Some(false));
        for control in ["INP003", "PRX002"] {
            assert!(has(&r, control), "{control} missing in {:?}", controls(&r));
        }
    }
    // Deeper: src/conduit/settings.py imported as conduit.settings, and as
    // src.conduit.settings.
    for import in ["conduit.settings", "src.conduit.settings"] {
        let app = REALWORLD_APP.replace("conduit.settings", import);
        let (_d, p, _r) = audit(&[
            ("src/conduit/app.py", &app),
            ("src/conduit/settings.py", REALWORLD_SETTINGS),
        ]);
        let cfg = &p.apps[0].config;
        assert!(!cfg.incomplete, "{import}");
        assert_eq!(cfg.flag("DEBUG"), Some(false), "{import}");
    }
}

#[test]
fn namespace_aliases_never_shadow_real_modules_or_guess_between_two() {
    // A real package `conduit` elsewhere wins over the namespace directory.
    let (_d, p, _r) = audit(&[
        ("web/conduit/app.py", REALWORLD_APP),
        (
            "web/conduit/settings.py",
            "class ProdConfig:\n    DEBUG = True\n",
        ),
        ("conduit/__init__.py", ""),
        ("conduit/settings.py", REALWORLD_SETTINGS),
    ]);
    assert_eq!(p.apps[0].config.flag("DEBUG"), Some(false));
    // Two checkouts side by side: `conduit.settings` names two files.
    let (_d, p, _r) = audit(&[
        ("one/conduit/app.py", REALWORLD_APP),
        ("one/conduit/settings.py", REALWORLD_SETTINGS),
        ("two/conduit/settings.py", REALWORLD_SETTINGS),
    ]);
    assert!(p.apps[0].config.incomplete);
}

/// `instance_relative_config=True`: `from_pyfile("config.py")` is the instance
/// folder's file, not the package's own `config.py` module.
#[test]
fn instance_relative_names_are_in_the_instance_folder() {
    let app = tutorial("test_config is None", "app.config.update(test_config)");
    // The package's own config module must not be taken for the instance file.
    let module =
        "SECRET_KEY = 'a-module-that-is-not-the-instance-file'\nSESSION_COOKIE_SECURE = True\n";
    let (_d, p, r) = audit(&[("flaskr/__init__.py", &app), ("flaskr/config.py", module)]);
    assert_eq!(secret_key(&p).as_deref(), Some("dev"));
    assert!(!p.apps[0].config.incomplete);
    assert!(has(&r, "CKE001"), "{:?}", controls(&r));
    // The instance file, when it is in the checkout, is read.
    let instance = "SECRET_KEY = 'dev-instance'\n";
    let (_d, p, _r) = audit(&[
        ("flaskr/__init__.py", &app),
        ("flaskr/config.py", module),
        ("instance/config.py", instance),
    ]);
    assert_eq!(secret_key(&p).as_deref(), Some("dev-instance"));
    assert!(matches!(
        &p.apps[0].config.get("SECRET_KEY").unwrap().via,
        ConfigVia::Module(m) if m == "instance/config.py"
    ));
}
