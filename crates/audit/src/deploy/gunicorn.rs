//! gunicorn settings from `gunicorn.conf.py` (it is Python: module-level
//! assignments to `workers`, `bind`, `worker_class`, ...) and worker counts from
//! any of gunicorn's sources (config, `-w`, `WEB_CONCURRENCY`).

use crate::{
    python::{
        facts::PyFacts,
        value::{env_lookup, BinOp, Kind, Value},
    },
    source::{FileId, Span},
};

#[derive(Debug, Clone)]
pub struct GunicornConf {
    pub file: FileId,
    pub workers: Option<(Value, Span)>,
    pub bind: Option<(Value, Span)>,
    pub worker_class: Option<(Value, Span)>,
    pub forwarded_allow_ips: Option<(Value, Span)>,
    pub reload: Option<(Value, Span)>,
}

pub fn from_facts(file: FileId, facts: &PyFacts) -> GunicornConf {
    let get = |name: &str| {
        facts
            .globals
            .iter()
            .rev()
            .find(|g| g.name == name)
            .map(|g| (g.value.clone(), Span::new(file, g.range)))
    };
    GunicornConf {
        file,
        workers: get("workers"),
        bind: get("bind"),
        worker_class: get("worker_class"),
        forwarded_allow_ips: get("forwarded_allow_ips"),
        reload: get("reload"),
    }
}

/// How many worker processes a setting yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCount {
    /// At least this many.
    pub min: u32,
    /// `min` is the exact count (not an estimate such as `cpu_count() * 2 + 1`).
    pub exact: bool,
    /// How it was read (`-w 4`, `cpu_count() * 2 + 1`, `WEB_CONCURRENCY default 4`).
    pub how: String,
}

/// Worker count of a command-line value (`4`, `$WEB_CONCURRENCY`, `${WORKERS:-4}`).
pub fn workers_of_arg(arg: &str) -> Option<WorkerCount> {
    if let Ok(n) = arg.trim().parse::<u32>() {
        return Some(WorkerCount {
            min: n,
            exact: true,
            how: format!("{n} workers"),
        });
    }
    // ${VAR:-4} / ${VAR-4}: the default when the variable is unset.
    let inner = arg.strip_prefix("${")?.strip_suffix('}')?;
    let (_, default) = inner.split_once(":-").or_else(|| inner.split_once('-'))?;
    let n = default.trim().parse::<u32>().ok()?;
    Some(WorkerCount {
        min: n,
        exact: false,
        how: format!("{n} workers unless overridden by the environment"),
    })
}

/// Worker count of a Python value in gunicorn.conf.py.
pub fn workers_of_value(v: &Value) -> Option<WorkerCount> {
    let (min, exact) = eval_count(v, 0)?;
    let how = if exact {
        format!("workers = {min}")
    } else {
        format!("workers = {} (at least {min})", v.render())
    };
    Some(WorkerCount { min, exact, how })
}

/// (lower bound, exact?) of an integer expression where `cpu_count()` is >= 1.
fn eval_count(v: &Value, depth: usize) -> Option<(u32, bool)> {
    if depth > 8 {
        return None;
    }
    match &v.kind {
        Kind::Int(n) => u32::try_from(*n).ok().map(|n| (n, true)),
        Kind::Str(s) => s.trim().parse::<u32>().ok().map(|n| (n, true)),
        Kind::Call(c) => {
            let name = c.func_name().unwrap_or_default();
            if name.ends_with("cpu_count") {
                return Some((1, false));
            }
            if name == "int" || name == "max" || name == "min" {
                if name == "max" {
                    let vals: Vec<(u32, bool)> = c
                        .args
                        .iter()
                        .filter_map(|a| eval_count(a, depth + 1))
                        .collect();
                    return vals.iter().map(|(n, _)| *n).max().map(|n| (n, false));
                }
                return c
                    .args
                    .first()
                    .and_then(|a| eval_count(a, depth + 1))
                    .map(|(n, e)| (n, e && name == "int"));
            }
            // os.environ.get("WEB_CONCURRENCY", 4): the default is what runs when unset.
            let lookup = env_lookup(v)?;
            lookup
                .default
                .and_then(|d| eval_count(d, depth + 1))
                .map(|(n, _)| (n, false))
        }
        Kind::BinOp(op, a, b) => {
            let (x, ex) = eval_count(a, depth + 1)?;
            let (y, ey) = eval_count(b, depth + 1)?;
            let n = match op {
                BinOp::Add => x.checked_add(y)?,
                BinOp::Mult => x.checked_mul(y)?,
                BinOp::Sub => x.saturating_sub(y),
                BinOp::FloorDiv if y > 0 => x / y,
                _ => return None,
            };
            Some((n, ex && ey))
        }
        Kind::Or(vals) => vals
            .iter()
            .rev()
            .find_map(|v| eval_count(v, depth + 1))
            .map(|(n, _)| (n, false)),
        _ => None,
    }
}

