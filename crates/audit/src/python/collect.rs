//! The one pass over a module's statements. Scopes, guards and bindings are
//! tracked here; expressions are evaluated by `eval.rs`.

use rustc_hash::FxHashSet as HashSet;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::{
    facts::{
        AssignFact, ClassAttr, ExceptFact, Guard, GuardId, LoopFact, PyFacts, RaiseFact, RaiseKind,
        Scope, ScopeKind, TryFact,
    },
    scope::{Frame, Scopes},
    value::{Kind, Value},
};
use crate::source::FileId;

/// Statements nested deeper than this are skipped.
const MAX_STMT_DEPTH: usize = 100;
/// Return values kept per function.
const MAX_RETURNS: usize = 16;

/// Decorator method names that make a function an HTTP route (its parameters
/// come from the URL or the request).
pub const ROUTE_METHODS: [&str; 9] = [
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "api_route",
    "websocket",
    "head",
];

pub struct Collector {
    pub(super) file: FileId,
    pub(super) package: String,
    pub(super) facts: PyFacts,
    pub(super) scopes: Scopes,
    pub(super) guard: GuardId,
    depth: usize,
    /// Return values of the functions being collected, innermost last.
    pub(super) returns: Vec<Vec<Value>>,
    /// The guard of each of those return values.
    pub(super) return_guards: Vec<Vec<GuardId>>,
    /// Class-body assignments of the classes being collected, innermost last.
    pub(super) class_attrs: Vec<Vec<ClassAttr>>,
    /// Class-body annotations without a value of those classes (`secret_key:
    /// str`), innermost last.
    pub(super) class_decls: Vec<Vec<ClassAttr>>,
}

impl Collector {
    pub fn new(file: FileId, module: &str, is_package: bool) -> Collector {
        let package = if is_package {
            module.to_string()
        } else {
            module
                .rsplit_once('.')
                .map(|(p, _)| p.to_string())
                .unwrap_or_default()
        };
        let facts = PyFacts {
            module: module.to_string(),
            scopes: vec![Scope {
                kind: ScopeKind::Module,
                qualified: module.into(),
                parent: None,
            }],
            // Guard 0 is the unconditional root; its content is never read.
            guards: vec![Guard {
                parent: 0,
                test: std::sync::Arc::new(Value::unknown(TextRange::default(), false)),
                negated: false,
                scope: 0,
            }],
            ..PyFacts::default()
        };
        Collector {
            file,
            package,
            facts,
            scopes: Scopes {
                frames: vec![Frame::new(0, ScopeKind::Module, module.into())],
                module_names: HashSet::default(),
                module: module.to_string(),
                names: Default::default(),
            },
            guard: 0,
            depth: 0,
            returns: Vec::new(),
            return_guards: Vec::new(),
            class_attrs: Vec::new(),
            class_decls: Vec::new(),
        }
    }

    /// `name: T` in a class body, without a value: a field a pydantic model
    /// or dataclass requires (`ClassVar` annotations declare no field). Its
    /// value is unknown.
    fn declare(&mut self, a: &ast::StmtAnnAssign) {
        if self.scopes.current().kind != ScopeKind::Class {
            return;
        }
        let Expr::Name(n) = a.target.as_ref() else {
            return;
        };
        if is_class_var(&a.annotation) {
            return;
        }
        let name = self.scopes.names.get(n.id.as_str());
        if let Some(decls) = self.class_decls.last_mut() {
            decls.push(ClassAttr {
                name,
                value: Value::unknown(a.range, false),
                range: a.range,
            });
        }
    }

    pub fn collect(mut self, body: &[Stmt]) -> PyFacts {
        let mut names = HashSet::default();
        module_names(body, &mut names, 0);
        self.scopes.module_names = names;
        self.stmts(body);
        self.facts.shrink_to_fit();
        self.facts
    }

    pub(super) fn stmts(&mut self, body: &[Stmt]) {
        if self.depth > MAX_STMT_DEPTH {
            return;
        }
        self.depth += 1;
        for stmt in body {
            self.stmt(stmt);
        }
        self.depth -= 1;
    }

