//! Writes on GET that only record that something was seen or used: a
//! "read" flag, a last-seen timestamp, a view counter. What a view (and the
//! project functions it calls) changes is gathered here, and a view whose
//! every change is such bookkeeping is told apart from one that changes data.

use crate::{
    python::{
        facts::FunctionFact,
        value::{Kind, Root, Value},
    },
    source::FileId,
};

use super::{
    get_writes::{FILE_DELETES, MONGO_WRITES},
    hook_check::{Helpers, MAX_HELPER_DEPTH},
    orm_writes::inherited_method,
};

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
    let activity = w.iter().any(|x| is(ACTIVITY_WORDS, x));
    let tally = w.iter().any(|x| is(TALLY_WORDS, x));
    // `last_message_read_time`, `unread_notifications_count`: what was
    // seen may be named, beside a timestamp or counter word.
    if activity && tally {
        return true;
    }
    !w.is_empty()
        && w.iter().all(|x| {
            is(ACTIVITY_WORDS, x)
                || is(WEAK_ACTIVITY_WORDS, x)
                || is(TALLY_WORDS, x)
                || is(FLAG_WORDS, x)
        })
        && (activity || (tally && w.iter().any(|x| is(WEAK_ACTIVITY_WORDS, x))))
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
pub(super) fn renders(func: &FunctionFact) -> bool {
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
pub(super) struct Changes {
    /// Attributes assigned on objects (`post.views += 1` gives `views`), and
    /// the fields a MongoDB update or a query's `update({...})` sets.
    pub(super) attrs: Vec<String>,
    /// Something else: a row added or deleted, raw SQL, a file deleted, a
    /// MongoDB insert.
    pub(super) other: bool,
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

pub(super) fn collect_changes(
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
            Root::Global(q) => q.as_str(),
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
                            matches!(r.root, Root::Obj { .. }) && r.attrs.is_empty()
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
        let callee = helpers
            .callee(file, c.call())
            .or_else(|| inherited_method(helpers, file, c.call()));
        if let Some((hfile, helper)) = callee {
            collect_changes(helpers, hfile, helper, depth + 1, out);
        }
    }
    helpers.seen.pop();
}

#[cfg(test)]
mod tests {
    use super::bookkeeping_attr;

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
            "last_message_read_time",
            "unread_notifications_count",
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
            "thread_count",
            "read_receipt_sent",
            "last_order",
            "",
        ] {
            assert!(!bookkeeping_attr(a), "{a}");
        }
    }
}
