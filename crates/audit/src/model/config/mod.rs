//! Configuration per app, resolved across files: `config.from_object(...)` with
//! classes (and their bases), modules and dotted strings; `config.update`,
//! `config[...] =`, `from_mapping`, `from_pyfile`, `app.secret_key =`; and what
//! extensions write into the config at init. When the app picks its config by
//! environment, the production choice is made here and recorded with its reason.

mod production;
mod sources;

use super::{
    extensions::ExtKind,
    index::{Resolver, Target},
    pydantic_settings, AppId, Project,
};
use crate::{
    python::{
        self,
        facts::{GuardId, ScopeId},
        value::{BinOp, CmpOp, Kind, Name, Value},
    },
    source::{FileId, Span},
};
pub(crate) use production::guard_truth;
pub use production::ProductionChoice;
pub use sources::is_config_key;
use sources::{
    apply_extensions, load_envvar_file, load_instance_attrs, load_object, load_prefixed_env,
    load_pyfile, load_settings, push,
};

/// How a config value was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigVia {
    /// A class attribute of this class (dotted), loaded by `from_object`.
    Class(String),
    /// A module-level name of this module, loaded by `from_object` / `from_pyfile`.
    Module(String),
    /// `app.config.update(...)` / `from_mapping(...)`.
    Update,
    /// `app.config["KEY"] = ...`
    Item,
    /// `app.secret_key = ...`, `app.debug = ...`
    Attribute,
    /// Written by an extension at init (Talisman's cookie settings).
    Extension(ExtKind),
    /// `config.from_prefixed_env()`: a `FLASK_*` variable set by a deploy file.
    Environment,
    /// A field of a pydantic settings object (`from_object(settings)`,
    /// `from_mapping(settings.model_dump())`, `update(settings.dict())` where
    /// `settings = Settings()`): the value is the field's default, used only
    /// when the environment does not set one of `env`, the variables the
    /// field is read from (empty when they cannot be told). `class` is the
    /// settings class, dotted.
    Settings { class: String, env: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct ConfigEntry {
    pub key: String,
    pub value: Value,
    /// The file `value` was written in.
    pub file: FileId,
    /// The statement or keyword that sets it.
    pub span: Span,
    pub via: ConfigVia,
    /// What may replace this value: a `**mapping` spread written after it in
    /// the same dict (or call) whose keys cannot be read, or a config file
    /// loaded after it that is not in the checkout (`from_pyfile(...,
    /// silent=True)` for an instance file, `from_envvar(...)`).
    pub overridable: Option<Overrider>,
}

/// Something after a config entry that may replace its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overrider {
    /// The spread, or the loading call.
    pub span: Span,
    pub kind: OverriderKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverriderKind {
    /// `{"SECRET_KEY": "dev", **env}`.
    Spread,
    /// `config.from_pyfile(...)` of a file that cannot be read.
    PyFile,
    /// `config.from_file(...)` of a file that cannot be read.
    File,
    /// `config.from_envvar(...)`: the file the variable names.
    EnvVar,
    /// `config.from_prefixed_env()`: `FLASK_*` variables.
    PrefixedEnv,
}

impl Overrider {
    /// What replaces the value, as the subject of a sentence: "the `**`
    /// mapping after it", "the file `from_pyfile` loads after it".
    pub fn describe(&self) -> &'static str {
        match self.kind {
            OverriderKind::Spread => "the `**` mapping after it",
            OverriderKind::PyFile => "the file `from_pyfile` loads after it",
            OverriderKind::File => "the file `from_file` loads after it",
            OverriderKind::EnvVar => "the file `from_envvar` loads after it",
            OverriderKind::PrefixedEnv => {
                "the prefixed environment variables `from_prefixed_env` loads after it"
            }
        }
    }

    /// The related-location label's subject: "this mapping", "this file".
    pub fn this(&self) -> &'static str {
        match self.kind {
            OverriderKind::Spread => "this mapping",
            OverriderKind::PyFile | OverriderKind::File | OverriderKind::EnvVar => {
                "the file loaded here"
            }
            OverriderKind::PrefixedEnv => "the environment variables loaded here",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    /// In the order they take effect: later entries override earlier ones.
    pub entries: Vec<ConfigEntry>,
    /// The class taken as production, when the app chooses by environment (or
    /// loads a single class).
    pub production: Option<ProductionChoice>,
    /// Some configuration comes from somewhere that cannot be read statically
    /// (an unresolvable `from_object`, `from_envvar`, `from_prefixed_env`):
    /// rules about a key being *absent* should stay silent.
    pub incomplete: bool,
    /// The config operations that made it incomplete (a load the audit
    /// cannot read, a mapping it cannot see), for what reads the config as
    /// it stands at one point (flask-cors reads it once, in `CORS(app)`).
    pub opened_by: Vec<ConfigOpening>,
}

/// A config operation that may set keys the audit cannot see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigOpening {
    pub span: Span,
    /// The function (or module) scope it runs in.
    pub scope: ScopeId,
}

