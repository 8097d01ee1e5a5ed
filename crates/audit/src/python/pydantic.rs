//! pydantic fields as plain values: the default a class attribute declares
//! (`secret_key: str = Field(default="dev")`, `SecretStr("changeme")`), the
//! environment variable a `BaseSettings` field is read from (`env_prefix`,
//! `alias`), and the secret behind `settings.secret_key.get_secret_value()`.

use super::value::{Kind, Ref, Value};

/// pydantic's `Field` (and SQLModel's, which takes the same `default`).
const FIELD_FUNCS: &[&str] = &[
    "pydantic.Field",
    "pydantic.fields.Field",
    "pydantic.v1.Field",
    "pydantic.v1.fields.Field",
    "sqlmodel.Field",
];

/// Wrappers that hide a secret from `repr` but hold it as it is.
const SECRET_TYPES: &[&str] = &[
    "pydantic.SecretStr",
    "pydantic.types.SecretStr",
    "pydantic.v1.SecretStr",
    "pydantic.v1.types.SecretStr",
];

/// What a class attribute declares as its default.
#[derive(Debug, Clone, Copy)]
pub enum FieldDefault<'a> {
    /// The value used when nothing sets the field: the attribute's own value,
    /// `Field`'s `default` and the text inside `SecretStr(...)` unwrapped.
    /// `Field(...)` (required) leaves an unknown value here.
    Value(&'a Value),
    /// `Field(default_factory=...)`: made by a call at start.
    Factory(&'a Value),
}

fn call_to<'a>(v: &'a Value, names: &[&str]) -> Option<&'a super::value::Call> {
    let c = v.as_call()?;
    let name = c.func_name()?;
    names.contains(&name.as_str()).then_some(c)
}

/// `SecretStr("x")` is `"x"`; anything else is itself.
pub fn unwrap_secret(v: &Value) -> &Value {
    match call_to(v, SECRET_TYPES) {
        Some(c) if !c.spread => c.param(0, "secret_value").unwrap_or(v),
        _ => v,
    }
}

/// The default a class attribute's value declares: `Field(default=x)` and
/// `Field(x)` are `x`, `Field(default_factory=f)` is made by `f`, and
/// `SecretStr("x")` (also as `Field`'s default) is `"x"`.
pub fn field_default(v: &Value) -> FieldDefault<'_> {
    let Some(c) = call_to(v, FIELD_FUNCS) else {
        return FieldDefault::Value(unwrap_secret(v));
    };
    if let Some(d) = c.param(0, "default") {
        return FieldDefault::Value(unwrap_secret(d));
    }
    if let Some(f) = c.kwarg("default_factory") {
        return FieldDefault::Factory(f);
    }
    // `Field()` with no default is required; an unknown value says so.
    FieldDefault::Value(v.as_call().map_or(v, |c| &c.func))
}

/// The value of a class attribute when nothing overrides it: the
/// [`FieldDefault::Value`], or None for a default made by a factory.
pub fn field_value(v: &Value) -> Option<&Value> {
    match field_default(v) {
        FieldDefault::Value(d) => Some(d),
        FieldDefault::Factory(_) => None,
    }
}

