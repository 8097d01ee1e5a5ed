//! Writes made by views that answer GET: a database commit, a MongoDB write,
//! a peewee or MongoEngine write (`post.save()`, `Post.create(...)`), SQL
//! that changes data on an autocommit connection, a file deletion, in the
//! view or in a project function it calls (up to [`MAX_HELPER_DEPTH`] calls
//! deep). Writes that only record that something was seen or used are told
//! apart ([`GetWrite::bookkeeping`]). CSRF protection (Flask-WTF, SeaSurf)
//! checks only unsafe methods, so a link or an `<img src>` on any site
//! triggers such a view with the visitor's session cookie.

use crate::{
    model::{index::Target, Project, Route},
    python::{
        facts::FunctionFact,
        value::{Call, Kind, Value},
    },
    source::{FileId, Span},
};

use super::hook_check::{Helpers, MAX_HELPER_DEPTH};

/// Methods of MongoDB collections (pymongo, Flask-PyMongo) that write.
const MONGO_WRITES: &[&str] = &[
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "find_one_and_delete",
    "find_one_and_update",
    "find_one_and_replace",
];

/// Functions that delete files or directories.
const FILE_DELETES: &[&str] = &[
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "os.removedirs",
    "shutil.rmtree",
];

/// Path parameter names that make the URL a capability (an e-mail
/// confirmation or unsubscribe link): a forged request cannot know it.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "key",
    "code",
    "hash",
    "signature",
    "secret",
    "nonce",
];

/// Words of views that end the session: a forged request only signs the
/// visitor out.
const LOGOUT_WORDS: &[&str] = &["logout", "logoff", "signout"];

/// Words of sign-in flows that work by GET: an OAuth or SSO start or return
/// (the callback is checked by its `state`), a login page.
const SIGN_IN_WORDS: &[&str] = &[
    "callback",
    "oauth",
    "oauth2",
    "authorize",
    "authorized",
    "authorization",
    "login",
    "logon",
    "signin",
];

/// Words of e-mail links (confirmation, activation, unsubscribe): exempt only
/// when the link carries a secret, in its path or as a query argument the
/// view reads (`/confirm_email?token=...`). Without one, `GET
/// /orders/<id>/confirm` is a plain state change a forged link triggers.
const LINK_WORDS: &[&str] = &[
    "confirm",
    "confirmation",
    "verify",
    "verification",
    "activate",
    "activation",
    "unsubscribe",
    "optout",
];

/// The words of a view name or a path's static segments: split at anything
/// but letters and digits and at case changes (`confirm_email`,
/// `confirm-email`, `ConfirmEmail`); `<...>`/`{...}` parameters left out.
/// Two-word forms are joined too (`log_out` gives `log`, `out` and `logout`).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for segment in text.split('/') {
        if segment.starts_with('<') || segment.starts_with('{') {
            continue;
        }
        let mut cur = String::new();
        let mut prev_lower = false;
        for c in segment.chars() {
            if !c.is_ascii_alphanumeric() {
                out.push(std::mem::take(&mut cur));
                prev_lower = false;
                continue;
            }
            if c.is_ascii_uppercase() && prev_lower {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        }
        out.push(cur);
    }
    out.retain(|w| !w.is_empty());
    let pairs: Vec<String> = out
        .windows(2)
        .map(|p| format!("{}{}", p[0], p[1]))
        .collect();
    out.extend(pairs);
    out
}

fn has_word(words: &[String], set: &[&str]) -> bool {
    words.iter().any(|w| set.contains(&w.as_str()))
}

/// A write a GET view makes: where, and what (`db.session.commit()`).
pub struct GetWrite {
    pub span: Span,
    pub what: String,
    /// When everything the view (and the functions it calls) changes is a
    /// bookkeeping attribute — a "seen"/"read" flag, a last-seen or
    /// last-login timestamp, a view or hit counter — those attributes
    /// (`last_seen`). The write is then the view's purpose (it renders
    /// nothing: `GET /notifications/<id>/read` then a redirect), as a view
    /// that renders a page or JSON and records that it was seen is not
    /// reported.
    pub bookkeeping: Option<Vec<String>>,
}

