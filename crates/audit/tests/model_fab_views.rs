//! Flask-AppBuilder views and APIs: the routes `@expose` and
//! Flask-AppBuilder's model views and REST APIs serve, under the class's
//! `route_base`, with `@protect()` / `@has_access` as their guards.

use audit::{model::Route, AuditOutcome};

mod common;

const APP: &str = r#"from flask import Flask
from flask_appbuilder import AppBuilder, BaseView, ModelView, expose, has_access
from flask_appbuilder.api import BaseApi, ModelRestApi, protect
from flask_appbuilder.models.sqla.interface import SQLAInterface

from garden.models import Plant, db

app = Flask(__name__)
app.config.from_object("garden.settings")
appbuilder = AppBuilder()


class GardenApi(ModelRestApi):
    resource_name = "plant"
    datamodel = SQLAInterface(Plant)
    exclude_route_methods = {"put"}

    @expose("/<int:pk>/water", methods=["POST"])
    @protect()
    def water(self, pk):
        return self.response(200)

    @expose("/<int:pk>", methods=["DELETE"])
    def delete(self, pk):
        return self.response(200)


class HealthApi(BaseApi):
    version = "v2"

    @expose("/ping", methods=("GET",))
    def ping(self):
        return self.response(200)


class PlantView(ModelView):
    route_base = "/plants"
    datamodel = SQLAInterface(Plant)
    include_route_methods = ["list", "show", "prune"]

    @expose("/prune/<pk>", methods=["POST"])
    @has_access
    def prune(self, pk):
        return "ok"


class Greenhouse(BaseView):
    @expose("/open", methods=["GET", "POST"])
    def open_doors(self):
        return "ok"


appbuilder.add_api(GardenApi)
appbuilder.add_api(HealthApi)
appbuilder.add_view(PlantView, "Plants", category="Garden")
appbuilder.add_view_no_menu(Greenhouse())
appbuilder.init_app(app, db.session)
"#;

const MODELS: &str = r#"from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Plant(db.Model):
    id = db.Column(db.Integer, primary_key=True)
"#;

const SETTINGS: &str = r#"import os

SECRET_KEY = os.environ["SECRET_KEY"]
"#;

fn audit(app: &str) -> (tempfile::TempDir, AuditOutcome) {
    common::audit_files(&[
        ("garden/__init__.py", app),
        ("garden/models.py", MODELS),
        ("garden/settings.py", SETTINGS),
    ])
}

fn at<'a>(routes: &'a [Route], path: &str, method: &str) -> Vec<&'a Route> {
    routes
        .iter()
        .filter(|r| r.path.as_deref() == Some(path) && r.methods.iter().any(|m| m == method))
        .collect()
}

#[test]
fn exposed_methods_and_builtin_views_are_routes_under_route_base() {
    let (_d, out) = audit(APP);
    let p = &out.project;
    // An API: `/api/v1/<resource_name>`, its own exposed method guarded.
    let water = at(&p.routes, "/api/v1/plant/<int:pk>/water", "POST");
    assert_eq!(water.len(), 1, "{:#?}", p.routes);
    assert_eq!(water[0].function, "garden.GardenApi.water");
    assert_eq!(p.describe(water[0].def_span), "garden/__init__.py:20");
    assert_eq!(water[0].auth, ["flask_appbuilder.api.protect"]);
    assert!(water[0].app.is_some());
    // ModelRestApi's own CRUD views, behind its `@protect()`.
    let post = at(&p.routes, "/api/v1/plant/", "POST");
    assert_eq!(post.len(), 1);
    assert!(!post[0].auth.is_empty());
    assert_eq!(at(&p.routes, "/api/v1/plant/_info", "GET").len(), 1);
    // Excluded: no PUT.
    assert!(at(&p.routes, "/api/v1/plant/<pk>", "PUT").is_empty());
    // Overridden without a guard: the project's version, open.
    let delete = at(&p.routes, "/api/v1/plant/<int:pk>", "DELETE");
    assert_eq!(delete.len(), 1);
    assert!(delete[0].auth.is_empty());
    assert!(at(&p.routes, "/api/v1/plant/<pk>", "DELETE").is_empty());
    // `version` names the API's version; the class's name its resource.
    assert_eq!(at(&p.routes, "/api/v2/healthapi/ping", "GET").len(), 1);
    // A model view at its `route_base`, only the included views.
    assert_eq!(at(&p.routes, "/plants/list/", "GET").len(), 1);
    assert_eq!(at(&p.routes, "/plants/prune/<pk>", "POST").len(), 1);
    assert!(at(&p.routes, "/plants/add", "POST").is_empty());
    // A plain view given as an instance: at its class's name.
    let open = at(&p.routes, "/greenhouse/open", "POST");
    assert_eq!(open.len(), 1);
    assert!(open[0].auth.is_empty());
}

#[test]
fn classes_not_given_to_appbuilder_serve_nothing() {
    let app = APP.replace("appbuilder.add_view_no_menu(Greenhouse())\n", "");
    let (_d, out) = audit(&app);
    assert!(out
        .project
        .routes
        .iter()
        .all(|r| !r.display_path().starts_with("/greenhouse")));
}
