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

use super::{
    bookkeeping::{bookkeeping_attr, collect_changes, renders, Changes},
    hook_check::{Helpers, MAX_HELPER_DEPTH},
    orm_writes::{inherited_method, orm_write, sql_write},
};

/// Methods of MongoDB collections (pymongo, Flask-PyMongo) that write.
pub(super) const MONGO_WRITES: &[&str] = &[
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
pub(super) const FILE_DELETES: &[&str] = &[
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
        out.extend(crate::rules::common::identifier_words(segment));
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

/// Words of path parameters that hold a credential on their own
/// (`/kobo/<auth_token>/...`, `/hooks/<secret>`, `/<api_key>/feed`): the URL
/// itself authenticates the request, and a cross-site request cannot forge
/// it. Stricter than [`SECRET_PARAMS`]: a bare `<key>` or `<code>` is often
/// an ordinary identifier (a setting's key, a country code).
const CREDENTIAL_PARAMS: &[&str] = &[
    "token",
    "secret",
    "signature",
    "apikey",
    "accesskey",
    "hmac",
];

/// Words of OAuth and SSO returns (checked by their `state`, posted by the
/// identity provider): a CSRF token of the app cannot be part of them.
const OAUTH_WORDS: &[&str] = &[
    "callback",
    "oauth",
    "oauth2",
    "authorize",
    "authorized",
    "authorization",
    "acs",
    "saml",
];

/// Whether a route is exempt from CSRF protection for a reason of its own:
/// it signs the visitor out (a forged request only does that), or it is an
/// OAuth/SSO return the identity provider posts. Logins stay reported: a
/// forged login signs the visitor into the attacker's account.
pub(super) fn exempt_by_nature(r: &Route) -> bool {
    let mut w = words(r.view_name());
    w.extend(words(&r.display_path().to_ascii_lowercase()));
    has_word(&w, LOGOUT_WORDS) || has_word(&w, OAUTH_WORDS)
}

/// Whether a path parameter holds a credential (see [`CREDENTIAL_PARAMS`]).
pub(super) fn credential_in_path(path: &str) -> bool {
    path.split('/')
        .filter_map(|s| {
            s.strip_prefix('<')
                .and_then(|s| s.strip_suffix('>'))
                .or_else(|| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        })
        .map(|p| {
            p.rsplit(':')
                .next()
                .unwrap_or(p)
                .to_ascii_lowercase()
                .replace(['_', '-'], "")
        })
        .any(|name| CREDENTIAL_PARAMS.iter().any(|w| name.contains(w)))
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
        let (hfile, helper) = helpers
            .callee(file, c.call())
            .or_else(|| inherited_method(helpers, file, c.call()))?;
        if lazy_default(helper, c.call()) {
            return None;
        }
        first_write(helpers, hfile, helper, depth + 1)
    });
    helpers.seen.pop();
    found
}

/// A lookup that creates the row when it is missing
/// (`Profile.get_or_create(user=current_user)`), given nothing from the
/// request: a forged request only creates what the visitor's own first
/// visit would. With a request value (`Tag.get_or_create(name=request.args
/// ["tag"])`) it creates what the forger chose, and stays a write.
fn lazy_default(helper: &FunctionFact, call: &Call) -> bool {
    let name = helper.name.to_ascii_lowercase();
    (name.starts_with("get_or_create") || name.starts_with("first_or_create"))
        && !call.args.iter().any(|a| a.tainted)
        && !call.kwargs.iter().any(|(_, v)| v.tainted)
        && !call.spread
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
    if method.is_some_and(|m| orm_write(project, file, call, m)) {
        return Some(GetWrite {
            span,
            what: format!("writes to the database (`{}`)", text(project)),
            bookkeeping: None,
        });
    }
    if method.is_some_and(|m| sql_write(project, file, func, call, m)) {
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

#[cfg(test)]
mod tests {
    use super::{credential_in_path, has_word, words, LINK_WORDS, LOGOUT_WORDS, OAUTH_WORDS};

    #[test]
    fn words_are_whole() {
        let w = words("/orders/<int:order_id>/confirm");
        assert!(has_word(&w, LINK_WORDS));
        assert!(has_word(&words("confirm_email"), LINK_WORDS));
        assert!(has_word(&words("/confirm-email"), LINK_WORDS));
        assert!(has_word(&words("ConfirmEmail"), LINK_WORDS));
        assert!(!has_word(&words("/reconfirmed-orders"), LINK_WORDS));
        assert!(!has_word(&words("/<confirm_token>"), LINK_WORDS));
        assert!(credential_in_path("/kobo/<auth_token>/v1/tags"));
        assert!(has_word(&words("/saml/acs"), OAUTH_WORDS));
        assert!(!has_word(&words("/login"), OAUTH_WORDS));
        assert!(credential_in_path("/hooks/<secret>"));
        assert!(credential_in_path("/feeds/<string:api_key>/items"));
        assert!(credential_in_path("/items/{accessKey}"));
        assert!(!credential_in_path("/settings/<key>"));
        assert!(!credential_in_path("/countries/<code>/edit"));
        assert!(!credential_in_path("/tokens/<int:id>"));
        assert!(has_word(&words("log_out"), LOGOUT_WORDS));
        assert!(has_word(&words("/account/sign-out"), LOGOUT_WORDS));
        assert!(!has_word(&words("/catalogue/outlet"), LOGOUT_WORDS));
    }
}
