//! Servers told to trust forwarded headers from any address (gunicorn and
//! uvicorn `forwarded_allow_ips` = `*`), and where they listen: a server that
//! only local processes can reach (loopback, a unix socket) gets its requests
//! from the proxy; one on a network address also from anyone who reaches it.

use crate::{
    deploy::compose::PortMapping,
    deploy::{
        env::substitute,
        gunicorn::{setting_strings, GunicornConf, UNRESOLVED},
        CommandFact, CommandOrigin, EnvFact, Server,
    },
    model::{compose_service, exposure, Exposure, Project},
    python::value::{env_lookup, Kind, Value},
    source::Span,
};

/// Who can connect to a listening address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Loopback or a unix socket: local processes only (the proxy).
    Local,
    /// A non-loopback address (`0.0.0.0`, `[::]`, a LAN address), as written.
    Network(String),
    /// A variable the audit cannot resolve, or an inherited socket.
    Unknown,
}

/// A setting and where it comes from.
#[derive(Debug, Clone)]
pub struct Setting {
    pub value: String,
    pub span: Span,
    /// How it is set (`--forwarded-allow-ips *`, `forwarded_allow_ips = "*"`).
    pub how: String,
}

/// A server that trusts forwarded headers from anyone and listens on a network
/// address.
#[derive(Debug, Clone)]
pub struct Exposed {
    pub server: &'static str,
    pub trust: Setting,
    /// The network address, where it is set, and how.
    pub listen: Setting,
    /// The compose `ports:` entry that publishes the server's port on the
    /// host, when it runs in a compose service.
    pub published: Option<PortMapping>,
}

/// Whether an allow list trusts every address (`*`, or `*` among others).
pub fn trusts_anyone(value: &str) -> bool {
    value
        .split(',')
        .any(|p| p.trim().trim_matches(['"', '\'']).trim() == "*")
}

/// Where a bind value (`0.0.0.0:8000`, `[::1]:8000`, `unix:/run/app.sock`,
/// `${HOST:-0.0.0.0}:$PORT`, a bare host) lets clients connect from.
/// `lookup` gives the value of an environment variable the deploy files set.
pub fn reach_of(addr: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Reach {
    let a = addr.trim().trim_matches(['"', '\'']);
    if a.starts_with("unix:") || a.starts_with('/') {
        return Reach::Local;
    }
    if a.starts_with("fd://") {
        return Reach::Unknown;
    }
    let a = substitute(a, lookup);
    if a.starts_with("unix:") || a.starts_with('/') {
        return Reach::Local;
    }
    let host = if let Some(r) = a.strip_prefix('[') {
        r.split(']').next().unwrap_or("")
    } else if a.matches(':').count() > 1 {
        // A bare IPv6 address (`::`).
        a.as_str()
    } else {
        a.split(':').next().unwrap_or("")
    };
    let host = host.trim();
    if host.contains('$') {
        return Reach::Unknown;
    }
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower == "::1" || lower.starts_with("127.") {
        return Reach::Local;
    }
    Reach::Network(a.clone())
}

/// The port a server listens on, from the address it was given:
/// `host:port` (gunicorn's bind, and uvicorn's `--host` with the port
/// [`uvicorn_listen`] adds); 8000, both servers' default, without one; None
/// where it is not known.
fn listen_port(server: &str, addr: &str) -> Option<u16> {
    if server != "gunicorn" && server != "uvicorn" {
        return None;
    }
    let a = addr.trim();
    let port = match a.strip_prefix('[') {
        Some(rest) => rest.split_once("]:").map(|(_, p)| p),
        None => match a.matches(':').count() {
            0 => return Some(8000),
            1 => a.split_once(':').map(|(_, p)| p),
            _ => None,
        },
    };
    port?.parse().ok()
}

fn env_var<'a>(project: &'a Project, name: &str, cmd: Option<&CommandFact>) -> Option<&'a EnvFact> {
    crate::deploy::env::env_var(&project.deploy, name, cmd)
}

fn lookup_for<'a>(
    project: &'a Project,
    cmd: Option<&'a CommandFact>,
) -> impl Fn(&str) -> Option<String> + 'a {
    crate::deploy::env::lookup_for(&project.deploy, cmd)
}

