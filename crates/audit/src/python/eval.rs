//! Expression evaluation: turns a ruff expression into a [`Value`], folding
//! literals, resolving names, and recording every call it meets as a fact.

use ruff_python_ast::{self as ast, Expr, InterpolatedStringElement, Number};
use ruff_text_size::{Ranged, TextRange};

use super::{
    collect::Collector,
    facts::{CallFact, RequestRead, StrLit},
    scope::{is_request_object, SERVER_ATTRS},
    value::{Call, CmpOp, Kind, Name, Ref, Root, Value},
};

/// Deeper expressions evaluate to unknown (hostile input cannot exhaust the stack).
const MAX_DEPTH: usize = 48;
/// Collections keep this many items; the rest are dropped.
const MAX_ITEMS: usize = 256;
/// Longer string literals are kept as their length only.
pub(super) const MAX_STRING: usize = 4096;

impl Collector {
    pub fn eval(&mut self, expr: &Expr) -> Value {
        self.eval_at(expr, 0)
    }

    pub(super) fn eval_at(&mut self, expr: &Expr, depth: usize) -> Value {
        let range = expr.range();
        if depth > MAX_DEPTH {
            return Value::unknown(range, false);
        }
        let d = depth + 1;
        match expr {
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                if text.len() > MAX_STRING {
                    return Value::new(range, Kind::LongStr(text.len()));
                }
                if (12..=1024).contains(&text.len()) && !text.contains(char::is_whitespace) {
                    let scope = self.scopes.current().scope;
                    let value = self.scopes.names.get(text);
                    self.facts.strings.push(StrLit {
                        value,
                        range,
                        scope,
                    });
                }
                Value::new(range, Kind::Str(self.scopes.names.get(text)))
            }
            Expr::BytesLiteral(b) => Value::new(range, Kind::Bytes(b.value.bytes().count())),
            Expr::NumberLiteral(n) => match &n.value {
                Number::Int(i) => match i.as_i64() {
                    Some(i) => Value::new(range, Kind::Int(i)),
                    None => Value::unknown(range, false),
                },
                Number::Float(f) => Value::new(range, Kind::Float(*f)),
                Number::Complex { .. } => Value::unknown(range, false),
            },
            Expr::BooleanLiteral(b) => Value::new(range, Kind::Bool(b.value)),
            Expr::NoneLiteral(_) => Value::new(range, Kind::None),
            Expr::FString(f) => self.eval_fstring(f, range, d),
            Expr::Name(n) => self.scopes.resolve(n.id.as_str(), range),
            Expr::Attribute(a) => {
                let base = self.eval_at(&a.value, d);
                if matches!(base.kind, Kind::Call(_)) {
                    let attr = self.scopes.names.get(&a.attr.id);
                    let ctor = self.scopes.names.get(&object_ctor(&base));
                    let mut v = object_ref(self.file, &base, ctor, vec![attr]);
                    v.range = range;
                    return v;
                }
                let attr = a.attr.id.as_str();
                let on_request = self.is_request_object(&base);
                let global = on_request
                    && base
                        .reference()
                        .is_some_and(|r| matches!(r.root, Root::Global(_)));
                let mut v = attribute(base, self.scopes.names.get(attr), range);
                if on_request {
                    let name = self.scopes.names.get(attr);
                    self.facts.request_reads.push(RequestRead {
                        attr: name,
                        range,
                        scope: self.scopes.current().scope,
                        guard: self.guard,
                        global,
                    });
                    if SERVER_ATTRS.contains(&attr) {
                        v.tainted = false;
                    }
                }
                v
            }
            Expr::Call(c) => self.eval_call(c, range, d),
            Expr::Subscript(s) => {
                let base = self.eval_at(&s.value, d);
                let index = self.eval_at(&s.slice, d);
                let tainted = base.tainted;
                Value {
                    range,
                    kind: Kind::Subscript(Box::new(base), Box::new(index)),
                    tainted,
                }
            }
            Expr::BinOp(b) => {
                let left = self.eval_at(&b.left, d);
                let right = self.eval_at(&b.right, d);
                super::fold::fold_binop(range, b.op, left, right)
            }
            Expr::BoolOp(b) => {
                let values: Vec<Value> = b
                    .values
                    .iter()
                    .take(MAX_ITEMS)
                    .map(|v| self.eval_at(v, d))
                    .collect();
                let tainted = values.iter().any(|v| v.tainted);
                let kind = match b.op {
                    ast::BoolOp::Or => Kind::Or(values.into_boxed_slice()),
                    ast::BoolOp::And => Kind::And(values.into_boxed_slice()),
                };
                Value {
                    range,
                    kind,
                    tainted,
                }
            }
            Expr::UnaryOp(u) => {
                let operand = self.eval_at(&u.operand, d);
                match (u.op, &operand.kind) {
                    (ast::UnaryOp::Not, _) => {
                        let tainted = operand.tainted;
                        Value {
                            range,
                            kind: Kind::Not(Box::new(operand)),
                            tainted,
                        }
                    }
                    (ast::UnaryOp::USub, Kind::Int(i)) => match i.checked_neg() {
                        Some(n) => Value::new(range, Kind::Int(n)),
                        None => Value::unknown(range, false),
                    },
                    (ast::UnaryOp::USub, Kind::Float(f)) => Value::new(range, Kind::Float(-f)),
                    (ast::UnaryOp::UAdd, Kind::Int(_) | Kind::Float(_)) => {
                        Value { range, ..operand }
                    }
                    _ => Value::unknown(range, operand.tainted),
                }
            }
            Expr::Compare(c) => {
                let left = self.eval_at(&c.left, d);
                let mut tainted = left.tainted;
                let mut rest = Vec::with_capacity(c.ops.len().min(MAX_ITEMS));
                for (op, right) in c.ops.iter().zip(c.comparators.iter()).take(MAX_ITEMS) {
                    let v = self.eval_at(right, d);
                    tainted |= v.tainted;
                    rest.push((cmp_op(*op), v));
                }
                Value {
                    range,
                    kind: Kind::Compare(Box::new(left), Box::new(rest)),
                    tainted,
                }
            }
            Expr::If(i) => {
                let test = self.eval_at(&i.test, d);
                let body = self.eval_at(&i.body, d);
                let orelse = self.eval_at(&i.orelse, d);
                let tainted = body.tainted || orelse.tainted;
                Value {
                    range,
                    kind: Kind::Cond(Box::new([test, body, orelse])),
                    tainted,
                }
            }
            Expr::List(l) => self.eval_seq(&l.elts, range, d, Kind::List),
            Expr::Tuple(t) => self.eval_seq(&t.elts, range, d, Kind::Tuple),
            Expr::Set(s) => self.eval_seq(&s.elts, range, d, Kind::Set),
            Expr::Dict(dict) => {
                let mut items = Vec::with_capacity(dict.items.len().min(MAX_ITEMS));
                let mut tainted = false;
                for item in dict.items.iter().take(MAX_ITEMS) {
                    let key = item.key.as_ref().map(|k| self.eval_at(k, d));
                    let value = self.eval_at(&item.value, d);
                    tainted |= value.tainted || key.as_ref().is_some_and(|k| k.tainted);
                    items.push((key, value));
                }
                Value {
                    range,
                    kind: Kind::Dict(items.into_boxed_slice()),
                    tainted,
                }
            }
            Expr::Await(a) => {
                let v = self.eval_at(&a.value, d);
                Value { range, ..v }
            }
            Expr::Starred(s) => {
                let v = self.eval_at(&s.value, d);
                Value::unknown(range, v.tainted)
            }
            Expr::Named(n) => {
                let v = self.eval_at(&n.value, d);
                if let Expr::Name(name) = n.target.as_ref() {
                    let bound = self.binding_value(&v);
                    self.scopes.bind(name.id.as_str(), &bound);
                }
                v
            }
            Expr::Lambda(l) => {
                let v = self.eval_at(&l.body, d);
                Value::unknown(range, v.tainted)
            }
            Expr::ListComp(c) => self.eval_comprehension(&c.elt, None, &c.generators, range, d),
            Expr::SetComp(c) => self.eval_comprehension(&c.elt, None, &c.generators, range, d),
            Expr::Generator(c) => self.eval_comprehension(&c.elt, None, &c.generators, range, d),
            Expr::DictComp(c) => {
                self.eval_comprehension(&c.value, c.key.as_deref(), &c.generators, range, d)
            }
            Expr::Yield(y) => {
                if let Some(v) = &y.value {
                    self.eval_at(v, d);
                }
                Value::unknown(range, false)
            }
            Expr::YieldFrom(y) => {
                self.eval_at(&y.value, d);
                Value::unknown(range, false)
            }
            Expr::TString(_)
            | Expr::EllipsisLiteral(_)
            | Expr::Slice(_)
            | Expr::IpyEscapeCommand(_) => Value::unknown(range, false),
        }
    }

    fn eval_seq(
        &mut self,
        elts: &[Expr],
        range: TextRange,
        d: usize,
        make: fn(Box<[Value]>) -> Kind,
    ) -> Value {
        let items: Vec<Value> = elts
            .iter()
            .take(MAX_ITEMS)
            .map(|e| self.eval_at(e, d))
            .collect();
        let tainted = items.iter().any(|v| v.tainted);
        Value {
            range,
            kind: make(items.into_boxed_slice()),
            tainted,
        }
    }

    fn eval_comprehension(
        &mut self,
        elt: &Expr,
        value: Option<&Expr>,
        generators: &[ast::Comprehension],
        range: TextRange,
        d: usize,
    ) -> Value {
        let mut tainted = false;
        for g in generators {
            let iter = self.eval_at(&g.iter, d);
            tainted |= iter.tainted;
            for cond in &g.ifs {
                self.eval_at(cond, d);
            }
        }
        tainted |= self.eval_at(elt, d).tainted;
        if let Some(v) = value {
            tainted |= self.eval_at(v, d).tainted;
        }
        Value::unknown(range, tainted)
    }

    fn eval_fstring(&mut self, f: &ast::ExprFString, range: TextRange, d: usize) -> Value {
        let mut parts = Vec::new();
        let mut tainted = false;
        for part in f.value.iter() {
            match part {
                ast::FStringPart::Literal(lit) => {
                    parts.push(Value::new(
                        lit.range,
                        Kind::Str(self.scopes.names.get(&lit.value)),
                    ));
                }
                ast::FStringPart::FString(fs) => {
                    self.eval_elements(&fs.elements, &mut parts, &mut tainted, d);
                }
            }
            if parts.len() >= MAX_ITEMS {
                break;
            }
        }
        self.join_parts(parts, range, tainted)
    }

    /// Folds f-string parts that are all text into one string.
    fn join_parts(&mut self, parts: Vec<Value>, range: TextRange, tainted: bool) -> Value {
        if parts.iter().all(|p| matches!(p.kind, Kind::Str(_))) {
            let s: String = parts.iter().filter_map(Value::as_str).collect();
            if s.len() > MAX_STRING {
                return Value::new(range, Kind::LongStr(s.len()));
            }
            return Value::new(range, Kind::Str(self.scopes.names.get(&s)));
        }
        Value {
            range,
            kind: Kind::FString(parts.into_boxed_slice()),
            tainted,
        }
    }

    /// The parts of f-string elements: literal text, and each interpolation
    /// as its text where that is certain (`{port}`, `{port:d}`, `{name!r}` of
    /// constants), else as the value Python formats: the value itself
    /// (`{x}`, `{x!s}`), or the call Python makes (`{x!r:>5}` is
    /// `format(repr(x), ">5")`).
    fn eval_elements(
        &mut self,
        elements: &ast::InterpolatedStringElements,
        parts: &mut Vec<Value>,
        tainted: &mut bool,
        d: usize,
    ) {
        use super::format::{Const, Conversion};
        for element in elements.iter() {
            if parts.len() >= MAX_ITEMS {
                break;
            }
            let i = match element {
                InterpolatedStringElement::Literal(lit) => {
                    let s = self.scopes.names.get(&lit.value);
                    parts.push(Value::new(lit.range, Kind::Str(s)));
                    continue;
                }
                InterpolatedStringElement::Interpolation(i) => i,
            };
            let v = self.eval_at(&i.expression, d);
            *tainted |= v.tainted;
            let spec = i.format_spec.as_ref().map(|spec| {
                if d > MAX_DEPTH {
                    // Specs nested deeper than Python allows.
                    return Value::unknown(spec.range, false);
                }
                let mut spec_parts = Vec::new();
                let mut spec_tainted = false;
                self.eval_elements(&spec.elements, &mut spec_parts, &mut spec_tainted, d + 1);
                *tainted |= spec_tainted;
                self.join_parts(spec_parts, spec.range, spec_tainted)
            });
            let mut conversion = match i.conversion {
                ast::ConversionFlag::None => None,
                ast::ConversionFlag::Str => Some(Conversion::Str),
                ast::ConversionFlag::Repr => Some(Conversion::Repr),
                ast::ConversionFlag::Ascii => Some(Conversion::Ascii),
            };
            if let Some(debug) = &i.debug_text {
                // `{x=}`: the expression's text, then its repr unless a
                // conversion or a spec says otherwise.
                parts.push(Value::new(
                    i.range,
                    Kind::Str(self.scopes.names.get(debug.as_str())),
                ));
                if conversion.is_none() && spec.is_none() {
                    conversion = Some(Conversion::Repr);
                }
            }
            let spec_text = match &spec {
                None => Some(""),
                Some(s) => s.as_str(),
            };
            let text = Const::of(&v)
                .and_then(|c| c.convert(conversion))
                .and_then(|c| c.format(spec_text?));
            if let Some(text) = text {
                parts.push(Value::new(v.range, Kind::Str(self.scopes.names.get(&text))));
                continue;
            }
            let converted = match conversion {
                None => v,
                // `str(x)` formats as `x` does for every value the audit
                // reads (no custom `__format__`).
                Some(Conversion::Str) if spec.is_none() => v,
                Some(c) => builtin_call(&mut self.scopes.names, c.builtin(), vec![v]),
            };
            parts.push(match spec {
                None => converted,
                Some(spec) => builtin_call(&mut self.scopes.names, "format", vec![converted, spec]),
            });
        }
    }

    fn eval_call(&mut self, c: &ast::ExprCall, range: TextRange, d: usize) -> Value {
        let func = self.eval_at(&c.func, d);
        // Exact capacities: a project holds hundreds of thousands of calls, most
        // with one or two arguments.
        let mut args = Vec::with_capacity(c.arguments.args.len().min(MAX_ITEMS));
        let mut kwargs = Vec::with_capacity(c.arguments.keywords.len().min(MAX_ITEMS));
        let mut spread = false;
        let mut star = None;
        for a in c.arguments.args.iter().take(MAX_ITEMS) {
            if let Expr::Starred(s) = a {
                spread = true;
                let v = self.eval_at(&s.value, d);
                args.push(Value::unknown(a.range(), v.tainted));
                if star.is_none() {
                    star = Some(Box::new((args.len() - 1, v)));
                }
                continue;
            }
            args.push(self.eval_at(a, d));
        }
        for k in c.arguments.keywords.iter().take(MAX_ITEMS) {
            let v = self.eval_at(&k.value, d);
            let name = k.arg.as_ref().map(|a| self.scopes.names.get(&a.id));
            if name.is_none() {
                spread = true;
            }
            kwargs.push((name, v));
        }
        let tainted =
            func.tainted || args.iter().any(|a| a.tainted) || kwargs.iter().any(|(_, v)| v.tainted);
        let value = Value {
            range,
            kind: Kind::Call(std::sync::Arc::new(Call {
                func,
                args: args.into_boxed_slice(),
                kwargs: kwargs.into_boxed_slice(),
                spread,
                star,
            })),
            tainted,
        };
        let scope = self.scopes.current().scope;
        self.facts.calls.push(CallFact {
            scope,
            guard: self.guard,
            value: value.clone(),
        });
        value
    }

    /// Whether `v` is the request object itself: `flask.request`, or a parameter
    /// typed `Request` of an enclosing function.
    fn is_request_object(&self, v: &Value) -> bool {
        let Some(r) = v.reference() else {
            return false;
        };
        match &r.root {
            // `request`, and `flask.request` after `import flask`.
            Root::Global(_) => r.qualified().is_some_and(|q| is_request_object(&q)),
            Root::Param { func, name, .. } if r.attrs.is_empty() => self
                .scopes
                .frames
                .iter()
                .any(|f| &f.qualified == func && f.request_params.contains(name.as_str())),
            _ => false,
        }
    }

    /// What a name bound to `v` holds: the value itself, except that a call too
    /// big to substitute becomes a reference to the object it created.
    pub(super) fn binding_value(&mut self, v: &Value) -> Value {
        match &v.kind {
            Kind::Call(_) if v.size(MAX_BOUND_CALL + 1) > MAX_BOUND_CALL => {
                let ctor = self.scopes.names.get(&object_ctor(v));
                object_ref(self.file, v, ctor, Vec::new())
            }
            _ => v.clone(),
        }
    }
}

