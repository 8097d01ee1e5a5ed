//! Routes registered in loops: a helper that registers one view under each
//! rule of a list it is given, and `add_url_rule` in a loop over a literal
//! table of rules and views.

use audit::model::Route;

mod common;

const HELPERS: &str = r#"def register_view(bp_or_app, routes, view_func, *args, **kwargs):
    for route in routes:
        bp_or_app.add_url_rule(route, view_func=view_func, *args, **kwargs)
"#;

const VIEWS: &str = r#"from flask import Blueprint, Flask
from flask.views import MethodView
from flask_login import login_required

from forum.helpers import register_view


class Settings(MethodView):
    decorators = [login_required]

    def get(self):
        return "form"

    def post(self):
        return "saved"


class Profile(MethodView):
    def get(self, name):
        return name


def ping():
    return "pong"


def status():
    return "ok"


def create_app():
    app = Flask(__name__)
    account = Blueprint("account", __name__)
    register_view(account, routes=["/settings", "/preferences"], view_func=Settings.as_view("settings"))
    register_view(account, ["/<name>"], Profile.as_view("profile"))
    for rule, view in [("/ping", ping), ("/status", status)]:
        app.add_url_rule(rule, view_func=view, methods=["GET", "POST"])
    for rule in PAGES:
        app.add_url_rule(rule, view_func=status)
    app.register_blueprint(account, url_prefix="/account")
    return app


PAGES = ("/about", "/help")
"#;

fn routes() -> Vec<Route> {
    let (_d, out) =
        common::audit_files(&[("forum/__init__.py", VIEWS), ("forum/helpers.py", HELPERS)]);
    out.project.routes
}

fn at<'a>(routes: &'a [Route], path: &str) -> Vec<&'a Route> {
    routes
        .iter()
        .filter(|r| r.path.as_deref() == Some(path))
        .collect()
}

#[test]
fn a_helper_looping_over_its_rules_registers_each() {
    let routes = routes();
    for path in ["/account/settings", "/account/preferences"] {
        let found = at(&routes, path);
        assert_eq!(found.len(), 2, "{path}: {routes:#?}");
        let post = found.iter().find(|r| r.methods == ["POST"]).unwrap();
        assert_eq!(post.endpoint, "account.settings");
        assert_eq!(post.function, "forum.Settings.post");
        assert!(!post.auth.is_empty(), "{:?}", post.auth);
    }
    let profile = at(&routes, "/account/<name>");
    assert_eq!(profile.len(), 1, "{routes:#?}");
    assert_eq!(profile[0].methods, ["GET"]);
    assert!(profile[0].auth.is_empty());
    assert!(routes.iter().all(|r| !r.display_path().contains("<?>")));
}

#[test]
fn a_loop_over_a_table_registers_each_row() {
    let routes = routes();
    let ping = at(&routes, "/ping");
    assert_eq!(ping.len(), 1, "{routes:#?}");
    assert_eq!(ping[0].function, "forum.ping");
    assert_eq!(ping[0].methods, ["GET", "POST"]);
    assert_eq!(at(&routes, "/status")[0].function, "forum.status");
    // A module constant as the table.
    assert_eq!(at(&routes, "/about").len(), 1);
    assert_eq!(at(&routes, "/help")[0].function, "forum.status");
}
