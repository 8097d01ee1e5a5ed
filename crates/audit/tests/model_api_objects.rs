//! API objects that real projects keep one step away from the app: a
//! Flask-RESTX `Namespace` held as a class attribute (`api = UserDto.api`), a
//! flask-smorest `Api` that registers the blueprints, and config classes
//! picked from `dict(dev=..., prod=...)`.

use audit::{model::Route, AuditOutcome};

mod common;

fn paths(out: &AuditOutcome) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = out
        .project
        .routes
        .iter()
        .map(|r: &Route| {
            (
                r.methods.join(","),
                r.path.clone().unwrap_or_else(|| r.rule.clone()),
            )
        })
        .collect();
    v.sort();
    v
}

fn controls(out: &AuditOutcome) -> Vec<&str> {
    out.report
        .findings
        .iter()
        .map(|f| f.control.as_str())
        .collect()
}

const RESTX_INIT: &str = r#"from flask import Blueprint, Flask
from flask_restx import Api

from app.auth.controller import api as auth_ns

auth_bp = Blueprint("auth", __name__)
rest = Api(auth_bp, title="Auth")
rest.add_namespace(auth_ns)


def create_app():
    app = Flask(__name__)
    app.register_blueprint(auth_bp)
    return app
"#;

const RESTX_DTO: &str = r#"from flask_restx import Namespace, fields


class AuthDto:
    api = Namespace("auth", description="Tokens")
    login = api.model("login", {"email": fields.String(required=True)})
"#;

const RESTX_CONTROLLER: &str = r#"from flask import request
from flask_restx import Resource

from app.auth.dto import AuthDto

api = AuthDto.api


@api.route("/login")
class Login(Resource):
    def post(self):
        data = request.get_json()
        return {"email": data["email"]}
"#;

/// The routes of `SMOREST_VIEWS` under the blueprint's own `/members` prefix.
fn members_routes() -> [(String, String); 2] {
    [
        ("GET".to_string(), "/members/".to_string()),
        ("POST".to_string(), "/members/".to_string()),
    ]
}

#[test]
fn a_namespace_kept_as_a_class_attribute_serves_its_resources() {
    let (_d, out) = common::audit_files(&[
        ("app/__init__.py", RESTX_INIT),
        ("app/auth/__init__.py", ""),
        ("app/auth/dto.py", RESTX_DTO),
        ("app/auth/controller.py", RESTX_CONTROLLER),
    ]);
    assert_eq!(
        paths(&out),
        [("POST".to_string(), "/auth/login".to_string())]
    );
    // The route is an authentication route of the app: RL003 sees it.
    assert!(controls(&out).contains(&"RL003"), "{:?}", controls(&out));
}

const SMOREST_VIEWS: &str = r#"from flask.views import MethodView
from flask_smorest import Blueprint

blp = Blueprint("Members", __name__, url_prefix="/members")


@blp.route("/")
class Members(MethodView):
    @blp.response(200)
    def get(self):
        return []

    @blp.response(201)
    def post(self):
        return {}
"#;

#[test]
fn a_blueprint_registered_by_a_smorest_api_keeps_its_prefix_and_app() {
    let init = r#"from flask import Flask
from flask_smorest import Api

from shop.views import blp

api = Api()


def create_app():
    app = Flask(__name__)
    api.init_app(app)
    api.register_blueprint(blp)
    return app
"#;
    let (_d, out) =
        common::audit_files(&[("shop/__init__.py", init), ("shop/views.py", SMOREST_VIEWS)]);
    assert_eq!(paths(&out), members_routes());
    let app = out.project.apps[0].id;
    assert!(out.project.routes.iter().all(|r| r.app == Some(app)));
    // The smorest Api answers HTTP errors in JSON: no ERR002.
    assert!(!controls(&out).contains(&"ERR002"), "{:?}", controls(&out));
}

#[test]
fn a_blueprint_registered_in_a_loop_keeps_its_own_prefix() {
    let init = r#"from flask import Flask
from flask_smorest import Api

from shop import views


def register(api):
    for module in (views,):
        api.register_blueprint(module.blp)


def create_app():
    app = Flask(__name__)
    register(Api(app))
    return app
"#;
    let (_d, out) =
        common::audit_files(&[("shop/__init__.py", init), ("shop/views.py", SMOREST_VIEWS)]);
    assert_eq!(paths(&out), members_routes());
}

#[test]
fn a_json_api_without_smorest_still_needs_json_error_handlers() {
    let init = r#"from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/items")
def items():
    return jsonify([])
"#;
    let (_d, out) = common::audit_files(&[("shop/__init__.py", init)]);
    assert!(controls(&out).contains(&"ERR002"), "{:?}", controls(&out));
}

#[test]
fn a_config_class_chosen_from_a_dict_call_is_read() {
    let config = r#"import os


class Config:
    SECRET_KEY = os.environ["SECRET_KEY"]


class DevelopmentConfig(Config):
    DEBUG = True


class ProductionConfig(Config):
    DEBUG = False


config_by_name = dict(dev=DevelopmentConfig, prod=ProductionConfig)
"#;
    let init = r#"from flask import Flask

from config import config_by_name


def create_app(config_name):
    app = Flask(__name__)
    app.config.from_object(config_by_name[config_name])
    return app
"#;
    let (_d, out) = common::audit_files(&[("config.py", config), ("app/__init__.py", init)]);
    // The production entry is known, so unset settings are findings.
    let c = controls(&out);
    assert!(c.contains(&"INP003"), "{c:?}");
    assert!(c.contains(&"PRX002"), "{c:?}");
    // and the development entry's DEBUG is not production's.
    assert!(!c.contains(&"DBG001"), "{c:?}");
}
