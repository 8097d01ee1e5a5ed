//! Flask's class-based views, as Flask dispatches them:
//!
//! - a `MethodView` subclass answers each HTTP method with the method of that
//!   name (`get`, `post`, ..., also inherited from the project's base
//!   classes): each is its own view, one route per HTTP method;
//! - a `View` subclass answers every method it allows with
//!   `dispatch_request`: one route with those methods.
//!
//! The methods a route serves are the `methods=` of the registration, else the
//! class's `methods` attribute, else (a `MethodView`) the HTTP-method methods
//! it defines. A route's decorators are the class's `decorators` list (which
//! `as_view` applies to the view function; for a Flask-RESTful / RESTX
//! resource also its `method_decorators`) and the method's own decorators.
//!
//! Such a class is registered by `add_url_rule(..., view_func=Cls.as_view(...))`,
//! by flask-smorest's `@blp.route("/x")` on the class, or by giving the class
//! itself to a blueprint that turns it into a view (flask-smorest's
//! `blp.add_url_rule(..., view_func=Cls)`).

use super::{
    extensions::ExtKind,
    index::{Resolved, Target},
    routes::Decorator,
    AppId, BlueprintId, Project, Route,
};
use crate::{
    python::{
        facts::{ClassFact, FunctionFact},
        value::{Site, Value},
    },
    source::{FileId, Span},
};

/// Method names Flask's `MethodView` dispatches to (`http_method_funcs`).
pub(super) const HTTP_METHOD_FUNCS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

/// Base classes followed up from a view class at most.
const MAX_BASES: usize = 16;

/// Resource classes whose `dispatch_request` applies `method_decorators`.
const REST_RESOURCES: &[&str] = &[
    "flask_restful.Resource",
    "flask_restx.Resource",
    "flask_restplus.Resource",
];

/// What a class-based view is made of: the class and its project base
/// classes, nearest first.
pub(super) struct ClassView<'a> {
    /// `(file, class)` of the class and its project bases, in lookup order.
    chain: Vec<(FileId, &'a ClassFact)>,
    project: &'a Project,
}

/// Where and how a class-based view is registered.
pub(super) struct Registration<'r> {
    pub app: Option<AppId>,
    pub blueprint: Option<BlueprintId>,
    pub rule: &'r str,
    /// The endpoint, with the blueprint's name already in front.
    pub endpoint: &'r str,
    /// `methods=` of the registration, when it is a literal list.
    pub methods: Option<Vec<String>>,
    /// The registering call or decorator.
    pub span: Span,
    /// Registered on a Flask-RESTful / RESTX `Api`: the class is a resource,
    /// whose `method_decorators` apply too.
    pub resource: bool,
}

