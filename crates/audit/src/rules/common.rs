//! Helpers shared by rules: receivers of method calls, secret-key values, and
//! which code is production code.

use crate::{
    model::{
        index::Target,
        pydantic_settings::{self, field_variables, is_settings_class},
        AppId, ConfigEntry, ConfigVia, ExtKind, Project,
    },
    python::{
        facts::{CallFact, PyFacts},
        pydantic,
        value::{cond_unset_branch, env_lookup, unset_branch_of, Call, Kind, Value},
    },
    source::FileId,
};

/// The object a method is called on: `app` in `app.run(...)`.
pub fn receiver(call: &Call) -> Option<Value> {
    call.receiver()
}

/// The app a method call is made on (`app.run`), resolved across files.
pub fn app_of_receiver(project: &Project, file: FileId, call: &Call) -> Option<AppId> {
    let recv = receiver(call)?;
    project.app_of(file, &recv, false)
}

/// Dotted name of what a call calls, resolved through imports and re-exports.
pub fn callee(project: &Project, file: FileId, call: &CallFact) -> Option<String> {
    project
        .resolver()
        .resolve(file, &call.call().func)
        .external_name()
}

/// A literal string a config value ends up as, and whether it is only the
/// fallback of an environment lookup (`os.getenv("SECRET_KEY", "dev")`, or
/// an assignment in the branch of an `if` that runs when the variable is
/// unset).
pub struct SecretLiteral<'a> {
    pub value: &'a str,
    pub literal: &'a Value,
    pub file: FileId,
    pub fallback: bool,
    /// For a fallback chosen by an `if` on the variable's presence (`if not
    /// os.environ.get("SECRET_KEY"): SECRET_KEY = "dev"`), the variable.
    pub unset_var: Option<String>,
}

/// Finds the literal in a secret-key value: a string, a name bound to one
/// (across files), the default of an environment lookup, the literal
/// alternative of `os.environ.get(...) or "..."`, or of `... if "K" in
/// os.environ else "..."`. A literal assigned in the branch of an `if` that
/// runs only when an environment variable is unset is a fallback too.
pub fn secret_literal<'a>(
    project: &'a Project,
    file: FileId,
    v: &'a Value,
) -> Option<SecretLiteral<'a>> {
    secret_literal_at(project, file, v, 0)
}

fn secret_literal_at<'a>(
    project: &'a Project,
    file: FileId,
    v: &'a Value,
    depth: usize,
) -> Option<SecretLiteral<'a>> {
    if depth > 8 {
        return None;
    }
    let resolver = project.resolver();
    let (f, v) = resolver.deref(file, v);
    // A pydantic field's default (`Field(default="dev")`, `SecretStr("dev")`);
    // one made by a `default_factory` is no literal.
    let (f, v) = resolver.deref(f, pydantic::field_value(v)?);
    if let Some(s) = v.as_str() {
        if s.is_empty() {
            return None;
        }
        let unset = resolver
            .facts(f)
            .and_then(|facts| unset_branch_of(facts, v.range))
            .filter(|var| var.as_deref().is_some_and(names_a_secret));
        return Some(SecretLiteral {
            value: s,
            literal: v,
            file: f,
            fallback: unset.is_some(),
            unset_var: unset.flatten(),
        });
    }
    if let Some(l) = env_lookup(v) {
        let d = l.default?;
        let inner = secret_literal_at(project, f, d, depth + 1)?;
        return Some(SecretLiteral {
            fallback: true,
            ..inner
        });
    }
    if let Some((branch, var)) = cond_unset_branch(v, resolver.facts(f))
        .filter(|(_, var)| var.as_deref().is_some_and(names_a_secret))
    {
        let inner = secret_literal_at(project, f, branch, depth + 1)?;
        return Some(SecretLiteral {
            fallback: true,
            unset_var: var.or(inner.unset_var),
            ..inner
        });
    }
    if let Kind::Or(items) = &v.kind {
        let last = items.last()?;
        if items.len() > 1 && env_lookup(&items[0]).is_some() {
            let inner = secret_literal_at(project, f, last, depth + 1)?;
            return Some(SecretLiteral {
                fallback: true,
                ..inner
            });
        }
    }
    None
}

