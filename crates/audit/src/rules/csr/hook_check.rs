//! Hand-written CSRF protection in a `before_request` hook: the hook refuses
//! the request (`abort(403)`, `raise Forbidden()`, `return ..., 400`) under a
//! condition that compares a token kept by the server or the browser (a
//! `session` value, a cookie) with one the request submits (a form field, a
//! header, JSON, a query argument), or checks where the request comes from
//! (`Origin`, `Referer`, `Sec-Fetch-Site` compared with something).
//!
//! The check may sit in a project function the hook calls (same module or
//! imported), up to [`MAX_HELPER_DEPTH`] calls deep: a helper that refuses
//! itself (`check_csrf()` that aborts), or one whose result the refusal's
//! condition tests (`if not csrf_ok(): abort(403)` where `csrf_ok` returns a
//! comparison, or returns under one).

use crate::{
    model::{index::Target, Project},
    python::{
        facts::{FunctionFact, PyFacts},
        value::{Call, Kind, Root, Value},
    },
    rules::hooks::{guard_tests, refusals},
    source::FileId,
};

/// How many calls deep the functions a hook calls are followed.
pub const MAX_HELPER_DEPTH: usize = 2;

/// Where a value's parts come from.
#[derive(Debug, Default, Clone, Copy)]
struct Sources {
    /// The session, or a cookie: what the browser sends on its own.
    stored: bool,
    /// A form field, header, JSON body or query argument: what a page must
    /// put in the request itself.
    submitted: bool,
    /// The `Origin` / `Referer` / `Sec-Fetch-Site` headers.
    origin: bool,
}

const ORIGIN_HEADERS: &[&str] = &["origin", "referer", "referrer", "sec-fetch-site"];
const SUBMITTED_ATTRS: &[&str] = &[
    "form", "headers", "json", "get_json", "args", "values", "data", "get_data",
];
const REQUEST_OBJECTS: &[&str] = &["flask.request", "quart.request", "flask.globals.request"];
const SESSIONS: &[&str] = &["flask.session", "flask.globals.session", "quart.session"];

/// The request attribute path of a global reference (`["headers", "get"]`).
fn request_attrs(v: &Value) -> Option<Vec<String>> {
    let q = v.reference()?.qualified()?;
    REQUEST_OBJECTS.iter().find_map(|r| {
        let rest = q.strip_prefix(r)?.strip_prefix('.')?;
        Some(rest.split('.').map(String::from).collect())
    })
}

fn is_session(v: &Value) -> bool {
    v.reference().and_then(|r| r.qualified()).is_some_and(|q| {
        SESSIONS
            .iter()
            .any(|s| q == *s || q.strip_prefix(s).is_some_and(|r| r.starts_with('.')))
    })
}

fn header_name(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.to_ascii_lowercase())
}

/// Where the parts of `v` come from. A method or attribute of a call's
/// result (`urlparse(request.referrer).netloc`) is read through the call,
/// found among the file's calls by its start.
fn sources(facts: &PyFacts, v: &Value, depth: usize) -> Sources {
    let mut out = Sources::default();
    v.walk(&mut |x| {
        if let Some(Root::Obj { site, .. }) = x.reference().map(|r| &r.root) {
            if depth < 4 {
                let call = facts
                    .calls
                    .iter()
                    .find(|c| u32::from(c.range().start()) == site.offset);
                if let Some(c) = call {
                    let inner = sources(facts, &c.value, depth + 1);
                    out.stored |= inner.stored;
                    out.submitted |= inner.submitted;
                    out.origin |= inner.origin;
                }
            }
            return;
        }
        if is_session(x) {
            out.stored = true;
            return;
        }
        // request.headers.get("Origin"), request.headers["Origin"]
        let header = match &x.kind {
            Kind::Call(c) => request_attrs(&c.func)
                .filter(|a| a.first().map(String::as_str) == Some("headers"))
                .and(c.arg(0))
                .and_then(header_name),
            Kind::Subscript(base, index) => request_attrs(base)
                .filter(|a| a.len() == 1 && a[0] == "headers")
                .and_then(|_| header_name(index)),
            _ => None,
        };
        if header.is_some_and(|h| ORIGIN_HEADERS.contains(&h.as_str())) {
            out.origin = true;
            return;
        }
        let Some(attrs) = request_attrs(x) else {
            return;
        };
        match attrs.first().map(String::as_str) {
            Some("cookies") => out.stored = true,
            Some("origin" | "referrer") => out.origin = true,
            Some(a) if SUBMITTED_ATTRS.contains(&a) => out.submitted = true,
            _ => {}
        }
    });
    out
}

