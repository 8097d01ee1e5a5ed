//! docker-compose / compose YAML: services with their image, command, environment
//! and replica count. YAML is read event by event (yaml-rust2) into a small tree
//! that keeps each node's line; nesting depth and alias expansion are bounded so a
//! hostile file cannot exhaust the stack or memory.

use yaml_rust2::{
    parser::{Event, MarkedEventReceiver, Parser},
    scanner::Marker,
};

use super::{line_span, CommandOrigin, DeployFacts, EnvFact, EnvSource};
use crate::source::{FileId, SourceFile, Span};

const MAX_DEPTH: usize = 64;
const MAX_NODES: usize = 200_000;

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub image: Option<String>,
    /// The service's key line.
    pub span: Span,
    /// `deploy.replicas` or `scale`.
    pub replicas: Option<(u32, Span)>,
    /// An nginx / traefik / caddy / haproxy / envoy service: a reverse proxy.
    pub is_proxy: bool,
    /// The line of `labels:` (or `deploy.labels:`) holding `traefik.*` keys
    /// (and no `traefik.enable=false`): Traefik routes requests to it.
    pub traefik_labels: Option<Span>,
    /// `build:` — the Dockerfile it builds, relative to the compose file's
    /// directory and normalised (`Dockerfile`, `docker/web.Dockerfile`), with the
    /// line of `build:`.
    pub build: Option<(String, Span)>,
    /// `user:` as written (`root`, `0:0`, `1001`), with its line.
    pub user: Option<(String, Span)>,
    /// `env_file:` paths, relative to the compose file's directory and
    /// normalised (`.env`, `config/web.env`).
    pub env_files: Vec<String>,
    /// The files those are, once every file is read ([`link`]).
    pub env_file_ids: Vec<FileId>,
    /// The Dockerfile `build:` builds, once every file is read ([`link`]).
    pub builds: Option<FileId>,
    /// `ports:`: the container ports published on the host.
    pub ports: Vec<PortMapping>,
    /// `network_mode:` as written (`host`, `none`, `service:proxy`).
    pub network_mode: Option<String>,
    /// `extends:` another service (whose settings, ports among them, the
    /// audit does not merge in).
    pub extends: bool,
    /// The compose file.
    pub file: FileId,
}

/// Which host addresses a published port listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostIp {
    /// No address given: every address of the host.
    All,
    /// A loopback address (`127.0.0.1`, `[::1]`): local processes only.
    Loopback(String),
    /// Another address, as written.
    Addr(String),
    /// An interpolation without a default, or what the audit cannot read.
    Unknown,
}

/// An inclusive range of ports.
pub type PortRange = (u16, u16);

/// One `ports:` entry: short (`"127.0.0.1:8000:8000/tcp"`) or long
/// (`{target: 8000, published: 80, host_ip: ...}`) syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: HostIp,
    /// The host ports; None when not given (Docker picks one) or unreadable.
    pub published: Option<PortRange>,
    /// The container ports; None when the audit cannot read them.
    pub target: Option<PortRange>,
    /// `tcp` unless written otherwise.
    pub protocol: String,
    pub span: Span,
    /// The entry as written (short syntax), or rebuilt from the long syntax.
    pub text: String,
}

impl PortMapping {
    /// Whether the entry publishes a TCP port that may be `port` (any port
    /// when `port` is unknown).
    pub fn publishes_tcp(&self, port: Option<u16>) -> bool {
        self.protocol == "tcp"
            && match (self.target, port) {
                (Some((lo, hi)), Some(p)) => (lo..=hi).contains(&p),
                _ => true,
            }
    }
}

/// A port or a port range (`8000`, `8000-8010`); None for anything else.
fn port_range(s: &str) -> Option<PortRange> {
    let s = s.trim();
    let (lo, hi) = s.split_once('-').unwrap_or((s, s));
    let lo: u16 = lo.trim().parse().ok()?;
    let hi: u16 = hi.trim().parse().ok()?;
    (lo <= hi).then_some((lo, hi))
}

