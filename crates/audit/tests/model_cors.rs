//! The CORS policy the model derives, as flask-cors and Starlette apply it.

use audit::model::{
    cors::{policy, Origins},
    ExtKind, Project,
};

mod common;

fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    let (dir, outcome) = common::audit_files(files);
    (dir, outcome.project)
}

fn cors(project: &Project, kind: ExtKind) -> audit::model::cors::CorsPolicy {
    let ext = project
        .extensions
        .iter()
        .find(|e| e.kind == kind)
        .expect("a CORS extension");
    policy(project, ext).unwrap()
}

#[test]
fn flask_cors_defaults_to_every_origin() {
    let (_d, p) = project(&[(
        "app.py",
        "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\nCORS(app)\n",
    )]);
    let c = cors(&p, ExtKind::Cors);
    assert_eq!(c.origins, Origins::Any);
    assert_eq!(c.credentials, Some(false));
    assert_eq!(c.reflects_any_origin_with_credentials(), Some(false));
}

#[test]
fn flask_cors_wildcard_with_credentials_reflects() {
    let (_d, p) = project(&[(
        "app.py",
        "from flask import Flask\nfrom flask_cors import CORS\ncors = CORS(origins='*', supports_credentials=True)\napp = Flask(__name__)\ncors.init_app(app)\n",
    )]);
    let c = cors(&p, ExtKind::Cors);
    assert_eq!(c.reflects_any_origin_with_credentials(), Some(true));
    assert_eq!(p.describe(c.origins_span.unwrap()), "app.py:3");
}

#[test]
fn flask_cors_reads_resources_and_app_config() {
    let (_d, p) = project(&[(
        "app.py",
        "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\napp.config['CORS_SUPPORTS_CREDENTIALS'] = True\nCORS(app, resources={r'/api/*': {'origins': ['https://a.example', 'https://b.example']}})\n",
    )]);
    let c = cors(&p, ExtKind::Cors);
    assert_eq!(
        c.origins,
        Origins::Listed(vec!["https://a.example".into(), "https://b.example".into()])
    );
    assert_eq!(c.credentials, Some(true));
    assert_eq!(c.reflects_any_origin_with_credentials(), Some(false));
}

#[test]
fn origins_from_the_environment_are_unknown() {
    let (_d, p) = project(&[(
        "app.py",
        "import os\nfrom flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\nCORS(app, origins=os.environ['ORIGINS'].split(','), supports_credentials=True)\n",
    )]);
    let c = cors(&p, ExtKind::Cors);
    assert_eq!(c.origins, Origins::Unknown);
    assert_eq!(c.reflects_any_origin_with_credentials(), None);
}

#[test]
fn starlette_middleware() {
    let (_d, p) = project(&[(
        "main.py",
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origin_regex=r'https://.*\\.example\\.com', allow_credentials=True, allow_headers=['*'])\n",
    )]);
    let c = cors(&p, ExtKind::CorsMiddleware);
    assert!(matches!(c.origins, Origins::Patterns(ref r) if r.len() == 1));
    assert_eq!(c.credentials, Some(true));
    assert_eq!(c.allow_headers, Some(vec!["*".to_string()]));
    let (_d, p) = project(&[("main.py", "from fastapi import FastAPI\nfrom starlette.middleware.cors import CORSMiddleware\napp = FastAPI()\napp.add_middleware(CORSMiddleware)\n")]);
    assert_eq!(cors(&p, ExtKind::CorsMiddleware).origins, Origins::None);
}

const SETTINGS_APP: &str = r#"from functools import lru_cache
from typing import List

from fastapi import FastAPI
from pydantic_settings import BaseSettings
from starlette.middleware.cors import CORSMiddleware


class BaseAppSettings(BaseSettings):
    allowed_hosts: List[str] = ["*"]
    trusted_origins: List[str] = ["https://app.example.com"]


class AppSettings(BaseAppSettings):
    debug: bool = False


@lru_cache
def get_settings():
    return AppSettings()


settings = get_settings()
app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=settings.ORIGINS_FIELD,
    allow_credentials=True,
)
"#;

#[test]
fn origins_from_a_settings_field_default() {
    let app = SETTINGS_APP.replace("ORIGINS_FIELD", "allowed_hosts");
    let (_d, p) = project(&[("main.py", &app)]);
    let c = cors(&p, ExtKind::CorsMiddleware);
    assert_eq!(
        c.origins,
        Origins::Any,
        "the BaseSettings default, through a base class"
    );
    assert_eq!(c.reflects_any_origin_with_credentials(), Some(true));

    let listed = SETTINGS_APP.replace("ORIGINS_FIELD", "trusted_origins");
    let (_d, p) = project(&[("main.py", &listed)]);
    assert_eq!(
        cors(&p, ExtKind::CorsMiddleware).origins,
        Origins::Listed(vec!["https://app.example.com".into()])
    );
}

#[test]
fn a_settings_field_set_by_the_environment_is_unknown() {
    let app = SETTINGS_APP.replace("ORIGINS_FIELD", "allowed_hosts");
    for env in [
        (".env", "ALLOWED_HOSTS=[\"https://app.example.com\"]\n"),
        (
            "docker-compose.yml",
            "services:\n  api:\n    build: .\n    environment:\n      - APP_ALLOWED_HOSTS=[\"https://app.example.com\"]\n",
        ),
    ] {
        let (_d, p) = project(&[("main.py", &app), env]);
        let c = cors(&p, ExtKind::CorsMiddleware);
        assert_eq!(c.origins, Origins::Unknown, "{}", env.0);
        assert_eq!(c.reflects_any_origin_with_credentials(), None);
    }
}
