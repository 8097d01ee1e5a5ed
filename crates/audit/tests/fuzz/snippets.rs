//! Hostile snippets per file kind: deep nesting, huge literals, and the
//! patterns the model follows across files turned back on themselves (cycles in
//! inheritance, imports, factories, blueprint registration, environment
//! expansion), plus numbers at the edges of i64.

use super::mutate::{Flavor, Rng};

/// Model-level Python: valid code that points the resolver and rules at itself.
const PYTHON: &[&str] = &[
    "from flask import Flask, Blueprint, request, session, redirect\napp = Flask(__name__)",
    "class A(A):\n    pass",
    "class A(B):\n    SECRET_KEY = B.SECRET_KEY\nclass B(A):\n    DEBUG = A.DEBUG",
    "app = app",
    "app = create_app(app)",
    "def create_app(config=None):\n    return create_app(create_app)",
    "def create_app():\n    app = Flask(__name__)\n    app.config.from_object(create_app())\n    return app",
    "from . import app",
    "from .. import app as app",
    "from ........ import x",
    "from .app import *",
    "import app, app.app, app.app.app",
    "app.config.from_object(app.config)",
    "app.config.from_object(__name__)",
    "app.config.from_object('app.app.app')",
    "app.config.from_object(object)",
    "app.config.from_pyfile(__file__)",
    "app.config.from_pyfile(app)",
    "app.config.from_prefixed_env(prefix=app)",
    "app.config.update(**app.config)",
    "app.config.update(app.config, DEBUG=app.debug)",
    "app.config['SECRET_KEY'] = app.config['SECRET_KEY']",
    "app.config[app.config] = app",
    "app.secret_key = app.secret_key + app.secret_key",
    "app.debug = not app.debug",
    "bp = Blueprint('bp', __name__, url_prefix=bp.url_prefix)\nbp.register_blueprint(bp)\napp.register_blueprint(bp, url_prefix=bp)",
    "a = Blueprint('a', __name__, url_prefix='/a')\nb = Blueprint('b', __name__, url_prefix='/b')\na.register_blueprint(b)\nb.register_blueprint(a)\napp.register_blueprint(a)",
    "@app.route(app)\ndef view():\n    return view()",
    "@app.route('/<path:p>', methods=app)\ndef view(p):\n    return redirect(p)",
    "@bp.route('/x', methods=['POST', 'POST', None, 1])\n@limiter.limit(limiter)\n@csrf.exempt\ndef x():\n    session['user'] = request.args\n    return x",
    "app.add_url_rule(app, view_func=app, methods=app)",
    "app.add_url_rule('/v', 'v', view_func=View.as_view(View))",
    "app.register_error_handler(app, app)",
    "@app.errorhandler(Exception)\ndef handle(e):\n    return str(e), e",
    "app.wsgi_app = ProxyFix(app.wsgi_app, x_for=10**100, x_proto=-1)",
    "app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=app)",
    "Talisman(app, **Talisman)",
    "Talisman(app, force_https=app, strict_transport_security_max_age=-9223372036854775807 - 1)",
    "CORS(app, resources={r'/*': {'origins': CORS}}, origins=[CORS, '*'], supports_credentials=1)",
    "limiter = Limiter(key_func=limiter, app=app, storage_uri=limiter)",
    "limiter = Limiter(get_remote_address, app=app, default_limits=[None, 1, '1/0 per second'])",
    "csrf = CSRFProtect()\ncsrf.init_app(csrf)\ncsrf.init_app(app)\ncsrf.init_app(app)",
    "login_manager.init_app(login_manager)\nlogin_user(login_user)",
    "session[session] = session",
    "SECRET_KEY = os.environ.get(os.environ.get('A', 'B'), os.environ)",
    "SECRET_KEY = os.getenv('SECRET_KEY') or os.getenv('SECRET_KEY') or 'x' * 64",
    "DEBUG = -(-9223372036854775807 - 1) // -1",
    "DEBUG = (-9223372036854775807 - 1) % -1 or (-9223372036854775807 - 1) // -1",
    "workers = 2 ** 63 - 1 + 1\nthreads = -1\nbind = ['0.0.0.0:' * 1000]",
    "workers = multiprocessing.cpu_count() * 9223372036854775807 + 1",
    "x = 1\nfor _ in range(10):\n    x = x + x + x",
    "app = Flask(__name__) if app else Flask(app)",
    "app.run(debug=debug, host=host, port=port)\ndebug = not debug",
    "app.run(debug=True, host='0.0.0.0', use_reloader=app.run)",
    "if app.debug:\n    if not app.debug:\n        if app.config['ENV'] == 'production':\n            app.run(debug=True)",
    "config = {'production': ProductionConfig, 'x': config}\napp.config.from_object(config[os.getenv('ENV', 'production')])",
    "class ProductionConfig(ProductionConfig, Config):\n    SESSION_COOKIE_SECURE = ProductionConfig",
    "async def f(request: Request):\n    return await f(request)",
    "app.add_middleware(CORSMiddleware, allow_origins=app, allow_credentials=True)",
    "router = APIRouter(prefix=router)\nrouter.include_router(router)\napp.include_router(router, prefix=1)",
    "x = f'{x!r:{x}}{{}}' f'{f\"{x}\"}'",
    "match app:\n    case Flask(debug=True):\n        pass",
    "type X = X\ndel app\nglobal app\nnonlocal app",
    "lambda: (yield)",
    "with open(__file__) as app:\n    app.run(debug=True)",
    "try:\n    import app\nexcept* Exception as app:\n    app = Flask(app)",
];