impl AppConfig {
    /// The entry in effect for a key.
    pub fn get(&self, key: &str) -> Option<&ConfigEntry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Every entry that sets a key, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a ConfigEntry> + 'a {
        self.entries.iter().filter(move |e| e.key == key)
    }

    /// Whether the config may hold keys the audit cannot see as it stands
    /// when the code at `at` (in `scope`) runs: an opening that comes later
    /// in the same function (or at module level of the same file) cannot
    /// have set anything yet; one anywhere else may have run before.
    pub fn open_at(&self, at: Span, scope: Option<ScopeId>) -> bool {
        self.incomplete
            && (self.opened_by.is_empty()
                || self.opened_by.iter().any(|o| {
                    !(o.span.file == at.file && Some(o.scope) == scope && o.span.start > at.start)
                }))
    }

    /// A key's literal truthiness in effect; `Some(false)` when unset and Flask's
    /// default is false (`DEBUG`, `TESTING`, `PROPAGATE_EXCEPTIONS`).
    pub fn flag(&self, key: &str) -> Option<bool> {
        match self.get(key) {
            Some(e) => e.value.truthy(),
            None if self.incomplete => None,
            None => Some(false),
        }
    }
}

/// Flask attributes that are config keys.
const APP_ATTRS: &[(&str, &str)] = &[
    ("secret_key", "SECRET_KEY"),
    ("debug", "DEBUG"),
    ("testing", "TESTING"),
    ("permanent_session_lifetime", "PERMANENT_SESSION_LIFETIME"),
    ("session_cookie_name", "SESSION_COOKIE_NAME"),
];

/// One config operation on an app, before it is applied.
struct Op<'a> {
    file: FileId,
    offset: u32,
    scope: ScopeId,
    guard: GuardId,
    kind: OpKind<'a>,
    span: Span,
}

