//! Routes of blueprints no app registers: kept apart in the model, listed
//! (marked) by `--routes`, not audited; unless the project registers
//! blueprints it does not name, or registers them on something we cannot
//! resolve.

mod common;

const MAIN: &str = r#"from flask import Blueprint
bp = Blueprint("main", __name__)

@bp.route("/")
def index():
    return "hi"
"#;

const API: &str = r#"from flask import Blueprint, request
bp = Blueprint("api", __name__)
inner = Blueprint("inner", __name__)

@bp.route("/users", methods=["POST"])
def create_user():
    data = request.get_json()
    return {"ok": True, "name": data["name"]}

@inner.route("/items", methods=["DELETE"])
def delete_item():
    return "", 204

bp.register_blueprint(inner, url_prefix="/inner")
"#;

const FACTORY: &str = r#"import os
from flask import Flask

def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    from app.main import bp as main_bp
    app.register_blueprint(main_bp)
    return app
"#;

fn controls(outcome: &audit::AuditOutcome, path_part: &str) -> Vec<String> {
    outcome
        .report
        .findings
        .iter()
        .filter(|f| {
            f.location
                .file()
                .is_some_and(|l| l.path.contains(path_part))
        })
        .map(|f| f.control.clone())
        .collect()
}

#[test]
fn routes_of_unregistered_blueprints_are_marked_and_not_audited() {
    let (_d, out) = common::audit_files(&[
        ("app/__init__.py", FACTORY),
        ("app/main.py", MAIN),
        ("app/api/__init__.py", API),
    ]);
    let p = &out.project;
    let live: Vec<&str> = p.routes.iter().map(|r| r.endpoint.as_str()).collect();
    assert_eq!(live, ["main.index"]);
    let mut dead: Vec<&str> = p
        .unregistered_routes
        .iter()
        .map(|r| r.endpoint.as_str())
        .collect();
    dead.sort();
    // Registered only in a blueprint that is itself never registered.
    assert_eq!(dead, ["api.create_user", "inner.delete_item"]);
    assert!(p.unregistered_routes.iter().all(|r| r.unregistered));
    assert!(p.routes.iter().all(|r| !r.unregistered));
    let found = controls(&out, "api/");
    for c in ["AUTH003", "INP001", "INP002"] {
        assert!(
            !found.iter().any(|f| f == c),
            "{c} on an unregistered route: {found:?}"
        );
    }
    let rows = audit::routes_report::rows(p);
    let users = rows.iter().find(|r| r.path == "/users").expect("listed");
    assert!(users.unregistered && !users.auth_missing);
    assert!(audit::routes_report::table(p).contains("/users (unregistered)"));
}

#[test]
fn dynamic_registration_keeps_every_blueprint() {
    let factory = r#"import os
from flask import Flask
from app.plugins import load_plugins

def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    for plugin in load_plugins():
        app.register_blueprint(plugin.blueprint)
    return app
"#;
    let (_d, out) =
        common::audit_files(&[("app/__init__.py", factory), ("app/api/__init__.py", API)]);
    assert!(out.project.unregistered_routes.is_empty());
    assert!(out
        .project
        .routes
        .iter()
        .any(|r| r.endpoint == "api.create_user"));
    assert!(controls(&out, "api/").iter().any(|c| c == "INP002"));
}

#[test]
fn registration_on_an_unknown_object_counts() {
    // flask-smorest: `api.register_blueprint(blp)` on its Api, not the app.
    let factory = r#"import os
from flask import Flask
from flask_smorest import Api
from app.api import bp

def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    api = Api(app)
    api.register_blueprint(bp)
    return app
"#;
    let (_d, out) =
        common::audit_files(&[("app/__init__.py", factory), ("app/api/__init__.py", API)]);
    let p = &out.project;
    assert!(p.routes.iter().any(|r| r.endpoint == "api.create_user"));
    assert!(p.routes.iter().any(|r| r.endpoint == "inner.delete_item"));
    assert!(p.unregistered_routes.is_empty());
}

