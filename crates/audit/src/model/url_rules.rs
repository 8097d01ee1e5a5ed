//! Routes and error handlers registered by call rather than by decorator:
//! `app.add_url_rule(rule, endpoint, view_func, methods=...)` (plain functions and
//! `MethodView.as_view(...)` classes, whose methods come from the class) and
//! `app.register_error_handler(code, handler)`.

use super::{index::Target, Blueprint, BlueprintKind, ErrorHandler, Parent, Project, Route};
use crate::{python::value::Value, source::Span};

/// HTTP methods a class-based view answers, by method name.
const VIEW_METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

pub(super) fn find(
    project: &Project,
    bps: &[Blueprint],
    auth_words: &[&str],
    routes: &mut Vec<Route>,
    handlers: &mut Vec<ErrorHandler>,
) {
    let resolver = project.resolver();
    for (file, _, call) in project.calls_named(&["add_url_rule", "register_error_handler"]) {
        let c = call.call();
        let Some(recv) = c.receiver() else { continue };
        let r = resolver.resolve(file, &recv);
        let Target::Object(site) = r.target else {
            continue;
        };
        if !r.attrs.is_empty() {
            continue;
        }
        let owner = match project.app_at(site) {
            Some(app) => Parent::App(app),
            None => match bps.iter().find(|b| b.site == site) {
                Some(b) => Parent::Blueprint(b.id),
                None => continue,
            },
        };
        let (app, blueprint) = match owner {
            Parent::App(a) => (Some(a), None),
            Parent::Blueprint(b) => (None, Some(b)),
        };
        let span = Span::new(file, call.range());
        let method = c.last_name().unwrap_or_default();
        if method == "register_error_handler" {
            let (Some(key), Some(handler)) = (c.param(0, "code_or_exception"), c.param(1, "f"))
            else {
                continue;
            };
            let function = resolver
                .resolve(file, handler)
                .external_name()
                .unwrap_or_else(|| handler.render());
            handlers.push(ErrorHandler {
                app,
                blueprint,
                key: key.clone(),
                function,
                file,
                span,
                app_wide: app.is_some(),
            });
            continue;
        }
        let Some(rule) = c.param(0, "rule").and_then(Value::as_str) else {
            continue;
        };
        let mut view = c.param(2, "view_func");
        // `limiter.limit("5/minute")(login)`: the view is the wrapped function
        // (`model::limits` reads the wrappers).
        while let Some(inner) = view
            .and_then(Value::as_call)
            .filter(|w| w.func.as_call().is_some())
            .and_then(|w| w.arg(0))
        {
            view = Some(inner);
        }
        let mut endpoint = c
            .param(1, "endpoint")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut methods: Option<Vec<String>> =
            c.kwarg("methods").and_then(Value::as_seq).map(|m| {
                m.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_uppercase)
                    .collect()
            });
        let mut def_span = span;
        let mut function = String::new();
        let mut auth = Vec::new();
        if let Some(view) = view {
            // `SomeView.as_view("name")`: the class's methods; a function: its decorators.
            let as_view = view.as_call().filter(|v| v.last_name() == Some("as_view"));
            match as_view {
                Some(av) => {
                    endpoint = endpoint.or_else(|| {
                        av.param(0, "name")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    });
                    let Some(class_ref) = av.receiver() else {
                        continue;
                    };
                    if let Target::Class(q) = resolver.resolve(file, &class_ref).target {
                        if let Some((cfile, class)) = resolver.class(&q) {
                            def_span = Span::new(cfile, class.name_range);
                            function = q.clone();
                            let class_methods: Vec<String> = resolver
                                .facts(cfile)
                                .into_iter()
                                .flat_map(|f| f.functions.iter())
                                .filter(|f| {
                                    f.method_of.as_deref() == Some(q.as_str())
                                        && VIEW_METHODS.contains(&f.name.as_str())
                                })
                                .map(|f| f.name.to_ascii_uppercase())
                                .collect();
                            if methods.is_none() && !class_methods.is_empty() {
                                methods = Some(class_methods);
                            }
                        }
                    }
                }
                None => {
                    let target = resolver.resolve(file, view).target;
                    // A handler class given as the view, which a project's own
                    // blueprint subclass turns into a view function.
                    if let Target::Class(q) = &target {
                        if let Some((cfile, class)) = resolver.class(q) {
                            def_span = Span::new(cfile, class.name_range);
                            endpoint = endpoint.or_else(|| Some(class.name.to_string()));
                            function = q.clone();
                        }
                    }
                    if let Target::Function(q) = target {
                        if let Some((ffile, f)) = resolver.function(&q) {
                            def_span = Span::new(ffile, f.name_range);
                            endpoint = endpoint.or_else(|| Some(f.name.to_string()));
                            for d in &f.decorators {
                                auth.extend(super::routes::auth_decorator(
                                    &resolver, ffile, d, auth_words,
                                ));
                            }
                        }
                        function = q;
                    }
                }
            }
        }
        let endpoint_name =
            endpoint.unwrap_or_else(|| function.rsplit('.').next().unwrap_or_default().to_string());
        let endpoint = match blueprint {
            Some(b) if bps[b].kind == BlueprintKind::Blueprint && !bps[b].name.is_empty() => {
                format!("{}.{endpoint_name}", bps[b].name)
            }
            _ => endpoint_name,
        };
        routes.push(Route {
            app,
            blueprint,
            methods: methods.unwrap_or_else(|| vec!["GET".to_string()]),
            rule: rule.to_string(),
            path: None,
            endpoint,
            function,
            class: None,
            file,
            def_span,
            span,
            decorators: Vec::new(),
            limits: Vec::new(),
            limit_exempt: false,
            csrf_exempt: None,
            auth,
            unregistered: false,
        });
    }
}
