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
run`, or `python app.py` / `python -m app` where the script calls `app.run()`.

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
            Some(Server::PythonScript { target, module }) => {
                let Some(script) = script_file(project, cmd.span.file, target, *module) else {
                    continue;
                };
                let Some(run) = dev_server_call(project, script) else {
                    continue;
                };
                out.push(
                    ctx.finding(
                        RULE.code,
                        RULE.name,
                        cmd.span,
                        format!("{} runs `python {target}`, which starts the Werkzeug development server with `app.run()`", cmd.origin.describe()),
                    )
                    .with_fix("Serve the app with gunicorn (or another production WSGI server) instead of running the script.")
                    .with_related(ctx.at(run), "app.run() called here")
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
        return project.index.module_file(target);
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

/// An `app.run(...)` call on a Flask app in a script.
fn dev_server_call(project: &Project, file: FileId) -> Option<Span> {
    let facts = project.py.get(file as usize)?.as_ref()?;
    facts.calls.iter().find_map(|call| {
        let c = call.call();
        if c.func.reference()?.last_name() != "run" {
            return None;
        }
        let app = common::app_of_receiver(project, file, c)?;
        (project.apps.get(app)?.kind == AppKind::Flask).then(|| Span::new(file, call.range()))
    })
}
