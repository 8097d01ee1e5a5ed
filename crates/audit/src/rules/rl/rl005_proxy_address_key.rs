//! RL005 `rate-limit-keyed-by-proxy`: limits keyed by the proxy's address.

use report::Finding;

use crate::{
    model::{index::Target, AppKind, ExtKind, Project},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "RL005",
    name: "rate-limit-keyed-by-proxy",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds a `Limiter` keyed by `get_remote_address` (flask-limiter or slowapi)
when the deployment puts a reverse proxy in front (nginx conf, a proxy service
in compose, a Procfile platform) and the app does not restore the client
address: no `ProxyFix` with `x_for` on the Flask app; for FastAPI, uvicorn's
proxy headers turned off or not trusted from a proxy on another host.

## Why is this bad?
`get_remote_address` is `request.remote_addr`: behind a proxy that is the
proxy's address, so every client shares one bucket. One client can lock
everyone out, and per-client limits never apply.

## Example
```python
limiter = Limiter(key_func=get_remote_address)  # behind nginx, no ProxyFix
```

Use instead:
```python
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # one proxy
limiter = Limiter(key_func=get_remote_address)
```
"#;

const REMOTE_ADDRESS: &[&str] = &[
    "flask_limiter.util.get_remote_address",
    "slowapi.util.get_remote_address",
    "flask_limiter.get_remote_address",
];

/// Whether the app sees the real client address (ProxyFix with x_for >= 1).
pub fn restores_client(project: &Project, app: Option<usize>) -> bool {
    project.extensions.iter().any(|e| {
        e.kind == ExtKind::ProxyFix
            && (e.app == app || e.app.is_none() || app.is_none())
            && e.opt("x_for")
                .and_then(|o| o.value.as_int())
                .is_none_or(|n| n >= 1)
    }) || project
        .extensions
        .iter()
        .any(|e| e.kind == ExtKind::ProxyHeaders)
}

/// Whether uvicorn trusts the proxy's forwarded headers.
pub fn uvicorn_trusts_proxy(project: &Project) -> bool {
    use crate::deploy::Server;
    let servers: Vec<_> = project
        .deployment
        .web_commands
        .iter()
        .filter_map(|&i| project.deploy.commands.get(i))
        .filter_map(|c| match &c.server {
            Some(Server::Uvicorn(u)) => Some(u.clone()),
            _ => None,
        })
        .collect();
    if servers.iter().any(|u| u.proxy_headers == Some(false)) {
        return false;
    }
    let allow_env = project
        .deploy
        .env
        .iter()
        .any(|e| e.name == "FORWARDED_ALLOW_IPS");
    let allow_cli = servers.iter().any(|u| u.forwarded_allow_ips.is_some());
    // Trusted from 127.0.0.1 by default: enough when the proxy is on the same host.
    allow_env
        || allow_cli
        || project
            .deployment
            .proxies
            .iter()
            .all(|p| p.same_host == Some(true))
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let Some(proxy) = project.deployment.proxies.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ext in project
        .extensions
        .iter()
        .filter(|e| matches!(e.kind, ExtKind::Limiter | ExtKind::SlowApi))
    {
        let keyed_by_address = match ext.opt("key_func") {
            Some(o) => {
                let r = project.resolver().resolve(o.file, &o.value);
                matches!(&r.target, Target::External(_))
                    && r.external_name()
                        .is_some_and(|n| REMOTE_ADDRESS.contains(&n.as_str()))
            }
            // flask-limiter before 3.0 defaulted to get_remote_address.
            None => ext.kind == ExtKind::Limiter && !ext.opaque,
        };
        if !keyed_by_address {
            continue;
        }
        let fastapi = ext.app.and_then(|a| project.apps.get(a)).map(|a| a.kind)
            == Some(AppKind::FastApi)
            || ext.kind == ExtKind::SlowApi;
        let restored = if fastapi {
            uvicorn_trusts_proxy(project)
        } else {
            restores_client(project, ext.app)
        };
        if restored {
            continue;
        }
        let span = ext.opt("key_func").map_or(ext.span, |o| {
            if o.span.start >= ext.span.start && o.span.end <= ext.span.end {
                ext.span
            } else {
                o.span
            }
        });
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                span,
                format!("rate limits are keyed by `get_remote_address`, which behind {} is the proxy's address: all clients share one bucket", proxy.describe()),
            )
            .with_fix(if fastapi {
                "Run uvicorn with --proxy-headers and --forwarded-allow-ips set to the proxy's address."
            } else {
                "Wrap the app in ProxyFix(app.wsgi_app, x_for=1) (one per proxy hop) so remote_addr is the client."
            })
            .with_related(ctx.at(proxy.span), format!("{} in front of the app", proxy.describe())),
        );
    }
    out
}
