//! HDR004 `nosniff-disabled`: Talisman's `X-Content-Type-Options: nosniff`
//! switched off.

use report::Finding;

use super::talismans;
use crate::rules::{Rule, RuleContext};

pub const RULE: Rule = Rule {
    code: "HDR004",
    name: "nosniff-disabled",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Reports flask-talisman's `x_content_type_options` set to a false value, which
stops Talisman from sending `X-Content-Type-Options: nosniff`, and an
`X-Content-Type-Options` header the code sets to anything but `nosniff`.

## Why is this bad?
Without `nosniff`, browsers may guess a response's type from its content: an
uploaded "image" or a JSON body that contains markup can be run as HTML or
script, turning a harmless download into cross-site scripting.

## Example
```python
Talisman(app, x_content_type_options=False)
```

Use instead:
```python
Talisman(app)  # sends nosniff by default
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for ext in talismans(project) {
        let Some(o) = ext.opt("x_content_type_options") else {
            continue;
        };
        let (_, v) = project.resolver().deref(o.file, &o.value);
        if v.truthy() != Some(false) {
            continue; // on, or not known
        }
        out.push(
            ctx.finding(RULE.code, RULE.name, o.span, "Talisman's `X-Content-Type-Options: nosniff` is switched off: browsers may sniff uploads and API responses as HTML or script")
                .with_fix("Remove x_content_type_options=False."),
        );
    }
    for (w, s) in project.header_values("x-content-type-options") {
        if s.trim().eq_ignore_ascii_case("nosniff") {
            continue;
        }
        out.push(
            ctx.finding(RULE.code, RULE.name, w.span, format!("X-Content-Type-Options is `{s}`: only `nosniff` stops browsers from sniffing content types"))
                .with_fix("Send X-Content-Type-Options: nosniff."),
        );
    }
    out
}