/// The variable name a `Field` gives a settings field explicitly:
/// `validation_alias="X"` or `alias="X"` (pydantic-settings 2, where the
/// `env_prefix` does not apply to it), or pydantic 1's `env="X"`.
pub fn field_env_name(v: &Value) -> Option<&str> {
    let c = call_to(v, FIELD_FUNCS)?;
    ["validation_alias", "alias", "env"]
        .iter()
        .find_map(|k| c.kwarg(k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// `x.get_secret_value()` reads the secret `x` holds: `x` as a reference
/// (`settings.secret_key` in `settings.secret_key.get_secret_value()`).
pub fn secret_getter_receiver(v: &Value) -> Option<Value> {
    let c = v.as_call()?;
    if !c.args.is_empty() || !c.kwargs.is_empty() {
        return None;
    }
    let r: &Ref = c.func.reference()?;
    if r.attrs.len() < 2 || r.last_name() != "get_secret_value" {
        return None;
    }
    c.receiver()
}

/// A settings class's own configuration: `model_config =
/// SettingsConfigDict(env_prefix="APP_")` (or a dict literal) and pydantic 1's
/// inner `class Config: env_prefix = "APP_"`, as (option, value) pairs.
pub fn config_option<'a>(model_config: Option<&'a Value>, option: &str) -> Option<&'a Value> {
    let v = model_config?;
    if let Some(c) = v.as_call() {
        if c.func.reference().is_some_and(|r| {
            let n = r.last_name();
            n == "SettingsConfigDict" || n == "ConfigDict" || n == "dict"
        }) {
            return c.kwarg(option);
        }
        return None;
    }
    match &v.kind {
        Kind::Dict(_) => v.dict_get(option),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr_value(src: &str, class: &str, name: &str) -> Value {
        let facts = crate::python::analyze(0, src, "pkg.settings", false).expect("parses");
        facts
            .classes
            .iter()
            .find(|c| c.name.as_str() == class)
            .and_then(|c| c.attr(name))
            .map(|a| a.value.clone())
            .expect("attribute")
    }

    const SRC: &str = r#"import secrets
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env.prod")

    a: str = Field(default="dev")
    b: str = Field("positional", alias="B_KEY")
    c: SecretStr = SecretStr("changeme")
    d: SecretStr = Field(default=SecretStr("wrapped"), validation_alias="D_KEY")
    e: str = Field(..., min_length=32)
    f: str = Field(default_factory=lambda: secrets.token_hex(32))
    g: str = Field(env="G_KEY")
    h: str = "plain"
"#;

    #[test]
    fn field_defaults_unwrap_field_and_secret_str() {
        let lit = |name: &str| {
            let v = attr_value(SRC, "Settings", name);
            field_value(&v).and_then(Value::as_str).map(str::to_string)
        };
        assert_eq!(lit("a").as_deref(), Some("dev"));
        assert_eq!(lit("b").as_deref(), Some("positional"));
        assert_eq!(lit("c").as_deref(), Some("changeme"));
        assert_eq!(lit("d").as_deref(), Some("wrapped"));
        assert_eq!(lit("e"), None);
        assert_eq!(lit("g"), None);
        assert_eq!(lit("h").as_deref(), Some("plain"));
        let f = attr_value(SRC, "Settings", "f");
        assert!(matches!(field_default(&f), FieldDefault::Factory(_)));
        assert!(field_value(&f).is_none());
    }

    #[test]
    fn explicit_variable_names() {
        let name = |n: &str| field_env_name(&attr_value(SRC, "Settings", n)).map(str::to_string);
        assert_eq!(name("a"), None);
        assert_eq!(name("b").as_deref(), Some("B_KEY"));
        assert_eq!(name("d").as_deref(), Some("D_KEY"));
        assert_eq!(name("g").as_deref(), Some("G_KEY"));
    }

    #[test]
    fn model_config_options() {
        let mc = attr_value(SRC, "Settings", "model_config");
        assert_eq!(
            config_option(Some(&mc), "env_prefix").and_then(Value::as_str),
            Some("APP_")
        );
        assert!(config_option(Some(&mc), "case_sensitive").is_none());
        let dict = attr_value(
            "class S:\n    model_config = {'env_prefix': 'X_'}\n",
            "S",
            "model_config",
        );
        assert_eq!(
            config_option(Some(&dict), "env_prefix").and_then(Value::as_str),
            Some("X_")
        );
    }

    #[test]
    fn secret_getters_read_their_receiver() {
        let facts = crate::python::analyze(
            0,
            "from app.config import settings\nk = use(settings.secret_key.get_secret_value())\nuse(x.get_secret_value(1))\n",
            "pkg.main",
            false,
        )
        .expect("parses");
        let arg = &facts
            .calls
            .iter()
            .find(|c| c.call().last_name() == Some("use"))
            .unwrap()
            .call()
            .args[0];
        let recv = secret_getter_receiver(arg).expect("a getter");
        assert_eq!(
            recv.qualified().as_deref(),
            Some("app.config.settings.secret_key")
        );
        let other = &facts
            .calls
            .iter()
            .rfind(|c| c.call().last_name() == Some("use"))
            .unwrap()
            .call()
            .args[0];
        assert!(secret_getter_receiver(other).is_none());
    }
}
