//! Deployment files: .env, Dockerfile, Procfile, compose YAML, gunicorn.conf.py,
//! supervisord programs, shell scripts that start the server,
//! requirements, pyproject.toml, lock files and nginx confs, each read into plain facts that
//! keep their [`Span`]s. The project model combines them into deployment facts
//! (worker counts, proxies, container user, entrypoints).

pub mod compose;
pub mod dockerfile;
pub mod dotenv;
pub mod env;
pub mod gunicorn;
pub mod lockfile;
pub mod nginx;
pub mod pyproject;
pub mod requirements;
pub mod script;
pub mod server;
pub mod shell;
pub mod supervisord;

pub use server::Server;

use crate::source::{FileId, Span};

/// Where a command line was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOrigin {
    DockerCmd,
    DockerEntrypoint,
    Procfile {
        process: String,
    },
    Compose {
        service: String,
    },
    /// A supervisord `[program:NAME]` section's `command=`.
    Supervisord {
        program: String,
    },
    /// A command of a shell script that deployment runs (`boot.sh`,
    /// `docker-entrypoint.sh`); see [`script`] for which scripts count.
    Script {
        /// The script, relative to the report root.
        path: String,
        /// The deploy command that runs the script, when one names it (a script
        /// run by another script has that script's caller).
        caller: Option<Box<ScriptCaller>>,
    },
}

/// The deploy command that runs a shell script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCaller {
    pub origin: CommandOrigin,
    /// The file of the calling command (a Dockerfile, a compose file...).
    pub file: FileId,
}

impl CommandOrigin {
    pub fn describe(&self) -> String {
        match self {
            CommandOrigin::DockerCmd => "Dockerfile CMD".into(),
            CommandOrigin::DockerEntrypoint => "Dockerfile ENTRYPOINT".into(),
            CommandOrigin::Procfile { process } => format!("Procfile `{process}` process"),
            CommandOrigin::Compose { service } => format!("compose service `{service}` command"),
            CommandOrigin::Supervisord { program } => {
                format!("supervisord program `{program}` command")
            }
            CommandOrigin::Script { path, .. } => {
                let name = path.rsplit('/').next().unwrap_or(path);
                format!("shell script `{name}`")
            }
        }
    }

    /// The origin of the deploy command that starts this process: a script's
    /// caller when a deploy command runs the script, else the origin itself.
    pub fn root(&self) -> &CommandOrigin {
        match self {
            CommandOrigin::Script {
                caller: Some(c), ..
            } => c.origin.root(),
            other => other,
        }
    }

    /// Whether this is the web-serving process (`web:` in a Procfile; any
    /// Dockerfile, compose or supervisord command; a script's commands when
    /// its caller is one).
    pub fn is_web(&self) -> bool {
        match self.root() {
            CommandOrigin::Procfile { process } => process == "web",
            _ => true,
        }
    }
}

/// One simple command that starts a process.
#[derive(Debug, Clone)]
pub struct CommandFact {
    pub words: Vec<String>,
    pub server: Option<Server>,
    /// `NAME=value` prefixes of the command.
    pub env: Vec<(String, String)>,
    pub span: Span,
    pub origin: CommandOrigin,
}

/// What an env file is for, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvRole {
    /// `.env.production`, `.env.prod`, `prod.env`.
    Production,
    /// `.env.development`, `.env.dev`, `.env.local`.
    Development,
    /// `.env.test`, `.env.testing`, `.env.ci`.
    Test,
    /// `.env.example`, `.env.sample`, `.env.template`, `.env.dist`.
    Example,
    /// Plain `.env`: used wherever the app runs.
    Unspecified,
}

impl EnvRole {
    pub fn of(file_name: &str) -> EnvRole {
        let lower = file_name.to_ascii_lowercase();
        let has = |words: &[&str]| {
            words
                .iter()
                .any(|w| lower.split(['.', '-', '_']).any(|part| part == *w))
        };
        if has(&["example", "sample", "template", "dist", "defaults", "tpl"]) {
            EnvRole::Example
        } else if has(&["test", "testing", "ci"]) {
            EnvRole::Test
        } else if has(&["dev", "development", "local"]) {
            EnvRole::Development
        } else if has(&["prod", "production", "live"]) {
            EnvRole::Production
        } else {
            EnvRole::Unspecified
        }
    }

