//! The rate limits the route inventory shows beyond flask-limiter's:
//! quart-rate-limiter's decorators and a limiter of the project's own.

use audit::routes_report;

mod common;

fn limits_of(files: &[(&str, &str)]) -> Vec<(String, Vec<String>)> {
    let (_d, out) = common::audit_files(files);
    routes_report::rows(&out.project)
        .into_iter()
        .map(|r| (r.path, r.rate_limit))
        .collect()
}

#[test]
fn quart_rate_limiter_marks_are_listed_under_its_extension() {
    let app = r#"from datetime import timedelta

from quart import Quart
from quart_rate_limiter import RateLimiter, rate_exempt, rate_limit

app = Quart(__name__)
RateLimiter(app)


@app.post("/login")
@rate_limit(5, timedelta(minutes=1))
async def login():
    return {}


@app.get("/health")
@rate_exempt
async def health():
    return {}
"#;
    let rows = limits_of(&[("app.py", app)]);
    assert_eq!(
        rows,
        [
            ("/health".to_string(), vec!["exempt".to_string()]),
            (
                "/login".to_string(),
                vec!["5 per timedelta(minutes=1)".to_string()]
            ),
        ]
    );
    // Without the extension the marks limit nothing.
    let bare = app.replace("RateLimiter(app)\n", "");
    let rows = limits_of(&[("app.py", bare.as_str())]);
    assert!(rows.iter().all(|(_, l)| l.is_empty()), "{rows:?}");
}

#[test]
fn a_project_limiter_decorator_is_listed_by_name() {
    let app = r#"import functools
import time

from flask import Flask, abort, request

app = Flask(__name__)
HITS = {}


def throttle(limit, interval):
    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            key = (request.remote_addr, request.endpoint)
            count, since = HITS.get(key, (0, time.time()))
            if count >= limit:
                abort(429)
            HITS[key] = (count + 1, since)
            return f(*args, **kwargs)

        return wrapper

    return deco


@app.post("/login")
@throttle(10, 60)
def login():
    return {}
"#;
    let rows = limits_of(&[("app.py", app)]);
    assert_eq!(rows, [("/login".to_string(), vec!["throttle".to_string()])]);
}
