//! Views an extension registers on the app by itself, which the project never
//! writes: Flask-Security(-Too)'s login, logout, registration, password reset
//! and change, and e-mail confirmation (`Security(app, datastore)`), and
//! Flask-AppBuilder's login, logout and registration (`AppBuilder(app,
//! session)`). They are listed at the extension's call, marked as its own, with
//! the paths the configuration gives them; a view whose path or presence
//! depends on what cannot be read is not listed.

use super::{extensions::ExtKind, index::Target, AppConfig, Extension, Project, Provider, Route};
use crate::{
    python::value::{Kind, Value},
    source::Span,
};

/// What one view of an extension is: methods, path (after the prefix),
/// endpoint, the dotted name of its view and the authentication it requires.
struct LibView {
    methods: &'static [&'static str],
    path: String,
    endpoint: &'static str,
    function: &'static str,
    auth: Option<&'static str>,
    /// A limit the extension applies itself.
    limit: Option<(Value, Span)>,
}

/// The dotted name of the class an extension was made from
/// (`flask_security.Security`).
fn ctor_name(project: &Project, ext: &Extension) -> Option<String> {
    let resolver = project.resolver();
    let call = resolver.call(ext.site)?;
    let r = resolver.resolve(ext.site.file, &call.call().func);
    match r.target {
        Target::External(_) => r.external_name(),
        _ => None,
    }
}

pub(super) fn find(project: &Project, routes: &mut Vec<Route>) {
    for ext in project
        .extensions
        .iter()
        .filter(|e| e.kind == ExtKind::LoginManager)
    {
        let Some(app) = ext.app.and_then(|a| project.apps.get(a)) else {
            continue;
        };
        let Some(ctor) = ctor_name(project, ext) else {
            continue;
        };
        let (provider, views, blueprint) = if ctor.starts_with("flask_security.") {
            let Some((views, bp)) = flask_security(ext, &app.config) else {
                continue;
            };
            (Provider::FlaskSecurity, views, Some(bp))
        } else if ctor.starts_with("flask_appbuilder.") {
            let Some(views) = appbuilder(&app.config) else {
                continue;
            };
            (Provider::AppBuilder, views, None)
        } else {
            continue;
        };
        let span = ext.span;
        for v in views {
            routes.push(Route {
                app: Some(app.id),
                blueprint: None,
                methods: v.methods.iter().map(|m| m.to_string()).collect(),
                rule: v.path,
                path: None,
                endpoint: match &blueprint {
                    Some(bp) => format!("{bp}.{}", v.endpoint),
                    None => v.endpoint.to_string(),
                },
                function: v.function.to_string(),
                class: None,
                file: span.file,
                def_span: span,
                span: ext.init.unwrap_or(span),
                decorators: Vec::new(),
                limits: v.limit.into_iter().collect(),
                limit_exempt: false,
                csrf_exempt: None,
                auth: v.auth.map(str::to_string).into_iter().collect(),
                unregistered: false,
                provided_by: Some(provider),
            });
        }
    }
}

/// A setting of Flask-Security: a keyword of `Security(...)` /
/// `init_app(...)` named after it in lower case without the prefix
/// (`url_prefix="/auth"`, which wins), else the app's `SECURITY_*` key.
/// `Ok(None)`: not set; `Err(())`: set to what cannot be read.
fn security_setting<'a>(
    ext: &'a Extension,
    config: &'a AppConfig,
    key: &str,
) -> Result<Option<&'a Value>, ()> {
    let short = key.trim_start_matches("SECURITY_").to_ascii_lowercase();
    if let Some(o) = ext.opt(&short) {
        return Ok(Some(&o.value));
    }
    if ext.opaque {
        return Err(());
    }
    match config.get(key) {
        Some(e) => Ok(Some(&e.value)),
        None if config.incomplete => Err(()),
        None => Ok(None),
    }
}

