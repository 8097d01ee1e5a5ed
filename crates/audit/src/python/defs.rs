//! `def` and `class` statements: their scopes, decorators, parameters (request
//! data for route handlers), return values and class-body attributes.

use ruff_python_ast as ast;
use ruff_text_size::{Ranged, TextRange};

use super::{
    collect::{is_request_type, is_route_decorator, Collector},
    facts::{ClassFact, FunctionFact, Param, Scope, ScopeId, ScopeKind},
    scope::Frame,
    value::Value,
};

impl Collector {
    pub(super) fn push_scope(&mut self, kind: ScopeKind, name: &str) -> (ScopeId, String) {
        let parent = self.scopes.current().scope;
        let qualified = format!("{}.{name}", self.scopes.current().qualified);
        let id = self.facts.scopes.len() as ScopeId;
        self.facts.scopes.push(Scope {
            kind,
            qualified: qualified.clone(),
            parent: Some(parent),
        });
        self.scopes
            .frames
            .push(Frame::new(id, kind, qualified.clone()));
        (id, qualified)
    }

    pub(super) fn function(&mut self, f: &ast::StmtFunctionDef) {
        let decorators: Vec<Value> = f
            .decorator_list
            .iter()
            .map(|d| self.eval(&d.expression))
            .collect();
        let is_route = decorators.iter().any(is_route_decorator);
        let parent = self.scopes.current().scope;
        let method_of = (self.scopes.current().kind == ScopeKind::Class)
            .then(|| self.scopes.current().qualified.clone());
        let mut params = Vec::new();
        for p in f.parameters.iter() {
            let default = p.default().map(|d| self.eval(d));
            let annotation = p.annotation().map(|a| self.eval(a));
            params.push(Param {
                name: p.name().id.to_string(),
                default,
                annotation,
                range: p.range(),
            });
        }
        let name = f.name.id.as_str();
        let (scope, qualified) = self.push_scope(ScopeKind::Function, name);
        {
            let frame = self.scopes.current_mut();
            for (i, p) in params.iter().enumerate() {
                let skip_self =
                    method_of.is_some() && i == 0 && (p.name == "self" || p.name == "cls");
                let request_typed = p
                    .annotation
                    .as_ref()
                    .and_then(Value::qualified)
                    .is_some_and(|q| is_request_type(&q));
                let tainted = !skip_self && (is_route || request_typed);
                frame.params.insert(p.name.clone(), (i, tainted));
            }
        }
        self.returns.push(Vec::new());
        self.return_guards.push(Vec::new());
        let saved_guard = self.guard;
        self.guard = 0;
        self.stmts(&f.body);
        self.guard = saved_guard;
        let returns = self.returns.pop().unwrap_or_default();
        let return_guards = self.return_guards.pop().unwrap_or_default();
        self.scopes.frames.pop();
        let start = f
            .decorator_list
            .first()
            .map_or(f.range.start(), |d| d.range.start());
        let def_range = TextRange::new(f.name.range.start().max(start), f.range.end());
        self.facts.functions.push(FunctionFact {
            name: name.to_string(),
            qualified: qualified.clone(),
            name_range: f.name.range,
            range: TextRange::new(start.min(f.range.start()), f.range.end()),
            def_range,
            decorators,
            params,
            returns,
            return_guards,
            is_async: f.is_async,
            scope,
            parent,
            guard: self.guard,
            method_of,
        });
        self.bind_definition(name, &qualified, f.range);
    }

    pub(super) fn class(&mut self, c: &ast::StmtClassDef) {
        let decorators: Vec<Value> = c
            .decorator_list
            .iter()
            .map(|d| self.eval(&d.expression))
            .collect();
        let mut bases = Vec::new();
        if let Some(args) = &c.arguments {
            for b in args.args.iter() {
                bases.push(self.eval(b));
            }
            for k in args.keywords.iter() {
                self.eval(&k.value);
            }
        }
        let name = c.name.id.as_str();
        let (scope, qualified) = self.push_scope(ScopeKind::Class, name);
        self.class_attrs.push(Vec::new());
        let saved_guard = self.guard;
        self.guard = 0;
        self.stmts(&c.body);
        self.guard = saved_guard;
        let attrs = self.class_attrs.pop().unwrap_or_default();
        self.scopes.frames.pop();
        self.facts.classes.push(ClassFact {
            name: name.to_string(),
            qualified: qualified.clone(),
            name_range: c.name.range,
            range: c.range,
            bases,
            decorators,
            attrs,
            scope,
            guard: self.guard,
        });
        self.bind_definition(name, &qualified, c.range);
    }

    /// `def f` / `class C` bind their name to their dotted path.
    pub(super) fn bind_definition(&mut self, name: &str, qualified: &str, _range: TextRange) {
        let frame = self.scopes.current_mut();
        frame.params.remove(name);
        frame.imports.remove(name);
        match frame.kind {
            ScopeKind::Function => {
                let v = super::scope::global(qualified.to_string(), TextRange::default());
                frame.bindings.insert(name.to_string(), v);
            }
            ScopeKind::Module | ScopeKind::Class => {
                frame.bindings.remove(name);
                frame
                    .imports
                    .insert(name.to_string(), qualified.to_string());
            }
        }
    }
}
