//! DBG001 `debug-mode-enabled`: debug mode or the Werkzeug debugger turned on in code.

use report::Finding;

use crate::{
    model::{pydantic_settings, AppKind, ExtKind, Project},
    python::{
        pydantic,
        value::{env_lookup, CmpOp, Kind, Root, Value},
    },
    rules::{common, Rule, RuleContext},
    source::{FileId, Span},
};

pub const RULE: Rule = Rule {
    code: "DBG001",
    name: "debug-mode-enabled",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds debug mode switched on in code that production runs: `app.run(debug=True)`,
`DEBUG = True` (or `app.debug = True`, `app.config["DEBUG"] = True`) in the
configuration production uses — across files and through config class
inheritance — `FastAPI(debug=True)`, `run_simple(..., use_debugger=True)`, Flask-Script's
`Server(use_debugger=True)`, and
apps wrapped in Werkzeug's `DebuggedApplication`. A flag read through a
settings object counts when its field defaults to true (`DEBUG: bool = True`
in a pydantic `BaseSettings` or a plain settings class, then
`FastAPI(debug=settings.DEBUG)` or `app.config.from_object(settings)`), and so
does an environment read whose default turns debug on when the variable
is unset (`os.getenv("DEBUG", "True") == "True"`, also after `.lower()`;
`bool(os.environ.get("DEBUG", True))` — `bool()` of any non-empty string
is true —, `int(os.getenv("DEBUG", "1"))`, `debug=os.environ.get("DEBUG",
True)`) when no deploy file sets the variable. Flags that stay off when the environment sets nothing
(`os.getenv("DEBUG", "False") == "True"`, `os.getenv("FLASK_DEBUG") == "1"`,
`debug: bool = False`) are fine, and so is an app made with `debug=True`
only under a debug flag (`if in_debug_mode(): app = FastAPI(debug=True)`):
the flag is judged where it is set.
`DEBUG: True` followed by a `**mapping` spread the audit cannot read
(`update({"DEBUG": True, **os.environ})`) is reported as on unless that
mapping turns it off.

## Why is this bad?
Flask's debug mode serves the Werkzeug debugger: any visitor who triggers an
error gets an interactive Python console in the browser, which is remote code
execution (the PIN is derivable from files an attacker can often read). Debug
pages also print source code, settings and secrets.

## Example
```python
class Config:
    DEBUG = True

class ProductionConfig(Config):
    pass
```

Use instead:
```python
class Config:
    DEBUG = False
```
and turn debugging on only in a development config or with `flask run --debug`
on your machine.
"#;

const RUN_SIMPLE: &[&str] = &["werkzeug.serving.run_simple", "werkzeug.run_simple"];
const FLASK_SCRIPT_SERVER: &[&str] = &["flask_script.Server", "flask_script.commands.Server"];

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    // DEBUG in the production config.
    for app in project.apps.iter().filter(|a| a.kind == AppKind::Flask) {
        let Some(entry) = app.config.get("DEBUG") else {
            continue;
        };
        // FLASK_DEBUG read by from_prefixed_env: reported on its deploy file line
        // by `debug-enabled-in-deploy`.
        if entry.via == crate::model::ConfigVia::Environment {
            continue;
        }
        let Some(on) = debug_on(project, entry.file, &entry.value) else {
            continue;
        };
        // `{"DEBUG": True, **env}`: on unless the mapping after it says otherwise.
        let message = match entry.overridable {
            Some(by) => format!("debug mode is on in the configuration production uses{} unless {} turns it off: the Werkzeug debugger gives any visitor a Python console", on.why(), by.describe()),
            None => format!("debug mode is on in the configuration production uses{}: the Werkzeug debugger gives any visitor a Python console", on.why()),
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, entry.span, message)
            .with_fix(on.fix(
                "Set DEBUG = False for production; enable debugging only in a development config.",
            ))
            .with_evidence(ctx.snippet(entry.span));
        if let DebugOn::SettingsDefault { at, .. } = &on {
            f = f.with_related(ctx.at(*at), "the default is written here");
        }
        if let Some(by) = entry.overridable {
            f = f.with_related(
                ctx.at(by.span),
                format!("{} may set DEBUG instead", by.this()),
            );
        }
        out.push(ctx.with_production(f, app));
    }
    for (file, _, call) in project.calls_named(&["run", "run_simple", "Server"]) {
        let c = call.call();
        let Some(r) = c.func.reference() else {
            continue;
        };
        match r.last_name() {
            // app.run(debug=True)
            "run" => {
                let Some(debug) = c.kwarg("debug") else {
                    continue;
                };
                let Some(on) = debug_on(project, file, debug) else {
                    continue;
                };
                let app = common::app_of_receiver(project, file, c);
                let recv_name = common::receiver(c).map(|v| v.render()).unwrap_or_default();
                if app.is_none()
                    && !matches!(recv_name.rsplit('.').next(), Some("app" | "application"))
                {
                    continue;
                }
                if project.guard_in_production(app, file, call.guard) == Some(false) {
                    continue;
                }
                let span = Span::new(file, debug.range);
                out.push(
                    ctx.finding(RULE.code, RULE.name, span, match on {
                        DebugOn::Literal => "`app.run(debug=True)` starts the development server with the Werkzeug debugger".to_string(),
                        _ => format!("`app.run(debug=...)` is on{}: it starts the development server with the Werkzeug debugger", on.why()),
                    })
                        .with_fix(match on {
                            DebugOn::Literal => "Remove `debug=True`; run production under gunicorn or uvicorn and use `flask run --debug` locally.".to_string(),
                            _ => on.fix(""),
                        })
                        .with_evidence(ctx.snippet(Span::new(file, call.range()))),
                );
            }
            // Werkzeug's `run_simple(use_debugger=True)`, and Flask-Script's
            // runserver command `Server(use_debugger=True)`.
            name @ ("run_simple" | "Server") => {
                let (target, message, fix) = if name == "Server" {
                    (
                        FLASK_SCRIPT_SERVER,
                        "Flask-Script's `Server(use_debugger=True)` serves the Werkzeug debugger",
                        "Drop `use_debugger=True`; serve production with gunicorn or uvicorn.",
                    )
                } else {
                    (
                        RUN_SIMPLE,
                        "`run_simple(use_debugger=True)` serves the Werkzeug debugger",
                        "Drop `use_debugger=True` outside local development.",
                    )
                };
                if !common::resolves_to(project, file, &c.func, target) {
                    continue;
                }
                let Some(flag) = c.kwarg("use_debugger").filter(|v| v.truthy() == Some(true))
                else {
                    continue;
                };
                out.push(
                    ctx.finding(RULE.code, RULE.name, Span::new(file, flag.range), message)
                        .with_fix(fix),
                );
            }
            _ => {}
        }
    }
    // FastAPI(debug=True)
    for app in project.apps.iter().filter(|a| a.kind == AppKind::FastApi) {
        let Some(call) = project.resolver().call(app.site) else {
            continue;
        };
        let Some((debug, on)) = call
            .call()
            .kwarg("debug")
            .and_then(|v| Some((v, debug_on(project, app.site.file, v)?)))
        else {
            continue;
        };
        // `if in_debug_mode(): app = FastAPI(debug=True)`: made only when a
        // debug flag is on (or never in production), judged where the flag
        // is set.
        match project.guard_in_production(Some(app.id), app.site.file, call.guard) {
            Some(false) => continue,
            None if under_debug_flag(project, app.site.file, call.guard) => continue,
            _ => {}
        }
        let mut f = ctx
            .finding(
                RULE.code,
                RULE.name,
                Span::new(app.site.file, debug.range),
                match on {
                    DebugOn::Literal => {
                        "`FastAPI(debug=True)` returns tracebacks to clients".to_string()
                    }
                    _ => format!(
                        "`FastAPI(debug=...)` is on{}: it returns tracebacks to clients",
                        on.why()
                    ),
                },
            )
            .with_fix(
                on.fix(
                    "Remove `debug=True` (or read it from a setting that is off in production).",
                ),
            );
        if let DebugOn::SettingsDefault { at, .. } = &on {
            f = f.with_related(ctx.at(*at), "the default is written here");
        }
        out.push(f);
    }
    // DebuggedApplication wrapping in production code: an app we know, or an
    // `app.wsgi_app` (library code wrapping an arbitrary WSGI callable it was
    // handed is not an app's deployment).
    for ext in project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::Debugger)
    {
        let Some(call) = project.resolver().call(ext.site) else {
            continue;
        };
        let wraps_wsgi_app = call
            .call()
            .param(0, "app")
            .and_then(|a| a.reference())
            .is_some_and(|r| r.attrs.last().map(|a| a.as_str()) == Some("wsgi_app"));
        if ext.app.is_none() && !wraps_wsgi_app {
            continue;
        }
        match project.guard_in_production(ext.app, ext.site.file, call.guard) {
            Some(false) => continue,
            // `if debug:` / `if app.debug:` on a flag whose production value
            // is not known: the wrapper follows the debug setting, which is
            // judged where it is set.
            None if under_debug_flag(project, ext.site.file, call.guard) => continue,
            _ => {}
        }
        let message = match ext.bool_opt("evalex") {
            Some(true) => "the app is wrapped in Werkzeug's `DebuggedApplication(evalex=True)`: an interactive console for anyone who triggers an error",
            Some(false) => "the app is wrapped in Werkzeug's `DebuggedApplication`: tracebacks with source and locals for anyone who triggers an error",
            None => "the app is wrapped in Werkzeug's `DebuggedApplication`: tracebacks, and a console when evalex is on, for anyone who triggers an error",
        };
        let mut f = ctx
            .finding(RULE.code, RULE.name, ext.span, message)
            .with_fix(
                "Never wrap the production app in DebuggedApplication; use error logging instead.",
            )
            .with_evidence(ctx.snippet(ext.span));
        if let Some(app) = ext.app.and_then(|a| project.apps.get(a)) {
            if let Some(e) = app
                .config
                .get("DEBUG")
                .filter(|e| e.value.truthy() == Some(true))
            {
                f = f.with_related(
                    ctx.at(e.span),
                    "debug is on in production here, so the wrapper is applied",
                );
            }
        }
        out.push(f);
    }
    out
}

