//! The environment a deployed process sees: which of the variables the deploy
//! files set reach a command (its own `NAME=value` prefixes and exports, the
//! compose service's `environment:` and `env_file:`, the image's `ENV`, .env
//! files), and which wins when several do. Shell-style defaults in commands
//! (`${WORKERS:-4}`, written so by scripts too) give way to a value that
//! reaches the process.

use super::{compose::Service, CommandFact, CommandOrigin, DeployFacts, EnvFact, EnvSource};
use crate::source::FileId;

/// How strongly an environment source overrides others for a process: a
/// command's own environment over the compose service's `environment:` over
/// its `env_file:` over the image over .env files.
fn rank(e: &EnvFact, env_file_of: Option<&Service>) -> u8 {
    match &e.source {
        EnvSource::Command => 4,
        EnvSource::Compose { .. } => 3,
        EnvSource::DotEnv { .. } if env_file_of.is_some() => 2,
        EnvSource::Dockerfile => 1,
        EnvSource::DotEnv { .. } => 0,
    }
}

/// The compose service whose `env_file:` loads this variable's file, for a
/// process of that service (`service`).
fn env_file_service<'a>(
    deploy: &'a DeployFacts,
    e: &EnvFact,
    service: Option<&str>,
) -> Option<&'a Service> {
    if !matches!(e.source, EnvSource::DotEnv { .. }) {
        return None;
    }
    deploy.services.iter().find(|s| {
        service.is_none_or(|name| s.name == name) && s.env_file_ids.contains(&e.span.file)
    })
}

/// The compose service a command's process belongs to, when its origin says.
fn service_of(origin: &CommandOrigin) -> Option<&str> {
    match origin.root() {
        CommandOrigin::Compose { service } => Some(service),
        _ => None,
    }
}

/// Whether an environment variable a deploy file sets reaches a command's
/// process (`None`: a server set up by gunicorn.conf.py alone).
fn applies(deploy: &DeployFacts, e: &EnvFact, cmd: Option<&CommandFact>) -> bool {
    if !e.source.may_be_production() {
        return false;
    }
    let Some(cmd) = cmd else { return true };
    match &cmd.origin {
        // A script's process gets what its own commands set, and what reaches
        // the deploy command that runs it; a script no deploy file names runs
        // in the container like a supervisord program.
        CommandOrigin::Script { caller, .. } => {
            if matches!(e.source, EnvSource::Command) && e.span.file == cmd.span.file {
                return true;
            }
            match caller {
                Some(c) => reaches(deploy, e, &c.origin, c.file),
                None => reaches(
                    deploy,
                    e,
                    &CommandOrigin::Supervisord {
                        program: String::new(),
                    },
                    cmd.span.file,
                ),
            }
        }
        origin => reaches(deploy, e, origin, cmd.span.file),
    }
}

/// Whether a compose service's environment reaches the commands of the
/// Dockerfile `file`: when some service builds that Dockerfile, only those
/// services run its commands; otherwise any may (a service that runs the
/// image by name).
fn service_runs_dockerfile(deploy: &DeployFacts, service: &str, file: FileId) -> bool {
    let builders: Vec<&Service> = deploy
        .services
        .iter()
        .filter(|s| s.builds == Some(file))
        .collect();
    builders.is_empty() || builders.iter().any(|s| s.name == service)
}

/// Whether an environment variable reaches a command of this origin in `file`.
fn reaches(deploy: &DeployFacts, e: &EnvFact, origin: &CommandOrigin, file: FileId) -> bool {
    let docker = matches!(
        origin,
        CommandOrigin::DockerCmd | CommandOrigin::DockerEntrypoint
    );
    // A .env file a compose service loads with `env_file:` acts as that
    // service's environment.
    if matches!(e.source, EnvSource::DotEnv { .. }) {
        if let Some(s) = env_file_service(deploy, e, None) {
            let service = EnvFact {
                source: EnvSource::Compose {
                    service: s.name.clone(),
                },
                ..e.clone()
            };
            if reaches(deploy, &service, origin, file) {
                return true;
            }
        }
    }
    match (&e.source, origin) {
        (EnvSource::Command, _) => e.span.file == file,
        (EnvSource::DotEnv { .. }, _) => true,
        (EnvSource::Dockerfile, _) if docker => e.span.file == file,
        (EnvSource::Compose { service }, CommandOrigin::Compose { service: s }) => service == s,
        // The image's and the service's environment reach what the container
        // runs, supervisord's programs included.
        (
            EnvSource::Dockerfile,
            CommandOrigin::Compose { .. } | CommandOrigin::Supervisord { .. },
        )
        | (EnvSource::Compose { .. }, CommandOrigin::Supervisord { .. }) => true,
        (EnvSource::Compose { service }, _) => {
            docker && service_runs_dockerfile(deploy, service, file)
        }
        _ => false,
    }
}