enum OpKind<'a> {
    FromObject(&'a Value),
    /// `update(...)` / `from_mapping(...)`, and whether only upper-case keys
    /// are kept (`from_mapping`, as Flask does).
    Update(&'a [Value], &'a [(Option<Name>, Value)], bool),
    Set(String, &'a Value, ConfigVia),
    /// `from_pyfile("settings.py")`, or `from_file("config.json", load=...)`:
    /// the file name (the file's facts hold its keys either way), whether
    /// it is `silent=True` (a missing file loads nothing), and which call.
    PyFile(String, bool, OverriderKind),
    /// `from_prefixed_env(prefix)`.
    PrefixedEnv(String),
    /// `from_envvar("APP_SETTINGS")`: the variable's name, and `silent`.
    EnvVarFile(String, bool),
    /// A config file load whose file cannot be told.
    Opaque(OverriderKind),
    /// A config operation on an app parameter that may be this app or
    /// another one: it may set any key.
    Unattributed,
}

/// Whether a `silent=` argument is literally true: Flask then skips a missing
/// file instead of failing.
fn silent(v: Option<&Value>) -> bool {
    v.and_then(Value::truthy) == Some(true)
}

/// The part of a `from_pyfile` path the source spells out: the whole literal,
/// or the literal end of a path built from a base directory the code computes
/// (`os.path.join(BASE_DIR, "settings.cfg")`, `Path(__file__).parent /
/// "settings.cfg"`, `BASE + "/settings.cfg"`, `f"{BASE}/settings.cfg"`), which
/// `load_pyfile` then matches against the project's files.
fn path_tail(resolver: &Resolver, file: FileId, v: &Value, depth: u8) -> Option<String> {
    if depth > 4 {
        return None;
    }
    let (file, v) = resolver.deref(file, v);
    let literal_end = |v: &Value| -> Option<String> {
        let s = resolver.deref(file, v).1.as_str()?;
        let s = s.trim_start_matches('/');
        (!s.is_empty()).then(|| s.to_string())
    };
    // The literal parts at the end of a join, outermost last: `join(BASE,
    // "conf", "prod.cfg")` and `BASE / "conf" / "prod.cfg"` give `conf/prod.cfg`.
    let joined = |parts: Vec<String>| -> Option<String> {
        (!parts.is_empty()).then(|| {
            parts
                .iter()
                .rev()
                .map(|p| p.trim_matches('/'))
                .collect::<Vec<_>>()
                .join("/")
        })
    };
    match &v.kind {
        Kind::Str(_) => v.as_str().map(str::to_string),
        Kind::Call(c) => {
            let name = c.func.reference().map(|r| r.last_name());
            match name {
                Some("join") => {
                    let mut parts = Vec::new();
                    for a in c.args.iter().rev() {
                        match resolver.deref(file, a).1.as_str() {
                            Some(s) => parts.push(s.to_string()),
                            None => break,
                        }
                    }
                    joined(parts).or_else(|| {
                        c.args
                            .last()
                            .and_then(|a| path_tail(resolver, file, a, depth + 1))
                    })
                }
                // `Path("settings.cfg")`, `str(path)`, `os.fspath(path)`.
                Some("Path" | "PurePath" | "str" | "fspath" | "abspath" | "realpath") => c
                    .args
                    .first()
                    .and_then(|a| path_tail(resolver, file, a, depth + 1)),
                _ => None,
            }
        }
        Kind::BinOp(BinOp::Div, _, _) => {
            let mut parts = Vec::new();
            let mut cur = v;
            while let Kind::BinOp(BinOp::Div, left, right) = &cur.kind {
                match resolver.deref(file, right).1.as_str() {
                    Some(s) => parts.push(s.to_string()),
                    None => break,
                }
                cur = left;
            }
            joined(parts)
        }
        Kind::BinOp(BinOp::Add, _, right) => literal_end(right),
        Kind::FString(parts) => parts.last().and_then(literal_end),
        _ => None,
    }
}

pub fn resolve_configs(project: &mut Project, production_override: Option<&str>) {
    // Apps are resolved independently (each walks every config-like call).
    use rayon::prelude::*;
    let shared: &Project = project;
    // Assignments that may set an app's config (`x.config[...] =`, `x.secret_key
    // =`): found once, then each app keeps those that resolve to it.
    let candidates: Vec<(FileId, &crate::python::facts::AssignFact)> = shared
        .python()
        .flat_map(|(file, facts)| facts.assigns.iter().map(move |a| (file, a)))
        .filter(|(_, a)| match &a.target.kind {
            Kind::Subscript(base, _) => base.reference().is_some_and(|r| r.last_name() == "config"),
            Kind::Ref(r) => {
                let last = r.last_name();
                APP_ATTRS.iter().any(|(attr, _)| *attr == last)
            }
            _ => false,
        })
        .collect();
    let configs: Vec<AppConfig> = shared
        .apps
        .par_iter()
        .map(|app| resolve_app(shared, app.id, production_override, &candidates))
        .collect();
    for (app, cfg) in project.apps.iter_mut().zip(configs) {
        app.config = cfg;
    }
}

fn resolve_app(
    project: &Project,
    app: AppId,
    production_override: Option<&str>,
    candidates: &[(FileId, &crate::python::facts::AssignFact)],
) -> AppConfig {
    let resolver = project.resolver();
    let app_file = project.apps[app].site.file;
    let instance_relative = resolver
        .creating_call(project.apps[app].site, "Flask")
        .and_then(|c| c.call().param(8, "instance_relative_config").cloned())
        .is_some_and(|v| v.truthy() == Some(true));
    let root = sources::ConfigRoot {
        app_file,
        instance_relative,
    };
    let mut ops: Vec<Op> = Vec::new();
    for (file, _, call) in project.calls_named(&[
        "from_object",
        "update",
        "from_mapping",
        "setdefault",
        "from_pyfile",
        "from_prefixed_env",
        "from_envvar",
        "from_file",
    ]) {
        let c = call.call();
        // Only `<app>.config.<op>(...)` calls.
        if c.func.reference().and_then(|r| r.second_last_name()) != Some("config") {
            continue;
        }
        let r = resolver.resolve(file, &c.func);
        let mut unattributed = false;
        let attrs = match r.target {
            Target::Object(site) if project.app_at(site) == Some(app) => r.attrs,
            Target::Unknown => match app_param(project, app, &c.func) {
                Some(ParamApp::This(attrs)) => attrs,
                Some(ParamApp::Maybe(attrs)) => {
                    unattributed = true;
                    attrs
                }
                Some(ParamApp::Other) => continue,
                None => match self_of_app_class(project, app, &c.func) {
                    Some(attrs) => attrs,
                    None => continue,
                },
            },
            _ => match self_of_app_class(project, app, &c.func) {
                Some(attrs) => attrs,
                None => continue,
            },
        };
        let kind = match attrs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["config", "from_object"] => match c.param(0, "obj") {
                Some(v) => OpKind::FromObject(v),
                None => continue,
            },
            ["config", "update"] => OpKind::Update(&c.args, &c.kwargs, false),
            ["config", "from_mapping"] => OpKind::Update(&c.args, &c.kwargs, true),
            ["config", "setdefault"] => match (c.arg(0).and_then(Value::as_str), c.arg(1)) {
                (Some(k), Some(v)) => OpKind::Set(k.to_string(), v, ConfigVia::Update),
                _ => continue,
            },
            ["config", "from_pyfile"] => match c
                .param(0, "filename")
                .and_then(|v| path_tail(&resolver, file, v, 0))
            {
                Some(name) => {
                    OpKind::PyFile(name, silent(c.param(1, "silent")), OverriderKind::PyFile)
                }
                None => OpKind::Opaque(OverriderKind::PyFile),
            },
            ["config", "from_prefixed_env"] => match c.param(0, "prefix") {
                None => OpKind::PrefixedEnv("FLASK".into()),
                Some(v) => match v.as_str() {
                    Some(p) => OpKind::PrefixedEnv(p.to_string()),
                    None => OpKind::Opaque(OverriderKind::PrefixedEnv),
                },
            },
            ["config", "from_envvar"] => match c
                .param(0, "variable_name")
                .map(|v| resolver.deref(file, v).1)
                .and_then(Value::as_str)
            {
                Some(var) => OpKind::EnvVarFile(var.to_string(), silent(c.param(1, "silent"))),
                None => OpKind::Opaque(OverriderKind::EnvVar),
            },
            // Flask's `from_file(filename, load)`: a JSON, TOML or YAML file (whatever
            // the loader, the file's syntax is read from its name).
            ["config", "from_file"] => match c
                .param(0, "filename")
                .and_then(|v| path_tail(&resolver, file, v, 0))
            {
                Some(name) if python::data_config::DataSyntax::of(&name).is_some() => {
                    OpKind::PyFile(name, silent(c.param(2, "silent")), OverriderKind::File)
                }
                _ => OpKind::Opaque(OverriderKind::File),
            },
            _ => continue,
        };
        // A helper that configures an app the audit cannot tell (`def
        // configure(app): app.config.update(...)` in a project with several
        // apps, called from a method): a load it cannot read may put any key
        // into this one. Keys the source spells out (an extension's
        // `app.config.setdefault("EXT_OPTION", ...)`, `update(EXT_X=1)`)
        // are left to the app they belong to, unknown.
        let kind = match kind {
            OpKind::Set(..) if unattributed => continue,
            OpKind::Update(args, kwargs, _)
                if unattributed
                    && kwargs.iter().all(|(k, _)| k.is_some())
                    && args.iter().all(|a| {
                        a.as_dict()
                            .is_some_and(|items| items.iter().all(|(k, _)| k.is_some()))
                    }) =>
            {
                continue
            }
            _ if unattributed => OpKind::Unattributed,
            kind => kind,
        };
        ops.push(Op {
            file,
            offset: call.range().start().into(),
            scope: call.scope,
            guard: call.guard,
            kind,
            span: Span::new(file, call.range()),
        });
    }
    for &(file, a) in candidates {
        let (base, key) = match &a.target.kind {
            Kind::Subscript(base, key) => (base.as_ref(), key.as_str().map(str::to_string)),
            Kind::Ref(_) => (&a.target, None),
            _ => continue,
        };
        let r = resolver.resolve(file, base);
        let attrs = match r.target {
            Target::Object(site) if project.app_at(site) == Some(app) => r.attrs,
            Target::Unknown => match app_param(project, app, base) {
                Some(ParamApp::This(attrs)) => attrs,
                _ => continue,
            },
            _ => continue,
        };
        let attrs: Vec<&str> = attrs.iter().map(String::as_str).collect();
        let (key, via) = match (attrs.as_slice(), key) {
            (["config"], Some(k)) => (k, ConfigVia::Item),
            ([attr], None) => match APP_ATTRS.iter().find(|(a, _)| a == attr) {
                Some((_, k)) => (k.to_string(), ConfigVia::Attribute),
                None => continue,
            },
            _ => continue,
        };
        ops.push(Op {
            file,
            offset: a.range.start().into(),
            scope: a.scope,
            guard: a.guard,
            kind: OpKind::Set(key, &a.value, via),
            span: Span::new(file, a.range),
        });
    }
    // Operations in the app's own file (its factory) first, in source order; other
    // files (a wsgi.py tweaking the config) after.
    ops.sort_by_key(|o| (o.file != app_file, o.file, o.offset));

    let mut cfg = AppConfig::default();
    for op in ops {
        if production::guard_truth(project, app, &cfg, op.file, op.guard) == Some(false) {
            continue;
        }
        // Which operations leave the config open, one by one.
        let was_incomplete = std::mem::take(&mut cfg.incomplete);
        let (op_span, op_scope) = (op.span, op.scope);
        match op.kind {
            OpKind::FromObject(v) => {
                // `from_object(config)` with `config=None` that nothing passes:
                // Flask reads the upper-case attributes of None, none.
                if production::omitted_param(project, v)
                    .is_some_and(|(_, d)| matches!(d.kind, Kind::None))
                {
                    continue;
                }
                let choice = production::choose(project, op.file, v, op.span, production_override);
                match choice {
                    Some(choice) => {
                        match &choice.target {
                            // An instance of a pydantic settings class holds its
                            // fields; the class itself holds none of them as
                            // attributes (pydantic takes them out of the class).
                            Target::Class(q) if is_settings(project, q) => {
                                if choice.instance {
                                    load_settings(project, q, true, &mut cfg);
                                } else {
                                    cfg.incomplete = true;
                                }
                            }
                            target => {
                                load_object(project, target, &mut cfg);
                                if let (true, Target::Class(q)) = (choice.instance, target) {
                                    load_instance_attrs(project, q, &mut cfg, 0);
                                }
                            }
                        }
                        if choice.target_is_class() || cfg.production.is_none() {
                            cfg.production = Some(choice);
                        }
                    }
                    None => cfg.incomplete = true,
                }
            }
            OpKind::Update(args, kwargs, upper_only) => {
                let kept = |k: &str| !upper_only || is_config_key(k);
                let mapping_start = cfg.entries.len();
                for a in args {
                    match settings_dump(project, &resolver, op.file, a) {
                        Some(Some(q)) => {
                            load_settings(project, &q, upper_only, &mut cfg);
                            continue;
                        }
                        Some(None) => {
                            cfg.incomplete = true;
                            continue;
                        }
                        None => {}
                    }
                    let Some((f, dict)) = update_mapping(project, &resolver, op.file, a) else {
                        continue;
                    };
                    if let Some(items) = dict.as_dict() {
                        // `{"SECRET_KEY": "dev", **env}`: a later spread
                        // replaces the keys before it.
                        let since = cfg.entries.len();
                        for (k, v) in items {
                            match k {
                                None => {
                                    let replaced = since..cfg.entries.len();
                                    apply_spread(project, &mut cfg, f, v, Some(replaced), &kept)
                                }
                                Some(k) => match k.as_str() {
                                    Some(k) if !kept(k) => {}
                                    Some(k) => push(
                                        &mut cfg,
                                        k,
                                        v,
                                        f,
                                        Span::new(f, v.range),
                                        ConfigVia::Update,
                                    ),
                                    None => cfg.incomplete = true,
                                },
                            }
                        }
                    } else if let Some(c) = dict.as_call().filter(|c| {
                        c.func.qualified().as_deref() == Some("dict") && c.args.is_empty()
                    }) {
                        // `dict(SECRET_KEY="dev", **overrides)`: a spread
                        // cannot pass a keyword also written literally
                        // (Python raises TypeError), so it replaces none.
                        for (k, v) in c.kwargs.iter() {
                            match k {
                                None => apply_spread(project, &mut cfg, f, v, None, &kept),
                                Some(k) if !kept(k) => {}
                                Some(k) => push(
                                    &mut cfg,
                                    k,
                                    v,
                                    f,
                                    Span::new(f, v.range),
                                    ConfigVia::Update,
                                ),
                            }
                        }
                        if c.spread && c.kwargs.iter().all(|(k, _)| k.is_some()) {
                            cfg.incomplete = true;
                        }
                    } else {
                        cfg.incomplete = true;
                    }
                }
                // Keywords after the mapping replace its keys
                // (`update({"SECRET_KEY": "dev"}, **env)`); a spread cannot
                // replace a keyword written literally in the same call.
                let mapping_entries = mapping_start..cfg.entries.len();
                for (k, v) in kwargs {
                    match k {
                        Some(k) if !kept(k) => {}
                        Some(k) => push(
                            &mut cfg,
                            k,
                            v,
                            op.file,
                            Span::new(op.file, v.range),
                            ConfigVia::Update,
                        ),
                        None => apply_spread(
                            project,
                            &mut cfg,
                            op.file,
                            v,
                            Some(mapping_entries.clone()),
                            &kept,
                        ),
                    }
                }
            }
            OpKind::Set(key, v, via) => push(&mut cfg, &key, v, op.file, op.span, via),
            OpKind::PyFile(name, silent, kind) => {
                let before = cfg.entries.len();
                if !load_pyfile(project, &root, &name, silent, &mut cfg) {
                    overridable_before(&mut cfg, before, op.span, kind);
                }
            }
            OpKind::PrefixedEnv(prefix) => {
                // Any `FLASK_*` variable of the process may set a key; those
                // the deploy files set are loaded after the entries before.
                let before = cfg.entries.len();
                load_prefixed_env(project, &prefix, &mut cfg);
                overridable_before(&mut cfg, before, op.span, OverriderKind::PrefixedEnv);
            }
            OpKind::EnvVarFile(var, silent) => {
                let before = cfg.entries.len();
                if !load_envvar_file(project, &root, &var, silent, &mut cfg) {
                    overridable_before(&mut cfg, before, op.span, OverriderKind::EnvVar);
                }
            }
            OpKind::Unattributed => cfg.incomplete = true,
            OpKind::Opaque(kind) => {
                cfg.incomplete = true;
                let before = cfg.entries.len();
                overridable_before(&mut cfg, before, op.span, kind);
            }
        }
        if cfg.incomplete {
            cfg.opened_by.push(ConfigOpening {
                span: op_span,
                scope: op_scope,
            });
        }
        cfg.incomplete |= was_incomplete;
    }
    apply_extensions(project, app, &mut cfg);
    cfg
}

