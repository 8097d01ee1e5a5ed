//! AUTH002 `jwt-unverified-or-unbounded`: JWTs decoded without verification,
//! with `none` allowed, or issued without expiry.

use checklist::Severity;
use report::Finding;

use crate::{
    model::Project,
    python::{
        facts::{PyFacts, ScopeId},
        value::{Kind, Value},
    },
    rules::{
        request_data::{callee, pinned_version, version_below},
        Rule, RuleContext,
    },
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "AUTH002",
    name: "jwt-unverified-or-unbounded",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds JSON Web Tokens that are not verified or never expire, as PyJWT,
python-jose and Flask-JWT-Extended really behave:
- `jwt.decode(..., options={"verify_signature": False})` (PyJWT 1 and 2,
  python-jose); `jwt.decode(..., verify=False)` under PyJWT 1.x (PyJWT 2 ignores
  `verify`, so it is reported only when PyJWT is pinned below 2 or not pinned);
- an `algorithms` list that allows `none`;
- no `algorithms` at all where the token header then picks the algorithm:
  python-jose, and PyJWT pinned below 2 (PyJWT 2 refuses to decode without it);
- `options={"verify_exp": False}` (medium): expired tokens are accepted;
- `jwt.encode(claims, ...)` where `claims` is a dict built in the function
  with no `exp` (and no `claims["exp"] = ...` / `claims.update(exp=...)`
  later);
- Flask-JWT-Extended: `JWT_ACCESS_TOKEN_EXPIRES = False` in the production
  config, `create_access_token(..., expires_delta=False)` (and medium for
  refresh tokens).

## Why is this bad?
An unverified token is a claim anyone can edit (`"sub": "admin"`). `alg: none`
is the same hole by another route. Without `exp`, a token leaked through a
log, a proxy or a browser extension works forever, and JWTs cannot be revoked
without extra state.

## Example
```python
claims = jwt.decode(token, options={"verify_signature": False})
token = jwt.encode({"sub": user.id}, key, algorithm="HS256")
```

Use instead:
```python
claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "sub"]})
token = jwt.encode({"sub": user.id, "exp": now + timedelta(minutes=15)}, key, algorithm="HS256")
```
"#;

const PYJWT_DECODE: &[&str] = &["jwt.decode", "jwt.api_jwt.decode", "jwt.PyJWT.decode"];
const JOSE_DECODE: &[&str] = &["jose.jwt.decode"];
const ENCODE: &[&str] = &["jwt.encode", "jwt.api_jwt.encode", "jose.jwt.encode"];
const JWT_EXTENDED: &[(&str, bool)] = &[
    ("flask_jwt_extended.create_access_token", true),
    ("flask_jwt_extended.create_refresh_token", false),
];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    decodes(ctx, &mut out);
    encodes(ctx, &mut out);
    extended(ctx, &mut out);
    out
}

fn decodes(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    let pyjwt = pinned_version(project, "pyjwt");
    let pyjwt1 = pyjwt.as_ref().is_some_and(|v| version_below(v, &[2]));
    for (file, _, call) in project.calls_named(&["decode"]) {
        let Some(name) = callee(project, file, call) else {
            continue;
        };
        let jose = JOSE_DECODE.contains(&name.as_str());
        if !jose && !PYJWT_DECODE.contains(&name.as_str()) {
            continue;
        }
        let c = call.call();
        let span = Span::new(file, call.range());
        let mut push = |message: String, severity: Option<Severity>, fix: &str| {
            let mut f = ctx
                .finding(RULE.code, RULE.name, span, message)
                .with_evidence(ctx.snippet(span))
                .with_fix(fix.to_string());
            if let Some(s) = severity {
                f = f.with_severity(s);
            }
            out.push(f);
        };
        let pin = "Verify with a fixed list: `jwt.decode(token, key, algorithms=[\"HS256\"], options={\"require\": [\"exp\"]})`.";
        let options = c
            .kwarg("options")
            .map(|o| project.resolver().deref(file, o).1);
        let option = |key: &str| {
            options
                .and_then(|o| o.dict_get(key))
                .and_then(Value::truthy)
        };
        if option("verify_signature") == Some(false) {
            push(
                format!("`{name}` with `verify_signature: False` accepts tokens anyone can forge (`alg: none`, edited claims)"),
                None,
                pin,
            );
            continue;
        }
        if !jose
            && c.kwarg("verify").and_then(Value::truthy) == Some(false)
            && (pyjwt1 || pyjwt.is_none())
        {
            push(
                format!(
                    "`{name}(..., verify=False)` skips the signature check under PyJWT 1.x{}",
                    if pyjwt.is_none() {
                        " (PyJWT is not pinned)"
                    } else {
                        ""
                    }
                ),
                None,
                pin,
            );
            continue;
        }
        // decode(jwt, key, algorithms) in PyJWT 2 and python-jose;
        // decode(jwt, key, verify, algorithms) in PyJWT 1.
        let algorithms = c
            .param(if pyjwt1 && !jose { 3 } else { 2 }, "algorithms")
            .map(|a| project.resolver().deref(file, a).1);
        match algorithms {
            Some(list) => {
                let items: Vec<&str> = match list.as_seq() {
                    Some(s) => s.iter().filter_map(Value::as_str).collect(),
                    None => list.as_str().into_iter().collect(),
                };
                if items.iter().any(|a| a.eq_ignore_ascii_case("none")) {
                    push(
                        format!(
                            "`{name}` allows the `none` algorithm: unsigned tokens are accepted"
                        ),
                        None,
                        pin,
                    );
                    continue;
                }
            }
            None if jose || pyjwt1 => {
                push(
                    format!("`{name}` without `algorithms`: the token's own header chooses how it is verified"),
                    Some(Severity::Medium),
                    pin,
                );
                continue;
            }
            None => {}
        }
        if option("verify_exp") == Some(false) {
            push(
                format!("`{name}` with `verify_exp: False` accepts expired tokens"),
                Some(Severity::Medium),
                "Keep expiry checks on and issue short-lived tokens.",
            );
        }
    }
}

