//! Symbols across files: which module a dotted name lives in, what a module-level
//! name is bound to, where classes and functions are defined, and which call
//! created an object. Resolution follows re-exports (`from .extensions import
//! limiter` in a package's `__init__`), factories (`app = create_app()`) and
//! function parameters (through the calls that pass them), each bounded in depth.

use rustc_hash::FxHashMap as HashMap;

use crate::{
    python::{
        facts::{CallFact, ClassAttr, ClassFact, FunctionFact, PyFacts},
        value::{Kind, Name, Ref, Root, Site, Value},
    },
    source::FileId,
};

/// How deep resolution follows names, factories and parameters.
const MAX_HOPS: usize = 12;
/// Resolution steps one `resolve` may take.
const MAX_STEPS: u32 = 1024;
/// Call sites of a function considered for what its parameters hold.
const MAX_CALLERS: usize = 16;

/// What a value refers to once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The object created by the call at this site (an app, a blueprint, an extension).
    Object(Site),
    /// A class defined in the project (dotted name).
    Class(String),
    /// A function defined in the project (dotted name).
    Function(String),
    /// A module of the project.
    Module(String),
    /// Something outside the project: `flask.Flask`, `os.environ`.
    External(String),
    Unknown,
}

/// A resolved value with the attribute path left over (`limiter.limit` ->
/// the Limiter object and `["limit"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub target: Target,
    pub attrs: Vec<String>,
}

impl Resolved {
    fn unknown() -> Resolved {
        Resolved {
            target: Target::Unknown,
            attrs: Vec::new(),
        }
    }

    /// The dotted name of an external target with its attributes.
    pub fn external_name(&self) -> Option<String> {
        match &self.target {
            Target::External(q) if self.attrs.is_empty() => Some(q.clone()),
            Target::External(q) => Some(format!("{q}.{}", self.attrs.join("."))),
            Target::Class(q) | Target::Function(q) if self.attrs.is_empty() => Some(q.clone()),
            _ => None,
        }
    }
}

/// Lookup tables over every analysed Python file.
#[derive(Debug, Default)]
pub struct Index {
    modules: HashMap<String, FileId>,
    /// Other dotted names a module is imported by, through directories without
    /// an `__init__.py` above its package (`conduit.settings` for
    /// conduit/settings.py, named `settings`): alias -> module, None when
    /// several modules share the alias.
    aliases: HashMap<String, Option<String>>,
    /// module -> local name -> imported dotted name (module-level imports).
    imports: HashMap<String, HashMap<Name, Name>>,
    /// module -> the modules it imports `*` from, in source order.
    stars: HashMap<String, Vec<String>>,
    /// `module.name` -> (file, index into globals) of the binding to use.
    globals: HashMap<String, (FileId, usize)>,
    classes: HashMap<Name, (FileId, usize)>,
    functions: HashMap<Name, (FileId, usize)>,
    calls: HashMap<Site, usize>,
    /// Function dotted name -> calls of it (file, call index), for parameters.
    callers: HashMap<Name, Vec<(FileId, usize)>>,
}

