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
}
