//! Rate limiters a project writes itself: a decorator (or decorator factory)
//! or a `before_request` hook whose body keys a counter by the client (its
//! address — `request.remote_addr`, `get_remote_address()`,
//! `request.access_route`, `X-Forwarded-For`, a `get_ip()` helper — or its
//! user id) and answers 429 (`abort(429)`, `raise TooManyRequests()`,
//! `return ..., 429`, `resp.status_code = 429`). Where it keeps its counters
//! decides whether a limit holds across processes: Redis (a redis client, or
//! Flask-Caching with a Redis or Memcached backend) is shared; a module-level
//! dict, `cachetools`, or Flask-Caching's `SimpleCache` is per process.

use crate::{
    model::{index::Target, Project, Route},
    python::{
        facts::{FunctionFact, PyFacts, ScopeId},
        value::{Kind, Root, Value},
    },
    rules::hooks::{before_request_hooks, refusals, Hook},
    source::{FileId, Span},
};

use super::storage::Storage;

/// A project function that limits requests.
#[derive(Debug, Clone)]
pub struct CustomLimiter {
    /// Dotted name (`app.utils.ratelimit`).
    pub qualified: String,
    /// The function's name, for findings.
    pub span: Span,
    pub storage: Storage,
}

/// Whether a fact of a function's body runs whatever the request: under no
/// `if` of the function itself.
fn unconditional(
    facts: &PyFacts,
    view: &FunctionFact,
    guard: crate::python::facts::GuardId,
) -> bool {
    facts.guards_of(guard).iter().all(|g| g.scope != view.scope)
}

/// The project's own limiters, and the hooks among them.
#[derive(Debug, Default)]
pub struct CustomLimits<'a> {
    pub limiters: Vec<CustomLimiter>,
    hooks: Vec<Hook<'a>>,
}

/// Words in references and strings that name the client a counter is kept
/// for: its address, or its user.
const CLIENT_KEYS: &[&str] = &[
    "remote_addr",
    "access_route",
    "get_remote_address",
    "get_ipaddr",
    "x-forwarded-for",
    "x-real-ip",
    "current_user",
    "user_id",
    "get_jwt_identity",
    // The key function of a Flask-Limiter / slowapi limiter
    // (`limiter._key_func(request)`): the client's address, or what the
    // project keys by.
    "key_func",
];

/// Attributes that name the account a request is for: the signed-in user
/// (`request.user`), or the account field of a login form (`form.email`).
const ACCOUNT_ATTRS: &[&str] = &["user", "email", "username"];

/// Last names of helpers that return the client's address (`get_ip`,
/// `client_ip`, `get_client_ip_address`).
fn names_an_address(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower
        .split('_')
        .any(|w| matches!(w, "ip" | "ipaddr" | "ipaddress" | "addr" | "address"))
        && !lower.contains("email")
}

fn mentions_client(v: &Value) -> bool {
    let mut found = false;
    v.walk(&mut |x| {
        if found {
            return;
        }
        found = match &x.kind {
            Kind::Ref(r) => {
                let mut parts: Vec<&str> = r.attrs.iter().map(|a| a.as_str()).collect();
                if let Root::Global(q) = &r.root {
                    parts.insert(0, q);
                }
                parts.iter().any(|p| {
                    let lower = p.to_ascii_lowercase();
                    CLIENT_KEYS.iter().any(|k| lower.contains(k))
                }) || names_an_address(r.last_name())
                    // The signed-in user or the account a form names
                    // (`request.user`, `form.email`).
                    || r.attrs
                        .iter()
                        .any(|a| ACCOUNT_ATTRS.contains(&a.as_str()))
                    // Starlette's client address: `request.client.host`.
                    || r.attrs
                        .windows(2)
                        .any(|w| w[0].as_str() == "client" && w[1].as_str() == "host")
            }
            Kind::Str(s) => {
                let lower = s.to_ascii_lowercase();
                CLIENT_KEYS.contains(&lower.as_str())
            }
            _ => false,
        };
    });
    found
}

