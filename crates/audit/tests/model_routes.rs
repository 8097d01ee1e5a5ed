//! Routes and handlers the model finds: decorators, `add_url_rule` with
//! functions and class-based views, FastAPI routers with prefixes, error handlers.

use audit::model::Project;

mod common;

fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    let (dir, outcome) = common::audit_files(files);
    (dir, outcome.project)
}

const VIEWS: &str = r#"from flask import Blueprint
from flask.views import MethodView
from flask_login import login_required

bp = Blueprint("items", __name__, url_prefix="/items")


@login_required
def list_items():
    return []


class ItemAPI(MethodView):
    def get(self, item_id):
        return {}

    def delete(self, item_id):
        return "", 204


def not_found(e):
    return {"error": "not found"}, 404


bp.add_url_rule("/", view_func=list_items)
bp.add_url_rule("/<int:item_id>", view_func=ItemAPI.as_view("item"))
"#;

const APP: &str = r#"from flask import Flask

from views import bp, not_found

app = Flask(__name__)
app.register_blueprint(bp, url_prefix="/api/items")
app.register_error_handler(404, not_found)
"#;

#[test]
fn add_url_rule_routes_and_registered_handlers() {
    let (_d, p) = project(&[("views.py", VIEWS), ("app.py", APP)]);
    let list = p
        .routes
        .iter()
        .find(|r| r.endpoint == "items.list_items")
        .expect("function view");
    assert_eq!(list.path.as_deref(), Some("/api/items/"));
    assert_eq!(list.methods, ["GET"]);
    assert_eq!(list.auth, ["flask_login.login_required"]);
    assert_eq!(p.describe(list.def_span), "views.py:9");
    // Each HTTP method of the class view is a view of its own.
    let item: Vec<_> = p
        .routes
        .iter()
        .filter(|r| r.endpoint == "items.item")
        .collect();
    assert_eq!(item.len(), 2, "class view");
    assert!(item
        .iter()
        .all(|r| r.path.as_deref() == Some("/api/items/<int:item_id>")
            && r.class.as_deref() == Some("views.ItemAPI")));
    assert_eq!(item[0].methods, ["GET"]);
    assert_eq!(item[0].function, "views.ItemAPI.get");
    assert_eq!(p.describe(item[0].def_span), "views.py:14");
    assert_eq!(item[1].methods, ["DELETE"]);
    assert!(item[1].is_mutation());
    assert_eq!(p.describe(item[1].def_span), "views.py:17");
    let handler = p
        .error_handlers
        .iter()
        .find(|h| h.key.as_int() == Some(404))
        .expect("handler");
    assert_eq!(handler.function, "views.not_found");
    assert_eq!(handler.app, Some(0));
}

#[test]
fn fastapi_router_prefixes_and_dependencies() {
    let main = r#"from fastapi import APIRouter, Depends, FastAPI

from auth import get_current_user

router = APIRouter(prefix="/orders")


@router.post("/{order_id}/cancel")
def cancel(order_id: int, user=Depends(get_current_user)):
    return {}


app = FastAPI()
app.include_router(router, prefix="/api/v1")
"#;
    let (_d, p) = project(&[
        ("main.py", main),
        ("auth.py", "def get_current_user():\n    return None\n"),
    ]);
    let r = &p.routes[0];
    assert_eq!(r.path.as_deref(), Some("/api/v1/orders/{order_id}/cancel"));
    assert_eq!(r.methods, ["POST"]);
    assert_eq!(r.auth, ["auth.get_current_user"]);
    assert_eq!(r.app, Some(0));
}

