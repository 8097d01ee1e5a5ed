//! RL004 `mutation-route-without-limit`: a POST/PUT/PATCH/DELETE route without a
//! limit of its own.

use std::collections::HashSet;

use report::Finding;

use super::route_limits::{auth_reason, proxy_limit, signs_out, HookLimits};
use crate::rules::{Rule, RuleContext};

pub const RULE: Rule = Rule {
    code: "RL004",
    name: "mutation-route-without-limit",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Lists routes that accept POST, PUT, PATCH or DELETE without a limit of their
own (at the view's `def` line): no `@limiter.limit(...)` /
`@limiter.shared_limit(...)`, no limit applied to the view or its blueprint by
call, no limiting `before_request` hook, no limiter of the project's own
(see RL001) on the view, no nginx `location` with
`limit_req` for the path; or marked `@limiter.exempt`.

Silent when the project has no flask-limiter, slowapi or quart-rate-limiter limiter and no fastapi-limiter dependency on any route: RL001 reports that once
for the app, and one finding per route would only repeat it.
Authentication routes are RL003's (a stricter control) and are not repeated
here. Signing out (`/logout`, a view named `logout` or `sign_out`) only ends the
caller's own session and is left out, limited or exempt.

## Why is this bad?
Mutations are where abuse costs: orders placed in bulk, spam, mass uploads,
expensive jobs. A global default sized for reads is far too generous for an
endpoint that sends mail or charges a card.

## Example
```python
@orders.post("/orders")
def create_order():
    ...
```

Use instead:
```python
@orders.post("/orders")
@limiter.limit("10 per minute")
def create_order():
    ...
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    if !project.extensions.iter().any(|e| e.kind.limits_requests())
        && !project.routes.iter().any(|r| !r.limits.is_empty())
    {
        return Vec::new();
    }
    let hooks = HookLimits::of(project);
    let custom = ctx.custom_limits();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for route in &project.routes {
        if !route.is_mutation() || project.file(route.file).is_none_or(|f| f.is_test) {
            continue;
        }
        let limited = !route.limits.is_empty()
            || hooks.covers(route)
            || custom.limiter_of(project, route).is_some()
            || proxy_limit(project, route).is_some();
        if limited && !route.limit_exempt {
            continue;
        }
        if auth_reason(project, route).is_some() || signs_out(route) || !seen.insert(route.def_span)
        {
            continue;
        }
        let methods: Vec<&str> = route
            .methods
            .iter()
            .map(String::as_str)
            .filter(|m| matches!(*m, "POST" | "PUT" | "PATCH" | "DELETE"))
            .collect();
        let what = format!("`{} {}`", methods.join("|"), route.display_path());
        let message = if route.limit_exempt {
            format!("{what} changes data and is exempt from rate limiting")
        } else {
            format!("{what} changes data without a rate limit of its own")
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, route.def_span, message)
                .with_fix("Add `@limiter.limit(...)` below the route decorator with a budget that fits the action (\"10 per minute\" to create, \"5 per minute\" to delete).")
                .with_related(ctx.at(route.span), "route registered here"),
        );
    }
    out
}
