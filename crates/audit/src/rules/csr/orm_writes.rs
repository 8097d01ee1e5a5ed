//! Writes the GET check finds beyond a commit: through an object mapper
//! (peewee, MongoEngine) on an object of a model class, through a project
//! method a model inherits (`CRUDMixin.save()`), and SQL that changes data on
//! a connection that commits by itself.

use crate::{
    model::{index::Target, Project},
    python::{
        facts::FunctionFact,
        value::{Call, Kind, Root, Value},
    },
    source::FileId,
};

use super::hook_check::Helpers;

/// Whether a call writes through an object mapper: `method` (its last
/// name) is one that writes for the library of the model class the call's
/// target starts at (see [`orm_writes`]).
pub(super) fn orm_write(project: &Project, file: FileId, call: &Call, method: &str) -> bool {
    ORM_WRITES.contains(&method)
        && model_chain(project, file, &call.func)
            .is_some_and(|(orm, chain)| orm_writes(orm, method, &chain))
}

/// Whether a call in `func` runs SQL that changes data (`execute("UPDATE
/// ...")`) on a connection that commits by itself.
pub(super) fn sql_write(
    project: &Project,
    file: FileId,
    func: &FunctionFact,
    call: &Call,
    method: &str,
) -> bool {
    matches!(method, "execute" | "executemany" | "executescript")
        && call.arg(0).is_some_and(writing_sql)
        && (begins_transaction(project, file, func) || autocommits(project, &call.func))
}

/// Object-mapper libraries whose objects and queries write by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Orm {
    Peewee,
    MongoEngine,
}

/// Methods that write through an object mapper (of a model, an instance or
/// a query): [`orm_writes`] tells which for which library.
const ORM_WRITES: &[&str] = &[
    "save",
    "delete_instance",
    "create",
    "get_or_create",
    "delete_by_id",
    "set_by_id",
    "bulk_create",
    "bulk_update",
    "execute",
    "delete",
    "update",
    "modify",
    "upsert_one",
    "insert",
];

/// Whether `method` at the end of `chain` (the methods called from the
/// model class on: `objects`, `first`, `save`) writes: peewee's instance
/// `save()` / `delete_instance()`, `Model.create(...)`, and the query
/// builders `update` / `insert` / `delete` / `replace` once `.execute()`d;
/// MongoEngine's `save()`, `delete()`, `update()`, `modify()` of a document
/// or a queryset.
fn orm_writes(orm: Orm, method: &str, chain: &[String]) -> bool {
    match orm {
        Orm::Peewee => match method {
            "save" | "delete_instance" | "create" | "get_or_create" | "delete_by_id"
            | "set_by_id" | "bulk_create" | "bulk_update" => true,
            "execute" => chain.iter().any(|m| {
                matches!(
                    m.as_str(),
                    "update"
                        | "insert"
                        | "insert_many"
                        | "insert_from"
                        | "delete"
                        | "replace"
                        | "replace_many"
                )
            }),
            _ => false,
        },
        Orm::MongoEngine => matches!(
            method,
            "save" | "delete" | "update" | "modify" | "upsert_one" | "insert" | "create"
        ),
    }
}

/// The library of a base class outside the project: peewee's `Model`,
/// MongoEngine's `Document`.
fn orm_of_base(name: &str) -> Option<Orm> {
    let last = name.rsplit('.').next()?;
    let lib = name.split('.').next()?;
    match lib {
        "peewee" | "playhouse" | "flask_peewee" if last == "Model" => Some(Orm::Peewee),
        "mongoengine" | "flask_mongoengine" if matches!(last, "Document" | "DynamicDocument") => {
            Some(Orm::MongoEngine)
        }
        _ => None,
    }
}

/// The library of a project class that derives (through project classes)
/// from a peewee model or a MongoEngine document, also through an
/// extension object's base (`db.Document` of Flask-MongoEngine, `db.Model`
/// of playhouse's `FlaskDB`).
fn model_orm(project: &Project, class: &str, depth: usize) -> Option<Orm> {
    if depth > 8 {
        return None;
    }
    let resolver = project.resolver();
    let (cfile, fact) = resolver.class(class)?;
    fact.bases.iter().find_map(|b| {
        let r = resolver.resolve(cfile, b);
        match (&r.target, r.attrs.as_slice()) {
            (Target::Class(q), []) => model_orm(project, q, depth + 1),
            (Target::Object(site), [attr]) => {
                let made = resolver.call(*site)?;
                let ext = resolver
                    .resolve(site.file, &made.call().func)
                    .external_name()?;
                orm_of_base(&format!("{}.{attr}", ext.split('.').next()?))
            }
            _ => r
                .external_name()
                .and_then(|n| orm_of_base(&n))
                .or_else(|| star_base(project, cfile, b)),
        }
    })
}

