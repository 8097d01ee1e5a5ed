//! Which configuration production uses, and whether a condition holds in
//! production.
//!
//! Apps pick their config by environment in a few shapes: a dict of classes keyed
//! by environment name (`config[os.getenv("APP_ENV", "default")]`), a dotted
//! string from the environment with a default, a factory parameter, or
//! `if env == "production":` branches. Production is what matters: the entry
//! keyed `production` (or `prod`) wins, then the environment default, then
//! `default`. The choice keeps its reason and location for messages.

use super::{compare_env, AppConfig};
use crate::{
    model::{index::Target, AppId, Project},
    python::{
        facts::GuardId,
        value::{env_lookup, CmpOp, Kind, Root, Value},
    },
    source::{FileId, Span},
};

/// The configuration object taken as production.
#[derive(Debug, Clone)]
pub struct ProductionChoice {
    pub target: Target,
    /// Dotted name of the class or module.
    pub name: String,
    /// Why it was taken ("the `production` entry of `config`").
    pub reason: String,
    /// Where it was chosen (the `from_object` call or the mapping entry).
    pub span: Span,
    /// An instance of the class (`Config = ServerConfig()`), not the class:
    /// what its `__init__` sets on `self` counts too.
    pub instance: bool,
}

impl ProductionChoice {
    pub fn target_is_class(&self) -> bool {
        matches!(self.target, Target::Class(_))
    }

    /// `ProductionConfig`
    pub fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }
}

const MAX_DEPTH: usize = 8;

/// The config object `from_object(v)` loads in production.
pub fn choose(
    project: &Project,
    file: FileId,
    v: &Value,
    call: Span,
    override_name: Option<&str>,
) -> Option<ProductionChoice> {
    choose_at(project, file, v, call, override_name, 0)
}

fn choose_at(
    project: &Project,
    file: FileId,
    v: &Value,
    call: Span,
    override_name: Option<&str>,
    depth: usize,
) -> Option<ProductionChoice> {
    if depth > MAX_DEPTH {
        return None;
    }
    let resolver = project.resolver();
    // A factory parameter: what callers pass, or its default.
    if let Some(r) = v.reference() {
        if let crate::python::value::Root::Param { func, index, name } = &r.root {
            let options: Vec<ProductionChoice> = resolver
                .param_values(func, *index as usize, name, 0)
                .into_iter()
                .filter_map(|(f, a)| choose_at(project, f, a, call, override_name, depth + 1))
                .collect();
            return pick(options, override_name);
        }
    }
    let (vf, v) = resolver.deref(file, v);
    // `config_module or os.environ.get("APP_CONFIG", "app.config")`: the
    // first operand that is set in production; a factory parameter nothing
    // passes (None) and a variable without a default may be unset, and then
    // the next one decides.
    if let Kind::Or(operands) = &v.kind {
        for op in operands.iter() {
            if let Some(choice) = choose_at(project, vf, op, call, override_name, depth + 1) {
                return Some(choice);
            }
            let may_be_unset = omitted_param(project, op)
                .is_some_and(|(_, d)| d.truthy() == Some(false))
                || env_lookup(op).is_some_and(|l| l.default.is_none());
            if !may_be_unset {
                return None;
            }
        }
        return None;
    }
    if let Some(s) = v.as_str() {
        return by_name(
            project,
            s,
            format!("named by the string \"{s}\""),
            Span::new(vf, v.range),
        );
    }
    if let Some(lookup) = env_lookup(v) {
        let var = lookup
            .var
            .unwrap_or_else(|| "the environment variable".into());
        let default = lookup.default.and_then(Value::as_str)?;
        return by_name(
            project,
            default,
            format!("the default of {var}"),
            Span::new(vf, v.range),
        );
    }
    // mapping[key] / mapping.get(key, fallback)
    let (mapping, key, fallback) = match &v.kind {
        Kind::Subscript(m, k) => (m.as_ref(), Some(k.as_ref()), None),
        Kind::Call(c) => match &c.func.kind {
            Kind::Ref(r)
                if r.attrs.last().map(crate::python::value::Name::as_str) == Some("get") =>
            {
                let mut base = r.clone();
                base.attrs.pop();
                let base_value = Value::new(c.func.range, Kind::Ref(base));
                return choose_from_mapping(
                    project,
                    vf,
                    &base_value,
                    c.arg(0),
                    c.arg(1),
                    call,
                    override_name,
                    depth,
                );
            }
            _ => (v, None, None),
        },
        _ => (v, None, None),
    };
    if key.is_some() {
        return choose_from_mapping(
            project,
            vf,
            mapping,
            key,
            fallback,
            call,
            override_name,
            depth,
        );
    }
    let target = resolver.resolve(vf, v);
    if !target.attrs.is_empty() {
        return None;
    }
    let (target, instance) = class_of_instance(project, target.target)?;
    match target {
        Target::Class(ref q) | Target::Module(ref q) => Some(ProductionChoice {
            name: q.clone(),
            target: target.clone(),
            reason: "the config the app loads".into(),
            span: call,
            instance,
        }),
        _ => None,
    }
}

