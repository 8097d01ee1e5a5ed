//! KEY003 `secret-key-fallback`: the app starts without a real secret key.

use report::Finding;

use crate::{
    model::Project,
    python::{
        pydantic::{self, FieldDefault},
        value::{self, env_lookup, Kind, Value},
    },
    rules::{common, key::startup, Rule, RuleContext},
    source::FileId,
};

pub const RULE: Rule = Rule {
    code: "KEY003",
    name: "secret-key-fallback",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds secret keys (Flask's `SECRET_KEY`, and the other signing keys KEY001
lists: JWT keys, `JWTStrategy(secret=...)`, itsdangerous serializers,
`SessionMiddleware`) read from the environment with a fallback
(`os.getenv("SECRET_KEY", "dev")`, `os.environ.get(...)` with a default,
`os.environ.get(...) or "..."`, a value assigned in the branch of an `if`
that runs only when the variable is unset: `if os.environ.get("SECRET_KEY"):
... else: SECRET_KEY = "dev"`, `if not SECRET_KEY:`, `if "SECRET_KEY" not
in os.environ:`, and the same as a conditional expression), and keys read
without a default where nothing
checks at startup that one was set (a `raise`/`assert` on `SECRET_KEY`).
`os.environ["SECRET_KEY"]` is a check: it fails at startup when missing.
Checks count wherever the app's code makes them (module level,
`create_app()`, a config class's or an extension's `init_app(app)`), not in
tests. A fallback literal the app refuses to run with is checked too: `if
app.config["SECRET_KEY"] == DEV_KEY and not app.debug: raise ...`, `assert
SECRET_KEY not in ("dev", ...)` (KEY002 then stays silent about it as well).
A literal followed by a `**mapping` spread that may replace it
(`update({"SECRET_KEY": "dev", **os.environ})`, see KEY001) is a fallback
too, and so is one a config file loaded after it may replace when that file
is not in the checkout (the Flask tutorial's `SECRET_KEY="dev"` before
`from_pyfile("config.py", silent=True)`, `from_envvar("APP_SETTINGS")`,
`from_file(...)`, `from_prefixed_env()`).
A field of a pydantic `BaseSettings` class with a default is a fallback too
(`SECRET_KEY: str = secrets.token_urlsafe(32)`, `jwt_secret_key: str =
"..."`, also loaded with `config.from_object(settings)` or
`from_mapping(settings.model_dump())`): the default is used when the variable
is not set, exactly like `os.getenv`'s. A field without a default
(`SECRET_KEY: str`, `Field(...)`) refuses to start, also when a subclass
declares it so over a base class's default. The same holds
for a field a signing call or a config entry reads through a settings object
(`JWTStrategy(secret=settings.SECRET)` with `SECRET: str =
secrets.token_urlsafe(32)`, `app.config["SECRET_KEY"] =
settings.flask_secret.get_secret_value()`), and for defaults written as
`Field(default=...)`, `SecretStr("...")` or `Field(default_factory=...)`
with a random generator. The message names the variables pydantic reads:
the field's `alias` / `validation_alias` (each choice of `AliasChoices`),
else the class's `env_prefix` (from `model_config`, `class Config` or the
class statement's keywords) and the field's name.

## Why is this bad?
When the variable is missing in production — a typo, a new host, a secret
store outage — the app silently runs with the fallback, a key everyone can
read in the source. A random fallback (`os.urandom(24)`) is secret, but each
gunicorn worker and each restart makes its own: a session or token signed by
one worker fails in the next, users are logged out at random, and the missing
variable is never noticed. Without any key, sessions fail at run time instead
of the deploy failing loudly.

## Example
```python
SECRET_KEY = os.getenv("SECRET_KEY", "change-me")
```