#[test]
fn auth_from_guards_custom_decorators_and_router_dependencies() {
    let app = r#"from functools import wraps

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from flask import Blueprint, Flask, abort, g, jsonify, session

app = Flask(__name__)
admin = Blueprint("admin", __name__)
public = Blueprint("public", __name__)


def needs_staff(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not g.get("staff"):
            return jsonify(error="staff only"), 403
        return view(*args, **kwargs)
    return wrapper


def cached(view):
    return view


@admin.before_request
def check_login():
    if "user_id" not in session:
        abort(401)


@admin.post("/purge")
def purge():
    return ""


@public.post("/a")
@needs_staff
def a():
    return ""


@public.post("/b")
@cached
def b():
    return ""


@needs_staff
@public.post("/c")
def c():
    return ""


app.register_blueprint(admin, url_prefix="/admin")
app.register_blueprint(public)


def current_user(token: str = ""):
    if not token:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED)
    return token


router = APIRouter(dependencies=[Depends(current_user)])


@router.delete("/items/{item_id}")
def delete_item(item_id: int):
    return {}


api = FastAPI()
api.include_router(router)
"#;
    let (_d, p) = project(&[("app.py", app)]);
    let auth = |endpoint: &str| {
        p.routes
            .iter()
            .find(|r| r.endpoint == endpoint)
            .unwrap_or_else(|| panic!("{endpoint}"))
            .auth
            .clone()
    };
    assert_eq!(auth("admin.purge"), ["before_request check_login"]);
    assert_eq!(auth("public.a"), ["app.needs_staff"]);
    assert!(
        auth("public.b").is_empty(),
        "a decorator that checks nothing"
    );
    assert!(
        auth("public.c").is_empty(),
        "above the route decorator, the check wraps an unregistered function"
    );
    assert_eq!(auth("delete_item"), ["app.current_user"]);
}

#[test]
fn rest_framework_resources_are_routes() {
    let (_dir, p) = project(&[(
        "app.py",
        r#"from flask import Blueprint, Flask
from flask_restful import Api, Resource
from flask_restx import Api as RxApi, Namespace, Resource as RxResource
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import login_required

app = Flask(__name__)
limiter = Limiter(get_remote_address, app=app)
api = Api(app, prefix="/api")


class Login(Resource):
    decorators = [limiter.limit("5 per minute")]

    def post(self):
        return {}


class Me(Resource):
    method_decorators = [login_required]

    def get(self):
        return {}


api.add_resource(Login, "/auth/login", "/login")
api.add_resource(Me, "/me")

bp = Blueprint("v2", __name__, url_prefix="/v2")
rx = RxApi(bp)
users = Namespace("users")
rx.add_namespace(users)


@users.route("/<int:uid>")
class User(RxResource):
    def put(self, uid):
        return {}

    def delete(self, uid):
        return {}


app.register_blueprint(bp)
"#,
    )]);
    let find = |path: &str| {
        p.routes
            .iter()
            .find(|r| r.path.as_deref() == Some(path))
            .unwrap_or_else(|| {
                panic!(
                    "{path}: {:?}",
                    p.routes.iter().map(|r| &r.path).collect::<Vec<_>>()
                )
            })
    };
    let login = find("/api/auth/login");
    assert_eq!(login.methods, ["POST"]);
    assert_eq!(login.limits.len(), 1, "the class's decorators limit it");
    // Each method is a view: findings point at its `def`.
    assert_eq!(p.describe(login.def_span), "app.py:16");
    assert_eq!(login.view_name(), "Login");
    assert!(find("/api/login").limits.len() == 1);
    assert_eq!(find("/api/me").auth.len(), 1);
    let user: Vec<_> = p
        .routes
        .iter()
        .filter(|r| r.path.as_deref() == Some("/v2/users/<int:uid>"))
        .collect();
    let methods: Vec<&str> = user.iter().map(|r| r.methods[0].as_str()).collect();
    assert_eq!(methods, ["PUT", "DELETE"]);
    assert!(user
        .iter()
        .all(|r| r.app == Some(0) && r.methods.len() == 1));
    assert_eq!(user[1].function, "app.User.delete");
}