impl Index {
    /// `rels`: each file's root-relative path, by file id.
    pub fn build(py: &[Option<PyFacts>], rels: &[&str]) -> Index {
        let mut ix = Index::default();
        for (file, facts) in py.iter().enumerate() {
            let Some(f) = facts else { continue };
            let file = file as FileId;
            ix.modules.entry(f.module.clone()).or_insert(file);
            let imports = ix.imports.entry(f.module.clone()).or_default();
            for imp in f.imports.iter().filter(|i| i.scope == 0) {
                if imp.local.as_str() == "*" {
                    ix.stars
                        .entry(f.module.clone())
                        .or_default()
                        .push(imp.qualified.to_string());
                    continue;
                }
                imports
                    .entry(imp.local.clone())
                    .or_insert_with(|| imp.qualified.clone());
            }
            for (i, g) in f.globals.iter().enumerate() {
                let key = format!("{}.{}", f.module, g.name);
                // Prefer the first binding that creates an object (the app, an
                // extension); otherwise the last one.
                let keep_existing = ix.globals.get(&key).is_some_and(|&(pf, pi)| {
                    let existing = if pf == file {
                        Some(f)
                    } else {
                        py[pf as usize].as_ref()
                    };
                    existing
                        .and_then(|p| p.globals.get(pi))
                        .is_some_and(|b| matches!(b.value.kind, Kind::Call(_)))
                        || pf != file
                });
                if !keep_existing {
                    ix.globals.insert(key, (file, i));
                }
            }
            for (i, c) in f.classes.iter().enumerate() {
                ix.classes.entry(c.qualified.clone()).or_insert((file, i));
            }
            for (i, func) in f.functions.iter().enumerate() {
                ix.functions
                    .entry(func.qualified.clone())
                    .or_insert((file, i));
            }
            for (i, c) in f.calls.iter().enumerate() {
                ix.calls.insert(
                    Site {
                        file,
                        offset: c.value.range.start().into(),
                    },
                    i,
                );
            }
        }
        ix.aliases = namespace_aliases(py, rels, &ix.modules);
        // Callers need name resolution, so they are indexed after the tables above;
        // only calls whose last name is a project function's can be one.
        let function_names: rustc_hash::FxHashSet<&str> = ix
            .functions
            .keys()
            .map(|q| q.rsplit('.').next().unwrap_or(q))
            .collect();
        let mut callers: HashMap<Name, Vec<(FileId, usize)>> = HashMap::default();
        for (file, facts) in py.iter().enumerate() {
            let Some(f) = facts else { continue };
            for (i, c) in f.calls.iter().enumerate() {
                if !c
                    .call()
                    .last_name()
                    .is_some_and(|n| function_names.contains(n))
                {
                    continue;
                }
                let key = c
                    .call()
                    .func_name()
                    .map(|name| ix.canonical(&name, 0))
                    .filter(|q| ix.functions.contains_key(q.as_str()))
                    .or_else(|| ix.instance_method(py, c.call()));
                if let Some((key, _)) = key.and_then(|k| ix.functions.get_key_value(k.as_str())) {
                    callers
                        .entry(key.clone())
                        .or_default()
                        .push((file as FileId, i));
                }
            }
        }
        ix.callers = callers;
        ix
    }

    pub fn module_file(&self, module: &str) -> Option<FileId> {
        self.modules.get(module).copied().or_else(|| {
            let m = self.aliases.get(module)?.as_deref()?;
            self.modules.get(m).copied()
        })
    }

    /// A dotted name through a namespace directory (`conduit.settings.ProdConfig`
    /// when conduit/ has no `__init__.py`) rewritten to the module's own name
    /// (`settings.ProdConfig`), unless a longer prefix is a real module.
    fn unalias(&self, dotted: &str) -> Option<String> {
        if self.aliases.is_empty() {
            return None;
        }
        let mut split = dotted.len();
        loop {
            let prefix = &dotted[..split];
            if self.modules.contains_key(prefix) {
                return None;
            }
            if let Some(alias) = self.aliases.get(prefix) {
                let module = alias.as_deref()?;
                return Some(format!("{module}{}", &dotted[split..]));
            }
            split = prefix.rfind('.')?;
        }
    }