/// Words of attributes that record that something was seen or used: a
/// flag or timestamp of reading, a view or hit counter.
const ACTIVITY_WORDS: &[&str] = &[
    "seen",
    "read",
    "unread",
    "viewed",
    "views",
    "visited",
    "visits",
    "hits",
    "accessed",
    "opened",
    "impressions",
    "pageviews",
    "clicks",
    "downloads",
    "ping",
    "pinged",
];

/// Words that are bookkeeping only beside a timestamp or counter word
/// (`last_login`, `login_count`, `last_active`; not `active = True`).
const WEAK_ACTIVITY_WORDS: &[&str] = &[
    "login",
    "logins",
    "active",
    "activity",
    "used",
    "online",
    "visit",
    "view",
    "hit",
    "access",
    "request",
    "requests",
    "click",
    "download",
    "impression",
    "pageview",
];

/// Words of timestamps and counters.
const TALLY_WORDS: &[&str] = &[
    "last",
    "at",
    "on",
    "time",
    "timestamp",
    "date",
    "datetime",
    "count",
    "counter",
    "num",
    "number",
    "total",
    "n",
];

/// Other words a bookkeeping attribute may have (`is_read`, `has_seen`).
const FLAG_WORDS: &[&str] = &["is", "has", "was", "flag", "first", "latest", "page"];

/// Whether an attribute only records that something was seen or used
/// (`last_seen`, `is_read`, `read_at`, `view_count`, `views`).
pub fn bookkeeping_attr(name: &str) -> bool {
    let w: Vec<String> = name
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let is = |set: &[&str], x: &String| set.contains(&x.as_str());
    !w.is_empty()
        && w.iter().all(|x| {
            is(ACTIVITY_WORDS, x)
                || is(WEAK_ACTIVITY_WORDS, x)
                || is(TALLY_WORDS, x)
                || is(FLAG_WORDS, x)
        })
        && (w.iter().any(|x| is(ACTIVITY_WORDS, x))
            || (w.iter().any(|x| is(WEAK_ACTIVITY_WORDS, x))
                && w.iter().any(|x| is(TALLY_WORDS, x))))
}

/// Whether a route answers GET only (with HEAD / OPTIONS).
fn get_only(r: &Route) -> bool {
    r.methods.iter().any(|m| m == "GET")
        && r.methods
            .iter()
            .all(|m| matches!(m.as_str(), "GET" | "HEAD" | "OPTIONS"))
}

/// Whether the path carries a secret the link's sender had to know.
fn capability_url(path: &str) -> bool {
    path.split('/')
        .filter_map(|s| s.strip_prefix('<').and_then(|s| s.strip_suffix('>')))
        .map(|p| p.rsplit(':').next().unwrap_or(p).to_ascii_lowercase())
        .any(|name| SECRET_PARAMS.iter().any(|w| name.contains(w)))
}

/// The first write a GET-only view of a cookie-authenticated app makes, when
/// the route is one a forged request could abuse: not a logout or sign-in
/// flow (OAuth callback), not a capability URL (a secret in the path, or an
/// e-mail link whose view reads a secret query argument), and authenticated by
/// the session (an auth decorator other than a token one, or a view that
/// reads `session` or `current_user`).
pub fn get_write(project: &Project, r: &Route) -> Option<GetWrite> {
    if !get_only(r) || r.provided_by.is_some() || crate::model::requires_spec_credentials(r) {
        return None;
    }
    let path = r.display_path().to_ascii_lowercase();
    let mut w = words(r.view_name());
    w.extend(words(&path));
    if has_word(&w, LOGOUT_WORDS) || has_word(&w, SIGN_IN_WORDS) || capability_url(&path) {
        return None;
    }
    let (file, func) = project.resolver().function(&r.function)?;
    if has_word(&w, LINK_WORDS) && reads_secret_arg(project, file, func) {
        return None;
    }
    let token_auth = |a: &String| a.contains("jwt") || a.contains("token");
    let cookie_auth = r.auth.iter().any(|a| !token_auth(a))
        || (r.auth.is_empty() && reads_login(project, file, func));
    if !cookie_auth {
        return None;
    }
    let mut seen = Vec::new();
    let mut helpers = Helpers {
        project,
        seen: &mut seen,
    };
    let mut write = first_write(&mut helpers, file, func, 0)?;
    let mut changes = Changes::default();
    collect_changes(&mut helpers, file, func, 0, &mut changes);
    if !changes.other
        && !changes.attrs.is_empty()
        && changes.attrs.iter().all(|a| bookkeeping_attr(a))
    {
        if renders(func) {
            return None;
        }
        changes.attrs.sort();
        changes.attrs.dedup();
        write.bookkeeping = Some(changes.attrs);
    }
    Some(write)
}