#[test]
fn resource_methods_are_views_with_their_own_decorators() {
    let (_dir, p) = project(&[
        (
            "resources.py",
            r#"from flask_restx import Namespace, Resource
from flask_jwt_extended import jwt_required
from flask_login import login_required

ns = Namespace("items")


def check_key(view):
    def wrapper(*args, **kwargs):
        if not valid_key():
            return {"message": "bad key"}, 401
        return view(*args, **kwargs)
    return wrapper


class Item(Resource):
    def get(self):
        return {}

    @jwt_required()
    @ns.doc(security="jwt")
    def post(self):
        return {}

    @ns.doc(security="apikey")
    @check_key
    def put(self):
        return {}

    def delete(self):
        if not allowed():
            return {"message": "no"}, 401
        return {}


class Guarded(Resource):
    method_decorators = [jwt_required()]

    def delete(self):
        return {}


class ByMethod(Resource):
    method_decorators = {"post": [login_required]}

    def post(self):
        return {}

    def delete(self):
        return {}
"#,
        ),
        (
            "app.py",
            r#"from flask import Flask
from flask_restx import Api

from resources import ByMethod, Guarded, Item, ns

app = Flask(__name__)
api = Api(app)
api.add_namespace(ns)
api.add_resource(Item, "/item")
api.add_resource(Guarded, "/guarded")
api.add_resource(ByMethod, "/by-method")
"#,
        ),
    ]);
    let auth = |path: &str, method: &str| {
        let r = p
            .routes
            .iter()
            .find(|r| r.path.as_deref() == Some(path) && r.methods == [method])
            .unwrap_or_else(|| panic!("{method} {path}"));
        r.auth.clone()
    };
    assert!(auth("/item", "GET").is_empty());
    assert_eq!(auth("/item", "POST"), ["flask_jwt_extended.jwt_required"]);
    assert_eq!(
        auth("/item", "PUT"),
        ["resources.check_key"],
        "a project decorator that refuses"
    );
    // A view answering 401 in one branch is not an authentication guard.
    assert!(auth("/item", "DELETE").is_empty());
    assert_eq!(auth("/guarded", "DELETE").len(), 1);
    assert_eq!(auth("/by-method", "POST").len(), 1);
    assert!(auth("/by-method", "DELETE").is_empty());
}