/// A config file (or the environment) loaded at `at` that the audit cannot
/// read may set any key: the entries before it (the first `before`) become
/// defaults it may replace, as before a `**` spread. Entries written after
/// the load still win.
fn overridable_before(cfg: &mut AppConfig, before: usize, at: Span, kind: OverriderKind) {
    let by = Overrider { span: at, kind };
    for e in cfg.entries.iter_mut().take(before) {
        e.overridable.get_or_insert(by);
    }
}

/// A `**mapping` spread in a dict or call that loads config keys: the items
/// of a mapping the source spells out are loaded; any other mapping may hold
/// any key, so the config is incomplete and the entries in `replaces` (those
/// the spread comes after and may replace) are marked overridable.
fn apply_spread<'a>(
    project: &'a Project,
    cfg: &mut AppConfig,
    file: FileId,
    v: &'a Value,
    replaces: Option<std::ops::Range<usize>>,
    kept: &dyn Fn(&str) -> bool,
) {
    // A factory parameter nothing passes (`**(overrides or {})` with
    // `overrides=None`) spreads nothing.
    let at = Span::new(file, v.range);
    let resolver = project.resolver();
    let Some((file, v)) = update_mapping(project, &resolver, file, v) else {
        return;
    };
    match super::spread::spread_items(project, file, v) {
        Some((sfile, items)) => {
            for (k, value) in items {
                if kept(k) {
                    push(
                        cfg,
                        k,
                        value,
                        sfile,
                        Span::new(sfile, value.range),
                        ConfigVia::Update,
                    );
                }
            }
        }
        None => {
            cfg.incomplete = true;
            if let Some(range) = replaces {
                let by = Overrider {
                    span: at,
                    kind: OverriderKind::Spread,
                };
                for e in cfg.entries.get_mut(range).into_iter().flatten() {
                    e.overridable.get_or_insert(by);
                }
            }
        }
    }
}

