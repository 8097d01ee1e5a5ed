//! Deployment facts: which server runs the web process and with how many
//! workers, how many instances, what sits in front (nginx confs, proxy services in
//! compose, a Procfile platform's router), and the container user.

use super::Project;
use crate::{
    deploy::{
        compose::{HostIp, PortMapping, Service},
        env,
        gunicorn::{workers_of_arg, workers_of_value, WorkerCount},
        CommandFact, CommandOrigin, EnvSource, Server,
    },
    source::Span,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerSource {
    /// `gunicorn -w N` / `uvicorn --workers N` / `hypercorn -w N`
    CommandLine,
    /// `workers = ...` in gunicorn.conf.py
    GunicornConf,
    /// `WEB_CONCURRENCY`, gunicorn's default worker count
    WebConcurrency,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyKind {
    /// An nginx conf that proxies to the app.
    Nginx,
    /// A reverse-proxy service in compose (nginx, traefik, caddy...).
    ComposeService(String),
    /// Traefik, told by the `traefik.*` labels of the app's compose service
    /// (Traefik itself may run in another compose project).
    TraefikLabels(String),
    /// A Procfile: platforms that run Procfiles (Heroku and alikes) route every
    /// request through their TLS-terminating router, which sets X-Forwarded-*.
    PlatformRouter,
}

/// Evidence that requests reach the app through a reverse proxy.
#[derive(Debug, Clone)]
pub struct ProxyEvidence {
    pub kind: ProxyKind,
    pub span: Span,
    /// Terminates TLS (None: unknown).
    pub tls: Option<bool>,
    pub forwards_proto: Option<bool>,
    pub forwards_for: Option<bool>,
    /// The proxy runs on the app's host (loopback): servers trust it by default.
    pub same_host: Option<bool>,
    /// Rate limits requests itself (`limit_req`).
    pub rate_limits: bool,
}

impl ProxyEvidence {
    pub fn describe(&self) -> String {
        match &self.kind {
            ProxyKind::Nginx => "nginx".into(),
            ProxyKind::ComposeService(s) => format!("the `{s}` proxy service"),
            ProxyKind::TraefikLabels(s) => {
                format!("Traefik (the `traefik.*` labels of compose service `{s}`)")
            }
            ProxyKind::PlatformRouter => "the platform router (Procfile)".into(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Deployment {
    /// Indexes into `deploy.commands` of processes that serve the web app.
    pub web_commands: Vec<usize>,
    /// gunicorn runs the app (a command or a gunicorn.conf.py says so).
    pub gunicorn: bool,
    /// The largest known worker count of any server setup.
    pub workers: Option<(WorkerCount, Span, WorkerSource)>,
    /// Several instances (`deploy.replicas`, `scale`).
    pub instances: Option<(u32, Span)>,
    pub proxies: Vec<ProxyEvidence>,
    /// The final Dockerfile stage's USER.
    pub container_user: Option<(String, Span)>,
}

impl Deployment {
    pub fn behind_proxy(&self) -> bool {
        !self.proxies.is_empty()
    }

    /// How many proxy hops are known to sit in front (each kind of evidence is
    /// taken as the same single layer: nginx in compose is one hop).
    pub fn proxy_hops(&self) -> Option<u32> {
        (!self.proxies.is_empty()).then_some(1)
    }

    /// Several processes serve requests (workers or instances).
    pub fn processes(&self) -> Option<(u32, Span, String)> {
        let w = self
            .workers
            .as_ref()
            .filter(|(w, _, _)| w.min > 1)
            .map(|(w, s, _)| (w.min, *s, w.how.clone()));
        let i = self
            .instances
            .filter(|(n, _)| *n > 1)
            .map(|(n, s)| (n, s, format!("{n} instances")));
        match (w, i) {
            (Some(w), Some(i)) => Some(if w.0 >= i.0 { w } else { i }),
            (w, i) => w.or(i),
        }
    }
}

/// How clients reach a container port of a compose service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure<'a> {
    /// Not published: only containers on the service's networks (a proxy
    /// service among them) connect.
    ComposeNetwork,
    /// Published on loopback addresses of the host only.
    Loopback(&'a PortMapping),
    /// Published on a network address of the host (or one the audit cannot
    /// read); None when the container shares another network namespace
    /// (`network_mode: host`) or its settings are not all in sight.
    Host(Option<&'a PortMapping>),
}

/// The compose service whose `command:` / `entrypoint:` starts a process
/// (itself, or through the scripts it runs).
pub fn compose_service(cmd: &CommandFact) -> Option<&str> {
    match cmd.origin.root() {
        CommandOrigin::Compose { service } => Some(service),
        _ => None,
    }
}

/// How clients reach container port `port` (any port when unknown) of the
/// compose service `service`. Every compose file that defines a service of
/// that name counts (override files add ports): any publication on a
/// network address makes it reachable from the network. None when no
/// compose file defines the service.
pub fn exposure<'a>(
    deploy: &'a crate::deploy::DeployFacts,
    service: &str,
    port: Option<u16>,
) -> Option<Exposure<'a>> {
    let services: Vec<&Service> = deploy
        .services
        .iter()
        .filter(|s| s.name == service)
        .collect();
    if services.is_empty() {
        return None;
    }
    if services.iter().any(|s| {
        s.extends
            || s.network_mode
                .as_deref()
                .is_some_and(|m| !matches!(m, "bridge" | "default"))
    }) {
        return Some(Exposure::Host(None));
    }
    let published: Vec<&PortMapping> = services
        .iter()
        .flat_map(|s| s.ports.iter())
        .filter(|m| m.publishes_tcp(port))
        .collect();
    if let Some(m) = published
        .iter()
        .find(|m| !matches!(m.host_ip, HostIp::Loopback(_)))
    {
        return Some(Exposure::Host(Some(m)));
    }
    Some(match published.first() {
        Some(m) => Exposure::Loopback(m),
        None => Exposure::ComposeNetwork,
    })
}

/// The worker count a command-line value gives the command's process: a
/// variable (`$WORKERS`, `${WORKERS:-4}`) takes the value the deployment sets
/// for that process (its own prefix or export, its compose service's
/// environment, the image's `ENV`...), else its default. A variable set to
/// something that is not a count is unknown.
fn command_workers(
    deploy: &crate::deploy::DeployFacts,
    cmd: &CommandFact,
    arg: &str,
) -> Option<(WorkerCount, Span)> {
    if let Some(name) = env::sole_variable(arg) {
        if let Some((value, by)) = env::value_for(deploy, name, Some(cmd)) {
            let w = workers_of_arg(&value)?;
            let (span, place) = match by {
                env::SetBy::Command => (cmd.span, "the start command".to_string()),
                env::SetBy::Fact(e) => (e.span, describe_source(&e.source)),
            };
            let how = format!("{name}={} in {place}", value.trim());
            return Some((WorkerCount { how, ..w }, span));
        }
    }
    workers_of_arg(arg).map(|w| (w, cmd.span))
}

fn describe_source(source: &EnvSource) -> String {
    match source {
        EnvSource::DotEnv { .. } => "a .env file".into(),
        EnvSource::Dockerfile => "the Dockerfile".into(),
        EnvSource::Compose { service } => format!("compose service `{service}`"),
        EnvSource::Command => "the start command".into(),
    }
}

/// Whether a Dockerfile, compose file or Procfile is named for development,
/// tests or as an example (`docker-compose.dev.yml`, `Dockerfile.local`,
/// `compose.test.yaml`, `Procfile.dev`): what it runs does not reach
/// production. The plain names, `docker-compose.override.yml` (which `docker
/// compose up` applies by default) and production names still count.
pub fn development_file(project: &Project, file: crate::source::FileId) -> bool {
    let Some(f) = project.source(file) else {
        return false;
    };
    let name = f.rel.rsplit(['/', '\\']).next().unwrap_or(&f.rel);
    !crate::deploy::EnvRole::of(name).may_be_production()
}

/// Whether a command comes from a deploy file named for development (see
/// [`development_file`]): its own file, or for a script, the file of the
/// command that runs it.
pub fn development_command(project: &Project, cmd: &CommandFact) -> bool {
    fn root_file(origin: &CommandOrigin, file: crate::source::FileId) -> crate::source::FileId {
        match origin {
            CommandOrigin::Script {
                caller: Some(c), ..
            } => root_file(&c.origin, c.file),
            _ => file,
        }
    }
    match cmd.origin.root() {
        CommandOrigin::DockerCmd
        | CommandOrigin::DockerEntrypoint
        | CommandOrigin::Compose { .. }
        | CommandOrigin::Procfile { .. } => {
            development_file(project, root_file(&cmd.origin, cmd.span.file))
        }
        _ => false,
    }
}

pub fn build(project: &mut Project) {
    let d = &project.deploy;
    let mut dep = Deployment::default();
    // Dockerfiles, compose files, Procfiles and gunicorn settings files named
    // for development or tests say nothing about production: neither their
    // worker counts nor the proxies they run.
    let dev_file = |file| development_file(project, file);
    let consider = |w: WorkerCount, span: Span, src: WorkerSource, dep: &mut Deployment| {
        if dep
            .workers
            .as_ref()
            .is_none_or(|(cur, _, _)| w.min > cur.min)
        {
            dep.workers = Some((w, span, src));
        }
    };
    for (i, cmd) in d.commands.iter().enumerate() {
        if !cmd.origin.is_web() || development_command(project, cmd) {
            continue;
        }
        match &cmd.server {
            Some(Server::Gunicorn(g)) => {
                dep.web_commands.push(i);
                dep.gunicorn = true;
                if let Some((w, span)) = g
                    .workers
                    .as_deref()
                    .and_then(|a| command_workers(d, cmd, a))
                {
                    consider(w, span, WorkerSource::CommandLine, &mut dep);
                }
            }
            Some(Server::Uvicorn(u)) => {
                dep.web_commands.push(i);
                if let Some((w, span)) = u
                    .workers
                    .as_deref()
                    .and_then(|a| command_workers(d, cmd, a))
                {
                    consider(w, span, WorkerSource::CommandLine, &mut dep);
                }
            }
            Some(Server::Hypercorn(h)) => {
                dep.web_commands.push(i);
                if let Some((w, span)) = h
                    .workers
                    .as_deref()
                    .and_then(|a| command_workers(d, cmd, a))
                {
                    consider(w, span, WorkerSource::CommandLine, &mut dep);
                }
            }
            Some(
                Server::FlaskRun { .. } | Server::PythonScript { .. } | Server::FastApiCli { .. },
            ) => dep.web_commands.push(i),
            _ => {}
        }
    }
    for conf in d.gunicorn.iter().filter(|c| !dev_file(c.file)) {
        dep.gunicorn = true;
        if let Some((v, span)) = &conf.workers {
            if let Some(w) = workers_of_value(v) {
                consider(w, *span, WorkerSource::GunicornConf, &mut dep);
            }
        }
    }
    if dep.gunicorn {
        for e in d
            .env
            .iter()
            .filter(|e| e.name == "WEB_CONCURRENCY" && e.source.may_be_production())
            .filter(|e| {
                !(matches!(e.source, EnvSource::Dockerfile | EnvSource::Compose { .. })
                    && dev_file(e.span.file))
            })
        {
            if let Some(w) = workers_of_arg(&e.value) {
                consider(w, e.span, WorkerSource::WebConcurrency, &mut dep);
            }
        }
    }
    for s in d.services.iter().filter(|s| !dev_file(s.file)) {
        if let Some((n, span)) = s.replicas {
            if !s.is_proxy && dep.instances.is_none_or(|(cur, _)| n > cur) {
                dep.instances = Some((n, span));
            }
        }
        if s.is_proxy {
            dep.proxies.push(ProxyEvidence {
                kind: ProxyKind::ComposeService(s.name.clone()),
                span: s.span,
                tls: None,
                forwards_proto: None,
                forwards_for: None,
                same_host: Some(false),
                rate_limits: false,
            });
        } else if let Some(span) = s.traefik_labels {
            dep.proxies.push(ProxyEvidence {
                kind: ProxyKind::TraefikLabels(s.name.clone()),
                span,
                tls: None,
                forwards_proto: None,
                forwards_for: None,
                same_host: Some(false),
                rate_limits: false,
            });
        }
    }
    // supervisord `numprocs = N` on a program that serves the app: N instances.
    for p in &d.supervisord {
        let Some((n, span)) = p.numprocs else {
            continue;
        };
        let serves = dep.web_commands.iter().any(|&i| {
            d.commands.get(i).is_some_and(|c| {
                c.span == p.span
                    && matches!(&c.origin, crate::deploy::CommandOrigin::Supervisord { program } if *program == p.name)
            })
        });
        if serves && dep.instances.is_none_or(|(cur, _)| n > cur) {
            dep.instances = Some((n, span));
        }
    }
    for n in &d.nginx {
        let Some((_, span)) = n.proxy_pass.first() else {
            continue;
        };
        dep.proxies.push(ProxyEvidence {
            kind: ProxyKind::Nginx,
            span: *span,
            tls: Some(n.tls.is_some()),
            forwards_proto: Some(n.forwards_proto.is_some()),
            forwards_for: Some(n.forwards_for.is_some()),
            same_host: Some(n.same_host()),
            rate_limits: n.limit_req.is_some(),
        });
    }
    if let Some(&file) = d.procfiles.iter().find(|&&f| !dev_file(f)) {
        let web = d.commands.iter().find(|c| matches!(&c.origin, crate::deploy::CommandOrigin::Procfile { process } if process == "web") && c.span.file == file);
        if let Some(web) = web {
            dep.proxies.push(ProxyEvidence {
                kind: ProxyKind::PlatformRouter,
                span: web.span,
                tls: Some(true),
                forwards_proto: Some(true),
                forwards_for: Some(true),
                same_host: Some(false),
                rate_limits: false,
            });
        }
    }
    dep.container_user = d
        .dockerfiles
        .iter()
        .rev()
        .filter(|df| !dev_file(df.file))
        .find_map(|df| df.user.clone());
    project.deployment = dep;
}