    /// Whether what the file sets may reach production.
    pub fn may_be_production(self) -> bool {
        matches!(self, EnvRole::Production | EnvRole::Unspecified)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    DotEnv {
        role: EnvRole,
        gitignored: bool,
    },
    Dockerfile,
    Compose {
        service: String,
    },
    /// A `NAME=value` prefix on a command.
    Command,
}

impl EnvSource {
    /// Whether what this source sets may reach production. A `.env` that
    /// .gitignore hides is a developer's local file: it does not ship with the
    /// repository.
    pub fn may_be_production(&self) -> bool {
        match self {
            EnvSource::DotEnv { role, gitignored } => role.may_be_production() && !gitignored,
            _ => true,
        }
    }
}

/// An environment variable set by a deploy file.
#[derive(Debug, Clone)]
pub struct EnvFact {
    pub name: String,
    pub value: String,
    pub span: Span,
    pub source: EnvSource,
}

/// Everything read from the deploy files of a run.
#[derive(Debug, Clone, Default)]
pub struct DeployFacts {
    pub env: Vec<EnvFact>,
    pub commands: Vec<CommandFact>,
    pub dockerfiles: Vec<dockerfile::Dockerfile>,
    pub services: Vec<compose::Service>,
    pub nginx: Vec<nginx::NginxConf>,
    pub gunicorn: Vec<gunicorn::GunicornConf>,
    pub requirements: Vec<requirements::Requirement>,
    pub pyprojects: Vec<requirements::PyProject>,
    /// `-r` / `-c` lines of requirements files.
    pub requirement_refs: Vec<requirements::RequirementRef>,
    pub lockfiles: Vec<FileId>,
    /// Every package version the lock files pin.
    pub locked: Vec<lockfile::LockedPackage>,
    pub procfiles: Vec<FileId>,
    /// supervisord `[program:NAME]` sections with a command.
    pub supervisord: Vec<supervisord::Program>,
    /// Every .env file: (file, role, hidden by .gitignore).
    pub dotenvs: Vec<(FileId, EnvRole, bool)>,
    /// Shell scripts read, before [`script::adopt`] moves the commands of those
    /// that deployment runs into `commands`.
    pub scripts: Vec<script::Script>,
}

impl DeployFacts {
    pub fn extend(&mut self, other: DeployFacts) {
        self.env.extend(other.env);
        self.commands.extend(other.commands);
        self.dockerfiles.extend(other.dockerfiles);
        self.services.extend(other.services);
        self.nginx.extend(other.nginx);
        self.gunicorn.extend(other.gunicorn);
        self.requirements.extend(other.requirements);
        self.pyprojects.extend(other.pyprojects);
        self.requirement_refs.extend(other.requirement_refs);
        self.lockfiles.extend(other.lockfiles);
        self.locked.extend(other.locked);
        self.procfiles.extend(other.procfiles);
        self.supervisord.extend(other.supervisord);
        self.dotenvs.extend(other.dotenvs);
        self.scripts.extend(other.scripts);
    }
}

/// Builds the command facts of one command line (which may hold several simple
/// commands joined by `&&` or `;`).
pub fn commands_of(line: &str, span: Span, origin: CommandOrigin) -> Vec<CommandFact> {
    shell::split_commands(line)
        .into_iter()
        .map(|words| command_of_words(words, span, origin.clone()))
        .collect()
}

pub fn command_of_words(words: Vec<String>, span: Span, origin: CommandOrigin) -> CommandFact {
    let mut env = Vec::new();
    let server = server::server(&words, &mut env);
    CommandFact {
        words,
        server,
        env,
        span,
        origin,
    }
}

/// A line's span in a file (for line-based formats).
pub fn line_span(file: FileId, lines: &crate::source::LineIndex, text: &str, line: u32) -> Span {
    match lines.line_range(text, line) {
        Some(r) => Span::new(file, r),
        None => Span {
            file,
            start: 0,
            end: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_roles_from_names() {
        assert_eq!(EnvRole::of(".env"), EnvRole::Unspecified);
        assert_eq!(EnvRole::of(".env.production"), EnvRole::Production);
        assert_eq!(EnvRole::of(".env.example"), EnvRole::Example);
        assert_eq!(EnvRole::of(".env.local"), EnvRole::Development);
        assert_eq!(EnvRole::of("test.env"), EnvRole::Test);
        assert_eq!(EnvRole::of(".env.prod.example"), EnvRole::Example);
    }
}
