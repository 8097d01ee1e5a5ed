//! Blueprints registered by discovery: a loop that imports every module of a
//! package and registers what it finds there.
//!
//! ```python
//! for info in pkgutil.iter_modules(__path__):
//!     module = importlib.import_module(f"{__name__}.{info.name}")
//!     app.register_blueprint(module.bp)
//! ```
//!
//! Read when the shape is clear: in one function (or module body), a listing
//! of a package's modules (`pkgutil.iter_modules(pkg.__path__)`,
//! `pkgutil.walk_packages(...)`, werkzeug's `find_modules("pkg")`), an import
//! of each (`importlib.import_module`, `import_string`) by a name under that
//! package, and the registration of a named attribute of the imported module
//! (`module.bp`, `getattr(module, "bp")`) or of each attribute that passes
//! `isinstance(obj, Blueprint)`. The blueprints registered are then those of
//! the package's modules: bound to that attribute name, or every one a
//! module creates at its top level. Anything else stays a registration of
//! blueprints the model cannot name.

use super::{index::Target, Blueprint, BlueprintId, BlueprintKind, Project};
use crate::{
    python::{
        facts::{CallFact, PyFacts, ScopeId},
        value::{Kind, Value},
    },
    source::FileId,
};

/// What the loop registers of each module.
enum Registers {
    /// The module attribute with this name.
    Attr(String),
    /// Every blueprint the module holds.
    Every,
}

/// A package whose modules are listed, and whether its subpackages' modules
/// are too.
struct Listing {
    package: String,
    recursive: bool,
    /// Gives full dotted names (werkzeug's `find_modules`, `walk_packages`
    /// with `prefix=`): any import of the name imports them.
    full_names: bool,
}