Use instead:
```python
SECRET_KEY = os.environ.get("SECRET_KEY")
...
if not app.config["SECRET_KEY"] and not app.testing:
    raise RuntimeError("SECRET_KEY environment variable is required")
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for &(app, ref site) in ctx.secret_key_entries() {
        let (file, v) = project.resolver().deref(site.file(), site.value());
        let what = site.describe(ctx);
        let lookup = match &v.kind {
            Kind::Or(items) => items.first().and_then(env_lookup),
            _ => env_lookup(v),
        };
        // `if os.environ.get("SECRET_KEY"): ... else: SECRET_KEY = "dev"`,
        // `... if "SECRET_KEY" in os.environ else "dev"`.
        let branch = if site.is_settings_default() {
            None
        } else {
            unset_branch(project, file, v)
        };
        let lookup_var = lookup
            .and_then(|l| l.var)
            .or_else(|| branch.as_ref().and_then(|b| b.0.clone()));
        let unset = site.when_unset(lookup_var.as_deref());
        // A pydantic settings field's default is what the app runs with
        // when the environment does not set the variable.
        let spread_default = site.overridable().filter(|_| {
            common::secret_literal(project, site.file(), site.value()).is_some_and(|l| !l.fallback)
        });
        let fallback = if spread_default.is_some() {
            Some(Fallback::Literal)
        } else if site.is_settings_default() {
            settings_fallback(project, file, v)
        } else if let Some((_, fallback)) = branch {
            fallback
        } else {
            fallback_of(pydantic::unwrap_secret(v))
        };
        let fix = match site.field() {
            Some(field) => format!("Declare `{field}` without a default (`{field}: str` with no value, or `Field(...)`) so pydantic refuses to start when {unset}, and set it in the deployment."),
            None => {
                let var = lookup_var
                    .as_deref()
                    .or(site.variable())
                    .unwrap_or("SECRET_KEY");
                format!("Read the key with `os.environ[\"{var}\"]` (no default) so the app refuses to start when it is missing, or raise at startup when it is empty (outside TESTING).")
            }
        };
        // A fallback the app refuses to run with (`if SECRET_KEY == "dev"
        // and not app.debug: raise ...`) is the check this rule asks for.
        if matches!(fallback, Some(Fallback::Literal))
            && common::secret_literal(project, site.file(), site.value())
                .is_some_and(|l| startup::refuses_fallback(project, l.value))
        {
            continue;
        }
        // The same through a constant (`os.environ.get("APP_SECRET_KEY") or
        // DEFAULT_SECRET_KEY`, the constant imported from another module).
        let named_literal = fallback_operand(pydantic::unwrap_secret(v))
            .map(|d| project.resolver().deref(file, d).1)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        if matches!(fallback, Some(Fallback::Other))
            && named_literal.is_some_and(|l| startup::refuses_fallback(project, l))
        {
            continue;
        }
        let fallback = match fallback {
            Some(Fallback::Other) if named_literal.is_some() => Some(Fallback::Literal),
            f => f,
        };
        // `os.getenv("JWT_SECRET_KEY", os.getenv("APP_SECRET_KEY"))`: another
        // variable, fine when that one is required or checked at startup.
        let other_variable = fallback_operand(pydantic::unwrap_secret(v))
            .and_then(env_lookup)
            .filter(|l| l.default.is_none())
            .filter(|_| matches!(fallback, Some(Fallback::Other)));
        if let Some(l) = &other_variable {
            if l.required || (l.var.is_some() && startup::checks_key(project, l.var.as_deref())) {
                continue;
            }
        }
        let other_variable = other_variable.and_then(|l| l.var);
        let message = match fallback {
            Some(Fallback::Literal) if spread_default.is_some() => format!("{what} is a value written in the source, used whenever {} does not set the key, instead of refusing to start", spread_default.map_or("", |o| o.describe())),
            Some(Fallback::Literal) if site.is_settings_default() => format!("{what} defaults to a value written in the source, used whenever {unset}, instead of refusing to start"),
            Some(Fallback::Literal) => format!("{what} falls back to a value written in the source when {unset}, instead of refusing to start"),
            Some(Fallback::Other) => match &other_variable {
                Some(var) => format!("{what} falls back to the variable {var} when {unset}, and nothing stops the app from starting when {var} is not set either"),
                None => format!("{what} falls back to another value when {unset}, instead of refusing to start"),
            },
            Some(Fallback::Random) => format!("{what} falls back to a random key made at start when {unset}, instead of refusing to start: each worker and each restart signs with a key of its own, so sessions and tokens stop verifying"),
            None => {
                // Read without a default: fine when the app checks it at
                // startup. Only Flask's SECRET_KEY: flask-jwt-extended falls
                // back to it, pydantic settings refuse to start without a field.
                if site.key() != Some("SECRET_KEY") {
                    continue;
                }
                let Some(lookup) = env_lookup(v) else { continue };
                if lookup.required || startup::checks_key(project, lookup.var.as_deref()) {
                    continue;
                }
                // Only the value in effect matters for the missing-check case.
                let in_effect = app
                    .and_then(|a| project.apps.get(a))
                    .and_then(|a| a.config.get("SECRET_KEY"))
                    .is_none_or(|e| e.span == site.span());
                if !in_effect {
                    continue;
                }
                "the secret key is read from the environment but nothing stops the app from starting without it".to_string()
            }
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, site.span(), message)
            .with_fix(fix)
            .with_evidence(ctx.snippet(site.span()));
        if let Some(by) = spread_default {
            f = f.with_related(
                ctx.at(by.span),
                format!("{} may set the key instead", by.this()),
            );
        }
        if let Some(app) = app.and_then(|a| project.apps.get(a)) {
            f = ctx.with_production(f, app);
        }
        out.push(f);
    }
    out
}

enum Fallback {
    Literal,
    /// `os.urandom(24)`, `secrets.token_hex()`, `uuid.uuid4()`: no one can
    /// read it, but no two processes share it.
    Random,
    Other,
}

