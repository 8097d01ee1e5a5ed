//! Flask's class-based views (`MethodView`, `View`, flask-smorest's
//! `@blp.route` on a class): each HTTP method is a view of its own in the
//! model, and the rules that read view bodies read it.

use std::collections::BTreeSet;

use audit::{model::Route, routes_report, AuditOutcome};

mod common;

const INIT: &str = r#"from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

app = Flask(__name__)
limiter = Limiter(get_remote_address, app=app, storage_uri="redis://redis:6379/0")
csrf = CSRFProtect(app)

from shop import views  # noqa: E402
"#;

const BASE: &str = r#"from flask.views import MethodView


class BaseView(MethodView):
    def options(self):
        return ""
"#;

const VIEWS: &str = r#"import os
import subprocess

from flask import request, session
from flask.views import MethodView, View
from flask_login import login_required

from shop import app, csrf, limiter
from shop.base import BaseView


class ItemAPI(BaseView):
    decorators = [limiter.limit("10 per minute")]

    def get(self, name):
        os.system("ls " + name)
        return {}

    def post(self, name):
        try:
            data = request.get_json()
            subprocess.run(f"echo {data['x']}", shell=True)
        except Exception as e:
            return {"error": str(e)}, 500
        return {}

    @login_required
    def delete(self, name):
        return "", 204


class Counter(MethodView):
    def get(self, n):
        os.system(f"seq {n}")
        return ""


class Hook(MethodView):
    decorators = [csrf.exempt]

    def post(self):
        session["user_id"] = 1
        return ""


class Report(View):
    methods = ["GET", "POST"]

    def dispatch_request(self):
        return os.popen(request.args["cmd"]).read()


item_view = ItemAPI.as_view("item")
app.add_url_rule("/items/<name>", view_func=item_view, methods=["GET", "DELETE"])
app.add_url_rule("/items/<name>/new", view_func=item_view, methods=["POST"])
app.add_url_rule("/items/<name>/copy", view_func=item_view, methods=["POST"])
app.add_url_rule("/count/<int:n>", view_func=Counter.as_view("count"))
app.add_url_rule("/hook", view_func=Hook.as_view("hook"))
app.add_url_rule("/report", view_func=Report.as_view("report"))
"#;

fn audit() -> (tempfile::TempDir, AuditOutcome) {
    common::audit_files(&[
        ("shop/__init__.py", INIT),
        ("shop/base.py", BASE),
        ("shop/views.py", VIEWS),
    ])
}

fn routes<'a>(routes: &'a [Route], path: &str) -> Vec<&'a Route> {
    routes
        .iter()
        .filter(|r| r.path.as_deref() == Some(path))
        .collect()
}

#[test]
fn each_http_method_of_a_class_view_is_a_route() {
    let (_d, out) = audit();
    let p = &out.project;
    let items = routes(&p.routes, "/items/<name>");
    let methods: Vec<&str> = items.iter().map(|r| r.methods[0].as_str()).collect();
    // `methods=` of the registration picks among the class's methods.
    assert_eq!(methods, ["GET", "DELETE"]);
    let get = items[0];
    assert_eq!(get.function, "shop.views.ItemAPI.get");
    assert_eq!(get.class.as_deref(), Some("shop.views.ItemAPI"));
    assert_eq!(get.endpoint, "item");
    assert_eq!(p.describe(get.def_span), "shop/views.py:15");
    // The class's `decorators` limit every method.
    assert!(items.iter().all(|r| r.limits.len() == 1));
    // A method's own decorator is its own.
    assert!(get.auth.is_empty());
    assert_eq!(items[1].auth, ["flask_login.login_required"]);
    let new = routes(&p.routes, "/items/<name>/new");
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].methods, ["POST"]);
    assert_eq!(new[0].function, "shop.views.ItemAPI.post");
    // A class with no `methods=`: its HTTP-method methods, also inherited.
    let count: Vec<&str> = routes(&p.routes, "/count/<int:n>")
        .iter()
        .map(|r| r.methods[0].as_str())
        .collect();
    assert_eq!(count, ["GET"]);
    // `decorators = [csrf.exempt]` exempts the view.
    let hook = routes(&p.routes, "/hook");
    assert_eq!(hook.len(), 1);
    assert!(hook[0].csrf_exempt.is_some());
    // A `View` answers the methods it allows with `dispatch_request`.
    let report = routes(&p.routes, "/report");
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].methods, ["GET", "POST"]);
    assert_eq!(report[0].function, "shop.views.Report.dispatch_request");
}

#[test]
fn an_inherited_method_is_a_view_of_the_subclass() {
    let (_d, out) = common::audit_files(&[
        ("shop/__init__.py", INIT),
        ("shop/base.py", BASE),
        (
            "shop/views.py",
            "from shop import app\nfrom shop.base import BaseView\n\n\nclass Ping(BaseView):\n    def get(self):\n        return ''\n\n\napp.add_url_rule('/ping', view_func=Ping.as_view('ping'))\n",
        ),
    ]);
    let p = &out.project;
    let ping = routes(&p.routes, "/ping");
    let methods: Vec<&str> = ping.iter().map(|r| r.methods[0].as_str()).collect();
    assert_eq!(methods, ["GET", "OPTIONS"]);
    assert_eq!(ping[1].function, "shop.base.BaseView.options");
    assert_eq!(ping[1].class.as_deref(), Some("shop.views.Ping"));
    assert_eq!(p.describe(ping[1].def_span), "shop/base.py:5");
}

