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
    assert!(msgs[0].contains("another value"), "{msgs:#?}");
}