/// Calls whose result is a page or a document for the client.
const RENDERS: &[&str] = &[
    "render_template",
    "render_template_string",
    "stream_template",
    "jsonify",
    "render",
    "TemplateResponse",
];

/// Whether a view returns a rendered page or JSON (through
/// `make_response(...)` too): it shows something, and a write beside it is
/// not its purpose.
fn renders(func: &FunctionFact) -> bool {
    func.returns.iter().any(|r| {
        let mut found = false;
        r.walk(&mut |x| {
            if let Kind::Call(c) = &x.kind {
                found |= c.callee_name().is_some_and(|n| RENDERS.contains(&n));
            }
        });
        found
    })
}

/// What a view and the project functions it calls change.
#[derive(Default)]
struct Changes {
    /// Attributes assigned on objects (`post.views += 1` gives `views`), and
    /// the fields a MongoDB update or a query's `update({...})` sets.
    attrs: Vec<String>,
    /// Something else: a row added or deleted, raw SQL, a file deleted, a
    /// MongoDB insert.
    other: bool,
}

/// MongoDB update operators that set or count fields.
const MONGO_SETTERS: &[&str] = &["$set", "$inc", "$currentDate", "$max", "$min"];

/// The fields an update document sets (`{"$set": {"read": True}}`), None
/// when it does anything else or cannot be read.
fn mongo_fields(doc: &Value) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (k, v) in doc.as_dict()? {
        let op = k.as_ref()?.as_str()?;
        if !MONGO_SETTERS.contains(&op) {
            return None;
        }
        for (field, _) in v.as_dict()? {
            let f = field.as_ref()?.as_str()?;
            out.push(f.rsplit('.').next().unwrap_or(f).to_string());
        }
    }
    Some(out)
}

/// The keys of a query's `update({...})` (`{"read": True}`,
/// `{Notification.read: True}`).
fn update_fields(arg: &Value) -> Option<Vec<String>> {
    arg.as_dict()?
        .iter()
        .map(|(k, _)| {
            let k = k.as_ref()?;
            k.as_str()
                .map(str::to_string)
                .or_else(|| k.reference().map(|r| r.last_name().to_string()))
        })
        .collect()
}

