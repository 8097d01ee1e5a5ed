//! Functions the app runs before views: `before_request` hooks, decorated
//! (`@app.before_request`, `@bp.before_app_request`) or registered by call
//! (`app.before_request(check)`), with what they cover; and what a function's
//! body answers when it refuses a request (`abort(403)`, `raise Forbidden()`,
//! `return ..., 429`), with the `if` conditions around it.

use ruff_text_size::TextRange;

use crate::{
    model::{index::Target, AppId, BlueprintId, Project, Route},
    python::{
        facts::{FunctionFact, GuardId, PyFacts, ScopeId},
        value::{Kind, Value},
    },
    source::{FileId, Span},
};

/// What a hook runs before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookScope {
    App(AppId),
    /// `@bp.before_request`: the routes of that blueprint.
    Blueprint(BlueprintId),
    /// `@bp.before_app_request`, or a receiver we cannot resolve: every route.
    Everything,
}

#[derive(Debug, Clone, Copy)]
pub struct Hook<'a> {
    pub file: FileId,
    pub func: &'a FunctionFact,
    pub scope: HookScope,
}

impl Hook<'_> {
    pub fn covers(&self, route: &Route) -> bool {
        match self.scope {
            HookScope::App(a) => route.app.is_none_or(|r| r == a),
            HookScope::Blueprint(b) => route.blueprint == Some(b),
            HookScope::Everything => true,
        }
    }

    pub fn span(&self) -> Span {
        Span::new(self.file, self.func.name_range)
    }
}

fn scope_of(project: &Project, file: FileId, func_ref: &Value) -> Option<HookScope> {
    let r = func_ref.reference()?;
    let m = r.last_name();
    if m != "before_request" && m != "before_app_request" {
        return None;
    }
    if m == "before_app_request" {
        return Some(HookScope::Everything);
    }
    let mut recv = r.clone();
    recv.attrs.pop()?;
    let recv = Value::new(func_ref.range, Kind::Ref(Box::new(recv)));
    let resolved = project.resolver().resolve(file, &recv);
    Some(match (resolved.target, resolved.attrs.is_empty()) {
        (Target::Object(site), true) => match project.app_at(site) {
            Some(app) => HookScope::App(app),
            None => match project.blueprints.iter().find(|b| b.site == site) {
                Some(b) => HookScope::Blueprint(b.id),
                None => HookScope::Everything,
            },
        },
        // `app` a parameter of `init_request_processors(app)`: an app.
        _ => HookScope::Everything,
    })
}

/// Every `before_request` / `before_app_request` hook of the project.
pub fn before_request_hooks(project: &Project) -> Vec<Hook<'_>> {
    let resolver = project.resolver();
    let mut out = Vec::new();
    for (file, facts) in project.python() {
        for f in &facts.functions {
            for d in &f.decorators {
                let named = d.reference().is_some_and(|r| {
                    matches!(r.last_name(), "before_request" | "before_app_request")
                });
                if !named {
                    continue;
                }
                if let Some(scope) = scope_of(project, file, d) {
                    out.push(Hook {
                        file,
                        func: f,
                        scope,
                    });
                }
            }
        }
    }
    for (file, _, call) in project.calls_named(&["before_request", "before_app_request"]) {
        let c = call.call();
        let Some(arg) = c.arg(0) else { continue };
        let Some(scope) = scope_of(project, file, &c.func) else {
            continue;
        };
        if let Target::Function(q) = resolver.resolve(file, arg).target {
            if let Some((ffile, func)) = resolver.function(&q) {
                out.push(Hook {
                    file: ffile,
                    func,
                    scope,
                });
            }
        }
    }
    out
}

/// Where a function's body (nested functions included) refuses the request
/// with a status in `statuses`, and the `if` conditions around each place:
/// `abort(403)`, `raise Forbidden()` / `raise TooManyRequests()` (by a word of
/// the exception's name in `names`, lower case), `return ..., 403`,
/// `Response(status=403)`, `resp.status_code = 429`.
/// Each place comes with its scope; `scope` 0 (the module) searches the
/// whole file.
pub fn refusals(
    facts: &PyFacts,
    scope: ScopeId,
    statuses: &std::ops::RangeInclusive<i64>,
    names: &[&str],
) -> Vec<(GuardId, TextRange, ScopeId)> {
    let within = |s: u32| facts.scope_within(s, scope);
    let status = |v: &Value| v.as_int().is_some_and(|i| statuses.contains(&i));
    let named = |v: &Value| {
        let mut found = false;
        v.walk(&mut |x| {
            let name = match &x.kind {
                Kind::Ref(r) => r.last_name(),
                _ => return,
            };
            let lower = name.to_ascii_lowercase();
            found |= names.iter().any(|n| lower.contains(n));
        });
        found
    };
    let mut out = Vec::new();
    for c in facts.calls.iter().filter(|c| within(c.scope)) {
        let call = c.call();
        if call.last_name() == Some("abort") && call.arg(0).is_some_and(|a| answers(a, &status, 0))
        {
            out.push((c.guard, c.range(), c.scope));
        }
    }
    for r in facts.raises.iter().filter(|r| within(r.scope)) {
        if r.value
            .as_ref()
            .is_some_and(|v| answers(v, &status, 0) || named(v))
        {
            out.push((r.guard, r.range, r.scope));
        }
    }
    for a in facts.assigns.iter().filter(|a| within(a.scope)) {
        let status_attr = a
            .target
            .reference()
            .is_some_and(|r| matches!(r.last_name(), "status_code" | "status"));
        if status_attr && status(&a.value) {
            out.push((a.guard, a.range, a.scope));
        }
    }
    for f in facts.functions.iter().filter(|f| within(f.scope)) {
        for (v, g) in f.returns.iter().zip(f.return_guards.iter()) {
            if answers(v, &status, 0) || named(v) {
                out.push((*g, v.range, f.scope));
            }
        }
    }
    out
}

/// Whether a value is (or builds) a response with one of the statuses: the
/// status itself, `(body, 403)`, `make_response(body, 403)`,
/// `Response(..., status=403)`, `HTTPException(status_code=403)`, `abort(403)`.
fn answers(v: &Value, status: &dyn Fn(&Value) -> bool, depth: usize) -> bool {
    if depth > 4 {
        return false;
    }
    if status(v) {
        return true;
    }
    match &v.kind {
        Kind::Tuple(items) => items.get(1).is_some_and(status),
        Kind::Call(c) => {
            ["status", "status_code", "code"]
                .iter()
                .any(|k| c.kwarg(k).is_some_and(status))
                || c.args.iter().any(|a| answers(a, status, depth + 1))
        }
        _ => false,
    }
}

/// The `if` tests around a fact, innermost first.
pub fn guard_tests(facts: &PyFacts, guard: GuardId) -> Vec<&Value> {
    facts
        .guards_of(guard)
        .into_iter()
        .map(|g| g.test.as_ref())
        .collect()
}