/// Stands for a part of a setting the audit cannot resolve. It holds a `$`, so
/// an address built with it in the host part reads as unknown, never as a
/// guess (`$?:8000`), while a known host keeps its meaning (`0.0.0.0:$?`).
pub const UNRESOLVED: &str = "$?";

/// How deep nested string expressions are followed.
const MAX_TEXT_DEPTH: usize = 12;
/// A resolved setting longer than this is not a real address list.
const MAX_TEXT_LEN: usize = 4096;

/// The strings a gunicorn.conf.py string setting (`bind`,
/// `forwarded_allow_ips`) holds, as far as they can be resolved statically:
/// literals, module constants (the evaluator substitutes them), f-strings,
/// `+`, `%` and `.format(...)` formatting, `str()` / `int()`, `or` and
/// environment lookups. `env` gives the value of an environment variable that
/// the deployment sets for the process; a lookup of an unset variable takes
/// its default. A part that cannot be resolved becomes [`UNRESOLVED`].
/// A list or tuple yields one string per item.
pub fn setting_strings(v: &Value, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    match &v.kind {
        Kind::List(items) | Kind::Tuple(items) => items
            .iter()
            .map(|i| text_of(i, env, 0).unwrap_or_else(|| UNRESOLVED.to_string()))
            .collect(),
        _ => vec![text_of(v, env, 0).unwrap_or_else(|| UNRESOLVED.to_string())],
    }
}

/// A string expression's text (None: not resolvable at all).
fn text_of(v: &Value, env: &dyn Fn(&str) -> Option<String>, depth: usize) -> Option<String> {
    if depth > MAX_TEXT_DEPTH {
        return None;
    }
    let part = |p: &Value| text_of(p, env, depth + 1).unwrap_or_else(|| UNRESOLVED.to_string());
    let out = match &v.kind {
        Kind::Str(s) => s.to_string(),
        Kind::Int(n) => n.to_string(),
        Kind::FString(parts) => parts.iter().map(part).collect(),
        Kind::BinOp(BinOp::Add, a, b) => format!("{}{}", part(a), part(b)),
        Kind::BinOp(BinOp::Mod, fmt, args) => {
            let fmt = fmt.as_str()?;
            let args: Vec<&Value> = match &args.kind {
                Kind::Tuple(items) => items.iter().collect(),
                _ => vec![args.as_ref()],
            };
            percent_format(fmt, &args.iter().map(|a| part(a)).collect::<Vec<_>>())?
        }
        Kind::Or(items) => {
            // `os.getenv("BIND") or "0.0.0.0:8000"`: an unset variable without a
            // default is None, so the next operand is taken.
            let (last, init) = items.split_last()?;
            for item in init {
                match env_lookup(item) {
                    Some(l) if l.default.is_none() && !l.required => {
                        match l.var.as_deref().and_then(env) {
                            Some(set) if !set.is_empty() => return Some(set),
                            Some(_) => continue,
                            None if l.var.is_some() => continue,
                            None => return None,
                        }
                    }
                    _ => {
                        let t = text_of(item, env, depth + 1)?;
                        if t.contains('$') {
                            return None;
                        }
                        if !t.is_empty() {
                            return Some(t);
                        }
                    }
                }
            }
            text_of(last, env, depth + 1)?
        }
        Kind::Call(_) | Kind::Subscript(..) if env_lookup(v).is_some() => {
            let l = env_lookup(v)?;
            let name = l.var.as_deref();
            if let Some(set) = name.and_then(env) {
                return Some(set);
            }
            match (l.default, name) {
                (Some(d), _) => text_of(d, env, depth + 1)?,
                (None, Some(n)) => format!("${{{n}}}"),
                (None, None) => return None,
            }
        }
        Kind::Call(c) => {
            let name = c.func_name();
            match (&c.func.kind, name.as_deref()) {
                (_, Some("str" | "int")) if c.args.len() == 1 && c.kwargs.is_empty() => {
                    text_of(&c.args[0], env, depth + 1)?
                }
                (Kind::Attr(base, m), _) if m.as_str() == "format" && !c.spread => {
                    let fmt = base.as_str()?;
                    let args: Vec<String> = c.args.iter().map(part).collect();
                    let kwargs: Vec<(&str, String)> = c
                        .kwargs
                        .iter()
                        .filter_map(|(k, v)| Some((k.as_deref()?, part(v))))
                        .collect();
                    brace_format(fmt, &args, &kwargs)?
                }
                _ => return None,
            }
        }
        _ => return None,
    };
    (out.len() <= MAX_TEXT_LEN).then_some(out)
}

