//! KEY002 `weak-secret-key`: a secret key that is short, low-entropy or well known.

use report::Finding;

use super::strength::weakness;
use crate::{
    deploy::{compose::with_defaults, EnvFact, EnvSource},
    rules::{common, Rule, RuleContext},
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "KEY002",
    name: "weak-secret-key",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Judges the value the secret key and the other signing keys get — in code
(the same places as KEY001, the fallback of an environment lookup included) and in
`.env`, Dockerfile and compose files (`SECRET_KEY`, `FLASK_SECRET_KEY`,
`APP_SECRET_KEY`, `JWT_SECRET_KEY`, `JWT_SECRET`, and the variables of a
pydantic settings field the code uses as a signing key, also one declared
without a default (`flask_secret: SecretStr`), prefix included:
`SHOP_FLASK_SECRET` for `flask_secret` with `env_prefix="SHOP_"` (in
`model_config`, `class Config` or the class statement), each name of
`AliasChoices(...)` or `alias=`; the default of an
interpolation, `${SECRET_KEY:-change-me}`, is the key whenever the variable is
not set) — and reports it when it is in a list of
well-known defaults (`dev`, `secret`, `change-me`, `dev-secret-key-1234`, ...),
is a placeholder, is shorter than 32 characters, or carries less than about 128
bits of entropy. Example and development env files are not judged.

A weak default of a pydantic settings field or a weak fallback of an
environment lookup is reported too: it is the key whenever the variable is
not set.

## Why is this bad?
A guessable key is as good as a published one: tools such as `flask-unsign`
brute-force session cookies against word lists of exactly these values, then
forge sessions.

## Example
```text
SECRET_KEY=change-me
```

Use instead:
```text
SECRET_KEY=<output of: python -c "import secrets; print(secrets.token_hex(32))">
```
kept out of the repository.
"#;

const ENV_NAMES: &[&str] = &[
    "SECRET_KEY",
    "FLASK_SECRET_KEY",
    "APP_SECRET_KEY",
    "JWT_SECRET_KEY",
    "JWT_SECRET",
];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for &(app, ref site) in ctx.secret_key_entries() {
        let Some(lit) = common::secret_literal(project, site.file(), site.value()) else {
            continue;
        };
        let Some(why) = weakness(lit.value) else {
            continue;
        };
        // A weak fallback the app refuses to run with (`if SECRET_KEY ==
        // "dev" and not app.debug: raise ...`) never signs in production;
        // so is a default that a config file loaded after it may replace.
        if (lit.fallback || site.is_settings_default() || site.overridable().is_some())
            && super::startup::refuses_fallback(project, lit.value)
        {
            continue;
        }
        let what = site.describe(ctx);
        let lookup =
            crate::python::value::env_lookup(project.resolver().deref(site.file(), site.value()).1)
                .and_then(|l| l.var)
                .or_else(|| lit.unset_var.clone());
        let (message, fix) = if let Some(field) = site.field() {
            let unset = site.when_unset(None);
            (
                format!("{what} defaults to a weak value, used whenever {unset}: {why}"),
                format!("Declare `{field}` without a default so the app refuses to start when {unset}, set it to a random key of at least 32 bytes (secrets.token_hex(32)), and rotate the current one."),
            )
        } else if lit.fallback {
            let unset = site.when_unset(lookup.as_deref());
            (
                format!("{what} falls back to a weak value, used whenever {unset}: {why}"),
                {
                    let var = lookup
                        .as_deref()
                        .or(site.variable())
                        .unwrap_or("SECRET_KEY");
                    format!("Drop the fallback (`os.environ[\"{var}\"]` refuses to start without the variable), set {var} to a random key of at least 32 bytes (secrets.token_hex(32)), and rotate the current one.")
                },
            )
        } else {
            (
                format!("{what} is weak: {why}"),
                "Use a random key of at least 32 bytes (secrets.token_hex(32)) from the environment, and rotate the current one.".to_string(),
            )
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, site.span(), message)
            .with_fix(fix)
            .with_evidence(ctx.snippet(site.span()));
        let lit_span = Span::new(lit.file, lit.literal.range);
        if lit.file != site.file() {
            f = f.with_related(ctx.at(lit_span), "the value is defined here");
        }
        if let Some(app) = app.and_then(|a| project.apps.get(a)) {
            f = ctx.with_production(f, app);
        }
        out.push(f);
    }
    let names = signing_variables(ctx);
    for e in &project.deploy.env {
        let Some(why) = weak_env_value(e, &names) else {
            continue;
        };
        let where_ = match &e.source {
            EnvSource::DotEnv { .. } => "in the env file",
            EnvSource::Dockerfile => "in the Dockerfile",
            EnvSource::Compose { .. } => "in compose",
            EnvSource::Command => "on the command line",
        };
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                e.span,
                format!("`{}` {where_} is weak: {why}", e.name),
            )
            .with_fix(
                "Generate a random key (secrets.token_hex(32)) and keep it out of committed files.",
            )
            .with_evidence(ctx.snippet(e.span)),
        );
    }
    out
}

/// The variables that set a signing key besides [`ENV_NAMES`]: those of the
/// pydantic settings fields the code uses as one (`SHOP_FLASK_SECRET` for
/// `flask_secret` with `env_prefix="SHOP_"`, every choice of an
/// `AliasChoices`), whether the field has a default or not, upper-case
/// (pydantic matches names case-insensitively unless told otherwise).
pub fn signing_variables(ctx: &RuleContext) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, site) in ctx.secret_key_entries() {
        for v in site.variables() {
            let v = v.to_ascii_uppercase();
            if !names.contains(&v) {
                names.push(v);
            }
        }
    }
    names
}

/// Why a secret key set in an env file, Dockerfile or compose file is weak,
/// when this rule reports it (KEY004 leaves these lines to it, so a line is
/// reported once): one of [`ENV_NAMES`] or of [`signing_variables`]. An interpolation with
/// a default (`${SECRET_KEY:-change-me}`) is judged by its default, which is
/// the key whenever the variable is not set; the reason then says so.
pub fn weak_env_value(e: &EnvFact, names: &[String]) -> Option<String> {
    let is_key = ENV_NAMES.contains(&e.name.as_str())
        || names.iter().any(|n| n.eq_ignore_ascii_case(&e.name));
    if !is_key || !e.source.may_be_production() || e.value.is_empty() {
        return None;
    }
    if !e.value.starts_with('$') {
        return weakness(&e.value);
    }
    let d = with_defaults(&e.value)?;
    if d.value.contains('$') {
        return None;
    }
    let why = weakness(&d.value)?;
    Some(format!("{why} (the default of {})", defaults_of(&d.vars)))
}

/// "`${SECRET_KEY}`, used whenever it is not set", for the variables whose
/// defaults a value holds.
pub fn defaults_of(vars: &[String]) -> String {
    let names: Vec<String> = vars.iter().map(|v| format!("`${{{v}}}`")).collect();
    match names.as_slice() {
        [one] => format!("{one}, used whenever it is not set"),
        _ => format!("{}, used whenever they are not set", names.join(" and ")),
    }
}
