//! Writes made by views that answer GET: a database commit, a MongoDB write,
//! a file deletion, in the view or in a project function it calls (up to
//! [`MAX_HELPER_DEPTH`] calls deep). CSRF protection (Flask-WTF, SeaSurf)
//! checks only unsafe methods, so a link or an `<img src>` on any site
//! triggers such a view with the visitor's session cookie.

use crate::{
    model::{index::Target, Project, Route},
    python::{
        facts::FunctionFact,
        value::{Call, Kind},
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

/// View or path words of views that end the session, or that a GET is how
/// the flow works: OAuth callbacks (checked by their `state`), e-mail
/// confirmation and unsubscribe links (the token may be a query argument).
const EXEMPT_WORDS: &[&str] = &[
    "logout",
    "log_out",
    "log-out",
    "signout",
    "sign_out",
    "sign-out",
    "callback",
    "oauth",
    "authorize",
    "login",
    "signin",
    "sign_in",
    "sign-in",
    "confirm",
    "verify",
    "activate",
    "unsubscribe",
];

/// A write a GET view makes: where, and what (`db.session.commit()`).
pub struct GetWrite {
    pub span: Span,
    pub what: String,
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
/// the route is one a forged request could abuse: not a logout, OAuth
/// callback or confirmation link, not a capability URL, and authenticated by
/// the session (an auth decorator other than a token one, or a view that
/// reads `session` or `current_user`).
pub fn get_write(project: &Project, r: &Route) -> Option<GetWrite> {
    if !get_only(r) || r.provided_by.is_some() || crate::model::requires_spec_credentials(r) {
        return None;
    }
    let name = r.view_name().to_ascii_lowercase();
    let path = r.display_path().to_ascii_lowercase();
    if EXEMPT_WORDS
        .iter()
        .any(|w| name.contains(w) || path.contains(w))
        || capability_url(&path)
    {
        return None;
    }
    let (file, func) = project.resolver().function(&r.function)?;
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
    first_write(&mut helpers, file, func, 0)
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
        .find_map(|c| write_call(project, file, c.call(), c.range()))
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
    match method {
        Some("commit") if call.args.is_empty() && call.kwargs.is_empty() => Some(GetWrite {
            span,
            what: format!("commits a database write (`{}`)", text(project)),
        }),
        Some(m) if MONGO_WRITES.contains(&m) => Some(GetWrite {
            span,
            what: format!("writes to the database (`{}`)", text(project)),
        }),
        _ => None,
    }
}