/// `"%s:%s" % (host, port)` with `%s`, `%d`, `%i` and `%%`; other conversions
/// are not resolved.
fn percent_format(fmt: &str, args: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' | 'd' | 'i' => out.push_str(next.next()?),
            _ => return None,
        }
    }
    next.next().is_none().then_some(out)
}

/// `"{}:{}".format(host, port)`, `"{0}"`, `"{host}"` and `{{`/`}}`; format
/// specs and attribute access are not resolved.
fn brace_format(fmt: &str, args: &[String], kwargs: &[(&str, String)]) -> Option<String> {
    let mut out = String::new();
    let mut auto = 0usize;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        ch => field.push(ch),
                    }
                }
                let value = if field.is_empty() {
                    auto += 1;
                    args.get(auto - 1)?
                } else if let Ok(i) = field.parse::<usize>() {
                    args.get(i)?
                } else {
                    &kwargs.iter().find(|(k, _)| *k == field)?.1
                };
                out.push_str(value);
            }
            '}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::analyze;

    #[test]
    fn reads_conf_and_estimates_workers() {
        let src = "import multiprocessing, os\nbind = '0.0.0.0:8000'\nworkers = multiprocessing.cpu_count() * 2 + 1\nthreads = 2\n";
        let facts = analyze(0, src, "gunicorn.conf", false).unwrap();
        let conf = from_facts(0, &facts);
        let w = workers_of_value(&conf.workers.unwrap().0).unwrap();
        assert_eq!((w.min, w.exact), (3, false));
        let facts = analyze(
            0,
            "import os\nworkers = int(os.environ.get('WEB_CONCURRENCY', 4))\n",
            "g",
            false,
        )
        .unwrap();
        let w = workers_of_value(&from_facts(0, &facts).workers.unwrap().0).unwrap();
        assert_eq!((w.min, w.exact), (4, false));
        assert_eq!(workers_of_arg("4").map(|w| w.min), Some(4));
        assert_eq!(
            workers_of_arg("${WEB_CONCURRENCY:-2}").map(|w| w.min),
            Some(2)
        );
        assert_eq!(workers_of_arg("$WORKERS"), None);
    }

    fn binds(src: &str, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let facts = analyze(0, src, "gunicorn_conf", false).unwrap();
        setting_strings(&from_facts(0, &facts).bind.unwrap().0, env)
    }

    #[test]
    fn resolves_computed_binds() {
        let none = |_: &str| None;
        let port = |n: &str| (n == "PORT").then(|| "9000".to_string());
        let fstring = "import os\nbind = f\"0.0.0.0:{os.environ.get('PORT', '8000')}\"\n";
        assert_eq!(binds(fstring, &none), ["0.0.0.0:8000"]);
        assert_eq!(binds(fstring, &port), ["0.0.0.0:9000"]);
        let concat = "import os\nbind = '0.0.0.0:' + os.getenv('PORT', '8000')\n";
        assert_eq!(binds(concat, &none), ["0.0.0.0:8000"]);
        assert_eq!(
            binds("bind = ['127.0.0.1:8000']\n", &none),
            ["127.0.0.1:8000"]
        );
        let percent = "HOST = '0.0.0.0'\nPORT = 8000\nbind = '%s:%s' % (HOST, PORT)\n";
        assert_eq!(binds(percent, &none), ["0.0.0.0:8000"]);
        let format = "HOST = '127.0.0.1'\nbind = '{}:{port}'.format(HOST, port=8000)\n";
        assert_eq!(binds(format, &none), ["127.0.0.1:8000"]);
        let or = "import os\nbind = os.getenv('BIND') or '0.0.0.0:8000'\n";
        assert_eq!(binds(or, &none), ["0.0.0.0:8000"]);
        let bind = |n: &str| (n == "BIND").then(|| "unix:/run/app.sock".to_string());
        assert_eq!(binds(or, &bind), ["unix:/run/app.sock"]);
        // What cannot be resolved stays visibly unresolved.
        let host = "import os\nbind = f\"{os.environ['HOST']}:8000\"\n";
        assert_eq!(binds(host, &none), ["${HOST}:8000"]);
        let call = "from settings import addr\nbind = f\"{addr()}:8000\"\n";
        assert_eq!(binds(call, &none), ["$?:8000"]);
        assert_eq!(binds("bind = '%x' % 5\n", &none), ["$?"]);
        assert_eq!(binds("bind = '{0.x}'.format(a)\n", &none), ["$?"]);
        assert_eq!(binds("bind = '%s' % ()\n", &none), ["$?"]);
        assert_eq!(binds("bind = '{'.format(1)\n", &none), ["$?"]);
    }
}