    /// Follows re-exports: `orders.limiter` -> `orders.extensions.limiter` when
    /// orders/__init__.py does `from .extensions import limiter`.
    pub fn canonical(&self, dotted: &str, depth: usize) -> String {
        if depth > MAX_HOPS {
            return dotted.to_string();
        }
        if let Some(named) = self.unalias(dotted) {
            return self.canonical(&named, depth + 1);
        }
        // The longest prefix that is a project module.
        let mut split = dotted.len();
        loop {
            let prefix = &dotted[..split];
            if let Some(imports) = self.imports.get(prefix) {
                if split < dotted.len() {
                    let rest = &dotted[split + 1..];
                    let (first, tail) = rest
                        .split_once('.')
                        .map_or((rest, None), |(a, b)| (a, Some(b)));
                    if let Some(target) = imports.get(first) {
                        let next = match tail {
                            Some(t) => format!("{target}.{t}"),
                            None => target.to_string(),
                        };
                        if next != dotted {
                            return self.canonical(&next, depth + 1);
                        }
                    } else if let Some(from) = self.star_source(prefix, first) {
                        // Brought in by `from <from> import *`.
                        let next = match tail {
                            Some(t) => format!("{from}.{first}.{t}"),
                            None => format!("{from}.{first}"),
                        };
                        return self.canonical(&next, depth + 1);
                    }
                }
                return dotted.to_string();
            }
            match prefix.rfind('.') {
                Some(i) => split = i,
                None => return dotted.to_string(),
            }
        }
    }

    /// The project module a `from X import *` in `module` brought `name` from:
    /// one that imports, defines or binds it (the module itself does not).
    pub fn star_source(&self, module: &str, name: &str) -> Option<&str> {
        self.star_source_at(module, name, 0)
    }

    /// `star_source` through chains of star imports (a package's `__init__.py`
    /// doing `from .models import *`), a few levels deep.
    fn star_source_at(&self, module: &str, name: &str, depth: usize) -> Option<&str> {
        let stars = self.stars.get(module)?;
        if depth > 4 || self.defines(module, name) {
            return None;
        }
        stars
            .iter()
            .rev()
            .map(String::as_str)
            .find(|s| self.defines(s, name) || self.star_source_at(s, name, depth + 1).is_some())
    }

    /// Whether a project module imports, defines or binds `name` at its top level.
    fn defines(&self, module: &str, name: &str) -> bool {
        let dotted = format!("{module}.{name}");
        self.imports
            .get(module)
            .is_some_and(|i| i.contains_key(name))
            || self.globals.contains_key(&dotted)
            || self.classes.contains_key(dotted.as_str())
            || self.functions.contains_key(dotted.as_str())
            || self.modules.contains_key(&dotted)
    }

    pub fn class(&self, dotted: &str) -> Option<(FileId, usize)> {
        self.classes.get(dotted).copied()
    }

    pub fn function(&self, dotted: &str) -> Option<(FileId, usize)> {
        self.functions.get(dotted).copied()
    }

    pub fn call_at(&self, site: Site) -> Option<usize> {
        self.calls.get(&site).copied()
    }

    /// The project method a call of a method on an instance of a project
    /// class calls: `handlers.register(app)` where `handlers =
    /// ErrorHandlers()` (a local or a module global) calls
    /// `ErrorHandlers.register`. Only methods the class itself defines.
    fn instance_method(
        &self,
        py: &[Option<PyFacts>],
        call: &crate::python::value::Call,
    ) -> Option<String> {
        let r = call.func_ref()?;
        // A global root carries the dotted name with its attributes or apart.
        let (root, method): (Option<&str>, &str) = match (&r.root, r.attrs.as_slice()) {
            (Root::Global(q), []) => {
                let (recv, method) = q.rsplit_once('.')?;
                (Some(recv), method)
            }
            (Root::Global(q), [method]) => (Some(q.as_str()), method.as_str()),
            (Root::Obj { ctor, .. }, [method]) => {
                return self.method_of_class(ctor, method);
            }
            _ => return None,
        };
        let recv = self.canonical(root?, 0);
        let &(gfile, gi) = self.globals.get(&recv)?;
        let binding = py.get(gfile as usize)?.as_ref()?.globals.get(gi)?;
        let ctor = binding.value.as_call()?.func_name()?;
        self.method_of_class(&ctor, method)
    }

    /// `Class.method` when `ctor` names a project class defining `method`.
    fn method_of_class(&self, ctor: &str, method: &str) -> Option<String> {
        let class = self.canonical(ctor, 0);
        if !self.classes.contains_key(class.as_str()) {
            return None;
        }
        let q = format!("{class}.{method}");
        self.functions.contains_key(q.as_str()).then_some(q)
    }