#[test]
fn fastapi_dependencies_authenticate_through_their_bodies_and_sub_dependencies() {
    let (_dir, p) = project(&[
        (
            "deps.py",
            r#"from typing import Annotated

from fastapi import Depends, HTTPException, status


def get_db():
    yield session()


def get_token_payload(token: str):
    ...


def get_current_user(db=Depends(get_db)):
    ...


CurrentUser = Annotated[dict, Depends(get_current_user)]


def get_current_superuser(current_user: Annotated[dict, Depends(get_current_user)]):
    if not current_user["is_superuser"]:
        raise privileges_exception
    return current_user


def check_owner(user=Depends(get_current_user)):
    if not user:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="no")


def editor(user: CurrentUser):
    return user


def paginate(db=Depends(get_db), page: int = 1):
    return page


def loop_a(x=Depends(lambda: None)):
    ...


def cycle_a(b=Depends("cycle_b")):
    ...


def cycle_one(other=Depends(get_db)):
    return other
"#,
        ),
        (
            "main.py",
            r#"from fastapi import APIRouter, Depends, FastAPI

from deps import check_owner, editor, get_current_superuser, paginate, cycle_one

app = FastAPI()
admin = APIRouter(prefix="/admin", dependencies=[Depends(get_current_superuser)])
plain = APIRouter(prefix="/plain")


@app.delete("/a/{id}", dependencies=[Depends(check_owner)])
def delete_a(id: int):
    ...


@app.delete("/b/{id}", dependencies=[Depends(get_current_superuser)])
def delete_b(id: int):
    ...


@app.put("/c/{id}")
def put_c(id: int, user=Depends(editor)):
    ...


@app.post("/d", dependencies=[Depends(paginate)])
def post_d(page=Depends(paginate), other=Depends(cycle_one)):
    ...


@admin.delete("/tiers/{name}")
def delete_tier(name: str):
    ...


@plain.delete("/x/{id}")
def delete_x(id: int):
    ...


app.include_router(admin)
app.include_router(plain, dependencies=[Depends(check_owner)])
"#,
        ),
    ]);
    let auth = |path: &str| {
        p.routes
            .iter()
            .find(|r| r.path.as_deref() == Some(path))
            .unwrap_or_else(|| panic!("{path}"))
            .auth
            .iter()
            .map(|a| a.rsplit('.').next().unwrap_or(a).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(auth("/a/{id}"), ["check_owner"], "its body refuses");
    assert_eq!(
        auth("/b/{id}"),
        ["get_current_superuser"],
        "through its own Annotated dependency on get_current_user"
    );
    assert_eq!(auth("/c/{id}"), ["editor"], "through a type alias");
    assert!(auth("/d").is_empty(), "{:?}", auth("/d"));
    assert_eq!(auth("/admin/tiers/{name}"), ["get_current_superuser"]);
    assert_eq!(auth("/plain/x/{id}"), ["check_owner"]);
}

const FASTAPI_USERS: &str = r#"from fastapi import APIRouter, FastAPI
from fastapi_users import FastAPIUsers

from accounts import backend, get_manager
from schemas import MemberCreate, MemberRead, MemberUpdate

members = FastAPIUsers[dict, int](get_manager, [backend])
users_router = members.get_users_router(MemberRead, MemberUpdate)

api = APIRouter(prefix="/api")
api.include_router(members.get_auth_router(backend), prefix="/auth/cookie")
api.include_router(users_router, prefix="/members")

drafts = APIRouter(prefix="/drafts")


@drafts.post("/")
def create_draft():
    return {}


app = FastAPI()
app.include_router(api)
app.include_router(members.get_register_router(MemberRead, MemberCreate), prefix="/auth")
"#;

#[test]
fn fastapi_users_routers_are_routes_of_the_app() {
    let (_d, p) = project(&[("main.py", FASTAPI_USERS)]);
    let mut got: Vec<(String, String, Vec<String>)> = p
        .routes
        .iter()
        .map(|r| {
            (
                r.methods.join(","),
                r.path.clone().unwrap_or_default(),
                r.auth.clone(),
            )
        })
        .collect();
    got.sort();
    let active = || vec!["fastapi_users.current_user(active=True)".to_string()];
    let superuser = || vec!["fastapi_users.current_user(active=True, superuser=True)".to_string()];
    let want = vec![
        ("DELETE".into(), "/api/members/{id}".into(), superuser()),
        ("GET".into(), "/api/members/me".into(), active()),
        ("GET".into(), "/api/members/{id}".into(), superuser()),
        ("PATCH".into(), "/api/members/me".into(), active()),
        ("PATCH".into(), "/api/members/{id}".into(), superuser()),
        ("POST".into(), "/api/auth/cookie/login".into(), vec![]),
        ("POST".into(), "/api/auth/cookie/logout".into(), active()),
        ("POST".into(), "/auth/register".into(), vec![]),
    ];
    assert_eq!(got, want);
    assert!(p.routes.iter().all(|r| r.app.is_some()));
    // Including library routers does not make registration dynamic: the
    // router no one includes stays unregistered.
    assert_eq!(p.unregistered_routes.len(), 1);
    assert_eq!(p.unregistered_routes[0].rule, "/");
    let login = p
        .routes
        .iter()
        .find(|r| r.path.as_deref() == Some("/api/auth/cookie/login"))
        .unwrap();
    assert_eq!(login.view_name(), "login");
    assert_eq!(p.describe(login.span), "main.py:11");
}

#[test]
fn dependencies_go_by_their_own_name_not_their_package() {
    let deps = r#"from fastapi import HTTPException


def valid_order(order: dict) -> dict:
    if order.get("qty", 0) < 1:
        raise HTTPException(status_code=400)
    return order


def current_user_id(token: str = "") -> int:
    return 1
"#;
    let main = r#"from fastapi import Depends, FastAPI

from shop.auth.deps import current_user_id, valid_order

app = FastAPI()


@app.post("/orders")
def create_order(order: dict = Depends(valid_order)):
    return order


@app.delete("/orders/{oid}")
def delete_order(oid: int, uid: int = Depends(current_user_id)):
    return {}
"#;
    let (_d, p) = project(&[
        ("shop/__init__.py", ""),
        ("shop/auth/__init__.py", ""),
        ("shop/auth/deps.py", deps),
        ("shop/main.py", main),
    ]);
    let auth_of = |f: &str| {
        p.routes
            .iter()
            .find(|r| r.function.ends_with(f))
            .unwrap_or_else(|| panic!("{f}"))
            .auth
            .clone()
    };
    assert!(
        auth_of("create_order").is_empty(),
        "{:?}",
        auth_of("create_order")
    );
    assert_eq!(auth_of("delete_order").len(), 1);
}

const SETTINGS: &str = r#"from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    API_V1_STR: str = "/api/v1"
    ITEMS_PREFIX: str = "/items"


settings = Settings()
"#;

const SETTINGS_MAIN: &str = r#"from fastapi import APIRouter, FastAPI

from config import settings

items = APIRouter(prefix=settings.ITEMS_PREFIX)


@items.get("/")
def list_items():
    return []


api_router = APIRouter()
api_router.include_router(items)

app = FastAPI()
app.include_router(api_router, prefix=settings.API_V1_STR)
"#;

#[test]
fn router_prefixes_from_settings_field_defaults() {
    let (_d, p) = project(&[("config.py", SETTINGS), ("main.py", SETTINGS_MAIN)]);
    assert_eq!(p.routes.len(), 1);
    assert_eq!(p.routes[0].path.as_deref(), Some("/api/v1/items/"));
    // A variable the deployment sets: its value is not known.
    let (_d, p) = project(&[
        ("config.py", SETTINGS),
        ("main.py", SETTINGS_MAIN),
        (".env", "API_V1_STR=/v2\n"),
    ]);
    assert_eq!(p.routes[0].path.as_deref(), Some("/items/"));
}

#[test]
fn rules_built_from_constants() {
    let urls = r#"API = "/api/v1"
ORDERS = API + "/orders"
"#;
    let views = r#"import os

from flask import Blueprint, Flask

import urls
from urls import API, ORDERS

PREFIX = os.environ.get("PREFIX", "/x")


class Paths:
    ITEMS = "/items"


app = Flask(__name__)
bp = Blueprint("shop", __name__)


def orders():
    return []


def items():
    return []


def ping():
    return "ok"


def register(rule, view):
    app.add_url_rule(rule, view_func=view, methods=["POST"])


app.add_url_rule(ORDERS, view_func=orders)
bp.add_url_rule(f"{API}{Paths.ITEMS}", view_func=items, methods=["POST"])
app.add_url_rule(urls.API + "/ping", view_func=ping)
app.add_url_rule(PREFIX + "/hooks", view_func=ping, endpoint="hooks", methods=["POST"])
app.register_blueprint(bp)


@app.route(API + "/health")
def health():
    return "ok"
"#;
    let (_d, p) = project(&[("urls.py", urls), ("views.py", views)]);
    let path_of = |endpoint: &str| {
        p.routes
            .iter()
            .find(|r| r.endpoint == endpoint)
            .unwrap_or_else(|| panic!("{endpoint}: {:#?}", p.routes))
            .path
            .clone()
    };
    assert_eq!(path_of("orders").as_deref(), Some("/api/v1/orders"));
    assert_eq!(path_of("shop.items").as_deref(), Some("/api/v1/items"));
    assert_eq!(path_of("ping").as_deref(), Some("/api/v1/ping"));
    assert_eq!(path_of("health").as_deref(), Some("/api/v1/health"));
    // Unknown parts are marked, the route kept with its methods.
    let hooks = p.routes.iter().find(|r| r.endpoint == "hooks").unwrap();
    assert_eq!(hooks.path.as_deref(), Some("<?views.PREFIX>/hooks"));
    assert_eq!(hooks.methods, ["POST"]);
    // A parameter: each caller may pass its own rule.
    let param = p
        .routes
        .iter()
        .find(|r| r.rule == "<?rule>")
        .expect("route registered through a helper");
    assert_eq!(param.methods, ["POST"]);
}

#[test]
fn legacy_flask_ext_imports() {
    let app = r#"from flask import Flask
from flask.ext.login import LoginManager, login_required
from flask.ext import wtf
import flask.ext.limiter as fl

app = Flask(__name__)
login_manager = LoginManager(app)
csrf = wtf.CSRFProtect(app)
limiter = fl.Limiter(app)


@app.route("/orders", methods=["POST"])
@login_required
def orders():
    return "ok"
"#;
    let (_d, p) = project(&[("app.py", app)]);
    assert_eq!(p.routes[0].auth, ["flask_login.login_required"]);
    let kinds: Vec<_> = p.extensions.iter().map(|e| e.kind).collect();
    use audit::model::ExtKind;
    for k in [
        ExtKind::LoginManager,
        ExtKind::CsrfProtect,
        ExtKind::Limiter,
    ] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
}

const FACTORY_HELPERS: &str = r#"from functools import wraps

from flask_login import login_required


def route(bp, *args, **kwargs):
    def decorator(f):
        @bp.route(*args, **kwargs)
        @wraps(f)
        def wrapper(*a, **kw):
            return f(*a, **kw)

        return f

    return decorator


def secure(bp, rule, method="GET", **options):
    def decorator(f):
        @bp.route(rule, methods=[method], **options)
        @login_required
        @wraps(f)
        def wrapper(*a, **kw):
            return f(*a, **kw)

        return f

    return decorator


def register(bp, rule, view, **options):
    bp.add_url_rule(rule, view_func=view, **options)


class Router:
    def __init__(self, blueprint):
        self.blueprint = blueprint

    def route(self, rule, **options):
        def decorator(f):
            self.blueprint.add_url_rule(rule, f.__name__, f, **options)
            return f

        return decorator
"#;

const FACTORY_VIEWS: &str = r#"from flask import Blueprint, Flask
from flask_login import login_required

from helpers import Router, register, route, secure

bp = Blueprint("shop", __name__)
router = Router(bp)


@route(bp, "/orders", methods=["POST"], endpoint="new_order")
def create():
    return "", 201


@route(bp, "/orders/<int:oid>", methods=["DELETE"])
@login_required
def delete(oid):
    return "", 204


@secure(bp, "/orders/<int:oid>", "PUT")
def update(oid):
    return "", 204


@router.route("/carts", methods=["POST"])
def cart():
    return "", 201


def bulk():
    return "", 204


register(bp, "/bulk", bulk, methods=["PATCH"])

for path, view in TABLE:
    register(bp, path, view, methods=["POST"])


def dynamic(path):
    @route(bp, path, methods=METHODS)
    def view():
        return ""


app = Flask(__name__)
app.register_blueprint(bp, url_prefix="/api")
"#;

#[test]
fn routes_of_decorator_factories() {
    let (_d, p) = project(&[("helpers.py", FACTORY_HELPERS), ("views.py", FACTORY_VIEWS)]);
    let mut got: Vec<String> = p
        .routes
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} [{}]",
                r.methods.join(","),
                r.display_path(),
                r.endpoint,
                p.describe(r.def_span),
                r.auth.join(",")
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "DELETE /api/orders/<int:oid> shop.delete views.py:17 [flask_login.login_required]",
            "PATCH /api/bulk shop.bulk views.py:31 []",
            "POST /api/<?views.path> shop. views.py:38 []",
            "POST /api/carts shop.cart views.py:27 []",
            "POST /api/orders shop.new_order views.py:11 []",
            "PUT /api/orders/<int:oid> shop.update views.py:22 [flask_login.login_required]",
        ],
        "the registrations inside the factories are no routes; a use whose \
         methods cannot be read is not listed"
    );
    let create = p
        .routes
        .iter()
        .find(|r| r.function == "views.create")
        .unwrap();
    assert_eq!(
        p.describe(create.span),
        "views.py:10",
        "registered at the use"
    );
}