/// Whether a dotted class name is a project class derived from pydantic's
/// `BaseSettings`.
fn is_settings(project: &Project, q: &str) -> bool {
    project
        .resolver()
        .class(q)
        .is_some_and(|(f, c)| pydantic_settings::is_settings_class(project, f, c))
}

/// `settings.model_dump()` / `settings.dict()` (pydantic 1) as the mapping of
/// `config.update(...)` / `from_mapping(...)`, where `settings` is an
/// instance of a project settings class (`settings = Settings()`, imported
/// or made by a factory such as `get_settings()`): `Some(Some(class))`, or
/// `Some(None)` when arguments change which keys it holds (`exclude=`,
/// `by_alias=True`, ...). None for any other value.
fn settings_dump(
    project: &Project,
    resolver: &Resolver<'_>,
    file: FileId,
    v: &Value,
) -> Option<Option<String>> {
    let c = v.as_call()?;
    let method = c.func.reference()?.last_name();
    if method != "model_dump" && method != "dict" {
        return None;
    }
    let receiver = c.receiver()?;
    let class = resolver.class_of(resolver.resolve(file, &receiver).target)?;
    if !is_settings(project, &class) {
        return None;
    }
    // Keys are the field names unless told otherwise.
    let plain = !c.spread
        && c.args.is_empty()
        && c.kwargs
            .iter()
            .all(|(k, v)| match k.as_ref().map(Name::as_str) {
                Some("mode" | "round_trip" | "warnings") => true,
                Some("by_alias") => v.truthy() == Some(false),
                _ => false,
            });
    Some(plain.then_some(class))
}