    fn new_guard(&mut self, test: std::sync::Arc<Value>, negated: bool) -> GuardId {
        self.new_guard_under(self.guard, test, negated)
    }

    fn new_guard_under(
        &mut self,
        parent: GuardId,
        test: std::sync::Arc<Value>,
        negated: bool,
    ) -> GuardId {
        let id = self.facts.guards.len() as GuardId;
        let scope = self.scopes.current().scope;
        self.facts.guards.push(Guard {
            parent,
            test,
            negated,
            scope,
        });
        id
    }

    fn with_guard(&mut self, guard: GuardId, body: &[Stmt]) {
        let saved = self.guard;
        self.guard = guard;
        self.stmts(body);
        self.guard = saved;
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Import(i) => {
                for alias in &i.names {
                    let full = alias.name.id.to_string();
                    let (local, qualified) = match &alias.asname {
                        Some(as_) => (as_.id.to_string(), full),
                        None => {
                            let first = full.split('.').next().unwrap_or(&full).to_string();
                            (first.clone(), first)
                        }
                    };
                    self.import(local, qualified, alias.range);
                }
            }
            Stmt::ImportFrom(i) => {
                let base = self.import_base(i.module.as_ref().map(|m| m.id.as_str()), i.level);
                for alias in &i.names {
                    let name = alias.name.id.as_str();
                    if name == "*" {
                        // `from pkg.models import *`: recorded as an import of
                        // `*` from the module (the index looks names up there).
                        if !base.is_empty() {
                            let scope = self.scopes.current().scope;
                            let local = self.scopes.names.get("*");
                            let qualified = self.scopes.names.get(&base);
                            self.facts.imports.push(crate::python::facts::ImportFact {
                                local,
                                qualified,
                                range: alias.range,
                                scope,
                            });
                        }
                        continue;
                    }
                    let local = alias
                        .asname
                        .as_ref()
                        .map_or(name, |a| a.id.as_str())
                        .to_string();
                    let qualified = if base.is_empty() {
                        name.to_string()
                    } else {
                        format!("{base}.{name}")
                    };
                    self.import(local, qualified, alias.range);
                }
            }
            Stmt::Assign(a) => {
                let value = self.eval(&a.value);
                for target in &a.targets {
                    self.assign(target, &value, a.range, false);
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    let value = self.eval(v);
                    self.assign(&a.target, &value, a.range, false);
                } else {
                    self.declare(a);
                }
            }
            Stmt::AugAssign(a) => {
                let value = self.eval(&a.value);
                let target = self.eval(&a.target);
                // `q += f" AND x = '{x}'"` in a function: the name now holds the
                // combined value (module and class names keep their first binding).
                if let (Expr::Name(n), ScopeKind::Function) =
                    (a.target.as_ref(), self.scopes.current().kind)
                {
                    let combined =
                        super::fold::fold_binop(a.range, a.op, target.clone(), value.clone());
                    let bound = self.binding_value(&combined);
                    self.scopes.bind(n.id.as_str(), &bound);
                }
                let scope = self.scopes.current().scope;
                self.facts.assigns.push(AssignFact {
                    scope,
                    guard: self.guard,
                    target,
                    value,
                    range: a.range,
                    augmented: true,
                });
            }
            Stmt::FunctionDef(f) => self.function(f),
            Stmt::ClassDef(c) => self.class(c),
            Stmt::Return(r) => {
                let v = match &r.value {
                    Some(e) => self.eval(e),
                    None => Value::new(r.range, Kind::None),
                };
                if let Some(list) = self.returns.last_mut() {
                    if list.len() < MAX_RETURNS {
                        list.push(v);
                        if let Some(guards) = self.return_guards.last_mut() {
                            guards.push(self.guard);
                        }
                    }
                }
            }
            Stmt::If(i) => {
                let test = self.eval(&i.test);
                let test = std::sync::Arc::new(test);
                let body_guard = self.new_guard(test.clone(), false);
                self.with_guard(body_guard, &i.body);
                let mut else_guard = self.new_guard(test, true);
                for clause in &i.elif_else_clauses {
                    match &clause.test {
                        Some(t) => {
                            let saved = self.guard;
                            self.guard = else_guard;
                            let test = std::sync::Arc::new(self.eval(t));
                            self.guard = saved;
                            let g = self.new_guard_under(else_guard, test.clone(), false);
                            self.with_guard(g, &clause.body);
                            else_guard = self.new_guard_under(else_guard, test, true);
                        }
                        None => self.with_guard(else_guard, &clause.body),
                    }
                }
            }
            Stmt::For(f) => {
                let iter = self.eval(&f.iter);
                self.bind_unknown(&f.target, iter.tainted);
                let scope = self.scopes.current().scope;
                let mut names: Vec<(&ast::ExprName, Option<usize>)> = Vec::new();
                match f.target.as_ref() {
                    Expr::Name(n) => names.push((n, None)),
                    Expr::Tuple(t) => {
                        for (i, e) in t.elts.iter().enumerate() {
                            if let Expr::Name(n) = e {
                                names.push((n, Some(i)));
                            }
                        }
                    }
                    _ => {}
                }
                for (n, position) in names {
                    self.facts.loops.push(LoopFact {
                        scope,
                        name: n.id.as_str().into(),
                        target: n.range,
                        position,
                        iter: iter.clone(),
                    });
                }
                self.stmts(&f.body);
                self.stmts(&f.orelse);
            }
            Stmt::While(w) => {
                self.eval(&w.test);
                self.stmts(&w.body);
                self.stmts(&w.orelse);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    let v = self.eval(&item.context_expr);
                    if let Some(target) = &item.optional_vars {
                        self.bind_unknown(target, v.tainted);
                    }
                }
                self.stmts(&w.body);
            }
            Stmt::Try(t) => {
                self.stmts(&t.body);
                let mut catches = Vec::with_capacity(t.handlers.len());
                let mut returns = Vec::with_capacity(t.handlers.len());
                for handler in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    let ty = h.type_.as_ref().map(|ty| self.eval(ty));
                    catches.push(ty.clone());
                    returns.push(has_return(&h.body));
                    if let Some(name) = &h.name {
                        // `except E as e:` binds `e` to the caught exception: a
                        // local whose value is not tracked, but recognisable.
                        let caught = Value::new(
                            name.range,
                            Kind::Ref(Box::new(super::value::Ref {
                                root: super::value::Root::Local(self.scopes.names.get(&name.id)),
                                attrs: Vec::new(),
                            })),
                        );
                        self.scopes.bind(name.id.as_str(), &caught);
                        let scope = self.scopes.current().scope;
                        self.facts.excepts.push(ExceptFact {
                            scope,
                            name: self.scopes.names.get(&name.id),
                            types: ty,
                            range: h.range,
                        });
                    }
                    self.stmts(&h.body);
                }
                if let (Some(first), Some(last)) = (t.body.first(), t.body.last()) {
                    let scope = self.scopes.current().scope;
                    self.facts.tries.push(TryFact {
                        scope,
                        body: TextRange::new(first.range().start(), last.range().end()),
                        catches,
                        returns,
                    });
                }
                self.stmts(&t.orelse);
                self.stmts(&t.finalbody);
            }
            Stmt::Match(m) => {
                self.eval(&m.subject);
                for case in &m.cases {
                    self.stmts(&case.body);
                }
            }
            Stmt::Raise(r) => {
                let value = r.exc.as_ref().map(|e| self.eval(e));
                let scope = self.scopes.current().scope;
                self.facts.raises.push(RaiseFact {
                    kind: RaiseKind::Raise,
                    scope,
                    guard: self.guard,
                    value,
                    range: r.range,
                });
            }
            Stmt::Assert(a) => {
                let test = self.eval(&a.test);
                if let Some(m) = &a.msg {
                    self.eval(m);
                }
                let scope = self.scopes.current().scope;
                self.facts.raises.push(RaiseFact {
                    kind: RaiseKind::Assert,
                    scope,
                    guard: self.guard,
                    value: Some(test),
                    range: a.range,
                });
            }
            Stmt::Expr(e) => {
                self.eval(&e.value);
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    self.eval(t);
                }
            }
            Stmt::TypeAlias(_)
            | Stmt::Global(_)
            | Stmt::Nonlocal(_)
            | Stmt::Pass(_)
            | Stmt::Break(_)
            | Stmt::Continue(_)
            | Stmt::IpyEscapeCommand(_) => {}
        }
    }
}

