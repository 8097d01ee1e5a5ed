//! HDR001 `hsts-missing`: no HSTS, HSTS switched off or too short in Talisman,
//! or a TLS proxy that keeps Talisman from ever sending it.

use checklist::Severity;
use report::Finding;

use super::{header_library, mentioned_header, nginx_header, talisman_covers, talismans};
use crate::rules::{Rule, RuleContext};

pub const RULE: Rule = Rule {
    code: "HDR001",
    name: "hsts-missing",
    doc: DOC,
    check,
};

/// One year: the minimum the preload list and most guides ask for.
const ONE_YEAR: i64 = 31_536_000;

const DOC: &str = r#"## What it does
Reports, for flask-talisman:
- `strict_transport_security=False` (high);
- `strict_transport_security_max_age` below one year, 31536000 seconds
  (high when 0, which tells browsers to forget the host; medium otherwise);
- `strict_transport_security_include_subdomains=False` (low);
- HSTS left on while the deployment's TLS proxy sends no `X-Forwarded-Proto`
  (medium): Talisman sends the header only on requests that look secure, so it
  never sends it.

It also reports an app (at its `Flask(...)` / `FastAPI(...)` line) when
nothing in the repository sets `Strict-Transport-Security`: no Talisman, no
code that writes (or names) the header, no header package (`secure`,
`secweb`), and no nginx `add_header Strict-Transport-Security`. A response hook that sets
headers whose names are not literals counts as setting it.

## Why is this bad?
Without HSTS, the first plain-HTTP request of a visit (a typed domain, an old
link) can be intercepted and the victim kept on HTTP ("SSL stripping"). A short
`max-age` lets the protection lapse between visits.

## Example
```python
Talisman(app, strict_transport_security=False)
```

Use instead:
```python
Talisman(app)  # one year, includeSubDomains
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let nginx_hsts = nginx_header(project, &["strict-transport-security"]);
    for ext in talismans(project) {
        if let Some(o) = ext.opt("strict_transport_security") {
            if o.value.truthy() == Some(false) {
                out.push(
                    ctx.finding(RULE.code, RULE.name, o.span, "Talisman's HSTS is switched off (`strict_transport_security=False`): browsers may reach the site over plain HTTP")
                        .with_fix("Remove strict_transport_security=False (Talisman sends one year with includeSubDomains by default)."),
                );
                continue;
            }
        }
        if ext.bool_opt("strict_transport_security") != Some(true) {
            continue;
        }
        if let Some(o) = ext.opt("strict_transport_security_max_age") {
            let (_, v) = project.resolver().deref(o.file, &o.value);
            if let Some(age) = v.as_int().filter(|a| *a < ONE_YEAR) {
                let severity = if age <= 0 {
                    Severity::High
                } else {
                    Severity::Medium
                };
                out.push(
                    ctx.finding(
                        RULE.code,
                        RULE.name,
                        o.span,
                        format!("HSTS max-age is {age} seconds, below one year ({ONE_YEAR})"),
                    )
                    .with_severity(severity)
                    .with_fix("Use strict_transport_security_max_age=31536000 or more."),
                );
            }
        }
        if let Some(o) = ext.opt("strict_transport_security_include_subdomains") {
            if o.value.truthy() == Some(false) {
                out.push(
                    ctx.finding(RULE.code, RULE.name, o.span, "HSTS without includeSubDomains: subdomains (and cookies scoped to the parent domain) stay reachable over HTTP")
                        .with_severity(Severity::Low)
                        .with_fix("Serve every subdomain over HTTPS and drop strict_transport_security_include_subdomains=False."),
                );
            }
        }
        if nginx_hsts.is_none() {
            if let Some(proxy) = project
                .deployment
                .proxies
                .iter()
                .find(|p| p.tls == Some(true) && p.forwards_proto == Some(false))
            {
                out.push(
                    ctx.finding(RULE.code, RULE.name, ext.init.unwrap_or(ext.span), format!("Talisman sends HSTS only on requests that look secure, but {} terminates TLS without X-Forwarded-Proto: no response carries the header", proxy.describe()))
                        .with_severity(Severity::Medium)
                        .with_fix("Send `proxy_set_header X-Forwarded-Proto $scheme;` from the proxy (with ProxyFix x_proto=1), or add the header at the proxy.")
                        .with_related(ctx.at(proxy.span), "the proxy that terminates TLS"),
                );
            }
        }
    }
    // Nothing sets the header at all.
    let elsewhere = project.header_writes.iter().any(|w| {
        w.name.as_deref() == Some("strict-transport-security") || (w.in_hook && w.name.is_none())
    }) || mentioned_header(project, &["strict-transport-security"]).is_some()
        || header_library(project).is_some()
        || nginx_hsts.is_some();
    if elsewhere {
        return out;
    }
    // A sub-app mounted into another is covered by (or reported with) its
    // parent; an app that serves nothing, or another binding of an app's
    // name, is not reported.
    for app in project.standalone_apps() {
        if talisman_covers(project, app) {
            continue;
        }
        out.push(
            ctx.finding(RULE.code, RULE.name, app.span, "nothing sets Strict-Transport-Security: no Talisman, no code or proxy config that adds the header")
                .with_fix("Add flask-talisman (Flask), or set `Strict-Transport-Security: max-age=31536000; includeSubDomains` on HTTPS responses in a response hook or at the proxy."),
        );
    }
    out
}