#[test]
fn views_extensions_register_themselves() {
    let app = r#"from flask import Flask
from flask_security import Security

app = Flask(__name__)
app.config["SECURITY_URL_PREFIX"] = "/auth"
app.config["SECURITY_RESET_URL"] = "/forgot/"
app.config["SECURITY_RECOVERABLE"] = True
app.config["SECURITY_REGISTERABLE"] = os_flag()
security = Security(app, datastore)
"#;
    let (_d, p) = project(&[("app.py", app)]);
    let mut got: Vec<String> = p
        .routes
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {:?}",
                r.methods.join(","),
                r.display_path(),
                r.endpoint,
                r.provided_by.map(|p| p.name())
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "GET /auth/logout security.logout Some(\"Flask-Security\")",
            "GET,POST /auth/forgot/ security.forgot_password Some(\"Flask-Security\")",
            "GET,POST /auth/forgot/<token>/ security.reset_password Some(\"Flask-Security\")",
            "GET,POST /auth/login security.login Some(\"Flask-Security\")",
        ],
        "registration is on only if the flag can be read"
    );
    // Without its blueprint, or with a prefix that cannot be read: nothing.
    let off = app.replace(
        "Security(app, datastore)",
        "Security(app, datastore, register_blueprint=False)",
    );
    assert!(project(&[("app.py", &off)]).1.routes.is_empty());
    let unknown = app.replace("\"/auth\"", "os.environ[\"PREFIX\"]");
    assert!(project(&[("app.py", &unknown)]).1.routes.is_empty());
}