const DOTENV: &[&str] = &[
    "SECRET_KEY=${SECRET_KEY}",
    "A=${B}\nB=${A}",
    "export FLASK_DEBUG=\"1",
    "FLASK_DEBUG='1\nSECRET_KEY=\"unterminated",
    "SECRET_KEY = dev\nSECRET_KEY=",
    "=\n==\n=x\nexport\nexport =",
    "WEB_CONCURRENCY=99999999999999999999999\nWEB_CONCURRENCY=-1",
    "KEY=\"\\\"\\\\\\\"\"",
];

const DOCKERFILE: &[&str] = &[
    "FROM python:3.12 AS base\nFROM base AS base\nFROM base",
    "ENV A=$A B=${B:-$A}\nARG USER=${USER}\nUSER ${USER}",
    "USER\nUSER 0:0\nUSER root\nCMD",
    "CMD [\"gunicorn\", \"-w\", \"99999999999999999999\", \"app:app\"",
    "ENTRYPOINT [\"flask\", \"run\", \"--debug\"]\nCMD exec gunicorn --workers=-1 --bind=0.0.0.0:80 app:app",
    "RUN \\\n\\\n\\",
    "# syntax=docker/dockerfile:1\nRUN <<EOF\nunterminated heredoc",
    "COPY --from=base . .\nFROM scratch\nCMD [\"python\", \"-m\", \"flask\", \"--app\", \"app\", \"run\", \"--debug\"]",
];

const COMPOSE: &[&str] = &[
    "services:\n  web:\n    deploy:\n      replicas: 1e400\n    scale: -5",
    "services:\n  web: &a\n    <<: *a\n    command: gunicorn -w 4 app:app",
    "services: [1, 2, {a: b}]",
    "x-anchor: &x {command: flask run --debug}\nservices:\n  web: *x",
    "services:\n  nginx:\n    image: nginx\n    ports: ['443:443', 80]\n  web:\n    environment: [FLASK_DEBUG=1, 'SECRET_KEY', {a: b}]",
    "services:\n  web:\n    command: [\"gunicorn\", \"--workers\", \"${WEB_CONCURRENCY:-2}\"]\n    env_file: [.env, .env, ../../../../etc/passwd]",
    "%YAML 1.2\n---\n!!binary aGVsbG8=\n---\n? [a]\n: b",
];

const REQUIREMENTS: &[&str] = &[
    "-r requirements.txt\n-c constraints.txt\n-e .",
    "flask[[[==\n==1.0\nflask ==\nflask>=1,<0,!=",
    "flask==3.1.0 --hash=sha256:\\\n    --hash=sha256:00",
    "flask @ https://example.invalid/flask.whl ; python_version < \"3\"",
    "Flask-Limiter[redis, ]==9999999999999999999999.0",
];

const TOML: &[&str] = &[
    "[project]\ndependencies = [1, {a = 'b'}, 'flask>=']",
    "[tool.flaskguard.audit]\nselect = 'ALL'\n[tool.poetry.dependencies]\nflask = {version = 1}",
    "[project\n",
    "a = \"\"\"unterminated",
    "[[project.dependencies]]\nname = 'x'",
];

const NGINX: &[&str] = &[
    "server { location / { location / { proxy_pass http://[::1; } } }",
    "server {\n  listen 443 ssl http2;\n  ssl_protocols;\n  proxy_set_header X-Forwarded-Proto $scheme;\n  proxy_pass http://app:8000",
    "}}}}{{{{\n;;;\n\"unterminated",
    "http { server { return 301 https://$host$request_uri; } }\nserver { listen 80; return 301 http://$host; }",
    "limit_req_zone $binary_remote_addr zone=z:10m rate=99999999999999999999r/s;",
];

const PROCFILE: &[&str] = &[
    "web: gunicorn -w $WEB_CONCURRENCY -w -1 -w 99999999999999999999 app:app",
    "web: flask run --debug --host 0.0.0.0\nweb: python app.py",
    ":\nweb:\n: web\nrelease: ",
    "web: sh -c 'gunicorn \"app:create_app()\" --workers=\"$((2*$(nproc)))\"'",
];

