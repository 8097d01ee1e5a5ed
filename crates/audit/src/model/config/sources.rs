//! Where configuration values come from: classes (with their bases), modules,
//! `from_pyfile` files, `FLASK_*` variables for `from_prefixed_env`, and what
//! extensions write at init.

use super::{AppConfig, ConfigEntry, ConfigVia};
use crate::{
    model::{extensions::ExtKind, index::Target, pydantic_settings, AppId, Project},
    python::{
        pydantic,
        value::{Kind, Root, Value},
    },
    source::{FileId, Span},
};

/// Where an app's config files are looked up: beside its module, or in its
/// instance folder under `instance_relative_config=True`.
pub(super) struct ConfigRoot {
    pub app_file: FileId,
    pub instance_relative: bool,
}

/// `from_pyfile(name)`: a project Python file of that name, preferring one in
/// the app's own directory (Flask resolves it against `app.root_path`). A path
/// the project cannot hold as written (`/srv/app/settings/prod.cfg`, where the
/// container puts the checkout) matches the project file with the longest common
/// tail (`settings/prod.cfg`, else any `prod.cfg`). No such file leaves the
/// config open (the deployment supplies it), unless the call is `silent=True`:
/// Flask then loads nothing, which is what the checkout shows (the instance
/// folder such files live in is usually not committed). Returns whether the
/// file was read: when not, whatever the deployment puts there may replace
/// the entries before.
pub(super) fn load_pyfile(
    project: &Project,
    root: &ConfigRoot,
    name: &str,
    silent: bool,
    cfg: &mut AppConfig,
) -> bool {
    let app_file = root.app_file;
    let absolute = name.starts_with('/');
    let name = name.trim_start_matches("./");
    let app_dir = project
        .source(app_file)
        .and_then(|f| f.rel.rsplit_once('/').map(|(d, _)| d.to_string()))
        .unwrap_or_default();
    let by_tail = |tail: &str| {
        let suffix = format!("/{tail}");
        project
            .files
            .iter()
            .find(|f| f.source.rel == tail || f.source.rel.ends_with(&suffix))
    };
    let found = if root.instance_relative && !absolute {
        // `Flask(..., instance_relative_config=True)`: a relative name is in the
        // instance folder (`instance/` beside the app's package), never the
        // package's own module of that name (`flaskr/config.py`).
        let parent = app_dir.rsplit_once('/').map_or("", |(p, _)| p);
        let join = |dir: &str| {
            if dir.is_empty() {
                format!("instance/{name}")
            } else {
                format!("{dir}/instance/{name}")
            }
        };
        let (beside, inside) = (join(parent), join(&app_dir));
        project
            .files
            .iter()
            .find(|f| f.source.rel == beside || f.source.rel == inside)
            .or_else(|| by_tail(&format!("instance/{name}")))
    } else {
        let wanted = if app_dir.is_empty() {
            name.to_string()
        } else {
            format!("{app_dir}/{name}")
        };
        let mut found = project.files.iter().find(|f| f.source.rel == wanted);
        let mut tail = name.trim_start_matches('/');
        while found.is_none() && !tail.is_empty() {
            found = by_tail(tail);
            tail = tail.split_once('/').map_or("", |(_, rest)| rest);
        }
        found
    };
    let Some(found) = found else {
        cfg.incomplete |= !silent;
        return false;
    };
    let file = found.source.id;
    let Some(facts) = project.py.get(file as usize).and_then(Option::as_ref) else {
        cfg.incomplete = true;
        return false;
    };
    let rel = found.source.rel.clone();
    for g in &facts.globals {
        if is_config_key(&g.name) {
            let span = Span::new(file, g.range);
            push(
                cfg,
                &g.name,
                &g.value,
                file,
                span,
                ConfigVia::Module(rel.clone()),
            );
        }
    }
    true
}

/// `from_envvar(var)`: Flask loads the file the variable names, like
/// `from_pyfile`. The value comes from the deploy files that may reach
/// production (a Dockerfile `ENV`, a compose `environment:`, a production or
/// plain `.env`); with no such value, or several different ones, the config
/// stays incomplete. With `silent=True`, a path that names no project file
/// loads nothing. Returns whether a file was read.
pub(super) fn load_envvar_file(
    project: &Project,
    root: &ConfigRoot,
    var: &str,
    silent: bool,
    cfg: &mut AppConfig,
) -> bool {
    let mut values: Vec<&str> = project
        .deploy
        .env
        .iter()
        .filter(|e| e.name == var && e.source.may_be_production())
        .map(|e| e.value.trim())
        .filter(|v| !v.is_empty())
        .collect();
    values.sort_unstable();
    values.dedup();
    match values.as_slice() {
        [path] => load_pyfile(project, root, path, silent, cfg),
        _ => {
            cfg.incomplete = true;
            false
        }
    }
}