    pub fn callers(&self, function: &str) -> &[(FileId, usize)] {
        self.callers.get(function).map_or(&[], Vec::as_slice)
    }

    pub fn global(&self, dotted: &str) -> Option<(FileId, usize)> {
        self.globals.get(dotted).copied()
    }
}

/// Directories above a module's package that have no `__init__.py` can still
/// be imported through (namespace packages, or repositories that leave the file
/// out): each dotted name from such a directory down is an alias of the module
/// (`conduit.settings` and `src.conduit.settings` for src/conduit/settings.py,
/// named `settings`). A real module name is never an alias; an alias two
/// modules share resolves to neither.
fn namespace_aliases(
    py: &[Option<PyFacts>],
    rels: &[&str],
    modules: &HashMap<String, FileId>,
) -> HashMap<String, Option<String>> {
    /// Directories above the package considered.
    const MAX_LEVELS: usize = 6;
    // alias -> the one file it names (None: several, or a shared module name).
    let mut aliases: HashMap<String, Option<usize>> = HashMap::default();
    for (file, facts) in py.iter().enumerate() {
        let (Some(f), Some(rel)) = (facts, rels.get(file)) else {
            continue;
        };
        let module = f.module.as_str();
        if module.is_empty() || module.starts_with('<') {
            continue;
        }
        // A module whose name another file holds too: its tables are that
        // file's, so its aliases lead nowhere sure.
        let owner = modules.get(module) == Some(&(file as FileId));
        let Some(path) = rel.strip_suffix(".py").or_else(|| rel.strip_suffix(".pyw")) else {
            continue;
        };
        let path = path.strip_suffix("/__init__").unwrap_or(path);
        let mut parts: Vec<&str> = path.split('/').collect();
        let own = module.split('.').count();
        if parts.len() <= own || parts[parts.len() - own..].join(".") != module {
            continue;
        }
        parts.truncate(parts.len() - own);
        let mut name = module.to_string();
        for dir in parts.iter().rev().take(MAX_LEVELS) {
            let identifier = dir
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && dir.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !identifier {
                break;
            }
            name = format!("{dir}.{name}");
            if modules.contains_key(&name) {
                continue;
            }
            let this = owner.then_some(file);
            aliases
                .entry(name.clone())
                .and_modify(|m| *m = None)
                .or_insert(this);
        }
    }
    aliases
        .into_iter()
        .map(|(alias, file)| {
            let module = file
                .and_then(|f| py[f].as_ref())
                .map(|f| f.module.to_string());
            (alias, module)
        })
        .collect()
}

/// Resolution needs the facts as well as the index.
pub struct Resolver<'a> {
    pub py: &'a [Option<PyFacts>],
    pub index: &'a Index,
    /// Steps left for the current `resolve`: resolution branches over return
    /// values, so a budget keeps hostile recursion from exploding.
    pub budget: std::cell::Cell<u32>,
}

