//! What one pass over a Python file records: the facts the project model and the
//! rules read. Plain data, no syntax tree; each fact keeps its byte range.

use ruff_text_size::TextRange;

use super::value::{Call, Kind, Name, Value};

/// Index into [`PyFacts::scopes`]; 0 is the module.
pub type ScopeId = u32;
/// Index into [`PyFacts::guards`]; 0 is "unconditional".
pub type GuardId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Function,
    Class,
}

#[derive(Debug, Clone)]
pub struct Scope {
    pub kind: ScopeKind,
    /// Dotted name: `orders.create_app`, `orders.config.ProductionConfig`.
    pub qualified: Name,
    pub parent: Option<ScopeId>,
}

/// One `if` condition a fact sits under, linked to the conditions around it.
#[derive(Debug, Clone)]
pub struct Guard {
    pub parent: GuardId,
    /// Shared by the guard of the body and the guard of the `else`.
    pub test: std::sync::Arc<Value>,
    /// In the `else` (or a later `elif`) of `test`.
    pub negated: bool,
    /// The scope the `if` statement is in.
    pub scope: ScopeId,
}

#[derive(Debug, Clone)]
pub struct CallFact {
    pub scope: ScopeId,
    pub guard: GuardId,
    /// A [`super::value::Kind::Call`] value.
    pub value: Value,
}

impl CallFact {
    pub fn call(&self) -> &Call {
        match &self.value.kind {
            super::value::Kind::Call(c) => c,
            _ => unreachable_call(),
        }
    }

    pub fn range(&self) -> TextRange {
        self.value.range
    }
}

#[cold]
fn unreachable_call() -> &'static Call {
    // CallFact values are built from calls only; a static empty call keeps this
    // total without a panic path.
    static EMPTY: std::sync::OnceLock<Call> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Call {
        func: Value::unknown(TextRange::default(), false),
        args: Box::default(),
        kwargs: Box::default(),
        spread: false,
        star: None,
    })
}

/// `target = value` (also annotated and augmented assignments, and `:=`).
#[derive(Debug, Clone)]
pub struct AssignFact {
    pub scope: ScopeId,
    pub guard: GuardId,
    /// The target as a reference or subscript value (`app.config["X"]`).
    pub target: Value,
    pub value: Value,
    /// The whole statement.
    pub range: TextRange,
    pub augmented: bool,
}

#[derive(Debug, Clone)]
pub struct ClassAttr {
    pub name: Name,
    pub value: Value,
    /// The assignment statement.
    pub range: TextRange,
}

#[derive(Debug, Clone)]
pub struct ClassFact {
    pub name: Name,
    pub qualified: Name,
    pub name_range: TextRange,
    pub range: TextRange,
    pub bases: Vec<Value>,
    /// Keyword arguments of the class statement (`metaclass=...`, pydantic's
    /// `env_prefix="APP_"`), in order.
    pub keywords: Vec<(Name, Value)>,
    pub decorators: Vec<Value>,
    /// Class-body assignments in source order.
    pub attrs: Vec<ClassAttr>,
    /// Class-body annotations without a value (`secret_key: str`; not
    /// `ClassVar`s), in source order, each with an unknown value: the
    /// fields a pydantic model requires. They set no class attribute.
    pub declared: Vec<ClassAttr>,
    pub scope: ScopeId,
    pub guard: GuardId,
}

/// A name a class body declares: assigned (`x = 1`, `x: int = 1`), or only
/// annotated (`x: int`).
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub attr: &'a ClassAttr,
    /// Only annotated: the value is unknown, and for a pydantic model the
    /// field is required.
    pub declared_only: bool,
}

impl ClassFact {
    /// The last assignment of an attribute in the class body itself.
    pub fn attr(&self, name: &str) -> Option<&ClassAttr> {
        self.attrs.iter().rev().find(|a| a.name == name)
    }

    /// The last statement that declares a name in the class body, assigned or
    /// only annotated.
    pub fn member(&self, name: &str) -> Option<Member<'_>> {
        let assigned = self.attr(name);
        let declared = self.declared.iter().rev().find(|a| a.name == name);
        match (assigned, declared) {
            (Some(a), Some(d)) if d.range.start() > a.range.start() => Some(Member {
                attr: d,
                declared_only: true,
            }),
            (Some(a), _) => Some(Member {
                attr: a,
                declared_only: false,
            }),
            (None, Some(d)) => Some(Member {
                attr: d,
                declared_only: true,
            }),
            (None, None) => None,
        }
    }

    /// A keyword argument of the class statement.
    pub fn keyword(&self, name: &str) -> Option<&Value> {
        self.keywords
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == name)
            .map(|(_, v)| v)
    }
}

