//! PRX001 `proxy-headers-not-handled`: behind a proxy without ProxyFix, trusting
//! too many hops, or a server that trusts forwarded headers from any address.

use report::Finding;

use super::forwarded;
use crate::{
    deploy::Server,
    model::{AppKind, ExtKind},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "PRX001",
    name: "proxy-headers-not-handled",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
When the deployment puts a reverse proxy in front of the app (an nginx conf
that proxies to it, a proxy service in compose, `traefik.*` labels on a
compose service, a Procfile platform's router; Dockerfiles, compose files
and Procfiles named for development, tests or as examples do not count),
reports a Flask app with no `ProxyFix` (at its `Flask(...)` line), a
`ProxyFix` whose `x_for` trusts more hops than the proxies in front, and a
uvicorn started with `--no-proxy-headers`.

With or without a proxy in sight, it also reports a gunicorn or uvicorn told to
trust forwarded headers from any address — `--forwarded-allow-ips '*'`,
`forwarded_allow_ips = "*"` in gunicorn.conf.py (or an environment lookup
whose value or default is `*`), or `FORWARDED_ALLOW_IPS=*` in the Dockerfile,
compose, supervisord, a shell script that starts the server or an env file — while it listens on a network address:
`0.0.0.0`, `[::]` or another non-loopback address (`--bind`, `--host`,
`bind =`, also when built from constants, f-strings, `%` / `.format` and
environment lookups, or `PORT` set without a bind; a part that cannot be
resolved leaves the address unknown and unreported). The finding is at the setting, with
the address as related location. A server on `127.0.0.1`/`::1` or a unix
socket (only local processes, i.e. the proxy, connect), uvicorn with
`--no-proxy-headers`, and Procfile processes (the platform's router is the only
way in) are not reported. Nor is a server started by a compose service's
`command:` whose port (gunicorn's bind, uvicorn's `--port` or
`UVICORN_PORT`, 8000 by default) that service does not publish on the host
(no `ports:` entry for it, or only on `127.0.0.1`): only containers on its
compose networks, such as a proxy service, connect. A published port is
named in the finding.

## Why is this bad?
Without ProxyFix, `request.remote_addr` is the proxy, `request.scheme` is
`http` and `url_for(_external=True)` builds wrong links; code that reads
`X-Forwarded-For` by hand trusts whatever a client sends. With too large an
`x_for`, the app believes a client-supplied `X-Forwarded-For` entry.

With `*`, any client that reaches the server directly sends its own
`X-Forwarded-For` / `X-Forwarded-Proto`: uvicorn rewrites the client address
and scheme from them, gunicorn trusts the scheme headers, and rate limits,
logs and "HTTPS only" checks believe the spoofed values.

## Example
```python
app = Flask(__name__)  # behind nginx
```

Use instead:
```python
app = Flask(__name__)
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
```

```text
uvicorn main:app --host 0.0.0.0 --forwarded-allow-ips '*'
```

Use instead:
```text
uvicorn main:app --host 0.0.0.0 --forwarded-allow-ips 10.0.0.2
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let mut out = trust_anyone(ctx);
    out.extend(behind_proxy(ctx));
    out
}

/// Servers that trust forwarded headers from any address and listen where
/// clients other than the proxy reach them.
fn trust_anyone(ctx: &RuleContext) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut seen = Vec::new();
    for e in forwarded::exposed(ctx.project) {
        if seen.contains(&e.trust.span) {
            continue;
        }
        seen.push(e.trust.span);
        let mut finding = ctx.finding(
                RULE.code,
                RULE.name,
                e.trust.span,
                format!(
                    "{} trusts X-Forwarded-* headers from any address (`{}`) while it listens on `{}`: a client that connects directly sets its own X-Forwarded-For / X-Forwarded-Proto and the app believes the spoofed address and scheme",
                    e.server, e.trust.how, e.listen.value
                ),
            )
            .with_fix("Trust only the proxy: --forwarded-allow-ips 127.0.0.1 (or the proxy's network address, e.g. 10.0.0.2), FORWARDED_ALLOW_IPS likewise; or bind the server to 127.0.0.1 or a unix socket the proxy connects to.")
            .with_related(ctx.at(e.listen.span), format!("listens on {} ({})", e.listen.value, e.listen.how));
        if let Some(p) = &e.published {
            finding = finding.with_related(
                ctx.at(p.span),
                format!("compose publishes the port on the host (`{}`)", p.text),
            );
        }
        out.push(finding.with_evidence(ctx.snippet(e.trust.span)));
    }
    out
}

fn behind_proxy(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let dep = &project.deployment;
    let Some(proxy) = dep.proxies.first() else {
        return Vec::new();
    };
    let hops = dep.proxy_hops().unwrap_or(1);
    let mut out = Vec::new();
    for app in project.apps.iter().filter(|a| a.kind == AppKind::Flask) {
        let fixes: Vec<_> = project
            .extensions
            .iter()
            .filter(|e| {
                e.kind == ExtKind::ProxyFix
                    && (e.app == Some(app.id) || (e.app.is_none() && project.apps.len() == 1))
            })
            .collect();
        if fixes.is_empty() {
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    app.span,
                    format!("the app runs behind {} but does not apply ProxyFix: client address, scheme and host are the proxy's", proxy.describe()),
                )
                .with_fix("Add app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1), one hop per proxy in front.")
                .with_related(ctx.at(proxy.span), format!("{} in front of the app", proxy.describe())),
            );
            continue;
        }
        for fix in fixes {
            let Some(o) = fix.opt("x_for") else { continue };
            let Some(n) = o.value.as_int() else { continue };
            if n > i64::from(hops) {
                out.push(
                    ctx.finding(RULE.code, RULE.name, o.span, format!("ProxyFix trusts {n} X-Forwarded-For hops but {hops} proxy sits in front: clients can spoof their address"))
                        .with_fix(format!("Set x_for={hops}, the number of proxies in front of the app."))
                        .with_related(ctx.at(proxy.span), format!("{} in front of the app", proxy.describe())),
                );
            }
        }
    }
    for &i in &dep.web_commands {
        let Some(cmd) = project.deploy.commands.get(i) else {
            continue;
        };
        if let Some(Server::Uvicorn(u)) = &cmd.server {
            if u.proxy_headers == Some(false) {
                out.push(
                    ctx.finding(RULE.code, RULE.name, cmd.span, format!("uvicorn runs with --no-proxy-headers behind {}: client address and scheme are the proxy's", proxy.describe()))
                        .with_fix("Drop --no-proxy-headers and set --forwarded-allow-ips to the proxy's address.")
                        .with_related(ctx.at(proxy.span), format!("{} in front of the app", proxy.describe())),
                );
            }
        }
    }
    out
}