/// The mapping `config.update(arg)` / `from_mapping(arg)` loads in production,
/// or None when it loads nothing: a factory parameter nothing passes whose
/// default is None (`create_app(test_config=None)`), `overrides or {}` with
/// such a parameter.
fn update_mapping<'a>(
    project: &'a Project,
    resolver: &Resolver<'a>,
    file: FileId,
    v: &'a Value,
) -> Option<(FileId, &'a Value)> {
    let one = |x: &'a Value| match production::omitted_param(project, x) {
        Some((_, d)) if matches!(d.kind, Kind::None) => None,
        Some(found) => Some(found),
        None => Some(resolver.deref(file, x)),
    };
    let Kind::Or(operands) = &v.kind else {
        return one(v);
    };
    // `overrides or {}`: the first operand not known to be falsy.
    let mut last = None;
    for x in operands.iter() {
        match one(x) {
            Some((f, d)) if d.truthy() != Some(false) => return Some((f, d)),
            found => last = found,
        }
    }
    last
}

/// Parameter names that hold the app in setup helpers (`def configure(app):`).
const APP_PARAM_NAMES: &[&str] = &["app", "application", "flask_app", "_app"];

/// Which app a receiver rooted at an app parameter (`def configure(app):
/// app.config.update(...)`) is.
enum ParamApp {
    /// This app, with the attribute path (`["config", "update"]`).
    This(Vec<String>),
    /// Perhaps this app: no call of the function tells.
    Maybe(Vec<String>),
    /// Another app: every call of the function passes another one.
    Other,
}