#[test]
fn connexion_specification_operations() {
    let server = r#"from connexion import FlaskApp

app = FlaskApp(__name__)
app.add_api("openapi.yaml")
app.add_api("../outside.yaml")
app.add_api("missing.yaml")
"#;
    let handlers = r#"def create(body):
    return body, 201
"#;
    let spec = r#"openapi: 3.0.3
info: {title: t, version: "1"}
servers:
  - url: "https://{region}.example.com/api"
    variables: {region: {default: eu}}
paths: {}
"#;
    let good = r#"openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: /api}]
security: [{oauth: [write]}]
paths:
  /things/{thing_id}:
    x-openapi-router-controller: handlers
    put:
      operationId: create
      responses: {"200": {description: ok}}
    parameters: []
"#;
    // A server URL with variables: the base path is not known.
    let (_d, p) = project(&[
        ("server.py", server),
        ("handlers.py", handlers),
        ("openapi.yaml", spec),
    ]);
    assert!(p.routes.is_empty(), "{:#?}", p.routes);
    let (_d, p) = project(&[
        ("server.py", server),
        ("handlers.py", handlers),
        ("openapi.yaml", good),
    ]);
    assert_eq!(p.routes.len(), 1);
    let r = &p.routes[0];
    assert_eq!(r.display_path(), "/api/things/<thing_id>");
    assert_eq!(r.methods, ["PUT"]);
    assert_eq!(r.function, "handlers.create");
    assert_eq!(p.describe(r.def_span), "handlers.py:1");
    assert_eq!(r.auth, ["openapi security: oauth"]);
    assert_eq!(r.provided_by, Some(audit::model::Provider::Connexion));
    // Made and given its API in one expression.
    let chained = "import connexion\n\nconnexion.FlaskApp(__name__).add_api(\"openapi.yaml\")\n";
    let (_d, p) = project(&[
        ("server.py", chained),
        ("handlers.py", handlers),
        ("openapi.yaml", good),
    ]);
    assert_eq!(p.routes.len(), 1);
}

