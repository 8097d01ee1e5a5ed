//! RL002 `limiter-memory-storage`: per-process rate-limit counters under several workers.

use report::Finding;

use super::storage::{storage_of, Storage};
use crate::{
    model::ExtKind,
    rules::{Rule, RuleContext},
};

pub const RULE: Rule = Rule {
    code: "RL002",
    name: "limiter-memory-storage",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds a flask-limiter or slowapi `Limiter` that keeps its counters in memory
(no `storage_uri`, no `RATELIMIT_STORAGE_URI` in the production config, or
`memory://`) while the deployment runs several processes: gunicorn workers
(`-w`, `workers =` in gunicorn.conf.py, `WEB_CONCURRENCY`), uvicorn
`--workers`, or several instances (`deploy.replicas`); Dockerfiles,
compose files and Procfiles named for development, tests or as examples
(`Dockerfile.dev`, `docker-compose.local.yml`) are not the deployment. Options given as
`Limiter(key_func, app=app, **LIMITER_OPTS)` are read when `LIMITER_OPTS` is
a dict literal or `dict(...)` constant no code changes; otherwise the
storage is not judged.

The same goes for a limiter of the project's own (a decorator or
`before_request` hook that counts requests per client and answers 429, see
RL001) whose counters live in a module-level dict, a `cachetools` cache, a
`collections` container, or Flask-Caching with `CACHE_TYPE` `SimpleCache`
(reported at the limiter's `def`). Counters in Redis (a redis client, or
Flask-Caching with a Redis or Memcached backend) are shared; a store the
audit cannot identify is not reported.

## Why is this bad?
Each process counts on its own: with 4 workers a limit of 5 per minute lets 20
through, more with every instance, and every restart resets the counters.

## Example
```python
limiter = Limiter(key_func=get_remote_address)  # gunicorn -w 4
```

Use instead:
```python
limiter = Limiter(key_func=get_remote_address, storage_uri="redis://redis:6379/0")
```
"#;

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let Some((n, span, how)) = project.deployment.processes() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ext in project
        .extensions
        .iter()
        .filter(|e| matches!(e.kind, ExtKind::Limiter | ExtKind::SlowApi))
    {
        let Storage::Memory(chosen) = storage_of(project, ext) else {
            continue;
        };
        let mut f = ctx
            .finding(
                RULE.code,
                RULE.name,
                ext.span,
                format!("the rate limiter keeps its counters in each process's memory while {n} processes serve requests ({how}): every limit is multiplied by {n}"),
            )
            .with_fix("Give the limiter shared storage: storage_uri=\"redis://...\" or RATELIMIT_STORAGE_URI in the production config.")
            .with_related(ctx.at(span), how.clone());
        if let Some(c) = chosen {
            f = f.with_related(ctx.at(c), "memory storage chosen here");
        }
        out.push(f);
    }
    let custom = ctx.custom_limits();
    for (limiter, chosen) in custom.in_memory(project) {
        let mut f = ctx
            .finding(
                RULE.code,
                RULE.name,
                limiter.span,
                format!("the project's rate limiter `{}` keeps its counters in each process's memory while {n} processes serve requests ({how}): every limit is multiplied by {n}", limiter.qualified.rsplit('.').next().unwrap_or(&limiter.qualified)),
            )
            .with_fix("Keep the counters in Redis (a redis client, or Flask-Caching with CACHE_TYPE = \"RedisCache\"), or use flask-limiter with storage_uri=\"redis://...\".")
            .with_related(ctx.at(span), how.clone());
        if let Some(c) = chosen {
            f = f.with_related(ctx.at(c), "per-process store created here");
        }
        out.push(f);
    }
    out
}