/// A receiver rooted at a parameter that nothing resolves but that is named
/// or annotated as the app: with a single app in the project it is taken to
/// be it (`self._setup(app)` calls, callbacks), as extensions initialised
/// that way are; with several, it is this app when a call of the function
/// passes it, another when every call passes another, and unknown otherwise.
fn app_param(project: &Project, app: AppId, v: &Value) -> Option<ParamApp> {
    let attrs = unresolved_app_param(project, v)?;
    if project.apps.len() == 1 {
        return Some(ParamApp::This(attrs));
    }
    let crate::python::value::Root::Param { func, index, name } = &v.reference()?.root else {
        return None;
    };
    let resolver = project.resolver();
    let Some((_, fact)) = resolver.function(func) else {
        return Some(ParamApp::Maybe(attrs));
    };
    let skip_self = usize::from(fact.method_of.is_some());
    let mut passed = Vec::new();
    for &(cfile, ci) in project.index.callers(func) {
        let Some(c) = resolver.facts(cfile).and_then(|p| p.calls.get(ci)) else {
            continue;
        };
        let c = c.call();
        let arg = c.kwarg(name).or_else(|| {
            (*index as usize)
                .checked_sub(skip_self)
                .and_then(|i| c.args.get(i))
        });
        match arg {
            Some(a) => passed.push(project.app_of(cfile, a, false)),
            None => passed.push(None),
        }
    }
    Some(if passed.contains(&Some(app)) {
        ParamApp::This(attrs)
    } else if !passed.is_empty() && passed.iter().all(Option::is_some) {
        ParamApp::Other
    } else {
        ParamApp::Maybe(attrs)
    })
}

