//! Flask-Admin views: the routes `@expose` and Flask-Admin's model views
//! serve, under the admin's URL, with `is_accessible` as their access check,
//! and the rules that read routes (CSR001, RL003, AUTH003) reading them.

use audit::{model::Route, AuditOutcome};

mod common;

const APP: &str = r#"from flask import Flask, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_login import LoginManager, current_user, login_user

from library.models import Book, Shelf, Reader, db

app = Flask(__name__)
app.config.from_object("library.settings")
db.init_app(app)
logins = LoginManager(app)


class GuardedView(ModelView):
    def is_accessible(self):
        return current_user.is_authenticated and current_user.librarian


class BookView(GuardedView):
    can_delete = False


class OpenView(ModelView):
    def is_accessible(self):
        return True


class DeskIndex(AdminIndexView):
    @expose("/")
    def index(self):
        return super().index()

    @expose("/signin/", methods=("GET", "POST"))
    def signin(self):
        reader = Reader.query.filter_by(name=request.form.get("name")).first()
        if reader is not None and reader.check_password(request.form.get("pw")):
            login_user(reader)
        return redirect(url_for(".index"))


class StatsView(BaseView):
    @expose("/", methods=["GET", "POST"])
    def index(self):
        return self.render("stats.html")


desk = Admin(app, name="Desk", url="/desk", index_view=DeskIndex())
desk.add_view(BookView(Book, db.session))
shelves = OpenView(Shelf, db.session, endpoint="racks")
desk.add_views(shelves, StatsView(name="Stats", url="numbers"))
"#;

const MODELS: &str = r#"from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Book(db.Model):
    id = db.Column(db.Integer, primary_key=True)


class Shelf(db.Model):
    id = db.Column(db.Integer, primary_key=True)


class Reader(db.Model):
    id = db.Column(db.Integer, primary_key=True)
"#;

const SETTINGS: &str = r#"import os

SECRET_KEY = os.environ["SECRET_KEY"]
"#;

fn audit(app: &str) -> (tempfile::TempDir, AuditOutcome) {
    common::audit_files(&[
        ("library/__init__.py", app),
        ("library/models.py", MODELS),
        ("library/settings.py", SETTINGS),
    ])
}

fn at<'a>(routes: &'a [Route], path: &str) -> Vec<&'a Route> {
    routes
        .iter()
        .filter(|r| r.path.as_deref() == Some(path))
        .collect()
}

#[test]
fn exposed_methods_and_model_views_are_routes_under_the_admin_url() {
    let (_d, out) = audit(APP);
    let p = &out.project;
    // The index view serves the admin's URL; its exposed methods below it.
    let signin = at(&p.routes, "/desk/signin/");
    assert_eq!(signin.len(), 1, "{:#?}", p.routes);
    assert_eq!(signin[0].methods, ["GET", "POST"]);
    assert_eq!(signin[0].endpoint, "admin.signin");
    assert_eq!(signin[0].function, "library.DeskIndex.signin");
    assert_eq!(p.describe(signin[0].def_span), "library/__init__.py:34");
    assert!(signin[0].app.is_some());
    assert_eq!(at(&p.routes, "/desk/").len(), 1);
    // A model view: Flask-Admin's own views, at the model's name.
    let new = at(&p.routes, "/desk/book/new/");
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].methods, ["GET", "POST"]);
    assert_eq!(new[0].endpoint, "book.create_view");
    assert_eq!(at(&p.routes, "/desk/book/edit/").len(), 1);
    assert_eq!(at(&p.routes, "/desk/book/action/")[0].methods, ["POST"]);
    // `can_delete = False` (inherited or not) turns the delete view off;
    // details and export are off unless turned on.
    assert!(at(&p.routes, "/desk/book/delete/").is_empty());
    assert!(at(&p.routes, "/desk/book/details/").is_empty());
    // `is_accessible` of a base class guards the view.
    assert_eq!(new[0].auth, ["GuardedView.is_accessible"]);
    // The index view's own views are no guards: its sign-in is public.
    assert!(signin[0].auth.is_empty(), "{:?}", signin[0].auth);
    // `endpoint=` names the URL; a view bound to a name first is followed.
    let racks = at(&p.routes, "/desk/racks/delete/");
    assert_eq!(racks.len(), 1);
    // `return True` guards nothing.
    assert!(racks[0].auth.is_empty());
    // A relative `url=` is below the admin's URL.
    let stats = at(&p.routes, "/desk/numbers/");
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].methods, ["GET", "POST"]);
    assert_eq!(stats[0].endpoint, "statsview.index");
}

