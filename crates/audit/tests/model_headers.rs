//! Facts the header, error and cookie rules read from the model: response
//! header writes (and whether a hook makes them), app-wide error handlers, and
//! config written through a setup helper's `app` parameter.

use audit::model::Project;

mod common;

fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    let (dir, outcome) = common::audit_files(files);
    (dir, outcome.project)
}

const HEADERS: &str = r#"from flask import Flask, make_response

app = Flask(__name__)
HEADERS = {"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


@app.after_request
def secure(resp):
    resp.headers["Strict-Transport-Security"] = "max-age=63072000"
    resp.headers.update(HEADERS)
    return resp


def more(resp):
    for k, v in HEADERS.items():
        resp.headers.setdefault(k, v)
    return resp


app.after_request(more)


@app.get("/x")
def view():
    r = make_response("x")
    r.headers.set("X-Request-Id", "1")
    return r
"#;

#[test]
fn header_writes_and_the_hooks_that_make_them() {
    let (_d, p) = project(&[("app.py", HEADERS)]);
    let writes: Vec<(Option<&str>, bool)> = p
        .header_writes
        .iter()
        .map(|w| (w.name.as_deref(), w.in_hook))
        .collect();
    assert_eq!(
        writes,
        vec![
            (Some("strict-transport-security"), true),
            (Some("x-frame-options"), true),
            (Some("referrer-policy"), true),
            (None, true),
            (Some("x-request-id"), false),
        ]
    );
    assert!(p.header_writes[0].is_security_header());
    assert!(!p.header_writes[4].is_security_header());
    assert_eq!(p.header_writes[2].str_value(), Some("no-referrer"));
}

#[test]
fn blueprint_handlers_are_app_wide_only_with_app_errorhandler() {
    let (_d, p) = project(&[(
        "app.py",
        r#"from flask import Blueprint, Flask

bp = Blueprint("api", __name__)
app = Flask(__name__)


@bp.errorhandler(404)
def bp_only(e):
    return {}, 404


@bp.app_errorhandler(405)
def everywhere(e):
    return {}, 405


@app.errorhandler(500)
def app_level(e):
    return {}, 500


app.register_blueprint(bp)
bp.register_error_handler(400, bp_only)
"#,
    )]);
    let mut handlers: Vec<(String, bool)> = p
        .error_handlers
        .iter()
        .map(|h| (h.key.render(), h.app_wide))
        .collect();
    handlers.sort();
    assert_eq!(
        handlers,
        vec![
            ("400".into(), false),
            ("404".into(), false),
            ("405".into(), true),
            ("500".into(), true),
        ]
    );
    assert!(p.error_handlers.iter().all(|h| h.app == Some(0)));
}

#[test]
fn config_set_through_an_unresolved_app_parameter() {
    let src = r#"from flask import Flask

app = Flask("server")


class Server:
    def run(self):
        self._setup(app)

    def _setup(self, app):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config.update(PERMANENT_SESSION_LIFETIME=3600)

    def other(self, settings):
        settings.debug = True
        self.debug = True
"#;
    let (_d, p) = project(&[("server.py", src)]);
    let cfg = &p.apps[0].config;
    assert_eq!(
        cfg.get("SESSION_COOKIE_SECURE").map(|e| e.value.truthy()),
        Some(Some(true))
    );
    assert!(cfg.get("PERMANENT_SESSION_LIFETIME").is_some());
    assert!(
        cfg.get("DEBUG").is_none(),
        "only parameters named or typed as the app count"
    );
    // With two apps, nothing says which one the parameter is.
    let (_d, p) = project(&[
        ("server.py", src),
        (
            "admin.py",
            "from flask import Flask\nadmin = Flask('admin')\n",
        ),
    ]);
    assert!(p
        .apps
        .iter()
        .all(|a| a.config.get("SESSION_COOKIE_SECURE").is_none()));
}
