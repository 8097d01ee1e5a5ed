//! Request-derived data, for the injection and input rules.
//!
//! The collector marks a [`Value`] `tainted` when it comes from the request:
//! `flask.request.*`, a parameter of a route function (URL and FastAPI query/body
//! parameters), a parameter typed `Request`, and anything built from those within
//! the function (assignments, f-strings, `+`/`%` concatenation, `.format`, calls).
//! These helpers refine that for rules.

use super::value::{Kind, Value};

/// Calls whose result is no longer attacker-shaped in the way the injection rules
/// care about (a number, a sanitised file name, escaped markup).
pub const SANITIZERS: &[&str] = &[
    "int",
    "float",
    "bool",
    "len",
    "uuid.UUID",
    "werkzeug.utils.secure_filename",
    "werkzeug.secure_filename",
    "markupsafe.escape",
    "flask.escape",
    "html.escape",
    "bleach.clean",
    "shlex.quote",
    "pipes.quote",
];

/// Whether `v` carries request data that no sanitiser has cleaned.
pub fn is_request_derived(v: &Value) -> bool {
    if !v.tainted {
        return false;
    }
    match &v.kind {
        Kind::Call(c) => {
            if c.func_name()
                .is_some_and(|q| SANITIZERS.contains(&q.as_str()))
            {
                return false;
            }
            // A method on request data (`request.args.get("x")`) or a call fed
            // request data: tainted unless every tainted input is sanitised.
            c.func.tainted
                || c.args.iter().any(is_request_derived)
                || c.kwargs.iter().any(|(_, a)| is_request_derived(a))
        }
        Kind::FString(parts)
        | Kind::List(parts)
        | Kind::Tuple(parts)
        | Kind::Set(parts)
        | Kind::Or(parts)
        | Kind::And(parts) => parts.iter().any(is_request_derived),
        Kind::BinOp(_, a, b) => is_request_derived(a) || is_request_derived(b),
        Kind::Cond(parts) => is_request_derived(&parts[1]) || is_request_derived(&parts[2]),
        _ => true,
    }
}

/// Whether `v` is a string built dynamically (f-string, `%`, `+`, `.format`) from
/// request data: the shape of SQL, shell and template injection.
pub fn is_request_built_string(v: &Value) -> bool {
    v.is_dynamic_string() && is_request_derived(v)
}

#[cfg(test)]
mod tests {
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
"#;
        let args = call_args(src, "execute");
        assert_eq!(args.len(), 3);
        assert!(is_request_built_string(&args[0]));
        assert!(!is_request_derived(&args[1]));
        assert!(!is_request_built_string(&args[2]), "int() sanitises");
    }

    #[test]
    fn route_parameters_are_request_data() {
        let src = r#"
from flask import Flask, send_file
app = Flask(__name__)
@app.route("/files/<path:name>")
def download(name):
    return send_file("/srv/" + name)
def helper(name):
    return send_file(name)
"#;
        let args = call_args(src, "send_file");
        assert!(is_request_derived(&args[0]));
        assert!(!is_request_derived(&args[1]));
    }
}
