//! Request data across functions (`model::flow`): parameters filled by callers,
//! helpers that return what they are given, objects that calls create.

use audit::{
    model::{
        flow::{request_origin, Origin},
        Project,
    },
    python::taint::Sink,
};

mod common;

fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    let (dir, outcome) = common::audit_files(files);
    (dir, outcome.project)
}

/// The origin of the first argument of every call named `sink`, in source order.
fn sinks(p: &Project, sink: Sink) -> Vec<Option<Origin>> {
    let mut out = Vec::new();
    for (file, facts) in p.python() {
        for c in &facts.calls {
            if c.call().last_name() == Some("execute") {
                let arg = c.call().arg(0).unwrap();
                out.push(request_origin(p, file, arg, sink));
            }
        }
    }
    out
}

const VIEWS: &str = r#"from flask import Flask, request

from repo import find_user, by_id, build_query

app = Flask(__name__)


@app.get("/users")
def users():
    find_user(request.args["email"])
    by_id(int(request.args["id"]))
    cur.execute(build_query(request.args["name"]))
    row = db.query(User).filter_by(name=request.args["name"]).first()
    cur.execute(f"SELECT * FROM audit WHERE user = '{row.name}'")
    return ""
"#;

const REPO: &str = r#"def find_user(email):
    cur.execute(f"SELECT * FROM users WHERE email = '{email}'")


def by_id(user_id):
    cur.execute(f"SELECT * FROM users WHERE id = {user_id}")


def build_query(name):
    return "SELECT * FROM users WHERE name = '" + name.strip() + "'"
"#;

#[test]
fn request_data_crosses_calls_and_stops_at_rows_and_numbers() {
    let (_d, p) = project(&[("app.py", VIEWS), ("repo.py", REPO)]);
    let got = sinks(&p, Sink::Sql);
    // app.py first (build_query's call, the row), then repo.py.
    assert_eq!(got.len(), 4);
    assert_eq!(
        got[0],
        Some(Origin::Direct),
        "a helper returns the built string"
    );
    assert_eq!(got[1], None, "a database row is not request data");
    assert!(
        matches!(got[2], Some(Origin::Caller(span)) if p.describe(span) == "app.py:10"),
        "{:?}",
        got[2]
    );
    assert_eq!(got[3], None, "the caller passes int(...)");
}

#[test]
fn chained_calls_that_start_together_are_told_apart() {
    let app = r#"from flask import Flask, request

app = Flask(__name__)


@app.post("/up")
def up():
    cur.execute("SELECT * FROM files WHERE name = '" + request.files.get("f").filename + "'")
    cur.execute("SELECT * FROM files WHERE size = '" + get_size().strip() + "'")
    return ""
"#;
    let (_d, p) = project(&[("app.py", app)]);
    let got = sinks(&p, Sink::Sql);
    assert_eq!(got, [Some(Origin::Direct), None]);
}

const RESTX_INIT: &str = r#"from flask import Flask
from flask_restx import Api

app = Flask(__name__)
api = Api(app)

from svc import resources  # noqa: E402
"#;

const RESTX_NS: &str = r#"from flask_restx import Namespace

ns = Namespace("items")
"#;

const RESTX_RESOURCES: &str = r#"import os
import pickle
import sqlite3
import subprocess

from flask import redirect, render_template_string
from flask_restx import Resource

from svc import api
from svc.ns import ns

admin = api.namespace("admin")
api.add_namespace(ns)


class Message:
    payload = {"cmd": "ls"}


msg = Message()


@ns.route("/search")
class Search(Resource):
    def post(self):
        db = sqlite3.connect("items.db")
        q = ns.payload["q"]
        db.execute(f"SELECT * FROM items WHERE name = '{q}'")
        return {}


@ns.route("/run")
class Run(Resource):
    def post(self):
        data = api.payload
        subprocess.run("echo " + data.get("cmd"), shell=True)
        os.system(self.api.payload["other"])
        return {}


@admin.route("/render")
class Render(Resource):
    def post(self):
        pickle.loads(admin.payload["blob"].encode())
        return render_template_string(admin.payload.get("tpl"))


@admin.route("/go")
class Go(Resource):
    def get(self):
        return redirect(ns.payload["next"])


@admin.route("/safe")
class Safe(Resource):
    def post(self):
        os.system(msg.payload["cmd"])
        os.system(str(int(ns.payload["n"])))
        return {}


class NotAResource:
    def post(self):
        os.system(self.api.payload["cmd"])
"#;

#[test]
fn restx_payload_is_request_data_for_every_rule_that_reads_it() {
    let (_d, out) = common::audit_files(&[
        ("svc/__init__.py", RESTX_INIT),
        ("svc/ns.py", RESTX_NS),
        ("svc/resources.py", RESTX_RESOURCES),
    ]);
    let mut got: Vec<(u32, &str)> = out
        .report
        .findings
        .iter()
        .filter(|f| f.control.starts_with("INJ") || f.control == "INP006")
        .filter_map(|f| Some((f.location.file()?.line, f.control.as_str())))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            // `ns` imported from another module.
            (28, "INJ001"),
            // `api.payload` through a local name and `.get`, `self.api.payload`.
            (36, "INJ004"),
            (37, "INJ004"),
            // A namespace made by `api.namespace(...)`.
            (44, "INP006"),
            (45, "INJ003"),
            (51, "INJ005"),
        ]
    );
}
