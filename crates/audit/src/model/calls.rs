//! Calls by the last name of what they call, indexed once: the model builders
//! and rules look for a few dozen names (`Flask`, `init_app`, `from_object`,
//! `register_blueprint`...) among hundreds of thousands of calls, so one pass
//! buckets them instead of every builder scanning every call.

use rustc_hash::FxHashMap;

use super::index::Target;
use crate::{
    python::{
        facts::{CallFact, PyFacts},
        value::{Call, Kind, Value},
    },
    source::FileId,
};

/// The names worth indexing. A name missing here is simply not indexed:
/// [`CallIndex::named`] then finds nothing for it, so add it when a builder or
/// rule needs it.
pub const INDEXED_NAMES: &[&str] = &[
    // apps
    "Flask",
    "Quart",
    "FastAPI",
    "App",
    "FlaskApp",
    "APIFlask",
    // extensions and middleware
    "Talisman",
    "CORS",
    "CORSMiddleware",
    "Limiter",
    "RateLimiter",
    "CSRFProtect",
    "CsrfProtect",
    "SeaSurf",
    "ProxyFix",
    "ProxyHeadersMiddleware",
    "DebugToolbarExtension",
    "DebuggedApplication",
    "Session",
    "TrustedHostMiddleware",
    "HTTPSRedirectMiddleware",
    "LoginManager",
    "Security",
    "AppBuilder",
    "JWTManager",
    "SessionMiddleware",
    "CookieTransport",
    "init_app",
    "add_middleware",
    // Starlette's `app.mount("/sub", sub_app)`
    "mount",
    // connexion's `app.add_api("openapi.yaml")`
    "add_api",
    // blueprints and routers
    "Blueprint",
    "APIBlueprint",
    "APIRouter",
    "register_blueprint",
    "include_router",
    // Flask-Admin
    "Admin",
    "add_view",
    "add_views",
    // Flask-AppBuilder's `appbuilder.add_view_no_menu(View)` (`add_api` above)
    "add_view_no_menu",
    // configuration
    "from_object",
    "update",
    "from_mapping",
    "setdefault",
    "from_pyfile",
    "from_prefixed_env",
    "from_envvar",
    "from_file",
    // sessions and servers
    "login_user",
    "run",
    "run_simple",
    // Flask-Script's runserver command
    "Server",
    // routes and handlers registered by call
    "add_url_rule",
    "register_error_handler",
    // hooks registered by call
    "after_request",
    "after_app_request",
    "before_request",
    "before_app_request",
    // cookies and the session
    "set_cookie",
    "clear",
    "regenerate",
    "timedelta",
    // CORS per view
    "cross_origin",
    // sinks of request data: SQL
    "execute",
    "executemany",
    "executescript",
    "exec_driver_sql",
    "text",
    "raw",
    "read_sql",
    "read_sql_query",
    // templates and markup
    "render_template",
    "render_template_string",
    "TemplateResponse",
    "from_string",
    "Template",
    "Markup",
    "Environment",
    // commands
    "system",
    "popen",
    "call",
    "check_call",
    "check_output",
    "Popen",
    "getoutput",
    "getstatusoutput",
    "create_subprocess_shell",
    // redirects
    "redirect",
    "RedirectResponse",
    // files
    "send_file",
    "send_from_directory",
    "open",
    "save",
    "remove",
    "unlink",
    "rmdir",
    "rename",
    "listdir",
    "scandir",
    "rmtree",
    "copy",
    "copyfile",
    "copy2",
    "move",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "FileResponse",
    // deserialisation
    "loads",
    "load",
    "load_all",
    "unsafe_load",
    "unsafe_load_all",
    "full_load",
    "full_load_all",
    "decode",
    "read_pickle",
    "Unpickler",
    // password hashing and tokens
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha3_256",
    "sha3_512",
    "blake2b",
    "blake2s",
    "new",
    "generate_password_hash",
    "pbkdf2_hmac",
    "hash",
    "encrypt",
    "encode",
    "create_access_token",
    "create_refresh_token",
    "gensalt",
    // Flask-RESTful / Flask-RESTX resources
    "Api",
    "Namespace",
    "namespace",
    "add_namespace",
    "add_resource",
    // request bodies
    "get_json",
    // rate limits applied by call, and request hooks
    "limit",
    "shared_limit",
    "exempt",
    "check",
];

#[cfg(test)]
mod tests {
    use super::INDEXED_NAMES;
    use crate::model::extensions::{EXT_CTORS, EXT_CTOR_NAMES};

    #[test]
    fn every_extension_constructor_is_indexed() {
        let mut from_table: Vec<&str> = EXT_CTORS
            .iter()
            .map(|(n, _)| n.rsplit('.').next().unwrap())
            .collect();
        from_table.sort_unstable();
        from_table.dedup();
        let mut listed = EXT_CTOR_NAMES.to_vec();
        listed.sort_unstable();
        assert_eq!(from_table, listed);
        assert!(listed.iter().all(|n| INDEXED_NAMES.contains(n)));
    }
}

