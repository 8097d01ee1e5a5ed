//! `def` and `class` statements: their scopes, decorators, parameters (request
//! data for route handlers), return values and class-body attributes.

use ruff_python_ast as ast;
use ruff_text_size::{Ranged, TextRange};

use super::{
    collect::{is_request_type, is_route_decorator, Collector},
    facts::{ClassFact, FunctionFact, Param, ParamKind, Scope, ScopeId, ScopeKind},
    scope::Frame,
    value::{Name, Value},
};

impl Collector {
    /// One shared copy of the scope's name: its scope, frame, fact and every
    /// reference to its parameters.
    pub(super) fn push_scope(&mut self, kind: ScopeKind, name: &str) -> (ScopeId, Name) {
        let parent = self.scopes.current().scope;
        let qualified = Name::from(format!("{}.{name}", self.scopes.current().qualified));
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
        let mut params = Vec::with_capacity(f.parameters.len());
        let positional = f.parameters.posonlyargs.len() + f.parameters.args.len();
        let has_varargs = f.parameters.vararg.is_some();
        for (i, p) in f.parameters.iter().enumerate() {
            let kind = match i.checked_sub(positional) {
                None => ParamKind::Positional,
                Some(0) if has_varargs => ParamKind::VarArgs,
                Some(_) if f.parameters.kwarg.is_some() && i + 1 == f.parameters.len() => {
                    ParamKind::VarKeywords
                }
                Some(_) => ParamKind::KeywordOnly,
            };
            let default = p.default().map(|d| Box::new(self.eval(d)));
            let annotation = p.annotation().map(|a| Box::new(self.eval(a)));
            params.push(Param {
                name: self.scopes.names.get(&p.name().id),
                kind,
                default,
                annotation,
                range: p.range(),
            });
        }
        let name = f.name.id.as_str();
        let (scope, qualified) = self.push_scope(ScopeKind::Function, name);
        {
            let converters = if is_route {
                url_converters(&decorators)
            } else {
                Vec::new()
            };
            let super::scope::Scopes { frames, names, .. } = &mut self.scopes;
            let Some(frame) = frames.last_mut() else {
                return;
            };
            for (i, p) in params.iter().enumerate() {
                let skip_self =
                    method_of.is_some() && i == 0 && (p.name == "self" || p.name == "cls");
                let request_typed = p
                    .annotation
                    .as_deref()
                    .and_then(Value::qualified)
                    .is_some_and(|q| is_request_type(&q));
                if request_typed {
                    frame.request_params.insert(p.name.to_string());
                }
                let tainted =
                    !skip_self && (request_typed || is_route && carries_text(p, &converters));
                let key = names.get(&p.name);
                frame.params.insert(key, (i as u32, tainted));
            }
        }
        self.returns.push(Vec::new());
        self.return_guards.push(Vec::new());
        let saved_guard = self.guard;
        self.guard = 0;
        self.stmts(&f.body);
        self.guard = saved_guard;
        // Built by pushing: drop the spare capacity, the facts are kept to the end.
        let mut returns = self.returns.pop().unwrap_or_default();
        returns.shrink_to_fit();
        let mut return_guards = self.return_guards.pop().unwrap_or_default();
        return_guards.shrink_to_fit();
        self.scopes.frames.pop();
        let start = f
            .decorator_list
            .first()
            .map_or(f.range.start(), |d| d.range.start());
        let def_range = TextRange::new(f.name.range.start().max(start), f.range.end());
        self.facts.functions.push(FunctionFact {
            name: self.scopes.names.get(name),
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
        self.bind_definition(name, qualified, f.range);
    }

    pub(super) fn class(&mut self, c: &ast::StmtClassDef) {
        let decorators: Vec<Value> = c
            .decorator_list
            .iter()
            .map(|d| self.eval(&d.expression))
            .collect();
        let mut bases = Vec::with_capacity(c.arguments.as_ref().map_or(0, |a| a.args.len()));
        let mut keywords = Vec::new();
        if let Some(args) = &c.arguments {
            for b in args.args.iter() {
                bases.push(self.eval(b));
            }
            for k in args.keywords.iter() {
                let v = self.eval(&k.value);
                if let Some(arg) = &k.arg {
                    keywords.push((self.scopes.names.get(arg.as_str()), v));
                }
            }
        }
        let name = c.name.id.as_str();
        let (scope, qualified) = self.push_scope(ScopeKind::Class, name);
        self.class_attrs.push(Vec::new());
        self.class_decls.push(Vec::new());
        let saved_guard = self.guard;
        self.guard = 0;
        self.stmts(&c.body);
        self.guard = saved_guard;
        let mut attrs = self.class_attrs.pop().unwrap_or_default();
        attrs.shrink_to_fit();
        let mut declared = self.class_decls.pop().unwrap_or_default();
        declared.shrink_to_fit();
        self.scopes.frames.pop();
        self.facts.classes.push(ClassFact {
            name: self.scopes.names.get(name),
            qualified: qualified.clone(),
            name_range: c.name.range,
            range: c.range,
            bases,
            keywords,
            decorators,
            attrs,
            declared,
            scope,
            guard: self.guard,
        });
        self.bind_definition(name, qualified, c.range);
    }

    /// `def f` / `class C` bind their name to their dotted path.
    pub(super) fn bind_definition(&mut self, name: &str, qualified: Name, _range: TextRange) {
        let frame = self.scopes.current_mut();
        frame.params.remove(name);
        frame.request_params.remove(name);
        frame.imports.remove(name);
        match frame.kind {
            ScopeKind::Function => {
                let v = super::scope::global(qualified, TextRange::default());
                frame.bindings.insert(name.to_string(), v);
            }
            ScopeKind::Module | ScopeKind::Class => {
                frame.bindings.remove(name);
                frame.imports.insert(name.to_string(), qualified);
            }
        }
    }
}

/// `(name, converter)` of every variable in the rules of a function's route
/// decorators: `<int:order_id>` is `("order_id", "int")`, `<name>` is
/// `("name", "default")`.
fn url_converters(decorators: &[Value]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for d in decorators.iter().filter(|d| is_route_decorator(d)) {
        let Some(rule) = d
            .as_call()
            .and_then(|c| c.param(0, "rule").or_else(|| c.kwarg("path")))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let mut rest = rule;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('>') else { break };
            let inner = &after[..close];
            let (conv, name) = match inner.rsplit_once(':') {
                Some((c, n)) => (c.split('(').next().unwrap_or(c).trim(), n.trim()),
                None => ("default", inner.trim()),
            };
            out.push((name.to_string(), conv.to_string()));
            rest = &after[close + 1..];
        }
    }
    out
}

/// Converters whose values cannot carry attacker text: `int`, `float`, `uuid`,
/// and `any(a, b)` (one of the listed words).
pub const NUMERIC_CONVERTERS: [&str; 4] = ["int", "float", "uuid", "any"];

/// Annotations of values that cannot carry attacker text (FastAPI validates them)
/// or that are not request data at all.
const NON_TEXT_TYPES: &[&str] = &[
    "int",
    "float",
    "bool",
    "complex",
    "None",
    "uuid.UUID",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "decimal.Decimal",
    "pydantic.PositiveInt",
    "pydantic.NonNegativeInt",
    "pydantic.NegativeInt",
    "pydantic.StrictInt",
    "pydantic.StrictFloat",
    "pydantic.StrictBool",
    "pydantic.UUID4",
    "pydantic.UUID1",
    "fastapi.BackgroundTasks",
    "starlette.background.BackgroundTasks",
    "fastapi.Response",
    "fastapi.responses.Response",
    "starlette.responses.Response",
    "fastapi.security.SecurityScopes",
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlmodel.Session",
];

/// Whether a route handler's parameter carries request text: not a numeric URL
/// variable, not a scalar or server-side FastAPI annotation, not a dependency.
fn carries_text(p: &super::facts::Param, converters: &[(String, String)]) -> bool {
    if p.default.as_deref().is_some_and(is_dependency) {
        return false;
    }
    if p.annotation
        .as_ref()
        .is_some_and(|a| !annotation_carries_text(a, 0))
    {
        return false;
    }
    let convs: Vec<&str> = converters
        .iter()
        .filter(|(n, _)| *n == p.name)
        .map(|(_, c)| c.as_str())
        .collect();
    convs.is_empty() || !convs.iter().all(|c| NUMERIC_CONVERTERS.contains(c))
}

/// `Depends(get_db)` / `Security(current_user)`.
fn is_dependency(v: &Value) -> bool {
    v.as_call()
        .and_then(|c| c.func_name())
        .is_some_and(|n| n.ends_with("Depends") || n.ends_with("Security"))
}

fn annotation_carries_text(a: &Value, depth: usize) -> bool {
    use super::value::{BinOp, Kind};
    if depth > 8 {
        return true;
    }
    match &a.kind {
        Kind::None => false,
        Kind::Ref(_) => a
            .qualified()
            .is_none_or(|q| !NON_TEXT_TYPES.contains(&q.as_str())),
        // `int | None`
        Kind::BinOp(BinOp::Other, l, r) => {
            annotation_carries_text(l, depth + 1) || annotation_carries_text(r, depth + 1)
        }
        Kind::Subscript(base, inner) => {
            let outer = base.qualified().unwrap_or_default();
            let items: Vec<&Value> = match inner.as_seq() {
                Some(items) => items.iter().collect(),
                None => vec![inner.as_ref()],
            };
            match outer.rsplit('.').next().unwrap_or("") {
                // `Annotated[int, Query()]`, `Annotated[Session, Depends(get_db)]`
                "Annotated" => {
                    !items.iter().skip(1).any(|v| is_dependency(v))
                        && items
                            .first()
                            .is_none_or(|v| annotation_carries_text(v, depth + 1))
                }
                "Optional" | "Union" => items.iter().any(|v| annotation_carries_text(v, depth + 1)),
                _ => true,
            }
        }
        _ => true,
    }
}