/// The library of a bare base name a star import brings in (`from peewee
/// import *` then `class BaseModel(Model)`).
fn star_base(project: &Project, file: FileId, base: &Value) -> Option<Orm> {
    let r = base.reference().filter(|r| r.attrs.is_empty())?;
    let name = r.last_name();
    project
        .resolver()
        .facts(file)?
        .imports
        .iter()
        .filter(|i| i.local.as_str() == "*")
        .find_map(|i| orm_of_base(&format!("{}.{name}", i.qualified)))
}

/// The library of the project's models, when it has some: Flask-Login's
/// `current_user` is one of them.
fn project_orm(project: &Project) -> Option<Orm> {
    project.python().find_map(|(_, facts)| {
        facts
            .classes
            .iter()
            .find_map(|c| model_orm(project, &c.qualified, 0))
    })
}

/// How deep a chain of calls is followed back to its model class.
const MAX_CHAIN: usize = 8;

/// The library and the methods called of a call's target that starts at a
/// model class (`Post.create`, `Post.objects(...).first().save`, `post.save`
/// where `post = Post.get_by_id(...)` or `post = Post(...)`), or at
/// Flask-Login's `current_user` in a project whose models are peewee's or
/// MongoEngine's.
fn model_chain(project: &Project, file: FileId, func: &Value) -> Option<(Orm, Vec<String>)> {
    let mut chain = Vec::new();
    let orm = match chain_root(project, file, func, &mut chain, 0)? {
        ChainRoot::Class(q) => model_orm(project, &q, 0),
        ChainRoot::CurrentUser => project_orm(project),
    }?;
    Some((orm, chain))
}

/// Where a chain of calls and attributes starts.
enum ChainRoot {
    /// A project class (dotted).
    Class(String),
    /// Flask-Login's `current_user`.
    CurrentUser,
}

fn chain_root(
    project: &Project,
    file: FileId,
    v: &Value,
    chain: &mut Vec<String>,
    depth: usize,
) -> Option<ChainRoot> {
    if depth > MAX_CHAIN {
        return None;
    }
    let resolver = project.resolver();
    let r = v.reference()?;
    chain.extend(r.attrs.iter().map(|a| a.to_string()));
    match &r.root {
        Root::Obj { site, ctor } => {
            let made = resolver.creating_call(*site, ctor)?;
            return chain_root(project, site.file, &made.call().func, chain, depth + 1);
        }
        // `self` / `cls` of a method: its class.
        Root::Param { func, index: 0, .. } => {
            let (_, f) = resolver.function(func)?;
            return f
                .method_of
                .as_ref()
                .map(|c| ChainRoot::Class(c.to_string()));
        }
        _ => {}
    }
    let resolved = resolver.resolve(file, v);
    match resolved.target {
        Target::Class(q) => Some(ChainRoot::Class(q)),
        Target::Object(site) => {
            let made = resolver.call(site)?;
            chain_root(project, site.file, &made.call().func, chain, depth + 1)
        }
        Target::External(q)
            if q.starts_with("flask_login.current_user")
                || q.starts_with("flask_login.utils.current_user") =>
        {
            Some(ChainRoot::CurrentUser)
        }
        _ => None,
    }
}

/// The project method a call reaches through an object that a project
/// class's query or constructor made, defined on that class or a project
/// base class (`post.save()` where `post = Post.query.get(id)` and `save`
/// comes from the project's `CRUDMixin`; `User.create(...)` inherited).
pub(super) fn inherited_method<'p>(
    helpers: &Helpers<'p, '_>,
    file: FileId,
    call: &Call,
) -> Option<(FileId, &'p FunctionFact)> {
    let project = helpers.project;
    let method = call.func.reference()?.attrs.last()?.to_string();
    let mut chain = Vec::new();
    let ChainRoot::Class(class) = chain_root(project, file, &call.func, &mut chain, 0)? else {
        return None;
    };
    let found = find_method(project, &class, &method, 0)?;
    (!helpers.seen.iter().any(|s| s == found.1.qualified.as_str())).then_some(found)
}

