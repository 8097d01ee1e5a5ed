//! DBG003 `development-server-in-deploy`: the deploy entrypoint runs Flask's development server.

use report::Finding;

use crate::{
    deploy::Server,
    model::{AppKind, Project},
    rules::{common, Rule, RuleContext},
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "DBG003",
    name: "development-server-in-deploy",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds deploy entrypoints (Dockerfile `CMD`/`ENTRYPOINT`, the Procfile `web`
process, compose `command`, supervisord programs, and shell scripts these run or
that are named for production such as `boot.sh` or `docker-entrypoint.sh`, outside
their debug-only branches) that start Werkzeug's development server: `flask
run`, or `python app.py` / `python -m app` where the script calls `app.run()`
(also on an app a factory made) or Werkzeug's `run_simple()`, and `python
manage.py runserver` on a Flask-Script `Manager` (its default `runserver`
command, or a `Server()` added under that name; also `python manage.py` alone
when the script calls `manager.run(default_command="runserver")`) or
`python manage.py run` on
a `FlaskGroup` script. A script that starts a production server itself
(waitress' `serve`, `uvicorn.run`, a gunicorn `BaseApplication`, gevent's
`WSGIServer`, ...) keeps `app.run()` for development and is not reported,
and neither is another command of a management script (`python manage.py db
upgrade`). Dockerfiles, compose files and Procfiles named for development,
tests or as examples (`Dockerfile.dev`, `docker-compose.local.yml`,
`Procfile.dev`), and the scripts they run, are left alone.

## Why is this bad?
The development server is single-process, not hardened, and not meant to face
the internet ("Do not use the development server when deploying to
production"). It also announces itself in the `Server` header.

## Example
```text
web: python app.py
```

Use instead:
```text
web: gunicorn --workers 4 --bind 0.0.0.0:$PORT wsgi:app
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for &i in &project.deployment.web_commands {
        let Some(cmd) = project.deploy.commands.get(i) else {
            continue;
        };
        // `Dockerfile.dev`, `docker-compose.local.yml`, `Procfile.dev`:
        // development setups (the deployment model leaves them out too).
        if crate::model::development_command(project, cmd) {
            continue;
        }
        match &cmd.server {
            Some(Server::FlaskRun { .. }) => out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    cmd.span,
                    format!(
                        "{} runs `flask run`, the Werkzeug development server",
                        cmd.origin.describe()
                    ),
                )
                .with_fix("Serve the app with gunicorn (or another production WSGI server).")
                .with_evidence(ctx.snippet(cmd.span)),
            ),
            Some(Server::PythonScript {
                target,
                module,
                command,
            }) => {
                let Some(script) = script_file(project, cmd.span.file, target, *module) else {
                    continue;
                };
                let Some(dev) = dev_server_in_script(project, script, command.as_deref()) else {
                    continue;
                };
                let m = if *module { "-m " } else { "" };
                let run = match command {
                    Some(c) => format!("python {m}{target} {c}"),
                    None => format!("python {m}{target}"),
                };
                out.push(
                    ctx.finding(
                        RULE.code,
                        RULE.name,
                        cmd.span,
                        format!(
                            "{} runs `{run}`, which starts the Werkzeug development server with {}",
                            cmd.origin.describe(),
                            dev.what
                        ),
                    )
                    .with_fix("Serve the app with gunicorn (or another production WSGI server) instead of running the script.")
                    .with_related(ctx.at(dev.span), dev.related)
                    .with_evidence(ctx.snippet(cmd.span)),
                );
            }
            _ => {}
        }
    }
    out
}

/// The project file a `python X` command runs.
pub(super) fn script_file(
    project: &Project,
    from: FileId,
    target: &str,
    module: bool,
) -> Option<FileId> {
    if module {
        // `python -m pkg` runs the package's `__main__.py`.
        return project
            .index
            .module_file(&format!("{target}.__main__"))
            .or_else(|| project.index.module_file(target));
    }
    let target = target.trim_start_matches("./");
    let dir = project
        .source(from)?
        .rel
        .rsplit_once('/')
        .map(|(d, _)| d.to_string());
    let wanted = match dir {
        Some(d) => format!("{d}/{target}"),
        None => target.to_string(),
    };
    project
        .files
        .iter()
        .find(|f| f.source.rel == wanted)
        .or_else(|| {
            project
                .files
                .iter()
                .find(|f| f.source.rel.ends_with(&format!("/{target}")))
        })
        .map(|f| f.source.id)
}

/// A `uvicorn.run(..., reload=True)` call in a script (the development
/// autoreloader started by the script itself).
pub(super) fn uvicorn_reload_call(project: &Project, file: FileId) -> Option<Span> {
    let facts = project.py.get(file as usize)?.as_ref()?;
    let resolver = project.resolver();
    facts.calls.iter().find_map(|call| {
        let c = call.call();
        if c.last_name() != Some("run") || c.kwarg("reload").and_then(|v| v.truthy()) != Some(true)
        {
            return None;
        }
        (resolver.resolve(file, &c.func).external_name().as_deref() == Some("uvicorn.run"))
            .then(|| Span::new(file, call.range()))
    })
}

/// How a script starts the development server, and where.
struct DevServer {
    span: Span,
    what: &'static str,
    related: &'static str,
}

