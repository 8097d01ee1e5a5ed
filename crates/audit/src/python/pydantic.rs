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

/// What a settings field holds when the environment does not set it, as a
/// plain value: the default with `Field(default=...)` and `SecretStr(...)`
/// unwrapped, a `Field(default_factory=...)` as written (the factory is made
/// at start), and an unknown value for a required field (`Field(...)`).
pub fn default_value(v: &Value) -> Value {
    match call_to(v, FIELD_FUNCS) {
        None => unwrap_secret(v).clone(),
        Some(c) => match (c.param(0, "default"), c.kwarg("default_factory")) {
            (Some(d), _) if !matches!(d.kind, Kind::Unknown) => unwrap_secret(d).clone(),
            (None, Some(_)) => v.clone(),
            _ => Value::unknown(v.range, false),
        },
    }
}

/// The environment variables a settings field's `Field` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvNames {
    /// No alias: the variable is the field's name (with the class's
    /// `env_prefix`).
    FromName,
    /// `validation_alias="X"`, `AliasChoices("X", "Y")`, `alias="X"`,
    /// pydantic 1's `env="X"` / `env=["X", "Y"]`, in the order pydantic tries
    /// them (the `env_prefix` does not apply).
    Explicit(Vec<String>),
    /// An alias that names no variable the source spells out (an
    /// `AliasPath`, a name computed at run time).
    Unknown,
}

/// The variables a `Field` names a settings field's value after:
/// `validation_alias` (a string or `AliasChoices`, whose string choices are
/// tried in order) over `alias` (pydantic-settings 2), or pydantic 1's `env`
/// (a string or a list of them).
pub fn field_env_names(v: &Value) -> EnvNames {
    let Some(c) = call_to(v, FIELD_FUNCS) else {
        return EnvNames::FromName;
    };
    let Some(alias) = ["validation_alias", "alias", "env"]
        .iter()
        .find_map(|k| c.kwarg(k).filter(|a| !matches!(a.kind, Kind::None)))
    else {
        return EnvNames::FromName;
    };
    let names: Vec<String> = match &alias.kind {
        Kind::Str(_) => alias.as_str().map(str::to_string).into_iter().collect(),
        Kind::Call(choices)
            if choices
                .func
                .reference()
                .is_some_and(|r| r.last_name() == "AliasChoices")
                && !choices.spread =>
        {
            // An `AliasPath` choice reads into a variable's JSON: none of
            // the variables it could name is spelled out.
            choices
                .args
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        }
        Kind::List(items) | Kind::Tuple(items) | Kind::Set(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        EnvNames::Unknown
    } else {
        EnvNames::Explicit(names)
    }
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
        let names = |n: &str| field_env_names(&attr_value(SRC, "Settings", n));
        let explicit = |v: &[&str]| EnvNames::Explicit(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(names("a"), EnvNames::FromName);
        assert_eq!(names("b"), explicit(&["B_KEY"]));
        assert_eq!(names("d"), explicit(&["D_KEY"]));
        assert_eq!(names("g"), explicit(&["G_KEY"]));
        assert_eq!(names("h"), EnvNames::FromName);
    }

    #[test]
    fn alias_choices_and_variable_lists() {
        let src = r#"from pydantic import AliasChoices, AliasPath, Field
from pydantic_settings import BaseSettings


class S(BaseSettings):
    a: str = Field(validation_alias=AliasChoices("APP_SECRET", "SECRET_KEY"))
    b: str = Field("x", validation_alias=AliasChoices(AliasPath("CREDS", "key"), "B_KEY"))
    c: str = Field(validation_alias=AliasPath("CREDS", "key"))
    d: str = Field(..., env=["D_ONE", "D_TWO"])
    e: str = Field(validation_alias="E_KEY", alias="IGNORED")
    f: str = Field(alias=ALIAS_FROM_ELSEWHERE)
    g: str = Field(default="x", alias=None)
"#;
        let names = |n: &str| field_env_names(&attr_value(src, "S", n));
        let explicit = |v: &[&str]| EnvNames::Explicit(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(names("a"), explicit(&["APP_SECRET", "SECRET_KEY"]));
        assert_eq!(names("b"), explicit(&["B_KEY"]));
        assert_eq!(names("c"), EnvNames::Unknown);
        assert_eq!(names("d"), explicit(&["D_ONE", "D_TWO"]));
        assert_eq!(names("e"), explicit(&["E_KEY"]));
        assert_eq!(names("f"), EnvNames::Unknown);
        assert_eq!(names("g"), EnvNames::FromName);
    }

    #[test]
    fn bare_annotations_are_declared_fields_but_class_vars_are_not() {
        let src = r#"from typing import ClassVar
import typing


class S(BaseSettings, env_prefix="APP_", case_sensitive=True):
    a: str
    b: ClassVar[str]
    c: typing.ClassVar[int]
    d: int = 1
    d: int
    e: int
    e: int = 2


def f():
    x: int
"#;
        let facts = crate::python::analyze(0, src, "pkg.settings", false).expect("parses");
        let class = facts
            .classes
            .iter()
            .find(|c| c.name.as_str() == "S")
            .unwrap();
        let declared = |n: &str| class.member(n).map(|m| m.declared_only);
        assert_eq!(declared("a"), Some(true));
        assert_eq!(declared("b"), None);
        assert_eq!(declared("c"), None);
        // The last statement wins.
        assert_eq!(declared("d"), Some(true));
        assert_eq!(declared("e"), Some(false));
        // A bare annotation sets no class attribute.
        assert!(class.attr("a").is_none());
        assert_eq!(
            class.keyword("env_prefix").and_then(Value::as_str),
            Some("APP_")
        );
        assert_eq!(
            class.keyword("case_sensitive").and_then(Value::as_bool),
            Some(true)
        );
    }

    #[test]
    fn defaults_as_plain_values() {
        let value = |n: &str| default_value(&attr_value(SRC, "Settings", n));
        assert_eq!(value("a").as_str(), Some("dev"));
        assert_eq!(value("c").as_str(), Some("changeme"));
        assert_eq!(value("d").as_str(), Some("wrapped"));
        // Required: unknown. A factory stays as written.
        assert!(matches!(value("e").kind, Kind::Unknown));
        assert!(matches!(value("g").kind, Kind::Unknown));
        assert!(matches!(
            field_default(&value("f")),
            FieldDefault::Factory(_)
        ));
        assert_eq!(value("h").as_str(), Some("plain"));
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
