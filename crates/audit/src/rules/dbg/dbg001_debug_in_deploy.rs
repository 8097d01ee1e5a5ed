//! DBG001 `debug-enabled-in-deploy`: deploy files turn on debug mode or reloading.

use report::Finding;

use crate::{
    deploy::{EnvSource, Server},
    model::Project,
    rules::{Rule, RuleContext},
    source::FileId,
};

pub const RULE: Rule = Rule {
    code: "DBG001",
    name: "debug-enabled-in-deploy",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds debug mode switched on by the deployment rather than the code:
`FLASK_DEBUG=1` or `FLASK_ENV=development` in `.env` (not `.env.example` or
`.env.development`), Dockerfile `ENV`, compose `environment` or a command
prefix; `flask run --debug`; `uvicorn --reload`, `gunicorn --reload`,
`hypercorn --reload`/`--debug`, `fastapi dev` and `fastapi run --reload` as the container, Procfile,
compose or supervisord command or in a shell script deployment runs, or a `python main.py` command whose script
calls `uvicorn.run(..., reload=True)`. Dockerfiles, compose files and
Procfiles named for development, tests or as examples
(`docker-compose.dev.yml`, `Dockerfile.local`, `compose.test.yaml`,
`Procfile.dev`), and the scripts they run, are left alone, as
`.env.development` is; `docker-compose.override.yml`, which `docker compose up` applies by
default, is not.

## Why is this bad?
`FLASK_DEBUG=1` makes `flask run` start the Werkzeug debugger (a remote Python
console), and many apps read it to set `DEBUG`. Reloaders watch the file system
and restart workers: a development convenience that does not belong in a
production process.

## Example
```dockerfile
ENV FLASK_DEBUG=1
CMD flask --app wsgi --debug run --host=0.0.0.0
```

Use instead:
```dockerfile
CMD ["gunicorn", "--workers", "4", "--bind", "0.0.0.0:8000", "wsgi:app"]
```
"#;

/// Whether a Dockerfile or compose file is named for development, tests or
/// as an example: see [`crate::model::development_file`].
pub(super) fn development_file(project: &Project, file: FileId) -> bool {
    crate::model::development_file(project, file)
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let d = &project.deploy;
    let mut out = Vec::new();
    for e in &d.env {
        if !e.source.may_be_production() {
            continue;
        }
        if matches!(e.source, EnvSource::Dockerfile | EnvSource::Compose { .. })
            && development_file(project, e.span.file)
        {
            continue;
        }
        let v = e.value.trim().to_ascii_lowercase();
        let on = match e.name.as_str() {
            "FLASK_DEBUG" | "QUART_DEBUG" => matches!(v.as_str(), "1" | "true" | "yes" | "on"),
            "FLASK_ENV" => v == "development",
            _ => false,
        };
        if !on {
            continue;
        }
        let where_ = match &e.source {
            EnvSource::DotEnv { .. } => "the .env file".to_string(),
            EnvSource::Dockerfile => "the Dockerfile".to_string(),
            EnvSource::Compose { service } => format!("compose service `{service}`"),
            EnvSource::Command => "the start command".to_string(),
        };
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                e.span,
                format!("`{}={}` in {where_} turns on debug mode", e.name, e.value),
            )
            .with_fix(
                "Remove it from files that reach production; set it only in your local shell.",
            )
            .with_evidence(ctx.snippet(e.span)),
        );
    }
    for cmd in &d.commands {
        // Also a script a development Dockerfile runs, and `Procfile.dev`.
        if crate::model::development_command(project, cmd) {
            continue;
        }
        // `python app/main.py` where the script starts uvicorn with reload=True.
        if let Some(Server::PythonScript { target, module, .. }) = &cmd.server {
            let call =
                super::dbg003_dev_server::script_file(project, cmd.span.file, target, *module)
                    .and_then(|f| super::dbg003_dev_server::uvicorn_reload_call(project, f));
            if let Some(call) = call {
                out.push(
                    ctx.finding(
                        RULE.code,
                        RULE.name,
                        cmd.span,
                        format!(
                            "`python {target}` starts uvicorn with `reload=True`, a development reloader ({})",
                            cmd.origin.describe()
                        ),
                    )
                    .with_fix("Start production with uvicorn (or gunicorn with uvicorn workers) from the command line, without reload.")
                    .with_related(ctx.at(call), "uvicorn.run(reload=True) called here")
                    .with_evidence(ctx.snippet(cmd.span)),
                );
            }
            continue;
        }
        let message = match &cmd.server {
            Some(Server::FlaskRun { debug: true, .. }) => {
                "`flask run --debug` serves the Werkzeug debugger"
            }
            Some(Server::Uvicorn(u)) if u.reload => "`uvicorn --reload` is a development reloader",
            Some(Server::Gunicorn(g)) if g.reload => {
                "`gunicorn --reload` is a development reloader"
            }
            Some(Server::Hypercorn(h)) if h.debug => {
                "`hypercorn --debug` runs the app in debug mode"
            }
            Some(Server::Hypercorn(h)) if h.reload => {
                "`hypercorn --reload` is a development reloader"
            }
            Some(Server::FastApiCli { dev: true, .. }) => {
                "`fastapi dev` is the development server with auto-reload"
            }
            Some(Server::FastApiCli { reload: true, .. }) => {
                "`fastapi run --reload` is a development reloader"
            }
            _ => continue,
        };
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                cmd.span,
                format!("{message} ({})", cmd.origin.describe()),
            )
            .with_fix("Start production with gunicorn or uvicorn without debug or reload flags.")
            .with_evidence(ctx.snippet(cmd.span)),
        );
    }
    out
}