/// A call of a builtin the evaluator writes for formatting (`repr(x)`,
/// `format(x, spec)`), at the range of the value it formats. It is no call
/// fact: nothing in the source calls it.
fn builtin_call(names: &mut super::scope::Interner, name: &str, args: Vec<Value>) -> Value {
    let range = args.first().map_or_else(TextRange::default, |a| a.range);
    let tainted = args.iter().any(|a| a.tainted);
    let func = Value::new(
        range,
        Kind::Ref(Box::new(Ref {
            root: Root::Global(names.get(name)),
            attrs: Vec::new(),
        })),
    );
    Value {
        range,
        kind: Kind::Call(std::sync::Arc::new(Call {
            func,
            args: args.into_boxed_slice(),
            kwargs: Box::new([]),
            spread: false,
            star: None,
        })),
        tainted,
    }
}

/// Calls bigger than this are bound as object references rather than copied.
const MAX_BOUND_CALL: usize = super::scope::MAX_SUBSTITUTED_SIZE;

/// The object a call creates, named by its call site: `Flask(__name__)` read back
/// through a name or used as `app.config` is the same object wherever it appears.
pub fn object_ref(
    file: crate::source::FileId,
    call: &Value,
    ctor: Name,
    attrs: Vec<Name>,
) -> Value {
    Value {
        range: call.range,
        kind: Kind::Ref(Box::new(Ref {
            root: Root::Obj {
                site: super::value::Site {
                    file,
                    offset: u32::from(call.range.start()),
                },
                ctor,
            },
            attrs,
        })),
        tainted: call.tainted,
    }
}

