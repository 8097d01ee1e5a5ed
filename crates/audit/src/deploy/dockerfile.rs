//! Dockerfiles: the final stage's base image, USER (inherited from an earlier
//! stage it is built `FROM`), ENV, CMD and ENTRYPOINT (exec and shell forms),
//! the files it copies from the build context (`COPY` / `ADD`, so a command
//! that runs a renamed copy leads back to the script in the repository),
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
    /// What the final stage copies from the build context (`COPY` / `ADD`
    /// without `--from`), its own and the earlier stage's it builds on.
    pub copies: Vec<Copied>,
    /// The final stage's `WORKDIR` (`/` when unset), where its commands run.
    pub workdir: String,
}

/// One source of a `COPY` / `ADD` and where it lands in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// As written, relative to the build context, without `./` (`scripts/start.sh`,
    /// `.` for the whole context).
    pub src: String,
    /// The absolute destination (relative ones joined to the `WORKDIR`).
    pub dest: String,
    /// The destination is a directory the source lands in (`COPY . /app`,
    /// `COPY a.sh b.sh /bin/`, a source directory) rather than the file's new
    /// name (`COPY start.sh /usr/local/bin/run-app`).
    pub into_dir: bool,
}

impl Copied {
    /// The context path of what a command word (`run-app`, `./run`,
    /// `/usr/local/bin/run-app`) runs when it is this copy, `workdir` being
    /// the directory the command runs in. A bare name is looked up like
    /// `PATH` does: any copy whose file name it is.
    pub fn source_of(&self, word: &str, workdir: &str) -> Option<String> {
        if word.is_empty() || word.contains('$') {
            return None;
        }
        let bare = !word.contains('/');
        let abs = absolute(word, workdir);
        if self.into_dir {
            let dir = self.dest.trim_end_matches('/');
            let rest = if bare {
                word
            } else {
                abs.strip_prefix(dir)?.strip_prefix('/')?
            };
            let src = self.src.trim_end_matches('/');
            let (parent, name) = src.rsplit_once('/').unwrap_or(("", src));
            let base = if self.src.ends_with('/') || src == "." {
                src
            } else if name.contains(['*', '?', '[']) {
                // `COPY scripts/*.sh /usr/local/bin/`: the file keeps its name.
                if rest.contains('/') || !glob_matches(name, rest) {
                    return None;
                }
                parent
            } else {
                // `COPY scripts/start.sh /usr/local/bin/`: lands as `start.sh`.
                return (rest == name).then(|| src.to_string());
            };
            return Some(match base {
                "." | "" => rest.to_string(),
                b => format!("{b}/{rest}"),
            });
        }
        let name = self.dest.rsplit('/').next().unwrap_or(&self.dest);
        (abs == self.dest || (bare && name == word)).then(|| self.src.clone())
    }
}

/// Whether a file name matches a glob of `*` and `?` (a `[...]` class matches
/// nothing: unresolved).
fn glob_matches(glob: &str, name: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matching with one backtrack point for the last `*`.
    let (mut gi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, ni));
                gi += 1;
            }
            Some('?') => {
                gi += 1;
                ni += 1;
            }
            Some('[') => return false,
            Some(c) if *c == n[ni] => {
                gi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sg, sn)) => {
                    gi = sg + 1;
                    ni = sn + 1;
                    star = Some((sg, sn + 1));
                }
                None => return false,
            },
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// `rel` joined to the directory `dir` (`.` and `..` folded).
fn absolute(rel: &str, dir: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let joined = if rel.starts_with('/') {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    };
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
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
    workdir: String,
    copies: Vec<Copied>,
}

/// Copies a stage holds at most (hostile input).
const MAX_COPIES: usize = 1_000;

