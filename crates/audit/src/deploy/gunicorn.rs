//! gunicorn settings from `gunicorn.conf.py` (it is Python: module-level
//! assignments to `workers`, `bind`, `worker_class`, ...) and worker counts from
//! any of gunicorn's sources (config, `-w`, `WEB_CONCURRENCY`).

use crate::{
    python::{
        facts::PyFacts,
        format::{
            bind_percent, formatted, parse_braces, parse_percent, percent_specs, Arg, Const,
            Conversion, Field, PercentSegment, Segment,
        },
        value::{env_lookup, BinOp, Call, Kind, Value},
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
            .map(|i| text_of(i, env, 0).map_or_else(|| UNRESOLVED.to_string(), |t| t.text))
            .collect(),
        _ => vec![text_of(v, env, 0).map_or_else(|| UNRESOLVED.to_string(), |t| t.text)],
    }
}

/// What a string expression resolves to: its text, and the constant it is
/// when that is known exactly (not when a part stands for an unresolved
/// value or an unset variable).
#[derive(Debug, Clone)]
struct Text {
    text: String,
    exact: Option<Const>,
}

impl Text {
    fn exact(c: Const) -> Text {
        Text {
            text: c.str(),
            exact: Some(c),
        }
    }

    fn inexact(text: String) -> Text {
        Text { text, exact: None }
    }

    fn unresolved() -> Text {
        Text::inexact(UNRESOLVED.to_string())
    }
}

