//! Request-derived data, for the injection and input rules.
//!
//! The collector marks a [`Value`] `tainted` when it may come from the request:
//! `flask.request.*` (except attributes the server decides, such as
//! `request.method` or `request.endpoint`), a parameter of a route function that
//! carries text (URL converters `int`/`float`/`uuid`, FastAPI scalar annotations and
//! `Depends(...)` parameters do not), a parameter typed `Request`, and anything built
//! from those within the function. The flag over-approximates: a call fed request
//! data is flagged whatever it does. The body a framework object holds
//! (Flask-RESTX's `ns.payload`) depends on what the object is, which the
//! [`Flow`] tells.
//!
//! [`derived`] refines the flag for one kind of sink:
//! - sanitisers end it, some for every sink (`int`, `secure_filename`, hashes),
//!   some for one (`shlex.quote` for a shell, `escape` for HTML, `safe_join` for
//!   paths, `url_for` for redirects);
//! - string building, methods on request data and known pass-through functions
//!   (`os.path.join`, `base64.b64decode`, `str`) keep it;
//! - a lookup in a trusted mapping (`COLUMNS.get(request.args["sort"])`,
//!   `ALLOWED[name]`), a comparison or a `not` end it;
//! - what cannot be decided from one function (a parameter of a plain function, an
//!   object a call created, a call of some other function) is asked of a [`Flow`],
//!   which the project model implements across functions and files.

use super::value::{Call, Kind, Ref, Root, Site, Value};

/// Where request data would do harm: sanitisers differ per sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Sql,
    Shell,
    Path,
    Html,
    /// Template source (`render_template_string`): escaping does not help.
    Template,
    Redirect,
    Deserialize,
    /// No particular sink: only the sanitisers that end every kind of harm.
    Any,
}

/// Calls whose result carries no attacker-chosen text, for every sink: numbers,
/// booleans, digests, names reduced to `[A-Za-z0-9._-]`.
pub const SANITIZERS: &[&str] = &[
    "int",
    "float",
    "bool",
    "len",
    "abs",
    "round",
    "hash",
    "id",
    "isinstance",
    "uuid.UUID",
    "decimal.Decimal",
    "ipaddress.ip_address",
    "ipaddress.ip_network",
    "ipaddress.IPv4Address",
    "ipaddress.IPv6Address",
    "werkzeug.utils.secure_filename",
    "werkzeug.secure_filename",
];

/// Sanitisers for one kind of sink only.
const SINK_SANITIZERS: &[(Sink, &[&str])] = &[
    (Sink::Shell, &["shlex.quote", "pipes.quote", "shlex.join"]),
    (
        Sink::Html,
        &[
            "markupsafe.escape",
            "flask.escape",
            "jinja2.escape",
            "html.escape",
            "cgi.escape",
            "bleach.clean",
            "nh3.clean",
            "lxml.html.clean.clean_html",
            "markupsafe.Markup.escape",
        ],
    ),
    (
        Sink::Path,
        &[
            "os.path.basename",
            "posixpath.basename",
            "ntpath.basename",
            // `head, tail = os.path.split(p)`: the tail holds no separator, and
            // unpacking cannot tell the two apart.
            "os.path.split",
            "posixpath.split",
            "werkzeug.security.safe_join",
            "werkzeug.utils.safe_join",
            "flask.safe_join",
            "flask.helpers.safe_join",
        ],
    ),
    (Sink::Redirect, &["flask.url_for", "flask.helpers.url_for"]),
];

/// Functions that hand their (request) input on: the result is as attacker-shaped
/// as the argument.
const PASS_THROUGH: &[&str] = &[
    "str",
    "repr",
    "format",
    "bytes",
    "bytearray",
    "dict",
    "list",
    "tuple",
    "set",
    "frozenset",
    "sorted",
    "reversed",
    "next",
    "iter",
    "min",
    "max",
    "map",
    "filter",
    "zip",
    "enumerate",
    "typing.cast",
    "os.fspath",
    "os.path.join",
    "os.path.normpath",
    "os.path.abspath",
    "os.path.realpath",
    "os.path.expanduser",
    "os.path.dirname",
    "posixpath.join",
    "pathlib.Path",
    "pathlib.PurePath",
    "pathlib.PosixPath",
    "urllib.parse.unquote",
    "urllib.parse.unquote_plus",
    "urllib.parse.urljoin",
    "urllib.parse.urlparse",
    "urllib.parse.urlsplit",
    "urllib.parse.parse_qs",
    "urllib.parse.parse_qsl",
    "base64.b64decode",
    "base64.urlsafe_b64decode",
    "base64.standard_b64decode",
    "base64.decodebytes",
    "base64.b32decode",
    "base64.b16decode",
    "base64.b85decode",
    "binascii.unhexlify",
    "binascii.a2b_base64",
    "codecs.decode",
    "zlib.decompress",
    "gzip.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "io.BytesIO",
    "io.StringIO",
    "json.loads",
    "json.load",
    "json.dumps",
    "flask.json.loads",
    "markdown.markdown",
    "markdown2.markdown",
    "mistune.markdown",
    "mistune.html",
    "textwrap.dedent",
    "textwrap.indent",
    "markupsafe.Markup",
    "flask.Markup",
];

