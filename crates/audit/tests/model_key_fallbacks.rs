//! KEY003 tells a random fallback (`os.urandom(24)`) apart from a readable one:
//! the risk is not a known key but keys that differ per worker and restart.

mod common;

fn key003_messages(files: &[(&str, &str)]) -> Vec<String> {
    let (_d, out) = common::audit_files(files);
    out.report
        .findings
        .iter()
        .filter(|f| f.control == "KEY003")
        .map(|f| f.message.clone())
        .collect()
}

#[test]
fn a_random_fallback_is_named_as_one() {
    let config = r#"import os
import secrets


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", os.urandom(24))
    JWT_SECRET_KEY = os.getenv("JWT_SECRET_KEY") or secrets.token_hex(32)
"#;
    let init = r#"from flask import Flask
from flask_jwt_extended import JWTManager

app = Flask(__name__)
app.config.from_object("config.Config")
jwt = JWTManager(app)
"#;
    let msgs = key003_messages(&[("config.py", config), ("app.py", init)]);
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert!(
        msgs.iter().all(|m| m.contains("random key made at start")),
        "{msgs:#?}"
    );
}

#[test]
fn a_fallback_read_from_elsewhere_stays_another_value() {
    let config = r#"import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", os.environ.get("OLD_SECRET_KEY"))
"#;
    let init = r#"from flask import Flask

app = Flask(__name__)
app.config.from_object("config.Config")
"#;
    let msgs = key003_messages(&[("config.py", config), ("app.py", init)]);
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    // Not a literal: the message names the variable the key falls back to.
    assert!(
        msgs[0].contains("falls back to the variable OLD_SECRET_KEY"),
        "{msgs:#?}"
    );
}

#[test]
fn a_settings_default_names_the_variable_pydantic_reads() {
    let settings = r#"from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="acme_", env_file=".env")


class Settings(Base):
    secret_key: SecretStr = SecretStr("acme-flask-session-signing-key-0001")
    jwt_signing: str = Field(default="acme-jwt-signing-key-000000000000002", alias="ACME_JWT")


class Exact(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="svc_", case_sensitive=True)

    reset_signing: str = "acme-reset-signing-key-00000000000003"


settings = Settings()
exact = Exact()
"#;
    let app = r#"import jwt
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from settings import exact, settings

app = Flask(__name__)
app.secret_key = settings.secret_key.get_secret_value()
reset = URLSafeTimedSerializer(exact.reset_signing)


def issue(user_id):
    return jwt.encode({"sub": user_id}, settings.jwt_signing, algorithm="HS256")
"#;
    let msgs = key003_messages(&[("settings.py", settings), ("app.py", app)]);
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
    for var in [
        "whenever ACME_SECRET_KEY is not set",
        "whenever ACME_JWT is not set",
        "whenever svc_reset_signing is not set",
    ] {
        assert!(msgs.iter().any(|m| m.contains(var)), "{var}: {msgs:#?}");
    }
}

#[test]
fn class_keywords_and_alias_choices_name_the_variables() {
    let settings = r#"from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings, env_prefix="SHOP_", env_file=".env"):
    secret_key: str = "shop-session-signing-key-000000000001"
    jwt_signing: str = Field(
        default="shop-jwt-signing-key-000000000000002",
        validation_alias=AliasChoices("SHOP_JWT", "JWT_SECRET"),
    )


settings = Settings()
"#;
    let app = r#"import jwt
from flask import Flask

from settings import settings

app = Flask(__name__)
app.secret_key = settings.secret_key


def issue(user_id):
    return jwt.encode({"sub": user_id}, settings.jwt_signing, algorithm="HS256")
"#;
    let msgs = key003_messages(&[("settings.py", settings), ("app.py", app)]);
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    for var in [
        "whenever SHOP_SECRET_KEY is not set",
        "whenever none of SHOP_JWT, JWT_SECRET is set",
    ] {
        assert!(msgs.iter().any(|m| m.contains(var)), "{var}: {msgs:#?}");
    }
}
