//! Which routes are authentication endpoints, and which routes have a limit of
//! their own: `@limiter.limit` and friends (in the model), a `before_request`
//! hook that calls the limiter, or an nginx `location` with `limit_req`.

use std::collections::HashSet;

use crate::{
    model::{index::Target, ExtKind, Project, Route},
    python::value::Site,
    source::Span,
};

/// Path segments (lower case, without `-`, `_`, `.`) of authentication
/// endpoints, as the last static segment of the path (`/auth/login`,
/// `/users/register`) or before a sign-in step (`/signup/verify`).
const AUTH_SEGMENTS: &[&str] = &[
    "login",
    "signin",
    "logon",
    "register",
    "registration",
    "signup",
    "forgot",
    "forgotpassword",
    "forgetpassword",
    "lostpassword",
    "recoverpassword",
    "resetpassword",
    "passwordreset",
    "passwordrecovery",
    "passwordreminder",
    "authenticate",
];

/// Words that, next to `password`, name recovering it: `/password/reset`,
/// `forget_password` (a frequent spelling), `remind_password`, `/lost-password`.
const RECOVERY_WORDS: &[&str] = &[
    "reset", "forgot", "forget", "recover", "recovery", "remind", "reminder", "lost",
];

/// Auth segments and view-name words that create an account.
const REGISTRATION_WORDS: &[&str] = &["register", "registration", "signup"];

/// Whether a route requires a signed-in user: some authentication of the
/// route (a decorator, dependency or guard, see `model::auth`) that is not
/// optional (`@jwt_required(optional=True)`, `current_user(optional=True)`,
/// `login_required(optional=True)` of Flask-HTTPAuth let anonymous callers in).
fn requires_user(route: &Route) -> bool {
    route.auth.iter().any(|a| {
        if a.contains("optional") {
            return false;
        }
        let optional = route.decorators.iter().any(|d| {
            &d.name == a
                && d.value
                    .as_call()
                    .and_then(|c| c.kwarg("optional"))
                    .is_some_and(|v| v.as_bool() == Some(true))
        });
        !optional
    })
}

/// Words of guards that only let administrators in: a dependency or
/// decorator named for them (`get_current_active_superuser`,
/// `admin_required`, `staff_member_required`), or a role or permission
/// check whose argument names them (`roles_required("admin")`,
/// `permission_required(Permission.ADMIN)`).
const ADMIN_WORDS: &[&str] = &["admin", "superuser", "staff"];

/// Whether a route requires an administrator (see [`ADMIN_WORDS`]), not
/// just any signed-in user.
pub(super) fn requires_admin(route: &Route) -> bool {
    if !requires_user(route) {
        return false;
    }
    let names_admin = |s: &str| {
        let s = s.to_ascii_lowercase();
        ADMIN_WORDS.iter().any(|w| s.contains(w))
    };
    route.auth.iter().any(|a| {
        let last = a.rsplit('.').next().unwrap_or(a);
        !a.contains("optional") && names_admin(last)
    }) || route.decorators.iter().any(|d| {
        route.auth.contains(&d.name)
            && d.value.as_call().is_some_and(|c| {
                c.kwarg("optional").is_none()
                    && c.args
                        .iter()
                        .chain(c.kwargs.iter().map(|(_, v)| v))
                        .any(|v| {
                            v.as_str().is_some_and(names_admin)
                                || v.reference().is_some_and(|r| names_admin(r.last_name()))
                                || v.as_seq().is_some_and(|items| {
                                    items.iter().any(|i| i.as_str().is_some_and(names_admin))
                                })
                        })
            })
    })
}

/// Auth segments that sign a user in (not recovery or registration).
const SIGN_IN_SEGMENTS: &[&str] = &["login", "signin", "logon", "authenticate"];

/// `token` and `auth` are also prefixes and domain nouns (`/token/assign` of an
/// OTP server, `/auth/logout`): they name a credential endpoint only as the
/// last static segment (`/oauth/token`, `/api/tokens`, `POST /auth`) or
/// before `refresh`.
const TOKEN_SEGMENTS: &[&str] = &["token", "tokens", "auth"];