/// `from_prefixed_env()`: `FLASK_KEY=value` variables that deploy files set for
/// production, converted like Flask does (`json.loads`, else the string). The
/// process environment may hold more, so the config stays incomplete.
pub(super) fn load_prefixed_env(project: &Project, prefix: &str, cfg: &mut AppConfig) {
    cfg.incomplete = true;
    let head = format!("{prefix}_");
    for e in project
        .deploy
        .env
        .iter()
        .filter(|e| e.source.may_be_production())
    {
        let Some(key) = e.name.strip_prefix(&head) else {
            continue;
        };
        if key.is_empty() || key.contains("__") {
            continue;
        }
        let kind = match serde_json::from_str::<serde_json::Value>(&e.value) {
            Ok(serde_json::Value::Bool(b)) => Kind::Bool(b),
            Ok(serde_json::Value::Number(n)) => match n.as_i64() {
                Some(i) => Kind::Int(i),
                None => Kind::Str(e.value.as_str().into()),
            },
            Ok(serde_json::Value::Null) => Kind::None,
            Ok(serde_json::Value::String(s)) => Kind::Str(s.into()),
            _ => Kind::Str(e.value.as_str().into()),
        };
        let value = Value::new(e.span.range(), kind);
        push(
            cfg,
            key,
            &value,
            e.span.file,
            e.span,
            ConfigVia::Environment,
        );
    }
}

pub(super) fn push(
    cfg: &mut AppConfig,
    key: &str,
    v: &Value,
    file: FileId,
    span: Span,
    via: ConfigVia,
) {
    cfg.entries.push(ConfigEntry {
        key: key.to_string(),
        value: v.clone(),
        file,
        span,
        via,
        overridable: None,
    });
}

/// Loads what `from_object` names: a class (bases first), or a module's
/// upper-case names.
pub(super) fn load_object(project: &Project, target: &Target, cfg: &mut AppConfig) {
    match target {
        Target::Class(q) => load_class(project, q, cfg, 0),
        Target::Module(m) => {
            let Some(file) = project.index.module_file(m) else {
                return;
            };
            let Some(facts) = project.py.get(file as usize).and_then(Option::as_ref) else {
                return;
            };
            for g in &facts.globals {
                if is_config_key(&g.name) {
                    push(
                        cfg,
                        &g.name,
                        &g.value,
                        file,
                        Span::new(file, g.range),
                        ConfigVia::Module(m.clone()),
                    );
                }
            }
        }
        _ => cfg.incomplete = true,
    }
}

fn load_class(project: &Project, q: &str, cfg: &mut AppConfig, depth: usize) {
    if depth > 16 {
        return;
    }
    let resolver = project.resolver();
    let Some((file, class)) = resolver.class(q) else {
        cfg.incomplete = true;
        return;
    };
    for base in &class.bases {
        match resolver.resolve(file, base).target {
            Target::Class(b) if b != q => load_class(project, &b, cfg, depth + 1),
            Target::External(e) if e == "object" => {}
            _ => cfg.incomplete = true,
        }
    }
    for a in &class.attrs {
        if is_config_key(&a.name) {
            push(
                cfg,
                &a.name,
                &a.value,
                file,
                Span::new(file, a.range),
                ConfigVia::Class(q.to_string()),
            );
        }
    }
}

/// `from_object(instance)`: what the `__init__` of the instance's class (and of
/// its bases) sets on `self` under an upper-case name, after the class
/// attributes `load_object` read.
pub(super) fn load_instance_attrs(project: &Project, q: &str, cfg: &mut AppConfig, depth: usize) {
    if depth > 16 {
        return;
    }
    let resolver = project.resolver();
    let Some((file, class)) = resolver.class(q) else {
        return;
    };
    for base in &class.bases {
        if let Target::Class(b) = resolver.resolve(file, base).target {
            if b != q {
                load_instance_attrs(project, &b, cfg, depth + 1);
            }
        }
    }
    let init = format!("{q}.__init__");
    let Some((ifile, _)) = resolver.function(&init) else {
        return;
    };
    let Some(facts) = resolver.facts(ifile) else {
        return;
    };
    for a in &facts.assigns {
        let Some(r) = a.target.reference() else {
            continue;
        };
        let on_self =
            matches!(&r.root, Root::Param { func, index: 0, .. } if func.as_str() == init);
        if let (true, [attr]) = (on_self, r.attrs.as_slice()) {
            if is_config_key(attr) {
                push(
                    cfg,
                    attr,
                    &a.value,
                    ifile,
                    Span::new(ifile, a.range),
                    ConfigVia::Class(q.to_string()),
                );
            }
        }
    }
}