fn host_ip(ip: &str) -> HostIp {
    let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
    if ip.contains('$') {
        return HostIp::Unknown;
    }
    match ip {
        "" | "0.0.0.0" | "::" => HostIp::All,
        "::1" | "localhost" => HostIp::Loopback(ip.to_string()),
        _ if ip.starts_with("127.") => HostIp::Loopback(ip.to_string()),
        _ => HostIp::Addr(ip.to_string()),
    }
}

/// The short syntax: `[HOST_IP:][HOST_PORTS:]CONTAINER_PORTS[/PROTOCOL]`,
/// with `${VAR:-default}` read as its default.
fn short_port(text: &str, span: Span) -> PortMapping {
    let unknown = PortMapping {
        host_ip: HostIp::Unknown,
        published: None,
        target: None,
        protocol: "tcp".into(),
        span,
        text: text.to_string(),
    };
    let expanded = with_defaults(text).map_or_else(|| text.to_string(), |d| d.value);
    let (spec, protocol) = match expanded.rsplit_once('/') {
        Some((spec, proto)) => (spec, proto.trim().to_ascii_lowercase()),
        None => (expanded.as_str(), "tcp".to_string()),
    };
    // An IPv6 host in brackets; else the last two `:` parts are the ports.
    let (ip, ports) = match spec.strip_prefix('[') {
        Some(rest) => match rest.split_once("]:") {
            Some((ip, ports)) => (Some(ip), ports),
            None => return unknown,
        },
        None => match spec.matches(':').count() {
            0 | 1 => (None, spec),
            _ => {
                let Some((head, target)) = spec.rsplit_once(':') else {
                    return unknown;
                };
                let Some((ip, published)) = head.rsplit_once(':') else {
                    return unknown;
                };
                return PortMapping {
                    host_ip: host_ip(ip),
                    published: port_range(published),
                    target: port_range(target),
                    protocol,
                    ..unknown
                };
            }
        },
    };
    let (published, target) = match ports.split_once(':') {
        Some((p, t)) => (port_range(p), t),
        None => (None, ports),
    };
    PortMapping {
        host_ip: ip.map_or(HostIp::All, host_ip),
        published,
        target: port_range(target),
        protocol,
        ..unknown
    }
}

/// `ports:` entries in either syntax.
fn ports(node: &Node, span_at: &dyn Fn(usize) -> Span) -> Vec<PortMapping> {
    let Node::Seq(items, _) = node else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let span = span_at(item.line());
            match item {
                Node::Scalar(s, _) => short_port(s, span),
                Node::Map(..) => {
                    let field = |k: &str| {
                        item.get(k).and_then(Node::as_str).map(|v| {
                            with_defaults(v).map_or_else(|| v.trim().to_string(), |d| d.value)
                        })
                    };
                    let target = field("target");
                    let published = field("published");
                    let ip = field("host_ip");
                    PortMapping {
                        host_ip: ip.as_deref().map_or(HostIp::All, host_ip),
                        published: published.as_deref().and_then(port_range),
                        target: target.as_deref().and_then(port_range),
                        protocol: field("protocol")
                            .map_or_else(|| "tcp".into(), |p| p.to_ascii_lowercase()),
                        span,
                        text: format!(
                            "{}{}:{}",
                            ip.map(|i| format!("{i}:")).unwrap_or_default(),
                            published.unwrap_or_default(),
                            target.unwrap_or_default()
                        ),
                    }
                }
                Node::Seq(..) => PortMapping {
                    host_ip: HostIp::Unknown,
                    published: None,
                    target: None,
                    protocol: "tcp".into(),
                    span,
                    text: String::new(),
                },
            }
        })
        .collect()
}