/// What may follow an auth word as the last segment and still be part of
/// signing in or up (`/signup/verify`, `/login/otp`, `/password/reset` is
/// matched on its own).
const AUTH_STEPS: &[&str] = &[
    "confirm",
    "verify",
    "verification",
    "complete",
    "submit",
    "code",
    "otp",
    "mfa",
    "2fa",
    "totp",
    "resend",
    "request",
    "start",
    "finish",
    "email",
    "challenge",
    "callback",
];

/// Verbs that make `token` in a view name a managed object (`attach_token`,
/// `assign_token`): the path's `/token` is then not a credential endpoint.
const TOKEN_OBJECT_VERBS: &[&str] = &[
    "attach", "add", "remove", "assign", "unassign", "delete", "list", "set", "enable", "disable",
    "update", "edit", "import", "export", "copy", "init", "enroll", "lost", "describe",
];

/// Last segments and view-name words of actions that end or undo something
/// (`/register/<id>/terminate`, `cancel_registration`): not guessable.
const ENDING_WORDS: &[&str] = &[
    "terminate",
    "cancel",
    "delete",
    "remove",
    "revoke",
    "logout",
    "unregister",
    "status",
    "info",
    // Records of sign-ins (`/login-logs`, `LoginHistoryView`): a list, not a
    // credential check.
    "logs",
    "history",
    "audit",
];

/// Words of view names (split at `_` and case changes) that name one.
const AUTH_WORDS: &[&str] = &[
    "login",
    "signin",
    "logon",
    "register",
    "registration",
    "signup",
    "forgot",
    "authenticate",
];

/// Verbs that make `token` in a view name a token endpoint (`get_token`,
/// `issue_token`, `access_token`), unlike `add_token` or `remove_token`.
const TOKEN_VERBS: &[&str] = &[
    "get", "issue", "obtain", "create", "new", "refresh", "request", "generate", "access", "auth",
];

/// Calls in a view that check a password, log a user in or issue a token.
const AUTH_CALLS: &[&str] = &[
    "check_password_hash",
    "verify_password",
    "checkpw",
    "check_password",
    "login_user",
    "create_access_token",
    "create_refresh_token",
];

pub(super) fn words(name: &str) -> Vec<String> {
    crate::rules::common::identifier_words(name)
}

/// Words that may follow `register` in a view name and keep it an account's
/// registration (`register_user`, `register_account`, `register_view`):
/// anything else is the thing registered (`register_skills`,
/// `bulk_register_device`), not a person signing up.
const REGISTERED_IDENTITIES: &[&str] = &[
    "user",
    "users",
    "account",
    "accounts",
    "member",
    "members",
    "me",
    "customer",
    "customers",
    "person",
    "new",
    "self",
    "view",
    "page",
    "form",
    "handler",
    "api",
    "endpoint",
    "route",
    "post",
    "get",
    "submit",
];

/// Whether view-name words register an account: a registration word that
/// registers nothing else (see [`REGISTERED_IDENTITIES`]).
fn words_register_account(w: &[String]) -> bool {
    w.iter().enumerate().any(|(i, x)| {
        REGISTRATION_WORDS.contains(&x.as_str())
            && (x != "register"
                || w.get(i + 1).is_none_or(|next| {
                    REGISTERED_IDENTITIES.contains(&next.as_str())
                        || AUTH_STEPS.contains(&next.as_str())
                }))
    })
}

fn words_say_auth(w: &[String]) -> bool {
    words_register_account(w)
        || w.windows(2).any(|p| p[0] == "sign" && p[1] == "up")
        || words_say_sign_in(w)
}

/// Whether view-name words name an authentication endpoint other than
/// registration: logging in, a token, a password reset.
fn words_say_sign_in(w: &[String]) -> bool {
    let has = |x: &str| w.iter().any(|y| y == x);
    let pair = |a: &str, b: &[&str]| {
        w.windows(2)
            .any(|p| p[0] == a && b.contains(&p[1].as_str()))
    };
    w.iter()
        .any(|x| AUTH_WORDS.contains(&x.as_str()) && !REGISTRATION_WORDS.contains(&x.as_str()))
        || w.windows(2).any(|p| {
            TOKEN_VERBS.contains(&p[0].as_str()) && matches!(p[1].as_str(), "token" | "tokens")
        })
        || pair("sign", &["in"])
        || pair("log", &["in", "on"])
        || (RECOVERY_WORDS.iter().any(|r| has(r)) && (has("password") || has("pass") || has("pwd")))
        || checks_second_factor(w)
}