/// The views Flask-Security registers (the ones every release from
/// Flask-Security 3 to Flask-Security-Too 5 has, with the methods they all
/// accept), and its blueprint's name. None when the blueprint is not
/// registered or its prefix cannot be read.
fn flask_security(ext: &Extension, config: &AppConfig) -> Option<(Vec<LibView>, String)> {
    if ext
        .opt("register_blueprint")
        .is_some_and(|o| o.value.truthy() != Some(true))
    {
        return None;
    }
    let text = |key: &str, default: &str| -> Option<String> {
        match security_setting(ext, config, key) {
            Ok(Some(v)) => v.as_str().map(str::to_string),
            Ok(None) => Some(default.to_string()),
            // Maybe set where it cannot be read: the path is not known.
            Err(()) => None,
        }
    };
    let on = |key: &str| matches!(security_setting(ext, config, key), Ok(Some(v)) if v.truthy() == Some(true));
    let prefix = match security_setting(ext, config, "SECURITY_URL_PREFIX") {
        Ok(None) => String::new(),
        Ok(Some(v)) if matches!(v.kind, crate::python::value::Kind::None) => String::new(),
        Ok(Some(v)) => v.as_str()?.to_string(),
        Err(()) => return None,
    };
    let blueprint = match security_setting(ext, config, "SECURITY_BLUEPRINT_NAME") {
        Ok(Some(v)) => v.as_str()?.to_string(),
        Ok(None) => "security".to_string(),
        Err(()) => return None,
    };
    let at = |url: &str| super::blueprints::join_paths(&prefix, url);
    // `reset` + `/<token>`, `reset/` + `<token>/`.
    let token = |url: &str| {
        if url.ends_with('/') {
            format!("{url}<token>/")
        } else {
            format!("{url}/<token>")
        }
    };
    const FORM: &[&str] = &["GET", "POST"];
    let mut views = Vec::new();
    if let Some(url) = text("SECURITY_LOGIN_URL", "/login") {
        views.push(LibView {
            methods: FORM,
            path: at(&url),
            endpoint: "login",
            function: "flask_security.views.login",
            auth: None,
            limit: None,
        });
    }
    if let Some(url) = text("SECURITY_LOGOUT_URL", "/logout") {
        views.push(LibView {
            methods: &["GET"],
            path: at(&url),
            endpoint: "logout",
            function: "flask_security.views.logout",
            auth: None,
            limit: None,
        });
    }
    if on("SECURITY_REGISTERABLE") {
        if let Some(url) = text("SECURITY_REGISTER_URL", "/register") {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "register",
                function: "flask_security.views.register",
                auth: None,
                limit: None,
            });
        }
    }
    if on("SECURITY_RECOVERABLE") {
        if let Some(url) = text("SECURITY_RESET_URL", "/reset") {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "forgot_password",
                function: "flask_security.views.forgot_password",
                auth: None,
                limit: None,
            });
            views.push(LibView {
                methods: FORM,
                path: at(&token(&url)),
                endpoint: "reset_password",
                function: "flask_security.views.reset_password",
                auth: None,
                limit: None,
            });
        }
    }
    if on("SECURITY_CHANGEABLE") {
        if let Some(url) = text("SECURITY_CHANGE_URL", "/change") {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "change_password",
                function: "flask_security.views.change_password",
                // `@login_required` (Flask-Security), `@auth_required(...)`
                // (Flask-Security-Too).
                auth: Some("flask_security.login_required"),
                limit: None,
            });
        }
    }
    if on("SECURITY_CONFIRMABLE") {
        if let Some(url) = text("SECURITY_CONFIRM_URL", "/confirm") {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "send_confirmation",
                function: "flask_security.views.send_confirmation",
                auth: None,
                limit: None,
            });
            views.push(LibView {
                methods: &["GET"],
                path: at(&token(&url)),
                endpoint: "confirm_email",
                function: "flask_security.views.confirm_email",
                auth: None,
                limit: None,
            });
        }
    }
    // Flask-Security-Too only (its flags do not exist before): two-factor
    // codes, one-time sign-in codes and username recovery. The two-factor
    // setup and rescue views serve only a signed-in user or one who has
    // just given the password (the login put the state in the session).
    if on("SECURITY_TWO_FACTOR") {
        let setup = text("SECURITY_TWO_FACTOR_SETUP_URL", "/tf-setup");
        let validate = text("SECURITY_TWO_FACTOR_TOKEN_VALIDATION_URL", "/tf-validate");
        let rescue = text("SECURITY_TWO_FACTOR_RESCUE_URL", "/tf-rescue");
        if let Some(url) = setup {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "two_factor_setup",
                function: "flask_security.views.two_factor_setup",
                auth: Some("flask_security (signed in, or mid-login)"),
                limit: None,
            });
            views.push(LibView {
                methods: &["POST"],
                path: at(&token(&url)),
                endpoint: "two_factor_setup_validate",
                function: "flask_security.views.two_factor_setup_validate",
                auth: Some("flask_security (signed in, or mid-login)"),
                limit: None,
            });
        }
        if let Some(url) = validate {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "two_factor_token_validation",
                function: "flask_security.views.two_factor_token_validation",
                auth: None,
                limit: None,
            });
        }
        if let Some(url) = rescue {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "two_factor_rescue",
                function: "flask_security.views.two_factor_rescue",
                auth: Some("flask_security (signed in, or mid-login)"),
                limit: None,
            });
        }
    }
    if on("SECURITY_UNIFIED_SIGNIN") {
        if let Some(url) = text("SECURITY_US_SIGNIN_URL", "/us-signin") {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "us_signin",
                function: "flask_security.views.us_signin",
                auth: None,
                limit: None,
            });
        }
        if let Some(url) = text("SECURITY_US_SIGNIN_SEND_CODE_URL", "/us-signin/send-code") {
            views.push(LibView {
                methods: &["POST"],
                path: at(&url),
                endpoint: "us_signin_send_code",
                function: "flask_security.views.us_signin_send_code",
                auth: None,
                limit: None,
            });
        }
        if let Some(url) = text("SECURITY_US_SETUP_URL", "/us-setup") {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "us_setup",
                function: "flask_security.views.us_setup",
                auth: Some("flask_security.auth_required"),
                limit: None,
            });
        }
    }
    if on("SECURITY_USERNAME_RECOVERY") {
        if let Some(url) = text("SECURITY_USERNAME_RECOVERY_URL", "/recover-username") {
            views.push(LibView {
                methods: FORM,
                path: at(&url),
                endpoint: "recover_username",
                function: "flask_security.views.recover_username",
                auth: None,
                limit: None,
            });
        }
    }
    Some((views, blueprint))
}

