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

/// A helper given a blueprint and a table of `(rule, resource)` rows, with
/// decorators applied to every view; tables written next to the call and
/// imported from another module.
const TABLE_HELPER: &str = r#"def mount_resources(bp, table, wrappers=None):
    made = {}
    for rule, resource in table:
        view = made.get(resource)
        if view is None:
            view = resource.as_view(resource.__name__)
            for wrap in wrappers or []:
                view = wrap(view)
            made[resource] = view
        bp.add_url_rule(rule, view_func=view)
    return bp
"#;

const SHELVES: &str = r#"from flask import Blueprint
from flask.views import MethodView
from flask_jwt_extended import jwt_required

from library.helpers import mount_resources
from library.tables import LOAN_ROWS


class ShelfList(MethodView):
    def get(self):
        return []

    def post(self):
        return {}, 201


class Shelf(MethodView):
    @jwt_required()
    def delete(self, shelf_id):
        return "", 204


rows = [
    ("/shelves", ShelfList),
    ("/shelves/<shelf_id>", Shelf),
    # An alias kept for old clients.
    ("/racks", ShelfList),
]

shelves = Blueprint("shelves", __name__)
mount_resources(shelves, rows)

loans = Blueprint("loans", __name__)
mount_resources(loans, LOAN_ROWS, wrappers=[jwt_required()])
"#;

const TABLES: &str = r#"from library.loans import Loan

LOAN_ROWS = [("/loans/<loan_id>", Loan)]
"#;

const LOANS: &str = r#"from flask.views import MethodView


class Loan(MethodView):
    def put(self, loan_id):
        return {}
"#;

const APP: &str = r#"from flask import Flask

from library.shelves import loans, shelves


def create_app():
    app = Flask(__name__)
    app.register_blueprint(shelves, url_prefix="/api")
    app.register_blueprint(loans)
    return app
"#;

fn table_routes() -> Vec<Route> {
    let (_d, out) = common::audit_files(&[
        ("library/__init__.py", APP),
        ("library/helpers.py", TABLE_HELPER),
        ("library/shelves.py", SHELVES),
        ("library/tables.py", TABLES),
        ("library/loans.py", LOANS),
    ]);
    out.project.routes
}

#[test]
fn a_helper_given_a_table_registers_every_row_of_every_call() {
    let routes = table_routes();
    let list = at(&routes, "/api/shelves");
    assert_eq!(list.len(), 2, "{routes:#?}");
    let post = list.iter().find(|r| r.methods == ["POST"]).unwrap();
    assert_eq!(post.function, "library.shelves.ShelfList.post");
    assert_eq!(post.endpoint, "shelves.ShelfList");
    assert!(post.auth.is_empty());
    // Declared at its row.
    assert_eq!(post.span.file, list[0].span.file);
    assert_eq!(at(&routes, "/api/racks").len(), 2, "{routes:#?}");
    let shelf = at(&routes, "/api/shelves/<shelf_id>");
    assert_eq!(shelf.len(), 1, "{routes:#?}");
    assert_eq!(shelf[0].methods, ["DELETE"]);
    assert!(!shelf[0].auth.is_empty());
    // The imported table, with the decorators the call hands the helper.
    let loan = at(&routes, "/loans/<loan_id>");
    assert_eq!(loan.len(), 1, "{routes:#?}");
    assert_eq!(loan[0].methods, ["PUT"]);
    assert_eq!(loan[0].function, "library.loans.Loan.put");
    assert!(!loan[0].auth.is_empty(), "{:?}", loan[0].auth);
    // The helper's own registration is no route.
    assert!(
        routes.iter().all(|r| !r.display_path().contains("<?>")),
        "{routes:#?}"
    );
    assert_eq!(routes.len(), 6, "{routes:#?}");
}

const RESTFUL_APP: &str = r#"from flask import Flask
from flask_restful import Api

from notes.api.table import NOTE_ROUTES, TAG_ROUTES


def create_app():
    app = Flask(__name__)
    api = Api(app, prefix="/api/v2")
    for entry in NOTE_ROUTES:
        api.add_resource(*entry)
    for resource, rule in TAG_ROUTES:
        api.add_resource(resource, rule)
    return app
"#;

const RESTFUL_TABLE: &str = r#"from flask_restful import Resource

from notes.auth import token_required


class NoteList(Resource):
    def get(self):
        return []

    def post(self):
        return {}, 201


class Note(Resource):
    method_decorators = [token_required]

    def patch(self, note_id):
        return {}


class Tag(Resource):
    def delete(self, tag):
        return "", 204


NOTE_ROUTES = [
    (NoteList, "/notes", "/notes/"),
    (Note, "/notes/<int:note_id>"),
]

TAG_ROUTES = [(Tag, "/tags/<tag>")]
"#;

const RESTFUL_AUTH: &str = r#"def token_required(f):
    return f
"#;

#[test]
fn flask_restful_resources_added_in_a_loop_over_a_table() {
    let (_d, out) = common::audit_files(&[
        ("notes/__init__.py", RESTFUL_APP),
        ("notes/api/__init__.py", ""),
        ("notes/api/table.py", RESTFUL_TABLE),
        ("notes/auth.py", RESTFUL_AUTH),
    ]);
    let routes = out.project.routes;
    assert_eq!(at(&routes, "/api/v2/notes").len(), 2, "{routes:#?}");
    assert_eq!(at(&routes, "/api/v2/notes/").len(), 2, "{routes:#?}");
    let note = at(&routes, "/api/v2/notes/<int:note_id>");
    assert_eq!(note.len(), 1, "{routes:#?}");
    assert_eq!(note[0].methods, ["PATCH"]);
    assert!(!note[0].auth.is_empty());
    let tag = at(&routes, "/api/v2/tags/<tag>");
    assert_eq!(tag.len(), 1, "{routes:#?}");
    assert_eq!(tag[0].function, "notes.api.table.Tag.delete");
    assert_eq!(routes.len(), 6, "{routes:#?}");
}