/// Servers made for production that a script can start itself (`if
/// __name__ == "__main__": serve(app)`); a script that starts one keeps
/// `app.run()` for development only.
const PRODUCTION_SERVERS: &[&str] = &[
    "waitress.serve",
    "waitress.server.create_server",
    "uvicorn.run",
    "hypercorn.asyncio.serve",
    "hypercorn.trio.serve",
    "bjoern.run",
    "meinheld.server.run",
    "gevent.pywsgi.WSGIServer",
    "cheroot.wsgi.Server",
    "cheroot.wsgi.WSGIServer",
    "cherrypy.wsgiserver.CherryPyWSGIServer",
    "tornado.wsgi.WSGIContainer",
    "twisted.web.wsgi.WSGIResource",
];

/// gunicorn's classes a script subclasses to run gunicorn itself.
const GUNICORN_APPS: &[&str] = &[
    "gunicorn.app.base.BaseApplication",
    "gunicorn.app.base.Application",
    "gunicorn.app.wsgiapp.WSGIApplication",
];

/// The development server a script run as `python script [command]`
/// starts: Flask-Script's `runserver` command (`manager = Manager(app)`,
/// also a `Server()` added under that name), the `run` command of a
/// `FlaskGroup` script, or else `app.run()` on a Flask app or Werkzeug's
/// `run_simple()`. None when the script starts a production server as well,
/// or runs another management command.
fn dev_server_in_script(
    project: &Project,
    file: FileId,
    command: Option<&str>,
) -> Option<DevServer> {
    let facts = project.py.get(file as usize)?.as_ref()?;
    let resolver = project.resolver();
    let callee = |c: &crate::python::facts::CallFact| common::callee(project, file, c);
    let starts_production = facts
        .calls
        .iter()
        .any(|c| callee(c).is_some_and(|q| PRODUCTION_SERVERS.contains(&q.as_str())))
        || facts.classes.iter().any(|class| {
            class.bases.iter().any(|b| {
                resolver
                    .resolve(file, b)
                    .external_name()
                    .is_some_and(|q| GUNICORN_APPS.contains(&q.as_str()))
            })
        });
    if starts_production {
        return None;
    }
    // A management script: what runs is the command.
    let manager = facts
        .calls
        .iter()
        .find(|c| callee(c).as_deref() == Some("flask_script.Manager"));
    let flask_group = facts.calls.iter().find(|c| {
        callee(c).as_deref() == Some("flask.cli.FlaskGroup")
            || c.call().kwarg("cls").is_some_and(|cls| {
                resolver.resolve(file, cls).external_name().as_deref()
                    == Some("flask.cli.FlaskGroup")
            })
    });
    if let Some(m) = manager {
        // `python manage.py` with no command runs the default one:
        // `manager.run(default_command="runserver")`.
        let default_command = facts.calls.iter().find_map(|c| {
            let call = c.call();
            if call.last_name() != Some("run") {
                return None;
            }
            let recv = call.receiver()?;
            let made = resolver.resolve(file, &recv);
            let crate::model::index::Target::Object(site) = made.target else {
                return None;
            };
            (made.attrs.is_empty()
                && site.file == file
                && site.offset == u32::from(m.range().start()))
            .then(|| call.param(1, "default_command").and_then(|v| v.as_str()))
            .flatten()
        });
        let command = command.or(default_command);
        if command != Some("runserver") {
            return None;
        }
        // `manager.add_command("runserver", ...)` replaces the default;
        // only Flask-Script's own `Server` is still the development server.
        let added = facts.calls.iter().find(|c| {
            c.call().last_name() == Some("add_command")
                && c.call().param(0, "name").and_then(|v| v.as_str()) == Some("runserver")
        });
        let defaults = m
            .call()
            .kwarg("with_default_commands")
            .and_then(|v| v.truthy())
            != Some(false);
        return match added {
            Some(a) => {
                let server = a.call().param(1, "command")?;
                let q = resolver
                    .resolve(file, &server.as_call()?.func)
                    .external_name()?;
                matches!(
                    q.as_str(),
                    "flask_script.Server" | "flask_script.commands.Server"
                )
                .then(|| DevServer {
                    span: Span::new(file, a.range()),
                    what: "Flask-Script's `runserver` command",
                    related: "the runserver command is added here",
                })
            }
            None => defaults.then(|| DevServer {
                span: Span::new(file, m.range()),
                what: "Flask-Script's default `runserver` command",
                related: "the Flask-Script manager is made here",
            }),
        };
    }
    if let Some(g) = flask_group {
        return (command == Some("run")).then(|| DevServer {
            span: Span::new(file, g.range()),
            what: "the `run` command of its `FlaskGroup` (`flask run`)",
            related: "the FlaskGroup is made here",
        });
    }
    facts.calls.iter().find_map(|call| {
        let c = call.call();
        let last = c.func.reference()?.last_name();
        if last == "run_simple" {
            let q = callee(call)?;
            return matches!(
                q.as_str(),
                "werkzeug.serving.run_simple" | "werkzeug.run_simple"
            )
            .then(|| DevServer {
                span: Span::new(file, call.range()),
                what: "Werkzeug's `run_simple()`",
                related: "run_simple() called here",
            });
        }
        if last != "run" {
            return None;
        }
        let app = common::app_of_receiver(project, file, c)?;
        (project.apps.get(app)?.kind == AppKind::Flask).then(|| DevServer {
            span: Span::new(file, call.range()),
            what: "`app.run()`",
            related: "app.run() called here",
        })
    })
}