/// A method of a project class or of its project bases.
fn find_method<'p>(
    project: &'p Project,
    class: &str,
    method: &str,
    depth: usize,
) -> Option<(FileId, &'p FunctionFact)> {
    if depth > 8 {
        return None;
    }
    let resolver = project.resolver();
    if let Some(f) = resolver.function(&format!("{class}.{method}")) {
        return Some(f);
    }
    let (cfile, fact) = resolver.class(class)?;
    fact.bases
        .iter()
        .find_map(|b| match resolver.resolve(cfile, b).target {
            Target::Class(q) => find_method(project, &q, method, depth + 1),
            _ => None,
        })
}

/// SQL statements that change data.
const WRITING_SQL: &[&str] = &["insert", "update", "delete", "replace", "upsert", "merge"];

/// Whether a statement is SQL that changes data: a literal (also in
/// SQLAlchemy's `text(...)`, or the literal start of an f-string) that starts
/// with `INSERT`, `UPDATE`, `DELETE`...
fn writing_sql(v: &Value) -> bool {
    let start = match &v.kind {
        Kind::Str(s) => Some(s.to_string()),
        Kind::FString(parts) => parts.first().and_then(Value::as_str).map(str::to_string),
        Kind::Call(c) if c.callee_name() == Some("text") => {
            return c.arg(0).is_some_and(writing_sql);
        }
        _ => None,
    };
    start.is_some_and(|s| {
        let word: String = s
            .trim_start()
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_ascii_lowercase();
        WRITING_SQL.contains(&word.as_str())
    })
}

/// Whether a call's value turns autocommit on: `autocommit=True`,
/// `isolation_level=None` (sqlite3) or `"AUTOCOMMIT"` (SQLAlchemy).
fn autocommit_call(c: &Call) -> bool {
    c.kwarg("autocommit")
        .is_some_and(|v| v.as_bool() == Some(true))
        || c.kwarg("isolation_level").is_some_and(|v| {
            matches!(v.kind, Kind::None)
                || v.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case("autocommit"))
        })
}

/// Whether a function opens a transaction block that commits when it ends
/// (`with engine.begin() as conn:`, `with db.session.begin():`).
fn begins_transaction(project: &Project, file: FileId, func: &FunctionFact) -> bool {
    project.resolver().facts(file).is_some_and(|facts| {
        facts.calls.iter().any(|c| {
            facts.scope_within(c.scope, func.scope)
                && c.call().callee_name() == Some("begin")
                && c.call().args.is_empty()
                && c.call().receiver().is_some()
        })
    })
}

/// Whether an `execute` runs on a connection that commits by itself: the
/// connection (followed back through the calls that made it) comes from
/// `engine.begin()` or a call with autocommit on, or the project turns
/// autocommit on anywhere (`conn.autocommit = True`,
/// `sqlite3.connect(path, isolation_level=None)`, `autocommit=True`).
fn autocommits(project: &Project, func: &Value) -> bool {
    let resolver = project.resolver();
    let mut cur = func.reference().cloned();
    let mut depth = 0;
    while let Some(r) = cur.take() {
        if depth > MAX_CHAIN {
            break;
        }
        depth += 1;
        if r.attrs.iter().any(|a| a == "begin") {
            return true;
        }
        let Root::Obj { site, ctor } = &r.root else {
            break;
        };
        let Some(made) = resolver.creating_call(*site, ctor) else {
            break;
        };
        if autocommit_call(made.call()) {
            return true;
        }
        cur = made.call().func.reference().cloned();
    }
    project.python().any(|(_, facts)| {
        facts.calls.iter().any(|c| autocommit_call(c.call()))
            || facts.assigns.iter().any(|a| {
                a.target.reference().is_some_and(|r| match r.last_name() {
                    "autocommit" => a.value.as_bool() == Some(true),
                    "isolation_level" => {
                        matches!(a.value.kind, Kind::None)
                            || a.value
                                .as_str()
                                .is_some_and(|s| s.eq_ignore_ascii_case("autocommit"))
                    }
                    _ => false,
                })
            })
    })
}
