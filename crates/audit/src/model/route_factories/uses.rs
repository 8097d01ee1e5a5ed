//! The uses of factories: `@route(bp, "/x")` on a view, `@api.route("/x")` on
//! a helper object, `register(bp, "/x", view)`; each is a route.

use rustc_hash::FxHashMap;

use super::{
    bind::{bound_methods, bound_rule, mentions_locals, param_of, Use},
    wrapper_auth, Factories, Factory, Recv, View,
};
use crate::{
    model::{
        index::Target,
        routes::{ViewDecorators, AUTH_WORDS},
        Blueprint, Parent, Project, Route,
    },
    python::{
        facts::FunctionFact,
        value::{Root, Site, Value},
    },
    source::{FileId, Span},
};

impl Factories {
    /// The routes of every use of a factory (run before [`Self::registers_at`]
    /// is asked).
    pub(in crate::model) fn routes(
        &mut self,
        project: &Project,
        bps: &[Blueprint],
        limiter_sites: &[Site],
        csrf_sites: &[Site],
        routes: &mut Vec<Route>,
    ) {
        if self.by_name.is_empty() {
            return;
        }
        let resolver = project.resolver();
        let mut memo = FxHashMap::default();
        let mut used = Vec::new();
        // Decorator uses: `@route(bp, "/x")`, `@api.route("/x")`.
        for (file, facts) in project.python() {
            for u in &facts.functions {
                for d in &u.decorators {
                    let Some(c) = d.as_call() else { continue };
                    let r = resolver.resolve(file, &c.func);
                    let (name, instance) = match (&r.target, r.attrs.as_slice()) {
                        (Target::Function(q), []) => (q.clone(), None),
                        (Target::Object(site), [m]) => {
                            match resolver.class_of(Target::Object(*site)) {
                                Some(class) => (format!("{class}.{m}"), Some(*site)),
                                None => continue,
                            }
                        }
                        _ => continue,
                    };
                    let Some(found) = self.by_name.get(&name) else {
                        continue;
                    };
                    used.push(name.clone());
                    let decos =
                        ViewDecorators::of(project, file, &u.decorators, limiter_sites, csrf_sites);
                    for f in found.iter().filter(|f| matches!(f.view, View::Decorated)) {
                        let Some(ffn) =
                            resolver.facts(f.file).and_then(|p| p.functions.get(f.func))
                        else {
                            continue;
                        };
                        let usage = Use {
                            file,
                            call: c,
                            skip: skip_of(ffn, instance.is_some()),
                            instance,
                        };
                        if let Some(found) =
                            self.route(project, bps, f, ffn, &usage, Some((file, u)), d, &decos)
                        {
                            routes.extend(found);
                        }
                    }
                }
            }
        }
        // Applied uses: `route(bp, "/x")(view)`, the decorator a factory
        // returns called on the view.
        for (file, facts) in project.python() {
            for cf in &facts.calls {
                let applied = cf.call();
                let Some(c) = applied.func.as_call() else {
                    continue;
                };
                let Some(view_arg) = applied.arg(0).filter(|_| applied.args.len() == 1) else {
                    continue;
                };
                let Target::Function(name) = resolver.resolve(file, &c.func).target else {
                    continue;
                };
                let Some(found) = self.by_name.get(&name) else {
                    continue;
                };
                let Some((ufile, u)) = (match resolver.resolve(file, view_arg).target {
                    Target::Function(q) => resolver.function(&q),
                    _ => None,
                }) else {
                    continue;
                };
                used.push(name.clone());
                let decos =
                    ViewDecorators::of(project, ufile, &u.decorators, limiter_sites, csrf_sites);
                for f in found.iter().filter(|f| matches!(f.view, View::Decorated)) {
                    let Some(ffn) = resolver.facts(f.file).and_then(|p| p.functions.get(f.func))
                    else {
                        continue;
                    };
                    let usage = Use {
                        file,
                        call: c,
                        skip: skip_of(ffn, false),
                        instance: None,
                    };
                    let Some(found) = self.route(
                        project,
                        bps,
                        f,
                        ffn,
                        &usage,
                        Some((ufile, u)),
                        &cf.value,
                        &decos,
                    ) else {
                        continue;
                    };
                    routes.extend(found.into_iter().map(|r| Route { file, ..r }));
                }
            }
        }
        // Call uses: `register(bp, "/x", view)`.
        for (name, found) in &self.by_name {
            for f in found {
                let View::Param(vi) = f.view else { continue };
                let Some(ffn) = resolver.facts(f.file).and_then(|p| p.functions.get(f.func)) else {
                    continue;
                };
                let Some(vparam) = ffn.params.get(vi) else {
                    continue;
                };
                for &(cfile, ci) in project.index.callers(name) {
                    let Some(cf) = resolver.facts(cfile).and_then(|p| p.calls.get(ci)) else {
                        continue;
                    };
                    let c = cf.call();
                    used.push(name.clone());
                    let usage = Use {
                        file: cfile,
                        call: c,
                        skip: 0,
                        instance: None,
                    };
                    // The view, when it can be named (not in a loop over a
                    // table of views).
                    let view_arg = usage.param(f.file, ffn, vi, &vparam.name);
                    let view =
                        view_arg.and_then(|(vfile, v)| match resolver.resolve(vfile, v).target {
                            Target::Function(q) => resolver.function(&q),
                            _ => None,
                        });
                    // A class-based view (`Settings.as_view("settings")`):
                    // each of its HTTP methods is a view of its own.
                    let class_view = view_arg.and_then(|(vfile, v)| {
                        let (vfile, v) = resolver.deref(vfile, v);
                        let av = v.as_call().filter(|c| c.last_name() == Some("as_view"))?;
                        let Target::Class(q) = resolver.resolve(vfile, &av.receiver()?).target
                        else {
                            return None;
                        };
                        let name = av
                            .param(0, "name")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| {
                                q.rsplit('.').next().unwrap_or_default().to_string()
                            });
                        Some((crate::model::class_views::ClassView::of(project, &q)?, name))
                    });
                    // The view's own decorators all wrap what is registered.
                    let decos = match view {
                        Some((ufile, u)) => ViewDecorators::of(
                            project,
                            ufile,
                            &u.decorators,
                            limiter_sites,
                            csrf_sites,
                        ),
                        None => ViewDecorators::of(project, cfile, &[], limiter_sites, csrf_sites),
                    };
                    let Some(found) =
                        self.route(project, bps, f, ffn, &usage, view, &cf.value, &decos)
                    else {
                        continue;
                    };
                    // Judged here, as the view's decorators are not where
                    // the route is registered.
                    let auth: Vec<String> = view
                        .into_iter()
                        .flat_map(|(ufile, u)| u.decorators.iter().map(move |d| (ufile, d)))
                        .filter_map(|(ufile, d)| wrapper_auth(project, ufile, d, &mut memo))
                        .chain(f.auth.iter().cloned())
                        .collect();
                    for mut route in found {
                        if let Some((cv, name)) = &class_view {
                            let endpoint = crate::model::url_rules::qualified_endpoint(
                                bps,
                                route.blueprint,
                                name,
                            );
                            let reg = crate::model::class_views::Registration {
                                app: route.app,
                                blueprint: route.blueprint,
                                rule: &route.rule,
                                endpoint: &endpoint,
                                methods: None,
                                span: route.span,
                                resource: false,
                            };
                            if let Some(views) = cv.routes(&reg, AUTH_WORDS) {
                                routes.extend(views);
                                continue;
                            }
                        }
                        route.auth = auth.clone();
                        route.decorators.clear();
                        route.file = cfile;
                        routes.push(route);
                    }
                }
            }
        }
        self.used.extend(used);
    }

    /// The routes one use of a factory declares (one, or one per rule of a
    /// list the factory loops over); None when what it registers on, its
    /// rule or its methods cannot be read.
    #[allow(clippy::too_many_arguments)]
    fn route(
        &self,
        project: &Project,
        bps: &[Blueprint],
        f: &Factory,
        ffn: &FunctionFact,
        usage: &Use,
        view: Option<(FileId, &FunctionFact)>,
        at: &Value,
        decos: &ViewDecorators,
    ) -> Option<Vec<Route>> {
        let c = f.call.as_call()?;
        let owner = match &f.recv {
            Recv::Fixed(p) => *p,
            Recv::Param(i) => {
                let p = ffn.params.get(*i)?;
                let (vf, v) = usage.param(f.file, ffn, *i, &p.name)?;
                crate::model::resources::owner_of(project, bps, vf, v)?
            }
            Recv::SelfAttr(attr) => self_attr_owner(project, bps, ffn, usage.instance?, attr)?,
        };
        let (app, blueprint) = match owner {
            Parent::App(a) => (Some(a), None),
            Parent::Blueprint(b) => (None, Some(b)),
        };
        let facts = project.resolver().facts(f.file);
        let rule_arg = match c.kwarg("rule").or_else(|| c.kwarg("path")) {
            Some(v) => usage.bind(f.file, ffn, v),
            None => usage.positional(f.file, ffn, c, 0),
        };
        let rule_arg = rule_arg?;
        // `for rule in rules: bp.add_url_rule(rule, ...)` over a parameter:
        // one route per rule of the list the use passes.
        let looped = facts
            .and_then(|fx| fx.loop_of(rule_arg.1).filter(|_| rule_arg.0 == f.file))
            .filter(|l| l.position.is_none())
            .and_then(|l| usage.bind(f.file, ffn, &l.iter))
            .filter(|(vf, v)| *vf != f.file || !mentions_locals(v));
        let rules: Vec<String> = match looped {
            Some((lf, list)) => {
                let (lf, list) = project.resolver().deref(lf, list);
                list.as_seq()?
                    .iter()
                    .map(|item| super::super::routes::rule_text(project, lf, item))
                    .collect()
            }
            None => vec![bound_rule(project, usage, f.file, ffn, rule_arg)?],
        };
        let methods = match f.method.as_str() {
            "route" | "api_route" | "add_url_rule" => {
                match usage.keyword(f.file, ffn, facts, c, "methods") {
                    // Passed, but not readable: the route is not listed on a guess.
                    Some(None) => return None,
                    Some(Some((vf, v))) => bound_methods(usage, f.file, ffn, (vf, v))?,
                    None => vec!["GET".to_string()],
                }
            }
            m => vec![m.to_ascii_uppercase()],
        };
        let endpoint_arg = match usage.keyword(f.file, ffn, facts, c, "endpoint") {
            Some(found) => found,
            None if f.method == "add_url_rule" && c.kwarg("endpoint").is_none() => {
                usage.positional(f.file, ffn, c, 1)
            }
            None => None,
        };
        let endpoint_name = endpoint_arg
            .and_then(|(_, v)| v.as_str())
            .or(view.map(|(_, u)| u.name.as_str()))
            .unwrap_or_default()
            .to_string();
        let span = Span::new(usage.file, at.range);
        // A decorator above the factory's wraps the function after it was
        // registered: the registered view runs without it.
        let auth = decos
            .auth
            .iter()
            .filter(|(_, s)| s.is_none_or(|s| s.file != span.file || s.start > span.start))
            .map(|(n, _)| n.clone())
            .chain(f.auth.iter().cloned())
            .collect();
        let route = Route {
            app,
            blueprint,
            methods,
            rule: String::new(),
            path: None,
            endpoint: crate::model::url_rules::qualified_endpoint(bps, blueprint, &endpoint_name),
            function: view
                .map(|(_, u)| u.qualified.to_string())
                .unwrap_or_default(),
            class: None,
            file: view.map_or(usage.file, |(f, _)| f),
            def_span: view.map_or(span, |(f, u)| Span::new(f, u.name_range)),
            span,
            decorators: decos.decorators.clone(),
            limits: decos.limits.clone(),
            limit_exempt: decos.limit_exempt,
            csrf_exempt: decos.csrf_exempt,
            auth,
            unregistered: false,
            provided_by: None,
        };
        Some(
            rules
                .into_iter()
                .map(|rule| Route {
                    rule,
                    ..route.clone()
                })
                .collect(),
        )
    }
}