fn collect_changes(
    helpers: &mut Helpers<'_, '_>,
    file: FileId,
    func: &FunctionFact,
    depth: usize,
    out: &mut Changes,
) {
    let project = helpers.project;
    let Some(facts) = project.resolver().facts(file) else {
        return;
    };
    for a in facts
        .assigns
        .iter()
        .filter(|a| facts.scope_within(a.scope, func.scope))
    {
        // Plain names and subscripts (`session["x"]`) are not rows.
        let Some(r) = a.target.reference() else {
            continue;
        };
        let Some(attr) = r.attrs.last() else {
            continue;
        };
        // Request globals (`g.user = ...`).
        let root = match &r.root {
            crate::python::value::Root::Global(q) => q.as_str(),
            _ => "",
        };
        if matches!(
            root,
            "flask.g" | "flask.globals.g" | "flask.session" | "flask.request"
        ) {
            continue;
        }
        out.attrs.push(attr.to_string());
    }
    let calls: Vec<_> = facts
        .calls
        .iter()
        .filter(|c| facts.scope_within(c.scope, func.scope))
        .collect();
    for c in &calls {
        let call = c.call();
        let Some(m) = call.callee_name() else {
            continue;
        };
        match m {
            "add" => {
                let recv = call.receiver();
                let on_session = recv
                    .as_ref()
                    .and_then(|r| r.reference())
                    .is_some_and(|r| r.last_name().ends_with("session"));
                // Adding an object made here inserts a row; adding one read
                // from the database (`db.session.add(current_user)`) saves it.
                let new_row = call.arg(0).is_some_and(|a| {
                    matches!(&a.kind, Kind::Call(_))
                        || a.reference().is_some_and(|r| {
                            matches!(r.root, crate::python::value::Root::Obj { .. })
                                && r.attrs.is_empty()
                        })
                });
                if on_session && new_row {
                    out.other = true;
                }
            }
            "update" => match call.arg(0).and_then(update_fields) {
                Some(fields) => out.attrs.extend(fields),
                None => out.other = true,
            },
            "update_one" | "update_many" | "find_one_and_update" => {
                match call.param(1, "update").and_then(mongo_fields) {
                    Some(fields) => out.attrs.extend(fields),
                    None => out.other = true,
                }
            }
            m if MONGO_WRITES.contains(&m) => out.other = true,
            "add_all"
            | "delete"
            | "merge"
            | "execute"
            | "executemany"
            | "executescript"
            | "bulk_save_objects"
            | "bulk_insert_mappings"
            | "bulk_update_mappings"
            | "save"
            | "delete_instance"
            | "create"
            | "insert"
            | "insert_many" => out.other = true,
            _ => {
                let resolved = project.resolver().resolve(file, &call.func);
                if resolved
                    .external_name()
                    .is_some_and(|n| FILE_DELETES.contains(&n.as_str()))
                {
                    out.other = true;
                }
            }
        }
    }
    if depth >= MAX_HELPER_DEPTH {
        return;
    }
    helpers.seen.push(func.qualified.to_string());
    for c in &calls {
        if let Some((hfile, helper)) = helpers.callee(file, c.call()) {
            collect_changes(helpers, hfile, helper, depth + 1, out);
        }
    }
    helpers.seen.pop();
}

/// Objects of the request whose items are query arguments.
const QUERY_OBJECTS: &[&str] = &[
    "flask.request.args",
    "flask.request.values",
    "flask.globals.request.args",
    "flask.globals.request.values",
];

/// Whether a name is one of a secret ([`SECRET_PARAMS`]).
fn secret_name(v: &Value) -> bool {
    v.as_str().is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        SECRET_PARAMS.iter().any(|w| n.contains(w))
    })
}

/// Whether a view reads a secret-named query argument
/// (`request.args.get("token")`, `request.args["key"]`).
fn reads_secret_arg(project: &Project, file: FileId, func: &FunctionFact) -> bool {
    let Some(facts) = project.resolver().facts(file) else {
        return false;
    };
    let query = |v: &Value| {
        v.qualified()
            .is_some_and(|q| QUERY_OBJECTS.contains(&q.as_str()))
    };
    let mut found = false;
    let mut look = |v: &Value| {
        v.walk(&mut |x| {
            found |= match &x.kind {
                Kind::Call(c) => {
                    c.func.reference().is_some_and(|r| {
                        matches!(r.last_name(), "get" | "getlist") && {
                            let mut base = r.clone();
                            base.attrs.pop();
                            base.qualified()
                                .is_some_and(|q| QUERY_OBJECTS.contains(&q.as_str()))
                        }
                    }) && c.param(0, "key").is_some_and(secret_name)
                }
                Kind::Subscript(base, key) => query(base) && secret_name(key),
                _ => false,
            }
        });
    };
    for c in facts
        .calls
        .iter()
        .filter(|c| facts.scope_within(c.scope, func.scope))
    {
        look(&c.value);
    }
    for a in facts
        .assigns
        .iter()
        .filter(|a| facts.scope_within(a.scope, func.scope))
    {
        look(&a.value);
    }
    for g in facts
        .guards
        .iter()
        .filter(|g| facts.scope_within(g.scope, func.scope))
    {
        look(&g.test);
    }
    found
}