/// Functions that make a random key.
const RANDOM_GENERATORS: &[&str] = &[
    "os.urandom",
    "secrets.token_hex",
    "secrets.token_bytes",
    "secrets.token_urlsafe",
    "uuid.uuid4",
];

/// Whether a fallback value is made by a random generator.
fn is_random(v: &Value) -> bool {
    let mut hit = false;
    v.walk(&mut |x| {
        if let Kind::Call(c) = &x.kind {
            if c.func_name()
                .is_some_and(|n| RANDOM_GENERATORS.contains(&n.as_str()))
            {
                hit = true;
            }
        }
    });
    hit
}

/// The fallback a pydantic settings field's default is: a literal or a key
/// made at start (`SECRET_KEY: str = secrets.token_urlsafe(32)`, also by a
/// `Field(default_factory=...)`), or the fallback of an environment lookup it
/// reads itself. `Field(default=...)` and `SecretStr(...)` are their
/// contents. An empty default, `None` or anything else (`Field(...)`) is not
/// judged.
fn settings_fallback(project: &Project, file: FileId, v: &Value) -> Option<Fallback> {
    let v = match pydantic::field_default(v) {
        FieldDefault::Value(d) => project.resolver().deref(file, d).1,
        FieldDefault::Factory(f) => {
            return random_factory(project, file, f).then_some(Fallback::Random)
        }
    };
    match &v.kind {
        Kind::Str(s) if !s.is_empty() => Some(Fallback::Literal),
        _ if env_lookup(v).is_none() && is_random(v) => Some(Fallback::Random),
        _ => fallback_of(v),
    }
}

/// Whether a `default_factory` makes a random key: a generator named as one
/// (`default_factory=secrets.token_hex`) or a lambda that calls one.
fn random_factory(project: &Project, file: FileId, f: &Value) -> bool {
    if f.qualified()
        .is_some_and(|n| RANDOM_GENERATORS.contains(&n.as_str()))
    {
        return true;
    }
    // A lambda is no value of its own; the calls in its body are facts.
    let Some(facts) = project.resolver().facts(file) else {
        return false;
    };
    facts
        .calls
        .iter()
        .filter(|c| f.range.contains_range(c.value.range))
        .any(|c| is_random(&c.value))
}

/// A value the app only takes when an environment variable is unset: one
/// assigned in such a branch of an `if` (`if not os.environ.get("K"):`,
/// the `else` of `if "K" in os.environ:`), or the matching branch of a
/// conditional expression. The variable (when literal) and the kind of
/// fallback (None: no key at all, `None` or `""`).
fn unset_branch(
    project: &Project,
    file: FileId,
    v: &Value,
) -> Option<(Option<String>, Option<Fallback>)> {
    let facts = project.resolver().facts(file);
    let (var, taken) = match value::cond_unset_branch(v, facts) {
        Some((taken, var)) => (var, project.resolver().deref(file, taken).1),
        None => (value::unset_branch_of(facts?, v.range)?, v),
    };
    // `if not os.getenv("DEBUG"): SECRET_KEY = "..."` is no fallback of the
    // key's variable.
    if !var.as_deref().is_some_and(common::names_a_secret) {
        return None;
    }
    let taken = pydantic::unwrap_secret(taken);
    let fallback = match &taken.kind {
        Kind::None => None,
        Kind::Str(s) if s.is_empty() => None,
        Kind::Str(_) => Some(Fallback::Literal),
        _ if env_lookup(taken).is_none() && is_random(taken) => Some(Fallback::Random),
        _ => fallback_of(taken).or(Some(Fallback::Other)),
    };
    Some((var, fallback))
}

/// What a lookup falls back to: the default of `os.environ.get(VAR,
/// default)`, or the last operand of `os.environ.get(VAR) or default`.
fn fallback_operand(v: &Value) -> Option<&Value> {
    if let Some(l) = env_lookup(v) {
        return l.default;
    }
    match &v.kind {
        Kind::Or(items) if items.len() > 1 && env_lookup(&items[0]).is_some() => items.last(),
        _ => None,
    }
}

fn fallback_of(v: &Value) -> Option<Fallback> {
    if let Some(l) = env_lookup(v) {
        let d = l.default?;
        return match &d.kind {
            Kind::None => None,
            Kind::Str(s) if s.is_empty() => None,
            Kind::Str(_) => Some(Fallback::Literal),
            _ if is_random(d) => Some(Fallback::Random),
            _ => Some(Fallback::Other),
        };
    }
    if let Kind::Or(items) = &v.kind {
        if items.len() > 1 && env_lookup(&items[0]).is_some() {
            return Some(
                if items.last().is_some_and(|x| matches!(x.kind, Kind::Str(_))) {
                    Fallback::Literal
                } else if items.last().is_some_and(is_random) {
                    Fallback::Random
                } else {
                    Fallback::Other
                },
            );
        }
    }
    None
}