/// Whether an `if` around a fact tests a debug flag itself: `if debug:`,
/// `if app.debug:`, `if config["debug"]:`, `if settings.get("DEBUG"):`,
/// `if is_debug():`
/// (alone or in an `and`; not negated).
fn under_debug_flag(project: &Project, file: FileId, guard: crate::python::facts::GuardId) -> bool {
    fn names_debug(v: &Value) -> bool {
        let says = |n: &str| n.to_ascii_lowercase().contains("debug");
        match &v.kind {
            Kind::Ref(r) => says(r.last_name()),
            Kind::Attr(_, n) => says(n),
            Kind::Subscript(_, k) => k.as_str().is_some_and(says),
            // `config.get("debug")`, `options.getboolean("debug")`, `is_debug()`.
            Kind::Call(c) => {
                c.callee_name().is_some_and(says)
                    || c.arg(0).and_then(Value::as_str).is_some_and(says)
            }
            Kind::And(vs) => vs.iter().any(names_debug),
            _ => false,
        }
    }
    project
        .py
        .get(file as usize)
        .and_then(Option::as_ref)
        .is_some_and(|facts| {
            facts
                .guards_of(guard)
                .iter()
                .any(|g| !g.negated && names_debug(&g.test))
        })
}

/// Why a debug flag is on.
enum DebugOn {
    /// `True` written there (or a constant folded to it).
    Literal,
    /// Read through a settings object whose field or attribute defaults to
    /// true (`debug=settings.DEBUG` with `DEBUG: bool = True`): on whenever
    /// the environment does not turn it off.
    SettingsDefault { field: String, at: Span },
    /// `os.getenv("DEBUG", "True") == "True"`: on when the variable is unset,
    /// and no deploy file sets it.
    EnvDefault { var: String },
    /// `debug=os.getenv("DEBUG", "False")`: the string itself is the flag,
    /// and every non-empty string is true, whatever it says and whatever a
    /// deploy file sets.
    EnvString { var: String, default: String },
    /// `debug=os.getenv("DEBUG")` with `DEBUG=0` in a deploy file: the
    /// string is the flag, and the value meant as off is true.
    EnvStringSet { var: String, value: String },
}