/// The blueprints a registration call registers through discovery; None when
/// the shape is not clear.
pub(super) fn discovered(
    project: &Project,
    bps: &[Blueprint],
    kind: BlueprintKind,
    file: FileId,
    scope: ScopeId,
    child: &Value,
) -> Option<Vec<BlueprintId>> {
    let resolver = project.resolver();
    let facts = resolver.facts(file)?;
    let in_scope = || facts.calls.iter().filter(move |c| c.scope == scope);
    let ext = |c: &CallFact| resolver.resolve(file, &c.call().func).external_name();
    let is_import = |c: &CallFact| ext(c).is_some_and(|n| is_import_name(&n));
    // What is registered: an attribute of an imported module (the module
    // bound to a name is the import call itself, or the object it made), or
    // each blueprint an isinstance test lets through.
    let is_import_value = |v: &Value| -> bool {
        if let Some(c) = v.as_call() {
            return resolver
                .resolve(file, &c.func)
                .external_name()
                .is_some_and(|n| is_import_name(&n));
        }
        let Some(r) = v.reference() else { return false };
        let crate::python::value::Root::Obj { site, .. } = &r.root else {
            return false;
        };
        r.attrs.is_empty() && resolver.call(*site).is_some_and(is_import)
    };
    let registers = match &child.kind {
        Kind::Ref(r) if r.attrs.len() == 1 => {
            let mut module = r.as_ref().clone();
            let attr = module.attrs.pop()?;
            is_import_value(&Value::new(child.range, Kind::Ref(Box::new(module))))
                .then(|| Registers::Attr(attr.to_string()))
        }
        Kind::Attr(module, attr) => {
            is_import_value(module).then(|| Registers::Attr(attr.to_string()))
        }
        // getattr(module, "bp")
        Kind::Call(c) if c.func.qualified().as_deref() == Some("getattr") && c.args.len() == 2 => {
            let attr = c.arg(1)?.as_str()?;
            is_import_value(c.arg(0)?).then(|| Registers::Attr(attr.to_string()))
        }
        _ => None,
    };
    let registers = match registers {
        Some(r) => r,
        None => {
            // `if isinstance(obj, Blueprint): app.register_blueprint(obj)`
            let shown = child.render();
            let tested = in_scope().any(|c| {
                let c2 = c.call();
                c2.func.qualified().as_deref() == Some("isinstance")
                    && c2.arg(0).is_some_and(|a| a.render() == shown)
                    && c2.arg(1).is_some_and(|t| {
                        resolver.resolve(file, t).external_name().is_some_and(|n| {
                            matches!(
                                n.as_str(),
                                "flask.Blueprint"
                                    | "flask.blueprints.Blueprint"
                                    | "fastapi.APIRouter"
                            )
                        })
                    })
            });
            if !tested {
                return None;
            }
            Registers::Every
        }
    };
    let import = in_scope().find(|c| is_import(c))?;
    // The modules: those of a listed package, or a list of names the loop
    // runs over (`for name in BLUEPRINT_MODULES: import_module(f"pkg.{name}")`).
    let named = in_scope()
        .all(|c| listing(project, file, facts, c).is_none())
        .then(|| named_modules(project, file, facts, import))
        .flatten();
    let listing = match named {
        Some(_) => None,
        None => {
            let listing = in_scope().find_map(|c| listing(project, file, facts, c))?;
            if !listing.full_names && !imports_children(project, file, import, &listing.package) {
                return None;
            }
            Some(listing)
        }
    };
    let child_module = |m: &str| match (&named, &listing) {
        (Some(names), _) => names.iter().any(|n| n == m),
        (None, Some(listing)) => m
            .strip_prefix(&listing.package)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|rest| !rest.is_empty() && (listing.recursive || !rest.contains('.'))),
        (None, None) => false,
    };
    let mut out = Vec::new();
    for b in bps.iter().filter(|b| b.kind == kind) {
        let Some(bfacts) = resolver.facts(b.site.file) else {
            continue;
        };
        if !child_module(&bfacts.module) {
            continue;
        }
        let found = match &registers {
            Registers::Attr(attr) => resolver
                .global_value(&format!("{}.{attr}", bfacts.module))
                .is_some_and(|(gf, v)| resolver.resolve(gf, v).target == Target::Object(b.site)),
            Registers::Every => resolver.call(b.site).is_some_and(|c| c.scope == 0),
        };
        if found {
            out.push(b.id);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The modules an import call in a loop over a literal list of names
/// imports: `import_module(f"pkg.views.{name}")` or `"pkg.views." + name`
/// for each `name` of the list (written in place or a module constant).
fn named_modules(
    project: &Project,
    file: FileId,
    facts: &PyFacts,
    import: &CallFact,
) -> Option<Vec<String>> {
    let c = import.call();
    let name = c.param(0, "name")?;
    let mut parts = Vec::new();
    flatten(name, &mut parts);
    let [prefix, item] = parts.as_slice() else {
        return None;
    };
    let prefix = prefix.as_str()?;
    if !prefix.ends_with('.') || prefix.starts_with('.') {
        return None;
    }
    let lp = facts.loop_of(item).filter(|l| l.position.is_none())?;
    let (_, list) = project.resolver().deref(file, &lp.iter);
    list.as_seq()?
        .iter()
        .map(|n| n.as_str().map(|n| format!("{prefix}{n}")))
        .collect()
}

fn is_import_name(n: &str) -> bool {
    matches!(
        n,
        "importlib.import_module" | "werkzeug.utils.import_string" | "werkzeug.import_string"
    )
}

/// The package a call lists the modules of.
fn listing(project: &Project, file: FileId, facts: &PyFacts, c: &CallFact) -> Option<Listing> {
    let resolver = project.resolver();
    let name = resolver.resolve(file, &c.call().func).external_name()?;
    let call = c.call();
    match name.as_str() {
        "pkgutil.iter_modules" | "pkgutil.walk_packages" => {
            let path = call.param(0, "path")?;
            let package = package_of_path(project, file, facts, path)?;
            let prefix = call.param(1, "prefix").and_then(Value::as_str);
            Some(Listing {
                full_names: prefix == Some(&format!("{package}.")),
                package,
                recursive: name == "pkgutil.walk_packages",
            })
        }
        "werkzeug.utils.find_modules" | "werkzeug.find_modules" => {
            let package = call.param(0, "import_path")?.as_str()?.to_string();
            let recursive = match call.param(2, "recursive") {
                None => false,
                Some(v) => v.truthy()?,
            };
            Some(Listing {
                package,
                recursive,
                full_names: true,
            })
        }
        _ => None,
    }
}

/// The package a `__path__` names: the file's own (in its `__init__.py`), or
/// `pkg.__path__` of a project package.
fn package_of_path(
    project: &Project,
    file: FileId,
    facts: &PyFacts,
    path: &Value,
) -> Option<String> {
    let r = path.reference()?;
    if r.last_name() != "__path__" {
        return None;
    }
    let is_init = project
        .file(file)
        .is_some_and(|f| f.source.rel.ends_with("__init__.py"));
    if r.attrs.is_empty() && r.qualified().as_deref() == Some("__path__") {
        return is_init.then(|| facts.module.clone());
    }
    let q = r.qualified()?;
    let module = q.strip_suffix(".__path__")?;
    match project.resolver().resolve(
        file,
        &Value::new(
            path.range,
            Kind::Ref(Box::new(crate::python::value::Ref {
                root: crate::python::value::Root::Global(module.into()),
                attrs: Vec::new(),
            })),
        ),
    ) {
        crate::model::index::Resolved {
            target: Target::Module(m),
            attrs,
        } if attrs.is_empty() => Some(m),
        _ => None,
    }
}

/// Whether an import call imports a module under `package` by its name:
/// `f"{__name__}.{name}"`, `"pkg." + name`, `f"{pkg.__name__}.{name}"`, or
/// `(f".{name}", __name__)` / `package=__name__`.
fn imports_children(project: &Project, file: FileId, import: &CallFact, package: &str) -> bool {
    let c = import.call();
    let Some(name) = c.param(0, "name").or_else(|| c.arg(0)) else {
        return false;
    };
    let mut parts = Vec::new();
    flatten(name, &mut parts);
    let mut prefix = String::new();
    for p in parts {
        match &p.kind {
            Kind::Str(s) => prefix.push_str(s),
            Kind::Ref(r) if r.last_name() == "__name__" => {
                let Some(q) = r.qualified() else { break };
                let Some(m) = q.strip_suffix(".__name__") else {
                    break;
                };
                match project.resolver().resolve(
                    file,
                    &Value::new(
                        p.range,
                        Kind::Ref(Box::new(crate::python::value::Ref {
                            root: crate::python::value::Root::Global(m.into()),
                            attrs: Vec::new(),
                        })),
                    ),
                ) {
                    crate::model::index::Resolved {
                        target: Target::Module(m),
                        attrs,
                    } if attrs.is_empty() => prefix.push_str(&m),
                    _ => break,
                }
            }
            _ => break,
        }
    }
    if prefix == format!("{package}.") {
        return true;
    }
    prefix == "."
        && c.param(1, "package")
            .and_then(Value::as_str)
            .is_some_and(|p| p == package)
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match &v.kind {
        Kind::FString(parts) => parts.iter().for_each(|p| flatten(p, out)),
        Kind::BinOp(crate::python::value::BinOp::Add, a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        _ => out.push(v),
    }
}