/// A string expression's text (None: not resolvable at all, or Python would
/// raise).
fn text_of(v: &Value, env: &dyn Fn(&str) -> Option<String>, depth: usize) -> Option<Text> {
    if depth > MAX_TEXT_DEPTH {
        return None;
    }
    let part = |p: &Value| text_of(p, env, depth + 1).unwrap_or_else(Text::unresolved);
    let out = match &v.kind {
        Kind::Str(s) => Text::exact(Const::Str(s.to_string())),
        Kind::Int(n) => Text::exact(Const::Int(*n)),
        Kind::FString(parts) => concat(parts.iter().map(part))?,
        Kind::BinOp(BinOp::Add, a, b) => concat([part(a), part(b)].into_iter())?,
        Kind::BinOp(BinOp::Mod, fmt, args) => {
            percent(fmt.as_str()?, args, &|a| arg_text(a, env, depth))?
        }
        Kind::Or(items) => {
            // `os.getenv("BIND") or "0.0.0.0:8000"`: an unset variable without a
            // default is None, so the next operand is taken.
            let (last, init) = items.split_last()?;
            for item in init {
                match env_lookup(item) {
                    Some(l) if l.default.is_none() && !l.required => {
                        match l.var.as_deref().and_then(env) {
                            Some(set) if !set.is_empty() => {
                                return Some(Text::exact(Const::Str(set)))
                            }
                            Some(_) => continue,
                            None if l.var.is_some() => continue,
                            None => return None,
                        }
                    }
                    _ => {
                        let t = text_of(item, env, depth + 1)?;
                        if t.text.contains('$') {
                            return None;
                        }
                        if !t.text.is_empty() {
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
                return Some(Text::exact(Const::Str(set)));
            }
            match (l.default, name) {
                (Some(d), _) => arg_text(d, env, depth)?,
                (None, Some(n)) => Text::inexact(format!("${{{n}}}")),
                (None, None) => return None,
            }
        }
        Kind::Call(c) => {
            let name = c.func_name();
            match (&c.func.kind, name.as_deref()) {
                (_, Some("int")) if c.args.len() == 1 && c.kwargs.is_empty() => {
                    let t = text_of(&c.args[0], env, depth + 1)?;
                    match t.exact {
                        Some(Const::Int(n)) => Text::exact(Const::Int(n)),
                        Some(Const::Str(s)) => Text::exact(Const::Int(parse_int(&s)?)),
                        Some(_) => return None,
                        None => t,
                    }
                }
                (Kind::Attr(base, m), _) if m.as_str() == "format" && !c.spread => {
                    brace(base.as_str()?, c, &|a| arg_text(a, env, depth))?
                }
                _ => match formatted(v) {
                    // `str(x)`, `repr(x)`, `format(x, spec)` and the
                    // f-string fields written as them.
                    Some((x, conversion, spec)) => {
                        let x = arg_text(x, env, depth);
                        let spec = match spec {
                            None => Some(String::new()),
                            Some(s) => text_of(s, env, depth + 1).and_then(|t| match t.exact {
                                Some(Const::Str(s)) => Some(s),
                                _ => None,
                            }),
                        };
                        match (x, conversion, spec) {
                            (Some(Text { exact: Some(c), .. }), _, Some(spec)) => {
                                let c = c.convert(conversion)?;
                                Text::exact(Const::Str(c.format(&spec)?))
                            }
                            // An unresolved value keeps its text through `str()`.
                            (Some(t), Some(Conversion::Str), Some(s)) if s.is_empty() => t,
                            _ => Text::unresolved(),
                        }
                    }
                    None => return None,
                },
            }
        }
        _ => return None,
    };
    (out.text.len() <= MAX_TEXT_LEN).then_some(out)
}

/// A formatting argument: a constant of any kind (`True`, `None` format as
/// text too), else a string expression.
fn arg_text(v: &Value, env: &dyn Fn(&str) -> Option<String>, depth: usize) -> Option<Text> {
    match Const::of(v) {
        Some(c) => Some(Text::exact(c)),
        None => text_of(v, env, depth + 1),
    }
}

/// Parts joined into one text: exact when every part is an exact string
/// (`"a" + 1` raises, so an exact non-string part makes it None).
fn concat(parts: impl Iterator<Item = Text>) -> Option<Text> {
    let mut text = String::new();
    let mut exact = true;
    for p in parts {
        match &p.exact {
            Some(Const::Str(_)) => {}
            Some(_) => return None,
            None => exact = false,
        }
        text.push_str(&p.text);
        if text.len() > MAX_TEXT_LEN {
            return None;
        }
    }
    Some(if exact {
        Text::exact(Const::Str(text))
    } else {
        Text::inexact(text)
    })
}

/// `int(text)` as Python reads a decimal string (surrounding whitespace and
/// a sign allowed); None where Python raises or reads it differently
/// (underscores, non-ASCII digits).
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.strip_prefix('+').unwrap_or(t).parse().ok()
}

/// One formatted value: exact text where the value is known and the format
/// certain; an unresolved value keeps its text where nothing reformats it,
/// else stands as [`UNRESOLVED`].
fn field_text(value: Option<Text>, plain: bool, format: impl Fn(&Const) -> Option<String>) -> Text {
    match value {
        Some(Text { exact: Some(c), .. }) => match format(&c) {
            Some(t) => Text::exact(Const::Str(t)),
            None => Text::unresolved(),
        },
        Some(t) if plain => t,
        _ => Text::unresolved(),
    }
}

/// `"%s:%s" % (host, port)`, bound strictly (a count or key mismatch, or a
/// malformed format, is None: Python raises).
fn percent(fmt: &str, rhs: &Value, arg: &dyn Fn(&Value) -> Option<Text>) -> Option<Text> {
    let segments = parse_percent(fmt).ok()?;
    let specs = percent_specs(&segments);
    let values = match (&rhs.kind, specs.is_empty()) {
        (Kind::Tuple(items), true) if items.is_empty() => Vec::new(),
        (Kind::Tuple(_) | Kind::Dict(_), _) => bind_percent(&specs, rhs)?,
        // A lone operand that resolves to text is a string, not a tuple.
        (_, false) if specs.len() == 1 && specs[0].key.is_none() => vec![rhs],
        _ => return None,
    };
    let mut values = values.into_iter();
    let parts = segments.iter().map(|s| match s {
        PercentSegment::Lit(t) => Text::exact(Const::Str(t.to_string())),
        PercentSegment::Spec(p) => {
            let plain = p.is_plain() && matches!(p.conversion, 's' | 'd' | 'i');
            field_text(values.next().and_then(arg), plain, |c| c.percent(p))
        }
    });
    concat(parts)
}

/// `"{}:{port}".format(host, port=8000)`, bound strictly: a missing argument
/// or a malformed format is None (Python raises); attribute and item lookups
/// leave the field unresolved.
fn brace(fmt: &str, call: &Call, arg: &dyn Fn(&Value) -> Option<Text>) -> Option<Text> {
    let segments = parse_braces(fmt).ok()?;
    let mut parts = Vec::with_capacity(segments.len());
    for s in &segments {
        parts.push(match s {
            Segment::Lit(t) => Text::exact(Const::Str(t.to_string())),
            Segment::Field(f) => brace_field(f, call, arg)?,
        });
    }
    concat(parts.into_iter())
}

fn brace_field(f: &Field, call: &Call, arg: &dyn Fn(&Value) -> Option<Text>) -> Option<Text> {
    let value = match f.arg {
        Arg::Index(i) => call.args.get(i),
        Arg::Name(n) => call.kwarg(n),
    };
    // A missing argument raises (calls with `*args` / `**kwargs` are not
    // resolved at all).
    let value = value?;
    if !f.access.is_empty() {
        return Some(Text::unresolved());
    }
    // The spec, with the fields nested in it resolved.
    let mut spec = String::new();
    for s in &f.spec {
        match s {
            Segment::Lit(t) => spec.push_str(t),
            Segment::Field(inner) => match brace_field(inner, call, arg)?.exact {
                Some(Const::Str(t)) => spec.push_str(&t),
                _ => return Some(Text::unresolved()),
            },
        }
    }
    let plain = f.conversion.is_none() && spec.is_empty();
    Some(field_text(arg(value), plain, |c| {
        c.clone().convert(f.conversion)?.format(&spec)
    }))
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

    #[test]
    fn formats_with_specs_and_conversions() {
        let none = |_: &str| None;
        let port = |n: &str| (n == "PORT").then(|| "9000".to_string());
        let b = |src: &str| binds(src, &none);
        // Specs whose text is certain.
        assert_eq!(
            b("HOST = '0.0.0.0'\nPORT = 8000\nbind = '{}:{:d}'.format(HOST, PORT)\n"),
            ["0.0.0.0:8000"]
        );
        assert_eq!(
            b("HOST = '0.0.0.0'\nbind = '{0!s}:{p}'.format(HOST, p=8000)\n"),
            ["0.0.0.0:8000"]
        );
        let env_spec = "import os\nbind = f\"0.0.0.0:{os.getenv('PORT', 8000):d}\"\n";
        assert_eq!(b(env_spec), ["0.0.0.0:8000"]);
        // Set, the variable is a string: `:d` raises, the port is unknown.
        assert_eq!(binds(env_spec, &port), ["0.0.0.0:$?"]);
        let int_env = "import os\nbind = '0.0.0.0:%d' % int(os.environ.get('PORT', '8000'))\n";
        assert_eq!(b(int_env), ["0.0.0.0:8000"]);
        assert_eq!(binds(int_env, &port), ["0.0.0.0:9000"]);
        // Padding and alignment are not applied: the host is unknown, not a guess.
        assert_eq!(
            b("HOST = '0.0.0.0'\nbind = f'{HOST:>9}:8000'\n"),
            ["$?:8000"]
        );
        assert_eq!(
            b("HOST = '0.0.0.0'\nbind = '{:>9}:8000'.format(HOST)\n"),
            ["$?:8000"]
        );
        assert_eq!(
            b("import os\nbind = '%9s:8000' % os.getenv('H', '::')\n"),
            ["$?:8000"]
        );
        assert_eq!(
            b("HOST = '0.0.0.0'\nbind = '{:{w}}:80'.format(HOST, w=9)\n"),
            ["$?:80"]
        );
        // What Python rejects resolves to nothing.
        assert_eq!(
            b("import os\nbind = '%d' % os.getenv('PORT', '8000')\n"),
            ["$?"]
        );
        assert_eq!(b("PORT = 8000\nbind = '0.0.0.0:' + PORT\n"), ["$?"]);
        assert_eq!(b("bind = '{}{0}'.format(1, 2)\n"), ["$?"]);
        assert_eq!(b("bind = '{}:{}'.format('0.0.0.0')\n"), ["$?"]);
        // `int()` of what is not a number: no port.
        assert_eq!(b("bind = '0.0.0.0:%d' % int('8000x')\n"), ["0.0.0.0:$?"]);
        // An unresolved value keeps its text where nothing reformats it.
        assert_eq!(
            b("import os\nbind = '{}:8000'.format(os.environ['HOST'])\n"),
            ["${HOST}:8000"]
        );
        assert_eq!(
            b("import os\nbind = '%s:8000' % str(os.environ['HOST'])\n"),
            ["${HOST}:8000"]
        );
        assert_eq!(
            b("import os\nbind = '{!r}:8000'.format(os.environ['HOST'])\n"),
            ["$?:8000"]
        );
    }
}