fn encodes(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    for (file, facts, call) in project.calls_named(&["encode"]) {
        if !callee(project, file, call).is_some_and(|n| ENCODE.contains(&n.as_str())) {
            continue;
        }
        let Some(payload) = call
            .call()
            .param(0, "payload")
            .or_else(|| call.call().kwarg("claims"))
        else {
            continue;
        };
        let Some(items) = payload.as_dict() else {
            continue;
        };
        let has = |k: &str| {
            items
                .iter()
                .any(|(key, _)| key.as_ref().is_none_or(|key| key.as_str() == Some(k)))
        };
        if has("exp") || adds_exp_later(facts, call.scope, payload) {
            continue;
        }
        let span = Span::new(file, call.range());
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                span,
                "a JWT is issued without an `exp` claim: it stays valid forever",
            )
            .with_evidence(ctx.snippet(span))
            .with_fix("Add `\"exp\": datetime.now(timezone.utc) + timedelta(minutes=15)` (and `iat`) to the claims, and require it when decoding.")
            .with_related(ctx.at(Span::new(file, payload.range)), "the claims are built here"),
        );
    }
}

/// `claims["exp"] = ...`, `claims.update(exp=...)` / `.update({"exp": ...})`,
/// `claims.setdefault("exp", ...)` in the same function.
fn adds_exp_later(facts: &PyFacts, scope: ScopeId, payload: &Value) -> bool {
    let Some(func) = facts.function_of(scope) else {
        return false;
    };
    let within = |s: ScopeId| facts.scope_within(s, func.scope);
    let same = |v: &Value| v.range == payload.range || v == payload;
    facts.assigns.iter().filter(|a| within(a.scope)).any(|a| {
        matches!(&a.target.kind, Kind::Subscript(base, key) if key.as_str() == Some("exp") && same(base))
    }) || facts.calls.iter().filter(|c| within(c.scope)).any(|c| {
        let call = c.call();
        let Kind::Attr(base, m) = &call.func.kind else {
            return false;
        };
        if !same(base) {
            return false;
        }
        match m.as_str() {
            "update" => {
                call.kwarg("exp").is_some()
                    || call.args.iter().any(|a| a.dict_get("exp").is_some())
            }
            "setdefault" | "__setitem__" => call.arg(0).and_then(Value::as_str) == Some("exp"),
            _ => false,
        }
    })
}

fn extended(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    for (file, _, call) in project.calls_named(&["create_access_token", "create_refresh_token"]) {
        let Some(name) = callee(project, file, call) else {
            continue;
        };
        let Some(&(_, access)) = JWT_EXTENDED.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let Some(delta) = call.call().kwarg("expires_delta") else {
            continue;
        };
        if delta.as_bool() != Some(false) {
            continue;
        }
        let kind = if access { "access" } else { "refresh" };
        let mut f = ctx
            .finding(
                RULE.code,
                RULE.name,
                Span::new(file, delta.range),
                format!("`expires_delta=False` issues a {kind} token that never expires"),
            )
            .with_fix(
                "Drop `expires_delta=False`; keep access tokens short (the default is 15 minutes).",
            );
        if !access {
            f = f.with_severity(Severity::Medium);
        }
        out.push(f);
    }
    config_expiry(ctx, project, out);
}

fn config_expiry(ctx: &RuleContext, project: &Project, out: &mut Vec<Finding>) {
    for app in &project.apps {
        for (key, access) in [
            ("JWT_ACCESS_TOKEN_EXPIRES", true),
            ("JWT_REFRESH_TOKEN_EXPIRES", false),
        ] {
            let Some(e) = app.config.get(key) else {
                continue;
            };
            if e.value.as_bool() != Some(false) {
                continue;
            }
            let kind = if access { "access" } else { "refresh" };
            let mut f = ctx
                .finding(
                    RULE.code,
                    RULE.name,
                    e.span,
                    format!("`{key} = False`: Flask-JWT-Extended issues {kind} tokens that never expire"),
                )
                .with_fix("Set a short lifetime: `timedelta(minutes=15)` for access tokens, days for refresh tokens.");
            if !access {
                f = f.with_severity(Severity::Medium);
            }
            out.push(ctx.with_production(f, app));
        }
    }
}
