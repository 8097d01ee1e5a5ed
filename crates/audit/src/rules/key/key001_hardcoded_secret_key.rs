//! KEY001 `hardcoded-secret-key`: a string literal as the Flask secret key or a
//! JWT signing key.

use report::Finding;

use crate::rules::{common, Rule, RuleContext};

pub const RULE: Rule = Rule {
    code: "KEY001",
    name: "hardcoded-secret-key",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds a string literal used as a signing secret:
- the Flask secret key: assigned to `SECRET_KEY` in a config class production
  loads (base classes included) or in any config class not named for
  development or tests (nor a class that only lists the names of keys or
  variables, `SECRET_KEY = "SECRET_KEY"`, `PEPPER = "APP_PEPPER"`, unless
  an app loads it), `app.secret_key = "..."`,
  `app.config["SECRET_KEY"] = "..."`, `config.update(SECRET_KEY=...)`,
  `from_mapping`, a constant imported from another module;
- the JWT signing key the same ways: flask-jwt-extended's `JWT_SECRET_KEY`
  (`app.config["JWT_SECRET_KEY"] = "super-secret"`), `JWT_SECRET_KEY` /
  `JWT_SECRET` / `SECRET_KEY` attributes of config classes, and a literal
  key given to `jwt.encode(...)` / `jwt.decode(...)`
  (PyJWT, python-jose) that is not already reported where it is defined;
- the other well-known signing secrets, the same ways (a literal or a
  constant holding one): fastapi-users' `JWTStrategy(secret=...)` and the
  `reset_password_token_secret` / `verification_token_secret` of its user
  manager, fastapi-jwt-auth's `authjwt_secret_key` setting, the key of an
  itsdangerous serializer or signer (`URLSafeTimedSerializer("...")`), and
  Starlette's `app.add_middleware(SessionMiddleware, secret_key="...")`.
  A literal used at several of these places is reported once.
- the attribute such a call or a config entry reads through an object of a
  project class, reported at the attribute: `JWTStrategy(secret=settings.SECRET)`
  or `app.config["SECRET_KEY"] = settings.flask_secret` where
  `settings = Settings()` (imported from another module or made by a
  factory) and `class Settings: SECRET = "..."` (base classes included), a
  plain class the environment does not set.

A literal that a later `**mapping` spread in the same dict may replace
(`update({"SECRET_KEY": "dev", **os.environ})`, or keywords spread after the
mapping: `from_mapping({"SECRET_KEY": "dev"}, **overrides)`) is a default,
KEY003's, unless the spread is a mapping the source spells out without the
key, or spreads nothing (a factory parameter nothing passes). A spread
cannot replace a keyword written in the same call (`dict(SECRET_KEY="dev",
**env)` raises TypeError when `env` holds it), so such a literal is reported.
The same holds for a config file loaded after the literal that is not in the
checkout: `app.config.from_pyfile("config.py", silent=True)` (the Flask
tutorial's instance file), `from_envvar("APP_SETTINGS")`, `from_file(...)`
or `from_prefixed_env()` may set the key, so the literal before it is a
development default, KEY003's. When the file is in the checkout, what it
sets is used; a literal set after the load is reported.

Values read from the environment are not reported here, also when the
lookup has a literal fallback (`os.getenv("SECRET_KEY", "dev")`), or the
literal is assigned in the branch of an `if` that runs only when the variable
is unset (`if os.environ.get("SECRET_KEY"): ... else: SECRET_KEY = "dev"`,
`if not SECRET_KEY:`, `if "SECRET_KEY" not in os.environ:`, the same as a
conditional expression): that is KEY003 (and KEY002 when the fallback is
weak). The default of a pydantic
`BaseSettings` field (`secret_key: str = "..."`, `SecretStr("...")`,
`Field(default="...")`), also loaded with `config.from_object(settings)` or
`from_mapping(settings.model_dump())`, is such a fallback too: the
environment overrides it, and it is used when the variable is not set. Classes
named for development or tests are left out.

## Why is this bad?
The secret key signs the session cookie. Whoever knows it can forge a session
for any user (`{"user_id": 1, "role": "admin"}`), and a key in source control is
known to everyone who can read the repository, its forks and its CI logs.

## Example
```python
class Config:
    SECRET_KEY = "dev-secret-key-1234"
```

Use instead:
```python
class Config:
    SECRET_KEY = os.environ["SECRET_KEY"]  # python -c "import secrets; print(secrets.token_hex(32))"
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    for &(app, ref site) in ctx.secret_key_entries() {
        let Some(lit) = common::secret_literal(project, site.file(), site.value()) else {
            continue;
        };
        // An environment lookup with a literal fallback, and the default of
        // a pydantic settings field (which the environment overrides the
        // same way), are KEY003's (and KEY002's when the literal is weak).
        // So is a literal a later `**mapping` in the same dict may replace
        // (`{"SECRET_KEY": "dev", **os.environ}`): a default, not certain.
        if lit.fallback || site.is_settings_default() || site.overridable().is_some() {
            continue;
        }
        let message = format!(
            "{} is a string literal written in the source",
            site.describe(ctx)
        );
        let fix = match site.key() {
            Some(k) => format!(
                "Read {k} from the environment with no default (`os.environ[\"{k}\"]`, or a pydantic settings field declared without one) or from a secrets manager, and rotate the committed key."
            ),
            None => "Read the key from the environment with no default (`os.environ[...]`, or a pydantic settings field declared without one) or from a secrets manager, and rotate the committed key.".to_string(),
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, site.span(), message)
            .with_fix(fix)
            .with_evidence(ctx.snippet(site.span()));
        let lit_span = crate::source::Span::new(lit.file, lit.literal.range);
        if lit.file != site.file()
            || !(site.span().start..=site.span().end).contains(&lit_span.start)
        {
            f = f.with_related(ctx.at(lit_span), "the literal is defined here");
        }
        if let Some(app) = app.and_then(|a| project.apps.get(a)) {
            f = ctx.with_production(f, app);
        }
        out.push(f);
    }
    out
}
