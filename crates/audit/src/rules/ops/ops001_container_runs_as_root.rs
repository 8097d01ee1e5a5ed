//! OPS001 `container-runs-as-root`: the app's container runs as root.

use report::Finding;

use crate::{
    deploy::server::Server,
    rules::{Rule, RuleContext},
    Project,
};

pub const RULE: Rule = Rule {
    code: "OPS001",
    name: "container-runs-as-root",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds Dockerfiles whose final stage runs Python (a Python base image, pip /
Poetry / uv installs, or a Python server command) as root: no `USER`
instruction — reported at the `CMD` line (else `ENTRYPOINT`, else the final
`FROM`) — or a last `USER` of `root` / `0` (reported at that line), as when a
`USER app` is followed by `USER root` to install something and never switched
back. Multi-stage builds are judged by the final stage; a stage built `FROM`
an earlier stage of the same file keeps that stage's `USER`. Base images known
to run unprivileged (distroless `:nonroot`, `*-nonroot` tags, Chainguard
images) and base images given by a build argument (`FROM ${BASE}`) are not
reported, nor a stage without `USER` that installs or runs a launcher that
switches users (`gosu`, `su-exec`, `setpriv`, `runuser`): its entrypoint may
drop privileges; nor one without `USER` when every command that starts the
app's server (in the image's scripts, s6-overlay service scripts included)
runs it through such a launcher (`exec s6-setuidgid app gunicorn ...`). Images of other services (nginx, databases) drop privileges
in their own entrypoints and are not judged.

A compose service that builds the project's Python Dockerfile (`build: .`,
`build: ./api`, `build: {context: ., dockerfile: ...}`) and sets
`user: root` (or `0`, `0:0`, `root:root`) runs that container as root whatever
the Dockerfile's `USER` says: reported at the `user:` line (not when the
Dockerfile has no `USER` and its entrypoint drops privileges with `gosu` and
the like, which needs root to start).

## Why is this bad?
Root in the container is root for the shared kernel. Any code execution bug
(debugger, deserialization, injection) then lets an attacker rewrite the app
and its dependencies, read every mounted secret, and try container escapes
from the best starting position.

## Example
```dockerfile
FROM python:3.12-slim
COPY . /app
CMD ["gunicorn", "wsgi:app"]
```

Use instead:
```dockerfile
FROM python:3.12-slim
RUN useradd --system --uid 10001 app
COPY . /app
USER 10001
CMD ["gunicorn", "wsgi:app"]
```
"#;

/// Launchers that run the rest of the command line as another user.
const USER_SWITCHES: &[&str] = &[
    "gosu",
    "su-exec",
    "s6-setuidgid",
    "setuidgid",
    "setpriv",
    "runuser",
    "chpst",
];

/// Whether the project starts its Python server, and always through a
/// launcher that switches to another user (`exec s6-setuidgid app gunicorn
/// ...` in an s6 service script, `gosu app uvicorn ...`).
fn server_runs_unprivileged(project: &Project) -> bool {
    let mut starts = project
        .deploy
        .commands
        .iter()
        .filter(|c| c.origin.is_web() && c.server.as_ref().is_some_and(Server::is_python))
        .peekable();
    starts.peek().is_some()
        && starts.all(|c| {
            c.words
                .iter()
                .map(|w| w.rsplit('/').next().unwrap_or(w))
                .take_while(|w| {
                    !matches!(
                        *w,
                        "gunicorn" | "uvicorn" | "hypercorn" | "flask" | "fastapi"
                    ) && !w.starts_with("python")
                })
                .any(|w| USER_SWITCHES.contains(&w))
        })
}

/// `root`, `0`, `root:root`, `0:0` (the user part decides).
fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name == "root" || name == "0"
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for df in &project.deploy.dockerfiles {
        if project.file(df.file).is_none_or(|f| f.is_test) {
            continue;
        }
        let Some((_, from_span)) = &df.from else {
            continue;
        };
        if !df.python
            || df.base_runs_unprivileged()
            || df.base_is_variable()
            || (df.user.is_none() && (df.drops_privileges || server_runs_unprivileged(project)))
        {
            continue;
        }
        let (span, message) = match &df.user {
            Some((user, span)) if is_root(user) => (
                *span,
                format!("the container switches to `USER {user}` and runs the app as root"),
            ),
            Some(_) => continue,
            None => (
                df.cmd.or(df.entrypoint).unwrap_or(*from_span),
                "the final stage sets no `USER`: the container runs the app as root".to_string(),
            ),
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, span, message)
                .with_fix("Create an unprivileged user (`RUN useradd --system --uid 10001 app`) and add `USER 10001` before CMD; keep the code owned by root and writable directories to a minimum.")
                .with_related(ctx.at(*from_span), "final stage")
                .with_evidence(ctx.snippet(span)),
        );
    }
    out.extend(compose_root_users(ctx));
    out
}

/// The directory part of a relative path (`deploy` for `deploy/compose.yml`).
fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Compose services that build the project's Python Dockerfile and run it
/// with `user: root` (or `0`, `0:0`, `root:root`), which overrides its `USER`.
fn compose_root_users(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for svc in &project.deploy.services {
        let (Some((user, user_span)), Some((built, _))) = (&svc.user, &svc.build) else {
            continue;
        };
        if !is_root(user) {
            continue;
        }
        let Some(compose) = project.file(svc.span.file).filter(|f| !f.is_test) else {
            continue;
        };
        let dir = parent_dir(&compose.source.rel);
        let path = if dir.is_empty() {
            built.clone()
        } else {
            format!("{dir}/{built}")
        };
        let dockerfile = project
            .deploy
            .dockerfiles
            .iter()
            .find(|df| project.file(df.file).is_some_and(|f| f.source.rel == path));
        let Some(df) = dockerfile.filter(|df| df.python) else {
            continue;
        };
        // An entrypoint that drops privileges itself (gosu) expects root.
        if df.user.is_none() && df.drops_privileges {
            continue;
        }
        let overrides = match &df.user {
            Some((u, _)) if !is_root(u) => format!(", overriding the Dockerfile's `USER {u}`"),
            _ => String::new(),
        };
        let mut f = ctx
            .finding(
                RULE.code,
                RULE.name,
                *user_span,
                format!("compose service `{}` runs the app's container as `{user}`{overrides}", svc.name),
            )
            .with_fix("Remove `user: root` from the service (or set an unprivileged uid such as `user: \"10001\"`); run one-off root tasks in a separate service or at build time.")
            .with_evidence(ctx.snippet(*user_span));
        if let Some((_, span)) = &df.user {
            f = f.with_related(ctx.at(*span), "the image's own USER");
        } else if let Some((_, span)) = &df.from {
            f = f.with_related(ctx.at(*span), "the image built for this service");
        }
        out.push(f);
    }
    out
}