#[derive(Debug, Default)]
pub struct CallIndex {
    by_name: FxHashMap<&'static str, Vec<(FileId, u32)>>,
}

impl CallIndex {
    pub fn build(py: &[Option<PyFacts>]) -> CallIndex {
        let wanted: FxHashMap<&str, &'static str> =
            INDEXED_NAMES.iter().map(|n| (*n, *n)).collect();
        let mut by_name: FxHashMap<&'static str, Vec<(FileId, u32)>> = FxHashMap::default();
        for (file, facts) in py.iter().enumerate() {
            let Some(facts) = facts else { continue };
            for (i, call) in facts.calls.iter().enumerate() {
                let Some(last) = call.call().callee_name() else {
                    continue;
                };
                if let Some(name) = wanted.get(last) {
                    by_name
                        .entry(name)
                        .or_default()
                        .push((file as FileId, i as u32));
                }
            }
        }
        CallIndex { by_name }
    }

    /// Calls whose callee's last name is one of `names`, in file and source
    /// order.
    pub fn named<'a>(
        &self,
        py: &'a [Option<PyFacts>],
        names: &[&str],
    ) -> Vec<(FileId, &'a PyFacts, &'a CallFact)> {
        let mut hits: Vec<(FileId, u32)> = names
            .iter()
            .filter_map(|n| self.by_name.get(n))
            .flatten()
            .copied()
            .collect();
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter()
            .filter_map(|(file, i)| {
                let facts = py.get(file as usize)?.as_ref()?;
                Some((file, facts, facts.calls.get(i as usize)?))
            })
            .collect()
    }
}

/// How deep [`spread_kwargs`] follows `**` mappings into mappings.
const MAX_SPREAD_DEPTH: usize = 4;

/// The keyword arguments a call's `**mapping` spreads pass, each with the
/// file its value is written in, when every spread can be read: a dict
/// literal, `dict(a=...)`, a module-level name bound to one of those
/// (`**COOKIE_KWARGS`), or a call of a project function whose every `return`
/// is one (`**cookie_opts()`), nested `**` included. Empty for a call without
/// spreads; None when a spread (or a `*args`) cannot be read: the arguments
/// are then incomplete.
pub fn spread_kwargs<'a>(
    project: &'a super::Project,
    file: FileId,
    call: &'a Call,
) -> Option<Vec<(FileId, &'a str, &'a Value)>> {
    if call.args.iter().any(|a| matches!(a.kind, Kind::Unknown)) && call.spread {
        // `*args`: positional arguments unknown (they may be flags too).
        return None;
    }
    let mut out = Vec::new();
    for (k, v) in call.kwargs.iter() {
        if k.is_none() {
            mapping_items(project, file, v, &mut out, 0)?;
        }
    }
    Some(out)
}

fn mapping_items<'a>(
    project: &'a super::Project,
    file: FileId,
    v: &'a Value,
    out: &mut Vec<(FileId, &'a str, &'a Value)>,
    depth: usize,
) -> Option<()> {
    if depth > MAX_SPREAD_DEPTH {
        return None;
    }
    let resolver = project.resolver();
    let (file, v) = resolver.deref(file, v);
    match &v.kind {
        Kind::Dict(items) => {
            for (k, x) in items.iter() {
                match k {
                    Some(k) => out.push((file, k.as_str()?, x)),
                    None => mapping_items(project, file, x, out, depth + 1)?,
                }
            }
            Some(())
        }
        Kind::Call(c) => {
            let callee = resolver.resolve(file, &c.func);
            match callee.target {
                Target::External(q) if q == "dict" || q == "builtins.dict" => {
                    if !c.args.is_empty() {
                        mapping_items(project, file, &c.args[0], out, depth + 1)?;
                    }
                    for (k, x) in c.kwargs.iter() {
                        match k {
                            Some(k) => out.push((file, k.as_str(), x)),
                            None => mapping_items(project, file, x, out, depth + 1)?,
                        }
                    }
                    Some(())
                }
                Target::Function(q) if callee.attrs.is_empty() => {
                    let (ffile, f) = resolver.function(&q)?;
                    // Every return gives the same keys (a function choosing
                    // between two dicts is read only when both agree).
                    let mut first: Option<Vec<(FileId, &'a str, &'a Value)>> = None;
                    for r in &f.returns {
                        let mut items = Vec::new();
                        mapping_items(project, ffile, r, &mut items, depth + 1)?;
                        match &first {
                            None => first = Some(items),
                            Some(prev) => {
                                let same = prev.len() == items.len()
                                    && prev
                                        .iter()
                                        .zip(&items)
                                        .all(|(a, b)| a.1 == b.1 && a.2.kind == b.2.kind);
                                if !same {
                                    return None;
                                }
                            }
                        }
                    }
                    out.extend(first?);
                    Some(())
                }
                _ => None,
            }
        }
        _ => None,
    }
}