/// `@app.route(...)`, `@bp.post(...)`, `@router.get(...)`.
pub fn is_route_decorator(v: &Value) -> bool {
    let Some(call) = v.as_call() else {
        return false;
    };
    call.func_ref()
        .is_some_and(|r| !r.attrs.is_empty() && ROUTE_METHODS.contains(&r.last_name()))
}

/// Types whose instances are the incoming request (FastAPI / Starlette / Flask).
pub fn is_request_type(q: &str) -> bool {
    matches!(
        q,
        "fastapi.Request"
            | "starlette.requests.Request"
            | "fastapi.requests.Request"
            | "flask.Request"
            | "werkzeug.Request"
            | "werkzeug.wrappers.Request"
    )
}

/// Names bound at module level anywhere (including inside top-level if/try/with).
fn module_names(body: &[Stmt], out: &mut HashSet<String>, depth: usize) {
    if depth > 8 {
        return;
    }
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(f) => {
                out.insert(f.name.id.to_string());
            }
            Stmt::ClassDef(c) => {
                out.insert(c.name.id.to_string());
            }
            Stmt::Assign(a) => a.targets.iter().for_each(|t| target_names(t, out)),
            Stmt::AnnAssign(a) => target_names(&a.target, out),
            Stmt::AugAssign(a) => target_names(&a.target, out),
            Stmt::If(i) => {
                module_names(&i.body, out, depth + 1);
                for c in &i.elif_else_clauses {
                    module_names(&c.body, out, depth + 1);
                }
            }
            Stmt::Try(t) => {
                module_names(&t.body, out, depth + 1);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    module_names(&h.body, out, depth + 1);
                }
                module_names(&t.orelse, out, depth + 1);
                module_names(&t.finalbody, out, depth + 1);
            }
            Stmt::With(w) => module_names(&w.body, out, depth + 1),
            Stmt::For(f) => {
                target_names(&f.target, out);
                module_names(&f.body, out, depth + 1);
            }
            _ => {}
        }
    }
}