/// Whether two sides pair a stored token with a submitted one.
fn token_pair(a: Sources, b: Sources) -> bool {
    (a.stored && b.submitted) || (a.submitted && b.stored)
}

/// Whether a condition compares tokens or checks the request's origin; a
/// call the comparison does not explain is asked of `helper` (whether it is
/// a project function whose result is such a check).
fn checks(facts: &PyFacts, test: &Value, helper: &mut dyn FnMut(&Call) -> bool) -> bool {
    let mut found = false;
    test.walk(&mut |x| {
        if found {
            return;
        }
        found = match &x.kind {
            Kind::Compare(left, rest) => {
                let l = sources(facts, left, 0);
                rest.iter().any(|(_, r)| {
                    let r = sources(facts, r, 0);
                    token_pair(l, r) || l.origin || r.origin
                })
            }
            Kind::Call(c) => match c.callee_name() {
                Some("compare_digest") => match (c.arg(0), c.arg(1)) {
                    (Some(a), Some(b)) => token_pair(sources(facts, a, 0), sources(facts, b, 0)),
                    _ => false,
                },
                // urlparse(request.referrer).netloc.startswith(...)
                Some("startswith" | "endswith") => {
                    sources(facts, &c.func, 0).origin
                        || c.args.iter().any(|a| sources(facts, a, 0).origin)
                }
                _ => helper(c),
            },
            _ => false,
        };
    });
    found
}

/// Whether a function's own body refuses requests whose token or origin does
/// not check out.
fn body_checks(
    facts: &PyFacts,
    func: &FunctionFact,
    helper: &mut dyn FnMut(&Call) -> bool,
) -> bool {
    refusals(
        facts,
        func.scope,
        &(400..=499),
        &["forbidden", "badrequest", "csrf", "permissiondenied"],
    )
    .into_iter()
    .any(|(guard, _, _)| {
        guard_tests(facts, guard)
            .into_iter()
            .any(|t| checks(facts, t, helper))
    })
}

/// Whether the hook `func` (in `file`) refuses requests whose token or origin
/// does not check out, itself or in the project functions it calls.
pub fn checks_csrf(project: &Project, file: FileId, func: &FunctionFact) -> bool {
    let mut seen = Vec::new();
    Helpers {
        project,
        seen: &mut seen,
    }
    .refuses(file, func, 0)
}

/// Follows the project functions a hook (or a view) calls.
pub(super) struct Helpers<'p, 's> {
    pub(super) project: &'p Project,
    /// The functions being followed, outermost first: a call of one of them
    /// (recursion) is not followed again.
    pub(super) seen: &'s mut Vec<String>,
}