/// Methods that look a key up in the object they are called on: on a trusted
/// mapping the result is one of its values, whatever the key.
const LOOKUPS: &[&str] = &["get", "pop", "setdefault", "__getitem__"];

/// What one function cannot tell: implemented by the project model to follow
/// data across functions and files. The defaults keep to one function.
pub trait Flow {
    /// A parameter of a function that is not a route handler: whether its
    /// callers pass request data.
    fn param(&mut self, _r: &Ref) -> bool {
        false
    }
    /// A parameter of a route handler that carries request text: whether it can
    /// do harm at `sink` (a URL variable without the `path` converter cannot
    /// hold a `/`).
    fn route_param(&mut self, _r: &Ref, _sink: Sink) -> bool {
        true
    }
    /// A parameter of a route handler whose values are a closed set the
    /// framework checks (a FastAPI parameter annotated with an `Enum` class
    /// of the project): it carries no text the client picks.
    fn closed_param(&mut self, _r: &Ref) -> bool {
        false
    }
    /// An object a call created (`f = request.files.get("f")` read as `f.filename`),
    /// flagged `tainted` by the collector: whether it is request data.
    fn object(&mut self, _site: Site, _ctor: &str, tainted: bool) -> bool {
        tainted
    }
    /// A call of something that is neither a sanitiser, a pass-through nor a
    /// method on request data; `fed` says whether request data goes in.
    fn opaque_call(&mut self, _call: &Call, fed: bool) -> bool {
        fed
    }
    /// An attribute of some object that holds the request body when the
    /// object is of the right kind (`ns.payload` of a Flask-RESTX
    /// `Namespace`, `self.api.payload` in a resource; see [`BODY_ATTRS`]):
    /// whether it is. `r` ends with that attribute.
    fn body_attr(&mut self, _r: &Ref) -> bool {
        false
    }
}

/// Attributes that hold the parsed request body on objects of a web
/// framework the collector cannot recognise by name: Flask-RESTX's (and
/// Flask-RESTPlus's) `Api.payload` / `Namespace.payload`.
pub const BODY_ATTRS: &[&str] = &["payload"];

/// Whether a reference the collector did not flag ends with one of
/// [`BODY_ATTRS`], so the flow has to tell what its object is.
fn maybe_body(tainted: bool, r: &Ref) -> bool {
    !tainted
        && r.attrs.len() <= 3
        && r.attrs
            .last()
            .is_some_and(|a| BODY_ATTRS.contains(&a.as_str()))
}

/// Within one function only, with the collector's view of calls (a call fed
/// request data returns request data).
pub struct Local;

impl Flow for Local {}

/// Whether `v` carries request data that no sanitiser for `sink` has cleaned.
pub fn derived(v: &Value, sink: Sink, flow: &mut dyn Flow) -> bool {
    derived_at(v, sink, flow, 0)
}

/// Values nested deeper than this are taken as they are flagged.
const MAX_DEPTH: usize = 64;