fn findings(out: &AuditOutcome, control: &str) -> Vec<(String, u32, String)> {
    out.report
        .findings
        .iter()
        .filter(|f| f.control == control)
        .filter_map(|f| {
            let loc = f.location.file()?;
            Some((loc.path.clone(), loc.line, f.message.clone()))
        })
        .collect()
}

#[test]
fn rules_read_the_admin_routes() {
    let (_d, out) = audit(APP);
    // The admin's forms post with the login cookie and nothing checks a token.
    assert_eq!(findings(&out, "CSR001").len(), 1, "{:#?}", out.report);
    // The sign-in view logs users in with no limit.
    let rl = findings(&out, "RL003");
    assert!(
        rl.iter()
            .any(|(_, line, m)| *line == 34 && m.contains("/desk/signin/")),
        "{rl:#?}"
    );
    // Unguarded model views change data without authentication; guarded ones
    // do not show up.
    let auth = findings(&out, "AUTH003");
    assert!(
        auth.iter().any(|(_, _, m)| m.contains("/desk/racks/new/")),
        "{auth:#?}"
    );
    assert!(
        !auth.iter().any(|(_, _, m)| m.contains("/desk/book/")),
        "{auth:#?}"
    );
}

#[test]
fn secure_form_model_views_carry_a_csrf_token() {
    let app = APP
        .replace(
            "from flask_admin.contrib.sqla import ModelView\n",
            "from flask_admin.contrib.sqla import ModelView\nfrom flask_admin.form import SecureForm\n",
        )
        .replace(
            "class GuardedView(ModelView):\n",
            "class GuardedView(ModelView):\n    form_base_class = SecureForm\n\n",
        )
        .replace(
            "class OpenView(ModelView):\n",
            "class OpenView(ModelView):\n    form_base_class = SecureForm\n\n",
        )
        .replace("methods=(\"GET\", \"POST\")", "methods=(\"GET\",)")
        .replace("methods=[\"GET\", \"POST\"]", "methods=[\"GET\"]");
    let (_d, out) = audit(&app);
    assert!(findings(&out, "CSR001").is_empty(), "{:#?}", out.report);
}

#[test]
fn flask_admins_own_model_view_bound_by_init_app_serves_unguarded_routes() {
    let app = r#"import os

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_login import LoginManager

from library.models import Book, db

desk = Admin(name="Desk")
logins = LoginManager()


def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    db.init_app(app)
    logins.init_app(app)
    desk.init_app(app)
    desk.add_view(ModelView(Book, db.session, url="/backoffice/books"))
    return app
"#;
    let (_d, out) = audit(app);
    let p = &out.project;
    let new = at(&p.routes, "/backoffice/books/new/");
    assert_eq!(new.len(), 1, "{:#?}", p.routes);
    assert_eq!(new[0].endpoint, "book.create_view");
    assert_eq!(
        new[0].class.as_deref(),
        Some("flask_admin.contrib.sqla.ModelView")
    );
    assert!(new[0].app.is_some(), "bound by init_app");
    assert!(new[0].auth.is_empty());
    assert_eq!(p.describe(new[0].def_span), "library/__init__.py:20");
    let auth = findings(&out, "AUTH003");
    assert!(
        auth.iter()
            .any(|(_, _, m)| m.contains("/backoffice/books/delete/")),
        "{auth:#?}"
    );
    assert_eq!(findings(&out, "CSR001").len(), 1, "{:#?}", out.report);
}