/// How [`object_ref`] names what created an object (`flask.Flask`,
/// `pkg.db.get_db().cursor`): with the site, it tells apart chained calls that
/// start at the same offset (`Path(p).read_text()`).
pub fn object_ctor(call: &Value) -> String {
    match &call.kind {
        Kind::Call(c) => match &c.func.kind {
            Kind::Ref(r) => r.qualified().unwrap_or_else(|| match &r.root {
                Root::Obj { ctor, .. } if !r.attrs.is_empty() => {
                    format!("{ctor}().{}", r.attrs.join("."))
                }
                _ => r.last_name().to_string(),
            }),
            _ => String::from("?"),
        },
        _ => String::from("?"),
    }
}

/// `base.attr`: extends a reference, or wraps anything else.
pub fn attribute(base: Value, attr: Name, range: TextRange) -> Value {
    let tainted = base.tainted;
    match base.kind {
        Kind::Ref(mut r) => {
            // Most attribute paths are one or two names long.
            r.attrs.reserve_exact(1);
            r.attrs.push(attr);
            let tainted = tainted
                || r.qualified()
                    .is_some_and(|q| super::scope::is_request_name(&q));
            Value {
                range,
                kind: Kind::Ref(r),
                tainted,
            }
        }
        other => Value {
            range,
            kind: Kind::Attr(
                Box::new(Value {
                    range: base.range,
                    kind: other,
                    tainted,
                }),
                Box::new(attr),
            ),
            tainted,
        },
    }
}

fn cmp_op(op: ast::CmpOp) -> CmpOp {
    match op {
        ast::CmpOp::Eq => CmpOp::Eq,
        ast::CmpOp::NotEq => CmpOp::NotEq,
        ast::CmpOp::Lt => CmpOp::Lt,
        ast::CmpOp::LtE => CmpOp::LtE,
        ast::CmpOp::Gt => CmpOp::Gt,
        ast::CmpOp::GtE => CmpOp::GtE,
        ast::CmpOp::Is => CmpOp::Is,
        ast::CmpOp::IsNot => CmpOp::IsNot,
        ast::CmpOp::In => CmpOp::In,
        ast::CmpOp::NotIn => CmpOp::NotIn,
    }
}
