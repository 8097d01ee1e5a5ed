//! pydantic models and settings classes across files: whether a project class
//! is one, its settings options (class keywords, `model_config`, pydantic 1's
//! inner `class Config`, merged down the hierarchy), the environment
//! variables a field is read from, and a field looked up through an instance
//! or the class as pydantic finds it: a field a class re-declares without a
//! default (`secret_key: str`) is required there, whatever a base declared.

use super::{index::Target, Project};
use crate::{
    python::{
        facts::{ClassAttr, ClassFact},
        pydantic::{self, EnvNames},
        value::Value,
    },
    source::FileId,
};

/// Base classes of pydantic settings: their fields are read from the
/// environment, by name case-insensitively (`secret_key: str = "..."` from
/// `SECRET_KEY`).
pub const SETTINGS_BASES: &[&str] = &[
    "pydantic_settings.BaseSettings",
    "pydantic_settings.main.BaseSettings",
    "pydantic.BaseSettings",
    "pydantic.env_settings.BaseSettings",
    "pydantic.v1.BaseSettings",
    "pydantic.v1.env_settings.BaseSettings",
];

/// Base classes of pydantic models (settings included): a field without a
/// default is required.
const MODEL_BASES: &[&str] = &[
    "pydantic.BaseModel",
    "pydantic.main.BaseModel",
    "pydantic.v1.BaseModel",
    "pydantic.v1.main.BaseModel",
    "sqlmodel.SQLModel",
];

const MAX_DEPTH: usize = 8;

/// Whether a project class derives from pydantic's `BaseSettings`.
pub fn is_settings_class(project: &Project, file: FileId, class: &ClassFact) -> bool {
    derives_from(project, file, class, SETTINGS_BASES, 0)
}

/// Whether a project class derives from a pydantic model (settings included).
pub fn is_model_class(project: &Project, file: FileId, class: &ClassFact) -> bool {
    derives_from(project, file, class, SETTINGS_BASES, 0)
        || derives_from(project, file, class, MODEL_BASES, 0)
}

fn derives_from(
    project: &Project,
    file: FileId,
    class: &ClassFact,
    names: &[&str],
    depth: usize,
) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let resolver = project.resolver();
    class.bases.iter().any(|b| {
        let r = resolver.resolve(file, b);
        match &r.target {
            Target::Class(q) if q.as_str() != class.qualified.as_str() => resolver
                .class(q)
                .is_some_and(|(f, c)| derives_from(project, f, c, names, depth + 1)),
            _ => r
                .external_name()
                .is_some_and(|n| names.contains(&n.as_str())),
        }
    })
}

/// The project class a class derives from first (the next one pydantic merges
/// options and fields from).
fn project_base<'a>(
    project: &'a Project,
    file: FileId,
    class: &ClassFact,
) -> Option<(FileId, &'a ClassFact)> {
    let resolver = project.resolver();
    class
        .bases
        .iter()
        .find_map(|b| match resolver.resolve(file, b).target {
            Target::Class(q) if q.as_str() != class.qualified.as_str() => resolver.class(&q),
            _ => None,
        })
}

/// A configuration option of a pydantic settings class, its own or the
/// nearest base's (pydantic merges them down the hierarchy): a keyword of the
/// class statement (`class Settings(BaseSettings, env_prefix="APP_")`), then
/// `model_config = SettingsConfigDict(...)` (or a dict), then pydantic 1's
/// inner `class Config`.
pub fn settings_option<'a>(
    project: &'a Project,
    file: FileId,
    class: &'a ClassFact,
    option: &str,
) -> Option<&'a Value> {
    let resolver = project.resolver();
    let (mut file, mut class) = (file, class);
    for _ in 0..MAX_DEPTH {
        let own = class
            .keyword(option)
            .or_else(|| {
                pydantic::config_option(class.attr("model_config").map(|a| &a.value), option)
            })
            .or_else(|| {
                let (_, inner) = resolver.class(&format!("{}.Config", class.qualified))?;
                inner.attr(option).map(|a| &a.value)
            });
        if own.is_some() {
            return own;
        }
        (file, class) = project_base(project, file, class)?;
    }
    None
}

/// The environment variables a pydantic settings field is read from, in the
/// order pydantic tries them: the names its `Field` gives it (`alias=`,
/// `validation_alias=`, the choices of `AliasChoices(...)`, pydantic 1's
/// `env=`), else the class's `env_prefix` and the field's name, upper-case
/// unless the class is `case_sensitive` (pydantic matches either way). Empty
/// when the names cannot be read (an `AliasPath`, an alias computed at run
/// time).
pub fn field_variables(
    project: &Project,
    file: FileId,
    class: &ClassFact,
    attr: &ClassAttr,
) -> Vec<String> {
    match pydantic::field_env_names(&attr.value) {
        EnvNames::Explicit(names) => return names,
        EnvNames::Unknown => return Vec::new(),
        EnvNames::FromName => {}
    }
    let prefix = match settings_option(project, file, class, "env_prefix") {
        None => "",
        Some(v) => match v.as_str() {
            Some(p) => p,
            None => return Vec::new(),
        },
    };
    let name = format!("{prefix}{}", attr.name);
    let case_sensitive = settings_option(project, file, class, "case_sensitive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    vec![if case_sensitive {
        name
    } else {
        name.to_ascii_uppercase()
    }]
}