/// The value of an environment variable for a process: the strongest
/// source's. Among equals, the last one read.
pub fn env_var<'a>(
    deploy: &'a DeployFacts,
    name: &str,
    cmd: Option<&CommandFact>,
) -> Option<&'a EnvFact> {
    let service = cmd.and_then(|c| service_of(&c.origin));
    deploy
        .env
        .iter()
        .filter(|e| e.name == name && applies(deploy, e, cmd))
        .max_by_key(|e| rank(e, env_file_service(deploy, e, service)))
}

/// Where a variable's value for a process comes from.
#[derive(Debug, Clone)]
pub enum SetBy<'a> {
    /// A `NAME=value` prefix or an export of the command itself.
    Command,
    Fact(&'a EnvFact),
}

/// The value a process sees for a variable: its own prefix or export, else
/// the strongest deploy file's.
pub fn value_for<'a>(
    deploy: &'a DeployFacts,
    name: &str,
    cmd: Option<&'a CommandFact>,
) -> Option<(String, SetBy<'a>)> {
    if let Some((_, v)) = cmd.and_then(|c| c.env.iter().find(|(k, _)| k == name)) {
        return Some((v.clone(), SetBy::Command));
    }
    env_var(deploy, name, cmd).map(|e| (e.value.clone(), SetBy::Fact(e)))
}

/// A lookup of the variables a process sees (for [`substitute`]).
pub fn lookup_for<'a>(
    deploy: &'a DeployFacts,
    cmd: Option<&'a CommandFact>,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| value_for(deploy, name, cmd).map(|(v, _)| v)
}

/// The variable a whole word refers to: `$NAME`, `${NAME}`, `${NAME:-d}`,
/// `${NAME-d}` (quotes around it ignored).
pub fn sole_variable(word: &str) -> Option<&str> {
    let w = word.trim().trim_matches(['"', '\'']);
    let body = match w.strip_prefix("${") {
        Some(rest) => rest.strip_suffix('}')?,
        None => w.strip_prefix('$')?,
    };
    let len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let (name, op) = body.split_at(len);
    let simple = op.is_empty() || op.starts_with(":-") || op.starts_with('-');
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) && simple).then_some(name)
}

/// Replaces `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME-default}` with the
/// variable's value, else the default; a variable with neither stays `$NAME`.
pub fn substitute(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, default, used) = if let Some(inner) = after.strip_prefix('{') {
            let Some(close) = inner.find('}') else {
                out.push_str(&rest[pos..]);
                return out;
            };
            let body = &inner[..close];
            let (name, default) = match body.split_once(":-").or_else(|| body.split_once('-')) {
                Some((n, d)) => (n, Some(d)),
                None => (body, None),
            };
            (name, default, close + 2)
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], None, len)
        };
        match lookup(name).or_else(|| default.map(str::to_string)) {
            Some(v) => out.push_str(&v),
            None => {
                out.push('$');
                out.push_str(name);
            }
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sole_variables() {
        assert_eq!(sole_variable("$WORKERS"), Some("WORKERS"));
        assert_eq!(sole_variable("\"${WORKERS:-4}\""), Some("WORKERS"));
        assert_eq!(sole_variable("${WORKERS-4}"), Some("WORKERS"));
        assert_eq!(sole_variable("${WORKERS}"), Some("WORKERS"));
        assert_eq!(sole_variable("4"), None);
        assert_eq!(sole_variable("$1"), None);
        assert_eq!(sole_variable("${X:+y}"), None);
        assert_eq!(sole_variable("${"), None);
        assert_eq!(sole_variable("$"), None);
    }
}