/// The strings of a gunicorn.conf.py value (`"*"`, `["10.0.0.2", "*"]`), through
/// an environment lookup: the variable's value when a deploy file sets it, else
/// the default. The span is where the effective value is set.
fn conf_strings(
    project: &Project,
    v: &Value,
    span: Span,
    cmd: Option<&CommandFact>,
) -> Option<(Vec<String>, Span, Option<String>)> {
    match &v.kind {
        Kind::Str(s) => Some((vec![s.to_string()], span, None)),
        _ if env_lookup(v).is_none() => {
            // Built from constants, formatting and lookups (`f"0.0.0.0:{PORT}"`,
            // `"%s:%s" % (HOST, PORT)`, a list of them): resolved as far as the
            // deploy files tell; what stays unresolved reads as unknown.
            let strs = setting_strings(v, &lookup_for(project, cmd));
            if strs.iter().all(|s| s == UNRESOLVED) {
                return None;
            }
            Some((strs, span, None))
        }
        _ => {
            let lookup = env_lookup(v)?;
            if let Some(var) = lookup.var.as_deref() {
                if let Some(e) = env_var(project, var, cmd) {
                    return Some((vec![e.value.clone()], e.span, Some(var.to_string())));
                }
            }
            let default = lookup.default?;
            let (strs, _, _) = conf_strings(project, default, span, cmd)?;
            Some((strs, span, lookup.var.map(|v| format!("{v} unset"))))
        }
    }
}

/// The first gunicorn.conf.py that sets a setting.
/// The first gunicorn settings file that sets a key, leaving out files named
/// for development or tests (`gunicorn.dev.conf.py`).
fn conf_setting<'a>(
    project: &Project,
    confs: &'a [GunicornConf],
    pick: fn(&GunicornConf) -> &Option<(Value, Span)>,
) -> Option<&'a (Value, Span)> {
    confs
        .iter()
        .filter(|c| !crate::model::development_file(project, c.file))
        .find_map(|c| pick(c).as_ref())
}

fn gunicorn_trust(
    project: &Project,
    cli: Option<&str>,
    cmd: Option<&CommandFact>,
) -> Option<Setting> {
    if let (Some(v), Some(cmd)) = (cli, cmd) {
        let value = substitute(v, &lookup_for(project, Some(cmd)));
        return Some(Setting {
            how: format!("--forwarded-allow-ips {v}"),
            value,
            span: cmd.span,
        });
    }
    if let Some((v, span)) = conf_setting(project, &project.deploy.gunicorn, |c| {
        &c.forwarded_allow_ips
    }) {
        let (strs, span, via) = conf_strings(project, v, *span, cmd)?;
        let value = strs.join(",");
        let how = match via {
            Some(note) => format!("forwarded_allow_ips = {value:?} ({note})"),
            None => format!("forwarded_allow_ips = {value:?}"),
        };
        return Some(Setting { value, span, how });
    }
    env_trust(project, cmd)
}

fn env_trust(project: &Project, cmd: Option<&CommandFact>) -> Option<Setting> {
    if let Some((_, v)) = cmd.and_then(|c| c.env.iter().find(|(k, _)| k == "FORWARDED_ALLOW_IPS")) {
        return cmd.map(|c| Setting {
            value: v.clone(),
            span: c.span,
            how: format!("FORWARDED_ALLOW_IPS={v}"),
        });
    }
    env_var(project, "FORWARDED_ALLOW_IPS", cmd).map(|e| Setting {
        value: e.value.clone(),
        span: e.span,
        how: format!("FORWARDED_ALLOW_IPS={}", e.value),
    })
}