/// A project class and its project bases, depth first, left base first
/// (Python's lookup order for the single-inheritance chains views use), at most
/// [`MAX_BASES`]; `external` sees each base that is not a project class.
pub(super) fn class_chain<'a>(
    project: &'a Project,
    class: &str,
    mut external: impl FnMut(&Resolved),
) -> Vec<(FileId, &'a ClassFact)> {
    let resolver = project.resolver();
    let mut chain: Vec<(FileId, &'a ClassFact)> = Vec::new();
    let mut queue = vec![class.to_string()];
    while let Some(q) = queue.pop() {
        if chain.len() >= MAX_BASES || chain.iter().any(|(_, c)| c.qualified.as_str() == q) {
            continue;
        }
        let Some((file, fact)) = resolver.class(&q) else {
            continue;
        };
        chain.push((file, fact));
        for b in fact.bases.iter().rev() {
            let r = resolver.resolve(file, b);
            match r.target {
                Target::Class(base) => queue.push(base),
                _ => external(&r),
            }
        }
    }
    chain
}

impl<'a> ClassView<'a> {
    /// The class `class` (a dotted name) of the project and its bases.
    pub fn of(project: &'a Project, class: &str) -> Option<ClassView<'a>> {
        let chain = class_chain(project, class, |_| {});
        (!chain.is_empty()).then_some(ClassView { chain, project })
    }

    /// The method `name` as the class finds it (its own, else a base's).
    fn method(&self, name: &str) -> Option<(FileId, &'a FunctionFact)> {
        let resolver = self.project.resolver();
        self.chain.iter().find_map(|(file, class)| {
            let facts = resolver.facts(*file)?;
            facts
                .functions
                .iter()
                .find(|f| {
                    f.name.as_str() == name
                        && f.method_of.as_deref() == Some(class.qualified.as_str())
                })
                .map(|f| (*file, f))
        })
    }

    /// A class attribute as the class finds it (its own, else a base's).
    fn attr(&self, name: &str) -> Option<(FileId, &'a Value)> {
        self.chain
            .iter()
            .find_map(|(file, class)| class.attr(name).map(|a| (*file, &a.value)))
    }

    /// Whether the class derives from a Flask-RESTful / RESTX resource.
    fn is_rest_resource(&self) -> bool {
        let resolver = self.project.resolver();
        self.chain.iter().any(|(file, class)| {
            class.bases.iter().any(|b| {
                resolver
                    .resolve(*file, b)
                    .external_name()
                    .is_some_and(|n| REST_RESOURCES.contains(&n.as_str()))
            })
        })
    }

    /// The decorators the class applies to the view answering `method`
    /// (`decorators`, and a resource's `method_decorators` as a list or a
    /// dict by method name), each with its file.
    fn class_decorators(&self, method: &str, resource: bool) -> Vec<(FileId, &'a Value)> {
        let mut out = Vec::new();
        let mut attrs = vec!["decorators"];
        if resource || self.is_rest_resource() {
            attrs.push("method_decorators");
        }
        for attr in attrs {
            let Some((file, v)) = self.attr(attr) else {
                continue;
            };
            if let Some(items) = v.as_seq() {
                out.extend(items.iter().map(|d| (file, d)));
            } else if let Some(entries) = v.as_dict() {
                for (k, items) in entries {
                    if k.as_ref().and_then(Value::as_str) == Some(method) {
                        out.extend(items.as_seq().unwrap_or_default().iter().map(|d| (file, d)));
                    }
                }
            }
        }
        out
    }

    /// The routes of the view registered at `reg`: one per HTTP method of a
    /// `MethodView`, one for a `View`'s `dispatch_request`. None when the class
    /// has neither (not a view class the audit can read).
    pub fn routes(&self, reg: &Registration, auth_words: &[&str]) -> Option<Vec<Route>> {
        let (cfile, class) = *self.chain.first()?;
        let class_methods: Option<Vec<String>> = self
            .attr("methods")
            .and_then(|(_, v)| super::routes::literal_methods(Some(v)));
        let allowed = reg.methods.clone().or(class_methods);
        let verbs: Vec<(String, FileId, &FunctionFact)> = HTTP_METHOD_FUNCS
            .iter()
            .filter_map(|m| {
                self.method(m)
                    .map(|(f, fact)| (m.to_ascii_uppercase(), f, fact))
            })
            .collect();
        let views: Vec<(Vec<String>, FileId, &FunctionFact)> = if !verbs.is_empty() {
            // `MethodView`: a method it has no function for fails; HEAD falls
            // back to `get`, and is listed only where the class defines it.
            verbs
                .into_iter()
                .filter(|(m, _, _)| allowed.as_ref().is_none_or(|a| a.contains(m)))
                .map(|(m, f, fact)| (vec![m], f, fact))
                .collect()
        } else {
            let (f, fact) = self.method("dispatch_request")?;
            let methods = allowed.unwrap_or_else(|| vec!["GET".to_string()]);
            vec![(methods, f, fact)]
        };
        let resolver = self.project.resolver();
        let csrf_sites: Vec<Site> = self
            .project
            .extensions
            .iter()
            .filter(|e| matches!(e.kind, ExtKind::CsrfProtect | ExtKind::SeaSurf))
            .map(|e| e.site)
            .collect();
        let mut out = Vec::new();
        for (methods, ffile, fact) in views {
            let mut decorators = Vec::new();
            let mut auth = Vec::new();
            let mut csrf_exempt = None;
            let class_decos = self.class_decorators(&fact.name, reg.resource);
            let from_class = class_decos.len();
            let own = fact.decorators.iter().map(|d| (ffile, d));
            for (i, (file, d)) in class_decos.into_iter().chain(own).enumerate() {
                let span = Span::new(file, d.range);
                auth.extend(super::routes::auth_decorator(
                    &resolver, file, d, auth_words,
                ));
                // `decorators = [csrf.exempt]` exempts the view function
                // `as_view` makes (a method's own `@csrf.exempt` marks a
                // function Flask-WTF never looks up).
                let callee = d.as_call().map_or(d, |c| &c.func);
                let r = resolver.resolve(file, callee);
                if let (Target::Object(site), [m]) = (&r.target, r.attrs.as_slice()) {
                    if i < from_class && m == "exempt" && csrf_sites.contains(site) {
                        csrf_exempt = Some(span);
                    }
                }
                decorators.push(Decorator {
                    name: super::routes::decorator_name(&resolver, file, d),
                    value: d.clone(),
                    span,
                });
            }
            out.push(Route {
                app: reg.app,
                blueprint: reg.blueprint,
                methods,
                rule: reg.rule.to_string(),
                path: None,
                endpoint: reg.endpoint.to_string(),
                function: fact.qualified.to_string(),
                class: Some(class.qualified.to_string()),
                file: cfile,
                def_span: Span::new(ffile, fact.name_range),
                span: reg.span,
                decorators,
                limits: Vec::new(),
                limit_exempt: false,
                csrf_exempt,
                auth,
                unregistered: false,
                provided_by: None,
            });
        }
        Some(out)
    }
}

/// flask-smorest's `@blp.route("/x")` on a `MethodView` class (also any
/// blueprint's, for a project blueprint class that does the same): the
/// endpoint is `endpoint=` or the class's name.
pub(super) fn find_decorated(
    project: &Project,
    bps: &[super::Blueprint],
    auth_words: &[&str],
    routes: &mut Vec<Route>,
) {
    let resolver = project.resolver();
    for (file, facts) in project.python() {
        for class in &facts.classes {
            for d in &class.decorators {
                let Some(c) = d.as_call() else { continue };
                if c.last_name() != Some("route") {
                    continue;
                }
                let Some(recv) = c.receiver() else { continue };
                let r = resolver.resolve(file, &recv);
                let (Target::Object(site), true) = (r.target, r.attrs.is_empty()) else {
                    continue;
                };
                let Some(bp) = bps
                    .iter()
                    .find(|b| b.site == site && b.kind == super::BlueprintKind::Blueprint)
                else {
                    continue;
                };
                let Some(rule) = c.param(0, "rule") else {
                    continue;
                };
                let rule = super::routes::rule_text(project, file, rule);
                let rule = rule.as_str();
                let Some(view) = ClassView::of(project, &class.qualified) else {
                    continue;
                };
                let name = c
                    .kwarg("endpoint")
                    .and_then(Value::as_str)
                    .unwrap_or(&class.name);
                let endpoint = super::url_rules::qualified_endpoint(bps, Some(bp.id), name);
                let reg = Registration {
                    app: None,
                    blueprint: Some(bp.id),
                    rule,
                    endpoint: &endpoint,
                    methods: super::routes::literal_methods(c.kwarg("methods")),
                    span: Span::new(file, d.range),
                    resource: false,
                };
                if let Some(found) = view.routes(&reg, auth_words) {
                    routes.extend(found);
                }
            }
        }
    }
}