/// `line CONTROL` of every finding in shop/views.py.
fn findings_in_views(out: &AuditOutcome) -> Vec<(u32, String, String)> {
    out.report
        .findings
        .iter()
        .filter_map(|f| {
            let loc = f.location.file()?;
            (loc.path == "shop/views.py").then(|| (loc.line, f.control.clone(), f.message.clone()))
        })
        .collect()
}

#[test]
fn rules_read_the_methods_of_class_views_once_each() {
    let (_d, out) = audit();
    let found = findings_in_views(&out);
    let has = |line: u32, control: &str| found.iter().any(|(l, c, _)| *l == line && c == control);
    // A URL variable of the class view's rule is request text...
    assert!(has(16, "INJ004"), "{found:#?}");
    // ...unless its converter is numeric.
    assert!(!has(34, "INJ004"), "{found:#?}");
    // The method's body: request data, caught exceptions.
    assert!(has(22, "INJ004"), "{found:#?}");
    let err: Vec<_> = found.iter().filter(|(_, c, _)| c == "ERR001").collect();
    assert_eq!(err.len(), 1, "one view under two routes: {err:#?}");
    assert_eq!(err[0].0, 24);
    assert!(err[0].2.contains("`ItemAPI.post`"), "{}", err[0].2);
    assert!(has(21, "INP002"), "{found:#?}");
    // Per-route rules point at the method that answers.
    assert!(has(19, "AUTH003"));
    assert!(!has(28, "AUTH003"), "DELETE is login_required");
    assert!(
        has(39, "CSR001"),
        "csrf.exempt on a state-changing class view"
    );
    assert!(has(50, "INJ004"), "{found:#?}");
    // Nothing twice.
    let unique: BTreeSet<_> = found.iter().collect();
    assert_eq!(unique.len(), found.len(), "{found:#?}");
    // Nothing at the class lines or at the registrations.
    assert!(
        found
            .iter()
            .all(|(l, _, _)| ![12, 32, 38, 46].contains(l) && *l < 53),
        "{found:#?}"
    );
}

#[test]
fn the_route_inventory_lists_each_method() {
    let (_d, out) = audit();
    let rows = routes_report::rows(&out.project);
    let items: Vec<(String, String, String)> = rows
        .iter()
        .filter(|r| r.path.starts_with("/items/<name>"))
        .map(|r| (r.methods.join(","), r.path.clone(), r.location.clone()))
        .collect();
    let expected = [
        ("DELETE", "/items/<name>", "shop/views.py:28"),
        ("GET", "/items/<name>", "shop/views.py:15"),
        ("POST", "/items/<name>/copy", "shop/views.py:19"),
        ("POST", "/items/<name>/new", "shop/views.py:19"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(m, p, l)| (m.to_string(), p.to_string(), l.to_string()))
        .collect();
    assert_eq!(items, expected);
    let delete = rows
        .iter()
        .find(|r| r.path == "/items/<name>" && r.methods == ["DELETE"])
        .unwrap();
    assert_eq!(delete.rate_limit, ["10 per minute"]);
    assert_eq!(delete.auth, ["login_required"]);
    assert!(!delete.auth_missing);
    let report = rows.iter().find(|r| r.path == "/report").unwrap();
    assert_eq!(report.methods, ["GET", "POST"]);
    assert!(report.auth_missing);
}

#[test]
fn smorest_method_views_are_routes_of_their_blueprint() {
    let (_d, out) = common::audit_files(&[
        (
            "app.py",
            r#"from flask import Flask
from flask_smorest import Api

from pets import blp

app = Flask(__name__)
api = Api(app)
api.register_blueprint(blp)
"#,
        ),
        (
            "pets.py",
            r#"import sqlite3

from flask.views import MethodView
from flask_smorest import Blueprint, abort

blp = Blueprint("pets", "pets", url_prefix="/pets")


@blp.route("/")
class Pets(MethodView):
    @blp.response(200)
    def get(self):
        return []

    def post(self):
        return {}


@blp.route("/<pet_id>", endpoint="pet")
class PetsById(MethodView):
    def get(self, pet_id):
        db = sqlite3.connect("pets.db")
        return db.execute(f"SELECT * FROM pets WHERE id = '{pet_id}'").fetchone()

    def delete(self, pet_id):
        try:
            remove(pet_id)
        except Exception as e:
            abort(500, message=str(e))
        return "", 204


@blp.route("/not-a-view")
class Helper:
    pass
"#,
        ),
    ]);
    let p = &out.project;
    let got: Vec<(String, &str, &str)> = p
        .routes
        .iter()
        .map(|r| (r.methods.join(","), r.rule.as_str(), r.endpoint.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("GET".to_string(), "/", "pets.Pets"),
            ("POST".to_string(), "/", "pets.Pets"),
            ("GET".to_string(), "/<pet_id>", "pets.pet"),
            ("DELETE".to_string(), "/<pet_id>", "pets.pet"),
        ]
    );
    let lines = |control: &str| -> Vec<u32> {
        out.report
            .findings
            .iter()
            .filter(|f| f.control == control)
            .filter_map(|f| f.location.file().map(|l| l.line))
            .collect()
    };
    assert_eq!(lines("INJ001"), [23]);
    assert_eq!(lines("ERR001"), [29]);
    assert_eq!(lines("AUTH003"), [15, 25]);
}