/// Finds the .env files the services load and the Dockerfiles they build
/// (`path_of` gives a file id's path relative to the report root).
pub fn link(deploy: &mut DeployFacts, path_of: &dyn Fn(FileId) -> Option<String>) {
    let dotenvs: Vec<(FileId, String)> = deploy
        .dotenvs
        .iter()
        .filter_map(|(id, _, _)| Some((*id, path_of(*id)?)))
        .collect();
    let dockerfiles: Vec<(FileId, String)> = deploy
        .dockerfiles
        .iter()
        .filter_map(|d| Some((d.file, path_of(d.file)?)))
        .collect();
    for s in &mut deploy.services {
        let Some(rel) = path_of(s.file) else { continue };
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        let at = |p: &str| normalize(&format!("{dir}/{p}"));
        s.env_file_ids = s
            .env_files
            .iter()
            .filter_map(|p| {
                let want = at(p)?;
                dotenvs.iter().find(|(_, r)| *r == want).map(|(id, _)| *id)
            })
            .collect();
        s.builds = s.build.as_ref().and_then(|(p, _)| {
            let want = at(p)?;
            dockerfiles
                .iter()
                .find(|(_, r)| *r == want)
                .map(|(id, _)| *id)
        });
    }
}

/// A relative path with `.` and `..` folded; None when it leaves the root.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `env_file:` as a path, a list of paths, or a list of `{path: ...}` entries.
fn env_files(node: &Node) -> Vec<String> {
    let one = |n: &Node| -> Option<String> {
        let p = match n {
            Node::Scalar(s, _) => s.as_str(),
            Node::Map(..) => n.get("path")?.as_str()?,
            Node::Seq(..) => return None,
        };
        let p = p.trim();
        (!p.is_empty() && !p.contains('$') && !p.starts_with('/'))
            .then(|| normalize(p).unwrap_or_default())
    };
    let all: Vec<String> = match node {
        Node::Seq(items, _) => items.iter().filter_map(one).collect(),
        n => one(n).into_iter().collect(),
    };
    all.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The Dockerfile a `build:` value builds: `build: ./api` is `api/Dockerfile`,
/// `build: {context: ., dockerfile: docker/Dockerfile.web}` is
/// `docker/Dockerfile.web`. None for a remote context (a URL) or a path that
/// leaves the compose file's directory.
fn built_dockerfile(build: &Node) -> Option<String> {
    let (context, dockerfile) = match build {
        Node::Scalar(s, _) => (s.as_str(), "Dockerfile"),
        Node::Map(..) => (
            build.get("context").and_then(Node::as_str).unwrap_or("."),
            build
                .get("dockerfile")
                .and_then(Node::as_str)
                .unwrap_or("Dockerfile"),
        ),
        Node::Seq(..) => return None,
    };
    if context.contains("://") || context.starts_with("git@") {
        return None;
    }
    normalize(&format!("{context}/{dockerfile}"))
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Scalar(String, usize),
    Seq(Vec<Node>, usize),
    Map(Vec<(Node, Node)>, usize),
}

impl Node {
    fn line(&self) -> usize {
        match self {
            Node::Scalar(_, l) | Node::Seq(_, l) | Node::Map(_, l) => *l,
        }
    }
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.items()
            .into_iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }
    /// A mapping's items with `<<: *anchor` merges expanded (merged first, so the
    /// mapping's own keys win).
    pub(crate) fn items(&self) -> Vec<(&Node, &Node)> {
        let Node::Map(items, _) = self else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in items {
            if k.as_str() == Some("<<") {
                match v {
                    Node::Map(..) => out.extend(v.items()),
                    Node::Seq(maps, _) => maps.iter().for_each(|m| out.extend(m.items())),
                    Node::Scalar(..) => {}
                }
            }
        }
        out.extend(
            items
                .iter()
                .filter(|(k, _)| k.as_str() != Some("<<"))
                .map(|(k, v)| (k, v)),
        );
        out
    }
    fn size(&self) -> usize {
        match self {
            Node::Scalar(..) => 1,
            Node::Seq(items, _) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Node::Map(items, _) => {
                1 + items
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// A sequence's items (none for anything else).
    pub(crate) fn seq(&self) -> &[Node] {
        match self {
            Node::Seq(items, _) => items,
            _ => &[],
        }
    }
}

/// The document of a YAML (or JSON) text as a tree, bounded in depth and
/// size (aliases included); a YAML error is returned as its message.
pub(crate) fn parse_tree(text: &str) -> Result<Option<Node>, String> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| e.to_string())?;
    Ok(b.root)
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Node, Option<usize>)>,
    /// Events nested deeper than MAX_DEPTH are dropped; this counts how deep.
    skipped_depth: usize,
    anchors: Vec<(usize, Node)>,
    nodes: usize,
    root: Option<Node>,
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 && self.nodes < MAX_NODES {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            Some((Node::Seq(items, _), _)) => items.push(node),
            Some((Node::Map(items, _), pending)) => match pending.take() {
                Some(_) => {
                    if let Some((k, _)) = items.pop() {
                        items.push((k, node));
                    }
                }
                None => {
                    items.push((node, Node::Scalar(String::new(), 0)));
                    *pending = Some(items.len() - 1);
                }
            },
            Some((Node::Scalar(..), _)) => {}
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.skipped_depth > 0
                    || self.stack.len() >= MAX_DEPTH
                    || self.nodes >= MAX_NODES
                {
                    self.skipped_depth += 1;
                    return;
                }
                self.nodes += 1;
                let node = if matches!(ev, Event::SequenceStart(..)) {
                    Node::Seq(Vec::new(), line)
                } else {
                    Node::Map(Vec::new(), line)
                };
                self.stack.push((node, (anchor > 0).then_some(anchor)));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if self.skipped_depth > 0 {
                    self.skipped_depth -= 1;
                    if self.skipped_depth == 0 {
                        self.push_value(Node::Scalar(String::new(), line), 0);
                    }
                    return;
                }
                if let Some((node, anchor)) = self.stack.pop() {
                    self.push_value(node, anchor.unwrap_or(0));
                }
            }
            Event::Scalar(s, _, anchor, _) => {
                if self.skipped_depth > 0 {
                    return;
                }
                self.nodes += 1;
                self.push_value(Node::Scalar(s, line), anchor);
            }
            Event::Alias(id) => {
                if self.skipped_depth > 0 {
                    return;
                }
                let found = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n);
                let node = match found {
                    Some(n) if self.nodes + n.size() <= MAX_NODES => {
                        self.nodes += n.size();
                        n.clone()
                    }
                    _ => Node::Scalar(String::new(), line),
                };
                self.nodes += 1;
                self.push_value(node, 0);
            }
            _ => {}
        }
    }
}