impl DebugOn {
    fn why(&self) -> String {
        match self {
            DebugOn::Literal => String::new(),
            DebugOn::SettingsDefault { field, .. } => {
                format!(
                    " (`{field}` defaults to true, used whenever the environment does not set it)"
                )
            }
            DebugOn::EnvDefault { var } => {
                format!(" by default (the default of {var} is on, used whenever the variable is not set, and no deploy file sets it)")
            }
            DebugOn::EnvStringSet { var, value } => {
                format!(" (the flag is the string read from {var}, which a deploy file sets to \"{value}\", and Python reads every non-empty string as true: the value meant as off turns debug on)")
            }
            DebugOn::EnvString { var, default } => {
                format!(" (the flag is the string read from {var}, and Python reads every non-empty string as true: the default \"{default}\", and \"0\" or \"False\" set in the environment, turn debug on)")
            }
        }
    }

    fn fix(&self, literal: &str) -> String {
        match self {
            DebugOn::Literal => literal.to_string(),
            DebugOn::SettingsDefault { field, .. } => format!(
                "Default `{field}` to False and turn it on only in development (`.env` on your machine)."
            ),
            DebugOn::EnvDefault { var } => format!(
                "Default {var} to off (`os.getenv(\"{var}\", \"False\") == \"True\"`) and turn it on only in development."
            ),
            DebugOn::EnvString { var, .. } | DebugOn::EnvStringSet { var, .. } => format!(
                "Compare the string instead of using it as the flag: `os.getenv(\"{var}\", \"False\") == \"True\"`."
            ),
        }
    }
}