/// Whether an environment variable's name says it holds a secret
/// (`SECRET_KEY`, `APP_SECRET`, `JWT_SIGNING_KEY`, `SESSION_TOKEN`): a literal
/// taken when such a variable is unset is its fallback. A literal taken when
/// `DEBUG` or `PRODUCTION` is unset is a key of its own.
pub fn names_a_secret(var: &str) -> bool {
    let upper = var.to_ascii_uppercase();
    ["SECRET", "KEY", "JWT", "TOKEN", "SIGN"]
        .iter()
        .any(|w| upper.contains(w))
}

/// Whether a class is a registry of key or variable names, not settings:
/// every attribute holds an upper-case name, nearly all the name they stand
/// for, alone or prefixed (`SECRET_KEY = "SECRET_KEY"`, `PEPPER =
/// "APP_PEPPER"`), and the code reads the real values with them
/// (`os.environ.get(Keys.SECRET_KEY)`).
pub fn names_keys(class: &crate::python::facts::ClassFact) -> bool {
    let upper = |s: &str| {
        s.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    let mut own = 0;
    for a in &class.attrs {
        let Some(v) = a.value.as_str() else {
            return false;
        };
        if !upper(v) || !upper(&a.name) {
            return false;
        }
        let name = a.name.as_str();
        if v == name || v.strip_suffix(name).is_some_and(|p| p.ends_with('_')) {
            own += 1;
        }
    }
    class.attrs.len() >= 3 && own * 5 >= class.attrs.len() * 4
}

/// Python's enum classes: a class derived from one holds named constants.
const ENUM_ROOTS: &[(&str, ())] = &[
    ("enum.Enum", ()),
    ("enum.StrEnum", ()),
    ("enum.IntEnum", ()),
    ("enum.Flag", ()),
    ("enum.IntFlag", ()),
];

/// Whether a class or module name says it is for development or tests only.
pub fn is_dev_or_test_name(dotted: &str) -> bool {
    let last = dotted
        .rsplit('.')
        .next()
        .unwrap_or(dotted)
        .to_ascii_lowercase();
    ["dev", "test", "local", "debug", "ci"]
        .iter()
        .any(|w| last.contains(w))
}

/// Config keys that hold a signing secret: Flask's session key and
/// flask-jwt-extended's token key (also the names FastAPI settings use).
pub const SIGNING_KEYS: &[&str] = &["SECRET_KEY", "JWT_SECRET_KEY", "JWT_SECRET"];

/// Calls that take a signing key, as (callee, position, keyword, name in
/// messages): PyJWT and python-jose (`jwt.encode(payload, key)`),
/// fastapi-users' `JWTStrategy(secret=...)`, and itsdangerous' serializers and
/// signers (`URLSafeTimedSerializer(secret_key)`), which sign tokens for
/// e-mail confirmation and password resets.
const SIGNING_CALLS: &[(&str, usize, &str, &str)] = &[
    ("jwt.encode", 1, "key", "jwt.encode"),
    ("jwt.decode", 1, "key", "jwt.decode"),
    ("jose.jwt.encode", 1, "key", "jwt.encode"),
    ("jose.jwt.decode", 1, "key", "jwt.decode"),
    (
        "fastapi_users.authentication.JWTStrategy",
        0,
        "secret",
        "JWTStrategy",
    ),
    (
        "fastapi_users.authentication.strategy.JWTStrategy",
        0,
        "secret",
        "JWTStrategy",
    ),
    (
        "fastapi_users.authentication.strategy.jwt.JWTStrategy",
        0,
        "secret",
        "JWTStrategy",
    ),
    (
        "itsdangerous.URLSafeTimedSerializer",
        0,
        "secret_key",
        "URLSafeTimedSerializer",
    ),
    (
        "itsdangerous.url_safe.URLSafeTimedSerializer",
        0,
        "secret_key",
        "URLSafeTimedSerializer",
    ),
    (
        "itsdangerous.URLSafeSerializer",
        0,
        "secret_key",
        "URLSafeSerializer",
    ),
    (
        "itsdangerous.url_safe.URLSafeSerializer",
        0,
        "secret_key",
        "URLSafeSerializer",
    ),
    (
        "itsdangerous.TimedSerializer",
        0,
        "secret_key",
        "TimedSerializer",
    ),
    (
        "itsdangerous.timed.TimedSerializer",
        0,
        "secret_key",
        "TimedSerializer",
    ),
    ("itsdangerous.Serializer", 0, "secret_key", "Serializer"),
    (
        "itsdangerous.serializer.Serializer",
        0,
        "secret_key",
        "Serializer",
    ),
    ("itsdangerous.Signer", 0, "secret_key", "Signer"),
    ("itsdangerous.signer.Signer", 0, "secret_key", "Signer"),
    (
        "itsdangerous.TimestampSigner",
        0,
        "secret_key",
        "TimestampSigner",
    ),
    (
        "itsdangerous.timed.TimestampSigner",
        0,
        "secret_key",
        "TimestampSigner",
    ),
    // itsdangerous before 2.1.
    (
        "itsdangerous.TimedJSONWebSignatureSerializer",
        0,
        "secret_key",
        "TimedJSONWebSignatureSerializer",
    ),
    (
        "itsdangerous.JSONWebSignatureSerializer",
        0,
        "secret_key",
        "JSONWebSignatureSerializer",
    ),
];

/// Class attributes that hold a signing secret by their library's name, in
/// any class: fastapi-jwt-auth's settings (`authjwt_secret_key`, loaded with
/// `@AuthJWT.load_config`) and fastapi-users' user manager, whose reset and
/// verification tokens are JWTs.
const SIGNING_ATTRS: &[&str] = &[
    "authjwt_secret_key",
    "reset_password_token_secret",
    "verification_token_secret",
];

/// Signing secrets that reach production: every entry of every app's
/// production config for [`SIGNING_KEYS`] (overridden base-class values
/// included: they are committed all the same), those attributes of config
/// and settings classes no app loads unless they are named for development or
/// tests (lower-case fields of pydantic `BaseSettings` too), the
/// [`SIGNING_ATTRS`] of any such class, and the key given to a
/// [`SIGNING_CALLS`] call or to `SessionMiddleware` when it is a literal. A
/// config entry or call key that reads an attribute of a project class
/// (`app.config["SECRET_KEY"] = settings.secret_key`, also through
/// `.get_secret_value()`) is judged at the attribute. A literal is reported
/// once: the attributes and calls leave out one a config site or an earlier
/// attribute or call already reports.
pub fn secret_key_entries(project: &Project) -> Vec<(Option<AppId>, SecretSite<'_>)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // Keys read through a class attribute, judged at the attribute once the
    // class attributes are in: (app, file, value, what uses it).
    let mut keys: Vec<(Option<AppId>, FileId, &Value, KeyUse<'_>)> = Vec::new();
    for app in &project.apps {
        for key in SIGNING_KEYS {
            let in_effect = app.config.get(key).map(|e| e.span);
            for e in app.config.all(key) {
                // Values from the environment (from_prefixed_env) are not in the
                // source; KEY002 judges env files on its own.
                if e.via == crate::model::ConfigVia::Environment {
                    continue;
                }
                // A settings field a subclass declares again (without a
                // default, or with another) is not the app's: its default is
                // never used. Nor is it judged as a class attribute below.
                if matches!(e.via, crate::model::ConfigVia::Settings { .. })
                    && in_effect != Some(e.span)
                {
                    seen.insert(e.span);
                    continue;
                }
                if seen.insert(e.span) {
                    out.push((Some(app.id), SecretSite::Entry(e)));
                    if secret_literal(project, e.file, &e.value).is_none() {
                        keys.push((Some(app.id), e.file, &e.value, KeyUse::Config(e)));
                    }
                }
            }
        }
    }
    // Enum members are constants (`SECRET_KEY = "secret-key"` names an
    // option), never config.
    let enums = crate::model::apps::derived_classes(project, ENUM_ROOTS);
    for (file, facts) in project.python() {
        for class in &facts.classes {
            if is_dev_or_test_name(&class.qualified)
                || names_keys(class)
                || enums.contains_key(class.qualified.as_str())
            {
                continue;
            }
            let mut settings = None;
            let mut is_settings =
                || *settings.get_or_insert_with(|| is_settings_class(project, file, class));
            for &key in SIGNING_KEYS {
                // Settings fields: lower-case names too (pydantic matches the
                // variable case-insensitively), and fields declared without a
                // default (required: only their variable is judged, in env
                // files).
                let member = match class.member(key) {
                    Some(m) if !m.declared_only || is_settings() => Some(m),
                    _ => class
                        .member(&key.to_ascii_lowercase())
                        .filter(|_| is_settings()),
                };
                let Some(member) = member else { continue };
                let attr = member.attr;
                if !member.declared_only
                    && is_settings()
                    && shadowed_in_subclasses(project, class, attr.name.as_str())
                {
                    continue;
                }
                let span = crate::source::Span::new(file, attr.range);
                if seen.insert(span) {
                    let settings = is_settings();
                    out.push((
                        None,
                        SecretSite::ClassAttr {
                            file,
                            value: &attr.value,
                            span,
                            key,
                            field: attr.name.as_str(),
                            env: settings.then(|| field_variables(project, file, class, attr)),
                        },
                    ));
                }
            }
        }
    }
    // Literals already reported where they are defined: the sites below
    // report a literal once, where it is first used.
    let literal_at = |file: FileId, v: &Value| {
        secret_literal(project, file, v).map(|l| (l.file, u32::from(l.literal.range.start())))
    };
    let mut literals: std::collections::HashSet<(FileId, u32)> = out
        .iter()
        .filter_map(|(_, site)| literal_at(site.file(), site.value()))
        .collect();
    for (file, facts) in project.python() {
        for class in &facts.classes {
            if is_dev_or_test_name(&class.qualified) || enums.contains_key(class.qualified.as_str())
            {
                continue;
            }
            for &key in SIGNING_ATTRS {
                let Some(attr) = class.attr(key) else {
                    continue;
                };
                if literal_at(file, &attr.value).is_some_and(|l| !literals.insert(l)) {
                    continue;
                }
                let span = crate::source::Span::new(file, attr.range);
                if seen.insert(span) {
                    let settings = is_settings_class(project, file, class);
                    out.push((
                        None,
                        SecretSite::ClassAttr {
                            file,
                            value: &attr.value,
                            span,
                            key,
                            field: attr.name.as_str(),
                            env: settings.then(|| field_variables(project, file, class, attr)),
                        },
                    ));
                }
            }
        }
    }
    for (file, facts) in project.python() {
        for call in &facts.calls {
            // Cheap pre-check on the last name before resolving.
            let Some(r) = call.call().func.reference() else {
                continue;
            };
            let last = r.last_name();
            if !SIGNING_CALLS
                .iter()
                .any(|c| c.0.rsplit('.').next() == Some(last))
            {
                continue;
            }
            let Some(&(_, position, keyword, function)) =
                callee(project, file, call).and_then(|q| SIGNING_CALLS.iter().find(|c| c.0 == q))
            else {
                continue;
            };
            if let Some(key) = call.call().param(position, keyword) {
                keys.push((None, file, key, KeyUse::Call(function)));
            }
        }
    }
    // Starlette's cookie sessions: `app.add_middleware(SessionMiddleware, secret_key=...)`.
    for ext in &project.extensions {
        if ext.kind != ExtKind::SessionMiddleware {
            continue;
        }
        if let Some(o) = ext.opt("secret_key") {
            keys.push((None, o.file, &o.value, KeyUse::Call("SessionMiddleware")));
        }
    }
    let resolver = project.resolver();
    for (app, file, key, used_by) in keys {
        let use_span = crate::source::Span::new(file, key.range);
        // Only literals: a key read from the environment without a
        // fallback is fine, and KEY003's startup check is Flask's.
        let Some(lit) = secret_literal(project, file, key) else {
            // `settings.SECRET` where `settings = Settings()`: the class
            // attribute's value (a pydantic settings field's default) is
            // judged where it is written, once however many calls use it.
            // `settings.SECRET.get_secret_value()` reads the same.
            // A field a settings class declares without a default is
            // required; its variable is still judged in env files.
            let (f, v) = resolver.deref(file, key);
            let getter = pydantic::secret_getter_receiver(v);
            let Some(found) =
                pydantic_settings::member_of(project, f, getter.as_ref().unwrap_or(v))
            else {
                continue;
            };
            let (cfile, class, attr) = (found.file, found.class, found.attr);
            if is_dev_or_test_name(&class.qualified) {
                continue;
            }
            if secret_literal(project, cfile, &attr.value).is_some_and(|l| {
                l.value.trim_start().starts_with("-----BEGIN")
                    || !literals.insert((l.file, u32::from(l.literal.range.start())))
            }) {
                continue;
            }
            let span = crate::source::Span::new(cfile, attr.range);
            if seen.insert(span) {
                let settings = is_settings_class(project, cfile, class);
                out.push((
                    app,
                    SecretSite::Field {
                        file: cfile,
                        value: &attr.value,
                        span,
                        class: class.name.as_str(),
                        field: attr.name.as_str(),
                        env: settings.then(|| field_variables(project, cfile, class, attr)),
                        used_by,
                        used_at: use_span,
                    },
                ));
            }
            continue;
        };
        // A config entry with a literal is a site of its own already.
        let KeyUse::Call(function) = used_by else {
            continue;
        };
        // A public key verifies, it does not sign.
        let pem = lit.value.trim_start().starts_with("-----BEGIN");
        if pem || !literals.insert((lit.file, u32::from(lit.literal.range.start()))) {
            continue;
        }
        if seen.insert(use_span) {
            out.push((
                None,
                SecretSite::Call {
                    file,
                    value: key,
                    span: use_span,
                    function,
                },
            ));
        }
    }
    out
}

/// Whether a settings class's own declaration of a field is never what an
/// object holds: no code makes an object of the class itself
/// (`Settings()`), and every project subclass not named for development or
/// tests declares the field again (`class ProdSettings(Settings): SECRET_KEY:
/// str`, required there) — the base's default is then never used outside
/// development.
fn shadowed_in_subclasses(
    project: &Project,
    class: &crate::python::facts::ClassFact,
    name: &str,
) -> bool {
    let q = class.qualified.as_str();
    let resolver = project.resolver();
    let mut subclasses = 0usize;
    for (file, facts) in project.python() {
        for sub in &facts.classes {
            let derives = sub.bases.iter().any(|b| {
                matches!(&resolver.resolve(file, b).target, Target::Class(b) if b.as_str() == q)
            });
            if !derives || sub.qualified.as_str() == q {
                continue;
            }
            if is_dev_or_test_name(&sub.qualified) {
                continue;
            }
            if sub.member(name).is_none() {
                return false;
            }
            subclasses += 1;
        }
    }
    if subclasses == 0 {
        return false;
    }
    let short = class.name.as_str();
    !project.python().any(|(file, facts)| {
        facts.calls.iter().any(|c| {
            let call = c.call();
            call.func
                .reference()
                .is_some_and(|r| r.last_name() == short)
                && {
                    let r = resolver.resolve(file, &call.func);
                    r.attrs.is_empty() && matches!(&r.target, Target::Class(t) if t.as_str() == q)
                }
        })
    })
}

/// What reads a signing key through a class attribute.
#[derive(Clone, Copy)]
pub enum KeyUse<'a> {
    /// The key argument of a signing call ([`SIGNING_CALLS`]) or of
    /// `SessionMiddleware`.
    Call(&'static str),
    /// An app's config entry (`app.config["SECRET_KEY"] = settings.secret_key`).
    Config(&'a ConfigEntry),
}

/// Where a secret key is set.
pub enum SecretSite<'a> {
    Entry(&'a ConfigEntry),
    ClassAttr {
        file: FileId,
        value: &'a Value,
        span: crate::source::Span,
        /// The config key it stands for (`JWT_SECRET_KEY` for a field
        /// `jwt_secret_key`).
        key: &'static str,
        /// The attribute's name (`jwt_secret_key`).
        field: &'a str,
        /// For a field of a pydantic `BaseSettings` class, the environment
        /// variables that set it (empty when they cannot be told): the value
        /// is only the default, used when the environment sets none of them.
        env: Option<Vec<String>>,
    },
    /// The key argument of a call that signs ([`SIGNING_CALLS`]:
    /// `jwt.encode(...)`, `JWTStrategy(secret=...)`, ...) or of
    /// `SessionMiddleware`.
    Call {
        file: FileId,
        value: &'a Value,
        span: crate::source::Span,
        function: &'static str,
    },
    /// A class attribute such a call or a config entry reads through an
    /// instance (`JWTStrategy(secret=settings.SECRET)` where `settings =
    /// Settings()` and `class Settings(BaseSettings): SECRET: str = "..."`),
    /// at the attribute.
    Field {
        file: FileId,
        value: &'a Value,
        span: crate::source::Span,
        class: &'a str,
        field: &'a str,
        /// For a pydantic `BaseSettings` class, the environment variables
        /// that set it (empty when they cannot be told): the value is only
        /// the default, used when the environment sets none of them.
        env: Option<Vec<String>>,
        used_by: KeyUse<'a>,
        /// The first key argument or config value that reads it.
        used_at: crate::source::Span,
    },
}

impl SecretSite<'_> {
    pub fn file(&self) -> FileId {
        match self {
            SecretSite::Entry(e) => e.file,
            SecretSite::ClassAttr { file, .. }
            | SecretSite::Call { file, .. }
            | SecretSite::Field { file, .. } => *file,
        }
    }
    pub fn value(&self) -> &Value {
        match self {
            SecretSite::Entry(e) => &e.value,
            SecretSite::ClassAttr { value, .. }
            | SecretSite::Call { value, .. }
            | SecretSite::Field { value, .. } => value,
        }
    }
    pub fn span(&self) -> crate::source::Span {
        match self {
            SecretSite::Entry(e) => e.span,
            SecretSite::ClassAttr { span, .. }
            | SecretSite::Call { span, .. }
            | SecretSite::Field { span, .. } => *span,
        }
    }
    /// What may replace a config entry's value: a `**mapping` spread after
    /// it in the same dict or call (`{"SECRET_KEY": "dev", **env}`), or a
    /// config file loaded after it that the audit cannot read.
    pub fn overridable(&self) -> Option<crate::model::Overrider> {
        match self {
            SecretSite::Entry(e) => e.overridable,
            _ => None,
        }
    }
    /// Whether the value is the default of a pydantic settings field (the
    /// environment variable of the same name overrides it), also loaded into
    /// an app's config (`from_object(settings)`).
    pub fn is_settings_default(&self) -> bool {
        self.settings_env().is_some()
    }
    /// For a pydantic settings field, the variables that set it.
    fn settings_env(&self) -> Option<&[String]> {
        match self {
            SecretSite::ClassAttr { env: Some(e), .. } | SecretSite::Field { env: Some(e), .. } => {
                Some(e)
            }
            SecretSite::Entry(ConfigEntry {
                via: ConfigVia::Settings { env, .. },
                ..
            }) => Some(env),
            _ => None,
        }
    }
    /// The variables that set a pydantic settings field, in the order
    /// pydantic tries them (empty for any other key, or when they cannot be
    /// told).
    pub fn variables(&self) -> &[String] {
        self.settings_env().unwrap_or(&[])
    }
    /// The settings field's name, for a pydantic settings field.
    pub fn field(&self) -> Option<&str> {
        if !self.is_settings_default() {
            return None;
        }
        match self {
            SecretSite::ClassAttr { field, .. } | SecretSite::Field { field, .. } => Some(field),
            SecretSite::Entry(e) => Some(&e.key),
            SecretSite::Call { .. } => None,
        }
    }
    /// The config key (`SECRET_KEY`, `JWT_SECRET_KEY`), also of a config
    /// entry that reads a class attribute; None for a key given to a call,
    /// also through a class attribute.
    pub fn key(&self) -> Option<&str> {
        match self {
            SecretSite::Entry(e) => Some(&e.key),
            SecretSite::ClassAttr { key, .. } => Some(key),
            SecretSite::Field {
                used_by: KeyUse::Config(e),
                ..
            } => Some(&e.key),
            SecretSite::Call { .. } | SecretSite::Field { .. } => None,
        }
    }
    /// The environment variable that sets the value: that of a settings
    /// field (its `env_prefix` and name, or its alias), else the config key.
    pub fn variable(&self) -> Option<&str> {
        match self.settings_env() {
            Some(env) => env.first().map(String::as_str),
            None => self.key(),
        }
    }
    /// "SECRET_KEY is not set", "none of APP_SECRET, SECRET_KEY is set": when
    /// a settings field's default (or an environment lookup's fallback, whose
    /// variable is `lookup`) is used.
    pub fn when_unset(&self, lookup: Option<&str>) -> String {
        let env = self.variables();
        match (lookup, env) {
            (Some(v), _) => format!("{v} is not set"),
            (None, [one]) => format!("{one} is not set"),
            (None, []) => match self.key() {
                Some(k) if !self.is_settings_default() => format!("{k} is not set"),
                _ => "its variable is not set".to_string(),
            },
            (None, many) => format!("none of {} is set", many.join(", ")),
        }
    }
    /// [`Self::label`], and for a class attribute where a call or config
    /// entry uses it: "`Settings.SECRET`, the key given to `JWTStrategy` at
    /// app/users.py:12,", "`Settings.flask_secret`, the secret key set at
    /// app.py:6,".
    pub fn describe(&self, ctx: &super::RuleContext) -> String {
        match self {
            SecretSite::Field {
                class,
                field,
                used_by,
                used_at,
                ..
            } => {
                let set = if matches!(used_by, KeyUse::Config(_)) {
                    " set"
                } else {
                    ""
                };
                format!(
                    "`{class}.{field}`, {}{set} at {},",
                    self.label(),
                    ctx.describe(*used_at)
                )
            }
            _ => self.label(),
        }
    }
    /// What the key is, for messages: "the secret key", "the JWT signing key
    /// `JWT_SECRET_KEY`", "the key given to `jwt.encode`", "the key given to
    /// `JWTStrategy`".
    pub fn label(&self) -> String {
        match (self, self.key()) {
            (
                SecretSite::Call { function, .. }
                | SecretSite::Field {
                    used_by: KeyUse::Call(function),
                    ..
                },
                _,
            ) => {
                format!("the key given to `{function}`")
            }
            (_, Some("SECRET_KEY")) | (_, None) => "the secret key".to_string(),
            (_, Some(k)) => format!("the JWT signing key `{k}`"),
        }
    }
}

/// Calls in every audited file whose callee resolves to one of `names`.
pub fn calls_to<'a>(
    project: &'a Project,
    names: &'a [&str],
) -> impl Iterator<Item = (FileId, &'a PyFacts, &'a CallFact)> + 'a {
    project.python().flat_map(move |(file, facts)| {
        facts
            .calls
            .iter()
            .filter(move |c| {
                // Cheap pre-check on the last name before resolving.
                let Some(r) = c.call().func.reference() else {
                    return false;
                };
                let last = r.last_name();
                names.iter().any(|n| n.rsplit('.').next() == Some(last))
                    && callee(project, file, c).is_some_and(|q| names.contains(&q.as_str()))
            })
            .map(move |c| (file, facts, c))
    })
}

/// Whether a value resolves to one of the given external names.
pub fn resolves_to(project: &Project, file: FileId, v: &Value, names: &[&str]) -> bool {
    let r = project.resolver().resolve(file, v);
    match (&r.target, r.external_name()) {
        (_, Some(q)) => names.contains(&q.as_str()),
        (Target::Unknown, None) => false,
        _ => false,
    }
}

/// The lower-case words of an identifier: split at anything but ASCII letters
/// and digits and at lower-to-upper case changes (`confirm_email`,
/// `confirm-email`, `ConfirmEmail`, `api.get_token`).
pub fn identifier_words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            out.push(std::mem::take(&mut cur));
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    out.push(cur);
    out.retain(|w| !w.is_empty());
    out
}