fn target_names(target: &Expr, out: &mut HashSet<String>) {
    match target {
        Expr::Name(n) => {
            out.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

/// `ClassVar`, `ClassVar[int]`, `typing.ClassVar[...]`: a class attribute, no
/// field.
fn is_class_var(annotation: &Expr) -> bool {
    let head = match annotation {
        Expr::Subscript(s) => s.value.as_ref(),
        other => other,
    };
    match head {
        Expr::Name(n) => n.id.as_str() == "ClassVar",
        Expr::Attribute(a) => a.attr.as_str() == "ClassVar",
        _ => false,
    }
}

/// Whether statements contain a `return` (not counting nested functions and
/// classes).
fn has_return(body: &[Stmt]) -> bool {
    body.iter().any(|s| match s {
        Stmt::Return(_) => true,
        Stmt::If(i) => {
            has_return(&i.body) || i.elif_else_clauses.iter().any(|c| has_return(&c.body))
        }
        Stmt::For(f) => has_return(&f.body) || has_return(&f.orelse),
        Stmt::While(w) => has_return(&w.body) || has_return(&w.orelse),
        Stmt::With(w) => has_return(&w.body),
        Stmt::Try(t) => {
            has_return(&t.body)
                || has_return(&t.orelse)
                || has_return(&t.finalbody)
                || t.handlers.iter().any(|h| {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    has_return(&h.body)
                })
        }
        Stmt::Match(m) => m.cases.iter().any(|c| has_return(&c.body)),
        _ => false,
    })
}
