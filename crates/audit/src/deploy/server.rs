//! Which server a command starts (gunicorn, uvicorn, hypercorn, `flask run`, `python
//! app.py`, `fastapi dev`), through wrappers (`exec`, `poetry run`, `sh -c`),
//! with the options the rules need.

/// The server a command runs, with the options that matter to the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    Gunicorn(GunicornArgs),
    Uvicorn(UvicornArgs),
    Hypercorn(HypercornArgs),
    /// `flask run` (the Werkzeug development server).
    FlaskRun {
        debug: bool,
        app: Option<String>,
    },
    /// `python app.py` / `python -m app`: what runs depends on the script.
    PythonScript {
        target: String,
        module: bool,
        /// The first argument after the script that is no option: the
        /// command a management script runs (`python manage.py runserver`).
        command: Option<String>,
    },
    /// `fastapi dev` (reloading development server) / `fastapi run`.
    FastApiCli {
        dev: bool,
        /// `fastapi run --reload`: the production command with the
        /// development reloader turned on.
        reload: bool,
    },
    /// Any other program (nginx, celery, a shell script).
    Other(String),
}

impl Server {
    /// Whether this starts a Python server (or a Python script: what it runs is
    /// the app as far as the audit can tell).
    pub fn is_python(&self) -> bool {
        matches!(
            self,
            Server::Gunicorn(_)
                | Server::Uvicorn(_)
                | Server::Hypercorn(_)
                | Server::FlaskRun { .. }
                | Server::PythonScript { .. }
                | Server::FastApiCli { .. }
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GunicornArgs {
    pub workers: Option<String>,
    pub worker_class: Option<String>,
    pub bind: Vec<String>,
    pub config: Option<String>,
    pub reload: bool,
    pub forwarded_allow_ips: Option<String>,
    pub app: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UvicornArgs {
    pub workers: Option<String>,
    pub reload: bool,
    /// `Some(false)` for `--no-proxy-headers`; uvicorn's default is on.
    pub proxy_headers: Option<bool>,
    pub forwarded_allow_ips: Option<String>,
    pub host: Option<String>,
    /// `--port N` as written (uvicorn listens on 8000 without it).
    pub port: Option<String>,
    /// `--uds PATH`: listens on a unix socket (`--host` is then ignored).
    pub uds: Option<String>,
    /// `--fd N`: listens on an inherited socket.
    pub fd: Option<String>,
    pub app: Option<String>,
}

/// `hypercorn app:app --bind 0.0.0.0:8000 --workers 4 --reload --debug`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HypercornArgs {
    pub workers: Option<String>,
    pub bind: Vec<String>,
    pub config: Option<String>,
    /// `--reload`: restarts on code changes (development).
    pub reload: bool,
    /// `--debug`: the ASGI app's debug mode (tracebacks in responses).
    pub debug: bool,
    pub app: Option<String>,
}

/// Wrappers that run the rest of the command line.
const WRAPPERS: &[&str] = &[
    "exec",
    "dumb-init",
    "tini",
    "gosu",
    "su-exec",
    "s6-setuidgid",
    "setuidgid",
    "nohup",
    "env",
    "poetry",
    "pipenv",
    "uv",
    "pdm",
    "hatch",
    "rye",
    "newrelic-admin",
    "ddtrace-run",
    "opentelemetry-instrument",
];

/// Recognises the server a simple command starts. `env` receives `NAME=value`
/// prefixes (`FLASK_DEBUG=1 flask run`).
pub fn server(words: &[String], env: &mut Vec<(String, String)>) -> Option<Server> {
    let mut i = 0;
    loop {
        let w = words.get(i)?;
        if let Some((k, v)) = w.split_once('=') {
            if !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !k.starts_with('-')
            {
                env.push((k.to_string(), v.to_string()));
                i += 1;
                continue;
            }
        }
        let prog = program(w);
        if WRAPPERS.contains(&prog) {
            i += 1;
            // `poetry run X`, `uv run X`, `tini -- X`, `gosu user X`,
            // `s6-setuidgid user X`.
            while let Some(next) = words.get(i) {
                if next == "run" || next == "--" || next.starts_with('-') {
                    i += 1;
                    continue;
                }
                if matches!(
                    prog,
                    "gosu" | "su-exec" | "s6-setuidgid" | "setuidgid" | "newrelic-admin"
                ) {
                    i += 1;
                    if prog == "newrelic-admin"
                        && words.get(i).map(String::as_str) == Some("run-program")
                    {
                        i += 1;
                    }
                }
                break;
            }
            continue;
        }
        if matches!(prog, "sh" | "bash" | "dash" | "ash") {
            // `sh -c "..."`: the script is the next word after -c.
            let c = words
                .iter()
                .position(|w| w == "-c" || w == "-ec" || w == "-lc")?;
            let script = words.get(c + 1)?;
            // A server wins; a Python script only when no server follows it
            // (`python manage.py db upgrade && gunicorn ...` serves with
            // gunicorn; of several scripts the last one keeps running).
            let mut last = None;
            let mut python = None;
            for cmd in super::shell::split_commands(script) {
                match server(&cmd, env) {
                    Some(s @ Server::Other(_)) => last = Some(s),
                    Some(s @ Server::PythonScript { .. }) => python = Some(s),
                    Some(s) => return Some(s),
                    None => {}
                }
            }
            return python.or(last);
        }
        if prog.starts_with("python") {
            let rest = &words[i + 1..];
            let mut j = 0;
            while let Some(w) = rest.get(j) {
                if w == "-m" {
                    let module = rest.get(j + 1)?;
                    let tail: Vec<String> = std::iter::once(module.clone())
                        .chain(rest[j + 2..].iter().cloned())
                        .collect();
                    return match module.as_str() {
                        "gunicorn" | "uvicorn" | "hypercorn" | "flask" => server(&tail, env),
                        _ => Some(Server::PythonScript {
                            target: module.clone(),
                            module: true,
                            command: first_positional(&rest[j + 2..]),
                        }),
                    };
                }
                if w.starts_with('-') {
                    j += 1;
                    continue;
                }
                return Some(Server::PythonScript {
                    target: w.clone(),
                    module: false,
                    command: first_positional(&rest[j + 1..]),
                });
            }
            return None;
        }
        let rest = &words[i + 1..];
        return Some(match prog {
            "gunicorn" => Server::Gunicorn(gunicorn_args(rest)),
            "uvicorn" => Server::Uvicorn(uvicorn_args(rest)),
            "hypercorn" => Server::Hypercorn(hypercorn_args(rest)),
            "flask" => flask_args(rest)?,
            "fastapi" => Server::FastApiCli {
                dev: rest.first().map(String::as_str) == Some("dev"),
                reload: rest.iter().any(|w| w == "--reload"),
            },
            other => Server::Other(other.to_string()),
        });
    }
}

fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Reads `--opt value`, `--opt=value` and `-o value` / `-ovalue` forms.
fn take_option<'a>(
    rest: &'a [String],
    j: &mut usize,
    long: &[&str],
    short: Option<&str>,
) -> Option<Option<&'a str>> {
    let w = rest.get(*j)?.as_str();
    for l in long {
        if w == *l {
            *j += 1;
            return Some(rest.get(*j).map(String::as_str));
        }
        if let Some(v) = w.strip_prefix(l).and_then(|r| r.strip_prefix('=')) {
            return Some(Some(v));
        }
    }
    if let Some(s) = short {
        if w == s {
            *j += 1;
            return Some(rest.get(*j).map(String::as_str));
        }
        if let Some(v) = w.strip_prefix(s) {
            if !v.is_empty() && !w.starts_with("--") {
                return Some(Some(v.trim_start_matches('=')));
            }
        }
    }
    None
}

fn gunicorn_args(rest: &[String]) -> GunicornArgs {
    let mut a = GunicornArgs::default();
    let mut j = 0;
    while j < rest.len() {
        if let Some(v) = take_option(rest, &mut j, &["--workers"], Some("-w")) {
            a.workers = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--worker-class"], Some("-k")) {
            a.worker_class = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--bind"], Some("-b")) {
            a.bind.extend(v.map(str::to_string));
        } else if let Some(v) = take_option(rest, &mut j, &["--config"], Some("-c")) {
            a.config = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--forwarded-allow-ips"], None) {
            a.forwarded_allow_ips = v.map(str::to_string);
        } else if rest[j] == "--reload" {
            a.reload = true;
        } else if !rest[j].starts_with('-') && a.app.is_none() {
            a.app = Some(rest[j].clone());
        } else if rest[j].starts_with("--")
            && !rest[j].contains('=')
            && rest.get(j + 1).is_some_and(|n| !n.starts_with('-'))
            && takes_value(&rest[j])
        {
            j += 1;
        }
        j += 1;
    }
    a
}

/// Long gunicorn/uvicorn flags that take a separate value (so the value is not
/// mistaken for the application).
fn takes_value(flag: &str) -> bool {
    !matches!(
        flag,
        "--reload"
            | "--daemon"
            | "--preload"
            | "--proxy-headers"
            | "--no-proxy-headers"
            | "--access-logfile-"
            | "--factory"
            | "--no-access-log"
            | "--use-colors"
            | "--no-use-colors"
            | "--check-config"
            | "--print-config"
            | "--capture-output"
            | "--enable-stdio-inheritance"
            | "--no-sendfile"
            | "--reuse-port"
            | "--spew"
            | "--strip-header-spaces"
            | "--suppress-ragged-eofs"
            | "--server-header"
            | "--no-server-header"
            | "--date-header"
            | "--no-date-header"
            | "--debug"
            | "--verbose"
    )
}

fn uvicorn_args(rest: &[String]) -> UvicornArgs {
    let mut a = UvicornArgs::default();
    let mut j = 0;
    while j < rest.len() {
        if let Some(v) = take_option(rest, &mut j, &["--workers"], None) {
            a.workers = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--forwarded-allow-ips"], None) {
            a.forwarded_allow_ips = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--host"], None) {
            a.host = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--port"], None) {
            a.port = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--uds"], None) {
            a.uds = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--fd"], None) {
            a.fd = v.map(str::to_string);
        } else if rest[j] == "--reload" {
            a.reload = true;
        } else if rest[j] == "--proxy-headers" {
            a.proxy_headers = Some(true);
        } else if rest[j] == "--no-proxy-headers" {
            a.proxy_headers = Some(false);
        } else if !rest[j].starts_with('-') && a.app.is_none() {
            a.app = Some(rest[j].clone());
        } else if rest[j].starts_with("--")
            && !rest[j].contains('=')
            && rest.get(j + 1).is_some_and(|n| !n.starts_with('-'))
            && takes_value(&rest[j])
        {
            j += 1;
        }
        j += 1;
    }
    a
}

fn hypercorn_args(rest: &[String]) -> HypercornArgs {
    let mut a = HypercornArgs::default();
    let mut j = 0;
    while j < rest.len() {
        if let Some(v) = take_option(rest, &mut j, &["--workers"], Some("-w")) {
            a.workers = v.map(str::to_string);
        } else if let Some(v) = take_option(rest, &mut j, &["--bind"], Some("-b")) {
            a.bind.extend(v.map(str::to_string));
        } else if let Some(v) = take_option(rest, &mut j, &["--config"], Some("-c")) {
            a.config = v.map(str::to_string);
        } else if rest[j] == "--reload" {
            a.reload = true;
        } else if rest[j] == "--debug" {
            a.debug = true;
        } else if !rest[j].starts_with('-') && a.app.is_none() {
            a.app = Some(rest[j].clone());
        } else if rest[j].starts_with("--")
            && !rest[j].contains('=')
            && rest.get(j + 1).is_some_and(|n| !n.starts_with('-'))
            && takes_value(&rest[j])
        {
            j += 1;
        } else if rest[j].len() == 2
            && rest[j].starts_with('-')
            && rest.get(j + 1).is_some_and(|n| !n.starts_with('-'))
        {
            // `-k uvloop`, `-u 1000`, `-m 007`: short options with a value.
            j += 1;
        }
        j += 1;
    }
    a
}

fn flask_args(rest: &[String]) -> Option<Server> {
    let mut debug = false;
    let mut app = None;
    let mut run = false;
    let mut j = 0;
    while j < rest.len() {
        let w = rest[j].as_str();
        match w {
            "--debug" => debug = true,
            "--no-debug" => debug = false,
            "run" => run = true,
            "--app" | "-A" => {
                j += 1;
                app = rest.get(j).cloned();
            }
            _ => {
                if let Some(v) = w.strip_prefix("--app=") {
                    app = Some(v.to_string());
                }
            }
        }
        j += 1;
    }
    run.then_some(Server::FlaskRun { debug, app })
}

/// The first word that is no option (`runserver` in `runserver --host
/// 0.0.0.0`; `db` in `-c x db upgrade` is not told apart from an option's
/// value, so only a leading word counts).
fn first_positional(words: &[String]) -> Option<String> {
    let w = words.first()?;
    (!w.starts_with('-')).then(|| w.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn recognises_servers_through_wrappers() {
        let mut env = Vec::new();
        let s = server(
            &words(&[
                "FLASK_DEBUG=1",
                "flask",
                "--app",
                "orders",
                "run",
                "--host=0.0.0.0",
            ]),
            &mut env,
        )
        .unwrap();
        assert_eq!(
            s,
            Server::FlaskRun {
                debug: false,
                app: Some("orders".into())
            }
        );
        assert_eq!(env, [("FLASK_DEBUG".to_string(), "1".to_string())]);
        let s = server(
            &words(&[
                "poetry",
                "run",
                "gunicorn",
                "--workers=4",
                "-b",
                "0.0.0.0:8000",
                "wsgi:app",
            ]),
            &mut env,
        )
        .unwrap();
        let Server::Gunicorn(g) = s else { panic!() };
        assert_eq!(
            (g.workers.as_deref(), g.app.as_deref()),
            (Some("4"), Some("wsgi:app"))
        );
        let s = server(
            &words(&[
                "sh",
                "-c",
                "alembic upgrade head && exec uvicorn main:app --reload --no-proxy-headers",
            ]),
            &mut env,
        )
        .unwrap();
        let Server::Uvicorn(u) = s else {
            panic!("{s:?}")
        };
        assert!(u.reload && u.proxy_headers == Some(false));
        let s = server(
            &words(&[
                "sh",
                "-c",
                "python manage.py db upgrade && gunicorn -w 4 manage:app",
            ]),
            &mut env,
        )
        .unwrap();
        assert!(matches!(s, Server::Gunicorn(_)), "{s:?}");
        assert_eq!(
            server(
                &words(&["sh", "-c", "python manage.py db upgrade && python wsgi.py"]),
                &mut env
            ),
            Some(Server::PythonScript {
                target: "wsgi.py".into(),
                module: false,
                command: None,
            })
        );
        assert_eq!(
            server(&words(&["python", "-u", "app.py"]), &mut env),
            Some(Server::PythonScript {
                target: "app.py".into(),
                module: false,
                command: None,
            })
        );
        let s = server(
            &words(&["python", "-m", "gunicorn", "-w4", "app:app"]),
            &mut env,
        )
        .unwrap();
        assert!(matches!(s, Server::Gunicorn(g) if g.workers.as_deref() == Some("4")));
    }

    #[test]
    fn reads_hypercorn_options() {
        let mut env = Vec::new();
        let s = server(
            &words(&[
                "hypercorn",
                "app:app",
                "--bind",
                "0.0.0.0:8000",
                "--workers",
                "4",
                "--reload",
                "--debug",
                "--access-log",
                "-",
            ]),
            &mut env,
        )
        .unwrap();
        let Server::Hypercorn(h) = s else {
            panic!("{s:?}")
        };
        assert_eq!(h.workers.as_deref(), Some("4"));
        assert_eq!(h.bind, ["0.0.0.0:8000"]);
        assert!(h.reload && h.debug);
        assert_eq!(h.app.as_deref(), Some("app:app"));
        let s = server(
            &words(&[
                "python",
                "-m",
                "hypercorn",
                "-k",
                "uvloop",
                "-w",
                "2",
                "-b",
                ":8000",
                "main:app",
            ]),
            &mut env,
        )
        .unwrap();
        let Server::Hypercorn(h) = s else {
            panic!("{s:?}")
        };
        assert_eq!(
            (h.workers.as_deref(), h.app.as_deref(), h.bind.len()),
            (Some("2"), Some("main:app"), 1)
        );
    }
}
