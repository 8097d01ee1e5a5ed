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