/// Names that carry the login of a cookie session.
const LOGIN_OBJECTS: &[&str] = &[
    "flask.session",
    "flask.globals.session",
    "flask_login.current_user",
    "flask_login.utils.current_user",
];

/// Whether a view's body reads the login from the session cookie: it names
/// `session` (Flask's) or `current_user` (Flask-Login), as the module
/// imports them.
fn reads_login(project: &Project, file: FileId, func: &FunctionFact) -> bool {
    let (Some(src), Some(facts)) = (project.source(file), project.resolver().facts(file)) else {
        return false;
    };
    let start = u32::from(func.def_range.start()) as usize;
    let end = u32::from(func.def_range.end()) as usize;
    let Some(body) = src.text().get(start..end) else {
        return false;
    };
    facts
        .imports
        .iter()
        .filter(|i| LOGIN_OBJECTS.contains(&i.qualified.as_str()))
        .any(|i| names_identifier(body, i.local.as_str()))
}

/// Whether `text` holds `name` as a whole identifier that is not an
/// attribute (`session[...]`, not `db.session`).
fn names_identifier(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(|c| ident(c) || c == '.') && !after.is_some_and(ident)
    })
}

fn first_write(
    helpers: &mut Helpers<'_, '_>,
    file: FileId,
    func: &FunctionFact,
    depth: usize,
) -> Option<GetWrite> {
    let project = helpers.project;
    let facts = project.resolver().facts(file)?;
    let calls: Vec<_> = facts
        .calls
        .iter()
        .filter(|c| facts.scope_within(c.scope, func.scope))
        .collect();
    if let Some(w) = calls
        .iter()
        .find_map(|c| write_call(project, file, func, c.call(), c.range()))
    {
        return Some(w);
    }
    if depth >= MAX_HELPER_DEPTH {
        return None;
    }
    helpers.seen.push(func.qualified.to_string());
    let found = calls.iter().find_map(|c| {
        let (hfile, helper) = helpers.callee(file, c.call())?;
        first_write(helpers, hfile, helper, depth + 1)
    });
    helpers.seen.pop();
    found
}

/// A call that writes: `<session or connection>.commit()` with no arguments,
/// a MongoDB collection write, a file deletion.
fn write_call(
    project: &Project,
    file: FileId,
    func: &FunctionFact,
    call: &Call,
    range: ruff_text_size::TextRange,
) -> Option<GetWrite> {
    let span = Span::new(file, range);
    let text = |project: &Project| {
        project
            .source(file)
            .and_then(|s| {
                s.text()
                    .get(u32::from(range.start()) as usize..u32::from(range.end()) as usize)
                    .map(|t| {
                        let line = t.lines().next().unwrap_or("").trim();
                        if line.chars().count() > 60 {
                            format!("{}…", line.chars().take(59).collect::<String>())
                        } else {
                            line.to_string()
                        }
                    })
            })
            .unwrap_or_default()
    };
    let method = match &call.func.kind {
        Kind::Attr(_, m) => Some(m.as_str()),
        Kind::Ref(r) if !r.attrs.is_empty() => Some(r.last_name()),
        _ => None,
    };
    let resolved = project.resolver().resolve(file, &call.func);
    let external = resolved.external_name();
    if let Some(n) = external.as_deref() {
        if FILE_DELETES.contains(&n) {
            return Some(GetWrite {
                span,
                what: format!("deletes a file (`{}`)", text(project)),
                bookkeeping: None,
            });
        }
        // Flask's session has no commit; anything else from flask is not a write.
        if n.starts_with("flask.") {
            return None;
        }
    }
    if matches!(resolved.target, Target::Function(_)) {
        return None;
    }
    if let Some(m) = method.filter(|m| ORM_WRITES.contains(m)) {
        if let Some((orm, chain)) = model_chain(project, file, &call.func) {
            if orm_writes(orm, m, &chain) {
                return Some(GetWrite {
                    span,
                    what: format!("writes to the database (`{}`)", text(project)),
                    bookkeeping: None,
                });
            }
        }
    }
    if method.is_some_and(|m| matches!(m, "execute" | "executemany" | "executescript"))
        && call.arg(0).is_some_and(writing_sql)
        && (begins_transaction(project, file, func) || autocommits(project, &call.func))
    {
        return Some(GetWrite {
            span,
            what: format!(
                "writes to the database on an autocommit connection (`{}`)",
                text(project)
            ),
            bookkeeping: None,
        });
    }
    match method {
        Some("commit") if call.args.is_empty() && call.kwargs.is_empty() => Some(GetWrite {
            span,
            what: format!("commits a database write (`{}`)", text(project)),
            bookkeeping: None,
        }),
        Some(m) if MONGO_WRITES.contains(&m) => Some(GetWrite {
            span,
            what: format!("writes to the database (`{}`)", text(project)),
            bookkeeping: None,
        }),
        _ => None,
    }
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
            _ => orm_of_base(&r.external_name()?),
        }
    })
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
    let orm = chain_root(project, file, func, &mut chain, 0)?;
    Some((orm, chain))
}