const TEMPLATE: &[&str] = &[
    "{{ x|safe }}{% autoescape false %}{{ y }}{% endautoescape %}",
    "{# flaskguard: ignore[ #}{{ {% {{",
    "<form method=post>{{ csrf_token( }}</form>",
];

/// One snippet for a file of this flavor: a fixed hostile one or a generated
/// deep / huge construct.
pub fn snippet(rng: &mut Rng, flavor: Flavor) -> String {
    let fixed: &[&str] = match flavor {
        Flavor::Python => {
            if rng.chance(3) {
                return generated_python(rng);
            }
            PYTHON
        }
        Flavor::DotEnv => DOTENV,
        Flavor::Dockerfile => DOCKERFILE,
        Flavor::Compose => {
            if rng.chance(4) {
                let n = 1 + rng.below(20_000);
                return format!("services: {}{}", "[".repeat(n), "]".repeat(n));
            }
            COMPOSE
        }
        Flavor::Requirements => REQUIREMENTS,
        Flavor::Toml => {
            if rng.chance(4) {
                let n = 1 + rng.below(5_000);
                return format!("a = {}1{}", "[".repeat(n), "]".repeat(n));
            }
            TOML
        }
        Flavor::Nginx => {
            if rng.chance(4) {
                let n = 1 + rng.below(20_000);
                return format!("{}proxy_pass x;{}", "server {".repeat(n), "}".repeat(n));
            }
            NGINX
        }
        Flavor::Procfile => PROCFILE,
        Flavor::Template => TEMPLATE,
        Flavor::Other => PYTHON,
    };
    if rng.chance(6) {
        // A very long line of the file's own text.
        let base = *rng.pick(fixed);
        return base.replace('\n', " ").repeat(1 + rng.below(2_000));
    }
    rng.pick(fixed).to_string()
}

/// Deep nesting and huge literals, sized at random up to what the parser's
/// and collector's bounds must absorb.
fn generated_python(rng: &mut Rng) -> String {
    let deep = [10, 100, 1_000, 10_000, 50_000][rng.below(5)];
    let n = 1 + rng.below(deep);
    match rng.below(22) {
        0 => format!("x = {}1{}", "(".repeat(n), ")".repeat(n)),
        1 => format!("x = {}{}", "[".repeat(n), "]".repeat(n)),
        2 => format!(
            "x = {}",
            "{'a': ".repeat(n.min(5_000)) + "1" + &"}".repeat(n.min(5_000))
        ),
        3 => format!("x = {}1", "not ".repeat(n)),
        4 => format!("x = {}1", "-".repeat(n)),
        5 => format!("x = a{}", ".b".repeat(n)),
        6 => format!("x = f{}", "()".repeat(n)),
        7 => format!("x = x{}", "[0]".repeat(n)),
        8 => format!("x = {}1", "lambda: ".repeat(n.min(5_000))),
        9 => format!("x = {}1", "1 + ".repeat(n)),
        10 => format!("x = {}b", "a < ".repeat(n)),
        11 => format!("x = {}", "'a' ".repeat(n)),
        12 => format!("x = {}", "1 if x else ".repeat(n.min(5_000)) + "1"),
        13 => {
            // Nested blocks.
            let depth = n.min(120);
            let mut s = String::new();
            for d in 0..depth {
                s.push_str(&" ".repeat(d));
                s.push_str(
                    [
                        "if x:\n",
                        "def f(a):\n",
                        "class C:\n",
                        "for a in b:\n",
                        "with a as b:\n",
                        "try:\n",
                    ][d % 6],
                );
            }
            s.push_str(&" ".repeat(depth));
            s.push_str("app.run(debug=True)");
            s
        }
        14 => format!("SECRET_KEY = '{}'", "k".repeat(n * 20)),
        15 => format!("x = {}", "9".repeat(n.min(20_000))),
        16 => format!("x = 1e{}", "9".repeat(n.min(1_000))),
        17 => format!("x = [{}]", "1, ".repeat(n)),
        18 => format!(
            "x = {{{}}}",
            (0..n.min(20_000))
                .map(|i| format!("'k{i}': {i}, "))
                .collect::<String>()
        ),
        19 => format!("x = f'{}'", "{x}".repeat(n.min(20_000))),
        20 => format!(
            "x = {}",
            "f'{".repeat(n.min(200)) + "1" + &"}'".repeat(n.min(200))
        ),
        _ => format!(
            "app.config.update({})",
            (0..n.min(5_000))
                .map(|i| format!("K{i}=os.environ.get('K{i}', 'v'), "))
                .collect::<String>()
        ),
    }
}