/// The fields of an instance of a pydantic settings class as config entries
/// under their names: every field for `config.update(settings.dict())`, the
/// upper-case ones for `from_object(settings)` and
/// `from_mapping(settings.model_dump())` (`upper_only`), as Flask keeps them.
/// Each value is the field's default ([`pydantic::default_value`]), used
/// when the environment does not set the field's variable; a field declared
/// without a default is unknown (required, from the environment). Methods and
/// properties with such names (`@computed_field`, `@property def
/// SQLALCHEMY_DATABASE_URI`) hold values the source does not show: the config
/// is then incomplete.
pub(super) fn load_settings(project: &Project, q: &str, upper_only: bool, cfg: &mut AppConfig) {
    let kept = |name: &str| {
        if upper_only {
            is_config_key(name)
        } else {
            !name.starts_with('_')
        }
    };
    if pydantic_settings::has_method(project, q, |n| kept(n) && !n.starts_with("__")) {
        cfg.incomplete = true;
    }
    // `extra="allow"`: names an env file sets become attributes too.
    let extra = project
        .resolver()
        .class(q)
        .and_then(|(f, c)| pydantic_settings::settings_option(project, f, c, "extra"));
    if extra.is_some_and(|v| !matches!(v.as_str(), Some("ignore" | "forbid"))) {
        cfg.incomplete = true;
    }
    for field in pydantic_settings::fields(project, q) {
        let name = field.attr.name.as_str();
        if !kept(name) {
            continue;
        }
        let value = if field.declared_only {
            field.attr.value.clone()
        } else {
            pydantic::default_value(&field.attr.value)
        };
        let env = pydantic_settings::field_variables(project, field.file, field.class, field.attr);
        push(
            cfg,
            name,
            &value,
            field.file,
            Span::new(field.file, field.attr.range),
            ConfigVia::Settings {
                class: q.to_string(),
                env,
            },
        );
    }
}

/// Flask only loads upper-case names from objects and modules.
pub fn is_config_key(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// What extensions write into the config when they are initialised, as the
/// installed versions do: Talisman 1.x sets `SESSION_COOKIE_HTTPONLY = True` at
/// init unless told not to, always writes `SESSION_COOKIE_SAMESITE`, and sets
/// `SESSION_COOKIE_SECURE` per request while `app.debug` is off.
pub(super) fn apply_extensions(project: &Project, app: AppId, cfg: &mut AppConfig) {
    for ext in project.extensions_of(app, ExtKind::Talisman) {
        let span = ext.init.unwrap_or(ext.span);
        let file = span.file;
        let literal = |b: bool| Value::new(span.range(), Kind::Bool(b));
        // `if session_cookie_http_only: app.config['SESSION_COOKIE_HTTPONLY'] = True`
        if ext.bool_opt("session_cookie_http_only") == Some(true) {
            push(
                cfg,
                "SESSION_COOKIE_HTTPONLY",
                &literal(true),
                file,
                span,
                ConfigVia::Extension(ExtKind::Talisman),
            );
        }
        // `app.config['SESSION_COOKIE_SAMESITE'] = session_cookie_samesite`, always.
        let samesite = ext
            .opt("session_cookie_samesite")
            .map(|o| o.value.clone())
            .unwrap_or_else(|| Value::new(span.range(), Kind::Str("Lax".into())));
        push(
            cfg,
            "SESSION_COOKIE_SAMESITE",
            &samesite,
            file,
            span,
            ConfigVia::Extension(ExtKind::Talisman),
        );
        if cfg.flag("DEBUG") == Some(false) && ext.bool_opt("session_cookie_secure") == Some(true) {
            push(
                cfg,
                "SESSION_COOKIE_SECURE",
                &literal(true),
                file,
                span,
                ConfigVia::Extension(ExtKind::Talisman),
            );
        }
    }
}