/// Parses a compose file; a YAML error is returned as its message.
pub fn parse(file: &SourceFile) -> Result<DeployFacts, String> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(file.text());
    parser.load(&mut b, false).map_err(|e| e.to_string())?;
    let mut out = DeployFacts::default();
    let Some(root) = b.root else { return Ok(out) };
    let Some(services) = root.get("services") else {
        return Ok(out);
    };
    let services = services.items();
    let span_at = |line: usize| line_span(file.id, file.lines(), file.text(), line.max(1) as u32);
    for (key, svc) in services {
        let Some(name) = key.as_str() else { continue };
        let span = span_at(key.line());
        let image = svc.get("image").and_then(Node::as_str).map(str::to_string);
        let replicas = svc
            .get("deploy")
            .and_then(|d| d.get("replicas"))
            .or_else(|| svc.get("scale"))
            .and_then(|n| {
                n.as_str()
                    .and_then(|s| s.parse::<u32>().ok())
                    .map(|r| (r, span_at(n.line())))
            });
        let lower_name = name.to_ascii_lowercase();
        let proxy_words = ["nginx", "traefik", "caddy", "haproxy", "envoy"];
        let is_proxy = image.as_deref().is_some_and(|i| {
            proxy_words
                .iter()
                .any(|w| i.to_ascii_lowercase().contains(w))
        }) || proxy_words.iter().any(|w| lower_name.contains(w));
        // The `labels:` key (a service's own, or swarm's `deploy.labels`).
        fn labels_of(n: &Node) -> Option<(usize, &Node)> {
            n.items()
                .into_iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some("labels"))
                .map(|(k, v)| (k.line(), v))
        }
        let traefik_labels = [Some(svc), svc.get("deploy")]
            .into_iter()
            .flatten()
            .filter_map(labels_of)
            .find(|(_, l)| traefik_routed(l))
            .map(|(line, _)| span_at(line));
        let build = svc
            .get("build")
            .and_then(|b| Some((built_dockerfile(b)?, span_at(b.line()))));
        let user = svc
            .get("user")
            .and_then(|u| Some((u.as_str()?.trim().to_string(), span_at(u.line()))));
        out.services.push(Service {
            name: name.to_string(),
            image,
            span,
            replicas,
            is_proxy,
            traefik_labels,
            build,
            user,
            env_files: svc.get("env_file").map(env_files).unwrap_or_default(),
            env_file_ids: Vec::new(),
            builds: None,
            ports: svc
                .get("ports")
                .map(|p| ports(p, &span_at))
                .unwrap_or_default(),
            network_mode: svc
                .get("network_mode")
                .and_then(Node::as_str)
                .map(|m| m.trim().to_string()),
            extends: svc.get("extends").is_some(),
            file: file.id,
        });
        for field in ["command", "entrypoint"] {
            let Some(node) = svc.get(field) else { continue };
            let origin = CommandOrigin::Compose {
                service: name.to_string(),
            };
            let cmd_span = span_at(node.line());
            match node {
                Node::Scalar(s, _) => out.commands.extend(super::commands_of(s, cmd_span, origin)),
                Node::Seq(items, _) => {
                    let words: Vec<String> = items
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect();
                    if !words.is_empty() {
                        out.commands
                            .push(super::command_of_words(words, cmd_span, origin));
                    }
                }
                Node::Map(..) => {}
            }
        }
        if let Some(env) = svc.get("environment") {
            let source = EnvSource::Compose {
                service: name.to_string(),
            };
            match env {
                Node::Map(..) => {
                    for (k, v) in env.items() {
                        if let Some(k) = k.as_str() {
                            out.env.push(EnvFact {
                                name: k.to_string(),
                                value: v.as_str().unwrap_or_default().to_string(),
                                span: span_at(k_line(k, v)),
                                source: source.clone(),
                            });
                        }
                    }
                }
                Node::Seq(items, _) => {
                    for item in items {
                        if let Some((k, v)) = item.as_str().and_then(|s| s.split_once('=')) {
                            out.env.push(EnvFact {
                                name: k.trim().to_string(),
                                value: v.trim().to_string(),
                                span: span_at(item.line()),
                                source: source.clone(),
                            });
                        }
                    }
                }
                Node::Scalar(..) => {}
            }
        }
    }
    for cmd in &out.commands.clone() {
        for (k, v) in &cmd.env {
            out.env.push(EnvFact {
                name: k.clone(),
                value: v.clone(),
                span: cmd.span,
                source: EnvSource::Command,
            });
        }
    }
    Ok(out)
}