/// Every value evaluated in a function's body (nested functions included).
fn body_values<'f>(facts: &'f PyFacts, func: &FunctionFact) -> Vec<&'f Value> {
    let within = |s: u32| facts.scope_within(s, func.scope);
    let mut out: Vec<&Value> = Vec::new();
    out.extend(
        facts
            .calls
            .iter()
            .filter(|c| within(c.scope))
            .map(|c| &c.value),
    );
    out.extend(
        facts
            .assigns
            .iter()
            .filter(|a| within(a.scope))
            .flat_map(|a| [&a.target, &a.value]),
    );
    out.extend(
        facts
            .functions
            .iter()
            .filter(|f| within(f.scope))
            .flat_map(|f| f.returns.iter()),
    );
    out.extend(
        facts
            .guards
            .iter()
            .filter(|g| within(g.scope))
            .map(|g| g.test.as_ref()),
    );
    out
}

/// Where a file (`scope` 0) or function answers 429.
fn too_many_requests(facts: &PyFacts, scope: ScopeId) -> Vec<ScopeId> {
    refusals(
        facts,
        scope,
        &(429..=429),
        &["toomanyrequests", "ratelimit"],
    )
    .into_iter()
    .map(|(_, _, s)| s)
    .collect()
}

/// Whether a function (nested functions included) limits requests per client.
fn limits_requests(facts: &PyFacts, func: &FunctionFact) -> bool {
    !too_many_requests(facts, func.scope).is_empty()
        && body_values(facts, func).into_iter().any(mentions_client)
}

/// Methods that read or write a counter in a store.
const STORE_METHODS: &[&str] = &[
    "get",
    "set",
    "incr",
    "incrby",
    "inc",
    "add",
    "setex",
    "expire",
    "pipeline",
    "zadd",
    "zcard",
    "setdefault",
    "append",
];

/// Where a limiter function keeps its counters: the store whose methods it
/// calls, or the module-level dict it writes.
fn storage(project: &Project, file: FileId, facts: &PyFacts, func: &FunctionFact) -> Storage {
    let within = |s: u32| facts.scope_within(s, func.scope);
    let mut found = Storage::Unknown;
    let mut consider = |s: Storage| match (&found, &s) {
        (_, Storage::Shared) => found = Storage::Shared,
        (Storage::Unknown, Storage::Memory(_)) => found = s,
        _ => {}
    };
    for c in facts.calls.iter().filter(|c| within(c.scope)) {
        let call = c.call();
        if !call
            .callee_name()
            .is_some_and(|n| STORE_METHODS.contains(&n))
        {
            continue;
        }
        if let Some(recv) = call.receiver() {
            consider(store_kind(project, file, &recv));
        } else if let Kind::Attr(base, _) = &call.func.kind {
            consider(inlined_dict(func, base));
        }
    }
    for a in facts.assigns.iter().filter(|a| within(a.scope)) {
        if let Kind::Subscript(base, _) = &a.target.kind {
            consider(store_kind(project, file, base));
            consider(inlined_dict(func, base));
        }
    }
    found
}

/// A module-level `counters = {}` that the analysis put in place of its name
/// (a dict literal whose text lies outside the function): per-process memory.
fn inlined_dict(func: &FunctionFact, v: &Value) -> Storage {
    match &v.kind {
        Kind::Dict(_) if !func.range.contains_range(v.range) => Storage::Memory(None),
        _ => Storage::Unknown,
    }
}

/// What kind of store a value is.
fn store_kind(project: &Project, file: FileId, v: &Value) -> Storage {
    let resolver = project.resolver();
    let r = resolver.resolve(file, v);
    match r.target {
        Target::Object(site) if r.attrs.is_empty() => {
            let Some(call) = resolver.call(site) else {
                return Storage::Unknown;
            };
            let ctor = resolver
                .resolve(site.file, &call.call().func)
                .external_name()
                .unwrap_or_default();
            let span = Span::new(site.file, call.range());
            if ctor.starts_with("redis.") || ctor.contains("Redis") {
                return Storage::Shared;
            }
            if ctor == "flask_caching.Cache" || ctor.ends_with(".Cache") && ctor.contains("cach") {
                return cache_storage(project, call.call().kwarg("config"), span);
            }
            if is_local_container(&ctor) {
                return Storage::Memory(Some(span));
            }
            Storage::Unknown
        }
        _ => {
            // A module-level `counters = {}`.
            let Some(q) = v.reference().and_then(|r| r.qualified()) else {
                return Storage::Unknown;
            };
            match resolver.global_value(&q) {
                Some((gfile, g)) if matches!(g.kind, Kind::Dict(_)) => {
                    Storage::Memory(Some(Span::new(gfile, g.range)))
                }
                Some((gfile, g)) => match g.as_call().and_then(|c| c.func.qualified()) {
                    Some(ctor) if is_local_container(&ctor) => {
                        Storage::Memory(Some(Span::new(gfile, g.range)))
                    }
                    _ => Storage::Unknown,
                },
                None => Storage::Unknown,
            }
        }
    }
}