/// `add_url_rule` with only an endpoint: the view is attached to it later,
/// by `@app.endpoint(...)` or `app.view_functions[...] = view`. One route,
/// with that view, not a second one without.
#[test]
fn endpoint_only_rules_take_the_view_attached_later() {
    let shop = r#"from flask import Blueprint, request
from flask_login import login_required

bp = Blueprint("shop", __name__)
bp.add_url_rule("/cart", endpoint="cart", methods=["GET", "POST"])


@bp.endpoint("cart")
@login_required
def cart():
    return request.method
"#;
    let app = r#"from flask import Flask

from shop import bp

app = Flask(__name__)
app.add_url_rule("/", "index")
app.add_url_rule("/status", endpoint="status", view_func=None)
app.register_blueprint(bp, url_prefix="/shop")


@login_required
@app.endpoint("index")
def index():
    return "home"


def status():
    return "ok"


app.view_functions["status"] = status
"#;
    let (_d, p) = project(&[("shop.py", shop), ("app.py", app)]);
    let rows = audit::routes_report::rows(&p);
    let listed: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.path.clone(), r.endpoint.clone(), r.location.clone()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "/".to_string(),
                "index".to_string(),
                "app.py:13".to_string()
            ),
            (
                "/shop/cart".to_string(),
                "shop.cart".to_string(),
                "shop.py:10".to_string()
            ),
            (
                "/status".to_string(),
                "status".to_string(),
                "app.py:17".to_string()
            ),
        ]
    );
    let route = |e: &str| p.routes.iter().find(|r| r.endpoint == e).unwrap();
    assert_eq!(route("shop.cart").function, "shop.cart");
    // Below `@bp.endpoint`, the decorator wraps the registered view; above
    // `@app.endpoint`, it wraps the function after registration.
    assert_eq!(route("shop.cart").auth, ["flask_login.login_required"]);
    assert!(route("index").auth.is_empty());
    assert_eq!(route("status").function, "app.status");
}
