//! OPS002 `dev-server-all-interfaces`: the development server listens on every
//! interface.

use report::Finding;

use crate::{
    model::AppKind,
    python::value::{env_lookup, Value},
    rules::{common, Rule, RuleContext},
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "OPS002",
    name: "dev-server-all-interfaces",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds the Werkzeug development server bound to every interface in code:
`app.run(host="0.0.0.0")` (also `"::"`, and a name or config value bound to
one), `run_simple("0.0.0.0", ...)` and Flask-SocketIO's
`socketio.run(app, host="0.0.0.0")` and Flask-Script's runserver command
`Server(host="0.0.0.0")` — including an environment lookup whose
default is all interfaces (`host=os.environ.get("HOST", "0.0.0.0")`), since
the default is what runs when the variable is not set.

`flask run --host 0.0.0.0` in a Dockerfile, Procfile or compose command is not
reported here: inside a container all interfaces are needed to accept
connections at all, and running the development server there is reported as
DBG003 at the same line.

## Why is this bad?
The development server (and its debugger, when debug is on) becomes reachable
from every network the machine is on: the office LAN, public Wi-Fi, the
internet for a cloud VM.

## Example
```python
if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)
```

Use instead:
```python
if __name__ == "__main__":
    app.run(host=os.environ.get("DEV_HOST", "127.0.0.1"))
```
"#;

const RUN_SIMPLE: &[&str] = &["werkzeug.serving.run_simple", "werkzeug.run_simple"];
const SOCKETIO: &[&str] = &["flask_socketio.SocketIO"];
const FLASK_SCRIPT_SERVER: &[&str] = &["flask_script.Server", "flask_script.commands.Server"];

/// A value that binds every interface, directly or as an environment default.
/// Returns the address as written, and whether it is an environment default.
fn all_interfaces<'a>(ctx: &RuleContext<'a>, file: FileId, v: &'a Value) -> Option<(String, bool)> {
    let (f, v) = ctx.project.resolver().deref(file, v);
    if let Some(s) = v.as_str() {
        let s = s.trim();
        return matches!(s, "0.0.0.0" | "::" | "[::]" | "0:0:0:0:0:0:0:0")
            .then(|| (s.to_string(), false));
    }
    let lookup = env_lookup(v)?;
    let default = lookup.default?;
    let (shown, _) = all_interfaces(ctx, f, default)?;
    Some((shown, true))
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for (file, _, call) in project.calls_named(&["run", "run_simple", "Server"]) {
        let c = call.call();
        let Some(r) = c.func.reference() else {
            continue;
        };
        let host = match r.last_name() {
            "run" => {
                let Some(recv) = c.receiver() else { continue };
                let resolved = project.resolver().resolve(file, &recv);
                let on_flask_app = common::app_of_receiver(project, file, c)
                    .and_then(|a| project.apps.get(a))
                    .is_some_and(|a| a.kind == AppKind::Flask);
                let on_socketio = resolved
                    .external_name()
                    .is_some_and(|n| SOCKETIO.contains(&n.as_str()))
                    || matches!(resolved.target, crate::model::index::Target::Object(site)
                        if resolved.attrs.is_empty() && is_socketio(ctx, site));
                if on_flask_app {
                    c.param(0, "host")
                } else if on_socketio {
                    c.param(1, "host")
                } else {
                    continue;
                }
            }
            "run_simple" => {
                if !common::resolves_to(project, file, &c.func, RUN_SIMPLE) {
                    continue;
                }
                c.param(0, "hostname")
            }
            // Flask-Script's `runserver` command: `Server(host="0.0.0.0")`.
            "Server" => {
                if !common::resolves_to(project, file, &c.func, FLASK_SCRIPT_SERVER) {
                    continue;
                }
                c.param(0, "host")
            }
            _ => continue,
        };
        let Some(host) = host else { continue };
        let Some((shown, via_env)) = all_interfaces(ctx, file, host) else {
            continue;
        };
        let span = Span::new(file, call.range());
        let message = if via_env {
            format!("the development server listens on every interface (`{shown}`) unless the environment says otherwise")
        } else {
            format!("the development server listens on every interface (`{shown}`)")
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, span, message)
                .with_fix("Bind the development server to 127.0.0.1 (the default); serve production traffic with gunicorn behind a proxy.")
                .with_evidence(ctx.snippet(span)),
        );
    }
    out
}

/// Whether an object is a Flask-SocketIO `SocketIO(...)`.
fn is_socketio(ctx: &RuleContext, site: crate::python::value::Site) -> bool {
    let Some(facts) = ctx
        .project
        .py
        .get(site.file as usize)
        .and_then(Option::as_ref)
    else {
        return false;
    };
    facts.calls.iter().any(|c| {
        u32::from(c.range().start()) == site.offset
            && common::resolves_to(ctx.project, site.file, &c.call().func, SOCKETIO)
    })
}