/// The first network address a gunicorn setup listens on.
fn gunicorn_listen(
    project: &Project,
    binds: &[String],
    cmd: Option<&CommandFact>,
) -> Option<Setting> {
    let lookup = lookup_for(project, cmd);
    if !binds.is_empty() {
        let cmd = cmd?;
        return binds.iter().find_map(|b| match reach_of(b, &lookup) {
            Reach::Network(addr) => Some(Setting {
                value: addr,
                span: cmd.span,
                how: format!("--bind {b}"),
            }),
            _ => None,
        });
    }
    if let Some((v, span)) = conf_setting(project, &project.deploy.gunicorn, |c| &c.bind) {
        let (strs, span, _) = conf_strings(project, v, *span, cmd)?;
        return strs.iter().find_map(|b| match reach_of(b, &lookup) {
            Reach::Network(addr) => Some(Setting {
                value: addr,
                span,
                how: format!("bind = {b:?}"),
            }),
            _ => None,
        });
    }
    // With PORT set and no bind, gunicorn binds 0.0.0.0:$PORT.
    let port = env_var(project, "PORT", cmd)?;
    Some(Setting {
        value: format!("0.0.0.0:{}", port.value),
        span: port.span,
        how: "PORT set without a bind".into(),
    })
}

fn uvicorn_listen(
    project: &Project,
    u: &crate::deploy::server::UvicornArgs,
    cmd: &CommandFact,
) -> Option<Setting> {
    if u.uds.is_some() || u.fd.is_some() {
        return None;
    }
    let lookup = lookup_for(project, Some(cmd));
    let (host, span, mut how) = match &u.host {
        Some(h) => (h.clone(), cmd.span, format!("--host {h}")),
        None => {
            let e = env_var(project, "UVICORN_HOST", Some(cmd))?;
            (e.value.clone(), e.span, format!("UVICORN_HOST={}", e.value))
        }
    };
    match reach_of(&host, &lookup) {
        Reach::Network(addr) => {
            // `host:port`, as gunicorn's bind is written, when the port is known.
            let (port, port_how) = uvicorn_port(project, u, cmd);
            if let Some(p) = port_how {
                how = format!("{how} {p}");
            }
            let value = if addr.contains(':') && !addr.starts_with('[') {
                format!("[{addr}]:{port}")
            } else {
                format!("{addr}:{port}")
            };
            Some(Setting { value, span, how })
        }
        _ => None,
    }
}

/// The port uvicorn listens on: `--port` (through the variables the
/// deployment sets; as written when they are not known), else
/// `UVICORN_PORT`, else its default 8000; with how it is set (None for the
/// default).
fn uvicorn_port(
    project: &Project,
    u: &crate::deploy::server::UvicornArgs,
    cmd: &CommandFact,
) -> (String, Option<String>) {
    match &u.port {
        Some(p) => {
            let v = substitute(p, &lookup_for(project, Some(cmd)));
            (v.trim().to_string(), Some(format!("--port {p}")))
        }
        None => match env_var(project, "UVICORN_PORT", Some(cmd)) {
            Some(e) => (
                e.value.trim().to_string(),
                Some(format!("UVICORN_PORT={}", e.value)),
            ),
            None => ("8000".to_string(), None),
        },
    }
}

