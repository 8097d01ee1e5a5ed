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