fn derived_at(v: &Value, sink: Sink, flow: &mut dyn Flow, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return v.tainted;
    }
    let d = depth + 1;
    match &v.kind {
        Kind::Ref(r) if maybe_body(v.tainted, r) && flow.body_attr(r) => true,
        Kind::Ref(r) => match &r.root {
            Root::Param { .. } if !v.tainted => flow.param(r),
            Root::Param { .. } if flow.closed_param(r) => false,
            Root::Param { .. } if r.attrs.is_empty() => flow.route_param(r, sink),
            Root::Obj { site, ctor } => flow.object(*site, ctor, v.tainted),
            Root::Global(_) if sink == Sink::Redirect && is_own_url(r) => false,
            _ => v.tainted,
        },
        Kind::Call(c)
            if sink == Sink::Redirect
                && is_referer_header(&c.func, "get", c.arg(0).and_then(Value::as_str)) =>
        {
            false
        }
        Kind::Call(c) => call_derived(c, sink, flow, d),
        Kind::Subscript(base, key)
            if sink == Sink::Redirect && is_referer_header(base, "", key.as_str()) =>
        {
            false
        }
        Kind::FString(parts)
        | Kind::List(parts)
        | Kind::Tuple(parts)
        | Kind::Set(parts)
        | Kind::Or(parts)
        | Kind::And(parts) => parts.iter().any(|p| derived_at(p, sink, flow, d)),
        Kind::Dict(items) => items.iter().any(|(k, v)| {
            k.as_ref().is_some_and(|k| derived_at(k, sink, flow, d)) || derived_at(v, sink, flow, d)
        }),
        Kind::BinOp(_, a, b) => derived_at(a, sink, flow, d) || derived_at(b, sink, flow, d),
        Kind::Cond(parts) => {
            derived_at(&parts[1], sink, flow, d) || derived_at(&parts[2], sink, flow, d)
        }
        // The index picks among the base's values; it does not put text in.
        Kind::Subscript(base, _) | Kind::Attr(base, _) => derived_at(base, sink, flow, d),
        Kind::Unknown => v.tainted,
        Kind::Compare(..)
        | Kind::Not(_)
        | Kind::Str(_)
        | Kind::LongStr(_)
        | Kind::Bytes(_)
        | Kind::Int(_)
        | Kind::Float(_)
        | Kind::Bool(_)
        | Kind::None => false,
    }
}

fn call_derived(c: &Call, sink: Sink, flow: &mut dyn Flow, d: usize) -> bool {
    let name = c.func_name();
    if name.as_deref().is_some_and(|n| is_sanitizer(n, sink)) {
        return false;
    }
    let last = c.last_name().unwrap_or_else(|| match &c.func.kind {
        Kind::Attr(_, m) => m,
        _ => "",
    });
    // Known sanitisers of other sinks (`shlex.quote` in SQL) are judged by the
    // tables; only unknown helpers are judged by their name.
    let known = name.as_deref().is_some_and(is_known_sanitizer);
    if !known && is_sanitizer_name(last, sink) {
        return false;
    }
    // Data whose signature itsdangerous checked before handing it on.
    if sink == Sink::Deserialize {
        if let Some(Root::Obj { ctor, .. }) = c.func_ref().map(|r| &r.root) {
            if ctor.starts_with("itsdangerous.") {
                return false;
            }
        }
    }
    // `request.args.get("n", type=int)`: Werkzeug converts (and drops bad values).
    if c.kwarg("type")
        .and_then(Value::qualified)
        .is_some_and(|t| matches!(t.as_str(), "int" | "float" | "bool"))
    {
        return false;
    }
    let args = |flow: &mut dyn Flow| {
        c.args.iter().any(|a| derived_at(a, sink, flow, d))
            || c.kwargs.iter().any(|(_, a)| derived_at(a, sink, flow, d))
    };
    if name.as_deref().is_some_and(|n| PASS_THROUGH.contains(&n)) {
        return args(flow);
    }
    match &c.func.kind {
        // A method on a string literal: `"{}".format(x)`, `",".join(xs)`.
        Kind::Attr(base, _) if matches!(base.kind, Kind::Str(_) | Kind::FString(_)) => {
            return derived_at(base, sink, flow, d) || args(flow);
        }
        // A method on some other value: on request data it hands the data on
        // (`f.read()`, `name.strip()`); a lookup on anything else picks a
        // trusted value.
        Kind::Attr(base, _) => {
            if derived_at(base, sink, flow, d) {
                return true;
            }
            if LOOKUPS.contains(&last) {
                return false;
            }
        }
        Kind::Ref(r) if !r.attrs.is_empty() || matches!(r.root, Root::Global(_)) => {
            if let Root::Global(_) = r.root {
                // `ns.payload.get("name")`: a method of the request body.
                let mut recv = (**r).clone();
                if recv.attrs.pop().is_some()
                    && maybe_body(c.func.tainted, &recv)
                    && flow.body_attr(&recv)
                {
                    return true;
                }
                // `request.args.get`: a method of request data.
                if c.func.tainted {
                    let mut recv = r.clone();
                    if recv.attrs.pop().is_some() {
                        let tainted = recv
                            .qualified()
                            .is_some_and(|q| super::scope::is_request_name(&q));
                        let recv = Value {
                            range: c.func.range,
                            kind: Kind::Ref(recv),
                            tainted,
                        };
                        if derived_at(&recv, sink, flow, d) {
                            return true;
                        }
                    } else {
                        return true;
                    }
                }
                // `COLUMNS.get(key)`, `os.environ.get(name)`.
                if LOOKUPS.contains(&last) && name.as_deref().is_some_and(|n| n.contains('.')) {
                    return false;
                }
            } else {
                let mut recv = r.clone();
                recv.attrs.pop();
                let recv = Value {
                    range: c.func.range,
                    kind: Kind::Ref(recv),
                    tainted: c.func.tainted,
                };
                if derived_at(&recv, sink, flow, d) {
                    return true;
                }
                if LOOKUPS.contains(&last) {
                    return false;
                }
            }
        }
        _ => {}
    }
    let fed = args(flow);
    flow.opaque_call(c, fed)
}