impl<'p> Helpers<'p, '_> {
    /// The project function a call in `file` calls: a function, a method of a
    /// class (`Csrf.check()`), or of an object a class made (`guard.check()`).
    pub(super) fn callee(&self, file: FileId, call: &Call) -> Option<(FileId, &'p FunctionFact)> {
        let resolver = self.project.resolver();
        let r = resolver.resolve(file, &call.func);
        let q = match (r.target, r.attrs.as_slice()) {
            (Target::Function(q), []) => q,
            (Target::Class(c), [m]) => format!("{c}.{m}"),
            (Target::Object(site), [m]) => {
                let made = resolver.call(site)?;
                match resolver.resolve(site.file, &made.call().func) {
                    c if c.attrs.is_empty() => match c.target {
                        Target::Class(c) => format!("{c}.{m}"),
                        _ => return None,
                    },
                    _ => return None,
                }
            }
            _ => return None,
        };
        if self.seen.contains(&q) {
            return None;
        }
        resolver.function(&q)
    }

    /// Whether `func` refuses under a check, or calls a function that does.
    fn refuses(&mut self, file: FileId, func: &FunctionFact, depth: usize) -> bool {
        let Some(facts) = self.project.resolver().facts(file) else {
            return false;
        };
        self.seen.push(func.qualified.to_string());
        let mut helper = |c: &Call| self.returns_check(file, c, depth + 1);
        let found = body_checks(facts, func, &mut helper)
            || depth < MAX_HELPER_DEPTH
                && facts
                    .calls
                    .iter()
                    .filter(|c| facts.scope_within(c.scope, func.scope))
                    .any(|c| match self.callee(file, c.call()) {
                        Some((hfile, helper)) => self.refuses(hfile, helper, depth + 1),
                        None => false,
                    });
        self.seen.pop();
        found
    }

    /// Whether a call in `file` is of a project function whose result is a
    /// check: it returns a comparison, or returns under one.
    fn returns_check(&mut self, file: FileId, call: &Call, depth: usize) -> bool {
        if depth > MAX_HELPER_DEPTH {
            return false;
        }
        let Some((hfile, helper)) = self.callee(file, call) else {
            return false;
        };
        let Some(facts) = self.project.resolver().facts(hfile) else {
            return false;
        };
        self.seen.push(helper.qualified.to_string());
        let mut nested = |c: &Call| self.returns_check(hfile, c, depth + 1);
        let found = helper.returns.iter().enumerate().any(|(i, ret)| {
            let guard = helper.return_guards.get(i).copied().unwrap_or(0);
            checks(facts, ret, &mut nested)
                || guard_tests(facts, guard)
                    .into_iter()
                    .any(|t| checks(facts, t, &mut nested))
        });
        self.seen.pop();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::body_checks;
    use crate::python::analyze;

    fn verdict(body: &str) -> bool {
        let src = format!(
            "import hmac, secrets\nfrom urllib.parse import urlparse\nfrom flask import abort, request, session\nfrom werkzeug.exceptions import BadRequest, Forbidden\n\ndef hook():\n{body}"
        );
        let facts = analyze(0, &src, "m", false).unwrap();
        let f = facts.functions.iter().find(|f| f.name == "hook").unwrap();
        body_checks(&facts, f, &mut |_| false)
    }

    #[test]
    fn token_and_origin_checks_count() {
        assert!(verdict(
            "    if not secrets.compare_digest(session.get('csrf', ''), request.headers.get('X-CSRF-Token', '')):\n        raise BadRequest()\n"
        ));
        assert!(verdict(
            "    token = session.pop('_csrf_token', None)\n    if not token or token != request.form.get('_csrf_token'):\n        abort(403)\n"
        ));
        assert!(verdict(
            "    if request.headers.get('Sec-Fetch-Site') not in ('same-origin', 'none'):\n        return 'cross-site', 403\n"
        ));
        assert!(verdict(
            "    if request.method == 'POST' and not request.referrer.startswith(request.host_url):\n        raise Forbidden()\n"
        ));
        assert!(verdict(
            "    if hmac.compare_digest(request.cookies.get('csrf', ''), request.form.get('csrf', '')):\n        return None\n    else:\n        abort(400)\n"
        ));
    }

    #[test]
    fn hooks_that_do_not_check_do_not_count() {
        // Refuses on something else.
        assert!(!verdict(
            "    if request.method == 'POST' and not session.get('user'):\n        abort(403)\n"
        ));
        // Compares, then answers something other than a 4xx.
        assert!(!verdict(
            "    if session.get('n') != request.form.get('n'):\n        print('mismatch')\n"
        ));
        // Two submitted values compared with each other.
        assert!(!verdict(
            "    if request.form.get('a') != request.args.get('b'):\n        abort(403)\n"
        ));
        // A redirect status, not a refusal.
        assert!(!verdict(
            "    if session.get('n') != request.form.get('n'):\n        abort(302)\n"
        ));
    }
}