/// A receiver rooted at a parameter named or annotated as the app: its
/// attribute path (`["config", "update"]`).
fn unresolved_app_param(project: &Project, v: &Value) -> Option<Vec<String>> {
    let r = v.reference()?;
    let crate::python::value::Root::Param { func, index, name } = &r.root else {
        return None;
    };
    let annotated = project
        .resolver()
        .function(func)
        .and_then(|(f, fact)| {
            let p = fact.params.get(*index as usize)?;
            let a = p.annotation.as_ref()?;
            project.resolver().resolve(f, a).external_name()
        })
        .is_some_and(|n| n == "flask.Flask" || n == "flask.app.Flask");
    (annotated || APP_PARAM_NAMES.contains(&name.as_str()))
        .then(|| r.attrs.iter().map(Name::to_string).collect())
}

/// `self.config.from_object(...)` in a method of the app's own Flask
/// subclass (`class Redash(Flask): def __init__(self): ...
/// self.config.from_object("redash.settings")`): the app configures itself
/// when it is created. Its attribute path (`["config", "from_object"]`).
fn self_of_app_class(project: &Project, app: AppId, v: &Value) -> Option<Vec<String>> {
    let r = v.reference()?;
    let crate::python::value::Root::Param {
        func,
        index: 0,
        name,
    } = &r.root
    else {
        return None;
    };
    if name.as_str() != "self" {
        return None;
    }
    let resolver = project.resolver();
    let class = resolver.class_of(Target::Object(project.apps.get(app)?.site))?;
    let (_, method) = resolver.function(func)?;
    (method.method_of.as_deref() == Some(class.as_str()))
        .then(|| r.attrs.iter().map(Name::to_string).collect())
}

/// Whether a comparison operand is a production environment name.
pub fn is_production_name(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "production" | "prod" | "live" | "release"
    )
}

/// Whether an environment name is not production.
pub fn is_non_production_name(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "development" | "dev" | "develop" | "testing" | "test" | "tests" | "local" | "debug" | "ci"
    )
}

/// Evaluates `env == "production"`-style comparisons for the production world.
pub(crate) fn compare_env(left: &Value, rest: &[(CmpOp, Value)]) -> Option<bool> {
    let [(op, right)] = rest else { return None };
    let (name, other) = match (left.as_str(), right.as_str()) {
        (Some(a), Some(b)) => {
            if a == "__main__" || b == "__main__" {
                return None;
            }
            return match op {
                CmpOp::Eq => Some(a == b),
                CmpOp::NotEq => Some(a != b),
                _ => None,
            };
        }
        (Some(s), None) => (s, right),
        (None, Some(s)) => (s, left),
        (None, None) => return None,
    };
    let _ = other;
    let eq = if is_production_name(name) {
        true
    } else if is_non_production_name(name) {
        false
    } else {
        return None;
    };
    match op {
        CmpOp::Eq | CmpOp::Is => Some(eq),
        CmpOp::NotEq | CmpOp::IsNot => Some(!eq),
        _ => None,
    }
}
