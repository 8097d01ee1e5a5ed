//! A pydantic settings object loaded into a Flask config:
//! `from_object(settings)`, `from_mapping(settings.model_dump())`,
//! `update(settings.dict())`, with the object made at module level, by an
//! `lru_cache` factory, or in the app factory. The keys are the field names
//! (upper-case ones only where Flask keeps only those), the values the
//! fields' defaults, and each entry knows the variables that override it.

use audit::model::{ConfigVia, Project};
use report::Report;

mod common;

fn audit(files: &[(&str, &str)]) -> (tempfile::TempDir, Project, Report) {
    let (dir, outcome) = common::audit_files(files);
    (dir, outcome.project, outcome.report)
}

const SETTINGS: &str = r#"from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Base(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    SECRET_KEY: str = "base-default"
    DEBUG: bool = Field(default=True)
    database_url: str = "sqlite://"


class Settings(Base, env_prefix="SHOP_"):
    SECRET_KEY: SecretStr
    JWT_SECRET_KEY: str = Field("jwt-default", validation_alias=AliasChoices("SHOP_JWT", "JWT_SECRET_KEY"))
    DEBUG: bool = False
    _private: str = "x"


settings = Settings()


@lru_cache
def get_settings() -> Settings:
    return Settings()
"#;

/// (key, literal value if any, class, variables) of every config entry.
fn entries(p: &Project) -> Vec<(String, Option<String>, String, Vec<String>)> {
    p.apps[0]
        .config
        .entries
        .iter()
        .map(|e| match &e.via {
            ConfigVia::Settings { class, env } => (
                e.key.clone(),
                e.value
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| e.value.as_bool().map(|b| b.to_string())),
                class.clone(),
                env.clone(),
            ),
            other => panic!("{}: not from the settings object: {other:?}", e.key),
        })
        .collect()
}

fn app(body: &str) -> String {
    format!("from flask import Flask\n\nfrom config import get_settings, settings, Settings\n\n\ndef create_app():\n    app = Flask(__name__)\n    {body}\n    return app\n")
}

#[test]
fn from_object_of_a_factory_made_instance_loads_upper_case_fields() {
    let (_d, p, _r) = audit(&[
        ("config.py", SETTINGS),
        ("app.py", &app("app.config.from_object(get_settings())")),
    ]);
    let got = entries(&p);
    let keys: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
    // Bases first; a field declared again replaces the base's in place.
    assert_eq!(keys, ["SECRET_KEY", "DEBUG", "JWT_SECRET_KEY"]);
    // Required in the subclass: no value, whatever the base says.
    assert_eq!(got[0].1, None);
    assert_eq!(got[0].3, ["SHOP_SECRET_KEY"]);
    assert_eq!(got[1].1.as_deref(), Some("false"));
    assert_eq!(got[2].1.as_deref(), Some("jwt-default"));
    assert_eq!(got[2].3, ["SHOP_JWT", "JWT_SECRET_KEY"]);
    assert!(got.iter().all(|e| e.2 == "config.Settings"));
    assert!(!p.apps[0].config.incomplete);
    assert_eq!(
        p.apps[0].config.flag("DEBUG"),
        Some(false),
        "the subclass's default is in effect"
    );
}

#[test]
fn from_mapping_of_model_dump_keeps_upper_case_keys_and_update_all() {
    let (_d, p, _r) = audit(&[
        ("config.py", SETTINGS),
        (
            "app.py",
            &app("app.config.from_mapping(settings.model_dump())"),
        ),
    ]);
    let keys: Vec<String> = entries(&p).into_iter().map(|e| e.0).collect();
    assert_eq!(keys, ["SECRET_KEY", "DEBUG", "JWT_SECRET_KEY"]);

    let (_d, p, _r) = audit(&[
        ("config.py", SETTINGS),
        (
            "app.py",
            &app("s = Settings()\n    app.config.update(s.dict())"),
        ),
    ]);
    let keys: Vec<String> = entries(&p).into_iter().map(|e| e.0).collect();
    assert_eq!(
        keys,
        ["SECRET_KEY", "DEBUG", "database_url", "JWT_SECRET_KEY"]
    );
}

#[test]
fn dumps_that_change_their_keys_and_the_class_itself_stay_open() {
    for body in [
        "app.config.from_mapping(settings.model_dump(exclude={'DEBUG'}))",
        "app.config.from_mapping(settings.model_dump(by_alias=True))",
        // pydantic takes fields out of the class: Flask finds none on it.
        "app.config.from_object(Settings)",
    ] {
        let (_d, p, _r) = audit(&[("config.py", SETTINGS), ("app.py", &app(body))]);
        let cfg = &p.apps[0].config;
        assert!(cfg.entries.is_empty(), "{body}: {:?}", cfg.entries);
        assert!(cfg.incomplete, "{body}");
    }
}

#[test]
fn upper_case_properties_and_extra_fields_leave_the_config_open() {
    let with_property = SETTINGS.replace(
        "    _private: str = \"x\"\n",
        "    _private: str = \"x\"\n\n    @property\n    def SQLALCHEMY_DATABASE_URI(self) -> str:\n        return self.database_url\n",
    );
    let (_d, p, _r) = audit(&[
        ("config.py", &with_property),
        ("app.py", &app("app.config.from_object(settings)")),
    ]);
    assert!(p.apps[0].config.incomplete);
    assert!(p.apps[0].config.get("DEBUG").is_some());

    let extra = SETTINGS.replace("extra=\"ignore\"", "extra=\"allow\"");
    let (_d, p, _r) = audit(&[
        ("config.py", &extra),
        ("app.py", &app("app.config.from_object(settings)")),
    ]);
    assert!(p.apps[0].config.incomplete);
}

#[test]
fn literal_keys_of_from_mapping_are_kept_only_upper_case() {
    let (_d, p, _r) = audit(&[
        ("config.py", SETTINGS),
        (
            "app.py",
            &app("app.config.from_mapping({'secret_key': 'x', 'TESTING': False}, debug=True)"),
        ),
    ]);
    let keys: Vec<&str> = p.apps[0]
        .config
        .entries
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(keys, ["TESTING"]);
}

#[test]
fn a_literal_default_loaded_into_the_config_is_a_fallback_not_a_hard_coded_key() {
    let settings = "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    SECRET_KEY: str = \"Qm8v_3kLx9-ZtR2pW7yNc4HsJdA1uEfGb6oVi0T5\"\n\n\nsettings = Settings()\n";
    let (_d, p, r) = audit(&[
        ("config.py", settings),
        (
            "app.py",
            "from flask import Flask\n\nfrom config import settings\n\napp = Flask(__name__)\napp.config.from_object(settings)\n",
        ),
    ]);
    assert!(matches!(
        p.apps[0].config.get("SECRET_KEY").map(|e| &e.via),
        Some(ConfigVia::Settings { .. })
    ));
    let controls: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.control.starts_with("KEY"))
        .map(|f| f.control.as_str())
        .collect();
    assert_eq!(controls, ["KEY003"]);
    let f = r.findings.iter().find(|f| f.control == "KEY003").unwrap();
    assert!(f.message.contains("SECRET_KEY is not set"), "{}", f.message);
    assert!(
        f.fix
            .as_deref()
            .is_some_and(|x| x.contains("without a default")),
        "{:?}",
        f.fix
    );
}