/// Whether a `labels:` value (a mapping, or a list of `key=value`) holds
/// Traefik's `traefik.*` keys without turning it off (`traefik.enable=false`).
fn traefik_routed(labels: &Node) -> bool {
    let pairs: Vec<(String, String)> = match labels {
        Node::Map(..) => labels
            .items()
            .into_iter()
            .filter_map(|(k, v)| {
                Some((
                    k.as_str()?.trim().to_string(),
                    v.as_str().unwrap_or_default().trim().to_string(),
                ))
            })
            .collect(),
        Node::Seq(items, _) => items
            .iter()
            .filter_map(|i| {
                let s = i.as_str()?;
                let (k, v) = s.split_once('=').unwrap_or((s, ""));
                Some((k.trim().to_string(), v.trim().to_string()))
            })
            .collect(),
        Node::Scalar(..) => return false,
    };
    let traefik = |k: &str| k.to_ascii_lowercase().starts_with("traefik.");
    let disabled = pairs.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("traefik.enable")
            && v.trim_matches(['"', '\'']).eq_ignore_ascii_case("false")
    });
    !disabled && pairs.iter().any(|(k, _)| traefik(k))
}

fn k_line(_k: &str, v: &Node) -> usize {
    v.line()
}

/// A value with the defaults of its interpolations filled in: what the
/// variable holds when the interpolated variables are not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaulted {
    pub value: String,
    /// The variables whose non-empty default was used, in order.
    pub vars: Vec<String>,
}