/// Whether view-name words check a second-factor code
/// (`two_factor_token_validation`, `verify_totp`, `mfa_verify_code`): a
/// six-digit code falls to guessing without a limit.
fn checks_second_factor(w: &[String]) -> bool {
    let has = |x: &str| w.iter().any(|y| y == x);
    let factor = w.windows(2).any(|p| p[0] == "two" && p[1] == "factor")
        || ["mfa", "totp", "otp", "2fa", "tfa"].iter().any(|x| has(x));
    factor
        && ["validate", "validation", "verify", "verification", "check"]
            .iter()
            .any(|x| has(x))
}

/// Whether view-name words name signing in itself (`login`, `sign_in`,
/// `authenticate`, `get_token`), not a password reset or a registration.
fn words_say_login(w: &[String]) -> bool {
    w.iter()
        .any(|x| matches!(x.as_str(), "login" | "signin" | "logon" | "authenticate"))
        || w.windows(2).any(|p| {
            (TOKEN_VERBS.contains(&p[0].as_str()) && matches!(p[1].as_str(), "token" | "tokens"))
                || (p[0] == "sign" && p[1] == "in")
                || (p[0] == "log" && matches!(p[1].as_str(), "in" | "on"))
        })
}

/// Whether a route signs the caller out (`/logout`, `DELETE /session` of a
/// view named `logout`, `sign_out`): it only ends the caller's own session,
/// so it needs no budget of its own.
pub fn signs_out(route: &Route) -> bool {
    let path = route
        .display_path()
        .to_ascii_lowercase()
        .replace(['-', '_'], "");
    let w = words(route.view_name());
    path.split('/')
        .any(|s| matches!(s, "logout" | "signout" | "logoff"))
        || w.iter()
            .any(|x| matches!(x.as_str(), "logout" | "signout" | "logoff"))
        || w.windows(2)
            .any(|p| matches!(p[0].as_str(), "log" | "sign") && p[1] == "out")
}