fn chain_root(
    project: &Project,
    file: FileId,
    v: &Value,
    chain: &mut Vec<String>,
    depth: usize,
) -> Option<Orm> {
    if depth > MAX_CHAIN {
        return None;
    }
    let resolver = project.resolver();
    let r = v.reference()?;
    chain.extend(r.attrs.iter().map(|a| a.to_string()));
    if let crate::python::value::Root::Obj { site, ctor } = &r.root {
        let made = resolver.creating_call(*site, ctor)?;
        return chain_root(project, site.file, &made.call().func, chain, depth + 1);
    }
    let resolved = resolver.resolve(file, v);
    match resolved.target {
        Target::Class(q) => model_orm(project, &q, 0),
        Target::Object(site) => {
            let made = resolver.call(site)?;
            chain_root(project, site.file, &made.call().func, chain, depth + 1)
        }
        Target::External(q)
            if q.starts_with("flask_login.current_user")
                || q.starts_with("flask_login.utils.current_user") =>
        {
            project_orm(project)
        }
        _ => None,
    }
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
        let crate::python::value::Root::Obj { site, ctor } = &r.root else {
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

#[cfg(test)]
mod tests {
    use super::{bookkeeping_attr, has_word, words, LINK_WORDS, LOGOUT_WORDS};

    #[test]
    fn bookkeeping_attributes() {
        for a in [
            "last_seen",
            "is_read",
            "read",
            "read_at",
            "seen",
            "views",
            "view_count",
            "num_views",
            "hits",
            "last_login",
            "last_login_at",
            "login_count",
            "last_active",
        ] {
            assert!(bookkeeping_attr(a), "{a}");
        }
        for a in [
            "active",
            "status",
            "archived",
            "deleted_at",
            "confirmed_at",
            "balance",
            "login",
            "readonly",
            "thread",
            "",
        ] {
            assert!(!bookkeeping_attr(a), "{a}");
        }
    }

    #[test]
    fn words_are_whole() {
        let w = words("/orders/<int:order_id>/confirm");
        assert!(has_word(&w, LINK_WORDS));
        assert!(has_word(&words("confirm_email"), LINK_WORDS));
        assert!(has_word(&words("/confirm-email"), LINK_WORDS));
        assert!(has_word(&words("ConfirmEmail"), LINK_WORDS));
        assert!(!has_word(&words("/reconfirmed-orders"), LINK_WORDS));
        assert!(!has_word(&words("/<confirm_token>"), LINK_WORDS));
        assert!(has_word(&words("log_out"), LOGOUT_WORDS));
        assert!(has_word(&words("/account/sign-out"), LOGOUT_WORDS));
        assert!(!has_word(&words("/catalogue/outlet"), LOGOUT_WORDS));
    }
}