/// A config object resolved to an object made by a call: when the call is a
/// project class's constructor (`Config = ServerConfig()`), Flask reads the
/// instance's upper-case attributes, its class's (bases included) and what
/// `__init__` sets. The target, and whether it is such an instance.
fn class_of_instance(project: &Project, target: Target) -> Option<(Target, bool)> {
    let Target::Object(site) = target else {
        return Some((target, false));
    };
    let resolver = project.resolver();
    let call = resolver.call(site)?;
    let ctor = resolver.resolve(site.file, &call.call().func);
    match ctor.target {
        Target::Class(q) if ctor.attrs.is_empty() => Some((Target::Class(q), true)),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn choose_from_mapping(
    project: &Project,
    file: FileId,
    mapping: &Value,
    key: Option<&Value>,
    fallback: Option<&Value>,
    call: Span,
    override_name: Option<&str>,
    depth: usize,
) -> Option<ProductionChoice> {
    let resolver = project.resolver();
    let (mf, dict) = resolver.deref(file, mapping);
    let mapping_name = mapping
        .reference()
        .map_or_else(|| mapping.render(), |r| r.last_name().to_string());
    let built;
    let items: &[(Option<Value>, Value)] = match dict.as_dict() {
        Some(items) => items,
        None => {
            built = dict_call_items(dict)?;
            &built
        }
    };
    let entry = |k: &str| {
        items
            .iter()
            .find(|(key, _)| key.as_ref().and_then(Value::as_str) == Some(k))
            .map(|(_, v)| v)
    };
    let resolve_entry = |k: &str, reason: String| -> Option<ProductionChoice> {
        let v = entry(k)?;
        let mut c = choose_at(project, mf, v, Span::new(mf, v.range), None, depth + 1)?;
        c.reason = reason;
        Some(c)
    };
    if let Some(name) = override_name {
        for (_, v) in items {
            if let Some(c) = choose_at(project, mf, v, Span::new(mf, v.range), None, depth + 1) {
                if matches_name(&c.name, name) {
                    return Some(ProductionChoice {
                        reason: "named by the production-config setting".into(),
                        ..c
                    });
                }
            }
        }
    }
    if let Some(k) = key.and_then(Value::as_str) {
        return resolve_entry(k, format!("{mapping_name}[\"{k}\"]"));
    }
    for k in ["production", "prod", "Production", "PRODUCTION", "live"] {
        if let Some(c) = resolve_entry(k, format!("the \"{k}\" entry of {mapping_name}")) {
            return Some(c);
        }
    }
    // The environment default in the key expression (`os.getenv("ENV", "x")`).
    let mut default = None;
    if let Some(k) = key {
        k.walk(&mut |x| {
            if default.is_none() {
                if let Some(l) = env_lookup(x) {
                    if let Some(d) = l.default.and_then(Value::as_str) {
                        default = Some((d.to_string(), l.var.clone().unwrap_or_default()));
                    }
                }
            }
        });
    }
    if let Some((d, var)) = default {
        if let Some(c) = resolve_entry(&d, format!("{mapping_name}[\"{d}\"], the default of {var}"))
        {
            return Some(c);
        }
    }
    if let Some(fb) = fallback {
        if let Some(mut c) = choose_at(project, file, fb, call, None, depth + 1) {
            c.reason = format!("the fallback of {mapping_name}.get()");
            return Some(c);
        }
    }
    resolve_entry(
        "default",
        format!("the \"default\" entry of {mapping_name}"),
    )
}

/// The entries of `dict(dev=DevConfig, prod=ProdConfig)`, the builtin called
/// with keywords only, as a dict literal's (string key, value) pairs.
fn dict_call_items(v: &Value) -> Option<Vec<(Option<Value>, Value)>> {
    let Kind::Call(c) = &v.kind else {
        return None;
    };
    let r = c.func.reference()?;
    let builtin = matches!(&r.root, Root::Global(q) if &**q == "dict") && r.attrs.is_empty();
    if !builtin || c.spread || !c.args.is_empty() {
        return None;
    }
    c.kwargs
        .iter()
        .map(|(k, val)| {
            let key = k.as_ref()?;
            Some((
                Some(Value::new(val.range, Kind::Str(key.as_str().into()))),
                val.clone(),
            ))
        })
        .collect()
}

fn by_name(
    project: &Project,
    dotted: &str,
    reason: String,
    span: Span,
) -> Option<ProductionChoice> {
    let resolver = project.resolver();
    let v = crate::python::value::Value::new(
        span.range(),
        Kind::Ref(Box::new(crate::python::value::Ref {
            root: crate::python::value::Root::Global(dotted.into()),
            attrs: Vec::new(),
        })),
    );
    let r = resolver.resolve(span.file, &v);
    if !r.attrs.is_empty() {
        return None;
    }
    let (target, instance) = class_of_instance(project, r.target)?;
    match target {
        Target::Class(ref q) | Target::Module(ref q) => Some(ProductionChoice {
            name: q.clone(),
            target: target.clone(),
            reason,
            span,
            instance,
        }),
        _ => None,
    }
}

fn matches_name(dotted: &str, wanted: &str) -> bool {
    dotted == wanted
        || dotted.rsplit('.').next() == Some(wanted)
        || dotted.ends_with(&format!(".{wanted}"))
}

/// Among alternatives (a factory called with different configs), the one that
/// is production by override or by name.
fn pick(options: Vec<ProductionChoice>, override_name: Option<&str>) -> Option<ProductionChoice> {
    if let Some(name) = override_name {
        if let Some(c) = options.iter().find(|c| matches_name(&c.name, name)) {
            return Some(c.clone());
        }
    }
    let prod = options.iter().find(|c| {
        let n = c.short_name().to_ascii_lowercase();
        n.contains("prod") || n.contains("live")
    });
    prod.or_else(|| options.first()).cloned()
}

/// Whether the conditions around a statement hold in production (None: unknown).
pub fn guard_truth(
    project: &Project,
    app: AppId,
    cfg: &AppConfig,
    file: FileId,
    guard: GuardId,
) -> Option<bool> {
    let facts = project.py.get(file as usize)?.as_ref()?;
    let mut all_true = true;
    for g in facts.guards_of(guard) {
        let t = test_truth(project, app, cfg, file, &g.test, 0).map(|t| t != g.negated);
        match t {
            Some(false) => return Some(false),
            Some(true) => {}
            None => all_true = false,
        }
    }
    all_true.then_some(true)
}

fn test_truth(
    project: &Project,
    app: AppId,
    cfg: &AppConfig,
    file: FileId,
    v: &Value,
    depth: usize,
) -> Option<bool> {
    if depth > MAX_DEPTH {
        return None;
    }
    match &v.kind {
        Kind::Compare(left, rest) => {
            compare_env(left, rest).or_else(|| compare_omitted(project, left, rest))
        }
        Kind::Not(inner) => test_truth(project, app, cfg, file, inner, depth + 1).map(|b| !b),
        Kind::And(vs) => {
            let ts: Vec<Option<bool>> = vs
                .iter()
                .map(|x| test_truth(project, app, cfg, file, x, depth + 1))
                .collect();
            if ts.contains(&Some(false)) {
                Some(false)
            } else if ts.iter().all(|t| *t == Some(true)) {
                Some(true)
            } else {
                None
            }
        }
        Kind::Or(vs) => {
            let ts: Vec<Option<bool>> = vs
                .iter()
                .map(|x| test_truth(project, app, cfg, file, x, depth + 1))
                .collect();
            if ts.contains(&Some(true)) {
                Some(true)
            } else if ts.iter().all(|t| *t == Some(false)) {
                Some(false)
            } else {
                None
            }
        }
        Kind::Bool(_) | Kind::Int(_) | Kind::None => v.truthy(),
        _ => match omitted_param(project, v) {
            // `if test_config:` on a factory parameter nothing passes.
            Some((_, d)) => d.truthy(),
            None => config_flag(project, app, cfg, file, v),
        },
    }
}

/// A factory parameter that no call in the project passes, and no deploy
/// command either (`gunicorn "pkg:create_app()"`, `flask --app pkg`): in
/// production it holds its default (`test_config=None`), which is returned.
pub(crate) fn omitted_param<'a>(project: &'a Project, v: &Value) -> Option<(FileId, &'a Value)> {
    let r = v.reference()?;
    if !r.attrs.is_empty() {
        return None;
    }
    let Root::Param { func, index, name } = &r.root else {
        return None;
    };
    let last = func.rsplit('.').next().unwrap_or(func);
    if deploy_passes_args(project, last) {
        return None;
    }
    project
        .resolver()
        .param_default_if_omitted(func, *index as usize, name)
}

/// Whether a deploy command or variable calls a factory of this name with
/// arguments (`gunicorn "app:create_app('production')"`, `FLASK_APP=...`).
fn deploy_passes_args(project: &Project, func: &str) -> bool {
    let head = format!("{func}(");
    let with_args = |s: &str| {
        s.match_indices(&head).any(|(i, _)| {
            s[i + head.len()..]
                .trim_start()
                .chars()
                .next()
                .is_some_and(|c| c != ')')
        })
    };
    let deploy = &project.deploy;
    deploy
        .commands
        .iter()
        .any(|c| c.words.iter().any(|w| with_args(w)) || c.env.iter().any(|(_, v)| with_args(v)))
        || deploy.env.iter().any(|e| with_args(&e.value))
}

/// `test_config is None`, `config == None`, `mode != "test"` where a side is a
/// factory parameter nothing passes: its default decides.
fn compare_omitted(project: &Project, left: &Value, rest: &[(CmpOp, Value)]) -> Option<bool> {
    let [(op, right)] = rest else { return None };
    let l = omitted_param(project, left).map(|(_, d)| d);
    let r = omitted_param(project, right).map(|(_, d)| d);
    if l.is_none() && r.is_none() {
        return None;
    }
    let (a, b) = (l.unwrap_or(left), r.unwrap_or(right));
    let equal = match (&a.kind, &b.kind) {
        (Kind::None, Kind::None) => true,
        (Kind::None, _) | (_, Kind::None) if a.is_literal() && b.is_literal() => false,
        _ if matches!(op, CmpOp::Is | CmpOp::IsNot) => return None,
        (Kind::Str(_), Kind::Str(_)) => a.as_str() == b.as_str(),
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::Int(x), Kind::Int(y)) => x == y,
        _ => return None,
    };
    match op {
        CmpOp::Eq | CmpOp::Is => Some(equal),
        CmpOp::NotEq | CmpOp::IsNot => Some(!equal),
        _ => None,
    }
}

