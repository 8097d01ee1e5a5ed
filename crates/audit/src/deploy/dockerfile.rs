//! Dockerfiles: the final stage's base image, USER (inherited from an earlier
//! stage it is built `FROM`), ENV, CMD and ENTRYPOINT (exec and shell forms),
//! whether it runs Python, with line continuations and comments.

use super::{line_span, CommandOrigin, DeployFacts, EnvFact, EnvSource};
use crate::source::{FileId, SourceFile, Span};

#[derive(Debug, Clone)]
pub struct Dockerfile {
    pub file: FileId,
    /// The final stage's `FROM` image.
    pub from: Option<(String, Span)>,
    /// The `USER` the final stage runs as: its last `USER`, or the one of the
    /// earlier stage it is built from (`FROM base AS app` ... `FROM app`).
    pub user: Option<(String, Span)>,
    pub has_cmd: bool,
    /// The final stage's `CMD` and `ENTRYPOINT` lines.
    pub cmd: Option<Span>,
    pub entrypoint: Option<Span>,
    /// The image the final stage starts from, through earlier stages
    /// (`python:3.12-slim` for `FROM base` where `base` is `FROM python:3.12-slim`).
    pub base_image: Option<String>,
    /// The final stage runs Python: a Python base image, pip/poetry/uv installs,
    /// or a Python command (its own or an earlier stage's it builds on).
    pub python: bool,
    /// The final stage installs or runs a privilege-dropping launcher (`gosu`,
    /// `su-exec`, `setpriv`...): an entrypoint script may switch users.
    pub drops_privileges: bool,
}

impl Dockerfile {
    /// Whether the base image is known to run as an unprivileged user by
    /// default (distroless `:nonroot`, `*-nonroot` tags, Chainguard images).
    pub fn base_runs_unprivileged(&self) -> bool {
        self.base_image.as_deref().is_some_and(|image| {
            let lower = image.to_ascii_lowercase();
            lower.contains("nonroot") || lower.starts_with("cgr.dev/chainguard/")
        })
    }

    /// Whether the base image is a build argument (`FROM ${BASE}`): unknown.
    pub fn base_is_variable(&self) -> bool {
        self.base_image.as_deref().is_some_and(|i| i.contains('$'))
    }
}

/// A build stage while reading.
#[derive(Debug, Clone, Default)]
struct Stage {
    name: Option<String>,
    base: String,
    user: Option<(String, Span)>,
    python: bool,
    drops_privileges: bool,
}