/// The views Flask-AppBuilder's security manager registers for the database
/// and LDAP authentication types (`AUTH_TYPE` unset is the database): the
/// login form, logout and, with `AUTH_USER_REGISTRATION = True` and database
/// logins, the registration form. Other types (OAuth, OpenID, remote user)
/// log in elsewhere and are not listed.
fn appbuilder(config: &AppConfig) -> Option<Vec<LibView>> {
    // flask_appbuilder.const: AUTH_OID = 0, AUTH_DB = 1, AUTH_LDAP = 2.
    let auth_type = match config.get("AUTH_TYPE") {
        None if config.incomplete => return None,
        None => 1,
        Some(e) => match e.value.as_int() {
            Some(t) => t,
            None => match e.value.qualified().as_deref() {
                Some(
                    "flask_appbuilder.const.AUTH_DB" | "flask_appbuilder.security.manager.AUTH_DB",
                ) => 1,
                Some(
                    "flask_appbuilder.const.AUTH_LDAP"
                    | "flask_appbuilder.security.manager.AUTH_LDAP",
                ) => 2,
                _ => return None,
            },
        },
    };
    let login_fn = match auth_type {
        1 => "flask_appbuilder.security.views.AuthDBView.login",
        2 => "flask_appbuilder.security.views.AuthLDAPView.login",
        _ => return None,
    };
    // `AUTH_RATE_LIMITED = True`: the security manager limits its login
    // view's POSTs itself, by `AUTH_RATE_LIMIT` (default `10 per 20 second`).
    let limit = config
        .get("AUTH_RATE_LIMITED")
        .filter(|e| e.value.truthy() == Some(true))
        .map(|flag| match config.get("AUTH_RATE_LIMIT") {
            Some(rate) => (rate.value.clone(), rate.span),
            None => (
                Value::new(flag.value.range, Kind::Str("10 per 20 second".into())),
                flag.span,
            ),
        });
    let mut views = vec![
        LibView {
            limit,
            methods: &["GET", "POST"],
            path: "/login/".into(),
            endpoint: if auth_type == 1 {
                "AuthDBView.login"
            } else {
                "AuthLDAPView.login"
            },
            function: login_fn,
            auth: None,
        },
        LibView {
            methods: &["GET"],
            path: "/logout/".into(),
            endpoint: if auth_type == 1 {
                "AuthDBView.logout"
            } else {
                "AuthLDAPView.logout"
            },
            function: "flask_appbuilder.security.views.AuthView.logout",
            auth: None,
            limit: None,
        },
    ];
    if auth_type == 1 && config.flag("AUTH_USER_REGISTRATION") == Some(true) {
        views.push(LibView {
            methods: &["GET", "POST"],
            path: "/register/form".into(),
            endpoint: "RegisterUserDBView.this_form_post",
            function: "flask_appbuilder.security.registerviews.RegisterUserDBView.register",
            auth: None,
            limit: None,
        });
    }
    Some(views)
}