/// Whether a debug flag's value turns debug on in production: `True`; a
/// field or attribute of a settings object that defaults to true (classes
/// named for development or tests left out); an environment comparison whose
/// default makes it true and whose variable no deploy file sets. Values
/// that stay off when the environment sets nothing
/// (`os.getenv("DEBUG", "False") == "True"`, `debug: bool = False`) are not.
fn debug_on(project: &Project, file: FileId, v: &Value) -> Option<DebugOn> {
    match v.truthy() {
        Some(true) => return Some(DebugOn::Literal),
        Some(false) => return None,
        None => {}
    }
    if let Some((var, default)) = string_flag(v) {
        return Some(DebugOn::EnvString { var, default });
    }
    if let Some((var, value)) = string_flag_set_off(project, v) {
        return Some(DebugOn::EnvStringSet { var, value });
    }
    if let Some(var) = env_default_on(project, v) {
        let set_in_deploy = project.deploy.env.iter().any(|e| e.name == var);
        return (!set_in_deploy).then_some(DebugOn::EnvDefault { var });
    }
    let found = pydantic_settings::member_of(project, file, v)?;
    if found.declared_only || common::is_dev_or_test_name(&found.class.qualified) {
        return None;
    }
    let default = pydantic::field_value(&found.attr.value)?;
    (default.truthy() == Some(true)).then(|| DebugOn::SettingsDefault {
        field: format!("{}.{}", found.class.name, found.attr.name),
        at: Span::new(found.file, found.attr.range),
    })
}

/// The variable of an environment read that turns debug on when the
/// variable is unset: a comparison that holds with the default
/// (`os.getenv("DEBUG", "True") == "True"`, also `!=`, `in`, `not in`
/// against literals, and after `.lower()` / `.upper()` / `.strip()`),
/// `bool(...)` / `int(...)` / `strtobool(...)` of the read with a default
/// that is on, or the read itself used as the flag with a default that reads
/// as on (`debug=os.environ.get("DEBUG", True)`, `"1"`, `"true"`).
fn env_default_on(project: &Project, v: &Value) -> Option<String> {
    match &v.kind {
        Kind::Compare(left, rest) => {
            let [(op, right)] = rest.as_slice() else {
                return None;
            };
            let (var, default) = env_default_str(project, left)?;
            let holds = match op {
                CmpOp::Eq => default == right.as_str()?,
                CmpOp::NotEq => default != right.as_str()?,
                CmpOp::In | CmpOp::NotIn => {
                    let items = right.as_seq()?;
                    let mut strs = Vec::with_capacity(items.len());
                    for i in items {
                        strs.push(i.as_str()?);
                    }
                    strs.contains(&default.as_str()) == matches!(op, CmpOp::In)
                }
                _ => return None,
            };
            holds.then_some(var)
        }
        Kind::Call(c) => {
            let name = c.callee_name()?;
            let arg = c.arg(0)?;
            match name {
                // bool("False") is True: any non-empty string is.
                "bool" => {
                    let lookup = env_lookup(arg)?;
                    let on = lookup.default?.truthy()?;
                    on.then_some(lookup.var?)
                }
                "int" => {
                    let lookup = env_lookup(arg)?;
                    let d = lookup.default?;
                    let on = match &d.kind {
                        Kind::Str(s) => s.trim().parse::<i64>().ok()? != 0,
                        _ => d.as_int()? != 0,
                    };
                    on.then_some(lookup.var?)
                }
                "strtobool" | "str2bool" | "str_to_bool" | "to_bool" | "as_bool" => {
                    let (var, default) = env_default_str(project, arg)?;
                    reads_on(&default).then_some(var)
                }
                _ => bare_lookup_on(v),
            }
        }
        _ => bare_lookup_on(v),
    }
}

