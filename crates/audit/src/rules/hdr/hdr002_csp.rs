//! HDR002 `csp-missing-or-weak`: no Content-Security-Policy on HTML pages, or
//! one that lets injected scripts run.

use report::Finding;

use super::{
    csp::{self, PolicyValue, ScriptWeakness},
    talismans,
};
use crate::{
    rules::{responses::html_route, Rule, RuleContext},
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "HDR002",
    name: "csp-missing-or-weak",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports flask-talisman's `content_security_policy` switched off (`None`, `""`,
`{}`, `False`) in an app with a route that renders HTML (`render_template`,
`TemplateResponse`, markup strings), and policies — Talisman dicts or strings,
or a `Content-Security-Policy` header the code sets — whose script directive
(`script-src`, else `default-src`):
- holds `'unsafe-inline'` without a nonce or hash (a nonce from
  `content_security_policy_nonce_in` counts: browsers then ignore
  `'unsafe-inline'`);
- holds `*` or a scheme-only source (`https:`, `http:`, `data:`, `blob:`),
  unless `'strict-dynamic'` with a nonce or hash makes browsers ignore them;
- is missing altogether (neither `script-src` nor `default-src`) in
  Talisman's policy, in an app that renders HTML (a header the code sets on
  one response may be about framing only and is not judged for this).

Talisman's default policy, `default-src 'self'; object-src 'none'`, is sound:
only scripts from the site itself run, inline ones do not. Leaving the option
out is therefore not reported; switching it off is.

## Why is this bad?
CSP is the second line of defence against cross-site scripting: with a strict
policy, markup an attacker manages to inject (INJ002) cannot run scripts.
`'unsafe-inline'` allows exactly the inline scripts and event handlers that
injected markup uses, and `*` lets it load a script from any host.

## Example
```python
Talisman(app, content_security_policy={"script-src": ["'self'", "'unsafe-inline'"]})
```

Use instead:
```python
Talisman(
    app,
    content_security_policy={"default-src": "'self'", "object-src": "'none'"},
    content_security_policy_nonce_in=["script-src"],
)
```
"#;

fn describe(w: &ScriptWeakness) -> String {
    match w {
        ScriptWeakness::UnsafeInline => "the Content-Security-Policy allows `'unsafe-inline'` scripts with no nonce or hash: injected inline scripts run".into(),
        ScriptWeakness::Wildcard(s) => format!("the Content-Security-Policy allows scripts from `{s}`: an attacker can load a script from a host they control"),
        ScriptWeakness::Unrestricted => "the Content-Security-Policy has neither `script-src` nor `default-src`: it does not restrict scripts".into(),
    }
}

const FIX: &str = "Allow scripts from 'self' only and give inline scripts a nonce (content_security_policy_nonce_in=[\"script-src\"] and `nonce=\"{{ csp_nonce() }}\"`).";

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    let push_weaknesses =
        |out: &mut Vec<Finding>, policy: &csp::Policy, nonce_in: &[String], html: Option<Span>| {
            for (w, span) in csp::script_weaknesses(policy, nonce_in) {
                if w == ScriptWeakness::Unrestricted && html.is_none() {
                    continue;
                }
                let mut f = ctx
                    .finding(RULE.code, RULE.name, span, describe(&w))
                    .with_fix(FIX);
                if let Some(h) = html {
                    f = f.with_related(ctx.at(h), "this route renders HTML");
                }
                out.push(f);
            }
        };
    for ext in talismans(project) {
        let Some(o) = ext.opt("content_security_policy") else {
            continue; // Talisman's default policy is sound
        };
        let html = html_route(project, ext.app).map(|(_, span)| span);
        let nonce_in = ext
            .opt("content_security_policy_nonce_in")
            .and_then(|n| csp::string_list(project, n.file, &n.value))
            .unwrap_or_default();
        match csp::read(project, o.file, &o.value) {
            PolicyValue::Off => {
                let Some(h) = html else { continue };
                out.push(
                    ctx.finding(RULE.code, RULE.name, o.span, "Talisman's Content-Security-Policy is switched off although the app renders HTML: injected markup can run scripts")
                        .with_fix("Keep a policy: Talisman's default (`default-src 'self'`), or a dict with script-src 'self' and a nonce for inline scripts.")
                        .with_related(ctx.at(h), "this route renders HTML"),
                );
            }
            PolicyValue::Policy(p) => push_weaknesses(&mut out, &p, &nonce_in, html),
            PolicyValue::Unknown => {}
        }
    }
    for w in &project.header_writes {
        if w.name.as_deref() != Some("content-security-policy") {
            continue;
        }
        let Some(value) = w.value.as_ref() else {
            continue;
        };
        let (f, v) = project.resolver().deref(w.file, value);
        let Some(s) = v.as_str() else { continue };
        let policy = csp::parse_str(s, Span::new(f, v.range));
        // A header set for one response may be about framing only
        // (`frame-ancestors 'self'`): judge the script sources it lists.
        push_weaknesses(&mut out, &policy, &[], None);
    }
    out
}