fn is_local_container(ctor: &str) -> bool {
    ctor.starts_with("cachetools.")
        || matches!(
            ctor,
            "dict" | "collections.defaultdict" | "collections.Counter" | "collections.OrderedDict"
        )
}

/// Flask-Caching's backend: `Cache(config={"CACHE_TYPE": ...})` or the
/// `CACHE_TYPE` of an app's config.
fn cache_storage(project: &Project, config: Option<&Value>, span: Span) -> Storage {
    let from_call = config.and_then(|c| c.dict_get("CACHE_TYPE"));
    let from_app = || {
        project
            .apps
            .iter()
            .find_map(|a| a.config.get("CACHE_TYPE").map(|e| &e.value))
    };
    let Some(kind) = from_call.or_else(from_app).and_then(Value::as_str) else {
        return Storage::Unknown;
    };
    let lower = kind.to_ascii_lowercase();
    if lower.contains("redis") || lower.contains("memcache") || lower.contains("sasl") {
        Storage::Shared
    } else if lower.contains("simple") {
        Storage::Memory(Some(span))
    } else {
        Storage::Unknown
    }
}

impl<'a> CustomLimits<'a> {
    pub fn of(project: &'a Project) -> CustomLimits<'a> {
        let mut out = CustomLimits::default();
        for (file, facts) in project.python() {
            if project.file(file).is_some_and(|f| f.is_test) {
                continue;
            }
            // Only functions around a 429 can limit: one pass over the file
            // keeps large files without any cheap.
            let sites = too_many_requests(facts, 0);
            if sites.is_empty() {
                continue;
            }
            for f in facts
                .functions
                .iter()
                .filter(|f| sites.iter().any(|s| facts.scope_within(*s, f.scope)))
            {
                // Only the outermost limiting function: a factory's inner wrappers
                // are part of it.
                let outer_limits = facts
                    .scopes
                    .get(f.parent as usize)
                    .and_then(|_| facts.function_of(f.parent))
                    .is_some_and(|p| limits_requests(facts, p));
                if outer_limits || !limits_requests(facts, f) {
                    continue;
                }
                out.limiters.push(CustomLimiter {
                    qualified: f.qualified.to_string(),
                    span: Span::new(file, f.name_range),
                    storage: storage(project, file, facts, f),
                });
            }
        }
        if out.limiters.is_empty() {
            return out;
        }
        out.hooks = before_request_hooks(project)
            .into_iter()
            .filter(|h| {
                project
                    .resolver()
                    .facts(h.file)
                    .is_some_and(|facts| limits_requests(facts, h.func))
            })
            .collect();
        out
    }

    /// Whether any limiter of the project's own decorates a route or runs
    /// before requests.
    pub fn in_use(&self, project: &Project) -> bool {
        !self.hooks.is_empty()
            || project
                .routes
                .iter()
                .any(|r| self.limiter_of(project, r).is_some())
    }

    /// The limiter of the project's own that limits a route: a decorator on
    /// its view, or a hook that runs before it.
    pub fn limiter_of(&self, project: &Project, route: &Route) -> Option<&CustomLimiter> {
        if self.limiters.is_empty() {
            return None;
        }
        let resolver = project.resolver();
        let by_decorator = route.decorators.iter().find_map(|d| {
            let callee = d.value.as_call().map_or(&d.value, |c| &c.func);
            let Target::Function(q) = resolver.resolve(d.span.file, callee).target else {
                return None;
            };
            self.limiters.iter().find(|l| l.qualified == q)
        });
        by_decorator
            .or_else(|| {
                let hook = self.hooks.iter().find(|h| h.covers(route))?;
                self.limiters
                    .iter()
                    .find(|l| l.qualified == hook.func.qualified.as_str())
            })
            .or_else(|| self.called_by_view(project, route))
            .or_else(|| self.route_class_of(project, route))
    }

    /// A FastAPI router made with `APIRouter(route_class=LimitedRoute)`
    /// whose route class wraps every handler in a limiter (its
    /// `get_route_handler` counts the client and answers 429).
    fn route_class_of(&self, project: &Project, route: &Route) -> Option<&CustomLimiter> {
        let resolver = project.resolver();
        let bp = project.blueprints.get(route.blueprint?)?;
        let call = resolver.call(bp.site)?;
        let class = call.call().kwarg("route_class")?;
        let Target::Class(q) = resolver.resolve(bp.site.file, class).target else {
            return None;
        };
        let prefix = format!("{q}.");
        self.limiters
            .iter()
            .find(|l| l.qualified.starts_with(&prefix))
    }

    /// A limiter the view calls itself before anything else can return
    /// (`check_rate_limit(request)` at the top of its body, not under an
    /// `if`), or one of its FastAPI dependencies.
    fn called_by_view(&self, project: &Project, route: &Route) -> Option<&CustomLimiter> {
        let resolver = project.resolver();
        let (file, view) = resolver.function(&route.function)?;
        let mut seen = Vec::new();
        self.called_from(project, &route.function, 0, &mut seen)
            .or_else(|| {
                // A FastAPI dependency of the view: `Depends(check_budget)`,
                // `Depends(AttemptLimiter(requests=5, window=3600))`.
                view.params
                    .iter()
                    .filter_map(|p| p.default.as_deref())
                    .filter_map(Value::as_call)
                    .filter(|d| d.func_name().is_some_and(|n| n.ends_with("Depends")))
                    .filter_map(|d| d.param(0, "dependency"))
                    .find_map(|dep| {
                        let q = match dep.as_call() {
                            Some(made) => match resolver.resolve(file, &made.func).target {
                                Target::Class(c) => format!("{c}.__call__"),
                                _ => return None,
                            },
                            None => match resolver.resolve(file, dep).target {
                                Target::Function(q) => q,
                                _ => return None,
                            },
                        };
                        self.limiters.iter().find(|l| l.qualified == q)
                    })
            })
    }

    /// A limiter a function calls whatever the request, itself or through
    /// the project functions it so calls (a service the view hands the work
    /// to: `verify_code(...)` that counts the attempts and answers 429), a
    /// few levels deep.
    fn called_from(
        &self,
        project: &Project,
        func: &str,
        depth: usize,
        seen: &mut Vec<String>,
    ) -> Option<&CustomLimiter> {
        if depth > 3 || seen.len() > 64 || seen.iter().any(|s| s == func) {
            return None;
        }
        seen.push(func.to_string());
        let resolver = project.resolver();
        let (file, f) = resolver.function(func)?;
        let facts = resolver.facts(file)?;
        let callees: Vec<String> = facts
            .calls
            .iter()
            .filter(|c| c.scope == f.scope && unconditional(facts, f, c.guard))
            .filter_map(|c| match resolver.resolve(file, &c.call().func).target {
                Target::Function(q) => Some(q),
                _ => None,
            })
            .collect();
        if let Some(l) = callees
            .iter()
            .find_map(|q| self.limiters.iter().find(|l| &l.qualified == q))
        {
            return Some(l);
        }
        callees
            .iter()
            .find_map(|q| self.called_from(project, q, depth + 1, seen))
    }

    /// Limiters in use whose counters stay in one process.
    pub fn in_memory(&self, project: &Project) -> Vec<(&CustomLimiter, Option<Span>)> {
        self.limiters
            .iter()
            .filter(|l| {
                self.hooks
                    .iter()
                    .any(|h| h.func.qualified.as_str() == l.qualified)
                    || project.routes.iter().any(|r| {
                        self.limiter_of(project, r)
                            .is_some_and(|x| x.qualified == l.qualified)
                    })
            })
            .filter_map(|l| match l.storage {
                Storage::Memory(s) => Some((l, s)),
                _ => None,
            })
            .collect()
    }
}