/// How deep defaults nested in defaults (`${A:-${B:-x}}`) are followed.
const MAX_DEFAULT_DEPTH: usize = 8;

/// The value as it is when the variables it interpolates are unset:
/// `${NAME:-default}` and `${NAME-default}` (compose, `.env` loaders and
/// Dockerfile `ENV` share this syntax) become their default. Interpolations
/// without one (`${NAME}`, `$NAME`), required ones (`${NAME:?error}`,
/// `${NAME?error}`), alternatives (`${NAME:+alt}`), `$$` (compose's escaped
/// `$`) and anything malformed are kept as written. None when no
/// interpolation has a non-empty default.
pub fn with_defaults(value: &str) -> Option<Defaulted> {
    let mut vars = Vec::new();
    let out = expand(value, &mut vars, 0);
    (!vars.is_empty()).then_some(Defaulted { value: out, vars })
}

fn expand(value: &str, vars: &mut Vec<String>, depth: usize) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(escaped) = after.strip_prefix("$$") {
            out.push_str("$$");
            rest = escaped;
            continue;
        }
        let Some(body_start) = after.strip_prefix("${") else {
            out.push('$');
            rest = &after[1..];
            continue;
        };
        // The matching `}`, counting nested `${`.
        let mut level = 0usize;
        let mut end = None;
        let bytes = body_start.as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            match bytes[j] {
                b'$' if bytes.get(j + 1) == Some(&b'{') => {
                    level += 1;
                    j += 1;
                }
                b'}' if level == 0 => {
                    end = Some(j);
                    break;
                }
                b'}' => level -= 1,
                _ => {}
            }
            j += 1;
        }
        let Some(end) = end else {
            // Unclosed: the rest is kept as written.
            out.push_str(after);
            return out;
        };
        let body = &body_start[..end];
        let whole = &after[..end + 3];
        rest = &body_start[end + 1..];
        let name_len = body
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let (name, op) = body.split_at(name_len);
        let default = op.strip_prefix(":-").or_else(|| op.strip_prefix('-'));
        match default {
            Some(d) if !name.is_empty() && depth < MAX_DEFAULT_DEPTH => {
                let mut inner = Vec::new();
                let d = expand(d, &mut inner, depth + 1);
                if !d.is_empty() {
                    vars.push(name.to_string());
                    vars.extend(inner);
                }
                out.push_str(&d);
            }
            _ => out.push_str(whole),
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::Server;

    #[test]
    fn reads_services() {
        let text = "x-env: &env\n  FLASK_DEBUG: \"1\"\nservices:\n  web:\n    build: .\n    command: gunicorn -w 4 wsgi:app\n    environment:\n      <<: *env\n      SECRET_KEY: dev\n    deploy:\n      replicas: 3\n  proxy:\n    image: nginx:1.27\n    environment:\n      - A=b\n";
        let f = SourceFile::new(0, "docker-compose.yml".into(), text.into());
        let d = parse(&f).unwrap();
        assert_eq!(d.services.len(), 2);
        assert_eq!(d.services[0].replicas.map(|r| r.0), Some(3));
        assert!(d.services[1].is_proxy && !d.services[0].is_proxy);
        assert!(matches!(d.commands[0].server, Some(Server::Gunicorn(_))));
        assert_eq!(
            f.line_of(ruff_text_size::TextSize::new(d.commands[0].span.start)),
            6
        );
        let names: Vec<&str> = d.env.iter().map(|e| e.name.as_str()).collect();
        assert!(names.contains(&"SECRET_KEY") && names.contains(&"A"));
        assert_eq!(
            d.services[0].build.as_ref().map(|b| b.0.as_str()),
            Some("Dockerfile")
        );
        assert!(d.services[1].build.is_none());
    }

    #[test]
    fn reads_build_and_user() {
        let text = "services:\n  a:\n    build: ./api/\n    user: \"0:0\"\n  b:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile.web\n    user: root\n  c:\n    build: ../../etc\n  d:\n    build: https://github.com/x/y.git\n  e:\n    build: {context: ./svc/.., dockerfile: Dockerfile}\n    user: 0\n";
        let d = parse(&SourceFile::new(0, "compose.yml".into(), text.into())).unwrap();
        let builds: Vec<Option<&str>> = d
            .services
            .iter()
            .map(|s| s.build.as_ref().map(|b| b.0.as_str()))
            .collect();
        assert_eq!(
            builds,
            [
                Some("api/Dockerfile"),
                Some("docker/Dockerfile.web"),
                None,
                None,
                Some("Dockerfile")
            ]
        );
        let users: Vec<Option<&str>> = d
            .services
            .iter()
            .map(|s| s.user.as_ref().map(|u| u.0.as_str()))
            .collect();
        assert_eq!(users, [Some("0:0"), Some("root"), None, None, Some("0")]);
    }

    #[test]
    fn reads_ports() {
        let text = "services:\n  web:\n    network_mode: host\n    ports:\n      - \"8000:8000\"\n      - 127.0.0.1:5000:5000\n      - \"9000\"\n      - 8080-8081:80-81/udp\n      - \"${PORT:-8001}:8000\"\n      - \"${HOST_IP}:80:8000\"\n      - \"[::1]:8443:443/TCP\"\n      - \"::1:8444:444\"\n      - 127.0.0.1::7000\n      - \"${PORT}\"\n      - target: 8000\n        published: 80\n        host_ip: 10.0.0.5\n      - target: \"3000-3001\"\n      - not a port\n      - [1]\n";
        let d = parse(&SourceFile::new(0, "compose.yml".into(), text.into())).unwrap();
        let s = &d.services[0];
        assert_eq!(s.network_mode.as_deref(), Some("host"));
        let got: Vec<(HostIp, Option<PortRange>, Option<PortRange>, &str)> = s
            .ports
            .iter()
            .map(|p| {
                (
                    p.host_ip.clone(),
                    p.published,
                    p.target,
                    p.protocol.as_str(),
                )
            })
            .collect();
        let lo = |s: &str| HostIp::Loopback(s.into());
        assert_eq!(
            got,
            [
                (HostIp::All, Some((8000, 8000)), Some((8000, 8000)), "tcp"),
                (
                    lo("127.0.0.1"),
                    Some((5000, 5000)),
                    Some((5000, 5000)),
                    "tcp"
                ),
                (HostIp::All, None, Some((9000, 9000)), "tcp"),
                (HostIp::All, Some((8080, 8081)), Some((80, 81)), "udp"),
                (HostIp::All, Some((8001, 8001)), Some((8000, 8000)), "tcp"),
                (HostIp::Unknown, Some((80, 80)), Some((8000, 8000)), "tcp"),
                (lo("::1"), Some((8443, 8443)), Some((443, 443)), "tcp"),
                (lo("::1"), Some((8444, 8444)), Some((444, 444)), "tcp"),
                (lo("127.0.0.1"), None, Some((7000, 7000)), "tcp"),
                (HostIp::All, None, None, "tcp"),
                (
                    HostIp::Addr("10.0.0.5".into()),
                    Some((80, 80)),
                    Some((8000, 8000)),
                    "tcp"
                ),
                (HostIp::All, None, Some((3000, 3001)), "tcp"),
                (HostIp::All, None, None, "tcp"),
                (HostIp::Unknown, None, None, "tcp"),
            ]
        );
        // What cannot be read may be any port.
        assert!(s.ports[9].publishes_tcp(Some(8000)));
        assert!(s.ports[11].publishes_tcp(Some(3001)) && !s.ports[11].publishes_tcp(Some(3002)));
        assert!(!s.ports[3].publishes_tcp(Some(80)));
        // Hostile entries do not panic.
        for bad in [
            "[", "[::1", "[::1]", ":", "::", "-", "1-", "99999:1", "a:b:c:d/", "/",
        ] {
            let _ = short_port(bad, s.span);
        }
    }

    #[test]
    fn interpolation_defaults() {
        let d = |v: &str| with_defaults(v).map(|d| (d.value, d.vars));
        let one = |v: &str, var: &str| Some((v.to_string(), vec![var.to_string()]));
        assert_eq!(
            d("${POSTGRES_PASSWORD:-postgres}"),
            one("postgres", "POSTGRES_PASSWORD")
        );
        assert_eq!(d("${DB_PASS-changeme}"), one("changeme", "DB_PASS"));
        assert_eq!(
            d("postgres://app:${DB_PASS:-secret}@db/app"),
            one("postgres://app:secret@db/app", "DB_PASS")
        );
        // Nested defaults are followed.
        assert_eq!(
            d("${A:-${B:-x}}"),
            Some(("x".into(), vec!["A".into(), "B".into()]))
        );
        assert_eq!(d("${A:-${B}}"), one("${B}", "A"));
        // Required variables, alternatives, no default, empty default: none.
        for none in [
            "${X:?set X}",
            "${X?err}",
            "${X:?}",
            "${X:+alt}",
            "${X}",
            "$X",
            "${X:-}",
            "${X-}",
            "${A:-${B:-}}",
            "plain",
            "",
            "$${X:-escaped}",
            "${:-nameless}",
        ] {
            assert_eq!(d(none), None, "{none}");
        }
        // Malformed or hostile input must not panic.
        for bad in [
            "${",
            "${X",
            "${X:-",
            "${X:-${Y:-z}",
            "}${",
            "$",
            "$$",
            "${${}}",
            "${X:-é}ü${",
            "${é:-x}",
        ] {
            let _ = with_defaults(bad);
        }
        assert_eq!(d("${X:-é}ü"), one("éü", "X"));
        let deep = format!("{}x{}", "${A:-".repeat(10_000), "}".repeat(10_000));
        let _ = with_defaults(&deep);
    }

    #[test]
    fn traefik_labels_route_a_service() {
        let text = "services:\n  api:\n    image: example/api\n    labels:\n      - traefik.enable=true\n      - \"traefik.http.routers.api.rule=Host(`api.example.com`)\"\n  worker:\n    image: example/api\n    labels:\n      traefik.enable: \"false\"\n      traefik.http.routers.worker.rule: Host(`x`)\n  swarm:\n    image: example/api\n    deploy:\n      labels:\n        traefik.http.services.swarm.loadbalancer.server.port: \"8000\"\n  plain:\n    image: example/api\n    labels:\n      com.example.team: web\n";
        let f = SourceFile::new(0, "docker-compose.yml".into(), text.into());
        let facts = parse(&f).unwrap();
        let routed: Vec<(&str, Option<u32>)> = facts
            .services
            .iter()
            .map(|s| {
                let line = s
                    .traefik_labels
                    .map(|l| f.line_of(ruff_text_size::TextSize::new(l.start)));
                (s.name.as_str(), line)
            })
            .collect();
        assert_eq!(
            routed,
            [
                ("api", Some(4)),
                ("worker", None),
                ("swarm", Some(15)),
                ("plain", None)
            ]
        );
    }

    #[test]
    fn hostile_yaml_is_bounded() {
        let deep = format!("services: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let _ = parse(&SourceFile::new(0, "compose.yml".into(), deep));
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..20 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            laughs.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let _ = parse(&SourceFile::new(0, "compose.yml".into(), laughs));
        assert!(parse(&SourceFile::new(0, "compose.yml".into(), "a: [\n".into())).is_err());
    }
}