/// Why a route is an authentication endpoint, if it is one: it takes a body
/// (POST, PUT, PATCH) and its path, its view's name, or what its view calls
/// says so.
pub fn auth_reason(project: &Project, route: &Route) -> Option<String> {
    if !route
        .methods
        .iter()
        .any(|m| matches!(m.as_str(), "POST" | "PUT" | "PATCH"))
    {
        return None;
    }
    let path = route.display_path();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.starts_with('<') && !s.starts_with('{'))
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let compact: Vec<String> = segments
        .iter()
        .map(|s| s.replace(['-', '_', '.'], ""))
        .collect();
    let password_pair = compact.windows(2).any(|p| {
        (p[0] == "password" && RECOVERY_WORDS.contains(&p[1].as_str()))
            || (RECOVERY_WORDS.contains(&p[0].as_str()) && p[1] == "password")
    });
    let static_segments: Vec<&String> = compact.iter().filter(|s| !s.is_empty()).collect();
    if static_segments
        .last()
        .is_some_and(|s| ENDING_WORDS.contains(&s.as_str()))
    {
        return None;
    }
    let name = route.view_name();
    let name_words = words(name);
    if name_words
        .iter()
        .any(|w| ENDING_WORDS.contains(&w.as_str()))
    {
        return None;
    }
    let token_object = name_words.windows(2).any(|p| {
        TOKEN_OBJECT_VERBS.contains(&p[0].as_str()) && matches!(p[1].as_str(), "token" | "tokens")
    });
    // `/tokens/<int:id>/`: one token the caller manages, not the endpoint
    // that issues them.
    let one_token = {
        let raw: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        matches!(raw.as_slice(), [.., t, p]
            if (p.starts_with('<') || p.starts_with('{'))
                && matches!(t.to_ascii_lowercase().as_str(), "token" | "tokens"))
    };
    let token = !token_object
        && !one_token
        && match static_segments.as_slice() {
            [.., last] if TOKEN_SEGMENTS.contains(&last.as_str()) => true,
            [.., t, r] => TOKEN_SEGMENTS.contains(&t.as_str()) && r.as_str() == "refresh",
            _ => false,
        };
    let auth_segment = match static_segments.as_slice() {
        [.., last] if AUTH_SEGMENTS.contains(&last.as_str()) => true,
        [.., word, step] => {
            AUTH_SEGMENTS.contains(&word.as_str()) && AUTH_STEPS.contains(&step.as_str())
        }
        _ => false,
    };
    // Creating an account behind authentication (`/admin/users/register`
    // with `@login_required` and a role check, a Flask-Admin view) is an
    // administrator's or member's form, not an anonymous credential endpoint.
    // Login, token and reset routes are anonymous by nature: they stay.
    let registration = !password_pair
        && !token
        && match static_segments.as_slice() {
            [.., last] if REGISTRATION_WORDS.contains(&last.as_str()) => true,
            [.., word, step] => {
                REGISTRATION_WORDS.contains(&word.as_str()) && AUTH_STEPS.contains(&step.as_str())
            }
            _ => false,
        };
    // A password reset or recovery (or a registration) behind an
    // administrator's guard (`Depends(get_current_active_superuser)`,
    // `@roles_required("admin")`) is an administrator's tool, not an
    // anonymous guessing target. Signing in stays: a guard on a login route
    // is one the login itself must be exempt from.
    let admin_only = requires_admin(route);
    if password_pair || token || auth_segment {
        if registration && requires_user(route) {
            return None;
        }
        let signs_in = token
            || static_segments.iter().any(|s| {
                SIGN_IN_SEGMENTS.contains(&s.as_str())
                    || (TOKEN_SEGMENTS.contains(&s.as_str()) && *s != "auth")
            });
        if admin_only && !signs_in && !words_say_login(&name_words) {
            return None;
        }
        return Some("by its path".to_string());
    }
    if words_say_auth(&name_words) {
        // Only registration words (`register_user`, `sign_up`).
        if !words_say_sign_in(&name_words) && requires_user(route) {
            return None;
        }
        if admin_only && !words_say_login(&name_words) {
            return None;
        }
        return Some(format!("by its view's name `{name}`"));
    }
    // What the view does, for routes anyone can call.
    if !route.auth.is_empty() {
        return None;
    }
    let resolver = project.resolver();
    let scopes: Vec<(crate::source::FileId, u32)> = match resolver.function(&route.function) {
        Some((file, f)) => vec![(file, f.scope)],
        None => match resolver.class(&route.function) {
            Some((file, _)) => resolver
                .facts(file)
                .into_iter()
                .flat_map(|f| f.functions.iter())
                .filter(|f| f.method_of.as_deref() == Some(route.function.as_str()))
                .map(|f| (file, f.scope))
                .collect(),
            None => Vec::new(),
        },
    };
    for (file, scope) in scopes {
        let Some(facts) = resolver.facts(file) else {
            continue;
        };
        let call = facts.calls.iter().find(|c| {
            c.scope == scope
                && c.call()
                    .last_name()
                    .is_some_and(|n| AUTH_CALLS.contains(&n))
        });
        if let Some(c) = call {
            let n = c.call().last_name().unwrap_or_default();
            return Some(format!("its view calls `{n}`"));
        }
    }
    None
}

/// Routes a `before_request` hook limits: the hook calls the limiter
/// (`limiter.check()`, `with limiter.limit(...)`).
#[derive(Debug, Default)]
pub struct HookLimits {
    apps: HashSet<usize>,
    blueprints: HashSet<usize>,
    everything: bool,
}