/// How many leading parameters a use binds itself: `self` for a method
/// called on an instance, `cls` for a classmethod.
fn skip_of(ffn: &FunctionFact, on_instance: bool) -> usize {
    let first = ffn.params.first().map(|p| p.name.as_str());
    let bound =
        ffn.method_of.is_some() && (first == Some("cls") || (on_instance && first == Some("self")));
    usize::from(bound)
}

/// The app or blueprint `self.<attr>` is for an instance of a helper class:
/// what `__init__` assigns from its parameters, as the constructor call
/// passes it (`Router(bp)`).
fn self_attr_owner(
    project: &Project,
    bps: &[Blueprint],
    ffn: &FunctionFact,
    instance: Site,
    attr: &str,
) -> Option<Parent> {
    let resolver = project.resolver();
    let class = ffn.method_of.as_deref()?;
    let init = format!("{class}.__init__");
    let (ifile, init_fn) = resolver.function(&init)?;
    let facts = resolver.facts(ifile)?;
    let assigned = facts.assigns.iter().rev().find(|a| {
        a.scope == init_fn.scope
            && a.target.reference().is_some_and(|t| {
                matches!(&t.root, Root::Param { func, index: 0, .. } if func.as_str() == init)
                    && t.attrs.len() == 1
                    && t.attrs[0].as_str() == attr
            })
    })?;
    match param_of(&assigned.value, &init).filter(|(_, a)| a.is_empty()) {
        Some((i, _)) => {
            let ctor = resolver.call(instance)?.call();
            let p = init_fn.params.get(i)?;
            let usage = Use {
                file: instance.file,
                call: ctor,
                skip: 1,
                instance: None,
            };
            let (vf, v) = usage.param(ifile, init_fn, i, &p.name)?;
            crate::model::resources::owner_of(project, bps, vf, v)
        }
        None if !mentions_locals(&assigned.value) => {
            crate::model::resources::owner_of(project, bps, ifile, &assigned.value)
        }
        None => None,
    }
}