/// Every server set up to trust forwarded headers from any address while it
/// listens on a network address. A Procfile's processes (and the scripts they
/// run) are left out: the
/// platform's router is the only way in, and `*` is what those platforms
/// document.
pub fn exposed(project: &Project) -> Vec<Exposed> {
    let mut out = Vec::new();
    let mut gunicorn_commands = 0;
    for &i in &project.deployment.web_commands {
        let Some(cmd) = project.deploy.commands.get(i) else {
            continue;
        };
        if matches!(cmd.origin.root(), CommandOrigin::Procfile { .. }) {
            if matches!(cmd.server, Some(Server::Gunicorn(_))) {
                gunicorn_commands += 1;
            }
            continue;
        }
        let (server, trust, listen) = match &cmd.server {
            Some(Server::Gunicorn(g)) => {
                gunicorn_commands += 1;
                (
                    "gunicorn",
                    gunicorn_trust(project, g.forwarded_allow_ips.as_deref(), Some(cmd)),
                    gunicorn_listen(project, &g.bind, Some(cmd)),
                )
            }
            Some(Server::Uvicorn(u)) if u.proxy_headers != Some(false) => {
                let trust = match &u.forwarded_allow_ips {
                    Some(v) => Some(Setting {
                        value: substitute(v, &lookup_for(project, Some(cmd))),
                        span: cmd.span,
                        how: format!("--forwarded-allow-ips {v}"),
                    }),
                    None => env_trust(project, Some(cmd)),
                };
                ("uvicorn", trust, uvicorn_listen(project, u, cmd))
            }
            _ => continue,
        };
        if let (Some(trust), Some(listen)) = (trust, listen) {
            if !trusts_anyone(&trust.value) {
                continue;
            }
            // In a compose service, the container's address is reachable
            // from the network only through a published port.
            let exposure = compose_service(cmd).and_then(|service| {
                exposure(&project.deploy, service, listen_port(server, &listen.value))
            });
            let published = match exposure {
                Some(Exposure::ComposeNetwork | Exposure::Loopback(_)) => continue,
                Some(Exposure::Host(m)) => m.cloned(),
                None => None,
            };
            out.push(Exposed {
                server,
                trust,
                listen,
                published,
            });
        }
    }
    // gunicorn set up by gunicorn.conf.py alone (started by a script the audit
    // does not read).
    if gunicorn_commands == 0 && !project.deploy.gunicorn.is_empty() {
        if let (Some(trust), Some(listen)) = (
            gunicorn_trust(project, None, None),
            gunicorn_listen(project, &[], None),
        ) {
            if trusts_anyone(&trust.value) {
                out.push(Exposed {
                    server: "gunicorn",
                    trust,
                    listen,
                    published: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn classifies_bind_addresses() {
        let net = |a: &str| Reach::Network(a.to_string());
        assert_eq!(reach_of("0.0.0.0:8000", &none), net("0.0.0.0:8000"));
        assert_eq!(reach_of("[::]:8000", &none), net("[::]:8000"));
        assert_eq!(reach_of("::", &none), net("::"));
        assert_eq!(reach_of(":8000", &none), net(":8000"));
        assert_eq!(reach_of("10.0.3.7:8000", &none), net("10.0.3.7:8000"));
        assert_eq!(reach_of("127.0.0.1:8000", &none), Reach::Local);
        assert_eq!(reach_of("localhost", &none), Reach::Local);
        assert_eq!(reach_of("[::1]:8000", &none), Reach::Local);
        assert_eq!(reach_of("unix:/run/app.sock", &none), Reach::Local);
        assert_eq!(reach_of("fd://3", &none), Reach::Unknown);
        assert_eq!(reach_of("$HOST:$PORT", &none), Reach::Unknown);
        assert_eq!(reach_of("0.0.0.0:$PORT", &none), net("0.0.0.0:$PORT"));
        assert_eq!(
            reach_of("${BIND:-0.0.0.0:8000}", &none),
            net("0.0.0.0:8000")
        );
        let host = |n: &str| (n == "HOST").then(|| "127.0.0.1".to_string());
        assert_eq!(reach_of("${HOST:-0.0.0.0}:8000", &host), Reach::Local);
        assert_eq!(reach_of("${HOST", &none), Reach::Unknown);
    }

    #[test]
    fn star_in_allow_lists() {
        assert!(trusts_anyone("*"));
        assert!(trusts_anyone("'*'"));
        assert!(trusts_anyone("10.0.0.2, *"));
        assert!(!trusts_anyone("127.0.0.1"));
        assert!(!trusts_anyone("10.0.0.0/8,172.16.0.0/12"));
        assert!(!trusts_anyone(""));
    }

    #[test]
    fn listening_ports() {
        assert_eq!(listen_port("gunicorn", "0.0.0.0:8000"), Some(8000));
        assert_eq!(listen_port("gunicorn", "[::]:9000"), Some(9000));
        assert_eq!(listen_port("gunicorn", "0.0.0.0"), Some(8000));
        assert_eq!(listen_port("gunicorn", "0.0.0.0:$PORT"), None);
        assert_eq!(listen_port("gunicorn", "::"), None);
        assert_eq!(listen_port("uvicorn", "0.0.0.0:8080"), Some(8080));
        assert_eq!(listen_port("uvicorn", "[::]:8080"), Some(8080));
        assert_eq!(listen_port("hypercorn", "0.0.0.0:8080"), None);
    }
}