/// The sources and destination of `COPY` / `ADD` arguments (JSON or plain
/// form); None for a copy from another stage or image (`--from`), a URL, or a
/// heredoc.
fn copy_args(args: &str, workdir: &str) -> Option<Vec<Copied>> {
    let mut words: Vec<String> = match exec_form(args) {
        Some(w) => w,
        None => args.split_whitespace().map(str::to_string).collect(),
    };
    if words.iter().any(|w| w.starts_with("--from")) {
        return None;
    }
    words.retain(|w| !w.starts_with("--"));
    let dest = words.pop()?;
    if words.is_empty()
        || words
            .iter()
            .any(|w| w.contains("://") || w.starts_with("<<"))
    {
        return None;
    }
    let into_dir = dest.ends_with('/') || words.len() > 1;
    let dest = absolute(&dest, workdir);
    Some(
        words
            .into_iter()
            .map(|src| {
                let src = src.strip_prefix("./").unwrap_or(&src).to_string();
                let dir_src = src.ends_with('/') || src == "." || src.is_empty();
                Copied {
                    src: if src.is_empty() { ".".into() } else { src },
                    dest: dest.clone(),
                    into_dir: into_dir || dir_src,
                }
            })
            .collect(),
    )
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
        copies: Vec::new(),
        workdir: "/".into(),
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
                        workdir: "/".into(),
                        copies: Vec::new(),
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
            "WORKDIR" => {
                if let Some(stage) = stages.last_mut() {
                    let dir = ins.args.trim().trim_matches(['"', '\'']);
                    if !dir.is_empty() {
                        stage.workdir = absolute(dir, &stage.workdir);
                    }
                }
            }
            "COPY" | "ADD" => {
                if let Some(stage) = stages.last_mut() {
                    if let Some(c) = copy_args(&ins.args, &stage.workdir) {
                        if stage.copies.len() + c.len() <= MAX_COPIES {
                            stage.copies.extend(c);
                        }
                    }
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
        df.copies = last.copies.clone();
        df.workdir = last.workdir.clone();
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

    #[test]
    fn copies_lead_back_to_context_files() {
        let text = "FROM python:3.12-slim AS base\nWORKDIR /srv\nCOPY requirements.txt ./\nFROM base\nCOPY --from=builder /wheels /wheels\nCOPY --chmod=755 scripts/launch.sh /usr/local/bin/run-app\nCOPY [\"bin/serve\", \"./start\"]\nCOPY deploy/ /opt/deploy/\nCOPY bin/*.sh /usr/local/sbin/\nADD ./entry.sh tools.sh /usr/bin/\nCOPY . .\nADD https://example.com/x.sh /x.sh\nCMD [\"run-app\"]\n";
        let df = parse(&SourceFile::new(0, "Dockerfile".into(), text.into()))
            .dockerfiles
            .remove(0);
        assert_eq!(df.workdir, "/srv");
        let src = |word: &str| -> Vec<String> {
            df.copies
                .iter()
                .filter_map(|c| c.source_of(word, &df.workdir))
                .collect()
        };
        assert_eq!(
            src("run-app"),
            ["scripts/launch.sh", "deploy/run-app", "run-app"]
        );
        assert_eq!(src("/usr/local/bin/run-app"), ["scripts/launch.sh"]);
        assert_eq!(src("./start"), ["bin/serve", "start"]);
        assert_eq!(src("/srv/start"), ["bin/serve", "start"]);
        assert_eq!(src("/opt/deploy/gunicorn.sh"), ["deploy/gunicorn.sh"]);
        assert_eq!(src("/usr/bin/entry.sh"), ["entry.sh"]);
        assert_eq!(src("/usr/local/sbin/boot.sh"), ["bin/boot.sh"]);
        assert_eq!(src("/srv/docker/entrypoint.sh"), ["docker/entrypoint.sh"]);
        assert!(src("/wheels/x").is_empty() && src("/x.sh").is_empty());
        assert!(src("$HOME/x").is_empty());
        // Hostile input does not panic.
        for bad in [
            "COPY",
            "COPY x",
            "COPY [\"a\"]",
            "COPY --from",
            "WORKDIR ../../..",
            "ADD <<EOF /x",
        ] {
            let _ = parse(&SourceFile::new(
                0,
                "Dockerfile".into(),
                format!("FROM a\n{bad}\nCMD x\n"),
            ));
        }
    }
}