/// `app.debug`, `app.testing`, `app.config["DEBUG"]`, `app.config.get("DEBUG")`.
fn config_flag(
    project: &Project,
    app: AppId,
    cfg: &AppConfig,
    file: FileId,
    v: &Value,
) -> Option<bool> {
    let resolver = project.resolver();
    let (base, key): (&Value, Option<String>) = match &v.kind {
        Kind::Subscript(b, k) => (b.as_ref(), k.as_str().map(str::to_string)),
        Kind::Call(c) => match c.func.reference() {
            Some(r) if r.last_name() == "get" => (
                &c.func,
                c.arg(0).and_then(Value::as_str).map(str::to_string),
            ),
            _ => return None,
        },
        _ => (v, None),
    };
    let r = resolver.resolve(file, base);
    let Target::Object(site) = r.target else {
        return None;
    };
    if project.app_at(site) != Some(app) {
        return None;
    }
    let attrs: Vec<&str> = r.attrs.iter().map(String::as_str).collect();
    let key = match (attrs.as_slice(), key) {
        (["debug"], None) => "DEBUG".to_string(),
        (["testing"], None) => "TESTING".to_string(),
        (["config"], Some(k)) | (["config", "get"], Some(k)) => k,
        _ => return None,
    };
    cfg.flag(&key)
}