/// The variable of an environment read used as the flag itself, whose
/// default reads as on (`os.environ.get("DEBUG", True)`, `"1"`, `"true"`).
fn bare_lookup_on(v: &Value) -> Option<String> {
    let lookup = env_lookup(v)?;
    let d = lookup.default?;
    let on = match &d.kind {
        Kind::Str(s) => reads_on(s),
        _ => d.as_bool() == Some(true),
    };
    on.then_some(lookup.var?)
}

/// An environment read used as the flag itself with a string default that
/// does not spell on (`os.getenv("DEBUG", "False")`, `"0"`): still true, since
/// the string is not empty. (Defaults that spell on are [`bare_lookup_on`]'s.)
fn string_flag(v: &Value) -> Option<(String, String)> {
    let lookup = env_lookup(v)?;
    let d = lookup.default?;
    let Kind::Str(s) = &d.kind else {
        return None;
    };
    if s.is_empty() || reads_on(s) {
        return None;
    }
    Some((lookup.var?, s.to_string()))
}

/// An environment read without a default used as the flag itself, whose
/// variable a deploy file sets to a non-empty value spelling off (`"0"`,
/// `"False"`): true all the same.
fn string_flag_set_off(project: &Project, v: &Value) -> Option<(String, String)> {
    let lookup = env_lookup(v)?;
    if lookup.default.is_some() {
        return None;
    }
    let var = lookup.var?;
    let value = project
        .deploy
        .env
        .iter()
        .find(|e| e.name == var && reads_off(&e.value))?
        .value
        .clone();
    Some((var, value))
}

/// Whether a non-empty string spells an off switch (`"0"`, `"False"`, `"no"`).
fn reads_off(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "0" | "false" | "f" | "no" | "n" | "off"
    )
}

/// Whether a string spells an on switch (`"1"`, `"True"`, `"yes"`, `"on"`).
fn reads_on(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "t" | "yes" | "y" | "on"
    )
}

/// The variable and the string default of an environment read, through
/// case and whitespace methods (`os.getenv("DEBUG", "True").lower()` gives
/// `"true"`).
fn env_default_str(project: &Project, v: &Value) -> Option<(String, String)> {
    if let Some(lookup) = env_lookup(v) {
        let d = lookup.default?;
        let default = match &d.kind {
            Kind::Str(s) => s.to_string(),
            _ => return None,
        };
        return Some((lookup.var?, default));
    }
    let Kind::Call(c) = &v.kind else {
        return None;
    };
    if !c.args.is_empty() {
        return None;
    }
    // The method of the read's result: an attribute of the call value, or
    // a reference to the object the call made.
    let (method, inner) = match &c.func.kind {
        Kind::Attr(inner, m) => (m.as_str(), inner.as_ref()),
        Kind::Ref(r) => match (&r.root, r.attrs.as_slice()) {
            (Root::Obj { site, ctor }, [m]) => (
                m.as_str(),
                &project.resolver().creating_call(*site, ctor)?.value,
            ),
            _ => return None,
        },
        _ => return None,
    };
    let (var, default) = env_default_str(project, inner)?;
    let default = match method {
        "lower" | "casefold" => default.to_lowercase(),
        "upper" => default.to_uppercase(),
        "strip" => default.trim().to_string(),
        _ => return None,
    };
    Some((var, default))
}
