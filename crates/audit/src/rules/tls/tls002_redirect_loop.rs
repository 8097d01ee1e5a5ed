//! TLS002 `https-redirect-loop`: an HTTPS redirect behind a TLS proxy that does not say so.

use report::Finding;

use crate::{
    model::ExtKind,
    rules::{rl::rl005_proxy_address_key::uvicorn_trusts_proxy, Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "TLS002",
    name: "https-redirect-loop",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds an app-level HTTPS redirect behind a proxy that terminates TLS:
- Flask-Talisman with `force_https` on (its default) when the proxy does not
  send `X-Forwarded-Proto` (Talisman reads that header itself, or
  `request.is_secure`);
- FastAPI's `HTTPSRedirectMiddleware` when the proxy does not send
  `X-Forwarded-Proto`, or uvicorn does not trust it (`--no-proxy-headers`, or
  a proxy on another host without `--forwarded-allow-ips`).

Talisman skips the redirect while `app.debug` is on, which hides the loop
until debug mode is (rightly) turned off; the finding is reported regardless.

## Why is this bad?
The proxy talks plain HTTP to the app, so the app sees every request as
`http://` and redirects to `https://`; the browser follows, the proxy forwards
plain HTTP again, and the site never loads (`ERR_TOO_MANY_REDIRECTS`).

## Example
```nginx
location / { proxy_pass http://web:8000; }   # no X-Forwarded-Proto
```
```python
Talisman(app, force_https=True)
```

Use instead:
```nginx
proxy_set_header X-Forwarded-Proto $scheme;
```
or `force_https=False` and redirect at the proxy.
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let Some(proxy) = project
        .deployment
        .proxies
        .iter()
        .find(|p| p.tls == Some(true) && p.forwards_proto == Some(false))
    else {
        // Proxies that forward the scheme: only uvicorn's trust can break it.
        return https_redirect_untrusted(ctx);
    };
    let mut out = Vec::new();
    for ext in &project.extensions {
        let (span, what) = match ext.kind {
            ExtKind::Talisman => {
                if ext.bool_opt("force_https") != Some(true) {
                    continue;
                }
                let span = ext
                    .opt("force_https")
                    .map(|o| o.span)
                    .or(ext.init)
                    .unwrap_or(ext.span);
                (span, "Talisman's `force_https`")
            }
            ExtKind::HttpsRedirect => (ext.span, "HTTPSRedirectMiddleware"),
            _ => continue,
        };
        let masked = ext
            .app
            .and_then(|a| project.apps.get(a))
            .is_some_and(|a| a.config.flag("DEBUG") == Some(true))
            && ext.kind == ExtKind::Talisman;
        let mut message = format!(
            "{what} redirects every request to HTTPS, but {} terminates TLS and does not send X-Forwarded-Proto: the app sees plain HTTP and redirects forever",
            proxy.describe()
        );
        if masked {
            message.push_str(" (hidden while debug mode is on, which Talisman exempts)");
        }
        out.push(
            ctx.finding(RULE.code, RULE.name, span, message)
                .with_fix("Send `proxy_set_header X-Forwarded-Proto $scheme;` from the proxy (and use ProxyFix x_proto=1), or set force_https=False and redirect at the proxy.")
                .with_related(ctx.at(proxy.span), "the proxy that terminates TLS"),
        );
    }
    out.extend(https_redirect_untrusted(ctx));
    out
}

/// HTTPSRedirectMiddleware behind a TLS proxy that uvicorn does not trust.
fn https_redirect_untrusted(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let Some(proxy) = project
        .deployment
        .proxies
        .iter()
        .find(|p| p.tls == Some(true) && p.forwards_proto != Some(false))
    else {
        return Vec::new();
    };
    if uvicorn_trusts_proxy(project) {
        return Vec::new();
    }
    project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::HttpsRedirect)
        .map(|ext| {
            ctx.finding(
                RULE.code,
                RULE.name,
                ext.span,
                format!("HTTPSRedirectMiddleware behind {}: uvicorn does not trust its X-Forwarded-Proto, so every request looks like HTTP and is redirected forever", proxy.describe()),
            )
            .with_fix("Run uvicorn with --proxy-headers --forwarded-allow-ips=<proxy address> (or FORWARDED_ALLOW_IPS).")
            .with_related(ctx.at(proxy.span), "the proxy that terminates TLS")
        })
        .collect()
}