/// How a parameter takes its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// By position or keyword (also positional-only).
    Positional,
    /// `*args`
    VarArgs,
    /// After `*` or `*args`: by keyword only.
    KeywordOnly,
    /// `**kwargs`
    VarKeywords,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: Name,
    pub kind: ParamKind,
    /// Boxed: most parameters have neither.
    pub default: Option<Box<Value>>,
    pub annotation: Option<Box<Value>>,
    pub range: TextRange,
}

#[derive(Debug, Clone)]
pub struct FunctionFact {
    pub name: Name,
    pub qualified: Name,
    pub name_range: TextRange,
    /// From the first decorator (or `def`) to the end of the body.
    pub range: TextRange,
    /// The `def` line onwards, without decorators.
    pub def_range: TextRange,
    pub decorators: Vec<Value>,
    pub params: Vec<Param>,
    /// Evaluated `return` values (up to a cap).
    pub returns: Vec<Value>,
    /// The `if` conditions around each return value (same order as `returns`).
    pub return_guards: Vec<GuardId>,
    pub is_async: bool,
    /// The function's own scope.
    pub scope: ScopeId,
    /// Where it is defined.
    pub parent: ScopeId,
    pub guard: GuardId,
    /// Defined directly in a class body.
    pub method_of: Option<Name>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaiseKind {
    Raise,
    Assert,
}

/// A `raise` or `assert`, with the conditions around it: startup checks
/// ("refuse to start without SECRET_KEY") are found from these.
#[derive(Debug, Clone)]
pub struct RaiseFact {
    pub kind: RaiseKind,
    pub scope: ScopeId,
    pub guard: GuardId,
    /// The exception raised, or the asserted test.
    pub value: Option<Value>,
    pub range: TextRange,
}

/// An `except E as e:` clause: inside `range`, the name `e` reads as
/// `Root::Local(e)`.
#[derive(Debug, Clone)]
pub struct ExceptFact {
    pub scope: ScopeId,
    pub name: Name,
    /// The exception type (or tuple of types) caught, when given.
    pub types: Option<Value>,
    /// The whole handler clause.
    pub range: TextRange,
}

/// A `try:` statement: the exceptions its handlers catch, for the calls in
/// its body.
#[derive(Debug, Clone)]
pub struct TryFact {
    pub scope: ScopeId,
    /// The `try:` body (not its handlers, `else` or `finally`).
    pub body: TextRange,
    /// Each handler's exception type (or tuple of types); None for a bare
    /// `except:`.
    pub catches: Vec<Option<Value>>,
    /// For each handler, whether its body has a `return` (it answers rather
    /// than only logging and re-raising).
    pub returns: Vec<bool>,
}

/// A module-level binding (`app = Flask(__name__)`, `SECRET = "x"`), so other
/// modules can resolve `from orders import app`.
#[derive(Debug, Clone)]
pub struct GlobalBinding {
    pub name: Name,
    pub value: Value,
    pub range: TextRange,
}

#[derive(Debug, Clone)]
pub struct ImportFact {
    /// The name bound in this module.
    pub local: Name,
    /// What it refers to: `flask_talisman.Talisman`, `orders.config`.
    pub qualified: Name,
    pub range: TextRange,
    pub scope: ScopeId,
}

/// A read of an attribute of the incoming request: `request.get_json` (in
/// `request.get_json()`), `request.form`, `request.files`; for FastAPI and
/// Starlette, attributes of a parameter typed `Request` (`await request.json()`).
/// One fact per place in the source, so a rule can point at every read.
#[derive(Debug, Clone)]
pub struct RequestRead {
    /// The attribute read (`get_json`, `json`, `form`, `args`...).
    pub attr: Name,
    /// The `request.<attr>` expression.
    pub range: TextRange,
    pub scope: ScopeId,
    pub guard: GuardId,
    /// The request is the framework's global (`flask.request`, Quart's), not
    /// a `Request` parameter (FastAPI, Starlette).
    pub global: bool,
}

/// A string literal that may be a credential (long, no whitespace) or a URL.
#[derive(Debug, Clone)]
pub struct StrLit {
    pub value: Name,
    pub range: TextRange,
    pub scope: ScopeId,
}

/// Everything one pass over a Python file found.
#[derive(Debug, Clone, Default)]
pub struct PyFacts {
    /// The dotted module name (`orders.config`).
    pub module: String,
    pub scopes: Vec<Scope>,
    pub guards: Vec<Guard>,
    pub calls: Vec<CallFact>,
    pub assigns: Vec<AssignFact>,
    pub classes: Vec<ClassFact>,
    pub functions: Vec<FunctionFact>,
    pub raises: Vec<RaiseFact>,
    pub globals: Vec<GlobalBinding>,
    pub imports: Vec<ImportFact>,
    pub strings: Vec<StrLit>,
    pub excepts: Vec<ExceptFact>,
    pub tries: Vec<TryFact>,
    pub request_reads: Vec<RequestRead>,
    pub loops: Vec<LoopFact>,
}

/// A name a `for` statement binds: `for rule in RULES:` (position None), or
/// one name of a tuple target (`for rule, view in TABLE:`, its position).
/// A use of the name in a function's body evaluates to an unknown value whose
/// range is `target` (the name in the `for` line), which finds this fact
/// again; at module level, to the module global of that name.
#[derive(Debug, Clone)]
pub struct LoopFact {
    pub scope: ScopeId,
    /// The name bound; at module level a use of it reads the module global.
    pub name: Name,
    pub target: TextRange,
    pub position: Option<usize>,
    pub iter: Value,
}

impl PyFacts {
    /// The loop that binds a value, when it is a `for` statement's name.
    pub fn loop_of(&self, v: &Value) -> Option<&LoopFact> {
        match &v.kind {
            Kind::Unknown => self.loops.iter().find(|l| l.target == v.range),
            // A loop of the module binds a module global.
            Kind::Ref(r) if r.attrs.is_empty() => match &r.root {
                super::value::Root::Global(q) => {
                    let name = q.strip_prefix(self.module.as_str())?.strip_prefix('.')?;
                    self.loops
                        .iter()
                        .find(|l| l.scope == 0 && l.name.as_str() == name)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Drops the spare capacity of every list: the facts of all files are kept
    /// for the whole run, and growth by doubling leaves up to half unused.
    pub fn shrink_to_fit(&mut self) {
        // Destructured so that a new list cannot be forgotten here.
        let PyFacts {
            module: _,
            scopes,
            guards,
            calls,
            assigns,
            classes,
            functions,
            raises,
            globals,
            imports,
            strings,
            excepts,
            tries,
            request_reads,
            loops,
        } = self;
        scopes.shrink_to_fit();
        guards.shrink_to_fit();
        calls.shrink_to_fit();
        assigns.shrink_to_fit();
        classes.shrink_to_fit();
        functions.shrink_to_fit();
        raises.shrink_to_fit();
        globals.shrink_to_fit();
        imports.shrink_to_fit();
        strings.shrink_to_fit();
        excepts.shrink_to_fit();
        tries.shrink_to_fit();
        request_reads.shrink_to_fit();
        loops.shrink_to_fit();
    }

    /// The guards of a fact, innermost first.
    pub fn guards_of(&self, mut id: GuardId) -> Vec<&Guard> {
        let mut out = Vec::new();
        // Guards link to smaller ids only; the bound keeps a corrupt chain finite.
        let mut steps = 0;
        while id != 0 && steps < 256 {
            let Some(g) = self.guards.get(id as usize) else {
                break;
            };
            out.push(g);
            id = g.parent;
            steps += 1;
        }
        out
    }

    /// The enclosing function of a scope (itself when it is one).
    pub fn function_of(&self, mut scope: ScopeId) -> Option<&FunctionFact> {
        let mut steps = 0;
        loop {
            let s = self.scopes.get(scope as usize)?;
            if s.kind == ScopeKind::Function {
                return self.functions.iter().find(|f| f.scope == scope);
            }
            scope = s.parent?;
            steps += 1;
            if steps > 256 {
                return None;
            }
        }
    }

    /// Whether `scope` is `ancestor` or nested inside it.
    pub fn scope_within(&self, mut scope: ScopeId, ancestor: ScopeId) -> bool {
        for _ in 0..256 {
            if scope == ancestor {
                return true;
            }
            match self.scopes.get(scope as usize).and_then(|s| s.parent) {
                Some(p) => scope = p,
                None => return false,
            }
        }
        false
    }

    pub fn function(&self, qualified: &str) -> Option<&FunctionFact> {
        self.functions.iter().find(|f| f.qualified == qualified)
    }

    pub fn class(&self, qualified: &str) -> Option<&ClassFact> {
        self.classes.iter().find(|c| c.qualified == qualified)
    }
}