/// A name as a class finds it, its own or a base's.
#[derive(Clone, Copy)]
pub struct Found<'a> {
    /// The file and class that declare it.
    pub file: FileId,
    pub class: &'a ClassFact,
    pub attr: &'a ClassAttr,
    /// Only annotated in a pydantic model (`secret_key: str`): a required
    /// field, its value unknown.
    pub declared_only: bool,
}

/// A name looked up on a project class and its bases: an assignment, or in a
/// pydantic model an annotation without a value too, which makes the field
/// required however a base declared it (Python's own lookup skips bare
/// annotations, so a plain class keeps looking in its bases).
pub fn lookup<'a>(project: &'a Project, class: &str, name: &str) -> Option<Found<'a>> {
    let resolver = project.resolver();
    let (mut file, mut fact) = resolver.class(class)?;
    for _ in 0..MAX_DEPTH {
        match fact.member(name) {
            Some(m) if !m.declared_only => {
                return Some(Found {
                    file,
                    class: fact,
                    attr: m.attr,
                    declared_only: false,
                })
            }
            Some(m) if is_model_class(project, file, fact) => {
                return Some(Found {
                    file,
                    class: fact,
                    attr: m.attr,
                    declared_only: true,
                })
            }
            _ => {}
        }
        (file, fact) = project_base(project, file, fact)?;
    }
    None
}

/// The class attribute or field a value reads through an instance of a
/// project class or the class itself (`settings.SECRET` where `settings =
/// Settings()`, also made by a factory or imported from another module), as
/// [`lookup`] finds it.
pub fn member_of<'a>(project: &'a Project, file: FileId, v: &Value) -> Option<Found<'a>> {
    let (class, field) = project.resolver().class_and_attr_of(file, v)?;
    lookup(project, &class, &field)
}

/// A settings class's fields as an instance holds them, bases first, each
/// once (the most derived declaration), in declaration order: the attributes
/// and bare annotations of the class bodies that are fields (not
/// `model_config`, not private `_names`).
pub fn fields<'a>(project: &'a Project, class: &str) -> Vec<Found<'a>> {
    let resolver = project.resolver();
    let mut chain = Vec::new();
    let Some((mut file, mut fact)) = resolver.class(class) else {
        return Vec::new();
    };
    for _ in 0..MAX_DEPTH {
        chain.push((file, fact));
        match project_base(project, file, fact) {
            Some(next) => (file, fact) = next,
            None => break,
        }
    }
    let mut out: Vec<Found<'a>> = Vec::new();
    for &(file, fact) in chain.iter().rev() {
        let mut members: Vec<(&ClassAttr, bool)> = fact
            .attrs
            .iter()
            .map(|a| (a, false))
            .chain(fact.declared.iter().map(|a| (a, true)))
            .collect();
        members.sort_by_key(|(a, _)| a.range.start());
        for (attr, declared_only) in members {
            let name = attr.name.as_str();
            if name.starts_with('_') || name == "model_config" || name == "Config" {
                continue;
            }
            // A later declaration of the same name (here or in a subclass)
            // replaces the earlier one in place.
            let found = Found {
                file,
                class: fact,
                attr,
                declared_only,
            };
            match out.iter_mut().find(|f| f.attr.name.as_str() == name) {
                Some(slot) => *slot = found,
                None => out.push(found),
            }
        }
    }
    out
}

/// Whether a settings class or one of its project bases defines a method or
/// property of the given kind of name (Flask's `from_object` reads upper-case
/// ones too: `@property def SQLALCHEMY_DATABASE_URI(self)`).
pub fn has_method(project: &Project, class: &str, pred: impl Fn(&str) -> bool) -> bool {
    let resolver = project.resolver();
    let Some((mut file, mut fact)) = resolver.class(class) else {
        return false;
    };
    for _ in 0..MAX_DEPTH {
        let q = fact.qualified.as_str();
        let own = resolver.facts(file).is_some_and(|facts| {
            facts.functions.iter().any(|f| {
                f.method_of.as_ref().is_some_and(|m| m.as_str() == q) && pred(f.name.as_str())
            })
        });
        if own {
            return true;
        }
        match project_base(project, file, fact) {
            Some(next) => (file, fact) = next,
            None => return false,
        }
    }
    false
}
