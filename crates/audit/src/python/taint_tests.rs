use super::*;
use crate::python::analyze;

fn call_args(src: &str, func_suffix: &str) -> Vec<Value> {
    let facts = analyze(0, src, "m", false).unwrap();
    facts
        .calls
        .iter()
        .filter(|c| {
            c.call()
                .func_ref()
                .is_some_and(|r| r.last_name() == func_suffix)
        })
        .flat_map(|c| c.call().args.clone())
        .collect()
}

fn for_sink(v: &Value, sink: Sink) -> bool {
    derived(v, sink, &mut Local)
}

#[test]
fn request_data_flows_through_locals_and_formatting() {
    let src = r#"
from flask import request
def view():
    name = request.args.get("name")
    q = f"SELECT * FROM t WHERE name = '{name}'"
    cursor.execute(q)
    cursor.execute("SELECT 1")
    n = int(request.args["n"])
    cursor.execute("SELECT %s" % n)
    cursor.execute("SELECT " + ",".join(request.form.getlist("c")))
    cursor.execute("SELECT {}".format(request.json["x"]))
    q2 = "SELECT * FROM t WHERE 1=1"
    q2 += " AND name = '" + name + "'"
    cursor.execute(q2)
"#;
    let args = call_args(src, "execute");
    assert_eq!(args.len(), 6);
    assert!(is_request_built_string(&args[5]), "augmented assignment");
    assert!(is_request_built_string(&args[0]));
    assert!(!is_request_derived(&args[1]));
    assert!(!is_request_built_string(&args[2]), "int() sanitises");
    assert!(
        is_request_built_string(&args[3]),
        "str.join of request data"
    );
    assert!(is_request_built_string(&args[4]), ".format of request data");
}

#[test]
fn route_parameters_are_request_data_unless_numeric() {
    let src = r#"
from flask import Flask, send_file
app = Flask(__name__)
@app.route("/files/<path:name>")
def download(name):
    return send_file("/srv/" + name)
def helper(name):
    return send_file(name)
@app.get("/orders/<int:order_id>/<slug>")
def order(order_id, slug):
    send_file(f"/srv/{order_id}")
    send_file(f"/srv/{slug}")
"#;
    let args = call_args(src, "send_file");
    assert!(is_request_derived(&args[0]));
    assert!(!is_request_derived(&args[1]));
    assert!(!is_request_derived(&args[2]), "<int:...> is a number");
    assert!(is_request_derived(&args[3]));
}

#[test]
fn fastapi_dependencies_and_scalars_are_not_request_text() {
    let src = r#"
from typing import Annotated, Optional
from fastapi import Depends, FastAPI, Request
app = FastAPI()
@app.get("/items/{item_id}")
async def item(item_id: int, q: str, db = Depends(get_db), n: Optional[int] = None,
               s: Annotated[Session, Depends(get_db)] = None, request: Request = None):
    sink(item_id, q, db, n, s, request.query_params["x"], request.method)
"#;
    let args = call_args(src, "sink");
    let got: Vec<bool> = args.iter().map(is_request_derived).collect();
    assert_eq!(got, [false, true, false, false, false, true, false]);
}

#[test]
fn sanitisers_depend_on_the_sink() {
    let src = r#"
import shlex, os
from flask import request, escape
from werkzeug.utils import secure_filename
def view():
    name = request.args["name"]
    sink(shlex.quote(name))
    sink(escape(name))
    sink(secure_filename(name))
    sink(os.path.basename(name))
    sink(request.args.get("page", type=int))
    sink(SORTABLE.get(request.args.get("sort"), "id"))
    sink(ALLOWED[request.args["c"]])
    sink(name == "x")
    sink(request.method)
"#;
    let a = call_args(src, "sink");
    assert!(!for_sink(&a[0], Sink::Shell) && for_sink(&a[0], Sink::Sql));
    assert!(!for_sink(&a[1], Sink::Html) && for_sink(&a[1], Sink::Template));
    assert!(!for_sink(&a[2], Sink::Path) && !for_sink(&a[2], Sink::Sql));
    assert!(!for_sink(&a[3], Sink::Path) && for_sink(&a[3], Sink::Sql));
    for (i, v) in a.iter().enumerate().skip(4) {
        assert!(!for_sink(v, Sink::Sql), "argument {i} is not request text");
    }
}

#[test]
fn uploads_and_objects_made_from_request_data() {
    let src = r#"
import pickle, base64
from flask import request
def view():
    f = request.files.get("file")
    sink(f.filename)
    sink(pickle.loads(base64.b64decode(request.cookies["state"])))
    for part in request.files.getlist("parts"):
        sink(part.filename)
"#;
    let a = call_args(src, "sink");
    assert!(a.iter().all(is_request_derived));
}

#[test]
fn request_reads_are_recorded_once_per_place() {
    let src = r#"
from flask import request
from fastapi import Request
def view():
    data = request.get_json()
    x = data["a"]
    y = request.form["b"]
    m = request.method
async def api(request: Request):
    body = await request.json()
"#;
    let facts = analyze(0, src, "m", false).unwrap();
    let reads: Vec<&str> = facts
        .request_reads
        .iter()
        .map(|r| r.attr.as_str())
        .collect();
    assert_eq!(reads, ["get_json", "form", "method", "json"]);
}

/// A flow that follows parameters to a fixed answer, to test the hooks.
struct Params(bool);

impl Flow for Params {
    fn param(&mut self, _r: &Ref) -> bool {
        self.0
    }
}

#[test]
fn parameters_of_plain_functions_are_asked_of_the_flow() {
    let src = r#"
def find(email):
    cursor.execute(f"SELECT * FROM users WHERE email = '{email}'")
    cursor.execute(f"SELECT * FROM users WHERE id = {int(email)}")
"#;
    let a = call_args(src, "execute");
    assert!(!derived(&a[0], Sink::Sql, &mut Local));
    assert!(derived(&a[0], Sink::Sql, &mut Params(true)));
    assert!(!derived(&a[1], Sink::Sql, &mut Params(true)));
}

/// A flow that records which body attributes it was asked about and takes
/// those of objects named `ns` to be the request body.
#[derive(Default)]
struct Bodies(Vec<String>);

impl Flow for Bodies {
    fn body_attr(&mut self, r: &Ref) -> bool {
        let name = match &r.root {
            Root::Global(q) => q.to_string(),
            Root::Param { name, .. } => name.to_string(),
            _ => String::new(),
        };
        self.0.push(format!("{name}.{}", r.attrs.join(".")));
        name.ends_with(".ns") || name == "self"
    }
}

#[test]
fn body_attributes_of_objects_are_asked_of_the_flow() {
    let src = r#"
from svc import ns, queue
class Items:
    def post(self):
        data = ns.payload
        sink(f"SELECT {ns.payload['q']}")
        sink(data.get("cmd"))
        sink(self.api.payload["x"])
        sink(queue.payload["y"])
        sink(ns.schema)
        sink(int(ns.payload["n"]))
"#;
    let a = call_args(src, "sink");
    assert!(
        a.iter().all(|v| !derived(v, Sink::Sql, &mut Local)),
        "one function cannot tell"
    );
    let mut flow = Bodies::default();
    let got: Vec<bool> = a.iter().map(|v| derived(v, Sink::Sql, &mut flow)).collect();
    assert_eq!(got, [true, true, true, false, false, false]);
    assert!(
        flow.0.iter().all(|r| r.ends_with(".payload")),
        "{:?}",
        flow.0
    );
    assert!(flow.0.contains(&"svc.queue.payload".to_string()));
}