impl HookLimits {
    pub fn of(project: &Project) -> HookLimits {
        let mut out = HookLimits::default();
        let limiters: Vec<Site> = project
            .extensions
            .iter()
            .filter(|e| matches!(e.kind, ExtKind::Limiter | ExtKind::SlowApi))
            .map(|e| e.site)
            .collect();
        if limiters.is_empty() {
            return out;
        }
        let resolver = project.resolver();
        // Functions that call the limiter.
        let mut limiting: HashSet<String> = HashSet::new();
        for (file, facts, call) in project.calls_named(&["check", "limit", "shared_limit"]) {
            let r = resolver.resolve(file, &call.call().func);
            let Target::Object(site) = r.target else {
                continue;
            };
            if !limiters.contains(&site) || call.scope == 0 {
                continue;
            }
            if let Some(f) = facts.function_of(call.scope) {
                limiting.insert(f.qualified.to_string());
            }
        }
        if limiting.is_empty() {
            return out;
        }
        let register = |out: &mut HookLimits, site: Site, method: &str| {
            if method == "before_app_request" {
                out.everything = true;
            } else if let Some(app) = project.app_at(site) {
                out.apps.insert(app);
            } else if let Some(b) = project.blueprints.iter().find(|b| b.site == site) {
                out.blueprints.insert(b.id);
            }
        };
        // @app.before_request on a limiting function.
        for (file, facts) in project.python() {
            for f in facts
                .functions
                .iter()
                .filter(|f| limiting.contains(f.qualified.as_str()))
            {
                for d in &f.decorators {
                    let r = resolver.resolve(file, d);
                    if let (Target::Object(site), [m]) = (&r.target, r.attrs.as_slice()) {
                        if m == "before_request" || m == "before_app_request" {
                            register(&mut out, *site, m);
                        }
                    }
                }
            }
        }
        // app.before_request(limiting_function)
        for (file, _, call) in project.calls_named(&["before_request", "before_app_request"]) {
            let c = call.call();
            let Some(arg) = c.arg(0) else { continue };
            let Target::Function(q) = resolver.resolve(file, arg).target else {
                continue;
            };
            if !limiting.contains(&q) {
                continue;
            }
            let r = resolver.resolve(file, &c.func);
            if let (Target::Object(site), [m]) = (&r.target, r.attrs.as_slice()) {
                register(&mut out, *site, m);
            }
        }
        out
    }

    pub fn covers(&self, route: &Route) -> bool {
        self.everything
            || route.app.is_some_and(|a| self.apps.contains(&a))
            || route
                .blueprint
                .is_some_and(|b| self.blueprints.contains(&b))
    }
}

/// An nginx `location` with its own `limit_req` that matches the route's path.
pub fn proxy_limit(project: &Project, route: &Route) -> Option<Span> {
    let path = route.path.as_deref()?;
    for conf in &project.deploy.nginx {
        for (pattern, span) in &conf.limited_locations {
            let (modifier, target) = match pattern.split_once(char::is_whitespace) {
                Some((m, t)) if matches!(m, "=" | "^~" | "~" | "~*") => (m, t.trim()),
                _ => ("", pattern.as_str()),
            };
            let hit = match modifier {
                "=" => path == target,
                "~" | "~*" => {
                    let re = target.to_ascii_lowercase();
                    path.split('/')
                        .rfind(|s| s.len() >= 3 && !s.starts_with('<'))
                        .is_some_and(|last| re.contains(&last.to_ascii_lowercase()))
                }
                _ => target != "/" && path.starts_with(target),
            };
            if hit {
                return Some(*span);
            }
        }
    }
    None
}

/// The limiter's default limits, where they are given (for messages).
pub fn default_limits(project: &Project) -> Option<Span> {
    project
        .extensions
        .iter()
        .filter(|e| e.kind.limits_requests())
        .find_map(|e| e.opt("default_limits").map(|o| o.span))
        .or_else(|| {
            project
                .apps
                .iter()
                .find_map(|a| a.config.get("RATELIMIT_DEFAULT").map(|e| e.span))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_names() {
        let says = |n: &str| words_say_auth(&words(n));
        assert!(says("login"));
        assert!(says("api_login"));
        assert!(says("LoginView"));
        assert!(says("sign_in"));
        assert!(says("signUp"));
        assert!(says("login_for_access_token"));
        assert!(says("reset_password"));
        assert!(says("forgot_password_request"));
        assert!(says("forget_password"));
        assert!(says("remind_password"));
        assert!(says("ForgetPasswordView"));
        assert!(!says("remind_user"));
        assert!(!says("lost_items"));
        assert!(!says("logout"));
        assert!(!says("reset_counter"));
        assert!(!says("create_order"));
        assert!(!says("blogin"));
        assert!(says("get_token"));
        assert!(says("get_auth_token"));
        assert!(says("refresh_access_token"));
        assert!(!says("add_token"));
        assert!(!says("token"));
        let signs_in = |n: &str| words_say_sign_in(&words(n));
        assert!(!signs_in("register_user"));
        assert!(!signs_in("sign_up"));
        assert!(!signs_in("SignupView"));
        assert!(signs_in("login"));
        assert!(signs_in("sign_in"));
        assert!(signs_in("reset_password"));
        assert!(signs_in("get_token"));
    }
}
