//! Response headers the code sets, for the header rules: `resp.headers["X"] =
//! v`, `resp.headers.setdefault / set / add / add_header / extend / update(...)`,
//! and whether the write sits in a hook that sees every response (Flask's
//! `after_request` / `after_app_request`, also registered by call; FastAPI's
//! `@app.middleware("http")`; a `BaseHTTPMiddleware.dispatch`).

use super::{index::Target, Project};
use crate::{
    python::{
        facts::{FunctionFact, PyFacts},
        value::{Kind, Value},
    },
    source::{FileId, Span},
};

/// Header names that make a response safer in a browser (HDR001–HDR009).
pub const SECURITY_HEADERS: &[&str] = &[
    "strict-transport-security",
    "content-security-policy",
    "content-security-policy-report-only",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "feature-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "cross-origin-embedder-policy",
    "x-xss-protection",
];

/// Methods of a headers object that write a header (name first).
const WRITE_METHODS: &[&str] = &["setdefault", "set", "add", "add_header", "extend", "update"];

/// Decorators (by last name) that run a function for every response.
const HOOK_DECORATORS: &[&str] = &["after_request", "after_app_request", "middleware"];

#[derive(Debug, Clone)]
pub struct HeaderWrite {
    /// Lower-case header name, when it is a literal.
    pub name: Option<String>,
    /// The value written, when there is one to read.
    pub value: Option<Value>,
    pub file: FileId,
    pub span: Span,
    /// The enclosing function runs for every response (a hook or middleware).
    pub in_hook: bool,
}

impl HeaderWrite {
    pub fn is_security_header(&self) -> bool {
        self.name
            .as_deref()
            .is_some_and(|n| SECURITY_HEADERS.contains(&n))
    }

    /// The literal string written, when known.
    pub fn str_value(&self) -> Option<&str> {
        self.value.as_ref().and_then(Value::as_str)
    }
}

impl Project {
    /// The header writes of `name` (lower case) whose value is a string the
    /// audit can read, through names bound to literals: (write, value).
    pub fn header_values<'p>(
        &'p self,
        name: &'p str,
    ) -> impl Iterator<Item = (&'p HeaderWrite, &'p str)> + 'p {
        self.header_writes
            .iter()
            .filter(move |w| w.name.as_deref() == Some(name))
            .filter_map(move |w| {
                let value = w.value.as_ref()?;
                let s = self.resolver().deref(w.file, value).1.as_str()?;
                Some((w, s))
            })
    }
}

pub(super) fn find_header_writes(project: &Project) -> Vec<HeaderWrite> {
    let hooks = registered_hooks(project);
    let resolver = project.resolver();
    let mut out = Vec::new();
    for (file, facts) in project.python() {
        let in_hook = |scope| {
            facts
                .function_of(scope)
                .is_some_and(|f| is_hook(project, file, facts, f, &hooks))
        };
        for a in &facts.assigns {
            let Kind::Subscript(base, key) = &a.target.kind else {
                continue;
            };
            if base.reference().is_none_or(|r| r.last_name() != "headers") {
                continue;
            }
            out.push(HeaderWrite {
                name: key.as_str().map(str::to_ascii_lowercase),
                value: Some(a.value.clone()),
                file,
                span: Span::new(file, a.range),
                in_hook: in_hook(a.scope),
            });
        }
        for call in &facts.calls {
            let c = call.call();
            let Some(r) = c.func_ref() else { continue };
            if !WRITE_METHODS.contains(&r.last_name()) || r.second_last_name() != Some("headers") {
                continue;
            }
            let span = Span::new(file, call.range());
            let hook = in_hook(call.scope);
            if r.last_name() == "update" || r.last_name() == "extend" {
                let Some(arg) = c.arg(0) else { continue };
                let (_, dict) = resolver.deref(file, arg);
                match dict.as_dict() {
                    Some(items) => {
                        for (k, v) in items {
                            out.push(HeaderWrite {
                                name: k
                                    .as_ref()
                                    .and_then(Value::as_str)
                                    .map(str::to_ascii_lowercase),
                                value: Some(v.clone()),
                                file,
                                span,
                                in_hook: hook,
                            });
                        }
                    }
                    None => out.push(HeaderWrite {
                        name: None,
                        value: None,
                        file,
                        span,
                        in_hook: hook,
                    }),
                }
                continue;
            }
            let name = c.param(0, "key").or_else(|| c.param(0, "_key"));
            let value = c.param(1, "value").or_else(|| c.param(1, "_value"));
            out.push(HeaderWrite {
                name: name
                    .map(|n| resolver.deref(file, n).1)
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase),
                value: value.cloned(),
                file,
                span,
                in_hook: hook,
            });
        }
    }
    out
}

/// Functions registered as hooks by call: `app.after_request(add_headers)`.
fn registered_hooks(project: &Project) -> Vec<String> {
    let resolver = project.resolver();
    let mut out = Vec::new();
    for (file, _, call) in project.calls_named(&["after_request", "after_app_request"]) {
        let Some(arg) = call.call().arg(0) else {
            continue;
        };
        if let Target::Function(f) = resolver.resolve(file, arg).target {
            out.push(f);
        }
    }
    out
}

fn is_hook(
    project: &Project,
    file: FileId,
    facts: &PyFacts,
    f: &FunctionFact,
    registered: &[String],
) -> bool {
    if registered.iter().any(|r| *r == f.qualified) {
        return true;
    }
    let by_decorator = f.decorators.iter().any(|d| {
        let callee = d.as_call().map_or(d, |c| &c.func);
        callee
            .reference()
            .is_some_and(|r| !r.attrs.is_empty() && HOOK_DECORATORS.contains(&r.last_name()))
    });
    if by_decorator {
        return true;
    }
    // Starlette's BaseHTTPMiddleware subclasses do their work in `dispatch`.
    if f.name != "dispatch" {
        return false;
    }
    let Some(class) = f.method_of.as_deref().and_then(|c| facts.class(c)) else {
        return false;
    };
    let resolver = project.resolver();
    class.bases.iter().any(|b| {
        resolver
            .resolve(file, b)
            .external_name()
            .is_some_and(|n| n.ends_with("BaseHTTPMiddleware"))
    })
}