/// Launchers that start a command as another user.
fn mentions_privilege_drop(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "gosu",
        "su-exec",
        "setpriv",
        "runuser",
        "chpst",
        "s6-setuidgid",
        "setuidgid",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Words in base images, RUN and CMD lines that mean the stage is Python.
fn mentions_python(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "python",
        "pypy",
        "pip ",
        "pip3",
        "pipenv",
        "poetry",
        "uv sync",
        "uv pip",
        "pdm ",
        "gunicorn",
        "uvicorn",
        "hypercorn",
        "waitress",
        "flask",
        "fastapi",
        "celery",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// One instruction with its (joined) arguments and the span of its first line.
struct Instruction {
    keyword: String,
    args: String,
    span: Span,
}

fn instructions(file: &SourceFile) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current: Option<Instruction> = None;
    for (i, raw) in file.text().lines().enumerate() {
        let line_no = i as u32 + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (trimmed, false),
        };
        match current.as_mut() {
            Some(ins) => {
                ins.args.push(' ');
                ins.args.push_str(body.trim());
            }
            None => {
                if body.is_empty() {
                    continue;
                }
                let (kw, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
                current = Some(Instruction {
                    keyword: kw.to_ascii_uppercase(),
                    args: rest.trim().to_string(),
                    span: line_span(file.id, file.lines(), file.text(), line_no),
                });
            }
        }
        if !continues {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

/// `["a", "b"]` (exec form) as words, or None for shell form.
fn exec_form(args: &str) -> Option<Vec<String>> {
    let t = args.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

pub fn parse(file: &SourceFile) -> DeployFacts {
    let mut out = DeployFacts::default();
    let mut df = Dockerfile {
        file: file.id,
        from: None,
        user: None,
        has_cmd: false,
        cmd: None,
        entrypoint: None,
        base_image: None,
        python: false,
        drops_privileges: false,
    };
    let mut stage_env: Vec<EnvFact> = Vec::new();
    let mut stage_cmds = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for ins in instructions(file) {
        match ins.keyword.as_str() {
            "FROM" => {
                // A new stage: only the last one is what runs.
                let words: Vec<&str> = ins
                    .args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let image = words.first().copied().unwrap_or("").to_string();
                let name = match words.as_slice() {
                    [_, as_, name, ..] if as_.eq_ignore_ascii_case("as") => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                };
                // Built on an earlier stage: its user and base carry over.
                let parent = stages
                    .iter()
                    .rev()
                    .find(|s| s.name.as_deref() == Some(image.to_ascii_lowercase().as_str()))
                    .cloned();
                let stage = match parent {
                    Some(p) => Stage { name, ..p },
                    None => Stage {
                        name,
                        python: mentions_python(&image),
                        base: image.clone(),
                        user: None,
                        drops_privileges: false,
                    },
                };
                stages.push(stage);
                df.from = Some((image, ins.span));
                df.has_cmd = false;
                df.cmd = None;
                df.entrypoint = None;
                stage_env.clear();
                stage_cmds.clear();
            }
            "USER" => {
                if let Some(stage) = stages.last_mut() {
                    stage.user = Some((
                        ins.args.split_whitespace().next().unwrap_or("").to_string(),
                        ins.span,
                    ));
                }
            }
            "RUN" => {
                if let Some(stage) = stages.last_mut() {
                    stage.python |= mentions_python(&ins.args);
                    stage.drops_privileges |= mentions_privilege_drop(&ins.args);
                }
            }
            "ENV" => {
                for (k, v) in env_pairs(&ins.args) {
                    stage_env.push(EnvFact {
                        name: k,
                        value: v,
                        span: ins.span,
                        source: EnvSource::Dockerfile,
                    });
                }
            }
            "CMD" | "ENTRYPOINT" => {
                let origin = if ins.keyword == "CMD" {
                    df.has_cmd = true;
                    df.cmd = Some(ins.span);
                    CommandOrigin::DockerCmd
                } else {
                    df.entrypoint = Some(ins.span);
                    CommandOrigin::DockerEntrypoint
                };
                if let Some(stage) = stages.last_mut() {
                    stage.python |= mentions_python(&ins.args);
                    stage.drops_privileges |= mentions_privilege_drop(&ins.args);
                }
                // A later CMD/ENTRYPOINT replaces an earlier one of the same kind.
                stage_cmds.retain(|c: &super::CommandFact| c.origin != origin);
                match exec_form(&ins.args) {
                    Some(words) if !words.is_empty() => {
                        stage_cmds.push(super::command_of_words(words, ins.span, origin))
                    }
                    Some(_) => {}
                    None => stage_cmds.extend(super::commands_of(&ins.args, ins.span, origin)),
                }
            }
            _ => {}
        }
    }
    for cmd in &stage_cmds {
        for (k, v) in &cmd.env {
            stage_env.push(EnvFact {
                name: k.clone(),
                value: v.clone(),
                span: cmd.span,
                source: EnvSource::Command,
            });
        }
    }
    if let Some(last) = stages.last() {
        df.user = last.user.clone();
        df.base_image = Some(last.base.clone());
        df.python = last.python;
        df.drops_privileges = last.drops_privileges;
    }
    out.env = stage_env;
    out.commands = stage_cmds;
    out.dockerfiles.push(df);
    out
}

/// `ENV A=1 B="two words"` or the legacy `ENV A 1`.
fn env_pairs(args: &str) -> Vec<(String, String)> {
    let words: Vec<String> = super::shell::split_commands(args)
        .into_iter()
        .flatten()
        .collect();
    if words.first().is_some_and(|w| w.contains('=')) {
        words
            .iter()
            .filter_map(|w| {
                w.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect()
    } else {
        let mut it = args.trim().splitn(2, char::is_whitespace);
        match (it.next(), it.next()) {
            (Some(k), Some(v)) if !k.is_empty() => {
                vec![(k.to_string(), super::dotenv::unquote(v.trim()))]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::Server;

    #[test]
    fn final_stage_user_env_and_cmd() {
        let text = "FROM python:3.12 AS build\nUSER app\nFROM python:3.12-slim\nENV FLASK_ENV=development \\\n    OTHER=\"a b\"\nENV LEGACY value here\nCMD [\"gunicorn\", \"-w\", \"4\", \"wsgi:app\"]\n";
        let f = SourceFile::new(3, "Dockerfile".into(), text.into());
        let d = parse(&f);
        let df = &d.dockerfiles[0];
        assert_eq!(df.from.as_ref().unwrap().0, "python:3.12-slim");
        assert!(df.user.is_none(), "USER of an earlier stage does not count");
        let env: Vec<(&str, &str)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            env,
            [
                ("FLASK_ENV", "development"),
                ("OTHER", "a b"),
                ("LEGACY", "value here")
            ]
        );
        assert!(
            matches!(&d.commands[0].server, Some(Server::Gunicorn(g)) if g.workers.as_deref() == Some("4"))
        );
        assert_eq!(
            f.line_of(ruff_text_size::TextSize::new(d.commands[0].span.start)),
            7
        );
    }

    #[test]
    fn users_carry_over_from_the_stage_built_on() {
        let text = "FROM python:3.12-slim AS base\nRUN useradd app\nUSER app\nFROM base AS app\nCOPY . .\nCMD [\"gunicorn\", \"wsgi:app\"]\n";
        let f = SourceFile::new(0, "Dockerfile".into(), text.into());
        let df = &parse(&f).dockerfiles[0];
        assert_eq!(df.user.as_ref().unwrap().0, "app");
        assert_eq!(df.base_image.as_deref(), Some("python:3.12-slim"));
        assert!(df.python);
        assert_eq!(
            f.line_of(ruff_text_size::TextSize::new(df.cmd.unwrap().start)),
            6
        );

        let text = "FROM node:20 AS assets\nUSER node\nFROM gcr.io/distroless/python3-debian12:nonroot\nCOPY --from=assets /out /app\nENTRYPOINT [\"python\", \"app.py\"]\n";
        let df = &parse(&SourceFile::new(0, "Dockerfile".into(), text.into())).dockerfiles[0];
        assert!(
            df.user.is_none(),
            "another stage's USER does not carry over"
        );
        assert!(df.base_runs_unprivileged());
        assert!(df.entrypoint.is_some() && df.cmd.is_none());

        let df = &parse(&SourceFile::new(
            0,
            "Dockerfile".into(),
            "FROM nginx:1.27\nCOPY site.conf /etc/nginx/conf.d/\n".into(),
        ))
        .dockerfiles[0];
        assert!(!df.python);
    }

    #[test]
    fn shell_form_cmd() {
        let f = SourceFile::new(
            0,
            "Dockerfile".into(),
            "FROM x\nUSER 1000\nCMD flask run --host 0.0.0.0\n".into(),
        );
        let d = parse(&f);
        assert!(matches!(
            d.commands[0].server,
            Some(Server::FlaskRun { .. })
        ));
        assert_eq!(d.dockerfiles[0].user.as_ref().unwrap().0, "1000");
    }
}