impl<'a> Resolver<'a> {
    pub fn facts(&self, file: FileId) -> Option<&'a PyFacts> {
        self.py.get(file as usize)?.as_ref()
    }

    pub fn call(&self, site: Site) -> Option<&'a CallFact> {
        let i = self.index.call_at(site)?;
        self.facts(site.file)?.calls.get(i)
    }

    /// The call that created an object, told apart by its constructor name
    /// from other calls that start at the same offset (`Path(p)` and
    /// `Path(p).read_text()`).
    pub fn creating_call(&self, site: Site, ctor: &str) -> Option<&'a CallFact> {
        let i = self.index.call_at(site)?;
        let calls = &self.facts(site.file)?.calls;
        let lo = i.saturating_sub(256);
        calls
            .get(lo..=i)?
            .iter()
            .rev()
            .find(|c| {
                u32::from(c.value.range.start()) == site.offset
                    && crate::python::object_ctor(&c.value) == ctor
            })
            .or_else(|| calls.get(i))
    }

    pub fn class(&self, dotted: &str) -> Option<(FileId, &'a ClassFact)> {
        let (f, i) = self.index.class(dotted)?;
        Some((f, self.facts(f)?.classes.get(i)?))
    }

    pub fn function(&self, dotted: &str) -> Option<(FileId, &'a FunctionFact)> {
        let (f, i) = self.index.function(dotted)?;
        Some((f, self.facts(f)?.functions.get(i)?))
    }

    /// Resolves a value found in `file`.
    pub fn resolve(&self, file: FileId, v: &Value) -> Resolved {
        self.budget.set(MAX_STEPS);
        let mut r = self.resolve_at(file, v, 0);
        self.unwrap_connexion(&mut r);
        r
    }

    /// `connex_app.app` is the Flask app a connexion `App` wraps and forwards
    /// `route`, `run` and the WSGI calls to: read as the same application
    /// object.
    fn unwrap_connexion(&self, r: &mut Resolved) {
        let Target::Object(site) = r.target else {
            return;
        };
        if r.attrs.first().is_none_or(|a| a != "app") {
            return;
        }
        let Some(call) = self.call(site) else {
            return;
        };
        self.budget.set(MAX_STEPS);
        let func = self.resolve_at(site.file, &call.call().func, 0);
        if func
            .external_name()
            .is_some_and(|n| crate::model::apps::is_connexion_app(&n))
        {
            r.attrs.remove(0);
        }
    }

    fn resolve_at(&self, file: FileId, v: &Value, depth: usize) -> Resolved {
        let left = self.budget.get();
        if depth > MAX_HOPS || left == 0 {
            return Resolved::unknown();
        }
        self.budget.set(left - 1);
        match &v.kind {
            Kind::Call(_) => self.object(
                Site {
                    file,
                    offset: v.range.start().into(),
                },
                Vec::new(),
                depth,
            ),
            Kind::Ref(r) => match &r.root {
                Root::Obj { site, .. } => {
                    self.object(*site, r.attrs.iter().map(Name::to_string).collect(), depth)
                }
                Root::Global(q) => {
                    // A bare name bound nowhere in its module (the analysis
                    // leaves it as a builtin) may come from a `from X import *`.
                    let q = match (q.contains('.'), self.facts(file)) {
                        (false, Some(f)) => match self.index.star_source(&f.module, q) {
                            Some(from) => format!("{from}.{q}"),
                            None => q.to_string(),
                        },
                        _ => q.to_string(),
                    };
                    let dotted = if r.attrs.is_empty() {
                        q
                    } else {
                        format!("{q}.{}", r.attrs.join("."))
                    };
                    self.dotted(&dotted, depth)
                }
                Root::Param { func, index, name } => {
                    let arg = self
                        .param_values(func, *index as usize, name, depth)
                        .into_iter()
                        .next();
                    match arg {
                        Some((f, value)) => {
                            let mut res = self.resolve_at(f, value, depth + 1);
                            res.attrs.extend(r.attrs.iter().map(Name::to_string));
                            res
                        }
                        None => Resolved::unknown(),
                    }
                }
                Root::Local(_) => Resolved::unknown(),
            },
            _ => Resolved::unknown(),
        }
    }

    /// An object, following factories: the object made by `create_app()` is the
    /// one `create_app` returns.
    fn object(&self, site: Site, attrs: Vec<String>, depth: usize) -> Resolved {
        let Some(call) = self.call(site) else {
            return Resolved {
                target: Target::Object(site),
                attrs,
            };
        };
        let func = self.resolve_at(site.file, &call.call().func, depth + 1);
        if let (Target::Function(f), true) = (&func.target, func.attrs.is_empty()) {
            if let Some((ffile, fact)) = self.function(f) {
                for ret in &fact.returns {
                    let mut r = self.resolve_at(ffile, ret, depth + 1);
                    if matches!(r.target, Target::Object(_)) {
                        r.attrs.extend(attrs);
                        return r;
                    }
                }
            }
        }
        Resolved {
            target: Target::Object(site),
            attrs,
        }
    }

    /// Resolves a dotted name: the longest prefix that names a project module,
    /// class, function or global binding; the rest are attributes.
    fn dotted(&self, dotted: &str, depth: usize) -> Resolved {
        let canonical = self.index.canonical(dotted, 0);
        let parts: Vec<&str> = canonical.split('.').collect();
        for n in (1..=parts.len()).rev() {
            let prefix = parts[..n].join(".");
            let attrs: Vec<String> = parts[n..].iter().map(|s| s.to_string()).collect();
            if let Some((cf, class)) = self.class(&prefix) {
                // `AuthDto.api` where the class body says `api = Namespace(...)`:
                // the object a constructor call in the class body made.
                if let Some(attr) = attrs.first().and_then(|a| class.attr(a)) {
                    if let Kind::Call(c) = &attr.value.kind {
                        let ctor = c.func.reference().map(Ref::last_name);
                        if ctor.is_some_and(|n| n.starts_with(|ch: char| ch.is_ascii_uppercase())) {
                            let mut r = self.resolve_at(cf, &attr.value, depth + 1);
                            if matches!(r.target, Target::Object(_)) {
                                r.attrs.extend(attrs[1..].iter().cloned());
                                return r;
                            }
                        }
                    }
                }
                return Resolved {
                    target: Target::Class(prefix),
                    attrs,
                };
            }
            if self.index.function(&prefix).is_some() {
                return Resolved {
                    target: Target::Function(prefix),
                    attrs,
                };
            }
            if let Some((f, i)) = self.index.global(&prefix) {
                let Some(binding) = self.facts(f).and_then(|p| p.globals.get(i)) else {
                    break;
                };
                let mut r = self.resolve_at(f, &binding.value, depth + 1);
                if r.target == Target::Unknown {
                    return Resolved {
                        target: Target::External(prefix),
                        attrs,
                    };
                }
                r.attrs.extend(attrs);
                return r;
            }
            if self.index.module_file(&prefix).is_some() {
                return Resolved {
                    target: Target::Module(prefix),
                    attrs,
                };
            }
        }
        Resolved {
            target: Target::External(canonical),
            attrs: Vec::new(),
        }
    }

    /// The class attribute a value reads through an instance of a project
    /// class or the class itself (`settings.SECRET` where `settings =
    /// Settings()`, also made by a factory or imported from another module;
    /// `Config.SECRET_KEY`), as the class finds it: its own, else a base's.
    /// The file and class that define it, and the attribute. A bare
    /// annotation (`CORS_ORIGINS: list[str]`) counts as a declaration like an
    /// assignment, with an unknown value: in a pydantic model or a dataclass
    /// it is a field the base's default does not fill.
    pub fn class_attr_of(
        &self,
        file: FileId,
        v: &Value,
    ) -> Option<(FileId, &'a ClassFact, &'a ClassAttr)> {
        let (mut class, field) = self.class_and_attr_of(file, v)?;
        let field = field.as_str();
        for _ in 0..8 {
            let (cfile, fact) = self.class(&class)?;
            if let Some(m) = fact.member(field) {
                return Some((cfile, fact, m.attr));
            }
            class = fact
                .bases
                .iter()
                .find_map(|b| match self.resolve(cfile, b).target {
                    Target::Class(q) => Some(q),
                    _ => None,
                })?;
        }
        None
    }

    /// The project class and the attribute name a value reads through an
    /// instance of the class or the class itself (`settings.SECRET` where
    /// `settings = Settings()`, also made by a factory or imported from
    /// another module; `Config.SECRET_KEY`).
    pub fn class_and_attr_of(&self, file: FileId, v: &Value) -> Option<(String, String)> {
        let r = self.resolve(file, v);
        let [field] = r.attrs.as_slice() else {
            return None;
        };
        let class = self.class_of(r.target)?;
        Some((class, field.clone()))
    }

    /// The project class of an object its constructor made (`Settings()`,
    /// also through a factory), or a class itself.
    pub fn class_of(&self, target: Target) -> Option<String> {
        match target {
            Target::Object(site) => {
                let call = self.call(site)?;
                let c = self.resolve(site.file, &call.call().func);
                match (c.target, c.attrs.is_empty()) {
                    (Target::Class(q), true) => Some(q),
                    _ => None,
                }
            }
            Target::Class(q) => Some(q),
            _ => None,
        }
    }

    /// The value a module-level name is bound to (`config.config` -> its dict).
    pub fn global_value(&self, dotted: &str) -> Option<(FileId, &'a Value)> {
        let canonical = self.index.canonical(dotted, 0);
        let (f, i) = self.index.global(&canonical)?;
        Some((f, &self.facts(f)?.globals.get(i)?.value))
    }

    /// Follows a value to a literal-ish value: a global name to what it is bound
    /// to, a parameter to what callers pass (or its default).
    pub fn deref(&self, file: FileId, v: &'a Value) -> (FileId, &'a Value) {
        let mut cur = (file, v);
        for _ in 0..MAX_HOPS {
            let Some(r) = cur.1.reference() else { break };
            match &r.root {
                Root::Global(q) if r.attrs.is_empty() => match self.global_value(q) {
                    Some(next) => cur = next,
                    None => break,
                },
                Root::Param { func, index, name } if r.attrs.is_empty() => {
                    match self
                        .param_values(func, *index as usize, name, 0)
                        .into_iter()
                        .next()
                    {
                        Some(next) => cur = next,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        cur
    }

    /// A parameter's default when no call site in the project passes it: the
    /// factory `create_app(test_config=None)` that `wsgi.py` calls bare (tests,
    /// which pass a config, are not in the facts). None when some call passes
    /// it or may (a `*args` / `**kwargs` spread), or it has no default; and for
    /// methods and nested functions, whose calls are not all known.
    pub fn param_default_if_omitted(
        &self,
        func: &str,
        index: usize,
        name: &str,
    ) -> Option<(FileId, &'a Value)> {
        let (ffile, fact) = self.function(func)?;
        if fact.method_of.is_some() || fact.parent != 0 {
            return None;
        }
        let param = fact.params.get(index)?;
        if param.name.as_str() != name {
            return None;
        }
        let default = param.default.as_deref()?;
        for &(cfile, ci) in self.index.callers(func) {
            let c = self.facts(cfile)?.calls.get(ci)?.call();
            let positional = index < c.args.len();
            let spread = c.spread || c.kwargs.iter().any(|(k, _)| k.is_none());
            if spread || positional || c.kwarg(name).is_some() {
                return None;
            }
        }
        Some((ffile, default))
    }

    /// What callers pass for a parameter (by position or keyword), then its
    /// default. Test files are not callers here (they are not in the facts).
    pub fn param_values(
        &self,
        func: &str,
        index: usize,
        name: &str,
        depth: usize,
    ) -> Vec<(FileId, &'a Value)> {
        let mut out = Vec::new();
        if depth > MAX_HOPS {
            return out;
        }
        let Some((ffile, fact)) = self.function(func) else {
            return out;
        };
        let skip_self = usize::from(fact.method_of.is_some());
        // A bounded number of call sites: choosing a production config fans out
        // over them, level after level.
        for &(cfile, ci) in self.index.callers(func).iter().take(MAX_CALLERS) {
            let Some(call) = self.facts(cfile).and_then(|p| p.calls.get(ci)) else {
                continue;
            };
            let c = call.call();
            let arg = c
                .kwarg(name)
                .or_else(|| index.checked_sub(skip_self).and_then(|i| c.args.get(i)));
            if let Some(a) = arg {
                out.push((cfile, a));
            }
        }
        if let Some(d) = fact.params.get(index).and_then(|p| p.default.as_ref()) {
            out.push((ffile, d));
        }
        out
    }
}