/// URLs of the request itself (`request.url`, `request.path`) and the page it
/// came from (`request.referrer`): redirecting there does not send users to a
/// site an attacker picks through a link to this one.
fn is_own_url(r: &Ref) -> bool {
    const OWN: &[&str] = &[
        "url",
        "base_url",
        "path",
        "full_path",
        "script_root",
        "url_root",
        "host_url",
        "root_url",
        "root_path",
        "referrer",
    ];
    r.qualified().is_some_and(|q| {
        super::scope::REQUEST_OBJECTS.iter().any(|o| {
            q.strip_prefix(o)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| OWN.contains(&rest.split('.').next().unwrap_or(rest)))
        })
    })
}

/// `request.headers.get("Referer")` (`method` "get") or
/// `request.headers["Referer"]` (`method` ""): the page the request came
/// from, which `request.referrer` reads.
fn is_referer_header(v: &Value, method: &str, key: Option<&str>) -> bool {
    let Some(key) = key else { return false };
    if !key.eq_ignore_ascii_case("referer") && !key.eq_ignore_ascii_case("referrer") {
        return false;
    }
    let Kind::Ref(r) = &v.kind else { return false };
    r.qualified().is_some_and(|q| {
        super::scope::REQUEST_OBJECTS.iter().any(|o| {
            let headers = format!("{o}.headers");
            if method.is_empty() {
                q == headers
            } else {
                q.strip_prefix(headers.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    == Some(method)
            }
        })
    })
}

/// Whether a dotted callee is a sanitiser for `sink`.
pub fn is_sanitizer(name: &str, sink: Sink) -> bool {
    if SANITIZERS.contains(&name)
        || name.starts_with("hashlib.")
        || name.starts_with("hmac.")
        || name.starts_with("math.")
    {
        return true;
    }
    SINK_SANITIZERS
        .iter()
        .any(|(s, names)| *s == sink && names.contains(&name))
}

/// Whether a dotted callee is in the sanitiser tables for some sink.
fn is_known_sanitizer(name: &str) -> bool {
    SINK_SANITIZERS
        .iter()
        .any(|(_, names)| names.contains(&name))
}

/// Project or library helpers named for what they do: `sanitize_html`,
/// `escape_string`, `quote_identifier`, `literal_string`, `safe_path`, `secure_name`,
/// `validate_next`. Their result is taken as cleaned (precision first).
pub fn is_sanitizer_name(last: &str, sink: Sink) -> bool {
    let l = last.to_ascii_lowercase();
    if l.contains("unsafe") || l.contains("unescape") || l.contains("unquote") {
        return false;
    }
    if sink == Sink::Template || sink == Sink::Deserialize {
        // Escaping does not stop template code; signatures are checked by name.
        return l == "unsign" || l.contains("verify");
    }
    [
        "sanitiz", "sanitis", "escape", "quote", "safe", "valid", "clean", "secure", "literal",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// [`derived`] for any sink, within one function.
pub fn is_request_derived(v: &Value) -> bool {
    derived(v, Sink::Any, &mut Local)
}

/// Whether `v` is a string built dynamically (f-string, `%`, `+`, `.format`) from
/// request data: the shape of SQL, shell and template injection.
pub fn is_request_built_string(v: &Value) -> bool {
    v.is_dynamic_string() && is_request_derived(v)
}

#[cfg(test)]
#[path = "taint_tests.rs"]
mod tests;