#[test]
fn blueprints_of_installed_packages_are_not_dynamic_registration() {
    let factory = r#"import os
from flask import Flask
from flask_swagger_ui import get_swaggerui_blueprint
from app.main import bp as main_bp

def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.register_blueprint(main_bp)
    app.register_blueprint(get_swaggerui_blueprint("/docs", "/openapi.json"))
    return app
"#;
    let (_d, out) = common::audit_files(&[
        ("app/__init__.py", factory),
        ("app/main.py", MAIN),
        ("app/api/__init__.py", API),
    ]);
    let p = &out.project;
    assert!(p.routes.iter().any(|r| r.endpoint == "main.index"));
    assert!(p
        .unregistered_routes
        .iter()
        .any(|r| r.endpoint == "api.create_user"));
}

#[test]
fn blueprints_registered_by_a_discovery_loop() {
    let init = r#"import importlib
import pkgutil

from flask import Blueprint, Flask

app = Flask(__name__)

for _, name, _ in pkgutil.iter_modules(__path__):
    module = importlib.import_module(f".{name}", __name__)
    for obj in vars(module).values():
        if isinstance(obj, Blueprint):
            app.register_blueprint(obj, url_prefix="/v1")
"#;
    let items = r#"from flask import Blueprint

items = Blueprint("items", __name__)


@items.post("/items")
def add():
    return ""
"#;
    let elsewhere = r#"from flask import Blueprint

stale = Blueprint("stale", __name__)


@stale.post("/stale")
def old():
    return ""
"#;
    let (_d, outcome) = common::audit_files(&[
        ("api/__init__.py", init),
        ("api/items.py", items),
        ("tools/stale.py", elsewhere),
    ]);
    let p = outcome.project;
    let served: Vec<_> = p.routes.iter().map(|r| r.display_path()).collect();
    assert_eq!(served, ["/v1/items"]);
    assert!(p.routes[0].app.is_some());
    let unregistered: Vec<_> = p
        .unregistered_routes
        .iter()
        .map(|r| r.display_path())
        .collect();
    assert_eq!(unregistered, ["/stale"], "outside the listed package");

    // A loop whose modules cannot be told: as before, a registration of
    // blueprints the model cannot name (every blueprint may be served, where
    // is unknown).
    let unclear = init.replace("pkgutil.iter_modules(__path__)", "plugin_modules()");
    let (_d, outcome) =
        common::audit_files(&[("api/__init__.py", &unclear), ("api/items.py", items)]);
    let p = outcome.project;
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].display_path(), "/items");
    assert_eq!(p.routes[0].app, None);
}

#[test]
fn blueprints_registered_from_a_list_of_module_names() {
    let app = r#"import importlib

from flask import Flask

# Imported one by one, in this order.
SECTIONS = ["billing", "reports"]


def create_app():
    app = Flask(__name__)
    for section in SECTIONS:
        module = importlib.import_module(f"ledger.sections.{section}")
        app.register_blueprint(module.blueprint, url_prefix="/api")
    return app
"#;
    let section = |name: &str| {
        format!(
            r#"from flask import Blueprint

blueprint = Blueprint("{name}", __name__)


@blueprint.post("/{name}")
def add():
    return ""
"#
        )
    };
    let (billing, reports, drafts) = (section("billing"), section("reports"), section("drafts"));
    let (_d, outcome) = common::audit_files(&[
        ("ledger/__init__.py", app),
        ("ledger/sections/__init__.py", ""),
        ("ledger/sections/billing.py", &billing),
        ("ledger/sections/reports/__init__.py", &reports),
        ("ledger/sections/drafts.py", &drafts),
    ]);
    let p = outcome.project;
    let mut served: Vec<_> = p.routes.iter().map(|r| r.display_path()).collect();
    served.sort();
    assert_eq!(served, ["/api/billing", "/api/reports"]);
    assert!(p.routes.iter().all(|r| r.app.is_some()));
    let unregistered: Vec<_> = p
        .unregistered_routes
        .iter()
        .map(|r| r.display_path())
        .collect();
    assert_eq!(unregistered, ["/drafts"], "not in the list");
}
