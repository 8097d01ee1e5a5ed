//! HDR003 `frame-options-disabled`: Talisman's clickjacking protection
//! switched off with no CSP `frame-ancestors` in its place.

use report::Finding;

use super::{
    csp::{self, PolicyValue},
    talismans,
};
use crate::{
    model::{Extension, Project},
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "HDR003",
    name: "frame-options-disabled",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports flask-talisman's `frame_options` switched off (`None`, `False`, `""`)
or set to `ALLOW-FROM`, and an `X-Frame-Options` header the code sets to
`ALLOW-FROM ...` or `ALLOWALL`, when no Content-Security-Policy
`frame-ancestors` directive takes its place (Talisman's policy or a
`Content-Security-Policy` header the code sets). Talisman's default,
`SAMEORIGIN`, is fine.

## Why is this bad?
A page that any site may frame can be overlaid with decoys so that users click
buttons they cannot see (clickjacking): change an e-mail address, confirm a
payment, grant access. Browsers ignore `ALLOW-FROM` (and the non-standard
`ALLOWALL`), so such a header protects nothing.

## Example
```python
Talisman(app, frame_options=None)
```

Use instead:
```python
Talisman(app, frame_options="DENY")
# or, to allow chosen embedders:
Talisman(app, content_security_policy={"default-src": "'self'",
                                       "frame-ancestors": "'self' https://partner.example"})
```
"#;

/// Whether a policy (Talisman's or a header the code sets) has `frame-ancestors`.
fn has_frame_ancestors(project: &Project, ext: Option<&Extension>) -> bool {
    if let Some(o) = ext.and_then(|e| e.opt("content_security_policy")) {
        match csp::read(project, o.file, &o.value) {
            PolicyValue::Policy(p) if p.get("frame-ancestors").is_some() || p.partial => {
                return true
            }
            PolicyValue::Unknown => return true,
            _ => {}
        }
    }
    project
        .header_writes
        .iter()
        .any(|w| match w.name.as_deref() {
            Some("content-security-policy") => w
                .value
                .as_ref()
                .map(|v| project.resolver().deref(w.file, v).1)
                .and_then(|v| v.as_str())
                .is_none_or(|s| s.to_ascii_lowercase().contains("frame-ancestors")),
            // A hook writing headers by names we cannot read may send a policy.
            None => w.in_hook,
            _ => false,
        })
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for ext in talismans(project) {
        let Some(o) = ext.opt("frame_options") else {
            continue; // SAMEORIGIN by default
        };
        let (_, v) = project.resolver().deref(o.file, &o.value);
        // flask_talisman's own constants.
        let constant = v.qualified().and_then(|q| match q.rsplit('.').next() {
            Some("ALLOW_FROM") if q.starts_with("flask_talisman") => Some("ALLOW-FROM"),
            _ => None,
        });
        let message = match (v.truthy(), v.as_str().or(constant)) {
            (Some(false), _) => "Talisman's X-Frame-Options is switched off and no CSP frame-ancestors replaces it: any site can frame the pages (clickjacking)",
            (_, Some(s)) if s.to_ascii_uppercase().starts_with("ALLOW") => "X-Frame-Options `ALLOW-FROM` is ignored by browsers and no CSP frame-ancestors replaces it: any site can frame the pages (clickjacking)",
            _ => continue,
        };
        if has_frame_ancestors(project, Some(ext)) {
            continue;
        }
        out.push(
            ctx.finding(RULE.code, RULE.name, o.span, message)
                .with_fix("Use frame_options=\"DENY\" (or \"SAMEORIGIN\"), or list allowed embedders in a CSP frame-ancestors directive."),
        );
    }
    for (w, s) in project.header_values("x-frame-options") {
        if !s.trim().to_ascii_uppercase().starts_with("ALLOW") || has_frame_ancestors(project, None)
        {
            continue;
        }
        out.push(
            ctx.finding(RULE.code, RULE.name, w.span, format!("X-Frame-Options `{s}` is ignored by browsers and no CSP frame-ancestors replaces it: any site can frame the pages (clickjacking)"))
                .with_fix("Send X-Frame-Options: DENY (or SAMEORIGIN), or list allowed embedders in a CSP frame-ancestors directive."),
        );
    }
    out
}
