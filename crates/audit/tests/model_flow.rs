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
